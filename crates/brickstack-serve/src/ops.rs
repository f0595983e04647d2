//! The unauthenticated routes: `/healthz` for load balancers and supervisors, `/metrics` for
//! Prometheus. Neither says anything about a person, and neither changes anything, so neither
//! needs the key (which scrapers and probes do not hold).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::error::ApiError;
use crate::server::AppState;

/// The content type of prometheus-client's text encoding (OpenMetrics 1.0, which Prometheus reads).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// Healthy when the request database answers.
async fn healthz(State(app): State<AppState>) -> Response {
    match app.store.queue_depth().await {
        Ok(depth) => {
            app.metrics.queue_depth.set(depth);
            (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "health check");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request database does not answer",
            )
            .into_response()
        }
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    match app.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response(),
        Err(error) => ApiError::internal(&error).into_response(),
    }
}
