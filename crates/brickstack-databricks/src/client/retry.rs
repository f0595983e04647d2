//! When to try a call again, and how long to wait: the official SDKs' policy. 429 and 503 (and
//! the transient error codes and messages) are retried after `Retry-After` when the answer has
//! one, else after a linear backoff (attempt × base, capped) with jitter, within a total budget.

use std::time::Duration;

use super::error::ErrorDetail;

/// Retry settings; [`RetryPolicy::default`] is the SDKs' (1 s steps up to 10 s, 5 minutes in all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total time a call may spend retrying.
    pub budget: Duration,
    /// Backoff step: the n-th retry waits n × `base`...
    pub base: Duration,
    /// ...at most this long (plus jitter).
    pub max_backoff: Duration,
    /// Random extra wait, up to this long, so parallel callers spread out.
    pub jitter: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(300),
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            jitter: Duration::from_millis(750),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            budget: Duration::ZERO,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait before attempt `attempt + 1`, or `None` to give up: the error is not
    /// retryable, or the wait would exceed the budget.
    pub fn next_delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        retryable: bool,
    ) -> Option<Duration> {
        if !retryable {
            return None;
        }
        let backoff = (self.base * attempt).min(self.max_backoff);
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_millis(fastrand::u64(0..=self.jitter.as_millis() as u64))
        };
        let delay = retry_after.unwrap_or(backoff + jitter);
        (elapsed + delay <= self.budget).then_some(delay)
    }

    /// The error for a call that ran out of retries; a first failure that was never retried is
    /// returned as it is.
    pub(crate) fn give_up(
        &self,
        attempts: u32,
        elapsed: Duration,
        last: ErrorDetail,
    ) -> ErrorDetail {
        if attempts <= 1 {
            return last;
        }
        ErrorDetail::RetriesExhausted {
            attempts,
            elapsed_seconds: elapsed.as_secs(),
            last: Box::new(last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_over_backoff_and_the_budget_bounds_both() {
        let policy = RetryPolicy {
            jitter: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(
            policy.next_delay(1, Duration::ZERO, Some(Duration::from_secs(7)), true),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            policy.next_delay(3, Duration::ZERO, None, true),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            policy.next_delay(30, Duration::ZERO, None, true),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            policy.next_delay(1, Duration::from_millis(299_500), None, true),
            None
        );
        assert_eq!(policy.next_delay(1, Duration::ZERO, None, false), None);
    }
}
