//! The compute side against minilake: the cluster waits where minilake can force a state
//! (its `update_mask: "*"` side door), and the compute kinds through a `DatabricksProvider`
//! whose account (our in-process account emulator) has one workspace at minilake's URL.
//!
//! Not here, because minilake cannot do them (they need brickstack's own emulator): a cluster
//! create that fails with a termination reason (and is removed), events, libraries, and the
//! generator's full cluster shape (`aws_attributes`, `cluster_log_conf`); see
//! `shared_compute::{termination_reason_and_events, libraries,
//! cluster_security_and_aws_attributes}` and `kinds::generated_cluster`.

mod shared_compute;

use std::time::{Duration, Instant};

use brickstack_databricks::workspace::clusters::{ClusterState, EventsRequest, WaitError};
use brickstack_databricks::{
    AccountClient, Credentials, DatabricksProvider, RetryPolicy, WorkspaceClient,
};
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{ErrorClass, Provider, ProviderError, SecretValue};
use brickstack_testkit::account::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use brickstack_testkit::{AccountEmulator, AccountEmulatorConfig, unique_account_id, unique_name};
use serde_json::{Value, json};

use shared_compute::kinds;
use shared_compute::{CLUSTER_TIMEOUT, ok, small_cluster};

fn minilake_client(url: &str) -> WorkspaceClient {
    WorkspaceClient::new(
        url,
        Credentials::Pat(SecretValue::new("dev")),
        RetryPolicy::default(),
    )
    .expect("a client of minilake")
}

/// A provider whose account has one workspace, served by minilake.
struct Harness {
    /// Keeps the account emulator running.
    _emulator: AccountEmulator,
    provider: DatabricksProvider,
    /// The workspace's URL (minilake's).
    url: String,
    workspace_id: i64,
    workspace: WorkspaceClient,
}

async fn harness(test_name: &str) -> Option<Harness> {
    let minilake = brickstack_testkit::require_minilake(test_name)?;
    let emulator = AccountEmulator::start_with(AccountEmulatorConfig {
        workspace_url_template: Some(minilake.url.clone()),
        ..AccountEmulatorConfig::default()
    })
    .await
    .expect("the account emulator starts");
    let account_id = unique_account_id();
    let account = AccountClient::new(
        &emulator.url(),
        &account_id,
        Credentials::OAuthM2m {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: SecretValue::new(DEFAULT_CLIENT_SECRET),
        },
        RetryPolicy::default(),
    )
    .expect("an account client");
    let created: Value = ok(
        "create the workspace",
        account
            .client()
            .post(
                &format!("/api/2.0/accounts/{account_id}/workspaces"),
                &json!({
                    "workspace_name": unique_name("bs-compute"),
                    "aws_region": "eu-west-1",
                    "compute_mode": "SERVERLESS",
                }),
            )
            .await,
    );
    let workspace_id = created["workspace_id"].as_i64().expect("a workspace id");
    // The workspace is reached with minilake's token, as an account's service principal would
    // reach a real one with OAuth.
    let provider = DatabricksProvider::new(
        account,
        Credentials::Pat(SecretValue::new("dev")),
        RetryPolicy::default(),
        MemorySecrets::new(),
        "test",
    );
    Some(Harness {
        _emulator: emulator,
        provider,
        workspace: minilake_client(&minilake.url),
        url: minilake.url,
        workspace_id,
    })
}

/// minilake's side door: the partial update with mask `*` copies `state` and `state_message`
/// into the stored cluster (emulators.md §3.2).
async fn force_state(w: &WorkspaceClient, cluster_id: &str, state: &str, message: &str) {
    let _: Value = ok(
        "force a state",
        w.client()
            .post(
                "/api/2.1/clusters/update",
                &json!({
                    "cluster_id": cluster_id,
                    "update_mask": "*",
                    "cluster": { "state": state, "state_message": message },
                }),
            )
            .await,
    );
}

/// A cluster started and settled in RUNNING, so a forced state is not overwritten by the
/// emulator's own transition.
async fn running_cluster(w: &WorkspaceClient, prefix: &str) -> String {
    let spec = small_cluster(w, prefix).await;
    let id = ok("create", w.create_cluster(&spec).await);
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    id
}

// --- typed waits -------------------------------------------------------------------------------

#[tokio::test]
async fn a_cluster_that_stops_fails_the_wait_for_running_naming_its_state_message() {
    let Some(minilake) = brickstack_testkit::require_minilake("wait_fails_on_stop") else {
        return;
    };
    let w = minilake_client(&minilake.url);
    let id = running_cluster(&w, "bs-compute-stops").await;
    force_state(&w, &id, "TERMINATED", "Instance bootstrap failed").await;

    let e = w.wait_running(&id, CLUSTER_TIMEOUT).await.unwrap_err();
    match &e {
        WaitError::Failed {
            cluster_id,
            state,
            state_message,
            reason,
        } => {
            assert_eq!(cluster_id, &id);
            assert_eq!(state, &ClusterState::Terminated);
            assert_eq!(state_message, "Instance bootstrap failed");
            assert!(reason.is_none(), "minilake gives no termination reason");
        }
        other => panic!("expected a failed wait, got {other}"),
    }
    let text = e.to_string();
    assert!(
        text.contains(&id)
            && text.contains("TERMINATED")
            && text.contains("Instance bootstrap failed"),
        "{text}"
    );
    let p = ProviderError::from(e);
    assert_eq!(
        (p.class, p.code.as_str()),
        (ErrorClass::Fatal, "CLUSTER_TERMINATED"),
        "without a termination type the failure is not retried"
    );

    let terminated = ok(
        "wait terminated",
        w.wait_terminated(&id, CLUSTER_TIMEOUT).await,
    );
    assert_eq!(terminated.state, ClusterState::Terminated);
    let settled = ok("wait settled", w.wait_settled(&id, CLUSTER_TIMEOUT).await);
    assert_eq!(settled.state, ClusterState::Terminated);

    force_state(&w, &id, "ERROR", "gone wrong").await;
    let e = w.wait_terminated(&id, CLUSTER_TIMEOUT).await.unwrap_err();
    assert!(
        matches!(e, WaitError::Failed { ref state, .. } if state == &ClusterState::Error),
        "{e}"
    );
    ok("delete", w.permanent_delete_cluster(&id).await);
}

#[tokio::test]
async fn a_wait_gives_up_after_its_timeout_and_is_retryable() {
    let Some(minilake) = brickstack_testkit::require_minilake("wait_times_out") else {
        return;
    };
    let w = minilake_client(&minilake.url);
    let id = running_cluster(&w, "bs-compute-stuck").await;
    // A forced PENDING has no transition behind it: the cluster stays pending.
    force_state(&w, &id, "PENDING", "Starting cluster").await;
    let started = Instant::now();
    let e = w
        .wait_running(&id, Duration::from_millis(1500))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(e, WaitError::Timeout { ref state, .. } if state == &ClusterState::Pending),
        "{e}"
    );
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(6),
        "waited {waited:?}"
    );
    let p = ProviderError::from(e);
    assert_eq!(p.class, ErrorClass::Retryable { after: None });
    assert!(w.wait_settled(&id, Duration::ZERO).await.is_err());
    ok("delete", w.permanent_delete_cluster(&id).await);
}

#[tokio::test]
async fn the_event_log_is_read_even_when_empty() {
    let Some(minilake) = brickstack_testkit::require_minilake("events") else {
        return;
    };
    let w = minilake_client(&minilake.url);
    let id = running_cluster(&w, "bs-compute-log").await;
    let events = ok(
        "events",
        w.cluster_events(&EventsRequest {
            cluster_id: id.clone(),
            ..EventsRequest::default()
        })
        .await,
    );
    assert!(events.iter().all(|e| e.cluster_id == id));
    ok("delete", w.permanent_delete_cluster(&id).await);
}

// --- kinds through the provider ----------------------------------------------------------------

async fn plain_cluster(h: &Harness) -> Value {
    let versions = ok("spark-versions", h.workspace.spark_versions().await);
    let node_types = ok("node types", h.workspace.list_node_types().await);
    kinds::plain_cluster(&h.url, &versions[0].key, &node_types[0].node_type_id)
}

#[tokio::test]
async fn cluster_kind() {
    let Some(h) = harness("cluster_kind").await else {
        return;
    };
    let desired = plain_cluster(&h).await;
    kinds::cluster_lifecycle(&h.provider, &desired).await;
    let other = plain_cluster(&h).await;
    kinds::cluster_find_needs_the_address_tag(&h.provider, &other).await;
}

#[tokio::test]
async fn a_terminated_cluster_is_edited_and_stays_terminated() {
    let Some(h) = harness("cluster_edit_terminated").await else {
        return;
    };
    let desired = plain_cluster(&h).await;
    let created = kinds::create(&h.provider, kinds::CLUSTER, &desired).await;
    let cluster_id = created.attributes["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        "terminate",
        h.workspace.terminate_cluster(&cluster_id).await,
    );
    ok(
        "wait terminated",
        h.workspace
            .wait_terminated(&cluster_id, CLUSTER_TIMEOUT)
            .await,
    );
    let mut updated = desired.clone();
    updated["autotermination_minutes"] = json!(45);
    let after = ok(
        "update",
        h.provider
            .update(
                kinds::CLUSTER,
                &created.object_id,
                &kinds::attributes(&updated),
            )
            .await,
    );
    kinds::assert_reads_as(&h.provider, kinds::CLUSTER, &after, &updated);
    let details = ok("get", h.workspace.get_cluster(&cluster_id).await).unwrap();
    assert_eq!(details.state, ClusterState::Terminated);
    // The state is no attribute: a cluster that auto-terminated is not drift.
    assert!(!after.attributes.contains_key("state"));
    ok(
        "delete",
        h.provider.delete(kinds::CLUSTER, &created.object_id).await,
    );
}

#[tokio::test]
async fn a_cluster_under_a_policy_references_its_id() {
    let Some(h) = harness("cluster_under_policy").await else {
        return;
    };
    let policy = kinds::create(
        &h.provider,
        kinds::CLUSTER_POLICY,
        &json!({
            "workspace_url": h.url,
            "name": unique_name("bs-compute-policy-ref"),
            "definition": r#"{"autotermination_minutes":{"maxValue":60,"type":"range"}}"#,
        }),
    )
    .await;
    let mut desired = plain_cluster(&h).await;
    desired["policy_id"] = policy.attributes["id"].clone();
    let cluster = kinds::create(&h.provider, kinds::CLUSTER, &desired).await;
    kinds::assert_reads_as(&h.provider, kinds::CLUSTER, &cluster, &desired);
    // A policy in use cannot go (minilake refuses it as the real API's clients expect).
    let refused = h
        .provider
        .delete(kinds::CLUSTER_POLICY, &policy.object_id)
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::Conflict, "{refused}");
    ok(
        "delete the cluster",
        h.provider.delete(kinds::CLUSTER, &cluster.object_id).await,
    );
    ok(
        "delete the policy",
        h.provider
            .delete(kinds::CLUSTER_POLICY, &policy.object_id)
            .await,
    );
}

#[tokio::test]
async fn cluster_policy_kind() {
    let Some(h) = harness("cluster_policy_kind").await else {
        return;
    };
    kinds::cluster_policy_lifecycle(&h.provider, &h.url).await;
    kinds::cluster_policy_definition_is_compared_as_json(&h.provider, &h.url).await;
}

#[tokio::test]
async fn dbfs_file_kind() {
    let Some(h) = harness("dbfs_file_kind").await else {
        return;
    };
    kinds::dbfs_file_lifecycle(&h.provider, &h.url).await;
}

#[tokio::test]
async fn global_init_script_kind() {
    let Some(h) = harness("global_init_script_kind").await else {
        return;
    };
    kinds::global_init_script_lifecycle(&h.provider, &h.url).await;
}

#[tokio::test]
async fn ip_access_list_kind() {
    let Some(h) = harness("ip_access_list_kind").await else {
        return;
    };
    kinds::ip_access_list_lifecycle(&h.provider, &h.url).await;
}

#[tokio::test]
async fn workspace_conf_kind() {
    let Some(h) = harness("workspace_conf_kind").await else {
        return;
    };
    kinds::workspace_conf_lifecycle(&h.provider, &h.url).await;
}

#[tokio::test]
async fn missing_objects_and_workspaces_read_as_none() {
    let Some(h) = harness("missing_objects").await else {
        return;
    };
    kinds::missing_objects_read_as_none(&h.provider, h.workspace_id).await;
    kinds::objects_in_a_missing_workspace_are_gone(&h.provider).await;
}

#[tokio::test]
async fn invalid_attributes_are_refused_before_any_call() {
    let Some(h) = harness("invalid_attributes").await else {
        return;
    };
    let mut desired = plain_cluster(&h).await;
    desired["aws_attributes"] = json!({ "zone_id": "auto" });
    let request = brickstack_provider::CreateRequest {
        address: "databricks_cluster.bad".into(),
        kind: kinds::CLUSTER.into(),
        attributes: kinds::attributes(&desired),
        lookup: kinds::lookup_for(&desired),
    };
    let e = h.provider.create(&request).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");
    assert!(e.message.contains("zone_id"), "{e}");
    let calls = h.provider.calls().await;
    assert!(
        !calls.keys().any(|c| c.contains("/clusters/")),
        "no cluster call was made: {calls:?}"
    );
}
