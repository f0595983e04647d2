//! Global init scripts (`/api/2.0/global-init-scripts[/{script_id}]`), admin-only.
//!
//! `script` is base64 (at most 64 KB decoded); positions are 0-based and kept contiguous (a new
//! script without `position`, or with one past the end, goes last; others shift). The list omits
//! script bodies. Choices where the vendor is silent: `script_id` is 16 upper-case hex digits;
//! PATCH takes the full `{name, script, enabled, position}` (name and script required, as the
//! vendor's update does); an unknown id is `404 RESOURCE_DOES_NOT_EXIST`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, WorkspaceData, empty};
use crate::error::{ApiError, parse_json, required};
use crate::ids::hex;
use crate::server::AppState;

const MAX_SCRIPT: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct GlobalInitScript {
    pub script_id: String,
    pub name: String,
    /// Base64, as sent.
    pub script: String,
    pub enabled: bool,
    pub position: usize,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl GlobalInitScript {
    fn to_json(&self, with_body: bool) -> Value {
        let mut v = json!({
            "script_id": self.script_id,
            "name": self.name,
            "enabled": self.enabled,
            "position": self.position,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        });
        if with_body {
            v["script"] = json!(self.script);
        }
        v
    }
}

#[derive(Deserialize)]
struct ScriptRequest {
    name: Option<String>,
    script: Option<String>,
    #[serde(default)]
    enabled: bool,
    position: Option<i64>,
}

#[derive(Deserialize)]
struct IdParam {
    script_id: String,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/global-init-scripts", get(list).post(create))
        .route(
            "/api/2.0/global-init-scripts/{script_id}",
            get(read).patch(update).delete(remove),
        )
}

fn check(req: &ScriptRequest) -> Result<(String, String), ApiError> {
    let name = required(&req.name, "name")?.to_string();
    let script = required(&req.script, "script")?.to_string();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&script)
        .map_err(|e| ApiError::invalid(format!("script is not valid base64: {e}")))?;
    if decoded.len() > MAX_SCRIPT {
        return Err(ApiError::invalid(format!(
            "script is {} bytes; the limit is {MAX_SCRIPT}",
            decoded.len()
        )));
    }
    if req.position.is_some_and(|p| p < 0) {
        return Err(ApiError::invalid("position must not be negative"));
    }
    Ok((name, script))
}

/// Puts `id` at `position` (clamped to the end) and renumbers all scripts 0, 1, 2, …
fn place(data: &mut WorkspaceData, id: &str, position: Option<i64>) {
    let mut order: Vec<String> = {
        let mut all: Vec<&GlobalInitScript> = data
            .init_scripts
            .values()
            .filter(|s| s.script_id != id)
            .collect();
        all.sort_by_key(|s| s.position);
        all.into_iter().map(|s| s.script_id.clone()).collect()
    };
    let at = position
        .map(|p| (p as usize).min(order.len()))
        .unwrap_or(order.len());
    order.insert(at, id.to_string());
    for (i, sid) in order.iter().enumerate() {
        if let Some(s) = data.init_scripts.get_mut(sid) {
            s.position = i;
        }
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Global init script {id} does not exist"))
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ScriptRequest = parse_json(&body)?;
    let (name, script) = check(&req)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let id = hex(16).to_uppercase();
    data.init_scripts.insert(
        id.clone(),
        GlobalInitScript {
            script_id: id.clone(),
            name,
            script,
            enabled: req.enabled,
            position: usize::MAX,
            created_at: now,
            created_by: ctx.caller.name.clone(),
            updated_at: now,
            updated_by: ctx.caller.name.clone(),
        },
    );
    place(data, &id, req.position);
    Ok(Json(json!({ "script_id": id })))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let mut all: Vec<&GlobalInitScript> = data.init_scripts.values().collect();
    all.sort_by_key(|s| s.position);
    let scripts: Vec<Value> = all.iter().map(|s| s.to_json(false)).collect();
    Ok(Json(json!({ "scripts": scripts })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let script = data
        .init_scripts
        .get(&p.script_id)
        .ok_or_else(|| not_found(&p.script_id))?;
    Ok(Json(script.to_json(true)))
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ScriptRequest = parse_json(&body)?;
    let (name, script) = check(&req)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let s = data
        .init_scripts
        .get_mut(&p.script_id)
        .ok_or_else(|| not_found(&p.script_id))?;
    s.name = name;
    s.script = script;
    s.enabled = req.enabled;
    s.updated_at = now;
    s.updated_by = ctx.caller.name.clone();
    let position = req.position.or(Some(s.position as i64));
    place(data, &p.script_id, position);
    Ok(empty())
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    data.init_scripts
        .shift_remove(&p.script_id)
        .ok_or_else(|| not_found(&p.script_id))?;
    let mut all: Vec<(usize, String)> = data
        .init_scripts
        .values()
        .map(|s| (s.position, s.script_id.clone()))
        .collect();
    all.sort();
    for (i, (_, id)) in all.iter().enumerate() {
        if let Some(s) = data.init_scripts.get_mut(id) {
            s.position = i;
        }
    }
    Ok(empty())
}
