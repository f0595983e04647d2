//! `databricks_external_location`: an S3 prefix (a datalake layer's bucket) and the storage
//! credential that reaches it. The object id is `<workspace_id>/<name>`.
//!
//! * `name` (a rename changes the object id), `url`, `credential_name`, `comment` and
//!   `encryption_details` (`{sse_encryption_details = {algorithm, aws_kms_key_arn}}`, read back in
//!   the shape it is sent) change in place; dropping `encryption_details` sends an empty object.
//! * Created with validation skipped: the catalog role's policy may not have propagated yet; a
//!   location that cannot be reached shows when a catalog on it is used.
//! * Delete is forced (catalogs rooted in it are deleted first in the graph's order).
//! * `find` adopts the location with the name (unique in a metastore).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::{
    done_if_not_found, gone, observed, parse, scoped_id, scoped_workspace, uc_read,
    workspace_if_any,
};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::unity_catalog::external_locations::{
    EncryptionDetails, ExternalLocationInfo, ExternalLocationUpdate, NewExternalLocation,
};

pub(crate) const KIND: &str = "databricks_external_location";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationAttributes {
    workspace_url: String,
    name: String,
    url: String,
    credential_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    /// The SSE Unity Catalog asks S3 for when writing through the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encryption_details: Option<EncryptionDetails>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND).attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
}

fn observe(ws: &Workspace, l: ExternalLocationInfo) -> Observed {
    let attributes = LocationAttributes {
        workspace_url: ws.client.host().to_string(),
        name: l.name.clone(),
        url: l.url,
        credential_name: l.credential_name,
        comment: l.comment.filter(|c| !c.is_empty()),
        encryption_details: l
            .encryption_details
            .filter(|e| e.sse_encryption_details.is_some()),
    };
    observed(&scoped_id(ws.id, &l.name), &attributes, [])
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(uc_read(ws.client.get_external_location(name).await)?.map(|l| observe(&ws, l)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: LocationAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let created = ws
        .client
        .create_external_location(&NewExternalLocation {
            name: desired.name,
            url: desired.url,
            credential_name: desired.credential_name,
            comment: desired.comment,
            read_only: None,
            encryption_details: desired.encryption_details,
            skip_validation: Some(true),
        })
        .await?;
    Ok(observe(&ws, created))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: LocationAttributes = parse(KIND, attributes)?;
    let (ws, name) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let current = uc_read(ws.client.get_external_location(name).await)?
        .ok_or_else(|| gone(KIND, object_id))?;
    let change = ExternalLocationUpdate {
        new_name: (current.name != desired.name).then(|| desired.name.clone()),
        url: (current.url != desired.url).then(|| desired.url.clone()),
        credential_name: (current.credential_name != desired.credential_name)
            .then(|| desired.credential_name.clone()),
        comment: (current.comment != desired.comment)
            .then(|| desired.comment.clone().unwrap_or_default()),
        encryption_details: (current
            .encryption_details
            .filter(|e| e.sse_encryption_details.is_some())
            != desired.encryption_details)
            .then(|| desired.encryption_details.clone().unwrap_or_default()),
        skip_validation: Some(true),
        ..ExternalLocationUpdate::default()
    };
    let updated = ws.client.update_external_location(name, &change).await?;
    Ok(observe(&ws, updated))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.delete_external_location(name, true).await)
}

/// The location named `lookup.name` in the metastore of the workspace at `lookup.scope`.
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
    Ok(uc_read(ws.client.get_external_location(name).await)?.map(|l| observe(&ws, l)))
}
