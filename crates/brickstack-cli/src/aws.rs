//! AWS configuration for the CLI: the standard chain, defaulting to the spec's region, checked for
//! credentials before any call.

use std::process::ExitCode;

use crate::EXIT_INVALID_INPUT;

/// The standard chain's configuration; with no credentials in any source, the exit code after
/// saying where they were looked for (2: the run's input, its environment, is incomplete).
pub async fn sdk_config(region: &str) -> Result<brickstack_aws::SdkConfig, ExitCode> {
    let config = brickstack_aws::load_sdk_config_with_default_region(region).await;
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
