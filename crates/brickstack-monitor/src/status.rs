//! The status view: the last poll's clusters and the records' tickets, breakers and recoveries,
//! as the page (`/`) and `/monitor/status.json` show them.

use std::collections::BTreeMap;
use std::sync::PoisonError;

use crate::api::{Alerts, Cluster, Clusters};
use crate::breaker::Shown;
use crate::decide::scope_reason;
use crate::error::MonitorError;
use crate::monitor::Monitor;
use crate::records::{self, TicketRecord, now_ms};
use crate::view::{
    BreakerRow, ClusterHealth, ClusterRow, RecoveryRow, StatusView, TicketRow, WorkspaceView,
};

impl<C: Clusters, A: Alerts> Monitor<C, A> {
    /// The status view now (records and the last poll; a standby has no poll and shows the
    /// records only).
    pub fn status(&self) -> Result<StatusView, MonitorError> {
        let now = now_ms();
        let config = self.config.breaker;
        let (waiting, recoveries, breakers) = self.records.call_now(|c| {
            Ok((
                records::tickets_in(c, &["open", "in_progress", "failed"])?,
                records::recent_recoveries(c, 20)?,
                records::breakers(c)?,
            ))
        })?;
        let last_poll = self
            .last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut workspaces: Vec<WorkspaceView> = Vec::new();
        let mut names: BTreeMap<i64, String> = BTreeMap::new();
        if let Some(poll) = &last_poll {
            for wp in &poll.workspaces {
                names.insert(wp.workspace.workspace_id, wp.workspace.name.clone());
                let clusters = wp
                    .clusters
                    .iter()
                    .map(|c| self.cluster_row(c, wp.workspace.workspace_id, &waiting))
                    .collect();
                workspaces.push(WorkspaceView {
                    workspace_id: wp.workspace.workspace_id,
                    name: wp.workspace.name.clone(),
                    poll_error: wp.error.clone(),
                    clusters,
                    open_tickets: Vec::new(),
                });
            }
        }
        for t in &waiting {
            if !workspaces.iter().any(|w| w.workspace_id == t.workspace_id) {
                workspaces.push(WorkspaceView {
                    workspace_id: t.workspace_id,
                    name: if t.workspace_id == 0 {
                        "(unknown workspace)".to_owned()
                    } else {
                        t.workspace_name.clone()
                    },
                    ..WorkspaceView::default()
                });
            }
            let view = workspaces
                .iter_mut()
                .find(|w| w.workspace_id == t.workspace_id)
                .expect("added above");
            view.open_tickets.push(ticket_row(t));
        }
        let breakers = breakers
            .into_iter()
            .filter_map(|(scope, b)| {
                let shown = b.shown(now, &config);
                (shown != Shown::Closed).then(|| BreakerRow {
                    scope,
                    state: shown.as_str().to_owned(),
                    failures: b.in_window(now, &config) as u32,
                    opened_at_ms: b.opened_at_ms.unwrap_or(0),
                    retry_at_ms: b.retry_at_ms(&config).unwrap_or(0),
                })
            })
            .collect();
        let recent_recoveries = recoveries
            .iter()
            .map(|t| {
                let finished = t.finished_at_ms.unwrap_or(t.detected_at_ms);
                RecoveryRow {
                    ticket_id: t.ticket_id.clone(),
                    workspace: names
                        .get(&t.workspace_id)
                        .cloned()
                        .unwrap_or_else(|| t.workspace_name.clone()),
                    cluster_name: t.cluster_name.clone(),
                    error_type: t.error_type.clone(),
                    actions: action_names(t),
                    outcome: t.status.clone(),
                    detected_at_ms: t.detected_at_ms,
                    finished_at_ms: finished,
                    duration_ms: finished - t.detected_at_ms,
                }
            })
            .collect();
        let leadership = self.leadership.borrow().clone();
        Ok(StatusView {
            environment: self.config.environment.clone(),
            generated_at_ms: now,
            active: leadership.active,
            leader: leadership.leader,
            auto_remediation: self.config.auto_remediation,
            last_poll_ms: last_poll.map(|p| p.at_ms),
            workspaces,
            breakers,
            recent_recoveries,
        })
    }

    fn cluster_row(&self, c: &Cluster, workspace_id: i64, waiting: &[TicketRecord]) -> ClusterRow {
        let mine = || {
            waiting
                .iter()
                .filter(|t| t.workspace_id == workspace_id && t.cluster_id == c.cluster_id)
        };
        let health = if mine().any(|t| t.status == "in_progress") {
            ClusterHealth::Recovering
        } else {
            match c.state.as_str() {
                "RUNNING" => ClusterHealth::Healthy,
                "TERMINATED" | "ERROR" | "UNKNOWN" if mine().next().is_some() => {
                    ClusterHealth::Failed
                }
                "TERMINATED" | "ERROR" | "UNKNOWN" => ClusterHealth::Healthy,
                _ => ClusterHealth::Changing,
            }
        };
        ClusterRow {
            cluster_id: c.cluster_id.clone(),
            cluster_name: c.cluster_name.clone(),
            state: c.state.clone(),
            health,
            termination_code: (c.state == "TERMINATED" || c.state == "TERMINATING")
                .then(|| c.termination_reason.as_ref().map(|r| r.code.clone()))
                .flatten(),
            remediable: scope_reason(c, &self.config.environment, &self.config.scope).is_some()
                && c.cluster_source.as_deref() != Some("JOB"),
        }
    }
}

fn action_names(t: &TicketRecord) -> Vec<String> {
    t.actions.iter().map(|a| a.action.clone()).collect()
}

fn ticket_row(t: &TicketRecord) -> TicketRow {
    TicketRow {
        ticket_id: t.ticket_id.clone(),
        cluster_id: t.cluster_id.clone(),
        cluster_name: t.cluster_name.clone(),
        error_type: t.error_type.clone(),
        code: t.code.clone(),
        status: t.status.clone(),
        actions: action_names(t),
        opened_at_ms: t.detected_at_ms,
        note: t.note.clone(),
    }
}
