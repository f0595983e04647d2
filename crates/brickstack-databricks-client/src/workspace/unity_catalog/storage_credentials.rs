//! Storage credentials (`/storage-credentials`): the IAM role Unity Catalog assumes to reach S3.
//! The role's trust policy must name `unity_catalog_iam_arn` with `sts:ExternalId` =
//! `external_id`, both known only after the create, so the create usually skips validation.

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

/// The AWS role of a credential, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsIamRoleRequest {
    pub role_arn: String,
}

/// The AWS role of a credential, as reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsIamRole {
    pub role_arn: String,
    /// What the role's trust policy must require as `sts:ExternalId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The Databricks role that assumes this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unity_catalog_iam_arn: Option<String>,
}

/// A storage credential as the API reports it (`StorageCredentialInfo`, AWS flavour).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageCredentialInfo {
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_iam_role: Option<AwsIamRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// What a new credential is made of (`CreateStorageCredential`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewStorageCredential {
    pub name: String,
    pub aws_iam_role: AwsIamRoleRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Skip the check that the role can be assumed (it cannot yet: see the module doc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_validation: Option<bool>,
}

/// A partial update (`PATCH`): members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StorageCredentialUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_iam_role: Option<AwsIamRoleRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_validation: Option<bool>,
}

const PATH: &str = "storage-credentials";

impl WorkspaceClient {
    /// Creates a credential. Names are unique in a metastore, so a create whose answer was lost
    /// is found by name before it is sent again.
    pub async fn create_storage_credential(
        &self,
        new: &NewStorageCredential,
    ) -> Result<StorageCredentialInfo, Error> {
        self.client()
            .create(&format!("{UC}/{PATH}"), new, || {
                self.get_storage_credential(&new.name)
            })
            .await
    }

    /// The credential named `name`; `None` when it does not exist.
    pub async fn get_storage_credential(
        &self,
        name: &str,
    ) -> Result<Option<StorageCredentialInfo>, Error> {
        self.uc_get(&format!("{UC}/{PATH}/{}", segment(name)), &[])
            .await
    }

    /// Every credential of the metastore.
    pub async fn list_storage_credentials(&self) -> Result<Vec<StorageCredentialInfo>, Error> {
        self.uc_list(&format!("{UC}/{PATH}"), &[], "storage_credentials")
            .await
    }

    pub async fn update_storage_credential(
        &self,
        name: &str,
        update: &StorageCredentialUpdate,
    ) -> Result<StorageCredentialInfo, Error> {
        self.client()
            .patch(&format!("{UC}/{PATH}/{}", segment(name)), &[], update)
            .await
    }

    /// Deletes a credential; `force` deletes one external locations still use.
    pub async fn delete_storage_credential(&self, name: &str, force: bool) -> Result<(), Error> {
        self.uc_delete(&format!("{UC}/{PATH}/{}", segment(name)), force)
            .await
    }
}
