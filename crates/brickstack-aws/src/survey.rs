//! The minimal refresh on AWS (`--refresh=minimal`): every object carrying the environment's tag,
//! with its tags, from one paginated `tag:GetResources` (500 tags a page), instead of the
//! per-object reads of a full refresh.
//!
//! * The tagging listing is eventually consistent (a new object shows up late) and moto leaves
//!   some kinds out of it (Elastic IPs, VPC endpoints): an object of a listed kind missing from
//!   it is confirmed with one batched read of its kind before it is believed gone.
//! * `GetResources` does not cover IAM: one `GetAccountAuthorizationDetails` (all pages) answers
//!   for roles (with tags), inline policies, attachments, instance profiles and managed policies.
//! * Kinds AWS cannot tag (routes, associations, bucket settings, aliases) are left out of the
//!   answer, and so keep what state recorded.
//! * Tags brickstack keeps for itself to mirror an attribute (`brickstack:force_destroy`) are not
//!   the object's tags and are dropped, as the kinds' reads drop them.

use std::collections::BTreeMap;

use brickstack_provider::{Presence, ProviderError, SurveyObject};
use futures::future::try_join_all;

use aws_sdk_iam::types::EntityType;

use crate::classify::classify;
use crate::provider::AwsProvider;
use crate::resources::{
    Tags, default_security_group, dynamodb_table, eip, flow_log, iam, iam_instance_profile,
    iam_policy, iam_role, iam_role_policy, iam_role_policy_attachment, internet_gateway, kms_key,
    nat_gateway, route_table, s3_bucket, subnet, vpc, vpc_endpoint,
};

/// The environment tag every object brickstack creates carries.
const ENVIRONMENT_TAG: &str = "brickstack:environment";
/// The brickstack tags that are tags; the others mirror attributes.
const OWN_TAGS: [&str; 2] = ["brickstack:address", ENVIRONMENT_TAG];
/// The most tags `GetResources` returns a page.
const TAGS_PER_PAGE: i32 = 500;

/// Kinds `GetResources` lists, so a minimal refresh checks their existence and tags.
const LISTED_KINDS: &[&str] = &[
    vpc::KIND,
    subnet::KIND,
    internet_gateway::KIND,
    route_table::KIND,
    eip::KIND,
    nat_gateway::KIND,
    vpc_endpoint::KIND,
    flow_log::KIND,
    default_security_group::KIND,
    s3_bucket::KIND,
    kms_key::KIND,
    dynamodb_table::KIND,
];

/// IAM kinds, answered from one GAAD.
const IAM_KINDS: &[&str] = &[
    iam_role::KIND,
    iam_role_policy::KIND,
    iam_role_policy_attachment::KIND,
    iam_instance_profile::KIND,
    iam_policy::KIND,
];

impl AwsProvider {
    /// Existence and tags of `objects` (see the module's comment).
    pub(crate) async fn survey_all(
        &self,
        environment: &str,
        objects: &[SurveyObject],
    ) -> Result<BTreeMap<SurveyObject, Presence>, ProviderError> {
        let of = |kinds: &[&str]| -> Vec<&SurveyObject> {
            objects
                .iter()
                .filter(|o| kinds.contains(&o.kind.as_str()))
                .collect()
        };
        let (listed, iam) = (of(LISTED_KINDS), of(IAM_KINDS));
        let tagged = async {
            if listed.is_empty() {
                return Ok(BTreeMap::new());
            }
            let tagged = self.tagged_objects(environment).await?;
            Ok(listed
                .iter()
                .map(|o| {
                    let presence = tagged.get(&o.object_id).map(|tags| Presence::Present {
                        tags: Some(tags.clone()),
                    });
                    ((*o).clone(), presence)
                })
                .collect::<BTreeMap<_, _>>())
        };
        let authorized = async {
            if iam.is_empty() {
                return Ok(BTreeMap::new());
            }
            let details = iam::authorization_details(
                self,
                &[EntityType::Role, EntityType::LocalManagedPolicy],
            )
            .await?;
            Ok(iam
                .iter()
                .map(|o| ((*o).clone(), iam_presence(&details, o)))
                .collect::<BTreeMap<_, _>>())
        };
        let (tagged, authorized) = tokio::try_join!(tagged, authorized)?;
        let mut answer = BTreeMap::new();
        let mut unlisted: BTreeMap<String, Vec<SurveyObject>> = BTreeMap::new();
        for (object, presence) in tagged.into_iter().chain(authorized) {
            match presence {
                Some(presence) => {
                    answer.insert(object, presence);
                }
                None => unlisted
                    .entry(object.kind.clone())
                    .or_default()
                    .push(object),
            }
        }
        answer.extend(self.confirm(unlisted).await?);
        Ok(answer)
    }

    /// Objects a listing did not report, read in one batch per kind: present after all (a
    /// listing that lags, or leaves the kind out), or gone.
    async fn confirm(
        &self,
        unlisted: BTreeMap<String, Vec<SurveyObject>>,
    ) -> Result<Vec<(SurveyObject, Presence)>, ProviderError> {
        let reads = unlisted.into_iter().map(|(kind, objects)| async move {
            let ids: Vec<String> = objects.iter().map(|o| o.object_id.clone()).collect();
            let found = self.read_many_of(&kind, &ids).await?;
            Ok::<_, ProviderError>(
                objects
                    .into_iter()
                    .map(|o| {
                        let presence = match found.get(&o.object_id) {
                            Some(observed) => Presence::Present {
                                tags: observed
                                    .attributes
                                    .get("tags")
                                    .and_then(|t| serde_json::from_value(t.clone()).ok()),
                            },
                            None => Presence::Gone,
                        };
                        (o, presence)
                    })
                    .collect::<Vec<_>>(),
            )
        });
        Ok(try_join_all(reads).await?.into_iter().flatten().collect())
    }

    /// Every object tagged with `environment`, by the id its ARN ends with, and its own tags.
    async fn tagged_objects(
        &self,
        environment: &str,
    ) -> Result<BTreeMap<String, Tags>, ProviderError> {
        const OPERATION: &str = "tag:GetResources";
        let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
            .key(ENVIRONMENT_TAG)
            .values(environment)
            .build();
        let mut pages = self
            .clients()
            .tagging
            .get_resources()
            .tag_filters(filter)
            .tags_per_page(TAGS_PER_PAGE)
            .into_paginator()
            .send();
        let mut tagged = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(OPERATION, &e))?;
            for mapping in page.resource_tag_mapping_list() {
                let Some(arn) = mapping.resource_arn() else {
                    continue;
                };
                let tags: Tags = mapping
                    .tags()
                    .iter()
                    .filter(|t| !t.key().starts_with("brickstack:") || OWN_TAGS.contains(&t.key()))
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                tagged.insert(object_id_of(arn).to_string(), tags);
            }
        }
        Ok(tagged)
    }
}

/// What GAAD says of an IAM object: present (roles with their tags), or `None` when it does not
/// report it. A profile no role is in is missing from GAAD, so absence is confirmed, not believed.
fn iam_presence(details: &iam::AuthorizationDetails, object: &SurveyObject) -> Option<Presence> {
    let untagged = Some(Presence::Present { tags: None });
    let id = object.object_id.as_str();
    let role = |name: &str| details.roles.iter().find(|r| r.role_name() == Some(name));
    match object.kind.as_str() {
        iam_role::KIND => role(id).map(|r| Presence::Present {
            tags: Some(iam::tags_of(r.tags())),
        }),
        iam_role_policy::KIND => {
            let (role_name, policy) = id.split_once(':')?;
            role(role_name)?
                .role_policy_list()
                .iter()
                .any(|p| p.policy_name() == Some(policy))
                .then_some(untagged)?
        }
        iam_role_policy_attachment::KIND => {
            let (role_name, arn) = id.split_once('/')?;
            role(role_name)?
                .attached_managed_policies()
                .iter()
                .any(|p| p.policy_arn() == Some(arn))
                .then_some(untagged)?
        }
        iam_instance_profile::KIND => details
            .roles
            .iter()
            .flat_map(|r| r.instance_profile_list())
            .any(|p| p.instance_profile_name() == id)
            .then_some(untagged)?,
        iam_policy::KIND => details
            .policies
            .iter()
            .any(|p| p.arn() == Some(id))
            .then_some(untagged)?,
        _ => None,
    }
}

/// The id an ARN ends with: after the last `/` (`...:vpc/vpc-123`, `...:key/<uuid>`,
/// `...:table/<name>`), else after the last `:` (`arn:aws:s3:::<bucket>`).
fn object_id_of(arn: &str) -> &str {
    match arn.rsplit_once('/') {
        Some((_, id)) => id,
        None => arn.rsplit(':').next().unwrap_or(arn),
    }
}

#[cfg(test)]
mod tests {
    use super::object_id_of;

    #[test]
    fn object_ids_come_from_the_arn_tail() {
        assert_eq!(
            object_id_of("arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc"),
            "vpc-0abc"
        );
        assert_eq!(object_id_of("arn:aws:s3:::my-bucket"), "my-bucket");
        assert_eq!(
            object_id_of("arn:aws:kms:eu-west-1:123456789012:key/1234-abcd"),
            "1234-abcd"
        );
        assert_eq!(
            object_id_of("arn:aws:dynamodb:eu-west-1:123456789012:table/locks"),
            "locks"
        );
    }
}
