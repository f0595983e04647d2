//! Desired (graph) against recorded (state) and observed (refresh), resource by resource.

use std::collections::{BTreeMap, BTreeSet};

use brickstack_graph::{ContextValue, Reference, ResourceGraph};
use brickstack_provider::{AttributeBehaviour, KindSchema, Observed};
use brickstack_state::State;
use serde_json::{Map, Value as Json};

use crate::plan::{
    Action, AttributeChange, Change, Drift, PLAN_FORMAT_VERSION, Plan, ReplaceReason, Summary,
};
use crate::selection::Selection;

/// Everything the planner reads. Refresh has already run: `observed` holds, for every live
/// recorded resource, what the cloud has now (`None`: the object is gone).
pub struct PlanInput<'a> {
    pub environment: &'a str,
    pub graph: &'a ResourceGraph,
    pub state: &'a State,
    pub observed: &'a BTreeMap<String, Option<Observed>>,
    pub context: &'a BTreeMap<String, String>,
    pub schema: &'a dyn Fn(&str) -> KindSchema,
    pub spec_hash: &'a str,
    pub selection: &'a Selection,
    /// Addresses to replace whatever their attributes say (`--replace`); an address with no
    /// object yet is simply created.
    pub replace: &'a [String],
}

/// Plans every selected resource. Resources are visited in creation order so that a reference's
/// target is planned before the attribute that uses it.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let mut changes: BTreeMap<String, Change> = BTreeMap::new();
    // Desired attributes as resolved so far, by address, for references to read.
    let mut resolved: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    let mut drift = Vec::new();

    for resource in input.graph.creation_order() {
        let address = resource.address.to_string();
        let schema = (input.schema)(resource.kind());
        let recorded = input.state.resources.get(&address);
        let observed = input.observed.get(&address).cloned().flatten();

        let lookup = |r: &Reference| -> Option<Json> {
            let target = r.address.to_string();
            if let Some(value) = resolved.get(&target).and_then(|m| m.get(&r.attribute)) {
                return Some(value.clone());
            }
            match changes.get(&target).map(|c| c.action) {
                Some(Action::Create | Action::Replace) => None,
                _ => input
                    .observed
                    .get(&target)
                    .cloned()
                    .flatten()
                    .and_then(|o| o.attributes.get(&r.attribute).cloned())
                    .or_else(|| {
                        input
                            .state
                            .resources
                            .get(&target)
                            .and_then(|rec| rec.attributes.get(&r.attribute).cloned())
                    }),
            }
        };
        let context = |c: ContextValue| input.context.get(c.key()).cloned();
        let mut after = Map::new();
        let mut unknown = Vec::new();
        for (name, value) in &resource.attributes {
            match value.resolve(&lookup, &context) {
                Some(json) => {
                    after.insert(name.clone(), json);
                }
                None => {
                    after.insert(name.clone(), Json::Null);
                    unknown.push(name.clone());
                }
            }
        }
        let dependencies: Vec<String> = input
            .graph
            .dependencies(&resource.address)
            .into_iter()
            .map(ToString::to_string)
            .collect();

        if let (Some(recorded), Some(observed_ref)) = (recorded, input.observed.get(&address))
            && let Some(d) = drift_of(
                &address,
                resource.kind(),
                recorded,
                observed_ref.as_ref(),
                &schema,
            )
        {
            drift.push(d);
        }

        let (action, before, replace_because, replace_reason) = match (recorded, &observed) {
            (Some(_), Some(observed)) => {
                let mut changed = Vec::new();
                for (name, desired) in &after {
                    if !schema.compared(name) {
                        continue;
                    }
                    let differs = unknown.contains(name)
                        || !observed
                            .attributes
                            .get(name)
                            .is_some_and(|o| schema.same_value(name, desired, o));
                    if differs {
                        changed.push(name.clone());
                    }
                }
                let replace_because: Vec<String> = changed
                    .iter()
                    .filter(|n| schema.behaviour(n) == AttributeBehaviour::ForcesReplacement)
                    .cloned()
                    .collect();
                let replace_reason =
                    rotation_due(&schema, &after, &unknown, observed).or_else(|| {
                        input
                            .replace
                            .contains(&address)
                            .then_some(ReplaceReason::Requested)
                    });
                let action = if !replace_because.is_empty() || replace_reason.is_some() {
                    Action::Replace
                } else if !changed.is_empty() {
                    Action::Update
                } else {
                    Action::NoOp
                };
                let mut before: Map<String, Json> = after
                    .keys()
                    .filter_map(|k| observed.attributes.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                // The rotation threshold is the plan's own setting: shown as unchanged.
                if let Some(rule) = &schema.rotation
                    && let Some(threshold) = after.get(&rule.rotate_before)
                {
                    before.insert(rule.rotate_before.clone(), threshold.clone());
                }
                (action, Some(before), replace_because, replace_reason)
            }
            // Never created, or deleted outside brickstack: (re)create.
            _ => (Action::Create, None, Vec::new(), None),
        };
        let (action, replace_reason) = if input.selection.contains(&address) {
            (action, replace_reason)
        } else {
            (Action::NoOp, None)
        };
        if action == Action::NoOp || action == Action::Update {
            // An unchanged or in-place resource keeps its computed attributes; expose them to
            // references alongside the desired ones.
            if let Some(observed) = &observed {
                let mut known = observed.attributes.clone();
                for (k, v) in &after {
                    if !unknown.contains(k) {
                        known.insert(k.clone(), v.clone());
                    }
                }
                resolved.insert(address.clone(), known);
            }
        } else {
            let known: Map<String, Json> = after
                .iter()
                .filter(|(k, _)| !unknown.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            resolved.insert(address.clone(), known);
        }
        changes.insert(
            address.clone(),
            Change {
                address,
                kind: resource.kind().to_string(),
                action,
                object_id: recorded.map(|r| r.object_id.clone()),
                before,
                after: Some(after),
                after_unknown: unknown,
                replace_because,
                replace_reason,
                dependencies,
                create_before_destroy: schema.create_before_destroy,
            },
        );
    }

    // Recorded resources the spec no longer has: destroy them.
    let desired: BTreeSet<String> = input
        .graph
        .resources()
        .map(|r| r.address.to_string())
        .collect();
    for (address, recorded) in &input.state.resources {
        if desired.contains(address) {
            continue;
        }
        let observed = input.observed.get(address).cloned().flatten();
        let action = if input.selection.contains(address) && observed.is_some() {
            Action::Delete
        } else if input.selection.contains(address) && !input.observed.contains_key(address) {
            // Not refreshed (asleep or minimal refresh): still destroy what was recorded.
            Action::Delete
        } else {
            Action::NoOp
        };
        changes.insert(
            address.clone(),
            Change {
                address: address.clone(),
                kind: recorded.kind.clone(),
                action,
                object_id: Some(recorded.object_id.clone()),
                before: Some(
                    observed.map_or_else(|| recorded.attributes.clone(), |o| o.attributes),
                ),
                after: None,
                after_unknown: Vec::new(),
                replace_because: Vec::new(),
                replace_reason: None,
                dependencies: recorded.dependencies.clone(),
                create_before_destroy: false,
            },
        );
    }

    let changes: Vec<Change> = changes.into_values().collect();
    let mut summary = Summary::default();
    for c in &changes {
        match c.action {
            Action::Create => summary.create += 1,
            Action::Update => summary.update += 1,
            Action::Replace => summary.replace += 1,
            Action::Delete => summary.delete += 1,
            Action::NoOp => summary.no_op += 1,
        }
    }
    drift.sort_by(|a: &Drift, b: &Drift| a.address.cmp(&b.address));
    summary.drifted = drift.len();
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        environment: input.environment.to_string(),
        lineage: input.state.lineage.clone(),
        base_serial: input.state.serial,
        spec_hash: input.spec_hash.to_string(),
        changes,
        drift,
        summary,
    }
}

/// The kind's rotation rule applied to an existing object: due when the object expires within
/// the desired threshold (an unknown or absent threshold is 0: only once expired). An object
/// that never expires reports no `expires_in` and is never due.
fn rotation_due(
    schema: &KindSchema,
    after: &Map<String, Json>,
    unknown: &[String],
    observed: &Observed,
) -> Option<ReplaceReason> {
    let rule = schema.rotation.as_ref()?;
    let expires_in = observed.attributes.get(&rule.expires_in)?.as_i64()?;
    let rotate_before = if unknown.contains(&rule.rotate_before) {
        0
    } else {
        after
            .get(&rule.rotate_before)
            .and_then(Json::as_i64)
            .unwrap_or(0)
    };
    (expires_in <= rotate_before).then_some(ReplaceReason::Rotation {
        expires_in_seconds: expires_in,
        rotate_before_seconds: rotate_before,
    })
}

/// What changed between the last record and the refresh, over the recorded attributes.
fn drift_of(
    address: &str,
    kind: &str,
    recorded: &brickstack_state::RecordedResource,
    observed: Option<&Observed>,
    schema: &KindSchema,
) -> Option<Drift> {
    let Some(observed) = observed else {
        return Some(Drift {
            address: address.to_string(),
            kind: kind.to_string(),
            deleted: true,
            changes: Vec::new(),
        });
    };
    let changes: Vec<AttributeChange> = recorded
        .attributes
        .iter()
        .filter(|(name, _)| schema.compared(name))
        .filter(|(name, value)| {
            !observed
                .attributes
                .get(*name)
                .is_some_and(|o| schema.same_value(name, value, o))
        })
        .map(|(name, value)| AttributeChange {
            name: name.clone(),
            before: Some(value.clone()),
            after: observed.attributes.get(name).cloned(),
        })
        .collect();
    (!changes.is_empty()).then(|| Drift {
        address: address.to_string(),
        kind: kind.to_string(),
        deleted: false,
        changes,
    })
}
