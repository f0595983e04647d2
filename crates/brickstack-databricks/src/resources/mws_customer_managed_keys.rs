//! `databricks_mws_customer_managed_keys`: a KMS key registered with the account for managed
//! services and/or workspace storage. The object id is the vendor's `customer_managed_key_id`.
//!
//! * Immutable: every desired attribute forces replacement; `use_cases` is a set (unordered).
//! * `aws_key_info` is compared whole, so it has one canonical shape: the vendor fills in
//!   `key_region` (the ARN's region) and, for `STORAGE`, `reuse_key_for_cluster_volumes` (`true`)
//!   when they are not given, and reads leave them out when they hold those defaults. A spec that
//!   spells a default out is refused with a hint, rather than planned as a replacement on every
//!   run.
//! * `find` adopts nothing: a key configuration has no name, and the lookup the engine keeps for
//!   an interrupted create carries neither the key ARN nor tags, so nothing identifies the lost
//!   configuration (a duplicate configuration of the same key is harmless).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{done_if_not_found, invalid_input, nothing_updates, observed, parse, unexpected};
use crate::account::keys::{AwsKeyInfo, CustomerManagedKey, NewCustomerManagedKey};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_customer_managed_keys";

const STORAGE: &str = "STORAGE";
const USE_CASES: &[&str] = &["MANAGED_SERVICES", STORAGE];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyAttributes {
    account_id: String,
    aws_key_info: KeyInfo,
    use_cases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyInfo {
    key_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_alias: Option<String>,
    /// Only when it is not the ARN's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_region: Option<String>,
    /// Only `false` (with `STORAGE`), `true` being the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reuse_key_for_cluster_volumes: Option<bool>,
}

impl KeyAttributes {
    fn desired(attributes: &Attributes) -> Result<KeyAttributes, ProviderError> {
        let key: KeyAttributes = parse(KIND, attributes)?;
        if key.use_cases.is_empty() {
            return Err(invalid_input(KIND, "`use_cases` is empty"));
        }
        if let Some(bad) = key
            .use_cases
            .iter()
            .find(|u| !USE_CASES.contains(&u.as_str()))
        {
            return Err(invalid_input(
                KIND,
                format!("`use_cases` has `{bad}`; hint: use `MANAGED_SERVICES` and/or `STORAGE`"),
            ));
        }
        let info = &key.aws_key_info;
        if info.key_region.is_some() && info.key_region == arn_region(&info.key_arn) {
            return Err(invalid_input(
                KIND,
                "`aws_key_info.key_region` is the key ARN's own region; hint: leave it out",
            ));
        }
        if info.reuse_key_for_cluster_volumes == Some(true) {
            return Err(invalid_input(
                KIND,
                "`aws_key_info.reuse_key_for_cluster_volumes` is `true`, the default; hint: leave it out",
            ));
        }
        Ok(key)
    }
}

/// The region of `arn:<partition>:kms:<region>:<account>:key/<id>`.
fn arn_region(arn: &str) -> Option<String> {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("kms"), Some(region)) if !region.is_empty() => {
            Some(region.to_string())
        }
        _ => None,
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute("aws_key_info", AttributeBehaviour::ForcesReplacement)
        .attribute("use_cases", AttributeBehaviour::ForcesReplacement)
        .attribute("customer_managed_key_id", AttributeBehaviour::Computed)
        .attribute("creation_time", AttributeBehaviour::Computed)
        .unordered("use_cases")
}

fn observe(p: &DatabricksProvider, key: CustomerManagedKey) -> Result<Observed, ProviderError> {
    let info = key.aws_key_info.clone().ok_or_else(|| {
        unexpected(
            KIND,
            format!(
                "key configuration `{}` has no `aws_key_info`",
                key.customer_managed_key_id
            ),
        )
    })?;
    let region = arn_region(&info.key_arn);
    let attributes = KeyAttributes {
        account_id: p.account().account_id().to_string(),
        aws_key_info: KeyInfo {
            key_region: info.key_region.filter(|r| Some(r) != region.as_ref()),
            reuse_key_for_cluster_volumes: info.reuse_key_for_cluster_volumes.filter(|r| !r),
            key_alias: info.key_alias.filter(|a| !a.is_empty()),
            key_arn: info.key_arn,
        },
        use_cases: key.use_cases.clone(),
    };
    let mut computed = vec![(
        "customer_managed_key_id",
        Value::from(key.customer_managed_key_id.clone()),
    )];
    if let Some(t) = key.creation_time {
        computed.push(("creation_time", Value::from(t)));
    }
    Ok(observed(
        &key.customer_managed_key_id,
        &attributes,
        computed,
    ))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    p.account()
        .get_customer_managed_key(object_id)
        .await?
        .map(|k| observe(p, k))
        .transpose()
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = KeyAttributes::desired(&request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    if desired.aws_key_info.reuse_key_for_cluster_volumes.is_some()
        && !desired.use_cases.iter().any(|u| u == STORAGE)
    {
        return Err(invalid_input(
            KIND,
            "`aws_key_info.reuse_key_for_cluster_volumes` applies only to the `STORAGE` use case",
        ));
    }
    let info = desired.aws_key_info;
    let created = p
        .account()
        .create_customer_managed_key(&NewCustomerManagedKey {
            use_cases: desired.use_cases,
            aws_key_info: AwsKeyInfo {
                key_arn: info.key_arn,
                key_alias: info.key_alias,
                key_region: info.key_region,
                reuse_key_for_cluster_volumes: info.reuse_key_for_cluster_volumes,
            },
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

/// The vendor refuses (a conflict) while a running workspace uses the key.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(p.account().delete_customer_managed_key(object_id).await)
}

/// Nothing identifies a lost key configuration (see the module's documentation).
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}

/// The account's key configuration for the desired key ARN and use cases (a key configuration
/// has no name; the ARN is what identifies it).
pub(crate) async fn discover(
    p: &DatabricksProvider,
    desired: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let desired = KeyAttributes::desired(desired)?;
    let mut wanted = desired.use_cases.clone();
    wanted.sort();
    p.account()
        .list_customer_managed_keys()
        .await?
        .into_iter()
        .find(|k| {
            let mut cases = k.use_cases.clone();
            cases.sort();
            cases == wanted
                && k.aws_key_info
                    .as_ref()
                    .is_some_and(|i| i.key_arn == desired.aws_key_info.key_arn)
        })
        .map(|k| observe(p, k))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_key_arn() {
        assert_eq!(
            arn_region("arn:aws:kms:eu-west-1:123456789012:key/abc").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("alias/x"), None);
    }

    #[test]
    fn spelled_out_defaults_are_refused_so_plans_never_churn() {
        let attrs = |info: Value| -> Attributes {
            serde_json::from_value(serde_json::json!({
                "account_id": "a", "use_cases": ["STORAGE"], "aws_key_info": info
            }))
            .unwrap()
        };
        let arn = "arn:aws:kms:eu-west-1:123456789012:key/abc";
        assert!(KeyAttributes::desired(&attrs(serde_json::json!({ "key_arn": arn }))).is_ok());
        assert!(
            KeyAttributes::desired(&attrs(
                serde_json::json!({ "key_arn": arn, "key_region": "eu-west-1" })
            ))
            .is_err()
        );
        assert!(
            KeyAttributes::desired(&attrs(
                serde_json::json!({ "key_arn": arn, "reuse_key_for_cluster_volumes": true })
            ))
            .is_err()
        );
        assert!(
            KeyAttributes::desired(&attrs(
                serde_json::json!({ "key_arn": arn, "reuse_key_for_cluster_volumes": false })
            ))
            .is_ok()
        );
    }
}
