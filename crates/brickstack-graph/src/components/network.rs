//! The customer-managed VPC: subnets, gateways, routes, endpoints, flow logs, default security group.

use brickstack_spec::{NatMode, Spec};

use super::addresses;
use crate::resource::{Resources, reference};
use crate::{list, map};

pub fn emit(spec: &Spec, out: &mut Resources) {
    let net = &spec.network;
    let region = &spec.environment.region;
    let vpc = out
        .add(
            "aws_vpc",
            "main",
            map! {
                "cidr_block" => net.cidr.to_string(),
                "enable_dns_hostnames" => net.dns_hostnames,
                "enable_dns_support" => net.dns_support,
                "instance_tenancy" => "default",
            },
        )
        .name_tag(&net.name)
        .address();
    let vpc_id = reference(&vpc, "id");

    let mut sg_rules = std::collections::BTreeMap::new();
    sg_rules.insert("vpc_id".to_string(), vpc_id.clone());
    if net.default_security_group.allow_internal {
        sg_rules.insert(
            "ingress".into(),
            list![map! {
                "description" => "Allow all internal TCP and UDP",
                "protocol" => "-1",
                "from_port" => 0i64,
                "to_port" => 0i64,
                "self" => true,
            }],
        );
    }
    if net.default_security_group.allow_all_egress {
        sg_rules.insert(
            "egress".into(),
            list![map! {
                "protocol" => "-1",
                "from_port" => 0i64,
                "to_port" => 0i64,
                "cidr_blocks" => vec!["0.0.0.0/0"],
            }],
        );
    }
    out.add(
        "aws_default_security_group",
        "main",
        crate::Value::Map(sg_rules),
    )
    .name_tag(&net.default_security_group.name);

    let igw = out
        .add(
            "aws_internet_gateway",
            "main",
            map! { "vpc_id" => vpc_id.clone() },
        )
        .name_tag(&net.name)
        .address();

    let public_rt = out
        .add(
            "aws_route_table",
            "public",
            map! { "vpc_id" => vpc_id.clone() },
        )
        .name_tag(format!("{}-public", net.name))
        .address();
    out.add(
        "aws_route",
        "public-internet",
        map! {
            "route_table_id" => reference(&public_rt, "id"),
            "destination_cidr_block" => "0.0.0.0/0",
            "gateway_id" => reference(&igw, "id"),
        },
    );

    for subnet in &net.public_subnets {
        let s = out
            .add(
                "aws_subnet",
                format!("public-{}", subnet.az),
                map! {
                    "vpc_id" => vpc_id.clone(),
                    "cidr_block" => subnet.cidr.to_string(),
                    "availability_zone" => &subnet.az,
                    "map_public_ip_on_launch" => true,
                },
            )
            .name_tag(format!("{}-public-{}", net.name, subnet.az))
            .address();
        out.add(
            "aws_route_table_association",
            format!("public-{}", subnet.az),
            map! {
                "subnet_id" => reference(&s, "id"),
                "route_table_id" => reference(&public_rt, "id"),
            },
        );
    }

    // NAT gateways by zone: the first public subnet for `single`, one per zone for `per_az`.
    let nat_zones: Vec<&str> = match net.nat {
        NatMode::None => vec![],
        NatMode::Single => net
            .public_subnets
            .iter()
            .take(1)
            .map(|s| s.az.as_str())
            .collect(),
        NatMode::PerAz => net.public_subnets.iter().map(|s| s.az.as_str()).collect(),
    };
    let mut nat_by_zone = Vec::new();
    for az in &nat_zones {
        let eip = out
            .add("aws_eip", format!("nat-{az}"), map! { "domain" => "vpc" })
            .name_tag(format!("{}-{az}", net.name))
            .address();
        let nat = out
            .add(
                "aws_nat_gateway",
                *az,
                map! {
                    "allocation_id" => reference(&eip, "id"),
                    "subnet_id" => reference(&crate::Address::new("aws_subnet", format!("public-{az}")), "id"),
                    "connectivity_type" => "public",
                },
            )
            .name_tag(format!("{}-{az}", net.name))
            .depends_on(&igw)
            .address();
        nat_by_zone.push((*az, nat));
    }

    // Private route tables: one shared table, or one per zone when each zone has its own NAT.
    let private_tables: Vec<(String, Option<&str>)> = if net.nat == NatMode::PerAz {
        net.private_subnets
            .iter()
            .map(|s| (format!("private-{}", s.az), Some(s.az.as_str())))
            .collect()
    } else {
        vec![("private".to_string(), None)]
    };
    let mut private_table_ids = Vec::new();
    for (name, zone) in &private_tables {
        if private_table_ids.iter().any(|(n, _)| n == name) {
            continue;
        }
        let rt = out
            .add(
                "aws_route_table",
                name.clone(),
                map! { "vpc_id" => vpc_id.clone() },
            )
            .name_tag(format!("{}-{name}", net.name))
            .address();
        let nat = match zone {
            Some(z) => nat_by_zone.iter().find(|(az, _)| az == z),
            None => nat_by_zone.first(),
        };
        if let Some((_, nat)) = nat {
            out.add(
                "aws_route",
                format!("{name}-nat"),
                map! {
                    "route_table_id" => reference(&rt, "id"),
                    "destination_cidr_block" => "0.0.0.0/0",
                    "nat_gateway_id" => reference(nat, "id"),
                },
            );
        }
        private_table_ids.push((name.clone(), rt));
    }

    let mut private_subnet_ids = Vec::new();
    for subnet in &net.private_subnets {
        let s = out
            .add(
                "aws_subnet",
                addresses::private_subnet(&subnet.az).name,
                map! {
                    "vpc_id" => vpc_id.clone(),
                    "cidr_block" => subnet.cidr.to_string(),
                    "availability_zone" => &subnet.az,
                    "map_public_ip_on_launch" => false,
                },
            )
            .name_tag(format!("{}-private-{}", net.name, subnet.az))
            .address();
        let table_name = if net.nat == NatMode::PerAz {
            format!("private-{}", subnet.az)
        } else {
            "private".to_string()
        };
        let rt = &private_table_ids
            .iter()
            .find(|(n, _)| *n == table_name)
            .expect("every private subnet has a route table")
            .1;
        out.add(
            "aws_route_table_association",
            format!("private-{}", subnet.az),
            map! {
                "subnet_id" => reference(&s, "id"),
                "route_table_id" => reference(rt, "id"),
            },
        );
        private_subnet_ids.push(reference(&s, "id"));
    }

    if let Some(flow) = &net.flow_logs {
        out.add(
            "aws_flow_log",
            "main",
            map! {
                "vpc_id" => vpc_id.clone(),
                "log_destination_type" => "s3",
                "log_destination" => reference(&addresses::bucket(&flow.bucket), "arn"),
                "traffic_type" => &flow.traffic_type,
                "max_aggregation_interval" => flow.max_aggregation_interval,
                "log_format" => "${subnet-id} ${instance-id} ${interface-id} ${protocol} ${srcaddr} ${srcport} ${pkt-srcaddr} ${dstaddr} ${dstport} ${pkt-dstaddr} ${tcp-flags}",
            },
        );
    }

    let prefix = &spec.environment.prefix;
    if net.endpoints.s3_gateway {
        let mut tables: Vec<_> = private_table_ids
            .iter()
            .map(|(_, rt)| reference(rt, "id"))
            .collect();
        tables.push(reference(&public_rt, "id"));
        out.add(
            "aws_vpc_endpoint",
            "s3",
            map! {
                "vpc_id" => vpc_id.clone(),
                "service_name" => format!("com.amazonaws.{region}.s3"),
                "vpc_endpoint_type" => "Gateway",
                "route_table_ids" => tables,
            },
        )
        .name_tag(format!("{prefix}-s3-vpc-endpoint"));
    }
    for (enabled, service, short) in [
        (net.endpoints.sts, "sts", "sts"),
        (net.endpoints.kinesis_streams, "kinesis-streams", "kinesis"),
    ] {
        if !enabled {
            continue;
        }
        out.add(
            "aws_vpc_endpoint",
            service,
            map! {
                "vpc_id" => vpc_id.clone(),
                "service_name" => format!("com.amazonaws.{region}.{service}"),
                "vpc_endpoint_type" => "Interface",
                "subnet_ids" => private_subnet_ids.clone(),
                "security_group_ids" => vec![reference(&addresses::default_security_group(), "id")],
                "private_dns_enabled" => true,
            },
        )
        .name_tag(format!("{prefix}-{short}-vpc-endpoint"));
    }
}
