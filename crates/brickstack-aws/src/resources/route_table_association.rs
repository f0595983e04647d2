//! `aws_route_table_association`: a subnet's association with a route table. The object id is
//! the association id (`rtbassoc-...`); reads come from `DescribeRouteTables` filtered by
//! association id, one call (per page) for a batched read.
//!
//! An association takes no tags, so `find` cannot adopt one by brickstack's tags; a create sent
//! again after its answer was lost is refused with `Resource.AlreadyAssociated` rather than
//! duplicating, and `create` then returns the association that is there.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, RouteTable as SdkRouteTable};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::ec2::id_filters;
use super::route_table::describe_raw;
use super::{observed, parse};
use crate::classify::{classify, done_if_not_found, gone, invalid_input, missing_field};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_route_table_association";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Association {
    subnet_id: String,
    route_table_id: String,
}

pub(crate) fn schema() -> KindSchema {
    // Moving a subnet to another table makes a new association id: a replacement.
    KindSchema::new(KIND)
        .attribute("subnet_id", AttributeBehaviour::ForcesReplacement)
        .attribute("route_table_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

fn associations_of(table: &SdkRouteTable) -> impl Iterator<Item = Observed> + '_ {
    table.associations().iter().filter_map(|a| {
        // The main table's implicit association has no subnet: not one of these objects.
        let association = Association {
            subnet_id: a.subnet_id()?.to_string(),
            route_table_id: a.route_table_id()?.to_string(),
        };
        let id = a.route_table_association_id()?;
        Some(observed(id, &association, [("id", id.to_string())]))
    })
}

pub(crate) async fn read(
    aws: &AwsProvider,
    association_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[association_id.to_string()])
        .await?
        .remove(association_id))
}

/// One `DescribeRouteTables` (per page), filtered by association id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    association_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let wanted: BTreeSet<&str> = association_ids.iter().map(String::as_str).collect();
    let mut found = BTreeMap::new();
    for filter in id_filters("association.route-table-association-id", association_ids) {
        for table in describe_raw(aws, vec![filter]).await? {
            found.extend(
                associations_of(&table)
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
    let association: Association = parse(KIND, attributes)?;
    let out = aws
        .clients()
        .ec2
        .associate_route_table()
        .subnet_id(&association.subnet_id)
        .route_table_id(&association.route_table_id)
        .send()
        .await
        .map_err(|e| classify("ec2:AssociateRouteTable", &e));
    let out = match out {
        Ok(out) => out,
        // Sent again after a first send whose answer was lost: the association is there.
        Err(error) if error.code == ALREADY_ASSOCIATED => {
            return match associated(aws, &association).await? {
                Some(found) => Ok(found),
                None => Err(error),
            };
        }
        Err(error) => return Err(error),
    };
    let id = out
        .association_id()
        .ok_or_else(|| missing_field("ec2:AssociateRouteTable", "AssociationId"))?;
    read(aws, id).await?.ok_or_else(|| gone(KIND, id))
}

/// EC2's refusal to associate a subnet that already is.
const ALREADY_ASSOCIATED: &str = "Resource.AlreadyAssociated";

/// The association of `desired`'s subnet with `desired`'s table, if there is one.
/// The association of the desired subnet with the desired table, made outside brickstack.
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    associated(aws, &parse(KIND, desired)?).await
}

async fn associated(
    aws: &AwsProvider,
    desired: &Association,
) -> Result<Option<Observed>, ProviderError> {
    let filters = vec![
        Filter::builder()
            .name("association.subnet-id")
            .values(&desired.subnet_id)
            .build(),
    ];
    let tables = describe_raw(aws, filters).await?;
    Ok(tables.iter().flat_map(associations_of).find(|o| {
        o.attributes.get("subnet_id").and_then(|v| v.as_str()) == Some(&desired.subnet_id)
            && o.attributes.get("route_table_id").and_then(|v| v.as_str())
                == Some(&desired.route_table_id)
    }))
}

/// Both attributes force replacement, so there is nothing to change in place.
pub(crate) async fn update(
    aws: &AwsProvider,
    association_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: Association = parse(KIND, attributes)?;
    let current = read(aws, association_id)
        .await?
        .ok_or_else(|| gone(KIND, association_id))?;
    let mut recorded = current.attributes.clone();
    recorded.remove("id");
    if parse::<Association>(KIND, &recorded)? != desired {
        return Err(invalid_input(
            KIND,
            "`subnet_id` and `route_table_id` change only by replacing the association",
        ));
    }
    Ok(current)
}

pub(crate) async fn delete(aws: &AwsProvider, association_id: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .ec2
        .disassociate_route_table()
        .association_id(association_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("ec2:DisassociateRouteTable", &e)),
    }
}
