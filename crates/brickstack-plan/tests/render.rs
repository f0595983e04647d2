//! A plan in, the rendered diff and the JSON out.

use brickstack_plan::{
    Action, Asleep, AttributeChange, Change, Drift, PLAN_FORMAT_VERSION, Plan, PlanError, Summary,
    render,
};
use serde_json::json;

fn map(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().unwrap().clone()
}

fn change(address: &str, action: Action) -> Change {
    Change {
        address: address.into(),
        kind: address.split('.').next().unwrap().into(),
        action,
        object_id: None,
        before: None,
        after: None,
        after_unknown: Vec::new(),
        replace_because: Vec::new(),
        replace_reason: None,
        dependencies: Vec::new(),
        create_before_destroy: false,
        removal: None,
        retained: false,
    }
}

fn sample() -> Plan {
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        environment: "dev".into(),
        lineage: "8d2f6c1e-0000-4000-8000-000000000001".into(),
        base_serial: 41,
        spec_hash: "abc123".into(),
        changes: vec![
            Change {
                after: Some(map(json!({"bucket": "acme-dev-raw", "arn": null}))),
                after_unknown: vec!["arn".into()],
                ..change("aws_s3_bucket.raw", Action::Create)
            },
            Change {
                object_id: Some("vpc-0a1".into()),
                before: Some(map(
                    json!({"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": false}),
                )),
                after: Some(map(
                    json!({"cidr_block": "10.1.0.0/16", "enable_dns_hostnames": true}),
                )),
                replace_because: vec!["cidr_block".into()],
                ..change("aws_vpc.main", Action::Replace)
            },
            Change {
                object_id: Some("sg-1".into()),
                before: Some(map(json!({"name": "def-sg", "egress": []}))),
                after: Some(map(
                    json!({"name": "def-sg", "egress": [{"protocol": "-1"}]}),
                )),
                ..change("aws_default_security_group.main", Action::Update)
            },
            Change {
                object_id: Some("old-role".into()),
                before: Some(map(json!({"name": "acme-dev-old"}))),
                ..change("aws_iam_role.old", Action::Delete)
            },
            change("aws_kms_key.logging", Action::NoOp),
        ],
        drift: vec![
            Drift {
                address: "aws_s3_bucket_versioning.trusted".into(),
                kind: "aws_s3_bucket_versioning".into(),
                deleted: false,
                changes: vec![AttributeChange {
                    name: "status".into(),
                    before: Some(json!("Enabled")),
                    after: Some(json!("Suspended")),
                }],
            },
            Drift {
                address: "aws_route.private-nat".into(),
                kind: "aws_route".into(),
                deleted: true,
                changes: Vec::new(),
            },
        ],
        summary: Summary {
            create: 1,
            update: 1,
            replace: 1,
            delete: 1,
            no_op: 1,
            drifted: 2,
            ..Summary::default()
        },
        asleep: Vec::new(),
    }
}

#[test]
fn text() {
    insta::assert_snapshot!(render::text(&sample(), false));
}

#[test]
fn text_with_colour_reads_the_same_once_colour_is_stripped() {
    let coloured = render::text(&sample(), true);
    assert!(coloured.contains("\x1b["));
    let mut stripped = String::new();
    let mut chars = coloured.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            stripped.push(c);
        }
    }
    assert_eq!(stripped, render::text(&sample(), false));
}

#[test]
fn json_schema_is_stable() {
    insta::assert_snapshot!(render::json(&sample()));
}

#[test]
fn a_plan_round_trips_through_its_saved_form() {
    let plan = sample();
    let saved: Plan = serde_json::from_str(&render::json(&plan)).unwrap();
    assert_eq!(saved, plan);
}

#[test]
fn no_changes() {
    let mut plan = sample();
    plan.changes.retain(|c| c.action == Action::NoOp);
    plan.drift.clear();
    assert_eq!(
        render::text(&plan, false),
        "No changes. The environment `dev` matches its spec.\n"
    );
}

#[test]
fn a_saved_plan_is_bound_to_lineage_serial_and_spec() {
    let plan = sample();
    assert_eq!(plan.check_current(&plan.lineage, 41, "abc123"), Ok(()));
    assert_eq!(
        plan.check_current(&plan.lineage, 42, "abc123"),
        Err(PlanError::StaleState {
            plan: 41,
            state: 42
        })
    );
    assert!(matches!(
        plan.check_current("another", 41, "abc123"),
        Err(PlanError::OtherLineage { .. })
    ));
    assert_eq!(
        plan.check_current(&plan.lineage, 41, "changed"),
        Err(PlanError::SpecChanged)
    );
}

/// What `brickstack sleep` shows: each object put to sleep, what is asleep already, the counts.
fn sleep_plan() -> Plan {
    Plan {
        changes: vec![
            Change {
                object_id: Some("nat-0a1".into()),
                before: Some(map(
                    json!({"subnet_id": "subnet-1", "connectivity_type": "public"}),
                )),
                ..change("aws_nat_gateway.eu-west-1a", Action::Sleep)
            },
            Change {
                object_id: Some("eipalloc-1".into()),
                before: Some(map(json!({"domain": "vpc"}))),
                ..change("aws_eip.nat-eu-west-1a", Action::Sleep)
            },
            change("aws_vpc_endpoint.sts", Action::NoOp),
        ],
        drift: Vec::new(),
        asleep: vec![Asleep {
            address: "aws_vpc_endpoint.sts".into(),
            kind: "aws_vpc_endpoint".into(),
            waits_for: None,
        }],
        summary: Summary {
            sleep: 2,
            no_op: 1,
            asleep: 1,
            ..Summary::default()
        },
        ..sample()
    }
}

#[test]
fn text_of_a_sleep() {
    insta::assert_snapshot!(render::text(&sleep_plan(), false));
}

#[test]
fn json_of_a_sleep_names_the_action_and_what_is_asleep() {
    insta::assert_snapshot!(render::json(&sleep_plan()));
}

#[test]
fn an_environment_that_is_only_asleep_has_no_changes_and_lists_what_sleeps() {
    let plan = Plan {
        changes: vec![
            change("aws_nat_gateway.eu-west-1a", Action::NoOp),
            change("aws_route.private-nat", Action::NoOp),
        ],
        drift: Vec::new(),
        asleep: vec![
            Asleep {
                address: "aws_nat_gateway.eu-west-1a".into(),
                kind: "aws_nat_gateway".into(),
                waits_for: None,
            },
            Asleep {
                address: "aws_route.private-nat".into(),
                kind: "aws_route".into(),
                waits_for: None,
            },
            Asleep {
                address: "aws_route.extra".into(),
                kind: "aws_route".into(),
                waits_for: Some("aws_nat_gateway.eu-west-1a".into()),
            },
        ],
        summary: Summary {
            no_op: 2,
            asleep: 3,
            ..Summary::default()
        },
        ..sample()
    };
    assert!(!plan.has_changes());
    insta::assert_snapshot!(render::text(&plan, false));
}

#[test]
fn the_delete_of_an_asleep_resource_says_only_its_record_goes() {
    let plan = Plan {
        changes: vec![Change {
            before: Some(map(json!({"domain": "vpc"}))),
            ..change("aws_eip.nat-eu-west-1a", Action::Delete)
        }],
        drift: Vec::new(),
        asleep: Vec::new(),
        summary: Summary {
            delete: 1,
            ..Summary::default()
        },
        ..sample()
    };
    let text = render::text(&plan, false);
    assert!(
        text.contains(
            "# aws_eip.nat-eu-west-1a will be forgotten (it is asleep: no object to destroy)"
        ),
        "{text}"
    );
}
