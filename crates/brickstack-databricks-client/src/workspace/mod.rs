//! The workspace API (`https://<workspace>/api/…`): one module per area, each adding its typed
//! calls to [`WorkspaceClient`]. PAT or OAuth; brickstack uses OAuth with the account's service
//! principal, so no token it minted is ever needed to reach a workspace.

pub mod clusters;
pub mod conf;
pub mod dbfs;
pub mod init_scripts;
pub mod instance_profiles;
pub mod ip_access_lists;
pub mod jobs;
pub mod libraries;
pub mod notification_destinations;
pub mod permissions;
pub mod policies;
pub mod scim;
pub mod secrets;
pub mod tokens;
pub mod unity_catalog;

use crate::client::auth::{Credentials, workspace_token_url};
use crate::client::retry::RetryPolicy;
use crate::client::{BuildError, Client};

/// A client of one workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceClient {
    client: Client,
}

impl WorkspaceClient {
    /// A client of the workspace at `host` (its URL; an emulator's may carry a path prefix).
    pub fn new(
        host: &str,
        credentials: Credentials,
        retry: RetryPolicy,
    ) -> Result<Self, BuildError> {
        let client = Client::new(host, credentials, workspace_token_url(host), retry)?;
        Ok(WorkspaceClient { client })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn host(&self) -> &str {
        self.client.host()
    }
}
