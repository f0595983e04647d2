//! The lease on the state lock (issue #11): a failed heartbeat is tried again within the lease,
//! and the run goes on; only a lost lease (expired, or the lock taken by another holder) stops
//! it, and not mid-call: nothing new starts, the operation under way finishes and is recorded,
//! then the run fails saying why.
//!
//! Against the in-memory provider (creates slowed down with injected delays) and a store whose
//! heartbeats fail as each test says. Leases are a few seconds, so each test takes as long.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use brickstack_exec::{ApplyOptions, Engine, EngineError, LeaseLost, RefreshMode, Request, Runner};
use brickstack_graph::{Address, ResourceGraph, Resources, map, reference};
use brickstack_provider::memory::{FaultEffect, MemoryProvider, Operation};
use brickstack_state::{LockInfo, LockRequest, State, StateError, StateStore, check_write};
use time::OffsetDateTime;

/// What the store's heartbeats do.
#[derive(Debug, Clone, Copy)]
enum Heartbeats {
    /// The next `n` fail with a backend error, the rest succeed.
    FailFirst(usize),
    /// Every one fails with a backend error.
    FailAll,
    /// The first one finds the lock taken by another run.
    Stolen,
}

/// A state store in memory with the real backends' rules, whose heartbeats misbehave.
struct FlakyStore {
    heartbeats: Heartbeats,
    attempts: Mutex<usize>,
    state: Mutex<Option<State>>,
    lock: Mutex<Option<LockInfo>>,
}

impl FlakyStore {
    fn new(heartbeats: Heartbeats) -> Self {
        FlakyStore {
            heartbeats,
            attempts: Mutex::new(0),
            state: Mutex::new(None),
            lock: Mutex::new(None),
        }
    }

    fn not_held(&self, id: &str) -> StateError {
        StateError::LockNotHeld {
            id: id.into(),
            current: self.lock.lock().unwrap().clone(),
        }
    }
}

impl StateStore for FlakyStore {
    fn location(&self) -> String {
        "memory".into()
    }
    async fn lock(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
        let mut lock = self.lock.lock().unwrap();
        if let Some(holder) = lock.clone() {
            return Err(StateError::locked(holder, request.now));
        }
        let info = LockInfo::from_request(request, "memory");
        *lock = Some(info.clone());
        Ok(info)
    }
    async fn heartbeat(
        &self,
        lock: &LockInfo,
        now: OffsetDateTime,
    ) -> Result<LockInfo, StateError> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            *attempts += 1;
            *attempts
        };
        let unreachable = StateError::Backend {
            backend: "memory".into(),
            detail: format!("heartbeat {attempt}: connection reset"),
            retryable: true,
        };
        match self.heartbeats {
            Heartbeats::FailFirst(n) if attempt <= n => return Err(unreachable),
            Heartbeats::FailAll => return Err(unreachable),
            Heartbeats::Stolen => {
                let mut held = self.lock.lock().unwrap();
                let mut thief = held.clone().unwrap();
                thief.id = "another-run".into();
                thief.who = "someone@elsewhere".into();
                *held = Some(thief);
            }
            Heartbeats::FailFirst(_) => {}
        }
        let mut held = self.lock.lock().unwrap();
        match held.as_mut() {
            Some(h) if h.id == lock.id => {
                h.heartbeat = now;
                Ok(h.clone())
            }
            _ => {
                drop(held);
                Err(self.not_held(&lock.id))
            }
        }
    }
    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
        let mut held = self.lock.lock().unwrap();
        match held.as_ref() {
            Some(h) if h.id == lock.id => {
                *held = None;
                Ok(())
            }
            _ => {
                drop(held);
                Err(self.not_held(&lock.id))
            }
        }
    }
    async fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        let mut held = self.lock.lock().unwrap();
        match held.as_ref() {
            Some(h) if h.id == lock_id => {
                *held = None;
                Ok(())
            }
            _ => {
                drop(held);
                Err(self.not_held(lock_id))
            }
        }
    }
    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.lock.lock().unwrap().clone())
    }
    async fn read(&self) -> Result<Option<State>, StateError> {
        Ok(self.state.lock().unwrap().clone())
    }
    async fn write(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        if self.lock.lock().unwrap().as_ref().map(|l| &l.id) != Some(&lock.id) {
            return Err(self.not_held(&lock.id));
        }
        let mut stored = self.state.lock().unwrap();
        check_write(stored.as_ref(), state)?;
        *stored = Some(state.clone());
        Ok(())
    }
}

fn spec() -> brickstack_spec::Spec {
    brickstack_spec::parse(
        "t.toml",
        "[environment]\nname = \"test\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap()
}

/// `test_thing.a` ← `b` ← `c`: each waits for the one before.
fn chain() -> ResourceGraph {
    let mut resources = Resources::default();
    resources.add("test_thing", "a", map! { "name" => "a" });
    resources.add(
        "test_thing",
        "b",
        map! { "name" => "b", "ref" => reference(&Address::new("test_thing", "a"), "id") },
    );
    resources.add(
        "test_thing",
        "c",
        map! { "name" => "c", "ref" => reference(&Address::new("test_thing", "b"), "id") },
    );
    brickstack_graph::build(&spec(), resources).unwrap()
}

/// Applies the chain with a lease of `lease_seconds` (a heartbeat every second), `a`'s create
/// taking 2 s and `b`'s 3 s.
async fn apply_chain(
    provider: &MemoryProvider,
    store: &FlakyStore,
    lease_seconds: u64,
) -> Result<brickstack_exec::ApplyReport, EngineError> {
    provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::Delay(Duration::from_secs(2)),
        1,
    );
    provider.inject(
        Operation::Create,
        "test_thing.b",
        FaultEffect::Delay(Duration::from_secs(3)),
        1,
    );
    let engine = Engine {
        provider,
        store,
        runner: Runner {
            lease_seconds,
            ..Runner::default()
        },
    };
    engine
        .apply(
            &Request {
                environment: "test",
                graph: &chain(),
                targets: &[],
                excludes: &[],
                replace: &[],
                refresh: RefreshMode::Full,
            },
            None,
            &ApplyOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
}

fn recorded(store: &FlakyStore) -> Vec<String> {
    store
        .state
        .lock()
        .unwrap()
        .as_ref()
        .map(|s| s.resources.keys().cloned().collect())
        .unwrap_or_default()
}

fn creates(provider: &MemoryProvider) -> Vec<String> {
    provider
        .calls()
        .into_iter()
        .filter(|(op, _)| *op == Operation::Create)
        .map(|(_, a)| a)
        .collect()
}

#[tokio::test]
async fn failed_heartbeats_are_retried_within_the_lease_and_the_run_completes() {
    let provider = MemoryProvider::new();
    // The first renewal (at 1 s) fails three times, then succeeds well within the 3 s lease.
    let store = FlakyStore::new(Heartbeats::FailFirst(3));
    let report = apply_chain(&provider, &store, 3).await.unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        recorded(&store),
        ["test_thing.a", "test_thing.b", "test_thing.c"]
    );
    let attempts = *store.attempts.lock().unwrap();
    assert!(
        attempts > 3,
        "the failed renewal was tried again: {attempts} attempts"
    );
    assert!(store.lock.lock().unwrap().is_none(), "the lock is released");
}

#[tokio::test]
async fn an_expired_lease_stops_scheduling_and_the_operation_under_way_finishes_and_is_recorded() {
    let provider = MemoryProvider::new();
    // No renewal ever succeeds: the 3 s lease runs out while `b`'s create (2 s to 5 s) runs.
    let store = FlakyStore::new(Heartbeats::FailAll);
    let error = apply_chain(&provider, &store, 3).await.unwrap_err();
    let EngineError::LeaseLost { cause, report } = &error else {
        panic!("not a lost lease: {error}");
    };
    assert!(
        matches!(
            cause,
            LeaseLost::Expired {
                lease_seconds: 3,
                ..
            }
        ),
        "{cause}"
    );
    let report = report.as_ref().expect("the walk's report");
    assert_eq!(
        report.finished,
        ["test_thing.a", "test_thing.b"],
        "{report:?}"
    );
    assert_eq!(report.not_started, ["test_thing.c"], "{report:?}");
    assert_eq!(
        creates(&provider),
        ["test_thing.a", "test_thing.b"],
        "nothing new starts once the lease is lost"
    );
    assert_eq!(
        recorded(&store),
        ["test_thing.a", "test_thing.b"],
        "the create under way was recorded"
    );
    let message = error.to_string();
    assert!(
        message.contains("lease (3s) expired")
            && message.contains("connection reset")
            && message.contains("after 2 operation(s), 1 not started"),
        "{message}"
    );
}

#[tokio::test]
async fn a_lock_taken_by_another_run_stops_the_run_without_starting_anything_new() {
    let provider = MemoryProvider::new();
    // At 1 s, while `a`'s create runs, another run holds the lock.
    let store = FlakyStore::new(Heartbeats::Stolen);
    let error = apply_chain(&provider, &store, 3).await.unwrap_err();
    let EngineError::LeaseLost { cause, .. } = &error else {
        panic!("not a lost lease: {error}");
    };
    assert!(matches!(cause, LeaseLost::Taken { .. }), "{cause}");
    assert_eq!(
        *store.attempts.lock().unwrap(),
        1,
        "a lock held by another run is not renewed again"
    );
    assert_eq!(
        creates(&provider),
        ["test_thing.a"],
        "the create under way finished; nothing new started"
    );
    assert!(error.to_string().contains("taken from this run"), "{error}");
    assert_eq!(
        store.lock.lock().unwrap().as_ref().map(|l| l.id.as_str()),
        Some("another-run"),
        "the other run's lock is left alone"
    );
}
