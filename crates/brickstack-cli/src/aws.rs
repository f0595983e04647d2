//! AWS configuration for the CLI: the standard chain, defaulting to the spec's region, trusting
//! `AWS_CA_BUNDLE` as well.

/// Fails (exit 2, see `main`) only when `AWS_CA_BUNDLE` names an unusable file.
pub async fn sdk_config(
    region: &str,
) -> Result<brickstack_aws::SdkConfig, brickstack_aws::ConfigError> {
    brickstack_aws::load_sdk_config_with_default_region(region).await
}
