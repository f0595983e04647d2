//! Workspace permission assignments (identity federation,
//! `/workspaces/{workspace_id}/permissionassignments`): which account principals may use a
//! workspace, as `USER` or `ADMIN`.
//!
//! Principals are the account's service principals, users and groups by numeric SCIM id; any
//! other id is `404 RESOURCE_DOES_NOT_EXIST`. Identity federation needs the
//! workspace to have a Unity Catalog metastore: without one every call here is
//! `400 INVALID_PARAMETER_VALUE` "permission assignment APIs are not available for this
//! workspace" (wording inferred: the vendor documents the rule, not the message). Assignments of
//! a deleted principal are dropped from lists; assignments are forgotten with the workspace.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, parse_json};
use crate::server::{AppState, Empty};
use crate::state::Account;

const LEVELS: &[(&str, &str)] = &[
    ("USER", "Can access the workspace with basic privileges."),
    (
        "ADMIN",
        "Can access the workspace and has workspace admin privileges to manage users and groups, workspace configurations, and more.",
    ),
];

#[derive(Deserialize)]
struct PermissionsRequest {
    permissions: Option<Vec<String>>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/workspaces/{workspace_id}/permissionassignments",
            get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/workspaces/{workspace_id}/permissionassignments/permissions",
            get(levels),
        )
        .route(
            "/api/2.0/accounts/{account_id}/workspaces/{workspace_id}/permissionassignments/principals/{principal_id}",
            put(assign).delete(remove),
        )
}

/// The workspace id, checked to exist and to have a metastore.
fn federated(account: &Account, workspace_id: &str) -> Result<i64, ApiError> {
    let id: i64 = workspace_id.parse().map_err(|_| {
        ApiError::invalid(format!(
            "Invalid workspace_id {workspace_id}: expected an integer"
        ))
    })?;
    if !account.workspaces.contains_key(&id) {
        return Err(ApiError::not_found(format!(
            "Workspace {id} does not exist"
        )));
    }
    if !account.metastore_assignments.contains_key(&id) {
        return Err(ApiError::invalid(format!(
            "permission assignment APIs are not available for this workspace ({id}): assign a Unity Catalog metastore to it first"
        )));
    }
    Ok(id)
}

async fn list(
    State(app): State<AppState>,
    Path((account_id, ws)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    let ws = federated(account, &ws)?;
    let assignments: Vec<Value> = account
        .permission_assignments
        .get(&ws)
        .into_iter()
        .flatten()
        .filter_map(|(principal_id, permissions)| {
            Some(json!({
                "principal": principal_json(account, principal_id)?,
                "permissions": permissions,
            }))
        })
        .collect();
    Ok(Json(json!({ "permission_assignments": assignments })))
}

async fn levels(
    State(app): State<AppState>,
    Path((account_id, ws)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    federated(state.account(&account_id), &ws)?;
    let permissions: Vec<Value> = LEVELS
        .iter()
        .map(|(level, description)| json!({"permission_level": level, "description": description}))
        .collect();
    Ok(Json(json!({ "permissions": permissions })))
}

/// `PrincipalOutput`: the id, the display name and the name of the principal's kind
/// (`service_principal_name` = application id, `user_name`, `group_name` = display name).
fn principal_json(account: &Account, principal_id: &str) -> Option<Value> {
    let id = principal_id.parse::<i64>().ok();
    if let Some(sp) = account.service_principals.get(principal_id) {
        return Some(json!({
            "principal_id": id,
            "display_name": sp.display_name,
            "service_principal_name": sp.application_id,
        }));
    }
    if let Some(u) = account.users.get(principal_id) {
        return Some(json!({
            "principal_id": id,
            "display_name": u.display_name,
            "user_name": u.user_name,
        }));
    }
    let g = account.groups.get(principal_id)?;
    Some(json!({
        "principal_id": id,
        "display_name": g.display_name,
        "group_name": g.display_name,
    }))
}

fn known_principal(account: &Account, principal_id: &str) -> Result<(), ApiError> {
    if principal_json(account, principal_id).is_some() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "Principal {principal_id} does not exist in this account"
        )))
    }
}

/// Sets the principal's permissions; values other than `USER` and `ADMIN` are dropped and an empty
/// list removes the assignment, as the vendor documents.
async fn assign(
    State(app): State<AppState>,
    Path((account_id, ws, principal_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Empty>, ApiError> {
    let req: PermissionsRequest = parse_json(&body)?;
    let mut permissions: Vec<String> = req
        .permissions
        .unwrap_or_default()
        .into_iter()
        .filter(|p| LEVELS.iter().any(|(l, _)| l == p))
        .collect();
    permissions.dedup();
    let mut state = app.lock();
    let account = state.account(&account_id);
    let ws = federated(account, &ws)?;
    known_principal(account, &principal_id)?;
    let of_workspace = account.permission_assignments.entry(ws).or_default();
    if permissions.is_empty() {
        of_workspace.shift_remove(&principal_id);
    } else {
        of_workspace.insert(principal_id, permissions);
    }
    Ok(Json(Empty {}))
}

async fn remove(
    State(app): State<AppState>,
    Path((account_id, ws, principal_id)): Path<(String, String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    let ws = federated(account, &ws)?;
    known_principal(account, &principal_id)?;
    account
        .permission_assignments
        .get_mut(&ws)
        .and_then(|m| m.shift_remove(&principal_id))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Principal {principal_id} has no permission assignment on workspace {ws}"
            ))
        })?;
    Ok(Json(Empty {}))
}
