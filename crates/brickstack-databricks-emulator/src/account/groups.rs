//! Account SCIM groups (`/scim/v2/Groups`: list with a filter, create, get, replace, patch,
//! delete): the account-level groups that workspace permission assignments and Unity Catalog
//! grants name (grants by `displayName`).
//!
//! Members are account principals by SCIM id: service principals, users (`account::users`) and
//! other groups (nesting). Choices where the vendor is silent (inferred): display names are unique
//! ignoring case, a duplicate is `409` with SCIM `scimType: uniqueness`; a member id that is no
//! principal of the account is `400 INVALID_PARAMETER_VALUE`; a group cannot contain itself;
//! deleting a principal drops it from every group. `meta.resourceType` is `Group` (an account
//! group, as opposed to `WorkspaceGroup`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, parse_json, scim_errors};
use crate::ids::numeric_id;
use crate::scim::{self, GROUP_SCHEMA, PatchRequest};
use crate::server::AppState;
use crate::state::Account;

/// An account group.
#[derive(Debug, Clone)]
pub(crate) struct AccountGroup {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    /// SCIM ids of the member principals, in the order they were added.
    pub members: Vec<String>,
}

impl AccountGroup {
    pub fn to_scim(&self, account: &Account) -> Value {
        let members: Vec<Value> = self
            .members
            .iter()
            .map(|id| {
                let mut m = json!({ "value": id });
                if let Some((display, kind)) = principal_display(account, id) {
                    m["display"] = display.into();
                    m["$ref"] = format!("{kind}/{id}").into();
                }
                m
            })
            .collect();
        let mut v = json!({
            "schemas": [GROUP_SCHEMA],
            "id": self.id,
            "displayName": self.display_name,
            "members": members,
            "meta": { "resourceType": "Group" },
        });
        if let Some(e) = &self.external_id {
            v["externalId"] = e.clone().into();
        }
        v
    }
}

/// The display name and SCIM resource of an account principal, if `id` is one.
pub(crate) fn principal_display(account: &Account, id: &str) -> Option<(String, &'static str)> {
    if let Some(sp) = account.service_principals.get(id) {
        return Some((sp.display_name.clone(), "ServicePrincipals"));
    }
    if let Some(u) = account.users.get(id) {
        return Some((u.display_name.clone(), "Users"));
    }
    account
        .groups
        .get(id)
        .map(|g| (g.display_name.clone(), "Groups"))
}

/// The ids of every group `principal_id` belongs to, directly or through nested groups.
pub(crate) fn groups_of(account: &Account, principal_id: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut frontier = vec![principal_id.to_string()];
    while let Some(id) = frontier.pop() {
        for g in account.groups.values() {
            if g.members.contains(&id) && !found.contains(&g.id) {
                found.push(g.id.clone());
                frontier.push(g.id.clone());
            }
        }
    }
    found
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody {
    display_name: Option<String>,
    external_id: Option<String>,
    members: Option<Value>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/scim/v2/Groups",
            get(list).post(create),
        )
        .route(
            "/api/2.0/accounts/{account_id}/scim/v2/Groups/{id}",
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route_layer(middleware::from_fn(scim_errors))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Group with id {id} not found."))
}

fn duplicate(name: &str) -> ApiError {
    ApiError::already_exists(format!("Group with name {name} already exists."))
}

fn name_taken(account: &Account, name: &str, except: Option<&str>) -> bool {
    account
        .groups
        .values()
        .any(|g| g.display_name.eq_ignore_ascii_case(name) && Some(g.id.as_str()) != except)
}

/// Checks that every member is a principal of the account, and not the group itself.
fn check_members(account: &Account, group_id: &str, members: &[String]) -> Result<(), ApiError> {
    for m in members {
        if m == group_id {
            return Err(ApiError::invalid(format!(
                "Group {group_id} cannot be a member of itself"
            )));
        }
        if principal_display(account, m).is_none() {
            return Err(ApiError::invalid(format!(
                "Member {m} is not a user, group or service principal of this account"
            )));
        }
    }
    Ok(())
}

fn dedup(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    let all = account
        .groups
        .values()
        .map(|g| g.to_scim(account))
        .collect();
    scim::list_response(all, &query).map(Json)
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: GroupBody = parse_json(&body)?;
    let display_name = req
        .display_name
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Missing required field: displayName"))?;
    let members = dedup(scim::values(req.members.as_ref())?);
    let mut state = app.lock();
    let account = state.account(&account_id);
    if name_taken(account, &display_name, None) {
        return Err(duplicate(&display_name));
    }
    let id = numeric_id();
    check_members(account, &id, &members)?;
    let group = AccountGroup {
        id: id.clone(),
        display_name,
        external_id: req.external_id,
        members,
    };
    account.groups.insert(id, group.clone());
    Ok((StatusCode::CREATED, Json(group.to_scim(account))))
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    let g = account.groups.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(g.to_scim(account)))
}

async fn replace(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: GroupBody = parse_json(&body)?;
    let members = dedup(scim::values(req.members.as_ref())?);
    let mut state = app.lock();
    let account = state.account(&account_id);
    let mut g = account
        .groups
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    if let Some(name) = req.display_name.filter(|d| !d.trim().is_empty()) {
        if name_taken(account, &name, Some(&id)) {
            return Err(duplicate(&name));
        }
        g.display_name = name;
    }
    check_members(account, &id, &members)?;
    g.external_id = req.external_id;
    g.members = members;
    account.groups.insert(id, g.clone());
    Ok(Json(g.to_scim(account)))
}

async fn patch(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: PatchRequest = parse_json(&body)?;
    req.check()?;
    let mut state = app.lock();
    let account = state.account(&account_id);
    let mut g = account
        .groups
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    for op in &req.operations {
        let kind = op.op.to_ascii_lowercase();
        let Some(path) = &op.path else {
            let Some(Value::Object(fields)) = &op.value else {
                return Err(scim::invalid_path(
                    "An operation without path needs an object value",
                ));
            };
            for (k, v) in fields {
                set_attribute(&mut g, &kind, k, v)?;
            }
            continue;
        };
        let parsed = scim::parse_path(path)?;
        if parsed.attribute == "members" {
            let values = scim::values(op.value.as_ref())?;
            scim::apply_values(&mut g.members, &kind, &parsed, values);
        } else {
            set_attribute(
                &mut g,
                &kind,
                path,
                op.value.as_ref().unwrap_or(&Value::Null),
            )?;
        }
    }
    if name_taken(account, &g.display_name, Some(&id)) {
        return Err(duplicate(&g.display_name));
    }
    g.members = dedup(std::mem::take(&mut g.members));
    check_members(account, &id, &g.members)?;
    account.groups.insert(id, g.clone());
    Ok(Json(g.to_scim(account)))
}

fn set_attribute(
    g: &mut AccountGroup,
    op: &str,
    attribute: &str,
    value: &Value,
) -> Result<(), ApiError> {
    match (attribute.to_ascii_lowercase().as_str(), value) {
        ("displayname", Value::String(s)) if !s.trim().is_empty() => g.display_name = s.clone(),
        ("externalid", Value::String(s)) => g.external_id = Some(s.clone()),
        ("members", v) => {
            let values = scim::values(Some(v))?;
            let path = scim::parse_path("members")?;
            scim::apply_values(&mut g.members, op, &path, values);
        }
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
        .groups
        .shift_remove(&id)
        .ok_or_else(|| not_found(&id))?;
    forget_principal(account, &id);
    Ok(StatusCode::NO_CONTENT)
}

/// Drops a deleted principal from every group and every workspace permission assignment.
pub(crate) fn forget_principal(account: &mut Account, id: &str) {
    for g in account.groups.values_mut() {
        g.members.retain(|m| m != id);
    }
    for assignments in account.permission_assignments.values_mut() {
        assignments.shift_remove(id);
    }
}
