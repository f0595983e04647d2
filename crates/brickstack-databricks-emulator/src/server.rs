//! The emulator server: configuration, shared state, the router that puts the account API, the
//! workspace API and the controls behind one listener, and [`DatabricksEmulator`] for tests.
//!
//! Layout of URLs (`<base>` = `http://127.0.0.1:<port>`):
//! * `<base>/oidc/accounts/{account_id}/v1/token`, `<base>/api/2.0/accounts/{account_id}/...`:
//!   the account API ([`crate::account`]).
//! * `<base>/w/{workspace_id}/oidc/v1/token`, `<base>/w/{workspace_id}/api/...`: the API of
//!   each workspace created through the account API ([`crate::workspace`]); a workspace's
//!   `workspace_url` is `<base>/w/{workspace_id}` unless a template says otherwise.
//! * `<base>/_emulator/...`: unauthenticated controls ([`crate::controls`]); `<base>/health`.
//!
//! Unknown paths and methods are `404 ENDPOINT_NOT_FOUND`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::account::{self, Provisioning};
use crate::clock::Clock;
use crate::controls::{self, ClusterFailure};
use crate::error::ApiError;
use crate::faults::{self, FaultRule, FaultStatus, Faults};
use crate::state::{self, Audience, MintedSecret};
use crate::workspace;

/// The OAuth client id the emulator accepts unless configured otherwise.
pub const DEFAULT_CLIENT_ID: &str = "brickstack-test-client";
/// The OAuth client secret the emulator accepts unless configured otherwise (test-only).
pub const DEFAULT_CLIENT_SECRET: &str = "brickstack-test-secret";

/// How the emulator behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabricksEmulatorConfig {
    /// The configured service principal's OAuth client id: admin of every account and of every
    /// workspace.
    pub client_id: String,
    /// Its OAuth client secret.
    pub client_secret: String,
    /// `expires_in` of issued OAuth tokens (the vendor's is one hour).
    pub token_lifetime: Duration,
    /// How workspaces move from `PROVISIONING` to `RUNNING`.
    pub provisioning: Provisioning,
    /// When set, workspaces carry `workspace_url` built from this template, with
    /// `{deployment_name}` and `{workspace_id}` replaced; unset = `<emulator url>/w/{workspace_id}`.
    pub workspace_url_template: Option<String>,
    /// Emulator-clock time a cluster spends in `PENDING`, `RESTARTING` or `RESIZING`.
    pub cluster_start_delay: Duration,
    /// Emulator-clock time a cluster spends in `TERMINATING`.
    pub cluster_terminate_delay: Duration,
    /// Emulator-clock time a library spends in `PENDING`, and again in `INSTALLING`.
    pub library_install_delay: Duration,
    /// Seed of the generator behind fault rules' `probability`.
    pub fault_seed: u64,
    /// Accepted `clusters/create` calls per workspace per minute before the emulator answers
    /// `429 REQUEST_LIMIT_EXCEEDED` ([`crate::limits`]); 0 = unlimited, the default.
    pub cluster_creates_per_minute: u32,
}

impl Default for DatabricksEmulatorConfig {
    fn default() -> Self {
        DatabricksEmulatorConfig {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            token_lifetime: Duration::from_secs(3600),
            provisioning: Provisioning::default(),
            workspace_url_template: None,
            cluster_start_delay: Duration::from_millis(200),
            cluster_terminate_delay: Duration::from_millis(100),
            library_install_delay: Duration::from_millis(100),
            fault_seed: 42,
            cluster_creates_per_minute: 0,
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

/// Shared by all handlers: configuration, clock, fault rules, and the state behind one mutex.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

struct Shared {
    config: DatabricksEmulatorConfig,
    base_url: String,
    clock: Clock,
    faults: Faults,
    state: Mutex<state::State>,
}

impl AppState {
    fn new(config: DatabricksEmulatorConfig, base_url: String) -> Self {
        let state = state::State {
            create_limiter: crate::limits::CreateLimiter::new(config.cluster_creates_per_minute),
            ..state::State::default()
        };
        AppState(Arc::new(Shared {
            faults: Faults::new(config.fault_seed),
            config,
            base_url: base_url.trim_end_matches('/').to_string(),
            clock: Clock::default(),
            state: Mutex::new(state),
        }))
    }

    pub(crate) fn config(&self) -> &DatabricksEmulatorConfig {
        &self.0.config
    }

    /// The state; a handler that panicked cannot leave it half-written in a way later tests care
    /// about, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, state::State> {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// Emulator time, epoch milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        self.0.clock.now_ms()
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.0.faults
    }

    /// The `workspace_url` of a new workspace.
    pub(crate) fn workspace_url(&self, deployment_name: &str, workspace_id: i64) -> String {
        match &self.0.config.workspace_url_template {
            Some(t) => t
                .replace("{deployment_name}", deployment_name)
                .replace("{workspace_id}", &workspace_id.to_string()),
            None => format!("{}/w/{workspace_id}", self.0.base_url),
        }
    }
}

/// The `{}` body of deletes and updates.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// The emulator's HTTP routes, for serving on a listener of your own; `base_url` is the URL that
/// listener is reached at (workspaces' URLs are built from it).
pub fn router(config: DatabricksEmulatorConfig, base_url: &str) -> Router {
    router_with_state(AppState::new(config, base_url.to_string()))
}

fn router_with_state(app: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .merge(controls::routes())
        .merge(account::routes(app.clone()))
        .merge(workspace::routes(app.clone()))
        .fallback(endpoint_not_found)
        .method_not_allowed_fallback(endpoint_not_found)
        .layer(middleware::from_fn_with_state(app.clone(), faults::inject))
        .layer(middleware::map_response_with_state(
            app.clone(),
            date_header,
        ))
        .with_state(app)
}

/// Every answer, injected faults included, carries the emulator's own time in `Date`, as a
/// server's clock would (hyper's real-time `Date` is only added when none is set): clients that
/// judge expiry by the server's time see the clock a test advanced.
async fn date_header(State(app): State<AppState>, mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&crate::clock::http_date(app.now_ms())) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

pub(crate) async fn endpoint_not_found(request: Request) -> ApiError {
    ApiError::endpoint_not_found(request.method().as_str(), request.uri().path())
}

/// An emulator serving on `127.0.0.1:<free port>` inside the current tokio runtime; it stops when
/// dropped (or when the runtime ends, e.g. at the end of a `#[tokio::test]`).
pub struct DatabricksEmulator {
    addr: SocketAddr,
    app: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for DatabricksEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabricksEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DatabricksEmulator {
    /// Starts an emulator with the default configuration.
    pub async fn start() -> Result<Self, EmulatorError> {
        Self::start_with(DatabricksEmulatorConfig::default()).await
    }

    /// Starts an emulator with `config`.
    pub async fn start_with(config: DatabricksEmulatorConfig) -> Result<Self, EmulatorError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let app = AppState::new(config, format!("http://{addr}"));
        let router = router_with_state(app.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(DatabricksEmulator {
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
    pub fn config(&self) -> &DatabricksEmulatorConfig {
        self.app.config()
    }

    /// Issues an account-API access token for `account_id` (as the configured client) without the
    /// OAuth round trip.
    pub fn issue_token(&self, account_id: &str) -> String {
        let lifetime = self.app.config().token_lifetime;
        let now = self.app.now_ms();
        let client = self.app.config().client_id.clone();
        self.app.lock().issue_token(
            Audience::Account(account_id.to_string()),
            &client,
            lifetime,
            now,
        )
    }

    /// Issues an access token for the API of workspace `workspace_id` (as the configured client,
    /// an admin there), without the OAuth round trip. The workspace need not exist yet.
    pub fn issue_workspace_token(&self, workspace_id: i64) -> String {
        let lifetime = self.app.config().token_lifetime;
        let now = self.app.now_ms();
        let client = self.app.config().client_id.clone();
        self.app
            .lock()
            .issue_token(Audience::Workspace(workspace_id), &client, lifetime, now)
    }

    /// Emulator time, epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.app.now_ms()
    }

    /// Moves emulator time forward (what `POST /_emulator/clock` does).
    pub fn advance_clock(&self, by: Duration) {
        self.app.clock().advance(by);
    }

    /// Appends fault rules (what `POST /_emulator/faults` does); none is added if one is invalid.
    pub fn add_faults(&self, rules: Vec<FaultRule>) -> Result<(), String> {
        self.app.faults().add(rules)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults().clear();
    }

    /// The fault rules with their remaining `times` and `hits`.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.app.faults().list()
    }

    /// Makes the next start(s) of a matching cluster fail (what `POST /_emulator/cluster-failures`
    /// does).
    pub fn add_cluster_failure(&self, failure: ClusterFailure) {
        self.app.lock().cluster_failures.push(failure.into());
    }

    /// Fails a running cluster now (what `POST /_emulator/cluster-terminations` does); the
    /// answer's `{"cluster_id", "state", "termination_reason"}`, or the control's error as
    /// `(status, message)`.
    pub fn terminate_cluster(
        &self,
        termination: &crate::ClusterTermination,
    ) -> Result<serde_json::Value, (u16, String)> {
        controls::terminate_cluster(&self.app, termination)
            .map_err(|e| (e.status.as_u16(), e.message))
    }

    /// Ends a run (what `POST /_emulator/runs/finish` does); the run as `runs/get` 2.1 answers
    /// it, or the control's error as `(status, message)`.
    pub fn finish_run(
        &self,
        finish: &crate::RunFinish,
    ) -> Result<serde_json::Value, (u16, String)> {
        controls::finish_run(&self.app, finish).map_err(|e| (e.status.as_u16(), e.message))
    }

    /// Sets (`Some`) or clears (`None`) a workspace's cluster start delay (what
    /// `/_emulator/cluster-delays` does).
    pub fn set_start_delay(&self, workspace_id: i64, delay: Option<Duration>) {
        let mut state = self.app.lock();
        match delay {
            Some(d) => {
                state
                    .cluster_delays
                    .insert(workspace_id, crate::clock::ms(d));
            }
            None => {
                state.cluster_delays.remove(&workspace_id);
            }
        }
    }

    /// Every webhook delivery attempt so far (what `GET /_emulator/deliveries` lists).
    pub fn deliveries(&self) -> serde_json::Value {
        let mut state = self.app.lock();
        crate::workspace::jobs::settle_and_deliver(&self.app, &mut state, None);
        serde_json::json!({ "deliveries": state.deliveries })
    }

    /// Makes matching library installs fail (what `POST /_emulator/library-failures` does).
    pub fn add_library_failure(&self, failure: crate::LibraryFailure) {
        self.app
            .lock()
            .library_failures
            .push(crate::controls::LibraryFailureRule { request: failure });
    }

    /// Removes every library-failure rule (what `DELETE /_emulator/library-failures` does).
    pub fn clear_library_failures(&self) {
        self.app.lock().library_failures.clear();
    }

    /// Sets the cluster-create limit (what `POST /_emulator/limits` does).
    pub fn set_limits(&self, limits: crate::Limits) {
        self.app.lock().create_limiter.set(limits);
    }

    /// How many cluster creates were answered 429 since the last reset.
    pub fn throttled_cluster_creates(&self) -> u64 {
        self.app.lock().create_limiter.throttled()
    }

    /// Every live object of `account_id` (what `GET /_emulator/inventory` answers).
    pub fn inventory(&self, account_id: &str) -> serde_json::Value {
        let now = self.app.now_ms();
        let mut state = self.app.lock();
        crate::workspace::jobs::settle_and_deliver(&self.app, &mut state, None);
        crate::inventory::of_account(&mut state, self.app.config(), account_id, now)
    }

    /// Every secret value the emulator has handed out.
    pub fn minted_secrets(&self) -> Vec<MintedSecret> {
        self.app.lock().minted.clone()
    }

    /// Forgets every object, fault rule, cluster and library failure and the create history (the
    /// create limit returns to the configured one); tokens stay valid and the clock keeps its
    /// offset.
    pub fn reset(&self) {
        controls::reset_all(&self.app);
    }
}

impl Drop for DatabricksEmulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
