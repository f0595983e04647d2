//! `databricks_group_instance_profile`: a registered instance profile (by ARN) in a workspace
//! group's SCIM `roles`, so the group's members may launch clusters with it. The group is named
//! by `group_display_name` (a built-in such as `admins`) or `group_id`. The object id is
//! `<workspace_id>/<group_id>|<instance profile ARN>`; reads report both the group's id and its
//! display name.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::group::{
    Entries, add_entry, entry_holder, entry_id, group_ref, remove_entry, resolve_group, split_entry,
};
use super::instance_profile::check_arn;
use super::{nothing_updates, observed, parse, scoped_id, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_group_instance_profile";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupInstanceProfileAttributes {
    workspace_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    /// The instance profile's ARN (`databricks_instance_profile.id`).
    instance_profile_id: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("group_display_name", AttributeBehaviour::ForcesReplacement)
        .attribute("group_id", AttributeBehaviour::ForcesReplacement)
        .attribute("instance_profile_id", AttributeBehaviour::ForcesReplacement)
}

fn observed_grant(ws: &Workspace, group_id: &str, group_name: String, arn: &str) -> Observed {
    let attributes = GroupInstanceProfileAttributes {
        workspace_url: ws.client.host().to_string(),
        group_display_name: Some(group_name),
        group_id: Some(group_id.to_string()),
        instance_profile_id: arn.to_string(),
    };
    observed(&scoped_id(ws.id, &entry_id(group_id, arn)), &attributes, [])
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let (group_id, arn) = split_entry(KIND, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    Ok(entry_holder(&ws.client, group_id, Entries::Roles, arn)
        .await?
        .map(|name| observed_grant(&ws, group_id, name, arn)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: GroupInstanceProfileAttributes = parse(KIND, &request.attributes)?;
    check_arn(KIND, "instance_profile_id", &desired.instance_profile_id)?;
    let group = group_ref(
        KIND,
        desired.group_display_name.as_deref(),
        desired.group_id.as_deref(),
    )?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let (group_id, group_name) = resolve_group(&ws.client, KIND, group).await?;
    add_entry(
        &ws.client,
        &group_id,
        Entries::Roles,
        &desired.instance_profile_id,
    )
    .await?;
    Ok(observed_grant(
        &ws,
        &group_id,
        group_name,
        &desired.instance_profile_id,
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
    let (group_id, arn) = split_entry(KIND, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    remove_entry(&ws.client, group_id, Entries::Roles, arn).await
}

/// Nothing to find by: granting a profile the group already has changes nothing, so creating
/// again after a lost create is safe.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}
