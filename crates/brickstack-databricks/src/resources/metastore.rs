//! `databricks_metastore`: the account's Unity Catalog metastore for the environment's region.
//! The object id is the vendor's `metastore_id`.
//!
//! * `name` and `owner` change in place; `region` and `storage_root` force a new metastore.
//! * `owner` absent in the spec: whoever created it (the deploying principal) stays owner, and
//!   the observed owner is not compared.
//! * Delete is forced (its catalogs go with it): the engine refuses it without `--destroy-data`,
//!   since the kind holds data (`kinds::CATALOG_DATA`).
//! * `find` adopts the metastore with the name (unique in an account).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{done_if_not_found, gone, observed, parse};
use crate::account::unity_catalog::{MetastoreInfo, MetastoreUpdate, NewMetastore};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_metastore";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetastoreAttributes {
    account_id: String,
    name: String,
    region: String,
    storage_root: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema {
        holds_data: true,
        ..KindSchema::new(KIND)
            .attribute("account_id", AttributeBehaviour::ForcesReplacement)
            .attribute("region", AttributeBehaviour::ForcesReplacement)
            .attribute("storage_root", AttributeBehaviour::ForcesReplacement)
            .attribute("metastore_id", AttributeBehaviour::Computed)
    }
}

fn observe(p: &DatabricksProvider, m: &MetastoreInfo) -> Observed {
    let attributes = MetastoreAttributes {
        account_id: p.account().account_id().to_string(),
        name: m.name.clone(),
        region: m.region.clone().unwrap_or_default(),
        storage_root: root_as_sent(m),
        owner: m.owner.clone(),
    };
    observed(
        &m.metastore_id,
        &attributes,
        [("metastore_id", Value::from(m.metastore_id.clone()))],
    )
}

/// The root as the spec gives it: the API reports it with the metastore's id appended (and
/// sometimes a trailing `/`), which the spec cannot know.
fn root_as_sent(m: &MetastoreInfo) -> String {
    let root = m.storage_root.clone().unwrap_or_default();
    let trimmed = root.trim_end_matches('/');
    trimmed
        .strip_suffix(m.metastore_id.as_str())
        .map_or(trimmed, |r| r.trim_end_matches('/'))
        .to_string()
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(p.account()
        .get_metastore(object_id)
        .await?
        .map(|m| observe(p, &m)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: MetastoreAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let created = p
        .account()
        .create_metastore(&NewMetastore {
            name: desired.name.clone(),
            region: Some(desired.region.clone()),
            storage_root: Some(desired.storage_root.clone()),
            external_access_enabled: None,
        })
        .await?;
    let Some(owner) = desired.owner.filter(|o| created.owner.as_ref() != Some(o)) else {
        return Ok(observe(p, &created));
    };
    // The create takes no owner. Were this update lost, the next plan shows the owner to change.
    let updated = p
        .account()
        .update_metastore(
            &created.metastore_id,
            &MetastoreUpdate {
                owner: Some(owner),
                ..MetastoreUpdate::default()
            },
        )
        .await?;
    Ok(observe(p, &updated))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: MetastoreAttributes = parse(KIND, attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let current = p
        .account()
        .get_metastore(object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let change = MetastoreUpdate {
        new_name: (current.name != desired.name).then(|| desired.name.clone()),
        owner: desired.owner.filter(|o| current.owner.as_ref() != Some(o)),
        ..MetastoreUpdate::default()
    };
    if change == MetastoreUpdate::default() {
        return Ok(observe(p, &current));
    }
    let updated = p.account().update_metastore(object_id, &change).await?;
    Ok(observe(p, &updated))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(p.account().delete_metastore(object_id, true).await)
}

/// The metastore named `lookup.name` in the account.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    Ok(p.account()
        .find_metastore(name)
        .await?
        .map(|m| observe(p, &m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_reads_back_without_the_id_the_api_appends() {
        let mut m = MetastoreInfo {
            metastore_id: "abc-123".into(),
            storage_root: Some("s3://bucket/metastore/abc-123".into()),
            ..MetastoreInfo::default()
        };
        assert_eq!(root_as_sent(&m), "s3://bucket/metastore");
        m.storage_root = Some("s3://bucket/metastore/".into());
        assert_eq!(root_as_sent(&m), "s3://bucket/metastore");
        m.storage_root = Some("s3://bucket/metastore".into());
        assert_eq!(root_as_sent(&m), "s3://bucket/metastore");
    }
}
