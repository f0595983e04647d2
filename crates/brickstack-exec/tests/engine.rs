//! Engine tests on the in-memory provider with failure injection.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use brickstack_exec::{
    ApplyOptions, ApplyReport, Engine, EngineError, Event, RefreshMode, Refusal, Request, Runner,
    nothing,
};
use brickstack_graph::{Address, ResourceGraph, Resources, map, reference};
use brickstack_plan::{Action, Plan, PlanError, RunMode};
use brickstack_provider::memory::{FaultEffect, MemoryProvider, Operation};
use brickstack_provider::{AttributeBehaviour, ErrorClass, KindSchema, ProviderError};
use brickstack_state::{
    LockInfo, LockRequest, ResourceStatus, State, StateError, StateStore, check_write,
};
use time::OffsetDateTime;

/// A state store in memory, with the same rules as the real backends.
#[derive(Default)]
struct MemoryStore {
    state: Mutex<Option<State>>,
    lock: Mutex<Option<LockInfo>>,
    writes: Mutex<u64>,
}

impl StateStore for MemoryStore {
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
        let mut held = self.lock.lock().unwrap();
        match held.as_mut() {
            Some(h) if h.id == lock.id => {
                h.heartbeat = now;
                Ok(h.clone())
            }
            other => Err(StateError::LockNotHeld {
                id: lock.id.clone(),
                current: other.cloned(),
            }),
        }
    }
    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
        let mut held = self.lock.lock().unwrap();
        match held.as_ref() {
            Some(h) if h.id == lock.id => {
                *held = None;
                Ok(())
            }
            other => Err(StateError::LockNotHeld {
                id: lock.id.clone(),
                current: other.cloned(),
            }),
        }
    }
    async fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        let mut held = self.lock.lock().unwrap();
        match held.as_ref() {
            Some(h) if h.id == lock_id => {
                *held = None;
                Ok(())
            }
            other => Err(StateError::LockNotHeld {
                id: lock_id.into(),
                current: other.cloned(),
            }),
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
            return Err(StateError::LockNotHeld {
                id: lock.id.clone(),
                current: None,
            });
        }
        let mut stored = self.state.lock().unwrap();
        check_write(stored.as_ref(), state)?;
        *stored = Some(state.clone());
        *self.writes.lock().unwrap() += 1;
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

/// `test_thing` resources; `edges` are `(dependent, dependency)` by name.
fn graph(names: &[&str], edges: &[(&str, &str)]) -> ResourceGraph {
    let mut resources = Resources::default();
    for name in names {
        let mut attributes = map! { "name" => format!("thing-{name}"), "size" => 1i64 };
        if let brickstack_graph::Value::Map(m) = &mut attributes {
            for (i, (_, dependency)) in edges.iter().filter(|(d, _)| d == name).enumerate() {
                m.insert(
                    format!("ref{i}"),
                    reference(&Address::new("test_thing", *dependency), "id"),
                );
            }
        }
        resources.add("test_thing", *name, attributes);
    }
    brickstack_graph::build(&spec(), resources).unwrap()
}

fn fast() -> ApplyOptions {
    ApplyOptions::default()
}

struct World {
    provider: MemoryProvider,
    store: MemoryStore,
}

impl World {
    fn new() -> Self {
        World {
            provider: MemoryProvider::new(),
            store: MemoryStore::default(),
        }
    }
    fn engine(&self) -> Engine<'_, MemoryProvider, MemoryStore> {
        Engine {
            provider: &self.provider,
            store: &self.store,
            runner: Runner::default(),
        }
    }
    async fn plan(&self, graph: &ResourceGraph, targets: &[String], excludes: &[String]) -> Plan {
        self.plan_with(graph, targets, excludes, RefreshMode::Full)
            .await
    }
    async fn plan_with(
        &self,
        graph: &ResourceGraph,
        targets: &[String],
        excludes: &[String],
        refresh: RefreshMode,
    ) -> Plan {
        self.engine()
            .plan(&Request {
                environment: "test",
                graph,
                targets,
                excludes,
                replace: &[],
                refresh,
            })
            .await
            .unwrap()
    }
    async fn apply_with(
        &self,
        graph: &ResourceGraph,
        options: &ApplyOptions,
        saved: Option<&Plan>,
    ) -> Result<ApplyReport, EngineError> {
        self.engine()
            .apply(
                &Request {
                    environment: "test",
                    graph,
                    targets: &[],
                    excludes: &[],
                    replace: &[],
                    refresh: RefreshMode::Full,
                },
                saved,
                options,
                &|_| {},
                &AtomicBool::new(false),
            )
            .await
    }
    async fn apply(&self, graph: &ResourceGraph) -> ApplyReport {
        self.apply_with(graph, &fast(), None).await.unwrap()
    }
    fn state(&self) -> State {
        self.store.state.lock().unwrap().clone().unwrap()
    }
    fn creates(&self) -> Vec<String> {
        self.provider
            .calls()
            .into_iter()
            .filter(|(op, _)| *op == Operation::Create)
            .map(|(_, a)| a)
            .collect()
    }
    /// Calls of `operation`, by address (a lookup by name alone has none: `""`).
    fn calls_of(&self, operation: Operation) -> Vec<String> {
        self.provider
            .calls()
            .into_iter()
            .filter(|(op, _)| *op == operation)
            .map(|(_, a)| a)
            .collect()
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

#[tokio::test]
async fn creates_follow_dependency_order_and_a_second_plan_is_empty() {
    let world = World::new();
    let g = graph(&["a", "b", "c"], &[("b", "a"), ("c", "b")]);
    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        world.creates(),
        ["test_thing.a", "test_thing.b", "test_thing.c"]
    );
    // b's reference resolved to a's id.
    let state = world.state();
    assert_eq!(
        state.resources["test_thing.b"].attributes["ref0"],
        state.resources["test_thing.a"].attributes["id"]
    );
    assert!(state.pending.is_empty());
    let again = world.plan(&g, &[], &[]).await;
    assert!(!again.has_changes(), "{:?}", actions(&again));
}

#[tokio::test]
async fn state_is_persisted_after_every_operation() {
    let world = World::new();
    world.apply(&graph(&["a", "b", "c"], &[])).await;
    // An intent and a record per create.
    assert_eq!(*world.store.writes.lock().unwrap(), 6);
    assert_eq!(world.state().serial, 6);
}

#[tokio::test]
async fn parallelism_is_bounded() {
    let world = World::new();
    let names: Vec<String> = (0..24).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    world.provider.inject(
        Operation::Create,
        "test_thing",
        FaultEffect::Delay(Duration::from_millis(15)),
        24,
    );
    let options = ApplyOptions {
        parallelism: 4,
        ..fast()
    };
    let report = world
        .apply_with(&graph(&refs, &[]), &options, None)
        .await
        .unwrap();
    assert!(report.succeeded());
    assert_eq!(world.provider.max_concurrency(), 4);
}

#[tokio::test]
async fn a_failure_skips_only_its_dependents_reported_once() {
    let world = World::new();
    let g = graph(&["a", "b", "c", "d"], &[("b", "a"), ("c", "b")]);
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::Fail(ProviderError::new(
            ErrorClass::InvalidInput,
            "ValidationError",
            "bad size",
        )),
        1,
    );
    let events = Mutex::new(Vec::new());
    let report = world
        .engine()
        .apply(
            &Request {
                environment: "test",
                graph: &g,
                targets: &[],
                excludes: &[],
                replace: &[],
                refresh: RefreshMode::Full,
            },
            None,
            &fast(),
            &|e| events.lock().unwrap().push(e),
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
    assert_eq!(report.finished, ["test_thing.d"]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, "test_thing.a");
    assert!(
        report.failed[0].1.to_string().contains("ValidationError"),
        "{}",
        report.failed[0].1
    );
    let mut skipped = report.skipped.clone();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            ("test_thing.b".into(), "test_thing.a".into()),
            ("test_thing.c".into(), "test_thing.a".into())
        ]
    );
    let skip_events = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Skipped { .. }))
        .count();
    assert_eq!(skip_events, 2);
}

#[tokio::test]
async fn a_throttled_call_is_not_retried_by_the_walk_nor_is_a_fatal_one() {
    // The adapter that makes a call retries it (one layer); what reaches the walk has used up
    // that budget, so the walk fails the operation instead of retrying on top.
    for error in [
        ProviderError::new(
            ErrorClass::Retryable { after: None },
            "Throttling",
            "slow down",
        ),
        ProviderError::new(ErrorClass::Fatal, "AccessDenied", "no"),
    ] {
        let world = World::new();
        world.provider.inject(
            Operation::Create,
            "test_thing.a",
            FaultEffect::Fail(error.clone()),
            5,
        );
        let report = world.apply(&graph(&["a"], &[])).await;
        assert_eq!(report.failed.len(), 1, "{}", error.code);
        assert_eq!(world.creates().len(), 1, "{} is not retried", error.code);
        assert!(
            world.calls_of(Operation::Find).is_empty(),
            "a refused create is not looked up"
        );
    }
}

#[tokio::test]
async fn a_refresh_read_that_fails_is_not_retried_by_the_engine() {
    let world = World::new();
    let g = graph(&["a"], &[]);
    world.apply(&g).await;
    world.provider.inject(
        Operation::Read,
        "test_thing",
        FaultEffect::Fail(ProviderError::new(
            ErrorClass::Retryable { after: None },
            "Throttling",
            "slow down",
        )),
        1,
    );
    let reads_before = world.calls_of(Operation::Read).len();
    let result = world
        .engine()
        .plan(&request(&g, &[], &[], RefreshMode::Full))
        .await;
    assert!(
        result.is_err(),
        "the adapter's budget is spent: the plan fails"
    );
    assert_eq!(world.calls_of(Operation::Read).len(), reads_before + 1);
}

/// An answer lost after the create took effect: a timeout, a dropped connection.
fn lost_answer() -> ProviderError {
    ProviderError::new(
        ErrorClass::Retryable { after: None },
        "TimeoutError",
        "no answer",
    )
    .maybe_applied()
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_found_not_sent_again() {
    let world = World::new();
    let g = graph(&["a", "b"], &[("b", "a")]);
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::FailAfterCall(lost_answer()),
        1,
    );
    let events = Mutex::new(Vec::new());
    let report = world
        .engine()
        .apply(
            &request(&g, &[], &[], RefreshMode::Full),
            None,
            &fast(),
            &|e| events.lock().unwrap().push(e),
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    let created = world.provider.objects_for("test_thing.a");
    assert_eq!(created.len(), 1, "exactly one object");
    assert_eq!(
        world
            .creates()
            .iter()
            .filter(|a| *a == "test_thing.a")
            .count(),
        1,
        "found, so never sent again"
    );
    assert_eq!(
        world.state().resources["test_thing.a"].object_id,
        created[0].object_id,
        "the object found is the one recorded"
    );
    assert!(world.state().pending.is_empty());
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::LookingUp { address, attempt: 1, .. } if address == "test_thing.a")),
        "the lookup is reported"
    );
    // Its dependent went on with the adopted object.
    assert_eq!(world.provider.objects_for("test_thing.b").len(), 1);
    assert!(!world.plan(&g, &[], &[]).await.has_changes());
}

#[tokio::test]
async fn an_object_found_after_an_ambiguous_create_is_completed_by_an_update() {
    // A create that makes more than one call (a VPC and its DNS settings) may lose its answer
    // after the first: the object found lacks the rest, which an update puts right at once.
    let world = World::new();
    let g = graph(&["a"], &[]);
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::FailAfterCall(lost_answer()),
        1,
    );
    world.provider.inject(
        Operation::Find,
        "test_thing",
        FaultEffect::Delay(Duration::from_millis(200)),
        1,
    );
    let (report, ()) = tokio::join!(world.apply(&g), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let created = world.provider.objects_for("test_thing.a");
        assert_eq!(created.len(), 1, "the lost create took effect");
        world
            .provider
            .set_attribute(&created[0].object_id, "size", serde_json::json!(0));
    });
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(world.calls_of(Operation::Update), ["test_thing.a"]);
    assert_eq!(world.provider.objects_for("test_thing.a").len(), 1);
    assert_eq!(
        world.state().resources["test_thing.a"].attributes["size"],
        serde_json::json!(1)
    );
    assert!(!world.plan(&g, &[], &[]).await.has_changes());
}

#[tokio::test]
async fn the_old_half_of_a_replacement_is_never_adopted_as_the_new_one() {
    // Create before destroy: the old object, kept as deposed, carries the same name the new
    // one's lookup looks for; taking it for the new one would then delete it as the old one.
    let mut schema = KindSchema::new("test_cbd").attribute("id", AttributeBehaviour::Computed);
    schema.create_before_destroy = true;
    let world = World {
        provider: MemoryProvider::new().with_schema(schema),
        store: MemoryStore::default(),
    };
    let mut resources = Resources::default();
    resources.add("test_cbd", "x", map! { "name" => "x" });
    let g = brickstack_graph::build(&spec(), resources).unwrap();
    world.apply(&g).await;
    let old = object_id(&world, "test_cbd.x");
    world.provider.inject(
        Operation::Create,
        "test_cbd.x",
        FaultEffect::FailAfterCall(lost_answer()),
        1,
    );
    let replace = ["test_cbd.x".to_string()];
    let report = world
        .engine()
        .apply(
            &request_with_replace(&g, &replace),
            None,
            &fast(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let state = world.state();
    assert_eq!(state.resources["test_cbd.x#deposed"].object_id, old);
    assert!(!state.resources.contains_key("test_cbd.x"), "not adopted");
    assert!(
        world.provider.objects().iter().any(|o| o.object_id == old),
        "the old object stays"
    );
}

#[tokio::test]
async fn a_create_that_failed_ambiguously_and_is_not_found_is_sent_again_once() {
    let world = World::new();
    let g = graph(&["a"], &[]);
    // The request never took effect, although no answer said so.
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::Fail(lost_answer()),
        1,
    );
    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(world.provider.objects_for("test_thing.a").len(), 1);
    let calls: Vec<Operation> = world
        .provider
        .calls()
        .into_iter()
        .map(|(op, _)| op)
        .filter(|op| matches!(op, Operation::Create | Operation::Find))
        .collect();
    assert_eq!(
        calls,
        [Operation::Create, Operation::Find, Operation::Create],
        "looked up before it was sent again, and sent again once"
    );
}

#[tokio::test]
async fn ambiguous_creates_are_resent_a_bounded_number_of_times_and_the_intent_stays() {
    let world = World::new();
    let g = graph(&["a"], &[]);
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::Fail(lost_answer()),
        100,
    );
    let options = ApplyOptions {
        create_resends: 2,
        ..fast()
    };
    let report = world.apply_with(&g, &options, None).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    assert_eq!(world.creates().len(), 3, "the first send and two resends");
    assert_eq!(
        world.calls_of(Operation::Find).len(),
        3,
        "each looked up first"
    );
    assert!(
        world.state().pending.contains_key("test_thing.a"),
        "the intent stays for the next run to settle"
    );
}

#[tokio::test]
async fn a_lookup_that_fails_after_an_ambiguous_create_fails_the_operation_without_resending() {
    let world = World::new();
    let g = graph(&["a"], &[]);
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::FailAfterCall(lost_answer()),
        1,
    );
    // By kind: a lookup by name alone carries no address.
    world.provider.inject(
        Operation::Find,
        "test_thing",
        FaultEffect::Fail(ProviderError::new(ErrorClass::Fatal, "AccessDenied", "no")),
        1,
    );
    let report = world.apply(&g).await;
    assert_eq!(report.failed.len(), 1);
    assert_eq!(world.creates().len(), 1, "never sent blindly");
    assert!(world.state().pending.contains_key("test_thing.a"));

    // The next run settles the intent by adopting the object: still one.
    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(world.provider.objects_for("test_thing.a").len(), 1);
    assert_eq!(world.creates().len(), 1);
}

/// Runs an apply that hangs at the injected point and drops it there, as a killed process would.
async fn apply_and_crash(world: &World, g: &ResourceGraph) {
    let options = fast();
    let run = world.apply_with(g, &options, None);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), run)
            .await
            .is_err(),
        "the run should hang"
    );
    // The process is gone: so is its lock.
    let holder = world.store.lock.lock().unwrap().clone().unwrap();
    world.store.force_unlock(&holder.id).await.unwrap();
}

#[tokio::test]
async fn crash_before_the_create_call_then_rerun_creates_exactly_once() {
    let world = World::new();
    let g = graph(&["a", "b"], &[("b", "a")]);
    world.provider.inject(
        Operation::Create,
        "test_thing.b",
        FaultEffect::HangBeforeCall,
        1,
    );
    apply_and_crash(&world, &g).await;
    let state = world.state();
    assert!(
        state.pending.contains_key("test_thing.b"),
        "the intent was journaled before the call"
    );
    assert!(world.provider.objects_for("test_thing.b").is_empty());

    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        world.provider.objects_for("test_thing.b").len(),
        1,
        "no duplicate"
    );
    assert_eq!(world.provider.objects().len(), 2);
    assert!(world.state().pending.is_empty());
}

#[tokio::test]
async fn crash_after_the_create_call_before_the_commit_then_rerun_adopts_the_object() {
    let world = World::new();
    let g = graph(&["a", "b"], &[("b", "a")]);
    world.provider.inject(
        Operation::Create,
        "test_thing.b",
        FaultEffect::HangAfterCall,
        1,
    );
    apply_and_crash(&world, &g).await;
    let created = world.provider.objects_for("test_thing.b");
    assert_eq!(created.len(), 1, "the object exists but was never recorded");
    assert!(!world.state().resources.contains_key("test_thing.b"));

    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        world.provider.objects_for("test_thing.b").len(),
        1,
        "no duplicate"
    );
    assert_eq!(
        world.state().resources["test_thing.b"].object_id,
        created[0].object_id,
        "adopted, not orphaned"
    );
    assert_eq!(
        world
            .creates()
            .iter()
            .filter(|a| *a == "test_thing.b")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_stale_saved_plan_is_refused() {
    let world = World::new();
    let g = graph(&["a"], &[]);
    let saved = world.plan(&g, &[], &[]).await;
    world.apply(&graph(&["a", "b"], &[])).await;
    let err = world
        .apply_with(&g, &fast(), Some(&saved))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Plan(PlanError::StaleState { plan: 0, .. })
        ),
        "{err}"
    );

    let saved = world.plan(&g, &[], &[]).await;
    let changed = graph(&["a", "c"], &[]);
    let err = world
        .apply_with(&changed, &fast(), Some(&saved))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Plan(PlanError::SpecChanged)),
        "{err}"
    );
}

#[tokio::test]
async fn target_takes_dependencies_and_exclude_drops_dependents() {
    let world = World::new();
    let g = graph(&["a", "b", "c", "d"], &[("b", "a"), ("c", "b")]);
    let plan = world.plan(&g, &["test_thing.b".into()], &[]).await;
    let creating: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(creating, ["test_thing.a", "test_thing.b"]);

    let plan = world.plan(&g, &[], &["test_thing.b".into()]).await;
    let creating: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(creating, ["test_thing.a", "test_thing.d"]);

    let err = world
        .engine()
        .plan(&Request {
            environment: "test",
            graph: &g,
            targets: &["test_thing.bb".into()],
            excludes: &[],
            replace: &[],
            refresh: RefreshMode::Full,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`test_thing.bb` is neither in the spec's graph nor in the state; did you mean `test_thing.b`?"
    );
}

#[tokio::test]
async fn drift_is_reported_and_repaired() {
    let world = World::new();
    let g = graph(&["a", "b"], &[]);
    world.apply(&g).await;
    let state = world.state();
    world.provider.set_attribute(
        &state.resources["test_thing.a"].object_id,
        "size",
        serde_json::json!(7),
    );
    world
        .provider
        .remove_object(&state.resources["test_thing.b"].object_id);
    let plan = world.plan(&g, &[], &[]).await;
    assert_eq!(plan.drift.len(), 2);
    assert!(
        plan.drift
            .iter()
            .any(|d| d.address == "test_thing.b" && d.deleted)
    );
    assert_eq!(
        actions(&plan),
        [
            ("test_thing.a".into(), Action::Update),
            ("test_thing.b".into(), Action::Create)
        ]
    );
    insta::assert_snapshot!(brickstack_plan::render::text(&plan, false));
    world.apply(&g).await;
    assert!(!world.plan(&g, &[], &[]).await.has_changes());
}

#[tokio::test]
async fn a_change_to_a_replacement_attribute_replaces_and_dependents_follow() {
    let provider = MemoryProvider::new().with_schema(
        KindSchema::new("test_thing")
            .attribute("id", AttributeBehaviour::Computed)
            .attribute("arn", AttributeBehaviour::Computed)
            .attribute("name", AttributeBehaviour::ForcesReplacement),
    );
    let world = World {
        provider,
        store: MemoryStore::default(),
    };
    world.apply(&graph(&["a", "b"], &[("b", "a")])).await;
    let old = world.state().resources["test_thing.a"].object_id.clone();
    // Rename a: its name forces a new object, and b's reference to a's id becomes unknown.
    let mut resources = Resources::default();
    resources.add(
        "test_thing",
        "a",
        map! { "name" => "renamed", "size" => 1i64 },
    );
    resources.add("test_thing", "b", map! { "name" => "thing-b", "size" => 1i64, "ref0" => reference(&Address::new("test_thing", "a"), "id") });
    let g = brickstack_graph::build(&spec(), resources).unwrap();
    let plan = world.plan(&g, &[], &[]).await;
    assert_eq!(
        actions(&plan),
        [
            ("test_thing.a".into(), Action::Replace),
            ("test_thing.b".into(), Action::Update)
        ]
    );
    assert_eq!(plan.changes[0].replace_because, ["name"]);
    insta::assert_snapshot!("replace", brickstack_plan::render::text(&plan, false));
    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    let state = world.state();
    assert_ne!(state.resources["test_thing.a"].object_id, old);
    assert_eq!(
        state.resources["test_thing.b"].attributes["ref0"],
        state.resources["test_thing.a"].attributes["id"]
    );
    assert_eq!(world.provider.objects().len(), 2, "the old object is gone");
}

#[tokio::test]
async fn destroy_goes_in_reverse_dependency_order_and_refuses_to_lose_data() {
    let provider = MemoryProvider::new().with_schema(KindSchema {
        holds_data: true,
        ..KindSchema::new("test_thing").attribute("id", AttributeBehaviour::Computed)
    });
    let world = World {
        provider,
        store: MemoryStore::default(),
    };
    let g = graph(&["a", "b", "c"], &[("b", "a"), ("c", "b")]);
    world.apply(&g).await;
    world
        .provider
        .set_contents(&world.state().resources["test_thing.b"].object_id, 42);

    world
        .provider
        .set_contents(&world.state().resources["test_thing.c"].object_id, 1);

    let err = world
        .apply_with(&nothing(), &fast(), None)
        .await
        .unwrap_err();
    // Every object holding data is named at once.
    let b = &world.state().resources["test_thing.b"].object_id;
    let c = &world.state().resources["test_thing.c"].object_id;
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to destroy data: test_thing.b (`{b}`) holds 42 object(s); \
             test_thing.c (`{c}`) holds 1 object(s)"
        )
    );
    assert_eq!(world.provider.objects().len(), 3, "nothing was deleted");
    assert!(
        !world
            .provider
            .calls()
            .iter()
            .any(|(op, _)| matches!(op, Operation::Delete | Operation::Empty)),
        "the refusal comes before any change"
    );

    let report = world
        .apply_with(
            &nothing(),
            &ApplyOptions {
                destroy_data: true,
                ..fast()
            },
            None,
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    let deletes: Vec<String> = world
        .provider
        .calls()
        .into_iter()
        .filter(|(op, _)| *op == Operation::Delete)
        .map(|(_, a)| a)
        .collect();
    assert_eq!(deletes, ["test_thing.c", "test_thing.b", "test_thing.a"]);
    // `--destroy-data` empties each object right before its delete (the memory provider, like
    // S3, refuses to delete one that still holds data).
    let changes: Vec<(Operation, String)> = world
        .provider
        .calls()
        .into_iter()
        .filter(|(op, _)| matches!(op, Operation::Delete | Operation::Empty))
        .collect();
    assert_eq!(
        changes,
        [
            (Operation::Empty, "test_thing.c".to_string()),
            (Operation::Delete, "test_thing.c".to_string()),
            (Operation::Empty, "test_thing.b".to_string()),
            (Operation::Delete, "test_thing.b".to_string()),
            (Operation::Empty, "test_thing.a".to_string()),
            (Operation::Delete, "test_thing.a".to_string()),
        ]
    );
    assert!(world.state().resources.is_empty());
}

/// The generator's widest graph (every option of the spec on), for engine tests on real kinds.
fn every_option_graph() -> ResourceGraph {
    let path = format!(
        "{}/../../tests/specs/every_option.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = brickstack_spec::parse(&path, &text).unwrap();
    brickstack_graph::generate(&spec).unwrap()
}

/// A memory provider whose buckets and workspaces hold data, as the real adapters declare, and
/// that computes every attribute the every-option graph refers to.
fn data_holding_provider() -> MemoryProvider {
    let mut provider = data_holding_schemas();
    let mut referred = std::collections::BTreeSet::new();
    for resource in every_option_graph().resources() {
        for value in resource.attributes.values() {
            for r in value.references() {
                referred.insert((r.address.kind.clone(), r.attribute.clone()));
            }
        }
    }
    for (kind, attribute) in referred {
        provider = provider.with_computed(&kind, &attribute);
    }
    provider
}

fn data_holding_schemas() -> MemoryProvider {
    let computed = |kind: &str| {
        KindSchema::new(kind)
            .attribute("id", AttributeBehaviour::Computed)
            .attribute("arn", AttributeBehaviour::Computed)
    };
    MemoryProvider::new()
        .with_schema(KindSchema {
            holds_data: true,
            ..computed("aws_s3_bucket").attribute("bucket", AttributeBehaviour::ForcesReplacement)
        })
        .with_schema(KindSchema {
            holds_data: true,
            ..computed("databricks_mws_workspaces")
                .attribute("workspace_name", AttributeBehaviour::ForcesReplacement)
        })
}

#[tokio::test]
async fn a_key_is_scheduled_for_deletion_only_after_every_bucket_and_token_it_encrypts() {
    let world = World {
        provider: data_holding_provider(),
        store: MemoryStore::default(),
    };
    let g = every_option_graph();
    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    let state = world.state();
    let raw = &state.resources["aws_s3_bucket.raw"].object_id;
    world.provider.set_contents(raw, 7);

    let report = world
        .apply_with(
            &nothing(),
            &ApplyOptions {
                destroy_data: true,
                ..fast()
            },
            None,
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(world.provider.objects().is_empty(), "everything is gone");
    let deletes: Vec<String> = world
        .provider
        .calls()
        .into_iter()
        .filter(|(op, _)| *op == Operation::Delete)
        .map(|(_, a)| a)
        .collect();
    let position = |address: &str| {
        deletes
            .iter()
            .position(|d| d == address)
            .unwrap_or_else(|| panic!("{address} was not deleted: {deletes:?}"))
    };
    let mut checked = 0;
    for (address, record) in &state.resources {
        let key = match record.kind.as_str() {
            "aws_s3_bucket" => state.resources[&address.replace(
                "aws_s3_bucket.",
                "aws_s3_bucket_server_side_encryption_configuration.",
            )]
                .dependencies
                .iter()
                .chain(&record.dependencies)
                .find(|d| d.starts_with("aws_kms_key."))
                .cloned(),
            "databricks_token" | "databricks_obo_token" => record
                .dependencies
                .iter()
                .find(|d| d.starts_with("aws_kms_key."))
                .cloned(),
            _ => continue,
        };
        let key = key.unwrap_or_else(|| panic!("{address} has no key"));
        assert!(
            position(address) < position(&key),
            "{key} was scheduled for deletion before {address}, which it encrypts"
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        8 + 2,
        "eight buckets (the metastore's among them) and two tokens"
    );
}

#[tokio::test]
async fn a_workspace_is_deleted_or_replaced_only_with_destroy_data() {
    let world = World {
        provider: data_holding_provider(),
        store: MemoryStore::default(),
    };
    let g = every_option_graph();
    assert!(world.apply(&g).await.succeeded());
    let workspace = world.state().resources["databricks_mws_workspaces.main"]
        .object_id
        .clone();

    let refused = world
        .apply_with(&nothing(), &fast(), None)
        .await
        .unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains(&format!(
            "databricks_mws_workspaces.main (`{workspace}`) holds notebooks, jobs, DBFS files"
        )),
        "{message}"
    );
    let EngineError::Exec(exec) = &refused else {
        panic!("{refused:?}")
    };
    assert!(exec.hint().unwrap().contains("--destroy-data"));

    // A replacement loses the same data.
    let replace = ["databricks_mws_workspaces.main".to_string()];
    let refused = world
        .engine()
        .apply(
            &Request {
                environment: "test",
                graph: &g,
                targets: &[],
                excludes: &[],
                replace: &replace,
                refresh: RefreshMode::Full,
            },
            None,
            &fast(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("notebooks, jobs, DBFS"),
        "{refused}"
    );
    assert!(
        !world
            .provider
            .calls()
            .iter()
            .any(|(op, _)| matches!(op, Operation::Delete | Operation::Empty)),
        "nothing was deleted"
    );
    assert_eq!(
        world.state().resources["databricks_mws_workspaces.main"].object_id,
        workspace
    );

    // With `--destroy-data` it goes, with no emptying call: its data goes with it.
    let report = world
        .apply_with(
            &nothing(),
            &ApplyOptions {
                destroy_data: true,
                ..fast()
            },
            None,
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(
        !world
            .provider
            .calls()
            .iter()
            .any(|(op, a)| *op == Operation::Empty && a.starts_with("databricks_")),
    );
}

#[tokio::test]
async fn a_second_run_waits_for_the_lock_holder() {
    let world = World::new();
    let g = graph(&["a"], &[]);
    world.provider.inject(
        Operation::Create,
        "test_thing.a",
        FaultEffect::HangBeforeCall,
        1,
    );
    let options = fast();
    let first = world.apply_with(&g, &options, None);
    let second = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        world.apply_with(&g, &fast(), None).await
    };
    tokio::select! {
        _ = first => panic!("the first run hangs by design"),
        result = second => {
            let err = result.unwrap_err();
            assert!(err.to_string().contains("locked by `brickstack` for `apply`"), "{err}");
        }
    }
}

#[tokio::test]
async fn a_plan_with_unserved_kinds_is_refused_before_any_change_naming_each_kind_and_address() {
    /// Serves every kind but those starting `test_unserved`.
    struct Partial(MemoryProvider);
    impl brickstack_provider::Provider for Partial {
        fn schema(&self, kind: &str) -> Option<KindSchema> {
            (!kind.starts_with("test_unserved"))
                .then(|| self.0.schema(kind))
                .flatten()
        }
        async fn context(
            &self,
        ) -> Result<std::collections::BTreeMap<String, String>, ProviderError> {
            self.0.context().await
        }
        async fn read(
            &self,
            k: &str,
            id: &str,
        ) -> Result<Option<brickstack_provider::Observed>, ProviderError> {
            self.0.read(k, id).await
        }
        async fn read_many(
            &self,
            k: &str,
            ids: &[String],
        ) -> Result<std::collections::BTreeMap<String, brickstack_provider::Observed>, ProviderError>
        {
            self.0.read_many(k, ids).await
        }
        async fn create(
            &self,
            r: &brickstack_provider::CreateRequest,
        ) -> Result<brickstack_provider::Observed, ProviderError> {
            self.0.create(r).await
        }
        async fn update(
            &self,
            k: &str,
            id: &str,
            a: &brickstack_provider::Attributes,
        ) -> Result<brickstack_provider::Observed, ProviderError> {
            self.0.update(k, id, a).await
        }
        async fn delete(&self, k: &str, id: &str) -> Result<(), ProviderError> {
            self.0.delete(k, id).await
        }
        async fn find(
            &self,
            k: &str,
            l: &brickstack_state::ObjectLookup,
        ) -> Result<Option<brickstack_provider::Observed>, ProviderError> {
            self.0.find(k, l).await
        }
        async fn survey(
            &self,
            environment: &str,
            objects: &[brickstack_provider::SurveyObject],
        ) -> Result<
            std::collections::BTreeMap<
                brickstack_provider::SurveyObject,
                brickstack_provider::Presence,
            >,
            ProviderError,
        > {
            self.0.survey(environment, objects).await
        }
        async fn contents(&self, k: &str, id: &str) -> Result<u64, ProviderError> {
            self.0.contents(k, id).await
        }
        async fn empty(&self, k: &str, id: &str) -> Result<(), ProviderError> {
            self.0.empty(k, id).await
        }
    }
    let provider = Partial(MemoryProvider::new());
    let store = MemoryStore::default();
    let engine = Engine {
        provider: &provider,
        store: &store,
        runner: Runner::default(),
    };
    let mut resources = Resources::default();
    resources.add("test_thing", "a", map! { "name" => "a" });
    resources.add("test_unserved", "b", map! { "name" => "b" });
    resources.add("test_unserved", "c", map! { "name" => "c" });
    resources.add("test_unserved_too", "d", map! { "name" => "d" });
    let g = brickstack_graph::build(&spec(), resources).unwrap();
    let mut request = Request {
        environment: "test",
        graph: &g,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: RefreshMode::Full,
    };
    let expected = "no provider serves kind `test_unserved` (test_unserved.b, test_unserved.c), \
                    kind `test_unserved_too` (test_unserved_too.d); nothing was changed";

    let refused = engine.plan(&request).await.unwrap_err();
    assert_eq!(refused.to_string(), expected, "plan says it too");
    let refused = engine
        .apply(&request, None, &fast(), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), expected);
    let EngineError::Exec(exec) = &refused else {
        panic!("{refused:?}")
    };
    assert!(
        exec.hint().unwrap().contains("--exclude"),
        "{:?}",
        exec.hint()
    );
    // No operation ran, not even the served kind's create, and no intent was journaled.
    assert!(
        provider
            .0
            .calls()
            .iter()
            .all(|(op, _)| matches!(op, Operation::Read | Operation::Survey)),
        "{:?}",
        provider.0.calls()
    );
    assert!(provider.0.objects().is_empty());
    assert!(
        store
            .state
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|s| s.resources.is_empty() && s.pending.is_empty())
    );

    // Left out, the rest applies.
    let excludes = [
        "test_unserved.b".to_string(),
        "test_unserved.c".to_string(),
        "test_unserved_too.d".to_string(),
    ];
    request.excludes = &excludes;
    let report = engine
        .apply(&request, None, &fast(), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap();
    assert_eq!(report.finished, ["test_thing.a"]);
}

#[tokio::test]
async fn a_replaced_object_whose_delete_fails_stays_on_record_until_deleted() {
    let provider = MemoryProvider::new().with_schema(KindSchema {
        create_before_destroy: true,
        ..KindSchema::new("test_thing")
            .attribute("id", AttributeBehaviour::Computed)
            .attribute("arn", AttributeBehaviour::Computed)
            .attribute("name", AttributeBehaviour::ForcesReplacement)
    });
    let world = World {
        provider,
        store: MemoryStore::default(),
    };
    world.apply(&graph(&["a"], &[])).await;
    let old = world.state().resources["test_thing.a"].object_id.clone();
    let mut resources = Resources::default();
    resources.add(
        "test_thing",
        "a",
        map! { "name" => "renamed", "size" => 1i64 },
    );
    let renamed = brickstack_graph::build(&spec(), resources).unwrap();
    world.provider.inject(
        Operation::Delete,
        "test_thing.a",
        FaultEffect::Fail(ProviderError::new(
            ErrorClass::Conflict,
            "DependencyViolation",
            "still in use",
        )),
        1,
    );
    let report = world.apply(&renamed).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let state = world.state();
    assert_eq!(
        state.resources["test_thing.a#deposed"].object_id, old,
        "the old object is still tracked"
    );
    assert_ne!(
        state.resources["test_thing.a"].object_id, old,
        "the new one exists"
    );

    let plan = world.plan(&renamed, &[], &[]).await;
    assert_eq!(
        actions(&plan),
        [
            ("test_thing.a".into(), Action::NoOp),
            ("test_thing.a#deposed".into(), Action::Delete)
        ]
    );
    let report = world.apply(&renamed).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(world.provider.objects().len(), 1);
    assert!(!world.state().resources.contains_key("test_thing.a#deposed"));
}

/// A token-like kind: replaced new-object-first, with a rotation rule.
fn rotating_world() -> (World, ResourceGraph) {
    let mut token = KindSchema::new("test_token")
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("expires_in_seconds", AttributeBehaviour::Computed)
        .rotation("expires_in_seconds", "rotate_before_seconds");
    token.create_before_destroy = true;
    let world = World {
        provider: MemoryProvider::new().with_schema(token),
        store: MemoryStore::default(),
    };
    let mut resources = Resources::default();
    resources.add("test_thing", "key", map! { "name" => "key" });
    resources.add(
        "test_token",
        "t",
        map! {
            "comment" => "deployer",
            "rotate_before_seconds" => 3600i64,
            "key" => reference(&Address::new("test_thing", "key"), "id"),
        },
    );
    let g = brickstack_graph::build(&spec(), resources).unwrap();
    (world, g)
}

fn request<'a>(
    g: &'a ResourceGraph,
    targets: &'a [String],
    replace: &'a [String],
    refresh: RefreshMode,
) -> Request<'a> {
    Request {
        environment: "test",
        graph: g,
        targets,
        excludes: &[],
        replace,
        refresh,
    }
}

fn object_id(world: &World, address: &str) -> String {
    world.state().resources[address].object_id.clone()
}

#[tokio::test]
async fn a_due_rotation_replaces_the_token_new_object_first_and_then_nothing_is_due() {
    let (world, g) = rotating_world();
    assert!(world.apply(&g).await.succeeded());
    let old = object_id(&world, "test_token.t");
    let key = object_id(&world, "test_thing.key");
    world
        .provider
        .set_attribute(&old, "expires_in_seconds", serde_json::json!(600));

    let plan = world.plan(&g, &[], &[]).await;
    let change = plan
        .changes
        .iter()
        .find(|c| c.address == "test_token.t")
        .unwrap();
    assert_eq!(change.action, Action::Replace);
    assert_eq!(
        change.replace_reason,
        Some(brickstack_plan::ReplaceReason::Rotation {
            expires_in_seconds: 600,
            rotate_before_seconds: 3600
        })
    );
    assert_eq!(plan.summary.replace, 1);
    assert_eq!(plan.summary.no_op, 1);

    let calls_before = world.provider.calls().len();
    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    let new = object_id(&world, "test_token.t");
    assert_ne!(new, old);
    assert_eq!(object_id(&world, "test_thing.key"), key);
    let writes: Vec<(Operation, String)> = world.provider.calls()[calls_before..]
        .iter()
        .filter(|(op, _)| matches!(op, Operation::Create | Operation::Delete))
        .cloned()
        .collect();
    assert_eq!(
        writes,
        [
            (Operation::Create, "test_token.t".to_string()),
            (Operation::Delete, "test_token.t".to_string())
        ],
        "the new token exists before the old one is revoked"
    );
    assert!(world.provider.objects().iter().all(|o| o.object_id != old));
    assert!(!world.plan(&g, &[], &[]).await.has_changes());
}

#[tokio::test]
async fn a_minimal_refresh_still_reads_what_may_be_due() {
    let (world, g) = rotating_world();
    world.apply(&g).await;
    let token = object_id(&world, "test_token.t");
    world
        .provider
        .set_attribute(&token, "expires_in_seconds", serde_json::json!(-5));
    let plan = world.plan_with(&g, &[], &[], RefreshMode::Minimal).await;
    assert_eq!(
        actions(&plan),
        [
            ("test_thing.key".into(), Action::NoOp),
            ("test_token.t".into(), Action::Replace)
        ]
    );
}

#[tokio::test]
async fn a_requested_replacement_replaces_the_target_and_leaves_its_dependencies() {
    let (world, g) = rotating_world();
    world.apply(&g).await;
    let old = object_id(&world, "test_token.t");
    let key = object_id(&world, "test_thing.key");
    let tokens = ["test_token.t".to_string()];
    let engine = world.engine();
    let request = request(&g, &tokens, &tokens, RefreshMode::Full);
    let plan = engine.plan(&request).await.unwrap();
    assert_eq!(
        actions(&plan),
        [
            ("test_thing.key".into(), Action::NoOp),
            ("test_token.t".into(), Action::Replace)
        ]
    );
    assert_eq!(
        plan.changes[1].replace_reason,
        Some(brickstack_plan::ReplaceReason::Requested)
    );
    let report = engine
        .apply(&request, None, &fast(), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_ne!(object_id(&world, "test_token.t"), old);
    assert_eq!(object_id(&world, "test_thing.key"), key);

    let unknown = ["test_token.typo".to_string()];
    let error = engine
        .plan(&request_with_replace(&g, &unknown))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::Selection(brickstack_plan::SelectionError::Unknown { suggestion, .. }) if suggestion.as_deref() == Some("test_token.t")),
        "{error}"
    );
}

#[tokio::test]
async fn a_rotation_whose_new_token_fails_keeps_the_old_one_until_a_successor_exists() {
    let (world, g) = rotating_world();
    world.apply(&g).await;
    let old = object_id(&world, "test_token.t");
    world
        .provider
        .set_attribute(&old, "expires_in_seconds", serde_json::json!(60));
    let refused = || {
        world.provider.inject(
            Operation::Create,
            "test_token.t",
            FaultEffect::Fail(ProviderError::new(
                ErrorClass::Fatal,
                "TokenCheckFailed",
                "the new token does not authenticate",
            )),
            1,
        );
    };
    let old_exists = || world.provider.objects().iter().any(|o| o.object_id == old);

    refused();
    let report = world.apply(&g).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(
        old_exists(),
        "the old token was revoked without a successor"
    );
    assert!(world.state().resources.contains_key("test_token.t#deposed"));

    // The next run creates a successor before anything else; failing again, the old one stays.
    refused();
    let report = world.apply(&g).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(
        report.skipped,
        [(
            "test_token.t#deposed".to_string(),
            "test_token.t".to_string()
        )]
    );
    assert!(
        old_exists(),
        "the old token was revoked without a successor"
    );

    let report = world.apply(&g).await;
    assert!(report.succeeded(), "{report:?}");
    assert!(!old_exists());
    assert!(!world.plan(&g, &[], &[]).await.has_changes());
}

fn request_with_replace<'a>(g: &'a ResourceGraph, replace: &'a [String]) -> Request<'a> {
    request(g, &[], replace, RefreshMode::Full)
}

#[tokio::test]
async fn an_unordered_list_read_back_in_another_order_is_no_change() {
    let world = World {
        provider: MemoryProvider::new()
            .with_schema(KindSchema::new("test_thing").unordered("members")),
        store: MemoryStore::default(),
    };
    let mut resources = Resources::default();
    resources.add(
        "test_thing",
        "a",
        map! { "members" => brickstack_graph::list!["x", "y", "z"] },
    );
    let g = brickstack_graph::build(&spec(), resources).unwrap();
    world.apply(&g).await;
    let object_id = world.state().resources["test_thing.a"].object_id.clone();

    // The cloud reports the set in its own order: neither a change nor drift.
    world
        .provider
        .set_attribute(&object_id, "members", serde_json::json!(["z", "x", "y"]));
    let plan = world.plan(&g, &[], &[]).await;
    assert!(!plan.has_changes(), "{plan:?}");
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);

    // A member removed out of band is both.
    world
        .provider
        .set_attribute(&object_id, "members", serde_json::json!(["z", "x"]));
    let plan = world.plan(&g, &[], &[]).await;
    assert_eq!(actions(&plan), [("test_thing.a".into(), Action::Update)]);
    assert_eq!(plan.drift.len(), 1);
}

#[tokio::test]
async fn a_minimal_refresh_checks_existence_and_tags_in_one_survey() {
    // `test_thing.a` is listed by the survey; `test_setting.b`, which hangs off it, is not.
    let world = World {
        provider: MemoryProvider::new().without_survey("test_setting"),
        store: MemoryStore::default(),
    };
    let mut resources = Resources::default();
    resources.add("test_thing", "a", map! { "tags" => map! { "Name" => "a" } });
    resources.add(
        "test_setting",
        "b",
        map! { "size" => 1i64, "of" => reference(&Address::new("test_thing", "a"), "id") },
    );
    let g = brickstack_graph::build(&spec(), resources).unwrap();
    world.apply(&g).await;
    let ids = world.state().resources.clone();
    let minimal = || world.plan_with(&g, &[], &[], RefreshMode::Minimal);

    let reads_before = world.provider.calls().len();
    assert!(!minimal().await.has_changes());
    let calls: Vec<Operation> = world.provider.calls()[reads_before..]
        .iter()
        .map(|(op, _)| *op)
        .collect();
    assert_eq!(calls, [Operation::Survey], "one survey, no reads");

    // A tag changed out of band is drift a minimal refresh sees; another attribute is not.
    world.provider.set_attribute(
        &ids["test_thing.a"].object_id,
        "tags",
        serde_json::json!({ "Name": "renamed" }),
    );
    world.provider.set_attribute(
        &ids["test_setting.b"].object_id,
        "size",
        serde_json::json!(9),
    );
    let plan = minimal().await;
    assert_eq!(
        plan.drift
            .iter()
            .map(|d| d.address.as_str())
            .collect::<Vec<_>>(),
        ["test_thing.a"]
    );
    assert_eq!(
        actions(&plan),
        [
            ("test_setting.b".into(), Action::NoOp),
            ("test_thing.a".into(), Action::Update)
        ],
        "the unlisted setting keeps its recorded attributes"
    );
    assert_eq!(
        world.plan(&g, &[], &[]).await.drift.len(),
        2,
        "a full refresh sees both"
    );

    // The parent deleted out of band takes the unlisted setting with it: both are recreated.
    world.provider.remove_object(&ids["test_thing.a"].object_id);
    let plan = minimal().await;
    assert_eq!(
        actions(&plan),
        [
            ("test_setting.b".into(), Action::Create),
            ("test_thing.a".into(), Action::Create),
        ]
    );
}

// ---- Sleep and wake -------------------------------------------------------------------------

/// A network in miniature: `test_vpc.main`; `test_eip.nat`; `test_nat.main` (refers to both);
/// `test_route.nat` (refers to the NAT gateway); `test_endpoint.sts` (refers to the VPC); and,
/// with `user`, `test_thing.user` (size `user_size`), which refers to the NAT gateway but does
/// not sleep.
fn network(user: bool, user_size: i64) -> ResourceGraph {
    let vpc = Address::new("test_vpc", "main");
    let eip = Address::new("test_eip", "nat");
    let nat = Address::new("test_nat", "main");
    let mut resources = Resources::default();
    resources.add("test_vpc", "main", map! { "name" => "vpc" });
    resources.add("test_eip", "nat", map! { "name" => "eip" });
    resources.add(
        "test_nat",
        "main",
        map! { "name" => "nat", "allocation_id" => reference(&eip, "id"), "vpc_id" => reference(&vpc, "id") },
    );
    resources.add(
        "test_route",
        "nat",
        map! { "name" => "route", "nat_gateway_id" => reference(&nat, "id") },
    );
    resources.add(
        "test_endpoint",
        "sts",
        map! { "name" => "sts", "vpc_id" => reference(&vpc, "id") },
    );
    if user {
        resources.add(
            "test_thing",
            "user",
            map! { "name" => "user", "size" => user_size, "nat_gateway_id" => reference(&nat, "id") },
        );
    }
    brickstack_graph::build(&spec(), resources).unwrap()
}

fn sleeping(addresses: &[&str]) -> RunMode {
    RunMode::Sleep(addresses.iter().map(|a| a.to_string()).collect())
}

const SELECTION: [&str; 4] = [
    "test_eip.nat",
    "test_endpoint.sts",
    "test_nat.main",
    "test_route.nat",
];

impl World {
    fn request<'a>(&self, graph: &'a ResourceGraph) -> Request<'a> {
        Request {
            environment: "test",
            graph,
            targets: &[],
            excludes: &[],
            replace: &[],
            refresh: RefreshMode::Full,
        }
    }
    async fn plan_for(&self, graph: &ResourceGraph, mode: &RunMode) -> Plan {
        self.engine()
            .plan_for(&self.request(graph), mode)
            .await
            .unwrap()
    }
    async fn run_for(
        &self,
        graph: &ResourceGraph,
        mode: &RunMode,
        admit: impl AsyncFn(&State) -> Result<(), Refusal>,
    ) -> Result<ApplyReport, EngineError> {
        self.engine()
            .apply_for(
                &self.request(graph),
                mode,
                None,
                admit,
                &fast(),
                &|_| {},
                &AtomicBool::new(false),
            )
            .await
    }
    async fn sleep(&self, graph: &ResourceGraph, addresses: &[&str]) -> ApplyReport {
        let report = self
            .run_for(graph, &sleeping(addresses), async |_: &State| Ok(()))
            .await
            .unwrap();
        assert!(report.succeeded(), "{report:?}");
        report
    }
    async fn wake(&self, graph: &ResourceGraph) -> ApplyReport {
        let report = self
            .run_for(graph, &RunMode::Wake, async |_: &State| Ok(()))
            .await
            .unwrap();
        assert!(report.succeeded(), "{report:?}");
        report
    }
    fn status(&self, address: &str) -> ResourceStatus {
        self.state().resources[address].status
    }
    fn calls_since(&self, n: usize) -> Vec<(Operation, String)> {
        self.provider.calls()[n..].to_vec()
    }
}

fn asleep(plan: &Plan) -> Vec<(&str, Option<&str>)> {
    plan.asleep
        .iter()
        .map(|a| (a.address.as_str(), a.waits_for.as_deref()))
        .collect()
}

#[tokio::test]
async fn sleep_destroys_the_selection_keeps_its_records_and_wake_brings_it_back() {
    let world = World::new();
    let g = network(false, 1);
    world.apply(&g).await;
    let before = world.state();

    let plan = world.plan_for(&g, &sleeping(&SELECTION)).await;
    assert_eq!(
        actions(&plan),
        [
            ("test_eip.nat".into(), Action::Sleep),
            ("test_endpoint.sts".into(), Action::Sleep),
            ("test_nat.main".into(), Action::Sleep),
            ("test_route.nat".into(), Action::Sleep),
            ("test_vpc.main".into(), Action::NoOp),
        ]
    );
    let calls = world.provider.calls().len();
    world.sleep(&g, &SELECTION).await;
    // Dependents first, as a destroy would: the route, then the gateway, then its address.
    let deletes: Vec<String> = world
        .calls_since(calls)
        .into_iter()
        .filter(|(op, _)| *op == Operation::Delete)
        .map(|(_, a)| a)
        .collect();
    let at = |a: &str| deletes.iter().position(|d| d == a).unwrap();
    assert!(at("test_route.nat") < at("test_nat.main") && at("test_nat.main") < at("test_eip.nat"));
    let left: Vec<String> = world
        .provider
        .objects()
        .into_iter()
        .map(|o| o.address)
        .collect();
    assert_eq!(left, ["test_vpc.main"]);
    // The records stay, as last seen, marked asleep.
    let state = world.state();
    assert!(state.pending.is_empty());
    for address in SELECTION {
        let (was, is) = (&before.resources[address], &state.resources[address]);
        assert_eq!(is.status, ResourceStatus::Asleep, "{address}");
        assert_eq!(
            (&is.object_id, &is.attributes, &is.dependencies),
            (&was.object_id, &was.attributes, &was.dependencies)
        );
    }
    assert_eq!(world.status("test_vpc.main"), ResourceStatus::Live);

    // Asleep is no change; refresh does not read what sleeps.
    let calls = world.provider.calls().len();
    let plan = world.plan(&g, &[], &[]).await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
    assert_eq!(
        asleep(&plan),
        SELECTION.iter().map(|a| (*a, None)).collect::<Vec<_>>()
    );
    assert_eq!(plan.summary.asleep, 4);
    let read: Vec<String> = world
        .calls_since(calls)
        .into_iter()
        .filter(|(op, _)| *op == Operation::Read)
        .map(|(_, kind)| kind)
        .collect();
    assert_eq!(read, ["test_vpc"], "only live kinds are read");
    let report = world.apply(&g).await;
    assert!(
        report.finished.is_empty(),
        "apply leaves what sleeps asleep"
    );

    // Sleeping again does nothing.
    let again = world.plan_for(&g, &sleeping(&SELECTION)).await;
    assert!(!again.has_changes(), "{:?}", actions(&again));
    let serial = world.state().serial;
    assert!(world.sleep(&g, &SELECTION).await.finished.is_empty());
    assert_eq!(world.state().serial, serial);

    // Wake creates them again (new objects, new ids), in dependency order.
    let plan = world.plan_for(&g, &RunMode::Wake).await;
    assert_eq!(
        actions(&plan),
        [
            ("test_eip.nat".into(), Action::Create),
            ("test_endpoint.sts".into(), Action::Create),
            ("test_nat.main".into(), Action::Create),
            ("test_route.nat".into(), Action::Create),
            ("test_vpc.main".into(), Action::NoOp),
        ]
    );
    assert!(
        plan.changes
            .iter()
            .all(|c| c.object_id.is_none() || c.address == "test_vpc.main")
    );
    world.wake(&g).await;
    let state = world.state();
    for address in SELECTION {
        assert_eq!(state.resources[address].status, ResourceStatus::Live);
        assert_ne!(
            state.resources[address].object_id,
            before.resources[address].object_id
        );
        assert_eq!(world.provider.objects_for(address).len(), 1);
    }
    assert_eq!(
        state.resources["test_route.nat"].attributes["nat_gateway_id"],
        state.resources["test_nat.main"].attributes["id"]
    );
    let plan = world.plan(&g, &[], &[]).await;
    assert!(
        !plan.has_changes() && plan.asleep.is_empty(),
        "{:?}",
        actions(&plan)
    );

    // Waking an awake environment does nothing.
    let serial = world.state().serial;
    assert!(world.wake(&g).await.finished.is_empty());
    assert_eq!(world.state().serial, serial);
}

#[tokio::test]
async fn what_stays_awake_but_needs_a_sleeping_object_is_no_change_until_the_wake() {
    let world = World::new();
    world.apply(&network(true, 1)).await;
    world.sleep(&network(true, 1), &["test_nat.main"]).await;
    let user_object = world.state().resources["test_thing.user"].object_id.clone();

    // Its reference still reads the sleeping gateway's last record: nothing to change.
    let plan = world.plan(&network(true, 1), &[], &[]).await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
    assert_eq!(asleep(&plan), [("test_nat.main", None)]);

    // A change of its own waits too: made now, it would name a gateway that does not exist.
    let changed = network(true, 2);
    let plan = world.plan(&changed, &[], &[]).await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
    assert_eq!(
        asleep(&plan),
        [
            ("test_nat.main", None),
            ("test_thing.user", Some("test_nat.main"))
        ]
    );
    insta::assert_snapshot!(brickstack_plan::render::text(&plan, false));
    assert!(world.apply(&changed).await.finished.is_empty());

    // The wake recreates the gateway and updates what depends on it, in place (here the route
    // too, which stayed awake).
    let plan = world.plan_for(&changed, &RunMode::Wake).await;
    assert_eq!(
        actions(&plan)
            .into_iter()
            .filter(|(_, a)| *a != Action::NoOp)
            .collect::<Vec<_>>(),
        [
            ("test_nat.main".into(), Action::Create),
            ("test_route.nat".into(), Action::Update),
            ("test_thing.user".into(), Action::Update),
        ]
    );
    world.wake(&changed).await;
    let state = world.state();
    assert_eq!(state.resources["test_thing.user"].object_id, user_object);
    assert_eq!(
        state.resources["test_thing.user"].attributes["nat_gateway_id"],
        state.resources["test_nat.main"].attributes["id"]
    );
    assert_eq!(state.resources["test_thing.user"].attributes["size"], 2);
    assert!(!world.plan(&changed, &[], &[]).await.has_changes());
}

#[tokio::test]
async fn what_leaves_the_spec_while_asleep_loses_only_its_record() {
    let world = World::new();
    world.apply(&network(false, 1)).await;
    world.sleep(&network(false, 1), &SELECTION).await;

    // The endpoint leaves the spec: its record goes, with no call to the cloud.
    let mut resources = Resources::default();
    let vpc = Address::new("test_vpc", "main");
    let eip = Address::new("test_eip", "nat");
    let nat = Address::new("test_nat", "main");
    resources.add("test_vpc", "main", map! { "name" => "vpc" });
    resources.add("test_eip", "nat", map! { "name" => "eip" });
    resources.add(
        "test_nat",
        "main",
        map! { "name" => "nat", "allocation_id" => reference(&eip, "id"), "vpc_id" => reference(&vpc, "id") },
    );
    resources.add(
        "test_route",
        "nat",
        map! { "name" => "route", "nat_gateway_id" => reference(&nat, "id") },
    );
    let without_endpoint = brickstack_graph::build(&spec(), resources).unwrap();
    let plan = world.plan(&without_endpoint, &[], &[]).await;
    let forget = plan
        .changes
        .iter()
        .find(|c| c.address == "test_endpoint.sts")
        .unwrap();
    assert_eq!((forget.action, &forget.object_id), (Action::Delete, &None));
    let calls = world.provider.calls().len();
    let report = world.apply(&without_endpoint).await;
    assert_eq!(report.finished, ["test_endpoint.sts"]);
    assert!(
        !world
            .calls_since(calls)
            .iter()
            .any(|(op, _)| *op == Operation::Delete),
        "nothing to delete in the cloud"
    );
    assert!(!world.state().resources.contains_key("test_endpoint.sts"));

    // Destroying an asleep environment destroys what is live and forgets what sleeps.
    let calls = world.provider.calls().len();
    let report = world.apply_with(&nothing(), &fast(), None).await.unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(world.state().resources.is_empty());
    assert!(world.provider.objects().is_empty());
    let deleted: Vec<String> = world
        .calls_since(calls)
        .into_iter()
        .filter(|(op, _)| *op == Operation::Delete)
        .map(|(_, a)| a)
        .collect();
    assert_eq!(deleted, ["test_vpc.main"]);
}

/// Runs a sleep that hangs at the injected point and drops it there, as a killed process would.
async fn sleep_and_crash(world: &World, g: &ResourceGraph) {
    let mode = sleeping(&SELECTION);
    let run = world.run_for(g, &mode, async |_: &State| Ok(()));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), run)
            .await
            .is_err(),
        "the run should hang"
    );
    let holder = world.store.lock.lock().unwrap().clone().unwrap();
    world.store.force_unlock(&holder.id).await.unwrap();
}

#[tokio::test]
async fn a_sleep_killed_after_the_delete_stays_asleep_and_one_killed_before_stays_live() {
    let g = network(false, 1);

    let world = World::new();
    world.apply(&g).await;
    world.provider.inject(
        Operation::Delete,
        "test_eip.nat",
        FaultEffect::HangAfterCall,
        1,
    );
    sleep_and_crash(&world, &g).await;
    let state = world.state();
    assert!(
        state.pending.contains_key("test_eip.nat"),
        "the delete was journaled"
    );
    assert_eq!(
        state.resources["test_eip.nat"].status,
        ResourceStatus::Asleep
    );
    let plan = world.plan(&g, &[], &[]).await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
    let state = world.state();
    assert!(state.pending.is_empty());
    assert_eq!(
        state.resources["test_eip.nat"].status,
        ResourceStatus::Asleep
    );

    let world = World::new();
    world.apply(&g).await;
    world.provider.inject(
        Operation::Delete,
        "test_eip.nat",
        FaultEffect::HangBeforeCall,
        1,
    );
    sleep_and_crash(&world, &g).await;
    assert_eq!(world.status("test_eip.nat"), ResourceStatus::Asleep);
    let plan = world.plan(&g, &[], &[]).await;
    // The address was never deleted: it is live again, and the next sleep takes it.
    assert_eq!(world.status("test_eip.nat"), ResourceStatus::Live);
    assert_eq!(world.provider.objects_for("test_eip.nat").len(), 1);
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
    world.sleep(&g, &SELECTION).await;
    assert!(world.provider.objects_for("test_eip.nat").is_empty());
    assert_eq!(world.status("test_eip.nat"), ResourceStatus::Asleep);
}

#[tokio::test]
async fn a_refused_sleep_changes_nothing_and_sleep_leaves_drift_elsewhere_alone() {
    let world = World::new();
    let g = network(false, 1);
    world.apply(&g).await;
    let vpc = world.state().resources["test_vpc.main"].object_id.clone();
    world
        .provider
        .set_attribute(&vpc, "name", serde_json::json!("renamed"));
    let serial = world.state().serial;

    let seen = Mutex::new(None);
    let err = world
        .run_for(&g, &sleeping(&SELECTION), async |state: &State| {
            *seen.lock().unwrap() = Some(state.serial);
            Err(Refusal {
                message: "cluster `etl` is running".into(),
                hint: "terminate it".into(),
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(&err, EngineError::Refused(r) if r.message == "cluster `etl` is running"));
    assert_eq!(
        *seen.lock().unwrap(),
        Some(serial),
        "the check saw the state as it was"
    );
    assert_eq!(world.state().serial, serial);
    assert_eq!(world.provider.objects().len(), 5);
    assert!(
        world.store.lock.lock().unwrap().is_none(),
        "the lock is released"
    );

    world.sleep(&g, &SELECTION).await;
    let vpc_now = world.provider.objects_for("test_vpc.main").pop().unwrap();
    assert_eq!(
        vpc_now.attributes["name"], "renamed",
        "sleep repairs nothing"
    );
}
