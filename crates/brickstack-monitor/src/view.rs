//! What the status page shows, as plain data: the monitor fills it from its records and its last
//! poll, `page.rs` renders it to HTML. Times are epoch milliseconds; the renderer formats them.

use serde::{Deserialize, Serialize};

/// The whole page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusView {
    pub environment: String,
    /// When the view was made.
    pub generated_at_ms: i64,
    /// This replica acts (holds the lease); a standby shows the page but does not poll.
    pub active: bool,
    /// The lease holder, when known.
    pub leader: Option<String>,
    /// `[monitor].auto_remediation`.
    pub auto_remediation: bool,
    /// When the last poll finished, if any.
    pub last_poll_ms: Option<i64>,
    pub workspaces: Vec<WorkspaceView>,
    /// Breakers that are open or half-open (closed ones are not shown).
    pub breakers: Vec<BreakerRow>,
    /// The most recent finished recoveries, newest first (at most 20).
    pub recent_recoveries: Vec<RecoveryRow>,
}

/// One workspace: its clusters and its open tickets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub workspace_id: i64,
    pub name: String,
    /// Set when the last poll of this workspace failed: the error.
    pub poll_error: Option<String>,
    pub clusters: Vec<ClusterRow>,
    /// Tickets not closed (`open`, `in_progress`, `failed`), newest first.
    pub open_tickets: Vec<TicketRow>,
}

/// How a cluster is doing, as the monitor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterHealth {
    /// Running, or stopped for an expected reason (user, auto-termination, job finished).
    Healthy,
    /// A recovery is running.
    Recovering,
    /// Failed, with an open ticket and no recovery running (ticket only, breaker open, or the
    /// recovery failed).
    Failed,
    /// Starting, restarting, resizing, terminating.
    Changing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRow {
    pub cluster_id: String,
    pub cluster_name: String,
    pub state: String,
    pub health: ClusterHealth,
    /// The last termination reason code, when terminated.
    pub termination_code: Option<String>,
    /// brickstack made it, or the spec's scope covers it: the monitor may act on it.
    pub remediable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRow {
    pub ticket_id: String,
    pub cluster_id: String,
    pub cluster_name: String,
    pub error_type: String,
    pub code: String,
    /// `open`, `in_progress`, `closed`, `failed`.
    pub status: String,
    /// Actions taken so far, e.g. `["restart_cluster"]`.
    pub actions: Vec<String>,
    pub opened_at_ms: i64,
    /// Why nothing was done, when nothing was (breaker open, ticket-only playbook, out of scope,
    /// remediation switched off).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerRow {
    /// `error_type:DatabricksDriverNotResponding` or `cluster:<workspace_id>/<cluster_id>`.
    pub scope: String,
    /// `open` or `half_open`.
    pub state: String,
    /// Failures counted in the window.
    pub failures: u32,
    pub opened_at_ms: i64,
    /// When it becomes half-open (open) or closed again on a success (half-open).
    pub retry_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryRow {
    pub ticket_id: String,
    pub workspace: String,
    pub cluster_name: String,
    pub error_type: String,
    pub actions: Vec<String>,
    /// `closed` (recovered) or `failed`.
    pub outcome: String,
    pub detected_at_ms: i64,
    pub finished_at_ms: i64,
    /// From detection to the health check passing (or failing).
    pub duration_ms: i64,
}
