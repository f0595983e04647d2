//! One write's change to the state, as a journal record: what lets a backend store a write in
//! proportion to what it changed instead of to the whole state (`docs/state.md`, "The journal").

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::document::{AccessGrant, PendingOperation, RecordedResource, State};
use crate::store::StateError;

/// The entries one write set or removed, each with its value after the write (`None`: removed),
/// and the serial the write produced. Applied to the state at `serial - 1` it gives the state at
/// `serial`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub lineage: String,
    /// The serial of the state this delta produces.
    pub serial: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, Option<RecordedResource>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, Option<PendingOperation>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub access_grants: BTreeMap<String, Option<AccessGrant>>,
}

impl Delta {
    /// Applies the delta to the state it follows: same lineage, serial one below the delta's.
    pub fn apply_to(&self, state: &mut State) -> Result<(), StateError> {
        if self.lineage != state.lineage || self.serial != state.serial + 1 {
            return Err(StateError::Corrupt {
                detail: format!(
                    "journal record serial {} of lineage `{}` does not follow serial {} of lineage `{}`",
                    self.serial, self.lineage, state.serial, state.lineage
                ),
            });
        }
        apply_entries(&mut state.resources, &self.resources);
        apply_entries(&mut state.pending, &self.pending);
        apply_entries(&mut state.access_grants, &self.access_grants);
        state.serial = self.serial;
        Ok(())
    }

    /// The journal form: one line of compact JSON ending in `\n`. JSON escapes every newline
    /// inside strings, so the only `\n` is the last byte: a record without it is torn.
    pub fn to_json_line(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("a delta serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Parses one record (with or without its `\n`).
    pub fn from_json(bytes: &[u8]) -> Result<Delta, StateError> {
        serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
            detail: format!("journal record: {e}"),
        })
    }

    /// Entries changed, for the compaction bound's bookkeeping and messages.
    pub fn len(&self) -> usize {
        self.resources.len() + self.pending.len() + self.access_grants.len()
    }

    /// Whether the delta changes no entry (it still advances the serial).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn apply_entries<T: Clone>(
    target: &mut BTreeMap<String, T>,
    entries: &BTreeMap<String, Option<T>>,
) {
    for (key, value) in entries {
        match value {
            Some(value) => {
                target.insert(key.clone(), value.clone());
            }
            None => {
                target.remove(key);
            }
        }
    }
}

/// Keys touched by one or more edits; the delta reads their values from the state afterwards,
/// so a key touched twice is written once with its final value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    resources: BTreeSet<String>,
    pending: BTreeSet<String>,
    access_grants: BTreeSet<String>,
}

impl Touched {
    /// Adds another set of touched keys (an earlier edit whose write failed).
    pub fn merge(&mut self, other: Touched) {
        self.resources.extend(other.resources);
        self.pending.extend(other.pending);
        self.access_grants.extend(other.access_grants);
    }

    /// The delta producing `state` (already at its new serial) from the state before the edits.
    pub fn delta(&self, state: &State) -> Delta {
        Delta {
            lineage: state.lineage.clone(),
            serial: state.serial,
            resources: values(&self.resources, &state.resources),
            pending: values(&self.pending, &state.pending),
            access_grants: values(&self.access_grants, &state.access_grants),
        }
    }
}

fn values<T: Clone>(
    keys: &BTreeSet<String>,
    map: &BTreeMap<String, T>,
) -> BTreeMap<String, Option<T>> {
    keys.iter()
        .map(|k| (k.clone(), map.get(k).cloned()))
        .collect()
}

/// A change to the state that remembers which entries it touched, so the write can store just
/// those. Reads go through [`Edit::state`]; every mutation through a method here.
pub struct Edit<'a> {
    state: &'a mut State,
    touched: Touched,
}

impl<'a> Edit<'a> {
    pub fn new(state: &'a mut State) -> Self {
        Edit {
            state,
            touched: Touched::default(),
        }
    }

    /// The state as edited so far.
    pub fn state(&self) -> &State {
        self.state
    }

    /// The record at `address`, to change in place.
    pub fn resource_mut(&mut self, address: &str) -> Option<&mut RecordedResource> {
        let record = self.state.resources.get_mut(address)?;
        self.touched.resources.insert(address.to_string());
        Some(record)
    }

    pub fn insert_resource(
        &mut self,
        address: impl Into<String>,
        record: RecordedResource,
    ) -> Option<RecordedResource> {
        let address = address.into();
        self.touched.resources.insert(address.clone());
        self.state.resources.insert(address, record)
    }

    pub fn remove_resource(&mut self, address: &str) -> Option<RecordedResource> {
        let removed = self.state.resources.remove(address);
        if removed.is_some() {
            self.touched.resources.insert(address.to_string());
        }
        removed
    }

    pub fn insert_pending(&mut self, address: impl Into<String>, operation: PendingOperation) {
        let address = address.into();
        self.touched.pending.insert(address.clone());
        self.state.pending.insert(address, operation);
    }

    pub fn remove_pending(&mut self, address: &str) -> Option<PendingOperation> {
        let removed = self.state.pending.remove(address);
        if removed.is_some() {
            self.touched.pending.insert(address.to_string());
        }
        removed
    }

    /// Records a grant for `email` (replacing one already recorded).
    pub fn set_grant(&mut self, email: impl Into<String>, grant: AccessGrant) {
        let email = email.into();
        self.touched.access_grants.insert(email.clone());
        self.state.access_grants.insert(email, grant);
    }

    pub fn remove_grant(&mut self, email: &str) -> Option<AccessGrant> {
        let removed = self.state.access_grants.remove(email);
        if removed.is_some() {
            self.touched.access_grants.insert(email.to_string());
        }
        removed
    }

    /// The keys this edit touched.
    pub fn into_touched(self) -> Touched {
        self.touched
    }
}

/// A journal compacts once its records take more bytes than this or than the document, whichever
/// is more: each compaction rewrites at most as many bytes as the records it drops, so the
/// amortised cost of a write stays in proportion to its delta whatever the state's size.
pub const COMPACTION_FLOOR_BYTES: u64 = 16 * 1024;

/// Whether a journal of `journal_bytes` on a document of `document_bytes` is due for compaction.
pub fn compaction_due(journal_bytes: u64, document_bytes: u64) -> bool {
    journal_bytes > document_bytes.max(COMPACTION_FLOOR_BYTES)
}

/// A document with its journal replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub state: Option<State>,
    /// Records applied (those at or below the document's serial, left by a compaction that
    /// stopped before dropping them, are skipped).
    pub applied: usize,
    /// Bytes of the journal up to the end of its last complete record: what follows is a torn
    /// append (a run that died mid-write), ignored, and cut off before the next append.
    pub intact_bytes: usize,
}

/// Replays a line-per-record journal (`Delta::to_json_line`) over `document`, in order.
/// A last line without its `\n` is a torn append and is ignored; a complete line that does not
/// parse, or a record that does not follow the state, is [`StateError::Corrupt`].
pub fn replay(document: Option<State>, journal: &[u8]) -> Result<Replayed, StateError> {
    let intact_bytes = journal
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut state = document;
    let mut applied = 0;
    for (number, line) in journal[..intact_bytes]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let delta = Delta::from_json(line).map_err(|e| match e {
            StateError::Corrupt { detail } => StateError::Corrupt {
                detail: format!("record {} of the journal: {detail}", number + 1),
            },
            other => other,
        })?;
        let Some(state) = state.as_mut() else {
            return Err(StateError::Corrupt {
                detail: "a journal with no state document".into(),
            });
        };
        if delta.lineage == state.lineage && delta.serial <= state.serial {
            continue;
        }
        delta.apply_to(state)?;
        applied += 1;
    }
    Ok(Replayed {
        state,
        applied,
        intact_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> RecordedResource {
        RecordedResource::new("aws_vpc", id, serde_json::Map::new(), vec![])
    }

    #[test]
    fn an_edit_s_delta_replays_to_the_edited_state() {
        let mut state = State::new("dev", "l");
        state.resources.insert("a.keep".into(), record("k"));
        state.resources.insert("a.gone".into(), record("g"));
        state.serial = 4;
        let before = state.clone();
        let mut edit = Edit::new(&mut state);
        edit.insert_resource("a.new", record("n"));
        edit.remove_resource("a.gone");
        edit.remove_resource("a.never-there");
        edit.set_grant(
            "ana@example.com",
            AccessGrant {
                granted_at: "2026-01-01T00:00:00Z".into(),
                source: "cli".into(),
            },
        );
        let touched = edit.into_touched();
        state.serial += 1;
        let delta = touched.delta(&state);
        assert_eq!(delta.len(), 3, "{delta:?}");
        let mut replayed = before;
        delta.apply_to(&mut replayed).unwrap();
        assert_eq!(replayed, state);
        let line = delta.to_json_line();
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        assert_eq!(Delta::from_json(&line).unwrap(), delta);
    }

    #[test]
    fn replay_skips_compacted_records_and_ignores_a_torn_tail() {
        let mut state = State::new("dev", "l");
        state.serial = 2;
        let record = |serial: u64, id: &str| Delta {
            lineage: "l".into(),
            serial,
            resources: [(format!("a.{id}"), Some(record(id)))].into(),
            ..Delta::default()
        };
        let mut journal = Vec::new();
        for (serial, id) in [(2, "old"), (3, "three"), (4, "four")] {
            journal.extend(record(serial, id).to_json_line());
        }
        let whole = journal.len();
        journal.extend(&record(5, "torn").to_json_line()[..20]);
        let replayed = replay(Some(state), &journal).unwrap();
        assert_eq!(replayed.applied, 2);
        assert_eq!(replayed.intact_bytes, whole);
        let state = replayed.state.unwrap();
        assert_eq!(state.serial, 4);
        assert_eq!(
            state.resources.keys().collect::<Vec<_>>(),
            ["a.four", "a.three"]
        );

        let mut glued = journal.clone();
        glued.extend(record(5, "five").to_json_line());
        let mut base = State::new("dev", "l");
        base.serial = 2;
        assert!(matches!(
            replay(Some(base), &glued),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_delta_that_does_not_follow_the_state_is_refused() {
        let mut state = State::new("dev", "l");
        state.serial = 2;
        for (lineage, serial) in [("l", 2), ("l", 4), ("other", 3)] {
            let delta = Delta {
                lineage: lineage.into(),
                serial,
                ..Delta::default()
            };
            assert!(matches!(
                delta.apply_to(&mut state.clone()),
                Err(StateError::Corrupt { .. })
            ));
        }
    }
}
