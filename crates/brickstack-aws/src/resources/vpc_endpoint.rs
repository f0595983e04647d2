//! `aws_vpc_endpoint`: a Gateway endpoint (with `route_table_ids`) or an Interface endpoint
//! (with `subnet_ids`, `security_group_ids`, `private_dns_enabled`). The object id is the
//! endpoint id (`vpce-...`). Create waits until it is available, delete until it is gone; an
//! endpoint `deleting` or `deleted` reads as gone.
//!
//! The id lists are sets to AWS: a read reports them sorted and the schema marks them unordered,
//! so the graph's address order never shows as a change. The lists a gateway endpoint does not
//! take (and the reverse) are left out, as is `private_dns_enabled` for a gateway endpoint.
//!
//! moto: `DescribeVpcEndpoints` answers 500 to the `vpc-endpoint-id` filter, so reads go by id
//! (the call fails whole when one id is missing: only then is each read alone); a deleted endpoint
//! stays listed as `deleted`; `ModifyVpcEndpoint` ignores `PrivateDnsEnabled`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    Filter, ResourceType, State, VpcEndpoint as SdkEndpoint, VpcEndpointType,
};
use brickstack_provider::{
    AttributeBehaviour, Attributes, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{
    client_token, first_matching, lookup_filters, observed_tags, retag, tag_specification, tags_of,
    unsuccessful,
};
use super::{Tags, observed, parse, read_each, wait_for};
use crate::classify::{absent_if_not_found, after_created, classify, gone, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_vpc_endpoint";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    vpc_id: String,
    service_name: String,
    #[serde(default = "gateway")]
    vpc_endpoint_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    route_table_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subnet_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_dns_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

fn gateway() -> String {
    "Gateway".to_string()
}

impl Endpoint {
    fn is_interface(&self) -> bool {
        self.vpc_endpoint_type.eq_ignore_ascii_case("Interface")
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("vpc_id", AttributeBehaviour::ForcesReplacement)
        .attribute("service_name", AttributeBehaviour::ForcesReplacement)
        .attribute("vpc_endpoint_type", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .unordered("route_table_ids")
        .unordered("subnet_ids")
        .unordered("security_group_ids")
}

async fn describe_raw(
    aws: &AwsProvider,
    filters: Option<Vec<Filter>>,
    ids: Option<Vec<String>>,
) -> Result<Vec<SdkEndpoint>, ProviderError> {
    aws.clients()
        .ec2
        .describe_vpc_endpoints()
        .set_filters(filters)
        .set_vpc_endpoint_ids(ids)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeVpcEndpoints", &e))
}

/// The state in lower case: the API documents `Available`, but AWS (and moto) answer
/// `available`, which the SDK does not map to its variant.
fn phase(state: Option<&State>) -> String {
    state.map_or_else(|| "gone".to_string(), |s| s.as_str().to_ascii_lowercase())
}

fn is_gone(endpoint: &SdkEndpoint) -> bool {
    matches!(phase(endpoint.state()).as_str(), "deleting" | "deleted")
}

fn sorted(ids: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    ids.into_iter()
        .map(Into::into)
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect()
}

fn observed_endpoint(endpoint: &SdkEndpoint) -> Option<Observed> {
    let id = endpoint.vpc_endpoint_id()?;
    let kind = endpoint
        .vpc_endpoint_type()
        .map_or_else(gateway, |t| t.as_str().to_string());
    let mut attributes = Endpoint {
        vpc_id: endpoint.vpc_id().unwrap_or_default().to_string(),
        service_name: endpoint.service_name().unwrap_or_default().to_string(),
        vpc_endpoint_type: kind,
        route_table_ids: sorted(endpoint.route_table_ids().iter().map(String::as_str)),
        subnet_ids: sorted(endpoint.subnet_ids().iter().map(String::as_str)),
        security_group_ids: sorted(endpoint.groups().iter().filter_map(|g| g.group_id())),
        private_dns_enabled: None,
        tags: tags_of(endpoint.tags()),
    };
    if attributes.is_interface() {
        attributes.private_dns_enabled = Some(endpoint.private_dns_enabled().unwrap_or(false));
    }
    Some(observed(id, &attributes, [("id", id.to_string())]))
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    Ok(describe_raw(aws, Some(filters), None)
        .await?
        .iter()
        .filter(|e| !is_gone(e))
        .filter_map(observed_endpoint)
        .map(|o| (o.object_id.clone(), o))
        .collect())
}

pub(crate) async fn read(
    aws: &AwsProvider,
    endpoint_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[endpoint_id.to_string()])
        .await?
        .remove(endpoint_id))
}

/// One `DescribeVpcEndpoints` (per page) for all of them, by id. The call fails whole when one
/// id is missing (moto also has no `vpc-endpoint-id` filter), so only then is each read alone.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    endpoint_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    match by_ids(aws, endpoint_ids).await {
        Err(e) if e.class == ErrorClass::NotFound && endpoint_ids.len() > 1 => {
            read_each(endpoint_ids, |id| read(aws, id)).await
        }
        // The one id asked for is gone.
        Err(e) => absent_if_not_found::<()>(e).map(|_| BTreeMap::new()),
        Ok(found) => Ok(found),
    }
}

async fn by_ids(
    aws: &AwsProvider,
    endpoint_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let mut found = BTreeMap::new();
    for chunk in endpoint_ids.chunks(200) {
        found.extend(
            describe_raw(aws, None, Some(chunk.to_vec()))
                .await?
                .iter()
                .filter(|e| !is_gone(e))
                .filter_map(observed_endpoint)
                .map(|o| (o.object_id.clone(), o)),
        );
    }
    Ok(found)
}

pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(filters) = lookup_filters(lookup) else {
        return Ok(None);
    };
    Ok(first_matching(describe(aws, filters).await?, lookup))
}

/// The endpoint's state, or `None` once it is gone.
async fn state(aws: &AwsProvider, endpoint_id: &str) -> Result<Option<State>, ProviderError> {
    match describe_raw(aws, None, Some(vec![endpoint_id.to_string()])).await {
        Ok(endpoints) => Ok(endpoints.first().and_then(|e| e.state().cloned())),
        Err(e) => absent_if_not_found(e),
    }
}

fn non_empty(ids: &[String]) -> Option<Vec<String>> {
    (!ids.is_empty()).then(|| ids.to_vec())
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Endpoint = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .create_vpc_endpoint()
        .vpc_id(&desired.vpc_id)
        .service_name(&desired.service_name)
        .vpc_endpoint_type(VpcEndpointType::from(desired.vpc_endpoint_type.as_str()))
        .set_route_table_ids(non_empty(&desired.route_table_ids))
        .set_subnet_ids(non_empty(&desired.subnet_ids))
        .set_security_group_ids(non_empty(&desired.security_group_ids))
        .set_private_dns_enabled(desired.private_dns_enabled)
        .set_client_token(client_token(aws, &desired.tags))
        .set_tag_specifications(
            tag_specification(ResourceType::VpcEndpoint, &desired.tags).map(|t| vec![t]),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:CreateVpcEndpoint", &e))?;
    let id = out
        .vpc_endpoint()
        .and_then(SdkEndpoint::vpc_endpoint_id)
        .ok_or_else(|| missing_field("ec2:CreateVpcEndpoint", "VpcEndpoint.VpcEndpointId"))?
        .to_string();
    let available = async {
        wait_for(&format!("VPC endpoint `{id}` to be available"), || async {
            match phase(state(aws, &id).await?.as_ref()).as_str() {
                "available" => Ok(Some(())),
                "pending" | "pendingacceptance" => Ok(None),
                other => Err(ProviderError::new(
                    ErrorClass::Fatal,
                    "VpcEndpointFailed",
                    format!(
                        "VPC endpoint `{id}` is `{}` instead of becoming available; hint: check the service name and the subnets",
                        other
                    ),
                )),
            }
        })
        .await?;
        read(aws, &id).await?.ok_or_else(|| gone(KIND, &id))
    };
    available.await.map_err(|e| after_created(KIND, &id, e))
}

/// `(added, removed)` going from `current` to `desired`, or `None` each when nothing is.
fn delta(current: &[String], desired: &[String]) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let (current, desired): (BTreeSet<&String>, BTreeSet<&String>) =
        (current.iter().collect(), desired.iter().collect());
    let added: Vec<String> = desired.difference(&current).map(|s| (*s).clone()).collect();
    let removed: Vec<String> = current.difference(&desired).map(|s| (*s).clone()).collect();
    (non_empty(&added), non_empty(&removed))
}

/// Adds and removes route tables, subnets and security groups, and sets private DNS, in one
/// `ModifyVpcEndpoint`; retags.
pub(crate) async fn update(
    aws: &AwsProvider,
    endpoint_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Endpoint = parse(KIND, attributes)?;
    let observed_now = read(aws, endpoint_id)
        .await?
        .ok_or_else(|| gone(KIND, endpoint_id))?;
    let mut recorded = observed_now.attributes.clone();
    recorded.remove("id");
    let current: Endpoint = parse(KIND, &recorded)?;
    let (add_tables, remove_tables) = delta(&current.route_table_ids, &desired.route_table_ids);
    let (add_subnets, remove_subnets) = delta(&current.subnet_ids, &desired.subnet_ids);
    let (add_groups, remove_groups) =
        delta(&current.security_group_ids, &desired.security_group_ids);
    let dns = desired
        .private_dns_enabled
        .filter(|d| Some(*d) != current.private_dns_enabled);
    let changes = [
        &add_tables,
        &remove_tables,
        &add_subnets,
        &remove_subnets,
        &add_groups,
        &remove_groups,
    ];
    if changes.iter().any(|c| c.is_some()) || dns.is_some() {
        aws.clients()
            .ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(endpoint_id)
            .set_add_route_table_ids(add_tables)
            .set_remove_route_table_ids(remove_tables)
            .set_add_subnet_ids(add_subnets)
            .set_remove_subnet_ids(remove_subnets)
            .set_add_security_group_ids(add_groups)
            .set_remove_security_group_ids(remove_groups)
            .set_private_dns_enabled(dns)
            .send()
            .await
            .map_err(|e| classify("ec2:ModifyVpcEndpoint", &e))?;
    }
    retag(
        aws,
        endpoint_id,
        &observed_tags(&observed_now),
        &desired.tags,
    )
    .await?;
    read(aws, endpoint_id)
        .await?
        .ok_or_else(|| gone(KIND, endpoint_id))
}

/// Deletes the endpoint and waits until it is gone. `DeleteVpcEndpoints` reports a failure per
/// endpoint in its answer, not as an error. A not-found is done only if the endpoint is in fact
/// gone: moto answers one when a route the endpoint should have made is missing, and the
/// endpoint stays.
pub(crate) async fn delete(aws: &AwsProvider, endpoint_id: &str) -> Result<(), ProviderError> {
    const OPERATION: &str = "ec2:DeleteVpcEndpoints";
    let failure = match aws
        .clients()
        .ec2
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(endpoint_id)
        .send()
        .await
    {
        Ok(out) => unsuccessful(OPERATION, endpoint_id, out.unsuccessful()),
        Err(e) => Some(classify(OPERATION, &e)),
    };
    let gone = || async {
        let state = state(aws, endpoint_id).await?;
        Ok((state.is_none() || phase(state.as_ref()) == "deleted").then_some(()))
    };
    match failure {
        Some(error) if error.class != ErrorClass::NotFound => Err(error),
        Some(error) => match gone().await? {
            Some(()) => Ok(()),
            None => Err(error),
        },
        None => wait_for(&format!("VPC endpoint `{endpoint_id}` to be deleted"), gone).await,
    }
}
