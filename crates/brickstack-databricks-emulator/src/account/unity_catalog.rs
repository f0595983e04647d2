//! Account-level Unity Catalog: metastores (`/metastores`), their assignment to workspaces
//! (`/workspaces/{id}/metastores/{metastore_id}`, `/workspaces/{id}/metastore`,
//! `/metastores/{id}/workspaces`) and the metastore's storage credentials
//! (`/metastores/{id}/storage-credentials`).
//!
//! Rules the vendor enforces and the emulator copies: one metastore per region per account, a
//! workspace has at most one metastore and only one of its own region, a metastore that is assigned
//! or holds storage credentials, catalogs or external locations is deleted only with
//! `?force=true`, and so is a storage credential an external location uses. The catalogs and
//! everything else inside a metastore are served by the workspace API
//! (`workspace::unity_catalog`); a metastore update accepts `new_name` (the vendor's field) or
//! `name`. Choices where the vendor is
//! silent or its wording is not documented (inferred): a duplicate metastore or credential name is
//! `409 RESOURCE_ALREADY_EXISTS`; region and non-empty-delete refusals are
//! `400 INVALID_PARAMETER_VALUE` / `400 INVALID_STATE` with messages modelled on the vendor's;
//! `owner`, `created_by` and `updated_by` are the configured client id; timestamps are
//! emulator-clock epoch milliseconds.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::{AppState, Empty};
use crate::state::Account;
use crate::workspace::unity_catalog::MetastoreObjects;

/// The IAM role Unity Catalog assumes on AWS; a storage credential's role must trust it.
pub(crate) const UNITY_CATALOG_IAM_ARN: &str =
    "arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL";

/// A metastore (`MetastoreInfo`), with its storage credentials by name.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Metastore {
    pub metastore_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    pub owner: String,
    pub cloud: &'static str,
    pub global_metastore_id: String,
    pub privilege_model_version: &'static str,
    pub external_access_enabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    #[serde(skip)]
    pub storage_credentials: IndexMap<String, StorageCredential>,
    /// External locations, catalogs, schemas, tables, grants and system schemas (the workspace
    /// API's `workspace::unity_catalog`).
    #[serde(skip)]
    pub objects: MetastoreObjects,
}

/// A storage credential (`StorageCredentialInfo`, AWS IAM role flavour).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StorageCredential {
    pub id: String,
    pub name: String,
    pub full_name: String,
    pub metastore_id: String,
    pub owner: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub aws_iam_role: AwsIamRole,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AwsIamRole {
    pub role_arn: String,
    /// Generated at create; the role's trust policy must require it as `sts:ExternalId`.
    pub external_id: String,
    pub unity_catalog_iam_arn: &'static str,
}

/// A workspace's metastore assignment.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MetastoreAssignment {
    pub workspace_id: i64,
    pub metastore_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_catalog_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct MetastoreFields {
    name: Option<String>,
    /// The update's rename (`UpdateMetastore.new_name`); `name` is accepted too.
    new_name: Option<String>,
    region: Option<String>,
    storage_root: Option<String>,
    external_access_enabled: Option<bool>,
    owner: Option<String>,
}

#[derive(Deserialize)]
struct MetastoreRequest {
    metastore_info: Option<MetastoreFields>,
}

#[derive(Deserialize, Default)]
struct AssignmentFields {
    metastore_id: Option<String>,
    default_catalog_name: Option<String>,
}

#[derive(Deserialize)]
struct AssignmentRequest {
    metastore_assignment: Option<AssignmentFields>,
}

#[derive(Deserialize)]
struct RoleFields {
    role_arn: Option<String>,
}

#[derive(Deserialize, Default)]
struct CredentialFields {
    name: Option<String>,
    aws_iam_role: Option<RoleFields>,
    comment: Option<String>,
    read_only: Option<bool>,
    owner: Option<String>,
}

#[derive(Deserialize)]
struct CredentialRequest {
    credential_info: Option<CredentialFields>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/metastores",
            post(create_metastore).get(list_metastores),
        )
        .route(
            "/api/2.0/accounts/{account_id}/metastores/{metastore_id}",
            get(read_metastore)
                .put(update_metastore)
                .delete(delete_metastore),
        )
        .route(
            "/api/2.0/accounts/{account_id}/metastores/{metastore_id}/workspaces",
            get(assigned_workspaces),
        )
        .route(
            "/api/2.0/accounts/{account_id}/workspaces/{workspace_id}/metastores/{metastore_id}",
            post(assign).put(update_assignment).delete(unassign),
        )
        .route(
            "/api/2.0/accounts/{account_id}/workspaces/{workspace_id}/metastore",
            get(read_assignment),
        )
        .route(
            "/api/2.0/accounts/{account_id}/metastores/{metastore_id}/storage-credentials",
            post(create_credential).get(list_credentials),
        )
        .route(
            "/api/2.0/accounts/{account_id}/metastores/{metastore_id}/storage-credentials/{name}",
            get(read_credential)
                .put(update_credential)
                .delete(delete_credential),
        )
}

fn metastore_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Metastore '{id}' does not exist."))
}

fn metastore<'a>(account: &'a mut Account, id: &str) -> Result<&'a mut Metastore, ApiError> {
    account
        .metastores
        .get_mut(id)
        .ok_or_else(|| metastore_not_found(id))
}

fn wrap(m: &Metastore) -> Json<Value> {
    Json(json!({ "metastore_info": m }))
}

async fn create_metastore(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: MetastoreRequest = parse_json(&body)?;
    let info = req.metastore_info.unwrap_or_default();
    let name = required(&info.name, "metastore_info.name")?.to_string();
    let region = required(&info.region, "metastore_info.region")?.to_string();
    let now = app.now_ms();
    let caller = app.config().client_id.clone();
    let mut state = app.lock();
    let account = state.account(&account_id);
    if account.metastores.values().any(|m| m.name == name) {
        return Err(ApiError::already_exists(format!(
            "Metastore '{name}' already exists."
        )));
    }
    if let Some(other) = account
        .metastores
        .values()
        .find(|m| m.region.as_deref() == Some(&region))
    {
        return Err(ApiError::invalid(format!(
            "This account already has a metastore in region {region} ({}); only one metastore per region is allowed.",
            other.name
        )));
    }
    let id = uuid_v4();
    let metastore = Metastore {
        global_metastore_id: format!("aws:{region}:{id}"),
        metastore_id: id.clone(),
        name,
        region: Some(region),
        storage_root: info.storage_root.filter(|s| !s.is_empty()),
        owner: info.owner.unwrap_or_else(|| caller.clone()),
        cloud: "aws",
        privilege_model_version: "1.0",
        external_access_enabled: info.external_access_enabled.unwrap_or(false),
        created_at: now,
        created_by: caller.clone(),
        updated_at: now,
        updated_by: caller,
        storage_credentials: IndexMap::new(),
        objects: MetastoreObjects::default(),
    };
    let out = wrap(&metastore);
    account.metastores.insert(id, metastore);
    Ok(out)
}

async fn list_metastores(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> Json<Value> {
    let mut state = app.lock();
    let list: Vec<&Metastore> = state.account(&account_id).metastores.values().collect();
    Json(json!({ "metastores": list }))
}

async fn read_metastore(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    Ok(wrap(metastore(state.account(&account_id), &id)?))
}

/// Name, storage root, owner and external access can change; the region cannot.
async fn update_metastore(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: MetastoreRequest = parse_json(&body)?;
    let info = req.metastore_info.unwrap_or_default();
    let now = app.now_ms();
    let caller = app.config().client_id.clone();
    let mut state = app.lock();
    let account = state.account(&account_id);
    let current = metastore(account, &id)?.clone();
    let info = MetastoreFields {
        name: info.new_name.clone().or(info.name),
        ..info
    };
    if let Some(name) = info.name.as_deref().filter(|n| !n.is_empty())
        && account
            .metastores
            .values()
            .any(|m| m.name == name && m.metastore_id != id)
    {
        return Err(ApiError::already_exists(format!(
            "Metastore '{name}' already exists."
        )));
    }
    if let Some(region) = info.region.as_deref()
        && current.region.as_deref() != Some(region)
    {
        return Err(ApiError::invalid(format!(
            "The region of metastore '{}' cannot be changed.",
            current.name
        )));
    }
    let m = metastore(account, &id)?;
    if let Some(name) = info.name.filter(|n| !n.is_empty()) {
        m.name = name;
    }
    if let Some(root) = info.storage_root {
        m.storage_root = Some(root).filter(|s| !s.is_empty());
    }
    if let Some(owner) = info.owner.filter(|o| !o.is_empty()) {
        m.owner = owner;
    }
    if let Some(enabled) = info.external_access_enabled {
        m.external_access_enabled = enabled;
    }
    m.updated_at = now;
    m.updated_by = caller;
    Ok(wrap(m))
}

async fn delete_metastore(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Empty>, ApiError> {
    let force = query.get("force").is_some_and(|f| f == "true");
    let mut state = app.lock();
    let account = state.account(&account_id);
    let m = metastore(account, &id)?;
    let credentials = m.storage_credentials.len();
    let catalogs = m.objects.catalogs.len() + m.objects.external_locations.len();
    let name = m.name.clone();
    let workspaces = assigned(account, &id);
    if !force && (!workspaces.is_empty() || credentials > 0 || catalogs > 0) {
        return Err(ApiError::invalid_state(format!(
            "Metastore '{name}' is not empty: it is assigned to {} workspace(s) and holds {credentials} storage credential(s) and {catalogs} catalog(s) or external location(s). Use force=true to delete it anyway.",
            workspaces.len()
        )));
    }
    account.metastores.shift_remove(&id);
    account
        .metastore_assignments
        .retain(|_, a| a.metastore_id != id);
    Ok(Json(Empty {}))
}

/// Workspace ids assigned to the metastore, in assignment order.
fn assigned(account: &Account, metastore_id: &str) -> Vec<i64> {
    account
        .metastore_assignments
        .values()
        .filter(|a| a.metastore_id == metastore_id)
        .map(|a| a.workspace_id)
        .collect()
}

async fn assigned_workspaces(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    metastore(account, &id)?;
    Ok(Json(json!({ "workspace_ids": assigned(account, &id) })))
}

fn workspace_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::invalid(format!("Invalid workspace_id {id}: expected an integer")))
}

/// The body's `metastore_id`, when sent, must be the path's.
fn assignment_body(body: &[u8], metastore_id: &str) -> Result<AssignmentFields, ApiError> {
    let req: AssignmentRequest = parse_json(body)?;
    let fields = req.metastore_assignment.unwrap_or_default();
    if let Some(id) = fields.metastore_id.as_deref().filter(|i| !i.is_empty())
        && id != metastore_id
    {
        return Err(ApiError::invalid(format!(
            "metastore_assignment.metastore_id {id} does not match the metastore_id {metastore_id} in the path"
        )));
    }
    Ok(fields)
}

async fn assign(
    State(app): State<AppState>,
    Path((account_id, ws, metastore_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Empty>, ApiError> {
    let ws = workspace_id(&ws)?;
    let fields = assignment_body(&body, &metastore_id)?;
    let mut state = app.lock();
    let account = state.account(&account_id);
    let workspace = account
        .workspaces
        .get(&ws)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {ws} does not exist")))?;
    let region = workspace.aws_region.clone();
    let m = metastore(account, &metastore_id)?;
    if m.region != region {
        return Err(ApiError::invalid(format!(
            "Metastore '{}' is in region {} but workspace {ws} is in region {}; a workspace can only be assigned a metastore in its own region.",
            m.name,
            m.region.as_deref().unwrap_or("(none)"),
            region.as_deref().unwrap_or("(none)")
        )));
    }
    if let Some(existing) = account.metastore_assignments.get(&ws) {
        return Err(ApiError::invalid_state(format!(
            "Workspace {ws} already has metastore {} assigned; a workspace can have only one metastore. Delete that assignment first.",
            existing.metastore_id
        )));
    }
    account.metastore_assignments.insert(
        ws,
        MetastoreAssignment {
            workspace_id: ws,
            metastore_id,
            default_catalog_name: fields.default_catalog_name,
        },
    );
    Ok(Json(Empty {}))
}

fn assignment<'a>(
    account: &'a mut Account,
    ws: i64,
    metastore_id: &str,
) -> Result<&'a mut MetastoreAssignment, ApiError> {
    account
        .metastore_assignments
        .get_mut(&ws)
        .filter(|a| a.metastore_id == metastore_id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Workspace {ws} is not assigned to metastore '{metastore_id}'."
            ))
        })
}

async fn update_assignment(
    State(app): State<AppState>,
    Path((account_id, ws, metastore_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Empty>, ApiError> {
    let ws = workspace_id(&ws)?;
    let fields = assignment_body(&body, &metastore_id)?;
    let mut state = app.lock();
    let a = assignment(state.account(&account_id), ws, &metastore_id)?;
    if fields.default_catalog_name.is_some() {
        a.default_catalog_name = fields.default_catalog_name;
    }
    Ok(Json(Empty {}))
}

async fn unassign(
    State(app): State<AppState>,
    Path((account_id, ws, metastore_id)): Path<(String, String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let ws = workspace_id(&ws)?;
    let mut state = app.lock();
    let account = state.account(&account_id);
    assignment(account, ws, &metastore_id)?;
    account.metastore_assignments.shift_remove(&ws);
    Ok(Json(Empty {}))
}

async fn read_assignment(
    State(app): State<AppState>,
    Path((account_id, ws)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let ws = workspace_id(&ws)?;
    let mut state = app.lock();
    let a = state
        .account(&account_id)
        .metastore_assignments
        .get(&ws)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {ws} has no metastore assigned.")))?;
    Ok(Json(json!({ "metastore_assignment": a })))
}

fn credential_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Storage Credential '{name}' does not exist."))
}

fn wrap_credential(c: &StorageCredential) -> Json<Value> {
    Json(json!({ "credential_info": c }))
}

async fn create_credential(
    State(app): State<AppState>,
    Path((account_id, metastore_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CredentialRequest = parse_json(&body)?;
    let info = req.credential_info.unwrap_or_default();
    // Stored in lower case, as the workspace API keeps every Unity Catalog name.
    let name = required(&info.name, "credential_info.name")?.to_lowercase();
    let role_arn = info.aws_iam_role.and_then(|r| r.role_arn);
    let role_arn = required(&role_arn, "credential_info.aws_iam_role.role_arn")?.to_string();
    if !role_arn.starts_with("arn:aws:iam::") {
        return Err(ApiError::invalid(format!(
            "Invalid role_arn {role_arn}: expected arn:aws:iam::<account>:role/<name>"
        )));
    }
    let now = app.now_ms();
    let caller = app.config().client_id.clone();
    let mut state = app.lock();
    let m = metastore(state.account(&account_id), &metastore_id)?;
    if m.storage_credentials.contains_key(&name) {
        return Err(ApiError::already_exists(format!(
            "Storage Credential '{name}' already exists."
        )));
    }
    let credential = StorageCredential {
        id: uuid_v4(),
        full_name: name.clone(),
        name: name.clone(),
        metastore_id,
        owner: info.owner.unwrap_or_else(|| caller.clone()),
        read_only: info.read_only.unwrap_or(false),
        comment: info.comment.filter(|c| !c.is_empty()),
        aws_iam_role: AwsIamRole {
            role_arn,
            external_id: uuid_v4(),
            unity_catalog_iam_arn: UNITY_CATALOG_IAM_ARN,
        },
        created_at: now,
        created_by: caller.clone(),
        updated_at: now,
        updated_by: caller,
    };
    let out = wrap_credential(&credential);
    m.storage_credentials.insert(name, credential);
    Ok(out)
}

async fn list_credentials(
    State(app): State<AppState>,
    Path((account_id, metastore_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let m = metastore(state.account(&account_id), &metastore_id)?;
    let list: Vec<&StorageCredential> = m.storage_credentials.values().collect();
    Ok(Json(json!({ "storage_credentials": list })))
}

async fn read_credential(
    State(app): State<AppState>,
    Path((account_id, metastore_id, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let name = name.to_lowercase();
    let mut state = app.lock();
    let m = metastore(state.account(&account_id), &metastore_id)?;
    m.storage_credentials
        .get(&name)
        .map(wrap_credential)
        .ok_or_else(|| credential_not_found(&name))
}

/// Comment, read-only flag, owner, role ARN and name can change; the external id stays.
async fn update_credential(
    State(app): State<AppState>,
    Path((account_id, metastore_id, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = name.to_lowercase();
    let req: CredentialRequest = parse_json(&body)?;
    let info = req.credential_info.unwrap_or_default();
    let now = app.now_ms();
    let caller = app.config().client_id.clone();
    let mut state = app.lock();
    let m = metastore(state.account(&account_id), &metastore_id)?;
    let mut c = m
        .storage_credentials
        .get(&name)
        .cloned()
        .ok_or_else(|| credential_not_found(&name))?;
    let new_name = info
        .name
        .map(|n| n.to_lowercase())
        .filter(|n| !n.is_empty() && *n != name);
    if let Some(n) = &new_name
        && m.storage_credentials.contains_key(n)
    {
        return Err(ApiError::already_exists(format!(
            "Storage Credential '{n}' already exists."
        )));
    }
    if let Some(arn) = info.aws_iam_role.and_then(|r| r.role_arn) {
        c.aws_iam_role.role_arn = arn;
    }
    if let Some(comment) = info.comment {
        c.comment = Some(comment).filter(|c| !c.is_empty());
    }
    if let Some(read_only) = info.read_only {
        c.read_only = read_only;
    }
    if let Some(owner) = info.owner.filter(|o| !o.is_empty()) {
        c.owner = owner;
    }
    c.updated_at = now;
    c.updated_by = caller;
    if let Some(n) = new_name {
        m.storage_credentials.shift_remove(&name);
        c.name = n.clone();
        c.full_name = n;
    }
    let out = wrap_credential(&c);
    m.storage_credentials.insert(c.name.clone(), c);
    Ok(out)
}

async fn delete_credential(
    State(app): State<AppState>,
    Path((account_id, metastore_id, name)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Empty>, ApiError> {
    let name = name.to_lowercase();
    let mut state = app.lock();
    let m = metastore(state.account(&account_id), &metastore_id)?;
    if !m.storage_credentials.contains_key(&name) {
        return Err(credential_not_found(&name));
    }
    if let Some(l) = m
        .objects
        .external_locations
        .values()
        .find(|l| l.credential_name == name)
        && query.get("force").is_none_or(|f| f != "true")
    {
        return Err(ApiError::invalid_state(format!(
            "Storage Credential '{name}' cannot be deleted because it is used by external location '{}'. Use force=true to delete it anyway.",
            l.name
        )));
    }
    m.storage_credentials.shift_remove(&name);
    Ok(Json(Empty {}))
}
