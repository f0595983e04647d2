//! The use cases every command is made of: plan and apply (destroy is an apply of an empty
//! desired graph; sleep and wake are runs of their `RunMode`), each under the state lock, with
//! the lease renewed while work runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use brickstack_graph::ResourceGraph;
use brickstack_plan::{Plan, PlanInput, RunMode, Selection, SelectionError, graph_hash};
use brickstack_provider::{KindSchema, Provider};
use brickstack_state::{AccessGrant, LockInfo, LockRequest, State, StateError, StateStore};
use time::OffsetDateTime;

use crate::error::ExecError;
use crate::journal::{Settled, StateWriter, reconcile_pending};
use crate::refresh::{RefreshMode, refresh, refresh_minimal};
use crate::walk::{ApplyOptions, ApplyReport, Event, apply, refuse_unserved};

/// Who is running, for lock information.
#[derive(Debug, Clone)]
pub struct Runner {
    pub who: String,
    pub version: String,
    /// Seconds a lock lives without a heartbeat.
    pub lease_seconds: u64,
}

impl Default for Runner {
    fn default() -> Self {
        Runner {
            who: "brickstack".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            lease_seconds: 60,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error(transparent)]
    Plan(#[from] brickstack_plan::PlanError),
    /// The caller's check under the lock refused the run (`brickstack sleep`: clusters running).
    #[error("{}", .0.message)]
    Refused(Refusal),
    /// The run lost the state lock and stopped: nothing new started, what was under way finished.
    #[error("{cause}; the run stopped{}", report.as_ref().map(|r| format!(" after {} operation(s), {} not started", r.finished.len(), r.not_started.len())).unwrap_or_default())]
    LeaseLost {
        cause: LeaseLost,
        /// The walk's report, when it got as far as the walk.
        report: Option<Box<ApplyReport>>,
    },
}

/// Why a caller's check refused to let a run change anything, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

impl From<StateError> for EngineError {
    fn from(e: StateError) -> Self {
        EngineError::Exec(ExecError::State(e))
    }
}

/// What to plan: the desired graph, and which part of it.
pub struct Request<'a> {
    pub environment: &'a str,
    pub graph: &'a ResourceGraph,
    pub targets: &'a [String],
    pub excludes: &'a [String],
    /// Addresses to replace even though nothing forces it (`--replace`); each must be known.
    pub replace: &'a [String],
    pub refresh: RefreshMode,
}

/// Plans and applies against one provider and one state store.
pub struct Engine<'a, P: Provider, S: StateStore> {
    pub provider: &'a P,
    pub store: &'a S,
    pub runner: Runner,
}

impl<'a, P: Provider, S: StateStore> Engine<'a, P, S> {
    pub(crate) async fn lock(&self, operation: &str) -> Result<LockInfo, StateError> {
        self.store
            .lock(&LockRequest {
                id: uuid::Uuid::new_v4().to_string(),
                operation: operation.to_string(),
                who: self.runner.who.clone(),
                version: self.runner.version.clone(),
                now: OffsetDateTime::now_utc(),
                lease_seconds: self.runner.lease_seconds,
            })
            .await
    }

    /// The stored state, or a new lineage's empty state.
    pub(crate) async fn current_state(&self, environment: &str) -> Result<State, StateError> {
        Ok(match self.store.read().await? {
            Some(state) => state,
            None => State::new(environment, uuid::Uuid::new_v4().to_string()),
        })
    }

    /// Locks, settles pending operations, refreshes and plans; releases the lock.
    pub async fn plan(&self, request: &Request<'_>) -> Result<Plan, EngineError> {
        self.plan_for(request, &RunMode::Reconcile).await
    }

    /// [`Engine::plan`] for a run of `mode` (`brickstack sleep`, `wake`). Sleep and wake choose
    /// what they touch themselves: `request.targets` and `excludes` apply to reconciling only.
    pub async fn plan_for(
        &self,
        request: &Request<'_>,
        mode: &RunMode,
    ) -> Result<Plan, EngineError> {
        let lock = self.lock(operation(mode, "plan")).await?;
        let result = self.plan_locked(&lock, request, mode).await;
        let unlocked = self.store.unlock(&lock).await;
        let (plan, _, _) = result?;
        unlocked?;
        Ok(plan)
    }

    async fn plan_locked(
        &self,
        lock: &LockInfo,
        request: &Request<'_>,
        mode: &RunMode,
    ) -> Result<(Plan, State, Settled), EngineError> {
        let state = self.current_state(request.environment).await?;
        let writer = StateWriter::new(self.store, lock, state);
        let mut settled = Settled::default();
        if writer.with_state(|state| !state.pending.is_empty()).await {
            settled = reconcile_pending(self.provider, &writer).await?;
        }
        let state = writer.into_state().await;
        let (plan, state) = self.plan_state(request, mode, state).await?;
        Ok((plan, state, settled))
    }

    /// Plans `request` against `state` as given (already settled): what `plan_locked` does after
    /// reading the state, and what `import` shows after recording (or only proposing) objects.
    pub(crate) async fn plan_state(
        &self,
        request: &Request<'_>,
        mode: &RunMode,
        mut state: State,
    ) -> Result<(Plan, State), EngineError> {
        let stored = state.serial > 0;
        // Destroy is an apply of `nothing()`: against the empty graph, what goes is an explicit
        // decision, so removal graces do not hold it.
        let destroy = RunMode::Destroy;
        let mode = if *mode == RunMode::Reconcile && request.graph.resources().next().is_none() {
            &destroy
        } else {
            mode
        };
        let selection = match mode {
            RunMode::Reconcile | RunMode::Destroy => {
                Selection::new(request.graph, &state, request.targets, request.excludes)?
            }
            RunMode::Sleep(_) | RunMode::Wake => Selection::All,
        };
        Selection::check_known(request.graph, &state, request.replace)?;
        let observed = match request.refresh {
            RefreshMode::Full => refresh(self.provider, &state).await?,
            RefreshMode::Minimal => refresh_minimal(self.provider, &state, request.graph).await?,
        };
        let context = self
            .provider
            .context()
            .await
            .map_err(|error| ExecError::Provider {
                address: "(provider)".into(),
                operation: "context",
                error,
            })?;
        let schema = |kind: &str| {
            self.provider
                .schema(kind)
                .unwrap_or_else(|| KindSchema::new(kind))
        };
        let hash = graph_hash(request.graph);
        // Handed over, not lent: the plan's `before` attributes move out of it.
        let plan = brickstack_plan::plan_observed(
            &PlanInput {
                environment: request.environment,
                graph: request.graph,
                state: &state,
                observed: &BTreeMap::new(),
                context: &context,
                schema: &schema,
                spec_hash: &hash,
                selection: &selection,
                replace: request.replace,
                now: OffsetDateTime::now_utc(),
            },
            observed,
            mode,
        );
        // A change no provider can make is refused now, before anything changes.
        refuse_unserved(self.provider, &plan)?;
        // A plan made before the first write binds to "no state yet" (an empty lineage), not
        // to the lineage this run happened to draw.
        let mut plan = plan;
        if !stored {
            plan.lineage.clear();
            state.lineage = uuid::Uuid::new_v4().to_string();
        }
        Ok((plan, state))
    }

    /// Applies a saved plan (refused unless it matches the state and spec), or plans afresh and
    /// applies that. The lock is held throughout and its lease renewed.
    pub async fn apply(
        &self,
        request: &Request<'_>,
        saved: Option<&Plan>,
        options: &ApplyOptions,
        events: &(dyn Fn(Event) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<ApplyReport, EngineError> {
        let admit_all = async |_: &State| Ok(());
        self.apply_for(
            request,
            &RunMode::Reconcile,
            saved,
            admit_all,
            options,
            events,
            cancel,
        )
        .await
    }

    /// [`Engine::apply`] for a run of `mode`. Under the lock, after planning and before any
    /// change, `admit` sees the state as it is then and may refuse the run
    /// ([`EngineError::Refused`]): `brickstack sleep` refuses while clusters run.
    #[allow(
        clippy::too_many_arguments,
        reason = "apply's arguments plus the mode and the check; the call sites name each"
    )]
    pub async fn apply_for(
        &self,
        request: &Request<'_>,
        mode: &RunMode,
        saved: Option<&Plan>,
        admit: impl AsyncFn(&State) -> Result<(), Refusal>,
        options: &ApplyOptions,
        events: &(dyn Fn(Event) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<ApplyReport, EngineError> {
        let lock = self.lock(operation(mode, "apply")).await?;
        let (result, lost) = self
            .with_heartbeat(
                &lock,
                cancel,
                self.apply_locked(&lock, request, mode, saved, admit, options, events, cancel),
            )
            .await;
        let unlocked = self.store.unlock(&lock).await;
        if let Some(cause) = lost {
            // What finished is recorded (or, if another holder has the state, listed here).
            return Err(EngineError::LeaseLost {
                cause,
                report: result.ok().map(Box::new),
            });
        }
        let report = result?;
        unlocked?;
        Ok(report)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "apply_for's arguments and the lock, passed through"
    )]
    async fn apply_locked(
        &self,
        lock: &LockInfo,
        request: &Request<'_>,
        mode: &RunMode,
        saved: Option<&Plan>,
        admit: impl AsyncFn(&State) -> Result<(), Refusal>,
        options: &ApplyOptions,
        events: &(dyn Fn(Event) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<ApplyReport, EngineError> {
        let (fresh, state, settled) = self.plan_locked(lock, request, mode).await?;
        let plan = match saved {
            Some(saved) => {
                saved.check_current(&fresh.lineage, state.serial, &fresh.spec_hash)?;
                saved
            }
            None => &fresh,
        };
        admit(&state).await.map_err(EngineError::Refused)?;
        let context = self
            .provider
            .context()
            .await
            .map_err(|error| ExecError::Provider {
                address: "(provider)".into(),
                operation: "context",
                error,
            })?;
        let writer = StateWriter::new(self.store, lock, state);
        let mut report = apply(
            self.provider,
            &writer,
            plan,
            request.graph,
            &context,
            options,
            events,
            cancel,
        )
        .await?;
        report.outcome_unknown.splice(0..0, settled.outcome_unknown);
        Ok(report)
    }

    /// `brickstack access grant` / `revoke` and the access service: under one lock, records
    /// `grants` in state (each written as its own serial), then builds the desired graph from
    /// the state as it now is (`desired`: the people are the spec's plus the grants) and plans and
    /// applies it in `mode` (a grant: `Reconcile` targeting the person's resources; a revoke:
    /// `Destroy` targeting them, which deletes at once, grace or not). `desired` may refuse
    /// (a revoke of a person the spec lists): the grants stay recorded only if it does not.
    #[allow(
        clippy::too_many_arguments,
        reason = "apply_for's arguments with the grants and the graph builder; the call sites name each"
    )]
    pub async fn apply_with_grants(
        &self,
        environment: &str,
        grants: &[GrantChange],
        desired: impl FnOnce(&State) -> Result<Desired, Refusal>,
        mode: &RunMode,
        options: &ApplyOptions,
        events: &(dyn Fn(Event) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<ApplyReport, EngineError> {
        let lock = self.lock(operation(mode, "apply")).await?;
        let work = async {
            let state = self.current_state(environment).await?;
            // Built from the state with the grants applied, before any is written: a refusal
            // leaves the state as it was.
            let mut preview = state.clone();
            for change in grants {
                change.apply_to(&mut preview);
            }
            let desired = desired(&preview).map_err(EngineError::Refused)?;
            let writer = StateWriter::new(self.store, &lock, state);
            for change in grants {
                match change {
                    GrantChange::Grant { email, grant } => {
                        writer.set_grant(email, grant.clone()).await?;
                    }
                    GrantChange::Revoke { email } => {
                        writer.remove_grant(email).await?;
                    }
                }
            }
            drop(writer);
            let request = Request {
                environment,
                graph: &desired.graph,
                targets: &desired.targets,
                excludes: &desired.excludes,
                replace: &[],
                refresh: desired.refresh,
            };
            let admit_all = async |_: &State| Ok(());
            self.apply_locked(
                &lock, &request, mode, None, admit_all, options, events, cancel,
            )
            .await
        };
        let (result, lost) = self.with_heartbeat(&lock, cancel, work).await;
        let unlocked = self.store.unlock(&lock).await;
        if let Some(cause) = lost {
            return Err(EngineError::LeaseLost {
                cause,
                report: result.ok().map(Box::new),
            });
        }
        let report = result?;
        unlocked?;
        Ok(report)
    }

    /// Runs `work` while renewing the lock's lease every third of it. A failed renewal is tried
    /// again until the lease would run out; only a lost lease (expired, or the lock taken by
    /// another holder) stops the run, and not mid-call: `cancel` is set, so the walk schedules
    /// nothing more, lets the operations under way finish and records them. The second value
    /// says why the lease was lost, if it was.
    pub(crate) async fn with_heartbeat<T>(
        &self,
        lock: &LockInfo,
        cancel: &AtomicBool,
        work: impl Future<Output = Result<T, EngineError>>,
    ) -> (Result<T, EngineError>, Option<LeaseLost>) {
        let lease = Duration::from_secs(self.runner.lease_seconds.max(1));
        let period = Duration::from_secs((self.runner.lease_seconds / 3).max(1));
        let retry = (period / 4).max(Duration::from_millis(100));
        let mut lost = None;
        let heartbeat = async {
            let mut renewed = Instant::now();
            loop {
                tokio::time::sleep(period).await;
                loop {
                    // A renewal that hangs counts as failed once the lease is up.
                    let left = lease.saturating_sub(renewed.elapsed()).max(retry);
                    let renewal = self.store.heartbeat(lock, OffsetDateTime::now_utc());
                    let error = match tokio::time::timeout(left, renewal).await {
                        Ok(Ok(_)) => {
                            renewed = Instant::now();
                            break;
                        }
                        Ok(Err(error)) => error,
                        Err(_) => StateError::Backend {
                            backend: self.store.location(),
                            detail: format!(
                                "renewing the lock's lease got no answer in {}s",
                                left.as_secs()
                            ),
                            retryable: true,
                        },
                    };
                    if matches!(
                        error,
                        StateError::LockNotHeld { .. } | StateError::Locked { .. }
                    ) {
                        return LeaseLost::Taken { error };
                    }
                    let left = lease.saturating_sub(renewed.elapsed());
                    if left.is_zero() {
                        return LeaseLost::Expired {
                            lease_seconds: self.runner.lease_seconds,
                            error,
                        };
                    }
                    tracing::warn!(%error, left_seconds = left.as_secs(), "renewing the state lock's lease failed; trying again");
                    tokio::time::sleep(retry.min(left)).await;
                }
            }
        };
        let mut work = std::pin::pin!(work);
        let result = tokio::select! {
            result = &mut work => result,
            reason = heartbeat => {
                tracing::warn!(%reason, "stopping: no new operation starts; those under way finish and are recorded");
                cancel.store(true, Ordering::SeqCst);
                lost = Some(reason);
                work.await
            }
        };
        (result, lost)
    }
}

/// One change to the recorded access grants (`State::access_grants`, by lower-cased e-mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantChange {
    Grant { email: String, grant: AccessGrant },
    Revoke { email: String },
}

impl GrantChange {
    fn apply_to(&self, state: &mut State) {
        match self {
            GrantChange::Grant { email, grant } => {
                state.access_grants.insert(email.clone(), grant.clone());
            }
            GrantChange::Revoke { email } => {
                state.access_grants.remove(email);
            }
        }
    }
}

/// What [`Engine::apply_with_grants`] applies: the desired graph built from the state with the
/// grants recorded, and which part of it.
pub struct Desired {
    pub graph: ResourceGraph,
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
    pub refresh: RefreshMode,
}

/// Why a run stopped holding the state lock.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LeaseLost {
    /// Another holder has the lock (a `force-unlock` and a new run, or a backend that lost it).
    #[error("the state lock was taken from this run: {error}")]
    Taken { error: StateError },
    /// No renewal succeeded for a whole lease, so another run may take the lock.
    #[error(
        "the state lock's lease ({lease_seconds}s) expired: no renewal succeeded, the last failed with: {error}"
    )]
    Expired {
        lease_seconds: u64,
        error: StateError,
    },
}

/// The lock's operation: `sleep` and `wake` name themselves, so a refused run sees what holds it.
fn operation(mode: &RunMode, reconcile: &'static str) -> &'static str {
    match mode {
        RunMode::Reconcile => reconcile,
        RunMode::Destroy => "destroy",
        RunMode::Sleep(_) => "sleep",
        RunMode::Wake => "wake",
    }
}

/// An empty graph: what `destroy` plans against.
pub fn nothing() -> ResourceGraph {
    ResourceGraph::default()
}
