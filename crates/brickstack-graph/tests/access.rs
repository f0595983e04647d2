//! Single-user clusters (`docs/access.md`): people in, six resources each out, with stable
//! addresses, collision-free names and the order of the seed's steps.

use std::collections::BTreeSet;

use brickstack_graph::components::access;
use brickstack_graph::{
    Address, GraphError, Person, PersonSource, ResourceGraph, RunInputs, Value, selections,
};
use brickstack_spec::Spec;

const HEAD: &str = r#"
[environment]
name = "dev"
prefix = "acme-dev"

[databricks.account]
account_id = "0d26daa6-5e44-4c97-a497-ef015f91254a"

[databricks.cluster_policies.small]
definition = '{"autotermination_minutes": {"type": "fixed", "value": 30}}'
"#;

const SECTION: &str = r#"
[access.single_user_clusters]
users = ["ana.silva@example.com", "Bo.Lee@example.com", "zoe@example.com"]
removal_grace = "2d"

[access.single_user_clusters.cluster]
policy = "small"
instance_profile = true

[[access.single_user_clusters.libraries]]
pypi = "great-expectations==1.2.0"

[[access.single_user_clusters.libraries]]
maven = "com.amazon.deequ:deequ:2.0.7-spark-3.5"

[access.single_user_clusters.notifications]
user_webhook_parameter = "/brickstack/dev/slack/user-webhook"
alarms_webhook_parameter = "/brickstack/dev/slack/alarms-webhook"
"#;

fn spec(text: &str) -> Spec {
    brickstack_spec::parse("test.toml", text).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

fn three_people() -> Spec {
    spec(&format!("{HEAD}{SECTION}"))
}

/// The single-user resources of a graph, with attributes, grace and dependencies, as text.
fn check(graph: &ResourceGraph) -> String {
    let mut out = String::new();
    for resource in graph.resources() {
        if !access::KINDS.contains(&resource.kind()) || !resource.address.name.starts_with("su_") {
            continue;
        }
        out.push_str(&format!(
            "{} (removal grace {:?}s)\n",
            resource.address, resource.removal_grace_seconds
        ));
        for (name, value) in &resource.attributes {
            out.push_str(&format!("    {name} = {value}\n"));
        }
        for dependency in graph.dependencies(&resource.address) {
            out.push_str(&format!("    <- {dependency}\n"));
        }
    }
    out
}

fn person_addresses(graph: &ResourceGraph) -> BTreeSet<Address> {
    graph
        .resources()
        .filter(|r| r.address.name.starts_with("su_") && access::KINDS.contains(&r.kind()))
        .map(|r| r.address.clone())
        .collect()
}

#[test]
fn three_people_get_six_resources_each() {
    let graph = brickstack_graph::generate(&three_people()).unwrap();
    assert_eq!(person_addresses(&graph).len(), 18);
    insta::assert_snapshot!(check(&graph));
}

#[test]
fn the_steps_run_in_the_seeds_order() {
    let graph = brickstack_graph::generate(&three_people()).unwrap();
    let name = "su_ana_silva_example_com";
    let at = |kind: &str| Address::new(kind, name);
    let order: Vec<&Address> = graph.creation_order().iter().map(|r| &r.address).collect();
    let position = |kind: &str| order.iter().position(|a| **a == at(kind)).unwrap();
    let deps = |kind: &str| graph.dependencies(&at(kind));
    assert!(deps("databricks_cluster").contains(&at("databricks_user")));
    for kind in ["databricks_cluster_libraries", "databricks_permissions"] {
        assert!(deps(kind).contains(&at("databricks_cluster")), "{kind}");
    }
    let shutdown = deps("databricks_cluster_shutdown");
    assert!(shutdown.contains(&at("databricks_cluster_libraries")));
    assert!(shutdown.contains(&at("databricks_permissions")));
    assert!(deps("brickstack_slack_message").contains(&at("databricks_cluster_shutdown")));
    assert!(
        position("databricks_user") < position("databricks_cluster")
            && position("databricks_cluster") < position("databricks_cluster_libraries")
            && position("databricks_cluster_libraries") < position("databricks_cluster_shutdown")
            && position("databricks_permissions") < position("databricks_cluster_shutdown")
            && position("databricks_cluster_shutdown") < position("brickstack_slack_message")
    );
}

#[test]
fn the_cluster_is_tagged_with_its_person_and_brickstacks_tags() {
    let graph = brickstack_graph::generate(&three_people()).unwrap();
    let cluster = graph
        .get(&Address::new("databricks_cluster", "su_bo_lee_example_com"))
        .unwrap();
    let tags = cluster.attributes["custom_tags"].as_map().unwrap();
    assert_eq!(tags[access::PERSON_TAG], Value::from("bo.lee@example.com"));
    assert_eq!(tags["brickstack:environment"], Value::from("dev"));
    assert_eq!(
        tags["brickstack:address"],
        Value::from("databricks_cluster.su_bo_lee_example_com")
    );
    for kind in [
        "databricks_user",
        "databricks_cluster_libraries",
        "databricks_permissions",
        "databricks_cluster_shutdown",
        "brickstack_slack_message",
    ] {
        let r = graph
            .get(&Address::new(kind, "su_bo_lee_example_com"))
            .unwrap();
        assert!(
            !r.attributes.contains_key("custom_tags") && !r.attributes.contains_key("tags"),
            "{kind} takes no tags"
        );
    }
}

#[test]
fn the_message_names_the_person_the_cluster_and_how_to_start_it_and_no_secret() {
    let graph = brickstack_graph::generate(&three_people()).unwrap();
    let message = graph
        .get(&Address::new(
            "brickstack_slack_message",
            "su_ana_silva_example_com",
        ))
        .unwrap();
    let text = message.attributes["text"].to_string();
    for part in ["Ana Silva", "`ana_silva_su_cluster`", "is ready", "Start"] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    assert_eq!(
        message.attributes["webhook_parameter"],
        Value::from("/brickstack/dev/slack/user-webhook")
    );
    assert!(!text.contains("hooks.slack.com"));
}

#[test]
fn colliding_cluster_names_all_get_their_emails_hash_and_addresses_keep_their_keys() {
    let text = format!("{HEAD}{SECTION}").replace(
        r#"users = ["ana.silva@example.com", "Bo.Lee@example.com", "zoe@example.com"]"#,
        r#"users = ["ana.silva@example.com", "ana.silva@other.org", "ana_silva@example.com", "zoe@example.com"]"#,
    );
    let graph = brickstack_graph::generate(&spec(&text)).unwrap();
    let clusters: Vec<(String, String)> = graph
        .resources()
        .filter(|r| r.kind() == "databricks_cluster" && r.address.name.starts_with("su_"))
        .map(|r| {
            (
                r.address.name.clone(),
                r.attributes["cluster_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    insta::assert_debug_snapshot!(clusters);
    let names: BTreeSet<&str> = clusters.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names.len(), clusters.len(), "cluster names are unique");
    assert!(names.contains("zoe_su_cluster"), "no collision, no suffix");
}

#[test]
fn adding_one_person_adds_exactly_their_six_addresses_and_changes_nothing_else() {
    let spec = three_people();
    let before = brickstack_graph::generate(&spec).unwrap();
    let inputs = RunInputs {
        people: vec![Person::new(
            "Carla.Diaz@example.com",
            PersonSource::Group("pii-readers".into()),
        )],
    };
    let after = brickstack_graph::generate_with(&spec, &inputs).unwrap();
    let old: BTreeSet<Address> = before.resources().map(|r| r.address.clone()).collect();
    let new: BTreeSet<Address> = after.resources().map(|r| r.address.clone()).collect();
    let added: BTreeSet<String> = new.difference(&old).map(ToString::to_string).collect();
    assert!(old.is_subset(&new));
    assert_eq!(
        added,
        access::KINDS
            .iter()
            .map(|k| format!("{k}.su_carla_diaz_example_com"))
            .collect()
    );
    for resource in before.resources() {
        let now = after.get(&resource.address).unwrap();
        assert_eq!(
            serde_json::to_string(now).unwrap(),
            serde_json::to_string(resource).unwrap(),
            "{} changed",
            resource.address
        );
    }
    assert_eq!(
        selections::person(&after, "carla.diaz@example.com"),
        added.iter().map(|a| Address::parse(a).unwrap()).collect()
    );
}

#[test]
fn addresses_and_attributes_are_stable_whatever_order_the_people_come_in() {
    let spec = three_people();
    let people = |emails: &[&str]| RunInputs {
        people: emails
            .iter()
            .map(|e| Person::new(*e, PersonSource::Grant))
            .collect(),
    };
    let one = brickstack_graph::generate_with(&spec, &people(&["x.y@a.io", "x_y@a.io", "q@a.io"]))
        .unwrap();
    let two = brickstack_graph::generate_with(&spec, &people(&["q@a.io", "x_y@a.io", "x.y@a.io"]))
        .unwrap();
    assert_eq!(
        brickstack_graph::render::json(&one),
        brickstack_graph::render::json(&two)
    );
    assert_eq!(
        brickstack_graph::render::text(&one, true),
        brickstack_graph::render::text(&two, true)
    );
}

#[test]
fn a_person_from_several_sources_gets_one_cluster() {
    let spec = three_people();
    let inputs = RunInputs {
        people: vec![
            Person::new("ANA.SILVA@example.com", PersonSource::Grant),
            Person::new("ana.silva@example.com", PersonSource::Group("g".into())),
        ],
    };
    let graph = brickstack_graph::generate_with(&spec, &inputs).unwrap();
    assert_eq!(person_addresses(&graph).len(), 18);
}

#[test]
fn a_group_member_without_an_email_is_an_error_naming_its_source() {
    let inputs = RunInputs {
        people: vec![Person::new(
            "svc principal",
            PersonSource::AccountGroup("data-access".into()),
        )],
    };
    let err = brickstack_graph::generate_with(&three_people(), &inputs).unwrap_err();
    assert!(matches!(err, GraphError::InvalidPerson { .. }));
    assert_eq!(
        err.to_string(),
        "`svc principal` (from account group `data-access`) is not an e-mail address, so it cannot be given a single-user cluster"
    );
}

#[test]
fn without_the_section_nobody_gets_a_cluster() {
    let spec = spec(HEAD);
    let inputs = RunInputs {
        people: vec![Person::new("ana@example.com", PersonSource::Grant)],
    };
    let graph = brickstack_graph::generate_with(&spec, &inputs).unwrap();
    assert!(person_addresses(&graph).is_empty());
    assert!(selections::person(&graph, "ana@example.com").is_empty());
}

#[test]
fn an_address_maps_back_to_its_person_and_cluster() {
    let graph = brickstack_graph::generate(&three_people()).unwrap();
    let libraries = Address::new("databricks_cluster_libraries", "su_bo_lee_example_com");
    assert_eq!(
        access::person_of(&graph, &libraries),
        Some("bo.lee@example.com")
    );
    assert_eq!(
        access::cluster_name_of(&graph, "Bo.Lee@example.com"),
        Some("bo_lee_su_cluster")
    );
    assert_eq!(
        access::person_of(
            &graph,
            &Address::new("databricks_cluster", "high_concurrency")
        ),
        None
    );
    assert_eq!(
        access::person_of(
            &graph,
            &Address::new("databricks_permissions", "token_usage")
        ),
        None
    );
}

#[test]
fn the_selection_of_a_person_whose_key_collides_is_theirs_alone() {
    let text = format!("{HEAD}{SECTION}").replace(
        r#"users = ["ana.silva@example.com", "Bo.Lee@example.com", "zoe@example.com"]"#,
        r#"users = ["a.b@x.io", "a_b@x.io"]"#,
    );
    let graph = brickstack_graph::generate(&spec(&text)).unwrap();
    let one = selections::person(&graph, "a.b@x.io");
    let two = selections::person(&graph, "a_b@x.io");
    assert_eq!(one.len(), 6);
    assert_eq!(two.len(), 6);
    assert!(one.is_disjoint(&two));
    for address in &one {
        assert_eq!(access::person_of(&graph, address), Some("a.b@x.io"));
    }
}

#[test]
fn five_thousand_people_generate_with_unique_addresses() {
    // Linear work per person (collisions are counted, not compared pairwise); timing belongs to
    // the benchmark, this checks the result at that size.
    let spec = three_people();
    let people: Vec<Person> = (0..5_000)
        .map(|i| Person::new(format!("person.{i}@example.com"), PersonSource::Grant))
        .collect();
    let graph = brickstack_graph::generate_with(&spec, &RunInputs { people }).unwrap();
    assert_eq!(person_addresses(&graph).len(), 6 * 5_003);
}
