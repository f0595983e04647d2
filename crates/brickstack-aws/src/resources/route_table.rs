//! `aws_route_table`: a route table of a VPC. The object id is the table id (`rtb-...`).
//!
//! Its routes and subnet associations are objects of their own (`aws_route`,
//! `aws_route_table_association`), so a read reports neither.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, RouteTable as SdkRouteTable};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    client_token, describe_ids, desired_name_tag, filter, find_tagged, observed_tags, retag,
    tag_specification, tags_of, the_one,
};
use super::{Tags, observed, parse};
use crate::classify::{after_created, classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_route_table";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteTable {
    vpc_id: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("vpc_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

/// The route tables `filters` select, as the SDK describes them (routes and associations too).
pub(crate) async fn describe_raw(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<Vec<SdkRouteTable>, ProviderError> {
    aws.clients()
        .ec2
        .describe_route_tables()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeRouteTables", &e))
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_raw(aws, filters)
        .await?
        .iter()
        .map(|t| {
            let o = observed_table(t)?;
            Ok((o.object_id.clone(), o))
        })
        .collect()
}

fn observed_table(table: &SdkRouteTable) -> Result<Observed, ProviderError> {
    let table_id = table
        .route_table_id()
        .ok_or_else(|| missing_field("ec2:DescribeRouteTables", "RouteTableId"))?;
    let attributes = RouteTable {
        vpc_id: table.vpc_id().unwrap_or_default().to_string(),
        tags: tags_of(table.tags()),
    };
    Ok(observed(
        table_id,
        &attributes,
        [("id", table_id.to_string())],
    ))
}

pub(crate) async fn read(
    aws: &AwsProvider,
    table_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[table_id.to_string()])
        .await?
        .remove(table_id))
}

/// One `DescribeRouteTables` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    table_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("route-table-id", table_ids, |filters| {
        describe(aws, filters)
    })
    .await
}

/// A route table of the desired VPC with the desired `Name` tag.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(vpc_id), Some(name)) = (
        desired.get("vpc_id").and_then(|v| v.as_str()),
        desired_name_tag(desired),
    ) else {
        return Ok(None);
    };
    let found = describe(
        aws,
        vec![filter("vpc-id", vpc_id), filter("tag:Name", name)],
    )
    .await?;
    the_one(KIND, found, lookup)
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
    let desired: RouteTable = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_route_table()
        .vpc_id(&desired.vpc_id)
        .set_client_token(client_token(aws, &desired.tags))
        .set_tag_specifications(
            tag_specification(ResourceType::RouteTable, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:CreateRouteTable", &e))?;
    let table_id = out
        .route_table()
        .and_then(SdkRouteTable::route_table_id)
        .ok_or_else(|| missing_field("ec2:CreateRouteTable", "RouteTableId"))?
        .to_string();
    read(aws, &table_id)
        .await
        .and_then(|o| o.ok_or_else(|| gone(KIND, &table_id)))
        .map_err(|e| after_created(KIND, &table_id, e))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    table_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: RouteTable = parse(KIND, attributes)?;
    let current = read(aws, table_id)
        .await?
        .ok_or_else(|| gone(KIND, table_id))?;
    retag(aws, table_id, &observed_tags(&current), &desired.tags).await?;
    read(aws, table_id)
        .await?
        .ok_or_else(|| gone(KIND, table_id))
}

pub(crate) async fn delete(aws: &AwsProvider, table_id: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .ec2
        .delete_route_table()
        .route_table_id(table_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DeleteRouteTable", &e)),
    }
}
