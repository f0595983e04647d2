//! The `sleep` selection as `brickstack sleep` uses it: closed under dependents (nothing that
//! stays awake needs what sleeps), and its hourly saving at the region's prices.

use brickstack_graph::saving::hourly_saving;
use brickstack_graph::selections;
use brickstack_spec::Spec;

const MINIMAL: &str = r#"
[environment]
name = "reference"
prefix = "cm-vpc"

[databricks.account]
account_id = "0d26daa6-5e44-4c97-a497-ef015f91254a"
"#;

fn spec(text: &str) -> Spec {
    brickstack_spec::parse("test.toml", text).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

fn environment(name: &str) -> Spec {
    let path = format!(
        "{}/../../environments/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    brickstack_spec::parse(&path, &text).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

/// `(units, unit price)` per price key, and the hourly total.
fn check(spec: &Spec) -> (Vec<(&'static str, usize, f64)>, f64) {
    let graph = brickstack_graph::generate(spec).unwrap();
    let picked = selections::select("sleep", spec, &graph).unwrap();
    let saving = hourly_saving(spec, &graph, &picked);
    let lines = saving
        .lines
        .iter()
        .map(|l| (l.price_key, l.units, l.unit_price))
        .collect();
    (lines, (saving.per_hour() * 1e6).round() / 1e6)
}

#[test]
fn nothing_outside_the_sleep_selection_depends_on_it() {
    let per_az = spec(&format!(
        "{MINIMAL}
[network]
nat = \"per_az\"
[[network.public_subnets]]
az = \"eu-west-1a\"
cidr = \"10.0.101.0/24\"
[[network.public_subnets]]
az = \"eu-west-1b\"
cidr = \"10.0.102.0/24\"
[[network.public_subnets]]
az = \"eu-west-1c\"
cidr = \"10.0.103.0/24\"
[sleep]
s3_gateway_endpoint = true
"
    ));
    for spec in [environment("reference"), environment("local"), per_az] {
        let graph = brickstack_graph::generate(&spec).unwrap();
        let picked = selections::select("sleep", &spec, &graph).unwrap();
        assert!(!picked.is_empty());
        for address in &picked {
            for dependent in graph.dependents(address) {
                assert!(
                    picked.contains(dependent),
                    "{}: `{dependent}` depends on `{address}`, which sleeps, but stays awake",
                    spec.environment.name
                );
            }
        }
    }
}

#[test]
fn the_reference_saves_a_nat_gateway_its_address_and_six_endpoint_zones() {
    // One NAT gateway, its Elastic IP, STS and Kinesis endpoints in three private subnets each,
    // at eu-west-1's prices: 0.048 + 0.005 + 6 × 0.011.
    let (lines, total) = check(&environment("reference"));
    assert_eq!(
        lines,
        [
            ("nat_gateway", 1, 0.048),
            ("public_ipv4", 1, 0.005),
            ("interface_endpoint", 6, 0.011),
        ]
    );
    assert_eq!(total, 0.119);
}

#[test]
fn a_nat_gateway_per_zone_counts_each_gateway_and_address() {
    let (lines, total) = check(&spec(&format!(
        "{MINIMAL}
[network]
nat = \"per_az\"
[[network.public_subnets]]
az = \"eu-west-1a\"
cidr = \"10.0.101.0/24\"
[[network.public_subnets]]
az = \"eu-west-1b\"
cidr = \"10.0.102.0/24\"
[[network.public_subnets]]
az = \"eu-west-1c\"
cidr = \"10.0.103.0/24\"
[sleep]
interface_endpoints = false
"
    )));
    assert_eq!(
        lines,
        [("nat_gateway", 3, 0.048), ("public_ipv4", 3, 0.005)]
    );
    assert_eq!(total, 0.159);
}

#[test]
fn the_specs_prices_override_the_table_and_the_s3_gateway_endpoint_is_free() {
    let (lines, total) = check(&spec(&format!(
        "{MINIMAL}
[sleep]
s3_gateway_endpoint = true
[sleep.hourly_prices]
nat_gateway = \"0.1\"
interface_endpoint = \"0.02\"
"
    )));
    assert_eq!(
        lines,
        [
            ("nat_gateway", 1, 0.1),
            ("public_ipv4", 1, 0.005),
            ("interface_endpoint", 6, 0.02),
            ("gateway_endpoint", 1, 0.0),
        ]
    );
    assert_eq!(total, 0.225);
}

#[test]
fn nothing_to_sleep_saves_nothing() {
    let (lines, total) = check(&spec(&format!(
        "{MINIMAL}
[sleep]
nat = false
interface_endpoints = false
"
    )));
    assert!(lines.is_empty());
    assert_eq!(total, 0.0);
}

#[test]
fn summary_text() {
    let spec = spec(&format!(
        "{MINIMAL}
[sleep.hourly_prices]
nat_gateway = \"0.05\"
"
    ));
    let graph = brickstack_graph::generate(&spec).unwrap();
    let picked = selections::select("sleep", &spec, &graph).unwrap();
    insta::assert_snapshot!(hourly_saving(&spec, &graph, &picked).text());
}
