//! The jobs client suite (`shared_jobs`) against minilake 1.9.0: what it serves faithfully
//! enough (see the top of `shared_jobs/mod.rs`).

mod shared_jobs;

use brickstack_databricks_client::{Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;

/// A client of minilake, or `None` (the test is skipped, loudly; under `CI=true` it fails) when
/// it is not running.
fn minilake(test_name: &str) -> Option<WorkspaceClient> {
    let endpoint = brickstack_testkit::require_minilake(test_name)?;
    Some(
        WorkspaceClient::new(
            &endpoint.url,
            Credentials::Pat(SecretValue::new("dev")),
            RetryPolicy::default(),
        )
        .expect("a client of minilake"),
    )
}

#[tokio::test]
async fn submit_and_get_run() {
    let Some(w) = minilake("submit_and_get_run") else {
        return;
    };
    shared_jobs::submit_and_get_run(&w).await;
}

#[tokio::test]
async fn webhook_destinations() {
    let Some(w) = minilake("webhook_destinations") else {
        return;
    };
    shared_jobs::webhook_destinations(&w).await;
}
