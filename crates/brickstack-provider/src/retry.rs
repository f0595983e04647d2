//! The one retry policy: how often a call is tried again, how long to wait, and the bound on all
//! of it. Each call is retried in exactly one layer, the adapter that makes it (the AWS SDK's
//! retry layer configured from this policy, the Databricks client's loop); the engine never
//! retries a call on top (`docs/lifecycle.md`, "Retries").

use std::time::Duration;

/// Retry settings; [`RetryPolicy::default`] is the Databricks SDKs' (1 s steps up to 10 s, five
/// minutes in all).
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
    /// The longest wait a server's `Retry-After` may ask for; longer asks are cut to this, so a
    /// huge or hostile value neither overflows nor stalls a run.
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(300),
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            jitter: Duration::from_millis(750),
            max_server_delay: Duration::from_secs(60),
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
    /// retryable, or the wait would exceed the budget. `retry_after` is what the server asked
    /// for, clamped to `max_server_delay`.
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
        let backoff = self.base.saturating_mul(attempt).min(self.max_backoff);
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            let most = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
            Duration::from_millis(fastrand::u64(0..=most))
        };
        let delay = retry_after
            .map(|asked| asked.min(self.max_server_delay))
            .unwrap_or_else(|| backoff.saturating_add(jitter));
        (elapsed.saturating_add(delay) <= self.budget).then_some(delay)
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

    #[test]
    fn a_huge_retry_after_is_clamped_and_never_overflows() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next_delay(1, Duration::ZERO, Some(Duration::MAX), true),
            Some(Duration::from_secs(60))
        );
        assert_eq!(policy.next_delay(u32::MAX, Duration::MAX, None, true), None);
    }
}
