//! `aws_iam_role_policy_attachment`: a managed policy attached to a role. The object id is
//! `ROLE/POLICY_ARN`, split at the first `/`: a role name cannot contain `/`, a policy ARN does
//! (`arn:aws:iam::123456789012:policy/name`).
//!
//! * Both attributes change only by replacement; IAM cannot tag an attachment.
//! * A batched read is one GAAD: every role's attached policies come with it.
//! * No `find`: attaching again is harmless.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{AttachedPolicy, EntityType};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::iam::{GAAD, asked, authorization_details, split_id, unchanged};
use super::{observed, parse};
use crate::classify::{absent_if_not_found, classify, done_if_not_found, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_iam_role_policy_attachment";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Attachment {
    role: String,
    policy_arn: String,
}

impl Attachment {
    fn object_id(&self) -> String {
        format!("{}/{}", self.role, self.policy_arn)
    }

    fn observed(&self) -> Observed {
        let id = self.object_id();
        observed(&id, self, [("id", id.clone())])
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("role", AttributeBehaviour::ForcesReplacement)
        .attribute("policy_arn", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

fn parse_id(object_id: &str) -> Result<Attachment, ProviderError> {
    let (role, policy_arn) = split_id(KIND, object_id, '/', "ROLE/POLICY_ARN")?;
    Ok(Attachment {
        role: role.to_string(),
        policy_arn: policy_arn.to_string(),
    })
}

/// The role's attached policies (ListAttachedRolePolicies), `None` when the role is gone.
/// The object the desired attributes name (its id is made of them), if it exists.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let desired: Attachment = parse(KIND, desired)?;
    read(aws, &desired.object_id()).await
}

pub(crate) async fn read(
    aws: &AwsProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let attachment = parse_id(object_id)?;
    let attached: Vec<AttachedPolicy> = match aws
        .clients()
        .iam
        .list_attached_role_policies()
        .role_name(&attachment.role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(attached) => attached,
        Err(e) => return absent_if_not_found(classify("iam:ListAttachedRolePolicies", &e)),
    };
    Ok(attached
        .iter()
        .any(|p| p.policy_arn() == Some(attachment.policy_arn.as_str()))
        .then(|| attachment.observed()))
}

/// One GAAD for all of them; a missing attachment (or role) is left out.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    object_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    if object_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let details = authorization_details(aws, &[EntityType::Role]).await?;
    let mut found = BTreeMap::new();
    for role in &details.roles {
        let role_name = role
            .role_name()
            .ok_or_else(|| missing_field(GAAD, "RoleName"))?;
        for policy in role.attached_managed_policies() {
            let policy_arn = policy
                .policy_arn()
                .ok_or_else(|| missing_field(GAAD, "PolicyArn"))?;
            let attachment = Attachment {
                role: role_name.to_string(),
                policy_arn: policy_arn.to_string(),
            };
            found.insert(attachment.object_id(), attachment.observed());
        }
    }
    Ok(asked(object_ids, found))
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let attachment: Attachment = parse(KIND, attributes)?;
    aws.clients()
        .iam
        .attach_role_policy()
        .role_name(&attachment.role)
        .policy_arn(&attachment.policy_arn)
        .send()
        .await
        .map_err(|e| classify("iam:AttachRolePolicy", &e))?;
    Ok(attachment.observed())
}

/// Nothing changes in place: refuses a different role or policy, else reports the attachment.
pub(crate) async fn update(
    _aws: &AwsProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Attachment = parse(KIND, attributes)?;
    let current = parse_id(object_id)?;
    unchanged(KIND, "role", &current.role, &desired.role)?;
    unchanged(KIND, "policy_arn", &current.policy_arn, &desired.policy_arn)?;
    Ok(desired.observed())
}

/// Detaches the policy; an attachment (or role, or policy) already gone is done.
pub(crate) async fn delete(aws: &AwsProvider, object_id: &str) -> Result<(), ProviderError> {
    let attachment = parse_id(object_id)?;
    match aws
        .clients()
        .iam
        .detach_role_policy()
        .role_name(&attachment.role)
        .policy_arn(&attachment.policy_arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:DetachRolePolicy", &e)),
    }
}
