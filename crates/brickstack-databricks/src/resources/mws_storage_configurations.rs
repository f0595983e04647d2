//! `databricks_mws_storage_configurations`: the workspace's root S3 bucket registered with the
//! account. The object id is the vendor's `storage_configuration_id`. Immutable: every desired
//! attribute forces replacement.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{done_if_not_found, nothing_updates, observed, parse, unexpected};
use crate::account::storage::{NewStorageConfiguration, RootBucketInfo, StorageConfiguration};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_storage_configurations";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageAttributes {
    account_id: String,
    storage_configuration_name: String,
    bucket_name: String,
    /// The workspace catalog's IAM role, when the catalog shares the root bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute(
            "storage_configuration_name",
            AttributeBehaviour::ForcesReplacement,
        )
        .attribute("bucket_name", AttributeBehaviour::ForcesReplacement)
        .attribute("role_arn", AttributeBehaviour::ForcesReplacement)
        .attribute("storage_configuration_id", AttributeBehaviour::Computed)
        .attribute("creation_time", AttributeBehaviour::Computed)
}

fn observe(
    p: &DatabricksProvider,
    storage: StorageConfiguration,
) -> Result<Observed, ProviderError> {
    let bucket_name = storage
        .root_bucket_info
        .bucket_name
        .clone()
        .ok_or_else(|| {
            unexpected(
                KIND,
                format!(
                    "storage configuration `{}` has no bucket name",
                    storage.storage_configuration_id
                ),
            )
        })?;
    let attributes = StorageAttributes {
        account_id: p.account().account_id().to_string(),
        storage_configuration_name: storage.storage_configuration_name.clone(),
        bucket_name,
        role_arn: storage.role_arn.clone().filter(|r| !r.is_empty()),
    };
    let mut computed = vec![(
        "storage_configuration_id",
        Value::from(storage.storage_configuration_id.clone()),
    )];
    if let Some(t) = storage.creation_time {
        computed.push(("creation_time", Value::from(t)));
    }
    Ok(observed(
        &storage.storage_configuration_id,
        &attributes,
        computed,
    ))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    p.account()
        .get_storage_configuration(object_id)
        .await?
        .map(|s| observe(p, s))
        .transpose()
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: StorageAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let created = p
        .account()
        .create_storage_configuration(&NewStorageConfiguration {
            storage_configuration_name: desired.storage_configuration_name,
            root_bucket_info: RootBucketInfo {
                bucket_name: Some(desired.bucket_name),
            },
            role_arn: desired.role_arn,
        })
        .await?;
    observe(p, created)
}

/// Every attribute forces replacement, so the engine never asks for an update.
pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

/// The vendor refuses (a conflict) while a workspace uses the configuration.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(p.account().delete_storage_configuration(object_id).await)
}

/// By `storage_configuration_name`, unique in an account.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    p.account()
        .list_storage_configurations()
        .await?
        .into_iter()
        .find(|s| &s.storage_configuration_name == name)
        .map(|s| observe(p, s))
        .transpose()
}
