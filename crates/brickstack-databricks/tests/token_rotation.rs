//! What token rotation needs of the token kinds, against brickstack's Databricks emulator with
//! its clock moved (ours never is): a read counts `expires_in_seconds` by the workspace's clock,
//! and an expired token still reads (the plan rotates it, it does not recreate it); a new token
//! is checked with a call made with it before its value is stored, and one that does not work is
//! revoked and never stored, so the parameter keeps the working value.

mod emulator;
mod shared;

use std::sync::Arc;
use std::time::Duration;

use brickstack_databricks_emulator::FaultRule;
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{CreateRequest, ErrorClass, Observed, Provider, SecretStore};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use emulator::EmulatorWorkspace;
use serde_json::{Value, json};
use shared::kinds::SharedSecrets;

const KIND: &str = "databricks_token";
const SCIM_ME: &str = "/api/2.0/preview/scim/v2/Me";

fn token_request(url: &str, parameter: &str) -> CreateRequest {
    let attributes = json!({
        "workspace_url": url,
        "comment": unique_name("brickstack rotation test"),
        "lifetime_seconds": 3600,
        "rotate_before_seconds": 600,
        "value_parameter": parameter,
        "value_parameter_kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/test",
    });
    CreateRequest {
        address: format!("{KIND}.deployer"),
        kind: KIND.into(),
        attributes: attributes.as_object().cloned().unwrap(),
        lookup: ObjectLookup {
            name: None,
            tags: Default::default(),
            scope: Some(url.to_string()),
        },
    }
}

fn expires_in(observed: &Observed) -> i64 {
    observed.attributes["expires_in_seconds"].as_i64().unwrap()
}

#[tokio::test]
async fn an_expired_token_still_reads_counting_down_by_the_workspaces_clock() {
    let ws = EmulatorWorkspace::start().await;
    let secrets = Arc::new(MemorySecrets::new());
    let p = ws.provider(SharedSecrets(secrets.clone()));
    let parameter = format!("/brickstack/test/{}/pat", unique_name("rot"));
    let token = p.create(&token_request(&ws.url, &parameter)).await.unwrap();

    let fresh = p.read(KIND, &token.object_id).await.unwrap().unwrap();
    assert!((3540..=3600).contains(&expires_in(&fresh)), "{fresh:?}");

    // Three hours past its expiry by the workspace's clock; ours has not moved.
    ws.emulator
        .advance_clock(Duration::from_secs(3600 + 3 * 3600));
    let expired = p
        .read(KIND, &token.object_id)
        .await
        .unwrap()
        .expect("an expired token is still there until it is revoked");
    assert!(
        (-3 * 3600 - 60..=-3 * 3600).contains(&expires_in(&expired)),
        "{expired:?}"
    );
    // Nothing else about it changed: only the rotation rule makes the plan replace it.
    assert_eq!(expired.attributes["value_parameter"], json!(parameter));
    assert_eq!(expired.attributes["token_id"], token.attributes["token_id"],);

    // The client keeps the server's time from the answers' `Date`.
    let client = ws.client();
    client.me().await.unwrap();
    let skew = client.client().server_now_ms() - ws.emulator.now_ms();
    assert!((-2_000..=1_000).contains(&skew), "skew {skew} ms");
    p.delete(KIND, &token.object_id).await.unwrap();
}

#[tokio::test]
async fn a_new_token_that_does_not_authenticate_is_revoked_and_never_stored() {
    let ws = EmulatorWorkspace::start().await;
    let secrets = Arc::new(MemorySecrets::new());
    let p = ws.provider(SharedSecrets(secrets.clone()));
    let parameter = format!("/brickstack/test/{}/pat", unique_name("rot"));
    let request = token_request(&ws.url, &parameter);
    let working = p.create(&request).await.unwrap();
    let working_value = secrets.values()[&parameter].clone();

    // Every `SCIM Me` is refused: the replacement's check fails, whatever the retries.
    let me = format!("/w/{}{SCIM_ME}", ws.workspace_id);
    ws.emulator
        .add_faults(vec![FaultRule {
            times: Some(0),
            ..FaultRule::status(me.clone(), 401)
        }])
        .unwrap();
    let error = p.create(&request).await.unwrap_err();
    assert!(
        error.message.contains("does not authenticate")
            && error.message.contains("was not stored")
            && error.message.contains("it was revoked"),
        "{error}"
    );
    assert_eq!(error.class, ErrorClass::Fatal, "{error}");
    assert!(!error.message.contains(working_value.expose()));
    // The parameter still holds the working token's value, at its first version...
    let stored = secrets.describe(&parameter).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(secrets.values()[&parameter], working_value);
    assert_eq!(
        stored.tags.get("brickstack:token_id").map(String::as_str),
        working.attributes["token_id"].as_str()
    );
    // ...and the token that failed was revoked: only the working one is left.
    let ids: Vec<Value> = ws
        .client()
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| json!(t.token_id))
        .collect();
    assert_eq!(ids, [working.attributes["token_id"].clone()]);

    // A token refused twice, then accepted (not yet known everywhere): the check waits for it.
    ws.emulator.clear_faults();
    ws.emulator
        .add_faults(vec![FaultRule {
            times: Some(2),
            ..FaultRule::status(me, 401)
        }])
        .unwrap();
    let replacement = p.create(&request).await.unwrap();
    assert_eq!(replacement.attributes["value_parameter_version"], json!(2));
    let faults = ws.emulator.faults();
    assert_eq!(
        faults.iter().map(|f| f.hits).collect::<Vec<_>>(),
        [2],
        "{faults:?}"
    );
    p.delete(KIND, &working.object_id).await.unwrap();
    p.delete(KIND, &replacement.object_id).await.unwrap();
}
