//! The Databricks REST client: the HTTP core every call goes through (`client`: credentials,
//! the one retry loop, error classification), the typed calls of the account API (`account`) and
//! of a workspace's API (`workspace`), and the unified client configuration (`config`).
//!
//! It knows nothing of brickstack's resources or state; `brickstack-databricks` builds the
//! provider adapter on it.

pub mod account;
pub mod client;
pub mod config;
pub mod workspace;

pub use account::AccountClient;
pub use client::auth::Credentials;
pub use client::error::{ApiError, Error, ErrorDetail, ErrorKind};
pub use client::retry::RetryPolicy;
pub use client::{BuildError, Client};
pub use config::{ConfigError, Settings};
pub use workspace::WorkspaceClient;
