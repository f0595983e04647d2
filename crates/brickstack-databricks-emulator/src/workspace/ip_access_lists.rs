//! IP access lists (`/api/2.0/ip-access-lists[/{ip_access_list_id}]`: POST, GET, PUT = full
//! replace, PATCH = partial, DELETE), admin-only writes.
//!
//! Unlike minilake, `list_type` must be `ALLOW` or `BLOCK` and every address an IPv4 address or
//! CIDR (`400 INVALID_PARAMETER_VALUE`); more than 1000 addresses across all lists is `400
//! QUOTA_EXCEEDED`. The lists are stored, not enforced (every caller is on 127.0.0.1). Choice
//! where the vendor is silent: `created_by`/`updated_by` are the caller's SCIM id (0 when the
//! caller has none).

use std::net::Ipv4Addr;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, WorkspaceData, bad_request, empty};
use crate::error::{ApiError, parse_json};
use crate::ids::uuid_v4;
use crate::server::AppState;

const MAX_ADDRESSES: usize = 1000;

#[derive(Debug, Clone)]
pub(crate) struct IpAccessList {
    pub list_id: String,
    pub label: String,
    pub list_type: String,
    pub ip_addresses: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub created_by: i64,
    pub updated_at: i64,
    pub updated_by: i64,
}

impl IpAccessList {
    fn to_json(&self) -> Value {
        json!({
            "list_id": self.list_id,
            "label": self.label,
            "list_type": self.list_type,
            "ip_addresses": self.ip_addresses,
            "address_count": self.ip_addresses.len(),
            "enabled": self.enabled,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        })
    }
}

#[derive(Deserialize)]
struct ListRequest {
    label: Option<String>,
    list_type: Option<String>,
    ip_addresses: Option<Vec<String>>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
struct IdParam {
    ip_access_list_id: String,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/ip-access-lists", get(list).post(create))
        .route(
            "/api/2.0/ip-access-lists/{ip_access_list_id}",
            get(read).put(replace).patch(update).delete(remove),
        )
}

/// `a.b.c.d` or `a.b.c.d/n` (n ≤ 32).
pub(crate) fn is_ipv4_or_cidr(text: &str) -> bool {
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (text, None),
    };
    ip.parse::<Ipv4Addr>().is_ok() && prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|n| n <= 32))
}

fn check_type(t: &str) -> Result<(), ApiError> {
    if t == "ALLOW" || t == "BLOCK" {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid list_type {t}; expected ALLOW or BLOCK"
        )))
    }
}

fn check_addresses(
    data: &WorkspaceData,
    own_id: Option<&str>,
    addresses: &[String],
) -> Result<(), ApiError> {
    if let Some(bad) = addresses.iter().find(|a| !is_ipv4_or_cidr(a)) {
        return Err(ApiError::invalid(format!(
            "Invalid IP address or CIDR: {bad}"
        )));
    }
    let others: usize = data
        .ip_access_lists
        .values()
        .filter(|l| Some(l.list_id.as_str()) != own_id)
        .map(|l| l.ip_addresses.len())
        .sum();
    if others + addresses.len() > MAX_ADDRESSES {
        return Err(bad_request(
            "QUOTA_EXCEEDED",
            format!("IP access lists may hold at most {MAX_ADDRESSES} addresses in total"),
        ));
    }
    Ok(())
}

fn caller_id(data: &WorkspaceData, ctx: &Ctx) -> i64 {
    data.directory
        .id_of(&ctx.caller.name)
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("IP access list {id} does not exist"))
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ListRequest = parse_json(&body)?;
    let label = crate::error::required(&req.label, "label")?.to_string();
    let list_type = crate::error::required(&req.list_type, "list_type")?.to_string();
    check_type(&list_type)?;
    let addresses = req.ip_addresses.unwrap_or_default();
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    check_addresses(data, None, &addresses)?;
    let by = caller_id(data, &ctx);
    let list = IpAccessList {
        list_id: uuid_v4(),
        label,
        list_type,
        ip_addresses: addresses,
        enabled: req.enabled.unwrap_or(true),
        created_at: now,
        created_by: by,
        updated_at: now,
        updated_by: by,
    };
    data.ip_access_lists
        .insert(list.list_id.clone(), list.clone());
    Ok(Json(json!({ "ip_access_list": list.to_json() })))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let lists: Vec<Value> = data
        .ip_access_lists
        .values()
        .map(IpAccessList::to_json)
        .collect();
    Ok(Json(json!({ "ip_access_lists": lists })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let list = data
        .ip_access_lists
        .get(&p.ip_access_list_id)
        .ok_or_else(|| not_found(&p.ip_access_list_id))?;
    Ok(Json(json!({ "ip_access_list": list.to_json() })))
}

fn change(
    app: &AppState,
    ctx: &Ctx,
    id: &str,
    req: ListRequest,
    full: bool,
) -> Result<Json<Value>, ApiError> {
    if full
        && (req.label.is_none()
            || req.list_type.is_none()
            || req.ip_addresses.is_none()
            || req.enabled.is_none())
    {
        return Err(ApiError::invalid(
            "PUT replaces the whole list: label, list_type, ip_addresses and enabled are required",
        ));
    }
    if let Some(t) = &req.list_type {
        check_type(t)?;
    }
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    if !data.ip_access_lists.contains_key(id) {
        return Err(not_found(id));
    }
    if let Some(a) = &req.ip_addresses {
        check_addresses(data, Some(id), a)?;
    }
    let by = caller_id(data, ctx);
    let list = data
        .ip_access_lists
        .get_mut(id)
        .ok_or_else(|| not_found(id))?;
    if let Some(l) = req.label {
        list.label = l;
    }
    if let Some(t) = req.list_type {
        list.list_type = t;
    }
    if let Some(a) = req.ip_addresses {
        list.ip_addresses = a;
    }
    if let Some(e) = req.enabled {
        list.enabled = e;
    }
    list.updated_at = now;
    list.updated_by = by;
    Ok(empty())
}

async fn replace(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ListRequest = parse_json(&body)?;
    change(&app, &ctx, &p.ip_access_list_id, req, true)
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ListRequest = parse_json(&body)?;
    change(&app, &ctx, &p.ip_access_list_id, req, false)
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    data.ip_access_lists
        .shift_remove(&p.ip_access_list_id)
        .ok_or_else(|| not_found(&p.ip_access_list_id))?;
    Ok(empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses() {
        for ok in ["10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/32"] {
            assert!(super::is_ipv4_or_cidr(ok), "{ok}");
        }
        for bad in ["10.0.0", "10.0.0.0/33", "x", "10.0.0.1/", "::1"] {
            assert!(!super::is_ipv4_or_cidr(bad), "{bad}");
        }
    }
}
