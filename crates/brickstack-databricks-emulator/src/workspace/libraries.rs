//! Cluster libraries (`/api/2.0/libraries/install|uninstall|cluster-status|all-cluster-statuses`).
//!
//! Statuses follow the emulator clock, computed when read: on a running cluster a library is
//! `PENDING`, then `INSTALLING`, then `INSTALLED` (or `FAILED`), each step lasting
//! [`library_install_delay`](crate::DatabricksEmulatorConfig::library_install_delay) from the
//! later of the install request and the cluster reaching `RUNNING`; on a cluster that is not
//! running it stays `PENDING` until the next start. An install attempt is settled once, when a
//! read first finds it finished: it is `FAILED` (with the vendor's `messages`) if a
//! library-failure rule (`/_emulator/library-failures`) matched it then or at any read during
//! the attempt. A restart or start begins a new attempt for every library, so a `FAILED` one
//! installs again, as Databricks reinstalls cluster libraries on restart. Uninstalling marks a
//! library `UNINSTALL_ON_RESTART`; it goes at the next restart or termination (uninstalling one
//! not installed is ignored). A library is exactly one of `pypi`, `maven`, `cran`, `jar`, `whl`,
//! `egg`, `requirements`, else `400 INVALID_PARAMETER_VALUE`. A missing cluster is `400
//! INVALID_PARAMETER_VALUE "Cluster <id> does not exist"`, as the clusters API answers.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::WorkspaceData;
use super::clusters::{Cluster, advance_all, cluster_mut};
use super::{Ctx, empty, query_param};
use crate::clock::ms;
use crate::controls::LibraryFailureRule;
use crate::error::{ApiError, parse_json, required};
use crate::server::{AppState, DatabricksEmulatorConfig};

const KINDS: &[&str] = &["pypi", "maven", "cran", "jar", "whl", "egg", "requirements"];

#[derive(Debug, Clone)]
pub(crate) struct LibraryEntry {
    pub library: Value,
    pub requested_at: i64,
    pub uninstall: bool,
    /// The current install attempt: when it began, and the failure a rule has doomed it to.
    attempt: Option<(i64, Option<String>)>,
    /// The settled outcome of the attempt that began at `.0`: `None` installed, else the message.
    settled: Option<(i64, Option<String>)>,
}

impl LibraryEntry {
    pub fn new(library: Value, requested_at: i64) -> Self {
        LibraryEntry {
            library,
            requested_at,
            uninstall: false,
            attempt: None,
            settled: None,
        }
    }
}

/// Brings every library of a cluster up to date at `now` (the cluster itself already is): marks
/// attempts a failure rule matches, and settles attempts that have finished.
pub(crate) fn settle(
    cluster: &mut Cluster,
    rules: &[LibraryFailureRule],
    workspace_id: i64,
    config: &DatabricksEmulatorConfig,
    now: i64,
) {
    let Some(up) = cluster.running_since else {
        return;
    };
    let step = ms(config.library_install_delay);
    let cluster_id = cluster.cluster_id.clone();
    for entry in cluster.libraries.iter_mut().filter(|l| !l.uninstall) {
        let start = entry.requested_at.max(up);
        if now < start {
            continue;
        }
        if entry.settled.as_ref().is_some_and(|(at, _)| *at == start) {
            continue;
        }
        if entry.attempt.as_ref().is_none_or(|(at, _)| *at != start) {
            entry.attempt = Some((start, None));
        }
        let failure = rules
            .iter()
            .find_map(|r| r.fails(workspace_id, &cluster_id, &entry.library));
        if let (Some((_, doomed)), Some(message)) = (entry.attempt.as_mut(), failure)
            && doomed.is_none()
        {
            *doomed = Some(message);
        }
        if now - start >= 2 * step {
            let outcome = entry.attempt.take().and_then(|(_, doomed)| doomed);
            entry.settled = Some((start, outcome));
        }
    }
}

#[derive(Deserialize)]
struct Request {
    cluster_id: Option<String>,
    #[serde(default)]
    libraries: Vec<Value>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/libraries/install", post(install))
        .route("/api/2.0/libraries/uninstall", post(uninstall))
        .route("/api/2.0/libraries/cluster-status", get(cluster_status))
        .route("/api/2.0/libraries/all-cluster-statuses", get(all_statuses))
}

fn check(library: &Value) -> Result<(), ApiError> {
    let kinds: Vec<&String> = library
        .as_object()
        .map(|o| o.keys().filter(|k| KINDS.contains(&k.as_str())).collect())
        .unwrap_or_default();
    if kinds.len() != 1 {
        return Err(ApiError::invalid(format!(
            "A library needs exactly one of {}: {library}",
            KINDS.join(", ")
        )));
    }
    Ok(())
}

/// The status and `messages` of a library whose cluster has been [`settle`]d at `now`.
pub(crate) fn status(
    entry: &LibraryEntry,
    cluster: &Cluster,
    config: &DatabricksEmulatorConfig,
    now: i64,
) -> (&'static str, Option<String>) {
    if entry.uninstall {
        return ("UNINSTALL_ON_RESTART", None);
    }
    let Some(up) = cluster.running_since else {
        return ("PENDING", None);
    };
    let start = entry.requested_at.max(up);
    if let Some((at, outcome)) = &entry.settled
        && *at == start
    {
        return match outcome {
            None => ("INSTALLED", None),
            Some(message) => ("FAILED", Some(message.clone())),
        };
    }
    let step = ms(config.library_install_delay);
    if now - start < step {
        ("PENDING", None)
    } else {
        ("INSTALLING", None)
    }
}

/// Brings every cluster of the workspace and its libraries up to date.
pub(crate) fn settle_all(
    data: &mut WorkspaceData,
    rules: &[LibraryFailureRule],
    config: &DatabricksEmulatorConfig,
    now: i64,
) {
    advance_all(data, config, now);
    let workspace_id = data.workspace_id;
    for c in data.clusters.values_mut() {
        settle(c, rules, workspace_id, config, now);
    }
}

fn statuses(cluster: &Cluster, config: &DatabricksEmulatorConfig, now: i64) -> Value {
    let items: Vec<Value> = cluster
        .libraries
        .iter()
        .map(|l| {
            let (status, message) = status(l, cluster, config, now);
            let mut item = json!({
                "library": l.library,
                "status": status,
                "is_library_for_all_clusters": false,
            });
            if let Some(m) = message {
                item["messages"] = json!([m]);
            }
            item
        })
        .collect();
    json!({ "cluster_id": cluster.cluster_id, "library_statuses": items })
}

async fn install(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Request = parse_json(&body)?;
    let id = required(&req.cluster_id, "cluster_id")?.to_string();
    for l in &req.libraries {
        check(l)?;
    }
    let now = app.now_ms();
    let mut state = app.lock();
    let rules = state.library_failures.clone();
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    for library in req.libraries {
        match c.libraries.iter_mut().find(|l| l.library == library) {
            Some(existing) => existing.uninstall = false,
            None => c.libraries.push(LibraryEntry::new(library, now)),
        }
    }
    c.touch(now);
    settle(c, &rules, ctx.workspace_id, app.config(), now);
    Ok(empty())
}

async fn uninstall(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Request = parse_json(&body)?;
    let id = required(&req.cluster_id, "cluster_id")?.to_string();
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    for library in &req.libraries {
        if let Some(existing) = c.libraries.iter_mut().find(|l| l.library == *library) {
            existing.uninstall = true;
        }
    }
    Ok(empty())
}

async fn cluster_status(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let id = query_param(&q, "cluster_id")?.to_string();
    let now = app.now_ms();
    let mut state = app.lock();
    let rules = state.library_failures.clone();
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    settle(c, &rules, ctx.workspace_id, app.config(), now);
    Ok(Json(statuses(c, app.config(), now)))
}

async fn all_statuses(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let now = app.now_ms();
    let mut state = app.lock();
    let rules = state.library_failures.clone();
    let data = ctx.data(&mut state)?;
    settle_all(data, &rules, app.config(), now);
    let all: Vec<Value> = data
        .clusters
        .values()
        .filter(|c| !c.libraries.is_empty())
        .map(|c| statuses(c, app.config(), now))
        .collect();
    Ok(Json(json!({ "statuses": all })))
}
