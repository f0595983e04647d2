//! `databricks_secret_scope`: a Databricks-backed secret scope. Its name is its native id
//! (object id `<workspace_id>/<name>`). The API has no call for one scope: reads list them.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::{done_if_not_found, observed, parse, scoped_id, split_scoped};
use super::{nothing_updates, workspace_if_any};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_secret_scope";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretScopeAttributes {
    workspace_url: String,
    name: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("name", AttributeBehaviour::ForcesReplacement)
}

fn observed_scope(ws: &Workspace, name: &str) -> Observed {
    let attributes = SecretScopeAttributes {
        workspace_url: ws.client.host().to_string(),
        name: name.to_string(),
    };
    observed(&scoped_id(ws.id, name), &attributes, [])
}

/// The scope `name` of `ws`, if it exists.
async fn scope(ws: &Workspace, name: &str) -> Result<Option<Observed>, ProviderError> {
    Ok(ws
        .client
        .list_secret_scopes()
        .await?
        .iter()
        .find(|s| s.name == name)
        .map(|s| observed_scope(ws, &s.name)))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, name) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    scope(&ws, name).await
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: SecretScopeAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    ws.client.create_secret_scope(&desired.name).await?;
    Ok(observed_scope(&ws, &desired.name))
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

/// Deletes the scope with every secret and ACL in it.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, name) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.delete_secret_scope(name).await)
}

/// Scope names are unique in a workspace: the scope named `lookup.name` in the workspace at
/// `lookup.scope` is the one a lost create made (or one the create would have collided with,
/// which the spec describes all the same).
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(name)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    match workspace_if_any(p, url).await? {
        Some(ws) => scope(&ws, name).await,
        None => Ok(None),
    }
}
