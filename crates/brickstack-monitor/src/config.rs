//! The monitor's configuration, as the CLI builds it from the spec's `[monitor]`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::playbook::Playbooks;

/// Which clusters the monitor may act on besides those brickstack made for the environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Clusters carrying every one of these custom tags; empty = no tag rule.
    pub tags: BTreeMap<String, String>,
    /// Cluster policy ids (the spec names `[databricks.cluster_policies]` keys; the CLI resolves them).
    pub policy_ids: BTreeSet<String>,
    /// `unmanaged = "remediate"`: every cluster.
    pub remediate_unmanaged: bool,
}

/// `[monitor.breaker]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Failures in the window that open a breaker (at least 1).
    pub threshold: u32,
    pub window: Duration,
    /// How long a breaker stays open before it lets one action through.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 3,
            window: Duration::from_secs(3600),
            cooldown: Duration::from_secs(900),
        }
    }
}

/// Everything the monitor is told.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// The environment's name: clusters tagged `brickstack:environment` = it are brickstack's.
    pub environment: String,
    /// The poll period; a cluster seen for the first time is read from one interval back.
    pub interval: Duration,
    /// False: every ticket is ticket-only.
    pub auto_remediation: bool,
    pub scope: Scope,
    pub breaker: BreakerConfig,
    pub playbooks: Playbooks,
}
