//! Workspaces (`/workspaces`): create (asynchronous: `PROVISIONING`, then `RUNNING`), get, list,
//! PATCH (flat fields, optionally restricted by `?update_mask=`), delete.
//!
//! Status moves lazily, on reads: a workspace becomes `RUNNING` at the first GET (or list) that
//! finds it has been polled [`Provisioning::polls`] times and is older than [`Provisioning::delay`]
//! (emulator-clock time).
//!
//! A workspace's API data ([`crate::workspace::WorkspaceData`]) is created with it and removed
//! with it; a delete that finds user-created objects still there records their inventory under the
//! account's `left_in_deleted_workspaces`. Workspace ids are unique across accounts.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keys::{MANAGED_SERVICES, STORAGE};
use crate::error::{ApiError, parse_json, required};
use crate::server::{AppState, Empty};
use crate::state::{Account, State as EmulatorState};
use crate::workspace::WorkspaceData;

const PROVISIONING: &str = "PROVISIONING";
const RUNNING: &str = "RUNNING";
const FAILED: &str = "FAILED";

/// How a new or updated workspace reaches `RUNNING`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioning {
    /// Minimum time in `PROVISIONING`.
    pub delay: Duration,
    /// Minimum number of GETs (or lists) that still see `PROVISIONING` before one sees `RUNNING`;
    /// 0 = only the delay counts.
    pub polls: u32,
}

impl Default for Provisioning {
    /// `RUNNING` from the first GET after create: fast, yet a client must poll at least once.
    fn default() -> Self {
        Provisioning {
            delay: Duration::ZERO,
            polls: 1,
        }
    }
}

/// A workspace, with the vendor's field names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Workspace {
    pub workspace_id: i64,
    pub workspace_name: String,
    pub account_id: String,
    pub deployment_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_configuration_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_access_settings_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_services_customer_managed_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_customer_managed_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_connectivity_config_id: Option<String>,
    pub pricing_tier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<IndexMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_mode: Option<String>,
    pub creation_time: i64,
    pub workspace_status: &'static str,
    pub workspace_status_message: String,
    /// `<emulator url>/w/<workspace_id>`, or from the configured template. (The real API does not
    /// reliably return a URL on AWS; clients can also build it from `deployment_name`.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_url: Option<String>,
    #[serde(skip)]
    pending: Option<Pending>,
}

/// Bookkeeping of a workspace in `PROVISIONING`.
#[derive(Debug, Clone)]
struct Pending {
    since_ms: i64,
    polls: u32,
}

impl Workspace {
    fn start_provisioning(&mut self, now: i64) {
        self.workspace_status = PROVISIONING;
        self.workspace_status_message = "Workspace resources are being set up.".into();
        self.pending = Some(Pending {
            since_ms: now,
            polls: 0,
        });
    }

    /// Moves `PROVISIONING` to `RUNNING` when `rules` allow; `polled` counts this read as a poll.
    pub(crate) fn advance(&mut self, rules: &Provisioning, polled: bool, now: i64) {
        let Some(pending) = &mut self.pending else {
            return;
        };
        if polled {
            pending.polls += 1;
        }
        if pending.polls >= rules.polls && now - pending.since_ms >= crate::clock::ms(rules.delay) {
            self.pending = None;
            self.workspace_status = RUNNING;
            self.workspace_status_message = "Workspace is running.".into();
        }
    }
}

#[derive(Deserialize)]
struct CreateRequest {
    workspace_name: Option<String>,
    deployment_name: Option<String>,
    aws_region: Option<String>,
    credentials_id: Option<String>,
    storage_configuration_id: Option<String>,
    network_id: Option<String>,
    private_access_settings_id: Option<String>,
    managed_services_customer_managed_key_id: Option<String>,
    storage_customer_managed_key_id: Option<String>,
    network_connectivity_config_id: Option<String>,
    pricing_tier: Option<String>,
    custom_tags: Option<IndexMap<String, String>>,
    compute_mode: Option<String>,
}

/// Fields a PATCH may change (the flat update body of the vendor's spec).
const UPDATABLE: &[&str] = &[
    "aws_region",
    "credentials_id",
    "custom_tags",
    "managed_services_customer_managed_key_id",
    "network_connectivity_config_id",
    "network_id",
    "private_access_settings_id",
    "storage_configuration_id",
    "storage_customer_managed_key_id",
];

const PRICING_TIERS: &[&str] = &[
    "COMMUNITY_EDITION",
    "DEDICATED",
    "ENTERPRISE",
    "PREMIUM",
    "STANDARD",
    "UNKNOWN",
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/workspaces",
            post(create).get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/workspaces/{workspace_id}",
            get(read).patch(update).delete(delete),
        )
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<Workspace>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let name = required(&req.workspace_name, "workspace_name")?.to_string();
    let region = required(&req.aws_region, "aws_region")?.to_string();
    let serverless = match req.compute_mode.as_deref() {
        None | Some("HYBRID") => false,
        Some("SERVERLESS") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid compute_mode {other}; expected HYBRID or SERVERLESS"
            )));
        }
    };
    if !serverless {
        required(&req.credentials_id, "credentials_id")?;
        required(&req.storage_configuration_id, "storage_configuration_id")?;
    }
    let pricing_tier = req.pricing_tier.unwrap_or_else(|| "PREMIUM".into());
    if !PRICING_TIERS.contains(&pricing_tier.as_str()) {
        return Err(ApiError::invalid(format!(
            "Invalid pricing_tier {pricing_tier}"
        )));
    }
    if let Some(tags) = &req.custom_tags {
        check_tags(tags)?;
    }

    let now = app.now_ms();
    let mut guard = app.lock();
    let state: &mut EmulatorState = &mut guard;
    let deployment_name = match req.deployment_name.filter(|d| !d.is_empty()) {
        Some(d) => {
            check_deployment_name(&d)?;
            let taken = state
                .accounts
                .values()
                .flat_map(|a| a.workspaces.values())
                .any(|w| w.deployment_name == d);
            if taken {
                return Err(ApiError::already_exists(format!(
                    "Deployment name {d} is already used by another workspace"
                )));
            }
            d
        }
        None => generated_deployment_name(),
    };
    let workspace_id = new_workspace_id(state);
    let account = state.account(&account_id);
    let refs = References {
        credentials_id: req.credentials_id,
        storage_configuration_id: req.storage_configuration_id,
        network_id: req.network_id,
        managed_services_customer_managed_key_id: req.managed_services_customer_managed_key_id,
        storage_customer_managed_key_id: req.storage_customer_managed_key_id,
    };
    refs.check(account, None)?;

    let workspace_url = Some(app.workspace_url(&deployment_name, workspace_id));
    let mut workspace = Workspace {
        workspace_id,
        workspace_name: name,
        account_id,
        deployment_name,
        aws_region: Some(region),
        credentials_id: refs.credentials_id,
        storage_configuration_id: refs.storage_configuration_id,
        network_id: refs.network_id,
        private_access_settings_id: req.private_access_settings_id,
        managed_services_customer_managed_key_id: refs.managed_services_customer_managed_key_id,
        storage_customer_managed_key_id: refs.storage_customer_managed_key_id,
        network_connectivity_config_id: req.network_connectivity_config_id,
        pricing_tier,
        custom_tags: req.custom_tags,
        compute_mode: req.compute_mode,
        creation_time: now,
        workspace_status: PROVISIONING,
        workspace_status_message: String::new(),
        workspace_url,
        pending: None,
    };
    workspace.start_provisioning(now);
    if let Some(network) = workspace
        .network_id
        .as_ref()
        .and_then(|id| account.networks.get_mut(id))
    {
        network.attach(Some(workspace_id));
    }
    account.workspaces.insert(workspace_id, workspace.clone());
    account.workspace_data.insert(
        workspace_id,
        WorkspaceData::new(&workspace.account_id, workspace_id, app.config(), now),
    );
    state
        .workspace_index
        .insert(workspace_id, workspace.account_id.clone());
    Ok(Json(workspace))
}

async fn list(State(app): State<AppState>, Path(account_id): Path<String>) -> Json<Vec<Workspace>> {
    let rules = app.config().provisioning.clone();
    let now = app.now_ms();
    let mut state = app.lock();
    let workspaces = &mut state.account(&account_id).workspaces;
    Json(
        workspaces
            .values_mut()
            .map(|w| {
                w.advance(&rules, true, now);
                w.clone()
            })
            .collect(),
    )
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Workspace>, ApiError> {
    let id = parse_id(&id)?;
    let rules = app.config().provisioning.clone();
    let now = app.now_ms();
    let mut state = app.lock();
    let workspace = state
        .account(&account_id)
        .workspaces
        .get_mut(&id)
        .ok_or_else(|| not_found(id))?;
    workspace.advance(&rules, true, now);
    Ok(Json(workspace.clone()))
}

async fn update(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Workspace>, ApiError> {
    let id = parse_id(&id)?;
    let body: Map<String, Value> = parse_json(&body)?;
    let fields: Vec<String> = match query.get("update_mask") {
        Some(mask) if mask.trim() == "*" => UPDATABLE
            .iter()
            .filter(|f| body.contains_key(**f))
            .map(|f| f.to_string())
            .collect(),
        Some(mask) => mask
            .split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect(),
        None => body.keys().cloned().collect(),
    };
    if let Some(bad) = fields.iter().find(|f| !UPDATABLE.contains(&f.as_str())) {
        return Err(ApiError::invalid(format!(
            "Field {bad} cannot be updated; updatable fields: {}",
            UPDATABLE.join(", ")
        )));
    }
    let string = |field: &str| -> Result<Option<String>, ApiError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(format!("Field {field} must be a string"))),
        }
    };

    let rules = app.config().provisioning.clone();
    let now = app.now_ms();
    let mut state = app.lock();
    let account = state.account(&account_id);
    let mut workspace = account
        .workspaces
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(id))?;
    workspace.advance(&rules, false, now);
    if ![RUNNING, FAILED].contains(&workspace.workspace_status) {
        return Err(ApiError::invalid_state(format!(
            "Workspace {id} is in state {} and cannot be updated until it is RUNNING or FAILED",
            workspace.workspace_status
        )));
    }
    let running = workspace.workspace_status == RUNNING;
    let old_network = workspace.network_id.clone();
    for field in &fields {
        match field.as_str() {
            "custom_tags" => {
                let tags: IndexMap<String, String> = match body.get("custom_tags") {
                    None | Some(Value::Null) => IndexMap::new(),
                    Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                        ApiError::invalid(format!("Field custom_tags is invalid: {e}"))
                    })?,
                };
                check_tags(&tags)?;
                // An empty map is ignored, as the vendor documents.
                if !tags.is_empty() {
                    workspace.custom_tags = Some(tags);
                }
            }
            "aws_region" => workspace.aws_region = string(field)?.or(workspace.aws_region),
            "credentials_id" => workspace.credentials_id = string(field)?,
            "storage_configuration_id" => workspace.storage_configuration_id = string(field)?,
            "network_id" => {
                let new = string(field)?;
                if running && old_network.is_none() && new.is_some() {
                    return Err(ApiError::invalid(
                        "A running workspace on a Databricks-managed VPC cannot be moved to a customer-managed VPC",
                    ));
                }
                workspace.network_id = new;
            }
            "managed_services_customer_managed_key_id" => {
                workspace.managed_services_customer_managed_key_id = string(field)?
            }
            "storage_customer_managed_key_id" => {
                let new = string(field)?;
                if running
                    && workspace.storage_customer_managed_key_id.is_some()
                    && new != workspace.storage_customer_managed_key_id
                {
                    return Err(ApiError::invalid(
                        "The storage customer-managed key of a running workspace can only be set once",
                    ));
                }
                workspace.storage_customer_managed_key_id = new;
            }
            "private_access_settings_id" => workspace.private_access_settings_id = string(field)?,
            "network_connectivity_config_id" => {
                workspace.network_connectivity_config_id = string(field)?
            }
            _ => unreachable!("checked against UPDATABLE"),
        }
    }
    References {
        credentials_id: workspace.credentials_id.clone(),
        storage_configuration_id: workspace.storage_configuration_id.clone(),
        network_id: workspace.network_id.clone(),
        managed_services_customer_managed_key_id: workspace
            .managed_services_customer_managed_key_id
            .clone(),
        storage_customer_managed_key_id: workspace.storage_customer_managed_key_id.clone(),
    }
    .check(account, Some(id))?;

    // A Databricks-managed VPC re-provisions after an update (and so does a failed workspace);
    // a customer-managed VPC stays RUNNING.
    if !running || workspace.network_id.is_none() {
        workspace.start_provisioning(now);
    }
    if old_network != workspace.network_id {
        if let Some(n) = old_network.and_then(|n| account.networks.get_mut(&n)) {
            n.attach(None);
        }
        if let Some(n) = workspace
            .network_id
            .as_ref()
            .and_then(|n| account.networks.get_mut(n))
        {
            n.attach(Some(id));
        }
    }
    account.workspaces.insert(id, workspace.clone());
    Ok(Json(workspace))
}

async fn delete(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let id = parse_id(&id)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let library_failures = state.library_failures.clone();
    let account = state.account(&account_id);
    let workspace = account
        .workspaces
        .shift_remove(&id)
        .ok_or_else(|| not_found(id))?;
    // A deleted workspace takes its metastore and permission assignments with it (the
    // emulator's choice: a dangling assignment would otherwise block a plain metastore delete).
    account.metastore_assignments.shift_remove(&id);
    account.permission_assignments.shift_remove(&id);
    if let Some(mut data) = account.workspace_data.remove(&id) {
        let objects = data.inventory(app.config(), &library_failures, now);
        if objects.as_object().is_some_and(|o| !o.is_empty()) {
            account.left_in_deleted_workspaces.push(serde_json::json!({
                "workspace_id": id,
                "workspace_name": workspace.workspace_name,
                "objects": objects,
            }));
        }
    }
    if let Some(n) = workspace
        .network_id
        .and_then(|n| account.networks.get_mut(&n))
    {
        n.attach(None);
    }
    state.workspace_index.remove(&id);
    Ok(Json(Empty {}))
}

/// The configurations a workspace points at; each must exist (keys with the right use case).
struct References {
    credentials_id: Option<String>,
    storage_configuration_id: Option<String>,
    network_id: Option<String>,
    managed_services_customer_managed_key_id: Option<String>,
    storage_customer_managed_key_id: Option<String>,
}

impl References {
    fn check(&self, account: &Account, workspace_id: Option<i64>) -> Result<(), ApiError> {
        let missing = |field: &str, id: &str| {
            ApiError::invalid(format!("{field} {id} does not exist in this account"))
        };
        if let Some(id) = &self.credentials_id
            && !account.credentials.contains_key(id)
        {
            return Err(missing("credentials_id", id));
        }
        if let Some(id) = &self.storage_configuration_id
            && !account.storage_configurations.contains_key(id)
        {
            return Err(missing("storage_configuration_id", id));
        }
        if let Some(id) = &self.network_id {
            let network = account
                .networks
                .get(id)
                .ok_or_else(|| missing("network_id", id))?;
            if let Some(other) = network.workspace_id.filter(|w| Some(*w) != workspace_id) {
                return Err(ApiError::invalid(format!(
                    "Network configuration {id} is already used by workspace {other}"
                )));
            }
        }
        for (field, id, use_case) in [
            (
                "managed_services_customer_managed_key_id",
                &self.managed_services_customer_managed_key_id,
                MANAGED_SERVICES,
            ),
            (
                "storage_customer_managed_key_id",
                &self.storage_customer_managed_key_id,
                STORAGE,
            ),
        ] {
            if let Some(id) = id {
                let key = account
                    .customer_managed_keys
                    .get(id)
                    .ok_or_else(|| missing(field, id))?;
                if !key.use_cases.iter().any(|u| u == use_case) {
                    return Err(ApiError::invalid(format!(
                        "{field} {id} does not have the {use_case} use case"
                    )));
                }
            }
        }
        Ok(())
    }
}

fn check_tags(tags: &IndexMap<String, String>) -> Result<(), ApiError> {
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 127 {
            return Err(ApiError::invalid(format!(
                "Invalid custom tag key `{key}`: must be 1 to 127 characters"
            )));
        }
        if value.chars().count() > 255 {
            return Err(ApiError::invalid(format!(
                "Invalid value for custom tag `{key}`: at most 255 characters"
            )));
        }
    }
    Ok(())
}

fn check_deployment_name(name: &str) -> Result<(), ApiError> {
    let ok = name
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid deployment_name {name}: use lowercase letters, digits and hyphens"
        )))
    }
}

/// `dbc-xxxxxxxx-xxxx`, as the vendor generates when no deployment name is given.
fn generated_deployment_name() -> String {
    format!("dbc-{:08x}-{:04x}", fastrand::u32(..), fastrand::u16(..))
}

/// A 16-digit workspace id not used in any account.
fn new_workspace_id(state: &EmulatorState) -> i64 {
    loop {
        let id = fastrand::i64(1_000_000_000_000_000..9_000_000_000_000_000);
        if !state.workspace_index.contains_key(&id) {
            return id;
        }
    }
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::invalid(format!("Invalid workspace_id {id}: expected an integer")))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Workspace {id} does not exist"))
}
