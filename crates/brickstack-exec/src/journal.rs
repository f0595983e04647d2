//! The state as the run goes: one writer, persisting after every change, and the resolution of
//! operations a previous run journaled but never finished.

use brickstack_provider::Provider;
use brickstack_state::{
    AccessGrant, Edit, LockInfo, PendingKind, RecordedResource, ResourceStatus, State, StateStore,
    Touched,
};
use tokio::sync::Mutex;

use crate::error::ExecError;

/// Owns the run's state; every mutation is persisted before the next one starts.
pub struct StateWriter<'a, S: StateStore> {
    store: &'a S,
    lock: &'a LockInfo,
    inner: Mutex<Inner>,
}

struct Inner {
    state: State,
    /// What changes not yet persisted touched (a commit whose write failed): the next commit's
    /// delta carries them too.
    unsaved: Touched,
}

impl<'a, S: StateStore> StateWriter<'a, S> {
    pub fn new(store: &'a S, lock: &'a LockInfo, state: State) -> Self {
        StateWriter {
            store,
            lock,
            inner: Mutex::new(Inner {
                state,
                unsaved: Touched::default(),
            }),
        }
    }

    /// Applies `change` and persists the result as the next serial: the store is handed the
    /// delta (the entries the change touched, [`Edit`]) with the whole state, and a journaling
    /// backend stores only the delta, so a commit costs the same at 100 or 20,000 resources.
    ///
    /// The change describes something that already happened (or is about to, for an intent), so
    /// it stays in memory even if persisting fails: the error stops the run, and a later commit
    /// writes it under the same serial. No copy of the whole state is made per commit.
    pub async fn commit(&self, change: impl FnOnce(&mut Edit<'_>)) -> Result<(), ExecError> {
        let mut inner = self.inner.lock().await;
        let Inner { state, unsaved } = &mut *inner;
        let mut edit = Edit::new(state);
        change(&mut edit);
        unsaved.merge(edit.into_touched());
        state.serial += 1;
        let delta = unsaved.delta(state);
        if let Err(e) = self.store.write_delta(self.lock, &delta, state).await {
            state.serial -= 1;
            return Err(e.into());
        }
        *unsaved = Touched::default();
        Ok(())
    }

    /// Records an access grant for `email` (`brickstack access grant`, the access service).
    pub async fn set_grant(&self, email: &str, grant: AccessGrant) -> Result<(), ExecError> {
        self.commit(|edit| edit.set_grant(email, grant)).await
    }

    /// Removes `email`'s access grant; `false` if there was none (nothing is written).
    pub async fn remove_grant(&self, email: &str) -> Result<bool, ExecError> {
        if !self
            .with_state(|state| state.access_grants.contains_key(email))
            .await
        {
            return Ok(false);
        }
        self.commit(|edit| {
            edit.remove_grant(email);
        })
        .await?;
        Ok(true)
    }

    /// A copy of the current state.
    pub async fn snapshot(&self) -> State {
        self.inner.lock().await.state.clone()
    }

    /// Reads the current state without copying it.
    pub async fn with_state<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&self.inner.lock().await.state)
    }

    pub async fn into_state(self) -> State {
        self.inner.into_inner().state
    }
}

/// Resolves operations journaled by a run that stopped before recording their outcome: a create
/// whose object exists (found by name or tags) is adopted, one whose object does not is dropped; a
/// delete whose object is gone is completed. A sleep (a pending delete of a record marked asleep)
/// leaves the record asleep if the object is gone and makes it live again if not. A create of a
/// kind sent at most once is recorded as done from the attributes it sent, never sent again.
pub async fn reconcile_pending<P: Provider, S: StateStore>(
    provider: &P,
    writer: &StateWriter<'_, S>,
) -> Result<Settled, ExecError> {
    let pending = writer.with_state(|state| state.pending.clone()).await;
    let mut settled = Vec::new();
    let mut unknown = Vec::new();
    for (address, operation) in pending {
        if provider.schema(&operation.kind).is_none() {
            // No provider serves the kind, so no call for it can have gone out.
            writer
                .commit(|edit| {
                    edit.remove_pending(&address);
                })
                .await?;
            settled.push(address);
            continue;
        }
        match operation.operation {
            // Sent at most once: never looked up (nothing can find it) nor sent again; settled as
            // done from what was sent, its outcome unknown.
            PendingKind::Create
                if provider
                    .schema(&operation.kind)
                    .is_some_and(|s| s.at_most_once) =>
            {
                tracing::warn!(%address, "a create sent at most once was interrupted: recorded as done, outcome unknown");
                let observed = crate::walk::sent_at_most_once(
                    operation.attributes.clone().unwrap_or_default(),
                );
                writer
                    .commit(|edit| {
                        edit.remove_pending(&address);
                        edit.insert_resource(
                            address.clone(),
                            RecordedResource::new(
                                operation.kind.clone(),
                                observed.object_id,
                                observed.attributes,
                                operation.dependencies.clone(),
                            ),
                        );
                    })
                    .await?;
                unknown.push(address.clone());
            }
            PendingKind::Create => {
                let found = provider
                    .find(&operation.kind, &operation.lookup)
                    .await
                    .map_err(|error| ExecError::Provider {
                        address: address.clone(),
                        operation: "find",
                        error,
                    })?;
                writer
                    .commit(|edit| {
                        edit.remove_pending(&address);
                        if let Some(observed) = found {
                            edit.insert_resource(
                                address.clone(),
                                RecordedResource::new(
                                    operation.kind.clone(),
                                    observed.object_id,
                                    observed.attributes,
                                    operation.dependencies.clone(),
                                ),
                            );
                        }
                    })
                    .await?;
            }
            PendingKind::Delete => {
                let recorded = writer.snapshot().await.resources.get(&address).cloned();
                let gone = match &recorded {
                    Some(r) => provider
                        .read(&r.kind, &r.object_id)
                        .await
                        .map_err(|error| ExecError::Provider {
                            address: address.clone(),
                            operation: "read",
                            error,
                        })?
                        .is_none(),
                    None => true,
                };
                writer
                    .commit(|edit| {
                        edit.remove_pending(&address);
                        let sleeping = edit
                            .state()
                            .resources
                            .get(&address)
                            .is_some_and(|r| r.status == ResourceStatus::Asleep);
                        match (gone, sleeping) {
                            // A sleep that finished: the record stays, asleep.
                            (true, true) => {}
                            (true, false) => {
                                edit.remove_resource(&address);
                            }
                            // A sleep that never reached the cloud: the object is still live.
                            (false, true) => {
                                if let Some(r) = edit.resource_mut(&address) {
                                    r.status = ResourceStatus::Live;
                                }
                            }
                            (false, false) => {}
                        }
                    })
                    .await?;
            }
        }
        settled.push(address);
    }
    Ok(Settled {
        settled,
        outcome_unknown: unknown,
    })
}

/// What [`reconcile_pending`] settled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Every address whose pending operation was settled.
    pub settled: Vec<String>,
    /// Creates sent at most once recorded as done without knowing whether they took effect.
    pub outcome_unknown: Vec<String>,
}
