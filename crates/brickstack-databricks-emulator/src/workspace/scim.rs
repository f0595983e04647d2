//! Workspace SCIM (`/api/2.0/preview/scim/v2/`): `Me`, `Users`, `Groups`, `ServicePrincipals`
//! with list (filter, `startIndex`, `count`), create (201), get, replace (PUT), PATCH and delete.
//!
//! PATCH supports add / remove / replace on `members` (groups), `entitlements`, `roles`, plus
//! `active`, `displayName` and `externalId`; removals by `members[value eq "id"]`,
//! `roles[value eq "arn"]`, `entitlements[value eq "x"]` or a value list. `groups` on users and
//! service principals is a read-only view of direct memberships. Built-in groups `admins` and
//! `users` exist from the start; every new user and service principal joins `users`.
//!
//! Choices where the vendor is silent: ids are 16-digit numeric strings; a duplicate `userName`,
//! `applicationId` or group `displayName` is `409`; an entitlement outside the vendor's five, a
//! role that is neither a registered instance profile nor an IAM role ARN, or a member id that does not exist is `400`;
//! the built-in groups cannot be deleted (`400`). Writes need an admin (`403`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, middleware};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Ctx, WorkspaceData};
use crate::error::{ApiError, parse_json, scim_errors};
use crate::ids::{numeric_id, uuid_v4};
use crate::scim::{self as s, GROUP_SCHEMA, PatchRequest, SERVICE_PRINCIPAL_SCHEMA, USER_SCHEMA};
use crate::server::AppState;

const ENTITLEMENTS: &[&str] = &[
    "workspace-access",
    "databricks-sql-access",
    "allow-cluster-create",
    "allow-instance-pool-create",
    "workspace-consume",
];

/// Users, service principals and groups of one workspace.
#[derive(Debug)]
pub(crate) struct Directory {
    pub users: IndexMap<String, Principal>,
    pub service_principals: IndexMap<String, Principal>,
    pub groups: IndexMap<String, Group>,
}

/// A user (`name` = userName) or service principal (`name` = applicationId).
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub active: bool,
    pub external_id: Option<String>,
    pub entitlements: Vec<String>,
    pub roles: Vec<String>,
    /// Fields kept as sent (users' `name`, `emails`).
    pub extra: Map<String, Value>,
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    /// Ids of member users, service principals and groups.
    pub members: Vec<String>,
    pub entitlements: Vec<String>,
    pub roles: Vec<String>,
    pub builtin: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    ServicePrincipal,
    Group,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::ServicePrincipal => "ServicePrincipal",
            Kind::Group => "Group",
        }
    }
}

impl Directory {
    pub fn new(client_id: &str) -> Self {
        let client = Principal {
            id: numeric_id(),
            name: client_id.to_string(),
            display_name: Some(client_id.to_string()),
            active: true,
            external_id: None,
            entitlements: vec!["workspace-access".into(), "allow-cluster-create".into()],
            roles: Vec::new(),
            extra: Map::new(),
            builtin: true,
        };
        let group = |name: &str, members: Vec<String>| Group {
            id: numeric_id(),
            display_name: name.to_string(),
            external_id: None,
            members,
            entitlements: Vec::new(),
            roles: Vec::new(),
            builtin: true,
        };
        let admins = group("admins", vec![client.id.clone()]);
        let users = group("users", vec![client.id.clone()]);
        Directory {
            users: IndexMap::new(),
            service_principals: IndexMap::from([(client.id.clone(), client)]),
            groups: IndexMap::from([(admins.id.clone(), admins), (users.id.clone(), users)]),
        }
    }

    fn group_named(&self, name: &str) -> Option<&Group> {
        self.groups.values().find(|g| g.display_name == name)
    }

    /// The SCIM id of the user or service principal called `name` (userName / applicationId).
    pub fn id_of(&self, name: &str) -> Option<&str> {
        self.users
            .values()
            .chain(self.service_principals.values())
            .find(|p| p.name == name)
            .map(|p| p.id.as_str())
    }

    /// Whether the principal `name` is a member (directly, or through nested groups) of `group`.
    pub fn is_member(&self, name: &str, group: &str) -> bool {
        if group == "users" {
            return self.id_of(name).is_some();
        }
        let Some(id) = self.id_of(name) else {
            return false;
        };
        let Some(g) = self.group_named(group) else {
            return false;
        };
        self.contains(g, id, 0)
    }

    fn contains(&self, group: &Group, id: &str, depth: usize) -> bool {
        depth < 10
            && group.members.iter().any(|m| {
                m == id
                    || self
                        .groups
                        .get(m)
                        .is_some_and(|inner| self.contains(inner, id, depth + 1))
            })
    }

    pub fn is_admin(&self, name: &str) -> bool {
        self.is_member(name, "admins")
    }

    /// Whether a user name, group display name or service principal applicationId exists.
    pub fn principal_exists(&self, name: &str) -> bool {
        self.id_of(name).is_some() || self.group_named(name).is_some()
    }

    pub fn user_exists(&self, user_name: &str) -> bool {
        self.users.values().any(|u| u.name == user_name)
    }

    /// As the vendor matches a cluster's `single_user_name`: user names are e-mails, compared
    /// without regard to case.
    pub fn user_exists_ignoring_case(&self, user_name: &str) -> bool {
        self.users
            .values()
            .any(|u| u.name.eq_ignore_ascii_case(user_name))
    }

    pub fn group_exists(&self, display_name: &str) -> bool {
        self.group_named(display_name).is_some()
    }

    pub fn service_principal_exists(&self, application_id: &str) -> bool {
        self.service_principals
            .values()
            .any(|p| p.name == application_id)
    }

    fn groups_of(&self, id: &str) -> Value {
        Value::Array(
            self.groups
                .values()
                .filter(|g| g.members.iter().any(|m| m == id))
                .map(|g| {
                    json!({"value": g.id, "display": g.display_name, "type": "direct", "$ref": format!("Groups/{}", g.id)})
                })
                .collect(),
        )
    }

    fn render_user(&self, p: &Principal) -> Value {
        let mut v = Map::new();
        v.insert("schemas".into(), json!([USER_SCHEMA]));
        v.insert("id".into(), json!(p.id));
        v.insert("userName".into(), json!(p.name));
        v.insert(
            "displayName".into(),
            json!(p.display_name.clone().unwrap_or_else(|| p.name.clone())),
        );
        v.insert("active".into(), json!(p.active));
        if !p.extra.contains_key("emails") {
            v.insert(
                "emails".into(),
                json!([{"value": p.name, "type": "work", "primary": true}]),
            );
        }
        for (k, val) in &p.extra {
            v.insert(k.clone(), val.clone());
        }
        self.common(&mut v, p);
        Value::Object(v)
    }

    fn render_sp(&self, p: &Principal) -> Value {
        let mut v = Map::new();
        v.insert("schemas".into(), json!([SERVICE_PRINCIPAL_SCHEMA]));
        v.insert("id".into(), json!(p.id));
        v.insert("applicationId".into(), json!(p.name));
        v.insert(
            "displayName".into(),
            json!(p.display_name.clone().unwrap_or_else(|| p.name.clone())),
        );
        v.insert("active".into(), json!(p.active));
        self.common(&mut v, p);
        Value::Object(v)
    }

    fn common(&self, v: &mut Map<String, Value>, p: &Principal) {
        v.insert("entitlements".into(), s::value_list(&p.entitlements));
        v.insert("roles".into(), s::value_list(&p.roles));
        v.insert("groups".into(), self.groups_of(&p.id));
        if let Some(e) = &p.external_id {
            v.insert("externalId".into(), json!(e));
        }
    }

    fn render_group(&self, g: &Group) -> Value {
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| {
                let (display, reference) = if let Some(u) = self.users.get(m) {
                    (
                        u.display_name.clone().unwrap_or(u.name.clone()),
                        format!("Users/{m}"),
                    )
                } else if let Some(p) = self.service_principals.get(m) {
                    (
                        p.display_name.clone().unwrap_or(p.name.clone()),
                        format!("ServicePrincipals/{m}"),
                    )
                } else if let Some(inner) = self.groups.get(m) {
                    (inner.display_name.clone(), format!("Groups/{m}"))
                } else {
                    (String::new(), String::new())
                };
                json!({"value": m, "display": display, "$ref": reference})
            })
            .collect();
        let mut v = json!({
            "schemas": [GROUP_SCHEMA],
            "id": g.id,
            "displayName": g.display_name,
            "members": members,
            "entitlements": s::value_list(&g.entitlements),
            "roles": s::value_list(&g.roles),
            "groups": self.groups_of(&g.id),
            "meta": {"resourceType": "WorkspaceGroup"},
        });
        if let Some(e) = &g.external_id {
            v["externalId"] = json!(e);
        }
        v
    }

    fn render(&self, kind: Kind, id: &str) -> Option<Value> {
        match kind {
            Kind::User => self.users.get(id).map(|p| self.render_user(p)),
            Kind::ServicePrincipal => self.service_principals.get(id).map(|p| self.render_sp(p)),
            Kind::Group => self.groups.get(id).map(|g| self.render_group(g)),
        }
    }

    fn all(&self, kind: Kind) -> Vec<Value> {
        match kind {
            Kind::User => self.users.values().map(|p| self.render_user(p)).collect(),
            Kind::ServicePrincipal => self
                .service_principals
                .values()
                .map(|p| self.render_sp(p))
                .collect(),
            Kind::Group => self.groups.values().map(|g| self.render_group(g)).collect(),
        }
    }

    fn remove_member_everywhere(&mut self, id: &str) {
        for g in self.groups.values_mut() {
            g.members.retain(|m| m != id);
        }
    }

    pub fn inventory_users(&self) -> Vec<Value> {
        self.users
            .values()
            .filter(|p| !p.builtin)
            .map(|p| json!({"id": p.id, "userName": p.name}))
            .collect()
    }

    pub fn inventory_service_principals(&self) -> Vec<Value> {
        self.service_principals
            .values()
            .filter(|p| !p.builtin)
            .map(|p| json!({"id": p.id, "applicationId": p.name, "displayName": p.display_name}))
            .collect()
    }

    pub fn inventory_groups(&self) -> Vec<Value> {
        self.groups
            .values()
            .filter(|g| !g.builtin)
            .map(|g| json!({"id": g.id, "displayName": g.display_name}))
            .collect()
    }
}

/// The fields a POST or PUT may carry, for all three kinds.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    user_name: Option<String>,
    application_id: Option<String>,
    display_name: Option<String>,
    active: Option<bool>,
    external_id: Option<String>,
    entitlements: Option<Value>,
    roles: Option<Value>,
    members: Option<Value>,
    groups: Option<Value>,
    name: Option<Value>,
    emails: Option<Value>,
}

pub(crate) fn routes() -> Router<AppState> {
    let base = "/api/2.0/preview/scim/v2";
    Router::new()
        .route(&format!("{base}/Me"), get(me))
        .route(&format!("{base}/Users"), get(list_users).post(create_user))
        .route(
            &format!("{base}/Users/{{id}}"),
            get(get_user)
                .put(put_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route(
            &format!("{base}/Groups"),
            get(list_groups).post(create_group),
        )
        .route(
            &format!("{base}/Groups/{{id}}"),
            get(get_group)
                .put(put_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route(
            &format!("{base}/ServicePrincipals"),
            get(list_sps).post(create_sp),
        )
        .route(
            &format!("{base}/ServicePrincipals/{{id}}"),
            get(get_sp).put(put_sp).patch(patch_sp).delete(delete_sp),
        )
        .route_layer(middleware::from_fn(scim_errors))
}

#[derive(Deserialize)]
struct IdParam {
    id: String,
}

type Q = Query<HashMap<String, String>>;
type Resp = Result<Json<Value>, ApiError>;
type Created = Result<(StatusCode, Json<Value>), ApiError>;

async fn me(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Resp {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let dir = &data.directory;
    if let Some(p) = dir
        .service_principals
        .values()
        .find(|p| p.name == ctx.caller.name)
    {
        // The vendor answers `Me` for a service principal with its application id as `userName`.
        let mut rendered = dir.render_sp(p);
        if let Value::Object(map) = &mut rendered {
            map.insert("userName".into(), json!(p.name));
        }
        return Ok(Json(rendered));
    }
    if let Some(p) = dir.users.values().find(|p| p.name == ctx.caller.name) {
        return Ok(Json(dir.render_user(p)));
    }
    // An account service principal not (yet) added to this workspace.
    Ok(Json(json!({
        "schemas": [SERVICE_PRINCIPAL_SCHEMA],
        "id": "0",
        "userName": ctx.caller.name,
        "applicationId": ctx.caller.name,
        "displayName": ctx.caller.name,
        "active": true,
        "entitlements": [],
        "roles": [],
        "groups": [],
    })))
}

fn list(app: &AppState, ctx: &Ctx, kind: Kind, query: &HashMap<String, String>) -> Resp {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    s::list_response(data.directory.all(kind), query).map(Json)
}

fn read(app: &AppState, ctx: &Ctx, kind: Kind, id: &str) -> Resp {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.directory
        .render(kind, id)
        .map(Json)
        .ok_or_else(|| not_found(kind, id))
}

fn not_found(kind: Kind, id: &str) -> ApiError {
    ApiError::not_found(format!("{} {id} not found", kind.label()))
}

async fn list_users(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Resp {
    list(&app, &ctx, Kind::User, &q)
}
async fn list_groups(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Resp {
    list(&app, &ctx, Kind::Group, &q)
}
async fn list_sps(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Resp {
    list(&app, &ctx, Kind::ServicePrincipal, &q)
}
async fn get_user(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Resp {
    read(&app, &ctx, Kind::User, &p.id)
}
async fn get_group(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Resp {
    read(&app, &ctx, Kind::Group, &p.id)
}
async fn get_sp(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Resp {
    read(&app, &ctx, Kind::ServicePrincipal, &p.id)
}
async fn create_user(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Created {
    create(&app, &ctx, Kind::User, &body)
}
async fn create_group(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Created {
    create(&app, &ctx, Kind::Group, &body)
}
async fn create_sp(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Created {
    create(&app, &ctx, Kind::ServicePrincipal, &body)
}
async fn put_user(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Resp {
    replace(&app, &ctx, Kind::User, &p.id, &body)
}
async fn put_group(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Resp {
    replace(&app, &ctx, Kind::Group, &p.id, &body)
}
async fn put_sp(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Resp {
    replace(&app, &ctx, Kind::ServicePrincipal, &p.id, &body)
}
async fn patch_user(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Resp {
    patch(&app, &ctx, Kind::User, &p.id, &body)
}
async fn patch_group(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Resp {
    patch(&app, &ctx, Kind::Group, &p.id, &body)
}
async fn patch_sp(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
    body: Bytes,
) -> Resp {
    patch(&app, &ctx, Kind::ServicePrincipal, &p.id, &body)
}
async fn delete_user(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<StatusCode, ApiError> {
    remove(&app, &ctx, Kind::User, &p.id)
}
async fn delete_group(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<StatusCode, ApiError> {
    remove(&app, &ctx, Kind::Group, &p.id)
}
async fn delete_sp(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(p): Path<IdParam>,
) -> Result<StatusCode, ApiError> {
    remove(&app, &ctx, Kind::ServicePrincipal, &p.id)
}

fn check_entitlements(values: &[String]) -> Result<(), ApiError> {
    match values.iter().find(|v| !ENTITLEMENTS.contains(&v.as_str())) {
        Some(bad) => Err(ApiError::invalid(format!(
            "Invalid entitlement `{bad}`; expected one of {}",
            ENTITLEMENTS.join(", ")
        ))),
        None => Ok(()),
    }
}

/// A role is a registered instance profile, or an IAM role ARN (the vendor's role chaining
/// through a meta instance profile grants groups IAM roles by ARN).
fn check_roles(data: &WorkspaceData, values: &[String]) -> Result<(), ApiError> {
    match values
        .iter()
        .find(|v| !data.instance_profiles.contains_key(v.as_str()) && !is_iam_role_arn(v))
    {
        Some(bad) => Err(ApiError::invalid(format!(
            "Role `{bad}` is neither a registered instance profile of this workspace nor an IAM role ARN"
        ))),
        None => Ok(()),
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path and name>`.
fn is_iam_role_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

fn check_members(dir: &Directory, values: &[String], own_id: Option<&str>) -> Result<(), ApiError> {
    for m in values {
        let exists = dir.users.contains_key(m)
            || dir.service_principals.contains_key(m)
            || dir.groups.contains_key(m);
        if !exists {
            return Err(ApiError::invalid(format!("Member {m} does not exist")));
        }
        if Some(m.as_str()) == own_id {
            return Err(ApiError::invalid("A group cannot be a member of itself"));
        }
    }
    Ok(())
}

fn create(app: &AppState, ctx: &Ctx, kind: Kind, body: &[u8]) -> Created {
    let req: Body = parse_json(body)?;
    let entitlements = s::values(req.entitlements.as_ref())?;
    let roles = s::values(req.roles.as_ref())?;
    check_entitlements(&entitlements)?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    check_roles(data, &roles)?;
    if req.groups.is_some() && kind != Kind::Group {
        return Err(s::invalid_path(
            "groups is read-only; add members to the group instead",
        ));
    }
    let dir = &mut data.directory;
    let id = numeric_id();
    match kind {
        Kind::Group => {
            let name = req
                .display_name
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| ApiError::invalid("Missing required field: displayName"))?;
            if dir.group_exists(&name) {
                return Err(ApiError::already_exists(format!(
                    "Group with name {name} already exists."
                )));
            }
            let members = s::values(req.members.as_ref())?;
            check_members(dir, &members, None)?;
            dir.groups.insert(
                id.clone(),
                Group {
                    id: id.clone(),
                    display_name: name,
                    external_id: req.external_id,
                    members,
                    entitlements,
                    roles,
                    builtin: false,
                },
            );
        }
        Kind::User | Kind::ServicePrincipal => {
            let name = if kind == Kind::User {
                req.user_name
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| ApiError::invalid("Missing required field: userName"))?
            } else {
                req.application_id
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(uuid_v4)
            };
            if dir.id_of(&name).is_some() {
                return Err(ApiError::already_exists(format!(
                    "{} with name {name} already exists.",
                    kind.label()
                )));
            }
            let mut extra = Map::new();
            if let Some(n) = req.name {
                extra.insert("name".into(), n);
            }
            if let Some(e) = req.emails {
                extra.insert("emails".into(), e);
            }
            let principal = Principal {
                id: id.clone(),
                name,
                display_name: req.display_name,
                active: req.active.unwrap_or(true),
                external_id: req.external_id,
                entitlements,
                roles,
                extra,
                builtin: false,
            };
            if kind == Kind::User {
                dir.users.insert(id.clone(), principal);
            } else {
                dir.service_principals.insert(id.clone(), principal);
            }
            if let Some(users) = dir.groups.values_mut().find(|g| g.display_name == "users") {
                users.members.push(id.clone());
            }
        }
    }
    let rendered = dir.render(kind, &id).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(rendered)))
}

fn replace(app: &AppState, ctx: &Ctx, kind: Kind, id: &str, body: &[u8]) -> Resp {
    let req: Body = parse_json(body)?;
    let entitlements = s::values(req.entitlements.as_ref())?;
    let roles = s::values(req.roles.as_ref())?;
    check_entitlements(&entitlements)?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    check_roles(data, &roles)?;
    let dir = &mut data.directory;
    match kind {
        Kind::Group => {
            let members = s::values(req.members.as_ref())?;
            check_members(dir, &members, Some(id))?;
            let taken = req.display_name.as_ref().is_some_and(|n| {
                dir.groups
                    .values()
                    .any(|g| g.display_name == *n && g.id != id)
            });
            if taken {
                return Err(ApiError::already_exists(
                    "Group with that name already exists.",
                ));
            }
            let g = dir.groups.get_mut(id).ok_or_else(|| not_found(kind, id))?;
            if g.builtin
                && req
                    .display_name
                    .as_ref()
                    .is_some_and(|n| *n != g.display_name)
            {
                return Err(ApiError::invalid("Built-in groups cannot be renamed"));
            }
            if let Some(n) = req.display_name {
                g.display_name = n;
            }
            g.members = members;
            g.entitlements = entitlements;
            g.roles = roles;
            g.external_id = req.external_id;
        }
        Kind::User | Kind::ServicePrincipal => {
            let map = if kind == Kind::User {
                &mut dir.users
            } else {
                &mut dir.service_principals
            };
            let p = map.get_mut(id).ok_or_else(|| not_found(kind, id))?;
            let sent = if kind == Kind::User {
                req.user_name
            } else {
                req.application_id
            };
            if sent.as_ref().is_some_and(|n| *n != p.name) {
                return Err(ApiError::invalid(if kind == Kind::User {
                    "userName cannot be changed"
                } else {
                    "applicationId cannot be changed"
                }));
            }
            p.display_name = req.display_name.or(p.display_name.take());
            p.active = req.active.unwrap_or(true);
            p.external_id = req.external_id;
            p.entitlements = entitlements;
            p.roles = roles;
            if let Some(n) = req.name {
                p.extra.insert("name".into(), n);
            }
            if let Some(e) = req.emails {
                p.extra.insert("emails".into(), e);
            }
        }
    }
    Ok(Json(dir.render(kind, id).unwrap_or(Value::Null)))
}

/// The attributes a PATCH may touch, common to the three kinds.
struct Patchable<'a> {
    display_name: Option<&'a mut Option<String>>,
    group_name: Option<&'a mut String>,
    active: Option<&'a mut bool>,
    external_id: &'a mut Option<String>,
    entitlements: &'a mut Vec<String>,
    roles: &'a mut Vec<String>,
    members: Option<&'a mut Vec<String>>,
}

fn patch(app: &AppState, ctx: &Ctx, kind: Kind, id: &str, body: &[u8]) -> Resp {
    let req: PatchRequest = parse_json(body)?;
    req.check()?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    // Work on copies so a failing operation leaves the object unchanged.
    let mut principal = match kind {
        Kind::User => data.directory.users.get(id).cloned(),
        Kind::ServicePrincipal => data.directory.service_principals.get(id).cloned(),
        Kind::Group => None,
    };
    let mut group = data.directory.groups.get(id).cloned();
    {
        let mut target = match (kind, principal.as_mut(), group.as_mut()) {
            (Kind::Group, _, Some(g)) => Patchable {
                display_name: None,
                group_name: Some(&mut g.display_name),
                active: None,
                external_id: &mut g.external_id,
                entitlements: &mut g.entitlements,
                roles: &mut g.roles,
                members: Some(&mut g.members),
            },
            (Kind::User | Kind::ServicePrincipal, Some(p), _) => Patchable {
                display_name: Some(&mut p.display_name),
                group_name: None,
                active: Some(&mut p.active),
                external_id: &mut p.external_id,
                entitlements: &mut p.entitlements,
                roles: &mut p.roles,
                members: None,
            },
            _ => return Err(not_found(kind, id)),
        };
        for op in &req.operations {
            let op_name = op.op.to_ascii_lowercase();
            match &op.path {
                None => {
                    let Some(Value::Object(fields)) = &op.value else {
                        return Err(s::invalid_path(
                            "An operation without path needs an object value",
                        ));
                    };
                    for (k, v) in fields {
                        let path = s::parse_path(k)?;
                        apply(&mut target, &op_name, &path, Some(v))?;
                    }
                }
                Some(p) => {
                    let path = s::parse_path(p)?;
                    apply(&mut target, &op_name, &path, op.value.as_ref())?;
                }
            }
        }
        check_entitlements(target.entitlements)?;
        check_roles(data, target.roles)?;
        if let Some(m) = &target.members {
            check_members(&data.directory, m, Some(id))?;
        }
    }
    let dir = &mut data.directory;
    if let Some(g) = group.filter(|_| kind == Kind::Group) {
        let taken = dir
            .groups
            .values()
            .any(|other| other.display_name == g.display_name && other.id != id);
        if taken {
            return Err(ApiError::already_exists(
                "Group with that name already exists.",
            ));
        }
        dir.groups.insert(id.to_string(), g);
    } else if let Some(p) = principal {
        if kind == Kind::User {
            dir.users.insert(id.to_string(), p);
        } else {
            dir.service_principals.insert(id.to_string(), p);
        }
    }
    Ok(Json(dir.render(kind, id).unwrap_or(Value::Null)))
}

fn apply(
    target: &mut Patchable<'_>,
    op: &str,
    path: &s::PatchPath,
    value: Option<&Value>,
) -> Result<(), ApiError> {
    let no_such = || {
        s::invalid_path(format!(
            "No such attribute with the name : {} in the current resource",
            path.attribute
        ))
    };
    match path.attribute.as_str() {
        "members" => {
            let members = target.members.as_deref_mut().ok_or_else(no_such)?;
            s::apply_values(members, op, path, s::values(value)?);
        }
        "entitlements" => s::apply_values(target.entitlements, op, path, s::values(value)?),
        "roles" => s::apply_values(target.roles, op, path, s::values(value)?),
        "groups" => {
            return Err(s::invalid_path(
                "groups is read-only; PATCH the group's members instead",
            ));
        }
        "active" => {
            let active = target.active.as_deref_mut().ok_or_else(no_such)?;
            *active = match value {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
                _ => return Err(ApiError::invalid("active must be a boolean")),
            };
        }
        "displayname" => {
            let name = match value {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                _ => return Err(ApiError::invalid("displayName must be a non-empty string")),
            };
            if let Some(d) = target.display_name.as_deref_mut() {
                *d = Some(name);
            } else if let Some(g) = target.group_name.as_deref_mut() {
                *g = name;
            }
        }
        "externalid" => {
            *target.external_id = value.and_then(Value::as_str).map(str::to_string);
        }
        _ => return Err(no_such()),
    }
    Ok(())
}

fn remove(app: &AppState, ctx: &Ctx, kind: Kind, id: &str) -> Result<StatusCode, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let dir = &mut data.directory;
    let removed_name = match kind {
        Kind::User => dir.users.get(id).map(|p| (p.name.clone(), p.builtin)),
        Kind::ServicePrincipal => dir
            .service_principals
            .get(id)
            .map(|p| (p.name.clone(), p.builtin)),
        Kind::Group => dir
            .groups
            .get(id)
            .map(|g| (g.display_name.clone(), g.builtin)),
    };
    let Some((name, builtin)) = removed_name else {
        return Err(not_found(kind, id));
    };
    if builtin {
        return Err(ApiError::invalid(format!(
            "{} {name} is built in and cannot be deleted",
            kind.label()
        )));
    }
    match kind {
        Kind::User => {
            dir.users.shift_remove(id);
        }
        Kind::ServicePrincipal => {
            dir.service_principals.shift_remove(id);
        }
        Kind::Group => {
            dir.groups.shift_remove(id);
        }
    }
    dir.remove_member_everywhere(id);
    super::permissions::forget_principal(data, &name);
    Ok(StatusCode::NO_CONTENT)
}
