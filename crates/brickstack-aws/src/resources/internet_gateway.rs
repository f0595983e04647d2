//! `aws_internet_gateway`: an internet gateway attached to a VPC. The object id is the gateway
//! id (`igw-...`). Create is create then attach; delete is detach then delete.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, InternetGateway as SdkGateway, ResourceType};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    describe_ids, filter, find_tagged, id_filters, observed_tags, retag, tag_specification,
    tags_of, the_one,
};
use super::{Tags, observed, parse};
use crate::classify::{after_created, classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_internet_gateway";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gateway {
    /// Absent when the gateway is attached to no VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND).attribute("id", AttributeBehaviour::Computed)
}

async fn describe_raw(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<Vec<SdkGateway>, ProviderError> {
    aws.clients()
        .ec2
        .describe_internet_gateways()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeInternetGateways", &e))
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_raw(aws, filters)
        .await?
        .iter()
        .map(|g| {
            let o = observed_gateway(g)?;
            Ok((o.object_id.clone(), o))
        })
        .collect()
}

fn observed_gateway(gateway: &SdkGateway) -> Result<Observed, ProviderError> {
    let gateway_id = gateway
        .internet_gateway_id()
        .ok_or_else(|| missing_field("ec2:DescribeInternetGateways", "InternetGatewayId"))?;
    let attributes = Gateway {
        vpc_id: attached_vpcs(gateway).next().map(str::to_string),
        tags: tags_of(gateway.tags()),
    };
    Ok(observed(
        gateway_id,
        &attributes,
        [("id", gateway_id.to_string())],
    ))
}

fn attached_vpcs(gateway: &SdkGateway) -> impl Iterator<Item = &str> {
    gateway.attachments().iter().filter_map(|a| a.vpc_id())
}

pub(crate) async fn read(
    aws: &AwsProvider,
    gateway_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[gateway_id.to_string()])
        .await?
        .remove(gateway_id))
}

/// One `DescribeInternetGateways` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    gateway_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("internet-gateway-id", gateway_ids, |filters| {
        describe(aws, filters)
    })
    .await
}

/// The gateway attached to the desired VPC (a VPC has at most one).
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(vpc_id) = desired.get("vpc_id").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let found = describe(aws, vec![filter("attachment.vpc-id", vpc_id)]).await?;
    the_one(KIND, found, lookup)
}

pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    find_tagged(lookup, |filters| describe(aws, filters)).await
}

async fn attach(aws: &AwsProvider, gateway_id: &str, vpc_id: &str) -> Result<(), ProviderError> {
    aws.clients()
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(gateway_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(|e| classify("ec2:AttachInternetGateway", &e))?;
    Ok(())
}

/// Detaches from `vpc_id`; already detached is done.
async fn detach(aws: &AwsProvider, gateway_id: &str, vpc_id: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .ec2
        .detach_internet_gateway()
        .internet_gateway_id(gateway_id)
        .vpc_id(vpc_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DetachInternetGateway", &e)),
    }
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Gateway = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_internet_gateway()
        .set_tag_specifications(
            tag_specification(ResourceType::InternetGateway, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:CreateInternetGateway", &e))?;
    let gateway_id = out
        .internet_gateway()
        .and_then(SdkGateway::internet_gateway_id)
        .ok_or_else(|| missing_field("ec2:CreateInternetGateway", "InternetGatewayId"))?
        .to_string();
    let configured = async {
        if let Some(vpc_id) = &desired.vpc_id {
            attach(aws, &gateway_id, vpc_id).await?;
        }
        read(aws, &gateway_id)
            .await?
            .ok_or_else(|| gone(KIND, &gateway_id))
    };
    configured
        .await
        .map_err(|e| after_created(KIND, &gateway_id, e))
}

/// Moves the gateway to the desired VPC (detach, then attach) and retags it.
pub(crate) async fn update(
    aws: &AwsProvider,
    gateway_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Gateway = parse(KIND, attributes)?;
    let current = read(aws, gateway_id)
        .await?
        .ok_or_else(|| gone(KIND, gateway_id))?;
    let current_vpc = current.attributes.get("vpc_id").and_then(|v| v.as_str());
    if current_vpc != desired.vpc_id.as_deref() {
        if let Some(vpc_id) = current_vpc {
            detach(aws, gateway_id, vpc_id).await?;
        }
        if let Some(vpc_id) = &desired.vpc_id {
            attach(aws, gateway_id, vpc_id).await?;
        }
    }
    retag(aws, gateway_id, &observed_tags(&current), &desired.tags).await?;
    read(aws, gateway_id)
        .await?
        .ok_or_else(|| gone(KIND, gateway_id))
}

/// Detaches from every VPC, then deletes. A `DependencyViolation` (public addresses still mapped
/// in the VPC) is retryable.
pub(crate) async fn delete(aws: &AwsProvider, gateway_id: &str) -> Result<(), ProviderError> {
    let gateways = describe_raw(
        aws,
        id_filters("internet-gateway-id", &[gateway_id.to_string()]),
    )
    .await?;
    let Some(gateway) = gateways.first() else {
        return Ok(());
    };
    for vpc_id in attached_vpcs(gateway) {
        detach(aws, gateway_id, vpc_id).await?;
    }
    match aws
        .clients()
        .ec2
        .delete_internet_gateway()
        .internet_gateway_id(gateway_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DeleteInternetGateway", &e)),
    }
}
