//! The cluster-failure monitor of `brickstack serve` (`docs/monitor.md`): it learns of failed
//! clusters by polling each workspace's clusters and their events (and from pushes), classifies the
//! termination reason, opens a ticket, runs the error type's playbook behind circuit breakers,
//! checks the cluster's health afterwards and notifies. Everything it decides is recorded in
//! SQLite, so a restarted monitor resumes without repeating a remediation.
//!
//! It knows nothing of AWS, specs or state: the CLI implements [`Clusters`] (the Databricks
//! workspaces of an environment) and [`Alerts`] (Slack).

mod api;
mod breaker;
mod classify;
mod config;
mod decide;
mod error;
mod http;
mod metrics;
mod monitor;
mod page;
mod playbook;
mod records;
mod recovery;
mod report;
mod status;
mod view;

pub use api::{
    Alert, AlertError, AlertKind, Alerts, ApiError, Cluster, ClusterEvent, Clusters, LibraryStatus,
    RunInfo, SpecChange, TerminationReason, Workspace,
};
pub use breaker::{Breaker, BreakerState, Shown as BreakerShown};
pub use brickstack_provider::SecretValue;
pub use classify::{
    Classification, ErrorType, UnknownErrorType, classify, error_type_of_code, known_codes, meaning,
};
pub use config::{BreakerConfig, MonitorConfig, Scope};
pub use decide::ENVIRONMENT_TAG;
pub use error::MonitorError;
pub use http::PushAuth;
pub use monitor::{Leadership, Monitor, PollSummary};
pub use page::render_status_page;
pub use playbook::{Action, Playbook, Playbooks, UnknownAction};
pub use records::{
    ActionRecord, AuditRecord, SCHEMA_VERSION, TicketRecord, audit_records, tickets,
};
pub use report::{ErrorTypeFigures, OpenTicket, Report, report};
pub use view::{
    BreakerRow, ClusterHealth, ClusterRow, RecoveryRow, StatusView, TicketRow, WorkspaceView,
};
