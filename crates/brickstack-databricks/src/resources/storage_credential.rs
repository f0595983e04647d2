//! `databricks_storage_credential`: the catalog IAM role as Unity Catalog knows it. The object id
//! is `<workspace_id>/<name>`.
//!
//! * Created with validation skipped: the role trusts the credential's `external_id`, which
//!   exists only once the credential does, so the role is made after it (the graph names the
//!   role by an ARN built from the account id, not by a reference, to break that cycle).
//! * `name` (a rename changes the object id), `aws_iam_role.role_arn` and `comment` change in
//!   place.
//! * Computed: `id`, `external_id` (what the role's trust policy requires) and
//!   `unity_catalog_iam_arn` (the Databricks role that assumes it).
//! * Delete is forced: the external locations on it go first in the graph's order anyway.
//! * `find` adopts the credential with the name (unique in a metastore).

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
use crate::workspace::unity_catalog::storage_credentials::{
    AwsIamRoleRequest, NewStorageCredential, StorageCredentialInfo, StorageCredentialUpdate,
};

pub(crate) const KIND: &str = "databricks_storage_credential";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialAttributes {
    workspace_url: String,
    name: String,
    aws_iam_role: AwsIamRoleRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("external_id", AttributeBehaviour::Computed)
        .attribute("unity_catalog_iam_arn", AttributeBehaviour::Computed)
}

fn observe(ws: &Workspace, c: StorageCredentialInfo) -> Observed {
    let role = c.aws_iam_role.unwrap_or_default();
    let attributes = CredentialAttributes {
        workspace_url: ws.client.host().to_string(),
        name: c.name.clone(),
        aws_iam_role: AwsIamRoleRequest {
            role_arn: role.role_arn,
        },
        comment: c.comment.filter(|c| !c.is_empty()),
    };
    let mut computed = vec![("id", Value::from(c.id))];
    if let Some(e) = role.external_id {
        computed.push(("external_id", Value::from(e)));
    }
    if let Some(a) = role.unity_catalog_iam_arn {
        computed.push(("unity_catalog_iam_arn", Value::from(a)));
    }
    observed(&scoped_id(ws.id, &c.name), &attributes, computed)
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(uc_read(ws.client.get_storage_credential(name).await)?.map(|c| observe(&ws, c)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: CredentialAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let created = ws
        .client
        .create_storage_credential(&NewStorageCredential {
            name: desired.name,
            aws_iam_role: desired.aws_iam_role,
            comment: desired.comment,
            read_only: None,
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
    let desired: CredentialAttributes = parse(KIND, attributes)?;
    let (ws, name) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let current = uc_read(ws.client.get_storage_credential(name).await)?
        .ok_or_else(|| gone(KIND, object_id))?;
    let current_role = current.aws_iam_role.as_ref().map(|r| r.role_arn.as_str());
    let change = StorageCredentialUpdate {
        new_name: (current.name != desired.name).then(|| desired.name.clone()),
        aws_iam_role: (current_role != Some(desired.aws_iam_role.role_arn.as_str()))
            .then(|| desired.aws_iam_role.clone()),
        comment: (current.comment != desired.comment)
            .then(|| desired.comment.clone().unwrap_or_default()),
        skip_validation: Some(true),
        ..StorageCredentialUpdate::default()
    };
    let updated = ws.client.update_storage_credential(name, &change).await?;
    Ok(observe(&ws, updated))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, name)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.delete_storage_credential(name, true).await)
}

/// The credential named `lookup.name` in the metastore of the workspace at `lookup.scope`.
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
    Ok(uc_read(ws.client.get_storage_credential(name).await)?.map(|c| observe(&ws, c)))
}
