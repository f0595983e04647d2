//! Test doubles: an in-memory Databricks ([`FakeClusters`], a small state machine with failure
//! injection and call counting) and a recording [`FakeAlerts`]; helpers to build monitors.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use brickstack_monitor::{
    Alert, AlertError, Alerts, ApiError, BreakerConfig, Cluster, ClusterEvent, Clusters,
    ENVIRONMENT_TAG, Leadership, LibraryStatus, Monitor, MonitorConfig, Playbooks, RunInfo, Scope,
    SpecChange, TerminationReason, TicketRecord, Workspace,
};
use tokio::sync::watch;

pub const ENV: &str = "dev";
pub const WS: i64 = 1001;

/// Where a hung start stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hang {
    /// The call never reaches the cluster (the process dies before the request leaves).
    BeforeApply,
    /// The cluster starts, the answer never comes back (the process dies after the request).
    AfterApply,
}

#[derive(Debug, Clone)]
pub struct FakeCluster {
    pub cluster: Cluster,
    pub events: Vec<ClusterEvent>,
    pub libraries: Vec<LibraryStatus>,
    /// `libraries` answers PENDING for this many more calls.
    pub libraries_pending_calls: u32,
    /// Each start/restart takes the next: the cluster fails to come up with that reason.
    pub start_failures: VecDeque<TerminationReason>,
    pub hang_next_start: Option<Hang>,
    /// Starts and restarts that reached the cluster.
    pub starts_applied: usize,
    pub spec_changes: Vec<SpecChange>,
}

#[derive(Default)]
struct Inner {
    workspaces: Vec<Workspace>,
    clusters: BTreeMap<(i64, String), FakeCluster>,
    runs: BTreeMap<(i64, i64), RunInfo>,
    calls: BTreeMap<&'static str, usize>,
    last_ts: i64,
    hung: bool,
    /// Calls of these names answer an error.
    failing: Vec<&'static str>,
    /// Calls whose next answer is lost after they took effect.
    losing: Vec<&'static str>,
}

/// The environment's workspaces, in memory. Clones share the state.
#[derive(Clone, Default)]
pub struct FakeClusters {
    inner: Arc<Mutex<Inner>>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn reason(code: &str, kind: &str) -> TerminationReason {
    TerminationReason {
        code: code.into(),
        kind: kind.into(),
        parameters: BTreeMap::new(),
    }
}

impl Inner {
    fn tick(&mut self) -> i64 {
        self.last_ts = now_ms().max(self.last_ts + 1);
        self.last_ts
    }

    fn count(&mut self, call: &'static str) -> Result<(), ApiError> {
        *self.calls.entry(call).or_default() += 1;
        if self.failing.contains(&call) {
            return Err(ApiError {
                message: format!("{call}: TEMPORARILY_UNAVAILABLE: injected"),
                not_found: false,
                maybe_applied: false,
            });
        }
        Ok(())
    }

    fn event(&mut self, ws: i64, id: &str, kind: &str, reason: Option<TerminationReason>) {
        let ts = self.tick();
        let c = self.clusters.get_mut(&(ws, id.to_owned())).unwrap();
        c.events.push(ClusterEvent {
            cluster_id: id.to_owned(),
            timestamp: ts,
            kind: kind.to_owned(),
            reason,
        });
    }

    fn terminate(&mut self, ws: i64, id: &str, reason: TerminationReason) {
        self.event(ws, id, "TERMINATING", Some(reason.clone()));
        let ts = self.tick();
        let c = self.clusters.get_mut(&(ws, id.to_owned())).unwrap();
        c.cluster.state = "TERMINATED".into();
        c.cluster.termination_reason = Some(reason);
        c.cluster.terminated_time = Some(ts);
    }

    /// A starting cluster comes up (or fails to) when it is read.
    fn advance(&mut self, ws: i64, id: &str) {
        let Some(c) = self.clusters.get_mut(&(ws, id.to_owned())) else {
            return;
        };
        if !matches!(
            c.cluster.state.as_str(),
            "PENDING" | "RESTARTING" | "RESIZING"
        ) {
            return;
        }
        match c.start_failures.pop_front() {
            Some(reason) => self.terminate(ws, id, reason),
            None => {
                let c = self.clusters.get_mut(&(ws, id.to_owned())).unwrap();
                c.cluster.state = "RUNNING".into();
                c.cluster.termination_reason = None;
                self.event(ws, id, "RUNNING", None);
            }
        }
    }
}

impl FakeClusters {
    pub fn new() -> Self {
        let fake = FakeClusters::default();
        fake.add_workspace(WS, "analytics");
        fake
    }

    pub fn add_workspace(&self, id: i64, name: &str) {
        self.inner.lock().unwrap().workspaces.push(Workspace {
            workspace_id: id,
            name: name.into(),
            url: format!("https://{name}.cloud.databricks.com"),
        });
    }

    /// A running brickstack cluster of the environment (spot, i3.xlarge).
    pub fn add_cluster(&self, ws: i64, id: &str) {
        self.add(
            ws,
            Cluster {
                cluster_id: id.into(),
                cluster_name: format!("{id}-name"),
                state: "RUNNING".into(),
                cluster_source: Some("API".into()),
                custom_tags: BTreeMap::from([(ENVIRONMENT_TAG.to_owned(), ENV.to_owned())]),
                node_type_id: Some("i3.xlarge".into()),
                availability: Some("SPOT".into()),
                zone_id: Some("auto".into()),
                num_workers: Some(2),
                ..Cluster::default()
            },
        );
    }

    pub fn add(&self, ws: i64, cluster: Cluster) {
        let mut inner = self.inner.lock().unwrap();
        inner.clusters.insert(
            (ws, cluster.cluster_id.clone()),
            FakeCluster {
                cluster,
                events: Vec::new(),
                libraries: vec![LibraryStatus {
                    library: "pypi:requests==2.32.3".into(),
                    status: "INSTALLED".into(),
                    messages: Vec::new(),
                }],
                libraries_pending_calls: 0,
                start_failures: VecDeque::new(),
                hang_next_start: None,
                starts_applied: 0,
                spec_changes: Vec::new(),
            },
        );
    }

    pub fn terminate(&self, ws: i64, id: &str, code: &str, kind: &str) {
        self.inner
            .lock()
            .unwrap()
            .terminate(ws, id, reason(code, kind));
    }

    pub fn terminate_with(&self, ws: i64, id: &str, reason: TerminationReason) {
        self.inner.lock().unwrap().terminate(ws, id, reason);
    }

    pub fn with<T>(&self, ws: i64, id: &str, f: impl FnOnce(&mut FakeCluster) -> T) -> T {
        let mut inner = self.inner.lock().unwrap();
        f(inner.clusters.get_mut(&(ws, id.to_owned())).unwrap())
    }

    pub fn add_run(&self, ws: i64, run: RunInfo) {
        self.inner
            .lock()
            .unwrap()
            .runs
            .insert((ws, run.run_id), run);
    }

    pub fn calls(&self, call: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .calls
            .get(call)
            .copied()
            .unwrap_or(0)
    }

    pub fn fail_calls(&self, call: &'static str) {
        self.inner.lock().unwrap().failing.push(call);
    }

    /// The next `call` takes effect, but its answer is lost (`maybe_applied`).
    pub fn lose_next_answer(&self, call: &'static str) {
        self.inner.lock().unwrap().losing.push(call);
    }

    fn answer_lost(&self, call: &str) -> Result<(), ApiError> {
        let mut inner = self.inner.lock().unwrap();
        match inner.losing.iter().position(|c| *c == call) {
            Some(i) => {
                inner.losing.remove(i);
                Err(ApiError {
                    message: format!(
                        "clusters/{call}: connection reset after the request was sent"
                    ),
                    not_found: false,
                    maybe_applied: true,
                })
            }
            None => Ok(()),
        }
    }

    pub fn hung(&self) -> bool {
        self.inner.lock().unwrap().hung
    }

    fn bring_up(&self, ws: i64, id: &str, restart: bool) -> Result<Option<Hang>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count(if restart { "restart" } else { "start" })?;
        let key = (ws, id.to_owned());
        let Some(c) = inner.clusters.get_mut(&key) else {
            return Err(not_found(id));
        };
        let hang = c.hang_next_start.take();
        if hang == Some(Hang::BeforeApply) {
            inner.hung = true;
            return Ok(hang);
        }
        let wanted = if restart { "RUNNING" } else { "TERMINATED" };
        if c.cluster.state != wanted {
            return Err(ApiError {
                message: format!("INVALID_STATE: cluster {id} is {}", c.cluster.state),
                not_found: false,
                maybe_applied: false,
            });
        }
        c.starts_applied += 1;
        c.cluster.state = if restart { "RESTARTING" } else { "PENDING" }.into();
        inner.event(
            ws,
            id,
            if restart { "RESTARTING" } else { "STARTING" },
            None,
        );
        if hang.is_some() {
            inner.hung = true;
        }
        Ok(hang)
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError {
        message: format!("RESOURCE_DOES_NOT_EXIST: cluster {id}"),
        not_found: true,
        maybe_applied: false,
    }
}

impl Clusters for FakeClusters {
    async fn workspaces(&self) -> Result<Vec<Workspace>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("workspaces")?;
        Ok(inner.workspaces.clone())
    }

    async fn server_now_ms(&self, _workspace: &Workspace) -> Result<i64, ApiError> {
        // Event timestamps are unique per fake, so they may run a few ms ahead of the clock.
        Ok(now_ms().max(self.inner.lock().unwrap().last_ts))
    }

    async fn list(&self, workspace: &Workspace) -> Result<Vec<Cluster>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("list")?;
        Ok(inner
            .clusters
            .iter()
            .filter(|((ws, _), _)| *ws == workspace.workspace_id)
            .map(|(_, c)| c.cluster.clone())
            .collect())
    }

    async fn get(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> Result<Option<Cluster>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("get")?;
        inner.advance(workspace.workspace_id, cluster_id);
        Ok(inner
            .clusters
            .get(&(workspace.workspace_id, cluster_id.to_owned()))
            .map(|c| c.cluster.clone()))
    }

    async fn events(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        after_ms: i64,
    ) -> Result<Vec<ClusterEvent>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("events")?;
        Ok(inner
            .clusters
            .get(&(workspace.workspace_id, cluster_id.to_owned()))
            .map(|c| {
                c.events
                    .iter()
                    .filter(|e| e.timestamp > after_ms)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn start(&self, workspace: &Workspace, cluster_id: &str) -> Result<(), ApiError> {
        if self
            .bring_up(workspace.workspace_id, cluster_id, false)?
            .is_some()
        {
            std::future::pending::<()>().await;
        }
        self.answer_lost("start")
    }

    async fn restart(&self, workspace: &Workspace, cluster_id: &str) -> Result<(), ApiError> {
        if self
            .bring_up(workspace.workspace_id, cluster_id, true)?
            .is_some()
        {
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    async fn change_spec(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        changes: &[SpecChange],
    ) -> Result<(), ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("change_spec")?;
        let ws = workspace.workspace_id;
        let c = inner
            .clusters
            .get_mut(&(ws, cluster_id.to_owned()))
            .ok_or_else(|| not_found(cluster_id))?;
        for change in changes {
            match change {
                SpecChange::OnDemand => c.cluster.availability = Some("ON_DEMAND".into()),
                SpecChange::NodeType(t) => c.cluster.node_type_id = Some(t.clone()),
                SpecChange::Zone(z) => c.cluster.zone_id = Some(z.clone()),
            }
            c.spec_changes.push(change.clone());
        }
        inner.event(ws, cluster_id, "EDITED", None);
        Ok(())
    }

    async fn resize(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        num_workers: i64,
    ) -> Result<(), ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("resize")?;
        let ws = workspace.workspace_id;
        let c = inner
            .clusters
            .get_mut(&(ws, cluster_id.to_owned()))
            .ok_or_else(|| not_found(cluster_id))?;
        c.cluster.num_workers = Some(num_workers);
        c.cluster.state = "RESIZING".into();
        inner.event(ws, cluster_id, "RESIZING", None);
        Ok(())
    }

    async fn libraries(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> Result<Vec<LibraryStatus>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("libraries")?;
        let c = inner
            .clusters
            .get_mut(&(workspace.workspace_id, cluster_id.to_owned()))
            .ok_or_else(|| not_found(cluster_id))?;
        if c.libraries_pending_calls > 0 {
            c.libraries_pending_calls -= 1;
            return Ok(c
                .libraries
                .iter()
                .map(|l| LibraryStatus {
                    status: "PENDING".into(),
                    ..l.clone()
                })
                .collect());
        }
        Ok(c.libraries.clone())
    }

    async fn run(&self, workspace: &Workspace, run_id: i64) -> Result<Option<RunInfo>, ApiError> {
        let mut inner = self.inner.lock().unwrap();
        inner.count("run")?;
        Ok(inner.runs.get(&(workspace.workspace_id, run_id)).cloned())
    }
}

/// Records every alert; fails them all when told to.
#[derive(Clone, Default)]
pub struct FakeAlerts {
    sent: Arc<Mutex<Vec<Alert>>>,
    failing: Arc<Mutex<bool>>,
}

impl FakeAlerts {
    pub fn sent(&self) -> Vec<Alert> {
        self.sent.lock().unwrap().clone()
    }

    pub fn kinds(&self) -> Vec<(brickstack_monitor::AlertKind, Option<String>)> {
        self.sent()
            .into_iter()
            .map(|a| (a.kind, a.ticket_id))
            .collect()
    }

    pub fn fail(&self) {
        *self.failing.lock().unwrap() = true;
    }
}

impl Alerts for FakeAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), AlertError> {
        if *self.failing.lock().unwrap() {
            return Err(AlertError {
                message: "slack: 500 (injected)".into(),
            });
        }
        self.sent.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

/// A configuration for tests: the documented defaults with short waits.
pub fn config() -> MonitorConfig {
    let mut playbooks = Playbooks::default();
    for key in [
        "DatabricksDriverNotResponding",
        "DatabricksClusterTerminated",
        "DatabricksClusterStartFailure",
        "DatabricksResourceExhausted",
        "DatabricksServiceFault",
        "BOOTSTRAP_TIMEOUT",
    ] {
        let mut p = playbooks.base(key);
        p.timeout = Duration::from_secs(5);
        p.longer_timeout = Duration::from_secs(5);
        p.health_check_timeout = Duration::from_secs(5);
        if key == "DatabricksResourceExhausted" {
            p.instance_types = vec!["i3.xlarge".into(), "r5d.xlarge".into(), "i4i.xlarge".into()];
        }
        playbooks.set(key, p);
    }
    MonitorConfig {
        environment: ENV.into(),
        interval: Duration::from_secs(30),
        auto_remediation: true,
        scope: Scope::default(),
        breaker: BreakerConfig::default(),
        playbooks,
    }
}

pub type TestMonitor = Monitor<FakeClusters, FakeAlerts>;

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub clusters: FakeClusters,
    pub alerts: FakeAlerts,
    pub leadership: watch::Sender<Leadership>,
    pub monitor: Arc<TestMonitor>,
}

impl Setup {
    pub fn records(&self) -> std::path::PathBuf {
        self.dir.path().join("state/dev.monitor.sqlite")
    }

    pub fn tickets(&self) -> Vec<TicketRecord> {
        brickstack_monitor::tickets(&self.records()).unwrap()
    }

    /// Reopens a monitor on the same records and fakes (a restarted process).
    pub fn reopen(&self, config: MonitorConfig) -> Arc<TestMonitor> {
        Monitor::open(
            config,
            &self.records(),
            self.clusters.clone(),
            self.alerts.clone(),
            self.leadership.subscribe(),
        )
        .unwrap()
    }
}

pub fn setup_with(config: MonitorConfig, active: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clusters = FakeClusters::new();
    let alerts = FakeAlerts::default();
    let (leadership, receiver) = watch::channel(Leadership {
        active,
        leader: Some("replica-a".into()),
    });
    let monitor = Monitor::open(
        config,
        &dir.path().join("state/dev.monitor.sqlite"),
        clusters.clone(),
        alerts.clone(),
        receiver,
    )
    .unwrap();
    Setup {
        dir,
        clusters,
        alerts,
        leadership,
        monitor,
    }
}

pub fn setup() -> Setup {
    setup_with(config(), true)
}

/// Waits until `done` holds for the records' tickets (10 s at most).
pub async fn wait_for(
    records: &Path,
    what: &str,
    done: impl Fn(&[TicketRecord]) -> bool,
) -> Vec<TicketRecord> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let tickets = brickstack_monitor::tickets(records).unwrap();
        if done(&tickets) {
            return tickets;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}; tickets: {tickets:#?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until every ticket has ended (closed or failed) or waits for a human (open).
pub async fn settled(setup: &Setup) -> Vec<TicketRecord> {
    settled_monitor(setup, &setup.monitor).await
}

/// As [`settled`], for a given monitor: its recovery tasks have ended too (alerts sent).
pub async fn settled_monitor(setup: &Setup, monitor: &TestMonitor) -> Vec<TicketRecord> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while monitor.recoveries_running() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "recoveries still running"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    wait_for(&setup.records(), "every ticket to settle", |t| {
        t.iter().all(|t| t.status != "in_progress")
    })
    .await
}

pub fn action_names(t: &TicketRecord) -> Vec<String> {
    t.actions.iter().map(|a| a.action.clone()).collect()
}
