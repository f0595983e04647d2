//! The Databricks adapter: which account to act in as whom (`setup`), and the provider that
//! serves brickstack's `databricks_*` kinds (`provider`, one module per kind under `resources`).
//!
//! The REST client lives in `brickstack-databricks-client`; its modules are re-exported here
//! so that users of the adapter (the CLI, tests) need one dependency.

pub use brickstack_databricks_client::{account, client, config, workspace};

pub mod provider;
mod resources;
pub mod setup;

pub use brickstack_databricks_client::{
    AccountClient, ApiError, BuildError, Client, ConfigError, Credentials, Error, ErrorDetail,
    ErrorKind, RetryPolicy, Settings, WorkspaceClient,
};
pub use provider::{DatabricksProvider, served_kinds};
