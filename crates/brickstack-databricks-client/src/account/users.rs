//! Account SCIM users (`/scim/v2/Users`): an account group's members are SCIM ids, and the
//! people of single-user clusters are e-mail addresses (`userName`), so a member is read to learn
//! its address. Create is for identity set-up in tests and scripts; brickstack manages no account
//! user (an identity provider's SCIM does).

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// An account user as SCIM reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUser {
    #[serde(default)]
    pub id: String,
    /// The user's e-mail address.
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

impl AccountClient {
    /// Creates the account user `user_name` (an e-mail address). A create whose answer was lost
    /// is refused as a duplicate (`409`) when sent again: user names are unique in an account.
    pub async fn create_account_user(&self, user_name: &str) -> Result<AccountUser, Error> {
        self.client
            .post(
                &self.path("scim/v2/Users"),
                &serde_json::json!({"schemas": [USER_SCHEMA], "userName": user_name}),
            )
            .await
    }

    /// One account user by its SCIM id; `None` when it does not exist.
    pub async fn get_account_user(&self, id: &str) -> Result<Option<AccountUser>, Error> {
        self.get_if_exists(&self.path(&format!("scim/v2/Users/{id}")))
            .await
    }
}
