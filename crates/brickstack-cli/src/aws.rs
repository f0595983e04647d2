//! AWS configuration for the CLI: the standard chain, defaulting to the spec's region.

pub async fn sdk_config(region: &str) -> brickstack_aws::SdkConfig {
    brickstack_aws::load_sdk_config_with_default_region(region).await
}
