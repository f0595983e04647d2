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
    });
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
        },
        &RetryPolicy::none(),
    );
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
