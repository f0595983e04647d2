//! Clusters, under both `/api/2.1/clusters/` and `/api/2.0/clusters/`: create, edit, update,
//! get, list, start, restart, resize, delete (terminate), permanent-delete, events,
//! spark-versions, list-node-types.
//!
//! Every field a client sends is stored and returned as sent (unlike minilake, which drops
//! `data_security_mode`, `single_user_name` and `aws_attributes`), plus `cluster_id`
//! (`MMDD-HHMMSS-xxxxxxxx`), `state`, `state_message`, `start_time`, `terminated_time`,
//! `last_restarted_time`, `termination_reason`, `creator_user_name`, `cluster_source` (`API`, or
//! `JOB` for a run's job cluster, [`super::jobs`]), `default_tags` (a job cluster's add `JobId`
//! and `RunName`) and `spec` (the last user-specified spec; `list` leaves it out).
//!
//! The state machine runs on the emulator clock and is brought up to date whenever a cluster is
//! read: `PENDING`/`RESTARTING`/`RESIZING` become `RUNNING` after
//! [`cluster_start_delay`](crate::DatabricksEmulatorConfig::cluster_start_delay) (or the
//! workspace's `/_emulator/cluster-delays` override), `TERMINATING`
//! becomes `TERMINATED` after `cluster_terminate_delay`; a `RUNNING` cluster idle for
//! `autotermination_minutes` (idle since it last reached `RUNNING`, was resized or had a library
//! installed) terminates with `INACTIVITY`. A cluster-failure rule (`/_emulator/cluster-failures`)
//! makes a create, start (`on: start`) or restart (`on: restart`) end in `TERMINATING` →
//! `TERMINATED` with its reason; `/_emulator/cluster-terminations` fails a running cluster now.
//! `clusters/delete` terminates with `USER_REQUEST` / `SUCCESS` and `parameters.username`.
//! Events: `CREATING`, `STARTING`, `RESTARTING`, `RESIZING`, `EDITED`, `RUNNING` (a create, start
//! or restart done), `UPSIZE_COMPLETED` (a resize that added nodes done), `TERMINATING` (whose
//! `details.reason` is the termination reason).
//!
//! Errors as the vendor gives them: a missing cluster is `400 INVALID_PARAMETER_VALUE "Cluster
//! <id> does not exist"` on every call (the quirk the SDKs map to not-found on `get`); `start`
//! unless `TERMINATED`, `edit`/`update` unless `RUNNING` or `TERMINATED`, `resize` unless
//! `RUNNING`, `restart` of a terminated cluster: `400 INVALID_STATE`. `delete` of a terminating or
//! terminated cluster does nothing. A job cluster cannot be started, edited or updated: `400
//! INVALID_PARAMETER_VALUE "Cannot start|edit cluster <id> created by JobLauncher"` (the vendor's
//! wording for edit). Validation: `spark_version` is required and must look like
//! `<major>.<minor>.x-...`; `autotermination_minutes` is 0 or 10–10000; `autoscale.max_workers`
//! must exceed `min_workers`; `policy_id` must name a policy and
//! `aws_attributes.instance_profile_arn` a registered instance profile; at most 45 custom tags;
//! `single_user_name` must be a user of the workspace (user names compared without case) or a
//! service principal's applicationId, else create and edit answer the vendor's `400 {"error_code":
//! "BAD_REQUEST", "message": "Principal: UserName(<name>) does not exist"}` and change nothing.
//! `create` past the cluster-create rate limit ([`crate::limits`]) is `429
//! REQUEST_LIMIT_EXCEEDED` with `Retry-After`, and creates nothing.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::libraries::LibraryEntry;
use super::{Ctx, WorkspaceData, bad_request, empty};
use crate::clock::{ms, utc_fields};
use crate::error::{ApiError, parse_json};
use crate::server::{AppState, DatabricksEmulatorConfig};
use crate::state::State as EmulatorState;

pub(crate) const PENDING: &str = "PENDING";
pub(crate) const RUNNING: &str = "RUNNING";
const RESTARTING: &str = "RESTARTING";
const RESIZING: &str = "RESIZING";
const TERMINATING: &str = "TERMINATING";
pub(crate) const TERMINATED: &str = "TERMINATED";

/// Fields the server computes; ignored when a client sends them back.
const COMPUTED: &[&str] = &[
    "cluster_id",
    "state",
    "state_message",
    "start_time",
    "terminated_time",
    "last_restarted_time",
    "last_state_loss_time",
    "termination_reason",
    "creator_user_name",
    "cluster_source",
    "default_tags",
    "spec",
    "driver",
    "executors",
    "spark_context_id",
    "jdbc_port",
    "cluster_memory_mb",
    "cluster_cores",
    "cluster_log_status",
];

const DATA_SECURITY_MODES: &[&str] = &[
    "DATA_SECURITY_MODE_AUTO",
    "DATA_SECURITY_MODE_STANDARD",
    "DATA_SECURITY_MODE_DEDICATED",
    "NONE",
    "SINGLE_USER",
    "USER_ISOLATION",
    "LEGACY_TABLE_ACL",
    "LEGACY_PASSTHROUGH",
    "LEGACY_SINGLE_USER",
    "LEGACY_SINGLE_USER_STANDARD",
];

pub(crate) const SPARK_VERSIONS: &[(&str, &str)] = &[
    (
        "17.3.x-scala2.13",
        "17.3 LTS (includes Apache Spark 4.0.0, Scala 2.13)",
    ),
    (
        "16.4.x-scala2.12",
        "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)",
    ),
    (
        "15.4.x-scala2.12",
        "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)",
    ),
    (
        "15.4.x-photon-scala2.12",
        "15.4 LTS Photon (includes Apache Spark 3.5.0, Scala 2.12)",
    ),
    (
        "14.3.x-scala2.12",
        "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)",
    ),
    (
        "13.3.x-scala2.12",
        "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)",
    ),
];

/// (node_type_id, memory MB, cores, category).
const NODE_TYPES: &[(&str, i64, i64, &str)] = &[
    ("m5d.large", 8192, 2, "General Purpose"),
    ("m5d.xlarge", 16384, 4, "General Purpose"),
    ("m5d.2xlarge", 32768, 8, "General Purpose"),
    ("m6gd.xlarge", 16384, 4, "General Purpose"),
    ("m7gd.xlarge", 16384, 4, "General Purpose"),
    ("i3.xlarge", 31232, 4, "Storage Optimized"),
    ("i3.2xlarge", 62464, 8, "Storage Optimized"),
    ("i4i.xlarge", 32768, 4, "Storage Optimized"),
    ("r5d.xlarge", 32768, 4, "Memory Optimized"),
    ("c5d.xlarge", 8192, 4, "Compute Optimized"),
    ("g4dn.xlarge", 16384, 4, "GPU Accelerated"),
];

/// What a pending transition leads to.
#[derive(Debug, Clone)]
enum Next {
    Running,
    /// A resize done: `RUNNING` again, with an `UPSIZE_COMPLETED` event when nodes were added
    /// (from this many workers); the vendor's `RUNNING` event marks a create, start or restart.
    Resized {
        from: i64,
    },
    /// A start that fails: `TERMINATING` with this reason.
    Fail(Value),
    Terminated,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub cluster_id: String,
    /// The user-specified fields, as sent.
    pub spec: Map<String, Value>,
    pub state: &'static str,
    pub state_message: String,
    pub creator: String,
    pub start_time: i64,
    pub terminated_time: Option<i64>,
    pub last_restarted_time: Option<i64>,
    pub termination_reason: Option<Value>,
    transition: Option<(i64, Next)>,
    /// When the driver last came up (cleared on restart and termination); libraries install
    /// from then.
    pub running_since: Option<i64>,
    last_activity: i64,
    pub events: Vec<Value>,
    pub libraries: Vec<LibraryEntry>,
    /// `cluster_source`: `API` for `clusters/create`, `JOB` for a run's job cluster.
    pub source: &'static str,
    /// The run a job cluster belongs to (its `default_tags` `JobId` and `RunName`).
    pub job: Option<JobLink>,
}

/// What ties a job cluster to its run.
#[derive(Debug, Clone)]
pub(crate) struct JobLink {
    pub job_id: i64,
    pub run_name: String,
}

/// Which kind of start a cluster-failure rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartKind {
    /// `clusters/create`, `clusters/start`, a run's job cluster, a run starting a terminated
    /// existing cluster: `PENDING`.
    Start,
    /// `clusters/restart`, or `edit` of a running cluster: `RESTARTING`.
    Restart,
}

impl Cluster {
    pub(crate) fn event(&mut self, at: i64, kind: &str, details: Value) {
        self.events.push(json!({
            "cluster_id": self.cluster_id,
            "timestamp": at,
            "type": kind,
            "details": details,
        }));
    }

    fn workers(&self) -> i64 {
        self.spec
            .get("num_workers")
            .and_then(Value::as_i64)
            .or_else(|| {
                self.spec
                    .get("autoscale")
                    .and_then(|a| a.get("min_workers"))
                    .and_then(Value::as_i64)
            })
            .unwrap_or(0)
    }

    /// Enters `state` (PENDING or RESTARTING) and schedules RUNNING, or the injected failure,
    /// `delay_ms` from now.
    pub(crate) fn begin_start(
        &mut self,
        state: &'static str,
        now: i64,
        failure: Option<Value>,
        delay_ms: i64,
    ) {
        self.state = state;
        self.state_message = if state == PENDING {
            "Starting Spark".into()
        } else {
            "Restarting Spark".into()
        };
        self.running_since = None;
        self.libraries.retain(|l| !l.uninstall);
        let at = now + delay_ms;
        self.transition = Some((at, failure.map_or(Next::Running, Next::Fail)));
    }

    /// Enters `TERMINATING` at `at` with `reason` (the `TERMINATING` event carries it in
    /// `details.reason`); `TERMINATED` follows after `cluster_terminate_delay`.
    pub(crate) fn begin_terminate(
        &mut self,
        at: i64,
        reason: Value,
        config: &DatabricksEmulatorConfig,
    ) {
        self.state = TERMINATING;
        self.state_message = describe(&reason);
        self.event(at, "TERMINATING", json!({ "reason": reason }));
        self.termination_reason = Some(reason);
        self.running_since = None;
        self.libraries.retain(|l| !l.uninstall);
        self.transition = Some((at + ms(config.cluster_terminate_delay), Next::Terminated));
    }

    /// Applies every transition due by `now`, and auto-termination.
    pub fn advance(&mut self, now: i64, config: &DatabricksEmulatorConfig) {
        loop {
            if let Some((at, next)) = self.transition.clone()
                && at <= now
            {
                self.transition = None;
                match next {
                    Next::Running => {
                        self.state = RUNNING;
                        self.state_message = String::new();
                        if self.running_since.is_none() {
                            self.running_since = Some(at);
                        }
                        self.last_activity = at;
                        let workers = self.workers();
                        self.event(
                            at,
                            "RUNNING",
                            json!({"current_num_workers": workers, "target_num_workers": workers}),
                        );
                    }
                    Next::Resized { from } => {
                        self.state = RUNNING;
                        self.state_message = String::new();
                        self.last_activity = at;
                        let workers = self.workers();
                        if workers > from {
                            self.event(
                                at,
                                "UPSIZE_COMPLETED",
                                json!({"current_num_workers": workers, "target_num_workers": workers}),
                            );
                        }
                    }
                    Next::Fail(reason) => self.begin_terminate(at, reason, config),
                    Next::Terminated => {
                        self.state = TERMINATED;
                        self.terminated_time = Some(at);
                    }
                }
                continue;
            }
            let minutes = self
                .spec
                .get("autotermination_minutes")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if self.state == RUNNING && minutes > 0 {
                let at = self.last_activity + minutes * 60_000;
                if at <= now {
                    let reason = json!({
                        "code": "INACTIVITY",
                        "type": "SUCCESS",
                        "parameters": {"inactivity_duration_min": minutes.to_string()},
                    });
                    self.begin_terminate(at, reason, config);
                    continue;
                }
            }
            break;
        }
    }

    /// Marks use of a running cluster, which postpones auto-termination.
    pub fn touch(&mut self, now: i64) {
        if self.state == RUNNING {
            self.last_activity = now;
        }
    }

    pub fn to_json(&self, with_spec: bool) -> Value {
        let mut v = self.spec.clone();
        v.insert("cluster_id".into(), json!(self.cluster_id));
        v.insert("state".into(), json!(self.state));
        v.insert("state_message".into(), json!(self.state_message));
        v.insert("start_time".into(), json!(self.start_time));
        v.insert("creator_user_name".into(), json!(self.creator));
        v.insert("cluster_source".into(), json!(self.source));
        let mut default_tags = json!({
            "Vendor": "Databricks",
            "Creator": self.creator,
            "ClusterName": self.spec.get("cluster_name").and_then(Value::as_str).unwrap_or_default(),
            "ClusterId": self.cluster_id,
        });
        if let Some(job) = &self.job {
            default_tags["JobId"] = json!(job.job_id.to_string());
            default_tags["RunName"] = json!(job.run_name);
        }
        v.insert("default_tags".into(), default_tags);
        if let Some(t) = self.terminated_time {
            v.insert("terminated_time".into(), json!(t));
        }
        if let Some(t) = self.last_restarted_time {
            v.insert("last_restarted_time".into(), json!(t));
        }
        if let Some(r) = &self.termination_reason {
            v.insert("termination_reason".into(), r.clone());
        }
        if with_spec {
            v.insert("spec".into(), Value::Object(self.spec.clone()));
        }
        Value::Object(v)
    }
}

/// A cluster in the inventory: `{"cluster_id", "cluster_name", "state", "data_security_mode",
/// "single_user_name", "libraries": [{"library", "status", "messages"?}], "permissions":
/// [{"user_name" | "group_name" | "service_principal_name", "permission_level"}]}` (the two
/// fields the spec lacks are `null`; libraries and permissions in the order they were added).
/// The cluster and its libraries must be up to date ([`super::libraries::settle_all`]).
pub(crate) fn inventory(
    c: &Cluster,
    data: &WorkspaceData,
    config: &DatabricksEmulatorConfig,
    now: i64,
) -> Value {
    let libraries: Vec<Value> = c
        .libraries
        .iter()
        .map(|l| {
            let (status, message) = super::libraries::status(l, c, config, now);
            let mut item = json!({"library": l.library, "status": status});
            if let Some(m) = message {
                item["messages"] = json!([m]);
            }
            item
        })
        .collect();
    json!({
        "cluster_id": c.cluster_id,
        "cluster_name": c.spec.get("cluster_name"),
        "state": c.state,
        "data_security_mode": c.spec.get("data_security_mode"),
        "single_user_name": c.spec.get("single_user_name"),
        "libraries": libraries,
        "permissions": super::permissions::direct_grants(data, &format!("clusters/{}", c.cluster_id)),
    })
}

/// The `state_message` that goes with a termination reason.
fn describe(reason: &Value) -> String {
    let code = reason["code"].as_str().unwrap_or("UNKNOWN");
    let kind = reason["type"].as_str().unwrap_or("UNKNOWN");
    let params = reason["parameters"].as_object();
    match code {
        "INACTIVITY" => format!(
            "Inactive cluster terminated (inactive for {} minutes).",
            params
                .and_then(|p| p.get("inactivity_duration_min"))
                .and_then(Value::as_str)
                .unwrap_or("?")
        ),
        "USER_REQUEST" => format!(
            "Terminated by user request ({}).",
            params
                .and_then(|p| p.get("username"))
                .and_then(Value::as_str)
                .unwrap_or("unknown")
        ),
        _ => {
            let details: Vec<String> = params
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}: {}", v.as_str().map_or(v.to_string(), str::to_string)))
                .collect();
            if details.is_empty() {
                format!("Cluster terminated. Reason: {code} ({kind}).")
            } else {
                format!(
                    "Cluster terminated. Reason: {code} ({kind}). {}",
                    details.join(", ")
                )
            }
        }
    }
}

/// Brings every cluster of the workspace up to date.
pub(crate) fn advance_all(data: &mut WorkspaceData, config: &DatabricksEmulatorConfig, now: i64) {
    for c in data.clusters.values_mut() {
        c.advance(now, config);
    }
}

/// The cluster, brought up to date; the vendor's 400 when it does not exist.
pub(crate) fn cluster_mut<'a>(
    data: &'a mut WorkspaceData,
    id: &str,
    config: &DatabricksEmulatorConfig,
    now: i64,
) -> Result<&'a mut Cluster, ApiError> {
    let c = data
        .clusters
        .get_mut(id)
        .ok_or_else(|| ApiError::invalid(format!("Cluster {id} does not exist")))?;
    c.advance(now, config);
    Ok(c)
}

fn invalid_state(c: &Cluster, action: &str) -> ApiError {
    ApiError::invalid_state(format!(
        "Cluster {} is in unexpected state {}; cannot {action} it",
        c.cluster_id,
        title(c.state)
    ))
}

fn title(state: &str) -> String {
    let lower = state.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for v in ["2.0", "2.1"] {
        let p = |op: &str| format!("/api/{v}/clusters/{op}");
        router = router
            .route(&p("create"), post(create))
            .route(&p("edit"), post(edit))
            .route(&p("update"), post(update))
            .route(&p("get"), get(read))
            .route(&p("list"), get(list))
            .route(&p("start"), post(start))
            .route(&p("restart"), post(restart))
            .route(&p("resize"), post(resize))
            .route(&p("delete"), post(terminate))
            .route(&p("permanent-delete"), post(permanent_delete))
            .route(&p("events"), post(events))
            .route(&p("spark-versions"), get(spark_versions))
            .route(&p("list-node-types"), get(node_types));
    }
    router
}

/// The user-specified fields of a create or edit body, checked.
pub(crate) fn check_spec(
    data: &WorkspaceData,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    let spec: Map<String, Value> = body
        .iter()
        .filter(|(k, v)| !COMPUTED.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let version = spec
        .get("spark_version")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("Missing required field: spark_version"))?;
    let looks_right = version.split_once(".x").is_some_and(|(head, _)| {
        head.split('.').count() == 2
            && head
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    });
    if !looks_right {
        return Err(ApiError::invalid(format!(
            "Invalid spark version {version}; list valid keys with clusters/spark-versions"
        )));
    }
    if let Some(n) = spec.get("num_workers")
        && n.as_i64().is_none_or(|n| n < 0)
    {
        return Err(ApiError::invalid(
            "num_workers must be a non-negative integer",
        ));
    }
    if let Some(a) = spec.get("autoscale") {
        let min = a.get("min_workers").and_then(Value::as_i64);
        let max = a.get("max_workers").and_then(Value::as_i64);
        match (min, max) {
            (Some(min), Some(max)) if min >= 0 && max > min => {}
            _ => {
                return Err(ApiError::invalid(
                    "autoscale needs min_workers >= 0 and max_workers greater than min_workers",
                ));
            }
        }
    }
    if let Some(m) = spec.get("autotermination_minutes") {
        let ok = m
            .as_i64()
            .is_some_and(|m| m == 0 || (10..=10_000).contains(&m));
        if !ok {
            return Err(ApiError::invalid(
                "autotermination_minutes must be 0 (disabled) or between 10 and 10000",
            ));
        }
    }
    if let Some(mode) = spec.get("data_security_mode") {
        let ok = mode
            .as_str()
            .is_some_and(|m| DATA_SECURITY_MODES.contains(&m));
        if !ok {
            return Err(ApiError::invalid(format!(
                "Invalid data_security_mode {mode}"
            )));
        }
    }
    if let Some(node) = spec.get("node_type_id") {
        let ok = node.as_str().is_some_and(|n| {
            n.split_once('.')
                .is_some_and(|(family, size)| !family.is_empty() && !size.is_empty())
        });
        if !ok {
            return Err(ApiError::invalid(format!("Invalid node type {node}")));
        }
    }
    if let Some(policy) = spec.get("policy_id") {
        let ok = policy
            .as_str()
            .is_some_and(|p| data.policies.contains_key(p));
        if !ok {
            return Err(ApiError::invalid(format!(
                "Cluster policy {policy} does not exist"
            )));
        }
    }
    if let Some(arn) = spec
        .get("aws_attributes")
        .and_then(|a| a.get("instance_profile_arn"))
        .and_then(Value::as_str)
        && !data.instance_profiles.contains_key(arn)
    {
        return Err(ApiError::invalid(format!(
            "Instance profile {arn} is not registered in this workspace"
        )));
    }
    if let Some(name) = spec.get("single_user_name") {
        let known = name.as_str().is_some_and(|n| {
            data.directory.user_exists_ignoring_case(n)
                || data.directory.service_principal_exists(n)
        });
        if !known {
            let shown = name
                .as_str()
                .map_or_else(|| name.to_string(), str::to_string);
            return Err(bad_request(
                "BAD_REQUEST",
                format!("Principal: UserName({shown}) does not exist"),
            ));
        }
    }
    if let Some(tags) = spec.get("custom_tags") {
        let ok = tags.as_object().is_some_and(|t| t.len() <= 45);
        if !ok {
            return Err(ApiError::invalid(
                "custom_tags must be an object of at most 45 tags",
            ));
        }
    }
    Ok(spec)
}

/// `MMDD-HHMMSS-xxxxxxxx` from the emulator clock.
fn new_cluster_id(now: i64) -> String {
    let (_, month, day, hour, minute, second) = utc_fields(now);
    let suffix: String = (0..8)
        .map(|_| {
            let i = fastrand::usize(0..36);
            char::from_digit(i as u32, 36).unwrap()
        })
        .collect();
    format!("{month:02}{day:02}-{hour:02}{minute:02}{second:02}-{suffix}")
}

/// Takes one use of a cluster-failure rule matching this start of cluster `cluster_id`.
pub(crate) fn take_failure(
    state: &mut EmulatorState,
    workspace_id: i64,
    cluster_id: &str,
    cluster_name: &str,
    kind: StartKind,
) -> Option<Value> {
    let rule = state.cluster_failures.iter_mut().find(|r| {
        r.workspace_id == workspace_id
            && r.remaining != Some(0)
            && r.applies_to(kind)
            && r.cluster_name.as_deref().is_none_or(|n| n == cluster_name)
            && r.cluster_id.as_deref().is_none_or(|c| c == cluster_id)
    })?;
    if let Some(n) = &mut rule.remaining {
        *n -= 1;
    }
    Some(rule.reason.clone())
}

/// Emulator-clock milliseconds a cluster of `workspace_id` spends starting: the workspace's
/// `/_emulator/cluster-delays` override, else `cluster_start_delay`.
pub(crate) fn start_delay_ms(
    state: &EmulatorState,
    workspace_id: i64,
    config: &DatabricksEmulatorConfig,
) -> i64 {
    state
        .cluster_delays
        .get(&workspace_id)
        .copied()
        .unwrap_or_else(|| ms(config.cluster_start_delay))
}

/// `400 INVALID_PARAMETER_VALUE` for a call the vendor refuses on a job cluster (its wording
/// for `edit`: "Cannot edit cluster <id> created by JobLauncher").
fn refuse_job_cluster(c: &Cluster, action: &str) -> Result<(), ApiError> {
    if c.source == "JOB" {
        return Err(ApiError::invalid(format!(
            "Cannot {action} cluster {} created by JobLauncher",
            c.cluster_id
        )));
    }
    Ok(())
}

pub(crate) fn cluster_name(c: &Cluster) -> String {
    c.spec
        .get("cluster_name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[derive(Deserialize)]
struct IdRequest {
    cluster_id: Option<String>,
}

fn id_of(body: &[u8]) -> Result<String, ApiError> {
    let req: IdRequest = parse_json(body)?;
    crate::error::required(&req.cluster_id, "cluster_id").map(str::to_string)
}

/// `429 REQUEST_LIMIT_EXCEEDED` with `Retry-After` ([`crate::limits`]).
fn throttled(workspace_id: i64, retry_after: u64) -> Response {
    let error = ApiError::other(
        StatusCode::TOO_MANY_REQUESTS,
        "REQUEST_LIMIT_EXCEEDED",
        format!(
            "Cluster create requests of workspace {workspace_id} exceeded the rate limit; retry after {retry_after} seconds"
        ),
    );
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: Map<String, Value> = parse_json(&body)?;
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    if let Err(retry_after) = state.create_limiter.check(ctx.workspace_id, now) {
        return Ok(throttled(ctx.workspace_id, retry_after));
    }
    let spec = check_spec(ctx.data(&mut state)?, &body)?;
    let id = make_cluster(
        &mut state,
        ctx.workspace_id,
        &ctx.caller.name,
        spec,
        None,
        now,
        config,
    )?;
    state.create_limiter.record(ctx.workspace_id, now);
    Ok(Json(json!({ "cluster_id": id })).into_response())
}

/// Makes a cluster from a checked spec (`clusters/create`, or a run's job cluster when `job` is
/// set: `cluster_source` `JOB`) and starts it: `CREATING`, then `PENDING`.
pub(crate) fn make_cluster(
    state: &mut EmulatorState,
    workspace_id: i64,
    creator: &str,
    spec: Map<String, Value>,
    job: Option<JobLink>,
    now: i64,
    config: &DatabricksEmulatorConfig,
) -> Result<String, ApiError> {
    let data = state
        .workspace_data(workspace_id)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {workspace_id} does not exist")))?;
    let id = loop {
        let id = new_cluster_id(now);
        if !data.clusters.contains_key(&id) {
            break id;
        }
    };
    let mut cluster = Cluster {
        cluster_id: id.clone(),
        spec,
        state: PENDING,
        state_message: String::new(),
        creator: creator.to_string(),
        start_time: now,
        terminated_time: None,
        last_restarted_time: None,
        termination_reason: None,
        transition: None,
        running_since: None,
        last_activity: now,
        events: Vec::new(),
        libraries: Vec::new(),
        source: if job.is_some() { "JOB" } else { "API" },
        job,
    };
    let name = cluster_name(&cluster);
    let failure = take_failure(state, workspace_id, &id, &name, StartKind::Start);
    let delay = start_delay_ms(state, workspace_id, config);
    cluster.event(now, "CREATING", json!({"user": creator}));
    cluster.begin_start(PENDING, now, failure, delay);
    let data = state
        .workspace_data(workspace_id)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {workspace_id} does not exist")))?;
    data.clusters.insert(id.clone(), cluster);
    Ok(id)
}

/// Starts a `TERMINATED` cluster (`clusters/start`, or a run on a terminated existing cluster):
/// `STARTING` by `user`, then `PENDING`.
pub(crate) fn start_terminated(
    state: &mut EmulatorState,
    workspace_id: i64,
    id: &str,
    user: &str,
    now: i64,
    config: &DatabricksEmulatorConfig,
) -> Result<(), ApiError> {
    let delay = start_delay_ms(state, workspace_id, config);
    let data = state
        .workspace_data(workspace_id)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {workspace_id} does not exist")))?;
    let c = cluster_mut(data, id, config, now)?;
    let name = cluster_name(c);
    let failure = take_failure(state, workspace_id, id, &name, StartKind::Start);
    let data = state
        .workspace_data(workspace_id)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {workspace_id} does not exist")))?;
    let c = cluster_mut(data, id, config, now)?;
    c.start_time = now;
    c.terminated_time = None;
    c.termination_reason = None;
    c.event(now, "STARTING", json!({"user": user}));
    c.begin_start(PENDING, now, failure, delay);
    Ok(())
}

/// Replaces the spec of a running or terminated cluster; a running one restarts.
fn apply_edit(
    state: &mut EmulatorState,
    ctx: &Ctx,
    id: &str,
    new_spec: impl FnOnce(&Map<String, Value>) -> Map<String, Value>,
    config: &DatabricksEmulatorConfig,
    now: i64,
) -> Result<(), ApiError> {
    let data = ctx.data(state)?;
    let c = cluster_mut(data, id, config, now)?;
    refuse_job_cluster(c, "edit")?;
    if c.state != RUNNING && c.state != TERMINATED {
        return Err(invalid_state(c, "edit"));
    }
    let candidate = new_spec(&c.spec);
    let spec = check_spec(data, &candidate)?;
    let c = cluster_mut(data, id, config, now)?;
    let previous = c.spec.clone();
    c.spec = spec;
    c.event(
        now,
        "EDITED",
        json!({"user": ctx.caller.name, "previous_attributes": previous, "attributes": c.spec.clone()}),
    );
    if c.state == RUNNING {
        let name = cluster_name(c);
        c.last_restarted_time = Some(now);
        c.event(now, "RESTARTING", json!({"user": ctx.caller.name}));
        let failure = take_failure(state, ctx.workspace_id, id, &name, StartKind::Restart);
        let delay = start_delay_ms(state, ctx.workspace_id, config);
        let data = ctx.data(state)?;
        let c = cluster_mut(data, id, config, now)?;
        c.begin_start(RESTARTING, now, failure, delay);
    }
    Ok(())
}

async fn edit(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: Map<String, Value> = parse_json(&body)?;
    let id = body
        .get("cluster_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("Missing required field: cluster_id"))?
        .to_string();
    let now = app.now_ms();
    let mut state = app.lock();
    apply_edit(&mut state, &ctx, &id, |_| body.clone(), app.config(), now)?;
    Ok(empty())
}

#[derive(Deserialize)]
struct UpdateRequest {
    cluster_id: Option<String>,
    update_mask: Option<String>,
    #[serde(default)]
    cluster: Map<String, Value>,
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: UpdateRequest = parse_json(&body)?;
    let id = crate::error::required(&req.cluster_id, "cluster_id")?.to_string();
    let mask = crate::error::required(&req.update_mask, "update_mask")?.to_string();
    let fields: Vec<String> = if mask.trim() == "*" {
        req.cluster.keys().cloned().collect()
    } else {
        mask.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect()
    };
    if let Some(bad) = fields.iter().find(|f| COMPUTED.contains(&f.as_str())) {
        return Err(ApiError::invalid(format!("Field {bad} cannot be updated")));
    }
    let now = app.now_ms();
    let mut state = app.lock();
    apply_edit(
        &mut state,
        &ctx,
        &id,
        |current| {
            let mut spec = current.clone();
            for f in &fields {
                match req.cluster.get(f) {
                    Some(v) => spec.insert(f.clone(), v.clone()),
                    None => spec.remove(f),
                };
            }
            spec
        },
        app.config(),
        now,
    )?;
    Ok(empty())
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = pairs(query);
    let id = query
        .iter()
        .find(|(k, _)| k == "cluster_id")
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required parameter: cluster_id"))?;
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    Ok(Json(c.to_json(true)))
}

fn pairs(query: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = pairs(query);
    let all = |key: &str| -> Vec<String> {
        query
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let states = all("filter_by.cluster_states");
    let sources = all("filter_by.cluster_sources");
    let policy = all("filter_by.policy_id");
    let page_size: usize = match all("page_size").first() {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::invalid(format!("Invalid page_size {v}")))?,
    };
    let offset: usize = match all("page_token").first() {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid(format!("Invalid page_token {t}")))?,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    advance_all(data, app.config(), now);
    let mut matching: Vec<&Cluster> = data
        .clusters
        .values()
        .filter(|c| states.is_empty() || states.iter().any(|s| s == c.state))
        .filter(|c| sources.is_empty() || sources.iter().any(|s| s == c.source))
        .filter(|c| {
            policy.is_empty()
                || c.spec
                    .get("policy_id")
                    .and_then(Value::as_str)
                    .is_some_and(|p| policy.iter().any(|q| q == p))
        })
        .collect();
    if all("sort_by.field").first().map(String::as_str) == Some("CLUSTER_NAME") {
        matching.sort_by_key(|c| cluster_name(c));
    }
    if all("sort_by.direction").first().map(String::as_str) == Some("DESC") {
        matching.reverse();
    }
    let total = matching.len();
    let size = if page_size == 0 {
        total.max(1)
    } else {
        page_size
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(size)
        .map(|c| c.to_json(false))
        .collect();
    let mut out = json!({ "clusters": page });
    if offset + size < total {
        out["next_page_token"] = json!((offset + size).to_string());
    }
    if offset > 0 {
        out["prev_page_token"] = json!(offset.saturating_sub(size).to_string());
    }
    Ok(Json(out))
}

async fn start(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(&body)?;
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    let c = cluster_mut(ctx.data(&mut state)?, &id, config, now)?;
    refuse_job_cluster(c, "start")?;
    if c.state != TERMINATED {
        return Err(invalid_state(c, "start"));
    }
    start_terminated(
        &mut state,
        ctx.workspace_id,
        &id,
        &ctx.caller.name,
        now,
        config,
    )?;
    Ok(empty())
}

async fn restart(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(&body)?;
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    let c = cluster_mut(ctx.data(&mut state)?, &id, config, now)?;
    match c.state {
        RUNNING => {}
        PENDING | RESTARTING => return Ok(empty()),
        _ => return Err(invalid_state(c, "restart")),
    }
    let name = cluster_name(c);
    let failure = take_failure(&mut state, ctx.workspace_id, &id, &name, StartKind::Restart);
    let delay = start_delay_ms(&state, ctx.workspace_id, config);
    let c = cluster_mut(ctx.data(&mut state)?, &id, config, now)?;
    c.last_restarted_time = Some(now);
    c.event(now, "RESTARTING", json!({"user": ctx.caller.name}));
    c.begin_start(RESTARTING, now, failure, delay);
    Ok(empty())
}

#[derive(Deserialize)]
struct ResizeRequest {
    cluster_id: Option<String>,
    num_workers: Option<i64>,
    autoscale: Option<Value>,
}

async fn resize(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ResizeRequest = parse_json(&body)?;
    let id = crate::error::required(&req.cluster_id, "cluster_id")?.to_string();
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    let delay = start_delay_ms(&state, ctx.workspace_id, config);
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, config, now)?;
    if c.state != RUNNING {
        return Err(invalid_state(c, "resize"));
    }
    let mut spec = c.spec.clone();
    match (req.num_workers, req.autoscale) {
        (Some(n), None) => {
            spec.remove("autoscale");
            spec.insert("num_workers".into(), json!(n));
        }
        (None, Some(a)) => {
            spec.remove("num_workers");
            spec.insert("autoscale".into(), a);
        }
        _ => {
            return Err(ApiError::invalid(
                "Exactly one of num_workers and autoscale is required",
            ));
        }
    }
    let spec = check_spec(data, &spec)?;
    let c = cluster_mut(data, &id, config, now)?;
    let from = c.workers();
    c.spec = spec;
    let target = c.workers();
    c.state = RESIZING;
    c.state_message = "Resizing cluster".into();
    c.last_activity = now;
    c.event(
        now,
        "RESIZING",
        json!({"target_num_workers": target, "user": ctx.caller.name, "cause": "USER_REQUEST"}),
    );
    c.transition = Some((now + delay, Next::Resized { from }));
    Ok(empty())
}

async fn terminate(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(&body)?;
    let now = app.now_ms();
    let config = app.config();
    let mut state = app.lock();
    let c = cluster_mut(ctx.data(&mut state)?, &id, config, now)?;
    if c.state != TERMINATING && c.state != TERMINATED {
        let reason = json!({
            "code": "USER_REQUEST",
            "type": "SUCCESS",
            "parameters": {"username": ctx.caller.name},
        });
        c.begin_terminate(now, reason, config);
    }
    Ok(empty())
}

async fn permanent_delete(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(&body)?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.clusters
        .shift_remove(&id)
        .ok_or_else(|| ApiError::invalid(format!("Cluster {id} does not exist")))?;
    data.permissions.remove(&format!("clusters/{id}"));
    Ok(empty())
}

#[derive(Deserialize)]
struct EventsRequest {
    cluster_id: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    #[serde(default)]
    event_types: Vec<String>,
    order: Option<String>,
    page_size: Option<usize>,
    page_token: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

async fn events(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: EventsRequest = parse_json(&body)?;
    let id = crate::error::required(&req.cluster_id, "cluster_id")?.to_string();
    // 0 or absent: the server decides (the vendor's words), 50 as `limit` documents.
    let size = req
        .page_size
        .filter(|s| *s > 0)
        .or(req.limit.filter(|l| *l > 0))
        .unwrap_or(50);
    if size > 500 {
        return Err(ApiError::invalid("page_size must be at most 500"));
    }
    let size = size.max(1);
    let offset = match &req.page_token {
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid(format!("Invalid page_token {t}")))?,
        None => req.offset.unwrap_or(0),
    };
    let descending = match req.order.as_deref() {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => {
            return Err(bad_request(
                "INVALID_PARAMETER_VALUE",
                format!("Invalid order {other}; expected ASC or DESC"),
            ));
        }
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    let mut matching: Vec<&Value> = c
        .events
        .iter()
        .filter(|e| {
            let t = e["timestamp"].as_i64().unwrap_or(0);
            req.start_time.is_none_or(|s| t >= s)
                && req.end_time.is_none_or(|end| t <= end)
                && (req.event_types.is_empty()
                    || req
                        .event_types
                        .iter()
                        .any(|k| e["type"].as_str() == Some(k.as_str())))
        })
        .collect();
    // Stable sort keeps same-millisecond events in the order they happened.
    matching.sort_by_key(|e| e["timestamp"].as_i64().unwrap_or(0));
    if descending {
        matching.reverse();
    }
    let total = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .skip(offset)
        .take(size)
        .cloned()
        .collect();
    let mut out = json!({ "events": page, "total_count": total });
    if offset + size < total {
        out["next_page_token"] = json!((offset + size).to_string());
        let mut next = json!({"cluster_id": id, "offset": offset + size, "limit": size});
        if !req.event_types.is_empty() {
            next["event_types"] = json!(req.event_types);
        }
        out["next_page"] = next;
    }
    if offset > 0 {
        out["prev_page_token"] = json!(offset.saturating_sub(size).to_string());
    }
    Ok(Json(out))
}

async fn spark_versions() -> Json<Value> {
    let versions: Vec<Value> = SPARK_VERSIONS
        .iter()
        .map(|(key, name)| json!({"key": key, "name": name}))
        .collect();
    Json(json!({ "versions": versions }))
}

async fn node_types() -> Json<Value> {
    let types: Vec<Value> = NODE_TYPES
        .iter()
        .map(|(id, memory, cores, category)| {
            json!({
                "node_type_id": id,
                "instance_type_id": id,
                "memory_mb": memory,
                "num_cores": cores,
                "description": id,
                "category": category,
                "is_deprecated": false,
                "support_ebs_volumes": true,
            })
        })
        .collect();
    Json(json!({ "node_types": types }))
}
