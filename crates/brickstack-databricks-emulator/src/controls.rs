//! The emulator's own controls under `/_emulator/`, unauthenticated (each also a method of
//! [`crate::DatabricksEmulator`]):
//!
//! * `GET /_emulator/clock` → `{"now_ms"}`; `POST /_emulator/clock {"advance_seconds": N}`.
//! * `GET|POST|DELETE /_emulator/faults`: list (with `remaining` and `hits`), append
//!   `{"rules": [FaultRule]}`, clear ([`crate::faults`]).
//! * `POST /_emulator/cluster-failures` ([`ClusterFailure`]: `{"workspace_id", "code", "type",
//!   "parameters"?, "cluster_name"?, "cluster_id"?, "on"?: "start" | "restart" | "any",
//!   "times"?}`); `GET` lists, `DELETE` clears.
//! * `POST /_emulator/cluster-terminations` ([`ClusterTermination`]: `{"workspace_id",
//!   "cluster_id", "code", "type", "parameters"?}`): a `RUNNING`, `RESIZING` or `RESTARTING`
//!   cluster goes `TERMINATING` now (its event carries `details.reason`), then `TERMINATED`;
//!   answers the cluster's `{"cluster_id", "state", "termination_reason"}`; `409 INVALID_STATE`
//!   with the cluster's state in the message when it is in another state, 404 for an unknown
//!   workspace or cluster.
//! * `POST /_emulator/cluster-delays` `{"workspace_id", "start_delay_ms"}`: that workspace's
//!   clusters spend this long in `PENDING`/`RESTARTING`/`RESIZING` from now on (other workspaces
//!   keep `cluster_start_delay`); `GET` lists `{"delays": [{"workspace_id", "start_delay_ms"}]}`;
//!   `DELETE` (body `{"workspace_id"}`, or none for all) clears (204).
//! * `POST /_emulator/runs/finish` `{"workspace_id", "run_id", "outcome": "success" |
//!   "code_failure" | "cluster_failure", "code"?, "type"?, "parameters"?}`: ends a run
//!   ([`crate::workspace::jobs`] says how) and answers it as `runs/get` 2.1 does; `409
//!   INVALID_STATE` when it has ended, 404 for an unknown workspace or run.
//! * `GET /_emulator/deliveries[?workspace_id=N]` → `{"deliveries": [{"workspace_id", "run_id",
//!   "destination_id", "event_type", "host", "attempt", "status"?, "error"?, "basic_auth",
//!   "at_ms"}]}`: every webhook delivery attempt of job notifications, oldest first.
//! * `POST /_emulator/library-failures` ([`LibraryFailure`]: `{"library": {...}, "message"?,
//!   "workspace_id"?, "cluster_id"?}`); `GET` lists `{"failures": [...]}`, `DELETE` clears (204).
//! * `GET /_emulator/limits` → `{"cluster_creates_per_minute", "window_seconds", "throttled"}`;
//!   `POST /_emulator/limits` ([`Limits`]: `{"cluster_creates_per_minute": N | null,
//!   "window_seconds"?}`, 0 or null = unlimited) sets the cluster-create limit ([`crate::limits`]).
//! * `GET /_emulator/inventory?account_id=X` ([`crate::inventory`]).
//! * `GET /_emulator/minted` → `{"secrets": [MintedSecret]}`.
//! * `POST /_emulator/reset`: forgets every object (runs and notification destinations too),
//!   fault rule, cluster and library failure, start-delay override, delivery record and the
//!   create history (the create limit returns to the configured one); OAuth tokens
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
use crate::workspace::clusters::StartKind;

/// Makes the next start(s) of matching clusters fail: create, start or restart goes `PENDING` (or
/// `RESTARTING`) → `TERMINATING` → `TERMINATED` with this termination reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFailure {
    pub workspace_id: i64,
    /// Only clusters with this name; absent = any cluster of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Only this cluster; absent = any cluster of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Which starts fail; absent = [`FailOn::Any`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<FailOn>,
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

/// Which starts a [`ClusterFailure`] makes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Starts from nothing or from `TERMINATED` (`PENDING`): `clusters/create`, `clusters/start`,
    /// a run's job cluster, a run starting its terminated existing cluster.
    Start,
    /// Restarts of a running cluster (`RESTARTING`): `clusters/restart`, `edit` of a running
    /// cluster.
    Restart,
    /// Both.
    Any,
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
    pub cluster_id: Option<String>,
    pub on: FailOn,
    pub reason: Value,
    /// `None` = unlimited.
    pub remaining: Option<u32>,
    pub request: ClusterFailure,
}

impl ClusterFailureRule {
    /// Whether the rule fails a start of this kind.
    pub fn applies_to(&self, kind: StartKind) -> bool {
        match self.on {
            FailOn::Any => true,
            FailOn::Start => kind == StartKind::Start,
            FailOn::Restart => kind == StartKind::Restart,
        }
    }
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
            cluster_id: f.cluster_id.clone(),
            on: f.on.unwrap_or(FailOn::Any),
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

/// Fails a running cluster now (`POST /_emulator/cluster-terminations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterTermination {
    pub workspace_id: i64,
    pub cluster_id: String,
    /// Termination reason code, e.g. `DRIVER_UNREACHABLE`.
    pub code: String,
    /// Termination reason type, e.g. `SERVICE_FAULT`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<HashMap<String, String>>,
}

/// Ends a run (`POST /_emulator/runs/finish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFinish {
    pub workspace_id: i64,
    pub run_id: i64,
    /// `success`, `code_failure` or `cluster_failure`.
    pub outcome: String,
    /// With `cluster_failure`: the clusters' termination code (default `DRIVER_UNREACHABLE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// With `cluster_failure`: its type (default `SERVICE_FAULT`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<HashMap<String, String>>,
}

fn reason_of(code: &str, kind: &str, parameters: Option<&HashMap<String, String>>) -> Value {
    let parameters: Map<String, Value> = parameters
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({"code": code, "type": kind, "parameters": parameters})
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
        .route(
            "/_emulator/cluster-terminations",
            post(|State(app): State<AppState>, body: Bytes| async move {
                let req: ClusterTermination = parse_json(&body)?;
                terminate_cluster(&app, &req).map(Json)
            }),
        )
        .route(
            "/_emulator/cluster-delays",
            get(list_delays).post(set_delay).delete(clear_delays),
        )
        .route(
            "/_emulator/runs/finish",
            post(|State(app): State<AppState>, body: Bytes| async move {
                let req: RunFinish = parse_json(&body)?;
                finish_run(&app, &req).map(Json)
            }),
        )
        .route("/_emulator/deliveries", get(deliveries))
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

/// What `POST /_emulator/cluster-terminations` does.
pub(crate) fn terminate_cluster(
    app: &AppState,
    req: &ClusterTermination,
) -> Result<Value, ApiError> {
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    let data = state.workspace_data(req.workspace_id).ok_or_else(|| {
        ApiError::not_found(format!("Workspace {} does not exist", req.workspace_id))
    })?;
    let c = crate::workspace::clusters::cluster_mut(data, &req.cluster_id, config, now)
        .map_err(|e| ApiError::not_found(e.message))?;
    if !matches!(c.state, "RUNNING" | "RESIZING" | "RESTARTING") {
        return Err(ApiError::other(
            StatusCode::CONFLICT,
            "INVALID_STATE",
            format!(
                "Cluster {} is {}: only a RUNNING, RESIZING or RESTARTING cluster can be terminated by this control",
                req.cluster_id, c.state
            ),
        ));
    }
    let reason = reason_of(&req.code, &req.kind, req.parameters.as_ref());
    c.begin_terminate(now, reason.clone(), config);
    let answer =
        json!({"cluster_id": c.cluster_id, "state": c.state, "termination_reason": reason});
    crate::workspace::jobs::settle_and_deliver(app, &mut state, Some(req.workspace_id));
    Ok(answer)
}

/// What `POST /_emulator/runs/finish` does.
pub(crate) fn finish_run(app: &AppState, req: &RunFinish) -> Result<Value, ApiError> {
    use crate::workspace::jobs::{Finish, default_cluster_failure};
    let how: Finish = serde_json::from_value(json!(req.outcome)).map_err(|_| {
        ApiError::invalid(format!(
            "outcome {} is not one of success, code_failure, cluster_failure",
            req.outcome
        ))
    })?;
    if how != Finish::ClusterFailure && (req.code.is_some() || req.kind.is_some()) {
        return Err(ApiError::invalid(
            "code and type go with outcome cluster_failure only",
        ));
    }
    let reason = match (&req.code, &req.kind) {
        (None, None) => None,
        (code, kind) => {
            let default = default_cluster_failure();
            Some(reason_of(
                code.as_deref()
                    .unwrap_or(default["code"].as_str().unwrap_or_default()),
                kind.as_deref()
                    .unwrap_or(default["type"].as_str().unwrap_or_default()),
                req.parameters.as_ref(),
            ))
        }
    };
    let mut state = app.lock();
    crate::workspace::jobs::finish(app, &mut state, req.workspace_id, req.run_id, how, reason)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelayRequest {
    workspace_id: Option<i64>,
    start_delay_ms: Option<i64>,
}

async fn set_delay(State(app): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let req: DelayRequest = parse_json(&body)?;
    let workspace_id = req
        .workspace_id
        .ok_or_else(|| ApiError::invalid("Missing required field: workspace_id"))?;
    let delay = req
        .start_delay_ms
        .filter(|d| *d >= 0)
        .ok_or_else(|| ApiError::invalid("start_delay_ms must be a non-negative integer"))?;
    app.lock().cluster_delays.insert(workspace_id, delay);
    Ok(list_delays(State(app)).await)
}

async fn list_delays(State(app): State<AppState>) -> Json<Value> {
    let state = app.lock();
    let mut delays: Vec<(&i64, &i64)> = state.cluster_delays.iter().collect();
    delays.sort();
    let delays: Vec<Value> = delays
        .into_iter()
        .map(|(w, d)| json!({"workspace_id": w, "start_delay_ms": d}))
        .collect();
    Json(json!({ "delays": delays }))
}

async fn clear_delays(State(app): State<AppState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let req: DelayRequest = parse_json(&body)?;
    let mut state = app.lock();
    match req.workspace_id {
        Some(w) => {
            state.cluster_delays.remove(&w);
        }
        None => state.cluster_delays.clear(),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id: Option<i64> = match q.get("workspace_id").filter(|w| !w.is_empty()) {
        None => None,
        Some(w) => Some(
            w.parse()
                .map_err(|_| ApiError::invalid(format!("Invalid workspace_id {w}")))?,
        ),
    };
    let mut state = app.lock();
    crate::workspace::jobs::settle_and_deliver(&app, &mut state, workspace_id);
    let list: Vec<&crate::workspace::jobs::DeliveryAttempt> = state
        .deliveries
        .iter()
        .filter(|d| workspace_id.is_none_or(|w| w == d.workspace_id))
        .collect();
    Ok(Json(json!({ "deliveries": list })))
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
    crate::workspace::jobs::settle_and_deliver(&app, &mut state, None);
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
