//! The account API (`/api/2.0/accounts/{account_id}/…`): one module per area, each adding its
//! typed calls to [`AccountClient`]. Only OAuth (a service principal) is accepted here.

pub mod credentials;
pub mod groups;
pub mod keys;
pub mod log_delivery;
pub mod networks;
pub mod permission_assignments;
pub mod service_principals;
pub mod storage;
pub mod unity_catalog;
pub mod users;
pub mod workspaces;

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::client::auth::{Credentials, account_token_url};
use crate::client::error::Error;
use crate::client::retry::RetryPolicy;
use crate::client::{BuildError, Client};

/// A client of one Databricks account.
#[derive(Debug, Clone)]
pub struct AccountClient {
    client: Client,
    account_id: String,
}

impl AccountClient {
    /// A client of `account_id` on `host` (`https://accounts.cloud.databricks.com`, or an emulator).
    pub fn new(
        host: &str,
        account_id: &str,
        credentials: Credentials,
        retry: RetryPolicy,
    ) -> Result<Self, BuildError> {
        let client = Client::new(
            host,
            credentials,
            account_token_url(host, account_id),
            retry,
        )?;
        Ok(AccountClient {
            client,
            account_id: account_id.to_string(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// `/api/2.0/accounts/{account_id}/{rest}`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/api/2.0/accounts/{}/{rest}", self.account_id)
    }

    /// GET of one object; `None` when the API says it does not exist.
    pub(crate) async fn get_if_exists<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, Error> {
        match self.client.get(path, &[]).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// DELETE of one object, whose answer (`{}` or nothing) says nothing more.
    pub(crate) async fn delete_object(&self, path: &str) -> Result<(), Error> {
        self.client.delete::<IgnoredAny>(path, &[]).await?;
        Ok(())
    }
}
