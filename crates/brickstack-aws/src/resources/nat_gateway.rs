//! `aws_nat_gateway`: a NAT gateway in a subnet, with an Elastic IP for public connectivity. The
//! object id is the gateway id (`nat-...`). Create waits until it is available, delete until it
//! is deleted; a gateway `deleting` or `deleted` reads as gone.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    ConnectivityType, Filter, NatGateway as SdkNatGateway, NatGatewayState, ResourceType,
};
use brickstack_provider::{
    AttributeBehaviour, Attributes, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    client_token, describe_ids, find_tagged, id_filters, observed_tags, retag, tag_specification,
    tags_of,
};
use super::{Tags, observed, parse, wait_for};
use crate::classify::{after_created, classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_nat_gateway";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NatGateway {
    /// Absent for private connectivity, which has no Elastic IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allocation_id: Option<String>,
    subnet_id: String,
    #[serde(default = "public")]
    connectivity_type: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

fn public() -> String {
    "public".to_string()
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("allocation_id", AttributeBehaviour::ForcesReplacement)
        .attribute("subnet_id", AttributeBehaviour::ForcesReplacement)
        .attribute("connectivity_type", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

async fn describe_raw(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<Vec<SdkNatGateway>, ProviderError> {
    aws.clients()
        .ec2
        .describe_nat_gateways()
        .set_filter(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeNatGateways", &e))
}

fn is_gone(gateway: &SdkNatGateway) -> bool {
    matches!(
        gateway.state(),
        Some(NatGatewayState::Deleting | NatGatewayState::Deleted)
    )
}

/// The live gateways `filters` select.
async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    Ok(describe_raw(aws, filters)
        .await?
        .iter()
        .filter(|g| !is_gone(g))
        .filter_map(observed_gateway)
        .map(|o| (o.object_id.clone(), o))
        .collect())
}

fn observed_gateway(gateway: &SdkNatGateway) -> Option<Observed> {
    let id = gateway.nat_gateway_id()?;
    let attributes = NatGateway {
        allocation_id: gateway
            .nat_gateway_addresses()
            .iter()
            .find_map(|a| a.allocation_id())
            .map(str::to_string),
        subnet_id: gateway.subnet_id().unwrap_or_default().to_string(),
        connectivity_type: gateway
            .connectivity_type()
            .map_or_else(public, |c| c.as_str().to_string()),
        tags: tags_of(gateway.tags()),
    };
    Some(observed(id, &attributes, [("id", id.to_string())]))
}

pub(crate) async fn read(
    aws: &AwsProvider,
    gateway_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[gateway_id.to_string()])
        .await?
        .remove(gateway_id))
}

/// One `DescribeNatGateways` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    gateway_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("nat-gateway-id", gateway_ids, |filters| {
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

/// The gateway's state, or `None` once it is gone from the listing.
async fn state(
    aws: &AwsProvider,
    gateway_id: &str,
) -> Result<Option<NatGatewayState>, ProviderError> {
    let gateways =
        describe_raw(aws, id_filters("nat-gateway-id", &[gateway_id.to_string()])).await?;
    Ok(gateways.first().and_then(|g| g.state().cloned()))
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: NatGateway = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_nat_gateway()
        .subnet_id(&desired.subnet_id)
        .set_allocation_id(desired.allocation_id.clone())
        .connectivity_type(ConnectivityType::from(desired.connectivity_type.as_str()))
        .set_client_token(client_token(aws, &desired.tags))
        .set_tag_specifications(
            tag_specification(ResourceType::Natgateway, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:CreateNatGateway", &e))?;
    let id = out
        .nat_gateway()
        .and_then(SdkNatGateway::nat_gateway_id)
        .ok_or_else(|| missing_field("ec2:CreateNatGateway", "NatGateway.NatGatewayId"))?
        .to_string();
    let available = async {
        wait_for(&format!("NAT gateway `{id}` to be available"), || async {
            match state(aws, &id).await? {
                Some(NatGatewayState::Available) => Ok(Some(())),
                Some(NatGatewayState::Pending) => Ok(None),
                other => Err(ProviderError::new(
                    ErrorClass::Fatal,
                    "NatGatewayFailed",
                    format!(
                        "NAT gateway `{id}` is `{}` instead of becoming available; hint: check the subnet and the Elastic IP",
                        other.as_ref().map_or("gone", NatGatewayState::as_str)
                    ),
                )),
            }
        })
        .await?;
        read(aws, &id).await?.ok_or_else(|| gone(KIND, &id))
    };
    available.await.map_err(|e| after_created(KIND, &id, e))
}

/// Only the tags change in place.
pub(crate) async fn update(
    aws: &AwsProvider,
    gateway_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: NatGateway = parse(KIND, attributes)?;
    let current = read(aws, gateway_id)
        .await?
        .ok_or_else(|| gone(KIND, gateway_id))?;
    retag(aws, gateway_id, &observed_tags(&current), &desired.tags).await?;
    read(aws, gateway_id)
        .await?
        .ok_or_else(|| gone(KIND, gateway_id))
}

/// Deletes the gateway and waits until it is deleted (its Elastic IP is free only then).
pub(crate) async fn delete(aws: &AwsProvider, gateway_id: &str) -> Result<(), ProviderError> {
    if let Err(e) = aws
        .clients()
        .ec2
        .delete_nat_gateway()
        .nat_gateway_id(gateway_id)
        .send()
        .await
    {
        return done_if_not_found(classify("ec2:DeleteNatGateway", &e));
    }
    wait_for(
        &format!("NAT gateway `{gateway_id}` to be deleted"),
        || async {
            Ok(match state(aws, gateway_id).await? {
                None | Some(NatGatewayState::Deleted) => Some(()),
                Some(_) => None,
            })
        },
    )
    .await
}
