//! The unhappy path against moto, with the testkit's [`FaultProxy`] between the adapter and moto:
//! answers lost after moto applied a create ([`lost_answers`]) and 20% throttling
//! ([`throttling`]). Objects are counted through moto directly, never through the proxy.
//!
//! Each test prints one `fault-figures:` line (`cargo test ... -- --nocapture`), which
//! `scripts/bench.sh faults` collects for `docs/benchmarks.md`.

mod lost_answers;
mod throttling;

use std::sync::atomic::AtomicBool;

use brickstack_aws::{AwsClients, AwsProvider, assume_role, static_sdk_config};
use brickstack_exec::{
    ApplyOptions, ApplyReport, Engine, EngineError, RefreshMode, Request, Runner,
};
use brickstack_graph::ResourceGraph;
use brickstack_plan::Plan;
use brickstack_state_local::LocalStore;
use brickstack_testkit::{FaultProxy, require_moto, unique_moto_account_id};

use crate::support::static_endpoint;

const ENVIRONMENT: &str = "reference";

/// One moto account seen two ways: `direct` clients talk to moto, `provider` goes through
/// `proxy`. Credentials come from moto directly, so the proxy's faults never hit `AssumeRole`.
pub struct ProxiedAccount {
    pub direct: AwsClients,
    pub proxy: FaultProxy,
    pub provider: AwsProvider,
    _state_dir: tempfile::TempDir,
    pub store: LocalStore,
}

impl ProxiedAccount {
    /// A fresh moto account behind a fresh proxy, or `None` when moto is not running (under
    /// `CI=true` this panics instead).
    pub async fn new(test_name: &str) -> Option<Self> {
        let moto = require_moto(test_name)?;
        let base = static_sdk_config(&static_endpoint(&moto)).expect("moto's CA bundle");
        let config = assume_role(
            &base,
            &moto.role_arn(&unique_moto_account_id()),
            "brickstack-test",
        )
        .await;
        // The proxy speaks TLS to moto (the state bucket's policy refuses anything else) and
        // plain http to the provider, so it can read and drop what passes.
        let proxy = FaultProxy::start(&moto.url, moto.ca_bundle.as_deref())
            .await
            .unwrap_or_else(|e| panic!("fault proxy: {e}"));
        let proxied = config.to_builder().endpoint_url(proxy.url()).build();
        let state_dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(state_dir.path().join("state.json"));
        Some(ProxiedAccount {
            direct: AwsClients::new(&config),
            provider: AwsProvider::new(&AwsClients::new(&proxied)),
            proxy,
            _state_dir: state_dir,
            store,
        })
    }

    pub fn engine(&self) -> Engine<'_, AwsProvider, LocalStore> {
        Engine {
            provider: &self.provider,
            store: &self.store,
            runner: Runner::default(),
        }
    }
}

/// The reference environment under a prefix of its own (moto's bucket names are global), with
/// the S3 state backend so that its bootstrap graph (state bucket, key, lock table) exists too.
pub fn reference_graphs(prefix: &str) -> (ResourceGraph, ResourceGraph) {
    let text = include_str!("../../../../../environments/reference.toml");
    let text = text.replace("prefix = \"cm-vpc\"", &format!("prefix = \"{prefix}\""));
    assert!(text.contains(prefix), "the spec still has its prefix line");
    let text = format!("{text}\n[state]\nbackend = \"s3\"\n");
    let spec =
        brickstack_spec::parse("reference.toml", &text).unwrap_or_else(|e| panic!("spec: {e:?}"));
    (
        brickstack_graph::generate(&spec).unwrap_or_else(|e| panic!("graph: {e:?}")),
        brickstack_graph::bootstrap(&spec).unwrap_or_else(|e| panic!("bootstrap graph: {e:?}")),
    )
}

/// A reconciling request for `graph`, limited to `targets` (with their dependencies) when given.
pub fn request<'a>(
    graph: &'a ResourceGraph,
    targets: &'a [String],
    excludes: &'a [String],
) -> Request<'a> {
    Request {
        environment: ENVIRONMENT,
        graph,
        targets,
        excludes,
        replace: &[],
        refresh: RefreshMode::Full,
    }
}

pub async fn apply(
    engine: &Engine<'_, AwsProvider, LocalStore>,
    request: &Request<'_>,
) -> Result<ApplyReport, EngineError> {
    engine
        .apply(
            request,
            None,
            &ApplyOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
}

/// Why an apply did not succeed, in one paragraph (empty when it did).
pub fn apply_problems(result: &Result<ApplyReport, EngineError>) -> Option<String> {
    match result {
        Err(e) => Some(format!("apply failed: {e}")),
        Ok(report) if !report.succeeded() => Some(format!(
            "apply failed: {}; skipped: {:?}",
            report
                .failed
                .iter()
                .map(|(address, e)| format!("{address}: {e}"))
                .collect::<Vec<_>>()
                .join("; "),
            report.skipped
        )),
        Ok(_) => None,
    }
}

/// Why a plan is not a no-op (empty when it is).
pub fn plan_problems(result: &Result<Plan, EngineError>) -> Option<String> {
    match result {
        Err(e) => Some(format!("plan failed: {e}")),
        Ok(plan) if plan.has_changes() || !plan.drift.is_empty() => Some(format!(
            "the plan is not empty:\n{}",
            brickstack_plan::render::text(plan, false)
        )),
        Ok(_) => None,
    }
}
