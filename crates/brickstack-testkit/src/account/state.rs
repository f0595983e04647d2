//! In-memory state of the emulator: one [`Account`] per Databricks account id, plus issued tokens.
//!
//! State is keyed by account id, so tests sharing one emulator process isolate themselves by using
//! a fresh account id ([`crate::unique_account_id`]).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;

use super::credentials::Credential;
use super::keys::CustomerManagedKey;
use super::log_delivery::LogDeliveryConfiguration;
use super::networks::Network;
use super::storage::StorageConfiguration;
use super::workspaces::Workspace;

/// Everything the emulator knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub accounts: HashMap<String, Account>,
    pub tokens: HashMap<String, IssuedToken>,
}

/// One account's provisioning objects, each in creation order (lists return them in that order).
#[derive(Debug, Default)]
pub(crate) struct Account {
    pub credentials: IndexMap<String, Credential>,
    pub storage_configurations: IndexMap<String, StorageConfiguration>,
    pub networks: IndexMap<String, Network>,
    pub customer_managed_keys: IndexMap<String, CustomerManagedKey>,
    pub workspaces: IndexMap<i64, Workspace>,
    pub log_delivery: IndexMap<String, LogDeliveryConfiguration>,
}

/// An OAuth access token the token endpoint handed out.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub account_id: String,
    pub expires_at: Instant,
}

impl State {
    /// The account, created empty on first use (every account id "exists" in the emulator).
    pub fn account(&mut self, account_id: &str) -> &mut Account {
        self.accounts.entry(account_id.to_string()).or_default()
    }

    /// Issues an opaque access token for `account_id`, valid for `lifetime`.
    pub fn issue_token(&mut self, account_id: &str, lifetime: Duration) -> String {
        let token = format!("emu-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                account_id: account_id.to_string(),
                expires_at: Instant::now() + lifetime,
            },
        );
        token
    }

    /// Forgets every account's objects; tokens stay valid so clients running in parallel keep working.
    pub fn reset(&mut self) {
        self.accounts.clear();
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

/// Milliseconds since the Unix epoch, the API's timestamp unit.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
