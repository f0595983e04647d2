//! The validated environment model: every value present, defaults applied, cross-references checked.
//!
//! The generator reads only this; it never sees TOML. Defaults are the reference architecture's
//! values (see `defaults.rs`), so a short file describes the whole inventory.

use ipnet::Ipv4Net;

/// One environment, as validated from `environments/<name>.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub environment: Environment,
    pub state: StateBackend,
    pub account: DatabricksAccount,
    pub network: Network,
    pub kms: Vec<KmsKey>,
    pub buckets: Buckets,
    pub iam: Iam,
    pub databricks: Databricks,
    pub access: Access,
    /// `[serve]`: the access service (`brickstack serve`); `None` when the file has no `[serve]`.
    pub serve: Option<Serve>,
    /// `[monitor]`: the cluster-failure monitor of `brickstack serve` (docs/monitor.md); `None`
    /// when the file has no `[monitor]`.
    pub monitor: Option<Monitor>,
    pub sleep: Sleep,
    /// `[account_groups.<key>]`: groups of the Databricks account (not of one workspace), with
    /// their permission on the environment's workspace (docs/unity-catalog.md).
    pub account_groups: Vec<AccountGroup>,
    /// `[unity_catalog]`: the metastore and its data (docs/unity-catalog.md); `None` when the file
    /// has no `[unity_catalog]`.
    pub unity_catalog: Option<UnityCatalog>,
}

/// The deployment stage, from the naming convention (prod, pp, dev, qa, staging).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Prod,
    PreProd,
    Dev,
    Qa,
    Staging,
}

impl Stage {
    pub const NAMES: [&'static str; 5] = ["prod", "pp", "dev", "qa", "staging"];

    pub fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "prod" => Stage::Prod,
            "pp" => Stage::PreProd,
            "dev" => Stage::Dev,
            "qa" => Stage::Qa,
            "staging" => Stage::Staging,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prod => "prod",
            Stage::PreProd => "pp",
            Stage::Dev => "dev",
            Stage::Qa => "qa",
            Stage::Staging => "staging",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// The environment's name; also the state file name and the `brickstack:environment` tag.
    pub name: String,
    pub stage: Stage,
    /// Region or team qualifiers of the naming convention, e.g. `["eu", "datateam"]`.
    pub qualifiers: Vec<String>,
    /// Prefix of every object name (buckets, roles, Databricks objects).
    pub prefix: String,
    pub region: String,
    /// Tags on every object that takes tags, besides brickstack's own.
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StateBackend {
    /// `state/<environment>.json` beside the specs: the embedded default.
    Local {
        path: String,
    },
    S3(S3Backend),
}

#[derive(Debug, Clone, PartialEq)]
pub struct S3Backend {
    pub bucket: String,
    pub key: String,
    pub lock_table: String,
    /// Alias of the KMS key that encrypts the state object, without `alias/`.
    pub kms_key_alias: String,
    pub region: String,
}

impl S3Backend {
    /// The names an `s3` backend gets when the spec names nothing.
    pub fn default_for(env: &Environment) -> S3Backend {
        S3Backend {
            bucket: format!("{}-{}-state", env.prefix, env.region),
            key: format!("{}/brickstack.json", env.name),
            lock_table: format!("{}-state-lock", env.prefix),
            kms_key_alias: format!("{}-state", env.prefix),
            region: env.region.clone(),
        }
    }
}

/// The Databricks account, reached as an OAuth service principal whose credentials live in SSM.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabricksAccount {
    pub account_id: String,
    /// Account console host; overridable so emulators can stand in.
    pub host: String,
    pub client_id_parameter: String,
    pub client_secret_parameter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatMode {
    None,
    Single,
    PerAz,
}

impl NatMode {
    pub const NAMES: [&'static str; 3] = ["none", "single", "per_az"];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub az: String,
    pub cidr: Ipv4Net,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The VPC's Name tag, also the stem of its route-table and subnet names.
    pub name: String,
    pub cidr: Ipv4Net,
    pub private_subnets: Vec<Subnet>,
    pub public_subnets: Vec<Subnet>,
    pub nat: NatMode,
    pub dns_hostnames: bool,
    pub dns_support: bool,
    pub endpoints: Endpoints,
    pub flow_logs: Option<FlowLogs>,
    pub default_security_group: DefaultSecurityGroup,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    pub s3_gateway: bool,
    pub sts: bool,
    pub kinesis_streams: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowLogs {
    /// Key of the bucket receiving the logs (in [`Buckets`]).
    pub bucket: String,
    pub traffic_type: String,
    pub max_aggregation_interval: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefaultSecurityGroup {
    pub name: String,
    /// Allow all traffic between members of the group (what Databricks clusters need).
    pub allow_internal: bool,
    /// Allow all egress.
    pub allow_all_egress: bool,
}

/// A customer-managed KMS key and its alias.
#[derive(Debug, Clone, PartialEq)]
pub struct KmsKey {
    /// The key's name in the spec (`logging`, `datalake`), used by references.
    pub name: String,
    /// Alias name without `alias/`.
    pub alias: String,
    pub description: String,
    pub rotation: bool,
    pub deletion_window_days: i64,
    /// Let the VPC flow-log and CloudWatch/CloudTrail services use the key (logging keys).
    pub allow_log_services: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleRule {
    pub transition_to_glacier_days: Option<i64>,
    pub expire_days: Option<i64>,
    pub noncurrent_expire_days: Option<i64>,
}

/// What a bucket is for; decides its policy and who writes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketRole {
    /// S3 access logs and VPC flow logs.
    AccessLogs,
    /// Databricks billable-usage, audit and cluster logs.
    DatabricksLogs,
    /// The workspace root (DBFS) bucket.
    WorkspaceRoot,
    /// A datalake layer.
    Datalake,
    /// The Unity Catalog metastore's root bucket (`[unity_catalog] bucket`), hardened as the
    /// datalake layers are.
    Metastore,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Key in the spec: `access_logs`, `databricks_logs`, `workspace_root`, or the layer name.
    pub key: String,
    pub role: BucketRole,
    /// The full, global bucket name (prefix applied).
    pub name: String,
    /// Name of the KMS key (in [`Spec::kms`]) used for SSE-KMS.
    pub kms_key: String,
    pub versioning: bool,
    pub lifecycle: Option<LifecycleRule>,
    /// Deny uploads without SSE-KMS.
    pub enforce_sse_kms: bool,
    /// Deny requests not over TLS.
    pub enforce_tls: bool,
    /// Send S3 access logs to the access-logs bucket.
    pub access_logging: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    /// Every bucket: the three service buckets first, then the datalake layers in file order,
    /// then the metastore's (key `metastore`) when `[unity_catalog]` is on.
    pub all: Vec<Bucket>,
}

impl Buckets {
    pub fn get(&self, key: &str) -> Option<&Bucket> {
        self.all.iter().find(|b| b.key == key)
    }

    pub fn by_role(&self, role: BucketRole) -> impl Iterator<Item = &Bucket> {
        self.all.iter().filter(move |b| b.role == role)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Iam {
    pub cross_account_role: String,
    pub log_delivery_role: String,
    pub meta_role: String,
    pub read_role: String,
    pub write_role: String,
    /// Attach Glue catalog access to the write role.
    pub glue_access: bool,
    /// Keep the `ec2:ResourceTag/Vendor = Databricks` conditions of the cross-account policy.
    pub restrict_to_databricks_tags: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAccess {
    None,
    Read,
    Write,
}

impl DataAccess {
    pub const NAMES: [&'static str; 3] = ["none", "read", "write"];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Key in the spec, used in references and addresses.
    pub key: String,
    pub display_name: String,
    pub data_access: DataAccess,
    pub allow_cluster_create: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Autoscale {
    pub min_workers: i64,
    pub max_workers: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwsAttributes {
    pub availability: String,
    pub first_on_demand: i64,
    pub spot_bid_price_percent: i64,
    pub ebs_volume_count: i64,
    pub ebs_volume_size_gb: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub key: String,
    pub name: String,
    pub spark_version: String,
    pub node_type_id: String,
    pub autoscale: Autoscale,
    pub autotermination_minutes: i64,
    pub aws_attributes: AwsAttributes,
    pub spark_conf: Vec<(String, String)>,
    /// Prefix under the Databricks logs bucket for cluster logs; `None` disables log delivery.
    pub log_prefix: Option<String>,
    /// Key of a cluster policy in the spec.
    pub policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPolicy {
    pub key: String,
    pub name: String,
    /// The policy definition, JSON text as the API takes it.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IpAccessList {
    pub key: String,
    pub label: String,
    /// `ALLOW` or `BLOCK`.
    pub list_type: String,
    pub ip_addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretScope {
    pub key: String,
    pub name: String,
    /// Groups (keys) granted READ on the scope.
    pub readers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    pub lifetime_seconds: i64,
    /// Rotate a token this many seconds before it expires.
    pub rotate_before_seconds: i64,
    /// SSM path under which token values are stored as SecureString parameters.
    pub parameter_prefix: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Databricks {
    pub workspace_name: String,
    /// Name of the KMS key used as the workspace storage CMK (DBFS and EBS).
    pub storage_cmk: String,
    pub pricing_tier: String,
    pub log_delivery_billable_usage: bool,
    pub log_delivery_audit_logs: bool,
    pub service_principal_name: String,
    pub tokens: Tokens,
    pub groups: Vec<Group>,
    /// Group (key) granted the meta instance profile, beside the built-in admins.
    pub meta_instance_profile_groups: Vec<String>,
    /// Write the SSE-KMS core-site.xml to DBFS and enable the init script that installs it.
    pub dbfs_sse_kms: bool,
    pub clusters: Vec<Cluster>,
    pub cluster_policies: Vec<ClusterPolicy>,
    pub ip_access_lists: Vec<IpAccessList>,
    pub max_token_lifetime_days: Option<i64>,
    pub secret_scopes: Vec<SecretScope>,
}

/// A library installed on every single-user cluster, as the Libraries API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    /// `pypi = "pkg==1.0"`: a PyPI requirement.
    Pypi(String),
    /// `maven = "group:artifact:version"`.
    Maven(String),
    /// `jar = "s3://…"`.
    Jar(String),
    /// `whl = "s3://…"`.
    Whl(String),
}

impl Library {
    /// The spec keys, one per variant, in the order the decoder reads them.
    pub const KEYS: [&'static str; 4] = ["pypi", "maven", "jar", "whl"];
}

/// A person named in the spec; `email` is lower-cased, as Databricks compares user names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub email: String,
}

/// `[access]`: who gets what in the workspace (`docs/access.md`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Access {
    /// `[access.single_user_clusters]`; `None` when the file has none, and then nobody gets one.
    pub single_user_clusters: Option<SingleUserClusters>,
}

/// What a person may do with their single-user cluster (Databricks cluster permission levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionLevel {
    CanAttachTo,
    CanRestart,
    CanManage,
}

impl PermissionLevel {
    pub const NAMES: [&'static str; 3] = ["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionLevel::CanAttachTo => "CAN_ATTACH_TO",
            PermissionLevel::CanRestart => "CAN_RESTART",
            PermissionLevel::CanManage => "CAN_MANAGE",
        }
    }
}

/// A single-user cluster's access mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSecurityMode {
    /// `SINGLE_USER`: the default.
    SingleUser,
    /// `DATA_SECURITY_MODE_DEDICATED`: the newer name of the same mode.
    Dedicated,
    /// `LEGACY_SINGLE_USER`: credential passthrough, which Databricks has deprecated; accepted so
    /// an existing setup can be described, never the default.
    LegacySingleUser,
}

impl DataSecurityMode {
    pub const NAMES: [&'static str; 3] = [
        "SINGLE_USER",
        "DATA_SECURITY_MODE_DEDICATED",
        "LEGACY_SINGLE_USER",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataSecurityMode::SingleUser => "SINGLE_USER",
            DataSecurityMode::Dedicated => "DATA_SECURITY_MODE_DEDICATED",
            DataSecurityMode::LegacySingleUser => "LEGACY_SINGLE_USER",
        }
    }
}

/// How a person's cluster is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `firstname_lastname_su_cluster`, from the e-mail's local part.
    FirstLast,
}

impl Naming {
    pub const NAMES: [&'static str; 1] = ["first_last"];
}

/// The cluster every person gets.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleUserClusterTemplate {
    pub spark_version: String,
    pub node_type_id: String,
    /// `0`: a single-node cluster (driver only).
    pub num_workers: i64,
    pub autotermination_minutes: i64,
    pub data_security_mode: DataSecurityMode,
    /// Key of a cluster policy in `[databricks.cluster_policies]`.
    pub policy: Option<String>,
    /// Run with the workspace's meta instance profile (its data roles).
    pub instance_profile: bool,
}

/// Slack incoming webhooks, by the SSM SecureString parameters that hold their URLs.
#[derive(Debug, Clone, PartialEq)]
pub struct Notifications {
    /// Where the person's "your cluster is ready" message goes.
    pub user_webhook_parameter: String,
    /// Where a failed step's alarm goes.
    pub alarms_webhook_parameter: String,
}

/// `[access.single_user_clusters]`: a personal single-user cluster for each person.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleUserClusters {
    /// People listed by e-mail, lower-cased, each once.
    pub users: Vec<User>,
    /// Workspace groups (display names) whose members get a cluster, read at run time.
    pub groups: Vec<String>,
    /// Account groups (display names) whose members get a cluster, read at run time.
    pub account_groups: Vec<String>,
    pub permission_level: PermissionLevel,
    /// How long a departed person's resources stay before they are deleted.
    pub removal_grace_seconds: u64,
    pub naming: Naming,
    pub cluster: SingleUserClusterTemplate,
    pub libraries: Vec<Library>,
    pub notifications: Notifications,
}

/// How callers of the access service authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeAuth {
    /// `x-api-key: KEY`.
    ApiKey,
    /// An HMAC-SHA256 signature of the timestamp and body.
    Hmac,
}

impl ServeAuth {
    pub const NAMES: [&'static str; 2] = ["api_key", "hmac"];

    pub fn as_str(self) -> &'static str {
        match self {
            ServeAuth::ApiKey => "api_key",
            ServeAuth::Hmac => "hmac",
        }
    }
}

/// `[serve]`: the access service's address and authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct Serve {
    pub listen: std::net::SocketAddr,
    pub auth: ServeAuth,
    /// SSM SecureString parameter holding the API key or HMAC secret.
    pub key_parameter: String,
}

/// `[monitor]` (docs/monitor.md). Durations are whole seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    /// Poll interval; default 30.
    pub interval_seconds: u64,
    /// Default true; false makes every ticket ticket-only.
    pub auto_remediation: bool,
    /// The leader lease's time to live; default 60.
    pub lease_seconds: u64,
    /// The records' SQLite file; default `state/<environment>.monitor.sqlite`.
    pub records: String,
    /// SSM SecureString parameter with the `x-api-key` of `POST /databricks-monitor`; without it
    /// the push route answers 404.
    pub api_key_parameter: Option<String>,
    /// SSM SecureString parameters with the Basic auth user and password of
    /// `POST /databricks-monitor/jobs`; both or neither (neither: the route answers 404).
    pub job_webhook: Option<MonitorJobWebhook>,
    /// SSM SecureString parameter with the Slack incoming webhook URL for tickets, recoveries and
    /// breakers; without it the monitor only records.
    pub slack_webhook_parameter: Option<String>,
    pub scope: MonitorScope,
    pub breaker: MonitorBreaker,
    /// `[monitor.playbooks.<key>]`, key = an error type name (`DatabricksResourceExhausted`) or a
    /// termination code (`BOOTSTRAP_TIMEOUT`), in file order. Only what the file sets; the
    /// monitor's defaults fill the rest.
    pub playbooks: Vec<PlaybookSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorJobWebhook {
    pub username_parameter: String,
    pub password_parameter: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorScope {
    /// Clusters carrying every one of these custom tags are remediated; empty = no tag rule.
    pub tags: Vec<(String, String)>,
    /// Keys of `[databricks.cluster_policies]`: clusters under these policies are remediated.
    pub policies: Vec<String>,
    /// `unmanaged = "remediate"`: every cluster is remediated; default `"ticket"`.
    pub remediate_unmanaged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorBreaker {
    /// Default 3, at least 1.
    pub threshold: u32,
    /// Default 3600.
    pub window_seconds: u64,
    /// Default 900.
    pub cooldown_seconds: u64,
}

/// One `[monitor.playbooks.<key>]`; `None` = the monitor's default for that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookSpec {
    pub key: String,
    /// `restart`, `restart_with_fallback`, `resize`, `restart_with_longer_timeout`, `none`.
    pub action: String,
    pub timeout_seconds: Option<u64>,
    pub health_check_timeout_seconds: Option<u64>,
    pub on_demand: Option<bool>,
    pub instance_types: Vec<String>,
    pub zones: Vec<String>,
    pub resize_to: Option<i64>,
    pub longer_timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// `HH:MM`, local to `time_zone`.
    pub sleep_at: String,
    pub wake_at: String,
    /// IANA time zone name, e.g. `Europe/Madrid`.
    pub time_zone: String,
    /// `mon` .. `sun`.
    pub days: Vec<String>,
}

/// Which parts of the network `brickstack sleep` destroys and `wake` recreates, at which prices;
/// the schedule is parsed and validated, and run by a later issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Sleep {
    pub nat: bool,
    pub interface_endpoints: bool,
    pub s3_gateway_endpoint: bool,
    pub schedule: Option<Schedule>,
    /// Hourly prices in USD overriding the built-in table, e.g. `nat_gateway = "0.048"`.
    pub hourly_prices: Vec<(String, String)>,
}

/// A workspace permission an account group is given (`/permissionassignments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspacePermission {
    User,
    Admin,
}

impl WorkspacePermission {
    /// The API's spelling: `USER`, `ADMIN`.
    pub fn as_api(self) -> &'static str {
        match self {
            WorkspacePermission::User => "USER",
            WorkspacePermission::Admin => "ADMIN",
        }
    }
}

/// One `[account_groups.<key>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountGroup {
    pub key: String,
    /// The group's name in the account; default `<prefix>-<key>`.
    pub display_name: String,
    /// Its permission on the environment's workspace; `None`: not assigned to it.
    pub workspace_permission: Option<WorkspacePermission>,
}

/// A grant of privileges on a catalog or schema to an account group.
#[derive(Debug, Clone, PartialEq)]
pub struct UcGrant {
    /// Key of `[account_groups]`.
    pub group: String,
    /// Unity Catalog privileges, upper case (`USE_CATALOG`, `USE_SCHEMA`, `SELECT`, `MODIFY`, ...).
    pub privileges: Vec<String>,
}

/// One schema of a catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct UcSchema {
    pub name: String,
    pub grants: Vec<UcGrant>,
}

impl UcSchema {
    /// The privileges Unity Catalog grants on a schema.
    pub const PRIVILEGES: [&'static str; 16] = [
        "ALL_PRIVILEGES",
        "APPLY_TAG",
        "CREATE_FUNCTION",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_MODEL",
        "CREATE_TABLE",
        "CREATE_VOLUME",
        "EXECUTE",
        "EXTERNAL_USE_SCHEMA",
        "MANAGE",
        "MODIFY",
        "READ_VOLUME",
        "REFRESH",
        "SELECT",
        "USE_SCHEMA",
        "WRITE_VOLUME",
    ];
}

/// One `[unity_catalog.catalogs.<key>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct UcCatalog {
    pub key: String,
    /// The catalog's name in the metastore; default `<prefix with _>_<key>`.
    pub name: String,
    /// Key of the datalake bucket whose external location is the catalog's storage root;
    /// default the layer of the same key when there is one.
    pub storage: Option<String>,
    pub comment: String,
    pub schemas: Vec<UcSchema>,
    pub grants: Vec<UcGrant>,
}

impl UcCatalog {
    /// The privileges Unity Catalog grants on a catalog: a schema's, and what only a catalog has.
    pub const PRIVILEGES: [&'static str; 19] = [
        "ALL_PRIVILEGES",
        "APPLY_TAG",
        "BROWSE",
        "CREATE_FUNCTION",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_MODEL",
        "CREATE_SCHEMA",
        "CREATE_TABLE",
        "CREATE_VOLUME",
        "EXECUTE",
        "EXTERNAL_USE_SCHEMA",
        "MANAGE",
        "MODIFY",
        "READ_VOLUME",
        "REFRESH",
        "SELECT",
        "USE_CATALOG",
        "USE_SCHEMA",
        "WRITE_VOLUME",
    ];
}

/// `[unity_catalog]`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnityCatalog {
    /// Default `<prefix>-metastore`.
    pub metastore_name: String,
    /// The metastore's root bucket, prefix applied; default `<prefix>-metastore`.
    pub bucket: String,
    /// The catalog IAM role Unity Catalog assumes (the quickstart's `catalogIamRole`); default
    /// `<prefix>-unity-catalog`.
    pub role: String,
    /// Key of `[account_groups]` owning the metastore, catalogs and schemas; `None`: the
    /// deploying service principal.
    pub owner: Option<String>,
    /// One external location per datalake bucket; default true.
    pub external_locations: bool,
    /// System schemas to enable; default `access`, `billing`, `compute`.
    pub system_schemas: Vec<String>,
    /// Default: one per datalake layer (`raw`, `prepared`, `trusted`), schema `default`, no grants.
    pub catalogs: Vec<UcCatalog>,
}

impl UnityCatalog {
    /// The system schemas a metastore can enable (`/metastores/{id}/systemschemas`).
    pub const SYSTEM_SCHEMAS: [&'static str; 8] = [
        "access",
        "billing",
        "compute",
        "lakeflow",
        "marketplace",
        "query",
        "storage",
        "serving",
    ];
}
