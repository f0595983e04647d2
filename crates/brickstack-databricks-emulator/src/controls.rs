//! The emulator's own controls under `/_emulator/`, unauthenticated (each also a method of
//! [`crate::DatabricksEmulator`]):
//!
//! * `GET /_emulator/clock` → `{"now_ms"}`; `POST /_emulator/clock {"advance_seconds": N}`.
//! * `GET|POST|DELETE /_emulator/faults`: list (with `remaining` and `hits`), append
//!   `{"rules": [FaultRule]}`, clear ([`crate::faults`]).
//! * `POST /_emulator/cluster-failures` ([`ClusterFailure`]); `GET` lists, `DELETE` clears.
//! * `POST /_emulator/library-failures` ([`LibraryFailure`]: `{"library": {...}, "message"?,
//!   "workspace_id"?, "cluster_id"?}`); `GET` lists `{"failures": [...]}`, `DELETE` clears (204).
//! * `GET /_emulator/limits` → `{"cluster_creates_per_minute", "window_seconds", "throttled"}`;
//!   `POST /_emulator/limits` ([`Limits`]: `{"cluster_creates_per_minute": N | null,
//!   "window_seconds"?}`, 0 or null = unlimited) sets the cluster-create limit ([`crate::limits`]).
//! * `GET /_emulator/inventory?account_id=X` ([`crate::inventory`]).
//! * `GET /_emulator/minted` → `{"secrets": [MintedSecret]}`.
//! * `POST /_emulator/reset`: forgets every object, fault rule, cluster and library failure and
//!   the create history (the create limit returns to the configured one); OAuth tokens
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
use crate::limits::Limits;
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

/// Makes matching library installs fail: an install attempt that finishes while the rule is set
/// (or that a read saw while it was set) ends `FAILED` with the vendor's driver-installation
/// message around `message`. It stays until `DELETE /_emulator/library-failures`; a cluster
/// restart or start reinstalls its libraries, which fail again only if the rule is still set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryFailure {
    /// The library as installed, e.g. `{"pypi": {"package": "x==1"}}`; it matches a library
    /// holding every field it names (so `{"pypi": {"package": "x==1"}}` matches one with a
    /// `repo` too).
    pub library: Value,
    /// The installer's error; absent = pip's "Could not find a version that satisfies the
    /// requirement".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Only this workspace; absent = every workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<i64>,
    /// Only this cluster; absent = every cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
}

/// A [`LibraryFailure`], kept as sent.
#[derive(Debug, Clone)]
pub(crate) struct LibraryFailureRule {
    pub request: LibraryFailure,
}

impl LibraryFailureRule {
    /// The `messages` of a failed install of `library` on `cluster_id`, when this rule matches.
    pub fn fails(&self, workspace_id: i64, cluster_id: &str, library: &Value) -> Option<String> {
        let r = &self.request;
        let applies = r.workspace_id.is_none_or(|w| w == workspace_id)
            && r.cluster_id.as_deref().is_none_or(|c| c == cluster_id)
            && contains(library, &r.library);
        applies.then(|| {
            let cause = r.message.clone().unwrap_or_else(|| {
                format!(
                    "ERROR: Could not find a version that satisfies the requirement {}",
                    describe_library(library)
                )
            });
            format!(
                "Library installation attempted on the driver node of cluster {cluster_id} and failed. Please refer to the following error message to fix the library or contact Databricks support. Error Code: DRIVER_LIBRARY_INSTALLATION_FAILURE. Error Message: {cause}"
            )
        })
    }
}

/// Whether `value` holds every field of `pattern` (objects recursively, anything else equal).
fn contains(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| contains(vv, pv))),
        _ => value == pattern,
    }
}

/// `x==1` for a PyPI package, the coordinates or path otherwise.
fn describe_library(library: &Value) -> String {
    let Some((_, spec)) = library.as_object().and_then(|o| o.iter().next()) else {
        return library.to_string();
    };
    ["package", "coordinates"]
        .iter()
        .find_map(|k| spec.get(*k).and_then(Value::as_str))
        .or_else(|| spec.as_str())
        .map_or_else(|| spec.to_string(), str::to_string)
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
        .route(
            "/_emulator/library-failures",
            get(list_library_failures)
                .post(add_library_failure)
                .delete(clear_library_failures),
        )
        .route("/_emulator/limits", get(limits).post(set_limits))
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

async fn add_library_failure(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let failure: LibraryFailure = parse_json(&body)?;
    if !failure.library.is_object() {
        return Err(ApiError::invalid(
            "library must be an object such as {\"pypi\": {\"package\": \"x==1\"}}",
        ));
    }
    app.lock()
        .library_failures
        .push(LibraryFailureRule { request: failure });
    Ok(list_library_failures(State(app)).await)
}

async fn list_library_failures(State(app): State<AppState>) -> Json<Value> {
    let state = app.lock();
    let rules: Vec<&LibraryFailure> = state.library_failures.iter().map(|r| &r.request).collect();
    Json(json!({ "failures": rules }))
}

async fn clear_library_failures(State(app): State<AppState>) -> StatusCode {
    app.lock().library_failures.clear();
    StatusCode::NO_CONTENT
}

async fn limits(State(app): State<AppState>) -> Json<Value> {
    Json(app.lock().create_limiter.describe())
}

async fn set_limits(State(app): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let limits: Limits = parse_json(&body)?;
    let mut state = app.lock();
    state.create_limiter.set(limits);
    Ok(Json(state.create_limiter.describe()))
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
