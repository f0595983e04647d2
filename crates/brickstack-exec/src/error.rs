//! What can stop an operation or a run.

use std::collections::BTreeMap;

use brickstack_provider::ProviderError;
use brickstack_state::StateError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    #[error("state: {0}")]
    State(#[from] StateError),
    #[error("{address}: {operation} failed: {error}")]
    Provider {
        address: String,
        operation: &'static str,
        error: ProviderError,
    },
    #[error("{address}: `{attribute}` refers to a value that is still unknown")]
    Unresolved { address: String, attribute: String },
    #[error("{address}: no provider serves kind `{kind}` yet")]
    UnsupportedKind { address: String, kind: String },
    /// Objects the plan deletes or replaces that hold data, every one of them; nothing was
    /// changed.
    #[error("refusing to destroy data: {}", held_list(.held))]
    HoldsData { held: Vec<HeldData> },
    /// Kinds of the plan's changes that no provider serves, with their addresses; nothing was
    /// changed.
    #[error("no provider serves {}; nothing was changed", unserved_list(.kinds))]
    UnservedKinds {
        kinds: BTreeMap<String, Vec<String>>,
    },
}

/// One object that would be destroyed with its data.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldData {
    pub address: String,
    pub object_id: String,
    /// What it holds: `42 object(s)`, or why a kind's data is not counted (a workspace).
    pub what: String,
}

fn held_list(held: &[HeldData]) -> String {
    held.iter()
        .map(|h| format!("{} (`{}`) holds {}", h.address, h.object_id, h.what))
        .collect::<Vec<_>>()
        .join("; ")
}

fn unserved_list(kinds: &BTreeMap<String, Vec<String>>) -> String {
    kinds
        .iter()
        .map(|(kind, addresses)| format!("kind `{kind}` ({})", addresses.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ExecError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ExecError::HoldsData { .. } => Some(
                "pass `--destroy-data` to delete them with everything they hold (buckets are emptied first, every version), or keep them out of the run with `--exclude ADDR`".into(),
            ),
            ExecError::UnservedKinds { .. } => Some(
                "this brickstack cannot create these kinds: leave them out with `--exclude ADDR`, and report it (every kind the generator emits should be served)".into(),
            ),
            ExecError::Unresolved { .. } => Some(
                "this is a brickstack bug: a dependency was not applied first; please report it"
                    .into(),
            ),
            ExecError::UnsupportedKind { .. } => Some(
                "leave it out with `--exclude ADDR` or apply only what is served with `--target ADDR`".into(),
            ),
            ExecError::State(e) => e.hint(),
            ExecError::Provider { error, .. } => error.hint.clone().or_else(|| {
                // A retryable error reaches the run only once its adapter's retries ran out.
                error.is_retryable().then(|| {
                    "the service kept failing after every retry the budget allows: run again later, or with a lower `--parallelism`".into()
                })
            }),
        }
    }
}
