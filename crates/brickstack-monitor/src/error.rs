//! The monitor's errors.

use std::path::PathBuf;

use crate::api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("monitor records {}: {source}", path.display())]
    Records {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("monitor records {}: cannot create its folder: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "monitor records {}: written by a newer brickstack (schema {found}, this one knows up to {supported}); run the newer brickstack or point [monitor].records elsewhere",
        path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("monitor records {}: a row has an unknown {column} `{value}` (edited by hand?)", path.display())]
    Corrupt {
        path: PathBuf,
        column: &'static str,
        value: String,
    },
    #[error("monitor records {}: the database task died: {message}", path.display())]
    Task { path: PathBuf, message: String },
    #[error("listing the environment's Databricks workspaces: {0}")]
    Workspaces(ApiError),
    /// A workspace could not be asked about a reported cluster: the reporter should retry.
    #[error("looking for cluster {cluster_id} in workspace {workspace_id}: {source}")]
    Lookup {
        workspace_id: i64,
        cluster_id: String,
        source: ApiError,
    },
    #[error(
        "no monitor records at {}: the monitor has not run for this environment yet, or [monitor].records points elsewhere",
        path.display()
    )]
    NoRecords { path: PathBuf },
}
