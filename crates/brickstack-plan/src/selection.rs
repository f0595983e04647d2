//! Partial runs: `--target ADDR` keeps the target and everything it depends on; `--exclude ADDR`
//! drops the address and everything that depends on it. (`--replace ADDR` selects nothing: it
//! forces the replacement of a selected resource; its addresses are checked here too.)

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
#[error("`{address}` is neither in the spec's graph nor in the state{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct SelectionError {
    pub address: String,
    pub suggestion: Option<String>,
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
        let mut selected: BTreeSet<String> = if targets.is_empty() {
            known.clone()
        } else {
            let mut set = BTreeSet::new();
            let mut stack: Vec<String> = targets.to_vec();
            while let Some(address) = stack.pop() {
                if !set.insert(address.clone()) {
                    continue;
                }
                stack.extend(dependencies(graph, state, &address));
            }
            set
        };
        let mut stack: Vec<String> = excludes.to_vec();
        let mut dropped = BTreeSet::new();
        while let Some(address) = stack.pop() {
            if !dropped.insert(address.clone()) {
                continue;
            }
            stack.extend(dependents(graph, state, &address));
        }
        selected.retain(|a| !dropped.contains(a));
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
                return Err(SelectionError {
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
