//! Circuit breakers, one per error type and one per cluster: pure state machines, the clock passed
//! in (epoch milliseconds), so the records can store them and the tests can drive them.
//!
//! Closed: failures are counted over the window; the failure that brings the count to the
//! threshold opens the breaker and is not acted on. Open: failures are counted, none is acted on,
//! until the cooldown has passed; then it is half-open and the next failure's action runs (the
//! trial). The trial's recovery closes it; its failure, or another failure meanwhile, opens it again.

use serde::{Deserialize, Serialize};

use crate::config::BreakerConfig;

/// Where a breaker is, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    /// Cooldown over and a trial action sent; its outcome decides.
    Trial,
}

/// One breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    pub state: BreakerState,
    /// When it last opened (epoch ms); `None` while it never has.
    pub opened_at_ms: Option<i64>,
    /// Failure times in the window, oldest first.
    pub failures: Vec<i64>,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            state: BreakerState::Closed,
            opened_at_ms: None,
            failures: Vec::new(),
        }
    }
}

/// What a breaker looks like from outside at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    Closed,
    Open,
    HalfOpen,
}

impl Shown {
    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Closed => "closed",
            Shown::Open => "open",
            Shown::HalfOpen => "half_open",
        }
    }
}

impl Breaker {
    /// Would a failure at `now_ms` be acted on? (Read-only: both breakers of a failure are asked
    /// before either records it.)
    pub fn admits(&self, now_ms: i64, config: &BreakerConfig) -> bool {
        match self.state {
            BreakerState::Closed => {
                let recent = self.in_window(now_ms, config) as u64;
                recent + 1 < u64::from(config.threshold.max(1))
            }
            BreakerState::Open => self.cooled_down(now_ms, config),
            BreakerState::Trial => false,
        }
    }

    /// Counts a failure at `now_ms`; `acted` = its action runs (both breakers admitted it).
    /// Returns true when this failure opened the breaker (alert once per opening).
    pub fn record_failure(&mut self, now_ms: i64, config: &BreakerConfig, acted: bool) -> bool {
        self.prune(now_ms, config);
        self.failures.push(now_ms);
        match self.state {
            BreakerState::Closed => {
                if !acted && self.failures.len() as u64 >= u64::from(config.threshold.max(1)) {
                    self.open(now_ms);
                    true
                } else {
                    false
                }
            }
            BreakerState::Open => {
                if acted {
                    self.state = BreakerState::Trial;
                }
                false
            }
            BreakerState::Trial => {
                // Another failure while the trial runs: the trial did not help.
                self.open(now_ms);
                true
            }
        }
    }

    /// A recovery this breaker admitted passed its health check: a trial closes the breaker.
    pub fn record_recovery(&mut self, now_ms: i64, config: &BreakerConfig) {
        if self.state == BreakerState::Trial
            || (self.state == BreakerState::Open && self.cooled_down(now_ms, config))
        {
            *self = Breaker::default();
        }
    }

    /// A recovery this breaker admitted failed: a trial opens it again. Returns true when it opened.
    pub fn record_recovery_failed(&mut self, now_ms: i64) -> bool {
        if self.state == BreakerState::Trial {
            self.open(now_ms);
            true
        } else {
            false
        }
    }

    /// The state a page shows at `now_ms`.
    pub fn shown(&self, now_ms: i64, config: &BreakerConfig) -> Shown {
        match self.state {
            BreakerState::Closed => Shown::Closed,
            BreakerState::Trial => Shown::HalfOpen,
            BreakerState::Open if self.cooled_down(now_ms, config) => Shown::HalfOpen,
            BreakerState::Open => Shown::Open,
        }
    }

    /// When an open breaker becomes half-open.
    pub fn retry_at_ms(&self, config: &BreakerConfig) -> Option<i64> {
        self.opened_at_ms
            .map(|at| at.saturating_add(millis(config.cooldown)))
    }

    /// Failures counted in the window ending at `now_ms`.
    pub fn in_window(&self, now_ms: i64, config: &BreakerConfig) -> usize {
        let since = now_ms.saturating_sub(millis(config.window));
        self.failures.iter().filter(|t| **t > since).count()
    }

    fn open(&mut self, now_ms: i64) {
        self.state = BreakerState::Open;
        self.opened_at_ms = Some(now_ms);
    }

    fn cooled_down(&self, now_ms: i64, config: &BreakerConfig) -> bool {
        self.retry_at_ms(config).is_some_and(|at| now_ms >= at)
    }

    fn prune(&mut self, now_ms: i64, config: &BreakerConfig) {
        let since = now_ms.saturating_sub(millis(config.window));
        self.failures.retain(|t| *t > since);
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MIN: i64 = 60_000;

    fn config() -> BreakerConfig {
        BreakerConfig::default()
    }

    /// Asks, then records, as the monitor does with a single breaker.
    fn fail(b: &mut Breaker, at: i64) -> (bool, bool) {
        let acted = b.admits(at, &config());
        let opened = b.record_failure(at, &config(), acted);
        (acted, opened)
    }

    #[test]
    fn the_third_failure_in_the_window_opens_and_is_not_acted_on() {
        let mut b = Breaker::default();
        assert_eq!(fail(&mut b, 0), (true, false));
        assert_eq!(fail(&mut b, 10 * MIN), (true, false));
        assert_eq!(fail(&mut b, 20 * MIN), (false, true));
        assert_eq!(b.shown(20 * MIN, &config()), Shown::Open);
        // Open: counted, not acted on, no second alert.
        assert_eq!(fail(&mut b, 25 * MIN), (false, false));
        assert_eq!(b.in_window(25 * MIN, &config()), 4);
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let mut b = Breaker::default();
        assert_eq!(fail(&mut b, 0), (true, false));
        assert_eq!(fail(&mut b, 30 * MIN), (true, false));
        // The first is more than an hour old now.
        assert_eq!(fail(&mut b, 61 * MIN), (true, false));
        assert_eq!(b.shown(61 * MIN, &config()), Shown::Closed);
    }

    #[test]
    fn cooldown_makes_it_half_open_and_a_recovery_closes_it() {
        let mut b = Breaker::default();
        for at in [0, MIN, 2 * MIN] {
            fail(&mut b, at);
        }
        assert_eq!(b.shown(16 * MIN, &config()), Shown::Open);
        assert_eq!(b.shown(17 * MIN, &config()), Shown::HalfOpen);
        assert_eq!(b.retry_at_ms(&config()), Some(17 * MIN));
        // The next failure after the cooldown is the trial: acted on.
        assert_eq!(fail(&mut b, 18 * MIN), (true, false));
        assert_eq!(b.state, BreakerState::Trial);
        b.record_recovery(20 * MIN, &config());
        assert_eq!(b, Breaker::default());
        assert_eq!(fail(&mut b, 21 * MIN), (true, false));
    }

    #[test]
    fn a_failed_trial_opens_it_again() {
        let mut b = Breaker::default();
        for at in [0, MIN, 2 * MIN] {
            fail(&mut b, at);
        }
        assert_eq!(fail(&mut b, 18 * MIN), (true, false));
        assert!(b.record_recovery_failed(19 * MIN));
        assert_eq!(b.shown(20 * MIN, &config()), Shown::Open);
        assert_eq!(b.retry_at_ms(&config()), Some(34 * MIN));
        assert!(!b.admits(20 * MIN, &config()));
    }

    #[test]
    fn a_failure_during_the_trial_opens_it_again_with_an_alert() {
        let mut b = Breaker::default();
        for at in [0, MIN, 2 * MIN] {
            fail(&mut b, at);
        }
        fail(&mut b, 18 * MIN);
        assert_eq!(fail(&mut b, 19 * MIN), (false, true));
        assert_eq!(b.opened_at_ms, Some(19 * MIN));
    }

    #[test]
    fn a_breaker_held_by_the_other_one_stays_as_it_was() {
        // The cluster breaker admits, the type breaker does not: nothing is acted on, and the
        // admitting breaker does not start a trial nor open below its threshold.
        let mut b = Breaker::default();
        assert!(!b.record_failure(0, &config(), false));
        assert_eq!(b.state, BreakerState::Closed);
        let mut open = Breaker::default();
        for at in [0, MIN, 2 * MIN] {
            fail(&mut open, at);
        }
        assert!(!open.record_failure(18 * MIN, &config(), false));
        assert_eq!(open.state, BreakerState::Open);
        assert!(open.admits(19 * MIN, &config()));
    }

    #[test]
    fn threshold_one_opens_on_the_first_failure() {
        let config = BreakerConfig {
            threshold: 1,
            window: Duration::from_secs(3600),
            cooldown: Duration::from_secs(900),
        };
        let b = Breaker::default();
        assert!(!b.admits(0, &config));
    }
}
