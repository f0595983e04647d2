//! Named selections: the parts of a graph the routine partial runs touch.
//!
//! `sleep` is what `brickstack sleep` destroys overnight (NAT gateways, their EIPs and routes, the
//! interface endpoints, and the S3 gateway endpoint only if the spec says so); `tokens` is what
//! `brickstack rotate-tokens` recreates. Computed here, from the spec and the graph, so the
//! commands and `--select` agree on one definition. `person` is one person's single-user cluster.

use std::collections::BTreeSet;

use brickstack_spec::Spec;

use crate::address::Address;
use crate::graph::ResourceGraph;

/// The names `--select` accepts.
pub const NAMES: [&str; 2] = ["sleep", "tokens"];

/// The addresses of a named selection, sorted; `None` for an unknown name.
pub fn select(name: &str, spec: &Spec, graph: &ResourceGraph) -> Option<Vec<Address>> {
    let picked: Vec<Address> = match name {
        "sleep" => graph
            .resources()
            .filter(|r| match r.kind() {
                "aws_nat_gateway" | "aws_eip" => spec.sleep.nat,
                "aws_route" => spec.sleep.nat && r.attributes.contains_key("nat_gateway_id"),
                "aws_vpc_endpoint" => match r
                    .attributes
                    .get("vpc_endpoint_type")
                    .and_then(|v| v.as_str())
                {
                    Some("Gateway") => spec.sleep.s3_gateway_endpoint,
                    _ => spec.sleep.interface_endpoints,
                },
                _ => false,
            })
            .map(|r| r.address.clone())
            .collect(),
        "tokens" => graph
            .resources()
            .filter(|r| matches!(r.kind(), "databricks_token" | "databricks_obo_token"))
            .map(|r| r.address.clone())
            .collect(),
        _ => return None,
    };
    Some(picked)
}

/// One person's single-user cluster: their six addresses (`docs/access.md`), what
/// `brickstack access grant` and the access service apply for them; empty if `graph` gives the
/// person none (generate it with them among [`crate::RunInputs::people`]).
pub fn person(graph: &ResourceGraph, email: &str) -> BTreeSet<Address> {
    crate::components::access::addresses_of(graph, email)
}
