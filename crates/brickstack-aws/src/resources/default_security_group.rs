//! `aws_default_security_group`: adopts the default security group AWS makes with every VPC.
//! The object id is the group id (`sg-...`).
//!
//! Create finds the group by `vpc_id`, tags it, revokes the rules not desired and authorizes the
//! missing ones; update does the same. The group itself cannot be deleted (it goes with its
//! VPC), so delete revokes every rule and removes the group's tags: it no longer carries the
//! environment, and reads back with no rules.
//!
//! Rules are compared as "atoms" (protocol, ports, one CIDR block or the group itself,
//! description), the unit AWS authorizes and revokes. A read groups them back into the
//! generator's shape: one rule per protocol, ports and description, `cidr_blocks` (sorted) and
//! `self` (only when true), in a canonical order (sorted by protocol, ports, description).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, SecurityGroup as SdkGroup, UserIdGroupPair,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::ec2::{describe_ids, filter, find_tagged, observed_tags, retag, tags_of, the_one};
use super::{Tags, observed, parse};
use crate::classify::{classify, gone, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_default_security_group";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultGroup {
    vpc_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    egress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    protocol: String,
    from_port: i32,
    to_port: i32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cidr_blocks: Vec<String>,
    #[serde(default, rename = "self", skip_serializing_if = "is_false")]
    self_: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What AWS authorizes and revokes: one source (a CIDR block, or `None` for the group itself).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Atom {
    protocol: String,
    from_port: i32,
    to_port: i32,
    description: Option<String>,
    cidr_block: Option<String>,
}

fn atoms(rules: &[Rule]) -> BTreeSet<Atom> {
    let mut atoms = BTreeSet::new();
    for rule in rules {
        let atom = |cidr_block: Option<String>| Atom {
            protocol: rule.protocol.clone(),
            from_port: rule.from_port,
            to_port: rule.to_port,
            description: rule.description.clone(),
            cidr_block,
        };
        atoms.extend(rule.cidr_blocks.iter().map(|c| atom(Some(c.clone()))));
        if rule.self_ {
            atoms.insert(atom(None));
        }
    }
    atoms
}

/// The atoms of AWS's permissions (another group's pairs are not ours to describe: left out).
fn atoms_of(group_id: &str, permissions: &[IpPermission]) -> BTreeSet<Atom> {
    let mut atoms = BTreeSet::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        // AWS leaves the ports out for all protocols; brickstack writes 0 and 0.
        let atom = |description: Option<&str>, cidr_block: Option<String>| Atom {
            protocol: protocol.clone(),
            from_port: p.from_port().unwrap_or(0),
            to_port: p.to_port().unwrap_or(0),
            description: description.filter(|d| !d.is_empty()).map(str::to_string),
            cidr_block,
        };
        for range in p.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                atoms.insert(atom(range.description(), Some(cidr.to_string())));
            }
        }
        for pair in p.user_id_group_pairs() {
            if pair.group_id() == Some(group_id) {
                atoms.insert(atom(pair.description(), None));
            }
        }
    }
    atoms
}

/// Atoms grouped back into rules, in the canonical order.
fn rules_of(atoms: &BTreeSet<Atom>) -> Vec<Rule> {
    let mut rules: BTreeMap<(String, i32, i32, Option<String>), Rule> = BTreeMap::new();
    for a in atoms {
        let key = (
            a.protocol.clone(),
            a.from_port,
            a.to_port,
            a.description.clone(),
        );
        let rule = rules.entry(key).or_insert_with(|| Rule {
            description: a.description.clone(),
            protocol: a.protocol.clone(),
            from_port: a.from_port,
            to_port: a.to_port,
            cidr_blocks: Vec::new(),
            self_: false,
        });
        match &a.cidr_block {
            Some(cidr) => rule.cidr_blocks.push(cidr.clone()),
            None => rule.self_ = true,
        }
    }
    rules.into_values().collect()
}

fn permission(group_id: &str, atom: &Atom) -> IpPermission {
    let builder = IpPermission::builder()
        .ip_protocol(&atom.protocol)
        .from_port(atom.from_port)
        .to_port(atom.to_port);
    match &atom.cidr_block {
        Some(cidr) => builder.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(atom.description.clone())
                .build(),
        ),
        None => builder.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group_id)
                .set_description(atom.description.clone())
                .build(),
        ),
    }
    .build()
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("vpc_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

async fn describe_raw(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<Vec<SdkGroup>, ProviderError> {
    aws.clients()
        .ec2
        .describe_security_groups()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2:DescribeSecurityGroups", &e))
}

fn observed_group(group: &SdkGroup) -> Option<Observed> {
    let id = group.group_id()?;
    let attributes = DefaultGroup {
        vpc_id: group.vpc_id().unwrap_or_default().to_string(),
        ingress: rules_of(&atoms_of(id, group.ip_permissions())),
        egress: rules_of(&atoms_of(id, group.ip_permissions_egress())),
        tags: tags_of(group.tags()),
    };
    Some(observed(id, &attributes, [("id", id.to_string())]))
}

async fn describe(
    aws: &AwsProvider,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    Ok(describe_raw(aws, filters)
        .await?
        .iter()
        .filter_map(observed_group)
        .map(|o| (o.object_id.clone(), o))
        .collect())
}

pub(crate) async fn read(
    aws: &AwsProvider,
    group_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(read_many(aws, &[group_id.to_string()])
        .await?
        .remove(group_id))
}

/// One `DescribeSecurityGroups` (per page) for all of them, filtered by id.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    group_ids: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    describe_ids("group-id", group_ids, |filters| describe(aws, filters)).await
}

pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    find_tagged(lookup, |filters| describe(aws, filters)).await
}

/// The desired VPC's default security group (every VPC has one).
pub(crate) async fn discover(
    aws: &AwsProvider,
    desired: &Attributes,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(vpc_id) = desired.get("vpc_id").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let found = describe(
        aws,
        vec![filter("vpc-id", vpc_id), filter("group-name", "default")],
    )
    .await?;
    the_one(KIND, found, lookup)
}

/// Moves the group's rules from `current` to `desired`: revokes first, then authorizes, one call
/// per direction and verb at most.
async fn sync_rules(
    aws: &AwsProvider,
    group_id: &str,
    current: &DefaultGroup,
    desired: &DefaultGroup,
) -> Result<(), ProviderError> {
    let ec2 = &aws.clients().ec2;
    let changes = |current: &[Rule], desired: &[Rule]| {
        let (current, desired) = (atoms(current), atoms(desired));
        let revoke: Vec<IpPermission> = current
            .difference(&desired)
            .map(|a| permission(group_id, a))
            .collect();
        let authorize: Vec<IpPermission> = desired
            .difference(&current)
            .map(|a| permission(group_id, a))
            .collect();
        (revoke, authorize)
    };
    let (revoke, authorize) = changes(&current.ingress, &desired.ingress);
    if !revoke.is_empty() {
        ec2.revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(revoke))
            .send()
            .await
            .map_err(|e| classify("ec2:RevokeSecurityGroupIngress", &e))?;
    }
    if !authorize.is_empty() {
        ec2.authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(authorize))
            .send()
            .await
            .map_err(|e| classify("ec2:AuthorizeSecurityGroupIngress", &e))?;
    }
    let (revoke, authorize) = changes(&current.egress, &desired.egress);
    if !revoke.is_empty() {
        ec2.revoke_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(revoke))
            .send()
            .await
            .map_err(|e| classify("ec2:RevokeSecurityGroupEgress", &e))?;
    }
    if !authorize.is_empty() {
        ec2.authorize_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(authorize))
            .send()
            .await
            .map_err(|e| classify("ec2:AuthorizeSecurityGroupEgress", &e))?;
    }
    Ok(())
}

fn recorded(observed: &Observed) -> Result<DefaultGroup, ProviderError> {
    let mut attributes = observed.attributes.clone();
    attributes.remove("id");
    parse(KIND, &attributes)
}

/// Brings `group` to `desired` (rules and tags) and reads it back.
async fn converge(
    aws: &AwsProvider,
    group: &Observed,
    desired: &DefaultGroup,
) -> Result<Observed, ProviderError> {
    let group_id = &group.object_id;
    let current = recorded(group)?;
    // Tags first: an interrupted adoption is then found by them.
    retag(aws, group_id, &current.tags, &desired.tags).await?;
    sync_rules(aws, group_id, &current, desired).await?;
    read(aws, group_id)
        .await?
        .ok_or_else(|| gone(KIND, group_id))
}

/// Adopts the VPC's default group: no object is created, so a retry is harmless.
pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: DefaultGroup = parse(KIND, attributes)?;
    let filters = vec![
        Filter::builder()
            .name("vpc-id")
            .values(&desired.vpc_id)
            .build(),
        Filter::builder()
            .name("group-name")
            .values("default")
            .build(),
    ];
    let group = describe(aws, filters)
        .await?
        .into_values()
        .next()
        .ok_or_else(|| {
            invalid_input(
                KIND,
                format!(
                    "VPC `{}` has no default security group; hint: check `vpc_id`",
                    desired.vpc_id
                ),
            )
        })?;
    converge(aws, &group, &desired).await
}

pub(crate) async fn update(
    aws: &AwsProvider,
    group_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: DefaultGroup = parse(KIND, attributes)?;
    let group = read(aws, group_id)
        .await?
        .ok_or_else(|| gone(KIND, group_id))?;
    converge(aws, &group, &desired).await
}

/// Revokes every rule and removes the tags; the group stays with its VPC.
pub(crate) async fn delete(aws: &AwsProvider, group_id: &str) -> Result<(), ProviderError> {
    let Some(group) = read(aws, group_id).await? else {
        return Ok(());
    };
    let current = recorded(&group)?;
    let bare = DefaultGroup {
        vpc_id: current.vpc_id.clone(),
        ingress: Vec::new(),
        egress: Vec::new(),
        tags: Tags::new(),
    };
    sync_rules(aws, group_id, &current, &bare).await?;
    retag(aws, group_id, &observed_tags(&group), &bare.tags).await
}
