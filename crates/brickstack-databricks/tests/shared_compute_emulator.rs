//! The compute client suite (`shared_compute`) against brickstack's own Databricks emulator,
//! reached as a deployment reaches it (a workspace made through the account API, OAuth at the
//! workspace). Every scenario that passes against minilake (`shared_compute_minilake.rs`) passes
//! here too, so the two implementations agree; the scenarios minilake cannot serve (termination
//! reasons and events, libraries, `aws_attributes` and `data_security_mode` round trips) and the
//! compute kinds' provider-level lifecycles with the generator's full cluster shape run here only.

mod emulator;
mod shared_compute;

use brickstack_databricks::workspace::clusters::ClusterState;
use brickstack_provider::ErrorClass;
use brickstack_provider::memory::MemorySecrets;
use emulator::EmulatorWorkspace;
use shared_compute::kinds;

macro_rules! against_the_emulator {
    ($($scenario:ident),* $(,)?) => {
        mod client {
            use super::*;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let ws = EmulatorWorkspace::start().await;
                    shared_compute::$scenario(&ws.client()).await;
                }
            )*
        }
    };
}

against_the_emulator! {
    clusters,
    waits_on_a_missing_cluster,
    policies,
    dbfs,
    global_init_scripts,
    ip_access_lists,
    workspace_conf,
    termination_reason_and_events,
    cluster_security_and_aws_attributes,
    libraries,
}

macro_rules! kinds_against_the_emulator {
    ($($lifecycle:ident),* $(,)?) => {
        mod kind {
            use super::*;
            $(
                #[tokio::test]
                async fn $lifecycle() {
                    let ws = EmulatorWorkspace::start().await;
                    let p = ws.provider(MemorySecrets::new());
                    kinds::$lifecycle(&p, &ws.url).await;
                }
            )*
        }
    };
}

kinds_against_the_emulator! {
    cluster_policy_lifecycle,
    cluster_policy_definition_is_compared_as_json,
    dbfs_file_lifecycle,
    global_init_script_lifecycle,
    ip_access_list_lifecycle,
    workspace_conf_lifecycle,
}

/// The generator's whole cluster shape (`aws_attributes`, `cluster_log_conf`, custom tags) reads
/// back without drift, updates in place and is found again after a lost create.
#[tokio::test]
async fn generated_cluster_lifecycle() {
    let ws = EmulatorWorkspace::start().await;
    let client = ws.client();
    let version = client.spark_versions().await.unwrap()[0].key.clone();
    let node_type = client.list_node_types().await.unwrap()[0]
        .node_type_id
        .clone();
    let p = ws.provider(MemorySecrets::new());
    let desired = kinds::generated_cluster(&ws.url, &version, &node_type);
    kinds::cluster_lifecycle(&p, &desired).await;
    let other = kinds::generated_cluster(&ws.url, &version, &node_type);
    kinds::cluster_find_needs_the_address_tag(&p, &other).await;
}

#[tokio::test]
async fn objects_of_a_missing_workspace_or_id_read_as_none() {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    kinds::objects_in_a_missing_workspace_are_gone(&p).await;
    kinds::missing_objects_read_as_none(&p, ws.workspace_id).await;
}

/// `running_clusters` (what `brickstack sleep` checks) names the clusters of a workspace that
/// hold machines, whoever made them, and leaves terminated ones out; a URL no workspace of the
/// account has is not found.
#[tokio::test]
async fn running_clusters_are_those_that_hold_machines() {
    let ws = EmulatorWorkspace::start().await;
    let client = ws.client();
    let p = ws.provider(MemorySecrets::new());
    assert!(p.running_clusters(&ws.url).await.unwrap().is_empty());
    let mut ids = Vec::new();
    for prefix in ["bs-sleep-running", "bs-sleep-stopped"] {
        let spec = shared_compute::small_cluster(&client, prefix).await;
        let id = client.create_cluster(&spec).await.unwrap();
        client
            .wait_running(&id, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        ids.push(id);
    }
    client.terminate_cluster(&ids[1]).await.unwrap();
    client
        .wait_terminated(&ids[1], std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let running = p.running_clusters(&ws.url).await.unwrap();
    let running: Vec<(&str, &ClusterState)> = running
        .iter()
        .map(|c| (c.cluster_id.as_str(), &c.state))
        .collect();
    assert_eq!(running, [(ids[0].as_str(), &ClusterState::Running)]);
    let missing = format!("{}/w/1", ws.emulator.url());
    let error = p.running_clusters(&missing).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::NotFound, "{error}");
}
