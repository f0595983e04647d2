//! One-time job runs (`/api/2.1|2.2/jobs/runs/submit`, `runs/get`), minimal but faithful where
//! the cluster-failure monitor looks, and the delivery of their `on_failure` webhook
//! notifications.
//!
//! **Submit.** `run_name` (default `Untitled`), `tasks[]` each with a unique `task_key` and
//! `new_cluster` or `existing_cluster_id` (the legacy single-task form, top-level `new_cluster` /
//! `existing_cluster_id`, becomes one task with key `task`), `webhook_notifications` (lists of
//! `{"id"}`, at most 3 each, every id a destination of the workspace, else `400
//! INVALID_PARAMETER_VALUE`), `idempotency_token` (a second submit with the same token answers the
//! first run's id). Task kinds (`notebook_task`, ...) are kept and echoed, never run. A
//! `new_cluster` makes a job cluster (`cluster_source` `JOB`, name `job-<job_id>-run-<task run
//! id>` as the vendor names them, `default_tags` `JobId` and `RunName`) that starts like any
//! other; an existing cluster must be an all-purpose one and is started when `TERMINATED`.
//! Answer: `{"run_id"}`. Every run gets its own `job_id`, as one-time runs do.
//!
//! **Get.** `run_id`, `job_id`, `run_name`, `run_type` `SUBMIT_RUN`, `state` (deprecated:
//! `life_cycle_state`, `result_state`, `state_message`), `status` (`state`, and
//! `termination_details {code, type, message}` once ended), `cluster_instance` (when every task
//! uses one cluster), `tasks[]` with their own `run_id`, `cluster_instance`, `state`, `status`,
//! `start_time`, `end_time` (0 while running), `run_page_url`. A run is `PENDING` ("Waiting for
//! cluster") while a cluster of it starts, then `RUNNING` until it ends. 2.2 pages `tasks` by 100
//! (`next_page_token`, passed back as `page_token`; later pages repeat the other fields); 2.1
//! answers every task at once. A missing run is `400 INVALID_PARAMETER_VALUE "Run <id> does not
//! exist."`.
//!
//! **How runs end.** Only `POST /_emulator/runs/finish` or a cluster: `success` → `TERMINATED` /
//! `SUCCESS`; `code_failure` → `TERMINATED` / `FAILED` with termination details
//! `RUN_EXECUTION_ERROR` / `CLIENT_ERROR`; `cluster_failure` → each active cluster of the run (job
//! or existing) terminates with the given reason (default `DRIVER_UNREACHABLE` / `SERVICE_FAULT`
//! with `databricks_error_message`, the vendor's reason for a driver that stopped answering) and
//! the run ends `INTERNAL_ERROR` / `FAILED` with `CLUSTER_ERROR`. A run whose cluster terminates
//! (or disappears) by any other way while it runs ends the same way. The details' `type` follows
//! the cluster's reason: `CLOUD_FAILURE` stays, `CLIENT_ERROR` stays, anything else is
//! `INTERNAL_ERROR`. At the end every job cluster still active terminates `JOB_FINISHED` /
//! `SUCCESS`; existing clusters are left as they are.
//!
//! **Notifications.** A run that ends `FAILED` posts to each `on_failure` destination, from a
//! tokio task: `{"event_type": "jobs.on_failure", "workspace_id", "run": {"run_id"}, "job":
//! {"job_id", "name"}}` (ids as numbers, `name` = the run name), `Content-Type:
//! application/json`, HTTP Basic auth when the destination has a user name and password; up to 4
//! attempts (100, 200, 400 ms apart) while the connection fails or the answer is a 5xx. Each
//! attempt is recorded for `GET /_emulator/deliveries` (destination id, URL host only, status or
//! error). `on_start`, `on_success` and the other lists are checked and stored but not delivered.
//!
//! Runs are settled (a failed cluster ends its run) whenever the workspace's API is called and
//! before the jobs controls answer, as the rest of the emulator brings state up to date on read.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::clusters::{self, Cluster, JobLink, RUNNING, TERMINATED};
use super::{Ctx, WorkspaceData};
use crate::error::{ApiError, parse_json};
use crate::server::{AppState, DatabricksEmulatorConfig};
use crate::state::State as EmulatorState;

/// Tasks per page of `runs/get` 2.2 (the vendor's).
const TASKS_PER_PAGE: usize = 100;
/// Destinations per notification list (the vendor's limit).
const MAX_DESTINATIONS: usize = 3;

/// A one-time run.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub run_id: i64,
    pub job_id: i64,
    pub run_name: String,
    pub creator: String,
    pub start_time: i64,
    pub idempotency_token: Option<String>,
    pub tasks: Vec<TaskRun>,
    /// `webhook_notifications` as sent.
    pub webhook_notifications: Option<Value>,
    /// Destination ids of `webhook_notifications.on_failure`.
    pub on_failure: Vec<String>,
    pub outcome: Option<Outcome>,
}

/// One task of a run.
#[derive(Debug, Clone)]
pub(crate) struct TaskRun {
    pub run_id: i64,
    pub task_key: String,
    pub cluster_id: String,
    /// The task's own cluster (`new_cluster`), which ends with the run.
    pub job_cluster: bool,
    /// The task as sent (kind, `new_cluster` or `existing_cluster_id`, ...).
    pub settings: Map<String, Value>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub life_cycle_state: &'static str,
    pub result_state: &'static str,
    pub code: String,
    pub kind: String,
    pub message: String,
    pub end_time: i64,
}

impl Outcome {
    fn failed(&self) -> bool {
        self.result_state == "FAILED"
    }
}

/// What `POST /_emulator/runs/finish` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Finish {
    Success,
    CodeFailure,
    ClusterFailure,
}

/// One webhook to send, with what it needs (taken under the lock).
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    workspace_id: i64,
    run_id: i64,
    job_id: i64,
    run_name: String,
    destination_id: String,
    /// `None` when the destination no longer exists.
    target: Option<Target>,
}

#[derive(Debug, Clone)]
struct Target {
    url: String,
    username: Option<String>,
    password: Option<String>,
}

/// A delivery attempt, as `GET /_emulator/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeliveryAttempt {
    pub workspace_id: i64,
    pub run_id: i64,
    pub destination_id: String,
    pub event_type: &'static str,
    /// The URL's host (and port) only: a webhook URL is a secret.
    pub host: Option<String>,
    /// 1, 2, ...
    pub attempt: u32,
    /// The HTTP status of the answer; absent when there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether a Basic `Authorization` header was sent.
    pub basic_auth: bool,
    /// Emulator time of the attempt, epoch milliseconds.
    pub at_ms: i64,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.1/jobs/runs/submit", post(submit))
        .route("/api/2.2/jobs/runs/submit", post(submit))
        .route("/api/2.1/jobs/runs/get", get(get_whole))
        .route("/api/2.2/jobs/runs/get", get(get_paged))
}

/// A 15-digit id, the size of the vendor's run and job ids.
fn new_id() -> i64 {
    fastrand::i64(100_000_000_000_000..1_000_000_000_000_000)
}

fn task_error(index: usize, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("tasks[{index}]: {message}"))
}

/// The destination ids of every list of `webhook_notifications`, checked.
fn check_notifications(data: &WorkspaceData, hooks: &Value) -> Result<Vec<String>, ApiError> {
    let Some(lists) = hooks.as_object() else {
        return Err(ApiError::invalid(
            "webhook_notifications must be an object of lists of {\"id\"}",
        ));
    };
    let mut on_failure = Vec::new();
    for (event, list) in lists {
        let items = list.as_array().ok_or_else(|| {
            ApiError::invalid(format!("webhook_notifications.{event} must be a list"))
        })?;
        if items.len() > MAX_DESTINATIONS {
            return Err(ApiError::invalid(format!(
                "webhook_notifications.{event} can have at most {MAX_DESTINATIONS} destinations"
            )));
        }
        for item in items {
            let id = item.get("id").and_then(Value::as_str).ok_or_else(|| {
                ApiError::invalid(format!("webhook_notifications.{event}[].id is required"))
            })?;
            if !data.destinations.contains_key(id) {
                return Err(ApiError::invalid(format!(
                    "Notification destination {id} does not exist"
                )));
            }
            if event == "on_failure" {
                on_failure.push(id.to_string());
            }
        }
    }
    Ok(on_failure)
}

/// The tasks of a submit body (the legacy single-task form as one task `task`).
fn tasks_of(body: &Map<String, Value>) -> Result<Vec<Map<String, Value>>, ApiError> {
    match body.get("tasks") {
        Some(Value::Array(tasks)) if !tasks.is_empty() => tasks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.as_object()
                    .cloned()
                    .ok_or_else(|| task_error(i, "a task must be an object"))
            })
            .collect(),
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            let mut task = Map::new();
            task.insert("task_key".into(), json!("task"));
            for (k, v) in body {
                if !matches!(
                    k.as_str(),
                    "run_name" | "tasks" | "webhook_notifications" | "idempotency_token"
                ) {
                    task.insert(k.clone(), v.clone());
                }
            }
            if task.get("new_cluster").is_none() && task.get("existing_cluster_id").is_none() {
                return Err(ApiError::invalid(
                    "Either new_cluster or existing_cluster_id must be specified.",
                ));
            }
            Ok(vec![task])
        }
        Some(_) => Err(ApiError::invalid("tasks must be a list")),
    }
}

async fn submit(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: Map<String, Value> = parse_json(&body)?;
    let run_name = body
        .get("run_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("Untitled")
        .to_string();
    let token = body
        .get("idempotency_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    let tasks = tasks_of(&body)?;
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    if let Some(t) = &token
        && let Some(run) = data
            .runs
            .values()
            .find(|r| r.idempotency_token.as_ref() == Some(t))
    {
        return Ok(Json(json!({ "run_id": run.run_id })));
    }
    let on_failure = match body.get("webhook_notifications") {
        None | Some(Value::Null) => Vec::new(),
        Some(hooks) => check_notifications(data, hooks)?,
    };
    // Check every task before making anything.
    let mut keys = std::collections::BTreeSet::new();
    let mut plans = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let key = task
            .get("task_key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| task_error(i, "Missing required field: task_key"))?;
        if !keys.insert(key.to_string()) {
            return Err(task_error(i, format!("task_key {key} is not unique")));
        }
        match (task.get("new_cluster"), task.get("existing_cluster_id")) {
            (Some(spec), None) => {
                let spec = spec
                    .as_object()
                    .ok_or_else(|| task_error(i, "new_cluster must be an object"))?;
                let checked = clusters::check_spec(data, spec).map_err(|e| ApiError {
                    message: format!("Cluster validation error: {}", e.message),
                    ..e
                })?;
                plans.push(Err(checked));
            }
            (None, Some(id)) => {
                let id = id
                    .as_str()
                    .ok_or_else(|| task_error(i, "existing_cluster_id must be a string"))?;
                let c = clusters::cluster_mut(data, id, config, now)?;
                if c.source == "JOB" {
                    return Err(ApiError::invalid(
                        "existing_cluster_id only supports all-purpose cluster IDs",
                    ));
                }
                plans.push(Ok(id.to_string()));
            }
            _ => {
                return Err(task_error(
                    i,
                    "Either new_cluster or existing_cluster_id must be specified.",
                ));
            }
        }
    }
    let run_id = loop {
        let id = new_id();
        if !data.runs.contains_key(&id) {
            break id;
        }
    };
    let job_id = new_id();
    let mut task_runs = Vec::new();
    for (task, plan) in tasks.into_iter().zip(plans) {
        let task_run_id = new_id();
        let key = task["task_key"].as_str().unwrap_or_default().to_string();
        let (cluster_id, job_cluster) = match plan {
            Err(mut spec) => {
                spec.insert(
                    "cluster_name".into(),
                    json!(format!("job-{job_id}-run-{task_run_id}")),
                );
                let link = JobLink {
                    job_id,
                    run_name: run_name.clone(),
                };
                let id = clusters::make_cluster(
                    &mut state,
                    ctx.workspace_id,
                    &ctx.caller.name,
                    spec,
                    Some(link),
                    now,
                    config,
                )?;
                (id, true)
            }
            Ok(id) => {
                let data = ctx.data(&mut state)?;
                if clusters::cluster_mut(data, &id, config, now)?.state == TERMINATED {
                    clusters::start_terminated(
                        &mut state,
                        ctx.workspace_id,
                        &id,
                        &ctx.caller.name,
                        now,
                        config,
                    )?;
                }
                (id, false)
            }
        };
        task_runs.push(TaskRun {
            run_id: task_run_id,
            task_key: key,
            cluster_id,
            job_cluster,
            settings: task,
        });
    }
    let run = Run {
        run_id,
        job_id,
        run_name,
        creator: ctx.caller.name.clone(),
        start_time: now,
        idempotency_token: token,
        tasks: task_runs,
        webhook_notifications: body.get("webhook_notifications").cloned(),
        on_failure,
        outcome: None,
    };
    ctx.data(&mut state)?.runs.insert(run_id, run);
    Ok(Json(json!({ "run_id": run_id })))
}

/// `run_id` and `page_token` of a `runs/get` query.
fn get_query(query: Option<String>) -> Result<(i64, usize), ApiError> {
    let pairs: HashMap<String, String> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let raw = pairs
        .get("run_id")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required parameter: run_id"))?;
    let run_id = raw
        .parse()
        .map_err(|_| ApiError::invalid(format!("Invalid run_id {raw}")))?;
    let offset = match pairs.get("page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid(format!("Invalid page_token {t}")))?,
    };
    Ok((run_id, offset))
}

async fn get_paged(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (run_id, offset) = get_query(query)?;
    read_run(&app, &ctx, run_id, Some(offset))
}

async fn get_whole(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (run_id, _) = get_query(query)?;
    read_run(&app, &ctx, run_id, None)
}

fn read_run(
    app: &AppState,
    ctx: &Ctx,
    run_id: i64,
    page: Option<usize>,
) -> Result<Json<Value>, ApiError> {
    let now = app.now_ms();
    let mut state = app.lock();
    let url = workspace_url(&state, ctx.workspace_id);
    let data = ctx.data(&mut state)?;
    clusters::advance_all(data, app.config(), now);
    let run = data
        .runs
        .get(&run_id)
        .ok_or_else(|| ApiError::invalid(format!("Run {run_id} does not exist.")))?;
    Ok(Json(run_json(run, &data.clusters, &url, page)))
}

/// The workspace's URL (for `run_page_url`).
fn workspace_url(state: &EmulatorState, workspace_id: i64) -> String {
    state
        .workspace_index
        .get(&workspace_id)
        .and_then(|a| state.accounts.get(a))
        .and_then(|a| a.workspaces.get(&workspace_id))
        .and_then(|w| w.workspace_url.clone())
        .unwrap_or_default()
}

/// (life_cycle_state, status.state, state_message) of a run or task not yet ended.
fn live_state(cluster: Option<&Cluster>) -> (&'static str, &'static str, &'static str) {
    match cluster.map(|c| c.state) {
        Some(s) if s == RUNNING || s == "RESIZING" => ("RUNNING", "RUNNING", "In run"),
        _ => ("PENDING", "PENDING", "Waiting for cluster"),
    }
}

fn state_json(
    outcome: Option<&Outcome>,
    live: (&'static str, &'static str, &'static str),
) -> (Value, Value) {
    match outcome {
        Some(o) => (
            json!({"life_cycle_state": o.life_cycle_state, "result_state": o.result_state,
                   "state_message": o.message, "user_cancelled_or_timedout": false}),
            json!({"state": "TERMINATED", "termination_details":
                   {"code": o.code, "type": o.kind, "message": o.message}}),
        ),
        None => (
            json!({"life_cycle_state": live.0, "state_message": live.2,
                   "user_cancelled_or_timedout": false}),
            json!({"state": live.1}),
        ),
    }
}

/// A run as `runs/get` answers it; `page` = the offset of the 2.2 task page, `None` for 2.1.
fn run_json(
    run: &Run,
    clusters: &indexmap::IndexMap<String, Cluster>,
    workspace_url: &str,
    page: Option<usize>,
) -> Value {
    let page_url = |run_id: i64| format!("{workspace_url}/#job/{}/run/{run_id}", run.job_id);
    let end_time = run.outcome.as_ref().map_or(0, |o| o.end_time);
    let live_of = |t: &TaskRun| live_state(clusters.get(&t.cluster_id));
    let run_live = if run.tasks.iter().all(|t| live_of(t).0 == "RUNNING") {
        ("RUNNING", "RUNNING", "In run")
    } else {
        ("PENDING", "PENDING", "Waiting for cluster")
    };
    let (state, status) = state_json(run.outcome.as_ref(), run_live);
    let (offset, size) = match page {
        Some(offset) => (offset, TASKS_PER_PAGE),
        None => (0, run.tasks.len().max(1)),
    };
    let tasks: Vec<Value> = run
        .tasks
        .iter()
        .skip(offset)
        .take(size)
        .map(|t| {
            let (state, status) = state_json(run.outcome.as_ref(), live_of(t));
            let mut v = t.settings.clone();
            v.insert("run_id".into(), json!(t.run_id));
            v.insert("task_key".into(), json!(t.task_key));
            v.insert(
                "cluster_instance".into(),
                json!({"cluster_id": t.cluster_id}),
            );
            v.insert("state".into(), state);
            v.insert("status".into(), status);
            v.insert("start_time".into(), json!(run.start_time));
            v.insert("end_time".into(), json!(end_time));
            v.insert("attempt_number".into(), json!(0));
            v.insert("run_page_url".into(), json!(page_url(t.run_id)));
            Value::Object(v)
        })
        .collect();
    let mut out = json!({
        "job_id": run.job_id,
        "run_id": run.run_id,
        "number_in_job": run.run_id,
        "original_attempt_run_id": run.run_id,
        "run_name": run.run_name,
        "creator_user_name": run.creator,
        "run_type": "SUBMIT_RUN",
        "format": "MULTI_TASK",
        "attempt_number": 0,
        "state": state,
        "status": status,
        "tasks": tasks,
        "start_time": run.start_time,
        "end_time": end_time,
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "run_page_url": page_url(run.run_id),
    });
    let mut ids: Vec<&str> = run.tasks.iter().map(|t| t.cluster_id.as_str()).collect();
    ids.dedup();
    if let [only] = ids.as_slice() {
        out["cluster_instance"] = json!({"cluster_id": only});
    }
    if let Some(hooks) = &run.webhook_notifications {
        out["webhook_notifications"] = hooks.clone();
    }
    if page.is_some() && offset + size < run.tasks.len() {
        out["next_page_token"] = json!((offset + size).to_string());
    }
    out
}

/// The cluster-failure outcome of a run whose cluster `id` ended with `reason`.
fn cluster_error(id: &str, reason: Option<&Value>, now: i64) -> Outcome {
    let code = reason.and_then(|r| r["code"].as_str()).unwrap_or("UNKNOWN");
    let kind = reason
        .and_then(|r| r["type"].as_str())
        .unwrap_or("SERVICE_FAULT");
    let parameters: Vec<String> = reason
        .and_then(|r| r["parameters"].as_object())
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default()))
        .collect();
    let mut message = if reason.is_some() {
        format!("Cluster {id} was terminated during the run. Reason: {code} ({kind}).")
    } else {
        format!("Cluster {id} does not exist.")
    };
    if !parameters.is_empty() {
        message.push_str(&format!(" Parameters: {}.", parameters.join(", ")));
    }
    Outcome {
        life_cycle_state: "INTERNAL_ERROR",
        result_state: "FAILED",
        code: "CLUSTER_ERROR".into(),
        kind: match kind {
            "CLOUD_FAILURE" => "CLOUD_FAILURE",
            "CLIENT_ERROR" => "CLIENT_ERROR",
            _ => "INTERNAL_ERROR",
        }
        .into(),
        message,
        end_time: now,
    }
}

/// Ends `run` with `outcome`: job clusters still active terminate `JOB_FINISHED`; a failure
/// queues its `on_failure` deliveries.
fn end_run(
    workspace_id: i64,
    run: &mut Run,
    outcome: Outcome,
    clusters: &mut indexmap::IndexMap<String, Cluster>,
    destinations: &indexmap::IndexMap<String, super::notification_destinations::Destination>,
    config: &DatabricksEmulatorConfig,
    now: i64,
) -> Vec<Delivery> {
    for t in run.tasks.iter().filter(|t| t.job_cluster) {
        if let Some(c) = clusters.get_mut(&t.cluster_id)
            && c.state != "TERMINATING"
            && c.state != TERMINATED
        {
            let reason = json!({"code": "JOB_FINISHED", "type": "SUCCESS", "parameters": {}});
            c.begin_terminate(now, reason, config);
        }
    }
    let failed = outcome.failed();
    run.outcome = Some(outcome);
    if !failed {
        return Vec::new();
    }
    run.on_failure
        .iter()
        .map(|id| Delivery {
            workspace_id,
            run_id: run.run_id,
            job_id: run.job_id,
            run_name: run.run_name.clone(),
            destination_id: id.clone(),
            target: destinations.get(id).map(|d| Target {
                url: d.url.clone(),
                username: d.username.clone(),
                password: d.password.clone(),
            }),
        })
        .collect()
}

/// Ends every running run of the workspace whose cluster terminated or disappeared.
/// Only the clusters of running runs are brought up to date: this runs on every API call, and a
/// workspace may hold thousands of clusters and no run.
fn settle(data: &mut WorkspaceData, config: &DatabricksEmulatorConfig, now: i64) -> Vec<Delivery> {
    let in_use: Vec<String> = data
        .runs
        .values()
        .filter(|r| r.outcome.is_none())
        .flat_map(|r| r.tasks.iter().map(|t| t.cluster_id.clone()))
        .collect();
    if in_use.is_empty() {
        return Vec::new();
    }
    for id in &in_use {
        if let Some(c) = data.clusters.get_mut(id) {
            c.advance(now, config);
        }
    }
    let workspace_id = data.workspace_id;
    let WorkspaceData {
        runs,
        clusters,
        destinations,
        ..
    } = data;
    let mut deliveries = Vec::new();
    for run in runs.values_mut().filter(|r| r.outcome.is_none()) {
        let failed = run
            .tasks
            .iter()
            .find_map(|t| match clusters.get(&t.cluster_id) {
                None => Some(cluster_error(&t.cluster_id, None, now)),
                Some(c) if c.state == "TERMINATING" || c.state == TERMINATED => Some(
                    cluster_error(&t.cluster_id, c.termination_reason.as_ref(), now),
                ),
                Some(_) => None,
            });
        if let Some(outcome) = failed {
            deliveries.extend(end_run(
                workspace_id,
                run,
                outcome,
                clusters,
                destinations,
                config,
                now,
            ));
        }
    }
    deliveries
}

/// Settles the runs of `workspace_id` (every workspace when `None`) and sends what failed runs
/// must deliver.
pub(crate) fn settle_and_deliver(
    app: &AppState,
    state: &mut EmulatorState,
    workspace_id: Option<i64>,
) {
    let now = app.now_ms();
    let mut deliveries = Vec::new();
    for account in state.accounts.values_mut() {
        for data in account.workspace_data.values_mut() {
            if workspace_id.is_none_or(|w| w == data.workspace_id) {
                deliveries.extend(settle(data, app.config(), now));
            }
        }
    }
    spawn_deliveries(app, state, deliveries);
}

/// `POST /_emulator/runs/finish`: ends a run that has not ended.
pub(crate) fn finish(
    app: &AppState,
    state: &mut EmulatorState,
    workspace_id: i64,
    run_id: i64,
    how: Finish,
    reason: Option<Value>,
) -> Result<Value, ApiError> {
    settle_and_deliver(app, state, Some(workspace_id));
    let now = app.now_ms();
    let config = app.config();
    let url = workspace_url(state, workspace_id);
    let data = state
        .workspace_data(workspace_id)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {workspace_id} does not exist")))?;
    let WorkspaceData {
        runs,
        clusters,
        destinations,
        ..
    } = data;
    let run = runs
        .get_mut(&run_id)
        .ok_or_else(|| ApiError::not_found(format!("Run {run_id} does not exist.")))?;
    if let Some(o) = &run.outcome {
        return Err(ApiError::other(
            axum::http::StatusCode::CONFLICT,
            "INVALID_STATE",
            format!(
                "Run {run_id} has already ended ({} / {}: {})",
                o.life_cycle_state, o.result_state, o.code
            ),
        ));
    }
    let outcome = match how {
        Finish::Success => Outcome {
            life_cycle_state: "TERMINATED",
            result_state: "SUCCESS",
            code: "SUCCESS".into(),
            kind: "SUCCESS".into(),
            message: String::new(),
            end_time: now,
        },
        Finish::CodeFailure => Outcome {
            life_cycle_state: "TERMINATED",
            result_state: "FAILED",
            code: "RUN_EXECUTION_ERROR".into(),
            kind: "CLIENT_ERROR".into(),
            message: "Workload failed, see run output for details".into(),
            end_time: now,
        },
        Finish::ClusterFailure => {
            let reason = reason.unwrap_or_else(default_cluster_failure);
            let mut first = None;
            for t in &run.tasks {
                if let Some(c) = clusters.get_mut(&t.cluster_id)
                    && c.state != "TERMINATING"
                    && c.state != TERMINATED
                {
                    c.begin_terminate(now, reason.clone(), config);
                    first.get_or_insert_with(|| t.cluster_id.clone());
                }
            }
            let id = first.unwrap_or_else(|| run.tasks[0].cluster_id.clone());
            cluster_error(&id, Some(&reason), now)
        }
    };
    let deliveries = end_run(
        workspace_id,
        run,
        outcome,
        clusters,
        destinations,
        config,
        now,
    );
    let answer = run_json(run, clusters, &url, None);
    spawn_deliveries(app, state, deliveries);
    Ok(answer)
}

/// `DRIVER_UNREACHABLE` / `SERVICE_FAULT`: what the vendor reports for a driver that stopped
/// answering, the commonest cluster failure under a running job.
pub(crate) fn default_cluster_failure() -> Value {
    json!({"code": "DRIVER_UNREACHABLE", "type": "SERVICE_FAULT",
           "parameters": {"databricks_error_message": "Attempt to send request to driver failed"}})
}

/// Every run of a workspace for the inventory: `{"run_id", "run_name", "life_cycle_state"}`.
pub(crate) fn inventory(data: &WorkspaceData) -> Vec<Value> {
    data.runs
        .values()
        .map(|r| {
            let state = match &r.outcome {
                Some(o) => o.life_cycle_state,
                None => {
                    if r.tasks
                        .iter()
                        .all(|t| live_state(data.clusters.get(&t.cluster_id)).0 == "RUNNING")
                    {
                        "RUNNING"
                    } else {
                        "PENDING"
                    }
                }
            };
            json!({"run_id": r.run_id, "run_name": r.run_name, "life_cycle_state": state})
        })
        .collect()
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // Receivers are local test servers; a machine-wide HTTP_PROXY must not catch them.
            .no_proxy()
            .build()
            .unwrap_or_default()
    })
}

fn spawn_deliveries(app: &AppState, state: &mut EmulatorState, deliveries: Vec<Delivery>) {
    for d in deliveries {
        match (&d.target, tokio::runtime::Handle::try_current()) {
            (Some(_), Ok(handle)) => {
                handle.spawn(deliver(app.clone(), d));
            }
            (target, runtime) => {
                let error = if target.is_none() {
                    "the notification destination no longer exists"
                } else if runtime.is_err() {
                    "no tokio runtime to deliver from"
                } else {
                    "not delivered"
                };
                state.deliveries.push(attempt_record(
                    &d,
                    1,
                    None,
                    Some(error.into()),
                    app.now_ms(),
                ));
            }
        }
    }
}

fn attempt_record(
    d: &Delivery,
    attempt: u32,
    status: Option<u16>,
    error: Option<String>,
    at_ms: i64,
) -> DeliveryAttempt {
    let target = d.target.as_ref();
    DeliveryAttempt {
        workspace_id: d.workspace_id,
        run_id: d.run_id,
        destination_id: d.destination_id.clone(),
        event_type: "jobs.on_failure",
        host: target.and_then(|t| host_of(&t.url)),
        attempt,
        status,
        error,
        basic_auth: target.is_some_and(|t| t.username.is_some() && t.password.is_some()),
        at_ms,
    }
}

/// `host[:port]` of a URL.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

async fn deliver(app: AppState, d: Delivery) {
    let Some(target) = d.target.clone() else {
        return;
    };
    let body = json!({
        "event_type": "jobs.on_failure",
        "workspace_id": d.workspace_id,
        "run": {"run_id": d.run_id},
        "job": {"job_id": d.job_id, "name": d.run_name},
    });
    const ATTEMPTS: u32 = 4;
    for attempt in 1..=ATTEMPTS {
        let mut request = http().post(&target.url).json(&body);
        if let (Some(user), Some(password)) = (&target.username, &target.password) {
            request = request.basic_auth(user, Some(password));
        }
        let (status, error) = match request.send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            // Without the URL: it is a secret.
            Err(e) => (None, Some(e.without_url().to_string())),
        };
        let record = attempt_record(&d, attempt, status, error, app.now_ms());
        app.lock().deliveries.push(record);
        let retry = status.is_none_or(|s| s >= 500);
        if !retry || attempt == ATTEMPTS {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100 << (attempt - 1))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_leave_out_paths_and_credentials() {
        assert_eq!(
            host_of("https://user:pw@hooks.example.com:8443/secret/path?x=1").as_deref(),
            Some("hooks.example.com:8443")
        );
        assert_eq!(
            host_of("http://127.0.0.1:9/").as_deref(),
            Some("127.0.0.1:9")
        );
        assert_eq!(host_of("not a url"), None);
    }

    #[test]
    fn a_cluster_error_takes_the_type_of_the_clusters_reason() {
        let reason = json!({"code": "SPOT_INSTANCE_TERMINATION", "type": "CLOUD_FAILURE",
                            "parameters": {"aws_instance_state_reason": "Server.SpotInstanceTermination"}});
        let o = cluster_error("c1", Some(&reason), 5);
        assert_eq!(
            (
                o.life_cycle_state,
                o.result_state,
                o.code.as_str(),
                o.kind.as_str()
            ),
            ("INTERNAL_ERROR", "FAILED", "CLUSTER_ERROR", "CLOUD_FAILURE")
        );
        assert!(
            o.message.contains("SPOT_INSTANCE_TERMINATION"),
            "{}",
            o.message
        );
        let o = cluster_error("c1", Some(&default_cluster_failure()), 5);
        assert_eq!(o.kind, "INTERNAL_ERROR");
        assert_eq!(
            cluster_error("gone", None, 5).message,
            "Cluster gone does not exist."
        );
    }
}
