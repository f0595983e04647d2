//! The Unity Catalog client suite (`shared_unity_catalog`) against minilake 1.9.0. Minilake does
//! not serve storage credentials, external locations, system schemas or any account API; those
//! run against brickstack's emulator only (`shared_unity_catalog_emulator.rs`).

mod shared_unity_catalog;

use brickstack_databricks_client::{Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;
use shared_unity_catalog::Storage;

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
async fn catalogs_and_schemas() {
    let Some(w) = minilake("catalogs_and_schemas") else {
        return;
    };
    shared_unity_catalog::catalogs_and_schemas(&w, &Storage::default()).await;
}

#[tokio::test]
async fn tables() {
    let Some(w) = minilake("tables") else {
        return;
    };
    shared_unity_catalog::tables(&w, &Storage::default()).await;
}

#[tokio::test]
async fn grants_and_effective_permissions() {
    let Some(w) = minilake("grants_and_effective_permissions") else {
        return;
    };
    // Minilake records grants to any name.
    shared_unity_catalog::grants_and_effective_permissions(
        &w,
        &Storage::default(),
        "bs-analysts",
        "bs-engineers",
    )
    .await;
}

#[tokio::test]
async fn current_metastore() {
    let Some(w) = minilake("current_metastore") else {
        return;
    };
    shared_unity_catalog::current_metastore(&w).await;
}
