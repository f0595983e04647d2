//! The single worker: takes every queued request, hands them to the runner as one batch, records
//! each outcome, and again, until told to stop. It is the only caller of the runner, and it awaits
//! each batch before taking the next, so two runs never overlap.

use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};

use crate::access::{AccessAction, AccessOutcome, AccessRequest, AccessRunner};
use crate::metrics::Metrics;
use crate::server::{lock_queue, requeue};
use crate::store::Store;
use brickstack_monitor::Leadership;

pub(crate) struct Worker<R> {
    pub runner: R,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub wake: Arc<Notify>,
    /// How often the queue is looked at without a wake-up (a missed one costs at most this).
    pub poll_interval: Duration,
    pub db_path: PathBuf,
    /// The exclusive lock on `DB.lock`, held while this worker acts: one worker per queue (taken
    /// at bind when there is no election).
    pub lock: Option<File>,
    pub leadership: watch::Receiver<Leadership>,
}

impl<R: AccessRunner> Worker<R> {
    /// Runs until `stop` turns true; a batch that started is finished and recorded first. Hands
    /// queued requests to the runner only while this replica acts; a standby waits. Each time it
    /// becomes active it takes the queue's lock (a replica on the same host that lost the lease
    /// may still be finishing its batch) and queues again what a dead process left running.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            if !self.leadership.borrow().active {
                self.lock = None;
                tokio::select! {
                    _ = self.leadership.wait_for(|l| l.active) => {}
                    _ = stop.wait_for(|stop| *stop) => break,
                }
                continue;
            }
            if self.lock.is_none() {
                match lock_queue(&self.db_path) {
                    Ok(lock) => self.lock = Some(lock),
                    Err(error) => {
                        tracing::warn!(%error, "acting, but the queue is still held: waiting");
                        tokio::select! {
                            () = tokio::time::sleep(self.poll_interval.min(Duration::from_secs(5))) => {}
                            _ = stop.wait_for(|stop| *stop) => break,
                        }
                        continue;
                    }
                }
                if let Err(error) = requeue(&self.store, &self.db_path).await {
                    tracing::error!(%error, "cannot queue interrupted access requests again");
                }
            }
            let batch = match self.store.take_batch(OffsetDateTime::now_utc()).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(%error, "cannot take queued access requests");
                    Vec::new()
                }
            };
            if let Ok(depth) = self.store.queue_depth().await {
                self.metrics.queue_depth.set(depth);
            }
            if batch.is_empty() {
                let mut leadership = self.leadership.clone();
                let leadership_changed = async move {
                    // Without an election nothing ever changes (the sender is gone).
                    if leadership.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(self.poll_interval) => {}
                    () = leadership_changed => {}
                    _ = stop.wait_for(|stop| *stop) => break,
                }
                continue;
            }
            self.run_batch(batch).await;
        }
        tracing::info!("access worker stopped");
    }

    async fn run_batch(&self, batch: Vec<AccessRequest>) {
        tracing::info!(requests = batch.len(), "access run starts");
        self.metrics.runs.inc();
        let started = Instant::now();
        let answer = AssertUnwindSafe(self.runner.run(&batch))
            .catch_unwind()
            .await;
        self.metrics
            .run_duration
            .observe(started.elapsed().as_secs_f64());
        let (mut outcomes, missing) = match answer {
            Ok(outcomes) => {
                let missing = "the run returned no outcome for this request".to_owned();
                (outcomes.into_iter(), missing)
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                (Vec::new().into_iter(), format!("the run panicked: {what}"))
            }
        };
        if outcomes.len() != batch.len() {
            self.metrics.runs_failed.inc();
            tracing::error!(
                requests = batch.len(),
                outcomes = outcomes.len(),
                "the access runner did not answer every request"
            );
        }
        for request in batch {
            let outcome = outcomes.next().unwrap_or_else(|| AccessOutcome::Failed {
                error: missing.clone(),
            });
            let outcome = consistent(request.action, outcome);
            self.metrics.count_outcome(request.action, &outcome);
            if let Err(error) = self
                .store
                .finish(request.id.clone(), outcome, OffsetDateTime::now_utc())
                .await
            {
                // It stays `running`; the next start puts it back in the queue.
                tracing::error!(%error, request_id = %request.id, "cannot record an outcome");
            }
        }
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "access run finished"
        );
    }
}

/// A grant ends `Ready` or `Failed`, a revoke `Revoked` or `Failed`; anything else is the
/// runner's mistake and is recorded as a failure rather than as a state the person is not in.
fn consistent(action: AccessAction, outcome: AccessOutcome) -> AccessOutcome {
    match (action, &outcome) {
        (AccessAction::Grant, AccessOutcome::Revoked)
        | (AccessAction::Revoke, AccessOutcome::Ready { .. }) => AccessOutcome::Failed {
            error: format!("the run answered a {} with {outcome:?}", action.as_str()),
        },
        _ => outcome,
    }
}
