//! `aws_kms_alias`: a name for a KMS key. The object id is the alias name (`alias/...`).
//!
//! KMS has no call that describes one alias, so reads list the account's aliases: a batched read
//! is one listing however many aliases it asks for.

use std::collections::BTreeMap;

use aws_sdk_kms::types::AliasListEntry;
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{observed, parse};
use crate::classify::{classify, done_if_not_found, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_kms_alias";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Alias {
    name: String,
    /// The key id (not its ARN), as `aws_kms_key.<name>.key_id` gives it.
    target_key_id: String,
}

impl Alias {
    fn desired(attributes: &Attributes) -> Result<Alias, ProviderError> {
        let alias: Alias = parse(KIND, attributes)?;
        if !alias.name.starts_with("alias/") || alias.name.starts_with("alias/aws/") {
            return Err(invalid_input(
                KIND,
                format!(
                    "`name` is `{}`; an alias name starts with `alias/` (and `alias/aws/` is AWS's own)",
                    alias.name
                ),
            ));
        }
        Ok(alias)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("name", AttributeBehaviour::ForcesReplacement)
        .attribute("arn", AttributeBehaviour::Computed)
}

fn observed_alias(entry: &AliasListEntry) -> Option<Observed> {
    let name = entry.alias_name()?;
    let alias = Alias {
        name: name.to_string(),
        // An AWS-managed alias not yet used has no target; it is no object of ours.
        target_key_id: entry.target_key_id()?.to_string(),
    };
    Some(observed(
        name,
        &alias,
        [("arn", entry.alias_arn().unwrap_or_default().to_string())],
    ))
}

/// Every alias in the account and region, by name.
async fn list(aws: &AwsProvider) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let entries: Vec<AliasListEntry> = aws
        .clients()
        .kms
        .list_aliases()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("kms:ListAliases", &e))?;
    Ok(entries
        .iter()
        .filter_map(observed_alias)
        .map(|o| (o.object_id.clone(), o))
        .collect())
}

pub(crate) async fn read(aws: &AwsProvider, name: &str) -> Result<Option<Observed>, ProviderError> {
    Ok(list(aws).await?.remove(name))
}

/// One listing for all of them.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    names: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let mut all = list(aws).await?;
    Ok(names.iter().filter_map(|n| all.remove_entry(n)).collect())
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let alias = Alias::desired(attributes)?;
    aws.clients()
        .kms
        .create_alias()
        .alias_name(&alias.name)
        .target_key_id(&alias.target_key_id)
        .send()
        .await
        .map_err(|e| classify("kms:CreateAlias", &e))?;
    observed_of(aws, &alias).await
}

pub(crate) async fn update(
    aws: &AwsProvider,
    name: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let alias = Alias::desired(attributes)?;
    if alias.name != name {
        return Err(invalid_input(
            KIND,
            "`name` changes only by replacing the alias",
        ));
    }
    aws.clients()
        .kms
        .update_alias()
        .alias_name(name)
        .target_key_id(&alias.target_key_id)
        .send()
        .await
        .map_err(|e| classify("kms:UpdateAlias", &e))?;
    observed_of(aws, &alias).await
}

/// `alias` with its ARN, which no alias call returns but which follows from where it lives.
async fn observed_of(aws: &AwsProvider, alias: &Alias) -> Result<Observed, ProviderError> {
    let identity = aws.identity().await?;
    let arn = format!(
        "arn:{}:kms:{}:{}:{}",
        identity.partition,
        aws.region()?,
        identity.account_id,
        alias.name
    );
    Ok(observed(&alias.name, alias, [("arn", arn)]))
}

pub(crate) async fn delete(aws: &AwsProvider, name: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .kms
        .delete_alias()
        .alias_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("kms:DeleteAlias", &e)),
    }
}
