//! The service's Prometheus metrics (OpenMetrics text on `/metrics`). Labels never hold a
//! person's address: routes are counted by their template.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::access::{AccessAction, AccessOutcome};
use crate::server::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HttpLabels {
    pub method: String,
    /// The route's template with `:name` for a parameter (`/v1/access/single-user-clusters/:username`:
    /// braces inside a label value trip simple exposition parsers), `unmatched` for 404s.
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabels {
    pub action: &'static str,
    /// `ready`, `revoked` or `failed`.
    pub outcome: &'static str,
}

/// Every metric the service exports, registered once.
pub(crate) struct Metrics {
    /// Unprefixed: the service's own metrics are under `brickstack_serve_`, other parts register
    /// theirs (`brickstack_monitor_`) beside them.
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub queue_depth: Gauge,
    pub runs: Counter,
    pub run_duration: Histogram,
    pub runs_failed: Counter,
    pub outcomes: Family<OutcomeLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut root = Registry::default();
        let registry = root.sub_registry_with_prefix("brickstack_serve");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            http_requests.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "access_queue_depth",
            "Access requests waiting for the worker",
            queue_depth.clone(),
        );
        let runs = Counter::default();
        registry.register("access_runs", "Batches handed to the runner", runs.clone());
        // 1 s to about 4.5 h: an apply boots clusters and installs libraries.
        let run_duration = Histogram::new(exponential_buckets(1.0, 2.0, 15));
        registry.register(
            "access_run_duration_seconds",
            "How long each batch took the runner",
            run_duration.clone(),
        );
        let runs_failed = Counter::default();
        registry.register(
            "access_runs_failed",
            "Batches whose runner panicked or left requests without an outcome",
            runs_failed.clone(),
        );
        let outcomes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "access_outcomes",
            "Finished access requests, by action and outcome (`failed` counts failures)",
            outcomes.clone(),
        );
        Metrics {
            registry: root,
            http_requests,
            queue_depth,
            runs,
            run_duration,
            runs_failed,
            outcomes,
        }
    }

    pub fn count_outcome(&self, action: AccessAction, outcome: &AccessOutcome) {
        let outcome = match outcome {
            AccessOutcome::Ready { .. } => "ready",
            AccessOutcome::Revoked => "revoked",
            AccessOutcome::Failed { .. } => "failed",
        };
        self.outcomes
            .get_or_create(&OutcomeLabels {
                action: action.as_str(),
                outcome,
            })
            .inc();
    }

    /// The exposition text.
    /// Where other parts of the service register their metrics.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The middleware that counts every answer, 401s and 404s included.
pub(crate) async fn count_requests(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| route_label(path.as_str()));
    let response = next.run(request).await;
    app.metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `/a/{b}/c` → `/a/:b/c`.
fn route_label(template: &str) -> String {
    template.replace('{', ":").replace('}', "")
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_labels_have_no_braces() {
        assert_eq!(
            super::route_label("/v1/access/single-user-clusters/{username}"),
            "/v1/access/single-user-clusters/:username"
        );
        assert_eq!(super::route_label("/healthz"), "/healthz");
    }
}
