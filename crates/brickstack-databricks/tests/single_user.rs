//! The kinds of a person's single-user cluster (docs/access.md, "The resources of one person")
//! against brickstack's Databricks emulator, each through the provider as the engine calls it:
//! `databricks_user` (created, or adopted when the person logged in before),
//! `databricks_cluster` with `single_user_name`, `databricks_cluster_libraries`,
//! `databricks_permissions` on the cluster, and `databricks_cluster_shutdown`.

mod emulator;

use std::time::Duration;

use brickstack_databricks::DatabricksProvider;
use brickstack_databricks::workspace::clusters::ClusterState;
use brickstack_databricks::workspace::libraries::LibraryStatus;
use brickstack_databricks::workspace::scim::User;
use brickstack_databricks_emulator::FaultRule;
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{CreateRequest, ErrorClass, Observed, Provider};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use emulator::EmulatorWorkspace;
use serde_json::{Value, json};

const USER: &str = "databricks_user";
const CLUSTER: &str = "databricks_cluster";
const LIBRARIES: &str = "databricks_cluster_libraries";
const PERMISSIONS: &str = "databricks_permissions";
const SHUTDOWN: &str = "databricks_cluster_shutdown";

const WAIT: Duration = Duration::from_secs(60);

fn request(kind: &str, attributes: &Value) -> CreateRequest {
    CreateRequest {
        address: format!("{kind}.su_test"),
        kind: kind.to_string(),
        attributes: attributes.as_object().expect("an object").clone(),
        lookup: ObjectLookup {
            name: None,
            tags: Default::default(),
            scope: attributes
                .get("workspace_url")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
    }
}

async fn create(p: &DatabricksProvider, kind: &str, attributes: &Value) -> Observed {
    p.create(&request(kind, attributes))
        .await
        .unwrap_or_else(|e| panic!("create {kind}: {e}"))
}

async fn read(p: &DatabricksProvider, kind: &str, object_id: &str) -> Option<Observed> {
    p.read(kind, object_id)
        .await
        .unwrap_or_else(|e| panic!("read {kind} {object_id}: {e}"))
}

/// Every desired attribute reads back as desired (lists the schema calls unordered as sets):
/// the next plan is a no-op.
async fn assert_reads_as(p: &DatabricksProvider, kind: &str, object: &Observed, desired: &Value) {
    let read = read(p, kind, &object.object_id)
        .await
        .unwrap_or_else(|| panic!("{kind} {} reads as gone", object.object_id));
    let schema = p.schema(kind).expect("served");
    for (name, value) in desired.as_object().unwrap() {
        let got = read.attributes.get(name);
        assert!(
            got.is_some_and(|g| schema.same_value(name, value, g)),
            "{kind}.{name} reads back as {got:?}, desired {value}"
        );
    }
    assert_eq!(
        &read, object,
        "{kind}: read differs from what create returned"
    );
}

fn text(o: &Observed, name: &str) -> String {
    o.attributes[name].as_str().unwrap().to_string()
}

/// A user that has never logged in: `<prefix>-<random>@example.com`.
fn new_person(prefix: &str) -> String {
    format!("{}@example.com", unique_name(prefix))
}

async fn single_user_cluster(
    ws: &EmulatorWorkspace,
    p: &DatabricksProvider,
    user_name: &str,
) -> (Value, Observed) {
    let client = ws.client();
    let version = client.spark_versions().await.unwrap()[0].key.clone();
    let node_type = client.list_node_types().await.unwrap()[0]
        .node_type_id
        .clone();
    let name = unique_name("su-cluster");
    let desired = json!({
        "workspace_url": ws.url,
        "cluster_name": name,
        "spark_version": version,
        "node_type_id": node_type,
        "num_workers": 0,
        "autotermination_minutes": 30,
        "data_security_mode": "SINGLE_USER",
        "single_user_name": user_name,
        "custom_tags": {
            "brickstack:address": "databricks_cluster.su_test",
            "brickstack:environment": "test",
            "brickstack:person": user_name,
        },
    });
    let cluster = create(p, CLUSTER, &desired).await;
    (desired, cluster)
}

#[tokio::test]
async fn a_user_who_never_logged_in_is_created_and_one_who_did_is_adopted() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let client = ws.client();

    // Never logged in: no SCIM user yet; the create makes one.
    let person = new_person("ana");
    let desired = json!({"workspace_url": ws.url, "user_name": person});
    let user = create(&p, USER, &desired).await;
    assert!(user.object_id.starts_with(&format!("{}/", ws.workspace_id)));
    assert_eq!(
        user.object_id,
        format!("{}/{}", ws.workspace_id, text(&user, "id"))
    );
    assert_reads_as(&p, USER, &user, &desired).await;
    let listed = client
        .users()
        .list(Some(&format!("userName eq \"{person}\"")))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "exactly one user");
    // Named from the e-mail until the identity provider names them.
    assert!(
        listed[0]
            .display_name
            .as_deref()
            .is_some_and(|n| n.starts_with("Ana")),
        "{listed:?}"
    );

    // Created again (a lost answer sent again): the same user, not a 409.
    let again = create(&p, USER, &desired).await;
    assert_eq!(again.object_id, user.object_id);

    // Logged in before (their identity provider wrote the name with capitals): adopted.
    let local = unique_name("bo");
    let as_written = format!("Bo.{local}@Example.com");
    let mut existing = User::new(&as_written);
    existing.display_name = Some("Bo".into());
    let made = client.users().create(&existing).await.unwrap();
    let desired = json!({
        "workspace_url": ws.url,
        "user_name": as_written.to_lowercase(),
    });
    let adopted = create(&p, USER, &desired).await;
    assert_eq!(text(&adopted, "id"), made.id.clone().unwrap());
    assert_reads_as(&p, USER, &adopted, &desired).await;
    let found = p
        .find(
            USER,
            &ObjectLookup {
                name: Some(as_written.to_lowercase()),
                tags: Default::default(),
                scope: Some(ws.url.clone()),
            },
        )
        .await
        .unwrap()
        .expect("found by userName");
    assert_eq!(found.object_id, adopted.object_id);

    // Retained on delete: the identity provider owns users, so even a delete leaves them.
    assert!(p.schema(USER).unwrap().retain_on_delete);
    p.delete(USER, &user.object_id).await.unwrap();
    assert!(read(&p, USER, &user.object_id).await.is_some());
}

#[tokio::test]
async fn a_single_user_cluster_reads_back_its_user_and_mode() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let person = new_person("cy");
    create(
        &p,
        USER,
        &json!({"workspace_url": ws.url, "user_name": person}),
    )
    .await;
    let (desired, cluster) = single_user_cluster(&ws, &p, &person).await;
    assert_eq!(cluster.attributes["data_security_mode"], "SINGLE_USER");
    assert_eq!(cluster.attributes["single_user_name"], person.as_str());
    assert_reads_as(&p, CLUSTER, &cluster, &desired).await;
    p.delete(CLUSTER, &cluster.object_id).await.unwrap();
}

/// The seed's manual fix: a cluster naming a person with no SCIM user. The vendor's 400 is
/// invalid input (retrying cannot help), with a hint naming the user resource.
#[tokio::test]
async fn a_single_user_naming_no_user_is_invalid_input_with_a_hint() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let person = new_person("nobody");
    ws.emulator
        .add_faults(vec![FaultRule {
            method: Some("POST".into()),
            error_code: Some("BAD_REQUEST".into()),
            message: Some(format!("Principal: UserName({person}) does not exist")),
            ..FaultRule::status(
                format!("/w/{}/api/2.1/clusters/create", ws.workspace_id),
                400,
            )
        }])
        .unwrap();
    let client = ws.client();
    let version = client.spark_versions().await.unwrap()[0].key.clone();
    let desired = json!({
        "workspace_url": ws.url,
        "cluster_name": unique_name("su-missing"),
        "spark_version": version,
        "num_workers": 0,
        "data_security_mode": "SINGLE_USER",
        "single_user_name": person,
    });
    let e = p.create(&request(CLUSTER, &desired)).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");
    assert!(e.message.contains(&person), "{e}");
    let hint = e.hint.expect("a hint");
    assert!(hint.contains("the user must exist first"), "{hint}");
}

#[tokio::test]
async fn libraries_start_a_terminated_cluster_install_and_read_back() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let client = ws.client();
    let person = new_person("di");
    create(
        &p,
        USER,
        &json!({"workspace_url": ws.url, "user_name": person}),
    )
    .await;
    let (_, cluster) = single_user_cluster(&ws, &p, &person).await;
    let cluster_id = text(&cluster, "cluster_id");
    // The create finds it stopped (auto-terminated, or a person stopped it) and starts it.
    client.terminate_cluster(&cluster_id).await.unwrap();
    client.wait_terminated(&cluster_id, WAIT).await.unwrap();

    let desired = json!({
        "workspace_url": ws.url,
        "cluster_id": cluster_id,
        "libraries": [
            {"pypi": {"package": "great-expectations==1.2.0"}},
            {"maven": {"coordinates": "com.example:lib:1.0"}},
            {"whl": "s3://bucket/pkg.whl"},
        ],
    });
    let libraries = create(&p, LIBRARIES, &desired).await;
    assert_eq!(libraries.object_id, cluster.object_id, "the cluster's id");
    assert_eq!(text(&libraries, "id"), cluster_id);
    let statuses = client.cluster_library_statuses(&cluster_id).await.unwrap();
    assert_eq!(statuses.library_statuses.len(), 3);
    assert!(
        statuses
            .library_statuses
            .iter()
            .all(|s| s.status == LibraryStatus::Installed),
        "{statuses:?}"
    );
    assert_eq!(
        client
            .get_cluster(&cluster_id)
            .await
            .unwrap()
            .unwrap()
            .state,
        ClusterState::Running
    );
    assert_reads_as(&p, LIBRARIES, &libraries, &desired).await;

    // Created again (nothing recorded): harmless, the same libraries.
    let again = create(&p, LIBRARIES, &desired).await;
    assert_eq!(again, libraries);

    // Update: one removed, one added.
    let changed = json!({
        "workspace_url": ws.url,
        "cluster_id": cluster_id,
        "libraries": [
            {"pypi": {"package": "great-expectations==1.2.0"}},
            {"jar": "s3://bucket/extra.jar"},
            {"whl": "s3://bucket/pkg.whl"},
        ],
    });
    let updated = p
        .update(
            LIBRARIES,
            &libraries.object_id,
            changed.as_object().unwrap(),
        )
        .await
        .unwrap();
    assert_reads_as(&p, LIBRARIES, &updated, &changed).await;

    // A terminated cluster is its normal state: its libraries still read as attached.
    client.terminate_cluster(&cluster_id).await.unwrap();
    client.wait_terminated(&cluster_id, WAIT).await.unwrap();
    let stopped = read(&p, LIBRARIES, &libraries.object_id).await.unwrap();
    let schema = p.schema(LIBRARIES).unwrap();
    assert!(schema.same_value(
        "libraries",
        &changed["libraries"],
        &stopped.attributes["libraries"]
    ));

    // Delete uninstalls them all; the cluster gone, nothing is left to read or delete.
    p.delete(LIBRARIES, &libraries.object_id).await.unwrap();
    let after = read(&p, LIBRARIES, &libraries.object_id).await.unwrap();
    assert_eq!(after.attributes["libraries"], json!([]));
    p.delete(CLUSTER, &cluster.object_id).await.unwrap();
    assert_eq!(read(&p, LIBRARIES, &libraries.object_id).await, None);
    p.delete(LIBRARIES, &libraries.object_id).await.unwrap();
}

#[tokio::test]
async fn a_cluster_permission_can_restart_round_trips() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let person = new_person("ed");
    create(
        &p,
        USER,
        &json!({"workspace_url": ws.url, "user_name": person}),
    )
    .await;
    let (_, cluster) = single_user_cluster(&ws, &p, &person).await;
    let cluster_id = text(&cluster, "cluster_id");
    let desired = json!({
        "workspace_url": ws.url,
        "cluster_id": cluster_id,
        "access_control": [{"permission_level": "CAN_RESTART", "user_name": person}],
    });
    let permissions = create(&p, PERMISSIONS, &desired).await;
    assert_eq!(
        permissions.object_id,
        format!("{}/clusters/{cluster_id}", ws.workspace_id)
    );
    assert_eq!(text(&permissions, "id"), format!("/clusters/{cluster_id}"));
    assert_eq!(permissions.attributes.get("authorization"), None);
    assert_reads_as(&p, PERMISSIONS, &permissions, &desired).await;

    // Authoritative: a grant made by hand is drift the update removes.
    let client = ws.client();
    client
        .update_permissions(
            "clusters",
            &cluster_id,
            &[
                brickstack_databricks::workspace::permissions::AccessControlRequest::group(
                    "users",
                    "CAN_ATTACH_TO",
                ),
            ],
        )
        .await
        .unwrap();
    let drifted = read(&p, PERMISSIONS, &permissions.object_id).await.unwrap();
    assert_eq!(
        drifted.attributes["access_control"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let restored = p
        .update(
            PERMISSIONS,
            &permissions.object_id,
            desired.as_object().unwrap(),
        )
        .await
        .unwrap();
    assert_reads_as(&p, PERMISSIONS, &restored, &desired).await;

    // An unknown level is the vendor's invalid input.
    let bad = json!({
        "workspace_url": ws.url,
        "cluster_id": cluster_id,
        "access_control": [{"permission_level": "CAN_FLY", "user_name": person}],
    });
    let e = p.create(&request(PERMISSIONS, &bad)).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");

    // Delete leaves no direct grant (reads as gone); with the cluster gone, still gone.
    p.delete(PERMISSIONS, &permissions.object_id).await.unwrap();
    assert_eq!(read(&p, PERMISSIONS, &permissions.object_id).await, None);
    p.delete(CLUSTER, &cluster.object_id).await.unwrap();
    assert_eq!(read(&p, PERMISSIONS, &permissions.object_id).await, None);
    p.delete(PERMISSIONS, &permissions.object_id).await.unwrap();
}

/// The seed's steps in order: user, cluster (booted), libraries, permission, shutdown. The
/// cluster ends `TERMINATED`; the shutdown reads as done while the cluster exists, also once the
/// person restarted it, and as gone once the cluster is.
#[tokio::test]
async fn the_shutdown_leaves_the_cluster_terminated() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let client = ws.client();
    let person = new_person("fa");
    let user = create(
        &p,
        USER,
        &json!({"workspace_url": ws.url, "user_name": person}),
    )
    .await;
    let (_, cluster) = single_user_cluster(&ws, &p, &text(&user, "user_name")).await;
    let cluster_id = text(&cluster, "cluster_id");
    let libraries = create(
        &p,
        LIBRARIES,
        &json!({"workspace_url": ws.url, "cluster_id": cluster_id,
                "libraries": [{"pypi": {"package": "great-expectations==1.2.0"}}]}),
    )
    .await;
    let permissions = create(
        &p,
        PERMISSIONS,
        &json!({"workspace_url": ws.url, "cluster_id": cluster_id,
                "access_control": [{"permission_level": "CAN_RESTART", "user_name": person}]}),
    )
    .await;
    let desired = json!({
        "workspace_url": ws.url,
        "cluster_id": cluster_id,
        "libraries_id": text(&libraries, "id"),
        "permissions_id": text(&permissions, "id"),
    });
    let shutdown = create(&p, SHUTDOWN, &desired).await;
    assert_eq!(
        shutdown.object_id,
        format!("{}/{cluster_id}", ws.workspace_id)
    );
    assert_eq!(
        client
            .get_cluster(&cluster_id)
            .await
            .unwrap()
            .unwrap()
            .state,
        ClusterState::Terminated
    );
    assert!(p.schema(SHUTDOWN).unwrap().recorded_only);
    assert_reads_as(&p, SHUTDOWN, &shutdown, &desired).await;
    // Everything else still reads as desired on the terminated cluster: no drift.
    assert!(
        read(&p, LIBRARIES, &libraries.object_id)
            .await
            .unwrap()
            .attributes["libraries"]
            .as_array()
            .is_some_and(|l| l.len() == 1)
    );
    assert_eq!(
        read(&p, PERMISSIONS, &permissions.object_id).await.as_ref(),
        Some(&permissions)
    );

    // Terminating again is harmless: nothing to find, and a resend changes nothing.
    assert_eq!(
        p.find(SHUTDOWN, &request(SHUTDOWN, &desired).lookup)
            .await
            .unwrap(),
        None
    );
    assert_eq!(create(&p, SHUTDOWN, &desired).await, shutdown);

    // The person restarts it: the shutdown still happened.
    client.start_cluster(&cluster_id).await.unwrap();
    client.wait_running(&cluster_id, WAIT).await.unwrap();
    assert!(read(&p, SHUTDOWN, &shutdown.object_id).await.is_some());

    p.delete(SHUTDOWN, &shutdown.object_id).await.unwrap();
    assert!(
        client.get_cluster(&cluster_id).await.unwrap().is_some(),
        "delete leaves the cluster"
    );
    p.delete(CLUSTER, &cluster.object_id).await.unwrap();
    assert_eq!(read(&p, SHUTDOWN, &shutdown.object_id).await, None);
    let e = p.create(&request(SHUTDOWN, &desired)).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::NotFound, "{e}");
}

/// A library that fails to install fails the create naming it and the vendor's message (not
/// retryable); once the fault is cleared, creating again restarts the cluster (which installs
/// its libraries afresh) and succeeds, on the same cluster.
#[tokio::test]
async fn a_failed_library_fails_the_create_and_a_restart_installs_it_next_time() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let client = ws.client();
    let person = new_person("gu");
    create(
        &p,
        USER,
        &json!({"workspace_url": ws.url, "user_name": person}),
    )
    .await;
    let (_, cluster) = single_user_cluster(&ws, &p, &person).await;
    let cluster_id = text(&cluster, "cluster_id");

    let controls = format!("{}/_emulator/library-failures", ws.emulator.url());
    let http = reqwest_client();
    let answer = http
        .post(&controls)
        .json(&json!({
            "library": {"pypi": {"package": "x==1"}},
            "message": "Could not find a version that satisfies the requirement x==1",
        }))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());

    let desired = json!({
        "workspace_url": ws.url,
        "cluster_id": cluster_id,
        "libraries": [
            {"pypi": {"package": "great-expectations==1.2.0"}},
            {"pypi": {"package": "x==1"}},
        ],
    });
    let e = p.create(&request(LIBRARIES, &desired)).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");
    assert!(!e.is_retryable());
    assert!(e.message.contains("pypi `x==1`"), "{e}");
    assert!(e.message.contains("Could not find a version"), "{e}");

    let cleared = http.delete(&controls).send().await.unwrap();
    assert!(cleared.status().is_success(), "{}", cleared.status());
    let libraries = create(&p, LIBRARIES, &desired).await;
    assert_eq!(text(&libraries, "id"), cluster_id, "the same cluster");
    assert_reads_as(&p, LIBRARIES, &libraries, &desired).await;
    let events = client
        .cluster_events(&brickstack_databricks::workspace::clusters::EventsRequest {
            cluster_id: cluster_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == brickstack_databricks::workspace::clusters::EventType::Restarting),
        "the cluster was restarted: {events:?}"
    );
}

fn reqwest_client() -> reqwest::Client {
    reqwest::Client::new()
}
