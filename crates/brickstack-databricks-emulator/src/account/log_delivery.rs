//! Log delivery (`/log-delivery`): billable-usage and audit logs to S3. Create, get, list and PATCH
//! of `status`; there is no DELETE in the vendor's API (a config is disabled instead), so the
//! emulator answers DELETE with `ENDPOINT_NOT_FOUND` like any unknown endpoint.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::{AppState, Empty};

/// A log delivery configuration, with the vendor's field names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogDeliveryConfiguration {
    pub config_id: String,
    pub account_id: String,
    pub creation_time: i64,
    pub update_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_name: Option<String>,
    pub log_type: String,
    pub output_format: String,
    pub credentials_id: String,
    pub storage_configuration_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_path_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_start_time: Option<String>,
    pub status: String,
    pub workspace_ids_filter: Vec<i64>,
    pub log_delivery_status: LogDeliveryStatus,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogDeliveryStatus {
    pub status: &'static str,
    pub message: &'static str,
}

impl LogDeliveryStatus {
    fn for_status(status: &str) -> Self {
        if status == "ENABLED" {
            LogDeliveryStatus {
                status: "CREATED",
                message: "Log delivery configuration is created; no delivery has been attempted yet.",
            }
        } else {
            LogDeliveryStatus {
                status: "NOT_FOUND",
                message: "Log delivery configuration is disabled.",
            }
        }
    }
}

#[derive(Deserialize)]
struct CreateRequest {
    log_delivery_configuration: Option<CreateParams>,
}

#[derive(Deserialize)]
struct CreateParams {
    config_name: Option<String>,
    log_type: Option<String>,
    output_format: Option<String>,
    credentials_id: Option<String>,
    storage_configuration_id: Option<String>,
    delivery_path_prefix: Option<String>,
    delivery_start_time: Option<String>,
    status: Option<String>,
    #[serde(default)]
    workspace_ids_filter: Vec<i64>,
}

#[derive(Deserialize)]
struct PatchRequest {
    status: Option<String>,
}

#[derive(Serialize)]
struct Wrapped {
    log_delivery_configuration: LogDeliveryConfiguration,
}

#[derive(Serialize)]
struct ListResponse {
    log_delivery_configurations: Vec<LogDeliveryConfiguration>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/log-delivery",
            post(create).get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/log-delivery/{config_id}",
            get(read).patch(patch_status),
        )
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<Wrapped>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let Some(p) = req.log_delivery_configuration else {
        return Err(ApiError::invalid(
            "Missing required field: log_delivery_configuration",
        ));
    };
    let log_type = required(&p.log_type, "log_type")?.to_string();
    let output_format = required(&p.output_format, "output_format")?.to_string();
    let expected_format = match log_type.as_str() {
        "AUDIT_LOGS" => "JSON",
        "BILLABLE_USAGE" => "CSV",
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid log_type {other}; expected AUDIT_LOGS or BILLABLE_USAGE"
            )));
        }
    };
    if output_format != expected_format {
        return Err(ApiError::invalid(format!(
            "output_format must be {expected_format} for log_type {log_type}"
        )));
    }
    let credentials_id = required(&p.credentials_id, "credentials_id")?.to_string();
    let storage_id = required(&p.storage_configuration_id, "storage_configuration_id")?.to_string();
    if let Some(prefix) = &p.delivery_path_prefix
        && (prefix.starts_with('/') || prefix.ends_with('/'))
    {
        return Err(ApiError::invalid(
            "delivery_path_prefix must not start or end with a slash",
        ));
    }
    if let Some(start) = &p.delivery_start_time
        && !is_year_month(start)
    {
        return Err(ApiError::invalid(format!(
            "Invalid delivery_start_time {start}; expected YYYY-MM"
        )));
    }
    let status = p.status.unwrap_or_else(|| "ENABLED".into());
    check_status(&status)?;

    let mut state = app.lock();
    let account = state.account(&account_id);
    if !account.credentials.contains_key(&credentials_id) {
        return Err(ApiError::invalid(format!(
            "credentials_id {credentials_id} does not exist in this account"
        )));
    }
    if !account.storage_configurations.contains_key(&storage_id) {
        return Err(ApiError::invalid(format!(
            "storage_configuration_id {storage_id} does not exist in this account"
        )));
    }
    let now = app.now_ms();
    let config = LogDeliveryConfiguration {
        config_id: uuid_v4(),
        account_id,
        creation_time: now,
        update_time: now,
        config_name: p.config_name,
        log_type,
        output_format,
        credentials_id,
        storage_configuration_id: storage_id,
        delivery_path_prefix: p.delivery_path_prefix,
        delivery_start_time: p.delivery_start_time,
        log_delivery_status: LogDeliveryStatus::for_status(&status),
        status,
        workspace_ids_filter: p.workspace_ids_filter,
    };
    account
        .log_delivery
        .insert(config.config_id.clone(), config.clone());
    Ok(Json(Wrapped {
        log_delivery_configuration: config,
    }))
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    Query(filter): Query<HashMap<String, String>>,
) -> Json<ListResponse> {
    let matches = |c: &LogDeliveryConfiguration| {
        filter.get("status").is_none_or(|s| *s == c.status)
            && filter
                .get("credentials_id")
                .is_none_or(|s| *s == c.credentials_id)
            && filter
                .get("storage_configuration_id")
                .is_none_or(|s| *s == c.storage_configuration_id)
    };
    let mut state = app.lock();
    Json(ListResponse {
        log_delivery_configurations: state
            .account(&account_id)
            .log_delivery
            .values()
            .filter(|c| matches(c))
            .cloned()
            .collect(),
    })
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Wrapped>, ApiError> {
    let mut state = app.lock();
    let config = state
        .account(&account_id)
        .log_delivery
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(Wrapped {
        log_delivery_configuration: config,
    }))
}

async fn patch_status(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Empty>, ApiError> {
    let req: PatchRequest = parse_json(&body)?;
    let status = required(&req.status, "status")?.to_string();
    check_status(&status)?;
    let mut state = app.lock();
    let config = state
        .account(&account_id)
        .log_delivery
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    config.log_delivery_status = LogDeliveryStatus::for_status(&status);
    config.status = status;
    config.update_time = app.now_ms();
    Ok(Json(Empty {}))
}

fn check_status(status: &str) -> Result<(), ApiError> {
    match status {
        "ENABLED" | "DISABLED" => Ok(()),
        other => Err(ApiError::invalid(format!(
            "Invalid status {other}; expected ENABLED or DISABLED"
        ))),
    }
}

/// `YYYY-MM`.
fn is_year_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(
            &s[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Log delivery configuration {id} does not exist"))
}
