//! The Databricks provider for the CLI: the spec's account, the unified Databricks configuration,
//! and the AWS secret store (SSM) for the service principal's credentials and minted tokens.

use brickstack_aws::{AwsClients, AwsProvider};
use brickstack_databricks::setup::{self, SetupError, SpecAccount};
use brickstack_databricks::{
    AccountClient, Credentials, DatabricksProvider, RetryPolicy, Settings,
};
use brickstack_provider::SecretValue;
use brickstack_spec::Spec;

/// The provider of `spec`'s Databricks account. With `needs_credentials` false (bootstrap, whose
/// graph has no Databricks object) nothing is resolved and the provider refuses every call.
pub async fn provider(
    spec: &Spec,
    clients: &AwsClients,
    needs_credentials: bool,
) -> Result<DatabricksProvider, SetupError> {
    let secrets = AwsProvider::new(clients);
    let account = &spec.account;
    let resolved = if needs_credentials {
        let settings = Settings::from_environment()?;
        setup::resolve(
            SpecAccount {
                account_id: &account.account_id,
                host: &account.host,
                client_id_parameter: &account.client_id_parameter,
                client_secret_parameter: &account.client_secret_parameter,
            },
            &settings,
            &secrets,
        )
        .await?
    } else {
        setup::ResolvedAccount {
            host: account.host.clone(),
            account_id: account.account_id.clone(),
            // Never sent: the bootstrap graph has no Databricks object to reach.
            credentials: Credentials::Pat(SecretValue::new("")),
            credentials_source: "none (bootstrap)".into(),
        }
    };
    let retry = RetryPolicy::default();
    let client = AccountClient::new(
        &resolved.host,
        &resolved.account_id,
        resolved.credentials.clone(),
        retry.clone(),
    )
    .map_err(|e| SetupError::Client(e.to_string()))?;
    Ok(DatabricksProvider::new(
        client,
        resolved.credentials,
        retry,
        secrets,
        &spec.environment.name,
    ))
}
