//! `aws_route`: one route of a route table, to an internet gateway (`gateway_id`) or a NAT
//! gateway (`nat_gateway_id`). The object id is `<route_table_id>_<destination_cidr_block>`, as
//! a route has no id of its own; reads come from `DescribeRouteTables`, so a batched read is one
//! call (per page) however many tables the routes are in.
//!
//! A route takes no tags, so `find` cannot adopt one by brickstack's tags; a create sent again
//! after its answer was lost (or after a crash) is refused with `RouteAlreadyExists` rather than
//! making a second route, and `create` then returns the route that is there: it is in a table
//! brickstack made, for this destination, so it is this resource's.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::RouteTable as SdkRouteTable;
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::ec2::id_filters;
use super::route_table::describe_raw;
use super::{observed, parse};
use crate::classify::{classify, done_if_not_found, gone, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_route";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Route {
    route_table_id: String,
    destination_cidr_block: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nat_gateway_id: Option<String>,
}

impl Route {
    fn desired(attributes: &Attributes) -> Result<Route, ProviderError> {
        let route: Route = parse(KIND, attributes)?;
        if route.gateway_id.is_some() == route.nat_gateway_id.is_some() {
            return Err(invalid_input(
                KIND,
                "set exactly one of `gateway_id` and `nat_gateway_id`",
            ));
        }
        Ok(route)
    }

    fn object_id(&self) -> String {
        format!("{}_{}", self.route_table_id, self.destination_cidr_block)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("route_table_id", AttributeBehaviour::ForcesReplacement)
        .attribute(
            "destination_cidr_block",
            AttributeBehaviour::ForcesReplacement,
        )
        .attribute("id", AttributeBehaviour::Computed)
}

/// The table and destination an object id names (table ids hold no `_`).
fn split(object_id: &str) -> Option<(&str, &str)> {
    object_id.split_once('_')
}

fn routes_of(table: &SdkRouteTable) -> impl Iterator<Item = Observed> + '_ {
    let table_id = table.route_table_id().unwrap_or_default();
    table.routes().iter().filter_map(move |r| {
        let route = Route {
            route_table_id: table_id.to_string(),
            destination_cidr_block: r.destination_cidr_block()?.to_string(),
            // `local` is the VPC's own route; a gateway endpoint's `vpce-` routes go to a
            // prefix list, not a CIDR block, so never reach here.
            gateway_id: r.gateway_id().map(str::to_string),
            nat_gateway_id: r.nat_gateway_id().map(str::to_string),
        };
        let id = route.object_id();
        Some(observed(&id, &route, [("id", id.clone())]))
    })
}

/// The object the desired attributes name (its id is made of them), if it exists.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let desired: Route = parse(KIND, desired)?;
    read(aws, &desired.object_id()).await
}

pub(crate) async fn read(
    aws: &AwsProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[object_id.to_string()])
        .await?
        .remove(object_id))
}

/// One `DescribeRouteTables` (per page) for the tables the routes are in.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    object_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let wanted: BTreeSet<&str> = object_ids.iter().map(String::as_str).collect();
    let tables: Vec<String> = object_ids
        .iter()
        .filter_map(|id| split(id))
        .map(|(table, _)| table.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut found = BTreeMap::new();
    for filter in id_filters("route-table-id", &tables) {
        for table in describe_raw(aws, vec![filter]).await? {
            found.extend(
                routes_of(&table)
                    .filter(|o| wanted.contains(o.object_id.as_str()))
                    .map(|o| (o.object_id.clone(), o)),
            );
        }
    }
    Ok(found)
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let route = Route::desired(attributes)?;
    let sent = aws
        .clients()
        .ec2
        .create_route()
        .route_table_id(&route.route_table_id)
        .destination_cidr_block(&route.destination_cidr_block)
        .set_gateway_id(route.gateway_id.clone())
        .set_nat_gateway_id(route.nat_gateway_id.clone())
        .send()
        .await
        .map_err(|e| classify("ec2:CreateRoute", &e));
    let id = route.object_id();
    match sent {
        Ok(_) => {}
        // Sent again after a first send whose answer was lost: the route is there (a target
        // changed meanwhile shows as drift, which the next plan updates).
        Err(error) if error.code == "RouteAlreadyExists" => {
            return read(aws, &id).await?.ok_or(error);
        }
        Err(error) => return Err(error),
    }
    read(aws, &id).await?.ok_or_else(|| gone(KIND, &id))
}

/// Points the route at another target (`ReplaceRoute`).
pub(crate) async fn update(
    aws: &AwsProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let route = Route::desired(attributes)?;
    if route.object_id() != object_id {
        return Err(invalid_input(
            KIND,
            "`route_table_id` and `destination_cidr_block` change only by replacing the route",
        ));
    }
    aws.clients()
        .ec2
        .replace_route()
        .route_table_id(&route.route_table_id)
        .destination_cidr_block(&route.destination_cidr_block)
        .set_gateway_id(route.gateway_id.clone())
        .set_nat_gateway_id(route.nat_gateway_id.clone())
        .send()
        .await
        .map_err(|e| classify("ec2:ReplaceRoute", &e))?;
    read(aws, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))
}

pub(crate) async fn delete(aws: &AwsProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((table_id, destination)) = split(object_id) else {
        return Err(invalid_input(
            KIND,
            format!("`{object_id}` is no route id (`<route_table_id>_<destination_cidr_block>`)"),
        ));
    };
    match aws
        .clients()
        .ec2
        .delete_route()
        .route_table_id(table_id)
        .destination_cidr_block(destination)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DeleteRoute", &e)),
    }
}
