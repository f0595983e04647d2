//! 20% of every AWS call throttled (seeded) by the proxy, each with its service's own throttling
//! error: the AWS part of the reference environment (76 resources of 24 kinds; the Databricks
//! part is not served by moto) applies from nothing in one run, and five plans in a row succeed
//! and are empty. Every throttled request is sent again by the SDK's retry layer alone: each
//! operation the adapter starts reaches moto exactly once.

use std::time::Instant;

use brickstack_testkit::unique_name;

use super::{ProxiedAccount, apply, apply_problems, plan_problems, reference_graphs, request};

/// The share of requests the proxy answers with a throttling error.
const THROTTLED: f64 = 0.2;
const PLANS: usize = 5;

#[tokio::test]
async fn under_20_percent_throttling_an_apply_from_nothing_converges_and_five_plans_succeed() {
    let Some(account) = ProxiedAccount::new("throttling").await else {
        return;
    };
    let prefix = unique_name("thr");
    let (graph, _) = reference_graphs(&prefix);
    let excludes: Vec<String> = graph
        .resources()
        .filter(|r| r.kind().starts_with("databricks_"))
        .map(|r| r.address.to_string())
        .collect();
    let resources = graph.resources().count() - excludes.len();
    let request = request(&graph, &[], &excludes);
    let engine = account.engine();
    account.proxy.throttle(THROTTLED, 20_261_206);

    let started = Instant::now();
    let applied = apply(&engine, &request).await;
    let apply_seconds = started.elapsed().as_secs_f64();
    let mut problems: Vec<String> = apply_problems(&applied).into_iter().collect();
    let mut plans_ok = 0;
    let started = Instant::now();
    for round in 1..=PLANS {
        match plan_problems(&engine.plan(&request).await) {
            None => plans_ok += 1,
            Some(problem) => problems.push(format!("plan {round} of {PLANS}: {problem}")),
        }
    }
    let plan_seconds = started.elapsed().as_secs_f64();

    let stats = account.proxy.stats().total();
    // Operations as the adapter counts them (once per operation, however many attempts its SDK
    // made); requests as the proxy saw them (every attempt).
    let operations = account.provider.calls().total();
    eprintln!(
        "fault-figures: throttling rate={THROTTLED} resources={resources} apply={} plans_ok={plans_ok}/{PLANS} requests={} throttled={} forwarded={} operations={operations} sdk_resends={} apply_seconds={apply_seconds:.1} plan_seconds={plan_seconds:.1}",
        if apply_problems(&applied).is_none() {
            "ok"
        } else {
            "failed"
        },
        stats.seen,
        stats.throttled,
        stats.forwarded,
        stats.seen.saturating_sub(operations),
    );
    assert!(
        stats.throttled > 0,
        "the proxy throttled nothing: is the provider going through it?"
    );
    // One retry layer: each operation the adapter started reached moto exactly once (the SDK
    // resent what was throttled; nothing above it started an operation again).
    if problems.is_empty() && operations != stats.forwarded {
        problems.push(format!(
            "{operations} operations started but {} requests forwarded: a layer above the SDK retried, or the SDK resent an answered request",
            stats.forwarded
        ));
    }
    assert!(
        problems.is_empty(),
        "with {:.0}% of AWS calls throttled ({} of {} requests):\n- {}",
        THROTTLED * 100.0,
        stats.throttled,
        stats.seen,
        problems.join("\n- ")
    );
}
