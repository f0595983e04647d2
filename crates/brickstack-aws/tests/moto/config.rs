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
    });
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
    });
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
