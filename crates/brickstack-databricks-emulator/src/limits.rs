//! The cluster-create rate limit: past N accepted `clusters/create` calls of one workspace within
//! a sliding window (60 s unless a test shortens it), a create is answered `429
//! REQUEST_LIMIT_EXCEEDED` with `Retry-After` (whole seconds until the oldest create in the window
//! leaves it, at least 1) and creates nothing.
//!
//! The window runs on the emulator clock, which is real time plus the offset a test adds: a
//! client that sleeps for `Retry-After` finds room, and a test can also make room at once by
//! advancing the clock. Only accepted creates count, so a client retrying a throttled create
//! gets through as soon as the window has room (the vendor's launch throttle is a token bucket
//! that refills the same way). Set with `POST /_emulator/limits`, the binary's
//! `--cluster-creates-per-minute` (`BRICKSTACK_EMULATOR_CLUSTER_CREATES_PER_MINUTE`) or
//! [`crate::DatabricksEmulatorConfig::cluster_creates_per_minute`]; 0 = unlimited, the default.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

const MINUTE_MS: i64 = 60_000;

/// A rate limit on cluster creates (the body of `POST /_emulator/limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Accepted creates per workspace per window; `None` or 0 = unlimited.
    #[serde(default)]
    pub cluster_creates_per_minute: Option<u32>,
    /// The window's length in seconds; absent = 60 (tests shorten it to stay fast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u32>,
}

impl Limits {
    fn per_window(&self) -> Option<u32> {
        self.cluster_creates_per_minute.filter(|n| *n > 0)
    }

    fn window_ms(&self) -> i64 {
        self.window_seconds
            .filter(|s| *s > 0)
            .map_or(MINUTE_MS, |s| i64::from(s) * 1000)
    }
}

/// The limit in force, the accepted creates inside the window, and how many were refused.
#[derive(Debug, Default)]
pub(crate) struct CreateLimiter {
    /// What a reset returns to (the emulator's configuration).
    configured: Limits,
    limits: Limits,
    accepted: HashMap<i64, VecDeque<i64>>,
    throttled: u64,
}

impl CreateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let configured = Limits {
            cluster_creates_per_minute: Some(per_minute).filter(|n| *n > 0),
            window_seconds: None,
        };
        CreateLimiter {
            configured,
            limits: configured,
            ..CreateLimiter::default()
        }
    }

    pub fn set(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Back to the configured limit, with no history.
    pub fn reset(&mut self) {
        self.limits = self.configured;
        self.accepted.clear();
        self.throttled = 0;
    }

    /// `Err(seconds to wait)` when workspace `workspace_id` has no room for a create at `now`;
    /// a refusal is counted.
    pub fn check(&mut self, workspace_id: i64, now: i64) -> Result<(), u64> {
        let Some(limit) = self.limits.per_window() else {
            return Ok(());
        };
        let window = self.limits.window_ms();
        let accepted = self.accepted.entry(workspace_id).or_default();
        while accepted.front().is_some_and(|t| *t + window <= now) {
            accepted.pop_front();
        }
        if accepted.len() < limit as usize {
            return Ok(());
        }
        self.throttled += 1;
        let oldest = accepted.front().copied().unwrap_or(now);
        let wait_ms = (oldest + window - now).max(1);
        Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1))
    }

    /// Records an accepted create.
    pub fn record(&mut self, workspace_id: i64, now: i64) {
        if self.limits.per_window().is_some() {
            self.accepted
                .entry(workspace_id)
                .or_default()
                .push_back(now);
        }
    }

    /// `{"cluster_creates_per_minute", "window_seconds", "throttled"}` for `GET /_emulator/limits`.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "cluster_creates_per_minute": self.limits.per_window(),
            "window_seconds": self.limits.window_ms() / 1000,
            "throttled": self.throttled,
        })
    }

    /// How many creates were refused since the last reset.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_retry_after_names_when_room_comes() {
        let mut l = CreateLimiter::new(2);
        assert_eq!(l.check(1, 0), Ok(()));
        l.record(1, 0);
        assert_eq!(l.check(1, 10_000), Ok(()));
        l.record(1, 10_000);
        assert_eq!(l.check(1, 20_000), Err(40));
        assert_eq!(l.check(2, 20_000), Ok(()), "per workspace");
        assert_eq!(l.check(1, 59_999), Err(1));
        assert_eq!(l.check(1, 60_000), Ok(()));
        assert_eq!(l.throttled(), 2);
        l.set(Limits::default());
        assert_eq!(l.check(1, 60_000), Ok(()), "0 or null = unlimited");
        l.reset();
        assert_eq!(l.throttled(), 0);
        assert_eq!(l.describe()["cluster_creates_per_minute"], 2);
    }

    #[test]
    fn a_shorter_window_frees_room_sooner() {
        let mut l = CreateLimiter::new(0);
        l.set(Limits {
            cluster_creates_per_minute: Some(1),
            window_seconds: Some(2),
        });
        l.record(7, 0);
        assert_eq!(l.check(7, 500), Err(2));
        assert_eq!(l.check(7, 2_000), Ok(()));
    }
}
