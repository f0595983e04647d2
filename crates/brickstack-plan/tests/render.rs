//! A plan in, the rendered diff and the JSON out.

use brickstack_plan::{
    Action, AttributeChange, Change, Drift, PLAN_FORMAT_VERSION, Plan, PlanError, Summary, render,
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
        },
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
