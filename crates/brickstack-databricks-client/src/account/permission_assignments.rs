//! Workspace permission assignments (identity federation:
//! `/workspaces/{workspace_id}/permissionassignments`): which account principals (users, groups,
//! service principals, by numeric SCIM id) may use a workspace, as `USER` or `ADMIN`. The
//! workspace must have a Unity Catalog metastore. A `PUT` replaces the principal's permissions,
//! so it is safe to resend.

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;
use crate::workspace::clusters::{null_as_default, open_enum};

open_enum! {
    /// A principal's permission on a workspace.
    pub enum WorkspacePermission {
        User = "USER",
        Admin = "ADMIN",
        Unknown = "UNKNOWN",
    }
}

/// The principal of an assignment; exactly one of the names is set, by its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalOutput {
    #[serde(default)]
    pub principal_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The application id of a service principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_name: Option<String>,
}

/// One principal's assignment on a workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionAssignment {
    #[serde(default)]
    pub principal: PrincipalOutput,
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: Vec<WorkspacePermission>,
    /// Set when the assignment could not be read (e.g. a principal being deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Deserialize)]
struct AssignmentList {
    #[serde(default, deserialize_with = "null_as_default")]
    permission_assignments: Vec<PermissionAssignment>,
}

#[derive(Serialize)]
struct Permissions<'a> {
    permissions: &'a [WorkspacePermission],
}

impl AccountClient {
    fn assignments_path(&self, workspace_id: i64) -> String {
        self.path(&format!("workspaces/{workspace_id}/permissionassignments"))
    }

    fn principal_assignment_path(&self, workspace_id: i64, principal_id: &str) -> String {
        format!(
            "{}/principals/{principal_id}",
            self.assignments_path(workspace_id)
        )
    }

    /// Every assignment on the workspace.
    pub async fn list_permission_assignments(
        &self,
        workspace_id: i64,
    ) -> Result<Vec<PermissionAssignment>, Error> {
        let list: AssignmentList = self
            .client()
            .get(&self.assignments_path(workspace_id), &[])
            .await?;
        Ok(list.permission_assignments)
    }

    /// The assignment of one principal, from the list (the API has no GET of one); `None` when
    /// it has none.
    pub async fn get_permission_assignment(
        &self,
        workspace_id: i64,
        principal_id: &str,
    ) -> Result<Option<PermissionAssignment>, Error> {
        Ok(self
            .list_permission_assignments(workspace_id)
            .await?
            .into_iter()
            .find(|a| {
                a.principal
                    .principal_id
                    .is_some_and(|id| id.to_string() == principal_id)
            }))
    }

    /// Sets the principal's permissions on the workspace (`PUT`, replacing what it had; an empty
    /// list removes them all).
    pub async fn set_permission_assignment(
        &self,
        workspace_id: i64,
        principal_id: &str,
        permissions: &[WorkspacePermission],
    ) -> Result<(), Error> {
        self.client()
            .put::<_, serde::de::IgnoredAny>(
                &self.principal_assignment_path(workspace_id, principal_id),
                &Permissions { permissions },
            )
            .await?;
        Ok(())
    }

    /// Removes the principal's assignment on the workspace.
    pub async fn delete_permission_assignment(
        &self,
        workspace_id: i64,
        principal_id: &str,
    ) -> Result<(), Error> {
        self.delete_object(&self.principal_assignment_path(workspace_id, principal_id))
            .await
    }
}
