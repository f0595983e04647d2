//! AWS configuration for the CLI: the standard chain, defaulting to the spec's region, trusting
//! `AWS_CA_BUNDLE` as well, checked for credentials before any call.

use std::process::ExitCode;

use crate::EXIT_INVALID_INPUT;

/// The standard chain's configuration. With an unusable `AWS_CA_BUNDLE`, or no credentials in any
/// source, the exit code after saying what is wrong and where credentials were looked for (2: the
/// run's input, its environment, is incomplete).
pub async fn sdk_config(region: &str) -> Result<brickstack_aws::SdkConfig, ExitCode> {
    let config = match brickstack_aws::load_sdk_config_with_default_region(region).await {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}\n  hint: {}", e.hint());
            return Err(ExitCode::from(EXIT_INVALID_INPUT));
        }
    };
    let profile = std::env::var("AWS_PROFILE")
        .or_else(|_| std::env::var("AWS_DEFAULT_PROFILE"))
        .unwrap_or_else(|_| "default".into());
    match brickstack_aws::check_credentials(&config, &profile).await {
        Ok(()) => Ok(config),
        Err(e) => {
            eprintln!("error: {e}\n  hint: {}", e.hint());
            Err(ExitCode::from(EXIT_INVALID_INPUT))
        }
    }
}
