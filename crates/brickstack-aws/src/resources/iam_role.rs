//! `aws_iam_role`: an IAM role. The object id is the role name (unique in the account).
//!
//! * `assume_role_policy` is the trust policy as an object, read back parsed (see `iam`).
//! * A batched read is one GAAD (trust policies and tags) plus one ListRoles (descriptions:
//!   GAAD's role details have none), each paginated, whatever the number of roles.
//! * Delete first takes the role out of its instance profiles, deletes its inline policies and
//!   detaches its managed policies, which IAM requires (brickstack's own attachments and inline
//!   policies are deleted before the role; this catches the rest).
//! * `find` adopts the role of the looked-up name only when it carries the lookup's tags.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{EntityType, Role as SdkRole, RoleDetail};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::iam::{
    ENTITY_ALREADY_EXISTS, already_there, asked, authorization_details, carries_lookup_tags,
    non_empty, policy_document, require_document, retag, tag_list, tags_of, unchanged,
};
use super::{Tags, observed, parse};
use crate::classify::{absent_if_not_found, classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_iam_role";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Role {
    name: String,
    /// The trust policy document as an object.
    assume_role_policy: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

impl Role {
    fn desired(attributes: &Attributes) -> Result<Role, ProviderError> {
        let mut role: Role = parse(KIND, attributes)?;
        require_document(KIND, "assume_role_policy", &role.assume_role_policy)?;
        role.description = non_empty(role.description.as_deref());
        Ok(role)
    }

    fn observed(&self, arn: &str) -> Observed {
        observed(
            &self.name,
            self,
            [("arn", arn.to_string()), ("id", self.name.clone())],
        )
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("name", AttributeBehaviour::ForcesReplacement)
        .attribute("arn", AttributeBehaviour::Computed)
        .attribute("id", AttributeBehaviour::Computed)
}

/// A role as GetRole (or CreateRole) reports it, with its ARN.
fn from_role(operation: &str, role: &SdkRole) -> Result<(Role, String), ProviderError> {
    let document = role
        .assume_role_policy_document()
        .ok_or_else(|| missing_field(operation, "AssumeRolePolicyDocument"))?;
    Ok((
        Role {
            name: role.role_name().to_string(),
            assume_role_policy: policy_document(document),
            description: non_empty(role.description()),
            tags: tags_of(role.tags()),
        },
        role.arn().to_string(),
    ))
}

/// A role as GAAD reports it, given its description from ListRoles.
fn from_detail(detail: &RoleDetail, description: Option<&str>) -> Result<Observed, ProviderError> {
    const OPERATION: &str = super::iam::GAAD;
    let name = detail
        .role_name()
        .ok_or_else(|| missing_field(OPERATION, "RoleName"))?;
    let arn = detail
        .arn()
        .ok_or_else(|| missing_field(OPERATION, "Arn"))?;
    let document = detail
        .assume_role_policy_document()
        .ok_or_else(|| missing_field(OPERATION, "AssumeRolePolicyDocument"))?;
    let role = Role {
        name: name.to_string(),
        assume_role_policy: policy_document(document),
        description: non_empty(description),
        tags: tags_of(detail.tags()),
    };
    Ok(role.observed(arn))
}

/// The live role `name` and its ARN (one GetRole).
async fn current(aws: &AwsProvider, name: &str) -> Result<Option<(Role, String)>, ProviderError> {
    const OPERATION: &str = "iam:GetRole";
    let out = match aws.clients().iam.get_role().role_name(name).send().await {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify(OPERATION, &e)),
    };
    let role = out.role().ok_or_else(|| missing_field(OPERATION, "Role"))?;
    from_role(OPERATION, role).map(Some)
}

pub(crate) async fn read(aws: &AwsProvider, name: &str) -> Result<Option<Observed>, ProviderError> {
    Ok(current(aws, name)
        .await?
        .map(|(role, arn)| role.observed(&arn)))
}

/// Every role's description, by name (one paginated ListRoles).
async fn descriptions(aws: &AwsProvider) -> Result<BTreeMap<String, String>, ProviderError> {
    let roles: Vec<SdkRole> = aws
        .clients()
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListRoles", &e))?;
    Ok(roles
        .into_iter()
        .filter_map(|r| {
            let description = r.description?;
            Some((r.role_name, description))
        })
        .collect())
}

/// One GAAD and one ListRoles for all of them; a missing role is left out.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    names: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let (details, descriptions) = tokio::try_join!(
        authorization_details(aws, &[EntityType::Role]),
        descriptions(aws)
    )?;
    let found = details
        .roles
        .iter()
        .map(|detail| {
            let description = detail
                .role_name()
                .and_then(|n| descriptions.get(n))
                .map(String::as_str);
            let o = from_detail(detail, description)?;
            Ok((o.object_id.clone(), o))
        })
        .collect::<Result<BTreeMap<String, Observed>, ProviderError>>()?;
    Ok(asked(names, found))
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    const OPERATION: &str = "iam:CreateRole";
    let role = Role::desired(attributes)?;
    let out = aws
        .clients()
        .iam
        .create_role()
        .role_name(&role.name)
        .assume_role_policy_document(role.assume_role_policy.to_string())
        .set_description(role.description.clone())
        .set_tags(tag_list(KIND, &role.tags)?)
        .send()
        .await
        .map_err(|e| classify(OPERATION, &e));
    let out = match out {
        Ok(out) => out,
        Err(error) if error.code == ENTITY_ALREADY_EXISTS => {
            return find(aws, &already_there(&role.name, &role.tags))
                .await?
                .ok_or(error);
        }
        Err(error) => return Err(error),
    };
    let arn = out
        .role()
        .ok_or_else(|| missing_field(OPERATION, "Role"))?
        .arn();
    Ok(role.observed(arn))
}

/// Replaces the trust policy, the description and the tags where they differ.
pub(crate) async fn update(
    aws: &AwsProvider,
    name: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let role = Role::desired(attributes)?;
    unchanged(KIND, "name", name, &role.name)?;
    let (current, arn) = current(aws, name).await?.ok_or_else(|| gone(KIND, name))?;
    let iam = &aws.clients().iam;
    if role.assume_role_policy != current.assume_role_policy {
        iam.update_assume_role_policy()
            .role_name(name)
            .policy_document(role.assume_role_policy.to_string())
            .send()
            .await
            .map_err(|e| classify("iam:UpdateAssumeRolePolicy", &e))?;
    }
    if role.description != current.description {
        // An empty description clears it.
        iam.update_role()
            .role_name(name)
            .description(role.description.clone().unwrap_or_default())
            .send()
            .await
            .map_err(|e| classify("iam:UpdateRole", &e))?;
    }
    retag(
        KIND,
        &current.tags,
        &role.tags,
        |tags| async move {
            iam.tag_role()
                .role_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam:TagRole", &e))
        },
        |keys| async move {
            iam.untag_role()
                .role_name(name)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam:UntagRole", &e))
        },
    )
    .await?;
    Ok(role.observed(&arn))
}

/// What must go before IAM deletes a role: its instance profiles, inline policies and attached
/// managed policies.
async fn dependents(
    iam: &Client,
    name: &str,
) -> Result<(Vec<String>, Vec<String>, Vec<String>), ProviderError> {
    let profiles = async {
        iam.list_instance_profiles_for_role()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map(|ps| {
                ps.into_iter()
                    .map(|p| p.instance_profile_name)
                    .collect::<Vec<_>>()
            })
            .map_err(|e| classify("iam:ListInstanceProfilesForRole", &e))
    };
    let inline = async {
        iam.list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam:ListRolePolicies", &e))
    };
    let attached = async {
        let policies: Vec<_> = iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam:ListAttachedRolePolicies", &e))?;
        Ok(policies.into_iter().filter_map(|p| p.policy_arn).collect())
    };
    tokio::try_join!(profiles, inline, attached)
}

/// Frees the role of its instance profiles and policies, then deletes it; a role already gone
/// is done.
pub(crate) async fn delete(aws: &AwsProvider, name: &str) -> Result<(), ProviderError> {
    let iam = &aws.clients().iam;
    let (profiles, inline, attached) = match dependents(iam, name).await {
        Ok(found) => found,
        Err(e) => return done_if_not_found(e),
    };
    for profile in &profiles {
        let removed = iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(name)
            .send()
            .await;
        if let Err(e) = removed {
            done_if_not_found(classify("iam:RemoveRoleFromInstanceProfile", &e))?;
        }
    }
    for policy in &inline {
        let deleted = iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await;
        if let Err(e) = deleted {
            done_if_not_found(classify("iam:DeleteRolePolicy", &e))?;
        }
    }
    for policy_arn in &attached {
        let detached = iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(policy_arn)
            .send()
            .await;
        if let Err(e) = detached {
            done_if_not_found(classify("iam:DetachRolePolicy", &e))?;
        }
    }
    match iam.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:DeleteRole", &e)),
    }
}

/// The role named `lookup.name` if it carries the lookup's brickstack tags.
pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    Ok(current(aws, name)
        .await?
        .filter(|(role, _)| carries_lookup_tags(lookup, &role.tags))
        .map(|(role, arn)| role.observed(&arn)))
}

/// The role named as desired, made outside brickstack: adopted whatever its tags, unless a
/// brickstack tag on it names another environment or address.
pub(crate) async fn discover(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    Ok(current(aws, name)
        .await?
        .filter(|(role, _)| {
            role.tags
                .iter()
                .filter(|(k, _)| k.starts_with("brickstack:"))
                .all(|(k, v)| lookup.tags.get(k).is_none_or(|want| want == v))
        })
        .map(|(role, arn)| role.observed(&arn)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Role;

    #[test]
    fn a_trust_policy_given_as_a_string_is_refused() {
        let attributes = json!({"name": "r", "assume_role_policy": "{}"});
        let Some(attributes) = attributes.as_object() else {
            unreachable!("an object literal")
        };
        assert!(Role::desired(attributes).is_err());
    }
}
