//! Network configurations (`/networks`): a customer-managed VPC, its subnets and security groups.
//! Immutable: create, get, list, delete. A subnet or security group may belong to one network
//! configuration only; a VPC may be shared.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::{AppState, Empty};

/// A network configuration, with the vendor's field names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Network {
    pub network_id: String,
    pub network_name: String,
    pub account_id: String,
    pub creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoints: Option<VpcEndpoints>,
    /// Set while a workspace uses this network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<i64>,
    /// `UNATTACHED` until a workspace uses it, then `VALID` (the emulator runs no validation).
    pub vpc_status: &'static str,
    pub error_messages: Vec<serde_json::Value>,
    pub warning_messages: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VpcEndpoints {
    #[serde(default)]
    pub rest_api: Vec<String>,
    #[serde(default)]
    pub dataplane_relay: Vec<String>,
}

#[derive(Deserialize)]
struct CreateRequest {
    network_name: Option<String>,
    vpc_id: Option<String>,
    #[serde(default)]
    subnet_ids: Vec<String>,
    #[serde(default)]
    security_group_ids: Vec<String>,
    vpc_endpoints: Option<VpcEndpoints>,
}

impl Network {
    /// Records that `workspace_id` uses (`Some`) or stopped using (`None`) this network.
    pub fn attach(&mut self, workspace_id: Option<i64>) {
        self.workspace_id = workspace_id;
        self.vpc_status = if workspace_id.is_some() {
            "VALID"
        } else {
            "UNATTACHED"
        };
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/networks",
            post(create).get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/networks/{network_id}",
            get(read).delete(delete),
        )
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<Network>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let name = required(&req.network_name, "network_name")?.to_string();
    if req.vpc_id.is_some() {
        if req.subnet_ids.len() < 2 {
            return Err(ApiError::invalid(
                "subnet_ids must contain at least two subnets",
            ));
        }
        if !(1..=5).contains(&req.security_group_ids.len()) {
            return Err(ApiError::invalid(
                "security_group_ids must contain between one and five security groups",
            ));
        }
    }
    let mut state = app.lock();
    let account = state.account(&account_id);
    for other in account.networks.values() {
        if other.network_name == name {
            return Err(ApiError::already_exists(format!(
                "Network configuration with name {name} already exists"
            )));
        }
        if let Some(subnet) = req.subnet_ids.iter().find(|s| other.subnet_ids.contains(s)) {
            return Err(ApiError::invalid(format!(
                "Subnet {subnet} is already used by network configuration {}",
                other.network_id
            )));
        }
        if let Some(sg) = req
            .security_group_ids
            .iter()
            .find(|s| other.security_group_ids.contains(s))
        {
            return Err(ApiError::invalid(format!(
                "Security group {sg} is already used by network configuration {}",
                other.network_id
            )));
        }
    }
    let network = Network {
        network_id: uuid_v4(),
        network_name: name,
        account_id,
        creation_time: app.now_ms(),
        vpc_id: req.vpc_id,
        subnet_ids: req.subnet_ids,
        security_group_ids: req.security_group_ids,
        vpc_endpoints: req.vpc_endpoints,
        workspace_id: None,
        vpc_status: "UNATTACHED",
        error_messages: Vec::new(),
        warning_messages: Vec::new(),
    };
    account
        .networks
        .insert(network.network_id.clone(), network.clone());
    Ok(Json(network))
}

async fn list(State(app): State<AppState>, Path(account_id): Path<String>) -> Json<Vec<Network>> {
    let mut state = app.lock();
    Json(
        state
            .account(&account_id)
            .networks
            .values()
            .cloned()
            .collect(),
    )
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Network>, ApiError> {
    let mut state = app.lock();
    state
        .account(&account_id)
        .networks
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
    if !account.networks.contains_key(&id) {
        return Err(not_found(&id));
    }
    if let Some(ws) = account.workspace_using(|w| w.network_id.as_deref() == Some(&id)) {
        return Err(ApiError::invalid_state(format!(
            "Network configuration {id} cannot be deleted: it is used by workspace {ws}"
        )));
    }
    account.networks.shift_remove(&id);
    Ok(Json(Empty {}))
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Network configuration {id} does not exist"))
}
