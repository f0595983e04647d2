//! The monitor's Prometheus metrics (`docs/monitor.md`): gauges of the 24 h figures, refreshed
//! after each poll and each ticket change, and counters since the process started.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::classify::ErrorType;
use crate::report::Report;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ErrorTypeLabel {
    pub error_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActionLabel {
    /// The API call: `start`, `restart`, `change_spec`, `resize`.
    pub action: &'static str,
}

/// The metric handles; clones of them sit in the service's registry.
pub(crate) struct Metrics {
    pub failures_24h: Family<ErrorTypeLabel, Gauge>,
    pub mttr_seconds_24h: Gauge<f64, AtomicU64>,
    pub breaker_openings_24h: Gauge,
    pub open_tickets: Gauge,
    pub active: Gauge,
    pub polls: Counter,
    pub poll_errors: Counter,
    pub actions: Family<ActionLabel, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            failures_24h: Family::default(),
            mttr_seconds_24h: Gauge::default(),
            breaker_openings_24h: Gauge::default(),
            open_tickets: Gauge::default(),
            active: Gauge::default(),
            polls: Counter::default(),
            poll_errors: Counter::default(),
            actions: Family::default(),
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("brickstack_monitor");
        r.register(
            "failures_24h",
            "Cluster failures detected in the last 24 hours, by error type",
            self.failures_24h.clone(),
        );
        r.register(
            "mttr_seconds_24h",
            "Mean time from detection to a passed health check, tickets of the last 24 hours (0 when none recovered)",
            self.mttr_seconds_24h.clone(),
        );
        r.register(
            "breaker_openings_24h",
            "Circuit breaker openings in the last 24 hours",
            self.breaker_openings_24h.clone(),
        );
        r.register(
            "open_tickets",
            "Tickets not closed (open, in progress, failed)",
            self.open_tickets.clone(),
        );
        r.register(
            "active",
            "1 when this replica holds the lease and acts, 0 on a standby",
            self.active.clone(),
        );
        r.register("polls", "Detection passes started", self.polls.clone());
        r.register(
            "poll_errors",
            "Detection passes or workspaces that could not be read",
            self.poll_errors.clone(),
        );
        r.register(
            "actions",
            "Remediation calls made, by call (start, restart, change_spec, resize)",
            self.actions.clone(),
        );
    }

    pub fn count_action(&self, action: &'static str) {
        self.actions.get_or_create(&ActionLabel { action }).inc();
    }

    /// Sets the gauges from the figures.
    pub fn refresh(&self, report: &Report, active: bool) {
        for error_type in ErrorType::ALL {
            let failures = report
                .error_types
                .iter()
                .find(|f| f.error_type == error_type.as_str())
                .map_or(0, |f| f.failures_24h);
            self.failures_24h
                .get_or_create(&ErrorTypeLabel {
                    error_type: error_type.as_str(),
                })
                .set(i64::try_from(failures).unwrap_or(i64::MAX));
        }
        self.mttr_seconds_24h
            .set(report.mttr_seconds.unwrap_or(0.0));
        self.breaker_openings_24h
            .set(i64::try_from(report.breaker_openings_24h).unwrap_or(i64::MAX));
        self.open_tickets
            .set(i64::try_from(report.open_tickets.len()).unwrap_or(i64::MAX));
        self.active.set(i64::from(active));
    }
}
