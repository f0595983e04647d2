//! Notification destinations (`/api/2.0/notification-destinations`), the targets of jobs'
//! `webhook_notifications`: create, list, get, update (PATCH), delete.
//!
//! As the vendor: `config` holds exactly one kind; the answer carries `id` (a UUID),
//! `display_name`, `destination_type` and the config with its input-only values replaced by
//! `*_set` booleans (a URL, user name or password never comes back). `list` answers `{"results":
//! [{"id", "display_name", "destination_type"}]}` without configs. Writes need an admin. A missing
//! destination is `404 RESOURCE_DOES_NOT_EXIST`.
//!
//! Only `generic_webhook` (`{url, username?, password?}`, destination type `WEBHOOK`) is served;
//! any other kind (`email`, `slack`, `pagerduty`, `microsoft_teams`) is refused with `400
//! INVALID_PARAMETER_VALUE` naming this limit, rather than accepted and never delivered. The URL
//! may be `http://` (tests deliver to local receivers; the vendor requires HTTPS).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, empty};
use crate::error::{ApiError, parse_json};
use crate::server::AppState;

const BASE: &str = "/api/2.0/notification-destinations";

/// A generic-webhook destination, with its input-only values (kept for delivery, never shown).
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    pub id: String,
    pub display_name: String,
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Destination {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "display_name": self.display_name,
            "destination_type": "WEBHOOK",
            "config": {"generic_webhook": {
                "url_set": true,
                "username_set": self.username.is_some(),
                "password_set": self.password.is_some(),
            }},
        })
    }

    fn summary(&self) -> Value {
        json!({"id": self.id, "display_name": self.display_name, "destination_type": "WEBHOOK"})
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(BASE, get(list).post(create)).route(
        &format!("{BASE}/{{id}}"),
        get(read).patch(update).delete(remove),
    )
}

#[derive(Deserialize)]
struct Request {
    display_name: Option<String>,
    config: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericWebhook {
    url: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// The one `generic_webhook` of a config; other kinds are refused.
fn generic_webhook(config: &serde_json::Map<String, Value>) -> Result<GenericWebhook, ApiError> {
    if config.len() != 1 {
        return Err(ApiError::invalid(
            "config must set exactly one of email, slack, pagerduty, microsoft_teams, generic_webhook",
        ));
    }
    let (kind, value) = config.iter().next().expect("one entry");
    if kind != "generic_webhook" {
        return Err(ApiError::invalid(format!(
            "The emulator serves only generic_webhook notification destinations, not {kind}"
        )));
    }
    serde_json::from_value(value.clone()).map_err(|e| ApiError::invalid(e.to_string()))
}

fn check_url(url: &str) -> Result<(), ApiError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "generic_webhook.url must be an http(s) URL",
        ))
    }
}

fn display_name(name: Option<String>) -> Result<String, ApiError> {
    match name.map(|n| n.trim().to_string()) {
        Some(n) if !n.is_empty() => Ok(n),
        _ => Err(ApiError::invalid("Missing required field: display_name")),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Notification destination {id} does not exist"))
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Request = parse_json(&body)?;
    let name = display_name(req.display_name)?;
    let config = req
        .config
        .ok_or_else(|| ApiError::invalid("Missing required field: config"))?;
    let hook = generic_webhook(&config)?;
    let url = hook
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required field: config.generic_webhook.url"))?;
    check_url(&url)?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let destination = Destination {
        id: crate::ids::uuid_v4(),
        display_name: name,
        url,
        username: hook.username.filter(|u| !u.is_empty()),
        password: hook.password.filter(|p| !p.is_empty()),
    };
    let out = destination.to_json();
    data.destinations
        .insert(destination.id.clone(), destination);
    Ok(Json(out))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let results: Vec<Value> = data
        .destinations
        .values()
        .map(Destination::summary)
        .collect();
    Ok(Json(json!({ "results": results })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let id = params.get("id").cloned().unwrap_or_default();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let d = data.destinations.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(d.to_json()))
}

/// PATCH: `display_name` and/or `config`; a webhook's `url`, `username`, `password` each replace
/// the stored value when sent (an empty `username`/`password` clears it).
async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = params.get("id").cloned().unwrap_or_default();
    let req: Request = parse_json(&body)?;
    let name = req
        .display_name
        .map(|n| display_name(Some(n)))
        .transpose()?;
    let hook = req.config.as_ref().map(generic_webhook).transpose()?;
    if let Some(url) = hook.as_ref().and_then(|h| h.url.as_deref()) {
        check_url(url)?;
    }
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let d = data
        .destinations
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    if let Some(name) = name {
        d.display_name = name;
    }
    if let Some(hook) = hook {
        if let Some(url) = hook.url {
            d.url = url;
        }
        if let Some(user) = hook.username {
            d.username = Some(user).filter(|u| !u.is_empty());
        }
        if let Some(password) = hook.password {
            d.password = Some(password).filter(|p| !p.is_empty());
        }
    }
    Ok(Json(d.to_json()))
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let id = params.get("id").cloned().unwrap_or_default();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    data.destinations
        .shift_remove(&id)
        .ok_or_else(|| not_found(&id))?;
    Ok(empty())
}
