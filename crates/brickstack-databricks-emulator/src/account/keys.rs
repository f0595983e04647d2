//! Customer-managed keys (`/customer-managed-keys`): a KMS key for managed services and/or
//! workspace storage. Immutable: create, get, list, delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::{AppState, Empty};

/// Use case for a key used to encrypt managed services (notebooks, secrets, queries).
pub(crate) const MANAGED_SERVICES: &str = "MANAGED_SERVICES";
/// Use case for a key used to encrypt workspace storage (root bucket, and EBS volumes if reused).
pub(crate) const STORAGE: &str = "STORAGE";

/// A customer-managed key configuration, with the vendor's field names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CustomerManagedKey {
    pub customer_managed_key_id: String,
    pub account_id: String,
    pub creation_time: i64,
    pub use_cases: Vec<String>,
    pub aws_key_info: AwsKeyInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AwsKeyInfo {
    pub key_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_key_for_cluster_volumes: Option<bool>,
}

#[derive(Deserialize)]
struct CreateRequest {
    use_cases: Option<Vec<String>>,
    aws_key_info: Option<AwsKeyInfo>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/customer-managed-keys",
            post(create).get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/customer-managed-keys/{customer_managed_key_id}",
            get(read).delete(delete),
        )
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<CustomerManagedKey>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let use_cases = req.use_cases.unwrap_or_default();
    if use_cases.is_empty() {
        return Err(ApiError::invalid("Missing required field: use_cases"));
    }
    if let Some(bad) = use_cases
        .iter()
        .find(|u| !matches!(u.as_str(), MANAGED_SERVICES | STORAGE))
    {
        return Err(ApiError::invalid(format!(
            "Invalid use case {bad}; expected {MANAGED_SERVICES} or {STORAGE}"
        )));
    }
    let Some(mut key) = req.aws_key_info else {
        return Err(ApiError::invalid("Missing required field: aws_key_info"));
    };
    let arn = required(&key.key_arn, "aws_key_info.key_arn")?.to_string();
    let Some(arn_region) = kms_key_region(&arn) else {
        return Err(ApiError::invalid(format!(
            "Invalid KMS key ARN: {arn}; expected arn:aws:kms:<region>:<account>:key/<id>"
        )));
    };
    let storage = use_cases.iter().any(|u| u == STORAGE);
    if key.reuse_key_for_cluster_volumes.is_some() && !storage {
        return Err(ApiError::invalid(
            "reuse_key_for_cluster_volumes can only be set for the STORAGE use case",
        ));
    }
    if storage {
        key.reuse_key_for_cluster_volumes = Some(key.reuse_key_for_cluster_volumes.unwrap_or(true));
    }
    key.key_region = key.key_region.or(Some(arn_region));
    key.key_arn = Some(arn);
    let cmk = CustomerManagedKey {
        customer_managed_key_id: uuid_v4(),
        account_id: account_id.clone(),
        creation_time: app.now_ms(),
        use_cases,
        aws_key_info: key,
    };
    let mut state = app.lock();
    state
        .account(&account_id)
        .customer_managed_keys
        .insert(cmk.customer_managed_key_id.clone(), cmk.clone());
    Ok(Json(cmk))
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> Json<Vec<CustomerManagedKey>> {
    let mut state = app.lock();
    Json(
        state
            .account(&account_id)
            .customer_managed_keys
            .values()
            .cloned()
            .collect(),
    )
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<CustomerManagedKey>, ApiError> {
    let mut state = app.lock();
    state
        .account(&account_id)
        .customer_managed_keys
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

async fn delete(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    if !account.customer_managed_keys.contains_key(&id) {
        return Err(not_found(&id));
    }
    let used = |w: &super::workspaces::Workspace| {
        w.managed_services_customer_managed_key_id.as_deref() == Some(&id)
            || w.storage_customer_managed_key_id.as_deref() == Some(&id)
    };
    if let Some(ws) = account.workspace_using(used) {
        return Err(ApiError::invalid_state(format!(
            "Customer-managed key configuration {id} cannot be deleted: it is used by workspace {ws}"
        )));
    }
    account.customer_managed_keys.shift_remove(&id);
    Ok(Json(Empty {}))
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Customer-managed key configuration {id} does not exist"
    ))
}

/// The region of `arn:aws:kms:<region>:<account>:key/<id>`.
fn kms_key_region(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "kms", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && resource.starts_with("key/") =>
        {
            Some(region.to_string())
        }
        _ => None,
    }
}
