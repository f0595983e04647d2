//! The access client suite (`shared_access`) against brickstack's own Databricks emulator,
//! reached as a deployment reaches it (a workspace made through the account API, OAuth at the
//! workspace): every scenario minilake passes (`shared_access_minilake.rs`), the ones it cannot
//! serve, and what only the emulator's controls can cause: a library that fails to install, and
//! the cluster-create rate limit the client must ride out.

mod emulator;
mod shared_access;
mod shared_compute;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use brickstack_databricks::workspace::clusters::ClusterFilter;
use brickstack_databricks::workspace::libraries::{Library, LibraryStatus};
use brickstack_databricks::{RetryPolicy, WorkspaceClient};
use brickstack_databricks_emulator::{LibraryFailure, Limits};
use emulator::EmulatorWorkspace;
use shared_compute::{CLUSTER_TIMEOUT, ok, small_cluster};

macro_rules! against_the_emulator {
    ($($scenario:ident),* $(,)?) => {
        mod client {
            use super::*;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let ws = EmulatorWorkspace::start().await;
                    shared_access::$scenario(&ws.client()).await;
                }
            )*
        }
    };
}

against_the_emulator! {
    cluster_permissions,
    cluster_permission_errors,
    single_user_cluster,
    library_install_states,
}

/// A library the emulator is told to fail ends `FAILED` with the vendor's message while the
/// others install; once the fault is cleared, a restart reinstalls it.
#[tokio::test]
async fn a_failed_library_installs_after_the_fault_is_cleared_and_the_cluster_restarts() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    let id = shared_access::running_cluster(&w, "bs-access-fail").await;
    let bad = Library::pypi("great-expectations==1.2.0");
    let good = Library::maven("com.example:util:1.0");
    ws.emulator.add_library_failure(LibraryFailure {
        library: serde_json::to_value(&bad).unwrap(),
        message: Some("ERROR: No matching distribution found".into()),
        workspace_id: Some(ws.workspace_id),
        cluster_id: None,
    });
    ok(
        "install",
        w.install_libraries(&id, &[bad.clone(), good.clone()]).await,
    );
    let (failed, seen) = shared_access::wait_library(&w, &id, &bad).await;
    assert_eq!(failed.status, LibraryStatus::Failed, "{seen:?}");
    let message = failed.messages.first().expect("a failed library says why");
    assert!(
        message.contains(&format!("driver node of cluster {id} and failed"))
            && message.contains("DRIVER_LIBRARY_INSTALLATION_FAILURE")
            && message.ends_with("ERROR: No matching distribution found"),
        "{message}"
    );
    let (installed, _) = shared_access::wait_library(&w, &id, &good).await;
    assert_eq!(installed.status, LibraryStatus::Installed);

    ws.emulator.clear_library_failures();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        shared_access::library_status(&w, &id, &bad).await.status,
        LibraryStatus::Failed,
        "clearing the fault alone mends nothing"
    );
    ok("restart", w.restart_cluster(&id).await);
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    let (done, seen) = shared_access::wait_library(&w, &id, &bad).await;
    assert_eq!(done.status, LibraryStatus::Installed, "{seen:?}");
    assert!(done.messages.is_empty());
}

/// Five concurrent creates against a limit of two per two seconds: the client retries each 429
/// after its `Retry-After`, every create succeeds once, and no cluster is made twice. Honouring
/// `Retry-After` (rather than the 20-200 ms backoff) keeps the refusals to the four the window
/// forces: three at the start, one two seconds later.
#[tokio::test]
async fn creates_past_the_rate_limit_all_succeed_once_through_the_client() {
    let ws = EmulatorWorkspace::start().await;
    ws.emulator.set_limits(Limits {
        cluster_creates_per_minute: Some(2),
        window_seconds: Some(2),
    });
    let policy = RetryPolicy {
        budget: Duration::from_secs(60),
        max_server_delay: Duration::from_secs(10),
        ..emulator::retry()
    };
    let w = WorkspaceClient::new(&ws.url, emulator::oauth(), policy).unwrap();
    let mut specs = Vec::new();
    for _ in 0..5 {
        specs.push(small_cluster(&w, "bs-access-limit").await);
    }
    let started = Instant::now();
    let ids = futures::future::join_all(specs.iter().map(|s| w.create_cluster(s))).await;
    let elapsed = started.elapsed();
    let ids: Vec<String> = ids
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("a create past the limit: {e}")))
        .collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 5);
    let throttled = ws.emulator.throttled_cluster_creates();
    assert!(
        (3..=6).contains(&throttled),
        "{throttled} refusals: the client waited Retry-After"
    );
    assert!(elapsed >= Duration::from_millis(3500), "{elapsed:?}");

    let names: BTreeSet<Option<String>> = specs.iter().map(|s| s.cluster_name.clone()).collect();
    let listed = ok("list", w.list_clusters(&ClusterFilter::default()).await);
    let made: Vec<_> = listed
        .iter()
        .filter(|c| names.contains(&c.spec.cluster_name))
        .collect();
    assert_eq!(made.len(), 5, "one cluster per create, none duplicated");
    for spec in &specs {
        assert_eq!(
            made.iter()
                .filter(|c| c.spec.cluster_name == spec.cluster_name)
                .count(),
            1
        );
    }
}
