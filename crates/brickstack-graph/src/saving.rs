//! What sleeping saves: the billable objects of the `sleep` selection, counted by what AWS charges
//! per hour for them, at the region's prices (`brickstack_spec::prices`, the spec's
//! `[sleep.hourly_prices]` over the built-in table).

use std::fmt::Write as _;

use brickstack_spec::Spec;
use brickstack_spec::prices::{self, HourlyPrices};

use crate::address::Address;
use crate::graph::ResourceGraph;
use crate::value::Value;

/// One kind of charge: how many units the selection has and what one costs an hour.
#[derive(Debug, Clone, PartialEq)]
pub struct SavingLine {
    /// The `[sleep.hourly_prices]` key that prices it.
    pub price_key: &'static str,
    pub units: usize,
    /// USD per unit and hour.
    pub unit_price: f64,
}

impl SavingLine {
    /// USD per hour.
    pub fn per_hour(&self) -> f64 {
        self.units as f64 * self.unit_price
    }

    fn label(&self) -> &'static str {
        match self.price_key {
            prices::NAT_GATEWAY => "NAT gateway",
            prices::PUBLIC_IPV4 => "public IPv4 address (Elastic IP)",
            prices::INTERFACE_ENDPOINT => "interface endpoint, per AZ",
            prices::GATEWAY_ENDPOINT => "gateway endpoint",
            _ => "other",
        }
    }
}

/// The hourly saving of a sleeping selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Saving {
    pub region: String,
    /// Charges with at least one unit, in the order of [`prices::KEYS`].
    pub lines: Vec<SavingLine>,
    /// Whether the built-in table has the region (otherwise only the spec's prices count).
    pub region_listed: bool,
    /// The `[sleep.hourly_prices]` keys the spec set.
    pub overridden: Vec<String>,
}

impl Saving {
    /// USD per hour.
    pub fn per_hour(&self) -> f64 {
        self.lines.iter().map(SavingLine::per_hour).sum()
    }

    /// The summary `brickstack sleep` prints.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let per_hour = self.per_hour();
        let _ = writeln!(
            out,
            "Asleep, this saves about ${per_hour:.4} an hour (${:.2} a day) in {}:",
            per_hour * 24.0,
            self.region
        );
        for line in &self.lines {
            let _ = writeln!(
                out,
                "  {:>2} × {:<34} at ${:.4} = ${:.4}",
                line.units,
                line.label(),
                line.unit_price,
                line.per_hour()
            );
        }
        let source = if self.region_listed {
            format!("brickstack's table for {}", self.region)
        } else {
            format!(
                "only the spec's (brickstack's table has no {})",
                self.region
            )
        };
        let overridden = if self.overridden.is_empty() {
            String::new()
        } else {
            format!(
                ", {} from the spec's `[sleep.hourly_prices]`",
                self.overridden
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            out,
            "Prices (USD, docs/spec.md): {source}{overridden}; per-GB data processing is not counted."
        );
        out
    }
}

/// The hourly saving of putting `addresses` (the `sleep` selection) to sleep: NAT gateways,
/// their public IPv4 addresses, interface endpoints once per subnet (an endpoint is billed per
/// Availability Zone it is in), gateway endpoints; routes cost nothing.
pub fn hourly_saving(spec: &Spec, graph: &ResourceGraph, addresses: &[Address]) -> Saving {
    let region = &spec.environment.region;
    let (unit_prices, region_listed) = HourlyPrices::for_region(region, &spec.sleep.hourly_prices);
    let mut units = [0usize; prices::KEYS.len()];
    let mut count = |key: &str, n: usize| {
        if let Some(i) = prices::KEYS.iter().position(|k| *k == key) {
            units[i] += n;
        }
    };
    for resource in addresses.iter().filter_map(|a| graph.get(a)) {
        match resource.kind() {
            "aws_nat_gateway" => count(prices::NAT_GATEWAY, 1),
            "aws_eip" => count(prices::PUBLIC_IPV4, 1),
            "aws_vpc_endpoint" => {
                let gateway = matches!(
                    resource.attributes.get("vpc_endpoint_type"),
                    Some(Value::Str(t)) if t == "Gateway"
                );
                if gateway {
                    count(prices::GATEWAY_ENDPOINT, 1);
                } else {
                    let zones = match resource.attributes.get("subnet_ids") {
                        Some(Value::List(subnets)) => subnets.len(),
                        _ => 1,
                    };
                    count(prices::INTERFACE_ENDPOINT, zones.max(1));
                }
            }
            _ => {}
        }
    }
    let lines = prices::KEYS
        .iter()
        .zip(units)
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| SavingLine {
            price_key: key,
            units: n,
            unit_price: unit_prices.get(key).unwrap_or_default(),
        })
        .collect();
    Saving {
        region: region.clone(),
        lines,
        region_listed,
        overridden: spec
            .sleep
            .hourly_prices
            .iter()
            .map(|(k, _)| k.clone())
            .collect(),
    }
}
