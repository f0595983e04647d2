//! Termination reason → error type. The reason's `type` decides first (`SUCCESS` is never a
//! failure); then the code, through the table of every code the Databricks API documents (the Go
//! SDK's `TerminationReasonCode`, grouped as in `databricks-api.md` §4.2); a code the table does not
//! know (new codes appear over time) falls back by type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::api::TerminationReason;

/// What kind of failure a termination is; playbooks, breakers and figures are per error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ErrorType {
    DatabricksDriverNotResponding,
    DatabricksClusterTerminated,
    DatabricksClusterStartFailure,
    DatabricksResourceExhausted,
    DatabricksConfigurationError,
    DatabricksServiceFault,
    DatabricksAdministrativeTermination,
    DatabricksUnclassified,
}

impl ErrorType {
    pub const ALL: [ErrorType; 8] = [
        ErrorType::DatabricksDriverNotResponding,
        ErrorType::DatabricksClusterTerminated,
        ErrorType::DatabricksClusterStartFailure,
        ErrorType::DatabricksResourceExhausted,
        ErrorType::DatabricksConfigurationError,
        ErrorType::DatabricksServiceFault,
        ErrorType::DatabricksAdministrativeTermination,
        ErrorType::DatabricksUnclassified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::DatabricksDriverNotResponding => "DatabricksDriverNotResponding",
            ErrorType::DatabricksClusterTerminated => "DatabricksClusterTerminated",
            ErrorType::DatabricksClusterStartFailure => "DatabricksClusterStartFailure",
            ErrorType::DatabricksResourceExhausted => "DatabricksResourceExhausted",
            ErrorType::DatabricksConfigurationError => "DatabricksConfigurationError",
            ErrorType::DatabricksServiceFault => "DatabricksServiceFault",
            ErrorType::DatabricksAdministrativeTermination => "DatabricksAdministrativeTermination",
            ErrorType::DatabricksUnclassified => "DatabricksUnclassified",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the eight error types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an error type (one of DatabricksDriverNotResponding, DatabricksClusterTerminated, DatabricksClusterStartFailure, DatabricksResourceExhausted, DatabricksConfigurationError, DatabricksServiceFault, DatabricksAdministrativeTermination, DatabricksUnclassified)"
)]
pub struct UnknownErrorType(pub String);

impl FromStr for ErrorType {
    type Err = UnknownErrorType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownErrorType(s.to_owned()))
    }
}

/// What a termination is to the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Classification {
    /// A user's request, auto-termination, a finished job: nothing to do.
    Expected,
    Failure(ErrorType),
}

/// The groups of `databricks-api.md` §4.2; each maps to an error type unless [`OVERRIDES`] says
/// otherwise for a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Normal, user-initiated: expected whatever the type says (a cluster someone stopped is never
    /// started again by the monitor).
    U,
    /// Administrative, policy or platform-initiated.
    A,
    /// Customer configuration or quota: the same spec fails again.
    C,
    /// Cloud provider, capacity.
    P,
    /// Driver or runtime health of a running cluster.
    R,
    /// Launch, bootstrap, data-plane network.
    L,
    /// Databricks service fault or throttling.
    S,
    /// Serverless / Kubernetes data plane: not expected on classic AWS clusters; by type.
    K,
    /// Azure only: by type.
    Z,
    /// GCP only: by type.
    G,
}

/// Codes whose error type is not their group's.
const OVERRIDES: &[(&str, ErrorType)] = &[
    // Capacity: a fallback (on-demand, another instance type or zone) may get the nodes.
    (
        "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
        ErrorType::DatabricksResourceExhausted,
    ),
    (
        "CLOUD_PROVIDER_RESOURCE_STOCKOUT",
        ErrorType::DatabricksResourceExhausted,
    ),
    // Account limits a fallback can avoid: on-demand instead of spot, another instance family.
    (
        "AWS_MAX_SPOT_INSTANCE_COUNT_EXCEEDED_FAILURE",
        ErrorType::DatabricksResourceExhausted,
    ),
    (
        "AWS_RESOURCE_QUOTA_EXCEEDED",
        ErrorType::DatabricksResourceExhausted,
    ),
    // The seed's name, which the API never sends; kept so the seed's payloads classify.
    (
        "INSUFFICIENT_INSTANCE_CAPACITY",
        ErrorType::DatabricksResourceExhausted,
    ),
    // A refused instance request is a failed start (unless `aws_api_error_code` says capacity).
    (
        "CLOUD_PROVIDER_LAUNCH_FAILURE",
        ErrorType::DatabricksClusterStartFailure,
    ),
];

/// `aws_api_error_code` values of a `CLOUD_PROVIDER_LAUNCH_FAILURE` that mean capacity or an
/// instance limit.
const CAPACITY_AWS_ERRORS: &[&str] = &[
    "InsufficientInstanceCapacity",
    "InsufficientCapacity",
    "InsufficientHostCapacity",
    "InsufficientReservedInstanceCapacity",
    "InstanceLimitExceeded",
    "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow",
    "VcpuLimitExceeded",
];

/// `aws_spot_request_status` values that mean capacity or price.
const CAPACITY_SPOT_STATUSES: &[&str] = &[
    "capacity-not-available",
    "capacity-oversubscribed",
    "price-too-low",
];

/// Every `TerminationReasonCode` of the API (187), its group and a one-line meaning.
const CODES: &[(&str, Group, &str)] = &[
    (
        "INACTIVITY",
        Group::U,
        "Auto-termination: cluster idle for autotermination_minutes; parameters.inactivity_duration_min.",
    ),
    (
        "JOB_FINISHED",
        Group::U,
        "Job cluster terminated because its job run completed.",
    ),
    (
        "USER_REQUEST",
        Group::U,
        "A user/API terminated the cluster (clusters/delete); parameters.username names who.",
    ),
    (
        "ABUSE_DETECTED",
        Group::A,
        "Terminated for runtime behaviour that violates Terms of Service / Acceptable Use.",
    ),
    (
        "BUDGET_POLICY_LIMIT_ENFORCEMENT_ACTIVATED",
        Group::A,
        "Terminated because a budget-policy limit enforcement kicked in.",
    ),
    (
        "BUDGET_POLICY_RESOLUTION_FAILURE",
        Group::A,
        "Could not resolve the cluster's budget policy.",
    ),
    (
        "CLOUD_OPERATION_CANCELLED",
        Group::A,
        "The cloud-provider operation was cancelled, possibly by a user action.",
    ),
    (
        "DATA_ACCESS_CONFIG_CHANGED",
        Group::A,
        "Workspace data-access config changed; clusters with the outdated config are terminated.",
    ),
    (
        "DISASTER_RECOVERY_REPLICATION",
        Group::A,
        "Primary workspace failed over to secondary (expected in DR).",
    ),
    (
        "IN_PENALTY_BOX",
        Group::A,
        "Known customer/error combination excluded from Databricks metrics.",
    ),
    (
        "MAINTENANCE_MODE",
        Group::A,
        "Terminated by Databricks on-call for emergency maintenance.",
    ),
    (
        "RESOURCE_USAGE_BLOCKED",
        Group::A,
        "Usage gatekeeper indicated the cluster must shut down.",
    ),
    ("TRIAL_EXPIRED", Group::A, "Workspace trial expired."),
    (
        "USAGE_POLICY_ENTITLEMENT_DENIED",
        Group::A,
        "Cluster request denied by usage-policy entitlement.",
    ),
    (
        "USER_INITIATED_VM_TERMINATION",
        Group::A,
        "A user terminated the VM directly in the cloud (e.g. EC2 console), not via Databricks.",
    ),
    (
        "WORKSPACE_CANCELLED_ERROR",
        Group::A,
        "Workspace was cancelled, so clusters are denied/terminated.",
    ),
    (
        "WORKSPACE_UPDATE",
        Group::A,
        "Worker environment changed due to a workspace network or CMK update.",
    ),
    (
        "AWS_AUTHORIZATION_FAILURE",
        Group::C,
        "AWS denied the operation (e.g. AccessDenied / UnauthorizedOperation) - check the cross-account role policy.",
    ),
    (
        "AWS_INACCESSIBLE_KMS_KEY_FAILURE",
        Group::C,
        "The KMS key needed for EBS/volume encryption is not accessible.",
    ),
    (
        "AWS_INSTANCE_PROFILE_UPDATE_FAILURE",
        Group::C,
        "Failed to update/attach the cluster's instance profile.",
    ),
    (
        "AWS_INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET_FAILURE",
        Group::C,
        "Subnet has too few free IPs for the requested instances (size your customer-managed VPC subnets).",
    ),
    (
        "AWS_INVALID_KEY_PAIR",
        Group::C,
        "The specified EC2 key pair name does not exist.",
    ),
    (
        "AWS_INVALID_KMS_KEY_STATE",
        Group::C,
        "The KMS key is in an invalid state (disabled, pending deletion...).",
    ),
    (
        "AWS_MAX_SPOT_INSTANCE_COUNT_EXCEEDED_FAILURE",
        Group::C,
        "The AWS account's spot-instance count limit was exceeded.",
    ),
    (
        "AWS_RESOURCE_QUOTA_EXCEEDED",
        Group::C,
        "Not enough AWS quota (e.g. vCPU/service quota) to fulfil the request.",
    ),
    (
        "BOOTSTRAP_TIMEOUT_DUE_TO_MISCONFIG",
        Group::C,
        "Bootstrap timeout caused by customer-side misconfiguration (network/DNS/egress).",
    ),
    (
        "CLOUD_ACCOUNT_SETUP_FAILURE",
        Group::C,
        "Cloud account setup is in error (e.g. pending verification, blocked).",
    ),
    (
        "CLOUD_PROVIDER_LAUNCH_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Launch failure attributed to customer misconfiguration.",
    ),
    (
        "CLOUD_PROVIDER_RESOURCE_STOCKOUT_DUE_TO_MISCONFIG",
        Group::C,
        "Repeated launches of a configuration the provider cannot supply.",
    ),
    (
        "CONTROL_PLANE_CONNECTION_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Control-plane connection failure due to customer network misconfiguration.",
    ),
    (
        "CONTROL_PLANE_REQUEST_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Control-plane request failure due to customer misconfiguration.",
    ),
    (
        "DNS_RESOLUTION_ERROR",
        Group::C,
        "DNS resolution failed (check VPC DNS settings / resolvers).",
    ),
    (
        "DOCKER_CONTAINER_CREATION_EXCEPTION",
        Group::C,
        "Creating the custom Docker container failed.",
    ),
    (
        "DOCKER_IMAGE_PULL_FAILURE",
        Group::C,
        "Pulling the custom Docker image failed.",
    ),
    (
        "DOCKER_IMAGE_TOO_LARGE_FOR_INSTANCE_EXCEPTION",
        Group::C,
        "Custom Docker image too large for the instance.",
    ),
    (
        "DOCKER_INVALID_OS_EXCEPTION",
        Group::C,
        "Custom Docker image OS is not valid.",
    ),
    (
        "DYNAMIC_SPARK_CONF_SIZE_EXCEEDED",
        Group::C,
        "The dynamic Spark conf exceeded its size limit.",
    ),
    (
        "EOS_SPARK_IMAGE",
        Group::C,
        "Undocumented; the name indicates an end-of-support Databricks Runtime image.",
    ),
    (
        "GLOBAL_INIT_SCRIPT_FAILURE",
        Group::C,
        "A global init script failed to load/run or exited non-zero.",
    ),
    (
        "IMAGE_PULL_PERMISSION_DENIED",
        Group::C,
        "No permission to pull the Databricks Runtime images.",
    ),
    (
        "INIT_SCRIPT_FAILURE",
        Group::C,
        "A cluster-scoped init script failed to load/run or exited non-zero (check init-script logs).",
    ),
    (
        "INSTANCE_POOL_MAX_CAPACITY_REACHED",
        Group::C,
        "Launching more instances would exceed the pool's max capacity.",
    ),
    (
        "INSTANCE_POOL_NOT_FOUND",
        Group::C,
        "The instance pool did not exist at launch time.",
    ),
    (
        "INSTANCE_UNREACHABLE_DUE_TO_MISCONFIG",
        Group::C,
        "Instance unreachable because of customer misconfiguration (SGs, NACLs, routes, DNS).",
    ),
    (
        "INVALID_ARGUMENT",
        Group::C,
        "Invalid user argument (e.g. bad spark_version, missing secret) - fix the spec.",
    ),
    (
        "INVALID_AWS_PARAMETER",
        Group::C,
        "AWS considers a supplied parameter (or the account) invalid.",
    ),
    (
        "INVALID_SPARK_IMAGE",
        Group::C,
        "Container setup failed due to an invalid Spark image.",
    ),
    (
        "IP_EXHAUSTION_FAILURE",
        Group::C,
        "IP space exhausted (subnet / pod CIDR).",
    ),
    (
        "NETWORK_CHECK_CONTROL_PLANE_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Network health check: control plane unreachable due to customer misconfiguration.",
    ),
    (
        "NETWORK_CHECK_DNS_SERVER_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Network health check: DNS failure due to customer misconfiguration.",
    ),
    (
        "NETWORK_CHECK_METADATA_ENDPOINT_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Network health check: metadata endpoint blocked by customer config.",
    ),
    (
        "NETWORK_CHECK_MULTIPLE_COMPONENTS_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Network health check: several components failed due to customer config.",
    ),
    (
        "NETWORK_CHECK_NIC_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Network health check: NIC failure due to customer config.",
    ),
    (
        "NETWORK_CHECK_STORAGE_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Network health check: storage unreachable due to customer config (endpoints, bucket policy).",
    ),
    (
        "NETWORK_CONFIGURATION_FAILURE",
        Group::C,
        "Error in the network configuration (e.g. DNS settings blocking worker artifacts).",
    ),
    (
        "SECRET_PERMISSION_DENIED",
        Group::C,
        "Cluster config references a secret the owner cannot read.",
    ),
    (
        "SPARK_IMAGE_NOT_FOUND",
        Group::C,
        "The specified (custom) Spark image was not found.",
    ),
    (
        "STORAGE_DOWNLOAD_FAILURE_DUE_TO_MISCONFIG",
        Group::C,
        "Artifact download failure due to customer misconfiguration (S3 endpoint, egress, DNS).",
    ),
    (
        "SUBNET_EXHAUSTED_FAILURE",
        Group::C,
        "Subnet ran out of IP addresses.",
    ),
    (
        "UNSUPPORTED_INSTANCE_TYPE",
        Group::C,
        "Instance of an unsupported/unrecognised type (e.g. in an EC2 fleet).",
    ),
    (
        "UPDATE_INSTANCE_PROFILE_FAILURE",
        Group::C,
        "Failed to update the instance profile.",
    ),
    (
        "WORKSPACE_CONFIGURATION_ERROR",
        Group::C,
        "Workspace config in error state (config issue or customer-side ACL change, e.g. cross-account role).",
    ),
    (
        "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
        Group::P,
        "AWS had insufficient capacity for the instance type in the chosen AZ (often with zone_id=auto).",
    ),
    (
        "AWS_REQUEST_LIMIT_EXCEEDED",
        Group::P,
        "EC2 API request-rate limit for the AWS account was exceeded (throttled by AWS).",
    ),
    (
        "AWS_UNSUPPORTED_FAILURE",
        Group::P,
        "AWS rejected the request as unsupported (vague; many causes, e.g. instance type not offered in AZ).",
    ),
    (
        "BOOTSTRAP_TIMEOUT_CLOUD_PROVIDER_EXCEPTION",
        Group::P,
        "Bootstrap timeout caused by a cloud-provider extension/service failure.",
    ),
    (
        "CLOUD_PROVIDER_DISK_SETUP_FAILURE",
        Group::P,
        "Disk setup failed during instance bootstrap (e.g. NVMe device id conversion).",
    ),
    (
        "CLOUD_PROVIDER_INSTANCE_NOT_LAUNCHED",
        Group::P,
        "Provider reported success but the instance never materialised.",
    ),
    (
        "CLOUD_PROVIDER_LAUNCH_FAILURE",
        Group::P,
        "Provider refused/failed the instance request (limits, EBS limits, spot...); see aws_api_error_code etc. in parameters.",
    ),
    (
        "CLOUD_PROVIDER_RESOURCE_STOCKOUT",
        Group::P,
        "Transient provider capacity stock-out; retryable.",
    ),
    (
        "CLOUD_PROVIDER_SHUTDOWN",
        Group::P,
        "The driver's instance was terminated by the cloud provider (e.g. AWS retirement); see aws_instance_state_reason.",
    ),
    (
        "SPOT_INSTANCE_TERMINATION",
        Group::P,
        "Spot instance reclaimed by the cloud provider.",
    ),
    (
        "COMMUNICATION_LOST",
        Group::R,
        "Lost connection to services on the driver (cloud networking issue or unhealthy instance).",
    ),
    (
        "DBFS_COMPONENT_UNHEALTHY",
        Group::R,
        "DBFS could not be reached.",
    ),
    (
        "DRIVER_NODE_UNREACHABLE",
        Group::R,
        "Could not contact the driver's agent / node daemon on the driver node.",
    ),
    (
        "DRIVER_UNHEALTHY",
        Group::R,
        "Driver has been down or unresponsive for an extended period.",
    ),
    (
        "DRIVER_UNREACHABLE",
        Group::R,
        "Driver was not reachable (no response from the driver agent).",
    ),
    (
        "DRIVER_UNRESPONSIVE",
        Group::R,
        "Driver was reachable but unresponsive (e.g. long GC / overload).",
    ),
    (
        "EXECUTION_COMPONENT_UNHEALTHY",
        Group::R,
        "Execution component unhealthy.",
    ),
    (
        "HIVEMETASTORE_CONNECTIVITY_FAILURE",
        Group::R,
        "Hive metastore connectivity check failed.",
    ),
    (
        "METASTORE_COMPONENT_UNHEALTHY",
        Group::R,
        "External/Hive metastore could not be reached.",
    ),
    (
        "SPARK_ERROR",
        Group::R,
        "Spark driver failed to start (incompatible libraries / init scripts corrupting container).",
    ),
    (
        "ACCESS_TOKEN_FAILURE",
        Group::L,
        "Could not fetch the internal token needed to install init scripts from workspace files / UC volumes.",
    ),
    (
        "ATTACH_PROJECT_FAILURE",
        Group::L,
        "Internal 'attach projects' step failed during launch.",
    ),
    (
        "BOOTSTRAP_TIMEOUT",
        Group::L,
        "Timed out pinging the node daemon: daemon did not start, or network connectivity problem.",
    ),
    (
        "CONTAINER_LAUNCH_FAILURE",
        Group::L,
        "Could not launch containers on worker nodes (check network configuration).",
    ),
    (
        "CONTROL_PLANE_CONNECTION_FAILURE",
        Group::L,
        "Nodes could not connect to the Databricks control plane.",
    ),
    (
        "CONTROL_PLANE_REQUEST_FAILURE",
        Group::L,
        "Bootstrap timeout: node could not fetch its runbook from the control plane.",
    ),
    (
        "HIVE_METASTORE_PROVISIONING_FAILURE",
        Group::L,
        "Hive metastore provisioning failed in the launch-container step.",
    ),
    (
        "INIT_CONTAINER_NOT_FINISHED",
        Group::L,
        "Databricks-owned bootstrap init-containers failed/timed out (refinement of SPARK_STARTUP_FAILURE).",
    ),
    (
        "INSTANCE_UNREACHABLE",
        Group::L,
        "Could not reach instances to start the cluster; transient, or persistent network misconfiguration.",
    ),
    (
        "MTLS_PORT_CONNECTIVITY_FAILURE",
        Group::L,
        "Mutual-TLS port 8443 connectivity check failed (egress/firewall).",
    ),
    (
        "NETWORK_CHECK_CONTROL_PLANE_FAILURE",
        Group::L,
        "Network health check: control-plane unreachable.",
    ),
    (
        "NETWORK_CHECK_DNS_SERVER_FAILURE",
        Group::L,
        "Network health check: DNS server failure.",
    ),
    (
        "NETWORK_CHECK_METADATA_ENDPOINT_FAILURE",
        Group::L,
        "Network health check: instance metadata endpoint unreachable.",
    ),
    (
        "NETWORK_CHECK_MULTIPLE_COMPONENTS_FAILURE",
        Group::L,
        "Network health check: several components failed.",
    ),
    (
        "NETWORK_CHECK_NIC_FAILURE",
        Group::L,
        "Network health check: NIC failure.",
    ),
    (
        "NETWORK_CHECK_STORAGE_FAILURE",
        Group::L,
        "Network health check: storage (e.g. S3/artifacts) unreachable.",
    ),
    (
        "NFS_MOUNT_FAILURE",
        Group::L,
        "Mounting remote NFS into the container failed.",
    ),
    (
        "NPIP_TUNNEL_SETUP_FAILURE",
        Group::L,
        "Secure-cluster-connectivity (no public IP) tunnel setup failed/timed out - nodes cannot reach the relay.",
    ),
    (
        "SECRET_CREATION_FAILURE",
        Group::L,
        "Dynamic secret generation failed.",
    ),
    (
        "SECURITY_DAEMON_REGISTRATION_EXCEPTION",
        Group::L,
        "Container registration with the security daemon failed (unspecified).",
    ),
    (
        "SELF_BOOTSTRAP_FAILURE",
        Group::L,
        "Self-bootstrap fast-fail or node-daemon ping timeout.",
    ),
    (
        "SKIPPED_SLOW_NODES",
        Group::L,
        "Start completed but some slow-to-launch instances were skipped.",
    ),
    (
        "SLOW_IMAGE_DOWNLOAD",
        Group::L,
        "Timed out downloading the Spark image (throttled large downloads in BYO-VPC).",
    ),
    (
        "SPARK_IMAGE_DOWNLOAD_FAILURE",
        Group::L,
        "Downloading/extracting the Spark image failed.",
    ),
    (
        "SPARK_STARTUP_FAILURE",
        Group::L,
        "Cluster failed to initialise Spark (environment creation or master/worker launch failed).",
    ),
    (
        "SSH_BOOTSTRAP_FAILURE",
        Group::L,
        "Instance setup via SSH bootstrap failed.",
    ),
    (
        "STORAGE_DOWNLOAD_FAILURE",
        Group::L,
        "Bootstrap timeout due to script/artifact download failure.",
    ),
    (
        "STORAGE_DOWNLOAD_FAILURE_SLOW",
        Group::L,
        "Artifact download too slow.",
    ),
    (
        "STS_CLIENT_SETUP_FAILURE",
        Group::L,
        "Security-daemon registration failed due to STS endpoint connection error (check STS reachability/VPC endpoint).",
    ),
    (
        "UNEXPECTED_LAUNCH_FAILURE",
        Group::L,
        "Databricks failed to complete critical setup steps while launching.",
    ),
    (
        "WORKER_SETUP_FAILURE",
        Group::L,
        "Worker setup failed during bootstrap (usually disk or GPU setup).",
    ),
    (
        "CLUSTER_OPERATION_THROTTLED",
        Group::S,
        "Cloud operations for the cluster were shed due to provider/control-plane load.",
    ),
    (
        "CLUSTER_OPERATION_TIMEOUT",
        Group::S,
        "A cluster operation missed its deadline / timed out.",
    ),
    (
        "DATABASE_CONNECTION_FAILURE",
        Group::S,
        "Terminated due to an internal database failure.",
    ),
    (
        "INSTANCE_POOL_CLUSTER_FAILURE",
        Group::S,
        "Pool-backed-cluster specific failure.",
    ),
    (
        "INTERNAL_ERROR",
        Group::S,
        "Unexpected Databricks error forced termination; contact support if persistent.",
    ),
    (
        "INVALID_INSTANCE_PLACEMENT_PROTOCOL",
        Group::S,
        "Placement-protocol rollout/rollback race; a retry fixes it.",
    ),
    (
        "INVALID_WORKER_IMAGE_FAILURE",
        Group::S,
        "Pool instances lacked a valid worker image (e.g. after AMI upgrades).",
    ),
    (
        "NPIP_TUNNEL_TOKEN_FAILURE",
        Group::S,
        "Provisioning the SCC tunnel token failed.",
    ),
    (
        "RATE_LIMITED",
        Group::S,
        "Undocumented; the request was rate limited.",
    ),
    (
        "REQUEST_REJECTED",
        Group::S,
        "Databricks could not handle the request now (upsize blocked); retry later.",
    ),
    (
        "REQUEST_THROTTLED",
        Group::S,
        "Databricks throttled the request; retry later.",
    ),
    (
        "SECRET_RESOLUTION_ERROR",
        Group::S,
        "Catch-all secret resolution failure at launch (server-side).",
    ),
    (
        "SPARK_IMAGE_DOWNLOAD_THROTTLED",
        Group::S,
        "Spark image download throttled by storage servers.",
    ),
    (
        "STORAGE_DOWNLOAD_FAILURE_THROTTLED",
        Group::S,
        "Artifact download throttled by the download server.",
    ),
    (
        "TEMPORARILY_UNAVAILABLE",
        Group::S,
        "Databricks services temporarily unavailable (e.g. cluster manager restarting); retry.",
    ),
    (
        "UNKNOWN",
        Group::S,
        "Default when there is no termination code.",
    ),
    (
        "ALLOCATION_TIMEOUT",
        Group::K,
        "Serverless/lazy allocation timed out, reason unknown.",
    ),
    (
        "ALLOCATION_TIMEOUT_NODE_DAEMON_NOT_READY",
        Group::K,
        "Lazy allocation timeout: no candidate with node daemon ready.",
    ),
    (
        "ALLOCATION_TIMEOUT_NO_HEALTHY_AND_WARMED_UP_CLUSTERS",
        Group::K,
        "Lazy allocation timeout: no healthy and warmed-up candidate.",
    ),
    (
        "ALLOCATION_TIMEOUT_NO_HEALTHY_CLUSTERS",
        Group::K,
        "Lazy allocation timeout: no healthy candidate.",
    ),
    (
        "ALLOCATION_TIMEOUT_NO_MATCHED_CLUSTERS",
        Group::K,
        "Lazy allocation timeout: no matching unallocated candidate.",
    ),
    (
        "ALLOCATION_TIMEOUT_NO_READY_CLUSTERS",
        Group::K,
        "Lazy allocation timeout: no unallocated ready candidate.",
    ),
    (
        "ALLOCATION_TIMEOUT_NO_UNALLOCATED_CLUSTERS",
        Group::K,
        "Lazy allocation timeout: no unallocated candidate.",
    ),
    (
        "ALLOCATION_TIMEOUT_NO_WARMED_UP_CLUSTERS",
        Group::K,
        "Lazy allocation timeout: no matching warmed-up candidate.",
    ),
    (
        "CLOUD_ACCOUNT_POD_QUOTA_EXCEEDED",
        Group::K,
        "Serverless/K8s: per-cloud-account pod quota reached.",
    ),
    (
        "DBR_IMAGE_RESOLUTION_FAILURE",
        Group::K,
        "Could not resolve a DBR image for a versionless workload.",
    ),
    (
        "DRIVER_EVICTION",
        Group::K,
        "Driver pod evicted (serverless/K8s data plane).",
    ),
    (
        "DRIVER_LAUNCH_TIMEOUT",
        Group::K,
        "K8s data plane: driver pod took too long to become ready.",
    ),
    (
        "DRIVER_OUT_OF_DISK",
        Group::K,
        "K8s data plane: driver pod evicted for disk pressure (customer workload).",
    ),
    (
        "DRIVER_OUT_OF_MEMORY",
        Group::K,
        "K8s data plane: driver pod evicted for memory pressure.",
    ),
    (
        "DRIVER_POD_CREATION_FAILURE",
        Group::K,
        "Driver pod creation failed (serverless).",
    ),
    (
        "DRIVER_UNEXPECTED_FAILURE",
        Group::K,
        "K8s data plane: unexpected failure launching the driver pod.",
    ),
    (
        "EXECUTOR_POD_UNSCHEDULED",
        Group::K,
        "Could not acquire executor pods from the pod pool.",
    ),
    (
        "INTERNAL_CAPACITY_FAILURE",
        Group::K,
        "Serverless: insufficient provisioned K8s capacity or cloud quota.",
    ),
    (
        "K8S_ACTIVE_POD_QUOTA_EXCEEDED",
        Group::K,
        "Serverless/K8s: too many active pods on the K8s cluster.",
    ),
    (
        "K8S_AUTOSCALING_FAILURE",
        Group::K,
        "K8s failed to scale up nodes.",
    ),
    (
        "K8S_DBR_CLUSTER_LAUNCH_TIMEOUT",
        Group::K,
        "DBR cluster on K8s did not start in time.",
    ),
    (
        "LAZY_ALLOCATION_TIMEOUT",
        Group::K,
        "Lazy allocation timed out before any internal cluster was allocated.",
    ),
    (
        "NEPHOS_RESOURCE_MANAGEMENT",
        Group::K,
        "Terminated by serverless resource-pool auto-management.",
    ),
    (
        "NETVISOR_SETUP_TIMEOUT",
        Group::K,
        "Serverless: network-readiness signal timed out.",
    ),
    (
        "NO_MATCHED_K8S",
        Group::K,
        "Serverless only: no eligible K8s cluster.",
    ),
    (
        "NO_MATCHED_K8S_TESTING_TAG",
        Group::K,
        "Serverless only: preselected K8s cluster not eligible.",
    ),
    (
        "POD_ASSIGNMENT_FAILURE",
        Group::K,
        "Driver/executor pod failed to finish assigning.",
    ),
    (
        "POD_SCHEDULING_FAILURE",
        Group::K,
        "Driver/executor pod could not be scheduled.",
    ),
    (
        "SERVERLESS_LONG_RUNNING_TERMINATED",
        Group::K,
        "Long-running serverless generic compute job terminated by watcher.",
    ),
    (
        "UNEXPECTED_POD_RECREATION",
        Group::K,
        "K8s data plane: unexpected new driver pod created.",
    ),
    (
        "AZURE_BYOK_KEY_PERMISSION_FAILURE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_EPHEMERAL_DISK_FAILURE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_INVALID_DEPLOYMENT_TEMPLATE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_OPERATION_NOT_ALLOWED_EXCEPTION",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_PACKED_DEPLOYMENT_PARTIAL_FAILURE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_QUOTA_EXCEEDED_EXCEPTION",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_RESOURCE_MANAGER_THROTTLING",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_RESOURCE_PROVIDER_THROTTLING",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_UNEXPECTED_DEPLOYMENT_TEMPLATE_FAILURE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_VM_EXTENSION_FAILURE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "AZURE_VNET_CONFIGURATION_FAILURE",
        Group::Z,
        "Azure-only code (never on AWS).",
    ),
    (
        "GCP_API_RATE_QUOTA_EXCEEDED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_DENIED_BY_ORG_POLICY",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    ("GCP_FORBIDDEN", Group::G, "GCP-only code (never on AWS)."),
    ("GCP_IAM_TIMEOUT", Group::G, "GCP-only code (never on AWS)."),
    (
        "GCP_INACCESSIBLE_KMS_KEY_FAILURE",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_INSUFFICIENT_CAPACITY",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_IP_SPACE_EXHAUSTED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_KMS_KEY_PERMISSION_DENIED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    ("GCP_NOT_FOUND", Group::G, "GCP-only code (never on AWS)."),
    (
        "GCP_QUOTA_EXCEEDED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_RESOURCE_QUOTA_EXCEEDED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_SERVICE_ACCOUNT_ACCESS_DENIED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_SERVICE_ACCOUNT_DELETED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_SERVICE_ACCOUNT_NOT_FOUND",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_SUBNET_NOT_READY",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GCP_TRUSTED_IMAGE_PROJECTS_VIOLATED",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
    (
        "GKE_BASED_CLUSTER_TERMINATION",
        Group::G,
        "GCP-only code (never on AWS).",
    ),
];

/// Classifies a termination reason.
pub fn classify(reason: &TerminationReason) -> Classification {
    let code = reason.code.trim();
    if reason.kind == "SUCCESS" {
        return Classification::Expected;
    }
    let group = CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, g, _)| *g);
    if group == Some(Group::U) {
        return Classification::Expected;
    }
    if code == "CLOUD_PROVIDER_LAUNCH_FAILURE" && is_capacity(reason) {
        return Classification::Failure(ErrorType::DatabricksResourceExhausted);
    }
    if let Some((_, error_type)) = OVERRIDES.iter().find(|(c, _)| *c == code) {
        return Classification::Failure(*error_type);
    }
    Classification::Failure(match group.and_then(group_type) {
        Some(error_type) => error_type,
        None => by_type(&reason.kind),
    })
}

/// The error type the table gives `code` whatever the reason's parameters and type, `None` for a
/// code that is expected or classified by type (unknown, serverless, other clouds). Playbook keys
/// use it: a code's default playbook is its type's.
pub fn error_type_of_code(code: &str) -> Option<ErrorType> {
    if let Some((_, error_type)) = OVERRIDES.iter().find(|(c, _)| *c == code) {
        return Some(*error_type);
    }
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .and_then(|(_, g, _)| group_type(*g))
}

/// The API's meaning of `code`, for alerts and pages; `None` for a code the table does not know.
pub fn meaning(code: &str) -> Option<&'static str> {
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, _, m)| *m)
}

/// Every code of the table, in table order (for tests and documentation).
pub fn known_codes() -> impl Iterator<Item = &'static str> {
    CODES.iter().map(|(c, _, _)| *c)
}

fn group_type(group: Group) -> Option<ErrorType> {
    Some(match group {
        Group::A => ErrorType::DatabricksAdministrativeTermination,
        Group::C => ErrorType::DatabricksConfigurationError,
        Group::P => ErrorType::DatabricksClusterTerminated,
        Group::R => ErrorType::DatabricksDriverNotResponding,
        Group::L => ErrorType::DatabricksClusterStartFailure,
        Group::S => ErrorType::DatabricksServiceFault,
        Group::U | Group::K | Group::Z | Group::G => return None,
    })
}

/// The fallback for a code the table does not map.
fn by_type(kind: &str) -> ErrorType {
    match kind {
        "CLOUD_FAILURE" => ErrorType::DatabricksClusterTerminated,
        "CLIENT_ERROR" => ErrorType::DatabricksConfigurationError,
        "SERVICE_FAULT" => ErrorType::DatabricksServiceFault,
        _ => ErrorType::DatabricksUnclassified,
    }
}

fn is_capacity(reason: &TerminationReason) -> bool {
    let param = |key: &str| reason.parameters.get(key).map(|v| v.trim());
    param("aws_api_error_code").is_some_and(|v| CAPACITY_AWS_ERRORS.contains(&v))
        || param("aws_spot_request_status").is_some_and(|v| CAPACITY_SPOT_STATUSES.contains(&v))
}
