//! The monitor: detection (poll, push, job notifications) into tickets, the decision (scope,
//! remediation switch, breakers, playbook), the run loop and leadership. Recoveries are in
//! `recovery.rs`, the HTTP side in `http.rs`, the status view in `status.rs`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use tokio::sync::{Notify, watch};
use tokio::task::AbortHandle;

use crate::api::{
    Alert, AlertKind, Alerts, ApiError, Cluster, ClusterEvent, Clusters, TerminationReason,
    Workspace,
};
use crate::classify::{Classification, ErrorType, classify, meaning};
use crate::config::MonitorConfig;
use crate::decide::{Hold, is_job_cluster, plan, scope_reason};
use crate::error::MonitorError;
use crate::metrics::Metrics;
use crate::records::{self, NewTicket, Records, TicketRecord, now_ms};

/// Cluster event reads in flight at once during a poll of one workspace.
const EVENT_READS_AT_ONCE: usize = 8;

/// Who acts: set by the service's lease through a watch channel.
#[derive(Clone, Debug, Default)]
pub struct Leadership {
    /// This replica holds the lease: it polls, recovers and answers pushes.
    pub active: bool,
    /// The holder, when known (shown on the page and in the standby answer).
    pub leader: Option<String>,
}

/// What one detection pass saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollSummary {
    pub workspaces: usize,
    pub clusters: usize,
    /// New tickets opened by this pass.
    pub failures: usize,
    /// Per workspace or cluster, what could not be read (the pass goes on without it).
    pub errors: Vec<String>,
}

/// The last poll of one workspace, for the status page.
#[derive(Debug, Clone)]
pub(crate) struct WorkspacePoll {
    pub workspace: Workspace,
    pub clusters: Vec<Cluster>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct LastPoll {
    pub at_ms: i64,
    pub workspaces: Vec<WorkspacePoll>,
}

/// A failure from any source, before its ticket.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub workspace: Option<Workspace>,
    /// The cluster as read now; `None` when no workspace has it.
    pub cluster: Option<Cluster>,
    pub cluster_id: String,
    pub cluster_name: String,
    /// The failure key's time: the `TERMINATING` event's timestamp (or the push's fallback).
    pub failure_ts: i64,
    pub reason: TerminationReason,
    pub source: &'static str,
}

/// What became of a failure.
#[derive(Debug, Clone)]
pub(crate) enum Handled {
    /// A new ticket.
    New(TicketRecord),
    /// The failure key already had one.
    Existing(TicketRecord),
}

/// The cluster-failure monitor of one environment.
pub struct Monitor<C: Clusters, A: Alerts> {
    pub(crate) config: MonitorConfig,
    pub(crate) records: Records,
    pub(crate) clusters: C,
    pub(crate) alerts: A,
    pub(crate) leadership: watch::Receiver<Leadership>,
    pub(crate) metrics: Metrics,
    pub(crate) last_poll: Mutex<Option<LastPoll>>,
    /// Recoveries running in this process, by ticket: never two for one ticket.
    running: Mutex<HashMap<String, AbortHandle>>,
    /// One recovery at a time per cluster (a later failure's waits for the earlier one's end).
    cluster_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// A push asks the loop to poll now.
    pub(crate) poll_now: Notify,
}

impl<C: Clusters, A: Alerts> Monitor<C, A> {
    /// Opens/migrates the records (SQLite file, parent dir created), nothing else.
    pub fn open(
        config: MonitorConfig,
        records: &Path,
        clusters: C,
        alerts: A,
        leadership: watch::Receiver<Leadership>,
    ) -> Result<Arc<Self>, MonitorError> {
        let records = Records::open(records)?;
        Ok(Arc::new(Monitor {
            config,
            records,
            clusters,
            alerts,
            leadership,
            metrics: Metrics::new(),
            last_poll: Mutex::new(None),
            running: Mutex::new(HashMap::new()),
            cluster_locks: Mutex::new(HashMap::new()),
            poll_now: Notify::new(),
        }))
    }

    /// Registers its metrics (`brickstack_monitor_*`, docs/monitor.md) under `registry` (an
    /// unprefixed registry: the names carry their own prefix); called once before `run`.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.metrics.register(registry);
        match self
            .records
            .call_now(|conn| crate::report::compute(conn, now_ms()))
        {
            Ok(report) => self.metrics.refresh(&report, self.is_active()),
            Err(error) => tracing::warn!(%error, "monitor: cannot compute the figures"),
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.leadership.borrow().active
    }

    pub(crate) fn leader(&self) -> Option<String> {
        self.leadership.borrow().leader.clone()
    }

    /// The loop: while leadership.active: on becoming active resume unfinished recoveries from
    /// the records; poll every interval (and at once when a push asks); recoveries run as tasks
    /// (one per ticket). Returns soon after `stop` turns true (in-flight recoveries are dropped;
    /// they resume from the records next time). Losing leadership stops acting.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut leadership = self.leadership.clone();
        let mut leadership_open = true;
        let mut was_active = false;
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            let active = leadership.borrow_and_update().active;
            self.metrics.active.set(i64::from(active));
            if active && !was_active {
                tracing::info!(environment = %self.config.environment, "monitor: active; resuming unfinished recoveries");
                if let Err(error) = self.resume().await {
                    tracing::error!(%error, "monitor: cannot resume recoveries from the records");
                }
            }
            if !active && was_active {
                tracing::info!(
                    "monitor: standby; recoveries stop and resume on the active replica"
                );
                self.abort_recoveries();
            }
            was_active = active;
            if active {
                tokio::select! {
                    result = self.poll() => match result {
                        Ok(summary) if !summary.errors.is_empty() => {
                            tracing::warn!(errors = ?summary.errors, "monitor: poll finished with errors");
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "monitor: poll failed"),
                    },
                    _ = stop.changed() => break,
                }
            }
            tokio::select! {
                changed = stop.changed() => if changed.is_err() { break },
                changed = leadership.changed(), if leadership_open => {
                    if changed.is_err() { leadership_open = false; }
                }
                () = tokio::time::sleep(self.config.interval) => {}
                () = self.poll_now.notified() => {}
            }
        }
        self.abort_recoveries();
    }

    fn abort_recoveries(&self) {
        let running: Vec<AbortHandle> = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, handle)| handle)
            .collect();
        for handle in running {
            handle.abort();
        }
    }

    /// Starts the recovery task of every ticket left `in_progress`.
    pub(crate) async fn resume(self: &Arc<Self>) -> Result<(), MonitorError> {
        let unfinished = self
            .records
            .call(|conn| records::tickets_in(conn, &["in_progress"]))
            .await?;
        for ticket in unfinished {
            self.audit(Some(&ticket.ticket_id), "recovery_resumed", json!({}))
                .await;
            self.spawn_recovery(&ticket.ticket_id);
        }
        Ok(())
    }

    /// Runs the ticket's recovery as a task unless one runs already.
    pub(crate) fn spawn_recovery(self: &Arc<Self>, ticket_id: &str) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.get(ticket_id).is_some_and(|h| !h.is_finished()) {
            return;
        }
        let this = self.clone();
        let id = ticket_id.to_owned();
        let task = tokio::spawn(async move {
            this.recover(&id).await;
            this.running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
        });
        running.insert(ticket_id.to_owned(), task.abort_handle());
    }

    /// Recovery tasks running in this process (tests wait for 0; the page may show it).
    pub fn recoveries_running(&self) -> usize {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|h| !h.is_finished())
            .count()
    }

    pub(crate) fn cluster_lock(
        &self,
        workspace_id: i64,
        cluster_id: &str,
    ) -> Arc<tokio::sync::Mutex<()>> {
        self.cluster_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(format!("{workspace_id}/{cluster_id}"))
            .or_default()
            .clone()
    }

    /// One detection pass over every workspace (public for tests and for the loop).
    pub async fn poll(self: &Arc<Self>) -> Result<PollSummary, MonitorError> {
        self.metrics.polls.inc();
        let workspaces = match self.clusters.workspaces().await {
            Ok(w) => w,
            Err(e) => {
                self.metrics.poll_errors.inc();
                return Err(MonitorError::Workspaces(e));
            }
        };
        let mut summary = PollSummary {
            workspaces: workspaces.len(),
            ..PollSummary::default()
        };
        let mut seen = Vec::new();
        for workspace in workspaces {
            let mut errors = Vec::new();
            let clusters = self
                .poll_workspace(&workspace, &mut errors, &mut summary.failures)
                .await?;
            summary.clusters += clusters.len();
            if !errors.is_empty() {
                self.metrics.poll_errors.inc();
            }
            let error = (!errors.is_empty()).then(|| errors.join("; "));
            summary.errors.extend(errors);
            seen.push(WorkspacePoll {
                workspace,
                clusters,
                error,
            });
        }
        *self
            .last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(LastPoll {
            at_ms: now_ms(),
            workspaces: seen,
        });
        self.refresh_figures().await;
        Ok(summary)
    }

    /// Reads one workspace's clusters and their new events; the clusters as listed. A workspace
    /// or cluster that cannot be read adds to `errors` (the pass goes on); only the records
    /// failing is an `Err`.
    async fn poll_workspace(
        self: &Arc<Self>,
        workspace: &Workspace,
        errors: &mut Vec<String>,
        failures: &mut usize,
    ) -> Result<Vec<Cluster>, MonitorError> {
        let label = format!("workspace {} ({})", workspace.name, workspace.workspace_id);
        let server_now = match self.clusters.server_now_ms(workspace).await {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{label}: reading its clock: {e}"));
                return Ok(Vec::new());
            }
        };
        let clusters = match self.clusters.list(workspace).await {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("{label}: clusters/list: {e}"));
                return Ok(Vec::new());
            }
        };
        let workspace_id = workspace.workspace_id;
        let cursors = self
            .records
            .call(move |conn| records::cursors(conn, workspace_id))
            .await?;
        let first_sight = server_now.saturating_sub(self.interval_ms());
        // Which clusters to read the events of, and from where: a cluster terminated at or
        // before its cursor has no new termination to read.
        let to_read: Vec<(&Cluster, i64)> = clusters
            .iter()
            .filter_map(|cluster| {
                let cursor = cursors.get(&cluster.cluster_id).copied();
                let after = cursor.unwrap_or(first_sight);
                let settled = cursor.is_some()
                    && cluster.state == "TERMINATED"
                    && cluster.terminated_time.is_some_and(|t| t <= after);
                (!settled).then_some((cluster, after))
            })
            .collect();
        // The reads go out a few at a time (a workspace with hundreds of running clusters is
        // read within the interval); their events are handled in list order.
        let mut waiting = to_read.into_iter();
        let mut reads = futures::stream::FuturesOrdered::new();
        for (cluster, after) in waiting.by_ref().take(EVENT_READS_AT_ONCE) {
            reads.push_back(self.read_events(workspace, cluster, after));
        }
        while let Some((cluster, after, events)) = reads.next().await {
            if let Some((next, next_after)) = waiting.next() {
                reads.push_back(self.read_events(workspace, next, next_after));
            }
            let events = match events {
                Ok(events) => events,
                Err(e) => {
                    errors.push(format!(
                        "{label}: clusters/events {}: {e}",
                        cluster.cluster_id
                    ));
                    continue;
                }
            };
            let handled = self
                .handle_events(workspace, cluster, after, events, "poll")
                .await?;
            *failures += handled
                .iter()
                .filter(|h| matches!(h, Handled::New(_)))
                .count();
            // No event has a TERMINATED type: without this a cluster seen while TERMINATING
            // would have its events read on every poll. The events were read after it
            // terminated, so none up to its terminated time is left unread.
            if cluster.state == "TERMINATED"
                && let Some(terminated) = cluster.terminated_time.filter(|t| *t <= server_now)
            {
                let cluster_id = cluster.cluster_id.clone();
                self.records
                    .call(move |conn| {
                        records::advance_cursor(conn, workspace_id, &cluster_id, terminated)
                    })
                    .await?;
            }
        }
        drop(reads);
        self.close_running_again(workspace, &clusters).await?;
        Ok(clusters)
    }

    /// One cluster's events after `after`, with the cluster they are of.
    async fn read_events<'c>(
        &self,
        workspace: &Workspace,
        cluster: &'c Cluster,
        after: i64,
    ) -> (&'c Cluster, i64, Result<Vec<ClusterEvent>, ApiError>) {
        let events = self
            .clusters
            .events(workspace, &cluster.cluster_id, after)
            .await;
        (cluster, after, events)
    }

    pub(crate) fn interval_ms(&self) -> i64 {
        i64::try_from(self.config.interval.as_millis()).unwrap_or(i64::MAX)
    }

    /// Handles a cluster's events (after `after`, oldest first): each `TERMINATING` with a
    /// failure reason becomes a ticket, in the transaction that moves the cursor past it.
    pub(crate) async fn handle_events(
        self: &Arc<Self>,
        workspace: &Workspace,
        cluster: &Cluster,
        after: i64,
        events: Vec<ClusterEvent>,
        source: &'static str,
    ) -> Result<Vec<Handled>, MonitorError> {
        let mut handled = Vec::new();
        let mut newest = after;
        for event in events {
            newest = newest.max(event.timestamp);
            let Some(reason) = event.reason.filter(|_| event.kind == "TERMINATING") else {
                continue;
            };
            let failure = Failure {
                workspace: Some(workspace.clone()),
                cluster: Some(cluster.clone()),
                cluster_id: cluster.cluster_id.clone(),
                cluster_name: cluster.cluster_name.clone(),
                failure_ts: event.timestamp,
                reason,
                source,
            };
            if let Some(h) = self.handle_failure(failure, Some(event.timestamp)).await? {
                handled.push(h);
            }
        }
        let (workspace_id, cluster_id) = (workspace.workspace_id, cluster.cluster_id.clone());
        self.records
            .call(move |conn| records::advance_cursor(conn, workspace_id, &cluster_id, newest))
            .await?;
        Ok(handled)
    }

    /// Classifies and decides a failure, writes its ticket (and moves the cursor to
    /// `cursor_to`) in one transaction, then alerts and starts the recovery. `None` for an
    /// expected termination.
    pub(crate) async fn handle_failure(
        self: &Arc<Self>,
        failure: Failure,
        cursor_to: Option<i64>,
    ) -> Result<Option<Handled>, MonitorError> {
        let workspace_id = failure.workspace.as_ref().map_or(0, |w| w.workspace_id);
        let error_type = match classify(&failure.reason) {
            Classification::Expected => {
                let (cluster_id, code, kind) = (
                    failure.cluster_id.clone(),
                    failure.reason.code.clone(),
                    failure.reason.kind.clone(),
                );
                let at = now_ms();
                self.records
                    .call(move |conn| {
                        let tx = conn.transaction()?;
                        records::audit(
                            &tx,
                            at,
                            None,
                            "expected_termination",
                            &json!({"workspace_id": workspace_id, "cluster_id": cluster_id,
                                    "code": code, "type": kind, "source": failure.source}),
                        )?;
                        if let Some(ts) = cursor_to {
                            records::advance_cursor(&tx, workspace_id, &cluster_id, ts)?;
                        }
                        tx.commit()?;
                        Ok(())
                    })
                    .await?;
                return Ok(None);
            }
            Classification::Failure(t) => t,
        };
        let decision = self.decide(&failure, error_type);
        let config = self.config.breaker;
        let environment_breaker = format!("error_type:{error_type}");
        let cluster_breaker = format!("cluster:{workspace_id}/{}", failure.cluster_id);
        let detected = now_ms();
        let failure_for_tx = failure.clone();
        let (handled, opened) = self
            .records
            .call(move |conn| {
                let f = failure_for_tx;
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                if let Some(ts) = cursor_to {
                    records::advance_cursor(&tx, workspace_id, &f.cluster_id, ts)?;
                }
                if let Some(existing) =
                    records::ticket_by_key(&tx, workspace_id, &f.cluster_id, f.failure_ts)?
                {
                    records::audit(
                        &tx,
                        detected,
                        Some(&existing.ticket_id),
                        "duplicate_failure",
                        &json!({"source": f.source}),
                    )?;
                    tx.commit()?;
                    return Ok((Handled::Existing(existing), Vec::new()));
                }
                let mut hold = decision.hold;
                let mut opened = Vec::new();
                let mut breaker_detail = serde_json::Value::Null;
                if hold.is_none() {
                    let mut by_type = records::breaker(&tx, &environment_breaker)?;
                    let mut by_cluster = records::breaker(&tx, &cluster_breaker)?;
                    let acted =
                        by_type.admits(detected, &config) && by_cluster.admits(detected, &config);
                    for (scope, breaker) in [
                        (&environment_breaker, &mut by_type),
                        (&cluster_breaker, &mut by_cluster),
                    ] {
                        if breaker.record_failure(detected, &config, acted) {
                            opened.push((scope.clone(), breaker.clone()));
                        }
                        records::save_breaker(&tx, scope, breaker)?;
                    }
                    breaker_detail = json!({
                        environment_breaker.clone(): by_type.shown(detected, &config).as_str(),
                        cluster_breaker.clone(): by_cluster.shown(detected, &config).as_str(),
                    });
                    if !acted {
                        hold = Some(Hold::BreakerOpen);
                    }
                }
                let (status, plan, note) = match hold {
                    Some(h) => ("open", Vec::new(), Some(h.note().to_owned())),
                    None => ("in_progress", decision.plan.clone(), decision.note.clone()),
                };
                let new = NewTicket {
                    workspace_id,
                    workspace_name: f
                        .workspace
                        .as_ref()
                        .map_or_else(String::new, |w| w.name.clone()),
                    cluster_id: f.cluster_id.clone(),
                    cluster_name: f.cluster_name.clone(),
                    failure_ts: f.failure_ts,
                    code: f.reason.code.clone(),
                    kind: f.reason.kind.clone(),
                    parameters: f.reason.parameters.clone(),
                    error_type: error_type.as_str().to_owned(),
                    status,
                    hold: hold.map(hold_name),
                    playbook: decision.playbook.clone(),
                    plan,
                    note,
                    source: f.source,
                    detected_at_ms: detected,
                };
                let ticket_id = records::insert_ticket(&tx, &new)?;
                records::audit(
                    &tx,
                    detected,
                    Some(&ticket_id),
                    "ticket_opened",
                    &json!({
                        "source": f.source,
                        "workspace_id": workspace_id,
                        "cluster_id": f.cluster_id,
                        "code": f.reason.code,
                        "type": f.reason.kind,
                        "error_type": error_type.as_str(),
                        "scope": decision.scope,
                        "playbook": decision.playbook.action.as_str(),
                        "hold": hold.map(hold_name),
                        "planned": new.plan.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                        "breakers": breaker_detail,
                    }),
                )?;
                for (scope, _) in &opened {
                    records::audit(
                        &tx,
                        detected,
                        Some(&ticket_id),
                        "breaker_opened",
                        &json!({"scope": scope}),
                    )?;
                }
                let ticket =
                    records::ticket(&tx, &ticket_id)?.ok_or(records::DbError::Corrupt {
                        column: "tickets",
                        value: format!("{ticket_id} vanished after its insert"),
                    })?;
                tx.commit()?;
                Ok((Handled::New(ticket), opened))
            })
            .await?;
        if let Handled::New(ticket) = &handled {
            tracing::info!(ticket = %ticket.ticket_id, cluster = %ticket.cluster_id, code = %ticket.code,
                error_type = %ticket.error_type, status = %ticket.status, "monitor: ticket opened");
            self.alert(
                AlertKind::TicketOpened,
                Some(&ticket.ticket_id),
                opened_text(ticket),
            )
            .await;
            for (scope, breaker) in &opened {
                let text = format!(
                    "Circuit breaker {scope} opened ({} failures in {} min): no automatic action until {} min after opening; ticket {} triggered it.",
                    breaker.in_window(detected, &self.config.breaker),
                    self.config.breaker.window.as_secs() / 60,
                    self.config.breaker.cooldown.as_secs() / 60,
                    ticket.ticket_id
                );
                self.alert(AlertKind::BreakerOpened, Some(&ticket.ticket_id), text)
                    .await;
            }
            if ticket.status == "in_progress" {
                self.spawn_recovery(&ticket.ticket_id);
            }
            self.refresh_figures().await;
        }
        Ok(Some(handled))
    }

    /// Scope, remediation switch, job cluster, playbook (breakers come in the transaction).
    fn decide(&self, failure: &Failure, error_type: ErrorType) -> Decision {
        let playbook = self
            .config
            .playbooks
            .get(error_type, &failure.reason.code)
            .clone();
        let scope = failure
            .cluster
            .as_ref()
            .and_then(|c| scope_reason(c, &self.config.environment, &self.config.scope));
        let hold = match &failure.cluster {
            _ if !self.config.auto_remediation => Some(Hold::RemediationOff),
            _ if playbook.action == crate::playbook::Action::None => Some(Hold::PlaybookNone),
            None => Some(Hold::ClusterUnknown),
            Some(c) if is_job_cluster(c) => Some(Hold::JobCluster),
            Some(_) if scope.is_none() => Some(Hold::OutOfScope),
            Some(_) if failure.workspace.is_none() => Some(Hold::ClusterUnknown),
            Some(_) => None,
        };
        let (plan, note) = match (&failure.cluster, hold) {
            (Some(cluster), None) => plan(&playbook, cluster),
            _ => (Vec::new(), None),
        };
        let hold = if hold.is_none() && plan.is_empty() {
            Some(Hold::PlaybookNone)
        } else {
            hold
        };
        Decision {
            playbook,
            hold,
            plan,
            note,
            scope,
        }
    }

    /// Closes the tickets that wait for a human (ticket only, breaker held, recovery failed) of
    /// clusters that run again: someone recovered them.
    async fn close_running_again(
        &self,
        workspace: &Workspace,
        clusters: &[Cluster],
    ) -> Result<(), MonitorError> {
        let running: std::collections::HashSet<String> = clusters
            .iter()
            .filter(|c| c.state == "RUNNING")
            .map(|c| c.cluster_id.clone())
            .collect();
        if running.is_empty() {
            return Ok(());
        }
        let workspace_id = workspace.workspace_id;
        let at = now_ms();
        self.records
            .call(move |conn| {
                let waiting = records::tickets_in(conn, &["open", "failed"])?;
                let tx = conn.transaction()?;
                for t in waiting {
                    if t.workspace_id == workspace_id && running.contains(&t.cluster_id) {
                        records::finish_ticket(
                            &tx,
                            &t.ticket_id,
                            "closed",
                            Some(at),
                            false,
                            Some(&format!(
                                "{}; closed: the cluster runs again (recovered outside the monitor)",
                                t.note.as_deref().unwrap_or("")
                            )),
                        )?;
                        records::audit(&tx, at, Some(&t.ticket_id), "closed_running_again", &json!({}))?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Appends to the audit trail; a records failure is logged, never fatal to the caller.
    pub(crate) async fn audit(
        &self,
        ticket_id: Option<&str>,
        kind: &'static str,
        detail: serde_json::Value,
    ) {
        let ticket_id = ticket_id.map(str::to_owned);
        let at = now_ms();
        if let Err(error) = self
            .records
            .call(move |conn| records::audit(conn, at, ticket_id.as_deref(), kind, &detail))
            .await
        {
            tracing::error!(%error, kind, "monitor: cannot write the audit trail");
        }
    }

    /// Sends an alert; a failed one is audited, never fatal.
    pub(crate) async fn alert(&self, kind: AlertKind, ticket_id: Option<&str>, text: String) {
        let alert = Alert {
            kind,
            ticket_id: ticket_id.map(str::to_owned),
            text,
        };
        match self.alerts.send(&alert).await {
            Ok(()) => {
                self.audit(ticket_id, "alert_sent", json!({"kind": kind}))
                    .await
            }
            Err(error) => {
                tracing::warn!(%error, ?kind, "monitor: alert not delivered");
                self.audit(
                    ticket_id,
                    "alert_failed",
                    json!({"kind": kind, "error": error.message}),
                )
                .await;
            }
        }
    }

    /// Recomputes the 24 h figures behind the gauges.
    pub(crate) async fn refresh_figures(&self) {
        match self
            .records
            .call(|conn| crate::report::compute(conn, now_ms()))
            .await
        {
            Ok(report) => self.metrics.refresh(&report, self.is_active()),
            Err(error) => tracing::warn!(%error, "monitor: cannot compute the figures"),
        }
    }

    /// The workspace `workspace_id`, from the last poll or the environment.
    pub(crate) async fn workspace(&self, workspace_id: i64) -> Option<Workspace> {
        let known = self
            .last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|p| {
                p.workspaces
                    .iter()
                    .find(|w| w.workspace.workspace_id == workspace_id)
                    .map(|w| w.workspace.clone())
            });
        if known.is_some() {
            return known;
        }
        self.clusters
            .workspaces()
            .await
            .ok()?
            .into_iter()
            .find(|w| w.workspace_id == workspace_id)
    }

    /// How often a wait of `timeout` reads the cluster: about a hundred times, 5 ms to 5 s apart.
    pub(crate) fn health_poll(&self, timeout: Duration) -> Duration {
        (timeout / 100).clamp(Duration::from_millis(5), Duration::from_secs(5))
    }
}

pub(crate) struct Decision {
    playbook: crate::playbook::Playbook,
    hold: Option<Hold>,
    plan: Vec<crate::decide::PlannedStep>,
    note: Option<String>,
    scope: Option<&'static str>,
}

pub(crate) fn hold_name(hold: Hold) -> &'static str {
    match hold {
        Hold::PlaybookNone => "playbook_none",
        Hold::RemediationOff => "remediation_off",
        Hold::OutOfScope => "out_of_scope",
        Hold::JobCluster => "job_cluster",
        Hold::ClusterUnknown => "cluster_unknown",
        Hold::BreakerOpen => "breaker_open",
    }
}

fn opened_text(t: &TicketRecord) -> String {
    let what = match meaning(&t.code) {
        Some(m) => format!("{} ({}: {m})", t.error_type, t.code),
        None => format!("{} ({})", t.error_type, t.code),
    };
    let next = if t.planned.is_empty() {
        t.note.clone().unwrap_or_else(|| "no action".to_owned())
    } else {
        format!("recovery: {}", t.planned.join(", "))
    };
    let workspace = if t.workspace_id == 0 {
        "an unknown workspace".to_owned()
    } else {
        format!("workspace {} ({})", t.workspace_name, t.workspace_id)
    };
    format!(
        "Ticket {} opened: cluster {} ({}) in {workspace} failed: {what}. {next}.",
        t.ticket_id, t.cluster_name, t.cluster_id
    )
}

/// Breaker scopes of a ticket.
pub(crate) fn breaker_scopes(t: &TicketRecord) -> [String; 2] {
    [
        format!("error_type:{}", t.error_type),
        format!("cluster:{}/{}", t.workspace_id, t.cluster_id),
    ]
}
