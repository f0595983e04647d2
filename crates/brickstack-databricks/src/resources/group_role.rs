//! `databricks_group_role`: an IAM role ARN in a workspace group's SCIM `roles`, which lets the
//! group's members use the role through the meta instance profile. The object id is
//! `<workspace_id>/<group_id>|<role ARN>`.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::group::{
    Entries, GroupRef, add_entry, entry_holder, entry_id, remove_entry, resolve_group, split_entry,
};
use super::{invalid_input, nothing_updates, observed, parse, scoped_id, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_group_role";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupRoleAttributes {
    workspace_url: String,
    group_id: String,
    /// An IAM role ARN (or an instance profile's).
    role: String,
}

impl GroupRoleAttributes {
    fn desired(attributes: &Attributes) -> Result<Self, ProviderError> {
        let desired: GroupRoleAttributes = parse(KIND, attributes)?;
        if !desired.role.starts_with("arn:") {
            return Err(invalid_input(
                KIND,
                format!("`role` is `{}`, not an ARN", desired.role),
            ));
        }
        Ok(desired)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("group_id", AttributeBehaviour::ForcesReplacement)
        .attribute("role", AttributeBehaviour::ForcesReplacement)
}

fn observed_role(ws: &Workspace, group_id: &str, role: &str) -> Observed {
    let attributes = GroupRoleAttributes {
        workspace_url: ws.client.host().to_string(),
        group_id: group_id.to_string(),
        role: role.to_string(),
    };
    observed(
        &scoped_id(ws.id, &entry_id(group_id, role)),
        &attributes,
        [],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let (group_id, role) = split_entry(KIND, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    Ok(entry_holder(&ws.client, group_id, Entries::Roles, role)
        .await?
        .map(|_| observed_role(&ws, group_id, role)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = GroupRoleAttributes::desired(&request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    // Fails clearly when the group is missing, rather than in the PATCH.
    let (group_id, _) = resolve_group(&ws.client, KIND, GroupRef::Id(&desired.group_id)).await?;
    add_entry(&ws.client, &group_id, Entries::Roles, &desired.role).await?;
    Ok(observed_role(&ws, &group_id, &desired.role))
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let (group_id, role) = split_entry(KIND, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    remove_entry(&ws.client, group_id, Entries::Roles, role).await
}

/// Nothing to find by: adding a role the group already has changes nothing, so creating again
/// after a lost create is safe.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}
