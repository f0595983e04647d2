//! Storage configurations (`/storage-configurations`): the workspace's root S3 bucket.
//! Immutable: create, get, list, delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::{AppState, Empty};

/// A storage configuration, with the vendor's field names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StorageConfiguration {
    pub storage_configuration_id: String,
    pub storage_configuration_name: String,
    pub account_id: String,
    pub creation_time: i64,
    pub root_bucket_info: RootBucketInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RootBucketInfo {
    pub bucket_name: Option<String>,
}

#[derive(Deserialize)]
struct CreateRequest {
    storage_configuration_name: Option<String>,
    root_bucket_info: Option<RootBucketInfo>,
    role_arn: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/storage-configurations",
            post(create).get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/storage-configurations/{storage_configuration_id}",
            get(read).delete(delete),
        )
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<StorageConfiguration>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let name = required(
        &req.storage_configuration_name,
        "storage_configuration_name",
    )?
    .to_string();
    let bucket = req.root_bucket_info.and_then(|b| b.bucket_name);
    let bucket = required(&bucket, "root_bucket_info.bucket_name")?.to_string();
    let mut state = app.lock();
    let account = state.account(&account_id);
    if account
        .storage_configurations
        .values()
        .any(|c| c.storage_configuration_name == name)
    {
        return Err(ApiError::already_exists(format!(
            "Storage configuration with name {name} already exists"
        )));
    }
    let config = StorageConfiguration {
        storage_configuration_id: uuid_v4(),
        storage_configuration_name: name,
        account_id,
        creation_time: app.now_ms(),
        root_bucket_info: RootBucketInfo {
            bucket_name: Some(bucket),
        },
        role_arn: req.role_arn.filter(|r| !r.is_empty()),
    };
    account
        .storage_configurations
        .insert(config.storage_configuration_id.clone(), config.clone());
    Ok(Json(config))
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> Json<Vec<StorageConfiguration>> {
    let mut state = app.lock();
    Json(
        state
            .account(&account_id)
            .storage_configurations
            .values()
            .cloned()
            .collect(),
    )
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<StorageConfiguration>, ApiError> {
    let mut state = app.lock();
    state
        .account(&account_id)
        .storage_configurations
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
    if !account.storage_configurations.contains_key(&id) {
        return Err(not_found(&id));
    }
    if let Some(ws) =
        account.workspace_using(|w| w.storage_configuration_id.as_deref() == Some(&id))
    {
        return Err(ApiError::invalid_state(format!(
            "Storage configuration {id} cannot be deleted: it is used by workspace {ws}"
        )));
    }
    account.storage_configurations.shift_remove(&id);
    Ok(Json(Empty {}))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Storage configuration {id} does not exist"))
}
