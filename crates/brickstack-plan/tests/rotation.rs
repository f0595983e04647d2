//! The rotation rule and `--replace`: an object the cloud reports expiring within the desired
//! threshold (or expired) is replaced, with the reason in the plan; a threshold change alone
//! changes nothing; a requested replacement replaces only what was asked for, never the
//! dependencies a target pulls in.

use std::collections::BTreeMap;

use brickstack_graph::{Address, ResourceGraph, Resources, map, reference};
use brickstack_plan::{Action, Plan, PlanInput, ReplaceReason, Selection, plan, render};
use brickstack_provider::{AttributeBehaviour, KindSchema, Observed};
use brickstack_state::{RecordedResource, State};
use serde_json::{Value as Json, json};

const TOKEN: &str = "databricks_token.deployer";
const KEY: &str = "test_key.main";

fn spec() -> brickstack_spec::Spec {
    brickstack_spec::parse(
        "t.toml",
        "[environment]\nname = \"test\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap()
}

/// A token with a rotation threshold, depending on a key.
fn graph(rotate_before_seconds: i64) -> ResourceGraph {
    let mut resources = Resources::default();
    resources.add("test_key", "main", map! { "name" => "key" });
    resources.add(
        "databricks_token",
        "deployer",
        map! {
            "comment" => "brickstack test deployer",
            "lifetime_seconds" => 518_400i64,
            "rotate_before_seconds" => rotate_before_seconds,
            "value_parameter_kms_key_id" => reference(&Address::new("test_key", "main"), "arn"),
        },
    );
    brickstack_graph::build(&spec(), resources).unwrap()
}

fn schema(kind: &str) -> KindSchema {
    match kind {
        "databricks_token" => {
            let mut schema = KindSchema::new(kind)
                .attribute("comment", AttributeBehaviour::ForcesReplacement)
                .attribute("lifetime_seconds", AttributeBehaviour::ForcesReplacement)
                .attribute(
                    "value_parameter_kms_key_id",
                    AttributeBehaviour::ForcesReplacement,
                )
                .attribute("token_id", AttributeBehaviour::Computed)
                .attribute("expires_in_seconds", AttributeBehaviour::Computed)
                .rotation("expires_in_seconds", "rotate_before_seconds");
            schema.create_before_destroy = true;
            schema
        }
        _ => KindSchema::new(kind).attribute("arn", AttributeBehaviour::Computed),
    }
}

fn attributes(value: Json) -> serde_json::Map<String, Json> {
    value.as_object().unwrap().clone()
}

fn key() -> serde_json::Map<String, Json> {
    attributes(json!({"name": "key", "arn": "arn:aws:kms:eu-west-1:1:key/k"}))
}

/// What a token read reports; `expires_in_seconds` left out for a token that never expires.
fn token(expires_in_seconds: Option<i64>) -> serde_json::Map<String, Json> {
    let mut token = attributes(json!({
        "comment": "brickstack test deployer",
        "lifetime_seconds": 518_400,
        "value_parameter_kms_key_id": "arn:aws:kms:eu-west-1:1:key/k",
        "token_id": "t1",
    }));
    if let Some(seconds) = expires_in_seconds {
        token.insert("expires_in_seconds".into(), json!(seconds));
    }
    token
}

fn state() -> State {
    let mut state = State::new("test", "lineage");
    state.serial = 3;
    for (address, kind, object_id, attributes, dependencies) in [
        (KEY, "test_key", "k", key(), vec![]),
        (
            TOKEN,
            "databricks_token",
            "1/t1|/p",
            // The state as create recorded it: no threshold, no expires_in.
            token(None),
            vec![KEY.to_string()],
        ),
    ] {
        state.resources.insert(
            address.into(),
            RecordedResource {
                kind: kind.into(),
                object_id: object_id.into(),
                attributes,
                dependencies,
                status: Default::default(),
                removal_grace_seconds: None,
                retiring_since: None,
            },
        );
    }
    state
}

struct Case {
    rotate_before_seconds: i64,
    expires_in_seconds: Option<i64>,
    targets: Vec<String>,
    replace: Vec<String>,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            rotate_before_seconds: 86_400,
            expires_in_seconds: Some(5 * 86_400),
            targets: Vec::new(),
            replace: Vec::new(),
        }
    }
}

fn check(case: Case) -> Plan {
    let graph = graph(case.rotate_before_seconds);
    let state = state();
    let observed = BTreeMap::from([
        (
            KEY.to_string(),
            Some(Observed {
                object_id: "k".into(),
                attributes: key(),
            }),
        ),
        (
            TOKEN.to_string(),
            Some(Observed {
                object_id: "1/t1|/p".into(),
                attributes: token(case.expires_in_seconds),
            }),
        ),
    ]);
    let selection = Selection::new(&graph, &state, &case.targets, &[]).unwrap();
    plan(&PlanInput {
        environment: "test",
        graph: &graph,
        state: &state,
        observed: &observed,
        context: &BTreeMap::new(),
        schema: &schema,
        spec_hash: "hash",
        selection: &selection,
        replace: &case.replace,
        now: time::macros::datetime!(2026-01-01 00:00 UTC),
    })
}

fn action(plan: &Plan, address: &str) -> (Action, Option<ReplaceReason>) {
    let change = plan.changes.iter().find(|c| c.address == address).unwrap();
    (change.action, change.replace_reason.clone())
}

#[test]
fn an_expired_token_is_rotated_and_the_plan_says_why() {
    let plan = check(Case {
        expires_in_seconds: Some(-3 * 3600),
        ..Case::default()
    });
    assert_eq!(
        action(&plan, TOKEN),
        (
            Action::Replace,
            Some(ReplaceReason::Rotation {
                expires_in_seconds: -10_800,
                rotate_before_seconds: 86_400
            })
        )
    );
    assert_eq!(action(&plan, KEY), (Action::NoOp, None));
    assert!(plan.has_changes());
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);
    insta::assert_snapshot!(render::text(&plan, false));
}

#[test]
fn a_token_within_the_threshold_is_rotated() {
    let plan = check(Case {
        expires_in_seconds: Some(20 * 60),
        ..Case::default()
    });
    insta::assert_snapshot!(render::text(&plan, false));
    let json: Json = serde_json::from_str(&render::json(&plan)).unwrap();
    let change = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == TOKEN)
        .unwrap();
    assert_eq!(
        change["replace_reason"],
        json!({"reason": "rotation", "expires_in_seconds": 1200, "rotate_before_seconds": 86400})
    );
    assert_eq!(change["action"], "replace");
}

#[test]
fn the_threshold_itself_is_due() {
    let plan = check(Case {
        expires_in_seconds: Some(86_400),
        ..Case::default()
    });
    assert_eq!(action(&plan, TOKEN).0, Action::Replace);
    let plan = check(Case {
        expires_in_seconds: Some(86_401),
        ..Case::default()
    });
    assert_eq!(action(&plan, TOKEN), (Action::NoOp, None));
}

#[test]
fn a_token_far_from_expiry_or_never_expiring_is_left_alone() {
    for expires_in_seconds in [Some(5 * 86_400), None] {
        let plan = check(Case {
            expires_in_seconds,
            ..Case::default()
        });
        assert!(!plan.has_changes(), "{expires_in_seconds:?}: {plan:#?}");
    }
}

#[test]
fn a_threshold_change_alone_changes_nothing() {
    // The cloud cannot report the threshold back: it is never compared, never drift.
    for rotate_before_seconds in [0, 3_600, 4 * 86_400] {
        let plan = check(Case {
            rotate_before_seconds,
            ..Case::default()
        });
        assert!(
            !plan.has_changes(),
            "{rotate_before_seconds}: {}",
            render::text(&plan, false)
        );
        assert!(plan.drift.is_empty());
    }
    // Without a threshold only an expired token is due.
    let plan = check(Case {
        rotate_before_seconds: 0,
        expires_in_seconds: Some(0),
        ..Case::default()
    });
    assert_eq!(action(&plan, TOKEN).0, Action::Replace);
    assert!(render::text(&plan, false).contains("(rotation: expired just now; new object first)"));
}

#[test]
fn a_requested_replacement_replaces_the_target_and_leaves_its_dependencies() {
    let plan = check(Case {
        targets: vec![TOKEN.into()],
        replace: vec![TOKEN.into()],
        ..Case::default()
    });
    assert_eq!(
        action(&plan, TOKEN),
        (Action::Replace, Some(ReplaceReason::Requested))
    );
    // The key is in the run (a target's dependency), planned like any other: unchanged.
    assert_eq!(action(&plan, KEY), (Action::NoOp, None));
    assert_eq!(plan.summary.replace, 1);
    insta::assert_snapshot!(render::text(&plan, false));
}

#[test]
fn a_due_rotation_outside_the_selection_waits() {
    let plan = check(Case {
        expires_in_seconds: Some(-60),
        targets: vec![KEY.into()],
        ..Case::default()
    });
    assert_eq!(action(&plan, TOKEN), (Action::NoOp, None));
    assert!(!plan.has_changes());
}

#[test]
fn a_due_rotation_is_reported_rather_than_the_request() {
    let plan = check(Case {
        expires_in_seconds: Some(-60),
        replace: vec![TOKEN.into()],
        ..Case::default()
    });
    assert!(matches!(
        action(&plan, TOKEN),
        (Action::Replace, Some(ReplaceReason::Rotation { .. }))
    ));
}
