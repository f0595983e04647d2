//! `aws_iam_policy`: a customer managed policy. The object id is the policy ARN.
//!
//! * `policy` is the default version's document as an object. An update adds a version and
//!   makes it the default; IAM keeps at most five, so the oldest non-default one goes first.
//! * A batched read is one GAAD (`LocalManagedPolicy`: every policy with its versions) plus a
//!   ListPolicyTags per policy found, a few at a time: GAAD reports no managed policy's tags.
//! * Delete removes the non-default versions first, which IAM requires.
//! * `find` looks the name up among the account's policies (ListPolicies; names are unique in an
//!   account whatever the path) and adopts it only when it carries the lookup's tags.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{EntityType, ManagedPolicyDetail, PolicyScopeType, PolicyVersion, Tag};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::iam::{
    ENTITY_ALREADY_EXISTS, GAAD, already_there, authorization_details, carries_lookup_tags,
    non_empty, policy_document, require_document, retag, root_path, tag_list, tags_of, unchanged,
};
use super::{Tags, observed, parse, read_each};
use crate::classify::{
    absent_if_not_found, classify, done_if_not_found, gone, invalid_input, missing_field,
};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_iam_policy";

/// The most versions IAM keeps of a managed policy.
const MAX_VERSIONS: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    name: String,
    #[serde(default = "root_path")]
    path: String,
    /// The default version's document as an object.
    policy: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

impl Policy {
    fn desired(attributes: &Attributes) -> Result<Policy, ProviderError> {
        let mut policy: Policy = parse(KIND, attributes)?;
        require_document(KIND, "policy", &policy.policy)?;
        policy.description = non_empty(policy.description.as_deref());
        Ok(policy)
    }

    fn observed(&self, arn: &str) -> Observed {
        observed(
            arn,
            self,
            [("arn", arn.to_string()), ("id", arn.to_string())],
        )
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("name", AttributeBehaviour::ForcesReplacement)
        .attribute("path", AttributeBehaviour::ForcesReplacement)
        .attribute("description", AttributeBehaviour::ForcesReplacement)
        .attribute("arn", AttributeBehaviour::Computed)
        .attribute("id", AttributeBehaviour::Computed)
}

async fn list_tags(aws: &AwsProvider, arn: &str) -> Result<Tags, ProviderError> {
    let tags: Vec<Tag> = aws
        .clients()
        .iam
        .list_policy_tags()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListPolicyTags", &e))?;
    Ok(tags_of(&tags))
}

/// The live policy `arn` (GetPolicy, then its default version and its tags).
async fn current(aws: &AwsProvider, arn: &str) -> Result<Option<Policy>, ProviderError> {
    const OPERATION: &str = "iam:GetPolicy";
    let iam = &aws.clients().iam;
    let out = match iam.get_policy().policy_arn(arn).send().await {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify(OPERATION, &e)),
    };
    let policy = out
        .policy()
        .ok_or_else(|| missing_field(OPERATION, "Policy"))?;
    let default_version = policy
        .default_version_id()
        .ok_or_else(|| missing_field(OPERATION, "DefaultVersionId"))?;
    let document = async {
        const OPERATION: &str = "iam:GetPolicyVersion";
        let out = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(default_version)
            .send()
            .await
            .map_err(|e| classify(OPERATION, &e))?;
        out.policy_version()
            .and_then(PolicyVersion::document)
            .map(policy_document)
            .ok_or_else(|| missing_field(OPERATION, "PolicyVersion.Document"))
    };
    let (document, tags) = match tokio::try_join!(document, list_tags(aws, arn)) {
        Ok(parts) => parts,
        // Deleted between the calls.
        Err(e) => return absent_if_not_found(e),
    };
    Ok(Some(Policy {
        name: policy
            .policy_name()
            .ok_or_else(|| missing_field(OPERATION, "PolicyName"))?
            .to_string(),
        path: policy.path().unwrap_or(super::iam::ROOT_PATH).to_string(),
        policy: document,
        description: non_empty(policy.description()),
        tags,
    }))
}

pub(crate) async fn read(aws: &AwsProvider, arn: &str) -> Result<Option<Observed>, ProviderError> {
    Ok(current(aws, arn).await?.map(|p| p.observed(arn)))
}

/// A policy as GAAD reports it (its default version's document), with its tags.
fn from_detail(detail: &ManagedPolicyDetail, tags: Tags) -> Result<Policy, ProviderError> {
    let default_version = detail
        .default_version_id()
        .ok_or_else(|| missing_field(GAAD, "DefaultVersionId"))?;
    let document = detail
        .policy_version_list()
        .iter()
        .find(|v| v.version_id() == Some(default_version))
        .and_then(PolicyVersion::document)
        .ok_or_else(|| missing_field(GAAD, "PolicyVersionList (default version)"))?;
    // moto leaves `PolicyName` out; the ARN ends with it (`...:policy/PATH/NAME`).
    let name = detail
        .policy_name()
        .or_else(|| {
            detail
                .arn()
                .and_then(|arn| arn.rsplit_once('/'))
                .map(|(_, n)| n)
        })
        .ok_or_else(|| missing_field(GAAD, "PolicyName"))?;
    Ok(Policy {
        name: name.to_string(),
        path: detail.path().unwrap_or(super::iam::ROOT_PATH).to_string(),
        policy: policy_document(document),
        description: non_empty(detail.description()),
        tags,
    })
}

/// One GAAD for all of them, then each found policy's tags (a few at a time); a missing policy
/// is left out.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    arns: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    if arns.is_empty() {
        return Ok(BTreeMap::new());
    }
    let details = authorization_details(aws, &[EntityType::LocalManagedPolicy]).await?;
    let by_arn: BTreeMap<&str, &ManagedPolicyDetail> = details
        .policies
        .iter()
        .filter_map(|p| Some((p.arn()?, p)))
        .collect();
    let present: Vec<String> = arns
        .iter()
        .filter(|arn| by_arn.contains_key(arn.as_str()))
        .cloned()
        .collect();
    let by_arn = &by_arn;
    read_each(&present, |arn| async move {
        let Some(detail) = by_arn.get(arn) else {
            return Ok(None);
        };
        let tags = match list_tags(aws, arn).await {
            Ok(tags) => tags,
            // Deleted since GAAD.
            Err(e) => return absent_if_not_found(e),
        };
        Ok(Some(from_detail(detail, tags)?.observed(arn)))
    })
    .await
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    const OPERATION: &str = "iam:CreatePolicy";
    let policy = Policy::desired(attributes)?;
    let out = aws
        .clients()
        .iam
        .create_policy()
        .policy_name(&policy.name)
        .path(&policy.path)
        .policy_document(policy.policy.to_string())
        .set_description(policy.description.clone())
        .set_tags(tag_list(KIND, &policy.tags)?)
        .send()
        .await
        .map_err(|e| classify(OPERATION, &e));
    let out = match out {
        Ok(out) => out,
        Err(error) if error.code == ENTITY_ALREADY_EXISTS => {
            return find(aws, &already_there(&policy.name, &policy.tags))
                .await?
                .ok_or(error);
        }
        Err(error) => return Err(error),
    };
    let arn = out
        .policy()
        .and_then(|p| p.arn())
        .ok_or_else(|| missing_field(OPERATION, "Policy.Arn"))?;
    Ok(policy.observed(arn))
}

/// The policy's versions, oldest first.
async fn versions(aws: &AwsProvider, arn: &str) -> Result<Vec<PolicyVersion>, ProviderError> {
    let mut versions: Vec<PolicyVersion> = aws
        .clients()
        .iam
        .list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListPolicyVersions", &e))?;
    // By creation date, then by the number in `vN` (IAM numbers versions in creation order).
    versions.sort_by_key(|v| {
        (
            v.create_date().map(|d| (d.secs(), d.subsec_nanos())),
            version_number(v),
        )
    });
    Ok(versions)
}

fn version_number(version: &PolicyVersion) -> Option<u64> {
    version
        .version_id()
        .and_then(|id| id.strip_prefix('v'))
        .and_then(|n| n.parse().ok())
}

async fn delete_version(
    aws: &AwsProvider,
    arn: &str,
    version_id: &str,
) -> Result<(), ProviderError> {
    match aws
        .clients()
        .iam
        .delete_policy_version()
        .policy_arn(arn)
        .version_id(version_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:DeletePolicyVersion", &e)),
    }
}

/// Makes `document` the default version, deleting the oldest non-default version first when
/// IAM already keeps the most it will.
async fn add_version(aws: &AwsProvider, arn: &str, document: &Value) -> Result<(), ProviderError> {
    let versions = versions(aws, arn).await?;
    if versions.len() >= MAX_VERSIONS
        && let Some(oldest) = versions
            .iter()
            .filter(|v| !v.is_default_version())
            .find_map(PolicyVersion::version_id)
    {
        delete_version(aws, arn, oldest).await?;
    }
    aws.clients()
        .iam
        .create_policy_version()
        .policy_arn(arn)
        .policy_document(document.to_string())
        .set_as_default(true)
        .send()
        .await
        .map_err(|e| classify("iam:CreatePolicyVersion", &e))?;
    Ok(())
}

/// A new default version for a changed document, and the tags; the rest changes only by
/// replacement.
pub(crate) async fn update(
    aws: &AwsProvider,
    arn: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let policy = Policy::desired(attributes)?;
    let current = current(aws, arn).await?.ok_or_else(|| gone(KIND, arn))?;
    unchanged(KIND, "name", &current.name, &policy.name)?;
    unchanged(KIND, "path", &current.path, &policy.path)?;
    if policy.description != current.description {
        return Err(invalid_input(
            KIND,
            "`description` changes only by replacing the policy",
        ));
    }
    if policy.policy != current.policy {
        add_version(aws, arn, &policy.policy).await?;
    }
    let iam = &aws.clients().iam;
    retag(
        KIND,
        &current.tags,
        &policy.tags,
        |tags| async move {
            iam.tag_policy()
                .policy_arn(arn)
                .set_tags(Some(tags))
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam:TagPolicy", &e))
        },
        |keys| async move {
            iam.untag_policy()
                .policy_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam:UntagPolicy", &e))
        },
    )
    .await?;
    Ok(policy.observed(arn))
}

/// Deletes the non-default versions, then the policy; a policy already gone is done. A policy
/// still attached somewhere is a `DeleteConflict` (brickstack deletes its attachments first).
pub(crate) async fn delete(aws: &AwsProvider, arn: &str) -> Result<(), ProviderError> {
    let versions = match versions(aws, arn).await {
        Ok(versions) => versions,
        Err(e) => return done_if_not_found(e),
    };
    for version in versions.iter().filter(|v| !v.is_default_version()) {
        if let Some(version_id) = version.version_id() {
            delete_version(aws, arn, version_id).await?;
        }
    }
    match aws
        .clients()
        .iam
        .delete_policy()
        .policy_arn(arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:DeletePolicy", &e)),
    }
}

/// The account's policy named `lookup.name` if it carries the lookup's brickstack tags.
pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    let policies: Vec<_> = aws
        .clients()
        .iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListPolicies", &e))?;
    let Some(arn) = policies
        .iter()
        .find(|p| p.policy_name() == Some(name.as_str()))
        .and_then(|p| p.arn())
    else {
        return Ok(None);
    };
    Ok(current(aws, arn)
        .await?
        .filter(|policy| carries_lookup_tags(lookup, &policy.tags))
        .map(|policy| policy.observed(arn)))
}
