//! `aws_flow_log`: a VPC flow log delivered to S3 (or CloudWatch Logs). The object id is the flow
//! log id (`fl-...`). AWS cannot change a flow log, only its tags: every other attribute forces a
//! replacement.
//!
//! `CreateFlowLogs` takes a list of resources and reports a failure per resource in its answer
//! (an S3 destination that does not exist, say), not as an error: that is turned into one here.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    FlowLog as SdkFlowLog, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    client_token, describe_ids, find_tagged, observed_tags, retag, tag_specification, tags_of,
    unsuccessful,
};
use super::{Tags, observed, parse};
use crate::classify::{classify, done_if_not_found, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_flow_log";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowLog {
    vpc_id: String,
    #[serde(default = "all")]
    traffic_type: String,
    log_destination: String,
    #[serde(default = "s3")]
    log_destination_type: String,
    /// AWS's default format when not given; read back as AWS has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
    #[serde(default = "ten_minutes")]
    max_aggregation_interval: i32,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

fn all() -> String {
    "ALL".to_string()
}

fn s3() -> String {
    "s3".to_string()
}

fn ten_minutes() -> i32 {
    600
}

pub(crate) fn schema() -> KindSchema {
    let replaced = [
        "vpc_id",
        "traffic_type",
        "log_destination",
        "log_destination_type",
        "log_format",
        "max_aggregation_interval",
    ];
    replaced
        .into_iter()
        .fold(KindSchema::new(KIND), |schema, name| {
            schema.attribute(name, AttributeBehaviour::ForcesReplacement)
        })
        .attribute("id", AttributeBehaviour::Computed)
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let flow_logs: Vec<SdkFlowLog> = aws
        .clients()
        .ec2
        .describe_flow_logs()
        .set_filter(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeFlowLogs", &e))?;
    flow_logs
        .iter()
        .map(|f| {
            let o = observed_flow_log(f)?;
            Ok((o.object_id.clone(), o))
        })
        .collect()
}

fn observed_flow_log(flow_log: &SdkFlowLog) -> Result<Observed, ProviderError> {
    const OPERATION: &str = "ec2:DescribeFlowLogs";
    let id = flow_log
        .flow_log_id()
        .ok_or_else(|| missing_field(OPERATION, "FlowLogId"))?;
    let attributes = FlowLog {
        vpc_id: flow_log
            .resource_id()
            .ok_or_else(|| missing_field(OPERATION, "ResourceId"))?
            .to_string(),
        traffic_type: flow_log
            .traffic_type()
            .map_or_else(all, |t| t.as_str().to_string()),
        log_destination: flow_log.log_destination().unwrap_or_default().to_string(),
        log_destination_type: flow_log
            .log_destination_type()
            .map_or_else(s3, |t| t.as_str().to_string()),
        log_format: flow_log.log_format().map(str::to_string),
        max_aggregation_interval: flow_log.max_aggregation_interval().unwrap_or(600),
        tags: tags_of(flow_log.tags()),
    };
    Ok(observed(id, &attributes, [("id", id.to_string())]))
}

pub(crate) async fn read(
    aws: &AwsProvider,
    flow_log_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[flow_log_id.to_string()])
        .await?
        .remove(flow_log_id))
}

/// One `DescribeFlowLogs` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    flow_log_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("flow-log-id", flow_log_ids, |filters| {
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
    const OPERATION: &str = "ec2:CreateFlowLogs";
    let desired: FlowLog = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&desired.vpc_id)
        .traffic_type(TrafficType::from(desired.traffic_type.as_str()))
        .log_destination_type(LogDestinationType::from(
            desired.log_destination_type.as_str(),
        ))
        .log_destination(&desired.log_destination)
        .set_log_format(desired.log_format.clone())
        .max_aggregation_interval(desired.max_aggregation_interval)
        .set_client_token(client_token(aws, &desired.tags))
        .set_tag_specifications(
            tag_specification(ResourceType::VpcFlowLog, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify(OPERATION, &e))?;
    if let Some(error) = unsuccessful(OPERATION, &desired.vpc_id, out.unsuccessful()) {
        return Err(error);
    }
    let id = out
        .flow_log_ids()
        .first()
        .ok_or_else(|| missing_field(OPERATION, "FlowLogIds"))?;
    read(aws, id).await?.ok_or_else(|| gone(KIND, id))
}

/// Only tags change in place.
pub(crate) async fn update(
    aws: &AwsProvider,
    flow_log_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: FlowLog = parse(KIND, attributes)?;
    let current = read(aws, flow_log_id)
        .await?
        .ok_or_else(|| gone(KIND, flow_log_id))?;
    retag(aws, flow_log_id, &observed_tags(&current), &desired.tags).await?;
    read(aws, flow_log_id)
        .await?
        .ok_or_else(|| gone(KIND, flow_log_id))
}

/// `DeleteFlowLogs` reports a failure per flow log in its answer: a not-found there is done.
pub(crate) async fn delete(aws: &AwsProvider, flow_log_id: &str) -> Result<(), ProviderError> {
    const OPERATION: &str = "ec2:DeleteFlowLogs";
    let out = match aws
        .clients()
        .ec2
        .delete_flow_logs()
        .flow_log_ids(flow_log_id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return done_if_not_found(classify(OPERATION, &e)),
    };
    match unsuccessful(OPERATION, flow_log_id, out.unsuccessful()) {
        Some(error) => done_if_not_found(error),
        None => Ok(()),
    }
}
