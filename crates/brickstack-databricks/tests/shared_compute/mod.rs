//! The compute client suite: one scenario per endpoint area, each taking a `&WorkspaceClient`,
//! asserting only what both a faithful emulator and the real API do. Objects get unique names
//! and a scenario never looks at more than its own objects, so scenarios run in parallel against
//! one shared workspace.
//!
//! `shared_compute_minilake.rs` runs the scenarios minilake serves; the ones marked "needs a
//! faithful emulator" use what minilake lacks (cluster events, termination reasons, libraries,
//! `aws_attributes` and `data_security_mode` round trips). `kinds` holds the provider-level
//! lifecycles of the compute kinds.

#![allow(dead_code, reason = "each test binary runs its part of the suite")]

pub mod kinds;

use std::collections::BTreeMap;
use std::time::Duration;

use brickstack_databricks::WorkspaceClient;
use brickstack_databricks::workspace::clusters::{
    AwsAttributes, ClusterDetails, ClusterFilter, ClusterSize, ClusterSpec, ClusterState,
    DataSecurityMode, EventType, EventsRequest, Order, TerminationCode, TerminationType,
};
use brickstack_databricks::workspace::init_scripts::GlobalInitScriptSpec;
use brickstack_databricks::workspace::ip_access_lists::{
    IpAccessListSpec, IpAccessListUpdate, ListType,
};
use brickstack_databricks::workspace::libraries::{Library, LibraryStatus, PyPiLibrary};
use brickstack_databricks::workspace::policies::PolicySpec;
use brickstack_testkit::unique_name;

/// Long enough for a real cluster to start; emulators take well under a second.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(20 * 60);

pub fn ok<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A cluster spec the workspace can run: its first runtime and node type, no workers, a unique
/// name and tag.
pub async fn small_cluster(w: &WorkspaceClient, prefix: &str) -> ClusterSpec {
    let versions = ok("spark-versions", w.spark_versions().await);
    let version = versions.first().expect("the workspace offers a runtime");
    let node_types = ok("list-node-types", w.list_node_types().await);
    let node_type = node_types
        .first()
        .expect("the workspace offers a node type");
    let name = unique_name(prefix);
    ClusterSpec {
        cluster_name: Some(name.clone()),
        spark_version: version.key.clone(),
        node_type_id: Some(node_type.node_type_id.clone()),
        num_workers: Some(0),
        autotermination_minutes: Some(10),
        custom_tags: BTreeMap::from([("brickstack:test".to_string(), name)]),
        spark_conf: BTreeMap::from([("spark.speculation".to_string(), "true".to_string())]),
        ..ClusterSpec::default()
    }
}

fn assert_spec(details: &ClusterDetails, spec: &ClusterSpec) {
    let got = &details.spec;
    assert_eq!(got.cluster_name, spec.cluster_name);
    assert_eq!(got.spark_version, spec.spark_version);
    assert_eq!(got.node_type_id, spec.node_type_id);
    assert_eq!(got.autotermination_minutes, spec.autotermination_minutes);
    assert_eq!(got.custom_tags, spec.custom_tags);
    assert_eq!(got.spark_conf, spec.spark_conf);
    if spec.autoscale.is_some() {
        assert_eq!(got.autoscale, spec.autoscale);
    } else {
        assert_eq!(got.num_workers, spec.num_workers);
    }
}

/// Clusters 2.1 through their states: create → RUNNING → edit → update (mask) → resize →
/// restart → terminate → TERMINATED → start → RUNNING → permanent delete → gone.
pub async fn clusters(w: &WorkspaceClient) {
    assert!(
        ok(
            "get a missing cluster",
            w.get_cluster("0000-000000-nosuchcl").await
        )
        .is_none(),
        "a missing cluster reads as none"
    );
    let mut spec = small_cluster(w, "bs-compute-cluster").await;
    let id = ok("create", w.create_cluster(&spec).await);
    let created = ok("get", w.get_cluster(&id).await).expect("the new cluster exists");
    assert_spec(&created, &spec);
    assert!(
        matches!(created.state, ClusterState::Pending | ClusterState::Running),
        "a new cluster is pending (or already running): {}",
        created.state
    );
    let running = ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    assert_eq!(running.state, ClusterState::Running);
    assert!(running.start_time.is_some());

    let listed = ok("list", w.list_clusters(&ClusterFilter::default()).await);
    assert!(
        listed.iter().any(|c| c.cluster_id == id),
        "list has the cluster"
    );
    let running_only = ClusterFilter {
        states: vec![ClusterState::Running, ClusterState::Pending],
        ..ClusterFilter::default()
    };
    let listed = ok("list running", w.list_clusters(&running_only).await);
    assert!(listed.iter().any(|c| c.cluster_id == id));

    spec.autotermination_minutes = Some(20);
    spec.custom_tags
        .insert("edited".to_string(), "yes".to_string());
    ok("edit", w.edit_cluster(&id, &spec).await);
    let edited = ok(
        "wait after edit",
        w.wait_running(&id, CLUSTER_TIMEOUT).await,
    );
    assert_spec(&edited, &spec);

    spec.autotermination_minutes = Some(30);
    ok(
        "update with a mask",
        w.update_cluster(&id, &["autotermination_minutes"], &spec)
            .await,
    );
    let settled = ok(
        "settle after update",
        w.wait_settled(&id, CLUSTER_TIMEOUT).await,
    );
    assert_eq!(settled.spec.autotermination_minutes, Some(30));
    assert_eq!(
        settled.spec.custom_tags, spec.custom_tags,
        "the mask kept the rest"
    );
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);

    ok("resize", w.resize_cluster(&id, ClusterSize::Fixed(1)).await);
    let resized = ok(
        "wait after resize",
        w.wait_running(&id, CLUSTER_TIMEOUT).await,
    );
    assert_eq!(resized.spec.num_workers, Some(1));

    ok("restart", w.restart_cluster(&id).await);
    ok(
        "wait after restart",
        w.wait_running(&id, CLUSTER_TIMEOUT).await,
    );

    ok("terminate", w.terminate_cluster(&id).await);
    let terminated = ok(
        "wait terminated",
        w.wait_terminated(&id, CLUSTER_TIMEOUT).await,
    );
    assert_eq!(terminated.state, ClusterState::Terminated);
    assert!(terminated.terminated_time.is_some());
    ok("terminate again", w.terminate_cluster(&id).await);

    ok("start", w.start_cluster(&id).await);
    ok(
        "wait after start",
        w.wait_running(&id, CLUSTER_TIMEOUT).await,
    );

    ok("permanent delete", w.permanent_delete_cluster(&id).await);
    assert!(ok("get after delete", w.get_cluster(&id).await).is_none());
    let again = w.permanent_delete_cluster(&id).await.unwrap_err();
    assert!(
        again.is_not_found(),
        "deleting twice says not found: {again}"
    );
    let listed = ok(
        "list after delete",
        w.list_clusters(&ClusterFilter::default()).await,
    );
    assert!(listed.iter().all(|c| c.cluster_id != id));
}

/// Waiting on a cluster that is gone fails at once, naming it.
pub async fn waits_on_a_missing_cluster(w: &WorkspaceClient) {
    let e = w
        .wait_running("0000-000000-nosuchcl", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("0000-000000-nosuchcl"),
        "the error names the cluster: {e}"
    );
}

/// Cluster policies: create → get → list → edit → a cluster under it → delete → gone.
pub async fn policies(w: &WorkspaceClient) {
    let name = unique_name("bs-compute-policy");
    let mut spec = PolicySpec {
        name: name.clone(),
        definition: Some(r#"{"autotermination_minutes":{"type":"range","maxValue":60}}"#.into()),
        description: Some("brickstack test".into()),
        ..PolicySpec::default()
    };
    let id = ok("create policy", w.create_policy(&spec).await);
    let got = ok("get policy", w.get_policy(&id).await).expect("the policy exists");
    assert_eq!(got.spec.name, name);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(got.spec.definition.as_deref().unwrap()).unwrap(),
        serde_json::json!({"autotermination_minutes":{"type":"range","maxValue":60}})
    );
    assert!(!got.is_default);
    let named = ok("policy by name", w.policy_named(&name).await).expect("found by name");
    assert_eq!(named.policy_id, id);
    let listed = ok("list policies", w.list_policies().await);
    assert!(listed.iter().any(|p| p.policy_id == id));

    spec.definition = Some(r#"{"autotermination_minutes":{"type":"fixed","value":30}}"#.into());
    ok("edit policy", w.edit_policy(&id, &spec).await);
    let edited = ok("get edited", w.get_policy(&id).await).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(edited.spec.definition.as_deref().unwrap())
            .unwrap()["autotermination_minutes"]["value"],
        30
    );

    let mut cluster = small_cluster(w, "bs-compute-policed").await;
    cluster.policy_id = Some(id.clone());
    cluster.autotermination_minutes = Some(30);
    let cluster_id = ok(
        "create a cluster under the policy",
        w.create_cluster(&cluster).await,
    );
    let details = ok("get", w.get_cluster(&cluster_id).await).unwrap();
    assert_eq!(details.spec.policy_id.as_deref(), Some(id.as_str()));
    ok(
        "delete the cluster",
        w.permanent_delete_cluster(&cluster_id).await,
    );

    ok("delete policy", w.delete_policy(&id).await);
    assert!(ok("get deleted policy", w.get_policy(&id).await).is_none());
    assert!(ok("by name after delete", w.policy_named(&name).await).is_none());
}

/// DBFS: mkdirs → put → status → read → list → no overwrite → a file over 1 MiB (blocks) →
/// delete → gone.
pub async fn dbfs(w: &WorkspaceClient) {
    let dir = format!("/tmp/{}", unique_name("bs-compute-dbfs"));
    let file = format!("{dir}/core-site.xml");
    ok("mkdirs", w.dbfs_mkdirs(&dir).await);
    assert!(ok("status of a missing file", w.dbfs_get_status(&file).await).is_none());

    let text = b"<property>\n  <name>x</name>\n</property>\n";
    ok("put", w.dbfs_put(&file, text, false).await);
    let status = ok("status", w.dbfs_get_status(&file).await).expect("the file exists");
    assert!(!status.is_dir);
    assert_eq!(status.file_size, text.len() as i64);
    assert_eq!(ok("read", w.dbfs_read(&file).await), text);
    assert_eq!(
        ok("read a range", w.dbfs_read_range(&file, 1, 8).await),
        &text[1..9]
    );
    let listed = ok("list", w.dbfs_list(&dir).await);
    assert!(
        listed.iter().any(|f| f.path == file && !f.is_dir),
        "{listed:?}"
    );
    let dir_status = ok("dir status", w.dbfs_get_status(&dir).await).unwrap();
    assert!(dir_status.is_dir);

    let refused = w.dbfs_put(&file, b"other", false).await.unwrap_err();
    assert_eq!(
        refused.api().map(|a| a.error_code.as_str()),
        Some("RESOURCE_ALREADY_EXISTS"),
        "{refused}"
    );
    assert_eq!(ok("read unchanged", w.dbfs_read(&file).await), text);

    // Over one block: written with create / add-block / close, read in 1 MiB ranges.
    let big: Vec<u8> = (0..(2 * 1024 * 1024 + 12_345))
        .map(|i: u32| (i % 251) as u8)
        .collect();
    let big_file = format!("{dir}/big.bin");
    ok("put a big file", w.dbfs_put(&big_file, &big, true).await);
    let status = ok("big status", w.dbfs_get_status(&big_file).await).unwrap();
    assert_eq!(status.file_size, big.len() as i64);
    assert!(ok("read big", w.dbfs_read(&big_file).await) == big);
    ok("overwrite", w.dbfs_put(&file, b"new", true).await);
    assert_eq!(ok("read overwritten", w.dbfs_read(&file).await), b"new");

    ok("delete the file", w.dbfs_delete(&file, false).await);
    assert!(ok("status after delete", w.dbfs_get_status(&file).await).is_none());
    ok("delete the directory", w.dbfs_delete(&dir, true).await);
    assert!(ok("dir after delete", w.dbfs_get_status(&dir).await).is_none());
}

/// Global init scripts: create (plain text in, base64 on the wire) → get → list (no body) →
/// update → delete → gone.
pub async fn global_init_scripts(w: &WorkspaceClient) {
    let name = unique_name("bs-compute-init");
    let mut spec = GlobalInitScriptSpec {
        name: name.clone(),
        script: b"#!/bin/bash\necho hello\n".to_vec(),
        enabled: false,
        position: None,
    };
    let id = ok("create script", w.create_global_init_script(&spec).await);
    let got = ok("get script", w.get_global_init_script(&id).await).expect("the script exists");
    assert_eq!(got.name, name);
    assert!(!got.enabled);
    assert_eq!(got.script.as_deref(), Some(spec.script.as_slice()));
    assert!(got.position.is_some(), "the API assigns a position");
    let listed = ok("list scripts", w.list_global_init_scripts().await);
    let mine = listed.iter().find(|s| s.script_id == id).expect("listed");
    assert_eq!(mine.name, name);
    assert!(mine.script.is_none(), "a listing leaves the script out");

    spec.script = b"#!/bin/bash\necho changed\n".to_vec();
    spec.name = format!("{name}-renamed");
    ok(
        "update script",
        w.update_global_init_script(&id, &spec).await,
    );
    let updated = ok("get updated", w.get_global_init_script(&id).await).unwrap();
    assert_eq!(updated.name, spec.name);
    assert_eq!(updated.script.as_deref(), Some(spec.script.as_slice()));

    ok("delete script", w.delete_global_init_script(&id).await);
    assert!(ok("get deleted", w.get_global_init_script(&id).await).is_none());
    let again = w.delete_global_init_script(&id).await.unwrap_err();
    assert!(again.is_not_found(), "{again}");
}

/// IP access lists (block lists of documentation addresses, which never lock the caller out):
/// create → get → list → replace → update → delete → gone.
pub async fn ip_access_lists(w: &WorkspaceClient) {
    let label = unique_name("bs-compute-ips");
    let addresses = vec!["192.0.2.0/28".to_string(), "198.51.100.7".to_string()];
    let created = ok(
        "create list",
        w.create_ip_access_list(&label, &ListType::Block, &addresses)
            .await,
    );
    assert_eq!(created.label, label);
    assert_eq!(created.list_type, ListType::Block);
    assert!(created.enabled, "a new list is enabled");
    let id = created.list_id.clone();
    let got = ok("get list", w.get_ip_access_list(&id).await).expect("the list exists");
    let mut got_addresses = got.ip_addresses.clone();
    got_addresses.sort();
    assert_eq!(got_addresses, addresses);
    let listed = ok("list lists", w.list_ip_access_lists().await);
    assert!(listed.iter().any(|l| l.list_id == id));

    let replaced = IpAccessListSpec {
        label: format!("{label}-replaced"),
        list_type: ListType::Block,
        ip_addresses: vec!["203.0.113.9".to_string()],
        enabled: true,
    };
    ok(
        "replace list",
        w.replace_ip_access_list(&id, &replaced).await,
    );
    let got = ok("get replaced", w.get_ip_access_list(&id).await).unwrap();
    assert_eq!(got.label, replaced.label);
    assert_eq!(got.ip_addresses, replaced.ip_addresses);

    let disable = IpAccessListUpdate {
        enabled: Some(false),
        ..IpAccessListUpdate::default()
    };
    ok("disable list", w.update_ip_access_list(&id, &disable).await);
    let got = ok("get disabled", w.get_ip_access_list(&id).await).unwrap();
    assert!(!got.enabled);
    assert_eq!(
        got.label, replaced.label,
        "a patch keeps what it does not name"
    );

    ok("delete list", w.delete_ip_access_list(&id).await);
    assert!(ok("get deleted", w.get_ip_access_list(&id).await).is_none());
}

/// Workspace configuration: set a key, read it back as a string, set it back.
pub async fn workspace_conf(w: &WorkspaceClient) {
    const KEY: &str = "enableGp3";
    assert!(ok("no keys", w.get_workspace_conf(&[]).await).is_empty());
    for value in ["true", "false"] {
        ok(
            "patch conf",
            w.patch_workspace_conf(&BTreeMap::from([(KEY.to_string(), value.to_string())]))
                .await,
        );
        let read = ok("get conf", w.get_workspace_conf(&[KEY]).await);
        assert_eq!(read.get(KEY).map(String::as_str), Some(value));
    }
}

// --- needs a faithful emulator (minilake lacks these) ------------------------------------------

/// A terminated cluster carries `termination_reason` `USER_REQUEST` / `SUCCESS`, and its event
/// log shows it being created, running and terminating, in both orders and by type.
pub async fn termination_reason_and_events(w: &WorkspaceClient) {
    let spec = small_cluster(w, "bs-compute-events").await;
    let id = ok("create", w.create_cluster(&spec).await);
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    ok("terminate", w.terminate_cluster(&id).await);
    let terminated = ok(
        "wait terminated",
        w.wait_terminated(&id, CLUSTER_TIMEOUT).await,
    );
    let reason = terminated
        .termination_reason
        .clone()
        .expect("a terminated cluster says why");
    assert_eq!(reason.code, Some(TerminationCode::UserRequest));
    assert_eq!(reason.kind, Some(TerminationType::Success));

    let all = ok(
        "events",
        w.cluster_events(&EventsRequest {
            cluster_id: id.clone(),
            order: Some(Order::Asc),
            page_size: Some(1),
            ..EventsRequest::default()
        })
        .await,
    );
    assert!(all.iter().all(|e| e.cluster_id == id));
    let kinds: Vec<&EventType> = all.iter().map(|e| &e.kind).collect();
    let position = |k: &EventType| kinds.iter().position(|x| *x == k);
    let (creating, running, terminating) = (
        position(&EventType::Creating).expect("a CREATING event"),
        position(&EventType::Running).expect("a RUNNING event"),
        position(&EventType::Terminating).expect("a TERMINATING event"),
    );
    assert!(creating < running && running < terminating, "{kinds:?}");
    let timestamps: Vec<i64> = all.iter().filter_map(|e| e.timestamp).collect();
    assert!(timestamps.windows(2).all(|p| p[0] <= p[1]), "ascending");
    let terminating_event = &all[terminating];
    assert_eq!(
        terminating_event
            .details
            .reason
            .as_ref()
            .and_then(|r| r.code.clone()),
        Some(TerminationCode::UserRequest)
    );

    let only = ok(
        "events of one type",
        w.cluster_events(&EventsRequest {
            cluster_id: id.clone(),
            event_types: vec![EventType::Terminating],
            ..EventsRequest::default()
        })
        .await,
    );
    assert!(!only.is_empty());
    assert!(only.iter().all(|e| e.kind == EventType::Terminating));
    let later = ok(
        "events from a time on",
        w.cluster_events(&EventsRequest {
            cluster_id: id.clone(),
            start_time: all[terminating].timestamp,
            ..EventsRequest::default()
        })
        .await,
    );
    assert!(
        later
            .iter()
            .all(|e| e.timestamp >= all[terminating].timestamp)
    );
    ok("delete", w.permanent_delete_cluster(&id).await);
}

/// `aws_attributes`, `data_security_mode` and `single_user_name` round-trip (the user must exist:
/// the workspace refuses a single user it does not know).
pub async fn cluster_security_and_aws_attributes(w: &WorkspaceClient) {
    let person = format!("{}@example.com", unique_name("bs-compute-someone"));
    let user = ok(
        "create user",
        w.users()
            .create(&brickstack_databricks::workspace::scim::User::new(&person))
            .await,
    );
    let mut spec = small_cluster(w, "bs-compute-dedicated").await;
    spec.data_security_mode = Some(DataSecurityMode::SingleUser);
    spec.single_user_name = Some(person);
    spec.aws_attributes = Some(AwsAttributes {
        availability: Some("SPOT_WITH_FALLBACK".into()),
        first_on_demand: Some(1),
        spot_bid_price_percent: Some(100),
        ebs_volume_type: Some("GENERAL_PURPOSE_SSD".into()),
        ebs_volume_count: Some(1),
        ebs_volume_size: Some(100),
        ..AwsAttributes::default()
    });
    let id = ok("create", w.create_cluster(&spec).await);
    let got = ok("get", w.get_cluster(&id).await).unwrap();
    assert_eq!(got.spec.data_security_mode, spec.data_security_mode);
    assert_eq!(got.spec.single_user_name, spec.single_user_name);
    let aws = got.spec.aws_attributes.expect("aws_attributes read back");
    let sent = spec.aws_attributes.unwrap();
    assert_eq!(aws.availability, sent.availability);
    assert_eq!(aws.first_on_demand, sent.first_on_demand);
    assert_eq!(aws.ebs_volume_size, sent.ebs_volume_size);
    ok("delete", w.permanent_delete_cluster(&id).await);
    ok("delete user", w.users().delete(&user.id.unwrap()).await);
}

/// Libraries: install on a cluster → listed with a status → uninstall → marked for restart.
pub async fn libraries(w: &WorkspaceClient) {
    let spec = small_cluster(w, "bs-compute-libs").await;
    let id = ok("create", w.create_cluster(&spec).await);
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    let library = Library {
        pypi: Some(PyPiLibrary {
            package: "simplejson==3.19.2".into(),
            repo: None,
        }),
        ..Library::default()
    };
    ok(
        "install",
        w.install_libraries(&id, std::slice::from_ref(&library))
            .await,
    );
    let statuses = ok("cluster status", w.cluster_library_statuses(&id).await);
    assert_eq!(statuses.cluster_id, id);
    let status = statuses
        .library_statuses
        .iter()
        .find(|s| s.library == library)
        .expect("the library is listed");
    assert!(
        status.status.is_in_progress() || status.status == LibraryStatus::Installed,
        "{}",
        status.status
    );
    let all = ok("all statuses", w.all_cluster_library_statuses().await);
    assert!(all.iter().any(|c| c.cluster_id == id));
    ok(
        "uninstall",
        w.uninstall_libraries(&id, std::slice::from_ref(&library))
            .await,
    );
    let statuses = ok(
        "status after uninstall",
        w.cluster_library_statuses(&id).await,
    );
    let status = statuses
        .library_statuses
        .iter()
        .find(|s| s.library == library)
        .expect("still listed until a restart");
    assert_eq!(status.status, LibraryStatus::UninstallOnRestart);
    ok("delete", w.permanent_delete_cluster(&id).await);
}
