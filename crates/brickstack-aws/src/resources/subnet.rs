//! `aws_subnet`: a subnet of a VPC. The object id is the subnet id (`subnet-...`).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Subnet as SdkSubnet};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    describe_ids, filter, find_tagged, observed_tags, retag, tag_specification, tags_of, the_one,
};
use super::{Tags, observed, parse};
use crate::classify::{after_created, classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_subnet";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Subnet {
    vpc_id: String,
    cidr_block: String,
    availability_zone: String,
    #[serde(default)]
    map_public_ip_on_launch: bool,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("vpc_id", AttributeBehaviour::ForcesReplacement)
        .attribute("cidr_block", AttributeBehaviour::ForcesReplacement)
        .attribute("availability_zone", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("arn", AttributeBehaviour::Computed)
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let subnets: Vec<SdkSubnet> = aws
        .clients()
        .ec2
        .describe_subnets()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeSubnets", &e))?;
    subnets
        .iter()
        .map(|s| {
            let o = observed_subnet(s)?;
            Ok((o.object_id.clone(), o))
        })
        .collect()
}

fn observed_subnet(subnet: &SdkSubnet) -> Result<Observed, ProviderError> {
    let subnet_id = subnet
        .subnet_id()
        .ok_or_else(|| missing_field("ec2:DescribeSubnets", "SubnetId"))?;
    let attributes = Subnet {
        vpc_id: subnet.vpc_id().unwrap_or_default().to_string(),
        cidr_block: subnet.cidr_block().unwrap_or_default().to_string(),
        availability_zone: subnet.availability_zone().unwrap_or_default().to_string(),
        map_public_ip_on_launch: subnet.map_public_ip_on_launch().unwrap_or(false),
        tags: tags_of(subnet.tags()),
    };
    Ok(observed(
        subnet_id,
        &attributes,
        [
            ("id", subnet_id.to_string()),
            ("arn", subnet.subnet_arn().unwrap_or_default().to_string()),
        ],
    ))
}

pub(crate) async fn read(
    aws: &AwsProvider,
    subnet_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[subnet_id.to_string()])
        .await?
        .remove(subnet_id))
}

/// One `DescribeSubnets` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    subnet_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("subnet-id", subnet_ids, |filters| describe(aws, filters)).await
}

pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    find_tagged(lookup, |filters| describe(aws, filters)).await
}

/// A subnet made outside brickstack: in the desired VPC, with the desired CIDR block.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let desired: Subnet = parse(KIND, desired)?;
    let found = describe(
        aws,
        vec![
            filter("vpc-id", &desired.vpc_id),
            filter("cidr-block", &desired.cidr_block),
        ],
    )
    .await?;
    the_one(KIND, found, lookup)
}

async fn set_map_public_ip(
    aws: &AwsProvider,
    subnet_id: &str,
    value: bool,
) -> Result<(), ProviderError> {
    aws.clients()
        .ec2
        .modify_subnet_attribute()
        .subnet_id(subnet_id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(value).build())
        .send()
        .await
        .map_err(|e| classify("ec2:ModifySubnetAttribute", &e))?;
    Ok(())
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Subnet = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_subnet()
        .vpc_id(&desired.vpc_id)
        .cidr_block(&desired.cidr_block)
        .availability_zone(&desired.availability_zone)
        .set_tag_specifications(
            tag_specification(ResourceType::Subnet, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:CreateSubnet", &e))?;
    let subnet_id = out
        .subnet()
        .and_then(SdkSubnet::subnet_id)
        .ok_or_else(|| missing_field("ec2:CreateSubnet", "Subnet.SubnetId"))?
        .to_string();
    let configured = async {
        // Off is AWS's default for a subnet created by this call.
        if desired.map_public_ip_on_launch {
            set_map_public_ip(aws, &subnet_id, true).await?;
        }
        read(aws, &subnet_id)
            .await?
            .ok_or_else(|| gone(KIND, &subnet_id))
    };
    configured
        .await
        .map_err(|e| after_created(KIND, &subnet_id, e))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    subnet_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Subnet = parse(KIND, attributes)?;
    let current = read(aws, subnet_id)
        .await?
        .ok_or_else(|| gone(KIND, subnet_id))?;
    let current_public =
        current.attributes.get("map_public_ip_on_launch") == Some(&serde_json::Value::Bool(true));
    if desired.map_public_ip_on_launch != current_public {
        set_map_public_ip(aws, subnet_id, desired.map_public_ip_on_launch).await?;
    }
    retag(aws, subnet_id, &observed_tags(&current), &desired.tags).await?;
    read(aws, subnet_id)
        .await?
        .ok_or_else(|| gone(KIND, subnet_id))
}

/// Deletes the subnet. A `DependencyViolation` (ENIs AWS has not released yet) is retryable.
pub(crate) async fn delete(aws: &AwsProvider, subnet_id: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .ec2
        .delete_subnet()
        .subnet_id(subnet_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DeleteSubnet", &e)),
    }
}
