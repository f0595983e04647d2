//! The network kinds (issue #4) against moto: per kind, create → read returns exactly the
//! desired attributes → update → delete → read is none; `find` by brickstack's tags; a batched
//! read over two objects that leaves a missing one out.
//!
//! moto gives every account a default VPC with subnets, a route table and a gateway-less main
//! table: every check here goes by id or by tag, never "all of them".

use std::collections::BTreeMap;

use brickstack_aws::AwsProvider;
use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, Observed, Provider, ProviderError,
};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use serde_json::{Value, json};

use crate::support::{MotoAccount, moto_account};

struct Network {
    moto: MotoAccount,
    provider: AwsProvider,
    environment: String,
}

impl Network {
    async fn new(test_name: &str) -> Option<Network> {
        let moto = moto_account(test_name).await?;
        let provider = AwsProvider::new(&moto.clients);
        Some(Network {
            moto,
            provider,
            environment: unique_name("net"),
        })
    }

    /// brickstack's tags for `address`, plus a `Name`.
    fn tags(&self, address: &str, name: &str) -> Value {
        json!({
            "Name": name,
            "brickstack:address": address,
            "brickstack:environment": self.environment,
        })
    }

    fn lookup(&self, address: &str) -> ObjectLookup {
        ObjectLookup {
            name: None,
            tags: BTreeMap::from([
                ("brickstack:address".to_string(), address.to_string()),
                (
                    "brickstack:environment".to_string(),
                    self.environment.clone(),
                ),
            ]),
            scope: None,
        }
    }

    fn availability_zone(&self, letter: &str) -> String {
        let region = self
            .moto
            .clients
            .ec2
            .config()
            .region()
            .expect("the test clients have a region")
            .to_string();
        format!("{region}{letter}")
    }

    async fn create(&self, kind: &str, address: &str, desired: &Value) -> Observed {
        let request = CreateRequest {
            address: address.to_string(),
            kind: kind.to_string(),
            attributes: attributes(desired.clone()),
            lookup: self.lookup(address),
        };
        must(
            &format!("create {address}"),
            self.provider.create(&request).await,
        )
    }

    async fn read(&self, kind: &str, object_id: &str) -> Option<Observed> {
        must(
            &format!("read {kind} `{object_id}`"),
            self.provider.read(kind, object_id).await,
        )
    }

    async fn vpc(&self, name: &str, cidr_block: &str) -> String {
        let address = format!("aws_vpc.{name}");
        let desired = json!({
            "cidr_block": cidr_block,
            "enable_dns_hostnames": true,
            "enable_dns_support": true,
            "instance_tenancy": "default",
            "tags": self.tags(&address, name),
        });
        self.create("aws_vpc", &address, &desired).await.object_id
    }

    /// Create (read equals what create returned and the desired attributes exactly, computed
    /// ones aside) → found by its tags (if it takes tags) → update (if given) → delete → read is none → delete
    /// again succeeds.
    async fn lifecycle(&self, kind: &str, name: &str, desired: Value, updated: Option<Value>) {
        let address = format!("{kind}.{name}");
        let desired_tagged = desired.get("tags").is_some();
        let created = self.create(kind, &address, &desired).await;
        let id = created.object_id.clone();
        let observed = self
            .read(kind, &id)
            .await
            .unwrap_or_else(|| panic!("{address} `{id}` reads as missing right after create"));
        assert_eq!(observed, created, "{address}: read differs from create");
        assert_eq!(
            without_computed(&self.provider, kind, &observed),
            attributes(desired),
            "{address}: read is not exactly the desired attributes"
        );

        // A kind that takes no tags (routes, associations) is not found by them.
        if desired_tagged {
            self.assert_found_by_tags(kind, &address, &observed).await;
        }

        if let Some(updated) = updated {
            let returned = must(
                &format!("update {address}"),
                self.provider
                    .update(kind, &id, &attributes(updated.clone()))
                    .await,
            );
            let observed = self
                .read(kind, &id)
                .await
                .unwrap_or_else(|| panic!("{address} `{id}` reads as missing after update"));
            assert_eq!(observed, returned, "{address}: read differs from update");
            assert_eq!(
                without_computed(&self.provider, kind, &observed),
                attributes(updated),
                "{address}: read after update is not exactly the updated attributes"
            );
        }

        must(
            &format!("delete {address}"),
            self.provider.delete(kind, &id).await,
        );
        assert_eq!(
            self.read(kind, &id).await,
            None,
            "{address} reads after delete"
        );
        must(
            &format!("delete {address} again"),
            self.provider.delete(kind, &id).await,
        );
    }

    /// `find` by brickstack's tags returns `observed`, and nothing for another environment.
    async fn assert_found_by_tags(&self, kind: &str, address: &str, observed: &Observed) {
        let found = must(
            &format!("find {address}"),
            self.provider.find(kind, &self.lookup(address)).await,
        );
        assert_eq!(found.as_ref(), Some(observed), "{address}: find by tags");
        let elsewhere = must(
            &format!("find {address} in another environment"),
            self.provider
                .find(
                    kind,
                    &ObjectLookup {
                        name: None,
                        tags: BTreeMap::from([
                            ("brickstack:address".to_string(), address.to_string()),
                            ("brickstack:environment".to_string(), "other".to_string()),
                        ]),
                        scope: None,
                    },
                )
                .await,
        );
        assert_eq!(elsewhere, None, "{address}: found in another environment");
    }

    /// Two objects in one batched read, equal to what create returned, with one `describe` call;
    /// a missing id is left out.
    async fn read_many_two(
        &self,
        kind: &str,
        describe: &str,
        (first, second): (&Value, &Value),
        missing: &str,
    ) {
        let a = self.create(kind, &format!("{kind}.a"), first).await;
        let b = self.create(kind, &format!("{kind}.b"), second).await;
        let ids = vec![
            a.object_id.clone(),
            b.object_id.clone(),
            missing.to_string(),
        ];
        let before = self.provider.calls().snapshot();
        let found = must(
            &format!("read_many {kind}"),
            self.provider.read_many(kind, &ids).await,
        );
        let after = self.provider.calls().snapshot();
        let count = |calls: &BTreeMap<String, u64>| calls.get(describe).copied().unwrap_or(0);
        assert_eq!(
            count(&after) - count(&before),
            1,
            "{kind}: read_many is one `{describe}`; calls before {before:?}, after {after:?}"
        );
        let expected = BTreeMap::from([(a.object_id.clone(), a), (b.object_id.clone(), b)]);
        assert_eq!(found, expected, "{kind}: read_many");
    }
}

fn attributes(value: Value) -> Attributes {
    match value {
        Value::Object(map) => map,
        other => panic!("attributes must be an object, not {other}"),
    }
}

/// `observed`'s attributes less those `kind`'s schema marks computed (ids, ARNs, addresses).
fn without_computed(provider: &AwsProvider, kind: &str, observed: &Observed) -> Attributes {
    let schema = provider.schema(kind).expect("a supported kind");
    let mut attributes = observed.attributes.clone();
    attributes.retain(|name, _| schema.behaviour(name) != AttributeBehaviour::Computed);
    attributes
}

fn must<T>(what: &str, result: Result<T, ProviderError>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

// --- aws_vpc -------------------------------------------------------------------------------

#[tokio::test]
async fn vpc_lifecycle_reads_back_dns_settings_and_updates_them_in_place() {
    let Some(n) = Network::new("vpc_lifecycle").await else {
        return;
    };
    let desired = json!({
        "cidr_block": "10.0.0.0/16",
        "enable_dns_hostnames": true,
        "enable_dns_support": true,
        "instance_tenancy": "default",
        "tags": n.tags("aws_vpc.main", "main"),
    });
    let updated = json!({
        "cidr_block": "10.0.0.0/16",
        "enable_dns_hostnames": false,
        "enable_dns_support": false,
        "instance_tenancy": "default",
        "tags": n.tags("aws_vpc.main", "renamed"),
    });
    n.lifecycle("aws_vpc", "main", desired, Some(updated)).await;
}

#[tokio::test]
async fn vpc_read_many_is_one_describe_for_two_vpcs() {
    let Some(n) = Network::new("vpc_read_many").await else {
        return;
    };
    let vpc = |cidr: &str, name: &str| {
        json!({
            "cidr_block": cidr,
            "enable_dns_hostnames": false,
            "enable_dns_support": true,
            "instance_tenancy": "default",
            "tags": n.tags(&format!("aws_vpc.{name}"), name),
        })
    };
    n.read_many_two(
        "aws_vpc",
        "ec2:DescribeVpcs",
        (&vpc("10.1.0.0/16", "a"), &vpc("10.2.0.0/16", "b")),
        "vpc-00000000000000000",
    )
    .await;
}

// --- aws_subnet ----------------------------------------------------------------------------

#[tokio::test]
async fn subnet_lifecycle_updates_map_public_ip_on_launch_in_place() {
    let Some(n) = Network::new("subnet_lifecycle").await else {
        return;
    };
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let subnet = |public: bool, name: &str| {
        json!({
            "vpc_id": vpc_id,
            "cidr_block": "10.0.101.0/24",
            "availability_zone": n.availability_zone("a"),
            "map_public_ip_on_launch": public,
            "tags": n.tags("aws_subnet.public", name),
        })
    };
    n.lifecycle(
        "aws_subnet",
        "public",
        subnet(true, "public"),
        Some(subnet(false, "no-longer-public")),
    )
    .await;
}

#[tokio::test]
async fn subnet_read_many_is_one_describe_for_two_subnets() {
    let Some(n) = Network::new("subnet_read_many").await else {
        return;
    };
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let subnet = |cidr: &str, az: &str, name: &str| {
        json!({
            "vpc_id": vpc_id,
            "cidr_block": cidr,
            "availability_zone": n.availability_zone(az),
            "map_public_ip_on_launch": false,
            "tags": n.tags(&format!("aws_subnet.{name}"), name),
        })
    };
    n.read_many_two(
        "aws_subnet",
        "ec2:DescribeSubnets",
        (
            &subnet("10.0.1.0/24", "a", "a"),
            &subnet("10.0.2.0/24", "b", "b"),
        ),
        "subnet-00000000000000000",
    )
    .await;
}

// --- aws_internet_gateway ------------------------------------------------------------------

#[tokio::test]
async fn internet_gateway_lifecycle_attaches_moves_and_detaches_on_delete() {
    let Some(n) = Network::new("internet_gateway_lifecycle").await else {
        return;
    };
    let first = n.vpc("first", "10.0.0.0/16").await;
    let second = n.vpc("second", "10.1.0.0/16").await;
    let gateway = |vpc_id: &str| {
        json!({
            "vpc_id": vpc_id,
            "tags": n.tags("aws_internet_gateway.main", "main"),
        })
    };
    n.lifecycle(
        "aws_internet_gateway",
        "main",
        gateway(&first),
        Some(gateway(&second)),
    )
    .await;
    // Detached on delete: the VPC it was attached to can go.
    must(
        "delete the VPC the gateway was attached to",
        n.provider.delete("aws_vpc", &second).await,
    );
}

#[tokio::test]
async fn internet_gateway_read_many_is_one_describe_for_two_gateways() {
    let Some(n) = Network::new("internet_gateway_read_many").await else {
        return;
    };
    let first = n.vpc("first", "10.0.0.0/16").await;
    let second = n.vpc("second", "10.1.0.0/16").await;
    n.read_many_two(
        "aws_internet_gateway",
        "ec2:DescribeInternetGateways",
        (
            &json!({ "vpc_id": first, "tags": n.tags("aws_internet_gateway.a", "a") }),
            &json!({ "vpc_id": second, "tags": n.tags("aws_internet_gateway.b", "b") }),
        ),
        "igw-00000000000000000",
    )
    .await;
}

// --- aws_route_table -----------------------------------------------------------------------

#[tokio::test]
async fn route_table_lifecycle_reports_no_routes_and_retags_in_place() {
    let Some(n) = Network::new("route_table_lifecycle").await else {
        return;
    };
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let table = |name: &str| {
        json!({
            "vpc_id": vpc_id,
            "tags": n.tags("aws_route_table.private", name),
        })
    };
    n.lifecycle(
        "aws_route_table",
        "private",
        table("private"),
        Some(table("private-renamed")),
    )
    .await;
}

#[tokio::test]
async fn route_table_read_many_is_one_describe_for_two_tables() {
    let Some(n) = Network::new("route_table_read_many").await else {
        return;
    };
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    n.read_many_two(
        "aws_route_table",
        "ec2:DescribeRouteTables",
        (
            &json!({ "vpc_id": vpc_id, "tags": n.tags("aws_route_table.a", "a") }),
            &json!({ "vpc_id": vpc_id, "tags": n.tags("aws_route_table.b", "b") }),
        ),
        "rtb-00000000000000000",
    )
    .await;
}

// --- aws_route and aws_route_table_association ---------------------------------------------

/// A VPC with an internet gateway and a route table, for routes and associations.
async fn routed_vpc(n: &Network) -> (String, String, String) {
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let gateway = json!({
        "vpc_id": vpc_id,
        "tags": n.tags("aws_internet_gateway.main", "main"),
    });
    let gateway_id = n
        .create(
            "aws_internet_gateway",
            "aws_internet_gateway.main",
            &gateway,
        )
        .await
        .object_id;
    let table = json!({ "vpc_id": vpc_id, "tags": n.tags("aws_route_table.public", "public") });
    let table_id = n
        .create("aws_route_table", "aws_route_table.public", &table)
        .await
        .object_id;
    (vpc_id, gateway_id, table_id)
}

#[tokio::test]
async fn route_lifecycle_is_identified_by_table_and_destination() {
    let Some(n) = Network::new("route_lifecycle").await else {
        return;
    };
    let (_, gateway_id, table_id) = routed_vpc(&n).await;
    let desired = json!({
        "route_table_id": table_id,
        "destination_cidr_block": "0.0.0.0/0",
        "gateway_id": gateway_id,
    });
    let created = n
        .create("aws_route", "aws_route.public-internet", &desired)
        .await;
    assert_eq!(created.object_id, format!("{table_id}_0.0.0.0/0"));
    must(
        "delete the route",
        n.provider.delete("aws_route", &created.object_id).await,
    );
    n.lifecycle("aws_route", "public-internet", desired, None)
        .await;
    // The table still reads without routes.
    let table = n
        .read("aws_route_table", &table_id)
        .await
        .expect("the table");
    assert!(!table.attributes.contains_key("routes"), "{table:?}");
}

#[tokio::test]
async fn a_route_or_an_association_sent_again_is_the_one_that_is_there() {
    // Neither takes tags: a create sent again after its answer was lost is refused
    // (`RouteAlreadyExists`, `Resource.AlreadyAssociated`) and returns what the first made.
    let Some(n) = Network::new("route_sent_again").await else {
        return;
    };
    let (vpc_id, gateway_id, table_id) = routed_vpc(&n).await;
    let route = json!({
        "route_table_id": table_id,
        "destination_cidr_block": "0.0.0.0/0",
        "gateway_id": gateway_id,
    });
    let first = n.create("aws_route", "aws_route.public", &route).await;
    let again = n.create("aws_route", "aws_route.public", &route).await;
    assert_eq!(again, first);

    let subnet = json!({
        "vpc_id": vpc_id,
        "cidr_block": "10.0.1.0/24",
        "availability_zone": n.availability_zone("a"),
        "map_public_ip_on_launch": false,
        "tags": n.tags("aws_subnet.a", "a"),
    });
    let subnet_id = n
        .create("aws_subnet", "aws_subnet.a", &subnet)
        .await
        .object_id;
    let association = json!({ "subnet_id": subnet_id, "route_table_id": table_id });
    let first = n
        .create(
            "aws_route_table_association",
            "aws_route_table_association.a",
            &association,
        )
        .await;
    let again = n
        .create(
            "aws_route_table_association",
            "aws_route_table_association.a",
            &association,
        )
        .await;
    assert_eq!(again, first);
}

#[tokio::test]
async fn route_read_many_is_one_describe_for_routes_of_two_tables() {
    let Some(n) = Network::new("route_read_many").await else {
        return;
    };
    let (vpc_id, gateway_id, table_id) = routed_vpc(&n).await;
    let other = json!({ "vpc_id": vpc_id, "tags": n.tags("aws_route_table.other", "other") });
    let other_id = n
        .create("aws_route_table", "aws_route_table.other", &other)
        .await
        .object_id;
    let route = |table: &str, cidr: &str| {
        json!({
            "route_table_id": table,
            "destination_cidr_block": cidr,
            "gateway_id": gateway_id,
        })
    };
    n.read_many_two(
        "aws_route",
        "ec2:DescribeRouteTables",
        (
            &route(&table_id, "0.0.0.0/0"),
            &route(&other_id, "192.168.0.0/16"),
        ),
        &format!("{table_id}_172.16.0.0/12"),
    )
    .await;
}

#[tokio::test]
async fn route_table_association_lifecycle_and_batched_read() {
    let Some(n) = Network::new("route_table_association").await else {
        return;
    };
    let (vpc_id, _, table_id) = routed_vpc(&n).await;
    let subnet = |cidr: &str, name: &str| {
        json!({
            "vpc_id": vpc_id,
            "cidr_block": cidr,
            "availability_zone": n.availability_zone("a"),
            "map_public_ip_on_launch": false,
            "tags": n.tags(&format!("aws_subnet.{name}"), name),
        })
    };
    let a = n
        .create("aws_subnet", "aws_subnet.a", &subnet("10.0.1.0/24", "a"))
        .await
        .object_id;
    let b = n
        .create("aws_subnet", "aws_subnet.b", &subnet("10.0.2.0/24", "b"))
        .await
        .object_id;
    let association =
        |subnet_id: &str| json!({ "subnet_id": subnet_id, "route_table_id": table_id });
    n.lifecycle(
        "aws_route_table_association",
        "a",
        association(&a),
        Some(association(&a)),
    )
    .await;
    n.read_many_two(
        "aws_route_table_association",
        "ec2:DescribeRouteTables",
        (&association(&a), &association(&b)),
        "rtbassoc-00000000000000000",
    )
    .await;
}

// --- aws_eip and aws_nat_gateway -----------------------------------------------------------

fn eip(n: &Network, name: &str) -> Value {
    json!({ "domain": "vpc", "tags": n.tags(&format!("aws_eip.{name}"), name) })
}

#[tokio::test]
async fn eip_lifecycle_retags_in_place_and_reads_many_in_one_describe() {
    let Some(n) = Network::new("eip_lifecycle").await else {
        return;
    };
    let mut renamed = eip(&n, "nat");
    renamed["tags"]["Name"] = json!("renamed");
    n.lifecycle("aws_eip", "nat", eip(&n, "nat"), Some(renamed))
        .await;
    n.read_many_two(
        "aws_eip",
        "ec2:DescribeAddresses",
        (&eip(&n, "a"), &eip(&n, "b")),
        "eipalloc-00000000000000000",
    )
    .await;
}

/// A public subnet of a VPC with an internet gateway, and an Elastic IP: what a NAT gateway needs.
async fn nat_ready(n: &Network, name: &str, cidr: &str) -> (String, String, String) {
    let vpc_id = n.vpc(name, cidr).await;
    let gateway = json!({
        "vpc_id": vpc_id,
        "tags": n.tags(&format!("aws_internet_gateway.{name}"), name),
    });
    n.create(
        "aws_internet_gateway",
        &format!("aws_internet_gateway.{name}"),
        &gateway,
    )
    .await;
    let subnet = json!({
        "vpc_id": vpc_id,
        "cidr_block": cidr.replace(".0.0/16", ".101.0/24"),
        "availability_zone": n.availability_zone("c"),
        "map_public_ip_on_launch": true,
        "tags": n.tags(&format!("aws_subnet.{name}"), name),
    });
    let subnet_id = n
        .create("aws_subnet", &format!("aws_subnet.{name}"), &subnet)
        .await
        .object_id;
    let allocation_id = n
        .create("aws_eip", &format!("aws_eip.{name}"), &eip(n, name))
        .await
        .object_id;
    (vpc_id, subnet_id, allocation_id)
}

fn nat(n: &Network, name: &str, subnet_id: &str, allocation_id: &str) -> Value {
    json!({
        "allocation_id": allocation_id,
        "subnet_id": subnet_id,
        "connectivity_type": "public",
        "tags": n.tags(&format!("aws_nat_gateway.{name}"), name),
    })
}

#[tokio::test]
async fn nat_gateway_lifecycle_waits_and_frees_its_address_on_delete() {
    let Some(n) = Network::new("nat_gateway_lifecycle").await else {
        return;
    };
    let (_, subnet_id, allocation_id) = nat_ready(&n, "main", "10.0.0.0/16").await;
    let mut renamed = nat(&n, "main", &subnet_id, &allocation_id);
    renamed["tags"]["Name"] = json!("renamed");
    n.lifecycle(
        "aws_nat_gateway",
        "main",
        nat(&n, "main", &subnet_id, &allocation_id),
        Some(renamed),
    )
    .await;
    must(
        "release the address the deleted gateway used",
        n.provider.delete("aws_eip", &allocation_id).await,
    );
    assert_eq!(n.read("aws_eip", &allocation_id).await, None);
}

#[tokio::test]
async fn nat_gateway_read_many_is_one_describe_and_a_route_moves_to_it() {
    let Some(n) = Network::new("nat_gateway_read_many").await else {
        return;
    };
    let (vpc_id, subnet_a, eip_a) = nat_ready(&n, "a", "10.0.0.0/16").await;
    let (_, subnet_b, eip_b) = nat_ready(&n, "b", "10.1.0.0/16").await;
    n.read_many_two(
        "aws_nat_gateway",
        "ec2:DescribeNatGateways",
        (
            &nat(&n, "a", &subnet_a, &eip_a),
            &nat(&n, "b", &subnet_b, &eip_b),
        ),
        "nat-00000000000000000",
    )
    .await;

    // A route updated in place from the internet gateway to the NAT gateway (`ReplaceRoute`).
    let gateway = must(
        "find the internet gateway",
        n.provider
            .find("aws_internet_gateway", &n.lookup("aws_internet_gateway.a"))
            .await,
    )
    .expect("the internet gateway");
    let nat_a = must(
        "find the NAT gateway",
        n.provider
            .find("aws_nat_gateway", &n.lookup("aws_nat_gateway.a"))
            .await,
    )
    .expect("the NAT gateway");
    let table = json!({ "vpc_id": vpc_id, "tags": n.tags("aws_route_table.private", "private") });
    let table_id = n
        .create("aws_route_table", "aws_route_table.private", &table)
        .await
        .object_id;
    n.lifecycle(
        "aws_route",
        "private-nat",
        json!({
            "route_table_id": table_id,
            "destination_cidr_block": "0.0.0.0/0",
            "gateway_id": gateway.object_id,
        }),
        Some(json!({
            "route_table_id": table_id,
            "destination_cidr_block": "0.0.0.0/0",
            "nat_gateway_id": nat_a.object_id,
        })),
    )
    .await;
}

// --- aws_default_security_group ------------------------------------------------------------

fn default_group(n: &Network, vpc_id: &str, name: &str, egress_cidr: &str) -> Value {
    json!({
        "vpc_id": vpc_id,
        "ingress": [{
            "description": "Allow all internal TCP and UDP",
            "protocol": "-1",
            "from_port": 0,
            "to_port": 0,
            "self": true,
        }],
        "egress": [{
            "protocol": "-1",
            "from_port": 0,
            "to_port": 0,
            "cidr_blocks": [egress_cidr],
        }],
        "tags": n.tags(&format!("aws_default_security_group.{name}"), name),
    })
}

#[tokio::test]
async fn default_security_group_is_adopted_converged_and_stripped_on_delete() {
    let Some(n) = Network::new("default_security_group").await else {
        return;
    };
    let kind = "aws_default_security_group";
    let address = "aws_default_security_group.main";
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let desired = default_group(&n, &vpc_id, "main", "0.0.0.0/0");
    let created = n.create(kind, address, &desired).await;
    let group_id = created.object_id.clone();
    let observed = n.read(kind, &group_id).await.expect("the default group");
    assert_eq!(observed, created, "read differs from create");
    assert_eq!(
        without_computed(&n.provider, kind, &observed),
        attributes(desired.clone())
    );
    n.assert_found_by_tags(kind, address, &observed).await;
    // Adopting again (a retried create) changes nothing.
    assert_eq!(n.create(kind, address, &desired).await, observed);

    let mut updated = default_group(&n, &vpc_id, "main", "10.0.0.0/8");
    updated["ingress"] = json!([]);
    updated["egress"][0]["description"] = json!("Only the private range");
    let returned = must(
        "update the default group",
        n.provider
            .update(kind, &group_id, &attributes(updated.clone()))
            .await,
    );
    assert_eq!(n.read(kind, &group_id).await.as_ref(), Some(&returned));
    let mut expected = attributes(updated);
    expected.remove("ingress"); // an empty list is left out, as the generator leaves it out
    assert_eq!(without_computed(&n.provider, kind, &returned), expected);

    must("delete", n.provider.delete(kind, &group_id).await);
    let stripped = n.read(kind, &group_id).await.expect("the group stays");
    assert_eq!(
        without_computed(&n.provider, kind, &stripped),
        attributes(json!({ "vpc_id": vpc_id })),
        "delete leaves the group with no rules and none of brickstack's tags"
    );
    must("delete again", n.provider.delete(kind, &group_id).await);
}

#[tokio::test]
async fn default_security_group_read_many_is_one_describe() {
    let Some(n) = Network::new("default_security_group_read_many").await else {
        return;
    };
    let first = n.vpc("first", "10.0.0.0/16").await;
    let second = n.vpc("second", "10.1.0.0/16").await;
    n.read_many_two(
        "aws_default_security_group",
        "ec2:DescribeSecurityGroups",
        (
            &default_group(&n, &first, "a", "0.0.0.0/0"),
            &default_group(&n, &second, "b", "0.0.0.0/0"),
        ),
        "sg-00000000000000000",
    )
    .await;
}

// --- aws_vpc_endpoint ----------------------------------------------------------------------

/// A VPC with two private subnets and two route tables: `(vpc, [subnets], [tables])`.
async fn endpoint_ready(n: &Network) -> (String, Vec<String>, Vec<String>) {
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let mut subnets = Vec::new();
    for (letter, cidr) in [("a", "10.0.1.0/24"), ("b", "10.0.2.0/24")] {
        let address = format!("aws_subnet.private-{letter}");
        let subnet = json!({
            "vpc_id": vpc_id,
            "cidr_block": cidr,
            "availability_zone": n.availability_zone(letter),
            "map_public_ip_on_launch": false,
            "tags": n.tags(&address, letter),
        });
        subnets.push(n.create("aws_subnet", &address, &subnet).await.object_id);
    }
    let mut tables = Vec::new();
    for name in ["private", "public"] {
        let address = format!("aws_route_table.{name}");
        let table = json!({ "vpc_id": vpc_id, "tags": n.tags(&address, name) });
        tables.push(
            n.create("aws_route_table", &address, &table)
                .await
                .object_id,
        );
    }
    (vpc_id, subnets, tables)
}

fn service(n: &Network, name: &str) -> String {
    let region = n.moto.clients.ec2.config().region().map(|r| r.to_string());
    format!("com.amazonaws.{}.{name}", region.expect("a region"))
}

#[tokio::test]
async fn vpc_endpoint_gateway_lifecycle_drops_a_route_table_in_place() {
    let Some(n) = Network::new("vpc_endpoint_gateway").await else {
        return;
    };
    let (vpc_id, _, tables) = endpoint_ready(&n).await;
    let endpoint = |tables: &[String]| {
        json!({
            "vpc_id": vpc_id,
            "service_name": service(&n, "s3"),
            "vpc_endpoint_type": "Gateway",
            "route_table_ids": tables,
            "tags": n.tags("aws_vpc_endpoint.s3", "s3"),
        })
    };
    // Removing a table, not adding one: moto adds no route for an added table, then fails the
    // delete on the missing route.
    let mut both = tables.clone();
    both.sort();
    n.lifecycle(
        "aws_vpc_endpoint",
        "s3",
        endpoint(&both),
        Some(endpoint(&tables[..1])),
    )
    .await;
}

#[tokio::test]
async fn vpc_endpoint_interface_lifecycle_adds_a_subnet_and_retags_in_place() {
    let Some(n) = Network::new("vpc_endpoint_interface").await else {
        return;
    };
    let (vpc_id, subnets, _) = endpoint_ready(&n).await;
    let group = n
        .create(
            "aws_default_security_group",
            "aws_default_security_group.main",
            &default_group(&n, &vpc_id, "main", "0.0.0.0/0"),
        )
        .await
        .object_id;
    let endpoint = |subnets: &[String], name: &str| {
        json!({
            "vpc_id": vpc_id,
            "service_name": service(&n, "sts"),
            "vpc_endpoint_type": "Interface",
            "subnet_ids": subnets,
            "security_group_ids": [group],
            "private_dns_enabled": true,
            "tags": n.tags("aws_vpc_endpoint.sts", name),
        })
    };
    let mut both = subnets.clone();
    both.sort();
    n.lifecycle(
        "aws_vpc_endpoint",
        "sts",
        endpoint(&subnets[..1], "sts"),
        Some(endpoint(&both, "sts-renamed")),
    )
    .await;
}

#[tokio::test]
async fn vpc_endpoint_id_lists_are_sets_to_the_planner() {
    let Some(n) = Network::new("vpc_endpoint_sets").await else {
        return;
    };
    let schema = n.provider.schema("aws_vpc_endpoint").expect("served");
    let (a, b) = (json!(["rtb-2", "rtb-1"]), json!(["rtb-1", "rtb-2"]));
    for name in ["route_table_ids", "subnet_ids", "security_group_ids"] {
        assert!(
            schema.same_value(name, &a, &b),
            "{name} is compared as a set"
        );
    }
}

#[tokio::test]
async fn vpc_endpoint_read_many_is_one_describe_and_leaves_a_missing_one_out() {
    let Some(n) = Network::new("vpc_endpoint_read_many").await else {
        return;
    };
    let (vpc_id, _, tables) = endpoint_ready(&n).await;
    let endpoint = |name: &str, table: &str| {
        json!({
            "vpc_id": vpc_id,
            "service_name": service(&n, name),
            "vpc_endpoint_type": "Gateway",
            "route_table_ids": [table],
            "tags": n.tags(&format!("aws_vpc_endpoint.{name}"), name),
        })
    };
    let kind = "aws_vpc_endpoint";
    let s3 = n
        .create(kind, "aws_vpc_endpoint.s3", &endpoint("s3", &tables[0]))
        .await;
    let dynamodb = n
        .create(
            kind,
            "aws_vpc_endpoint.dynamodb",
            &endpoint("dynamodb", &tables[1]),
        )
        .await;
    let ids = vec![s3.object_id.clone(), dynamodb.object_id.clone()];
    let before = n.provider.calls().snapshot();
    let found = must("read_many", n.provider.read_many(kind, &ids).await);
    let after = n.provider.calls().snapshot();
    let describes =
        |calls: &BTreeMap<String, u64>| calls.get("ec2:DescribeVpcEndpoints").copied().unwrap_or(0);
    assert_eq!(describes(&after) - describes(&before), 1, "{after:?}");
    let expected = BTreeMap::from([
        (s3.object_id.clone(), s3.clone()),
        (dynamodb.object_id.clone(), dynamodb),
    ]);
    assert_eq!(found, expected);

    // One id gone: AWS fails the whole call, so the others are read alone.
    let mut with_missing = ids.clone();
    with_missing.push("vpce-00000000000000000".to_string());
    let found = must("read_many", n.provider.read_many(kind, &with_missing).await);
    assert_eq!(found, expected);
}

// --- aws_flow_log --------------------------------------------------------------------------

#[tokio::test]
async fn flow_log_lifecycle_to_s3_retags_in_place() {
    let Some(n) = Network::new("flow_log").await else {
        return;
    };
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let bucket = unique_name("flow-logs");
    crate::support::ok(
        "s3:CreateBucket",
        n.moto
            .clients
            .s3
            .create_bucket()
            .bucket(&bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(
                        n.moto
                            .clients
                            .s3
                            .config()
                            .region()
                            .map(|r| r.as_ref())
                            .unwrap_or("eu-west-1")
                            .into(),
                    )
                    .build(),
            )
            .send()
            .await,
    );
    let flow_log = |name: &str| {
        json!({
            "vpc_id": vpc_id,
            "traffic_type": "ALL",
            "log_destination": format!("arn:aws:s3:::{bucket}"),
            "log_destination_type": "s3",
            "log_format": "${subnet-id} ${interface-id} ${srcaddr} ${dstaddr}",
            "max_aggregation_interval": 60,
            "tags": n.tags("aws_flow_log.main", name),
        })
    };
    n.lifecycle(
        "aws_flow_log",
        "main",
        flow_log("main"),
        Some(flow_log("renamed")),
    )
    .await;
}

#[tokio::test]
async fn flow_log_to_a_missing_bucket_is_an_error_naming_the_destination() {
    let Some(n) = Network::new("flow_log_missing_bucket").await else {
        return;
    };
    let vpc_id = n.vpc("main", "10.0.0.0/16").await;
    let request = CreateRequest {
        address: "aws_flow_log.main".to_string(),
        kind: "aws_flow_log".to_string(),
        attributes: attributes(json!({
            "vpc_id": vpc_id,
            "log_destination": "arn:aws:s3:::brickstack-no-such-bucket",
        })),
        lookup: n.lookup("aws_flow_log.main"),
    };
    let error = n
        .provider
        .create(&request)
        .await
        .expect_err("no bucket, no flow log");
    assert!(
        error.message.contains("brickstack-no-such-bucket"),
        "{error}"
    );
}
