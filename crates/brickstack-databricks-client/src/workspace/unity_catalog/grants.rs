//! Grants (`/permissions/{securable_type}/{full_name}`: get, update with `changes`) and effective
//! permissions (`/effective-permissions/{securable_type}/{full_name}`: direct grants plus those
//! inherited from the catalog, schema and metastore above, each tagged with its source).
//!
//! An update names, per principal, privileges to `add` and to `remove`; privileges of principals
//! it does not name are left alone. Resending an update is harmless (add and remove are set
//! operations), so it is retried like any idempotent call.

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;
use crate::workspace::clusters::{null_as_default, open_enum};

open_enum! {
    /// What a grant is on. The path segment is the lower-case name, as the Terraform provider
    /// sends it.
    pub enum SecurableType {
        Metastore = "metastore",
        Catalog = "catalog",
        Schema = "schema",
        Table = "table",
        Volume = "volume",
        Function = "function",
        StorageCredential = "storage_credential",
        ExternalLocation = "external_location",
    }
}

/// The privileges Unity Catalog grants (privilege model 1.0), for validating a spec.
pub const PRIVILEGES: &[&str] = &[
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "BROWSE",
    "CREATE_CATALOG",
    "CREATE_CONNECTION",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_EXTERNAL_TABLE",
    "CREATE_EXTERNAL_VOLUME",
    "CREATE_FOREIGN_CATALOG",
    "CREATE_FUNCTION",
    "CREATE_MANAGED_STORAGE",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MODEL",
    "CREATE_SCHEMA",
    "CREATE_STORAGE_CREDENTIAL",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "EXECUTE",
    "MANAGE",
    "MODIFY",
    "READ_FILES",
    "READ_VOLUME",
    "REFRESH",
    "SELECT",
    "USE_CATALOG",
    "USE_CONNECTION",
    "USE_SCHEMA",
    "WRITE_FILES",
    "WRITE_VOLUME",
];

/// The privileges one principal holds directly on a securable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivilegeAssignment {
    /// A user name, a group's display name or a service principal's application id.
    pub principal: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub privileges: Vec<String>,
}

/// One principal's change: privileges to add and to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PermissionsChange {
    pub principal: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// A privilege a principal holds, and where it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePrivilege {
    pub privilege: String,
    /// Unset for a grant on the securable itself; the ancestor's type otherwise (upper case,
    /// e.g. `CATALOG`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from_name: Option<String>,
}

/// Everything one principal holds on a securable, directly or inherited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePrivilegeAssignment {
    pub principal: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub privileges: Vec<EffectivePrivilege>,
}

impl EffectivePrivilegeAssignment {
    /// Whether the principal holds `privilege` (or `ALL_PRIVILEGES`).
    pub fn holds(&self, privilege: &str) -> bool {
        self.privileges
            .iter()
            .any(|p| p.privilege == privilege || p.privilege == "ALL_PRIVILEGES")
    }
}

#[derive(Serialize)]
struct Update<'a> {
    changes: &'a [PermissionsChange],
}

fn permissions_path(securable: &SecurableType, full_name: &str) -> String {
    format!("{UC}/permissions/{securable}/{}", segment(full_name))
}

impl WorkspaceClient {
    /// The grants made directly on the securable (not inherited ones), of `principal` only when
    /// given.
    pub async fn get_grants(
        &self,
        securable: &SecurableType,
        full_name: &str,
        principal: Option<&str>,
    ) -> Result<Vec<PrivilegeAssignment>, Error> {
        let query: Vec<(&str, String)> = principal
            .map(|p| ("principal", p.to_string()))
            .into_iter()
            .collect();
        self.uc_list(
            &permissions_path(securable, full_name),
            &query,
            "privilege_assignments",
        )
        .await
    }

    /// Applies `changes` and returns the grants on the securable afterwards.
    pub async fn update_grants(
        &self,
        securable: &SecurableType,
        full_name: &str,
        changes: &[PermissionsChange],
    ) -> Result<Vec<PrivilegeAssignment>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            privilege_assignments: Vec<PrivilegeAssignment>,
        }
        let answer: Answer = self
            .client()
            .patch(
                &permissions_path(securable, full_name),
                &[],
                &Update { changes },
            )
            .await?;
        Ok(answer.privilege_assignments)
    }

    /// What each principal (only `principal` when given) may do on the securable, with
    /// inherited privileges tagged by their source.
    pub async fn get_effective_grants(
        &self,
        securable: &SecurableType,
        full_name: &str,
        principal: Option<&str>,
    ) -> Result<Vec<EffectivePrivilegeAssignment>, Error> {
        let query: Vec<(&str, String)> = principal
            .map(|p| ("principal", p.to_string()))
            .into_iter()
            .collect();
        self.uc_list(
            &format!(
                "{UC}/effective-permissions/{securable}/{}",
                segment(full_name)
            ),
            &query,
            "privilege_assignments",
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_use_the_lower_case_type_and_escape_the_name() {
        assert_eq!(
            permissions_path(&SecurableType::Schema, "raw.landing"),
            "/api/2.1/unity-catalog/permissions/schema/raw.landing"
        );
        assert_eq!(
            permissions_path(&SecurableType::ExternalLocation, "a b/c"),
            "/api/2.1/unity-catalog/permissions/external_location/a%20b%2Fc"
        );
    }

    #[test]
    fn an_update_leaves_out_empty_lists() {
        let change = PermissionsChange {
            principal: "analysts".into(),
            add: vec!["SELECT".into()],
            remove: vec![],
        };
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            serde_json::json!({"principal": "analysts", "add": ["SELECT"]})
        );
    }
}
