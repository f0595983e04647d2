//! The static (emulator) configuration, without moto: nothing listening must fail fast and say why.

use std::time::{Duration, Instant};

use brickstack_aws::retry::retry_config;
use brickstack_aws::{
    AwsClients, StaticEndpoint, emulator_retry_policy, static_sdk_config,
    static_sdk_config_with_policy,
};
use brickstack_provider::RetryPolicy;

#[test]
fn static_config_uses_the_given_endpoint_and_the_production_retry_layer() {
    let config = static_sdk_config(&StaticEndpoint {
        url: "http://127.0.0.1:9".into(),
        region: "eu-west-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        ca_bundle: None,
    })
    .unwrap();
    assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:9"));
    assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
    let policy = emulator_retry_policy();
    let retries = config.retry_config().expect("a retry config");
    assert_eq!(retries, &retry_config(&policy));
    assert!(retries.max_attempts() > 1, "throttles are retried");
    let timeouts = config.timeout_config().expect("a timeout config");
    assert!(timeouts.connect_timeout().is_some());
    assert!(
        timeouts
            .operation_timeout()
            .is_some_and(|t| t > policy.budget && t < policy.budget * 2),
        "the whole call is bounded by the budget: {timeouts:?}"
    );
}

#[tokio::test]
async fn unreachable_endpoint_fails_at_once_with_the_cause() {
    // Bind then drop to get a port with (almost certainly) nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = static_sdk_config_with_policy(
        &StaticEndpoint {
            url: format!("http://127.0.0.1:{port}"),
            region: "eu-west-1".into(),
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            ca_bundle: None,
        },
        &RetryPolicy::none(),
    )
    .unwrap();
    let started = Instant::now();
    let err = AwsClients::new(&config)
        .caller_account()
        .await
        .expect_err("nothing listens there");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no retries with backoff"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("sts:GetCallerIdentity failed: "),
        "{message}"
    );
    assert!(
        message.contains("Connection refused"),
        "the cause chain is shown: {message}"
    );
    assert_eq!(err.code(), None);
}

fn endpoint_with_ca(path: &std::path::Path) -> StaticEndpoint {
    StaticEndpoint {
        url: "https://127.0.0.1:9".into(),
        region: "eu-west-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        ca_bundle: Some(path.to_owned()),
    }
}

#[test]
fn a_missing_ca_bundle_is_an_error_naming_the_path() {
    let path = std::path::Path::new("/nonexistent/brickstack/ca.pem");
    let err = static_sdk_config(&endpoint_with_ca(path)).expect_err("no such file");
    let message = err.to_string();
    assert!(
        message.starts_with("cannot use the CA bundle `/nonexistent/brickstack/ca.pem`"),
        "{message}"
    );
    assert!(err.hint().contains("AWS_CA_BUNDLE"), "{}", err.hint());
}

/// The SDK's connector `expect`s every certificate to parse, at the first request: a bad bundle
/// must be refused while building the configuration instead.
#[test]
fn a_ca_bundle_without_a_usable_certificate_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, expected) in [
        (
            "empty.pem",
            "not a certificate\n",
            "no `-----BEGIN CERTIFICATE-----` block",
        ),
        (
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "certificate 1 cannot be a trust anchor",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = static_sdk_config(&endpoint_with_ca(&path)).expect_err(name);
        assert!(err.to_string().contains(expected), "{name}: {err}");
    }
}
