//! `databricks_group`: a workspace SCIM group and its two cluster entitlements. The object id is
//! `<workspace_id>/<group id>`.
//!
//! Also the helpers of the kinds that add one entry to a group's multi-valued attribute
//! (`databricks_group_member`, `databricks_group_role`, `databricks_group_instance_profile`):
//! finding the group by display name or id, and reading, adding and removing the entry.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    done_if_not_found, gone, invalid_input, observed, parse, scoped_id, split_scoped, unexpected,
    workspace_if_any,
};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::WorkspaceClient;
use crate::workspace::scim::{
    ALLOW_CLUSTER_CREATE, ALLOW_INSTANCE_POOL_CREATE, ComplexValue, Group, PatchOp,
    entitlement_ops, filter_eq, has_value,
};

pub(crate) const KIND: &str = "databricks_group";

/// Groups every workspace has, which brickstack never creates or deletes.
const BUILT_IN: [&str; 2] = ["admins", "users"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupAttributes {
    workspace_url: String,
    display_name: String,
    #[serde(default)]
    allow_cluster_create: bool,
    #[serde(default)]
    allow_instance_pool_create: bool,
}

impl GroupAttributes {
    fn desired(attributes: &Attributes) -> Result<Self, ProviderError> {
        let group: GroupAttributes = parse(KIND, attributes)?;
        if BUILT_IN.contains(&group.display_name.as_str()) {
            return Err(invalid_input(
                KIND,
                format!(
                    "`{}` is a built-in group, which every workspace has and brickstack does not manage; hint: refer to it with `group_display_name` in a membership",
                    group.display_name
                ),
            ));
        }
        Ok(group)
    }

    fn entitlements(&self) -> [(&'static str, bool); 2] {
        [
            (ALLOW_CLUSTER_CREATE, self.allow_cluster_create),
            (ALLOW_INSTANCE_POOL_CREATE, self.allow_instance_pool_create),
        ]
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

fn observed_group(ws: &Workspace, group: &Group) -> Result<Observed, ProviderError> {
    let id = group
        .id
        .as_deref()
        .ok_or_else(|| unexpected(KIND, "the workspace reported a group without `id`"))?;
    let attributes = GroupAttributes {
        workspace_url: ws.client.host().to_string(),
        display_name: group.display_name.clone(),
        allow_cluster_create: has_value(&group.entitlements, ALLOW_CLUSTER_CREATE),
        allow_instance_pool_create: has_value(&group.entitlements, ALLOW_INSTANCE_POOL_CREATE),
    };
    Ok(observed(
        &scoped_id(ws.id, id),
        &attributes,
        [("id", json!(id))],
    ))
}

/// Only what the attributes need: a big group's members stay on the server.
const READ_ATTRIBUTES: &str = "displayName,entitlements";

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    match ws
        .client
        .groups()
        .get_attributes(id, Some(READ_ATTRIBUTES))
        .await?
    {
        Some(group) => observed_group(&ws, &group).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = GroupAttributes::desired(&request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let mut group = Group::new(&desired.display_name);
    group.entitlements = desired
        .entitlements()
        .iter()
        .filter(|(_, wanted)| *wanted)
        .map(|(name, _)| ComplexValue::new(*name))
        .collect();
    let created = ws.client.groups().create(&group).await?;
    current(&ws, created).await
}

/// What a read will report of `group` just created: read back, or as answered when the read
/// does not see it yet.
async fn current(ws: &Workspace, group: Group) -> Result<Observed, ProviderError> {
    let read_back = match group.id.as_deref() {
        Some(id) => {
            ws.client
                .groups()
                .get_attributes(id, Some(READ_ATTRIBUTES))
                .await?
        }
        None => None,
    };
    observed_group(ws, read_back.as_ref().unwrap_or(&group))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = GroupAttributes::desired(attributes)?;
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let ws = p
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let groups = ws.client.groups();
    let group = groups
        .get_attributes(id, Some(READ_ATTRIBUTES))
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let mut ops = Vec::new();
    if group.display_name != desired.display_name {
        ops.push(PatchOp::replace(
            "displayName",
            desired.display_name.as_str(),
        ));
    }
    ops.extend(entitlement_ops(
        &group.entitlements,
        &desired.entitlements(),
    ));
    if ops.is_empty() {
        return observed_group(&ws, &group);
    }
    groups.patch(id, &ops).await?;
    let updated = groups
        .get_attributes(id, Some(READ_ATTRIBUTES))
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    observed_group(&ws, &updated)
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.groups().delete(id).await)
}

/// A group's display name is unique in its workspace, so the one group named `lookup.name` in
/// the workspace at `lookup.scope` is the one a lost create made (or one made by hand that the
/// create would have collided with: adopting it is what the spec asks for).
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
    let mut found = ws
        .client
        .groups()
        .list(Some(&filter_eq("displayName", name)))
        .await?;
    match found.pop() {
        Some(group) if found.is_empty() => observed_group(&ws, &group).map(Some),
        _ => Ok(None),
    }
}

// ----------------------------------------------------------------------------------------------
// Shared with the kinds that manage one entry of a group.

/// A group named by exactly one of display name (the built-in `admins`, `users`) and id.
pub(crate) fn group_ref<'a>(
    kind: &str,
    display_name: Option<&'a str>,
    id: Option<&'a str>,
) -> Result<GroupRef<'a>, ProviderError> {
    match (display_name, id) {
        (Some(name), None) => Ok(GroupRef::Named(name)),
        (None, Some(id)) => Ok(GroupRef::Id(id)),
        _ => Err(invalid_input(
            kind,
            "set exactly one of `group_display_name` and `group_id`",
        )),
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum GroupRef<'a> {
    Named(&'a str),
    Id(&'a str),
}

/// The group `group` refers to, with its id and display name; an error when there is none.
pub(crate) async fn resolve_group(
    ws: &WorkspaceClient,
    kind: &str,
    group: GroupRef<'_>,
) -> Result<(String, String), ProviderError> {
    let missing = |what: String| {
        ProviderError::new(
            ErrorClass::NotFound,
            "GROUP_NOT_FOUND",
            format!("{kind}: the workspace `{}` has no group {what}", ws.host()),
        )
    };
    let found = match group {
        GroupRef::Id(id) => ws
            .groups()
            .get_attributes(id, Some("displayName"))
            .await?
            .ok_or_else(|| missing(format!("with id `{id}`")))?,
        GroupRef::Named(name) => {
            let mut found = ws
                .groups()
                .list(Some(&filter_eq("displayName", name)))
                .await?;
            if found.len() > 1 {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    "AMBIGUOUS_GROUP",
                    format!(
                        "{kind}: {} groups of `{}` are named `{name}`",
                        found.len(),
                        ws.host()
                    ),
                ));
            }
            found
                .pop()
                .ok_or_else(|| missing(format!("named `{name}`")))?
        }
    };
    let id = found
        .id
        .ok_or_else(|| unexpected(kind, "the workspace reported a group without `id`"))?;
    Ok((id, found.display_name))
}

/// `<group_id>|<entry>`: the native id of a group's entry.
pub(crate) fn entry_id(group_id: &str, entry: &str) -> String {
    format!("{group_id}|{entry}")
}

/// The group id and the entry of a native id made by [`entry_id`].
pub(crate) fn split_entry<'a>(
    kind: &str,
    object_id: &str,
    native: &'a str,
) -> Result<(&'a str, &'a str), ProviderError> {
    native
        .split_once('|')
        .filter(|(group, entry)| !group.is_empty() && !entry.is_empty())
        .ok_or_else(|| {
            invalid_input(
                kind,
                format!("object id `{object_id}` is not `<workspace_id>/<group_id>|<entry>`"),
            )
        })
}

/// A multi-valued attribute of a group that a kind adds one entry to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entries {
    /// Users, service principals and groups, by SCIM id.
    Members,
    /// AWS instance profile and IAM role ARNs.
    Roles,
}

impl Entries {
    fn path(self) -> &'static str {
        match self {
            Entries::Members => "members",
            Entries::Roles => "roles",
        }
    }

    fn of(self, group: &Group) -> &[ComplexValue] {
        match self {
            Entries::Members => &group.members,
            Entries::Roles => &group.roles,
        }
    }
}

/// The display name of group `group_id` when its `entries` hold `value`; `None` when the group
/// or the entry is gone.
pub(crate) async fn entry_holder(
    ws: &WorkspaceClient,
    group_id: &str,
    entries: Entries,
    value: &str,
) -> Result<Option<String>, ProviderError> {
    let group = ws
        .groups()
        .get_attributes(group_id, Some(&format!("displayName,{}", entries.path())))
        .await?;
    Ok(group.and_then(|g| has_value(entries.of(&g), value).then_some(g.display_name)))
}

/// Adds `value` to the group's `entries`; adding an entry the group has is a no-op.
pub(crate) async fn add_entry(
    ws: &WorkspaceClient,
    group_id: &str,
    entries: Entries,
    value: &str,
) -> Result<(), ProviderError> {
    Ok(ws
        .groups()
        .patch(group_id, &[PatchOp::add(entries.path(), [value])])
        .await?)
}

/// Removes `value` from the group's `entries`; a group that is gone has nothing to remove.
pub(crate) async fn remove_entry(
    ws: &WorkspaceClient,
    group_id: &str,
    entries: Entries,
    value: &str,
) -> Result<(), ProviderError> {
    done_if_not_found(
        ws.groups()
            .patch(group_id, &[PatchOp::remove_value(entries.path(), value)])
            .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_groups_are_refused() {
        let attributes = json!({"workspace_url": "https://w", "display_name": "admins"});
        let e = GroupAttributes::desired(attributes.as_object().unwrap()).unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidInput);
        assert!(e.message.contains("built-in"), "{}", e.message);
    }

    #[test]
    fn entry_ids_round_trip() {
        let native = entry_id("42", "arn:aws:iam::1:instance-profile/a/b");
        assert_eq!(
            split_entry("k", "1/x", &native).unwrap(),
            ("42", "arn:aws:iam::1:instance-profile/a/b")
        );
        assert!(split_entry("k", "1/x", "42").is_err());
    }
}
