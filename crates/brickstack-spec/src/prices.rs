//! Hourly prices, in USD, of what `brickstack sleep` removes: a static table per region, so the
//! saving is printed without a network call, and the spec's `[sleep] hourly_prices` over it.
//!
//! Source: AWS's on-demand list prices on the Amazon VPC pricing page (NAT gateway hour; the
//! public IPv4 address hour charged since 2024-02-01) and the AWS PrivateLink pricing page
//! (interface endpoint hour per Availability Zone), as of 2025. Gateway endpoints (S3, DynamoDB)
//! cost nothing. Data processing (per GB) is not counted: it is not saved by sleeping, only not
//! spent. AWS changes prices without notice, and this table is not fetched: a spec that needs exact
//! figures sets them in `[sleep.hourly_prices]`.

/// The `[sleep.hourly_prices]` keys, each the price of one unit for one hour.
pub const KEYS: [&str; 4] = [
    NAT_GATEWAY,
    PUBLIC_IPV4,
    INTERFACE_ENDPOINT,
    GATEWAY_ENDPOINT,
];

/// A NAT gateway, per gateway.
pub const NAT_GATEWAY: &str = "nat_gateway";
/// A public IPv4 address (the NAT gateway's Elastic IP), per address.
pub const PUBLIC_IPV4: &str = "public_ipv4";
/// An interface VPC endpoint, per endpoint and Availability Zone (one per subnet it is in).
pub const INTERFACE_ENDPOINT: &str = "interface_endpoint";
/// A gateway VPC endpoint (S3), per endpoint.
pub const GATEWAY_ENDPOINT: &str = "gateway_endpoint";

/// The public IPv4 address charge, the same in every region.
const PUBLIC_IPV4_PRICE: f64 = 0.005;

/// `(region, NAT gateway, interface endpoint per AZ)`, USD per hour.
const TABLE: &[(&str, f64, f64)] = &[
    ("us-east-1", 0.045, 0.010),
    ("us-east-2", 0.045, 0.010),
    ("us-west-1", 0.048, 0.011),
    ("us-west-2", 0.045, 0.010),
    ("ca-central-1", 0.050, 0.011),
    ("sa-east-1", 0.093, 0.015),
    ("eu-west-1", 0.048, 0.011),
    ("eu-west-2", 0.050, 0.011),
    ("eu-west-3", 0.050, 0.012),
    ("eu-central-1", 0.052, 0.012),
    ("eu-central-2", 0.057, 0.013),
    ("eu-north-1", 0.046, 0.011),
    ("eu-south-1", 0.050, 0.012),
    ("ap-south-1", 0.056, 0.011),
    ("ap-southeast-1", 0.059, 0.013),
    ("ap-southeast-2", 0.059, 0.013),
    ("ap-southeast-3", 0.059, 0.013),
    ("ap-northeast-1", 0.062, 0.014),
    ("ap-northeast-2", 0.059, 0.013),
    ("ap-northeast-3", 0.062, 0.014),
    ("me-central-1", 0.059, 0.013),
    ("af-south-1", 0.060, 0.013),
];

/// The hourly prices used for one environment, USD per unit and hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourlyPrices {
    pub nat_gateway: f64,
    pub public_ipv4: f64,
    pub interface_endpoint: f64,
    pub gateway_endpoint: f64,
}

impl HourlyPrices {
    /// The built-in table's prices for `region` (`None` for a region it does not have), with
    /// `overrides` (`[sleep.hourly_prices]`: key, decimal string) applied over them. A region the
    /// table lacks is priced only by its overrides, zero elsewhere.
    pub fn for_region(region: &str, overrides: &[(String, String)]) -> (HourlyPrices, bool) {
        let listed = TABLE.iter().find(|(r, _, _)| *r == region);
        let mut prices = HourlyPrices {
            nat_gateway: listed.map_or(0.0, |(_, nat, _)| *nat),
            public_ipv4: if listed.is_some() {
                PUBLIC_IPV4_PRICE
            } else {
                0.0
            },
            interface_endpoint: listed.map_or(0.0, |(_, _, endpoint)| *endpoint),
            gateway_endpoint: 0.0,
        };
        // The spec's decoder has refused unknown keys and values that are not prices.
        for (key, value) in overrides {
            let Ok(price) = value.parse::<f64>() else {
                continue;
            };
            match key.as_str() {
                NAT_GATEWAY => prices.nat_gateway = price,
                PUBLIC_IPV4 => prices.public_ipv4 = price,
                INTERFACE_ENDPOINT => prices.interface_endpoint = price,
                GATEWAY_ENDPOINT => prices.gateway_endpoint = price,
                _ => {}
            }
        }
        (prices, listed.is_some())
    }

    /// The price of one unit of `key` (one of [`KEYS`]).
    pub fn get(&self, key: &str) -> Option<f64> {
        match key {
            NAT_GATEWAY => Some(self.nat_gateway),
            PUBLIC_IPV4 => Some(self.public_ipv4),
            INTERFACE_ENDPOINT => Some(self.interface_endpoint),
            GATEWAY_ENDPOINT => Some(self.gateway_endpoint),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_databricks_runs_in_has_prices() {
        for region in crate::regions::region_names() {
            let (prices, listed) = HourlyPrices::for_region(region, &[]);
            assert!(listed, "{region} is missing from the price table");
            assert!(prices.nat_gateway > 0.0 && prices.interface_endpoint > 0.0);
            assert_eq!(prices.public_ipv4, 0.005);
            assert_eq!(prices.gateway_endpoint, 0.0);
        }
        assert_eq!(TABLE.len(), crate::regions::region_names().count());
    }

    #[test]
    fn docs_spec_md_shows_this_table() {
        let docs = include_str!("../../../docs/spec.md");
        let section = &docs[docs.find("#### Hourly prices").expect("the section")..];
        let mut documented = Vec::new();
        let rows = section
            .lines()
            .skip_while(|l| !l.starts_with("| Region"))
            .skip(2)
            .take_while(|l| l.starts_with('|'));
        for row in rows {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let (nat, endpoint): (f64, f64) =
                (cells[2].parse().unwrap(), cells[3].parse().unwrap());
            for region in cells[1].split(", ") {
                documented.push((region.to_string(), nat, endpoint));
            }
        }
        documented.sort_by(|a, b| a.0.cmp(&b.0));
        let mut table: Vec<(String, f64, f64)> = TABLE
            .iter()
            .map(|(r, n, e)| (r.to_string(), *n, *e))
            .collect();
        table.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(documented, table);
    }

    #[test]
    fn the_specs_prices_override_the_tables() {
        let (prices, _) = HourlyPrices::for_region(
            "eu-west-1",
            &[
                ("nat_gateway".into(), "0.05".into()),
                ("gateway_endpoint".into(), "0.001".into()),
            ],
        );
        assert_eq!(
            prices,
            HourlyPrices {
                nat_gateway: 0.05,
                public_ipv4: 0.005,
                interface_endpoint: 0.011,
                gateway_endpoint: 0.001,
            }
        );
    }

    #[test]
    fn a_region_the_table_lacks_is_priced_by_its_overrides_only() {
        let (prices, listed) =
            HourlyPrices::for_region("xx-nowhere-1", &[("nat_gateway".into(), "0.1".into())]);
        assert!(!listed);
        assert_eq!(prices.nat_gateway, 0.1);
        assert_eq!(prices.interface_endpoint, 0.0);
    }
}
