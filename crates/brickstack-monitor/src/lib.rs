//! The cluster-failure monitor of `brickstack serve` (`docs/monitor.md`): it learns of failed
//! clusters by polling each workspace's clusters and their events (and from pushes), classifies the
//! termination reason, opens a ticket, runs the error type's playbook behind circuit breakers,
//! checks the cluster's health afterwards and notifies. Everything it decides is recorded in
//! SQLite, so a restarted monitor resumes without repeating a remediation.
//!
//! It knows nothing of AWS, specs or state: the CLI implements [`Clusters`] (the Databricks
//! workspaces of an environment) and [`Alerts`] (Slack).

mod api;
mod leadership;
mod page;
mod view;

pub use api::{
    Alert, AlertError, AlertKind, Alerts, ApiError, Cluster, ClusterEvent, Clusters, LibraryStatus,
    RunInfo, SpecChange, TerminationReason, Workspace,
};
pub use brickstack_provider::SecretValue;
pub use leadership::Leadership;
pub use page::render_status_page;
pub use view::{
    BreakerRow, ClusterHealth, ClusterRow, RecoveryRow, StatusView, TicketRow, WorkspaceView,
};
