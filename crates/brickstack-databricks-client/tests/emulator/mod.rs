//! A running workspace in brickstack's Databricks emulator (in this process), made through the
//! account API as a deployment makes it, for the suites that run against both minilake and the
//! emulator (as `brickstack-databricks`' tests do).

#![allow(dead_code)]

use std::time::Duration;

use brickstack_databricks_client::account::storage::NewStorageConfiguration;
use brickstack_databricks_client::account::workspaces::NewWorkspace;
use brickstack_databricks_client::{AccountClient, Credentials, RetryPolicy, WorkspaceClient};
use brickstack_databricks_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DatabricksEmulator, DatabricksEmulatorConfig,
};
use brickstack_provider::SecretValue;
use brickstack_testkit::{unique_account_id, unique_name};

/// The emulator, an account in it, and one running workspace.
pub struct EmulatorWorkspace {
    pub emulator: DatabricksEmulator,
    pub account: AccountClient,
    pub workspace_id: i64,
    pub url: String,
}

pub fn oauth() -> Credentials {
    Credentials::OAuthM2m {
        client_id: DEFAULT_CLIENT_ID.into(),
        client_secret: SecretValue::new(DEFAULT_CLIENT_SECRET),
    }
}

pub fn retry() -> RetryPolicy {
    RetryPolicy {
        budget: Duration::from_secs(5),
        base: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        jitter: Duration::ZERO,
        ..RetryPolicy::default()
    }
}

impl EmulatorWorkspace {
    pub async fn start() -> EmulatorWorkspace {
        Self::start_with(DatabricksEmulatorConfig::default()).await
    }

    pub async fn start_with(config: DatabricksEmulatorConfig) -> EmulatorWorkspace {
        let emulator = DatabricksEmulator::start_with(config).await.unwrap();
        let account =
            AccountClient::new(&emulator.url(), &unique_account_id(), oauth(), retry()).unwrap();
        let name = unique_name("ws");
        let credential = account
            .create_credential(
                &format!("{name}-creds"),
                "arn:aws:iam::123456789012:role/cross-account",
            )
            .await
            .unwrap();
        let storage = account
            .create_storage_configuration(&NewStorageConfiguration {
                storage_configuration_name: format!("{name}-storage"),
                root_bucket_info: brickstack_databricks_client::account::storage::RootBucketInfo {
                    bucket_name: Some(format!("{name}-root")),
                },
                role_arn: None,
            })
            .await
            .unwrap();
        let created = account
            .create_workspace(&NewWorkspace {
                workspace_name: name,
                aws_region: "eu-west-1".into(),
                credentials_id: Some(credential.credentials_id),
                storage_configuration_id: Some(storage.storage_configuration_id),
                ..NewWorkspace::default()
            })
            .await
            .unwrap();
        let running = account
            .wait_running(created.workspace_id, Duration::from_secs(30))
            .await
            .unwrap();
        let url = running.url(&emulator.url()).unwrap();
        EmulatorWorkspace {
            emulator,
            account,
            workspace_id: running.workspace_id,
            url,
        }
    }

    /// A client of the workspace as the account's service principal (OAuth at the workspace).
    pub fn client(&self) -> WorkspaceClient {
        WorkspaceClient::new(&self.url, oauth(), retry()).unwrap()
    }
}
