//! Storage credentials on the workspace API (`/storage-credentials`): the same objects the
//! account API keeps under `/metastores/{id}/storage-credentials`, in the workspace API's shape
//! (not wrapped in `credential_info`). `aws_iam_role.role_arn` goes in; `external_id` (generated)
//! and `unity_catalog_iam_arn` (the Databricks role that assumes it) come out.
//!
//! The emulator cannot assume a role, so validation never fails and `skip_validation` changes
//! nothing. A credential external locations use is deleted only with `force=true`
//! (`400 INVALID_STATE` otherwise; inferred wording).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{UC, Uc, already_exists, does_not_exist, object_name};
use crate::account::unity_catalog::{AwsIamRole, StorageCredential, UNITY_CATALOG_IAM_ARN};
use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::AppState;
use crate::workspace::{Ctx, empty};

#[derive(Deserialize)]
struct RoleFields {
    role_arn: Option<String>,
}

#[derive(Deserialize)]
struct CredentialRequest {
    name: Option<String>,
    new_name: Option<String>,
    aws_iam_role: Option<RoleFields>,
    comment: Option<String>,
    read_only: Option<bool>,
    owner: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{UC}/storage-credentials"), get(list).post(create))
        .route(
            &format!("{UC}/storage-credentials/{{name}}"),
            get(read).patch(update).delete(remove),
        )
}

pub(crate) fn not_found(name: &str) -> ApiError {
    does_not_exist(
        "STORAGE_CREDENTIAL_DOES_NOT_EXIST",
        format!("Storage Credential '{name}' does not exist."),
    )
}

/// `arn:aws:iam::<12 digits>:role/<name>`.
fn check_role_arn(arn: &str) -> Result<(), ApiError> {
    let ok = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(account, role)| {
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid role_arn '{arn}': expected arn:aws:iam::<account id>:role/<name>"
        )))
    }
}

/// The external location that uses credential `name`, if any.
pub(crate) fn used_by(uc: &mut Uc<'_>, name: &str) -> Option<String> {
    uc.objects()
        .external_locations
        .values()
        .find(|l| l.credential_name == name)
        .map(|l| l.name.clone())
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CredentialRequest = parse_json(&body)?;
    let name = object_name(req.name.as_deref(), "name")?;
    let role_arn = req.aws_iam_role.and_then(|r| r.role_arn);
    let role_arn = required(&role_arn, "aws_iam_role.role_arn")?.to_string();
    check_role_arn(&role_arn)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let metastore_id = uc.metastore_id.clone();
    let m = uc.metastore();
    if m.storage_credentials.contains_key(&name) {
        return Err(already_exists(
            "STORAGE_CREDENTIAL_ALREADY_EXISTS",
            format!("Storage Credential '{name}' already exists."),
        ));
    }
    let credential = StorageCredential {
        id: uuid_v4(),
        full_name: name.clone(),
        name: name.clone(),
        metastore_id,
        owner: req.owner.unwrap_or_else(|| ctx.caller.name.clone()),
        read_only: req.read_only.unwrap_or(false),
        comment: req.comment.filter(|c| !c.is_empty()),
        aws_iam_role: AwsIamRole {
            role_arn,
            external_id: uuid_v4(),
            unity_catalog_iam_arn: UNITY_CATALOG_IAM_ARN,
        },
        created_at: now,
        created_by: ctx.caller.name.clone(),
        updated_at: now,
        updated_by: ctx.caller.name.clone(),
    };
    let out = json!(credential);
    m.storage_credentials.insert(name, credential);
    Ok(Json(out))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let list: Vec<&StorageCredential> = uc.metastore().storage_credentials.values().collect();
    Ok(Json(json!({ "storage_credentials": list })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let c = uc
        .metastore()
        .storage_credentials
        .get(&name)
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(json!(c)))
}

/// Name, role ARN, comment, owner and read-only flag change; the external id stays.
async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let req: CredentialRequest = parse_json(&body)?;
    if let Some(arn) = req
        .aws_iam_role
        .as_ref()
        .and_then(|r| r.role_arn.as_deref())
    {
        check_role_arn(arn)?;
    }
    let new_name = match req.new_name.as_deref() {
        Some(n) => Some(object_name(Some(n), "new_name")?).filter(|n| *n != name),
        None => None,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let mut c = uc
        .metastore()
        .storage_credentials
        .get(&name)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    if let Some(n) = &new_name {
        if uc.metastore().storage_credentials.contains_key(n) {
            return Err(already_exists(
                "STORAGE_CREDENTIAL_ALREADY_EXISTS",
                format!("Storage Credential '{n}' already exists."),
            ));
        }
        for l in uc.objects().external_locations.values_mut() {
            if l.credential_name == name {
                l.credential_name = n.clone();
            }
        }
    }
    if let Some(arn) = req.aws_iam_role.and_then(|r| r.role_arn) {
        c.aws_iam_role.role_arn = arn;
    }
    if let Some(comment) = req.comment {
        c.comment = Some(comment).filter(|c| !c.is_empty());
    }
    if let Some(read_only) = req.read_only {
        c.read_only = read_only;
    }
    if let Some(owner) = req.owner.filter(|o| !o.is_empty()) {
        c.owner = owner;
    }
    c.updated_at = now;
    c.updated_by = ctx.caller.name.clone();
    let m = uc.metastore();
    if let Some(n) = new_name {
        m.storage_credentials.shift_remove(&name);
        c.name = n.clone();
        c.full_name = n;
    }
    let out = json!(c);
    m.storage_credentials.insert(c.name.clone(), c);
    Ok(Json(out))
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let force = query.get("force").is_some_and(|f| f == "true");
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    if !uc.metastore().storage_credentials.contains_key(&name) {
        return Err(not_found(&name));
    }
    if let Some(location) = used_by(&mut uc, &name)
        && !force
    {
        return Err(ApiError::invalid_state(format!(
            "Storage Credential '{name}' cannot be deleted because it is used by external location '{location}'. Use force=true to delete it anyway."
        )));
    }
    uc.metastore().storage_credentials.shift_remove(&name);
    Ok(empty())
}
