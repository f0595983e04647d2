//! `aws_iam_instance_profile`: an instance profile holding (at most) one role. The object id is
//! the profile name (unique in the account).
//!
//! * Create is CreateInstanceProfile (with the tags) then AddRoleToInstanceProfile; a new role is
//!   the old one removed and the new one added; delete removes the role first, which IAM
//!   requires.
//! * A batched read is one GAAD: each role lists its instance profiles. A profile holding no
//!   role is in no role's list, so a profile not found there is read alone (GetInstanceProfile),
//!   which also tells a roleless profile from a missing one.
//! * AWS documents profile tags for GetInstanceProfile only (listings leave them out); moto
//!   returns them in GAAD too. A profile GAAD reports without tags gets a ListInstanceProfileTags,
//!   so an untagged-looking profile is never taken as untagged.
//! * `find` adopts the profile of the looked-up name only when it carries the lookup's tags.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{EntityType, InstanceProfile, Tag};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::iam::{
    ENTITY_ALREADY_EXISTS, already_there, authorization_details, carries_lookup_tags, retag,
    root_path, tag_list, tags_of, unchanged,
};
use super::{Tags, observed, parse, read_each};
use crate::classify::{
    absent_if_not_found, after_created, classify, done_if_not_found, gone, missing_field,
};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_iam_instance_profile";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    name: String,
    /// The role's name; absent when the profile holds none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default = "root_path")]
    path: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

impl Profile {
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
        .attribute("path", AttributeBehaviour::ForcesReplacement)
        .attribute("arn", AttributeBehaviour::Computed)
        .attribute("id", AttributeBehaviour::Computed)
}

/// `profile` with `tags`, and its ARN.
fn from_profile(profile: &InstanceProfile, tags: Tags) -> (Profile, String) {
    (
        Profile {
            name: profile.instance_profile_name().to_string(),
            role: profile.roles().first().map(|r| r.role_name().to_string()),
            path: profile.path().to_string(),
            tags,
        },
        profile.arn().to_string(),
    )
}

/// The live profile `name` (one GetInstanceProfile, which carries the tags) and its ARN.
async fn current(
    aws: &AwsProvider,
    name: &str,
) -> Result<Option<(Profile, String)>, ProviderError> {
    const OPERATION: &str = "iam:GetInstanceProfile";
    let out = match aws
        .clients()
        .iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify(OPERATION, &e)),
    };
    let profile = out
        .instance_profile()
        .ok_or_else(|| missing_field(OPERATION, "InstanceProfile"))?;
    Ok(Some(from_profile(profile, tags_of(profile.tags()))))
}

pub(crate) async fn read(aws: &AwsProvider, name: &str) -> Result<Option<Observed>, ProviderError> {
    Ok(current(aws, name)
        .await?
        .map(|(profile, arn)| profile.observed(&arn)))
}

async fn list_tags(aws: &AwsProvider, name: &str) -> Result<Tags, ProviderError> {
    let tags: Vec<Tag> = aws
        .clients()
        .iam
        .list_instance_profile_tags()
        .instance_profile_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListInstanceProfileTags", &e))?;
    Ok(tags_of(&tags))
}

/// One GAAD for all the profiles holding a role; each profile not among them is read alone (a
/// few at a time).
pub(crate) async fn read_many(
    aws: &AwsProvider,
    names: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let details = authorization_details(aws, &[EntityType::Role]).await?;
    let with_role: BTreeMap<&str, &InstanceProfile> = details
        .roles
        .iter()
        .flat_map(|r| r.instance_profile_list())
        .map(|p| (p.instance_profile_name(), p))
        .collect();
    let with_role = &with_role;
    read_each(names, |name| async move {
        let Some(profile) = with_role.get(name) else {
            return read(aws, name).await;
        };
        let mut tags = tags_of(profile.tags());
        if tags.is_empty() {
            tags = match list_tags(aws, name).await {
                Ok(tags) => tags,
                // Deleted since GAAD.
                Err(e) => return absent_if_not_found(e),
            };
        }
        let (profile, arn) = from_profile(profile, tags);
        Ok(Some(profile.observed(&arn)))
    })
    .await
}

async fn add_role(aws: &AwsProvider, name: &str, role: &str) -> Result<(), ProviderError> {
    aws.clients()
        .iam
        .add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(role)
        .send()
        .await
        .map_err(|e| classify("iam:AddRoleToInstanceProfile", &e))?;
    Ok(())
}

/// Takes `role` out of the profile; a role (or profile) already gone is done.
async fn remove_role(aws: &AwsProvider, name: &str, role: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .iam
        .remove_role_from_instance_profile()
        .instance_profile_name(name)
        .role_name(role)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:RemoveRoleFromInstanceProfile", &e)),
    }
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    const OPERATION: &str = "iam:CreateInstanceProfile";
    let profile: Profile = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .iam
        .create_instance_profile()
        .instance_profile_name(&profile.name)
        .path(&profile.path)
        .set_tags(tag_list(KIND, &profile.tags)?)
        .send()
        .await
        .map_err(|e| classify(OPERATION, &e));
    let out = match out {
        Ok(out) => out,
        Err(error) if error.code == ENTITY_ALREADY_EXISTS => {
            return find(aws, &already_there(&profile.name, &profile.tags))
                .await?
                .ok_or(error);
        }
        Err(error) => return Err(error),
    };
    let arn = out
        .instance_profile()
        .ok_or_else(|| missing_field(OPERATION, "InstanceProfile"))?
        .arn()
        .to_string();
    if let Some(role) = &profile.role {
        add_role(aws, &profile.name, role)
            .await
            .map_err(|e| after_created(KIND, &profile.name, e))?;
    }
    Ok(profile.observed(&arn))
}

/// Swaps the role (remove, then add) and retags; name and path change only by replacement.
pub(crate) async fn update(
    aws: &AwsProvider,
    name: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let profile: Profile = parse(KIND, attributes)?;
    unchanged(KIND, "name", name, &profile.name)?;
    let (current, arn) = current(aws, name).await?.ok_or_else(|| gone(KIND, name))?;
    unchanged(KIND, "path", &current.path, &profile.path)?;
    if current.role != profile.role {
        if let Some(role) = &current.role {
            remove_role(aws, name, role).await?;
        }
        if let Some(role) = &profile.role {
            add_role(aws, name, role).await?;
        }
    }
    let iam = &aws.clients().iam;
    retag(
        KIND,
        &current.tags,
        &profile.tags,
        |tags| async move {
            iam.tag_instance_profile()
                .instance_profile_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam:TagInstanceProfile", &e))
        },
        |keys| async move {
            iam.untag_instance_profile()
                .instance_profile_name(name)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam:UntagInstanceProfile", &e))
        },
    )
    .await?;
    Ok(profile.observed(&arn))
}

/// Removes the profile's roles, then deletes it; a profile already gone is done.
pub(crate) async fn delete(aws: &AwsProvider, name: &str) -> Result<(), ProviderError> {
    const OPERATION: &str = "iam:GetInstanceProfile";
    let iam = &aws.clients().iam;
    let out = match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return done_if_not_found(classify(OPERATION, &e)),
    };
    let profile = out
        .instance_profile()
        .ok_or_else(|| missing_field(OPERATION, "InstanceProfile"))?;
    for role in profile.roles() {
        remove_role(aws, name, role.role_name()).await?;
    }
    match iam
        .delete_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("iam:DeleteInstanceProfile", &e)),
    }
}

/// The profile named `lookup.name` if it carries the lookup's brickstack tags.
pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    Ok(current(aws, name)
        .await?
        .filter(|(profile, _)| carries_lookup_tags(lookup, &profile.tags))
        .map(|(profile, arn)| profile.observed(&arn)))
}
