//! `[network]`: the customer-managed VPC.

use ipnet::Ipv4Net;

use crate::defaults;
use crate::diagnostic::DiagnosticCode;
use crate::model::{
    DefaultSecurityGroup, Endpoints, Environment, FlowLogs, NatMode, Network, Subnet,
};
use crate::reader::{Cx, Table};

pub(super) fn network(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment) -> Network {
    let name = t
        .str(cx, "name")
        .unwrap_or_else(|| defaults::VPC_NAME.to_string());
    let cidr = t
        .str(cx, "cidr")
        .and_then(|s| parse_cidr(cx, "network.cidr", &s))
        .unwrap_or_else(|| defaults::VPC_CIDR.parse().expect("default CIDR parses"));
    let zones = default_zones(&env.region);
    let private_default: Vec<Subnet> = zones
        .iter()
        .zip(defaults::PRIVATE_SUBNETS.iter())
        .map(|(az, cidr)| Subnet {
            az: az.clone(),
            cidr: cidr.parse().expect("default CIDR parses"),
        })
        .collect();
    let public_default: Vec<Subnet> = zones
        .last()
        .into_iter()
        .zip(defaults::PUBLIC_SUBNETS.iter())
        .map(|(az, cidr)| Subnet {
            az: az.clone(),
            cidr: cidr.parse().expect("default CIDR parses"),
        })
        .collect();
    let private_subnets = subnets(t, cx, "private_subnets", private_default);
    let public_subnets = subnets(t, cx, "public_subnets", public_default);
    let nat = match t.choice(cx, "nat", &NatMode::NAMES).as_deref() {
        Some("none") => NatMode::None,
        Some("per_az") => NatMode::PerAz,
        _ => NatMode::Single,
    };
    let dns_hostnames = t.bool(cx, "dns_hostnames").unwrap_or(true);
    let dns_support = t.bool(cx, "dns_support").unwrap_or(true);

    let mut e = t.table(cx, "endpoints");
    let endpoints = Endpoints {
        s3_gateway: e.bool(cx, "s3").unwrap_or(true),
        sts: e.bool(cx, "sts").unwrap_or(true),
        kinesis_streams: e.bool(cx, "kinesis_streams").unwrap_or(true),
    };
    e.finish(cx);

    let flow_logs = if t.has("flow_logs") && !t.has_table("flow_logs") {
        t.bool(cx, "flow_logs").unwrap_or(true).then(|| FlowLogs {
            bucket: "access_logs".to_string(),
            traffic_type: "ALL".to_string(),
            max_aggregation_interval: defaults::FLOW_LOG_AGGREGATION_SECONDS,
        })
    } else {
        let mut f = t.table(cx, "flow_logs");
        let enabled = f.bool(cx, "enabled").unwrap_or(true);
        let logs = FlowLogs {
            bucket: f
                .str(cx, "bucket")
                .unwrap_or_else(|| "access_logs".to_string()),
            traffic_type: f
                .choice(cx, "traffic_type", &["ALL", "ACCEPT", "REJECT"])
                .unwrap_or_else(|| "ALL".to_string()),
            max_aggregation_interval: match f.int(cx, "max_aggregation_interval", 60, 600) {
                Some(n) if n != 60 && n != 600 => {
                    cx.error_at(
                        DiagnosticCode::InvalidValue,
                        "network.flow_logs.max_aggregation_interval",
                        format!("a flow log aggregates over 60 or 600 seconds, not {n}"),
                        "use `60` or `600`",
                    );
                    defaults::FLOW_LOG_AGGREGATION_SECONDS
                }
                Some(n) => n,
                None => defaults::FLOW_LOG_AGGREGATION_SECONDS,
            },
        };
        f.finish(cx);
        enabled.then_some(logs)
    };

    let mut sg = t.table(cx, "default_security_group");
    let default_security_group = DefaultSecurityGroup {
        name: sg
            .str(cx, "name")
            .unwrap_or_else(|| defaults::DEFAULT_SG_NAME.to_string()),
        allow_internal: sg.bool(cx, "allow_internal").unwrap_or(true),
        allow_all_egress: sg.bool(cx, "allow_all_egress").unwrap_or(true),
    };
    sg.finish(cx);
    t.finish(cx);
    Network {
        name,
        cidr,
        private_subnets,
        public_subnets,
        nat,
        dns_hostnames,
        dns_support,
        endpoints,
        flow_logs,
        default_security_group,
    }
}

/// The region's first three zones (the reference uses a, b and c; not every region has them).
fn default_zones(region: &str) -> Vec<String> {
    let mut zones = crate::regions::zones(region);
    if zones.is_empty() {
        zones = ["a", "b", "c"]
            .iter()
            .map(|l| format!("{region}{l}"))
            .collect();
    }
    zones.truncate(3);
    zones
}

fn subnets(t: &mut Table<'_, '_>, cx: &mut Cx, key: &str, default: Vec<Subnet>) -> Vec<Subnet> {
    let Some(tables) = t.table_array(cx, key) else {
        return default;
    };
    let mut out = Vec::new();
    for mut s in tables {
        let az = s.str(cx, "az");
        let cidr = s
            .str(cx, "cidr")
            .and_then(|c| parse_cidr(cx, &format!("{}.cidr", s.path), &c));
        for (required, present) in [("az", az.is_some()), ("cidr", cidr.is_some())] {
            if !present && !s.has(required) {
                cx.error_at(
                    DiagnosticCode::MissingKey,
                    &s.path,
                    format!("`{}` needs `{required}`", s.path),
                    "each subnet is `{ az = \"eu-west-1a\", cidr = \"10.0.1.0/24\" }`",
                );
            }
        }
        s.finish(cx);
        if az.is_none() || cidr.is_none() {
            // The subnet is left out; zone and overlap rules would misjudge what remains.
            cx.poison(&s.path);
        }
        if let (Some(az), Some(cidr)) = (az, cidr) {
            out.push(Subnet { az, cidr });
        }
    }
    out
}

/// Parses an IPv4 CIDR block, rejecting host bits (`10.0.1.5/24`) with the block meant.
pub(crate) fn parse_cidr(cx: &mut Cx, path: &str, text: &str) -> Option<Ipv4Net> {
    match text.parse::<Ipv4Net>() {
        Ok(net) if net.addr() == net.network() => Some(net),
        Ok(net) => {
            cx.poison(path);
            cx.error_at(
                DiagnosticCode::Network,
                path,
                format!("`{text}` has host bits set"),
                format!("did you mean `{}`?", net.trunc()),
            );
            None
        }
        Err(_) => {
            cx.poison(path);
            cx.error_at(
                DiagnosticCode::Network,
                path,
                format!("`{text}` is not an IPv4 CIDR block"),
                "write an address and a prefix length, e.g. `10.0.0.0/16`",
            );
            None
        }
    }
}
