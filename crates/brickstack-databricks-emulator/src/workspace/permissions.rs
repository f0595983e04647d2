//! Object permissions (`/api/2.0/permissions/{type}/{id}` GET, PUT = replace direct grants, PATCH
//! = add or change, and `/permissionLevels`) for `authorization/tokens`, `clusters/{id}` and
//! `cluster-policies/{id}`.
//!
//! Unlike minilake, levels are checked per object type (tokens: `CAN_USE`, `CAN_MANAGE`;
//! clusters: `CAN_ATTACH_TO`, `CAN_RESTART`, `CAN_MANAGE`; policies: `CAN_USE`), the object must
//! exist (`404 RESOURCE_DOES_NOT_EXIST "Cluster <id> does not exist"`) and so must every
//! principal (`400 INVALID_PARAMETER_VALUE "Principal: UserName(<name>) does not exist"`, the
//! vendor's wording, with `GroupName` / `ServicePrincipalName` for the others); an unknown level
//! is `400 INVALID_PARAMETER_VALUE` naming the valid ones. Responses list direct grants, then the `admins` group's inherited
//! `CAN_MANAGE`. Other object types are `400 INVALID_PARAMETER_VALUE`. Changing permissions needs
//! an admin.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, WorkspaceData};
use crate::error::{ApiError, parse_json};
use crate::server::AppState;

/// One direct grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AclEntry {
    pub principal: PrincipalRef,
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalRef {
    User(String),
    Group(String),
    ServicePrincipal(String),
}

impl PrincipalRef {
    fn name(&self) -> &str {
        match self {
            PrincipalRef::User(n) | PrincipalRef::Group(n) | PrincipalRef::ServicePrincipal(n) => n,
        }
    }

    fn field(&self) -> &'static str {
        match self {
            PrincipalRef::User(_) => "user_name",
            PrincipalRef::Group(_) => "group_name",
            PrincipalRef::ServicePrincipal(_) => "service_principal_name",
        }
    }
}

/// What a `{type}/{id}` path names.
struct Object {
    /// The key grants are stored under, e.g. `clusters/0101-...`.
    key: String,
    object_id: String,
    object_type: &'static str,
    inherited_from: Option<&'static str>,
    levels: &'static [(&'static str, &'static str)],
}

const TOKEN_LEVELS: &[(&str, &str)] = &[
    ("CAN_USE", "Can use tokens"),
    ("CAN_MANAGE", "Can manage tokens"),
];
const CLUSTER_LEVELS: &[(&str, &str)] = &[
    ("CAN_ATTACH_TO", "Can attach to the cluster"),
    ("CAN_RESTART", "Can restart the cluster"),
    ("CAN_MANAGE", "Can manage the cluster"),
];
const POLICY_LEVELS: &[(&str, &str)] = &[("CAN_USE", "Can use the policy")];

fn object(data: &WorkspaceData, object_type: &str, id: &str) -> Result<Object, ApiError> {
    match object_type {
        "authorization" if id == "tokens" => Ok(Object {
            key: "authorization/tokens".into(),
            object_id: "authorization/tokens".into(),
            object_type: "tokens",
            inherited_from: None,
            levels: TOKEN_LEVELS,
        }),
        "clusters" => {
            if !data.clusters.contains_key(id) {
                return Err(ApiError::not_found(format!("Cluster {id} does not exist")));
            }
            Ok(Object {
                key: format!("clusters/{id}"),
                object_id: format!("/clusters/{id}"),
                object_type: "cluster",
                inherited_from: Some("/clusters/"),
                levels: CLUSTER_LEVELS,
            })
        }
        "cluster-policies" => {
            if !data.policies.contains_key(id) {
                return Err(ApiError::not_found(format!(
                    "Cluster policy {id} does not exist"
                )));
            }
            Ok(Object {
                key: format!("cluster-policies/{id}"),
                object_id: format!("/cluster-policies/{id}"),
                object_type: "cluster-policy",
                inherited_from: Some("/cluster-policies/"),
                levels: POLICY_LEVELS,
            })
        }
        other => Err(ApiError::invalid(format!(
            "Permissions on {other}/{id} are not supported by this emulator"
        ))),
    }
}

#[derive(Deserialize)]
struct Params {
    object_type: String,
    object_id: String,
}

#[derive(Deserialize)]
struct AclRequest {
    #[serde(default)]
    access_control_list: Vec<AclItem>,
}

#[derive(Deserialize)]
struct AclItem {
    user_name: Option<String>,
    group_name: Option<String>,
    service_principal_name: Option<String>,
    permission_level: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/permissions/{object_type}/{object_id}",
            get(read).put(replace).patch(update),
        )
        .route(
            "/api/2.0/permissions/{object_type}/{object_id}/permissionLevels",
            get(levels),
        )
}

/// Whether `name` (user name or applicationId) holds one of `levels` on `key`, directly or
/// through a group.
pub(crate) fn has_level(data: &WorkspaceData, key: &str, name: &str, levels: &[&str]) -> bool {
    data.permissions.get(key).is_some_and(|entries| {
        entries.iter().any(|e| {
            levels.contains(&e.level.as_str())
                && match &e.principal {
                    PrincipalRef::User(n) | PrincipalRef::ServicePrincipal(n) => n == name,
                    PrincipalRef::Group(g) => data.directory.is_member(name, g),
                }
        })
    })
}

/// The direct grants on `key` as `{"<principal field>": name, "permission_level"}`, for the
/// inventory.
pub(crate) fn direct_grants(data: &WorkspaceData, key: &str) -> Vec<Value> {
    data.permissions
        .get(key)
        .into_iter()
        .flatten()
        .map(|e| json!({e.principal.field(): e.principal.name(), "permission_level": e.level}))
        .collect()
}

/// Drops the grants of a deleted principal.
pub(crate) fn forget_principal(data: &mut WorkspaceData, name: &str) {
    for entries in data.permissions.values_mut() {
        entries.retain(|e| e.principal.name() != name);
    }
}

fn render(data: &WorkspaceData, object: &Object) -> Value {
    let mut acl: Vec<Value> = data
        .permissions
        .get(&object.key)
        .into_iter()
        .flatten()
        .map(|e| {
            json!({
                e.principal.field(): e.principal.name(),
                "all_permissions": [{"permission_level": e.level, "inherited": false}],
            })
        })
        .collect();
    let mut admins = json!({"permission_level": "CAN_MANAGE", "inherited": true});
    if let Some(from) = object.inherited_from {
        admins["inherited_from_object"] = json!([from]);
    }
    acl.push(json!({"group_name": "admins", "all_permissions": [admins]}));
    json!({
        "object_id": object.object_id,
        "object_type": object.object_type,
        "access_control_list": acl,
    })
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<Params>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let object = object(data, &p.object_type, &p.object_id)?;
    Ok(Json(render(data, &object)))
}

async fn levels(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<Params>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let object = object(data, &p.object_type, &p.object_id)?;
    let levels: Vec<Value> = object
        .levels
        .iter()
        .map(|(l, d)| json!({"permission_level": l, "description": d}))
        .collect();
    Ok(Json(json!({ "permission_levels": levels })))
}

fn parse_entries(
    data: &WorkspaceData,
    object: &Object,
    body: &[u8],
) -> Result<Vec<AclEntry>, ApiError> {
    let req: AclRequest = parse_json(body)?;
    let mut entries: Vec<AclEntry> = Vec::new();
    for item in req.access_control_list {
        let principal = match (item.user_name, item.group_name, item.service_principal_name) {
            (Some(u), None, None) => {
                if !data.directory.user_exists(&u) {
                    return Err(ApiError::invalid(format!(
                        "Principal: UserName({u}) does not exist"
                    )));
                }
                PrincipalRef::User(u)
            }
            (None, Some(g), None) => {
                if !data.directory.group_exists(&g) {
                    return Err(ApiError::invalid(format!(
                        "Principal: GroupName({g}) does not exist"
                    )));
                }
                PrincipalRef::Group(g)
            }
            (None, None, Some(s)) => {
                if !data.directory.service_principal_exists(&s) {
                    return Err(ApiError::invalid(format!(
                        "Principal: ServicePrincipalName({s}) does not exist"
                    )));
                }
                PrincipalRef::ServicePrincipal(s)
            }
            _ => {
                return Err(ApiError::invalid(
                    "Each access control entry needs exactly one of user_name, group_name, service_principal_name",
                ));
            }
        };
        let level = item
            .permission_level
            .ok_or_else(|| ApiError::invalid("Missing required field: permission_level"))?;
        if !object.levels.iter().any(|(l, _)| *l == level) {
            return Err(ApiError::invalid(format!(
                "Permission level {level} is not valid for {}; expected one of {}",
                object.object_id,
                object
                    .levels
                    .iter()
                    .map(|(l, _)| *l)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        entries.retain(|e| e.principal != principal);
        entries.push(AclEntry { principal, level });
    }
    Ok(entries)
}

async fn replace(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<Params>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let object = object(data, &p.object_type, &p.object_id)?;
    data.require_admin(&ctx.caller)?;
    let entries = parse_entries(data, &object, &body)?;
    data.permissions.insert(object.key.clone(), entries);
    Ok(Json(render(data, &object)))
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<Params>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let object = object(data, &p.object_type, &p.object_id)?;
    data.require_admin(&ctx.caller)?;
    let entries = parse_entries(data, &object, &body)?;
    let current = data.permissions.entry(object.key.clone()).or_default();
    for entry in entries {
        current.retain(|e| e.principal != entry.principal);
        current.push(entry);
    }
    Ok(Json(render(data, &object)))
}
