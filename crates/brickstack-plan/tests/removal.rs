//! Removal grace (`docs/access.md`, "Leaving"): a recorded resource with a grace that the spec no
//! longer has is pending removal (the first plan marks it, a state-only change), deleted once its
//! grace is over (after anything depending on it), and kept if desired again; a destroy deletes
//! at once. A kind retained on delete is forgotten, its object left in place.

use std::collections::BTreeMap;

use brickstack_graph::{ResourceGraph, Resources, map};
use brickstack_plan::{Action, Plan, PlanInput, RunMode, Selection, plan_for, render};
use brickstack_provider::{KindSchema, Observed};
use brickstack_state::{RecordedResource, State};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

const HOUR: u64 = 3600;
const NOW: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

fn spec() -> brickstack_spec::Spec {
    brickstack_spec::parse(
        "t.toml",
        "[environment]\nname = \"test\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap()
}

/// Ana's resources, and Bo's if `with_bo`; every one with a grace of an hour.
fn graph(with_bo: bool) -> ResourceGraph {
    let mut resources = Resources::default();
    let people: &[&str] = if with_bo { &["ana", "bo"] } else { &["ana"] };
    for person in people {
        resources
            .add(
                "test_user",
                format!("su_{person}"),
                map! { "user_name" => *person },
            )
            .removal_grace(HOUR);
        resources
            .add(
                "test_cluster",
                format!("su_{person}"),
                map! { "name" => *person },
            )
            .removal_grace(HOUR);
    }
    brickstack_graph::build(&spec(), resources).unwrap()
}

fn schema(kind: &str) -> KindSchema {
    match kind {
        "test_user" => KindSchema::new(kind).retained_on_delete(),
        _ => KindSchema::new(kind),
    }
}

/// Everything of Ana and Bo recorded; Bo's records `retiring_since` as given. Bo's message
/// depends on his cluster and has a grace of three hours.
fn state(bo_retiring_since: Option<&str>) -> State {
    let mut state = State::new("test", "lineage");
    state.serial = 5;
    let mut record = |address: &str, attributes: serde_json::Value, grace: u64, deps: &[&str]| {
        let retiring = address
            .ends_with("su_bo")
            .then(|| bo_retiring_since.map(str::to_string))
            .flatten();
        state.resources.insert(
            address.into(),
            RecordedResource {
                removal_grace_seconds: Some(grace),
                retiring_since: retiring,
                ..RecordedResource::new(
                    address.split('.').next().unwrap(),
                    format!("id-{address}"),
                    attributes.as_object().unwrap().clone(),
                    deps.iter().map(|d| d.to_string()).collect(),
                )
            },
        );
    };
    for person in ["ana", "bo"] {
        record(
            &format!("test_user.su_{person}"),
            json!({"user_name": person}),
            HOUR,
            &[],
        );
        record(
            &format!("test_cluster.su_{person}"),
            json!({"name": person}),
            HOUR,
            &[],
        );
    }
    record(
        "test_message.su_bo",
        json!({"text": "hi"}),
        3 * HOUR,
        &["test_cluster.su_bo"],
    );
    if let Some(since) = bo_retiring_since {
        state
            .resources
            .get_mut("test_message.su_bo")
            .unwrap()
            .retiring_since = Some(since.into());
    }
    state
}

fn check(graph: &ResourceGraph, state: &State, mode: &RunMode, now: OffsetDateTime) -> Plan {
    let observed = state
        .resources
        .iter()
        .map(|(address, r)| {
            (
                address.clone(),
                Some(Observed {
                    object_id: r.object_id.clone(),
                    attributes: r.attributes.clone(),
                }),
            )
        })
        .collect();
    plan_for(
        &PlanInput {
            environment: "test",
            graph,
            state,
            observed: &observed,
            context: &BTreeMap::new(),
            schema: &schema,
            spec_hash: "hash",
            selection: &Selection::All,
            replace: &[],
            now,
        },
        mode,
    )
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.removal.is_some())
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

fn owned(list: &[(&str, Action)]) -> Vec<(String, Action)> {
    list.iter().map(|(a, x)| (a.to_string(), *x)).collect()
}

#[test]
fn a_departed_person_is_first_marked_for_removal_with_the_time_it_goes() {
    let plan = check(&graph(false), &state(None), &RunMode::Reconcile, NOW);
    assert_eq!(
        actions(&plan),
        owned(&[
            ("test_cluster.su_bo", Action::Retire),
            ("test_message.su_bo", Action::Retire),
            ("test_user.su_bo", Action::Retire),
        ])
    );
    let cluster = plan
        .changes
        .iter()
        .find(|c| c.address == "test_cluster.su_bo")
        .unwrap();
    let removal = cluster.removal.as_ref().unwrap();
    assert_eq!(
        (removal.since.as_str(), removal.delete_after.as_str()),
        ("2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z")
    );
    assert!(
        plan.has_changes(),
        "recording the start of the grace is a change"
    );
    assert_eq!(
        (
            plan.summary.retire,
            plan.summary.pending_removal,
            plan.summary.delete
        ),
        (3, 3, 0)
    );
    insta::assert_snapshot!("marked", render::text(&plan, false));
}

#[test]
fn within_the_grace_it_is_pending_and_nothing_changes() {
    let plan = check(
        &graph(false),
        &state(Some("2026-01-01T11:30:00Z")),
        &RunMode::Reconcile,
        NOW,
    );
    assert!(!plan.has_changes());
    assert_eq!(plan.summary.pending_removal, 3);
    insta::assert_snapshot!("pending", render::text(&plan, false));
    insta::assert_snapshot!("pending_json", render::json(&plan));
}

#[test]
fn once_the_grace_is_over_it_is_deleted_but_not_before_what_depends_on_it() {
    // An hour and a half later: the cluster's and user's hour is over, the message's three are
    // not, and the message depends on the cluster: the cluster waits for it.
    let plan = check(
        &graph(false),
        &state(Some("2026-01-01T10:30:00Z")),
        &RunMode::Reconcile,
        NOW,
    );
    assert_eq!(
        actions(&plan),
        owned(&[
            ("test_cluster.su_bo", Action::NoOp),
            ("test_message.su_bo", Action::NoOp),
            ("test_user.su_bo", Action::Delete),
        ])
    );
    let user = plan
        .changes
        .iter()
        .find(|c| c.address == "test_user.su_bo")
        .unwrap();
    assert!(
        user.retained,
        "a retained kind is forgotten, its object left in place"
    );
    insta::assert_snapshot!("due", render::text(&plan, false));

    let later = check(
        &graph(false),
        &state(Some("2026-01-01T08:00:00Z")),
        &RunMode::Reconcile,
        NOW,
    );
    assert_eq!(
        actions(&later),
        owned(&[
            ("test_cluster.su_bo", Action::Delete),
            ("test_message.su_bo", Action::Delete),
            ("test_user.su_bo", Action::Delete),
        ])
    );
}

#[test]
fn a_person_back_before_the_grace_is_over_is_kept() {
    let plan = check(
        &graph(true),
        &state(Some("2026-01-01T11:30:00Z")),
        &RunMode::Reconcile,
        NOW,
    );
    // The message is not in this graph (no message kind here), so it stays pending.
    assert_eq!(
        actions(&plan),
        owned(&[
            ("test_cluster.su_bo", Action::Keep),
            ("test_message.su_bo", Action::NoOp),
            ("test_user.su_bo", Action::Keep),
        ])
    );
    insta::assert_snapshot!("kept", render::text(&plan, false));
}

#[test]
fn a_destroy_deletes_at_once_whatever_the_grace() {
    let plan = check(&graph(false), &state(None), &RunMode::Destroy, NOW);
    assert_eq!(
        actions(&plan),
        owned(&[
            ("test_cluster.su_bo", Action::Delete),
            ("test_message.su_bo", Action::Delete),
            ("test_user.su_bo", Action::Delete),
        ])
    );
}
