//! Storage configurations (`/storage-configurations`): the workspace's root S3 bucket.
//! Immutable: create, get, list, delete.

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A storage configuration as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageConfiguration {
    pub storage_configuration_id: String,
    pub storage_configuration_name: String,
    #[serde(default)]
    pub account_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub creation_time: Option<i64>,
    #[serde(default)]
    pub root_bucket_info: RootBucketInfo,
    /// The IAM role of the workspace catalog that shares the root bucket, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootBucketInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_name: Option<String>,
}

/// What a new storage configuration is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewStorageConfiguration {
    pub storage_configuration_name: String,
    pub root_bucket_info: RootBucketInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

impl AccountClient {
    /// Every storage configuration of the account.
    pub async fn list_storage_configurations(&self) -> Result<Vec<StorageConfiguration>, Error> {
        self.client()
            .get(&self.path("storage-configurations"), &[])
            .await
    }

    /// One storage configuration; `None` when it does not exist.
    pub async fn get_storage_configuration(
        &self,
        storage_configuration_id: &str,
    ) -> Result<Option<StorageConfiguration>, Error> {
        self.get_if_exists(&self.path(&format!(
            "storage-configurations/{storage_configuration_id}"
        )))
        .await
    }

    /// Creates a storage configuration; a create whose answer was lost is recognised by its
    /// name (unique in an account).
    pub async fn create_storage_configuration(
        &self,
        new: &NewStorageConfiguration,
    ) -> Result<StorageConfiguration, Error> {
        self.client()
            .create(&self.path("storage-configurations"), new, || async {
                Ok(self
                    .list_storage_configurations()
                    .await?
                    .into_iter()
                    .find(|s| s.storage_configuration_name == new.storage_configuration_name))
            })
            .await
    }

    /// Deletes a storage configuration (refused while a workspace uses it).
    pub async fn delete_storage_configuration(
        &self,
        storage_configuration_id: &str,
    ) -> Result<(), Error> {
        self.delete_object(&self.path(&format!(
            "storage-configurations/{storage_configuration_id}"
        )))
        .await
    }
}
