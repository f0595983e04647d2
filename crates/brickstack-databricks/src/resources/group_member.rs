//! `databricks_group_member`: one member (a user, service principal or group, by SCIM id) of a
//! workspace group named by `group_display_name` (a built-in such as `admins`) or `group_id`.
//! The object id is `<workspace_id>/<group_id>|<member_id>`; reads report both the group's id
//! and its display name, whichever the spec used.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::group::{
    Entries, add_entry, entry_holder, entry_id, group_ref, remove_entry, resolve_group, split_entry,
};
use super::{nothing_updates, observed, parse, scoped_id, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_group_member";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberAttributes {
    workspace_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    member_id: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("group_display_name", AttributeBehaviour::ForcesReplacement)
        .attribute("group_id", AttributeBehaviour::ForcesReplacement)
        .attribute("member_id", AttributeBehaviour::ForcesReplacement)
}

fn observed_member(
    ws: &Workspace,
    group_id: &str,
    group_name: String,
    member_id: &str,
) -> Observed {
    let attributes = MemberAttributes {
        workspace_url: ws.client.host().to_string(),
        group_display_name: Some(group_name),
        group_id: Some(group_id.to_string()),
        member_id: member_id.to_string(),
    };
    observed(
        &scoped_id(ws.id, &entry_id(group_id, member_id)),
        &attributes,
        [],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let (group_id, member_id) = split_entry(KIND, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    Ok(
        entry_holder(&ws.client, group_id, Entries::Members, member_id)
            .await?
            .map(|name| observed_member(&ws, group_id, name, member_id)),
    )
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: MemberAttributes = parse(KIND, &request.attributes)?;
    let group = group_ref(
        KIND,
        desired.group_display_name.as_deref(),
        desired.group_id.as_deref(),
    )?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let (group_id, group_name) = resolve_group(&ws.client, KIND, group).await?;
    add_entry(&ws.client, &group_id, Entries::Members, &desired.member_id).await?;
    Ok(observed_member(
        &ws,
        &group_id,
        group_name,
        &desired.member_id,
    ))
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
    let (group_id, member_id) = split_entry(KIND, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    remove_entry(&ws.client, group_id, Entries::Members, member_id).await
}

/// A membership has no name to find it by, and none is needed: adding a member the group
/// already has changes nothing, so creating again after a lost create is safe.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}
