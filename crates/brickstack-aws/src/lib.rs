//! AWS adapter: builds the official SDK's configuration and clients; the only crate that talks to AWS.
//!
//! * [`load_sdk_config`]: the standard chain (environment, profiles, SSO, IMDS), which also honours
//!   `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` by itself, and `AWS_CA_BUNDLE` (extra CAs
//!   to trust, which the Rust SDK does not read) through brickstack.
//! * [`static_sdk_config`]: an explicit endpoint, static credentials and region, reading no
//!   environment, with the production retry layer scaled to an emulator (moto), trusting the
//!   CA bundle it is given.
//! * [`retry`]: the one retry layer of AWS calls, the SDK's, configured from
//!   `brickstack_provider::RetryPolicy`, with brickstack's classifier and the guard that keeps
//!   the SDK from resending a create whose answer was lost.
//! * [`assume_role`]: the same configuration acting as another role (also how a test gets its own
//!   moto account).
//! * [`AwsClients`]: one client per service brickstack uses.
//! * [`AwsProvider`]: the engine's `Provider` for the bootstrap graph's kinds, one module per kind
//!   under `resources/`; errors are classified once, in [`classify`].
//!
//! * [`inventory`]: what is left of an environment, found by tag with plain describe calls.
//!
//! Errors are one line each ([`AwsError`], [`classify`]): the service's code and message, or the
//! innermost cause of a failure without an answer; the SDK's whole cause chain goes to the log at
//! `debug`. [`check_credentials`] finds a missing credential chain before the first call.

mod calls;
mod classify;
mod clients;
mod config;
mod error;
pub mod inventory;
mod provider;
mod resources;
pub mod retry;
mod secrets;
pub mod state_backend;
mod survey;

pub use aws_config::SdkConfig;
pub use calls::CallCounter;
pub use classify::{classify, classify_code};
pub use clients::AwsClients;
pub use config::{
    CA_BUNDLE_VAR, ConfigError, CredentialsCheckError, StaticEndpoint, assume_role,
    check_credentials, emulator_retry_policy, https_client_trusting, load_sdk_config,
    load_sdk_config_with_default_region, static_sdk_config, static_sdk_config_with_policy,
};
pub use error::AwsError;
pub use provider::{AwsProvider, served_kinds};
