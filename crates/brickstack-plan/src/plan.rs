//! The plan document: what will happen to each resource, bound to the state and spec it was made
//! from so a saved plan cannot be applied to anything else.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use brickstack_graph::{ResourceGraph, render};

pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Delete and create (or create then delete, where the kind asks for it).
    Replace,
    Delete,
    /// `brickstack sleep`: delete the object and keep its record, marked asleep, for `wake`.
    Sleep,
    /// No longer desired, with a removal grace: record when its grace started
    /// (`RecordedResource::retiring_since`); a state-only change, no call to the cloud.
    Retire,
    /// Desired again while pending removal (or its grace changed): the record loses
    /// `retiring_since` and takes the desired grace; a state-only change.
    Keep,
    NoOp,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated in place",
            Action::Replace => "replaced",
            Action::Delete => "destroyed",
            Action::Sleep => "put to sleep",
            Action::Retire => "marked for removal",
            Action::Keep => "kept",
            Action::NoOp => "left as it is",
        }
    }
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    pub kind: String,
    pub action: Action,
    /// The object's id when it exists (`None` for a create, and for an asleep resource, whose
    /// object is gone: its delete only drops the record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Attributes as observed, for the attributes the spec sets (`None` for a create).
    pub before: Option<serde_json::Map<String, serde_json::Value>>,
    /// Attributes as desired (`None` for a delete or a sleep); unknown ones are `null` and listed
    /// below.
    pub after: Option<serde_json::Map<String, serde_json::Value>>,
    /// Attributes known only after apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_unknown: Vec<String>,
    /// Attributes whose change forces the replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_because: Vec<String>,
    /// Why the object is replaced when no attribute change forces it (or besides one): its
    /// rotation is due, or the run asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_reason: Option<ReplaceReason>,
    /// Addresses this change waits for (desired dependencies; recorded ones for a delete).
    pub dependencies: Vec<String>,
    /// For replacements: create the new object before deleting the old.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// A resource no longer desired that has a removal grace: when the grace started and when
    /// the object will be (or, for a delete, could be) deleted. On a `retire` or a no-op it is
    /// pending removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal: Option<Removal>,
    /// A delete of a kind retained on delete (`KindSchema::retain_on_delete`): the record is
    /// dropped and the object left in place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retained: bool,
}

/// When a resource no longer desired goes (`docs/access.md`, "Leaving").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// RFC 3339: when an apply first found it no longer desired (for a `retire`, the plan's time,
    /// which the apply records).
    pub since: String,
    /// RFC 3339: `since` plus the grace; the first apply at or after it deletes the object.
    pub delete_after: String,
    pub grace_seconds: u64,
}

/// Why an object is replaced although its attributes would not force it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ReplaceReason {
    /// The kind's rotation rule: the object expires within the threshold, or has expired
    /// (`expires_in_seconds` ≤ 0), judged by the cloud's clock.
    Rotation {
        expires_in_seconds: i64,
        rotate_before_seconds: i64,
    },
    /// The run asked for it (`--replace ADDR`, `brickstack rotate-tokens`).
    Requested,
}

/// An attribute that differs between two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// An object changed or deleted outside brickstack since it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: String,
    pub kind: String,
    pub deleted: bool,
    pub changes: Vec<AttributeChange>,
}

/// A resource left asleep by this plan: put to sleep by `brickstack sleep` (its record kept, its
/// object gone) and recreated by `brickstack wake`; or, with `waits_for`, one whose change needs
/// an asleep resource's attributes and so waits for the wake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asleep {
    pub address: String,
    pub kind: String,
    /// The asleep resource (or another waiting one) this one's change waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
}

impl Asleep {
    pub(crate) fn new(address: &str, kind: &str, waits_for: Option<String>) -> Self {
        Asleep {
            address: address.to_string(),
            kind: kind.to_string(),
            waits_for,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    /// Objects `brickstack sleep` will destroy, keeping their records.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sleep: usize,
    pub no_op: usize,
    pub drifted: usize,
    /// Resources left asleep (`Plan::asleep`); no change.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub asleep: usize,
    /// Resources marked for removal by this plan (state only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retire: usize,
    /// Resources that stop pending removal, or whose grace changes (state only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keep: usize,
    /// Resources pending removal after this plan (marked now or before, grace not over).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending_removal: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What brickstack will do, and against which state and spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub environment: String,
    /// The state this plan was made against.
    pub lineage: String,
    pub base_serial: u64,
    /// Hash of the desired graph (`graph_hash`): the spec as compiled.
    pub spec_hash: String,
    /// Every resource's change, no-ops included, sorted by address.
    pub changes: Vec<Change>,
    pub drift: Vec<Drift>,
    /// Resources asleep after this plan, sorted by address; they are no change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asleep: Vec<Asleep>,
    pub summary: Summary,
}

impl Plan {
    /// Whether applying would change anything. Asleep resources are no change: an environment
    /// that is only asleep has none.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Refuses a saved plan made against another state or spec.
    pub fn check_current(
        &self,
        lineage: &str,
        serial: u64,
        spec_hash: &str,
    ) -> Result<(), PlanError> {
        if self.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanError::Format {
                found: self.format_version,
            });
        }
        // An empty lineage: the plan was made before the state's first write.
        if !self.lineage.is_empty() && !lineage.is_empty() && self.lineage != lineage {
            return Err(PlanError::OtherLineage {
                plan: self.lineage.clone(),
                state: lineage.to_string(),
            });
        }
        if self.base_serial != serial {
            return Err(PlanError::StaleState {
                plan: self.base_serial,
                state: serial,
            });
        }
        if self.spec_hash != spec_hash {
            return Err(PlanError::SpecChanged);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the saved plan was made against state serial {plan}, but the state is now at serial {state}"
    )]
    StaleState { plan: u64, state: u64 },
    #[error("the saved plan belongs to state lineage `{plan}`, not `{state}`")]
    OtherLineage { plan: String, state: String },
    #[error("the spec changed since the plan was saved")]
    SpecChanged,
    #[error(
        "the saved plan has format {found}; this brickstack reads format {PLAN_FORMAT_VERSION}"
    )]
    Format { found: u32 },
}

impl PlanError {
    pub fn hint(&self) -> &'static str {
        "run `brickstack plan --out FILE` again and apply the new plan"
    }
}

/// A stable hash of everything the desired graph says (addresses, attributes, dependencies).
pub fn graph_hash(graph: &ResourceGraph) -> String {
    hex::encode(Sha256::digest(render::text(graph, true).as_bytes()))
}
