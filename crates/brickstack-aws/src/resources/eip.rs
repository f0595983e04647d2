//! `aws_eip`: an Elastic IP address in a VPC. The object id is the allocation id
//! (`eipalloc-...`). `DescribeAddresses` has no pages: a batched read is one call.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Address, DomainType, Filter, ResourceType};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{describe_ids, find_tagged, observed_tags, retag, tag_specification, tags_of};
use super::{Tags, observed, parse};
use crate::classify::{after_created, classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_eip";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Eip {
    #[serde(default = "vpc")]
    domain: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

fn vpc() -> String {
    "vpc".to_string()
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("domain", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("public_ip", AttributeBehaviour::Computed)
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let out = aws
        .clients()
        .ec2
        .describe_addresses()
        .set_filters(Some(filters))
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeAddresses", &e))?;
    Ok(out
        .addresses()
        .iter()
        .filter_map(observed_address)
        .map(|o| (o.object_id.clone(), o))
        .collect())
}

fn observed_address(address: &Address) -> Option<Observed> {
    // An address without an allocation id is EC2-Classic's: none of ours.
    let id = address.allocation_id()?;
    let eip = Eip {
        domain: address
            .domain()
            .map_or_else(vpc, |d| d.as_str().to_string()),
        tags: tags_of(address.tags()),
    };
    Some(observed(
        id,
        &eip,
        [
            ("id", id.to_string()),
            (
                "public_ip",
                address.public_ip().unwrap_or_default().to_string(),
            ),
        ],
    ))
}

pub(crate) async fn read(
    aws: &AwsProvider,
    allocation_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[allocation_id.to_string()])
        .await?
        .remove(allocation_id))
}

/// One `DescribeAddresses` for all of them, filtered by allocation id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    allocation_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("allocation-id", allocation_ids, |filters| {
        describe(aws, filters)
    })
    .await
}

pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    find_tagged(lookup, |filters| describe(aws, filters)).await
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Eip = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .allocate_address()
        .domain(DomainType::from(desired.domain.as_str()))
        .set_tag_specifications(
            tag_specification(ResourceType::ElasticIp, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:AllocateAddress", &e))?;
    let id = out
        .allocation_id()
        .ok_or_else(|| missing_field("ec2:AllocateAddress", "AllocationId"))?;
    read(aws, id)
        .await
        .and_then(|o| o.ok_or_else(|| gone(KIND, id)))
        .map_err(|e| after_created(KIND, id, e))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    allocation_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Eip = parse(KIND, attributes)?;
    let current = read(aws, allocation_id)
        .await?
        .ok_or_else(|| gone(KIND, allocation_id))?;
    retag(aws, allocation_id, &observed_tags(&current), &desired.tags).await?;
    read(aws, allocation_id)
        .await?
        .ok_or_else(|| gone(KIND, allocation_id))
}

pub(crate) async fn delete(aws: &AwsProvider, allocation_id: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .ec2
        .release_address()
        .allocation_id(allocation_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:ReleaseAddress", &e)),
    }
}
