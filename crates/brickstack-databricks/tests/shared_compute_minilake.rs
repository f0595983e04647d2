//! The compute client suite (`shared_compute`) against minilake: every scenario minilake
//! serves. The scenarios it cannot serve (cluster events and termination reasons, libraries,
//! `aws_attributes` / `data_security_mode` round trips) wait for brickstack's own emulator.

mod shared_compute;

use brickstack_databricks::{Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;

/// A client of minilake, or `None` (the test is skipped, loudly) when it is not running.
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
async fn clusters() {
    let Some(w) = minilake("clusters") else {
        return;
    };
    shared_compute::clusters(&w).await;
}

#[tokio::test]
async fn waits_on_a_missing_cluster() {
    let Some(w) = minilake("waits_on_a_missing_cluster") else {
        return;
    };
    shared_compute::waits_on_a_missing_cluster(&w).await;
}

#[tokio::test]
async fn policies() {
    let Some(w) = minilake("policies") else {
        return;
    };
    shared_compute::policies(&w).await;
}

#[tokio::test]
async fn dbfs() {
    let Some(w) = minilake("dbfs") else {
        return;
    };
    shared_compute::dbfs(&w).await;
}

#[tokio::test]
async fn global_init_scripts() {
    let Some(w) = minilake("global_init_scripts") else {
        return;
    };
    shared_compute::global_init_scripts(&w).await;
}

#[tokio::test]
async fn ip_access_lists() {
    let Some(w) = minilake("ip_access_lists") else {
        return;
    };
    shared_compute::ip_access_lists(&w).await;
}

#[tokio::test]
async fn workspace_conf() {
    let Some(w) = minilake("workspace_conf") else {
        return;
    };
    shared_compute::workspace_conf(&w).await;
}
