//! Account SCIM groups (`/scim/v2/Groups`: create, get, list with a filter, patch, delete): the
//! account-level groups Unity Catalog grants and workspace permission assignments name. Display
//! names are unique in an account, so a create whose answer was lost is found by its name. The
//! member and filter helpers are the workspace SCIM ones (same wire forms).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AccountClient;
use crate::client::error::Error;
pub use crate::workspace::scim::{ComplexValue, PatchOp, filter_eq};

const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Resources asked for per listing page.
const PAGE_SIZE: u32 = 100;

/// An account group as SCIM reports it. Account groups carry no entitlements (those are per
/// workspace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountGroup {
    /// The numeric SCIM id: the `principal_id` of permission assignments.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ComplexValue>,
}

/// What a new account group is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccountGroup {
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Initial members: `{ "value": "<principal SCIM id>" }`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ComplexValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default)]
    total_results: Option<u64>,
    #[serde(default, rename = "Resources")]
    resources: Vec<AccountGroup>,
}

#[derive(Serialize)]
struct ScimCreate<'a> {
    schemas: [&'static str; 1],
    #[serde(flatten)]
    group: &'a NewAccountGroup,
}

#[derive(Serialize)]
struct ScimPatch<'a> {
    schemas: [&'static str; 1],
    #[serde(rename = "Operations")]
    operations: &'a [PatchOp],
}

impl AccountClient {
    fn group_path(&self, id: &str) -> String {
        self.path(&format!("scim/v2/Groups/{id}"))
    }

    /// Every account group `filter` (a SCIM filter, e.g. [`filter_eq`]) selects, all pages.
    pub async fn list_account_groups(
        &self,
        filter: Option<&str>,
    ) -> Result<Vec<AccountGroup>, Error> {
        let path = self.path("scim/v2/Groups");
        let mut all = Vec::new();
        loop {
            let mut query = vec![
                ("startIndex", (all.len() + 1).to_string()),
                ("count", PAGE_SIZE.to_string()),
            ];
            if let Some(filter) = filter {
                query.push(("filter", filter.to_string()));
            }
            let page: ListResponse = self.client().get(&path, &query).await?;
            let got = page.resources.len();
            all.extend(page.resources);
            if got == 0 || all.len() as u64 >= page.total_results.unwrap_or(0) {
                return Ok(all);
            }
        }
    }

    /// The account group named `display_name`, if any.
    pub async fn find_account_group(
        &self,
        display_name: &str,
    ) -> Result<Option<AccountGroup>, Error> {
        let mut found = self
            .list_account_groups(Some(&filter_eq("displayName", display_name)))
            .await?;
        // The filter is exact, but an API that ignored it must not hand back another group.
        found.retain(|g| g.display_name == display_name);
        Ok(found.pop())
    }

    /// One account group by its SCIM id; `None` when it does not exist.
    pub async fn get_account_group(&self, id: &str) -> Result<Option<AccountGroup>, Error> {
        self.get_if_exists(&self.group_path(id)).await
    }

    /// Creates an account group (`201`; `409` when the display name is taken). A create whose
    /// answer was lost is found by its display name before it is sent again.
    pub async fn create_account_group(&self, new: &NewAccountGroup) -> Result<AccountGroup, Error> {
        let body = ScimCreate {
            schemas: [GROUP_SCHEMA],
            group: new,
        };
        self.client()
            .create(&self.path("scim/v2/Groups"), &body, || async {
                self.find_account_group(&new.display_name).await
            })
            .await
    }

    /// Applies SCIM PATCH `operations` (e.g. `PatchOp::add("members", ids)`,
    /// `PatchOp::remove_value("members", id)`, `PatchOp::replace("displayName", name)`).
    pub async fn patch_account_group(&self, id: &str, operations: &[PatchOp]) -> Result<(), Error> {
        let body = ScimPatch {
            schemas: [PATCH_OP_SCHEMA],
            operations,
        };
        let _: Value = self
            .client()
            .patch(&self.group_path(id), &[], &body)
            .await?;
        Ok(())
    }

    /// Deletes an account group.
    pub async fn delete_account_group(&self, id: &str) -> Result<(), Error> {
        self.delete_object(&self.group_path(id)).await
    }
}
