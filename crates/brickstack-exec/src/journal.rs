//! The state as the run goes: one writer, persisting after every change, and the resolution of
//! operations a previous run journaled but never finished.

use brickstack_provider::Provider;
use brickstack_state::{
    LockInfo, PendingKind, RecordedResource, ResourceStatus, State, StateStore,
};
use tokio::sync::Mutex;

use crate::error::ExecError;

/// Owns the run's state; every mutation is persisted before the next one starts.
pub struct StateWriter<'a, S: StateStore> {
    store: &'a S,
    lock: &'a LockInfo,
    state: Mutex<State>,
}

impl<'a, S: StateStore> StateWriter<'a, S> {
    pub fn new(store: &'a S, lock: &'a LockInfo, state: State) -> Self {
        StateWriter {
            store,
            lock,
            state: Mutex::new(state),
        }
    }

    /// Applies `change` and persists the result as the next serial.
    ///
    /// The change describes something that already happened (or is about to, for an intent), so
    /// it stays in memory even if persisting fails: the error stops the run, and a later commit
    /// writes it under the same serial. No copy of the whole state is made per commit.
    pub async fn commit(&self, change: impl FnOnce(&mut State)) -> Result<(), ExecError> {
        let mut state = self.state.lock().await;
        change(&mut state);
        state.serial += 1;
        if let Err(e) = self.store.write(self.lock, &state).await {
            state.serial -= 1;
            return Err(e.into());
        }
        Ok(())
    }

    /// A copy of the current state.
    pub async fn snapshot(&self) -> State {
        self.state.lock().await.clone()
    }

    /// Reads the current state without copying it.
    pub async fn with_state<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&*self.state.lock().await)
    }

    pub async fn into_state(self) -> State {
        self.state.into_inner()
    }
}

/// Resolves operations journaled by a run that stopped before recording their outcome: a create
/// whose object exists (found by name or tags) is adopted, one whose object does not is dropped; a
/// delete whose object is gone is completed. A sleep (a pending delete of a record marked asleep)
/// leaves the record asleep if the object is gone and makes it live again if not. Returns the
/// addresses it settled.
pub async fn reconcile_pending<P: Provider, S: StateStore>(
    provider: &P,
    writer: &StateWriter<'_, S>,
) -> Result<Vec<String>, ExecError> {
    let pending = writer.snapshot().await.pending;
    let mut settled = Vec::new();
    for (address, operation) in pending {
        if provider.schema(&operation.kind).is_none() {
            // No provider serves the kind, so no call for it can have gone out.
            writer
                .commit(|state| {
                    state.pending.remove(&address);
                })
                .await?;
            settled.push(address);
            continue;
        }
        match operation.operation {
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
                    .commit(|state| {
                        state.pending.remove(&address);
                        if let Some(observed) = found {
                            state.resources.insert(
                                address.clone(),
                                RecordedResource {
                                    kind: operation.kind.clone(),
                                    object_id: observed.object_id,
                                    attributes: observed.attributes,
                                    dependencies: operation.dependencies.clone(),
                                    status: Default::default(),
                                },
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
                    .commit(|state| {
                        state.pending.remove(&address);
                        let sleeping = state
                            .resources
                            .get(&address)
                            .is_some_and(|r| r.status == ResourceStatus::Asleep);
                        match (gone, sleeping) {
                            // A sleep that finished: the record stays, asleep.
                            (true, true) => {}
                            (true, false) => {
                                state.resources.remove(&address);
                            }
                            // A sleep that never reached the cloud: the object is still live.
                            (false, true) => {
                                if let Some(r) = state.resources.get_mut(&address) {
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
    Ok(settled)
}
