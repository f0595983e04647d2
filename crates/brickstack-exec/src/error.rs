//! What can stop an operation or a run.

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
    #[error("{address}: `{object_id}` holds {count} object(s); refusing to destroy it")]
    HoldsData {
        address: String,
        object_id: String,
        count: u64,
    },
}

impl ExecError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ExecError::HoldsData { .. } => Some(
                "empty it first, or pass `--destroy-data` to delete it with its contents".into(),
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
