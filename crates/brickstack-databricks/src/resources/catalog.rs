//! `databricks_catalog`: a Unity Catalog catalog, rooted in a datalake layer's external location
//! or in the metastore's root. The object id is `<workspace_id>/<name>`.
//!
//! * `name` (a rename changes the object id), `comment` and `owner` change in place;
//!   `storage_root` forces a new catalog (Unity Catalog cannot move one).
//! * `owner` absent in the spec: the creator stays owner, and the observed owner is not compared.
//! * Delete is forced (its schemas and tables go with it): the engine refuses it without
//!   `--destroy-data`, since the kind holds data (`kinds::CATALOG_DATA`).
//! * `find` adopts the catalog with the name (unique in a metastore).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    done_if_not_found, gone, observed, parse, scoped_id, scoped_workspace, uc_read,
    workspace_if_any,
};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::unity_catalog::catalogs::{CatalogInfo, CatalogUpdate, NewCatalog};

pub(crate) const KIND: &str = "databricks_catalog";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogAttributes {
    workspace_url: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema {
        holds_data: true,
        ..KindSchema::new(KIND)
            .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
            .attribute("storage_root", AttributeBehaviour::ForcesReplacement)
            .attribute("metastore_id", AttributeBehaviour::Computed)
    }
}

fn observe(ws: &Workspace, c: CatalogInfo) -> Observed {
    let attributes = CatalogAttributes {
        workspace_url: ws.client.host().to_string(),
        name: c.name.clone(),
        comment: c.comment.filter(|c| !c.is_empty()),
        storage_root: c.storage_root,
        owner: c.owner,
    };
    let computed = c.metastore_id.map(|m| ("metastore_id", Value::from(m)));
    observed(&scoped_id(ws.id, &c.name), &attributes, computed)
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(uc_read(ws.client.get_catalog(name).await)?.map(|c| observe(&ws, c)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: CatalogAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let created = ws
        .client
        .create_catalog(&NewCatalog {
            name: desired.name.clone(),
            comment: desired.comment.clone(),
            storage_root: desired.storage_root.clone(),
            properties: None,
        })
        .await?;
    let Some(owner) = desired.owner.filter(|o| created.owner.as_ref() != Some(o)) else {
        return Ok(observe(&ws, created));
    };
    // The create takes no owner. Were this update lost, the next plan shows the owner to change.
    let updated = ws
        .client
        .update_catalog(
            &created.name,
            &CatalogUpdate {
                owner: Some(owner),
                ..CatalogUpdate::default()
            },
        )
        .await?;
    Ok(observe(&ws, updated))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: CatalogAttributes = parse(KIND, attributes)?;
    let (ws, name) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let current =
        uc_read(ws.client.get_catalog(name).await)?.ok_or_else(|| gone(KIND, object_id))?;
    let change = CatalogUpdate {
        new_name: (current.name != desired.name).then(|| desired.name.clone()),
        comment: (current.comment.as_deref().unwrap_or_default()
            != desired.comment.as_deref().unwrap_or_default())
        .then(|| desired.comment.clone().unwrap_or_default()),
        owner: desired.owner.filter(|o| current.owner.as_ref() != Some(o)),
        properties: None,
    };
    if change == CatalogUpdate::default() {
        return Ok(observe(&ws, current));
    }
    let updated = ws.client.update_catalog(name, &change).await?;
    Ok(observe(&ws, updated))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.delete_catalog(name, true).await)
}

/// The catalog named `lookup.name` in the metastore of the workspace at `lookup.scope`.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(name)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    let Some(ws) = workspace_if_any(p, url).await? else {
        return Ok(None);
    };
    Ok(uc_read(ws.client.get_catalog(name).await)?.map(|c| observe(&ws, c)))
}
