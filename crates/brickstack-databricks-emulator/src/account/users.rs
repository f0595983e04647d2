//! Account SCIM users (`/scim/v2/Users`: list with a filter, create, get, patch, delete), kept to
//! what group membership and Unity Catalog grants (by `userName`) need.
//!
//! Choices where the vendor is silent (inferred): `userName` is unique ignoring case, a duplicate
//! is `409` with `scimType: uniqueness`; only `displayName` and `active` change by PATCH
//! (`userName` is immutable, as the vendor documents).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};

use super::groups::forget_principal;
use crate::error::{ApiError, parse_json, scim_errors};
use crate::ids::numeric_id;
use crate::scim::{self, PatchRequest, USER_SCHEMA};
use crate::server::AppState;

/// An account user.
#[derive(Debug, Clone)]
pub(crate) struct AccountUser {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub active: bool,
}

impl AccountUser {
    fn to_scim(&self) -> Value {
        json!({
            "schemas": [USER_SCHEMA],
            "id": self.id,
            "userName": self.user_name,
            "displayName": self.display_name,
            "active": self.active,
            "emails": [{"value": self.user_name, "primary": true, "type": "work"}],
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserBody {
    user_name: Option<String>,
    display_name: Option<String>,
    active: Option<bool>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/scim/v2/Users",
            get(list).post(create),
        )
        .route(
            "/api/2.0/accounts/{account_id}/scim/v2/Users/{id}",
            get(read).patch(patch).delete(remove),
        )
        .route_layer(middleware::from_fn(scim_errors))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("User with id {id} not found."))
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let all = state
        .account(&account_id)
        .users
        .values()
        .map(AccountUser::to_scim)
        .collect();
    scim::list_response(all, &query).map(Json)
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: UserBody = parse_json(&body)?;
    let user_name = req
        .user_name
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required field: userName"))?;
    let mut state = app.lock();
    let account = state.account(&account_id);
    if account
        .users
        .values()
        .any(|u| u.user_name.eq_ignore_ascii_case(&user_name))
    {
        return Err(ApiError::already_exists(format!(
            "User with username {user_name} already exists."
        )));
    }
    let user = AccountUser {
        id: numeric_id(),
        display_name: req.display_name.unwrap_or_else(|| user_name.clone()),
        user_name,
        active: req.active.unwrap_or(true),
    };
    account.users.insert(user.id.clone(), user.clone());
    Ok((StatusCode::CREATED, Json(user.to_scim())))
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let u = state
        .account(&account_id)
        .users
        .get(&id)
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(u.to_scim()))
}

async fn patch(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: PatchRequest = parse_json(&body)?;
    req.check()?;
    let mut state = app.lock();
    let u = state
        .account(&account_id)
        .users
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    let mut updated = u.clone();
    for op in &req.operations {
        let fields: Vec<(String, Value)> = match (&op.path, &op.value) {
            (Some(p), v) => vec![(p.clone(), v.clone().unwrap_or(Value::Null))],
            (None, Some(Value::Object(o))) => {
                o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            }
            (None, _) => {
                return Err(scim::invalid_path(
                    "An operation without path needs an object value",
                ));
            }
        };
        for (attribute, value) in fields {
            match (attribute.to_ascii_lowercase().as_str(), value) {
                ("displayname", Value::String(s)) => updated.display_name = s,
                ("active", Value::Bool(b)) => updated.active = b,
                _ => {
                    return Err(scim::invalid_path(format!(
                        "Attribute {attribute} cannot be changed"
                    )));
                }
            }
        }
    }
    *u = updated;
    Ok(Json(u.to_scim()))
}

async fn remove(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    account
        .users
        .shift_remove(&id)
        .ok_or_else(|| not_found(&id))?;
    forget_principal(account, &id);
    Ok(StatusCode::NO_CONTENT)
}
