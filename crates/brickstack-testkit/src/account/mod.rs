//! A fake of the Databricks account API (provisioning objects and OAuth M2M), in memory.
//!
//! Modelled on the vendor's paths, field names, id formats and error shape
//! (`{"error_code", "message"}`): one module per API area. Every `/api/2.0/accounts/{account_id}/`
//! call needs `Authorization: Bearer <token>` from `POST /oidc/accounts/{account_id}/v1/token`.
//! Unauthenticated extras: `GET /health`, `POST /_emulator/reset`.
//!
//! Where the vendor's documentation is silent the emulator picks a plausible answer and says so:
//! duplicate configuration names are `409 RESOURCE_ALREADY_EXISTS`; deleting a configuration a
//! workspace uses is `400 INVALID_STATE`; unknown paths and methods are `404 ENDPOINT_NOT_FOUND`.

mod auth;
mod credentials;
mod error;
mod keys;
mod log_delivery;
mod networks;
mod state;
mod storage;
mod workspaces;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use workspaces::Provisioning;

use error::ApiError;

/// The OAuth client id the emulator accepts unless configured otherwise.
pub const DEFAULT_CLIENT_ID: &str = "brickstack-test-client";
/// The OAuth client secret the emulator accepts unless configured otherwise (test-only).
pub const DEFAULT_CLIENT_SECRET: &str = "brickstack-test-secret";

/// How the emulator behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEmulatorConfig {
    /// The one service principal's OAuth client id (an admin of every account).
    pub client_id: String,
    /// Its OAuth client secret.
    pub client_secret: String,
    /// `expires_in` of issued tokens (the vendor's is one hour).
    pub token_lifetime: Duration,
    /// How workspaces move from `PROVISIONING` to `RUNNING`.
    pub provisioning: Provisioning,
    /// When set, workspaces carry `workspace_url` built from this template, with
    /// `{deployment_name}` and `{workspace_id}` replaced (e.g. the URL of a workspace emulator).
    pub workspace_url_template: Option<String>,
}

impl Default for AccountEmulatorConfig {
    fn default() -> Self {
        AccountEmulatorConfig {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            token_lifetime: Duration::from_secs(3600),
            provisioning: Provisioning::default(),
            workspace_url_template: None,
        }
    }
}

/// Starting the emulator failed.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Shared by all handlers: the configuration and the state behind one mutex.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

struct Shared {
    config: AccountEmulatorConfig,
    state: Mutex<state::State>,
}

impl AppState {
    fn new(config: AccountEmulatorConfig) -> Self {
        AppState(Arc::new(Shared {
            config,
            state: Mutex::new(state::State::default()),
        }))
    }

    pub(crate) fn config(&self) -> &AccountEmulatorConfig {
        &self.0.config
    }

    /// The state; a handler that panicked cannot leave it half-written in a way later tests care
    /// about, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, state::State> {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `{}` body of deletes and updates.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// The emulator's HTTP routes, for serving on a listener of your own.
pub fn router(config: AccountEmulatorConfig) -> Router {
    router_with_state(AppState::new(config))
}

fn router_with_state(app: AppState) -> Router {
    let api = Router::new()
        .merge(credentials::routes())
        .merge(storage::routes())
        .merge(networks::routes())
        .merge(keys::routes())
        .merge(workspaces::routes())
        .merge(log_delivery::routes())
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_bearer,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/_emulator/reset", post(reset))
        .merge(auth::routes())
        .merge(api)
        .fallback(endpoint_not_found)
        .method_not_allowed_fallback(endpoint_not_found)
        .with_state(app)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn reset(State(app): State<AppState>) -> Json<serde_json::Value> {
    app.lock().reset();
    Json(serde_json::json!({ "status": "ok" }))
}

async fn endpoint_not_found(request: Request) -> ApiError {
    ApiError::endpoint_not_found(request.method().as_str(), request.uri().path())
}

/// An emulator serving on `127.0.0.1:<free port>` inside the current tokio runtime; it stops when
/// dropped (or when the runtime ends, e.g. at the end of a `#[tokio::test]`).
pub struct AccountEmulator {
    addr: SocketAddr,
    app: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for AccountEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl AccountEmulator {
    /// Starts an emulator with the default configuration.
    pub async fn start() -> Result<Self, EmulatorError> {
        Self::start_with(AccountEmulatorConfig::default()).await
    }

    /// Starts an emulator with `config`.
    pub async fn start_with(config: AccountEmulatorConfig) -> Result<Self, EmulatorError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let app = AppState::new(config);
        let router = router_with_state(app.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(AccountEmulator {
            addr,
            app,
            shutdown: Some(shutdown),
        })
    }

    /// `http://127.0.0.1:<port>`, the account host to give a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it runs with (client id and secret included).
    pub fn config(&self) -> &AccountEmulatorConfig {
        self.app.config()
    }

    /// Issues an access token for `account_id` directly, without the OAuth round trip.
    pub fn issue_token(&self, account_id: &str) -> String {
        let lifetime = self.app.config().token_lifetime;
        self.app.lock().issue_token(account_id, lifetime)
    }
}

impl Drop for AccountEmulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
