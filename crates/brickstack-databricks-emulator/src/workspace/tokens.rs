//! Personal access tokens (`/api/2.0/token/create|list|delete`) and token management
//! (`/api/2.0/token-management/on-behalf-of/tokens`, `/api/2.0/token-management/tokens[/{id}]`).
//!
//! Values are `dapi` + 32 hex digits; `token_id` is 64 hex digits; times are epoch milliseconds
//! of the emulator clock; no lifetime gives `expiry_time: -1` unless workspace-conf
//! `maxTokenLifetimeDays` is set, which then is the lifetime. Choices where the vendor is silent:
//! a lifetime above `maxTokenLifetimeDays` is `400 INVALID_PARAMETER_VALUE`; `enableTokensConfig
//! = "false"` refuses new tokens with `403 PERMISSION_DENIED`; creating a token needs `CAN_USE`
//! on `authorization/tokens` (or admin); token management needs an admin; an on-behalf-of token's
//! `application_id` must be a workspace service principal (`400` otherwise) that is an admin or
//! has `CAN_USE` (`403` otherwise). An expired token no longer authenticates but is still listed
//! and read, as the vendor's backend does until it is revoked ("The backend still returns a token
//! if it's expired", terraform-provider-databricks#4428): clients judge expiry by `expiry_time`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, Ctx, WorkspaceData, empty};
use crate::error::{ApiError, parse_json, required};
use crate::ids::hex;
use crate::server::AppState;

/// A PAT or on-behalf-of token.
#[derive(Debug, Clone)]
pub(crate) struct Pat {
    pub token_id: String,
    pub value: String,
    pub comment: Option<String>,
    pub creation_time: i64,
    /// -1 = never.
    pub expiry_time: i64,
    /// Who the token acts as: an applicationId or userName.
    pub owner: String,
    pub created_by: String,
}

impl Pat {
    pub fn expired(&self, now: i64) -> bool {
        self.expiry_time != -1 && self.expiry_time <= now
    }

    fn public_info(&self) -> Value {
        let mut v = json!({
            "token_id": self.token_id,
            "creation_time": self.creation_time,
            "expiry_time": self.expiry_time,
        });
        if let Some(c) = &self.comment {
            v["comment"] = json!(c);
        }
        v
    }

    fn management_info(&self, data: &WorkspaceData) -> Value {
        let id_of = |name: &str| {
            data.directory
                .id_of(name)
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let mut v = self.public_info();
        v["owner_id"] = json!(id_of(&self.owner));
        v["created_by_id"] = json!(id_of(&self.created_by));
        v["created_by_username"] = json!(self.created_by);
        v["workspace_id"] = json!(data.workspace_id);
        v
    }
}

#[derive(Deserialize)]
struct CreateRequest {
    lifetime_seconds: Option<i64>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct OboRequest {
    application_id: Option<String>,
    lifetime_seconds: Option<i64>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct DeleteRequest {
    token_id: Option<String>,
}

#[derive(Deserialize)]
struct TokenIdParam {
    token_id: String,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/token/create", post(create))
        .route("/api/2.0/token/list", get(list))
        .route("/api/2.0/token/delete", post(delete))
        .route(
            "/api/2.0/token-management/on-behalf-of/tokens",
            post(create_obo),
        )
        .route("/api/2.0/token-management/tokens", get(list_all))
        .route(
            "/api/2.0/token-management/tokens/{token_id}",
            get(read).delete(revoke),
        )
}

/// Whether `name` may use tokens: an admin, or `CAN_USE`/`CAN_MANAGE` on `authorization/tokens`
/// directly or through a group.
fn may_use_tokens(data: &WorkspaceData, name: &str, admin_client: bool) -> bool {
    admin_client
        || data.directory.is_admin(name)
        || super::permissions::has_level(
            data,
            "authorization/tokens",
            name,
            &["CAN_USE", "CAN_MANAGE"],
        )
}

/// Checks workspace-conf and the lifetime, and mints a token for `owner`.
fn mint(
    data: &mut WorkspaceData,
    owner: &str,
    created_by: &Caller,
    lifetime_seconds: Option<i64>,
    comment: Option<String>,
    now: i64,
) -> Result<Pat, ApiError> {
    if data.conf.get("enableTokensConfig").map(String::as_str) == Some("false") {
        return Err(ApiError::permission_denied(
            "Personal access tokens are disabled in this workspace (enableTokensConfig)",
        ));
    }
    let max_seconds = data
        .conf
        .get("maxTokenLifetimeDays")
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| *d > 0)
        .map(|d| d * 86_400);
    let lifetime = match (lifetime_seconds.filter(|l| *l > 0), max_seconds) {
        (Some(l), Some(max)) if l > max => {
            return Err(ApiError::invalid(format!(
                "Token lifetime {l}s exceeds the workspace maximum of {max}s (maxTokenLifetimeDays)"
            )));
        }
        (Some(l), _) => Some(l),
        (None, max) => max,
    };
    if lifetime_seconds.is_some_and(|l| l == 0) {
        return Err(ApiError::invalid("lifetime_seconds must be positive"));
    }
    let pat = Pat {
        token_id: hex(64),
        value: format!("dapi{}", hex(32)),
        comment,
        creation_time: now,
        expiry_time: lifetime.map_or(-1, |l| now + l * 1000),
        owner: owner.to_string(),
        created_by: created_by.name.clone(),
    };
    data.tokens.insert(pat.token_id.clone(), pat.clone());
    Ok(pat)
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    if !may_use_tokens(data, &ctx.caller.name, ctx.caller.admin_client) {
        return Err(ApiError::permission_denied(format!(
            "{} does not have CAN_USE on authorization/tokens",
            ctx.caller.name
        )));
    }
    let pat = mint(
        data,
        &ctx.caller.name,
        &ctx.caller,
        req.lifetime_seconds,
        req.comment,
        now,
    )?;
    let (account_id, workspace_id) = (data.account_id.clone(), data.workspace_id);
    state.record_minted(
        "personal_access_token",
        &pat.value,
        Some(account_id),
        Some(workspace_id),
        now,
    );
    Ok(Json(json!({
        "token_value": pat.value,
        "token_info": pat.public_info(),
    })))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let infos: Vec<Value> = data
        .tokens
        .values()
        .filter(|t| t.owner == ctx.caller.name)
        .map(Pat::public_info)
        .collect();
    Ok(Json(json!({ "token_infos": infos })))
}

async fn delete(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: DeleteRequest = parse_json(&body)?;
    let id = required(&req.token_id, "token_id")?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    match data.tokens.get(id) {
        Some(t) if t.owner == ctx.caller.name => {
            data.tokens.shift_remove(id);
            Ok(empty())
        }
        _ => Err(not_found(id)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Token with ID {id} does not exist"))
}

async fn create_obo(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: OboRequest = parse_json(&body)?;
    let application_id = required(&req.application_id, "application_id")?.to_string();
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    if !data.directory.service_principal_exists(&application_id) {
        return Err(ApiError::invalid(format!(
            "Service principal with application ID {application_id} does not exist in this workspace"
        )));
    }
    if !may_use_tokens(data, &application_id, false) {
        return Err(ApiError::permission_denied(format!(
            "Service principal {application_id} does not have CAN_USE on authorization/tokens"
        )));
    }
    let pat = mint(
        data,
        &application_id,
        &ctx.caller,
        req.lifetime_seconds,
        req.comment,
        now,
    )?;
    let info = pat.management_info(data);
    let (account_id, workspace_id) = (data.account_id.clone(), data.workspace_id);
    state.record_minted(
        "on_behalf_of_token",
        &pat.value,
        Some(account_id),
        Some(workspace_id),
        now,
    );
    Ok(Json(
        json!({ "token_value": pat.value, "token_info": info }),
    ))
}

async fn list_all(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let infos: Vec<Value> = data
        .tokens
        .values()
        .map(|t| t.management_info(data))
        .filter(|info| {
            query
                .get("created_by_username")
                .is_none_or(|u| info["created_by_username"] == json!(u))
                && query.get("created_by_id").is_none_or(|id| {
                    info["created_by_id"]
                        .as_i64()
                        .map(|n| n.to_string())
                        .as_ref()
                        == Some(id)
                })
        })
        .collect();
    Ok(Json(json!({ "token_infos": infos })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<TokenIdParam>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let token = data
        .tokens
        .get(&p.token_id)
        .ok_or_else(|| not_found(&p.token_id))?;
    Ok(Json(json!({ "token_info": token.management_info(data) })))
}

async fn revoke(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<TokenIdParam>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    data.tokens
        .shift_remove(&p.token_id)
        .ok_or_else(|| not_found(&p.token_id))?;
    Ok(empty())
}

/// Tokens not revoked, expired ones included (they are still objects someone must revoke), for
/// the inventory (values left out: they are secrets).
pub(crate) fn inventory(data: &WorkspaceData, now: i64) -> Vec<Value> {
    data.tokens
        .values()
        .map(|t| {
            json!({"token_id": t.token_id, "owner": t.owner, "comment": t.comment, "expired": t.expired(now)})
        })
        .collect()
}
