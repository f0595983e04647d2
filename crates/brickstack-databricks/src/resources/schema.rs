//! `databricks_schema`: a schema of a catalog. The object id is `<workspace_id>/<catalog>.<name>`.
//!
//! * `owner` changes in place; `catalog_name` and `name` force a new schema.
//! * A schema that already exists is adopted by create: Databricks makes `default` with every
//!   catalog, and a schema of the name is what the spec asks for either way.
//! * Computed: `full_name` (`catalog.schema`), what grants name.
//! * Delete is forced (its tables go with it): the engine refuses it without `--destroy-data`,
//!   since the kind holds data (`kinds::CATALOG_DATA`).
//! * `find` looks for the name in every catalog of the metastore (the lookup carries no catalog):
//!   one match is adopted; with several, the create is resent and adopts its catalog's.

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
use crate::ErrorKind;
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::unity_catalog::schemas::{NewSchema, SchemaInfo, SchemaUpdate};

pub(crate) const KIND: &str = "databricks_schema";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaAttributes {
    workspace_url: String,
    catalog_name: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema {
        holds_data: true,
        ..KindSchema::new(KIND)
            .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
            .attribute("catalog_name", AttributeBehaviour::ForcesReplacement)
            .attribute("name", AttributeBehaviour::ForcesReplacement)
            .attribute("full_name", AttributeBehaviour::Computed)
    }
}

fn observe(ws: &Workspace, s: SchemaInfo) -> Observed {
    let full_name = s.qualified_name();
    let attributes = SchemaAttributes {
        workspace_url: ws.client.host().to_string(),
        catalog_name: s.catalog_name,
        name: s.name,
        owner: s.owner,
    };
    observed(
        &scoped_id(ws.id, &full_name),
        &attributes,
        [("full_name", Value::from(full_name.clone()))],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, full_name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(uc_read(ws.client.get_schema(full_name).await)?.map(|s| observe(&ws, s)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: SchemaAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let full_name = format!("{}.{}", desired.catalog_name, desired.name);
    let new = NewSchema {
        name: desired.name.clone(),
        catalog_name: desired.catalog_name.clone(),
        ..NewSchema::default()
    };
    let created = match ws.client.create_schema(&new).await {
        Ok(created) => created,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            uc_read(ws.client.get_schema(&full_name).await)?
                .ok_or_else(|| ProviderError::from(e))?
        }
        Err(e) => return Err(e.into()),
    };
    let Some(owner) = desired.owner.filter(|o| created.owner.as_ref() != Some(o)) else {
        return Ok(observe(&ws, created));
    };
    // The create takes no owner. Were this update lost, the next plan shows the owner to change.
    let updated = ws
        .client
        .update_schema(
            &full_name,
            &SchemaUpdate {
                owner: Some(owner),
                ..SchemaUpdate::default()
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
    let desired: SchemaAttributes = parse(KIND, attributes)?;
    let (ws, full_name) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let current =
        uc_read(ws.client.get_schema(full_name).await)?.ok_or_else(|| gone(KIND, object_id))?;
    let Some(owner) = desired.owner.filter(|o| current.owner.as_ref() != Some(o)) else {
        return Ok(observe(&ws, current));
    };
    let updated = ws
        .client
        .update_schema(
            full_name,
            &SchemaUpdate {
                owner: Some(owner),
                ..SchemaUpdate::default()
            },
        )
        .await?;
    Ok(observe(&ws, updated))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, full_name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.delete_schema(full_name, true).await)
}

/// The one schema named `lookup.name` in any catalog of the workspace at `lookup.scope`.
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
    let Some(catalogs) = uc_read(ws.client.list_catalogs().await.map(Some))? else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for catalog in catalogs {
        if let Some(s) = uc_read(
            ws.client
                .get_schema(&format!("{}.{name}", catalog.name))
                .await,
        )? {
            found.push(s);
        }
    }
    // Several catalogs with the name (every catalog has `default`): the create is sent again,
    // and adopts the schema of its own catalog.
    if found.len() == 1 {
        return Ok(found.pop().map(|s| observe(&ws, s)));
    }
    Ok(None)
}
