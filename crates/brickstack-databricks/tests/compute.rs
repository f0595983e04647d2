//! The compute side: the cluster waits against minilake where it can force a state (its
//! `update_mask: "*"` side door); the compute kinds through a `DatabricksProvider` whose account
//! (our in-process account emulator) has one workspace at minilake's URL; and a cluster create
//! that fails with a termination reason, against a few lines of fake workspace (minilake's
//! clusters always start).
//!
//! Not here, because minilake cannot do them (they need brickstack's own emulator): cluster
//! events, termination reasons on a real state machine, libraries, and the generator's full
//! cluster shape (`aws_attributes`, `cluster_log_conf`); see
//! `shared_compute::{termination_reason_and_events, libraries,
//! cluster_security_and_aws_attributes}` and `kinds::generated_cluster`.

mod shared_compute;

use std::time::{Duration, Instant};

use brickstack_databricks::workspace::clusters::{ClusterState, EventsRequest, WaitError};
use brickstack_databricks::{
    AccountClient, Credentials, DatabricksProvider, RetryPolicy, WorkspaceClient,
};
use brickstack_databricks_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use brickstack_databricks_emulator::{DatabricksEmulator, DatabricksEmulatorConfig};
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{ErrorClass, Provider, ProviderError, SecretValue};
use brickstack_testkit::{unique_account_id, unique_name};
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
    _emulator: DatabricksEmulator,
    provider: DatabricksProvider,
    /// The workspace's URL (minilake's).
    url: String,
    workspace_id: i64,
    workspace: WorkspaceClient,
}

async fn harness(test_name: &str) -> Option<Harness> {
    let minilake = brickstack_testkit::require_minilake(test_name)?;
    // minilake takes any bearer token; the account's service principal reaches a real workspace
    // with OAuth instead.
    let (emulator, provider, workspace_id) =
        provider_for(&minilake.url, "dev", RetryPolicy::default()).await;
    Some(Harness {
        _emulator: emulator,
        provider,
        workspace: minilake_client(&minilake.url),
        url: minilake.url,
        workspace_id,
    })
}

/// The account emulator with one workspace, served at `workspace_url`, and a provider acting in
/// that account that reaches the workspace with `token`.
async fn provider_for(
    workspace_url: &str,
    token: &str,
    retry: RetryPolicy,
) -> (DatabricksEmulator, DatabricksProvider, i64) {
    let emulator = DatabricksEmulator::start_with(DatabricksEmulatorConfig {
        workspace_url_template: Some(workspace_url.to_string()),
        ..DatabricksEmulatorConfig::default()
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
    let provider = DatabricksProvider::new(
        account,
        Credentials::Pat(SecretValue::new(token)),
        retry,
        MemorySecrets::new(),
        "test",
    );
    (emulator, provider, workspace_id)
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

// --- a cluster that cannot start ---------------------------------------------------------------

/// A workspace whose clusters never start: `create` answers an id, `get` a `TERMINATED` cluster
/// with the given termination reason, `permanent-delete` the given status. A few lines of
/// HTTP/1.1 on a socket (one request per connection), since minilake's clusters always start.
mod failing_workspace {
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub const CLUSTER_ID: &str = "0101-010101-failing";

    pub struct FailingWorkspace {
        pub url: String,
        /// Every `METHOD path` served, in order.
        pub calls: Arc<Mutex<Vec<String>>>,
    }

    pub async fn start(reason: Value, delete_status: u16) -> FailingWorkspace {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (reason, seen) = (reason.clone(), seen.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, &reason, delete_status, &seen).await;
                });
            }
        });
        FailingWorkspace { url, calls }
    }

    async fn serve(
        mut socket: TcpStream,
        reason: &Value,
        delete_status: u16,
        seen: &Mutex<Vec<String>>,
    ) -> std::io::Result<()> {
        let mut request = Vec::new();
        let mut chunk = [0_u8; 4096];
        let (head_end, length) = loop {
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            request.extend_from_slice(&chunk[..n]);
            if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        while request.len() < head_end + length {
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&request[..head_end]).to_string();
        let mut words = head.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let target = words.next().unwrap_or_default();
        let path = target.split('?').next().unwrap_or_default().to_string();
        seen.lock().unwrap().push(format!("{method} {path}"));
        let (status, body) = match (method.as_str(), path.as_str()) {
            ("POST", "/api/2.1/clusters/create") => (200, json!({ "cluster_id": CLUSTER_ID })),
            ("GET", "/api/2.1/clusters/get") => (
                200,
                json!({
                    "cluster_id": CLUSTER_ID,
                    "cluster_name": "failing",
                    "spark_version": "15.4.x-scala2.12",
                    "state": "TERMINATED",
                    "state_message": "Could not launch the driver",
                    "termination_reason": reason,
                }),
            ),
            ("POST", "/api/2.1/clusters/permanent-delete") if delete_status == 200 => {
                (200, json!({}))
            }
            ("POST", "/api/2.1/clusters/permanent-delete") => (
                delete_status,
                json!({ "error_code": "INVALID_STATE", "message": "cannot delete now" }),
            ),
            _ => (
                404,
                json!({ "error_code": "ENDPOINT_NOT_FOUND", "message": path }),
            ),
        };
        let body = body.to_string();
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await?;
        socket.shutdown().await
    }
}

async fn create_failing_cluster(reason: Value, delete_status: u16) -> (ProviderError, Vec<String>) {
    let workspace = failing_workspace::start(reason, delete_status).await;
    let (_emulator, provider, _) = provider_for(&workspace.url, "token", RetryPolicy::none()).await;
    let desired = kinds::plain_cluster(&workspace.url, "15.4.x-scala2.12", "i3.xlarge");
    let request = brickstack_provider::CreateRequest {
        address: "databricks_cluster.failing".into(),
        kind: kinds::CLUSTER.into(),
        attributes: kinds::attributes(&desired),
        lookup: kinds::lookup_for(&desired),
    };
    let error = provider.create(&request).await.unwrap_err();
    let calls = workspace.calls.lock().unwrap().clone();
    (error, calls)
}

#[tokio::test]
async fn a_cluster_that_cannot_start_fails_the_create_with_its_reason_and_is_removed() {
    let (error, calls) = create_failing_cluster(
        json!({
            "code": "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
            "type": "CLOUD_FAILURE",
            "parameters": { "aws_api_error_code": "InsufficientInstanceCapacity" }
        }),
        200,
    )
    .await;
    assert_eq!(
        error.class,
        ErrorClass::Retryable { after: None },
        "{error}"
    );
    assert_eq!(error.code, "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE");
    for part in [
        "CLOUD_FAILURE",
        "aws_api_error_code=InsufficientInstanceCapacity",
        "Could not launch the driver",
        "deleted",
    ] {
        assert!(error.message.contains(part), "`{part}` missing: {error}");
    }
    assert_eq!(
        calls,
        [
            "POST /api/2.1/clusters/create",
            "GET /api/2.1/clusters/get",
            "POST /api/2.1/clusters/permanent-delete",
        ],
        "the cluster that did not start is removed, so a retry makes a new one"
    );
}

#[tokio::test]
async fn a_cluster_refused_for_its_configuration_is_invalid_input() {
    let (error, _) = create_failing_cluster(
        json!({ "code": "INVALID_ARGUMENT", "type": "CLIENT_ERROR" }),
        200,
    )
    .await;
    assert_eq!(error.class, ErrorClass::InvalidInput, "{error}");
    assert_eq!(error.code, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_failed_cluster_that_cannot_be_removed_is_not_retried() {
    let (error, calls) = create_failing_cluster(
        json!({ "code": "CLOUD_PROVIDER_RESOURCE_STOCKOUT", "type": "CLOUD_FAILURE" }),
        400,
    )
    .await;
    assert_eq!(
        error.class,
        ErrorClass::Fatal,
        "a retry would leave a second cluster: {error}"
    );
    assert!(error.message.contains("cannot delete now"), "{error}");
    assert_eq!(
        calls.last().unwrap(),
        "POST /api/2.1/clusters/permanent-delete"
    );
}
