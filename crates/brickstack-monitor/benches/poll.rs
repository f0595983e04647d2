//! Benchmark: one detection pass (`Monitor::poll`) over a workspace of N clusters, against a
//! workspace whose every call takes `LATENCY` (a round trip to a real workspace API), counting the
//! calls a pass makes.
//!
//! Two shapes: running clusters (each needs its events read every pass) and terminated clusters
//! whose termination was already handled (settled: no events call at all, so thousands of stopped
//! single-user clusters cost one `clusters/list`). Run with `scripts/bench.sh monitor` or
//! `cargo bench -p brickstack-monitor --bench poll`; under `cargo test --all-targets` it runs the
//! smallest size only, to check it still works.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use brickstack_monitor::{
    Alert, AlertError, Alerts, ApiError, BreakerConfig, Cluster, ClusterEvent, Clusters,
    Leadership, LibraryStatus, Monitor, MonitorConfig, Playbooks, RunInfo, Scope, SpecChange,
    Workspace,
};
use tokio::sync::watch;

/// What one workspace API call costs here, as a real workspace's round trip does.
const LATENCY: Duration = Duration::from_millis(20);

struct SlowWorkspace {
    clusters: Vec<Cluster>,
    calls: AtomicUsize,
    events_calls: AtomicUsize,
}

impl SlowWorkspace {
    async fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(LATENCY).await;
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn unused() -> ApiError {
    ApiError {
        message: "not used by a poll".into(),
        not_found: false,
        maybe_applied: false,
    }
}

/// The monitor owns its `Clusters`; the bench keeps a handle to count calls.
struct Shared(Arc<SlowWorkspace>);

impl Clusters for Shared {
    async fn workspaces(&self) -> Result<Vec<Workspace>, ApiError> {
        Ok(vec![Workspace {
            workspace_id: 1,
            name: "bench".into(),
            url: "https://bench.cloud.databricks.com".into(),
        }])
    }
    async fn server_now_ms(&self, _: &Workspace) -> Result<i64, ApiError> {
        Ok(now_ms())
    }
    async fn list(&self, _: &Workspace) -> Result<Vec<Cluster>, ApiError> {
        self.0.call().await;
        Ok(self.0.clusters.clone())
    }
    async fn get(&self, _: &Workspace, _: &str) -> Result<Option<Cluster>, ApiError> {
        Err(unused())
    }
    async fn events(&self, _: &Workspace, _: &str, _: i64) -> Result<Vec<ClusterEvent>, ApiError> {
        self.0.events_calls.fetch_add(1, Ordering::Relaxed);
        self.0.call().await;
        Ok(Vec::new())
    }
    async fn start(&self, _: &Workspace, _: &str) -> Result<(), ApiError> {
        Err(unused())
    }
    async fn restart(&self, _: &Workspace, _: &str) -> Result<(), ApiError> {
        Err(unused())
    }
    async fn change_spec(&self, _: &Workspace, _: &str, _: &[SpecChange]) -> Result<(), ApiError> {
        Err(unused())
    }
    async fn resize(&self, _: &Workspace, _: &str, _: i64) -> Result<(), ApiError> {
        Err(unused())
    }
    async fn libraries(&self, _: &Workspace, _: &str) -> Result<Vec<LibraryStatus>, ApiError> {
        Err(unused())
    }
    async fn run(&self, _: &Workspace, _: i64) -> Result<Option<RunInfo>, ApiError> {
        Err(unused())
    }
}

struct NoAlerts;

impl Alerts for NoAlerts {
    async fn send(&self, _: &Alert) -> Result<(), AlertError> {
        Ok(())
    }
}

fn cluster(i: usize, state: &str, terminated_time: Option<i64>) -> Cluster {
    Cluster {
        cluster_id: format!("1207-000000-{i:08}"),
        cluster_name: format!("person_{i}_su_cluster"),
        state: state.into(),
        terminated_time,
        cluster_source: Some("API".into()),
        custom_tags: BTreeMap::from([("brickstack:environment".into(), "bench".into())]),
        ..Cluster::default()
    }
}

/// Times the second pass (the first also starts every cursor) over `clusters`.
async fn second_pass(clusters: Vec<Cluster>) -> (Duration, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let workspace = Arc::new(SlowWorkspace {
        clusters,
        calls: AtomicUsize::new(0),
        events_calls: AtomicUsize::new(0),
    });
    let config = MonitorConfig {
        environment: "bench".into(),
        interval: Duration::from_secs(30),
        auto_remediation: true,
        scope: Scope {
            tags: BTreeMap::new(),
            policy_ids: Default::default(),
            remediate_unmanaged: false,
        },
        breaker: BreakerConfig::default(),
        playbooks: Playbooks::default(),
    };
    let (_tell, leadership) = watch::channel(Leadership {
        active: true,
        leader: None,
    });
    let monitor = Monitor::open(
        config,
        &dir.path().join("monitor.sqlite"),
        Shared(workspace.clone()),
        NoAlerts,
        leadership,
    )
    .unwrap();
    monitor.poll().await.unwrap();
    let (calls, events) = (
        workspace.calls.load(Ordering::Relaxed),
        workspace.events_calls.load(Ordering::Relaxed),
    );
    let started = Instant::now();
    monitor.poll().await.unwrap();
    (
        started.elapsed(),
        workspace.calls.load(Ordering::Relaxed) - calls,
        workspace.events_calls.load(Ordering::Relaxed) - events,
    )
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[100, 1_000, 5_000] } else { &[10] };
    println!(
        "one poll, every workspace call taking {} ms",
        LATENCY.as_millis()
    );
    println!("| clusters | shape | poll | calls | events calls |");
    println!("|---|---|---|---|---|");
    for &n in sizes {
        let running = (0..n).map(|i| cluster(i, "RUNNING", None)).collect();
        let (took, calls, events) = second_pass(running).await;
        println!(
            "| {n} | running | {:.2} s | {calls} | {events} |",
            took.as_secs_f64()
        );
        // Terminated an hour ago: settled after the first pass.
        let an_hour_ago = now_ms() - 3_600_000;
        let stopped = (0..n)
            .map(|i| cluster(i, "TERMINATED", Some(an_hour_ago)))
            .collect();
        let (took, calls, events) = second_pass(stopped).await;
        println!(
            "| {n} | terminated, settled | {:.2} s | {calls} | {events} |",
            took.as_secs_f64()
        );
    }
}
