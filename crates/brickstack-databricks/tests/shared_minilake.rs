//! The shared workspace-API scenarios (`tests/shared/`) against minilake.

mod shared;

use brickstack_databricks::{Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;

/// A client of minilake, or `None` (the test skips) when it is not running outside CI.
fn minilake(test: &str) -> Option<WorkspaceClient> {
    let endpoint = brickstack_testkit::require_minilake(test)?;
    Some(
        WorkspaceClient::new(
            &endpoint.url,
            Credentials::Pat(SecretValue::new("dev")),
            RetryPolicy::default(),
        )
        .expect("client"),
    )
}

macro_rules! against_minilake {
    ($($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                let Some(ws) = minilake(stringify!($scenario)) else {
                    return;
                };
                shared::$scenario(&ws).await;
            }
        )*
    };
}

against_minilake! {
    me_identifies_the_caller,
    scim_users_round_trip,
    scim_groups_round_trip,
    scim_service_principals_round_trip,
    scim_lists_page_through_total_results,
    tokens_round_trip,
    instance_profiles_round_trip,
    token_permissions_round_trip,
    secrets_round_trip,
}
