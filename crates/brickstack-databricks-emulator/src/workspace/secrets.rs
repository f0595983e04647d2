//! Secrets (`/api/2.0/secrets/...`): scopes create/delete/list, secrets put/delete/list, ACLs
//! put/delete/get/list.
//!
//! Scope names and keys are `[A-Za-z0-9_.-]`, at most 128 characters; the scope's creator gets
//! `MANAGE` (or the `users` group with `initial_manage_principal: "users"`); an ACL principal
//! must be a user name, a group display name or a service principal's applicationId; permissions
//! are `MANAGE`, `WRITE`, `READ`. Writes need `WRITE`/`MANAGE` on the scope, ACL calls `MANAGE`
//! (admins always may). Duplicates are `400 RESOURCE_ALREADY_EXISTS`; unknown scopes, keys and
//! ACLs `404 RESOURCE_DOES_NOT_EXIST`. Values are never returned (`secrets/get` is dbutils-only).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, WorkspaceData, empty, query_param};
use crate::error::{ApiError, parse_json, required};
use crate::server::AppState;

const MAX_VALUE: usize = 128 * 1024;
const LEVELS: &[&str] = &["READ", "WRITE", "MANAGE"];

#[derive(Debug, Clone)]
pub(crate) struct SecretScope {
    pub name: String,
    /// Key → (value bytes, last update).
    pub secrets: IndexMap<String, (Vec<u8>, i64)>,
    /// Principal → permission.
    pub acls: IndexMap<String, String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/secrets/scopes/create", post(create_scope))
        .route("/api/2.0/secrets/scopes/delete", post(delete_scope))
        .route("/api/2.0/secrets/scopes/list", get(list_scopes))
        .route("/api/2.0/secrets/put", post(put_secret))
        .route("/api/2.0/secrets/delete", post(delete_secret))
        .route("/api/2.0/secrets/list", get(list_secrets))
        .route("/api/2.0/secrets/acls/put", post(put_acl))
        .route("/api/2.0/secrets/acls/delete", post(delete_acl))
        .route("/api/2.0/secrets/acls/get", get(get_acl))
        .route("/api/2.0/secrets/acls/list", get(list_acls))
}

#[derive(Deserialize)]
struct Req {
    scope: Option<String>,
    key: Option<String>,
    string_value: Option<String>,
    bytes_value: Option<String>,
    principal: Option<String>,
    permission: Option<String>,
    initial_manage_principal: Option<String>,
    scope_backend_type: Option<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

fn scope_not_found(scope: &str) -> ApiError {
    ApiError::not_found(format!("Scope {scope} does not exist!"))
}

/// The caller's permission level on `scope` (admins: `MANAGE`).
fn level(data: &WorkspaceData, ctx: &Ctx, scope: &SecretScope) -> usize {
    if data.is_admin(&ctx.caller) {
        return 3;
    }
    scope
        .acls
        .iter()
        .filter(|(principal, _)| {
            **principal == ctx.caller.name || data.directory.is_member(&ctx.caller.name, principal)
        })
        .filter_map(|(_, p)| LEVELS.iter().position(|l| l == p).map(|i| i + 1))
        .max()
        .unwrap_or(0)
}

/// The scope, if the caller holds at least `needed` on it.
fn scope_for<'a>(
    data: &'a mut WorkspaceData,
    ctx: &Ctx,
    name: &str,
    needed: &str,
) -> Result<&'a mut SecretScope, ApiError> {
    let scope = data
        .secret_scopes
        .get(name)
        .ok_or_else(|| scope_not_found(name))?;
    let need = LEVELS.iter().position(|l| *l == needed).unwrap_or(2) + 1;
    if level(data, ctx, scope) < need {
        return Err(ApiError::permission_denied(format!(
            "{} needs {needed} on scope {name}",
            ctx.caller.name
        )));
    }
    data.secret_scopes
        .get_mut(name)
        .ok_or_else(|| scope_not_found(name))
}

async fn create_scope(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Req = parse_json(&body)?;
    let name = required(&req.scope, "scope")?.to_string();
    if !valid_name(&name) {
        return Err(ApiError::invalid(format!(
            "Invalid scope name {name}: use letters, digits, '-', '_' and '.', at most 128 characters"
        )));
    }
    if let Some(p) = &req.initial_manage_principal
        && p != "users"
    {
        return Err(ApiError::invalid(
            "initial_manage_principal only accepts `users`",
        ));
    }
    if let Some(t) = &req.scope_backend_type
        && t != "DATABRICKS"
    {
        return Err(ApiError::invalid(format!(
            "scope_backend_type {t} is not supported on AWS; use DATABRICKS"
        )));
    }
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    if data.secret_scopes.contains_key(&name) {
        return Err(ApiError::already_exists_400(format!(
            "Scope {name} already exists!"
        )));
    }
    let manager = if req.initial_manage_principal.is_some() {
        "users".to_string()
    } else {
        ctx.caller.name.clone()
    };
    data.secret_scopes.insert(
        name.clone(),
        SecretScope {
            name,
            secrets: IndexMap::new(),
            acls: IndexMap::from([(manager, "MANAGE".to_string())]),
        },
    );
    Ok(empty())
}

async fn delete_scope(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Req = parse_json(&body)?;
    let name = required(&req.scope, "scope")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    scope_for(data, &ctx, &name, "MANAGE")?;
    data.secret_scopes.shift_remove(&name);
    Ok(empty())
}

async fn list_scopes(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let scopes: Vec<Value> = data
        .secret_scopes
        .keys()
        .map(|n| json!({"name": n, "backend_type": "DATABRICKS"}))
        .collect();
    Ok(Json(json!({ "scopes": scopes })))
}

async fn put_secret(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    use base64::Engine;
    let req: Req = parse_json(&body)?;
    let scope = required(&req.scope, "scope")?.to_string();
    let key = required(&req.key, "key")?.to_string();
    if !valid_name(&key) {
        return Err(ApiError::invalid(format!("Invalid key {key}")));
    }
    let value = match (req.string_value, req.bytes_value) {
        (Some(s), None) => s.into_bytes(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| ApiError::invalid(format!("bytes_value is not valid base64: {e}")))?,
        _ => {
            return Err(ApiError::invalid(
                "Exactly one of string_value and bytes_value is required",
            ));
        }
    };
    if value.len() > MAX_VALUE {
        return Err(ApiError::invalid("A secret value may be at most 128 KB"));
    }
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let s = scope_for(data, &ctx, &scope, "WRITE")?;
    s.secrets.insert(key, (value, now));
    Ok(empty())
}

async fn delete_secret(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Req = parse_json(&body)?;
    let scope = required(&req.scope, "scope")?.to_string();
    let key = required(&req.key, "key")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let s = scope_for(data, &ctx, &scope, "WRITE")?;
    s.secrets.shift_remove(&key).ok_or_else(|| {
        ApiError::not_found(format!("Secret {key} does not exist in scope {scope}"))
    })?;
    Ok(empty())
}

async fn list_secrets(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let scope = query_param(&q, "scope")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let s = scope_for(data, &ctx, &scope, "READ")?;
    let secrets: Vec<Value> = s
        .secrets
        .iter()
        .map(|(k, (_, t))| json!({"key": k, "last_updated_timestamp": t}))
        .collect();
    Ok(Json(json!({ "secrets": secrets })))
}

async fn put_acl(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Req = parse_json(&body)?;
    let scope = required(&req.scope, "scope")?.to_string();
    let principal = required(&req.principal, "principal")?.to_string();
    let permission = required(&req.permission, "permission")?.to_string();
    if !LEVELS.contains(&permission.as_str()) {
        return Err(ApiError::invalid(format!(
            "Invalid permission {permission}; expected MANAGE, WRITE or READ"
        )));
    }
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    if !data.directory.principal_exists(&principal) {
        return Err(ApiError::invalid(format!(
            "Principal {principal} does not exist (expected a user name, group name or service principal applicationId)"
        )));
    }
    let s = scope_for(data, &ctx, &scope, "MANAGE")?;
    s.acls.insert(principal, permission);
    Ok(empty())
}

async fn delete_acl(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Req = parse_json(&body)?;
    let scope = required(&req.scope, "scope")?.to_string();
    let principal = required(&req.principal, "principal")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let s = scope_for(data, &ctx, &scope, "MANAGE")?;
    s.acls
        .shift_remove(&principal)
        .ok_or_else(|| acl_not_found(&scope, &principal))?;
    Ok(empty())
}

fn acl_not_found(scope: &str, principal: &str) -> ApiError {
    ApiError::not_found(format!("No ACL for {principal} on scope {scope}"))
}

async fn get_acl(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let scope = query_param(&q, "scope")?.to_string();
    let principal = query_param(&q, "principal")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let s = scope_for(data, &ctx, &scope, "MANAGE")?;
    let permission = s
        .acls
        .get(&principal)
        .ok_or_else(|| acl_not_found(&scope, &principal))?;
    Ok(Json(
        json!({"principal": principal, "permission": permission}),
    ))
}

async fn list_acls(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let scope = query_param(&q, "scope")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let s = scope_for(data, &ctx, &scope, "MANAGE")?;
    let items: Vec<Value> = s
        .acls
        .iter()
        .map(|(p, l)| json!({"principal": p, "permission": l}))
        .collect();
    Ok(Json(json!({ "items": items })))
}
