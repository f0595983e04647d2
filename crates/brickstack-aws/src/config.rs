//! Building an [`SdkConfig`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use brickstack_provider::RetryPolicy;

use crate::retry::{retry_config, timeout_config};

/// How long to wait for a TCP (and TLS) connection to AWS.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound for one attempt of one call: AWS answers in well under a second, a few seconds for
/// the slowest calls brickstack makes (a page of IAM's account details, `kms:CreateKey`).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The variable the AWS CLI and the other SDKs read for a PEM file of extra CAs to trust. The Rust
/// SDK does not read it, so brickstack does: without it an endpoint with a private CA (a TLS
/// proxy, moto under `scripts/emulators.sh`) cannot be reached.
pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// Building an SDK configuration failed before any call was made.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The CA bundle cannot be read or holds no usable certificate.
    #[error("cannot use the CA bundle `{path}` ({origin}): {reason}", path = path.display())]
    CaBundle {
        path: PathBuf,
        /// Where the path came from, e.g. "from `AWS_CA_BUNDLE`".
        origin: String,
        reason: String,
    },
}

impl ConfigError {
    /// What to do about it, for the `hint:` line.
    pub fn hint(&self) -> String {
        match self {
            ConfigError::CaBundle { .. } => format!(
                "`{CA_BUNDLE_VAR}` must name a readable PEM file of CA certificates (`-----BEGIN CERTIFICATE-----` blocks); unset it to trust only the system's roots"
            ),
        }
    }
}

/// Loads configuration from the standard chain: environment, shared config and credentials
/// files, SSO, `credential_process`, container and instance metadata. Endpoint overrides
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, profile `endpoint_url`) apply as the SDK
/// defines; `AWS_CA_BUNDLE` as the AWS CLI does ([`CA_BUNDLE_VAR`]). Calls retry and time out as
/// [`RetryPolicy::default`] says (the one retry layer for AWS calls).
pub async fn load_sdk_config() -> Result<SdkConfig, ConfigError> {
    let mut loader = with_policy(
        aws_config::defaults(BehaviorVersion::latest()),
        &RetryPolicy::default(),
    );
    if let Some(client) = https_client_from_env()? {
        loader = loader.http_client(client);
    }
    Ok(loader.load().await)
}

/// The standard chain, with `region` used when the chain names none (`AWS_REGION`,
/// `AWS_DEFAULT_REGION` and the profile's region win): the spec's region is the default, never a
/// hard-coded one. Retries, timeouts and `AWS_CA_BUNDLE` as in [`load_sdk_config`].
pub async fn load_sdk_config_with_default_region(region: &str) -> Result<SdkConfig, ConfigError> {
    let region_chain = aws_config::meta::region::RegionProviderChain::default_provider()
        .or_else(Region::new(region.to_string()));
    let mut loader = with_policy(
        aws_config::defaults(BehaviorVersion::latest()),
        &RetryPolicy::default(),
    )
    .region(region_chain);
    // The loader hands its HTTP client to the credential providers (SSO, STS web identity) too.
    if let Some(client) = https_client_from_env()? {
        loader = loader.http_client(client);
    }
    Ok(loader.load().await)
}

/// The SDK's retry layer and timeouts from `policy` (`crate::retry`): these apply to every call
/// of every client built from the configuration, and nothing above the adapter retries again.
fn with_policy(loader: aws_config::ConfigLoader, policy: &RetryPolicy) -> aws_config::ConfigLoader {
    loader
        .retry_config(retry_config(policy))
        .timeout_config(timeout_config(policy, CONNECT_TIMEOUT, ATTEMPT_TIMEOUT))
}

/// The HTTPS client trusting `AWS_CA_BUNDLE` as well as the system roots, or `None` when the
/// variable is unset or empty (the SDK's default client then applies).
fn https_client_from_env() -> Result<Option<SharedHttpClient>, ConfigError> {
    match std::env::var_os(CA_BUNDLE_VAR) {
        Some(path) if !path.is_empty() => {
            https_client_trusting(Path::new(&path), &format!("from `{CA_BUNDLE_VAR}`")).map(Some)
        }
        _ => Ok(None),
    }
}

/// The SDK's HTTPS client (rustls, as its default), trusting the system's roots plus every
/// certificate in the PEM file at `path`. `origin` says where the path came from, for the error.
///
/// The file is read and checked here, once: the SDK's connector would panic on a certificate it
/// cannot parse, and only at the first request.
pub fn https_client_trusting(path: &Path, origin: &str) -> Result<SharedHttpClient, ConfigError> {
    let fail = |reason: String| ConfigError::CaBundle {
        path: path.to_owned(),
        origin: origin.to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    check_ca_pem(&pem).map_err(fail)?;
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::default().with_pem_certificate(pem))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// At least one certificate, each one usable as a trust anchor (what the SDK's connector later
/// asserts with `expect`).
fn check_ca_pem(pem: &[u8]) -> Result<(), String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no `-----BEGIN CERTIFICATE-----` block in it".into());
    }
    let mut roots = rustls::RootCertStore::empty();
    for (index, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| format!("certificate {} cannot be a trust anchor: {e}", index + 1))?;
    }
    Ok(())
}

/// An explicit endpoint with static credentials, e.g. moto at `http://127.0.0.1:N`.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticEndpoint {
    /// Base URL for every service; use an IP such as `127.0.0.1`, not `localhost`.
    pub url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A PEM file of CAs to trust besides the system's (moto over TLS with its generated CA); the
    /// same role as `AWS_CA_BUNDLE` for [`load_sdk_config`], passed in rather than read.
    pub ca_bundle: Option<PathBuf>,
}

impl fmt::Debug for StaticEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticEndpoint")
            .field("url", &self.url)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("ca_bundle", &self.ca_bundle)
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
/// [`emulator_retry_policy`]. Fails only when `ca_bundle` is set and unusable.
pub fn static_sdk_config(endpoint: &StaticEndpoint) -> Result<SdkConfig, ConfigError> {
    static_sdk_config_with_policy(endpoint, &emulator_retry_policy())
}

/// [`static_sdk_config`] retrying as `policy` says (`RetryPolicy::none()`: a refused connection
/// or a hang is a failure to report at once).
pub fn static_sdk_config_with_policy(
    endpoint: &StaticEndpoint,
    policy: &RetryPolicy,
) -> Result<SdkConfig, ConfigError> {
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
    if let Some(path) = &endpoint.ca_bundle {
        builder = builder.http_client(https_client_trusting(path, "the endpoint's `ca_bundle`")?);
    }
    Ok(builder.build())
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
