//! What the monitor needs from the outside, as traits the CLI implements: the environment's
//! Databricks workspaces ([`Clusters`]) and a channel to people ([`Alerts`]). Plain data crosses
//! them; the vendor's names are kept (`state` strings, termination `type`), so the classification
//! table reads like the vendor's documentation.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

/// One Databricks workspace of the environment (a `databricks_mws_workspaces` in state).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Workspace {
    pub workspace_id: i64,
    /// The workspace's name (`workspace_name`), for pages and messages.
    pub name: String,
    /// `https://…`, the workspace's URL.
    pub url: String,
}

/// The vendor's `termination_reason`: `{code, type, parameters}`. Codes and types are open
/// strings: new codes appear over time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TerminationReason {
    #[serde(default)]
    pub code: String,
    /// `SUCCESS`, `CLIENT_ERROR`, `SERVICE_FAULT`, `CLOUD_FAILURE` (or a future one).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// What the monitor reads of a cluster (`clusters/list` or `clusters/get`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cluster {
    pub cluster_id: String,
    pub cluster_name: String,
    /// The vendor's state: `PENDING`, `RUNNING`, `RESTARTING`, `RESIZING`, `TERMINATING`,
    /// `TERMINATED`, `ERROR`, `UNKNOWN`.
    pub state: String,
    pub state_message: String,
    pub termination_reason: Option<TerminationReason>,
    /// Epoch milliseconds.
    pub terminated_time: Option<i64>,
    /// `UI`, `API`, `JOB`, …; a `JOB` cluster cannot be started again.
    pub cluster_source: Option<String>,
    pub custom_tags: BTreeMap<String, String>,
    pub policy_id: Option<String>,
    pub node_type_id: Option<String>,
    /// `aws_attributes.availability`: `SPOT`, `ON_DEMAND`, `SPOT_WITH_FALLBACK`.
    pub availability: Option<String>,
    /// `aws_attributes.zone_id`.
    pub zone_id: Option<String>,
    pub num_workers: Option<i64>,
    /// `autoscale.{min_workers, max_workers}`.
    pub autoscale: Option<(i64, i64)>,
}

/// One cluster event (`clusters/events`), as far as the monitor needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEvent {
    pub cluster_id: String,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The event `type`: `TERMINATING` (which carries the termination reason), `RUNNING`,
    /// `STARTING`, `RESTARTING`, `CREATING`, `EDITED`, `RESIZING`, `DRIVER_NOT_RESPONDING`, …
    pub kind: String,
    /// `details.reason`.
    pub reason: Option<TerminationReason>,
}

/// A library's install status on a cluster (`libraries/cluster-status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryStatus {
    /// The library as a short name: `pypi:requests==2.32.3`, `jar:s3://…`.
    pub library: String,
    /// `PENDING`, `RESOLVING`, `INSTALLING`, `INSTALLED`, `SKIPPED`, `FAILED`, …
    pub status: String,
    pub messages: Vec<String>,
}

/// A job run (`jobs/runs/get`), as far as telling a cluster failure from a code failure needs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: i64,
    pub job_id: Option<i64>,
    pub run_name: Option<String>,
    /// Every cluster the run or its tasks ran on (`cluster_instance.cluster_id`), deduplicated.
    pub cluster_ids: Vec<String>,
    /// `status.termination_details.code` (`CLUSTER_ERROR`, `RUN_EXECUTION_ERROR`, …).
    pub termination_code: Option<String>,
    /// `status.termination_details.type`.
    pub termination_type: Option<String>,
    pub termination_message: Option<String>,
}

/// A change made to a terminated cluster's spec before starting it again: the fallback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "change", content = "value")]
pub enum SpecChange {
    /// `aws_attributes.availability = ON_DEMAND` (and `first_on_demand` covering every node).
    OnDemand,
    /// `node_type_id` (and `driver_node_type_id`, when it was the same).
    NodeType(String),
    /// `aws_attributes.zone_id`.
    Zone(String),
}

/// A failed call to a workspace, with the API's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What failed, e.g. `clusters/start 0102-…: INVALID_STATE: Cluster … is in unexpected state
    /// Pending.`; never a secret.
    pub message: String,
    /// The object does not exist (404, `RESOURCE_DOES_NOT_EXIST`).
    pub not_found: bool,
    /// The request may have taken effect although no success came back (a lost answer).
    pub maybe_applied: bool,
}

/// The environment's Databricks workspaces. The implementation retries transient errors itself
/// (the Databricks client's one retry layer); an `Err` is final for this attempt.
pub trait Clusters: Send + Sync + 'static {
    /// The environment's workspaces, from state.
    fn workspaces(&self) -> impl Future<Output = Result<Vec<Workspace>, ApiError>> + Send;

    /// The workspace's clock, epoch milliseconds (the `Date` of its last answer, or of a cheap
    /// call): event timestamps are on this clock, not the monitor's.
    fn server_now_ms(
        &self,
        workspace: &Workspace,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Every cluster `clusters/list` shows (all pages).
    fn list(
        &self,
        workspace: &Workspace,
    ) -> impl Future<Output = Result<Vec<Cluster>, ApiError>> + Send;

    /// One cluster; `None` when it does not exist.
    fn get(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> impl Future<Output = Result<Option<Cluster>, ApiError>> + Send;

    /// The cluster's events with a timestamp strictly after `after_ms`, oldest first, all pages.
    fn events(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        after_ms: i64,
    ) -> impl Future<Output = Result<Vec<ClusterEvent>, ApiError>> + Send;

    /// `clusters/start` (a terminated cluster).
    fn start(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `clusters/restart` (a running cluster).
    fn restart(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Edits a terminated cluster's spec (read in full, changed, `clusters/edit`); it stays
    /// terminated.
    fn change_spec(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        changes: &[SpecChange],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `clusters/resize` to `num_workers` (a running cluster).
    fn resize(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        num_workers: i64,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `libraries/cluster-status`.
    fn libraries(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> impl Future<Output = Result<Vec<LibraryStatus>, ApiError>> + Send;

    /// `jobs/runs/get`; `None` when the run does not exist.
    fn run(
        &self,
        workspace: &Workspace,
        run_id: i64,
    ) -> impl Future<Output = Result<Option<RunInfo>, ApiError>> + Send;
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    TicketOpened,
    Recovered,
    RecoveryFailed,
    BreakerOpened,
}

/// One message to the on-call channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub ticket_id: Option<String>,
    /// The whole message (Slack `text`): ticket, workspace, cluster, error type, code, action.
    pub text: String,
}

/// An alert that could not be delivered; the monitor records it in the audit trail and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AlertError {
    /// Never the webhook URL.
    pub message: String,
}

/// Where alerts go (Slack incoming webhooks in the CLI).
pub trait Alerts: Send + Sync + 'static {
    fn send(&self, alert: &Alert) -> impl Future<Output = Result<(), AlertError>> + Send;
}
