//! The workspace API of every workspace created through the account API, served under
//! `<emulator url>/w/{workspace_id}`, one module per API area.
//!
//! Auth: `POST /w/{id}/oidc/v1/token` (client credentials, like the account endpoint) accepts the
//! configured client (admin of every workspace) and OAuth secrets of the workspace's account's
//! service principals. `/w/{id}/api/...` needs a bearer token: an OAuth token from *this*
//! workspace's endpoint, or a PAT minted here that is neither expired (emulator clock) nor
//! revoked. Account tokens and other workspaces' tokens are `401 UNAUTHENTICATED`.
//!
//! Choices where the vendor is silent: an unknown workspace id is `404 RESOURCE_DOES_NOT_EXIST`
//! (the real service fails at DNS); a workspace not yet `RUNNING` answers `503
//! TEMPORARILY_UNAVAILABLE` and, once it has been `RUNNING`, keeps answering during later
//! re-provisioning; admin-only APIs refuse other callers with `403 PERMISSION_DENIED`.

pub(crate) mod clusters;
pub(crate) mod conf;
pub(crate) mod dbfs;
pub(crate) mod init_scripts;
pub(crate) mod instance_profiles;
pub(crate) mod ip_access_lists;
pub(crate) mod jobs;
pub(crate) mod libraries;
pub(crate) mod notification_destinations;
pub(crate) mod permissions;
pub(crate) mod policies;
pub(crate) mod scim;
pub(crate) mod secrets;
pub(crate) mod tokens;
pub(crate) mod unity_catalog;

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, http::StatusCode};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::account::auth::{
    bearer, client_credentials, client_is_known, discovery_document, invalid_client, token_response,
};
use crate::error::ApiError;
use crate::server::{AppState, DatabricksEmulatorConfig, endpoint_not_found};
use crate::state::{Audience, State as EmulatorState};

/// Everything one workspace's API holds.
#[derive(Debug)]
pub(crate) struct WorkspaceData {
    pub account_id: String,
    pub workspace_id: i64,
    /// Has been `RUNNING` at least once, so its API answers.
    pub reachable: bool,
    pub directory: scim::Directory,
    pub tokens: IndexMap<String, tokens::Pat>,
    pub permissions: HashMap<String, Vec<permissions::AclEntry>>,
    pub instance_profiles: IndexMap<String, instance_profiles::InstanceProfile>,
    pub dbfs: BTreeMap<String, dbfs::Node>,
    /// Open streaming uploads (`dbfs/create` … `close`): handle → (path, bytes so far).
    pub dbfs_handles: BTreeMap<i64, (String, Vec<u8>)>,
    pub init_scripts: IndexMap<String, init_scripts::GlobalInitScript>,
    pub clusters: IndexMap<String, clusters::Cluster>,
    pub policies: IndexMap<String, policies::Policy>,
    pub ip_access_lists: IndexMap<String, ip_access_lists::IpAccessList>,
    pub conf: BTreeMap<String, String>,
    pub secret_scopes: IndexMap<String, secrets::SecretScope>,
    /// One-time job runs by run id.
    pub runs: IndexMap<i64, jobs::Run>,
    pub destinations: IndexMap<String, notification_destinations::Destination>,
}

impl WorkspaceData {
    /// A new workspace: built-in groups `admins` and `users`, and the configured client as a
    /// service principal in `admins`.
    pub fn new(
        account_id: &str,
        workspace_id: i64,
        config: &DatabricksEmulatorConfig,
        now: i64,
    ) -> Self {
        WorkspaceData {
            account_id: account_id.to_string(),
            workspace_id,
            reachable: false,
            directory: scim::Directory::new(&config.client_id),
            tokens: IndexMap::new(),
            permissions: HashMap::new(),
            instance_profiles: IndexMap::new(),
            dbfs: dbfs::root(now),
            dbfs_handles: BTreeMap::new(),
            init_scripts: IndexMap::new(),
            clusters: IndexMap::new(),
            policies: IndexMap::new(),
            ip_access_lists: IndexMap::new(),
            conf: BTreeMap::new(),
            secret_scopes: IndexMap::new(),
            runs: IndexMap::new(),
            destinations: IndexMap::new(),
        }
    }

    /// Whether `caller` may use admin-only APIs.
    pub fn is_admin(&self, caller: &Caller) -> bool {
        caller.admin_client || self.directory.is_admin(&caller.name)
    }

    pub fn require_admin(&self, caller: &Caller) -> Result<(), ApiError> {
        if self.is_admin(caller) {
            Ok(())
        } else {
            Err(ApiError::permission_denied(format!(
                "{} is not an administrator of workspace {}",
                caller.name, self.workspace_id
            )))
        }
    }

    /// Every user-created object, by kind: `users`, `groups` (not `admins`, `users`),
    /// `service_principals` (not the configured client), `tokens` (live ones), `instance_profiles`,
    /// `dbfs` (files), `global_init_scripts`, `clusters` (any state until permanently deleted;
    /// each with its `state`, `data_security_mode`, `single_user_name`, `libraries` and direct
    /// `permissions`, see [`clusters::inventory`]),
    /// `cluster_policies`, `ip_access_lists`, `secret_scopes`, `secrets`, `secret_acls`,
    /// `workspace_conf` (keys set to a non-default value), `runs` (`{"run_id", "run_name",
    /// "life_cycle_state"}`, ended ones too), `notification_destinations` (`{"id",
    /// "display_name"}`). Kinds without objects are left out, so
    /// a workspace that holds nothing of the user's is `{}`.
    pub fn inventory(
        &mut self,
        config: &DatabricksEmulatorConfig,
        library_failures: &[crate::controls::LibraryFailureRule],
        now: i64,
    ) -> Value {
        libraries::settle_all(self, library_failures, config, now);
        let mut out = Map::new();
        let mut put = |kind: &str, items: Vec<Value>| {
            if !items.is_empty() {
                out.insert(kind.to_string(), Value::Array(items));
            }
        };
        put("users", self.directory.inventory_users());
        put("groups", self.directory.inventory_groups());
        put(
            "service_principals",
            self.directory.inventory_service_principals(),
        );
        put("tokens", tokens::inventory(self, now));
        put(
            "instance_profiles",
            self.instance_profiles
                .keys()
                .map(|k| Value::String(k.clone()))
                .collect(),
        );
        put("dbfs", dbfs::inventory(&self.dbfs));
        put(
            "global_init_scripts",
            self.init_scripts
                .values()
                .map(|s| serde_json::json!({"script_id": s.script_id, "name": s.name}))
                .collect(),
        );
        let clusters: Vec<Value> = self
            .clusters
            .values()
            .map(|c| clusters::inventory(c, self, config, now))
            .collect();
        put("clusters", clusters);
        put(
            "cluster_policies",
            self.policies
                .values()
                .map(|p| serde_json::json!({"policy_id": p.policy_id, "name": p.name}))
                .collect(),
        );
        put(
            "ip_access_lists",
            self.ip_access_lists
                .values()
                .map(|l| serde_json::json!({"list_id": l.list_id, "label": l.label}))
                .collect(),
        );
        let scopes: Vec<Value> = self
            .secret_scopes
            .keys()
            .map(|k| Value::String(k.clone()))
            .collect();
        let secrets: Vec<Value> = self
            .secret_scopes
            .values()
            .flat_map(|s| {
                s.secrets
                    .keys()
                    .map(|k| serde_json::json!({"scope": s.name, "key": k}))
            })
            .collect();
        let acls: Vec<Value> = self
            .secret_scopes
            .values()
            .flat_map(|s| {
                s.acls.iter().map(|(p, level)| {
                    serde_json::json!({"scope": s.name, "principal": p, "permission": level})
                })
            })
            .collect();
        put("secret_scopes", scopes);
        put("secrets", secrets);
        put("secret_acls", acls);
        put("runs", jobs::inventory(self));
        put(
            "notification_destinations",
            self.destinations
                .values()
                .map(|d| serde_json::json!({"id": d.id, "display_name": d.display_name}))
                .collect(),
        );
        let conf = conf::non_default(&self.conf);
        if !conf.is_empty() {
            out.insert("workspace_conf".into(), Value::Object(conf));
        }
        Value::Object(out)
    }
}

/// Who is calling a workspace API.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// A service principal's applicationId, or a user's userName.
    pub name: String,
    /// The configured client: admin of every workspace.
    pub admin_client: bool,
}

/// What the auth middleware hands handlers.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub workspace_id: i64,
    pub caller: Caller,
}

impl Ctx {
    /// This workspace's data (gone if the workspace was deleted since the request started).
    pub fn data<'a>(
        &self,
        state: &'a mut EmulatorState,
    ) -> Result<&'a mut WorkspaceData, ApiError> {
        state
            .workspace_data(self.workspace_id)
            .ok_or_else(|| workspace_not_found(self.workspace_id))
    }
}

fn workspace_not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Workspace {id} does not exist"))
}

/// Every workspace route, nested under `/w/{workspace_id}`.
pub(crate) fn routes(app: AppState) -> Router<AppState> {
    let api = Router::new()
        .merge(scim::routes())
        .merge(tokens::routes())
        .merge(permissions::routes())
        .merge(instance_profiles::routes())
        .merge(dbfs::routes())
        .merge(init_scripts::routes())
        .merge(clusters::routes())
        .merge(policies::routes())
        .merge(libraries::routes())
        .merge(ip_access_lists::routes())
        .merge(conf::routes())
        .merge(secrets::routes())
        .merge(jobs::routes())
        .merge(notification_destinations::routes())
        .merge(unity_catalog::routes())
        .route_layer(middleware::from_fn_with_state(app, require_auth));
    let workspace = Router::new()
        .route("/oidc/v1/token", post(token))
        .route(
            "/oidc/.well-known/oauth-authorization-server",
            get(discovery),
        )
        .merge(api)
        .fallback(endpoint_not_found)
        .method_not_allowed_fallback(endpoint_not_found);
    Router::new().nest("/w/{workspace_id}", workspace)
}

fn parse_workspace_id(params: &HashMap<String, String>) -> Result<i64, ApiError> {
    let raw = params.get("workspace_id").cloned().unwrap_or_default();
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("Workspace {raw} does not exist")))
}

/// Brings the workspace's status up to date; `Ok` once it answers API calls.
fn check_reachable(
    app: &AppState,
    state: &mut EmulatorState,
    workspace_id: i64,
) -> Result<String, ApiError> {
    let now = app.now_ms();
    let account_id = state
        .workspace_index
        .get(&workspace_id)
        .cloned()
        .ok_or_else(|| workspace_not_found(workspace_id))?;
    let account = state.account(&account_id);
    let workspace = account
        .workspaces
        .get_mut(&workspace_id)
        .ok_or_else(|| workspace_not_found(workspace_id))?;
    workspace.advance(&app.config().provisioning, false, now);
    let running = workspace.workspace_status == "RUNNING";
    let status = workspace.workspace_status;
    let data = account
        .workspace_data
        .get_mut(&workspace_id)
        .ok_or_else(|| workspace_not_found(workspace_id))?;
    data.reachable |= running;
    if data.reachable {
        Ok(account_id)
    } else {
        Err(ApiError::unavailable(format!(
            "Workspace {workspace_id} is {status} and not yet available"
        )))
    }
}

/// `POST /w/{id}/oidc/v1/token`.
async fn token(
    State(app): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let workspace_id = match parse_workspace_id(&params) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let client = match client_credentials(&headers, &body) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let account_id = match check_reachable(&app, &mut state, workspace_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    if !client_is_known(&app, &mut state, &account_id, &client, now) {
        return invalid_client();
    }
    let lifetime = app.config().token_lifetime;
    let access_token =
        state.issue_token(Audience::Workspace(workspace_id), &client.id, lifetime, now);
    token_response(&access_token, lifetime.as_secs())
}

async fn discovery(Path(params): Path<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let id = params.get("workspace_id").cloned().unwrap_or_default();
    discovery_document(&headers, &format!("/w/{id}/oidc"))
}

/// Middleware for `/w/{id}/api/...`: resolves the caller from the bearer token.
async fn require_auth(
    State(app): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(&app, &params, request.headers()) {
        Ok(ctx) => {
            // Runs end when their cluster does; bring them up to date before any call reads.
            jobs::settle_and_deliver(&app, &mut app.lock(), Some(ctx.workspace_id));
            request.extensions_mut().insert(ctx);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

fn authenticate(
    app: &AppState,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Ctx, ApiError> {
    let workspace_id = parse_workspace_id(params)?;
    let credential = bearer(headers)?.to_string();
    let now = app.now_ms();
    let mut state = app.lock();
    check_reachable(app, &mut state, workspace_id)?;
    if let Some(token) = state.tokens.get(&credential) {
        if token.audience != Audience::Workspace(workspace_id) {
            return Err(ApiError::unauthenticated(
                "Invalid access token: it was not issued for this workspace",
            ));
        }
        if token.expires_at_ms <= now {
            return Err(ApiError::unauthenticated("Access token has expired"));
        }
        let name = token.application_id.clone();
        return Ok(Ctx {
            workspace_id,
            caller: Caller {
                admin_client: name == app.config().client_id,
                name,
            },
        });
    }
    let data = state
        .workspace_data(workspace_id)
        .ok_or_else(|| workspace_not_found(workspace_id))?;
    let Some(pat) = data.tokens.values().find(|t| t.value == credential) else {
        return Err(ApiError::unauthenticated("Invalid access token"));
    };
    if pat.expired(now) {
        return Err(ApiError::unauthenticated("Token has expired"));
    }
    Ok(Ctx {
        workspace_id,
        caller: Caller {
            admin_client: pat.owner == app.config().client_id,
            name: pat.owner.clone(),
        },
    })
}

/// `400 INVALID_PARAMETER_VALUE` for a missing query parameter.
pub(crate) fn query_param<'a>(
    query: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("Missing required parameter: {name}")))
}

/// The object JSON of a handler's success, `{}` in the vendor's empty responses.
pub(crate) fn empty() -> axum::Json<Value> {
    axum::Json(Value::Object(Map::new()))
}

/// A 400 with the given code, for the few codes without a constructor.
pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::other(StatusCode::BAD_REQUEST, code, message)
}
