//! `databricks_system_schema`: a system schema (`access`, `billing`, `compute`, …) enabled on
//! the metastore. The object id is `<workspace_id>/<metastore_id>|<schema>`.
//!
//! * Enabling is a `PUT`, harmless to resend (`find` finds nothing to adopt); every attribute
//!   forces replacement.
//! * Read counts a schema being enabled (`ENABLE_INITIALIZED`) as there: it finishes on its own.
//! * Delete disables it.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    done_if_not_found, invalid_input, nothing_updates, observed, parse, scoped_id,
    scoped_workspace, uc_read,
};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::unity_catalog::system_schemas::SystemSchemaState;

pub(crate) const KIND: &str = "databricks_system_schema";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemSchemaAttributes {
    workspace_url: String,
    metastore_id: String,
    schema: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("metastore_id", AttributeBehaviour::ForcesReplacement)
        .attribute("schema", AttributeBehaviour::ForcesReplacement)
        .attribute("state", AttributeBehaviour::Computed)
}

fn split(native: &str) -> Result<(&str, &str), ProviderError> {
    native
        .split_once('|')
        .filter(|(m, s)| !m.is_empty() && !s.is_empty())
        .ok_or_else(|| {
            invalid_input(
                KIND,
                format!("object id part `{native}` is not `<metastore_id>|<schema>`"),
            )
        })
}

/// The schema's state when it is enabled or being enabled; `None` otherwise.
async fn enabled(
    ws: &Workspace,
    metastore_id: &str,
    schema: &str,
) -> Result<Option<SystemSchemaState>, ProviderError> {
    let listed = uc_read(ws.client.list_system_schemas(metastore_id).await.map(Some))?;
    Ok(listed
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.schema == schema)
        .map(|s| s.state)
        .filter(|state| state.is_enabled() || *state == SystemSchemaState::EnableInitialized))
}

fn observe(
    ws: &Workspace,
    metastore_id: &str,
    schema: &str,
    state: &SystemSchemaState,
) -> Observed {
    let attributes = SystemSchemaAttributes {
        workspace_url: ws.client.host().to_string(),
        metastore_id: metastore_id.to_string(),
        schema: schema.to_string(),
    };
    observed(
        &scoped_id(ws.id, &format!("{metastore_id}|{schema}")),
        &attributes,
        [("state", serde_json::to_value(state).unwrap_or(Value::Null))],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, native)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    let (metastore_id, schema) = split(native)?;
    Ok(enabled(&ws, metastore_id, schema)
        .await?
        .map(|state| observe(&ws, metastore_id, schema, &state)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: SystemSchemaAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let state = match enabled(&ws, &desired.metastore_id, &desired.schema).await? {
        Some(state) => state,
        None => {
            ws.client
                .enable_system_schema(&desired.metastore_id, &desired.schema)
                .await?;
            enabled(&ws, &desired.metastore_id, &desired.schema)
                .await?
                .unwrap_or(SystemSchemaState::EnableInitialized)
        }
    };
    Ok(observe(&ws, &desired.metastore_id, &desired.schema, &state))
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, native)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    let (metastore_id, schema) = split(native)?;
    match ws.client.disable_system_schema(metastore_id, schema).await {
        Err(e) if crate::workspace::unity_catalog::is_missing_metastore(&e) => Ok(()),
        other => done_if_not_found(other),
    }
}

/// The `PUT` is harmless to resend: nothing to adopt.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}
