//! What can stop the service, and the JSON error body every failed HTTP answer carries.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "cannot listen on `{addr}`: {source}\nhint: is another service on that port? pick another `[serve].listen`"
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the request database `{}`: {source}", path.display())]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the folder of `{}`: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the request database `{}` failed: {source}", path.display())]
    Queue {
        path: PathBuf,
        source: crate::store::StoreError,
    },
    #[error(
        "the request database `{}` has schema version {found}, newer than this brickstack's {supported}\nhint: run the brickstack that wrote it, or a newer one",
        path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "another `brickstack serve` holds `{}`\nhint: stop it first; two services on one queue would run twice",
        path.display()
    )]
    AlreadyRunning { path: PathBuf },
    #[error("cannot lock `{}`: {source}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Http(std::io::Error),
}

/// The body of every error answer: `{"error": "..."}`.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody {
    pub error: String,
}

/// An HTTP error answer with its JSON body.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A failure of the queue's database: logged in full, answered without detail.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "request database");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error: the request database failed; see the service's log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}
