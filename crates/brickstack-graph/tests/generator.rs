//! Generator tests: a spec in, the graph (or a component of it) as text out.

use brickstack_graph::{Address, Resources, Value, kinds, render};
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

/// The resources of the given kinds, with attributes and dependencies, as text.
fn check(spec_text: &str, kinds: &[&str]) -> String {
    let graph = brickstack_graph::generate(&spec(spec_text)).unwrap();
    let mut out = String::new();
    for resource in graph.resources() {
        if !kinds.iter().any(|k| resource.kind() == *k) {
            continue;
        }
        out.push_str(&format!("{}\n", resource.address));
        for (name, value) in &resource.attributes {
            out.push_str(&format!("    {name} = {value}\n"));
        }
        for dependency in graph.dependencies(&resource.address) {
            out.push_str(&format!("    <- {dependency}\n"));
        }
    }
    out
}

#[test]
fn network_single_nat() {
    insta::assert_snapshot!(check(
        MINIMAL,
        &[
            "aws_vpc",
            "aws_subnet",
            "aws_internet_gateway",
            "aws_eip",
            "aws_nat_gateway",
            "aws_route_table",
            "aws_route",
            "aws_route_table_association",
            "aws_default_security_group",
            "aws_flow_log",
            "aws_vpc_endpoint",
        ]
    ));
}

#[test]
fn network_nat_per_az_gives_each_zone_its_gateway_and_route_table() {
    let text = format!(
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
"
    );
    insta::assert_snapshot!(check(
        &text,
        &[
            "aws_nat_gateway",
            "aws_route",
            "aws_route_table_association"
        ]
    ));
}

#[test]
fn network_without_nat_has_no_default_route_for_private_subnets() {
    let text = format!("{MINIMAL}\n[network]\nnat = \"none\"\n");
    let out = check(&text, &["aws_route", "aws_nat_gateway", "aws_eip"]);
    insta::assert_snapshot!(out);
    assert!(!out.contains("nat_gateway_id"));
}

#[test]
fn kms_keys_and_aliases() {
    insta::assert_snapshot!(check(MINIMAL, &["aws_kms_key", "aws_kms_alias"]));
}

#[test]
fn kms_key_policies_grant_the_account_root_never_a_wildcard_principal() {
    let graph = brickstack_graph::generate(&spec(MINIMAL)).unwrap();
    for key in graph.resources().filter(|r| r.kind() == "aws_kms_key") {
        let policy = &key.attributes["policy"];
        let json = serde_json::to_string(policy).unwrap();
        assert!(
            !json.contains(r#""AWS":"*""#),
            "{} grants AWS *: {json}",
            key.address
        );
        assert!(
            !json.contains(r#""Principal":"*""#),
            "{} grants *: {json}",
            key.address
        );
        assert!(
            policy.to_string().contains("${account_id}"),
            "{} lacks the account root",
            key.address
        );
    }
}

#[test]
fn buckets() {
    insta::assert_snapshot!(check(
        MINIMAL,
        &[
            "aws_s3_bucket",
            "aws_s3_bucket_versioning",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_policy",
            "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_logging",
        ]
    ));
}

#[test]
fn every_bucket_denies_insecure_transport_and_logging_buckets_have_lifecycle() {
    let graph = brickstack_graph::generate(&spec(MINIMAL)).unwrap();
    let buckets: Vec<_> = graph
        .resources()
        .filter(|r| r.kind() == "aws_s3_bucket")
        .collect();
    assert_eq!(buckets.len(), 6);
    for bucket in buckets {
        let name = &bucket.address.name;
        let policy = graph
            .get(&Address::new("aws_s3_bucket_policy", name))
            .unwrap_or_else(|| panic!("bucket {name} has no policy"));
        assert!(
            policy.attributes["policy"]
                .to_string()
                .contains("DenyInsecureTransport")
        );
    }
    for name in ["access_logs", "databricks_logs"] {
        assert!(
            graph
                .get(&Address::new("aws_s3_bucket_lifecycle_configuration", name))
                .is_some()
        );
    }
}

#[test]
fn iam() {
    insta::assert_snapshot!(check(
        MINIMAL,
        &[
            "aws_iam_role",
            "aws_iam_role_policy",
            "aws_iam_policy",
            "aws_iam_role_policy_attachment",
            "aws_iam_instance_profile"
        ]
    ));
}

#[test]
fn data_roles_cover_every_datalake_layer() {
    let text = format!(
        "{MINIMAL}\n[datalake.layers.raw]\n[datalake.layers.curated]\n[datalake.layers.sandbox]\n"
    );
    let graph = brickstack_graph::generate(&spec(&text)).unwrap();
    for policy in ["data_read", "data_write"] {
        let doc = graph
            .get(&Address::new("aws_iam_policy", policy))
            .unwrap()
            .attributes["policy"]
            .to_string();
        for layer in ["raw", "curated", "sandbox"] {
            assert!(
                doc.contains(&format!("aws_s3_bucket.{layer}.arn")),
                "{policy} misses {layer}: {doc}"
            );
        }
    }
}

#[test]
fn databricks() {
    let kinds: Vec<&str> = kinds::of_family(kinds::Family::Databricks).collect();
    insta::assert_snapshot!(check(MINIMAL, &kinds));
}

#[test]
fn groups_get_their_data_roles_through_a_resource_not_a_script() {
    let graph = brickstack_graph::generate(&spec(MINIMAL)).unwrap();
    let read = graph
        .get(&Address::new("databricks_group_role", "read_only"))
        .unwrap();
    assert_eq!(
        read.attributes["role"].to_string(),
        "aws_iam_role.data_read.arn"
    );
    let write = graph
        .get(&Address::new("databricks_group_role", "all_access"))
        .unwrap();
    assert_eq!(
        write.attributes["role"].to_string(),
        "aws_iam_role.data_write.arn"
    );
}

#[test]
fn workspace_objects_depend_on_the_workspace() {
    let graph = brickstack_graph::generate(&spec(MINIMAL)).unwrap();
    let workspace = Address::new("databricks_mws_workspaces", "main");
    for resource in graph
        .resources()
        .filter(|r| r.attributes.contains_key("workspace_url"))
    {
        assert!(
            graph.dependencies(&resource.address).contains(&workspace),
            "{} does not depend on the workspace",
            resource.address
        );
    }
}

#[test]
fn every_taggable_object_carries_environment_and_address_tags() {
    for env in ["reference", "dev", "prod", "local"] {
        let spec = environment(env);
        for graph in [
            brickstack_graph::generate(&spec).unwrap(),
            brickstack_graph::bootstrap(&spec).unwrap(),
        ] {
            for resource in graph.resources() {
                let attribute = match kinds::tagging(resource.kind())
                    .expect("every emitted kind is catalogued")
                {
                    kinds::Tagging::Tags => "tags",
                    kinds::Tagging::CustomTags => "custom_tags",
                    kinds::Tagging::None => continue,
                };
                let tags = resource.attributes[attribute].as_map().unwrap();
                assert_eq!(
                    tags["brickstack:environment"],
                    Value::from(spec.environment.name.as_str())
                );
                assert_eq!(
                    tags["brickstack:address"],
                    Value::from(resource.address.to_string())
                );
            }
        }
    }
}

#[test]
fn reference_graph_as_text() {
    let graph = brickstack_graph::generate(&environment("reference")).unwrap();
    insta::assert_snapshot!(render::text(&graph, false));
}

#[test]
fn reference_graph_holds_the_whole_inventory() {
    let graph = brickstack_graph::generate(&environment("reference")).unwrap();
    assert!(graph.len() >= 85, "only {} resources", graph.len());
    let counts = graph.kind_counts();
    // Every AWS and Databricks type of the seed inventory (its curl/null/local/time hacks excepted).
    for kind in [
        "aws_kms_key",
        "aws_kms_alias",
        "aws_s3_bucket",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_policy",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_policy",
        "aws_iam_role_policy_attachment",
        "aws_iam_instance_profile",
        "aws_vpc",
        "aws_default_security_group",
        "aws_internet_gateway",
        "aws_subnet",
        "aws_eip",
        "aws_nat_gateway",
        "aws_route_table",
        "aws_route",
        "aws_route_table_association",
        "aws_flow_log",
        "aws_vpc_endpoint",
        "databricks_mws_credentials",
        "databricks_mws_storage_configurations",
        "databricks_mws_networks",
        "databricks_mws_workspaces",
        "databricks_mws_customer_managed_keys",
        "databricks_mws_log_delivery",
        "databricks_service_principal",
        "databricks_group_member",
        "databricks_permissions",
        "databricks_token",
        "databricks_obo_token",
        "databricks_group",
        "databricks_dbfs_file",
        "databricks_global_init_script",
        "databricks_instance_profile",
        "databricks_group_instance_profile",
        "databricks_cluster",
    ] {
        assert!(
            counts.contains_key(kind),
            "the reference graph has no {kind}"
        );
    }
    for hack in ["null_resource", "local_file", "time_sleep"] {
        assert!(!counts.contains_key(hack));
    }
    assert_eq!(counts["aws_subnet"], 4);
    assert_eq!(counts["aws_s3_bucket"], 6);
    assert_eq!(counts["aws_iam_role"], 5);
    assert_eq!(counts["aws_vpc_endpoint"], 3);
}

#[test]
fn the_environments_together_emit_every_catalogued_kind() {
    let mut seen = std::collections::BTreeSet::new();
    for env in ["reference", "dev", "prod", "local"] {
        let spec = environment(env);
        for graph in [
            brickstack_graph::generate(&spec).unwrap(),
            brickstack_graph::bootstrap(&spec).unwrap(),
        ] {
            seen.extend(graph.kind_counts().keys().map(|k| k.to_string()));
        }
    }
    // Single-user clusters need Slack webhooks the shipped environments do not have; their
    // kinds are exercised by `tests/specs/every_option.toml` and `tests/access.rs` instead.
    let access_only = [
        "databricks_user",
        "databricks_cluster_libraries",
        "databricks_cluster_shutdown",
        "brickstack_slack_message",
    ];
    let missing: Vec<_> = kinds::REGISTRY
        .iter()
        .map(|k| k.name)
        .filter(|k| !seen.contains(*k) && !access_only.contains(k))
        .collect();
    assert!(missing.is_empty(), "no environment exercises {missing:?}");
}

#[test]
fn bootstrap_graph() {
    let graph = brickstack_graph::bootstrap(&environment("reference")).unwrap();
    insta::assert_snapshot!(render::text(&graph, true));
}

#[test]
fn json_is_sorted_and_stable() {
    let spec = environment("reference");
    let first = render::json(&brickstack_graph::generate(&spec).unwrap());
    let second = render::json(&brickstack_graph::generate(&spec).unwrap());
    assert_eq!(first, second);
    let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    let addresses: Vec<&str> = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    let mut sorted = addresses.clone();
    sorted.sort();
    assert_eq!(addresses, sorted);
}

#[test]
fn creation_order_puts_dependencies_first() {
    let graph = brickstack_graph::generate(&environment("reference")).unwrap();
    let order: Vec<&Address> = graph.creation_order().iter().map(|r| &r.address).collect();
    assert_eq!(order.len(), graph.len());
    for (i, address) in order.iter().enumerate() {
        for dependency in graph.dependencies(address) {
            let j = order.iter().position(|a| *a == dependency).unwrap();
            assert!(j < i, "{address} comes before its dependency {dependency}");
        }
    }
}

#[test]
fn a_cycle_is_rejected_naming_its_members_in_order() {
    let spec = spec(MINIMAL);
    let mut resources = Resources::default();
    let a = Address::new("aws_iam_role", "a");
    let b = Address::new("aws_iam_role", "b");
    let c = Address::new("aws_iam_role", "c");
    resources.add(
        "aws_iam_role",
        "a",
        brickstack_graph::map! { "x" => brickstack_graph::reference(&b, "arn") },
    );
    resources.add(
        "aws_iam_role",
        "b",
        brickstack_graph::map! { "x" => brickstack_graph::reference(&c, "arn") },
    );
    resources.add(
        "aws_iam_role",
        "c",
        brickstack_graph::map! { "x" => brickstack_graph::reference(&a, "arn") },
    );
    let err = brickstack_graph::build(&spec, resources).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dependency cycle: aws_iam_role.a -> aws_iam_role.c -> aws_iam_role.b -> aws_iam_role.a"
    );
}

#[test]
fn a_reference_to_a_missing_resource_is_rejected_naming_both() {
    let spec = spec(MINIMAL);
    let mut resources = Resources::default();
    let ghost = Address::new("aws_vpc", "ghost");
    resources.add(
        "aws_subnet",
        "a",
        brickstack_graph::map! { "vpc_id" => brickstack_graph::reference(&ghost, "id") },
    );
    let err = brickstack_graph::build(&spec, resources).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`aws_subnet.a` refers to `aws_vpc.ghost`, which the graph does not contain"
    );
}

#[test]
fn the_sleep_selection_is_nat_eips_nat_routes_and_interface_endpoints() {
    let graph = brickstack_graph::generate(&environment("reference")).unwrap();
    let picked: Vec<String> =
        brickstack_graph::selections::select("sleep", &environment("reference"), &graph)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
    assert_eq!(
        picked,
        [
            "aws_eip.nat-eu-west-1c",
            "aws_nat_gateway.eu-west-1c",
            "aws_route.private-nat",
            "aws_vpc_endpoint.kinesis-streams",
            "aws_vpc_endpoint.sts",
        ]
    );
    let with_s3 = spec(&format!("{MINIMAL}\n[sleep]\ns3_gateway_endpoint = true\n"));
    let graph = brickstack_graph::generate(&with_s3).unwrap();
    let picked = brickstack_graph::selections::select("sleep", &with_s3, &graph).unwrap();
    assert!(picked.contains(&Address::new("aws_vpc_endpoint", "s3")));
}

#[test]
fn the_token_selection_is_the_tokens() {
    let spec = environment("reference");
    let graph = brickstack_graph::generate(&spec).unwrap();
    let picked: Vec<String> = brickstack_graph::selections::select("tokens", &spec, &graph)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        picked,
        ["databricks_obo_token.deployer", "databricks_token.deployer"]
    );
    assert!(brickstack_graph::selections::select("nap", &spec, &graph).is_none());
}

/// The spec with every option on (`tests/specs/every_option.toml`): the generator's widest output.
fn every_option() -> Spec {
    let path = format!(
        "{}/../../tests/specs/every_option.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    brickstack_spec::parse(&path, &text).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

#[test]
fn every_kind_a_spec_can_produce_is_registered() {
    let spec = every_option();
    let mut emitted = std::collections::BTreeSet::new();
    for graph in [
        brickstack_graph::generate(&spec).unwrap(),
        brickstack_graph::bootstrap(&spec).unwrap(),
    ] {
        emitted.extend(graph.kind_counts().keys().map(|k| k.to_string()));
    }
    let unregistered: Vec<_> = emitted
        .iter()
        .filter(|k| kinds::kind(k).is_none())
        .collect();
    assert!(
        unregistered.is_empty(),
        "emitted but not in the kind registry: {unregistered:?}"
    );
    // And the spec really turns everything on: every registered kind comes out of it, so a
    // new option's kind cannot escape this test by being off here.
    let not_emitted: Vec<_> = kinds::REGISTRY
        .iter()
        .map(|k| k.name)
        .filter(|k| !emitted.contains(*k))
        .collect();
    assert!(
        not_emitted.is_empty(),
        "tests/specs/every_option.toml does not turn on {not_emitted:?}"
    );
}

#[test]
fn the_registry_names_each_kind_once_with_its_family_prefix() {
    let mut seen = std::collections::BTreeSet::new();
    for kind in kinds::REGISTRY {
        assert!(seen.insert(kind.name), "{} is registered twice", kind.name);
        let prefix = match kind.family {
            kinds::Family::Aws => "aws_",
            kinds::Family::Databricks => "databricks_",
            kinds::Family::Notify => "brickstack_",
        };
        assert!(kind.name.starts_with(prefix), "{kind:?}");
    }
}

#[test]
fn a_key_outlives_every_bucket_and_token_parameter_it_encrypts() {
    let spec = every_option();
    for graph in [
        brickstack_graph::generate(&spec).unwrap(),
        brickstack_graph::bootstrap(&spec).unwrap(),
    ] {
        let mut checked = 0;
        for resource in graph.resources() {
            // The key each object's data is encrypted under.
            let key = match resource.kind() {
                "aws_s3_bucket" => {
                    let sse = Address::new(
                        "aws_s3_bucket_server_side_encryption_configuration",
                        &resource.address.name,
                    );
                    let by_spec = spec
                        .buckets
                        .all
                        .iter()
                        .find(|b| b.key == resource.address.name)
                        .map(|b| Address::new("aws_kms_key", &b.kms_key));
                    by_spec.or_else(|| {
                        graph
                            .dependencies(&sse)
                            .into_iter()
                            .find(|d| d.kind == "aws_kms_key")
                            .cloned()
                    })
                }
                "databricks_token" | "databricks_obo_token" => {
                    resource.attributes["value_parameter_kms_key_id"]
                        .references()
                        .into_iter()
                        .map(|r| r.address.clone())
                        .next()
                }
                _ => continue,
            };
            let key = key.unwrap_or_else(|| panic!("{} has no key", resource.address));
            assert!(
                graph.dependencies(&resource.address).contains(&&key),
                "{} does not depend on {key}: the key could be scheduled for deletion first",
                resource.address
            );
            checked += 1;
        }
        assert!(checked > 0);
    }
}

#[test]
fn access_logging_waits_for_the_policy_that_lets_s3_write_the_logs() {
    let graph = brickstack_graph::generate(&every_option()).unwrap();
    let logging: Vec<_> = graph
        .resources()
        .filter(|r| r.kind() == "aws_s3_bucket_logging")
        .collect();
    assert_eq!(logging.len(), 6, "every bucket but access_logs logs");
    for resource in logging {
        assert!(
            graph
                .dependencies(&resource.address)
                .contains(&&Address::new("aws_s3_bucket_policy", "access_logs")),
            "{}",
            resource.address
        );
    }
}

/// The local environment's Unity Catalog part: every resource of the UC component, the
/// metastore's bucket with its hardening, and the catalog role, as text.
#[test]
fn unity_catalog() {
    let graph = brickstack_graph::generate(&environment("local")).unwrap();
    let uc_kinds = [
        "databricks_account_group",
        "databricks_mws_permission_assignment",
        "databricks_metastore",
        "databricks_metastore_assignment",
        "databricks_storage_credential",
        "databricks_external_location",
        "databricks_catalog",
        "databricks_schema",
        "databricks_grants",
        "databricks_system_schema",
    ];
    let mut out = String::new();
    for resource in graph.resources() {
        let a = &resource.address;
        let wanted = uc_kinds.contains(&a.kind.as_str())
            || (a.kind.starts_with("aws_s3_bucket") && a.name == "metastore")
            || (a.kind.starts_with("aws_iam_role") && a.name == "unity_catalog");
        if !wanted {
            continue;
        }
        out.push_str(&format!("{a}\n"));
        for (name, value) in &resource.attributes {
            out.push_str(&format!("    {name} = {value}\n"));
        }
        for dependency in graph.dependencies(a) {
            out.push_str(&format!("    <- {dependency}\n"));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn the_catalog_role_trusts_the_credential_which_names_it_without_a_reference() {
    let graph = brickstack_graph::generate(&environment("local")).unwrap();
    let credential = graph
        .get(&Address::new(
            "databricks_storage_credential",
            "unity_catalog",
        ))
        .unwrap();
    let role_arn = &credential.attributes["aws_iam_role"].as_map().unwrap()["role_arn"];
    assert!(
        role_arn.references().is_empty(),
        "the credential refers to the role: a cycle ({role_arn})"
    );
    let resolved = role_arn.resolve(&|_| None, &|_| Some("123456789012".to_string()));
    assert_eq!(
        resolved,
        Some(serde_json::json!(
            "arn:aws:iam::123456789012:role/bs-local-unity-catalog"
        ))
    );
    let role = graph
        .get(&Address::new("aws_iam_role", "unity_catalog"))
        .unwrap();
    let trust = role.attributes["assume_role_policy"].to_string();
    assert!(
        trust.contains("databricks_storage_credential.unity_catalog.external_id"),
        "{trust}"
    );
    assert!(
        trust.contains(brickstack_graph::components::unity_catalog::UC_MASTER_ROLE),
        "{trust}"
    );
    assert!(
        trust.contains(":role/bs-local-unity-catalog"),
        "self-assuming: {trust}"
    );
    // What needs the role to work comes after its policy.
    for location in graph
        .resources()
        .filter(|r| r.kind() == "databricks_external_location")
    {
        assert!(
            graph
                .dependencies(&location.address)
                .contains(&&Address::new("aws_iam_role_policy", "unity_catalog")),
            "{}",
            location.address
        );
        // Unity Catalog writes with the key the layer's bucket is encrypted with.
        let sse = Address::new(
            "aws_s3_bucket_server_side_encryption_configuration",
            &location.address.name,
        );
        let bucket_keys: Vec<_> = graph
            .dependencies(&sse)
            .into_iter()
            .filter(|a| a.kind == "aws_kms_key")
            .collect();
        assert_eq!(bucket_keys.len(), 1, "{sse}");
        let details = location.attributes["encryption_details"].to_string();
        assert!(
            details.contains("AWS_SSE_KMS") && details.contains(&format!("{}.arn", bucket_keys[0])),
            "{}: {details}",
            location.address
        );
        assert!(
            graph
                .dependencies(&location.address)
                .contains(&bucket_keys[0]),
            "{}",
            location.address
        );
    }
}

#[test]
fn the_metastore_bucket_is_hardened_like_the_datalake() {
    let graph = brickstack_graph::generate(&environment("local")).unwrap();
    for kind in [
        "aws_s3_bucket",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_policy",
    ] {
        assert!(
            graph.get(&Address::new(kind, "metastore")).is_some(),
            "the metastore bucket has no {kind}"
        );
    }
    let policy = graph
        .get(&Address::new("aws_s3_bucket_policy", "metastore"))
        .unwrap()
        .attributes["policy"]
        .to_string();
    assert!(policy.contains("DenyInsecureTransport"), "{policy}");
}

#[test]
fn without_unity_catalog_nothing_of_it_is_emitted() {
    let graph = brickstack_graph::generate(&spec(MINIMAL)).unwrap();
    let counts = graph.kind_counts();
    for kind in [
        "databricks_metastore",
        "databricks_account_group",
        "databricks_catalog",
    ] {
        assert!(!counts.contains_key(kind), "{kind}");
    }
    assert!(
        graph
            .get(&Address::new("aws_s3_bucket", "metastore"))
            .is_none()
    );
}

#[test]
fn every_option_unity_catalog_owner_and_catalog_without_storage() {
    let graph = brickstack_graph::generate(&every_option()).unwrap();
    let owner = |kind: &str, name: &str| {
        graph.get(&Address::new(kind, name)).unwrap().attributes["owner"].to_string()
    };
    for (kind, name) in [
        ("databricks_metastore", "this"),
        ("databricks_catalog", "raw"),
        ("databricks_schema", "raw_events"),
    ] {
        assert_eq!(
            owner(kind, name),
            "databricks_account_group.data_admins.display_name"
        );
    }
    let scratch = graph
        .get(&Address::new("databricks_catalog", "scratch"))
        .unwrap();
    assert!(!scratch.attributes.contains_key("storage_root"));
    // Auditors are not assigned to the workspace; analysts and admins are.
    assert!(
        graph
            .get(&Address::new(
                "databricks_mws_permission_assignment",
                "auditors"
            ))
            .is_none()
    );
    let admins = graph
        .get(&Address::new(
            "databricks_mws_permission_assignment",
            "data_admins",
        ))
        .unwrap();
    assert_eq!(admins.attributes["permissions"].to_string(), "[\"ADMIN\"]");
}
