//! The workspace's own metastore: `current-metastore-assignment` (which metastore the account
//! assigned to this workspace) and `metastore_summary`.

use super::{UC, is_missing_metastore};
use crate::account::unity_catalog::{MetastoreAssignment, MetastoreInfo};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

impl WorkspaceClient {
    /// The workspace's metastore assignment; `None` when it has no metastore.
    pub async fn current_metastore_assignment(&self) -> Result<Option<MetastoreAssignment>, Error> {
        match self
            .client()
            .get(&format!("{UC}/current-metastore-assignment"), &[])
            .await
        {
            Ok(found) => Ok(Some(found)),
            Err(e) if is_missing_metastore(&e) || e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The summary of the workspace's metastore.
    pub async fn metastore_summary(&self) -> Result<MetastoreInfo, Error> {
        self.client()
            .get(&format!("{UC}/metastore_summary"), &[])
            .await
    }
}
