//! Clusters (`/api/2.1/clusters/…`) and their event log: the typed spec and details, every call
//! an IaC tool or a monitor needs, and the waits for `RUNNING` and `TERMINATED`.
//!
//! Enumerations the platform keeps extending (states, termination codes and types, event types,
//! security modes) are *open*: a value this client does not know parses as `Other(text)`, so a
//! new code never breaks a read.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use brickstack_provider::{ErrorClass, ProviderError};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::WorkspaceClient;
use crate::client::error::Error;

/// An enumeration whose wire form is a string and which keeps values it does not know.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this client does not know (yet), as the API sent it.
            Other(String),
        }

        impl $name {
            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(text.as_str()))
            }
        }
    };
}
pub(crate) use open_enum;

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

open_enum! {
    /// `type` of a cluster event.
    pub enum EventType {
        Creating = "CREATING",
        Starting = "STARTING",
        Restarting = "RESTARTING",
        /// Carries the termination reason; there is no separate `TERMINATED` event.
        Terminating = "TERMINATING",
        Edited = "EDITED",
        Running = "RUNNING",
        Resizing = "RESIZING",
        UpsizeCompleted = "UPSIZE_COMPLETED",
        NodesLost = "NODES_LOST",
        AddNodesFailed = "ADD_NODES_FAILED",
        AutoscalingFailed = "AUTOSCALING_FAILED",
        AutoscalingBackoff = "AUTOSCALING_BACKOFF",
        AutoscalingStatsReport = "AUTOSCALING_STATS_REPORT",
        InitScriptsStarted = "INIT_SCRIPTS_STARTED",
        InitScriptsFinished = "INIT_SCRIPTS_FINISHED",
        DriverHealthy = "DRIVER_HEALTHY",
        DriverNotResponding = "DRIVER_NOT_RESPONDING",
        DriverUnavailable = "DRIVER_UNAVAILABLE",
        SparkException = "SPARK_EXCEPTION",
        MetastoreDown = "METASTORE_DOWN",
        DbfsDown = "DBFS_DOWN",
        DidNotExpandDisk = "DID_NOT_EXPAND_DISK",
        ExpandedDisk = "EXPANDED_DISK",
        FailedToExpandDisk = "FAILED_TO_EXPAND_DISK",
        NodeBlacklisted = "NODE_BLACKLISTED",
        NodeExcludedDecommissioned = "NODE_EXCLUDED_DECOMMISSIONED",
        DecommissionStarted = "DECOMMISSION_STARTED",
        DecommissionEnded = "DECOMMISSION_ENDED",
        Pinned = "PINNED",
        Unpinned = "UNPINNED",
        AutomaticClusterUpdate = "AUTOMATIC_CLUSTER_UPDATE",
        ClusterMigrated = "CLUSTER_MIGRATED",
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

/// Event order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Order {
    Asc,
    Desc,
}

/// What `events` returns: one cluster's events, filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventsRequest {
    pub cluster_id: String,
    /// Epoch milliseconds, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// All types when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<EventType>,
    /// The API's default is newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// 0–500.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    /// Deprecated offset paging (servers that answer `next_page` instead of `next_page_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// One event of a cluster's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEvent {
    pub cluster_id: String,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(default, deserialize_with = "null_as_default")]
    pub details: EventDetails,
}

/// `details` of an event; what a type does not carry is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDetails {
    /// On `TERMINATING`: why; on `RUNNING`/`UPSIZE_COMPLETED`: why some nodes were not acquired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TerminationReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_num_workers: Option<i64>,
    /// `AUTOSCALE`, `USER_REQUEST`, `AUTORECOVERY`, `REPLACE_BAD_NODES`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_state_message: Option<String>,
    /// Everything else (`attributes`, `cluster_size`, `init_scripts`, ...), as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One page of events and where the next starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventsPage {
    pub events: Vec<ClusterEvent>,
    /// The request for the next page, or `None` on the last.
    pub next: Option<EventsRequest>,
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

/// A wait for a cluster's state ended without reaching it.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(transparent)]
    Api(#[from] Error),
    /// The cluster stopped (`TERMINATED`, `ERROR`) instead of reaching the wanted state.
    #[error("{}", describe_failure(cluster_id, state, state_message, reason.as_ref()))]
    Failed {
        cluster_id: String,
        state: ClusterState,
        state_message: String,
        reason: Option<TerminationReason>,
    },
    /// The cluster no longer exists.
    #[error("cluster `{cluster_id}` disappeared while waiting for it to become {wanted}")]
    Gone {
        cluster_id: String,
        wanted: ClusterState,
    },
    #[error(
        "cluster `{cluster_id}` is still {state} after {} s; it was to become {wanted}",
        waited.as_secs()
    )]
    Timeout {
        cluster_id: String,
        state: ClusterState,
        wanted: ClusterState,
        waited: Duration,
    },
}

fn describe_failure(
    cluster_id: &str,
    state: &ClusterState,
    state_message: &str,
    reason: Option<&TerminationReason>,
) -> String {
    let mut text = format!("cluster `{cluster_id}` is {state}");
    match reason {
        Some(reason) => text.push_str(&format!(": {reason}")),
        None => text.push_str(" (no termination reason given)"),
    }
    if !state_message.is_empty() {
        text.push_str(&format!(": {state_message}"));
    }
    text
}

impl WaitError {
    /// The termination reason, when the cluster stopped with one.
    pub fn termination_reason(&self) -> Option<&TerminationReason> {
        match self {
            WaitError::Failed { reason, .. } => reason.as_ref(),
            _ => None,
        }
    }
}

impl From<WaitError> for ProviderError {
    /// A cluster that stopped is classified by its termination type: `CLIENT_ERROR` (the spec
    /// must change) is invalid input; `CLOUD_FAILURE` and `SERVICE_FAULT` may pass, so they are
    /// retryable; `SUCCESS` means someone or something stopped it on purpose, a conflict. The
    /// code is the termination code.
    fn from(e: WaitError) -> Self {
        let message = e.to_string();
        match e {
            WaitError::Api(e) => e.into(),
            WaitError::Failed { state, reason, .. } => {
                let class = match reason.as_ref().and_then(|r| r.kind.as_ref()) {
                    Some(TerminationType::ClientError) => ErrorClass::InvalidInput,
                    Some(TerminationType::CloudFailure | TerminationType::ServiceFault) => {
                        ErrorClass::Retryable { after: None }
                    }
                    Some(TerminationType::Success) => ErrorClass::Conflict,
                    Some(TerminationType::Other(_)) | None => ErrorClass::Fatal,
                };
                let code = match reason.and_then(|r| r.code) {
                    Some(code) => code.to_string(),
                    None => format!("CLUSTER_{state}"),
                };
                ProviderError::new(class, code, message)
            }
            WaitError::Gone { .. } => {
                ProviderError::new(ErrorClass::NotFound, "RESOURCE_DOES_NOT_EXIST", message)
            }
            WaitError::Timeout { .. } => ProviderError::new(
                ErrorClass::Retryable { after: None },
                "WaitTimeout",
                message,
            ),
        }
    }
}

/// Polls back off by this much more each time...
const POLL_STEP: Duration = Duration::from_secs(1);
/// ...up to this (the SDKs' cluster waiters).
const POLL_MAX: Duration = Duration::from_secs(10);

/// What one poll of a wait decided.
enum Poll {
    Done,
    Failed,
    Continue,
}

#[derive(Deserialize)]
struct Created {
    cluster_id: String,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default, deserialize_with = "null_as_default")]
    clusters: Vec<ClusterDetails>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct EventsAnswer {
    #[serde(default, deserialize_with = "null_as_default")]
    events: Vec<ClusterEvent>,
    #[serde(default)]
    next_page_token: Option<String>,
    /// The deprecated offset paging: the request for the next page.
    #[serde(default)]
    next_page: Option<Value>,
}

const CLUSTERS: &str = "/api/2.1/clusters";

fn path(call: &str) -> String {
    format!("{CLUSTERS}/{call}")
}

impl WorkspaceClient {
    /// Creates a cluster (it starts in `PENDING`) and returns its id. A create whose answer was
    /// lost is looked up before it is sent again: a cluster with the same name carrying all of
    /// the spec's custom tags counts as made by it. Give clusters a unique tag (brickstack tags
    /// each with its address); without custom tags nothing counts, since adopting somebody
    /// else's cluster of the same name would be worse than a duplicate.
    pub async fn create_cluster(&self, spec: &ClusterSpec) -> Result<String, Error> {
        let made = self
            .client()
            .create(&path("create"), spec, || async {
                if spec.custom_tags.is_empty() {
                    return Ok(None);
                }
                let found = self
                    .list_clusters(&ClusterFilter::default())
                    .await?
                    .into_iter()
                    .find(|c| {
                        c.spec.cluster_name == spec.cluster_name
                            && spec
                                .custom_tags
                                .iter()
                                .all(|(k, v)| c.spec.custom_tags.get(k) == Some(v))
                    });
                Ok(found.map(|c| Created {
                    cluster_id: c.cluster_id,
                }))
            })
            .await?;
        Ok(made.cluster_id)
    }

    /// Replaces a cluster's whole spec. Allowed when `RUNNING` (the cluster restarts) or
    /// `TERMINATED` (it stays terminated); other states answer `INVALID_STATE`.
    pub async fn edit_cluster(&self, cluster_id: &str, spec: &ClusterSpec) -> Result<(), Error> {
        #[derive(Serialize)]
        struct Edit<'a> {
            cluster_id: &'a str,
            #[serde(flatten)]
            spec: &'a ClusterSpec,
        }
        let _: IgnoredAny = self
            .client()
            .post(&path("edit"), &Edit { cluster_id, spec })
            .await?;
        Ok(())
    }

    /// Changes only the top-level fields named in `mask` (`num_workers`, `custom_tags`, ...) to
    /// their values in `spec`; a masked field `spec` leaves out is cleared.
    pub async fn update_cluster(
        &self,
        cluster_id: &str,
        mask: &[&str],
        spec: &ClusterSpec,
    ) -> Result<(), Error> {
        let fields = match serde_json::to_value(spec) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let cluster: serde_json::Map<String, Value> = fields
            .into_iter()
            .filter(|(k, _)| mask.contains(&k.as_str()))
            .collect();
        let body = serde_json::json!({
            "cluster_id": cluster_id,
            "update_mask": mask.join(","),
            "cluster": cluster,
        });
        let _: IgnoredAny = self.client().post(&path("update"), &body).await?;
        Ok(())
    }

    /// The cluster; `None` when it does not exist (a missing cluster answers
    /// `400 INVALID_PARAMETER_VALUE "Cluster … does not exist"`, classified as not found).
    pub async fn get_cluster(&self, cluster_id: &str) -> Result<Option<ClusterDetails>, Error> {
        match self
            .client()
            .get(&path("get"), &[("cluster_id", cluster_id.to_string())])
            .await
        {
            Ok(details) => Ok(Some(details)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every cluster `filter` selects, all pages (pinned, active, and terminated in the last 30
    /// days).
    pub async fn list_clusters(
        &self,
        filter: &ClusterFilter,
    ) -> Result<Vec<ClusterDetails>, Error> {
        let query = list_query(filter);
        let mut clusters = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = query.clone();
            if let Some(t) = &token {
                q.push(("page_token", t.clone()));
            }
            let page: ListPage = self.client().get(&path("list"), &q).await?;
            let done = page.clusters.is_empty();
            clusters.extend(page.clusters);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                // A token that does not move on would loop for ever.
                Some(next) if !done && token.as_ref() != Some(&next) => token = Some(next),
                _ => return Ok(clusters),
            }
        }
    }

    /// Every cluster that is starting, running, resizing or restarting: those that would notice
    /// their network going away. Filtered by the API and again here, so an API that ignores the
    /// filter cannot make a terminated cluster look active.
    pub async fn active_clusters(&self) -> Result<Vec<ClusterDetails>, Error> {
        let filter = ClusterFilter {
            states: ClusterState::active().to_vec(),
            ..ClusterFilter::default()
        };
        let mut clusters = self.list_clusters(&filter).await?;
        clusters.retain(|c| c.state.is_active());
        Ok(clusters)
    }

    /// Starts a `TERMINATED` cluster (same id, last size).
    pub async fn start_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("start", cluster_id).await
    }

    /// Restarts a `RUNNING` cluster.
    pub async fn restart_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("restart", cluster_id).await
    }

    /// Resizes a `RUNNING` cluster.
    pub async fn resize_cluster(&self, cluster_id: &str, size: ClusterSize) -> Result<(), Error> {
        let body = match size {
            ClusterSize::Fixed(n) => {
                serde_json::json!({ "cluster_id": cluster_id, "num_workers": n })
            }
            ClusterSize::Autoscale(range) => {
                serde_json::json!({ "cluster_id": cluster_id, "autoscale": range })
            }
        };
        let _: IgnoredAny = self.client().post(&path("resize"), &body).await?;
        Ok(())
    }

    /// Terminates a cluster (asynchronously; it stays listed as `TERMINATED` and can be
    /// started again). Nothing happens to a cluster already terminating or terminated.
    pub async fn terminate_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("delete", cluster_id).await
    }

    /// Terminates and removes a cluster: `get` and `list` no longer know it.
    pub async fn permanent_delete_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("permanent-delete", cluster_id).await
    }

    async fn cluster_call(&self, call: &str, cluster_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(
                &path(call),
                &serde_json::json!({ "cluster_id": cluster_id }),
            )
            .await?;
        Ok(())
    }

    /// One page of a cluster's events.
    pub async fn cluster_events_page(&self, request: &EventsRequest) -> Result<EventsPage, Error> {
        let answer: EventsAnswer = self.client().post(&path("events"), request).await?;
        let next = if answer.events.is_empty() {
            None
        } else if let Some(token) = answer.next_page_token.filter(|t| !t.is_empty()) {
            (request.page_token.as_ref() != Some(&token)).then(|| EventsRequest {
                page_token: Some(token),
                ..request.clone()
            })
        } else {
            answer
                .next_page
                .and_then(|next| legacy_next_page(request, &next))
        };
        Ok(EventsPage {
            events: answer.events,
            next,
        })
    }

    /// Every event `request` selects, all pages.
    pub async fn cluster_events(
        &self,
        request: &EventsRequest,
    ) -> Result<Vec<ClusterEvent>, Error> {
        let mut events = Vec::new();
        let mut request = request.clone();
        loop {
            let page = self.cluster_events_page(&request).await?;
            events.extend(page.events);
            match page.next {
                Some(next) => request = next,
                None => return Ok(events),
            }
        }
    }

    /// The runtime versions the workspace offers.
    pub async fn spark_versions(&self) -> Result<Vec<SparkVersion>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            versions: Vec<SparkVersion>,
        }
        let answer: Answer = self.client().get(&path("spark-versions"), &[]).await?;
        Ok(answer.versions)
    }

    /// The node types the workspace offers.
    pub async fn list_node_types(&self) -> Result<Vec<NodeType>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            node_types: Vec<NodeType>,
        }
        let answer: Answer = self.client().get(&path("list-node-types"), &[]).await?;
        Ok(answer.node_types)
    }

    /// Waits until the cluster is `RUNNING` and returns it; fails when it stops instead
    /// (`TERMINATED` or `ERROR`: the error names the termination reason's code and type and the
    /// state message), disappears, or is not running after `timeout`. Polls every 1 s × attempt,
    /// at most every 10 s.
    pub async fn wait_running(
        &self,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<ClusterDetails, WaitError> {
        self.wait_for(cluster_id, ClusterState::Running, timeout, |s| match s {
            ClusterState::Running => Poll::Done,
            ClusterState::Terminated | ClusterState::Error => Poll::Failed,
            _ => Poll::Continue,
        })
        .await
    }

    /// Waits until the cluster is `TERMINATED`; fails on `ERROR`.
    pub async fn wait_terminated(
        &self,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<ClusterDetails, WaitError> {
        self.wait_for(cluster_id, ClusterState::Terminated, timeout, |s| match s {
            ClusterState::Terminated => Poll::Done,
            ClusterState::Error => Poll::Failed,
            _ => Poll::Continue,
        })
        .await
    }

    /// Waits until no transition is under way (the state is neither `PENDING`, `RESTARTING`,
    /// `RESIZING` nor `TERMINATING`) and returns the cluster, whatever state it settled in.
    pub async fn wait_settled(
        &self,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<ClusterDetails, WaitError> {
        self.wait_for(cluster_id, ClusterState::Running, timeout, |s| {
            if s.is_transient() {
                Poll::Continue
            } else {
                Poll::Done
            }
        })
        .await
    }

    async fn wait_for(
        &self,
        cluster_id: &str,
        wanted: ClusterState,
        timeout: Duration,
        decide: impl Fn(&ClusterState) -> Poll,
    ) -> Result<ClusterDetails, WaitError> {
        let started = tokio::time::Instant::now();
        let deadline = started + timeout;
        let mut attempt: u32 = 0;
        loop {
            let Some(details) = self.get_cluster(cluster_id).await? else {
                return Err(WaitError::Gone {
                    cluster_id: cluster_id.to_string(),
                    wanted,
                });
            };
            match decide(&details.state) {
                Poll::Done => return Ok(details),
                Poll::Failed => {
                    return Err(WaitError::Failed {
                        cluster_id: cluster_id.to_string(),
                        state: details.state,
                        state_message: details.state_message,
                        reason: details.termination_reason,
                    });
                }
                Poll::Continue => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout {
                    cluster_id: cluster_id.to_string(),
                    state: details.state,
                    wanted,
                    waited: now - started,
                });
            }
            attempt += 1;
            tracing::debug!(cluster_id, state = %details.state, %wanted, attempt, "waiting for cluster");
            tokio::time::sleep(poll_delay(attempt, deadline - now)).await;
        }
    }
}

/// The query of `list`: nested filters with dots, a repeated key per state (as the Go SDK
/// encodes them).
fn list_query(filter: &ClusterFilter) -> Vec<(&'static str, String)> {
    let mut query: Vec<(&str, String)> = filter
        .states
        .iter()
        .map(|s| ("filter_by.cluster_states", s.to_string()))
        .collect();
    if let Some(policy) = &filter.policy_id {
        query.push(("filter_by.policy_id", policy.clone()));
    }
    if let Some(size) = filter.page_size {
        query.push(("page_size", size.to_string()));
    }
    query
}

/// The pause before poll `attempt + 1`: 1 s × attempt, at most 10 s, never past the deadline.
fn poll_delay(attempt: u32, remaining: Duration) -> Duration {
    (POLL_STEP * attempt).min(POLL_MAX).min(remaining)
}

/// The next request under the deprecated offset paging, where `next_page` is the request for
/// the next page (its `offset` and `limit` are what moves on).
fn legacy_next_page(request: &EventsRequest, next: &Value) -> Option<EventsRequest> {
    #[derive(Deserialize)]
    struct Next {
        offset: Option<i64>,
        limit: Option<i64>,
    }
    let next = serde_json::from_value::<Next>(next.clone()).ok()?;
    let offset = next.offset.filter(|o| Some(*o) != request.offset)?;
    Some(EventsRequest {
        offset: Some(offset),
        limit: next.limit.or(request.limit),
        ..request.clone()
    })
}

/// A JSON `null` as the type's default (the API sends `null` for empty lists and maps at times).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A map of scalars as strings (`termination_reason.parameters` is documented as string to
/// string; anything else is kept readable rather than failing the whole answer).
fn string_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = Option::<BTreeMap<String, Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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

    #[test]
    fn a_stopped_cluster_is_classified_by_its_termination_type() {
        let failed = |code: &str, kind: Option<&str>| WaitError::Failed {
            cluster_id: "c".into(),
            state: ClusterState::Terminated,
            state_message: "m".into(),
            reason: Some(TerminationReason {
                code: Some(TerminationCode::from(code)),
                kind: kind.map(TerminationType::from),
                parameters: BTreeMap::new(),
            }),
        };
        let cases = [
            (
                failed("INVALID_ARGUMENT", Some("CLIENT_ERROR")),
                ErrorClass::InvalidInput,
            ),
            (
                failed(
                    "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
                    Some("CLOUD_FAILURE"),
                ),
                ErrorClass::Retryable { after: None },
            ),
            (
                failed("INTERNAL_ERROR", Some("SERVICE_FAULT")),
                ErrorClass::Retryable { after: None },
            ),
            (
                failed("USER_REQUEST", Some("SUCCESS")),
                ErrorClass::Conflict,
            ),
            (failed("NEW_CODE", None), ErrorClass::Fatal),
        ];
        for (error, class) in cases {
            let code = error.termination_reason().unwrap().code.clone().unwrap();
            let p = ProviderError::from(error);
            assert_eq!((p.class, p.code.as_str()), (class, code.as_str()));
        }
        let gone = ProviderError::from(WaitError::Gone {
            cluster_id: "c".into(),
            wanted: ClusterState::Running,
        });
        assert_eq!(gone.class, ErrorClass::NotFound);
    }

    #[test]
    fn list_filters_repeat_the_state_key() {
        let query = list_query(&ClusterFilter {
            states: vec![ClusterState::Running, ClusterState::Pending],
            policy_id: Some("P".into()),
            page_size: Some(50),
        });
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("filter_by.cluster_states", "RUNNING"),
                ("filter_by.cluster_states", "PENDING"),
                ("filter_by.policy_id", "P"),
                ("page_size", "50"),
            ]
        );
    }

    #[test]
    fn polls_back_off_linearly_up_to_ten_seconds_and_stop_at_the_deadline() {
        let delays: Vec<u64> = (1..=12)
            .map(|a| poll_delay(a, Duration::from_secs(3600)).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10]);
        assert_eq!(
            poll_delay(5, Duration::from_millis(300)),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn offset_paging_moves_on_and_stops() {
        let first = EventsRequest {
            cluster_id: "c".into(),
            ..EventsRequest::default()
        };
        let next = legacy_next_page(
            &first,
            &json!({ "cluster_id": "c", "offset": 50, "limit": 50 }),
        )
        .unwrap();
        assert_eq!((next.offset, next.limit), (Some(50), Some(50)));
        assert!(legacy_next_page(&next, &json!({ "offset": 50 })).is_none());
        assert!(legacy_next_page(&next, &json!({})).is_none());
    }
}
