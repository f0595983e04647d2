//! The access endpoint (`/v1/access/single-user-clusters`) and the contract with the runner that
//! does the work: what a queued request is, what each one's outcome may be.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{Decision, RequestRecord, RequestStatus};
use crate::username;

/// What a request asks for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessAction {
    /// A single-user cluster for the person (`POST`).
    Grant,
    /// Take the person's cluster away (`DELETE`).
    Revoke,
}

impl AccessAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessAction::Grant => "grant",
            AccessAction::Revoke => "revoke",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "grant" => Some(AccessAction::Grant),
            "revoke" => Some(AccessAction::Revoke),
            _ => None,
        }
    }
}

/// One queued request, as the runner receives it. A batch holds at most one request per person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// The `request_id` the caller was given.
    pub id: String,
    /// The person's e-mail, lower-cased.
    pub username: String,
    pub action: AccessAction,
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessOutcome {
    /// A grant is done: the person's cluster exists and is theirs.
    Ready {
        cluster_id: String,
        cluster_name: String,
    },
    /// A revoke is done: the person has no cluster (or will lose it after the spec's grace period).
    Revoked,
    /// The request failed; `error` is shown to the caller as is, so it must hold no secret.
    Failed { error: String },
}

/// Does the work of a batch of requests: the CLI's runner takes the environment's lock and runs one
/// apply for every person in it. The worker never calls it twice at once.
pub trait AccessRunner: Send + Sync + 'static {
    /// Runs `batch` and returns one outcome per request, in the batch's order. A missing outcome
    /// (a shorter vector) fails its request; a panic fails the whole batch.
    fn run(&self, batch: &[AccessRequest]) -> impl Future<Output = Vec<AccessOutcome>> + Send;
}

/// The access routes, all behind authentication (the caller adds the layer).
/// A standby replica refuses access requests (503, `Retry-After`), naming the one that acts: its
/// queue would not be worked.
pub(crate) async fn require_active(
    State(app): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let leadership = app.leadership.borrow().clone();
    if leadership.active {
        return next.run(request).await;
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "5")],
        Json(serde_json::json!({
            "error": "this replica is standing by",
            "leader": leadership.leader,
        })),
    )
        .into_response()
}

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/access/single-user-clusters", post(grant))
        .route(
            "/v1/access/single-user-clusters/{username}",
            get(status).delete(revoke),
        )
}

#[derive(Deserialize)]
struct GrantBody {
    username: serde_json::Value,
}

async fn grant(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body: GrantBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be JSON like {{\"username\": \"ana@example.com\"}}: {e}"
        ))
    })?;
    let serde_json::Value::String(raw) = body.username else {
        return Err(ApiError::bad_request(
            "`username` must be a string holding an e-mail address",
        ));
    };
    let username = username::parse(&raw).map_err(ApiError::bad_request)?;
    enqueue(&app, username, AccessAction::Grant).await
}

async fn revoke(
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let username = username::parse(&raw).map_err(ApiError::bad_request)?;
    enqueue(&app, username, AccessAction::Revoke).await
}

async fn status(
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let username = username::parse(&raw).map_err(ApiError::bad_request)?;
    let latest = app
        .store
        .latest(username.clone())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let body = match latest {
        Some(record) => StatusBody::of(&record),
        None => StatusBody::absent(username),
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// Queues `action` for the person unless an equal request is already queued, running or done; the
/// row is committed before the answer leaves.
async fn enqueue(
    app: &AppState,
    username: String,
    action: AccessAction,
) -> Result<Response, ApiError> {
    let (decision, record) = app
        .store
        .enqueue(username, action, OffsetDateTime::now_utc())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let code = match decision {
        Decision::Queue => {
            tracing::info!(
                request_id = %record.request_id,
                action = action.as_str(),
                username = %record.username,
                "access request queued"
            );
            app.metrics.queue_depth.inc();
            app.wake.notify_one();
            StatusCode::ACCEPTED
        }
        Decision::SameRequest => StatusCode::ACCEPTED,
        Decision::AlreadyDone => StatusCode::OK,
    };
    Ok((code, Json(StatusBody::of(&record))).into_response())
}

/// A person's status: what the latest request about them says.
#[derive(Debug, Serialize)]
struct StatusBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    /// `queued`, `running`, `ready`, `failed` or `absent`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queued_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
}

impl StatusBody {
    fn absent(username: String) -> Self {
        StatusBody {
            request_id: None,
            username,
            action: None,
            status: "absent",
            cluster_id: None,
            cluster_name: None,
            error: None,
            queued_at: None,
            started_at: None,
            finished_at: None,
        }
    }

    fn of(record: &RequestRecord) -> Self {
        let status = match (record.status, record.action) {
            (RequestStatus::Queued, _) => "queued",
            (RequestStatus::Running, _) => "running",
            (RequestStatus::Done, AccessAction::Grant) => "ready",
            // A finished revoke leaves the person without a cluster.
            (RequestStatus::Done, AccessAction::Revoke) => "absent",
            (RequestStatus::Failed, _) => "failed",
        };
        StatusBody {
            request_id: Some(record.request_id.clone()),
            username: record.username.clone(),
            action: Some(record.action.as_str()),
            status,
            cluster_id: record.cluster_id.clone(),
            cluster_name: record.cluster_name.clone(),
            error: record.error.clone(),
            queued_at: Some(rfc3339(record.queued_at)),
            started_at: record.started_at.map(rfc3339),
            finished_at: record.finished_at.map(rfc3339),
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}
