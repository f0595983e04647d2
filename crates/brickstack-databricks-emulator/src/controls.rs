//! The emulator's own controls under `/_emulator/`, unauthenticated (each also a method of
//! [`crate::DatabricksEmulator`]):
//!
//! * `GET /_emulator/clock` → `{"now_ms"}`; `POST /_emulator/clock {"advance_seconds": N}`.
//! * `GET|POST|DELETE /_emulator/faults`: list (with `remaining` and `hits`), append
//!   `{"rules": [FaultRule]}`, clear ([`crate::faults`]).
//! * `POST /_emulator/cluster-failures` ([`ClusterFailure`]); `GET` lists, `DELETE` clears.
//! * `GET /_emulator/inventory?account_id=X` ([`crate::inventory`]).
//! * `GET /_emulator/minted` → `{"secrets": [MintedSecret]}`.
//! * `POST /_emulator/reset`: forgets every object, fault rule and cluster failure; OAuth tokens
//!   stay valid (clients running in parallel keep working), the clock keeps its offset (time never
//!   runs backwards) and the record of minted secrets stays.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, parse_json};
use crate::faults::FaultRule;
use crate::server::AppState;

/// Makes the next start(s) of matching clusters fail: create, start or restart goes `PENDING` (or
/// `RESTARTING`) → `TERMINATING` → `TERMINATED` with this termination reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFailure {
    pub workspace_id: i64,
    /// Only clusters with this name; absent = any cluster of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Termination reason code, e.g. `CLOUD_PROVIDER_LAUNCH_FAILURE`.
    pub code: String,
    /// Termination reason type, e.g. `CLOUD_FAILURE`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<HashMap<String, String>>,
    /// How many starts fail; 0 = every one. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// A [`ClusterFailure`] with its remaining uses.
#[derive(Debug, Clone)]
pub(crate) struct ClusterFailureRule {
    pub workspace_id: i64,
    pub cluster_name: Option<String>,
    pub reason: Value,
    /// `None` = unlimited.
    pub remaining: Option<u32>,
    pub request: ClusterFailure,
}

impl From<ClusterFailure> for ClusterFailureRule {
    fn from(f: ClusterFailure) -> Self {
        let parameters: Map<String, Value> = f
            .parameters
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        ClusterFailureRule {
            workspace_id: f.workspace_id,
            cluster_name: f.cluster_name.clone(),
            reason: json!({"code": f.code, "type": f.kind, "parameters": parameters}),
            remaining: match f.times {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(1),
            },
            request: f,
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/clock", get(clock).post(advance_clock))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route(
            "/_emulator/cluster-failures",
            get(list_cluster_failures)
                .post(add_cluster_failure)
                .delete(clear_cluster_failures),
        )
        .route("/_emulator/inventory", get(inventory))
        .route("/_emulator/minted", get(minted))
        .route("/_emulator/reset", post(reset))
}

async fn clock(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "now_ms": app.now_ms() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    advance_seconds: Option<f64>,
}

async fn advance_clock(State(app): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let req: AdvanceRequest = parse_json(&body)?;
    let seconds = req
        .advance_seconds
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| ApiError::invalid("advance_seconds must be a non-negative number"))?;
    app.clock().advance(Duration::from_secs_f64(seconds));
    Ok(Json(json!({ "now_ms": app.now_ms() })))
}

async fn list_faults(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "rules": app.faults().list() }))
}

#[derive(Deserialize)]
struct FaultsRequest {
    rules: Vec<FaultRule>,
}

async fn add_faults(State(app): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let req: FaultsRequest = parse_json(&body)?;
    app.faults().add(req.rules).map_err(ApiError::invalid)?;
    Ok(Json(json!({ "rules": app.faults().list() })))
}

async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    app.faults().clear();
    StatusCode::NO_CONTENT
}

async fn add_cluster_failure(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let failure: ClusterFailure = parse_json(&body)?;
    app.lock().cluster_failures.push(failure.into());
    Ok(list_cluster_failures(State(app)).await)
}

async fn list_cluster_failures(State(app): State<AppState>) -> Json<Value> {
    let state = app.lock();
    let rules: Vec<Value> = state
        .cluster_failures
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r.request).unwrap_or(Value::Null);
            v["remaining"] = json!(r.remaining);
            v
        })
        .collect();
    Json(json!({ "failures": rules }))
}

async fn clear_cluster_failures(State(app): State<AppState>) -> StatusCode {
    app.lock().cluster_failures.clear();
    StatusCode::NO_CONTENT
}

async fn inventory(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let account_id = q
        .get("account_id")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required parameter: account_id"))?;
    let now = app.now_ms();
    let mut state = app.lock();
    Ok(Json(crate::inventory::of_account(
        &mut state,
        app.config(),
        account_id,
        now,
    )))
}

async fn minted(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "secrets": app.lock().minted }))
}

async fn reset(State(app): State<AppState>) -> Json<Value> {
    reset_all(&app);
    Json(json!({ "status": "ok" }))
}

pub(crate) fn reset_all(app: &AppState) {
    app.lock().reset();
    app.faults().clear();
}
