//! Account-level Unity Catalog: metastores (`/metastores`: create, get, list, update, delete with
//! `force`) and their assignment to workspaces (`/workspaces/{id}/metastores/{metastore_id}`:
//! create, update, delete; `/workspaces/{id}/metastore`: the workspace's one assignment). Bodies
//! are wrapped (`metastore_info`, `metastore_assignment`) as the account API wants them; the
//! workspace-level equivalents are in `workspace::unity_catalog`.

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A metastore as the API reports it (`MetastoreInfo`); fields the platform may leave out are
/// optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetastoreInfo {
    pub metastore_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_root_credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_root_credential_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
    /// `cloud:region:uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_metastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privilege_model_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_sharing_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_access_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// What a new metastore is made of (`CreateMetastore`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewMetastore {
    pub name: String,
    /// The AWS region; a workspace can only be assigned a metastore of its own region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `s3://bucket/prefix`: where managed tables go when no catalog names a root of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_access_enabled: Option<bool>,
}

/// A partial update (`UpdateMetastore`): members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MetastoreUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root_credential_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_access_enabled: Option<bool>,
}

/// A workspace's metastore assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetastoreAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<i64>,
    pub metastore_id: String,
    /// Deprecated by the vendor; kept because old assignments carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_catalog_name: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WrappedInfo<T> {
    metastore_info: T,
}

#[derive(Serialize, Deserialize)]
struct WrappedAssignment<T> {
    metastore_assignment: T,
}

#[derive(Deserialize)]
struct MetastoreList {
    #[serde(default)]
    metastores: Vec<MetastoreInfo>,
}

#[derive(Deserialize)]
struct WorkspaceIds {
    #[serde(default)]
    workspace_ids: Vec<i64>,
}

impl AccountClient {
    fn metastore_path(&self, metastore_id: &str) -> String {
        self.path(&format!("metastores/{metastore_id}"))
    }

    fn assignment_path(&self, workspace_id: i64, metastore_id: &str) -> String {
        self.path(&format!(
            "workspaces/{workspace_id}/metastores/{metastore_id}"
        ))
    }

    /// Creates a metastore. Names are unique in an account, so a create whose answer was lost is
    /// found by name before it is sent again.
    pub async fn create_metastore(&self, new: &NewMetastore) -> Result<MetastoreInfo, Error> {
        let body = WrappedInfo {
            metastore_info: new,
        };
        let created: WrappedInfo<MetastoreInfo> = self
            .client()
            .create(&self.path("metastores"), &body, || async {
                Ok(self
                    .find_metastore(&new.name)
                    .await?
                    .map(|metastore_info| WrappedInfo { metastore_info }))
            })
            .await?;
        Ok(created.metastore_info)
    }

    /// Every metastore of the account.
    pub async fn list_metastores(&self) -> Result<Vec<MetastoreInfo>, Error> {
        let list: MetastoreList = self.client().get(&self.path("metastores"), &[]).await?;
        Ok(list.metastores)
    }

    /// The metastore named `name`, if any.
    pub async fn find_metastore(&self, name: &str) -> Result<Option<MetastoreInfo>, Error> {
        Ok(self
            .list_metastores()
            .await?
            .into_iter()
            .find(|m| m.name == name))
    }

    /// One metastore; `None` when it does not exist.
    pub async fn get_metastore(&self, metastore_id: &str) -> Result<Option<MetastoreInfo>, Error> {
        let found: Option<WrappedInfo<MetastoreInfo>> = self
            .get_if_exists(&self.metastore_path(metastore_id))
            .await?;
        Ok(found.map(|w| w.metastore_info))
    }

    /// Changes what `update` sets (`PUT` with a partial `metastore_info`).
    pub async fn update_metastore(
        &self,
        metastore_id: &str,
        update: &MetastoreUpdate,
    ) -> Result<MetastoreInfo, Error> {
        let body = WrappedInfo {
            metastore_info: update,
        };
        let updated: WrappedInfo<MetastoreInfo> = self
            .client()
            .put(&self.metastore_path(metastore_id), &body)
            .await?;
        Ok(updated.metastore_info)
    }

    /// Deletes a metastore; `force` deletes one that still holds objects or assignments.
    pub async fn delete_metastore(&self, metastore_id: &str, force: bool) -> Result<(), Error> {
        let query = [("force", force.to_string())];
        self.client()
            .delete::<serde::de::IgnoredAny>(&self.metastore_path(metastore_id), &query)
            .await?;
        Ok(())
    }

    /// The ids of the workspaces assigned to a metastore.
    pub async fn metastore_workspaces(&self, metastore_id: &str) -> Result<Vec<i64>, Error> {
        let ids: WorkspaceIds = self
            .client()
            .get(
                &format!("{}/workspaces", self.metastore_path(metastore_id)),
                &[],
            )
            .await?;
        Ok(ids.workspace_ids)
    }

    /// Assigns a metastore to a workspace. The API refuses a second assignment, so a create
    /// whose answer was lost is recognised by reading the workspace's assignment.
    pub async fn create_metastore_assignment(
        &self,
        workspace_id: i64,
        metastore_id: &str,
    ) -> Result<(), Error> {
        let body = WrappedAssignment {
            metastore_assignment: MetastoreAssignment {
                workspace_id: None,
                metastore_id: metastore_id.to_string(),
                default_catalog_name: None,
            },
        };
        let _: serde::de::IgnoredAny = self
            .client()
            .create(
                &self.assignment_path(workspace_id, metastore_id),
                &body,
                || async {
                    Ok(self
                        .get_metastore_assignment(workspace_id)
                        .await?
                        .filter(|a| a.metastore_id == metastore_id)
                        .map(|_| serde::de::IgnoredAny))
                },
            )
            .await?;
        Ok(())
    }

    /// The workspace's assignment; `None` when it has no metastore.
    pub async fn get_metastore_assignment(
        &self,
        workspace_id: i64,
    ) -> Result<Option<MetastoreAssignment>, Error> {
        let found: Option<WrappedAssignment<MetastoreAssignment>> = self
            .get_if_exists(&self.path(&format!("workspaces/{workspace_id}/metastore")))
            .await?;
        Ok(found.map(|w| w.metastore_assignment))
    }

    /// Updates an assignment (only its deprecated default catalog can change).
    pub async fn update_metastore_assignment(
        &self,
        workspace_id: i64,
        metastore_id: &str,
        default_catalog_name: Option<&str>,
    ) -> Result<(), Error> {
        let body = WrappedAssignment {
            metastore_assignment: MetastoreAssignment {
                workspace_id: None,
                metastore_id: metastore_id.to_string(),
                default_catalog_name: default_catalog_name.map(str::to_string),
            },
        };
        self.client()
            .put::<_, serde::de::IgnoredAny>(
                &self.assignment_path(workspace_id, metastore_id),
                &body,
            )
            .await?;
        Ok(())
    }

    /// Removes the workspace's assignment to the metastore.
    pub async fn delete_metastore_assignment(
        &self,
        workspace_id: i64,
        metastore_id: &str,
    ) -> Result<(), Error> {
        self.delete_object(&self.assignment_path(workspace_id, metastore_id))
            .await
    }
}
