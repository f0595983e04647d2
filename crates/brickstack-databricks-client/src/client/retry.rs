//! When to try a call again, and how long to wait: the official SDKs' policy. 429 and 503 (and
//! the transient error codes and messages) are retried after `Retry-After` when the answer has
//! one, else after a linear backoff (attempt × base, capped) with jitter, within a total budget.
//! The policy itself is `brickstack_provider::RetryPolicy`, the one every adapter uses.

use std::time::Duration;

use super::error::ErrorDetail;

pub use brickstack_provider::RetryPolicy;

/// The error for a call that ran out of retries; a first failure that was never retried is
/// returned as it is.
pub(crate) fn give_up(attempts: u32, elapsed: Duration, last: ErrorDetail) -> ErrorDetail {
    if attempts <= 1 {
        return last;
    }
    ErrorDetail::RetriesExhausted {
        attempts,
        elapsed_seconds: elapsed.as_secs(),
        last: Box::new(last),
    }
}
