//! What the deployed account and workspace show, as the audit reads it.
//!
//! The CLI implements [`LiveAccount`] with the Databricks client; [`observe`] asks it everything
//! once and the rules read the resulting [`LiveObservation`], so the checks stay pure and a test
//! can hand them any observation. An answer an API cannot give is [`Observed::CannotBeVerified`]
//! with the reason, which the report shows as such: never as a pass, never as a failure.

/// One thing looked at in the account: what the API showed, or why it could not be seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed<T> {
    Seen(T),
    CannotBeVerified(String),
}

impl<T> Observed<T> {
    pub fn seen(&self) -> Option<&T> {
        match self {
            Observed::Seen(t) => Some(t),
            Observed::CannotBeVerified(_) => None,
        }
    }
}

/// A cluster as the Clusters API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveCluster {
    pub cluster_id: String,
    pub name: String,
    /// `UI`, `API`, `JOB`, …: job clusters are not all-purpose and are left out of the
    /// all-purpose rules.
    pub source: Option<String>,
    /// `None` when the API leaves it out; `0` means never.
    pub autotermination_minutes: Option<i64>,
    pub policy_id: Option<String>,
    pub spark_conf: Vec<(String, String)>,
    pub spark_env_vars: Vec<(String, String)>,
}

impl LiveCluster {
    /// All-purpose: anything not started by a job (or a pipeline).
    pub fn is_all_purpose(&self) -> bool {
        !matches!(
            self.source.as_deref(),
            Some("JOB" | "PIPELINE" | "PIPELINE_MAINTENANCE")
        )
    }
}

/// A cluster policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LivePolicy {
    pub policy_id: String,
    pub name: String,
    /// JSON text.
    pub definition: String,
    /// One of the workspace's built-in policies (Personal Compute, …), which brickstack does not
    /// manage.
    pub is_default: bool,
}

/// A token as token management lists it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveToken {
    pub token_id: String,
    pub comment: Option<String>,
    /// SCIM id of the principal it authenticates as.
    pub owner_id: Option<i64>,
    /// Who created it, as the API names them.
    pub created_by: Option<String>,
    /// Epoch milliseconds.
    pub creation_time: i64,
    /// Epoch milliseconds; `-1`: never expires.
    pub expiry_time: i64,
}

/// A workspace service principal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveServicePrincipal {
    /// SCIM id.
    pub id: String,
    pub application_id: Option<String>,
    pub display_name: String,
}

/// The workspace conf keys the audit reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveWorkspaceConf {
    /// `maxTokenLifetimeDays`; absent, empty or `0`: no maximum.
    pub max_token_lifetime_days: Option<String>,
    /// `enableIpAccessLists`.
    pub enable_ip_access_lists: Option<String>,
}

/// An IP access list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveIpAccessList {
    pub label: String,
    /// `ALLOW` or `BLOCK`.
    pub list_type: String,
    pub enabled: bool,
    pub addresses: usize,
}

/// A global init script and its content (decoded as UTF-8, invalid bytes replaced).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveInitScript {
    pub script_id: String,
    pub name: String,
    pub content: String,
}

/// A system schema of the metastore and its state (`ENABLE_COMPLETED`, `AVAILABLE`, …).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveSystemSchema {
    pub schema: String,
    pub state: String,
    /// Whether the state means enabled, as the client decides (`ENABLE_COMPLETED`, `MANAGED`).
    pub enabled: bool,
}

/// Everything the live rules read; each part observed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveObservation {
    /// The workspace looked at, as the report names it.
    pub workspace: String,
    pub clusters: Observed<Vec<LiveCluster>>,
    pub policies: Observed<Vec<LivePolicy>>,
    /// The workspace's global init scripts (cluster-scoped scripts are files whose content the
    /// cluster APIs do not show).
    pub init_scripts: Observed<Vec<LiveInitScript>>,
    pub tokens: Observed<Vec<LiveToken>>,
    pub service_principals: Observed<Vec<LiveServicePrincipal>>,
    pub workspace_conf: Observed<LiveWorkspaceConf>,
    pub ip_access_lists: Observed<Vec<LiveIpAccessList>>,
    /// The workspace's network configuration id: `Some` for a customer-managed VPC.
    pub network_id: Observed<Option<String>>,
    /// The metastore assigned to the workspace, if any.
    pub metastore_id: Observed<Option<String>>,
    pub system_schemas: Observed<Vec<LiveSystemSchema>>,
    /// Display names of the account's groups.
    pub account_groups: Observed<Vec<String>>,
}

/// What the account and workspace APIs show. Each call answers for the environment's workspace;
/// an error the implementation cannot turn into an observation becomes `CannotBeVerified` with
/// the error's text (the audit goes on with the rest).
#[allow(async_fn_in_trait)] // implemented and awaited in the CLI only, on one task
pub trait LiveAccount {
    fn workspace(&self) -> String;
    async fn clusters(&self) -> Observed<Vec<LiveCluster>>;
    async fn policies(&self) -> Observed<Vec<LivePolicy>>;
    async fn init_scripts(&self) -> Observed<Vec<LiveInitScript>>;
    async fn tokens(&self) -> Observed<Vec<LiveToken>>;
    async fn service_principals(&self) -> Observed<Vec<LiveServicePrincipal>>;
    async fn workspace_conf(&self) -> Observed<LiveWorkspaceConf>;
    async fn ip_access_lists(&self) -> Observed<Vec<LiveIpAccessList>>;
    async fn network_id(&self) -> Observed<Option<String>>;
    async fn metastore_id(&self) -> Observed<Option<String>>;
    async fn system_schemas(&self) -> Observed<Vec<LiveSystemSchema>>;
    async fn account_groups(&self) -> Observed<Vec<String>>;
}

/// Asks `account` everything the live rules read, one call after the other.
pub async fn observe(account: &impl LiveAccount) -> LiveObservation {
    LiveObservation {
        workspace: account.workspace(),
        clusters: account.clusters().await,
        policies: account.policies().await,
        init_scripts: account.init_scripts().await,
        tokens: account.tokens().await,
        service_principals: account.service_principals().await,
        workspace_conf: account.workspace_conf().await,
        ip_access_lists: account.ip_access_lists().await,
        network_id: account.network_id().await,
        metastore_id: account.metastore_id().await,
        system_schemas: account.system_schemas().await,
        account_groups: account.account_groups().await,
    }
}
