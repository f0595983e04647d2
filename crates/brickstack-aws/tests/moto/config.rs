//! The static (emulator) configuration, without moto: nothing listening must fail fast and say why.

use std::time::{Duration, Instant};

use brickstack_aws::{AwsClients, StaticEndpoint, static_sdk_config};

#[test]
fn static_config_uses_the_given_endpoint_without_retries() {
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
    assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(1));
    assert!(
        config
            .timeout_config()
            .and_then(|t| t.connect_timeout())
            .is_some()
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
    let config = static_sdk_config(&StaticEndpoint {
        url: format!("http://127.0.0.1:{port}"),
        region: "eu-west-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        ca_bundle: None,
    })
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
