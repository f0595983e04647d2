//! Shared setup: a fresh moto account per test, and unwrapping that prints the SDK's cause chain.

use std::error::Error;

use aws_sdk_sts::error::DisplayErrorContext;
use brickstack_aws::{AwsClients, StaticEndpoint, assume_role, static_sdk_config};
use brickstack_testkit::{MotoEndpoint, require_moto, unique_moto_account_id};

/// Clients acting in a moto account no other test uses.
pub struct MotoAccount {
    pub account_id: String,
    pub clients: AwsClients,
}

/// moto's endpoint as the adapter's static configuration.
pub fn static_endpoint(moto: &MotoEndpoint) -> StaticEndpoint {
    StaticEndpoint {
        url: moto.url.clone(),
        region: moto.region.clone(),
        access_key_id: moto.access_key_id.clone(),
        secret_access_key: moto.secret_access_key.clone(),
        ca_bundle: moto.ca_bundle.clone(),
    }
}

/// A fresh moto account for `test_name` (by assuming a role in it), or `None` when moto is not
/// running and the test is to be skipped (under `CI=true` this panics instead).
pub async fn moto_account(test_name: &str) -> Option<MotoAccount> {
    let moto = require_moto(test_name)?;
    let base = static_sdk_config(&static_endpoint(&moto)).expect("moto's CA bundle is usable");
    let account_id = unique_moto_account_id();
    let config = assume_role(&base, &moto.role_arn(&account_id), "brickstack-test").await;
    Some(MotoAccount {
        account_id,
        clients: AwsClients::new(&config),
    })
}

/// `result`'s value, or a panic naming `operation` with the error's whole cause chain.
pub fn ok<T, E: Error + 'static>(operation: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{operation}: {}", DisplayErrorContext(&e)))
}
