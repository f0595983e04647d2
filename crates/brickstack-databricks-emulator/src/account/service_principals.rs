//! Account service principals (SCIM `/scim/v2/ServicePrincipals`: list, create, get, replace,
//! patch, delete) and their OAuth secrets (`/servicePrincipals/{id}/credentials/secrets`).
//!
//! A secret works at the account token endpoint of its account and at the token endpoint of every
//! workspace of that account, with `client_id` = the SP's `applicationId`. Choices where the
//! vendor is silent: SCIM ids are 16-digit numeric strings; `applicationId` is always generated
//! (a UUID; one sent is kept); secrets look like `dose` + 32 hex digits, `secret_hash` is 16 hex
//! digits, `id` a UUID; a sixth active secret is `400 RESOURCE_LIMIT_EXCEEDED`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router, middleware};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::error::{ApiError, parse_json, scim_errors};
use crate::ids::{numeric_id, uuid_v4};
use crate::scim::{self, PatchRequest, SERVICE_PRINCIPAL_SCHEMA};
use crate::server::{AppState, Empty};

/// The default lifetime of an OAuth secret (730 days, the vendor's default).
const DEFAULT_SECRET_LIFETIME: Duration = Duration::from_secs(730 * 86_400);
const MAX_SECRETS: usize = 5;

/// An account-level service principal.
#[derive(Debug, Clone)]
pub(crate) struct AccountServicePrincipal {
    pub id: String,
    pub application_id: String,
    pub display_name: String,
    pub active: bool,
    pub external_id: Option<String>,
    pub roles: Vec<String>,
    pub secrets: IndexMap<String, OAuthSecret>,
}

/// An OAuth secret of a service principal.
#[derive(Debug, Clone)]
pub(crate) struct OAuthSecret {
    pub id: String,
    pub secret: String,
    pub secret_hash: String,
    pub create_ms: i64,
    pub expire_ms: i64,
}

impl AccountServicePrincipal {
    pub fn to_scim(&self) -> Value {
        let mut v = json!({
            "schemas": [SERVICE_PRINCIPAL_SCHEMA],
            "id": self.id,
            "applicationId": self.application_id,
            "displayName": self.display_name,
            "active": self.active,
            "roles": scim::value_list(&self.roles),
        });
        if let Some(e) = &self.external_id {
            v["externalId"] = e.clone().into();
        }
        v
    }
}

impl OAuthSecret {
    fn to_json(&self, with_secret: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "secret_hash": self.secret_hash,
            "status": "ACTIVE",
            "create_time": rfc3339(self.create_ms),
            "update_time": rfc3339(self.create_ms),
            "expire_time": rfc3339(self.expire_ms),
        });
        if with_secret {
            v["secret"] = self.secret.clone().into();
        }
        v
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpBody {
    display_name: Option<String>,
    application_id: Option<String>,
    active: Option<bool>,
    external_id: Option<String>,
    roles: Option<Value>,
}

#[derive(Deserialize)]
struct SecretRequest {
    lifetime: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    let scim = Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/scim/v2/ServicePrincipals",
            get(list).post(create),
        )
        .route(
            "/api/2.0/accounts/{account_id}/scim/v2/ServicePrincipals/{id}",
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route_layer(middleware::from_fn(scim_errors));
    Router::new()
        .merge(scim)
        .route(
            "/api/2.0/accounts/{account_id}/servicePrincipals/{id}/credentials/secrets",
            post(create_secret).get(list_secrets),
        )
        .route(
            "/api/2.0/accounts/{account_id}/servicePrincipals/{id}/credentials/secrets/{secret_id}",
            delete(delete_secret),
        )
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Service principal {id} does not exist"))
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let all = state
        .account(&account_id)
        .service_principals
        .values()
        .map(AccountServicePrincipal::to_scim)
        .collect();
    scim::list_response(all, &query).map(Json)
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: SpBody = parse_json(&body)?;
    let display_name = req
        .display_name
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required field: displayName"))?;
    let roles = scim::values(req.roles.as_ref())?;
    let mut state = app.lock();
    let account = state.account(&account_id);
    let application_id = req.application_id.unwrap_or_else(uuid_v4);
    if account
        .service_principals
        .values()
        .any(|sp| sp.application_id == application_id)
    {
        return Err(ApiError::already_exists(format!(
            "Service principal with applicationId {application_id} already exists"
        )));
    }
    let sp = AccountServicePrincipal {
        id: numeric_id(),
        application_id,
        display_name,
        active: req.active.unwrap_or(true),
        external_id: req.external_id,
        roles,
        secrets: IndexMap::new(),
    };
    account.service_principals.insert(sp.id.clone(), sp.clone());
    Ok((StatusCode::CREATED, Json(sp.to_scim())))
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let sp = state
        .account(&account_id)
        .service_principals
        .get(&id)
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(sp.to_scim()))
}

async fn replace(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: SpBody = parse_json(&body)?;
    let roles = scim::values(req.roles.as_ref())?;
    let mut state = app.lock();
    let sp = state
        .account(&account_id)
        .service_principals
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    if let Some(a) = &req.application_id
        && *a != sp.application_id
    {
        return Err(ApiError::invalid("applicationId cannot be changed"));
    }
    if let Some(d) = req.display_name.filter(|d| !d.trim().is_empty()) {
        sp.display_name = d;
    }
    sp.active = req.active.unwrap_or(true);
    sp.external_id = req.external_id;
    sp.roles = roles;
    Ok(Json(sp.to_scim()))
}

async fn patch(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: PatchRequest = parse_json(&body)?;
    req.check()?;
    let mut state = app.lock();
    let sp = state
        .account(&account_id)
        .service_principals
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    let mut updated = sp.clone();
    for op in &req.operations {
        let kind = op.op.to_ascii_lowercase();
        let path = match &op.path {
            Some(p) => scim::parse_path(p)?,
            None => {
                // A path-less replace carries an object of attributes.
                let Some(Value::Object(fields)) = &op.value else {
                    return Err(scim::invalid_path(
                        "An operation without path needs an object value",
                    ));
                };
                for (k, v) in fields {
                    set_simple(&mut updated, k, v)?;
                }
                continue;
            }
        };
        match path.attribute.as_str() {
            "roles" => {
                let values = scim::values(op.value.as_ref())?;
                scim::apply_values(&mut updated.roles, &kind, &path, values);
            }
            _ => {
                let v = op.value.clone().unwrap_or(Value::Null);
                set_simple(&mut updated, op.path.as_deref().unwrap_or_default(), &v)?;
            }
        }
    }
    *sp = updated;
    Ok(Json(sp.to_scim()))
}

fn set_simple(
    sp: &mut AccountServicePrincipal,
    attribute: &str,
    value: &Value,
) -> Result<(), ApiError> {
    match (attribute.to_ascii_lowercase().as_str(), value) {
        ("active", Value::Bool(b)) => sp.active = *b,
        ("displayname", Value::String(s)) => sp.display_name = s.clone(),
        ("externalid", Value::String(s)) => sp.external_id = Some(s.clone()),
        ("roles", v) => sp.roles = scim::values(Some(v))?,
        _ => {
            return Err(scim::invalid_path(format!(
                "No such attribute with the name : {attribute} in the current resource"
            )));
        }
    }
    Ok(())
}

async fn remove(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    account
        .service_principals
        .shift_remove(&id)
        .ok_or_else(|| not_found(&id))?;
    super::groups::forget_principal(account, &id);
    Ok(StatusCode::NO_CONTENT)
}

async fn create_secret(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: SecretRequest = parse_json(&body)?;
    let lifetime = match &req.lifetime {
        None => DEFAULT_SECRET_LIFETIME,
        Some(l) => l
            .strip_suffix('s')
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "Invalid lifetime {l}: expected seconds like `3600s`"
                ))
            })?,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let sp = state
        .account(&account_id)
        .service_principals
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    if sp.secrets.values().filter(|s| s.expire_ms > now).count() >= MAX_SECRETS {
        return Err(ApiError::other(
            StatusCode::BAD_REQUEST,
            "RESOURCE_LIMIT_EXCEEDED",
            format!("Service principal {id} already has {MAX_SECRETS} OAuth secrets"),
        ));
    }
    let value = format!("dose{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let secret = OAuthSecret {
        id: uuid_v4(),
        secret_hash: short_hash(&value),
        secret: value.clone(),
        create_ms: now,
        expire_ms: now + crate::clock::ms(lifetime),
    };
    sp.secrets.insert(secret.id.clone(), secret.clone());
    state.record_minted("oauth_secret", &value, Some(account_id), None, now);
    Ok(Json(secret.to_json(true)))
}

async fn list_secrets(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let sp = state
        .account(&account_id)
        .service_principals
        .get(&id)
        .ok_or_else(|| not_found(&id))?;
    let secrets: Vec<Value> = sp.secrets.values().map(|s| s.to_json(false)).collect();
    Ok(Json(json!({ "secrets": secrets })))
}

async fn delete_secret(
    State(app): State<AppState>,
    Path((account_id, id, secret_id)): Path<(String, String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let mut state = app.lock();
    let sp = state
        .account(&account_id)
        .service_principals
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    sp.secrets
        .shift_remove(&secret_id)
        .ok_or_else(|| ApiError::not_found(format!("OAuth secret {secret_id} does not exist")))?;
    Ok(Json(Empty {}))
}

/// A short fingerprint of a secret, for `secret_hash` (display only; nothing checks it).
fn short_hash(value: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    format!("{:016x}", h.finish())
}
