//! Building an [`SdkConfig`].

use std::fmt;
use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::SharedTimeSource;
use brickstack_provider::RetryPolicy;

use crate::retry::{retry_config, timeout_config};

/// How long to wait for a TCP (and TLS) connection to AWS.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound for one attempt of one call: AWS answers in well under a second, a few seconds for
/// the slowest calls brickstack makes (a page of IAM's account details, `kms:CreateKey`).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Loads configuration from the standard chain: environment, shared config and credentials
/// files, SSO, `credential_process`, container and instance metadata. Endpoint overrides
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, profile `endpoint_url`) apply as the SDK defines.
/// Calls retry and time out as [`RetryPolicy::default`] says (the one retry layer for AWS calls).
pub async fn load_sdk_config() -> SdkConfig {
    with_policy(
        aws_config::defaults(BehaviorVersion::latest()),
        &RetryPolicy::default(),
    )
    .load()
    .await
}

/// The standard chain, with `region` used when the chain names none (`AWS_REGION`,
/// `AWS_DEFAULT_REGION` and the profile's region win): the spec's region is the default, never a
/// hard-coded one. Retries and timeouts as in [`load_sdk_config`].
pub async fn load_sdk_config_with_default_region(region: &str) -> SdkConfig {
    let region_chain = aws_config::meta::region::RegionProviderChain::default_provider()
        .or_else(Region::new(region.to_string()));
    with_policy(
        aws_config::defaults(BehaviorVersion::latest()),
        &RetryPolicy::default(),
    )
    .region(region_chain)
    .load()
    .await
}

/// The SDK's retry layer and timeouts from `policy` (`crate::retry`): these apply to every call
/// of every client built from the configuration, and nothing above the adapter retries again.
fn with_policy(loader: aws_config::ConfigLoader, policy: &RetryPolicy) -> aws_config::ConfigLoader {
    loader
        .retry_config(retry_config(policy))
        .timeout_config(timeout_config(policy, CONNECT_TIMEOUT, ATTEMPT_TIMEOUT))
}

/// An explicit endpoint with static credentials, e.g. moto at `http://127.0.0.1:N`.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticEndpoint {
    /// Base URL for every service; use an IP such as `127.0.0.1`, not `localhost`.
    pub url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for StaticEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticEndpoint")
            .field("url", &self.url)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// How long to wait for a TCP connection to an emulator.
const EMULATOR_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Upper bound for one attempt; moto's first EC2 call loads its backend (about 1 s, more on a busy machine).
const EMULATOR_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The retry policy of [`static_sdk_config`]: the production layer (so tests through a
/// fault-injecting proxy see what users get: throttles retried, creates never resent blindly),
/// with waits scaled to a local emulator.
pub fn emulator_retry_policy() -> RetryPolicy {
    RetryPolicy {
        budget: Duration::from_secs(60),
        base: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        jitter: Duration::from_millis(50),
        max_server_delay: Duration::from_secs(1),
    }
}

/// Configuration for `endpoint` that reads nothing from the environment or profile files, with
/// [`emulator_retry_policy`].
pub fn static_sdk_config(endpoint: &StaticEndpoint) -> SdkConfig {
    static_sdk_config_with_policy(endpoint, &emulator_retry_policy())
}

/// [`static_sdk_config`] retrying as `policy` says (`RetryPolicy::none()`: a refused connection
/// or a hang is a failure to report at once).
pub fn static_sdk_config_with_policy(endpoint: &StaticEndpoint, policy: &RetryPolicy) -> SdkConfig {
    let credentials = Credentials::new(
        &endpoint.access_key_id,
        &endpoint.secret_access_key,
        None,
        None,
        "brickstack-static",
    );
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(endpoint.region.clone()))
        .endpoint_url(&endpoint.url)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .retry_config(retry_config(policy))
        .timeout_config(timeout_config(
            policy,
            EMULATOR_CONNECT_TIMEOUT,
            EMULATOR_ATTEMPT_TIMEOUT,
        ))
        // The loader would set these two; `AssumeRoleProvider` needs the time source.
        .time_source(SharedTimeSource::default());
    if let Some(sleep) = default_async_sleep() {
        builder = builder.sleep_impl(sleep);
    }
    builder.build()
}

/// `base`, but acting as `role_arn` (credentials from `sts:AssumeRole`, fetched lazily on the
/// first call and refreshed before they expire). STS is reached through `base`'s endpoint.
pub async fn assume_role(base: &SdkConfig, role_arn: &str, session_name: &str) -> SdkConfig {
    let provider = AssumeRoleProvider::builder(role_arn)
        .session_name(session_name)
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}
