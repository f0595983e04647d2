//! The typed cluster: what a user specifies ([`ClusterSpec`]), what `get` and `list` report
//! ([`ClusterDetails`]), its states and termination reasons, and the catalog (runtime versions,
//! node types).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{null_as_default, open_enum, string_map};

open_enum! {
    /// `state` of a cluster. Transitions: PENDING → RUNNING | TERMINATING; RUNNING → RESIZING |
    /// RESTARTING | TERMINATING; RESTARTING, RESIZING → RUNNING | TERMINATING; TERMINATING →
    /// TERMINATED. A create or start that fails goes PENDING → TERMINATING → TERMINATED.
    pub enum ClusterState {
        Pending = "PENDING",
        Running = "RUNNING",
        Restarting = "RESTARTING",
        Resizing = "RESIZING",
        Terminating = "TERMINATING",
        Terminated = "TERMINATED",
        /// "Not used anymore", kept by the API for compatibility.
        Error = "ERROR",
        Unknown = "UNKNOWN",
    }
}

impl ClusterState {
    /// The states of a cluster that holds machines or is getting them.
    pub fn active() -> [ClusterState; 4] {
        [
            ClusterState::Pending,
            ClusterState::Running,
            ClusterState::Resizing,
            ClusterState::Restarting,
        ]
    }

    /// Whether the cluster holds machines or is getting them (see [`ClusterState::active`]).
    pub fn is_active(&self) -> bool {
        ClusterState::active().contains(self)
    }

    /// Whether a transition is under way (the cluster will move on by itself).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClusterState::Pending
                | ClusterState::Restarting
                | ClusterState::Resizing
                | ClusterState::Terminating
        )
    }
}

open_enum! {
    /// `termination_reason.type`: the primary signal of why a cluster stopped.
    pub enum TerminationType {
        /// A normal termination: a user's request, auto-termination, a finished job.
        Success = "SUCCESS",
        /// The cluster's configuration must change before it can start.
        ClientError = "CLIENT_ERROR",
        /// A Databricks fault; retrying may work.
        ServiceFault = "SERVICE_FAULT",
        /// An AWS infrastructure fault (capacity, limits); retrying later may work.
        CloudFailure = "CLOUD_FAILURE",
    }
}

open_enum! {
    /// `termination_reason.code`. The API has close to two hundred codes and adds more; the ones a
    /// deployment on AWS meets most are named here, the rest arrive as `Other`.
    pub enum TerminationCode {
        UserRequest = "USER_REQUEST",
        Inactivity = "INACTIVITY",
        JobFinished = "JOB_FINISHED",
        AwsAuthorizationFailure = "AWS_AUTHORIZATION_FAILURE",
        AwsInaccessibleKmsKeyFailure = "AWS_INACCESSIBLE_KMS_KEY_FAILURE",
        AwsInstanceProfileUpdateFailure = "AWS_INSTANCE_PROFILE_UPDATE_FAILURE",
        AwsInsufficientFreeAddressesInSubnetFailure = "AWS_INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET_FAILURE",
        AwsInsufficientInstanceCapacityFailure = "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
        AwsMaxSpotInstanceCountExceededFailure = "AWS_MAX_SPOT_INSTANCE_COUNT_EXCEEDED_FAILURE",
        AwsRequestLimitExceeded = "AWS_REQUEST_LIMIT_EXCEEDED",
        AwsResourceQuotaExceeded = "AWS_RESOURCE_QUOTA_EXCEEDED",
        AwsUnsupportedFailure = "AWS_UNSUPPORTED_FAILURE",
        BootstrapTimeout = "BOOTSTRAP_TIMEOUT",
        BootstrapTimeoutDueToMisconfig = "BOOTSTRAP_TIMEOUT_DUE_TO_MISCONFIG",
        CloudProviderLaunchFailure = "CLOUD_PROVIDER_LAUNCH_FAILURE",
        CloudProviderResourceStockout = "CLOUD_PROVIDER_RESOURCE_STOCKOUT",
        CloudProviderShutdown = "CLOUD_PROVIDER_SHUTDOWN",
        CommunicationLost = "COMMUNICATION_LOST",
        ControlPlaneRequestFailure = "CONTROL_PLANE_REQUEST_FAILURE",
        DriverUnreachable = "DRIVER_UNREACHABLE",
        DriverUnresponsive = "DRIVER_UNRESPONSIVE",
        GlobalInitScriptFailure = "GLOBAL_INIT_SCRIPT_FAILURE",
        InitScriptFailure = "INIT_SCRIPT_FAILURE",
        InstanceUnreachable = "INSTANCE_UNREACHABLE",
        InstanceUnreachableDueToMisconfig = "INSTANCE_UNREACHABLE_DUE_TO_MISCONFIG",
        InternalError = "INTERNAL_ERROR",
        InvalidArgument = "INVALID_ARGUMENT",
        InvalidAwsParameter = "INVALID_AWS_PARAMETER",
        NetworkConfigurationFailure = "NETWORK_CONFIGURATION_FAILURE",
        NpipTunnelSetupFailure = "NPIP_TUNNEL_SETUP_FAILURE",
        RequestRejected = "REQUEST_REJECTED",
        RequestThrottled = "REQUEST_THROTTLED",
        SparkStartupFailure = "SPARK_STARTUP_FAILURE",
        SpotInstanceTermination = "SPOT_INSTANCE_TERMINATION",
        StorageDownloadFailure = "STORAGE_DOWNLOAD_FAILURE",
        SubnetExhaustedFailure = "SUBNET_EXHAUSTED_FAILURE",
        TemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE",
        UnexpectedLaunchFailure = "UNEXPECTED_LAUNCH_FAILURE",
        Unknown = "UNKNOWN",
        WorkspaceConfigurationError = "WORKSPACE_CONFIGURATION_ERROR",
    }
}

open_enum! {
    /// `data_security_mode`. `SINGLE_USER` and `USER_ISOLATION` are the legacy names of
    /// `DATA_SECURITY_MODE_DEDICATED` and `DATA_SECURITY_MODE_STANDARD`; the API takes both.
    pub enum DataSecurityMode {
        Auto = "DATA_SECURITY_MODE_AUTO",
        Standard = "DATA_SECURITY_MODE_STANDARD",
        Dedicated = "DATA_SECURITY_MODE_DEDICATED",
        None = "NONE",
        SingleUser = "SINGLE_USER",
        UserIsolation = "USER_ISOLATION",
        LegacyTableAcl = "LEGACY_TABLE_ACL",
        LegacyPassthrough = "LEGACY_PASSTHROUGH",
        LegacySingleUser = "LEGACY_SINGLE_USER",
        LegacySingleUserStandard = "LEGACY_SINGLE_USER_STANDARD",
    }
}

/// `autoscale`: the worker range of an autoscaling cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoScale {
    pub min_workers: i64,
    pub max_workers: i64,
}

/// `aws_attributes` (every member optional; the API fills in `zone_id` and defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsAttributes {
    /// `SPOT`, `ON_DEMAND` or `SPOT_WITH_FALLBACK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_on_demand: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_profile_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_bid_price_percent: Option<i64>,
    /// `GENERAL_PURPOSE_SSD` or `THROUGHPUT_OPTIMIZED_HDD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_volume_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_volume_count: Option<i64>,
    /// GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_volume_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_volume_iops: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_volume_throughput: Option<i64>,
}

/// A location given by one path (`dbfs`, `volumes`, `workspace`, `file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub destination: String,
}

/// An S3 location for cluster logs or an init script.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3StorageInfo {
    /// `s3://bucket/prefix`.
    pub destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_encryption: Option<bool>,
    /// `sse-s3` or `sse-kms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canned_acl: Option<String>,
}

/// `cluster_log_conf`: exactly one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterLogConf {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3StorageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbfs: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Destination>,
}

/// One of `init_scripts`: exactly one source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitScriptInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3StorageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Destination>,
    /// Legacy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbfs: Option<Destination>,
}

/// What a user specifies of a cluster: the body of `create`, and with `cluster_id` of `edit`.
/// Empty maps and lists are left out of requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// A runtime key from [`WorkspaceClient::spark_versions`], e.g. `15.4.x-scala2.12`.
    #[serde(default)]
    pub spark_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_instance_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_policy_default_values: Option<bool>,
    /// A fixed size (0 for a single node); or `autoscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoScale>,
    /// 10–10000, or 0 to disable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_attributes: Option<AwsAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<DataSecurityMode>,
    /// The user (or a service principal's application id) of a dedicated cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_user_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub custom_tags: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub spark_conf: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub spark_env_vars: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub init_scripts: Vec<InitScriptInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_log_conf: Option<ClusterLogConf>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ssh_public_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_elastic_disk: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_local_disk_encryption: Option<bool>,
    /// `STANDARD` or `PHOTON`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    /// `CLASSIC_PREVIEW` for the new single-node and ML-runtime forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_single_node: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_ml_runtime: Option<bool>,
    /// A custom container (`{url, basic_auth}`), kept as sent so an edit sends it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_image: Option<serde_json::Value>,
    /// Which workloads may run (`{clients: {jobs, notebooks}}`), kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_type: Option<serde_json::Value>,
}

/// `termination_reason`: present once a cluster is `TERMINATING` or `TERMINATED`, and on the
/// `TERMINATING` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationReason {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<TerminationCode>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TerminationType>,
    /// Open-ended: `username`, `inactivity_duration_min`, `aws_api_error_code`,
    /// `databricks_error_message`, ...
    #[serde(
        default,
        deserialize_with = "string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub parameters: BTreeMap<String, String>,
}

impl fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self
            .code
            .as_ref()
            .map_or("no code", TerminationCode::as_str);
        let kind = self
            .kind
            .as_ref()
            .map_or("no type", TerminationType::as_str);
        write!(f, "{code} ({kind})")?;
        if !self.parameters.is_empty() {
            let parameters: Vec<String> = self
                .parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(f, " [{}]", parameters.join(", "))?;
        }
        Ok(())
    }
}

/// A cluster as `get` and `list` report it: its spec and its status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterDetails {
    pub cluster_id: String,
    #[serde(flatten)]
    pub spec: ClusterSpec,
    #[serde(default)]
    pub state: ClusterState,
    #[serde(default, deserialize_with = "null_as_default")]
    pub state_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// Epoch milliseconds: when the create (or the last start) was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restarted_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state_loss_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// `UI`, `API`, `JOB`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_source: Option<String>,
    /// Tags the platform adds (`Vendor`, `Creator`, `ClusterName`, `ClusterId`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub default_tags: BTreeMap<String, String>,
    /// `spec`: the spec the user last sent, as `get` reports it (`list` leaves it out).
    #[serde(rename = "spec", default, skip_serializing_if = "Option::is_none")]
    pub last_spec: Option<Box<ClusterSpec>>,
}

impl ClusterDetails {
    /// What to send back with `edit` to keep the cluster as it is: the user's last spec when
    /// the API gives it (`get` does), else the fields read, without `num_workers` under
    /// `autoscale` (there it is the current target, and the API refuses both at once). Change
    /// what must change (`aws_attributes.availability`, `node_type_id`, `zone_id`, ...) on it.
    pub fn editable_spec(&self) -> ClusterSpec {
        if let Some(spec) = &self.last_spec {
            return (**spec).clone();
        }
        let mut spec = self.spec.clone();
        if spec.autoscale.is_some() {
            spec.num_workers = None;
        }
        spec
    }

    /// A job's cluster (`cluster_source` `JOB`): the Jobs service's, which refuses `start` and
    /// `edit`.
    pub fn is_job_cluster(&self) -> bool {
        self.cluster_source.as_deref() == Some("JOB")
    }
}

#[allow(
    clippy::derivable_impls,
    reason = "`open_enum!` writes the enum; a derive would need `#[default]` inside the macro"
)]
impl Default for ClusterState {
    fn default() -> Self {
        ClusterState::Unknown
    }
}

/// Which clusters `list` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterFilter {
    /// Only clusters in one of these states (all when empty).
    pub states: Vec<ClusterState>,
    /// Only clusters governed by this policy.
    pub policy_id: Option<String>,
    /// Clusters per page (the API's default when `None`).
    pub page_size: Option<u32>,
}

/// A cluster's new size for `resize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterSize {
    Fixed(i64),
    Autoscale(AutoScale),
}

/// A runtime version (`key` goes into `spark_version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SparkVersion {
    pub key: String,
    #[serde(default)]
    pub name: String,
}

/// A node type of the workspace's cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeType {
    pub node_type_id: String,
    #[serde(default)]
    pub memory_mb: Option<i64>,
    #[serde(default)]
    pub num_cores: Option<f64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub instance_type_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workspace::clusters::*;

    #[test]
    fn unknown_codes_parse_and_serialise_as_sent() {
        let reason: TerminationReason = serde_json::from_value(json!({
            "code": "SOME_CODE_FROM_NEXT_YEAR",
            "type": "CLOUD_FAILURE",
            "parameters": { "aws_api_error_code": "InsufficientInstanceCapacity", "retries": 3 }
        }))
        .unwrap();
        assert_eq!(
            reason.code,
            Some(TerminationCode::Other("SOME_CODE_FROM_NEXT_YEAR".into()))
        );
        assert_eq!(reason.kind, Some(TerminationType::CloudFailure));
        assert_eq!(reason.parameters["retries"], "3");
        let back = serde_json::to_value(&reason).unwrap();
        assert_eq!(back["code"], "SOME_CODE_FROM_NEXT_YEAR");
        assert_eq!(
            serde_json::from_value::<ClusterState>(json!("HIBERNATING")).unwrap(),
            ClusterState::Other("HIBERNATING".into())
        );
        assert_eq!(ClusterState::from("RUNNING"), ClusterState::Running);
    }

    #[test]
    fn a_terminated_cluster_as_the_api_reports_it() {
        let details: ClusterDetails = serde_json::from_value(json!({
            "cluster_id": "0123-456789-abcdef",
            "cluster_name": "etl",
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "i3.xlarge",
            "autoscale": { "min_workers": 1, "max_workers": 4 },
            "aws_attributes": { "availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1a", "first_on_demand": 1 },
            "custom_tags": { "brickstack:address": "databricks_cluster.etl" },
            "default_tags": { "Vendor": "Databricks" },
            "spark_conf": null,
            "init_scripts": null,
            "data_security_mode": "SINGLE_USER",
            "state": "TERMINATED",
            "state_message": "Instance bootstrap failed",
            "termination_reason": {
                "code": "CLOUD_PROVIDER_LAUNCH_FAILURE",
                "type": "CLOUD_FAILURE",
                "parameters": { "aws_api_error_code": "InsufficientInstanceCapacity" }
            },
            "start_time": 1700000000000_i64,
            "terminated_time": null,
            "driver": { "node_id": "x" },
            "spec": { "cluster_name": "etl" }
        }))
        .unwrap();
        assert_eq!(details.state, ClusterState::Terminated);
        assert_eq!(
            details.spec.data_security_mode,
            Some(DataSecurityMode::SingleUser)
        );
        assert!(details.spec.spark_conf.is_empty());
        assert_eq!(
            details.spec.autoscale,
            Some(AutoScale {
                min_workers: 1,
                max_workers: 4
            })
        );
        let error = WaitError::Failed {
            cluster_id: details.cluster_id.clone(),
            state: details.state.clone(),
            state_message: details.state_message.clone(),
            reason: details.termination_reason.clone(),
        };
        assert_eq!(
            error.to_string(),
            "cluster `0123-456789-abcdef` is TERMINATED: CLOUD_PROVIDER_LAUNCH_FAILURE (CLOUD_FAILURE) \
             [aws_api_error_code=InsufficientInstanceCapacity]: Instance bootstrap failed"
        );
    }

    #[test]
    fn requests_leave_out_what_is_empty() {
        let spec = ClusterSpec {
            cluster_name: Some("c".into()),
            spark_version: "15.4.x-scala2.12".into(),
            num_workers: Some(0),
            ..ClusterSpec::default()
        };
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({ "cluster_name": "c", "spark_version": "15.4.x-scala2.12", "num_workers": 0 })
        );
        let events = EventsRequest {
            cluster_id: "c".into(),
            event_types: vec![EventType::Terminating, EventType::Running],
            order: Some(Order::Asc),
            ..EventsRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&events).unwrap(),
            json!({ "cluster_id": "c", "event_types": ["TERMINATING", "RUNNING"], "order": "ASC" })
        );
    }
}
