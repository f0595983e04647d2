//! Partial runs: `--target ADDR` keeps the target and everything it depends on; `--exclude ADDR`
//! drops the address and everything that depends on it. (`--replace ADDR` selects nothing: it
//! forces the replacement of a selected resource; its addresses are checked here too.)
//!
//! An address only the state has is one the run deletes, and a delete runs the other way round:
//! targeting it takes what depends on it (destroying a VPC takes its subnets), and excluding it
//! keeps what it depends on (a kept subnet keeps its VPC) while what depends on it may still go. A selection that ends up empty is an
//! error, never "everything".

use std::collections::BTreeSet;

use brickstack_graph::{Address, ResourceGraph};
use brickstack_state::State;

/// Which addresses a run may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Only(BTreeSet<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("`{address}` is neither in the spec's graph nor in the state{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    Unknown {
        address: String,
        suggestion: Option<String>,
    },
    /// `--target` and `--exclude` together leave nothing: running would change nothing the
    /// user asked for, and an empty list must never read as "everything".
    #[error("the selection is empty: {}", empty_reason(targets, excludes))]
    Empty {
        targets: Vec<String>,
        excludes: Vec<String>,
    },
}

fn empty_reason(targets: &[String], excludes: &[String]) -> String {
    let list = |addresses: &[String]| {
        addresses
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if targets.is_empty() {
        format!(
            "`--exclude` {} and what depends on them cover every resource",
            list(excludes)
        )
    } else {
        format!(
            "`--exclude` {} and what depends on them cover everything `--target` {} selects",
            list(excludes),
            list(targets)
        )
    }
}

impl SelectionError {
    pub fn hint(&self) -> &'static str {
        match self {
            SelectionError::Unknown { .. } => {
                "`brickstack state list -e ENV` and `brickstack graph -e ENV` list the addresses"
            }
            SelectionError::Empty { .. } => {
                "exclude less, or target something the excludes do not depend on; `brickstack graph -e ENV` shows what depends on what"
            }
        }
    }
}

impl Selection {
    /// The selection for `--target` and `--exclude` lists (both empty: everything).
    pub fn new(
        graph: &ResourceGraph,
        state: &State,
        targets: &[String],
        excludes: &[String],
    ) -> Result<Selection, SelectionError> {
        let known = Self::known(graph, state);
        Self::check(&known, targets.iter().chain(excludes))?;
        if targets.is_empty() && excludes.is_empty() {
            return Ok(Selection::All);
        }
        let desired: BTreeSet<String> = graph.resources().map(|r| r.address.to_string()).collect();
        let mut selected: BTreeSet<String> = if targets.is_empty() {
            known.clone()
        } else {
            let mut set = BTreeSet::new();
            let mut stack: Vec<String> = targets.to_vec();
            while let Some(address) = stack.pop() {
                if !set.insert(address.clone()) {
                    continue;
                }
                if desired.contains(&address) {
                    stack.extend(dependencies(graph, state, &address));
                } else {
                    // Deleted: what depends on it must go first, so it goes too.
                    stack.extend(dependents(graph, state, &address));
                }
            }
            set
        };
        let mut stack: Vec<String> = excludes.to_vec();
        let mut dropped = BTreeSet::new();
        while let Some(address) = stack.pop() {
            if !dropped.insert(address.clone()) {
                continue;
            }
            if desired.contains(&address) {
                // What depends on a kept desired object may need its outputs: it stays too.
                stack.extend(dependents(graph, state, &address));
            } else {
                // A kept object keeps what it stands on, where the run would delete that; what
                // depends on it can still be deleted.
                stack.extend(
                    dependencies(graph, state, &address)
                        .into_iter()
                        .filter(|a| !desired.contains(a)),
                );
            }
        }
        selected.retain(|a| !dropped.contains(a));
        if selected.is_empty() {
            return Err(SelectionError::Empty {
                targets: targets.to_vec(),
                excludes: excludes.to_vec(),
            });
        }
        Ok(Selection::Only(selected))
    }

    /// Refuses an address that is neither in the graph nor in the state (`--replace`), with a
    /// suggestion.
    pub fn check_known(
        graph: &ResourceGraph,
        state: &State,
        addresses: &[String],
    ) -> Result<(), SelectionError> {
        Self::check(&Self::known(graph, state), addresses)
    }

    fn known(graph: &ResourceGraph, state: &State) -> BTreeSet<String> {
        graph
            .resources()
            .map(|r| r.address.to_string())
            .chain(state.resources.keys().cloned())
            .collect()
    }

    fn check<'a>(
        known: &BTreeSet<String>,
        addresses: impl IntoIterator<Item = &'a String>,
    ) -> Result<(), SelectionError> {
        for address in addresses {
            if !known.contains(address) {
                let suggestion = known
                    .iter()
                    .filter(|k| k.starts_with(address.split('.').next().unwrap_or_default()))
                    .min_by_key(|k| edit_distance(k, address))
                    .cloned();
                return Err(SelectionError::Unknown {
                    address: address.clone(),
                    suggestion,
                });
            }
        }
        Ok(())
    }

    pub fn contains(&self, address: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(set) => set.contains(address),
        }
    }
}

fn dependencies(graph: &ResourceGraph, state: &State, address: &str) -> Vec<String> {
    let mut out: Vec<String> = Address::parse(address)
        .map(|a| {
            graph
                .dependencies(&a)
                .into_iter()
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(recorded) = state.resources.get(address) {
        out.extend(recorded.dependencies.iter().cloned());
    }
    out
}

fn dependents(graph: &ResourceGraph, state: &State, address: &str) -> Vec<String> {
    let mut out: Vec<String> = Address::parse(address)
        .map(|a| {
            graph
                .dependents(&a)
                .into_iter()
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default();
    out.extend(
        state
            .resources
            .iter()
            .filter(|(_, r)| r.dependencies.iter().any(|d| d == address))
            .map(|(a, _)| a.clone()),
    );
    out
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
