//! Putting it together: the database, the worker's lock, the router (access routes behind
//! authentication, ops routes open, every answer counted), the other [`Parts`] of the service
//! (the monitor's routes and loop, the replicas' election) and graceful shutdown. One process, one
//! port.

use std::fs::{File, OpenOptions, TryLockError};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::{Router, middleware};
use brickstack_monitor::Leadership;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::access::{self, AccessRunner};
use crate::auth::{self, Auth};
use crate::election::{Election, sole_replica};
use crate::error::ServeError;
use crate::metrics::{self, Metrics};
use crate::ops;
use crate::store::Store;
use crate::worker::Worker;

/// How often the worker looks at the queue when nothing woke it.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// What `brickstack serve` needs to run.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `[serve].listen`; port 0 picks a free port ([`Server::local_addr`] tells which).
    pub listen: SocketAddr,
    pub auth: Auth,
    /// The queue's database, `state/ENV.serve.sqlite`; its folder is created when missing.
    pub db_path: PathBuf,
    /// How often the worker looks at the queue without being woken.
    pub poll_interval: Duration,
}

impl ServeConfig {
    pub fn new(listen: SocketAddr, auth: Auth, db_path: impl Into<PathBuf>) -> Self {
        ServeConfig {
            listen,
            auth,
            db_path: db_path.into(),
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// Wakes the worker when a request is queued.
    pub wake: Arc<Notify>,
    /// Whether this replica acts; a standby refuses access requests (503).
    pub leadership: watch::Receiver<Leadership>,
}

/// A task that runs beside the service until the stop signal turns true.
pub type Task =
    Box<dyn FnOnce(watch::Receiver<bool>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A function that registers metrics in the service's registry (before it answers).
pub type RegisterMetrics = Box<dyn FnOnce(&mut Registry) + Send>;

/// The service's parts beside the access endpoint: more routes, tasks, metrics, and the election
/// that decides whether this replica acts. The default: nothing more, and this process alone acts.
pub struct Parts {
    /// Merged beside the access and ops routes; they handle their own authentication.
    pub routes: Router,
    pub tasks: Vec<Task>,
    pub metrics: Vec<RegisterMetrics>,
    /// `None`: this process alone acts, and two processes on one queue are refused at bind.
    pub election: Option<Election>,
    /// The election's result ([`crate::election`]), or always active without one.
    pub leadership: watch::Receiver<Leadership>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            routes: Router::new(),
            tasks: Vec::new(),
            metrics: Vec::new(),
            election: None,
            leadership: sole_replica(),
        }
    }
}

/// A bound service, not yet answering: [`Server::run_until`] runs it.
pub struct Server<R> {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    worker: Option<Worker<R>>,
    tasks: Vec<Task>,
    election: Option<Election>,
}

impl<R: AccessRunner> Server<R> {
    /// The access service alone, one process acting: [`Server::bind_with`] with default parts.
    pub async fn bind(config: ServeConfig, runner: R) -> Result<Self, ServeError> {
        Self::bind_with(config, Some(runner), Parts::default()).await
    }

    /// Opens the database and binds the listener. Without an election this process takes the
    /// queue's lock (`DB.lock`: one service per queue) and puts back in the queue what a dead
    /// process left running now; with one, its worker does both each time it becomes active.
    /// Without a runner the access routes are not served.
    pub async fn bind_with(
        config: ServeConfig,
        runner: Option<R>,
        parts: Parts,
    ) -> Result<Self, ServeError> {
        let store = Store::open(&config.db_path)?;
        let lock = match (&runner, &parts.election) {
            (Some(_), None) => {
                let lock = lock_queue(&config.db_path)?;
                requeue(&store, &config.db_path).await?;
                Some(lock)
            }
            _ => None,
        };
        let mut metrics = Metrics::new();
        for register in parts.metrics {
            register(metrics.registry_mut());
        }
        let metrics = Arc::new(metrics);
        metrics.queue_depth.set(
            store
                .queue_depth()
                .await
                .map_err(|e| database_error(&config.db_path, e))?,
        );
        let state = AppState {
            store: store.clone(),
            metrics: metrics.clone(),
            wake: Arc::new(Notify::new()),
            leadership: parts.leadership.clone(),
        };
        let serves_access = runner.is_some();
        let worker = runner.map(|runner| Worker {
            runner,
            store,
            metrics,
            wake: state.wake.clone(),
            poll_interval: config.poll_interval,
            db_path: config.db_path.clone(),
            lock,
            leadership: parts.leadership,
        });
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
        Ok(Server {
            listener,
            local_addr,
            router: router(state, config.auth, serves_access, parts.routes),
            worker,
            tasks: parts.tasks,
            election: parts.election,
        })
    }

    /// The address the service listens on (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Answers requests and runs the worker until `shutdown` completes; then stops accepting,
    /// finishes the requests in flight and the running batch, and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        tracing::info!(listen = %self.local_addr, "serving");
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        let http = {
            let mut stopped = stopped.clone();
            let stop = stop.clone();
            let serving =
                axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                });
            async move {
                let result = serving.await;
                // A failed server stops the worker too.
                stop.send_replace(true);
                result
            }
        };
        let signal = {
            let mut stopped = stopped.clone();
            async move {
                tokio::select! {
                    () = shutdown => tracing::info!("stopping: finishing requests in flight and the running batch"),
                    _ = stopped.wait_for(|stop| *stop) => {}
                }
                stop.send_replace(true);
            }
        };
        let worker = {
            let stopped = stopped.clone();
            async move {
                if let Some(worker) = self.worker {
                    worker.run(stopped).await;
                }
            }
        };
        let tasks =
            futures::future::join_all(self.tasks.into_iter().map(|task| task(stopped.clone())));
        // The election stops last: the lease is given up once nothing acts any more.
        let (finished, election_stop) = watch::channel(false);
        let acting = async move {
            let _ = tokio::join!(worker, tasks);
            finished.send_replace(true);
        };
        let election = async move {
            if let Some(election) = self.election {
                election.run(election_stop).await;
            }
        };
        let (result, (), (), ()) = tokio::join!(http, acting, election, signal);
        result.map_err(ServeError::Http)
    }
}

/// Runs the service until SIGTERM or Ctrl-C: what `brickstack serve -e ENV` calls.
pub async fn serve<R: AccessRunner>(
    config: ServeConfig,
    runner: Option<R>,
    parts: Parts,
) -> Result<(), ServeError> {
    Server::bind_with(config, runner, parts)
        .await?
        .run_until(shutdown_signal())
        .await
}

/// Puts back in the queue what a dead process left running.
pub(crate) async fn requeue(store: &Store, db_path: &Path) -> Result<(), ServeError> {
    let resumed = store
        .requeue_interrupted()
        .await
        .map_err(|e| database_error(db_path, e))?;
    if resumed > 0 {
        tracing::warn!(
            requests = resumed,
            "access requests interrupted by a previous process are queued again"
        );
    }
    Ok(())
}

/// Completes on Ctrl-C, or on SIGTERM where there are signals.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The whole service's routes. The access routes need the key and an acting replica; `/healthz`
/// and `/metrics` need neither (probes and scrapers hold no key; neither route tells anything
/// about a person); `extra` (the monitor's) handle their own.
fn router(state: AppState, auth: Auth, serves_access: bool, extra: Router) -> Router {
    let mut own = ops::routes();
    if serves_access {
        let access = access::routes()
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                access::require_active,
            ))
            .route_layer(middleware::from_fn_with_state(auth, auth::require));
        own = own.merge(access);
    }
    Router::new()
        .merge(own.with_state(state.clone()))
        .merge(extra)
        .layer(middleware::from_fn_with_state(
            state,
            metrics::count_requests,
        ))
}

pub(crate) fn lock_queue(db_path: &Path) -> Result<File, ServeError> {
    let mut path = db_path.as_os_str().to_owned();
    path.push(".lock");
    let path = PathBuf::from(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| ServeError::Lock {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(ServeError::AlreadyRunning { path }),
        Err(TryLockError::Error(source)) => Err(ServeError::Lock { path, source }),
    }
}

pub(crate) fn database_error(path: &Path, source: crate::store::StoreError) -> ServeError {
    ServeError::Queue {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretValue;

    #[test]
    fn a_config_never_prints_its_key() {
        for auth in [
            Auth::ApiKey(SecretValue::new("key-do-not-print")),
            Auth::Hmac(SecretValue::new("key-do-not-print")),
        ] {
            let config =
                ServeConfig::new(([127, 0, 0, 1], 0).into(), auth, "state/dev.serve.sqlite");
            let printed = format!("{config:?}");
            assert!(!printed.contains("do-not-print"), "{printed}");
            assert!(printed.contains("<redacted>"), "{printed}");
        }
    }
}
