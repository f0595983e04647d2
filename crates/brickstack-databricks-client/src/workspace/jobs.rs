//! One-time job runs (`/api/2.2/jobs/runs/…`): submit a run, and read one back with the
//! clusters it used and why it ended, which is what a job-failure notification needs to be told
//! apart as a cluster failure or a code failure.
//!
//! Ids are accepted as JSON numbers or strings (the notification payloads' examples write them as
//! strings). `end_time` is `None` while a run has not ended (the API sends 0).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::WorkspaceClient;
use super::clusters::{ClusterSpec, null_as_default, open_enum};
use crate::client::error::Error;

const RUNS: &str = "/api/2.2/jobs/runs";

open_enum! {
    /// `state.life_cycle_state` (the deprecated state; [`RunStatus`] is its successor).
    pub enum RunLifeCycleState {
        Queued = "QUEUED",
        Pending = "PENDING",
        Running = "RUNNING",
        Terminating = "TERMINATING",
        Terminated = "TERMINATED",
        Skipped = "SKIPPED",
        InternalError = "INTERNAL_ERROR",
        Blocked = "BLOCKED",
        WaitingForRetry = "WAITING_FOR_RETRY",
    }
}

open_enum! {
    /// `state.result_state`, once a run has ended.
    pub enum RunResultState {
        Success = "SUCCESS",
        Failed = "FAILED",
        Timedout = "TIMEDOUT",
        Canceled = "CANCELED",
        MaximumConcurrentRunsReached = "MAXIMUM_CONCURRENT_RUNS_REACHED",
        Excluded = "EXCLUDED",
        SuccessWithFailures = "SUCCESS_WITH_FAILURES",
        UpstreamFailed = "UPSTREAM_FAILED",
        UpstreamCanceled = "UPSTREAM_CANCELED",
        Disabled = "DISABLED",
    }
}

open_enum! {
    /// `status.state`.
    pub enum RunStatusState {
        Blocked = "BLOCKED",
        Pending = "PENDING",
        Queued = "QUEUED",
        Running = "RUNNING",
        Terminating = "TERMINATING",
        Terminated = "TERMINATED",
        Waiting = "WAITING",
    }
}

open_enum! {
    /// `status.termination_details.type`.
    pub enum RunTerminationType {
        Success = "SUCCESS",
        /// A Databricks platform error.
        InternalError = "INTERNAL_ERROR",
        /// User input or the job's configuration.
        ClientError = "CLIENT_ERROR",
        CloudFailure = "CLOUD_FAILURE",
    }
}

open_enum! {
    /// `status.termination_details.code` (the API says more may come; unknown ones are kept).
    pub enum RunTerminationCode {
        Success = "SUCCESS",
        SuccessWithFailures = "SUCCESS_WITH_FAILURES",
        UserCanceled = "USER_CANCELED",
        Canceled = "CANCELED",
        Skipped = "SKIPPED",
        Disabled = "DISABLED",
        InternalError = "INTERNAL_ERROR",
        DriverError = "DRIVER_ERROR",
        ClusterError = "CLUSTER_ERROR",
        CloudFailure = "CLOUD_FAILURE",
        RepositoryCheckoutFailed = "REPOSITORY_CHECKOUT_FAILED",
        InvalidClusterRequest = "INVALID_CLUSTER_REQUEST",
        WorkspaceRunLimitExceeded = "WORKSPACE_RUN_LIMIT_EXCEEDED",
        FeatureDisabled = "FEATURE_DISABLED",
        ClusterRequestLimitExceeded = "CLUSTER_REQUEST_LIMIT_EXCEEDED",
        StorageAccessError = "STORAGE_ACCESS_ERROR",
        RunExecutionError = "RUN_EXECUTION_ERROR",
        UnauthorizedError = "UNAUTHORIZED_ERROR",
        LibraryInstallationError = "LIBRARY_INSTALLATION_ERROR",
        MaxConcurrentRunsExceeded = "MAX_CONCURRENT_RUNS_EXCEEDED",
        MaxSparkContextsExceeded = "MAX_SPARK_CONTEXTS_EXCEEDED",
        MaxJobQueueSizeExceeded = "MAX_JOB_QUEUE_SIZE_EXCEEDED",
        ResourceNotFound = "RESOURCE_NOT_FOUND",
        InvalidRunConfiguration = "INVALID_RUN_CONFIGURATION",
        BreakingChange = "BREAKING_CHANGE",
        BudgetPolicyLimitExceeded = "BUDGET_POLICY_LIMIT_EXCEEDED",
        ClusterTerminatedByUser = "CLUSTER_TERMINATED_BY_USER",
    }
}

/// An id the API may send as a number or as a string of digits.
fn flexible_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("id {n} is not an integer"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("id `{s}` is not a number"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "id {other} is neither a number nor a string"
        ))),
    }
}

fn required_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    flexible_id(deserializer)?.ok_or_else(|| serde::de::Error::custom("missing run_id"))
}

/// A timestamp where 0 means "not yet".
fn zero_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(flexible_id(deserializer)?.filter(|t| *t != 0))
}

/// A string the API may send as a number (`spark_context_id` is one in the Clusters API).
fn flexible_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// `state` of a run or task (deprecated by the API in favour of `status`, still sent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_cycle_state: Option<RunLifeCycleState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<RunResultState>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub state_message: String,
}

/// Why a run or task ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<RunTerminationCode>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RunTerminationType>,
    /// Unstructured.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
}

/// `status` of a run or task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunStatusState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_details: Option<TerminationDetails>,
}

/// The cluster a run or task ran on, once the Jobs service has one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInstance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "flexible_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub spark_context_id: Option<String>,
}

/// One task of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTask {
    #[serde(
        default,
        deserialize_with = "flexible_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub run_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub task_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_instance: Option<ClusterInstance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_cluster: Option<ClusterSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    #[serde(
        default,
        deserialize_with = "zero_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<i64>,
    #[serde(
        default,
        deserialize_with = "zero_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
}

/// A run as `runs/get` reports it (every page's tasks merged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    #[serde(deserialize_with = "required_id")]
    pub run_id: i64,
    /// One-time runs have one too.
    #[serde(
        default,
        deserialize_with = "flexible_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub job_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    /// `JOB_RUN`, `SUBMIT_RUN`, `WORKFLOW_RUN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    /// Set for single-cluster runs; multi-task runs name clusters per task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_instance: Option<ClusterInstance>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<RunTask>,
    #[serde(
        default,
        deserialize_with = "zero_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<i64>,
    #[serde(
        default,
        deserialize_with = "zero_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
    /// 2.2 paging; followed by [`WorkspaceClient::get_run`], so `None` on what it returns.
    #[serde(default, skip_serializing)]
    next_page_token: Option<String>,
}

impl Run {
    /// The clusters the run used: the run's own, then each task's (`cluster_instance`, else
    /// `existing_cluster_id`), in order, without repeats. Empty until the Jobs service has made
    /// or picked them.
    pub fn cluster_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let of_run = self
            .cluster_instance
            .as_ref()
            .and_then(|c| c.cluster_id.clone());
        let of_tasks = self.tasks.iter().filter_map(|t| {
            t.cluster_instance
                .as_ref()
                .and_then(|c| c.cluster_id.clone())
                .or_else(|| t.existing_cluster_id.clone())
        });
        for id in of_run.into_iter().chain(of_tasks) {
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Why the run ended (`status.termination_details`); `None` while it runs.
    pub fn termination_details(&self) -> Option<&TerminationDetails> {
        self.status.as_ref()?.termination_details.as_ref()
    }

    /// Whether the run has ended: `status.state` `TERMINATED`, or (servers that send only the
    /// deprecated state) a terminal `life_cycle_state`.
    pub fn has_ended(&self) -> bool {
        if let Some(state) = self.status.as_ref().and_then(|s| s.state.as_ref()) {
            return *state == RunStatusState::Terminated;
        }
        matches!(
            self.state
                .as_ref()
                .and_then(|s| s.life_cycle_state.as_ref()),
            Some(
                RunLifeCycleState::Terminated
                    | RunLifeCycleState::Skipped
                    | RunLifeCycleState::InternalError
            )
        )
    }
}

/// A destination of a notification list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// A notification destination's id.
    pub id: String,
}

/// `webhook_notifications` of a run or task: destinations per event (at most 3 each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookNotifications {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_start: Vec<Webhook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_success: Vec<Webhook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_failure: Vec<Webhook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_duration_warning_threshold_exceeded: Vec<Webhook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_streaming_backlog_exceeded: Vec<Webhook>,
}

/// A notebook to run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotebookTask {
    pub notebook_path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub base_parameters: BTreeMap<String, String>,
}

/// A Python file to run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SparkPythonTask {
    pub python_file: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
}

/// One task of a submitted run: its key, its compute (exactly one of `new_cluster` and
/// `existing_cluster_id`) and what it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubmitTask {
    pub task_key: String,
    /// A job cluster made for this task and ended with the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_cluster: Option<ClusterSpec>,
    /// An all-purpose cluster (started if terminated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_task: Option<NotebookTask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_python_task: Option<SparkPythonTask>,
    /// Other task fields (`libraries`, `timeout_seconds`, other task kinds), as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The body of `runs/submit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSubmit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    pub tasks: Vec<SubmitTask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_notifications: Option<WebhookNotifications>,
    /// With a token a submit is idempotent (a repeat answers the first run) and is retried like
    /// any idempotent call; without one it is never sent twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
}

#[derive(Deserialize)]
struct Submitted {
    #[serde(deserialize_with = "required_id")]
    run_id: i64,
}

impl WorkspaceClient {
    /// Submits a one-time run and returns its id. Without an `idempotency_token` a submit whose
    /// answer was lost is not resent (the error says it may have been applied); with one it is.
    pub async fn runs_submit(&self, submit: &RunSubmit) -> Result<i64, Error> {
        let path = format!("{RUNS}/submit");
        let submitted: Submitted = if submit.idempotency_token.is_some() {
            self.client().post(&path, submit).await?
        } else {
            self.client().post_once(&path, submit).await?
        };
        Ok(submitted.run_id)
    }

    /// The run, every page of it (`tasks` merged across 2.2's pages); `None` when it does not
    /// exist (404, or the Jobs API's `400 INVALID_PARAMETER_VALUE "Run <id> does not exist."`).
    pub async fn get_run(&self, run_id: i64) -> Result<Option<Run>, Error> {
        let path = format!("{RUNS}/get");
        let mut query = vec![("run_id", run_id.to_string())];
        let mut run: Run = match self.client().get(&path, &query).await {
            Ok(run) => run,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut seen = Vec::new();
        while let Some(token) = run.next_page_token.take().filter(|t| !t.is_empty()) {
            // A token that does not move on would loop for ever.
            if seen.contains(&token) {
                break;
            }
            seen.push(token.clone());
            query.truncate(1);
            query.push(("page_token", token));
            let page: Run = self.client().get(&path, &query).await?;
            run.tasks.extend(page.tasks);
            run.next_page_token = page.next_page_token;
        }
        Ok(Some(run))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_come_as_numbers_or_strings_and_clusters_are_gathered_once() {
        let run: Run = serde_json::from_value(json!({
            "run_id": "123", "job_id": 45, "run_name": "etl", "end_time": 0,
            "cluster_instance": {"cluster_id": "a", "spark_context_id": 77},
            "status": {"state": "TERMINATED", "termination_details":
                {"code": "CLUSTER_ERROR", "type": "CLOUD_FAILURE", "message": "lost"}},
            "tasks": [
                {"run_id": 1, "task_key": "x", "cluster_instance": {"cluster_id": "a"}},
                {"run_id": "2", "task_key": "y", "existing_cluster_id": "b"},
                {"task_key": "z", "cluster_instance": {"cluster_id": "c"}, "state": {"life_cycle_state": "NEW_STATE"}}
            ]
        }))
        .unwrap();
        assert_eq!((run.run_id, run.job_id), (123, Some(45)));
        assert_eq!(run.end_time, None);
        assert_eq!(run.cluster_ids(), ["a", "b", "c"]);
        assert_eq!(
            run.cluster_instance.unwrap().spark_context_id.as_deref(),
            Some("77")
        );
        let details = run
            .status
            .as_ref()
            .unwrap()
            .termination_details
            .clone()
            .unwrap();
        assert_eq!(details.code, Some(RunTerminationCode::ClusterError));
        assert_eq!(details.kind, Some(RunTerminationType::CloudFailure));
        assert_eq!(
            run.tasks[2].state.as_ref().unwrap().life_cycle_state,
            Some(RunLifeCycleState::Other("NEW_STATE".into()))
        );
        assert!(serde_json::from_value::<Run>(json!({"run_id": "x1"})).is_err());
        assert!(serde_json::from_value::<Run>(json!({"run_name": "no id"})).is_err());
    }

    #[test]
    fn a_run_has_ended_by_status_or_by_the_deprecated_state() {
        let ended = |v: Value| serde_json::from_value::<Run>(v).unwrap().has_ended();
        assert!(ended(
            json!({"run_id": 1, "status": {"state": "TERMINATED"}})
        ));
        assert!(!ended(json!({"run_id": 1, "status": {"state": "RUNNING"},
                              "state": {"life_cycle_state": "TERMINATED"}})));
        assert!(ended(
            json!({"run_id": 1, "state": {"life_cycle_state": "INTERNAL_ERROR"}})
        ));
        assert!(!ended(
            json!({"run_id": 1, "state": {"life_cycle_state": "PENDING"}})
        ));
    }

    #[test]
    fn a_submit_leaves_out_what_is_empty() {
        let submit = RunSubmit {
            run_name: Some("r".into()),
            tasks: vec![SubmitTask {
                task_key: "t".into(),
                existing_cluster_id: Some("c".into()),
                ..SubmitTask::default()
            }],
            webhook_notifications: Some(WebhookNotifications {
                on_failure: vec![Webhook { id: "d".into() }],
                ..WebhookNotifications::default()
            }),
            ..RunSubmit::default()
        };
        assert_eq!(
            serde_json::to_value(&submit).unwrap(),
            json!({"run_name": "r", "tasks": [{"task_key": "t", "existing_cluster_id": "c"}],
                   "webhook_notifications": {"on_failure": [{"id": "d"}]}})
        );
    }
}
