//! `aws_vpc`: a VPC. The object id is the VPC id (`vpc-...`).
//!
//! The two DNS settings are not in `DescribeVpcs`' answer: each takes a `DescribeVpcAttribute`
//! call per VPC, so a batched read is one `DescribeVpcs` page plus two calls per VPC. Real AWS
//! changes one attribute per `ModifyVpcAttribute` call, so an update makes one call per change.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType, Tenancy, Vpc as SdkVpc, VpcAttributeName, VpcState,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    desired_name_tag, filter, first_matching, id_filters, lookup_filters, retag, tag_specification,
    tags_of, the_one,
};
use super::{Tags, observed, parse, wait_for};
use crate::classify::{
    absent_if_not_found, after_created, classify, done_if_not_found, gone, missing_field,
};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_vpc";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vpc {
    cidr_block: String,
    #[serde(default)]
    enable_dns_hostnames: bool,
    #[serde(default = "yes")]
    enable_dns_support: bool,
    #[serde(default = "default_tenancy")]
    instance_tenancy: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

fn yes() -> bool {
    true
}

fn default_tenancy() -> String {
    "default".to_string()
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("cidr_block", AttributeBehaviour::ForcesReplacement)
        // AWS moves tenancy only from `dedicated` to `default`; replacing covers every change.
        .attribute("instance_tenancy", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("arn", AttributeBehaviour::Computed)
}

/// The VPCs `filters` select, as the SDK describes them.
async fn describe(
    aws: &AwsProvider,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<SdkVpc>, ProviderError> {
    aws.clients()
        .ec2
        .describe_vpcs()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeVpcs", &e))
}

async fn dns_attribute(
    aws: &AwsProvider,
    vpc_id: &str,
    attribute: VpcAttributeName,
) -> Result<Option<bool>, ProviderError> {
    const OPERATION: &str = "ec2:DescribeVpcAttribute";
    let out = match aws
        .clients()
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(attribute.clone())
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify(OPERATION, &e)),
    };
    let value = match attribute {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    value
        .and_then(AttributeBooleanValue::value)
        .map(Some)
        .ok_or_else(|| missing_field(OPERATION, attribute.as_str()))
}

/// `vpc` as brickstack's attributes, or `None` if it went away meanwhile.
async fn observed_vpc(aws: &AwsProvider, vpc: &SdkVpc) -> Result<Option<Observed>, ProviderError> {
    let vpc_id = vpc
        .vpc_id()
        .ok_or_else(|| missing_field("ec2:DescribeVpcs", "VpcId"))?;
    let Some(enable_dns_hostnames) =
        dns_attribute(aws, vpc_id, VpcAttributeName::EnableDnsHostnames).await?
    else {
        return Ok(None);
    };
    let Some(enable_dns_support) =
        dns_attribute(aws, vpc_id, VpcAttributeName::EnableDnsSupport).await?
    else {
        return Ok(None);
    };
    let attributes = Vpc {
        cidr_block: vpc.cidr_block().unwrap_or_default().to_string(),
        enable_dns_hostnames,
        enable_dns_support,
        instance_tenancy: vpc
            .instance_tenancy()
            .map_or_else(default_tenancy, |t| t.as_str().to_string()),
        tags: tags_of(vpc.tags()),
    };
    let identity = aws.identity().await?;
    let arn = format!(
        "arn:{}:ec2:{}:{}:vpc/{vpc_id}",
        identity.partition,
        aws.region()?,
        vpc.owner_id().unwrap_or(&identity.account_id),
    );
    Ok(Some(observed(
        vpc_id,
        &attributes,
        [("id", vpc_id.to_string()), ("arn", arn)],
    )))
}

async fn observed_all(
    aws: &AwsProvider,
    vpcs: &[SdkVpc],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let mut found = BTreeMap::new();
    for vpc in vpcs {
        if let Some(o) = observed_vpc(aws, vpc).await? {
            found.insert(o.object_id.clone(), o);
        }
    }
    Ok(found)
}

pub(crate) async fn read(
    aws: &AwsProvider,
    vpc_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[vpc_id.to_string()]).await?.remove(vpc_id))
}

/// One `DescribeVpcs` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    vpc_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    if vpc_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut all = Vec::new();
    for filter in id_filters("vpc-id", vpc_ids) {
        all.extend(describe(aws, vec![filter]).await?);
    }
    observed_all(aws, &all).await
}

pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(filters) = lookup_filters(lookup) else {
        return Ok(None);
    };
    let vpcs = describe(aws, filters).await?;
    Ok(first_matching(observed_all(aws, &vpcs).await?, lookup))
}

/// A VPC made outside brickstack: its `Name` tag and CIDR block are the desired ones.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(name), Some(cidr)) = (
        desired_name_tag(desired),
        desired.get("cidr_block").and_then(|v| v.as_str()),
    ) else {
        return Ok(None);
    };
    let vpcs = describe(aws, vec![filter("tag:Name", name), filter("cidr", cidr)]).await?;
    the_one(KIND, observed_all(aws, &vpcs).await?, lookup)
}

async fn set_dns(
    aws: &AwsProvider,
    vpc_id: &str,
    attribute: VpcAttributeName,
    value: bool,
) -> Result<(), ProviderError> {
    let value = AttributeBooleanValue::builder().value(value).build();
    let call = aws.clients().ec2.modify_vpc_attribute().vpc_id(vpc_id);
    let call = match attribute {
        VpcAttributeName::EnableDnsHostnames => call.enable_dns_hostnames(value),
        _ => call.enable_dns_support(value),
    };
    call.send()
        .await
        .map_err(|e| classify("ec2:ModifyVpcAttribute", &e))?;
    Ok(())
}

/// Changes the DNS settings that differ from `current`, one call each. Support goes first:
/// AWS refuses hostnames without it.
async fn apply_dns(
    aws: &AwsProvider,
    vpc_id: &str,
    current: (bool, bool),
    desired: &Vpc,
) -> Result<(), ProviderError> {
    let (hostnames, support) = current;
    if desired.enable_dns_support && !support {
        set_dns(aws, vpc_id, VpcAttributeName::EnableDnsSupport, true).await?;
    }
    if desired.enable_dns_hostnames != hostnames {
        set_dns(
            aws,
            vpc_id,
            VpcAttributeName::EnableDnsHostnames,
            desired.enable_dns_hostnames,
        )
        .await?;
    }
    if !desired.enable_dns_support && support {
        set_dns(aws, vpc_id, VpcAttributeName::EnableDnsSupport, false).await?;
    }
    Ok(())
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Vpc = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_vpc()
        .cidr_block(&desired.cidr_block)
        .instance_tenancy(Tenancy::from(desired.instance_tenancy.as_str()))
        .set_tag_specifications(
            tag_specification(ResourceType::Vpc, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:CreateVpc", &e))?;
    let vpc_id = out
        .vpc()
        .and_then(SdkVpc::vpc_id)
        .ok_or_else(|| missing_field("ec2:CreateVpc", "Vpc.VpcId"))?
        .to_string();
    configure(aws, &vpc_id, &desired)
        .await
        .map_err(|e| after_created(KIND, &vpc_id, e))
}

/// A new VPC once available, with its DNS settings (AWS defaults: support on, hostnames off).
async fn configure(
    aws: &AwsProvider,
    vpc_id: &str,
    desired: &Vpc,
) -> Result<Observed, ProviderError> {
    wait_for(&format!("VPC `{vpc_id}` to be available"), || async {
        let vpcs = describe(aws, id_filters("vpc-id", &[vpc_id.to_string()])).await?;
        Ok(vpcs
            .iter()
            .any(|v| v.state() == Some(&VpcState::Available))
            .then_some(()))
    })
    .await?;
    apply_dns(aws, vpc_id, (false, true), desired).await?;
    read(aws, vpc_id).await?.ok_or_else(|| gone(KIND, vpc_id))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    vpc_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Vpc = parse(KIND, attributes)?;
    let current = read(aws, vpc_id).await?.ok_or_else(|| gone(KIND, vpc_id))?;
    let current: Vpc = parse(KIND, &without_computed(current.attributes))?;
    apply_dns(
        aws,
        vpc_id,
        (current.enable_dns_hostnames, current.enable_dns_support),
        &desired,
    )
    .await?;
    retag(aws, vpc_id, &current.tags, &desired.tags).await?;
    read(aws, vpc_id).await?.ok_or_else(|| gone(KIND, vpc_id))
}

fn without_computed(mut attributes: Attributes) -> Attributes {
    attributes.remove("id");
    attributes.remove("arn");
    attributes
}

/// Deletes the VPC. A `DependencyViolation` (ENIs AWS has not released yet) is retryable.
pub(crate) async fn delete(aws: &AwsProvider, vpc_id: &str) -> Result<(), ProviderError> {
    match aws.clients().ec2.delete_vpc().vpc_id(vpc_id).send().await {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DeleteVpc", &e)),
    }
}
