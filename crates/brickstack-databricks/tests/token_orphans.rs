//! A token minted but never recorded is found and settled, never orphaned, against
//! brickstack's Databricks emulator:
//!
//! * an ambiguous create (the emulator mints the token, then answers 500): the create fails
//!   `maybe_applied` without minting again; `find` revokes the token whose value never reached
//!   its parameter and finds nothing, so the create mints one new token;
//! * a crash between mint and record (a live marked token, no value stored): `find` revokes it;
//! * a crash after the value was stored (a live token whose parameter holds its value): `find`
//!   adopts it.
//!
//! Each ends with exactly one live token for the address, the one the parameter holds.

mod emulator;
mod shared;

use std::sync::Arc;

use brickstack_databricks_emulator::FaultRule;
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{CreateRequest, Provider, SecretStore};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use emulator::EmulatorWorkspace;
use serde_json::json;
use shared::kinds::SharedSecrets;

const KIND: &str = "databricks_token";
const ADDRESS: &str = "databricks_token.deployer";

/// The request, with the lookup the engine journals for it (scope: the workspace URL; name: the
/// value parameter).
fn token_request(url: &str, parameter: &str) -> CreateRequest {
    let attributes = json!({
        "workspace_url": url,
        "comment": "brickstack test deployer",
        "lifetime_seconds": 3600,
        "value_parameter": parameter,
        "value_parameter_kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/test",
    });
    CreateRequest {
        address: ADDRESS.into(),
        kind: KIND.into(),
        attributes: attributes.as_object().cloned().unwrap(),
        lookup: ObjectLookup {
            name: Some(parameter.to_string()),
            tags: Default::default(),
            scope: Some(url.to_string()),
        },
    }
}

/// The ids of the live tokens of the workspace's caller.
async fn live_tokens(ws: &EmulatorWorkspace) -> Vec<String> {
    ws.client()
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.token_id)
        .collect()
}

/// Personal access tokens the emulator ever minted in the workspace.
fn minted(ws: &EmulatorWorkspace) -> usize {
    ws.emulator
        .minted_secrets()
        .iter()
        .filter(|s| s.kind == "personal_access_token" && s.workspace_id == Some(ws.workspace_id))
        .count()
}

#[tokio::test]
async fn an_ambiguous_token_create_is_settled_by_find_and_leaves_one_live_token() {
    let ws = EmulatorWorkspace::start().await;
    let secrets = Arc::new(MemorySecrets::new());
    let p = ws.provider(SharedSecrets(secrets.clone()));
    let parameter = format!("/brickstack/test/{}/pat", unique_name("orphan"));
    let request = token_request(&ws.url, &parameter);

    // The token is minted, then the answer is lost (a 500 in its place).
    ws.emulator
        .add_faults(vec![FaultRule::after_apply(
            format!("/w/{}/api/2.0/token/create", ws.workspace_id),
            500,
        )])
        .unwrap();
    let error = p.create(&request).await.unwrap_err();
    assert!(error.maybe_applied, "{error:?}");
    // Not sent again blindly: one token minted, live, its value nowhere.
    assert_eq!(minted(&ws), 1);
    assert_eq!(live_tokens(&ws).await.len(), 1);
    assert!(secrets.describe(&parameter).await.unwrap().is_none());

    // The engine's look before a resend: the orphan is revoked, nothing is adopted.
    assert_eq!(p.find(KIND, &request.lookup).await.unwrap(), None);
    assert_eq!(live_tokens(&ws).await, Vec::<String>::new());

    let created = p.create(&request).await.unwrap();
    let token_id = created.attributes["token_id"].as_str().unwrap().to_string();
    assert_eq!(live_tokens(&ws).await, vec![token_id.clone()]);
    assert_eq!(minted(&ws), 2);
    // The comment reads as desired (the identity mark is stripped).
    assert_eq!(
        created.attributes["comment"],
        json!("brickstack test deployer")
    );
    let read = p.read(KIND, &created.object_id).await.unwrap().unwrap();
    assert_eq!(
        read.attributes["comment"],
        json!("brickstack test deployer")
    );
    p.delete(KIND, &created.object_id).await.unwrap();
}

#[tokio::test]
async fn a_token_minted_but_never_stored_is_revoked_and_one_stored_is_adopted() {
    let ws = EmulatorWorkspace::start().await;
    let secrets = Arc::new(MemorySecrets::new());
    let p = ws.provider(SharedSecrets(secrets.clone()));
    let parameter = format!("/brickstack/test/{}/pat", unique_name("orphan"));
    let request = token_request(&ws.url, &parameter);

    // A crash between mint and record: a live token marked for this address, no value stored.
    // (A token of someone else, unmarked, is left alone.)
    let mark = format!("[brickstack:test:{ADDRESS}:{parameter}]");
    let orphan = ws
        .client()
        .create_token(Some(3600), &format!("brickstack test deployer {mark}"))
        .await
        .unwrap();
    let foreign = ws
        .client()
        .create_token(Some(3600), "made by hand")
        .await
        .unwrap();
    assert_eq!(p.find(KIND, &request.lookup).await.unwrap(), None);
    assert_eq!(live_tokens(&ws).await, vec![foreign.info.token_id.clone()]);
    assert_ne!(orphan.info.token_id, foreign.info.token_id);

    // A crash after the value was stored: the stored token is adopted as it is.
    let created = p.create(&request).await.unwrap();
    let found = p
        .find(KIND, &request.lookup)
        .await
        .unwrap()
        .expect("the token whose value the parameter holds is adopted");
    assert_eq!(found.object_id, created.object_id);
    assert_eq!(found.attributes["value_parameter"], json!(parameter));
    let mut live = live_tokens(&ws).await;
    live.sort();
    let mut expected = vec![
        foreign.info.token_id.clone(),
        created.attributes["token_id"].as_str().unwrap().to_string(),
    ];
    expected.sort();
    assert_eq!(live, expected);
    // Another environment's find sees nothing of ours.
    let other = emulator_provider_in(&ws, secrets.clone(), "other");
    assert_eq!(other.find(KIND, &request.lookup).await.unwrap(), None);
    assert_eq!(live_tokens(&ws).await.len(), 2);
    p.delete(KIND, &created.object_id).await.unwrap();
}

fn emulator_provider_in(
    ws: &EmulatorWorkspace,
    secrets: Arc<MemorySecrets>,
    environment: &str,
) -> brickstack_databricks::DatabricksProvider {
    brickstack_databricks::DatabricksProvider::new(
        ws.account.clone(),
        emulator::oauth(),
        emulator::retry(),
        SharedSecrets(secrets),
        environment,
    )
}
