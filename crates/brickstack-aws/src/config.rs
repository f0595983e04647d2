//! Building an [`SdkConfig`].

use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::SharedTimeSource;

/// Loads configuration from the standard chain: environment, shared config and credentials
/// files, SSO, `credential_process`, container and instance metadata. Endpoint overrides
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, profile `endpoint_url`) apply as the SDK defines.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The standard chain, with `region` used when the chain names none (`AWS_REGION`,
/// `AWS_DEFAULT_REGION` and the profile's region win): the spec's region is the default, never a
/// hard-coded one.
pub async fn load_sdk_config_with_default_region(region: &str) -> SdkConfig {
    let region_chain = aws_config::meta::region::RegionProviderChain::default_provider()
        .or_else(Region::new(region.to_string()));
    aws_config::defaults(BehaviorVersion::latest())
        .region(region_chain)
        .load()
        .await
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

/// Configuration for `endpoint` that reads nothing from the environment or profile files.
///
/// Retries are disabled and timeouts short: against a local emulator a refused connection or a
/// hang is a failure to report at once, not something to retry with backoff.
pub fn static_sdk_config(endpoint: &StaticEndpoint) -> SdkConfig {
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
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(EMULATOR_CONNECT_TIMEOUT)
                .operation_attempt_timeout(EMULATOR_ATTEMPT_TIMEOUT)
                .build(),
        )
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

/// The longest the credential check waits: the chain's own loaders time out sooner (instance
/// metadata after a second per attempt), this only bounds a source that hangs.
const CREDENTIALS_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a run cannot have AWS credentials, found before any call needs them.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsCheckError {
    /// No source in the chain had credentials.
    #[error("no AWS credentials found; tried {}", sources(profile))]
    NotFound {
        /// The profile the chain read (`AWS_PROFILE`, else `default`).
        profile: String,
    },
    /// A source is configured but could not deliver (an expired SSO session, a broken profile,
    /// an STS error while assuming a role).
    #[error(
        "AWS credentials could not be loaded from the profile `{profile}` or the environment: {cause}"
    )]
    Failed { profile: String, cause: String },
}

impl CredentialsCheckError {
    pub fn hint(&self) -> String {
        match self {
            CredentialsCheckError::NotFound { .. } => "export `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or name a profile with `AWS_PROFILE` (`aws configure` or `aws configure sso` writes one); `aws sts get-caller-identity` shows whether the credentials work".into(),
            CredentialsCheckError::Failed { .. } => "fix the source the message names (`aws sso login` renews an SSO session); `aws sts get-caller-identity` shows whether the credentials work".into(),
        }
    }
}

/// The sources of the standard chain, in its order, as a user would look for them.
fn sources(profile: &str) -> String {
    format!(
        "the environment variables `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, \
         the profile `{profile}` in `~/.aws/config` and `~/.aws/credentials` (keys, SSO, `credential_process`, a role to assume), \
         web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`), \
         the container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`) \
         and the instance metadata service"
    )
}

/// Asks `config`'s credential chain for credentials once, so a run without any stops before its
/// first call with where they were looked for, instead of failing each call with a dispatch
/// failure after instance-metadata timeouts. `profile` names the profile the chain reads, for
/// the message.
pub async fn check_credentials(
    config: &SdkConfig,
    profile: &str,
) -> Result<(), CredentialsCheckError> {
    let not_found = || CredentialsCheckError::NotFound {
        profile: profile.to_string(),
    };
    let Some(provider) = config.credentials_provider() else {
        return Err(not_found());
    };
    match tokio::time::timeout(CREDENTIALS_CHECK_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) | Err(_) => Err(not_found()),
        Ok(Err(error)) => {
            tracing::debug!(error = %crate::error::causes(&error), "loading AWS credentials failed");
            // The chain asks instance metadata last, once every other source had nothing: its
            // failure (unreachable, forbidden off EC2) means no source had credentials.
            if from_instance_metadata(&error) {
                return Err(not_found());
            }
            Err(CredentialsCheckError::Failed {
                profile: profile.to_string(),
                cause: innermost(&error),
            })
        }
    }
}

/// Whether `error` came from the instance metadata service (the chain's last source).
fn from_instance_metadata(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<aws_config::imds::client::error::ImdsError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The last error of a source chain: the one that says what happened.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
