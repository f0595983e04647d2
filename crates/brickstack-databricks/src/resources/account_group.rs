//! `databricks_account_group`: a group of the Databricks account (SCIM at the account), which
//! Unity Catalog grants and workspace permission assignments name. The object id is the group's
//! SCIM id.
//!
//! * `display_name` changes in place (SCIM `PATCH replace displayName`).
//! * Members are not managed: the identity provider's SCIM sync fills the group.
//! * `find` adopts the one group with the display name (unique in an account).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{done_if_not_found, gone, observed, parse};
use crate::account::groups::{AccountGroup, NewAccountGroup, PatchOp};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_account_group";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupAttributes {
    account_id: String,
    display_name: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

fn observe(p: &DatabricksProvider, group: &AccountGroup) -> Observed {
    let attributes = GroupAttributes {
        account_id: p.account().account_id().to_string(),
        display_name: group.display_name.clone(),
    };
    observed(
        &group.id,
        &attributes,
        [("id", Value::from(group.id.clone()))],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(p.account()
        .get_account_group(object_id)
        .await?
        .map(|g| observe(p, &g)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: GroupAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let created = p
        .account()
        .create_account_group(&NewAccountGroup {
            display_name: desired.display_name,
            ..NewAccountGroup::default()
        })
        .await?;
    Ok(observe(p, &created))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: GroupAttributes = parse(KIND, attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let account = p.account();
    let current = account
        .get_account_group(object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    if current.display_name != desired.display_name {
        account
            .patch_account_group(
                object_id,
                &[PatchOp::replace(
                    "displayName",
                    desired.display_name.as_str(),
                )],
            )
            .await?;
    }
    let updated = account
        .get_account_group(object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    Ok(observe(p, &updated))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(p.account().delete_account_group(object_id).await)
}

/// The group named `lookup.name` (its display name) in the account.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    Ok(p.account()
        .find_account_group(name)
        .await?
        .map(|g| observe(p, &g)))
}
