//! System schemas (`/metastores/{metastore_id}/systemschemas`): the `system` catalog's schemas
//! (`access` for audit logs, `billing`, `compute`, …), each enabled (`PUT`) or disabled
//! (`DELETE`) per metastore. Both are safe to resend.

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;
use crate::workspace::clusters::open_enum;

open_enum! {
    /// A system schema's state. `ENABLE_COMPLETED` and `MANAGED` (enabled by Databricks, not
    /// toggleable) mean enabled.
    pub enum SystemSchemaState {
        Available = "AVAILABLE",
        EnableInitialized = "ENABLE_INITIALIZED",
        EnableCompleted = "ENABLE_COMPLETED",
        DisableInitialized = "DISABLE_INITIALIZED",
        Unavailable = "UNAVAILABLE",
        Managed = "MANAGED",
    }
}

impl SystemSchemaState {
    pub fn is_enabled(&self) -> bool {
        matches!(
            self,
            SystemSchemaState::EnableCompleted | SystemSchemaState::Managed
        )
    }
}

/// One system schema of the metastore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemSchemaInfo {
    pub schema: String,
    pub state: SystemSchemaState,
}

fn path(metastore_id: &str) -> String {
    format!("{UC}/metastores/{}/systemschemas", segment(metastore_id))
}

impl WorkspaceClient {
    /// The metastore's system schemas and their states.
    pub async fn list_system_schemas(
        &self,
        metastore_id: &str,
    ) -> Result<Vec<SystemSchemaInfo>, Error> {
        self.uc_list(&path(metastore_id), &[], "schemas").await
    }

    /// Enables a system schema (no-op when already enabled).
    pub async fn enable_system_schema(
        &self,
        metastore_id: &str,
        schema: &str,
    ) -> Result<(), Error> {
        self.client()
            .put::<_, serde::de::IgnoredAny>(
                &format!("{}/{}", path(metastore_id), segment(schema)),
                &serde_json::json!({}),
            )
            .await?;
        Ok(())
    }

    /// Disables a system schema.
    pub async fn disable_system_schema(
        &self,
        metastore_id: &str,
        schema: &str,
    ) -> Result<(), Error> {
        self.uc_delete(
            &format!("{}/{}", path(metastore_id), segment(schema)),
            false,
        )
        .await
    }
}
