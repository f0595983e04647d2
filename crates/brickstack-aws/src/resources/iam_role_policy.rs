//! `aws_iam_role_policy`: an inline policy of a role. The object id is `ROLE:NAME`, as in
//! Terraform (neither a role name nor a policy name can contain `:`).
//!
//! * Create and update are one PutRolePolicy, which replaces the document in place.
//! * A batched read is one GAAD: every role's inline policies come with it.
//! * No `find`: the policy takes no tags, and putting it again is harmless.

use std::collections::BTreeMap;

use aws_sdk_iam::types::EntityType;
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::iam::{
    GAAD, asked, authorization_details, policy_document, require_document, split_id, unchanged,
};
use super::{observed, parse};
use crate::classify::{absent_if_not_found, classify, done_if_not_found, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_iam_role_policy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolePolicy {
    role: String,
    name: String,
    /// The policy document as an object.
    policy: Value,
}

impl RolePolicy {
    fn desired(attributes: &Attributes) -> Result<RolePolicy, ProviderError> {
        let policy: RolePolicy = parse(KIND, attributes)?;
        require_document(KIND, "policy", &policy.policy)?;
        Ok(policy)
    }

    fn object_id(&self) -> String {
        format!("{}:{}", self.role, self.name)
    }

    fn observed(&self) -> Observed {
        let id = self.object_id();
        observed(&id, self, [("id", id.clone())])
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("role", AttributeBehaviour::ForcesReplacement)
        .attribute("name", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

/// The role and policy names of `object_id`.
fn parts(object_id: &str) -> Result<(&str, &str), ProviderError> {
    split_id(KIND, object_id, ':', "ROLE:NAME")
}

/// The object the desired attributes name (its id is made of them), if it exists.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let desired: RolePolicy = parse(KIND, desired)?;
    read(aws, &desired.object_id()).await
}

pub(crate) async fn read(
    aws: &AwsProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (role, name) = parts(object_id)?;
    let out = match aws
        .clients()
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify("iam:GetRolePolicy", &e)),
    };
    let policy = RolePolicy {
        role: role.to_string(),
        name: name.to_string(),
        policy: policy_document(out.policy_document()),
    };
    Ok(Some(policy.observed()))
}

/// One GAAD for all of them; a missing policy (or role) is left out.
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
        for inline in role.role_policy_list() {
            let name = inline
                .policy_name()
                .ok_or_else(|| missing_field(GAAD, "PolicyName"))?;
            let document = inline
                .policy_document()
                .ok_or_else(|| missing_field(GAAD, "PolicyDocument"))?;
            let policy = RolePolicy {
                role: role_name.to_string(),
                name: name.to_string(),
                policy: policy_document(document),
            };
            found.insert(policy.object_id(), policy.observed());
        }
    }
    Ok(asked(object_ids, found))
}

async fn put(aws: &AwsProvider, policy: &RolePolicy) -> Result<(), ProviderError> {
    aws.clients()
        .iam
        .put_role_policy()
        .role_name(&policy.role)
        .policy_name(&policy.name)
        .policy_document(policy.policy.to_string())
        .send()
        .await
        .map_err(|e| classify("iam:PutRolePolicy", &e))?;
    Ok(())
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let policy = RolePolicy::desired(attributes)?;
    put(aws, &policy).await?;
    Ok(policy.observed())
}

/// Puts the new document (role and name change only by replacement).
pub(crate) async fn update(
    aws: &AwsProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let policy = RolePolicy::desired(attributes)?;
    let (role, name) = parts(object_id)?;
    unchanged(KIND, "role", role, &policy.role)?;
    unchanged(KIND, "name", name, &policy.name)?;
    put(aws, &policy).await?;
    Ok(policy.observed())
}

/// Deletes the policy; a policy (or role) already gone is done.
pub(crate) async fn delete(aws: &AwsProvider, object_id: &str) -> Result<(), ProviderError> {
    let (role, name) = parts(object_id)?;
    match aws
        .clients()
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:DeleteRolePolicy", &e)),
    }
}
