//! The Databricks adapter: a typed REST client of the account and workspace APIs (`client`,
//! `account`, `workspace`), the unified client configuration (`config`), which account to act in as whom
//! (`setup`), and the provider that
//! serves brickstack's `databricks_*` kinds with it (`provider`, one module per kind under
//! `resources`).

pub mod account;
pub mod client;
pub mod config;
pub mod provider;
mod resources;
pub mod setup;
pub mod workspace;

pub use account::AccountClient;
pub use client::auth::Credentials;
pub use client::error::{ApiError, Error, ErrorDetail, ErrorKind};
pub use client::retry::RetryPolicy;
pub use client::{BuildError, Client};
pub use config::{ConfigError, Settings};
pub use provider::{DatabricksProvider, served_kinds};
pub use workspace::WorkspaceClient;
