//! [`DatabricksProvider`]: the engine's `Provider` for `databricks_*` kinds. Each operation goes
//! to its kind's module under `resources/`.
//!
//! Account-level objects are reached with the account client. Workspace-level objects have the
//! object id `<workspace_id>/<id in the workspace>`, so a read or delete knows its workspace
//! without any attribute; the workspace's URL comes from the account API, and calls to it
//! authenticate with the account's service principal (OAuth at the workspace's token endpoint),
//! never with a token brickstack minted, so an expired token cannot lock brickstack out (the one
//! exception: a new token's check, a `SCIM Me` made with it before its value is stored).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;

use brickstack_provider::{
    Attributes, CreateRequest, ErrorClass, KindSchema, Observed, Presence, Provider, ProviderError,
    SecretMetadata, SecretStore, SecretWrite, SurveyObject,
};
use brickstack_state::ObjectLookup;
use tokio::sync::Mutex;

use crate::account::AccountClient;
use crate::client::auth::Credentials;
use crate::client::retry::RetryPolicy;
use crate::resources::{self, *};
use crate::workspace::WorkspaceClient;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`SecretStore`] without its type parameter, so the provider and its kind modules need none.
pub(crate) trait Secrets: Send + Sync {
    fn put<'a>(
        &'a self,
        secret: &'a SecretWrite<'a>,
    ) -> BoxFuture<'a, Result<SecretMetadata, ProviderError>>;
    fn describe<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SecretMetadata>, ProviderError>>;
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), ProviderError>>;
}

impl<S: SecretStore> Secrets for S {
    fn put<'a>(
        &'a self,
        secret: &'a SecretWrite<'a>,
    ) -> BoxFuture<'a, Result<SecretMetadata, ProviderError>> {
        Box::pin(SecretStore::put(self, secret))
    }
    fn describe<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SecretMetadata>, ProviderError>> {
        Box::pin(SecretStore::describe(self, name))
    }
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(SecretStore::delete(self, name))
    }
}

/// A workspace the provider can call: its id and a client authenticated for it.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    pub id: i64,
    pub client: WorkspaceClient,
}

/// The Databricks provider of one environment.
pub struct DatabricksProvider {
    account: AccountClient,
    /// The account service principal's credentials, used at every workspace's token endpoint.
    workspace_credentials: Credentials,
    retry: RetryPolicy,
    secrets: Box<dyn Secrets>,
    environment: String,
    /// Workspace clients by workspace id, made once per run.
    workspaces: Mutex<HashMap<i64, Workspace>>,
}

impl std::fmt::Debug for DatabricksProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabricksProvider")
            .field("account", &self.account)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

impl DatabricksProvider {
    /// A provider acting in `account` (whose credentials also reach its workspaces), storing
    /// minted secrets in `secrets`, tagging what it stores with `environment`.
    pub fn new(
        account: AccountClient,
        workspace_credentials: Credentials,
        retry: RetryPolicy,
        secrets: impl SecretStore + 'static,
        environment: &str,
    ) -> Self {
        DatabricksProvider {
            account,
            workspace_credentials,
            retry,
            secrets: Box::new(secrets),
            environment: environment.to_string(),
            workspaces: Mutex::new(HashMap::new()),
        }
    }

    pub fn account(&self) -> &AccountClient {
        &self.account
    }

    pub(crate) fn secrets(&self) -> &dyn Secrets {
        self.secrets.as_ref()
    }

    pub(crate) fn environment(&self) -> &str {
        &self.environment
    }

    /// The retry policy every client of this provider uses.
    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Calls made so far by the account client and every workspace client, per `METHOD path`.
    pub async fn calls(&self) -> BTreeMap<String, u64> {
        let mut calls = self.account.client().calls();
        for w in self.workspaces.lock().await.values() {
            for (call, n) in w.client.client().calls() {
                *calls.entry(call).or_default() += n;
            }
        }
        calls
    }

    /// The workspace with `workspace_id`; `None` when the account no longer has it (everything
    /// in it is gone too).
    pub(crate) async fn workspace(
        &self,
        workspace_id: i64,
    ) -> Result<Option<Workspace>, ProviderError> {
        if let Some(w) = self.workspaces.lock().await.get(&workspace_id) {
            return Ok(Some(w.clone()));
        }
        let Some(found) = self.account.get_workspace(workspace_id).await? else {
            return Ok(None);
        };
        let workspace = self.client_of(&found)?;
        self.workspaces
            .lock()
            .await
            .insert(workspace_id, workspace.clone());
        Ok(Some(workspace))
    }

    /// The clusters of the workspace at `workspace_url` (a `databricks_mws_workspaces`
    /// resource's `workspace_url`) that are starting, running, resizing or restarting, whoever
    /// made them: what `brickstack sleep` would cut off from the network. A URL no workspace of
    /// the account has is a `NotFound` error.
    pub async fn running_clusters(
        &self,
        workspace_url: &str,
    ) -> Result<Vec<crate::workspace::clusters::ClusterDetails>, ProviderError> {
        let workspace = self.workspace_at(workspace_url).await?;
        Ok(workspace.client.active_clusters().await?)
    }

    /// A client of the workspace at `workspace_url`, authenticated as the account's service
    /// principal: what the cluster-failure monitor reads clusters and starts them with
    /// (docs/monitor.md). A URL no workspace of the account has is a `NotFound` error.
    pub async fn workspace_client(
        &self,
        workspace_url: &str,
    ) -> Result<crate::workspace::WorkspaceClient, ProviderError> {
        Ok(self.workspace_at(workspace_url).await?.client)
    }

    /// The user names (e-mails, lower-cased) of the users in the workspace group `display_name`,
    /// which the identity provider's SCIM sync maintains: who gets a single-user cluster
    /// (docs/access.md). Nested groups and service principals are not people and are left out. A
    /// group that does not exist has no members (the sync may not have created it yet).
    pub async fn group_member_user_names(
        &self,
        workspace_url: &str,
        display_name: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let workspace = self.workspace_at(workspace_url).await?;
        let scim = &workspace.client;
        let filter = crate::workspace::scim::filter_eq("displayName", display_name);
        let Some(group) = scim.groups().list(Some(&filter)).await?.into_iter().next() else {
            return Ok(Vec::new());
        };
        let ids: std::collections::BTreeSet<&str> =
            group.members.iter().map(|m| m.value.as_str()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One listing of the users rather than a read per member.
        let mut names: Vec<String> = scim
            .users()
            .list(None)
            .await?
            .into_iter()
            .filter(|u| u.id.as_deref().is_some_and(|id| ids.contains(id)))
            .map(|u| u.user_name.to_lowercase())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Drops the client of a workspace being deleted, so later calls find it gone.
    pub(crate) async fn forget_workspace(&self, workspace_id: i64) {
        self.workspaces.lock().await.remove(&workspace_id);
    }

    /// The workspace whose URL is `url` (a workspace-level resource's `workspace_url`).
    pub(crate) async fn workspace_at(&self, url: &str) -> Result<Workspace, ProviderError> {
        let url = url.trim_end_matches('/');
        if let Some(w) = self
            .workspaces
            .lock()
            .await
            .values()
            .find(|w| w.client.host() == url)
        {
            return Ok(w.clone());
        }
        let host = self.account.client().host().to_string();
        let found = self
            .account
            .list_workspaces()
            .await?
            .into_iter()
            .find(|w| w.url(&host).as_deref() == Some(url))
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorClass::NotFound,
                    "WORKSPACE_NOT_FOUND",
                    format!(
                        "no workspace of account `{}` has the URL `{url}`",
                        self.account.account_id()
                    ),
                )
            })?;
        let workspace = self.client_of(&found)?;
        self.workspaces
            .lock()
            .await
            .insert(found.workspace_id, workspace.clone());
        Ok(workspace)
    }

    fn client_of(
        &self,
        found: &crate::account::workspaces::Workspace,
    ) -> Result<Workspace, ProviderError> {
        let host = self.account.client().host();
        let url = found.url(host).ok_or_else(|| {
            ProviderError::new(
                ErrorClass::Fatal,
                "NO_WORKSPACE_URL",
                format!(
                    "workspace {} has neither a URL nor a deployment name",
                    found.workspace_id
                ),
            )
        })?;
        let client =
            WorkspaceClient::new(&url, self.workspace_credentials.clone(), self.retry.clone())
                .map_err(|e| ProviderError::new(ErrorClass::Fatal, "CLIENT", e.to_string()))?;
        Ok(Workspace {
            id: found.workspace_id,
            client,
        })
    }
}

/// The kinds this provider serves, each with its module under `resources/`. Every module has
/// `KIND`, `schema`, `read`, `create`, `update`, `delete` and `find`; this writes the dispatch
/// from kind to module once.
macro_rules! served_kinds {
    ($($variant:ident => $module:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Kind {
            $($variant),*
        }

        /// The kinds this provider serves, from its dispatch table (the kind registry's
        /// `databricks` family must be exactly these: `brickstack-cli`'s registry test checks it).
        pub fn served_kinds() -> &'static [&'static str] {
            &[$($module::KIND),*]
        }

        impl Kind {
            const ALL: &[Kind] = &[$(Kind::$variant),*];

            fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $module::KIND),*
                }
            }

            fn schema(self) -> KindSchema {
                match self {
                    $(Kind::$variant => $module::schema()),*
                }
            }

            fn of(kind: &str) -> Result<Kind, ProviderError> {
                Kind::ALL
                    .iter()
                    .copied()
                    .find(|k| k.name() == kind)
                    .ok_or_else(|| resources::unsupported_kind(kind))
            }
        }

        impl DatabricksProvider {
            async fn read_kind(&self, kind: Kind, object_id: &str) -> Result<Option<Observed>, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::read(self, object_id).await),*
                }
            }

            async fn create_kind(&self, kind: Kind, request: &CreateRequest) -> Result<Observed, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::create(self, request).await),*
                }
            }

            async fn update_kind(&self, kind: Kind, object_id: &str, attributes: &Attributes) -> Result<Observed, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::update(self, object_id, attributes).await),*
                }
            }

            async fn delete_kind(&self, kind: Kind, object_id: &str) -> Result<(), ProviderError> {
                match kind {
                    $(Kind::$variant => $module::delete(self, object_id).await),*
                }
            }

            async fn find_kind(&self, kind: Kind, lookup: &ObjectLookup) -> Result<Option<Observed>, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::find(self, lookup).await),*
                }
            }
        }
    };
}

served_kinds! {
    MwsCredentials => mws_credentials,
    MwsStorageConfigurations => mws_storage_configurations,
    MwsNetworks => mws_networks,
    MwsCustomerManagedKeys => mws_customer_managed_keys,
    MwsWorkspaces => mws_workspaces,
    MwsLogDelivery => mws_log_delivery,
    ServicePrincipal => service_principal,
    User => user,
    Group => group,
    GroupMember => group_member,
    GroupRole => group_role,
    GroupInstanceProfile => group_instance_profile,
    InstanceProfile => instance_profile,
    Permissions => permissions,
    Token => token,
    OboToken => obo_token,
    SecretScope => secret_scope,
    SecretAcl => secret_acl,
    Cluster => cluster,
    ClusterLibraries => cluster_libraries,
    ClusterShutdown => cluster_shutdown,
    ClusterPolicy => cluster_policy,
    DbfsFile => dbfs_file,
    GlobalInitScript => global_init_script,
    IpAccessList => ip_access_list,
    WorkspaceConf => workspace_conf,
    AccountGroup => account_group,
    MwsPermissionAssignment => mws_permission_assignment,
    Metastore => metastore,
    MetastoreAssignment => metastore_assignment,
    StorageCredential => storage_credential,
    ExternalLocation => external_location,
    Catalog => catalog,
    Schema => schema,
    Grants => grants,
    SystemSchema => system_schema,
}

impl Provider for DatabricksProvider {
    fn schema(&self, kind: &str) -> Option<KindSchema> {
        Kind::of(kind).ok().map(Kind::schema)
    }

    async fn context(&self) -> Result<BTreeMap<String, String>, ProviderError> {
        Ok(BTreeMap::new())
    }

    async fn read(&self, kind: &str, object_id: &str) -> Result<Option<Observed>, ProviderError> {
        self.read_kind(Kind::of(kind)?, object_id).await
    }

    /// The Databricks APIs have no batch get: reads run a few at a time.
    async fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        let kind = Kind::of(kind)?;
        resources::read_each(object_ids, |id| self.read_kind(kind, id)).await
    }

    async fn create(&self, request: &CreateRequest) -> Result<Observed, ProviderError> {
        self.create_kind(Kind::of(&request.kind)?, request).await
    }

    async fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> Result<Observed, ProviderError> {
        self.update_kind(Kind::of(kind)?, object_id, attributes)
            .await
    }

    async fn delete(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        self.delete_kind(Kind::of(kind)?, object_id).await
    }

    async fn find(
        &self,
        kind: &str,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        self.find_kind(Kind::of(kind)?, lookup).await
    }

    /// `find`, and for account objects a quickstart makes without brickstack's tags: a
    /// workspace by name alone, a key configuration by its key ARN (docs/import.md).
    async fn discover(
        &self,
        kind: &str,
        desired: &Attributes,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        match Kind::of(kind)? {
            Kind::MwsWorkspaces => mws_workspaces::discover(self, lookup).await,
            Kind::MwsCustomerManagedKeys => {
                mws_customer_managed_keys::discover(self, desired).await
            }
            kind => self.find_kind(kind, lookup).await,
        }
    }

    /// Databricks has no tagging listing across object kinds: a minimal refresh leaves every
    /// Databricks object to what state recorded (a full refresh reads them).
    async fn survey(
        &self,
        _environment: &str,
        _objects: &[SurveyObject],
    ) -> Result<BTreeMap<SurveyObject, Presence>, ProviderError> {
        Ok(BTreeMap::new())
    }

    /// No Databricks kind's data can be counted: a workspace (`holds_data`) is guarded whatever
    /// it holds, by the kind registry's `Data::Uncounted`, and `empty` is not offered.
    async fn contents(&self, _kind: &str, _object_id: &str) -> Result<u64, ProviderError> {
        Ok(0)
    }
}
