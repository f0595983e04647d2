//! moto over TLS, and the state bucket's TLS-only policy exercised rather than weakened.
//!
//! `scripts/emulators.sh` serves moto over https with a certificate signed by a CA it generates
//! (`AWS_CA_BUNDLE`), plus a plain-http listener on the same backends, and makes moto evaluate
//! `aws:SecureTransport` (see `scripts/moto_tls.py`). So the bucket `brickstack bootstrap` creates
//! (its policy denies every `s3:*` with `aws:SecureTransport = false`) must refuse the state over
//! plain http and serve the S3 backend over TLS: the shared conformance suite runs against it.

use std::sync::atomic::AtomicBool;

use brickstack_aws::state_backend::S3Store;
use brickstack_aws::{AwsClients, AwsProvider, assume_role, static_sdk_config};
use brickstack_exec::{ApplyOptions, Engine, Request, Runner};
use brickstack_spec::StateBackend;
use brickstack_state::conformance;
use brickstack_state::{StateError, StateStore};
use brickstack_state_local::LocalStore;
use brickstack_testkit::{require_moto, unique_name};

use crate::support::{moto_account, ok, static_endpoint};

/// The bootstrap graph of a minimal environment with an S3 backend, applied through the engine
/// in a moto account of the test's own: the bucket, key, alias, lock table and the bucket's
/// policy exactly as `brickstack bootstrap` makes them.
async fn bootstrapped_backend(
    test_name: &str,
) -> Option<(AwsClients, String, brickstack_spec::S3Backend)> {
    let moto = moto_account(test_name).await?;
    let prefix = unique_name("tls");
    let text = format!(
        "[environment]\nname = \"tls\"\nprefix = \"{prefix}\"\nregion = \"eu-west-1\"\n\n\
         [state]\nbackend = \"s3\"\n\n\
         [databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n"
    );
    let spec = brickstack_spec::parse("tls.toml", &text).unwrap_or_else(|e| panic!("spec: {e:?}"));
    let StateBackend::S3(backend) = spec.state.clone() else {
        panic!("the spec asks for an S3 backend")
    };
    let graph = brickstack_graph::bootstrap(&spec).unwrap_or_else(|e| panic!("graph: {e:?}"));
    let provider = AwsProvider::new(&moto.clients);
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("bootstrap.json"));
    let engine = Engine {
        provider: &provider,
        store: &store,
        runner: Runner::default(),
    };
    let request = Request {
        environment: "tls",
        graph: &graph,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: brickstack_exec::RefreshMode::Full,
    };
    let report = engine
        .apply(
            &request,
            None,
            &ApplyOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap_or_else(|e| panic!("bootstrap apply: {e}"));
    assert!(report.succeeded(), "bootstrap failed: {:#?}", report.failed);
    let policy = ok(
        "s3:GetBucketPolicy",
        moto.clients
            .s3
            .get_bucket_policy()
            .bucket(&backend.bucket)
            .send()
            .await,
    );
    assert!(
        policy
            .policy()
            .unwrap_or_default()
            .contains("aws:SecureTransport"),
        "the bootstrapped bucket has the TLS-only policy: {policy:?}"
    );
    Some((moto.clients, moto.account_id, backend))
}

fn s3_store(clients: &AwsClients, backend: &brickstack_spec::S3Backend, key: &str) -> S3Store {
    S3Store::new(
        clients,
        &backend.bucket,
        key,
        &backend.lock_table,
        format!("alias/{}", backend.kms_key_alias),
    )
}

#[tokio::test]
async fn bootstrapped_state_bucket_serves_the_s3_backend_over_tls() {
    const TEST: &str = "bootstrapped_state_bucket_serves_the_s3_backend_over_tls";
    let Some((clients, _, backend)) = bootstrapped_backend(TEST).await else {
        return;
    };
    let url = brickstack_testkit::moto()
        .map(|m| m.url)
        .unwrap_or_default();
    assert!(
        url.starts_with("https://"),
        "moto is reached over TLS: {url}"
    );
    let at = |name: &str| s3_store(&clients, &backend, &format!("conformance/{name}.json"));
    conformance::run_all(at, async |name| crate::state_backend::tear(&at(name)).await).await;
}

#[tokio::test]
async fn bootstrapped_state_bucket_refuses_plain_http() {
    const TEST: &str = "bootstrapped_state_bucket_refuses_plain_http";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let plain_url = moto.plain_http_url.clone().unwrap_or_else(|| {
        panic!(
            "{TEST}: moto has no plain-http listener (`BRICKSTACK_MOTO_PLAIN_HTTP_URL`); start it with scripts/emulators.sh"
        )
    });
    let Some((tls_clients, account_id, backend)) = bootstrapped_backend(TEST).await else {
        return;
    };
    // Over TLS: the state can be written and read back.
    let tls_store = s3_store(&tls_clients, &backend, &backend.key);
    let lock = tls_store
        .lock(&conformance_request())
        .await
        .unwrap_or_else(|e| panic!("lock over TLS: {e}"));
    let written = brickstack_state::State {
        serial: 1,
        ..brickstack_state::State::new("tls", "lineage-tls")
    };
    tls_store
        .write(&lock, &written)
        .await
        .unwrap_or_else(|e| panic!("write over TLS: {e}"));
    tls_store.unlock(&lock).await.unwrap();
    let read = tls_store
        .read()
        .await
        .unwrap_or_else(|e| panic!("read over TLS: {e}"));
    assert_eq!(read.map(|s| s.serial), Some(1));

    // The same account, the same bucket, over plain http: refused by the bucket's policy.
    let mut endpoint = static_endpoint(&moto);
    endpoint.url = plain_url;
    endpoint.ca_bundle = None;
    let base = static_sdk_config(&endpoint).unwrap();
    let plain = AwsClients::new(&assume_role(&base, &moto.role_arn(&account_id), "tls").await);
    match s3_store(&plain, &backend, &backend.key).read().await {
        Err(StateError::Backend { detail, .. }) => assert!(
            detail.contains("403")
                || detail.contains("AccessDenied")
                || detail.contains("Forbidden"),
            "refused by the policy, not for another reason: {detail}"
        ),
        other => panic!("a plain-http read of the state must be refused, got {other:?}"),
    }
    let put = plain
        .s3
        .put_object()
        .bucket(&backend.bucket)
        .key("plain-http.txt")
        .body(b"not over TLS".to_vec().into())
        .send()
        .await;
    assert!(put.is_err(), "a plain-http PutObject must be refused");
    // A bucket without the policy takes plain http (the refusal is the policy's, not moto's).
    let open_bucket = unique_name("tls-open");
    ok(
        "s3:CreateBucket",
        plain
            .s3
            .create_bucket()
            .bucket(&open_bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await,
    );
    ok(
        "s3:PutObject",
        plain
            .s3
            .put_object()
            .bucket(&open_bucket)
            .key("plain-http.txt")
            .body(b"no policy".to_vec().into())
            .send()
            .await,
    );
}

/// A plain lock request, as the conformance suite makes them.
fn conformance_request() -> brickstack_state::LockRequest {
    brickstack_state::LockRequest {
        id: "tls-lock".into(),
        operation: "apply".into(),
        who: "test".into(),
        version: "0.1.0".into(),
        now: conformance::T0,
        lease_seconds: conformance::LEASE_SECONDS,
    }
}

#[tokio::test]
async fn moto_over_tls_is_refused_without_its_ca() {
    const TEST: &str = "moto_over_tls_is_refused_without_its_ca";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    assert!(
        moto.url.starts_with("https://") && moto.ca_bundle.is_some(),
        "scripts/emulators.sh serves moto over TLS: {moto:?}"
    );
    let mut endpoint = static_endpoint(&moto);
    endpoint.ca_bundle = None;
    let err = AwsClients::new(&static_sdk_config(&endpoint).unwrap())
        .caller_account()
        .await
        .expect_err("the system's roots do not include the emulators' CA");
    let message = err.to_string();
    assert!(
        message.to_lowercase().contains("certificate"),
        "a certificate error: {message}"
    );
    // With the CA, the same call goes through.
    AwsClients::new(&static_sdk_config(&static_endpoint(&moto)).unwrap())
        .caller_account()
        .await
        .unwrap_or_else(|e| panic!("with the CA: {e}"));
}
