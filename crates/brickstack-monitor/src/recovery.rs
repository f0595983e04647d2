//! A ticket's recovery: its planned steps, each recorded as an intent before the call and marked
//! sent after, then the health check, then the ticket's end (closed or failed), the breakers and
//! the alert. A recovery interrupted between intent and sent (the process died) finds the intent
//! when it resumes and looks at the cluster's events before sending anything again.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::api::{AlertKind, Alerts, ApiError, Cluster, Clusters, SpecChange, Workspace};
use crate::decide::{PlannedStep, Step};
use crate::error::MonitorError;
use crate::monitor::{Monitor, breaker_scopes};
use crate::playbook::{Action, Playbook};
use crate::records::{self, TicketRecord, now_ms};

/// How a recovery ended, when it ended.
enum End {
    Recovered,
    Failed(String),
    /// Leadership lost: the ticket stays `in_progress` for the next active replica.
    Interrupted,
}

/// What a step did.
enum StepResult {
    Done,
    Fail(String),
    Interrupted,
}

impl<C: Clusters, A: Alerts> Monitor<C, A> {
    /// Runs (or resumes) the recovery of `ticket_id`; errors of the records are logged and leave
    /// the ticket `in_progress` for the next resume.
    pub(crate) async fn recover(self: &Arc<Self>, ticket_id: &str) {
        if let Err(error) = self.recover_ticket(ticket_id).await {
            tracing::error!(ticket = ticket_id, %error, "monitor: recovery stopped on a records error; it resumes on the next activation");
        }
    }

    async fn recover_ticket(self: &Arc<Self>, ticket_id: &str) -> Result<(), MonitorError> {
        let id = ticket_id.to_owned();
        let Some(ticket) = self.records.call(move |c| records::ticket(c, &id)).await? else {
            return Ok(());
        };
        let lock = self.cluster_lock(ticket.workspace_id, &ticket.cluster_id);
        let _one_per_cluster = lock.lock().await;
        // Re-read: the ticket may have ended while this waited.
        let id = ticket_id.to_owned();
        let Some(ticket) = self.records.call(move |c| records::ticket(c, &id)).await? else {
            return Ok(());
        };
        if ticket.status != "in_progress" {
            return Ok(());
        }
        let playbook = ticket
            .playbook
            .clone()
            .unwrap_or_else(|| Playbook::with_action(Action::Restart));
        let end = match self.workspace(ticket.workspace_id).await {
            None => End::Failed(format!(
                "workspace {} is not in the environment any more",
                ticket.workspace_id
            )),
            Some(workspace) => self.run_steps(&ticket, &workspace, &playbook).await?,
        };
        self.finish(&ticket, end).await
    }

    async fn run_steps(
        self: &Arc<Self>,
        ticket: &TicketRecord,
        workspace: &Workspace,
        playbook: &Playbook,
    ) -> Result<End, MonitorError> {
        for (index, planned) in ticket.plan.iter().enumerate() {
            let step = index as u32;
            let recorded = ticket.actions.iter().find(|a| a.step == step);
            if recorded.is_some_and(|a| a.outcome.is_some()) {
                continue;
            }
            if !self.is_active() {
                return Ok(End::Interrupted);
            }
            let resumed = recorded.is_some();
            match self
                .run_step(ticket, workspace, playbook, step, planned, resumed)
                .await?
            {
                StepResult::Done => {}
                StepResult::Fail(why) => return Ok(End::Failed(why)),
                StepResult::Interrupted => return Ok(End::Interrupted),
            }
        }
        if !self.is_active() {
            return Ok(End::Interrupted);
        }
        Ok(match self.health_check(ticket, workspace, playbook).await {
            Ok(()) => End::Recovered,
            Err(why) => End::Failed(why),
        })
    }

    /// One step: intent, call, outcome. `resumed` = an intent without outcome is in the records.
    async fn run_step(
        &self,
        ticket: &TicketRecord,
        workspace: &Workspace,
        playbook: &Playbook,
        step: u32,
        planned: &PlannedStep,
        resumed: bool,
    ) -> Result<StepResult, MonitorError> {
        let cluster_id = ticket.cluster_id.as_str();
        if resumed && let Some(event) = self.applied_event(ticket, workspace, &planned.step).await {
            self.outcome(ticket, step, true, &format!("already applied ({event})"))
                .await?;
            self.audit(
                Some(&ticket.ticket_id),
                "action_found_applied",
                json!({"step": step, "action": planned.name, "event": event}),
            )
            .await;
            return Ok(StepResult::Done);
        }
        // The cluster as it is now decides the call.
        let cluster = match self
            .settled(workspace, cluster_id, playbook.running_timeout())
            .await
        {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Ok(StepResult::Fail(format!(
                    "cluster {cluster_id} no longer exists"
                )));
            }
            Err(e) => return Ok(StepResult::Fail(e)),
        };
        let call = match (&planned.step, cluster.state.as_str()) {
            (Step::ChangeSpec { change }, "TERMINATED") => Call::ChangeSpec(change.clone()),
            (Step::ChangeSpec { .. }, state) => {
                Call::Skip(format!("skipped: the cluster is {state}, not TERMINATED"))
            }
            (Step::Start, "TERMINATED") => Call::Start,
            // A resumed start whose events could not be read: a running cluster is not touched.
            (Step::Start, "RUNNING") if resumed => {
                Call::Skip("skipped: the cluster is RUNNING (resumed recovery)".to_owned())
            }
            (Step::Start, "RUNNING") => Call::Restart,
            (Step::Start, state) => Call::Skip(format!("skipped: the cluster is already {state}")),
            (Step::Resize { num_workers }, _) => Call::Resize(*num_workers),
        };
        if let Call::Skip(why) = &call {
            let id = ticket.ticket_id.clone();
            let (name, why) = (planned.name.clone(), why.clone());
            let at = now_ms();
            self.records
                .call(move |c| {
                    records::action_intent(c, &id, step, &name, "no call", at)?;
                    records::action_outcome(c, &id, step, false, &why, at)
                })
                .await?;
            return Ok(StepResult::Done);
        }
        if let Call::Resize(_) = call {
            // A resize needs a running cluster: wait for the start before it.
            if let Err(why) = self
                .wait_running(workspace, cluster_id, playbook.running_timeout())
                .await
            {
                return Ok(StepResult::Fail(why));
            }
        }
        if !self.is_active() {
            return Ok(StepResult::Interrupted);
        }
        let detail = call.detail();
        let (id, name, d) = (
            ticket.ticket_id.clone(),
            planned.name.clone(),
            detail.clone(),
        );
        let at = now_ms();
        self.records
            .call(move |c| records::action_intent(c, &id, step, &name, &d, at))
            .await?;
        self.audit(
            Some(&ticket.ticket_id),
            "action_intent",
            json!({"step": step, "action": planned.name, "call": detail}),
        )
        .await;
        let result = match &call {
            Call::ChangeSpec(change) => {
                self.clusters
                    .change_spec(workspace, cluster_id, std::slice::from_ref(change))
                    .await
            }
            Call::Start => self.clusters.start(workspace, cluster_id).await,
            Call::Restart => self.clusters.restart(workspace, cluster_id).await,
            Call::Resize(n) => self.clusters.resize(workspace, cluster_id, *n).await,
            Call::Skip(_) => Ok(()),
        };
        self.metrics.count_action(call.metric_name());
        match result {
            Ok(()) => {
                self.outcome(ticket, step, true, "ok").await?;
                self.audit(
                    Some(&ticket.ticket_id),
                    "action_sent",
                    json!({"step": step, "call": detail}),
                )
                .await;
                Ok(StepResult::Done)
            }
            Err(ApiError {
                message,
                maybe_applied: true,
                ..
            }) => {
                // The answer was lost; the health check tells whether it took effect.
                self.outcome(ticket, step, true, &format!("maybe applied: {message}"))
                    .await?;
                Ok(StepResult::Done)
            }
            Err(e) => {
                self.outcome(ticket, step, false, &format!("error: {}", e.message))
                    .await?;
                self.audit(
                    Some(&ticket.ticket_id),
                    "action_failed",
                    json!({"step": step, "call": detail, "error": e.message}),
                )
                .await;
                Ok(StepResult::Fail(format!("{detail} failed: {}", e.message)))
            }
        }
    }

    async fn outcome(
        &self,
        ticket: &TicketRecord,
        step: u32,
        sent: bool,
        outcome: &str,
    ) -> Result<(), MonitorError> {
        let (id, outcome) = (ticket.ticket_id.clone(), outcome.to_owned());
        let at = now_ms();
        self.records
            .call(move |c| records::action_outcome(c, &id, step, sent, &outcome, at))
            .await
    }

    /// An event after the failure that shows the step's call went through: `EDITED` for a spec
    /// change, `STARTING`/`RESTARTING` for a start, `RESIZING` for a resize. The failure's
    /// timestamp is on the workspace's clock, as the events, and precedes the intent.
    async fn applied_event(
        &self,
        ticket: &TicketRecord,
        workspace: &Workspace,
        step: &Step,
    ) -> Option<String> {
        let kinds: &[&str] = match step {
            Step::ChangeSpec { .. } => &["EDITED"],
            Step::Start => &["STARTING", "RESTARTING"],
            Step::Resize { .. } => &["RESIZING"],
        };
        let events = self
            .clusters
            .events(workspace, &ticket.cluster_id, ticket.failed_at_ms)
            .await
            .ok()?;
        events
            .iter()
            .find(|e| kinds.contains(&e.kind.as_str()))
            .map(|e| format!("{} at {}", e.kind, e.timestamp))
    }

    /// The cluster once it is not `TERMINATING` (a termination in progress is waited out).
    async fn settled(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<Option<Cluster>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.clusters.get(workspace, cluster_id).await {
                Ok(Some(c)) if c.state == "TERMINATING" && Instant::now() < deadline => {}
                Ok(other) => return Ok(other),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("clusters/get {cluster_id}: {e}"));
                }
                Err(_) => {}
            }
            tokio::time::sleep(self.health_poll(timeout)).await;
        }
    }

    /// `clusters/get` until `RUNNING` within `timeout`; `TERMINATED` (or `ERROR`) fails at once.
    async fn wait_running(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.clusters.get(workspace, cluster_id).await {
                Ok(None) => return Err(format!("cluster {cluster_id} no longer exists")),
                Ok(Some(c)) if c.state == "RUNNING" => return Ok(()),
                Ok(Some(c)) if c.state == "TERMINATED" || c.state == "ERROR" => {
                    let reason = c
                        .termination_reason
                        .map(|r| format!(" ({} {})", r.code, r.kind))
                        .unwrap_or_default();
                    return Err(format!(
                        "the cluster is {} again{reason}: {}",
                        c.state, c.state_message
                    ));
                }
                Ok(Some(c)) => c.state,
                Err(e) => format!("unreadable: {e}"),
            };
            if Instant::now() >= deadline {
                return Err(format!(
                    "the cluster is not RUNNING after {}s (last state {last})",
                    timeout.as_secs()
                ));
            }
            tokio::time::sleep(self.health_poll(timeout)).await;
        }
    }

    /// `RUNNING` within the playbook's timeout, then no library pending within
    /// `health_check_timeout`; a `FAILED` library fails the check.
    async fn health_check(
        &self,
        ticket: &TicketRecord,
        workspace: &Workspace,
        playbook: &Playbook,
    ) -> Result<(), String> {
        let cluster_id = ticket.cluster_id.as_str();
        self.wait_running(workspace, cluster_id, playbook.running_timeout())
            .await?;
        let deadline = Instant::now() + playbook.health_check_timeout;
        loop {
            let mut pending = Vec::new();
            match self.clusters.libraries(workspace, cluster_id).await {
                Ok(libraries) => {
                    if let Some(failed) = libraries.iter().find(|l| l.status == "FAILED") {
                        return Err(format!(
                            "library {} FAILED: {}",
                            failed.library,
                            failed.messages.join("; ")
                        ));
                    }
                    pending.extend(
                        libraries
                            .iter()
                            .filter(|l| {
                                matches!(l.status.as_str(), "PENDING" | "RESOLVING" | "INSTALLING")
                            })
                            .map(|l| l.library.clone()),
                    );
                    if pending.is_empty() {
                        return Ok(());
                    }
                }
                Err(e) => pending.push(format!("(libraries/cluster-status: {e})")),
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "libraries still pending after {}s: {}",
                    playbook.health_check_timeout.as_secs(),
                    pending.join(", ")
                ));
            }
            tokio::time::sleep(self.health_poll(playbook.health_check_timeout)).await;
        }
    }

    /// Ends the ticket: status, breakers, audit, alert, figures.
    async fn finish(&self, ticket: &TicketRecord, end: End) -> Result<(), MonitorError> {
        let (recovered, why) = match end {
            End::Interrupted => return Ok(()),
            End::Recovered => (true, None),
            End::Failed(why) => (false, Some(why)),
        };
        let at = now_ms();
        let config = self.config.breaker;
        let scopes = breaker_scopes(ticket);
        let id = ticket.ticket_id.clone();
        let note = why.clone();
        let opened = self
            .records
            .call(move |conn| {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let status = if recovered { "closed" } else { "failed" };
                let note = note.map(|n| format!("recovery failed: {n}"));
                records::finish_ticket(&tx, &id, status, Some(at), recovered, note.as_deref())?;
                let mut opened = Vec::new();
                for scope in &scopes {
                    let mut breaker = records::breaker(&tx, scope)?;
                    if recovered {
                        breaker.record_recovery(at, &config);
                    } else if breaker.record_recovery_failed(at) {
                        records::audit(
                            &tx,
                            at,
                            Some(&id),
                            "breaker_opened",
                            &json!({"scope": scope}),
                        )?;
                        opened.push(scope.clone());
                    }
                    records::save_breaker(&tx, scope, &breaker)?;
                }
                records::audit(
                    &tx,
                    at,
                    Some(&id),
                    if recovered {
                        "recovered"
                    } else {
                        "recovery_failed"
                    },
                    &json!({"reason": note}),
                )?;
                tx.commit()?;
                Ok(opened)
            })
            .await?;
        let took = (at - ticket.detected_at_ms) / 1000;
        let actions = ticket.planned.join(", ");
        match &why {
            None => {
                tracing::info!(ticket = %ticket.ticket_id, "monitor: recovered");
                self.alert(
                    AlertKind::Recovered,
                    Some(&ticket.ticket_id),
                    format!(
                        "Ticket {} recovered: cluster {} ({}) is RUNNING and its libraries are installed, {took}s after detection ({actions}).",
                        ticket.ticket_id, ticket.cluster_name, ticket.cluster_id
                    ),
                )
                .await;
            }
            Some(why) => {
                tracing::warn!(ticket = %ticket.ticket_id, reason = %why, "monitor: recovery failed");
                self.alert(
                    AlertKind::RecoveryFailed,
                    Some(&ticket.ticket_id),
                    format!(
                        "Ticket {} recovery failed: cluster {} ({}): {why} ({actions}). Manual intervention needed.",
                        ticket.ticket_id, ticket.cluster_name, ticket.cluster_id
                    ),
                )
                .await;
            }
        }
        for scope in opened {
            self.alert(
                AlertKind::BreakerOpened,
                Some(&ticket.ticket_id),
                format!(
                    "Circuit breaker {scope} opened again: the trial recovery of ticket {} failed; no automatic action for {} min.",
                    ticket.ticket_id,
                    config.cooldown.as_secs() / 60
                ),
            )
            .await;
        }
        self.refresh_figures().await;
        Ok(())
    }
}

/// The API call a step makes.
enum Call {
    ChangeSpec(SpecChange),
    Start,
    Restart,
    Resize(i64),
    Skip(String),
}

impl Call {
    fn detail(&self) -> String {
        match self {
            Call::ChangeSpec(SpecChange::OnDemand) => {
                "clusters/edit availability=ON_DEMAND".to_owned()
            }
            Call::ChangeSpec(SpecChange::NodeType(t)) => format!("clusters/edit node_type_id={t}"),
            Call::ChangeSpec(SpecChange::Zone(z)) => format!("clusters/edit zone_id={z}"),
            Call::Start => "clusters/start".to_owned(),
            Call::Restart => "clusters/restart".to_owned(),
            Call::Resize(n) => format!("clusters/resize num_workers={n}"),
            Call::Skip(why) => why.clone(),
        }
    }

    fn metric_name(&self) -> &'static str {
        match self {
            Call::ChangeSpec(_) => "change_spec",
            Call::Start => "start",
            Call::Restart => "restart",
            Call::Resize(_) => "resize",
            Call::Skip(_) => "none",
        }
    }
}
