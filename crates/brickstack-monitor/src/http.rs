//! The monitor's routes: the push (`POST /databricks-monitor`, `x-api-key`), job-failure
//! notifications (`POST /databricks-monitor/jobs`, HTTP Basic), the status page (`/`), its JSON
//! (`/monitor/status.json`) and `/readyz`. Credentials are compared in constant time (over SHA-256
//! digests, so neither content nor length leaks) and never logged.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::SecretValue;
use crate::api::{Alerts, Clusters, TerminationReason, Workspace};
use crate::classify::{Classification, classify};
use crate::error::MonitorError;
use crate::monitor::{Failure, Handled, Monitor};
use crate::page::render_status_page;
use crate::records::{self, TicketRecord, now_ms};

/// The push routes' credentials, read by the CLI from SSM. A route without its credential is not
/// served (404).
#[derive(Debug, Clone, Default)]
pub struct PushAuth {
    /// `x-api-key` of `POST /databricks-monitor`.
    pub api_key: Option<SecretValue>,
    /// User and password (HTTP Basic) of `POST /databricks-monitor/jobs`.
    pub job_webhook: Option<(String, SecretValue)>,
}

struct HttpState<C: Clusters, A: Alerts> {
    monitor: Arc<Monitor<C, A>>,
    auth: Arc<PushAuth>,
}

impl<C: Clusters, A: Alerts> Clone for HttpState<C, A> {
    fn clone(&self) -> Self {
        HttpState {
            monitor: self.monitor.clone(),
            auth: self.auth.clone(),
        }
    }
}

impl<C: Clusters, A: Alerts> Monitor<C, A> {
    /// Routes: POST /databricks-monitor, POST /databricks-monitor/jobs, GET / (status page),
    /// GET /monitor/status.json (the StatusView as JSON), GET /readyz (200 active / 503 standby).
    /// Standby (not active): pushes answer 503 {"status":"standby","leader":..} + Retry-After.
    pub fn routes(self: &Arc<Self>, auth: PushAuth) -> Router {
        let push = auth.api_key.is_some();
        let jobs = auth.job_webhook.is_some();
        let state = HttpState {
            monitor: self.clone(),
            auth: Arc::new(auth),
        };
        let mut router = Router::new()
            .route("/", get(page::<C, A>))
            .route("/monitor/status.json", get(status_json::<C, A>))
            .route("/readyz", get(readyz::<C, A>));
        if push {
            router = router.route("/databricks-monitor", post(push_route::<C, A>));
        }
        if jobs {
            router = router.route("/databricks-monitor/jobs", post(jobs_route::<C, A>));
        }
        router.with_state(state)
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

fn internal(e: &MonitorError) -> Response {
    match e {
        MonitorError::Workspaces(_) | MonitorError::Lookup { .. } => {
            tracing::warn!(error = %e, "monitor: a workspace could not be read for a push");
            error(StatusCode::BAD_GATEWAY, e.to_string())
        }
        _ => {
            tracing::error!(error = %e, "monitor: a request failed on the records");
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

fn standby<C: Clusters, A: Alerts>(monitor: &Monitor<C, A>) -> Response {
    let retry = monitor.config.interval.as_secs().max(1).to_string();
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"status": "standby", "leader": monitor.leader()})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&retry) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    bool::from(Sha256::digest(expected).ct_eq(&Sha256::digest(given)))
}

async fn page<C: Clusters, A: Alerts>(State(s): State<HttpState<C, A>>) -> Response {
    match s.monitor.status() {
        Ok(view) => Html(render_status_page(
            &view,
            s.monitor.config.interval.as_secs().max(1),
        ))
        .into_response(),
        Err(e) => internal(&e),
    }
}

async fn status_json<C: Clusters, A: Alerts>(State(s): State<HttpState<C, A>>) -> Response {
    match s.monitor.status() {
        Ok(view) => axum::Json(view).into_response(),
        Err(e) => internal(&e),
    }
}

async fn readyz<C: Clusters, A: Alerts>(State(s): State<HttpState<C, A>>) -> Response {
    if s.monitor.is_active() {
        axum::Json(json!({"status": "active"})).into_response()
    } else {
        standby(&s.monitor)
    }
}

/// The seed's push payload.
#[derive(Debug, Deserialize)]
struct PushBody {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    cluster: Option<PushCluster>,
}

#[derive(Debug, Deserialize)]
struct PushCluster {
    cluster_id: String,
    #[serde(default)]
    cluster_name: String,
    #[serde(default)]
    termination_reason: Option<TerminationReason>,
    #[serde(default)]
    terminated_time: Option<i64>,
}

/// The answer to a push (the seed's shape).
#[derive(Debug, Serialize)]
pub(crate) struct PushAnswer {
    pub status: &'static str,
    pub ticket_id: Option<String>,
    pub error_type: Option<String>,
    pub recovery_status: String,
    pub actions_taken: Vec<String>,
    pub message: String,
}

impl PushAnswer {
    fn ignored(message: String) -> PushAnswer {
        PushAnswer {
            status: "ignored",
            ticket_id: None,
            error_type: None,
            recovery_status: "not_needed".to_owned(),
            actions_taken: Vec::new(),
            message,
        }
    }

    fn from_handled(handled: &Handled) -> PushAnswer {
        let (t, existing) = match handled {
            Handled::New(t) => (t, false),
            Handled::Existing(t) => (t, true),
        };
        let message = if existing {
            format!("already handled: ticket {} is {}", t.ticket_id, t.status)
        } else if t.status == "in_progress" {
            initiated(t)
        } else {
            t.note
                .clone()
                .unwrap_or_else(|| "ticket opened, no action".to_owned())
        };
        PushAnswer {
            status: "success",
            ticket_id: Some(t.ticket_id.clone()),
            error_type: Some(t.error_type.clone()),
            recovery_status: recovery_status(t).to_owned(),
            actions_taken: t.planned.clone(),
            message,
        }
    }
}

/// The push answer's `recovery_status` of a ticket.
pub(crate) fn recovery_status(t: &TicketRecord) -> &'static str {
    match t.status.as_str() {
        "in_progress" => "in_progress",
        "closed" => "recovered",
        "failed" => "failed",
        _ if t.hold.as_deref() == Some("breaker_open") => "breaker_open",
        _ => "not_attempted",
    }
}

fn initiated(t: &TicketRecord) -> String {
    let first = t.planned.first().map(String::as_str).unwrap_or("");
    if first == "start_cluster" {
        "Cluster start initiated".to_owned()
    } else if first == "restart_cluster" {
        "Cluster restart initiated".to_owned()
    } else if let Some(change) = first.strip_prefix("restart_with_fallback:") {
        format!("Cluster fallback ({change}) and start initiated")
    } else if let Some(n) = first.strip_prefix("resize_cluster:") {
        format!("Cluster resize to {n} workers initiated")
    } else if let Some(t) = first.strip_prefix("restart_with_longer_timeout:") {
        format!("Cluster start initiated (waiting up to {t} for RUNNING)")
    } else {
        "Recovery initiated".to_owned()
    }
}

async fn push_route<C: Clusters, A: Alerts>(
    State(s): State<HttpState<C, A>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(key) = &s.auth.api_key else {
        return error(StatusCode::NOT_FOUND, "push is not configured");
    };
    let Some(given) = headers.get("x-api-key") else {
        return error(StatusCode::UNAUTHORIZED, "missing api key");
    };
    if !same_secret(key.expose().as_bytes(), given.as_bytes()) {
        return error(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    if !s.monitor.is_active() {
        return standby(&s.monitor);
    }
    let body: PushBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not a cluster event ({{\"event\", \"cluster\": {{\"cluster_id\", \"termination_reason\"}}}}): {e}"
                ),
            );
        }
    };
    if body.event.as_deref() == Some("test") {
        return axum::Json(json!({"status": "ok", "message": "test event received"}))
            .into_response();
    }
    let Some(cluster) = body.cluster else {
        return error(StatusCode::BAD_REQUEST, "the body has no `cluster`");
    };
    let Some(reason) = cluster.termination_reason else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body's cluster has no `termination_reason`",
        );
    };
    let report = Report {
        workspace: None,
        cluster_id: cluster.cluster_id,
        cluster_name: cluster.cluster_name,
        reason,
        terminated_time: cluster.terminated_time,
        source: "push",
    };
    s.monitor.poll_now.notify_one();
    match s.monitor.handle_report(report).await {
        Ok(Reported::Handled(handled)) => {
            axum::Json(PushAnswer::from_handled(&handled)).into_response()
        }
        Ok(Reported::Ignored(why)) => axum::Json(PushAnswer::ignored(why)).into_response(),
        Err(e) => internal(&e),
    }
}

/// What became of a report.
pub(crate) enum Reported {
    /// A failure: a new ticket, or the one it already has (boxed: it is large beside `Ignored`).
    Handled(Box<Handled>),
    /// Nothing to do, and why: an expected termination, or a cluster running again with no
    /// failure in its events (a late or false report must not restart a healthy cluster).
    Ignored(String),
}

/// A failure reported by a push or a job notification.
pub(crate) struct Report {
    /// The workspace, when the source says (job notifications).
    pub workspace: Option<Workspace>,
    pub cluster_id: String,
    pub cluster_name: String,
    pub reason: TerminationReason,
    pub terminated_time: Option<i64>,
    pub source: &'static str,
}

/// How far back a report may match an earlier ticket of the cluster with the same code.
const SAME_FAILURE_MS: i64 = 3_600_000;

impl<C: Clusters, A: Alerts> Monitor<C, A> {
    /// Handles a reported failure as a poll would: finds the workspace that has the cluster,
    /// reads its events after its cursor; when they show nothing new, an earlier ticket of the
    /// cluster for the same code within the hour before its termination is the same failure;
    /// otherwise the report's reason is used with key (workspace or 0, cluster, terminated time
    /// or now).
    pub(crate) async fn handle_report(
        self: &Arc<Self>,
        report: Report,
    ) -> Result<Reported, MonitorError> {
        let located = match &report.workspace {
            Some(ws) => match self.clusters.get(ws, &report.cluster_id).await {
                Ok(Some(c)) => Some((ws.clone(), c)),
                _ => None,
            },
            None => {
                // Unknown only when every workspace says so: a workspace that cannot be asked
                // fails the report (the sender retries) rather than open a ticket in workspace 0.
                let workspaces = self
                    .clusters
                    .workspaces()
                    .await
                    .map_err(MonitorError::Workspaces)?;
                let mut found = None;
                for ws in workspaces {
                    match self.clusters.get(&ws, &report.cluster_id).await {
                        Ok(Some(c)) => {
                            found = Some((ws, c));
                            break;
                        }
                        Ok(None) => {}
                        Err(source) if source.not_found => {}
                        Err(source) => {
                            return Err(MonitorError::Lookup {
                                workspace_id: ws.workspace_id,
                                cluster_id: report.cluster_id.clone(),
                                source,
                            });
                        }
                    }
                }
                found
            }
        };
        let now = now_ms();
        let (workspace_id, cluster) = match &located {
            Some((ws, cluster)) => {
                let (wid, cid) = (ws.workspace_id, cluster.cluster_id.clone());
                let cursor = self
                    .records
                    .call(move |c| records::cursor(c, wid, &cid))
                    .await?;
                let after = match cursor {
                    Some(c) => c,
                    None => self
                        .clusters
                        .server_now_ms(ws)
                        .await
                        .unwrap_or(now)
                        .saturating_sub(self.interval_ms()),
                };
                match self.clusters.events(ws, &cluster.cluster_id, after).await {
                    Ok(events) => {
                        let handled = self
                            .handle_events(ws, cluster, after, events, report.source)
                            .await?;
                        if let Some(last) = handled.into_iter().last() {
                            return Ok(Reported::Handled(Box::new(last)));
                        }
                    }
                    Err(e) => tracing::warn!(cluster = %cluster.cluster_id, error = %e,
                        "monitor: cannot read the events of a reported cluster; using the report"),
                }
                (wid, Some(cluster.clone()))
            }
            None => (0, None),
        };
        if classify(&report.reason) == Classification::Expected {
            return Ok(Reported::Ignored(format!(
                "{} is an expected termination: nothing to do",
                report.reason.code
            )));
        }
        let reference = cluster
            .as_ref()
            .and_then(|c| c.terminated_time)
            .or(report.terminated_time)
            .unwrap_or(now);
        let (cid, code) = (report.cluster_id.clone(), report.reason.code.clone());
        if let Some(existing) = self
            .records
            .call(move |c| {
                records::recent_ticket(
                    c,
                    workspace_id,
                    &cid,
                    &code,
                    reference - SAME_FAILURE_MS,
                    reference,
                )
            })
            .await?
        {
            return Ok(Reported::Handled(Box::new(Handled::Existing(existing))));
        }
        // The cluster runs (or starts) again and its events hold no failure: the report is late
        // or false, and acting on it would restart a healthy cluster.
        if let Some(running) = cluster.as_ref().filter(|c| {
            !matches!(
                c.state.as_str(),
                "TERMINATED" | "TERMINATING" | "ERROR" | "UNKNOWN"
            )
        }) {
            self.audit(
                None,
                "report_ignored",
                json!({"cluster_id": running.cluster_id, "workspace_id": workspace_id,
                       "state": running.state, "code": report.reason.code,
                       "source": report.source, "why": "the cluster is not terminated and its events hold no failure"}),
            )
            .await;
            return Ok(Reported::Ignored(format!(
                "cluster {} is {} and its events show no failure after the last one handled: nothing to recover",
                running.cluster_id, running.state
            )));
        }
        let failure = Failure {
            workspace: located.as_ref().map(|(ws, _)| ws.clone()),
            cluster_name: cluster
                .as_ref()
                .map_or(report.cluster_name.clone(), |c| c.cluster_name.clone()),
            cluster,
            cluster_id: report.cluster_id,
            failure_ts: reference,
            reason: report.reason,
            source: report.source,
        };
        let code = failure.reason.code.clone();
        Ok(match self.handle_failure(failure, None).await? {
            Some(handled) => Reported::Handled(Box::new(handled)),
            None => Reported::Ignored(format!("{code} is an expected termination: nothing to do")),
        })
    }
}

/// A notification destination's job payload; ids as numbers or strings.
#[derive(Debug, Deserialize)]
struct JobBody {
    event_type: String,
    workspace_id: Id,
    run: RunRef,
}

#[derive(Debug, Deserialize)]
struct RunRef {
    run_id: Id,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(i64),
    Text(String),
}

impl Id {
    fn value(&self) -> Option<i64> {
        match self {
            Id::Number(n) => Some(*n),
            Id::Text(s) => s.trim().parse().ok(),
        }
    }
}

fn check_basic(expected: &(String, SecretValue), headers: &HeaderMap) -> Result<(), Response> {
    let unauthorized = |message: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, message);
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"brickstack monitor\""),
        );
        r
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized("missing credentials"));
    };
    let given = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .unwrap_or_default();
    let wanted = format!("{}:{}", expected.0, expected.1.expose());
    if same_secret(wanted.as_bytes(), &given) {
        Ok(())
    } else {
        Err(unauthorized("invalid credentials"))
    }
}

async fn jobs_route<C: Clusters, A: Alerts>(
    State(s): State<HttpState<C, A>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(expected) = &s.auth.job_webhook else {
        return error(
            StatusCode::NOT_FOUND,
            "job notifications are not configured",
        );
    };
    if let Err(refusal) = check_basic(expected, &headers) {
        return refusal;
    }
    if !s.monitor.is_active() {
        return standby(&s.monitor);
    }
    let body: JobBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not a job notification ({{\"event_type\", \"workspace_id\", \"run\": {{\"run_id\"}}}}): {e}"
                ),
            );
        }
    };
    let (Some(workspace_id), Some(run_id)) = (body.workspace_id.value(), body.run.run_id.value())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "workspace_id and run.run_id must be integers",
        );
    };
    match s
        .monitor
        .handle_job(body.event_type, workspace_id, run_id)
        .await
    {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(JobError::Api(message)) => error(StatusCode::BAD_GATEWAY, message),
        Err(JobError::Monitor(e)) => internal(&e),
    }
}

pub(crate) enum JobError {
    /// A workspace call failed: the sender should retry.
    Api(String),
    Monitor(MonitorError),
}

impl From<MonitorError> for JobError {
    fn from(e: MonitorError) -> Self {
        JobError::Monitor(e)
    }
}

impl<C: Clusters, A: Alerts> Monitor<C, A> {
    /// A job-failure notification: `jobs/runs/get` → the run's clusters → their termination
    /// reasons. A failure reason is a cluster failure, handled as a push for that cluster;
    /// otherwise it is a code failure, audited only. Idempotent on `(run_id, event_type)`.
    pub(crate) async fn handle_job(
        self: &Arc<Self>,
        event_type: String,
        workspace_id: i64,
        run_id: i64,
    ) -> Result<serde_json::Value, JobError> {
        let et = event_type.clone();
        if let Some(outcome) = self
            .records
            .call(move |c| records::notification_seen(c, run_id, &et))
            .await?
        {
            return Ok(json!({"status": "duplicate", "run_id": run_id,
                             "message": format!("already handled: {outcome}")}));
        }
        if event_type != "jobs.on_failure" {
            self.audit(
                None,
                "job_notification_ignored",
                json!({"run_id": run_id, "event_type": event_type}),
            )
            .await;
            return Ok(json!({"status": "ignored", "run_id": run_id,
                             "message": format!("{event_type} is not a failure notification")}));
        }
        let workspaces = self
            .clusters
            .workspaces()
            .await
            .map_err(|e| JobError::Api(format!("listing the environment's workspaces: {e}")))?;
        let Some(workspace) = workspaces
            .into_iter()
            .find(|w| w.workspace_id == workspace_id)
        else {
            self.audit(None, "job_notification_ignored",
                json!({"run_id": run_id, "workspace_id": workspace_id, "why": "workspace not in the environment"}))
                .await;
            return Ok(json!({"status": "ignored", "run_id": run_id,
                             "message": format!("workspace {workspace_id} is not in the environment")}));
        };
        let run = self
            .clusters
            .run(&workspace, run_id)
            .await
            .map_err(|e| JobError::Api(format!("jobs/runs/get {run_id}: {e}")))?;
        let Some(run) = run else {
            self.audit(
                None,
                "job_notification_ignored",
                json!({"run_id": run_id, "workspace_id": workspace_id, "why": "run not found"}),
            )
            .await;
            return Ok(json!({"status": "ignored", "run_id": run_id,
                             "message": format!("run {run_id} not found in workspace {workspace_id}")}));
        };
        let mut answers = Vec::new();
        let mut reasons = Vec::new();
        for cluster_id in &run.cluster_ids {
            let cluster = self
                .clusters
                .get(&workspace, cluster_id)
                .await
                .map_err(|e| JobError::Api(format!("clusters/get {cluster_id}: {e}")))?;
            let Some(cluster) = cluster else { continue };
            let Some(reason) = cluster.termination_reason.clone() else {
                continue;
            };
            reasons
                .push(json!({"cluster_id": cluster_id, "code": reason.code, "type": reason.kind}));
            if classify(&reason) == Classification::Expected {
                continue;
            }
            let report = Report {
                workspace: Some(workspace.clone()),
                cluster_id: cluster.cluster_id.clone(),
                cluster_name: cluster.cluster_name.clone(),
                reason,
                terminated_time: cluster.terminated_time,
                source: "jobs",
            };
            if let Reported::Handled(handled) = self.handle_report(report).await? {
                let mut answer =
                    serde_json::to_value(PushAnswer::from_handled(&handled)).unwrap_or_default();
                answer["cluster_id"] = json!(cluster_id);
                answers.push(answer);
            }
        }
        let (outcome, answer) = if answers.is_empty() {
            self.audit(
                None,
                "code_failure",
                json!({"run_id": run_id, "job_id": run.job_id, "run_name": run.run_name,
                       "workspace_id": workspace_id, "termination_code": run.termination_code,
                       "termination_type": run.termination_type, "clusters": reasons}),
            )
            .await;
            (
                "code_failure".to_owned(),
                json!({"status": "code_failure", "run_id": run_id,
                       "message": format!("the run failed in its code ({}): no cluster failure, no ticket",
                                          run.termination_code.as_deref().unwrap_or("no termination code"))}),
            )
        } else {
            let tickets: Vec<String> = answers
                .iter()
                .filter_map(|a| a["ticket_id"].as_str().map(str::to_owned))
                .collect();
            self.audit(
                None,
                "job_cluster_failure",
                json!({"run_id": run_id, "tickets": tickets}),
            )
            .await;
            (
                format!("cluster failure: {}", tickets.join(", ")),
                json!({"status": "success", "run_id": run_id, "cluster_failures": answers,
                       "message": "the run failed because its cluster failed"}),
            )
        };
        let et = event_type.clone();
        let at = now_ms();
        self.records
            .call(move |c| records::mark_notification(c, run_id, &et, at, &outcome))
            .await?;
        Ok(answer)
    }
}
