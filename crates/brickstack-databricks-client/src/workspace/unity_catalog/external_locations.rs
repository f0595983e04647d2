//! External locations (`/external-locations`): an S3 URL and the storage credential that reaches
//! it. Catalogs and tables outside the metastore root must live under one.

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

/// Server-side encryption Unity Catalog asks S3 for when it writes through a location
/// (`EncryptionDetails`). A bucket whose policy refuses uploads without the SSE-KMS header needs
/// `AWS_SSE_KMS` and its key here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_encryption_details: Option<SseEncryptionDetails>,
}

/// `SseEncryptionDetails`: `algorithm` is `AWS_SSE_KMS` or `AWS_SSE_S3`; `aws_kms_key_arn` is the
/// key for `AWS_SSE_KMS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SseEncryptionDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_kms_key_arn: Option<String>,
}

impl EncryptionDetails {
    /// SSE-KMS with the key `arn`.
    pub fn sse_kms(arn: impl Into<String>) -> Self {
        EncryptionDetails {
            sse_encryption_details: Some(SseEncryptionDetails {
                algorithm: Some("AWS_SSE_KMS".into()),
                aws_kms_key_arn: Some(arn.into()),
            }),
        }
    }
}

/// An external location as the API reports it (`ExternalLocationInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLocationInfo {
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub credential_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_details: Option<EncryptionDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// What a new external location is made of (`CreateExternalLocation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewExternalLocation {
    pub name: String,
    /// `s3://bucket/prefix`.
    pub url: String,
    pub credential_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_details: Option<EncryptionDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_validation: Option<bool>,
}

/// A partial update (`PATCH`): members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExternalLocationUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_details: Option<EncryptionDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_validation: Option<bool>,
}

const PATH: &str = "external-locations";

impl WorkspaceClient {
    /// Creates an external location; a create whose answer was lost is found by name.
    pub async fn create_external_location(
        &self,
        new: &NewExternalLocation,
    ) -> Result<ExternalLocationInfo, Error> {
        self.client()
            .create(&format!("{UC}/{PATH}"), new, || {
                self.get_external_location(&new.name)
            })
            .await
    }

    /// The external location named `name`; `None` when it does not exist.
    pub async fn get_external_location(
        &self,
        name: &str,
    ) -> Result<Option<ExternalLocationInfo>, Error> {
        self.uc_get(&format!("{UC}/{PATH}/{}", segment(name)), &[])
            .await
    }

    pub async fn list_external_locations(&self) -> Result<Vec<ExternalLocationInfo>, Error> {
        self.uc_list(&format!("{UC}/{PATH}"), &[], "external_locations")
            .await
    }

    pub async fn update_external_location(
        &self,
        name: &str,
        update: &ExternalLocationUpdate,
    ) -> Result<ExternalLocationInfo, Error> {
        self.client()
            .patch(&format!("{UC}/{PATH}/{}", segment(name)), &[], update)
            .await
    }

    /// Deletes an external location; `force` deletes one catalogs or tables still use.
    pub async fn delete_external_location(&self, name: &str, force: bool) -> Result<(), Error> {
        self.uc_delete(&format!("{UC}/{PATH}/{}", segment(name)), force)
            .await
    }
}
