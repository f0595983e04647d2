//! In-memory state of the emulator: one [`Account`] per Databricks account id (its provisioning
//! objects, service principals and the data of its workspaces), plus issued OAuth tokens, every
//! secret value ever handed out, the cluster- and library-failure rules and the cluster-create
//! limit.
//!
//! State is keyed by account id, so tests sharing one emulator process isolate themselves by using
//! a fresh account id (`brickstack_testkit::unique_account_id`).

use std::collections::HashMap;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::account::credentials::Credential;
use crate::account::groups::AccountGroup;
use crate::account::keys::CustomerManagedKey;
use crate::account::log_delivery::LogDeliveryConfiguration;
use crate::account::networks::Network;
use crate::account::service_principals::AccountServicePrincipal;
use crate::account::storage::StorageConfiguration;
use crate::account::unity_catalog::{Metastore, MetastoreAssignment};
use crate::account::users::AccountUser;
use crate::account::workspaces::Workspace;
use crate::clock::ms;
use crate::controls::{ClusterFailureRule, LibraryFailureRule};
use crate::limits::CreateLimiter;
use crate::workspace::WorkspaceData;

/// Everything the emulator knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub accounts: HashMap<String, Account>,
    /// OAuth access tokens, by value.
    pub tokens: HashMap<String, IssuedToken>,
    /// Workspace id → account id, for the workspace API (ids are unique across accounts).
    pub workspace_index: HashMap<i64, String>,
    pub minted: Vec<MintedSecret>,
    pub cluster_failures: Vec<ClusterFailureRule>,
    pub library_failures: Vec<LibraryFailureRule>,
    pub create_limiter: CreateLimiter,
    /// Per-workspace start delay overrides (`/_emulator/cluster-delays`), milliseconds.
    pub cluster_delays: HashMap<i64, i64>,
    /// Every webhook delivery attempt of job notifications (`/_emulator/deliveries`).
    pub deliveries: Vec<crate::workspace::jobs::DeliveryAttempt>,
}

/// One account's objects, each in creation order (lists return them in that order).
#[derive(Debug, Default)]
pub(crate) struct Account {
    pub credentials: IndexMap<String, Credential>,
    pub storage_configurations: IndexMap<String, StorageConfiguration>,
    pub networks: IndexMap<String, Network>,
    pub customer_managed_keys: IndexMap<String, CustomerManagedKey>,
    pub workspaces: IndexMap<i64, Workspace>,
    pub log_delivery: IndexMap<String, LogDeliveryConfiguration>,
    /// Account service principals by SCIM id.
    pub service_principals: IndexMap<String, AccountServicePrincipal>,
    /// Account groups by SCIM id.
    pub groups: IndexMap<String, AccountGroup>,
    /// Account users by SCIM id.
    pub users: IndexMap<String, AccountUser>,
    /// The data behind each workspace's API, created with the workspace.
    pub workspace_data: HashMap<i64, WorkspaceData>,
    /// Inventories of workspaces deleted while they still held user-created objects.
    pub left_in_deleted_workspaces: Vec<serde_json::Value>,
    /// Unity Catalog metastores by id (each holds its storage credentials).
    pub metastores: IndexMap<String, Metastore>,
    /// Metastore assignments by workspace id (a workspace has at most one).
    pub metastore_assignments: IndexMap<i64, MetastoreAssignment>,
    /// Workspace id → principal SCIM id → permissions (`USER`, `ADMIN`).
    pub permission_assignments: IndexMap<i64, IndexMap<String, Vec<String>>>,
}

/// Which API an OAuth token may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Audience {
    Account(String),
    Workspace(i64),
}

/// An OAuth access token a token endpoint handed out.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub audience: Audience,
    /// The client it was issued to (the configured client id, or an SP's applicationId).
    pub application_id: String,
    /// Emulator-clock expiry.
    pub expires_at_ms: i64,
}

/// A secret value the emulator handed out, for tests that search logs and state for leaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MintedSecret {
    /// `oauth_access_token`, `personal_access_token`, `on_behalf_of_token` or `oauth_secret`.
    pub kind: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<i64>,
    /// Emulator time of minting, epoch milliseconds.
    pub minted_at: i64,
}

impl State {
    /// The account, created empty on first use (every account id "exists" in the emulator).
    pub fn account(&mut self, account_id: &str) -> &mut Account {
        self.accounts.entry(account_id.to_string()).or_default()
    }

    /// The workspace's account id and data, if the workspace exists.
    pub fn workspace_data(&mut self, workspace_id: i64) -> Option<&mut WorkspaceData> {
        let account_id = self.workspace_index.get(&workspace_id)?;
        self.accounts
            .get_mut(account_id)?
            .workspace_data
            .get_mut(&workspace_id)
    }

    /// Issues an opaque access token for `audience`, valid for `lifetime` from `now`.
    pub fn issue_token(
        &mut self,
        audience: Audience,
        application_id: &str,
        lifetime: Duration,
        now: i64,
    ) -> String {
        let token = format!("emu-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let (account_id, workspace_id) = match &audience {
            Audience::Account(a) => (Some(a.clone()), None),
            Audience::Workspace(w) => (self.workspace_index.get(w).cloned(), Some(*w)),
        };
        self.record_minted("oauth_access_token", &token, account_id, workspace_id, now);
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                audience,
                application_id: application_id.to_string(),
                expires_at_ms: now + ms(lifetime),
            },
        );
        token
    }

    pub fn record_minted(
        &mut self,
        kind: &str,
        value: &str,
        account_id: Option<String>,
        workspace_id: Option<i64>,
        now: i64,
    ) {
        self.minted.push(MintedSecret {
            kind: kind.to_string(),
            value: value.to_string(),
            account_id,
            workspace_id,
            minted_at: now,
        });
    }

    /// Forgets every account's objects (runs and notification destinations included), the
    /// cluster- and library-failure rules, the start-delay overrides, the record of webhook
    /// deliveries and the create history (the create limit goes back to the configured one); OAuth tokens stay valid so
    /// clients running in parallel keep working, and the record of minted secrets stays.
    pub fn reset(&mut self) {
        self.accounts.clear();
        self.workspace_index.clear();
        self.cluster_failures.clear();
        self.library_failures.clear();
        self.create_limiter.reset();
        self.cluster_delays.clear();
        self.deliveries.clear();
    }
}

impl Account {
    /// The name of the first workspace that `uses` returns true for, for "still in use" errors.
    pub fn workspace_using(&self, uses: impl Fn(&Workspace) -> bool) -> Option<String> {
        self.workspaces
            .values()
            .find(|w| uses(w))
            .map(|w| format!("{} ({})", w.workspace_name, w.workspace_id))
    }
}
