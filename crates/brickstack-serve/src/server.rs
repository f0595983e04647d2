//! Putting it together: the database, the worker's lock, the router (access routes behind
//! authentication, ops routes open, every answer counted) and graceful shutdown. One process, one
//! port: later features add their routes to [`router`] and their tables to the store's migrations.

use std::fs::{File, OpenOptions, TryLockError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::{Router, middleware};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::access::{self, AccessRunner};
use crate::auth::{self, Auth};
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
}

/// A bound service, not yet answering: [`Server::run_until`] runs it.
pub struct Server<R> {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    worker: Worker<R>,
}

impl<R: AccessRunner> Server<R> {
    /// Opens the database, takes the queue's lock (`DB.lock`: one service per queue), puts back in
    /// the queue what a dead process left running, and binds the listener.
    pub async fn bind(config: ServeConfig, runner: R) -> Result<Self, ServeError> {
        let store = Store::open(&config.db_path)?;
        let lock = lock_queue(&config.db_path)?;
        let resumed = store
            .requeue_interrupted()
            .await
            .map_err(|e| database_error(&config.db_path, e))?;
        if resumed > 0 {
            tracing::warn!(
                requests = resumed,
                "access requests interrupted by a previous process are queued again"
            );
        }
        let metrics = Arc::new(Metrics::new());
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
        };
        let worker = Worker {
            runner,
            store,
            metrics,
            wake: state.wake.clone(),
            poll_interval: config.poll_interval,
            _lock: lock,
        };
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
            router: router(state, config.auth),
            worker,
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
        let (result, (), ()) = tokio::join!(http, self.worker.run(stopped), signal);
        result.map_err(ServeError::Http)
    }
}

/// Runs the service until SIGTERM or Ctrl-C: what `brickstack serve -e ENV` calls.
pub async fn serve<R: AccessRunner>(config: ServeConfig, runner: R) -> Result<(), ServeError> {
    Server::bind(config, runner)
        .await?
        .run_until(shutdown_signal())
        .await
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

/// The whole service's routes. The access routes need the key; `/healthz` and `/metrics` do not
/// (probes and scrapers hold no key; neither route tells anything about a person).
fn router(state: AppState, auth: Auth) -> Router {
    let access = access::routes().route_layer(middleware::from_fn_with_state(auth, auth::require));
    Router::new()
        .merge(access)
        .merge(ops::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}

fn lock_queue(db_path: &Path) -> Result<File, ServeError> {
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

fn database_error(path: &Path, source: crate::store::StoreError) -> ServeError {
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
