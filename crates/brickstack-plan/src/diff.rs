//! Desired (graph) against recorded (state) and observed (refresh), resource by resource.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use brickstack_graph::{ContextValue, Reference, ResourceGraph};
use brickstack_provider::{AttributeBehaviour, KindSchema, Observed};
use brickstack_state::{ResourceStatus, State};
use serde_json::{Map, Value as Json};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::plan::{
    Action, Asleep, AttributeChange, Change, Drift, PLAN_FORMAT_VERSION, Plan, Removal,
    ReplaceReason, Summary,
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
    /// The time removal graces are judged by (the planner reads no clock).
    pub now: OffsetDateTime,
}

/// What a run does with the resources `brickstack sleep` put to sleep (recorded as asleep: the
/// record kept, the object gone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RunMode {
    /// `plan`, `apply`, `destroy`: asleep resources stay asleep and count as no change; what
    /// would change but needs an asleep resource's attributes waits for the wake.
    #[default]
    Reconcile,
    /// `brickstack sleep`: these addresses, where they are live, are put to sleep (destroyed,
    /// their records kept as asleep); nothing else changes.
    Sleep(BTreeSet<String>),
    /// `brickstack wake`: every asleep resource still in the spec is created again, and what
    /// depends on it (directly or not) is planned as usual; nothing else changes.
    Wake,
    /// As `Reconcile`, but what the selection no longer desires is deleted at once, whatever its
    /// removal grace: `destroy` and `access revoke`, explicit decisions.
    Destroy,
}

impl RunMode {
    /// Whether the run reconciles the selection with the spec (`Reconcile`, `Destroy`).
    pub fn reconciles(&self) -> bool {
        matches!(self, RunMode::Reconcile | RunMode::Destroy)
    }
}

/// Plans every selected resource for `plan`, `apply` and `destroy` ([`RunMode::Reconcile`]).
pub fn plan(input: &PlanInput<'_>) -> Plan {
    plan_for(input, &RunMode::Reconcile)
}

/// Plans every selected resource for a run of `mode`. Resources are visited in creation order so
/// that a reference's target is planned before the attribute that uses it.
pub fn plan_for(input: &PlanInput<'_>, mode: &RunMode) -> Plan {
    plan_observed(input, input.observed.clone(), mode)
}

/// [`plan_for`] consuming what the refresh observed (`input.observed` is not read): the plan's
/// `before` attributes are moved out of it rather than copied, so a plan of 10,000 resources
/// holds one copy fewer of their attributes (the engine's path).
pub fn plan_observed(
    input: &PlanInput<'_>,
    mut observed: BTreeMap<String, Option<Observed>>,
    mode: &RunMode,
) -> Plan {
    // Changes in the order planned, found by address through `index`; sorted by address once
    // at the end (no second copy of 10,000 changes, as collecting a map into a list would make).
    let mut changes: Vec<Change> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // Addresses whose desired attributes (`Change::after`, less the unknown ones) references
    // read before what was observed or recorded: those created, replaced, updated or left as
    // they are (with an object).
    // By position in `changes`.
    let mut exposed: Vec<bool> = Vec::new();
    let mut drift = Vec::new();
    let mut asleep: Vec<Asleep> = Vec::new();
    // Reconcile: what is asleep, or waits for the wake; Wake: what is woken, or depends on it.
    let mut held: BTreeSet<String> = BTreeSet::new();
    // One schema per kind, not per resource.
    let mut schemas: BTreeMap<String, KindSchema> = BTreeMap::new();

    for resource in input.graph.creation_order() {
        let address = resource.address.to_string();
        let schema = schemas
            .entry(resource.kind().to_string())
            .or_insert_with(|| (input.schema)(resource.kind()));
        let schema = &*schema;
        let recorded = input.state.resources.get(&address);
        // Taken out while it is planned (its `before` moves out of it), put back after, for
        // the references of what comes later.
        let entry = observed.remove(&address);
        let refreshed = entry.is_some();
        let mut own = entry.flatten();

        let lookup = |r: &Reference| -> Option<Json> {
            let target = r.address.to_string();
            let position = index.get(&target).copied();
            let change = position.map(|i| &changes[i]);
            if let Some(change) = change
                && position.is_some_and(|i| exposed[i])
                && !change.after_unknown.contains(&r.attribute)
                && let Some(value) = change.after.as_ref().and_then(|a| a.get(&r.attribute))
            {
                return Some(value.clone());
            }
            match change.map(|c| c.action) {
                Some(Action::Create | Action::Replace) => None,
                _ => observed
                    .get(&target)
                    .and_then(Option::as_ref)
                    .and_then(|o| o.attributes.get(&r.attribute))
                    // What moved to the plan's `before`.
                    .or_else(|| {
                        change
                            .and_then(|c| c.before.as_ref())
                            .and_then(|b| b.get(&r.attribute))
                    })
                    .or_else(|| {
                        input
                            .state
                            .resources
                            .get(&target)
                            .and_then(|rec| rec.attributes.get(&r.attribute))
                    })
                    .cloned(),
            }
        };
        let context = |c: ContextValue| input.context.get(c.key()).cloned();
        let observed_here = own.as_ref();
        // Sized once: a map grown by doubling holds up to twice the room, 10,000 times over.
        let mut after = Map::with_capacity(resource.attributes.len());
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

        if let Some(recorded) = recorded
            && refreshed
            && let Some(d) = drift_of(&address, resource.kind(), recorded, observed_here, schema)
        {
            drift.push(d);
        }

        let mut move_before = false;
        let (action, before, replace_because, replace_reason) = match (recorded, observed_here) {
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
                    rotation_due(schema, &after, &unknown, observed).or_else(|| {
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
                // Moved out of what was observed once the decisions that read it are made.
                move_before = true;
                (action, None, replace_because, replace_reason)
            }
            // Never created, or deleted outside brickstack: (re)create.
            _ => (Action::Create, None, Vec::new(), None),
        };
        let before = if move_before && let Some(own) = own.as_mut() {
            let mut before = Map::with_capacity(after.len());
            for k in after.keys() {
                if let Some(v) = own.attributes.remove(k) {
                    before.insert(k.clone(), v);
                }
            }
            // What is left (computed attributes, for later references) in a map of its size.
            if own.attributes.len() * 2 <= after.len() {
                let mut left = Map::with_capacity(own.attributes.len());
                left.extend(std::mem::take(&mut own.attributes));
                own.attributes = left;
            }
            // The rotation threshold is the plan's own setting: shown as unchanged.
            if let Some(rule) = &schema.rotation
                && let Some(threshold) = after.get(&rule.rotate_before)
            {
                before.insert(rule.rotate_before.clone(), threshold.clone());
            }
            Some(before)
        } else {
            before
        };
        let observed_here = own.as_ref();
        let (action, replace_reason) = if input.selection.contains(&address) {
            (action, replace_reason)
        } else {
            (Action::NoOp, None)
        };
        let is_asleep = recorded.is_some_and(|r| r.status == ResourceStatus::Asleep);
        let held_dependency = dependencies.iter().find(|d| held.contains(*d)).cloned();
        let (action, before, replace_because) = match mode {
            RunMode::Reconcile | RunMode::Destroy if is_asleep => {
                asleep.push(Asleep::new(&address, resource.kind(), None));
                held.insert(address.clone());
                (Action::NoOp, None, Vec::new())
            }
            // Its attributes would be read from a sleeping object's last record: wait for it.
            RunMode::Reconcile | RunMode::Destroy
                if action != Action::NoOp && held_dependency.is_some() =>
            {
                asleep.push(Asleep::new(&address, resource.kind(), held_dependency));
                held.insert(address.clone());
                (Action::NoOp, before, Vec::new())
            }
            RunMode::Reconcile | RunMode::Destroy => (action, before, replace_because),
            RunMode::Sleep(_) if is_asleep => {
                asleep.push(Asleep::new(&address, resource.kind(), None));
                (Action::NoOp, None, Vec::new())
            }
            RunMode::Sleep(to_sleep) if to_sleep.contains(&address) && recorded.is_some() => {
                // Everything observed (or recorded): what moved to `before` and what is left.
                let mut all = before.clone().unwrap_or_default();
                if let Some(o) = observed_here {
                    all.extend(o.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                let before = if observed_here.is_some() {
                    Some(all)
                } else {
                    recorded.map(|r| r.attributes.clone())
                };
                (Action::Sleep, before, Vec::new())
            }
            RunMode::Sleep(_) => (Action::NoOp, before, Vec::new()),
            RunMode::Wake if is_asleep && input.selection.contains(&address) => {
                held.insert(address.clone());
                (Action::Create, None, Vec::new())
            }
            RunMode::Wake if is_asleep => {
                asleep.push(Asleep::new(&address, resource.kind(), None));
                (Action::NoOp, None, Vec::new())
            }
            RunMode::Wake if held_dependency.is_some() => {
                held.insert(address.clone());
                (action, before, replace_because)
            }
            RunMode::Wake => (Action::NoOp, before, Vec::new()),
        };
        // Desired again while pending removal, or its grace changed: a state-only update.
        let action = match recorded {
            Some(r)
                if action == Action::NoOp
                    && mode.reconciles()
                    && r.status == ResourceStatus::Live
                    && input.selection.contains(&address)
                    && (r.retiring_since.is_some()
                        || r.removal_grace_seconds != resource.removal_grace_seconds) =>
            {
                Action::Keep
            }
            _ => action,
        };
        let exposes = if action == Action::Sleep || (is_asleep && action == Action::NoOp) {
            // Nothing to resolve against: references to it read its last record.
            false
        } else if matches!(action, Action::NoOp | Action::Update | Action::Keep) {
            // An unchanged or in-place resource keeps its computed attributes: references read
            // the desired ones first, then what was observed.
            observed_here.is_some()
        } else {
            true
        };
        // An asleep object is gone: its recorded id names nothing.
        let object_id = recorded
            .filter(|r| r.status == ResourceStatus::Live)
            .map(|r| r.object_id.clone());
        let (after, unknown, dependencies) = if action == Action::Sleep {
            (
                None,
                Vec::new(),
                recorded.map(|r| r.dependencies.clone()).unwrap_or_default(),
            )
        } else {
            (Some(after), unknown, dependencies)
        };
        if refreshed {
            observed.insert(address.clone(), own);
        }
        index.insert(address.clone(), changes.len());
        exposed.push(exposes);
        changes.push(Change {
            address,
            kind: resource.kind().to_string(),
            action,
            object_id,
            before,
            after,
            after_unknown: unknown,
            replace_because,
            replace_reason,
            dependencies,
            create_before_destroy: schema.create_before_destroy,
            removal: None,
            retained: false,
        });
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
        let entry = observed.remove(address);
        let refreshed = entry.is_some();
        let own = entry.flatten();
        let is_asleep = recorded.status == ResourceStatus::Asleep;
        let action = if !mode.reconciles() {
            // Sleep and wake leave what the spec dropped to the next apply.
            Action::NoOp
        } else if input.selection.contains(address) && own.is_some() {
            Action::Delete
        } else if input.selection.contains(address) && !refreshed {
            // Not refreshed (asleep, or a minimal refresh): still destroy what was recorded. An
            // asleep one has no object: only its record goes.
            Action::Delete
        } else {
            Action::NoOp
        };
        // A live object with a removal grace goes only once the grace is over (unless the run
        // is an explicit destroy); until then it is pending removal.
        let (action, removal) = match recorded.removal_grace_seconds {
            Some(grace) if action == Action::Delete && !is_asleep => {
                let since = recorded
                    .retiring_since
                    .as_deref()
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
                let started = since.unwrap_or(input.now);
                let delete_after =
                    started + time::Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX));
                let removal = Removal {
                    since: rfc3339(started),
                    delete_after: rfc3339(delete_after),
                    grace_seconds: grace,
                };
                let action = match since {
                    _ if *mode == RunMode::Destroy => Action::Delete,
                    None => Action::Retire,
                    Some(_) if input.now >= delete_after => Action::Delete,
                    Some(_) => Action::NoOp,
                };
                (action, Some(removal))
            }
            _ => (action, None),
        };
        if is_asleep && action == Action::NoOp {
            asleep.push(Asleep::new(address, &recorded.kind, None));
        }
        let retained = action == Action::Delete && (input.schema)(&recorded.kind).retain_on_delete;
        index.insert(address.clone(), changes.len());
        exposed.push(false);
        changes.push(Change {
            address: address.clone(),
            kind: recorded.kind.clone(),
            action,
            object_id: (!is_asleep).then(|| recorded.object_id.clone()),
            before: Some(own.map_or_else(|| recorded.attributes.clone(), |o| o.attributes)),
            after: None,
            after_unknown: Vec::new(),
            replace_because: Vec::new(),
            replace_reason: None,
            dependencies: recorded.dependencies.clone(),
            create_before_destroy: false,
            removal,
            retained,
        });
    }
    drop((observed, exposed));
    hold_deletes_under_pending_removals(&mut changes, &index, input.state);
    drop(index);
    changes.sort_unstable_by(|a, b| a.address.cmp(&b.address));

    let mut summary = Summary::default();
    for c in &changes {
        match c.action {
            Action::Create => summary.create += 1,
            Action::Update => summary.update += 1,
            Action::Replace => summary.replace += 1,
            Action::Delete => summary.delete += 1,
            Action::Sleep => summary.sleep += 1,
            Action::Retire => summary.retire += 1,
            Action::Keep => summary.keep += 1,
            Action::NoOp => summary.no_op += 1,
        }
        if c.removal.is_some() && matches!(c.action, Action::Retire | Action::NoOp) {
            summary.pending_removal += 1;
        }
    }
    drift.sort_by(|a: &Drift, b: &Drift| a.address.cmp(&b.address));
    summary.drifted = drift.len();
    asleep.sort_by(|a, b| a.address.cmp(&b.address));
    summary.asleep = asleep.len();
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        environment: input.environment.to_string(),
        lineage: input.state.lineage.clone(),
        base_serial: input.state.serial,
        spec_hash: input.spec_hash.to_string(),
        changes,
        drift,
        asleep,
        summary,
    }
}

/// A delete that is due waits while something recorded as depending on it is still pending
/// removal (its own grace not over): an object never goes before what depends on it. Repeated
/// until nothing changes, for chains.
fn hold_deletes_under_pending_removals(
    changes: &mut [Change],
    index: &HashMap<String, usize>,
    state: &State,
) {
    loop {
        let pending: Vec<&String> = changes
            .iter()
            .filter(|c| c.removal.is_some() && matches!(c.action, Action::Retire | Action::NoOp))
            .map(|c| &c.address)
            .collect();
        let held: Vec<String> = changes
            .iter()
            .filter(|c| c.action == Action::Delete && c.removal.is_some())
            .filter(|c| {
                pending.iter().any(|p| {
                    state
                        .resources
                        .get(*p)
                        .is_some_and(|r| r.dependencies.contains(&c.address))
                })
            })
            .map(|c| c.address.clone())
            .collect();
        if held.is_empty() {
            return;
        }
        for address in held {
            if let Some(i) = index.get(&address) {
                changes[*i].action = Action::NoOp;
            }
        }
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
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
