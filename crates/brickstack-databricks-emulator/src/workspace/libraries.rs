//! Cluster libraries (`/api/2.0/libraries/install|uninstall|cluster-status|all-cluster-statuses`).
//!
//! Statuses follow the emulator clock: on a running cluster a library is `PENDING`, then
//! `INSTALLING`, then `INSTALLED`, each step lasting
//! [`library_install_delay`](crate::DatabricksEmulatorConfig::library_install_delay) from the
//! later of the install request and the cluster reaching `RUNNING`; on a cluster that is not
//! running it stays `PENDING` until the next start. Uninstalling marks it `UNINSTALL_ON_RESTART`;
//! it goes at the next restart or termination (uninstalling one not installed is ignored). A
//! library is exactly one of `pypi`, `maven`, `cran`, `jar`, `whl`, `egg`, `requirements`. A
//! missing cluster is `400 INVALID_PARAMETER_VALUE`, as the clusters API answers.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::clusters::{Cluster, advance_all, cluster_mut};
use super::{Ctx, empty, query_param};
use crate::clock::ms;
use crate::error::{ApiError, parse_json, required};
use crate::server::{AppState, DatabricksEmulatorConfig};

const KINDS: &[&str] = &["pypi", "maven", "cran", "jar", "whl", "egg", "requirements"];

#[derive(Debug, Clone)]
pub(crate) struct LibraryEntry {
    pub library: Value,
    pub requested_at: i64,
    pub uninstall: bool,
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

fn status(
    entry: &LibraryEntry,
    cluster: &Cluster,
    config: &DatabricksEmulatorConfig,
    now: i64,
) -> &'static str {
    if entry.uninstall {
        return "UNINSTALL_ON_RESTART";
    }
    let Some(up) = cluster.running_since else {
        return "PENDING";
    };
    let step = ms(config.library_install_delay);
    let elapsed = now - entry.requested_at.max(up);
    if elapsed < step {
        "PENDING"
    } else if elapsed < 2 * step {
        "INSTALLING"
    } else {
        "INSTALLED"
    }
}

fn statuses(cluster: &Cluster, config: &DatabricksEmulatorConfig, now: i64) -> Value {
    let items: Vec<Value> = cluster
        .libraries
        .iter()
        .map(|l| {
            json!({
                "library": l.library,
                "status": status(l, cluster, config, now),
                "is_library_for_all_clusters": false,
            })
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
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    for library in req.libraries {
        match c.libraries.iter_mut().find(|l| l.library == library) {
            Some(existing) => existing.uninstall = false,
            None => c.libraries.push(LibraryEntry {
                library,
                requested_at: now,
                uninstall: false,
            }),
        }
    }
    c.touch(now);
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
    let data = ctx.data(&mut state)?;
    let c = cluster_mut(data, &id, app.config(), now)?;
    Ok(Json(statuses(c, app.config(), now)))
}

async fn all_statuses(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    advance_all(data, app.config(), now);
    let all: Vec<Value> = data
        .clusters
        .values()
        .filter(|c| !c.libraries.is_empty())
        .map(|c| statuses(c, app.config(), now))
        .collect();
    Ok(Json(json!({ "statuses": all })))
}
