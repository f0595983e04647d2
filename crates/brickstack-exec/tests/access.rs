//! The engine's part of single-user clusters (`docs/access.md`), on the in-memory provider and
//! the local state backend (so every commit goes through its journal): removal grace, the
//! schema's `retain_on_delete`, `recorded_only` and `at_most_once`, and access grants applied
//! under one lock.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use brickstack_exec::{
    ApplyOptions, ApplyReport, Desired, Engine, Event, GrantChange, OUTCOME_UNKNOWN_ID,
    RefreshMode, Refusal, Request, Runner, nothing,
};
use brickstack_graph::{Address, ResourceGraph, Resources, map, reference};
use brickstack_plan::{Action, Plan, RunMode};
use brickstack_provider::memory::{FaultEffect, MemoryProvider, Operation};
use brickstack_provider::{ErrorClass, KindSchema, ProviderError};
use brickstack_state::{AccessGrant, State, StateStore};
use brickstack_state_local::LocalStore;

fn spec() -> brickstack_spec::Spec {
    brickstack_spec::parse(
        "t.toml",
        "[environment]\nname = \"test\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap()
}

/// Per person: a user (retained on delete), a cluster naming it, a step and a message after the
/// cluster (recorded only; the message sent at most once); all with `grace` seconds.
fn graph(people: &[&str], grace: u64) -> ResourceGraph {
    let mut resources = Resources::default();
    for person in people {
        let user = resources
            .add(
                "test_user",
                format!("su_{person}"),
                map! { "user_name" => *person },
            )
            .removal_grace(grace)
            .address();
        let cluster = resources
            .add(
                "test_cluster",
                format!("su_{person}"),
                map! { "name" => *person, "single_user_name" => reference(&user, "user_name") },
            )
            .removal_grace(grace)
            .address();
        let step = resources
            .add(
                "test_step",
                format!("su_{person}"),
                map! { "cluster_id" => reference(&cluster, "id") },
            )
            .removal_grace(grace)
            .address();
        resources
            .add(
                "test_message",
                format!("su_{person}"),
                map! { "text" => format!("hello {person}"), "step" => reference(&step, "cluster_id") },
            )
            .removal_grace(grace);
    }
    brickstack_graph::build(&spec(), resources).unwrap()
}

fn provider() -> MemoryProvider {
    MemoryProvider::new()
        .with_schema(KindSchema::new("test_user").retained_on_delete())
        .with_schema(KindSchema::new("test_step").recorded_only())
        .with_schema(
            KindSchema::new("test_message")
                .recorded_only()
                .at_most_once()
                .retained_on_delete(),
        )
}

struct World {
    provider: MemoryProvider,
    store: LocalStore,
    _dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        World {
            provider: provider(),
            store: LocalStore::new(dir.path().join("state/test.json")),
            _dir: dir,
        }
    }
    fn engine(&self) -> Engine<'_, MemoryProvider, LocalStore> {
        Engine {
            provider: &self.provider,
            store: &self.store,
            runner: Runner::default(),
        }
    }
    async fn plan(&self, graph: &ResourceGraph) -> Plan {
        self.engine().plan(&request(graph)).await.unwrap()
    }
    async fn apply_events(
        &self,
        graph: &ResourceGraph,
        events: &(dyn Fn(Event) + Send + Sync),
    ) -> ApplyReport {
        let report = self
            .engine()
            .apply(
                &request(graph),
                None,
                &ApplyOptions::default(),
                events,
                &AtomicBool::new(false),
            )
            .await
            .unwrap();
        assert!(report.succeeded(), "{report:?}");
        report
    }
    async fn apply(&self, graph: &ResourceGraph) -> ApplyReport {
        self.apply_events(graph, &|_| {}).await
    }
    /// The state as a new process reads it: document and journal replayed.
    async fn state(&self) -> State {
        LocalStore::new(self.store.path())
            .read()
            .await
            .unwrap()
            .unwrap()
    }
    fn calls_since(&self, before: usize) -> Vec<(Operation, String)> {
        self.provider.calls()[before..].to_vec()
    }
}

fn request(graph: &ResourceGraph) -> Request<'_> {
    Request {
        environment: "test",
        graph,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: RefreshMode::Full,
    }
}

fn addresses(person: &str) -> Vec<String> {
    ["test_cluster", "test_message", "test_step", "test_user"]
        .iter()
        .map(|kind| format!("{kind}.su_{person}"))
        .collect()
}

fn changing(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

fn all(person: &str, action: Action) -> Vec<(String, Action)> {
    addresses(person).into_iter().map(|a| (a, action)).collect()
}

#[tokio::test]
async fn a_departed_person_is_marked_then_deleted_after_the_grace_with_no_call_until_then() {
    let world = World::new();
    world.apply(&graph(&["ana", "bo"], 2)).await;
    let only_ana = graph(&["ana"], 2);

    let before = world.provider.calls().len();
    let plan = world.plan(&only_ana).await;
    assert_eq!(changing(&plan), all("bo", Action::Retire));
    let report = world.apply(&only_ana).await;
    assert_eq!(report.finished.len(), 4);
    assert!(
        world
            .calls_since(before)
            .iter()
            .all(|(op, _)| *op == Operation::Read),
        "marking for removal calls nothing but refresh reads: {:?}",
        world.calls_since(before)
    );
    let state = world.state().await;
    for address in addresses("bo") {
        assert!(
            state.resources[&address].retiring_since.is_some(),
            "{address}"
        );
        assert_eq!(state.resources[&address].removal_grace_seconds, Some(2));
    }

    // Within the grace: pending, no change.
    let plan = world.plan(&only_ana).await;
    assert!(!plan.has_changes(), "{:?}", changing(&plan));
    assert_eq!(plan.summary.pending_removal, 4);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let before = world.provider.calls().len();
    world.apply(&only_ana).await;
    let deletes: BTreeSet<String> = world
        .calls_since(before)
        .into_iter()
        .filter(|(op, _)| *op == Operation::Delete)
        .map(|(_, target)| target)
        .collect();
    assert_eq!(
        deletes,
        BTreeSet::from([
            "test_cluster.su_bo".to_string(),
            "test_step.su_bo".to_string()
        ]),
        "the user and the message are retained on delete: forgotten, no call"
    );
    assert_eq!(
        world.provider.objects_for("test_user.su_bo").len(),
        1,
        "the user stays"
    );
    let state = world.state().await;
    assert!(
        addresses("bo")
            .iter()
            .all(|a| !state.resources.contains_key(a))
    );
    assert!(
        addresses("ana")
            .iter()
            .all(|a| state.resources.contains_key(a))
    );
    // Commits went to the journal (`brickstack-state-local`'s tests and the CLI's backend test
    // show it); unlocking folded it into the document, so the file alone is the state.
    assert!(
        !world.store.journal_path().exists(),
        "the run's journal was folded into the document when it unlocked"
    );
    assert!(!world.plan(&only_ana).await.has_changes());
}

#[tokio::test]
async fn a_person_back_within_the_grace_keeps_everything() {
    let world = World::new();
    let both = graph(&["ana", "bo"], 3600);
    world.apply(&both).await;
    world.apply(&graph(&["ana"], 3600)).await;
    assert!(
        world.state().await.resources["test_cluster.su_bo"]
            .retiring_since
            .is_some()
    );

    let before = world.provider.calls().len();
    let plan = world.plan(&both).await;
    assert_eq!(changing(&plan), all("bo", Action::Keep));
    world.apply(&both).await;
    assert!(
        world
            .calls_since(before)
            .iter()
            .all(|(op, _)| *op == Operation::Read),
        "keeping is a state-only change: {:?}",
        world.calls_since(before)
    );
    let state = world.state().await;
    assert!(
        addresses("bo")
            .iter()
            .all(|a| state.resources[a].retiring_since.is_none())
    );
    assert!(!world.plan(&both).await.has_changes());
}

#[tokio::test]
async fn destroy_deletes_at_once_whatever_the_grace() {
    let world = World::new();
    world.apply(&graph(&["ana"], 3600)).await;
    let empty = nothing();
    let plan = world.plan(&empty).await;
    assert!(
        changing(&plan)
            .iter()
            .all(|(_, action)| *action == Action::Delete),
        "{:?}",
        changing(&plan)
    );
    world.apply(&empty).await;
    assert!(world.state().await.resources.is_empty());
    assert!(world.provider.objects_for("test_cluster.su_ana").is_empty());
    assert_eq!(
        world.provider.objects_for("test_user.su_ana").len(),
        1,
        "retained"
    );
}

#[tokio::test]
async fn a_recorded_only_kind_is_never_read_and_is_gone_once_what_it_depends_on_is() {
    let world = World::new();
    let g = graph(&["ana"], 60);
    world.apply(&g).await;
    let before = world.provider.calls().len();
    assert!(!world.plan(&g).await.has_changes());
    let reads: Vec<String> = world
        .calls_since(before)
        .into_iter()
        .filter(|(op, _)| *op == Operation::Read)
        .map(|(_, target)| target)
        .collect();
    assert!(
        !reads
            .iter()
            .any(|k| k == "test_step" || k == "test_message"),
        "{reads:?}"
    );
    assert!(reads.iter().any(|k| k == "test_cluster"), "{reads:?}");

    // The cluster deleted out of band: the step goes with it (the message depends on the
    // step), so a new cluster is set up again step by step.
    let cluster = world.state().await.resources["test_cluster.su_ana"]
        .object_id
        .clone();
    world.provider.remove_object(&cluster);
    let plan = world.plan(&g).await;
    let creates: BTreeSet<String> = changing(&plan)
        .into_iter()
        .filter(|(_, a)| *a == Action::Create)
        .map(|(address, _)| address)
        .collect();
    assert_eq!(
        creates,
        BTreeSet::from([
            "test_cluster.su_ana".to_string(),
            "test_message.su_ana".to_string(),
            "test_step.su_ana".to_string()
        ])
    );
}

fn lost_answer() -> ProviderError {
    ProviderError::new(
        ErrorClass::Retryable { after: None },
        "TimeoutError",
        "no answer",
    )
    .maybe_applied()
}

fn message_creates(world: &World) -> usize {
    world
        .provider
        .calls()
        .iter()
        .filter(|(op, target)| *op == Operation::Create && target == "test_message.su_ana")
        .count()
}

#[tokio::test]
async fn a_message_whose_answer_is_lost_is_recorded_as_sent_and_never_sent_again() {
    let world = World::new();
    let g = graph(&["ana"], 60);
    world.provider.inject(
        Operation::Create,
        "test_message.su_ana",
        FaultEffect::FailAfterCall(lost_answer()),
        1,
    );
    let unknown = Mutex::new(Vec::new());
    let report = world
        .apply_events(&g, &|event| {
            if let Event::OutcomeUnknown { address, .. } = event {
                unknown.lock().unwrap().push(address);
            }
        })
        .await;
    assert_eq!(report.outcome_unknown, ["test_message.su_ana"]);
    assert_eq!(*unknown.lock().unwrap(), ["test_message.su_ana"]);
    assert_eq!(
        message_creates(&world),
        1,
        "sent once, never looked up and sent again"
    );
    let recorded = &world.state().await.resources["test_message.su_ana"];
    assert_eq!(recorded.object_id, OUTCOME_UNKNOWN_ID);
    assert_eq!(recorded.attributes["text"], "hello ana");
    assert!(!world.plan(&g).await.has_changes());
    assert_eq!(message_creates(&world), 1);
}

#[tokio::test]
async fn a_message_whose_run_died_while_sending_is_settled_from_its_intent() {
    let world = World::new();
    let g = graph(&["ana"], 60);
    world.provider.inject(
        Operation::Create,
        "test_message.su_ana",
        FaultEffect::HangAfterCall,
        1,
    );
    let (engine, request, options, cancel) = (
        world.engine(),
        request(&g),
        ApplyOptions::default(),
        AtomicBool::new(false),
    );
    let run = engine.apply(&request, None, &options, &|_| {}, &cancel);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), run)
            .await
            .is_err(),
        "the run hangs in the create"
    );
    // The process is gone, and so is its lock.
    let holder = world.store.current_lock().await.unwrap().unwrap();
    world.store.force_unlock(&holder.id).await.unwrap();
    let pending = &world.state().await.pending["test_message.su_ana"];
    assert_eq!(
        pending.attributes.as_ref().map(|a| a["text"].clone()),
        Some(serde_json::json!("hello ana")),
        "the intent of a kind sent at most once carries what it sends"
    );
    assert!(
        world
            .state()
            .await
            .pending
            .values()
            .filter(|p| p.attributes.is_some())
            .count()
            == 1,
        "only such kinds write their attributes into the intent"
    );

    let report = world.apply(&g).await;
    assert_eq!(report.outcome_unknown, ["test_message.su_ana"]);
    assert_eq!(message_creates(&world), 1, "never sent again");
    let state = world.state().await;
    assert!(state.pending.is_empty());
    assert_eq!(
        state.resources["test_message.su_ana"].attributes["text"],
        "hello ana"
    );
    assert!(!world.plan(&g).await.has_changes());
}

/// The graph of the people the state's grants name (the spec lists nobody).
fn granted(state: &State, grace: u64) -> Desired {
    let people: Vec<&str> = state.access_grants.keys().map(String::as_str).collect();
    Desired {
        graph: graph(&people, grace),
        targets: Vec::new(),
        excludes: Vec::new(),
        refresh: RefreshMode::Full,
    }
}

fn grant(email: &str) -> GrantChange {
    GrantChange::Grant {
        email: email.into(),
        grant: AccessGrant {
            granted_at: "2026-01-01T00:00:00Z".into(),
            source: "cli".into(),
        },
    }
}

#[tokio::test]
async fn a_grant_is_recorded_and_applied_under_one_lock_and_a_revoke_deletes_at_once() {
    let world = World::new();
    let engine = world.engine();
    let options = ApplyOptions::default();
    let cancel = AtomicBool::new(false);
    let report = engine
        .apply_with_grants(
            "test",
            &[grant("ana")],
            |state| Ok(granted(state, 3600)),
            &RunMode::Reconcile,
            &options,
            &|_| {},
            &cancel,
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    let state = world.state().await;
    assert_eq!(state.access_grants.keys().collect::<Vec<_>>(), ["ana"]);
    assert!(
        addresses("ana")
            .iter()
            .all(|a| state.resources.contains_key(a))
    );

    // Revoke: the grant goes, and the person's resources, targeted, at once despite the grace.
    let report = engine
        .apply_with_grants(
            "test",
            &[GrantChange::Revoke {
                email: "ana".into(),
            }],
            |_| {
                Ok(Desired {
                    graph: nothing(),
                    targets: addresses("ana"),
                    excludes: Vec::new(),
                    refresh: RefreshMode::Full,
                })
            },
            &RunMode::Destroy,
            &options,
            &|_| {},
            &cancel,
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    let state = world.state().await;
    assert!(state.access_grants.is_empty());
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    assert!(world.provider.objects_for("test_cluster.su_ana").is_empty());
}

#[tokio::test]
async fn a_refused_grant_records_nothing() {
    let world = World::new();
    let result = world
        .engine()
        .apply_with_grants(
            "test",
            &[grant("bo")],
            |_| {
                Err(Refusal {
                    message: "`bo` is listed by the spec".into(),
                    hint: "remove them from `users` instead".into(),
                })
            },
            &RunMode::Reconcile,
            &ApplyOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await;
    assert!(result.is_err());
    assert_eq!(
        LocalStore::new(world.store.path()).read().await.unwrap(),
        None
    );
    assert_eq!(world.store.current_lock().await.unwrap(), None, "unlocked");
}

#[tokio::test]
async fn the_cluster_references_its_user_so_the_user_exists_first() {
    // Guards the graph helper the other tests rely on.
    let g = graph(&["ana"], 1);
    assert!(
        g.dependencies(&Address::new("test_cluster", "su_ana"))
            .contains(&Address::new("test_user", "su_ana"))
    );
}
