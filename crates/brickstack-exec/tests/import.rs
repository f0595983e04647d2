//! `Engine::import` and `Engine::discover` on the in-memory provider and the local state backend:
//! an object made outside brickstack is recorded (never created again, never changed by the
//! import), refusals record nothing, and discovery follows the dependency order.

use std::sync::atomic::AtomicBool;

use brickstack_exec::{
    ApplyOptions, Engine, ImportError, ImportFailure, RefreshMode, Request, Runner,
};
use brickstack_graph::{ResourceGraph, Resources, map, reference};
use brickstack_plan::Action;
use brickstack_provider::memory::{MemoryProvider, Operation};
use brickstack_provider::{AttributeBehaviour, CreateRequest, KindSchema, Provider};
use brickstack_state::{ObjectLookup, State, StateStore};
use brickstack_state_local::LocalStore;

fn spec() -> brickstack_spec::Spec {
    brickstack_spec::parse(
        "t.toml",
        "[environment]\nname = \"test\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap()
}

/// A network and a subnet in it, as a spec makes them.
fn graph(subnet_cidr: &str) -> ResourceGraph {
    let mut resources = Resources::default();
    let net = resources
        .add("test_net", "main", map! { "name" => "net-main" })
        .address();
    resources.add(
        "test_subnet",
        "a",
        map! { "name" => "subnet-a", "cidr" => subnet_cidr, "net_id" => reference(&net, "id") },
    );
    brickstack_graph::build(&spec(), resources).unwrap()
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
            // The subnet's network cannot change in place; an app's can.
            provider: MemoryProvider::new().with_schema(
                KindSchema::new("test_subnet")
                    .attribute("net_id", AttributeBehaviour::ForcesReplacement)
                    .attribute("id", AttributeBehaviour::Computed)
                    .attribute("arn", AttributeBehaviour::Computed),
            ),
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

    /// An object made outside brickstack, findable by `name` only (no brickstack tags).
    async fn outside(&self, kind: &str, name: &str, attributes: serde_json::Value) -> String {
        let serde_json::Value::Object(attributes) = attributes else {
            unreachable!()
        };
        self.provider
            .create(&CreateRequest {
                address: format!("outside.{name}"),
                kind: kind.into(),
                attributes,
                lookup: ObjectLookup {
                    name: Some(name.into()),
                    ..Default::default()
                },
            })
            .await
            .unwrap()
            .object_id
    }

    async fn state(&self) -> Option<State> {
        LocalStore::new(self.store.path()).read().await.unwrap()
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

fn refused(result: Result<brickstack_exec::ImportReport, ImportFailure>) -> ImportError {
    match result {
        Err(ImportFailure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_imported_object_is_recorded_planned_and_never_created_again() {
    let world = World::new();
    let graph = graph("10.0.1.0/24");
    let net = world
        .outside(
            "test_net",
            "net-main",
            serde_json::json!({"name": "net-main"}),
        )
        .await;

    let report = world
        .engine()
        .import(&request(&graph), "test_net.main", &net)
        .await
        .unwrap();
    assert!(report.recorded);
    assert_eq!(report.imported[0].object_id, net);
    // The plan that follows: the net is kept, the subnet is created.
    let actions: Vec<(String, Action)> = report
        .plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("test_net.main".to_string(), Action::NoOp),
            ("test_subnet.a".to_string(), Action::Create)
        ]
    );
    let state = world.state().await.unwrap();
    assert_eq!(state.serial, 1);
    assert_eq!(state.resources["test_net.main"].object_id, net);
    assert_eq!(state.resources["test_net.main"].kind, "test_net");
    let lineage = state.lineage.clone();

    let creates_before = world
        .provider
        .calls()
        .iter()
        .filter(|(op, _)| *op == Operation::Create)
        .count();
    let applied = world
        .engine()
        .apply(
            &request(&graph),
            None,
            &ApplyOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
    assert!(applied.succeeded(), "{applied:?}");
    let creates: Vec<String> = world.provider.calls()[..]
        .iter()
        .filter(|(op, _)| *op == Operation::Create)
        .skip(creates_before)
        .map(|(_, a)| a.clone())
        .collect();
    assert_eq!(creates, ["test_subnet.a"], "only the subnet is created");
    let state = world.state().await.unwrap();
    assert_eq!(state.lineage, lineage, "the lineage is kept");
    assert_eq!(state.resources["test_subnet.a"].attributes["net_id"], net);
    let replan = world.engine().plan(&request(&graph)).await.unwrap();
    assert!(!replan.has_changes(), "{replan:?}");
}

#[tokio::test]
async fn refusals_name_the_address_and_record_nothing() {
    let world = World::new();
    let graph = graph("10.0.1.0/24");
    let net = world
        .outside(
            "test_net",
            "net-main",
            serde_json::json!({"name": "net-main"}),
        )
        .await;

    let unknown = refused(
        world
            .engine()
            .import(&request(&graph), "test_net.mian", &net)
            .await,
    );
    assert_eq!(
        unknown.to_string(),
        "`test_net.mian` is not a resource of environment `test`"
    );
    assert!(unknown.hint().contains("did you mean `test_net.main`?"));

    let missing = refused(
        world
            .engine()
            .import(&request(&graph), "test_net.main", "test-net-9999")
            .await,
    );
    assert_eq!(
        missing.to_string(),
        "test_net.main: no test_net with id `test-net-9999` exists"
    );
    assert!(world.state().await.is_none(), "nothing was written");

    world
        .engine()
        .import(&request(&graph), "test_net.main", &net)
        .await
        .unwrap();
    let again = refused(
        world
            .engine()
            .import(&request(&graph), "test_net.main", &net)
            .await,
    );
    assert_eq!(
        again.to_string(),
        format!("`test_net.main` is already recorded in state, as object `{net}`")
    );
    assert!(again.hint().contains("brickstack state rm"));
    assert_eq!(world.state().await.unwrap().serial, 1, "one write only");
    // The lock was released each time: a plan takes it.
    world.engine().plan(&request(&graph)).await.unwrap();
}

#[tokio::test]
async fn discovery_follows_dependencies_and_proposes_without_recording_until_asked() {
    let world = World::new();
    let graph = graph("10.0.1.0/24");
    let net = world
        .outside(
            "test_net",
            "net-main",
            serde_json::json!({"name": "net-main"}),
        )
        .await;
    let subnet = world
        .outside(
            "test_subnet",
            "subnet-a",
            serde_json::json!({"name": "subnet-a", "cidr": "10.0.1.0/24", "net_id": net}),
        )
        .await;

    let proposed = world
        .engine()
        .discover(&request(&graph), false)
        .await
        .unwrap();
    assert!(!proposed.recorded);
    let found: Vec<(&str, &str)> = proposed
        .imported
        .iter()
        .map(|i| (i.address.as_str(), i.object_id.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("test_net.main", net.as_str()),
            ("test_subnet.a", subnet.as_str())
        ]
    );
    assert!(!proposed.plan.has_changes(), "{:?}", proposed.plan);
    assert!(
        world.state().await.is_none(),
        "without --yes nothing is written"
    );

    let recorded = world
        .engine()
        .discover(&request(&graph), true)
        .await
        .unwrap();
    assert!(recorded.recorded);
    let state = world.state().await.unwrap();
    assert_eq!(state.serial, 1, "one commit for the whole discovery");
    assert_eq!(state.resources["test_subnet.a"].object_id, subnet);
    assert_eq!(
        state.resources["test_subnet.a"].dependencies,
        ["test_net.main"]
    );
    // Nothing left to discover: a second run proposes nothing and writes nothing.
    let again = world
        .engine()
        .discover(&request(&graph), true)
        .await
        .unwrap();
    assert!(again.imported.is_empty() && !again.recorded);
    assert_eq!(world.state().await.unwrap().serial, 1);
}

#[tokio::test]
async fn what_discovery_does_not_find_is_left_for_apply_and_so_are_its_dependents() {
    let world = World::new();
    let graph = graph("10.0.1.0/24");
    let report = world
        .engine()
        .discover(&request(&graph), true)
        .await
        .unwrap();
    assert!(report.imported.is_empty() && !report.recorded);
    let left: Vec<(&str, &str)> = report
        .left_out
        .iter()
        .map(|l| (l.address.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(
        left,
        [
            ("test_net.main", "not found"),
            (
                "test_subnet.a",
                "it needs `test_net.main.id`, which was not found"
            )
        ]
    );
    assert!(world.state().await.is_none());
    assert_eq!(report.plan.changes.len(), 2);
    assert!(
        report
            .plan
            .changes
            .iter()
            .all(|c| c.action == Action::Create)
    );
}

#[tokio::test]
async fn an_object_is_found_though_an_attribute_it_updates_in_place_refers_to_what_is_not() {
    let world = World::new();
    let mut resources = Resources::default();
    let net = resources
        .add("test_net", "main", map! { "name" => "net-main" })
        .address();
    resources.add(
        "test_app",
        "web",
        map! { "name" => "app-web", "net_id" => reference(&net, "id") },
    );
    let graph = brickstack_graph::build(&spec(), resources).unwrap();
    let app = world
        .outside(
            "test_app",
            "app-web",
            serde_json::json!({"name": "app-web"}),
        )
        .await;

    let report = world
        .engine()
        .discover(&request(&graph), true)
        .await
        .unwrap();
    assert_eq!(report.imported.len(), 1, "{report:?}");
    assert_eq!(report.imported[0].object_id, app);
    // The network is created, then the app updated to use it: never replaced.
    let actions: Vec<(String, Action)> = report
        .plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("test_app.web".to_string(), Action::Update),
            ("test_net.main".to_string(), Action::Create)
        ]
    );
}

#[tokio::test]
async fn an_import_is_refused_while_another_run_holds_the_lock_and_records_nothing() {
    let world = World::new();
    let graph = graph("10.0.1.0/24");
    let net = world
        .outside(
            "test_net",
            "net-main",
            serde_json::json!({"name": "net-main"}),
        )
        .await;
    let held = world
        .store
        .lock(&brickstack_state::LockRequest {
            id: "other-run".into(),
            operation: "apply".into(),
            who: "bo@laptop".into(),
            version: "0".into(),
            now: time::OffsetDateTime::now_utc(),
            lease_seconds: 60,
        })
        .await
        .unwrap();

    for result in [
        world
            .engine()
            .import(&request(&graph), "test_net.main", &net)
            .await,
        world.engine().discover(&request(&graph), true).await,
    ] {
        match result {
            Err(ImportFailure::Engine(e)) => {
                assert!(e.to_string().contains("bo@laptop"), "{e}")
            }
            other => panic!("expected the lock's holder to be named, got {other:?}"),
        }
    }
    assert!(world.state().await.is_none(), "nothing was recorded");
    world.store.unlock(&held).await.unwrap();
}
