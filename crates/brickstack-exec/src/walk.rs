//! The walk (after Terraform's `dag/walk.go`): an operation starts as soon as the operations it
//! waits for succeeded; at most `parallelism` run at once; a failure skips only what waits on it,
//! each reported once; cancellation stops scheduling and lets running operations finish.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};

use brickstack_graph::kinds::{self, Data};
use brickstack_graph::{Address, ContextValue, Reference, ResourceGraph};
use brickstack_plan::{Action, Change, Plan};
use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, Provider,
    ProviderError,
};
use brickstack_state::{
    ObjectLookup, PendingKind, PendingOperation, RecordedResource, ResourceStatus, State,
    StateStore,
};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::error::{ExecError, HeldData};
use crate::journal::StateWriter;

/// How a walk runs. There is no retry setting: each provider call is retried by the adapter that
/// makes it (one layer, `brickstack_provider::RetryPolicy`); the walk only sends a create again
/// after an ambiguous failure whose lookup found nothing.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Operations running at once.
    pub parallelism: usize,
    /// How many times a create whose answer was lost (`maybe_applied`) and whose lookup
    /// (`Provider::find`) found nothing is sent again, each time looked up first.
    pub create_resends: u32,
    /// Delete objects that still hold data (datalake buckets).
    pub destroy_data: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            create_resends: 2,
            destroy_data: false,
        }
    }
}

/// Progress, for the progress display and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Started {
        address: String,
        action: Action,
    },
    /// A create failed without an answer saying whether it took effect: the object is being
    /// looked up before anything is sent again (`attempt` counts these lookups, from 1).
    LookingUp {
        address: String,
        attempt: u32,
        error: String,
    },
    Finished {
        address: String,
        action: Action,
    },
    Failed {
        address: String,
        error: String,
    },
    Skipped {
        address: String,
        because: String,
    },
    /// A create of a kind sent at most once failed without saying whether it took effect: it is
    /// recorded as done from the attributes sent and never sent again (a message may or may not
    /// have reached its reader).
    OutcomeUnknown {
        address: String,
        error: String,
    },
}

/// How a run ended, operation by operation.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub finished: Vec<String>,
    pub failed: Vec<(String, ExecError)>,
    /// Operations not run because one they wait for failed: `(address, failed dependency)`.
    pub skipped: Vec<(String, String)>,
    /// Operations not started because the run was cancelled.
    pub not_started: Vec<String>,
    /// Creates sent at most once whose outcome is unknown (no answer came, or the run that sent
    /// them died), recorded as done and never sent again: the engine's settling and this walk's.
    pub outcome_unknown: Vec<String>,
    pub state: State,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.not_started.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
}

/// Name-like attributes an object can be found by after an interrupted create (a token's
/// `value_parameter` names it: its comment carries that parameter).
const NAME_ATTRIBUTES: [&str; 12] = [
    "name",
    "bucket",
    "cluster_name",
    "display_name",
    "workspace_name",
    "credentials_name",
    "storage_configuration_name",
    "network_name",
    "config_name",
    "label",
    "path",
    "value_parameter",
];

/// Applies `plan`. The caller holds the lock, has reconciled pending operations, and checked the
/// plan is current; `graph` is the desired graph the plan was made from.
#[allow(
    clippy::too_many_arguments,
    reason = "the engine's one call site passes each piece by name; a struct would only rename them"
)]
pub async fn apply<P: Provider, S: StateStore>(
    provider: &P,
    writer: &StateWriter<'_, S>,
    plan: &Plan,
    graph: &ResourceGraph,
    context: &BTreeMap<String, String>,
    options: &ApplyOptions,
    events: &(dyn Fn(Event) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<ApplyReport, ExecError> {
    let ops: BTreeMap<&str, &Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.as_str(), c))
        .collect();
    refuse_unserved(provider, plan)?;
    if !options.destroy_data {
        let asleep: BTreeSet<String> = writer
            .with_state(|state| {
                state
                    .resources
                    .iter()
                    .filter(|(_, r)| r.status == ResourceStatus::Asleep)
                    .map(|(a, _)| a.clone())
                    .collect()
            })
            .await;
        refuse_data_loss(provider, &ops, &asleep).await?;
    }
    let walk = &Walk {
        provider,
        writer,
        graph,
        context,
        options,
        events,
        outcome_unknown: std::sync::Mutex::default(),
    };
    let waits_for = writer
        .with_state(|state| wait_edges(&ops, &state.resources))
        .await;
    // What each operation still waits for, and who waits on it: readiness is tracked as
    // operations finish instead of rescanning every operation each time.
    let mut outstanding: BTreeMap<&str, usize> =
        ops.keys().map(|a| (*a, waits_for[*a].len())).collect();
    let mut waiters: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (address, waits) in &waits_for {
        let (address, _) = ops.get_key_value(address.as_str()).expect("an operation");
        for dependency in waits {
            if let Some((dependency, _)) = ops.get_key_value(dependency.as_str()) {
                waiters.entry(*dependency).or_default().push(*address);
            }
        }
    }
    let mut ready: VecDeque<&str> = outstanding
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(a, _)| *a)
        .collect();
    let mut status: BTreeMap<&str, Status> = ops.keys().map(|a| (*a, Status::Waiting)).collect();
    let mut report = ApplyReport {
        finished: Vec::new(),
        failed: Vec::new(),
        skipped: Vec::new(),
        not_started: Vec::new(),
        outcome_unknown: Vec::new(),
        state: State::new("", ""),
    };
    let mut running = FuturesUnordered::new();
    loop {
        while !cancel.load(Ordering::SeqCst) && running.len() < options.parallelism.max(1) {
            let Some(address) = ready.pop_front() else {
                break;
            };
            status.insert(address, Status::Running);
            let change = ops[address];
            events(Event::Started {
                address: address.to_string(),
                action: change.action,
            });
            running.push(async move { (address, walk.run(change).await) });
        }
        let Some((address, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(()) => {
                status.insert(address, Status::Done);
                events(Event::Finished {
                    address: address.to_string(),
                    action: ops[address].action,
                });
                report.finished.push(address.to_string());
                for waiter in waiters.get(address).into_iter().flatten() {
                    let n = outstanding.get_mut(waiter).expect("an operation");
                    *n -= 1;
                    if *n == 0 && status[waiter] == Status::Waiting {
                        ready.push_back(waiter);
                    }
                }
            }
            Err(error) => {
                status.insert(address, Status::Failed);
                events(Event::Failed {
                    address: address.to_string(),
                    error: error.to_string(),
                });
                report.failed.push((address.to_string(), error));
                // Skip everything that waits on it, directly or not, once each.
                let mut stack = vec![address];
                while let Some(failed) = stack.pop() {
                    for waiter in waiters.get(failed).into_iter().flatten() {
                        if status[waiter] == Status::Waiting {
                            status.insert(waiter, Status::Skipped);
                            events(Event::Skipped {
                                address: waiter.to_string(),
                                because: address.to_string(),
                            });
                            report
                                .skipped
                                .push((waiter.to_string(), address.to_string()));
                            stack.push(waiter);
                        }
                    }
                }
            }
        }
    }
    report.not_started = status
        .iter()
        .filter(|(_, s)| **s == Status::Waiting)
        .map(|(a, _)| a.to_string())
        .collect();
    report.outcome_unknown = walk
        .outcome_unknown
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    report.state = writer.snapshot().await;
    Ok(report)
}

/// For each operation, the operations it must wait for: a create or update waits for its changing
/// dependencies; a delete waits for the deletes of everything recorded as depending on it.
fn wait_edges(
    ops: &BTreeMap<&str, &Change>,
    recorded: &BTreeMap<String, RecordedResource>,
) -> BTreeMap<String, BTreeSet<String>> {
    ops.iter()
        .map(|(address, change)| {
            let waits: BTreeSet<String> = match change.action {
                // State-only: nothing to wait for.
                Action::Retire | Action::Keep => BTreeSet::new(),
                Action::Delete | Action::Sleep => ops
                    .iter()
                    .filter(|(other, c)| {
                        matches!(c.action, Action::Delete | Action::Replace | Action::Sleep)
                            && recorded
                                .get(**other)
                                .is_some_and(|r| r.dependencies.iter().any(|d| d == address))
                    })
                    .map(|(other, _)| other.to_string())
                    // The old half of a create-before-destroy replacement whose create failed
                    // goes only once its replacement exists (a token is never revoked before a
                    // working successor is stored): if the create fails again, it stays.
                    .chain(
                        address
                            .strip_suffix(DEPOSED_SUFFIX)
                            .filter(|base| {
                                ops.get(base).is_some_and(|c| {
                                    matches!(c.action, Action::Create | Action::Replace)
                                })
                            })
                            .map(str::to_string),
                    )
                    .collect(),
                _ => change
                    .dependencies
                    .iter()
                    .filter(|d| {
                        ops.get(d.as_str())
                            .is_some_and(|c| !matches!(c.action, Action::Delete | Action::Sleep))
                    })
                    .cloned()
                    .collect(),
            };
            (address.to_string(), waits)
        })
        .collect()
}

/// Refuses, before touching anything, a plan with a change of a kind the provider does not
/// serve: one error naming every such kind with its addresses. The engine checks it when it
/// plans, and again here for a saved plan.
pub fn refuse_unserved<P: Provider>(provider: &P, plan: &Plan) -> Result<(), ExecError> {
    let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for change in &plan.changes {
        if change.action != Action::NoOp && provider.schema(&change.kind).is_none() {
            kinds
                .entry(change.kind.clone())
                .or_default()
                .push(change.address.clone());
        }
    }
    if kinds.is_empty() {
        Ok(())
    } else {
        Err(ExecError::UnservedKinds { kinds })
    }
}

/// Refuses, before touching anything, to delete or replace objects that still hold data, naming
/// every one. A kind whose data is counted (a bucket: object versions and delete markers) is
/// refused when it holds any; one whose data is not counted (a workspace: notebooks, jobs, DBFS)
/// whenever the object exists. An asleep record's object is already gone.
async fn refuse_data_loss<P: Provider>(
    provider: &P,
    ops: &BTreeMap<&str, &Change>,
    asleep: &BTreeSet<String>,
) -> Result<(), ExecError> {
    let mut held = Vec::new();
    for (address, change) in ops {
        let deletes = matches!(
            change.action,
            Action::Delete | Action::Replace | Action::Sleep
        );
        // A retained object stays, data and all.
        let holds_data = provider
            .schema(&change.kind)
            .is_some_and(|s| s.holds_data && !s.retain_on_delete);
        let Some(object_id) = &change.object_id else {
            continue;
        };
        if !deletes || !holds_data || asleep.contains(*address) {
            continue;
        }
        let what = match kinds::kind(&change.kind).map(|k| k.data) {
            Some(Data::Uncounted(what)) => what.to_string(),
            _ => {
                let count = provider
                    .contents(&change.kind, object_id)
                    .await
                    .map_err(|error| ExecError::Provider {
                        address: address.to_string(),
                        operation: "count contents",
                        error,
                    })?;
                if count == 0 {
                    continue;
                }
                format!("{count} object(s)")
            }
        };
        held.push(HeldData {
            address: address.to_string(),
            object_id: object_id.clone(),
            what,
        });
    }
    if held.is_empty() {
        Ok(())
    } else {
        Err(ExecError::HoldsData { held })
    }
}

/// Whether `--destroy-data` empties an object of `kind` before deleting it: kinds holding data
/// the provider counts (a bucket). A workspace's data goes with the workspace.
fn emptied_before_delete(schema: Option<KindSchema>, kind: &str) -> bool {
    schema.is_some_and(|s| s.holds_data)
        && !matches!(kinds::kind(kind).map(|k| k.data), Some(Data::Uncounted(_)))
}

/// What every operation of one run shares.
struct Walk<'a, P: Provider, S: StateStore> {
    provider: &'a P,
    writer: &'a StateWriter<'a, S>,
    graph: &'a ResourceGraph,
    context: &'a BTreeMap<String, String>,
    options: &'a ApplyOptions,
    events: &'a (dyn Fn(Event) + Send + Sync),
    outcome_unknown: std::sync::Mutex<Vec<String>>,
}

/// What [`deposed_address`] appends.
const DEPOSED_SUFFIX: &str = "#deposed";

/// The address a replaced object is recorded under until it is deleted.
pub fn deposed_address(address: &str) -> String {
    format!("{address}{DEPOSED_SUFFIX}")
}

impl<P: Provider, S: StateStore> Walk<'_, P, S> {
    async fn run(&self, change: &Change) -> Result<(), ExecError> {
        let address = change.address.as_str();
        // `apply` refuses a plan with an unserved kind before any operation (`refuse_unserved`);
        // this keeps the promise per operation: no intent is journaled for an object nobody can
        // create.
        if self.provider.schema(&change.kind).is_none() {
            return Err(ExecError::UnsupportedKind {
                address: address.to_string(),
                kind: change.kind.clone(),
            });
        }
        match change.action {
            Action::Create => self.create(change).await,
            Action::Update => {
                let attributes = self.desired(change).await?;
                let object_id = change.object_id.clone().unwrap_or_default();
                let observed = self
                    .provider
                    .update(&change.kind, &object_id, &attributes)
                    .await
                    .map_err(|error| provider_error(address, "update", error))?;
                self.record(change, observed).await
            }
            Action::Delete => self.delete(address, change).await,
            Action::Sleep => self.sleep(change).await,
            // State-only: the plan decided the time; the record takes it, no cloud call.
            Action::Retire => {
                let since = change.removal.as_ref().map(|r| r.since.clone());
                self.writer
                    .commit(|edit| {
                        if let Some(record) = edit.resource_mut(address) {
                            record.retiring_since = since;
                        }
                    })
                    .await
            }
            Action::Keep => {
                let grace = Address::parse(address)
                    .and_then(|a| self.graph.get(&a))
                    .and_then(|r| r.removal_grace_seconds);
                self.writer
                    .commit(|edit| {
                        if let Some(record) = edit.resource_mut(address) {
                            record.retiring_since = None;
                            record.removal_grace_seconds = grace;
                        }
                    })
                    .await
            }
            Action::Replace if change.create_before_destroy => {
                // The old object stays on record, as deposed, until it is gone: if its delete
                // fails, the next plan still destroys it.
                let deposed = deposed_address(address);
                self.writer
                    .commit(|edit| {
                        if let Some(old) = edit.remove_resource(address) {
                            edit.insert_resource(deposed.clone(), old);
                        }
                    })
                    .await?;
                self.create(change).await?;
                self.delete(&deposed, change).await
            }
            Action::Replace => {
                self.delete(address, change).await?;
                self.create(change).await
            }
            Action::NoOp => Ok(()),
        }
    }

    async fn create(&self, change: &Change) -> Result<(), ExecError> {
        let attributes = self.desired(change).await?;
        let request = CreateRequest {
            address: change.address.clone(),
            kind: change.kind.clone(),
            lookup: lookup_for(&attributes),
            attributes,
        };
        let started_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let schema = self.provider.schema(&change.kind);
        let at_most_once = schema.as_ref().is_some_and(|s| s.at_most_once);
        // What a create sent at most once is settled from if its outcome is never recorded.
        let intent_attributes =
            at_most_once.then(|| without_sensitive(schema.as_ref(), request.attributes.clone()));
        // The intent is on record before the cloud call: a crash from here on leaves a trail.
        self.writer
            .commit(|edit| {
                edit.insert_pending(
                    change.address.clone(),
                    PendingOperation {
                        kind: change.kind.clone(),
                        operation: PendingKind::Create,
                        started_at,
                        lookup: request.lookup.clone(),
                        dependencies: change.dependencies.clone(),
                        attributes: intent_attributes,
                    },
                );
            })
            .await?;
        if at_most_once {
            return match self.provider.create(&request).await {
                Ok(observed) => self.record(change, observed).await,
                Err(error) if error.maybe_applied => {
                    self.outcome_unknown
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(change.address.clone());
                    (self.events)(Event::OutcomeUnknown {
                        address: change.address.clone(),
                        error: error.to_string(),
                    });
                    self.record(change, sent_at_most_once(request.attributes))
                        .await
                }
                Err(error) => Err(provider_error(&change.address, "create", error)),
            };
        }
        match self.create_or_adopt(&request).await? {
            Sent::Created(observed) => self.record(change, observed).await,
            Sent::Found(found) => {
                // Recorded first: from here on the object is tracked whatever happens next.
                self.record(change, found.clone()).await?;
                if !self.needs_update(&request, &found) {
                    return Ok(());
                }
                let updated = self
                    .provider
                    .update(&change.kind, &found.object_id, &request.attributes)
                    .await
                    .map_err(|error| provider_error(&change.address, "update", error))?;
                self.record(change, updated).await
            }
        }
    }

    /// Whether an object found after an ambiguous create lacks what the create does after its
    /// first call (a VPC's DNS settings, a gateway's attachment, a key's rotation): an updatable
    /// desired attribute it does not have, compared as the planner compares.
    fn needs_update(&self, request: &CreateRequest, found: &Observed) -> bool {
        let Some(schema) = self.provider.schema(&request.kind) else {
            return false;
        };
        request.attributes.iter().any(|(name, desired)| {
            schema.compared(name)
                && schema.behaviour(name) == AttributeBehaviour::Updatable
                && !found
                    .attributes
                    .get(name)
                    .is_some_and(|observed| schema.same_value(name, desired, observed))
        })
    }

    /// Sends `request` until it succeeds or fails for good. A failure that may hide an applied
    /// create (`maybe_applied`) is never answered by sending again blindly: the object is looked
    /// up first and adopted if found; only if nothing is found is the create sent again, at most
    /// `create_resends` times. Any other error fails the operation (the adapter has retried what
    /// was worth retrying).
    async fn create_or_adopt(&self, request: &CreateRequest) -> Result<Sent, ExecError> {
        let address = request.address.as_str();
        let mut lookups = 0;
        loop {
            let error = match self.provider.create(request).await {
                Ok(observed) => return Ok(Sent::Created(observed)),
                Err(error) if error.maybe_applied => error,
                Err(error) => return Err(provider_error(address, "create", error)),
            };
            lookups += 1;
            (self.events)(Event::LookingUp {
                address: address.to_string(),
                attempt: lookups,
                error: error.to_string(),
            });
            // A failed lookup leaves the intent journaled: the next run settles it.
            match self
                .provider
                .find(&request.kind, &request.lookup)
                .await
                .map_err(|e| provider_error(address, "find", e))?
            {
                // The object of another record (the deposed half of a create-before-destroy
                // replacement carries the same tags) is never adopted: unsure, stop here.
                Some(found)
                    if self
                        .recorded_elsewhere(address, &request.kind, &found)
                        .await =>
                {
                    return Err(provider_error(address, "create", error));
                }
                Some(found) => return Ok(Sent::Found(found)),
                None if lookups <= self.options.create_resends => {}
                None => return Err(provider_error(address, "create", error)),
            }
        }
    }

    /// Whether `found` is on record under an address other than `address`.
    async fn recorded_elsewhere(&self, address: &str, kind: &str, found: &Observed) -> bool {
        self.writer
            .with_state(|state| {
                state.resources.iter().any(|(other, recorded)| {
                    other != address
                        && recorded.kind == kind
                        && recorded.object_id == found.object_id
                })
            })
            .await
    }

    /// Deletes the object recorded at `address` (the change's own, or its deposed one).
    async fn delete(&self, address: &str, change: &Change) -> Result<(), ExecError> {
        let Some((object_id, status)) = self
            .writer
            .with_state(|state| {
                state
                    .resources
                    .get(address)
                    .map(|r| (r.object_id.clone(), r.status))
            })
            .await
        else {
            return Ok(());
        };
        let retained = self
            .provider
            .schema(&change.kind)
            .is_some_and(|s| s.retain_on_delete);
        if status == ResourceStatus::Asleep || retained {
            // Asleep: its object was deleted when it was put to sleep. Retained: the object is
            // another system's to keep. Either way only the record is left to go.
            return self
                .writer
                .commit(|edit| {
                    edit.remove_resource(address);
                })
                .await;
        }
        self.writer
            .commit(|edit| {
                edit.insert_pending(
                    address.to_string(),
                    PendingOperation {
                        kind: change.kind.clone(),
                        operation: PendingKind::Delete,
                        started_at: String::new(),
                        lookup: ObjectLookup {
                            name: Some(object_id.clone()),
                            tags: Default::default(),
                            scope: None,
                        },
                        dependencies: change.dependencies.clone(),
                        attributes: None,
                    },
                );
            })
            .await?;
        // `--destroy-data`: the guard let this object go with its data, so remove the data
        // first (S3 refuses to delete a bucket that is not empty). The adapter retries its own
        // calls.
        if self.options.destroy_data
            && emptied_before_delete(self.provider.schema(&change.kind), &change.kind)
        {
            self.provider
                .empty(&change.kind, &object_id)
                .await
                .map_err(|error| provider_error(address, "empty", error))?;
        }
        match self.provider.delete(&change.kind, &object_id).await {
            Ok(()) => {}
            // Already gone: the goal is reached.
            Err(error) if error.class == ErrorClass::NotFound => {}
            Err(error) => return Err(provider_error(address, "delete", error)),
        }
        self.writer
            .commit(|edit| {
                edit.remove_pending(address);
                edit.remove_resource(address);
            })
            .await
    }

    /// Puts the change's object to sleep: deletes it and keeps its record, marked asleep, so that
    /// `wake` can create it again. The intent (a pending delete, and the record already marked
    /// asleep) is persisted before the cloud call; a run that finds it settles it by whether the
    /// object is gone (asleep) or not (live again), as `reconcile_pending` does.
    async fn sleep(&self, change: &Change) -> Result<(), ExecError> {
        let address = change.address.as_str();
        let Some(object_id) = self
            .writer
            .with_state(|state| state.resources.get(address).map(|r| r.object_id.clone()))
            .await
        else {
            return Ok(());
        };
        self.writer
            .commit(|edit| {
                edit.insert_pending(
                    address.to_string(),
                    PendingOperation {
                        kind: change.kind.clone(),
                        operation: PendingKind::Delete,
                        started_at: String::new(),
                        lookup: ObjectLookup {
                            name: Some(object_id.clone()),
                            tags: Default::default(),
                            scope: None,
                        },
                        dependencies: change.dependencies.clone(),
                        attributes: None,
                    },
                );
                if let Some(record) = edit.resource_mut(address) {
                    record.status = ResourceStatus::Asleep;
                }
            })
            .await?;
        match self.provider.delete(&change.kind, &object_id).await {
            Ok(()) => {}
            Err(error) if error.class == ErrorClass::NotFound => {}
            // The pending delete stays: the next run reads the object and settles the record.
            Err(error) => return Err(provider_error(address, "delete", error)),
        }
        self.writer
            .commit(|edit| {
                edit.remove_pending(address);
            })
            .await
    }

    /// Records an operation's outcome, leaving sensitive attributes out.
    async fn record(&self, change: &Change, observed: Observed) -> Result<(), ExecError> {
        let attributes = without_sensitive(
            self.provider.schema(&change.kind).as_ref(),
            observed.attributes,
        );
        let removal_grace_seconds = Address::parse(&change.address)
            .and_then(|a| self.graph.get(&a))
            .and_then(|r| r.removal_grace_seconds);
        self.writer
            .commit(|edit| {
                edit.remove_pending(&change.address);
                edit.insert_resource(
                    change.address.clone(),
                    RecordedResource {
                        removal_grace_seconds,
                        ..RecordedResource::new(
                            change.kind.clone(),
                            observed.object_id,
                            attributes,
                            change.dependencies.clone(),
                        )
                    },
                );
            })
            .await
    }

    /// The desired attributes with every reference read from the state as it is now.
    async fn desired(&self, change: &Change) -> Result<Attributes, ExecError> {
        let resource = Address::parse(&change.address)
            .and_then(|a| self.graph.get(&a))
            .ok_or_else(|| ExecError::Unresolved {
                address: change.address.clone(),
                attribute: "(the resource is not in the spec's graph)".into(),
            })?;
        let context = |c: ContextValue| self.context.get(c.key()).cloned();
        self.writer
            .with_state(|state| {
                let lookup = |r: &Reference| {
                    state
                        .resources
                        .get(&r.address.to_string())
                        .and_then(|rec| rec.attributes.get(&r.attribute).cloned())
                };
                resource
                    .attributes
                    .iter()
                    .map(|(name, value)| {
                        value
                            .resolve(&lookup, &context)
                            .map(|v| (name.clone(), v))
                            .ok_or_else(|| ExecError::Unresolved {
                                address: change.address.clone(),
                                attribute: name.clone(),
                            })
                    })
                    .collect()
            })
            .await
    }
}

/// How a create ended: its answer, or the object found after an ambiguous failure.
enum Sent {
    Created(Observed),
    Found(Observed),
}

/// `attributes` less those the kind marks sensitive: never recorded.
pub(crate) fn without_sensitive(schema: Option<&KindSchema>, attributes: Attributes) -> Attributes {
    attributes
        .into_iter()
        .filter(|(name, _)| {
            schema.is_none_or(|s| s.behaviour(name) != AttributeBehaviour::Sensitive)
        })
        .collect()
}

/// The object id recorded for a create sent at most once whose outcome is unknown: nothing can
/// look it up (the kind is recorded only), so the id only says so.
pub const OUTCOME_UNKNOWN_ID: &str = "outcome-unknown";

/// What is recorded for a create sent at most once whose answer never came: the attributes sent.
pub(crate) fn sent_at_most_once(attributes: Attributes) -> Observed {
    Observed {
        object_id: OUTCOME_UNKNOWN_ID.to_string(),
        attributes,
    }
}

fn provider_error(address: &str, operation: &'static str, error: ProviderError) -> ExecError {
    ExecError::Provider {
        address: address.to_string(),
        operation,
        error,
    }
}

pub(crate) fn lookup_for(attributes: &Attributes) -> ObjectLookup {
    let name = NAME_ATTRIBUTES.iter().find_map(|k| {
        attributes
            .get(*k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    });
    let tags = ["tags", "custom_tags"]
        .iter()
        .filter_map(|k| attributes.get(*k).and_then(|v| v.as_object()))
        .flat_map(|m| m.iter())
        .filter(|(k, _)| k.starts_with("brickstack:"))
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    let scope = attributes
        .get("workspace_url")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    ObjectLookup { name, tags, scope }
}
