//! The access client suite (`shared_access`) against minilake: the scenario minilake 1.9.0
//! serves faithfully, cluster permissions. The rest (permission errors and levels, single-user
//! clusters, libraries) needs brickstack's own emulator (`shared_access_emulator.rs`); why is
//! written at the top of `shared_access/mod.rs`.

mod shared_access;
mod shared_compute;

use brickstack_databricks::{Credentials, RetryPolicy, WorkspaceClient};
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
async fn cluster_permissions() {
    let Some(w) = minilake("cluster_permissions") else {
        return;
    };
    shared_access::cluster_permissions(&w).await;
}
