//! What to do for a failure: one [`Playbook`] per error type, optionally one per termination code
//! (a code's wins over its type's). The defaults are `docs/monitor.md`'s table; a spec's
//! `[monitor.playbooks.KEY]` overrides them key by key.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::classify::{ErrorType, error_type_of_code};

/// The remediation a playbook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Start a terminated cluster, restart a running one.
    Restart,
    /// Edit the terminated cluster (on-demand, next instance type, next zone), then start it.
    RestartWithFallback,
    /// Start it if terminated, then resize it to `resize_to` workers.
    Resize,
    /// As restart, with `longer_timeout` as the wait for `RUNNING`.
    RestartWithLongerTimeout,
    /// Ticket and alert only.
    None,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Restart,
        Action::RestartWithFallback,
        Action::Resize,
        Action::RestartWithLongerTimeout,
        Action::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Restart => "restart",
            Action::RestartWithFallback => "restart_with_fallback",
            Action::Resize => "resize",
            Action::RestartWithLongerTimeout => "restart_with_longer_timeout",
            Action::None => "none",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a playbook action (one of restart, restart_with_fallback, resize, restart_with_longer_timeout, none)"
)]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// One playbook: the action and its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playbook {
    pub action: Action,
    /// The wait for `RUNNING` after the action.
    pub timeout: Duration,
    /// The wait for the libraries after `RUNNING`.
    pub health_check_timeout: Duration,
    /// Fallback: switch a spot cluster to on-demand first.
    pub on_demand: bool,
    /// Fallback: the instance types to try, in order; the next after the cluster's current one.
    pub instance_types: Vec<String>,
    /// Fallback: the availability zones to try, in order; the next after the cluster's current one.
    pub zones: Vec<String>,
    /// Resize: the worker count.
    pub resize_to: Option<i64>,
    /// Restart with longer timeout: the wait for `RUNNING`.
    pub longer_timeout: Duration,
}

impl Playbook {
    /// The defaults every playbook starts from, with `action`.
    pub fn with_action(action: Action) -> Playbook {
        Playbook {
            action,
            timeout: Duration::from_secs(600),
            health_check_timeout: Duration::from_secs(300),
            on_demand: action == Action::RestartWithFallback,
            instance_types: Vec::new(),
            zones: Vec::new(),
            resize_to: None,
            longer_timeout: Duration::from_secs(1200),
        }
    }

    /// How long to wait for `RUNNING` after the action.
    pub fn running_timeout(&self) -> Duration {
        match self.action {
            Action::RestartWithLongerTimeout => self.longer_timeout,
            _ => self.timeout,
        }
    }
}

/// Every playbook, by key: an error type's name or an `UPPER_SNAKE` code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Playbooks {
    by_key: BTreeMap<String, Playbook>,
}

impl Default for Playbooks {
    /// `docs/monitor.md`'s table.
    fn default() -> Self {
        let mut by_key = BTreeMap::new();
        for error_type in ErrorType::ALL {
            by_key.insert(
                error_type.as_str().to_owned(),
                Playbook::with_action(default_action(error_type)),
            );
        }
        by_key.insert(
            "BOOTSTRAP_TIMEOUT".to_owned(),
            Playbook::with_action(Action::RestartWithLongerTimeout),
        );
        Playbooks { by_key }
    }
}

fn default_action(error_type: ErrorType) -> Action {
    match error_type {
        ErrorType::DatabricksDriverNotResponding
        | ErrorType::DatabricksClusterTerminated
        | ErrorType::DatabricksClusterStartFailure
        | ErrorType::DatabricksServiceFault => Action::Restart,
        ErrorType::DatabricksResourceExhausted => Action::RestartWithFallback,
        ErrorType::DatabricksConfigurationError
        | ErrorType::DatabricksAdministrativeTermination
        | ErrorType::DatabricksUnclassified => Action::None,
    }
}

impl Playbooks {
    /// The playbook for a failure: the code's when one is set, else the error type's.
    pub fn get(&self, error_type: ErrorType, code: &str) -> &Playbook {
        self.by_key
            .get(code)
            .or_else(|| self.by_key.get(error_type.as_str()))
            .expect("every error type has a playbook: Default sets all and `set` never removes")
    }

    /// What `key` (an error type name or a code) has now: its own playbook, or for a code without
    /// one its type's (from the table; an unknown code: `DatabricksUnclassified`'s). A spec's
    /// partial override is applied onto it.
    pub fn base(&self, key: &str) -> Playbook {
        if let Some(playbook) = self.by_key.get(key) {
            return playbook.clone();
        }
        let error_type = key
            .parse::<ErrorType>()
            .ok()
            .or_else(|| error_type_of_code(key))
            .unwrap_or(ErrorType::DatabricksUnclassified);
        self.get(error_type, key).clone()
    }

    /// Sets the playbook of `key`.
    pub fn set(&mut self, key: &str, playbook: Playbook) {
        self.by_key.insert(key.to_owned(), playbook);
    }

    /// Every key and its playbook, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Playbook)> {
        self.by_key.iter().map(|(k, p)| (k.as_str(), p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_playbook_wins_over_its_type() {
        let playbooks = Playbooks::default();
        assert_eq!(
            playbooks
                .get(
                    ErrorType::DatabricksClusterStartFailure,
                    "BOOTSTRAP_TIMEOUT"
                )
                .action,
            Action::RestartWithLongerTimeout
        );
        assert_eq!(
            playbooks
                .get(
                    ErrorType::DatabricksClusterStartFailure,
                    "SPARK_STARTUP_FAILURE"
                )
                .action,
            Action::Restart
        );
    }

    #[test]
    fn defaults_follow_the_documented_table() {
        let playbooks = Playbooks::default();
        let actions: Vec<(ErrorType, Action)> = ErrorType::ALL
            .into_iter()
            .map(|t| (t, playbooks.get(t, "NO_SUCH_CODE").action))
            .collect();
        assert_eq!(
            actions,
            [
                (ErrorType::DatabricksDriverNotResponding, Action::Restart),
                (ErrorType::DatabricksClusterTerminated, Action::Restart),
                (ErrorType::DatabricksClusterStartFailure, Action::Restart),
                (
                    ErrorType::DatabricksResourceExhausted,
                    Action::RestartWithFallback
                ),
                (ErrorType::DatabricksConfigurationError, Action::None),
                (ErrorType::DatabricksServiceFault, Action::Restart),
                (ErrorType::DatabricksAdministrativeTermination, Action::None),
                (ErrorType::DatabricksUnclassified, Action::None),
            ]
        );
        let fallback = playbooks.get(ErrorType::DatabricksResourceExhausted, "X");
        assert!(fallback.on_demand);
        assert_eq!(fallback.timeout, Duration::from_secs(600));
        assert_eq!(fallback.health_check_timeout, Duration::from_secs(300));
    }

    #[test]
    fn base_of_a_code_is_its_type_playbook_as_it_is_now() {
        let mut playbooks = Playbooks::default();
        let mut driver = playbooks.base("DatabricksDriverNotResponding");
        driver.timeout = Duration::from_secs(60);
        playbooks.set("DatabricksDriverNotResponding", driver.clone());
        assert_eq!(playbooks.base("DRIVER_UNREACHABLE"), driver);
        assert_eq!(
            playbooks.base("SOME_FUTURE_CODE").action,
            Action::None,
            "an unknown code starts from DatabricksUnclassified"
        );
        assert_eq!(
            playbooks.base("BOOTSTRAP_TIMEOUT").action,
            Action::RestartWithLongerTimeout
        );
    }

    #[test]
    fn actions_parse_from_their_names_only() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>(), Ok(action));
        }
        assert!("reboot".parse::<Action>().is_err());
    }
}
