//! `databricks_workspace_conf`: settings of a workspace's configuration (`custom_config`, a map
//! of strings such as `enableIpAccessLists = "true"`).
//!
//! The configuration is not an object with an id, and a read is given only the object id; so
//! the object id names the managed keys: `<workspace_id>/workspace_conf:<key>,<key>` (sorted).
//! An update that changes which keys are managed returns the new object id.
//!
//! A key that stops being managed (by an update or the delete) is reset as Terraform resets it:
//! keys starting with `enable` or `enforce`, and keys whose current value is a boolean, become
//! `"false"`; any other key becomes `""`, which the API takes as "unset", i.e. the vendor's
//! default (Terraform's delete leaves such keys alone; brickstack unsets them, so destroying
//! the environment leaves no setting of its own behind).

use std::collections::{BTreeMap, BTreeSet};

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::{invalid_input, observed, parse, scoped_id, split_scoped};
use crate::client::error::Error;
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_workspace_conf";

const ID_PREFIX: &str = "workspace_conf:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceConf {
    workspace_url: String,
    custom_config: BTreeMap<String, String>,
}

impl WorkspaceConf {
    fn desired(attributes: &Attributes) -> Result<WorkspaceConf, ProviderError> {
        let conf: WorkspaceConf = parse(KIND, attributes)?;
        if let Some(key) = conf
            .custom_config
            .keys()
            .find(|k| k.is_empty() || k.contains(',') || k.contains('/'))
        {
            return Err(invalid_input(
                KIND,
                format!("`custom_config` key `{key}` is not a configuration key"),
            ));
        }
        Ok(conf)
    }

    fn keys(&self) -> BTreeSet<String> {
        self.custom_config.keys().cloned().collect()
    }
}

/// `workspace_conf:<key>,<key>`, keys sorted.
fn native_id(keys: &BTreeSet<String>) -> String {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    format!("{ID_PREFIX}{}", keys.join(","))
}

/// The managed keys named by an object id's native part.
fn keys_of(native: &str) -> Result<BTreeSet<String>, ProviderError> {
    let keys = native.strip_prefix(ID_PREFIX).ok_or_else(|| {
        invalid_input(
            KIND,
            format!("object id part `{native}` is not `{ID_PREFIX}<key>,<key>`"),
        )
    })?;
    Ok(keys
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect())
}

/// What a key that stops being managed is set to (see the module's documentation).
fn reset_value(key: &str, current: Option<&str>) -> String {
    let boolean = key.starts_with("enable")
        || key.starts_with("enforce")
        || current
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"));
    if boolean {
        "false".into()
    } else {
        String::new()
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND).attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
}

/// The workspace of `object_id` and the keys it manages; `None` when the workspace is gone.
async fn workspace_of(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<(Workspace, BTreeSet<String>)>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let keys = keys_of(native)?;
    Ok(p.workspace(workspace_id).await?.map(|w| (w, keys)))
}

async fn current_values(
    workspace: &Workspace,
    keys: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, Error> {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    workspace.client.get_workspace_conf(&keys).await
}

/// The managed keys as `read` reports them: a key without a value reads as `""`.
async fn observed_conf(
    workspace: &Workspace,
    keys: &BTreeSet<String>,
) -> Result<Observed, ProviderError> {
    let mut values = current_values(workspace, keys).await?;
    let conf = WorkspaceConf {
        workspace_url: workspace.client.host().to_string(),
        custom_config: keys
            .iter()
            .map(|k| (k.clone(), values.remove(k).unwrap_or_default()))
            .collect(),
    };
    Ok(observed(
        &scoped_id(workspace.id, &native_id(keys)),
        &conf,
        [],
    ))
}

/// Resets `keys`, which stop being managed.
async fn reset(workspace: &Workspace, keys: &BTreeSet<String>) -> Result<(), ProviderError> {
    if keys.is_empty() {
        return Ok(());
    }
    let current = current_values(workspace, keys).await?;
    let values: BTreeMap<String, String> = keys
        .iter()
        .map(|k| {
            (
                k.clone(),
                reset_value(k, current.get(k).map(String::as_str)),
            )
        })
        .collect();
    workspace.client.patch_workspace_conf(&values).await?;
    Ok(())
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((workspace, keys)) = workspace_of(p, object_id).await? else {
        return Ok(None);
    };
    observed_conf(&workspace, &keys).await.map(Some)
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = WorkspaceConf::desired(&request.attributes)?;
    let workspace = p.workspace_at(&desired.workspace_url).await?;
    workspace
        .client
        .patch_workspace_conf(&desired.custom_config)
        .await?;
    observed_conf(&workspace, &desired.keys()).await
}

/// Sets the desired values, resets keys no longer desired, and returns the object under its
/// (possibly new) id.
pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = WorkspaceConf::desired(attributes)?;
    let Some((workspace, managed)) = workspace_of(p, object_id).await? else {
        return Err(ProviderError::new(
            ErrorClass::NotFound,
            "WORKSPACE_NOT_FOUND",
            format!("{KIND} `{object_id}`: its workspace does not exist (any more)"),
        ));
    };
    let keys = desired.keys();
    let dropped: BTreeSet<String> = managed.difference(&keys).cloned().collect();
    reset(&workspace, &dropped).await?;
    workspace
        .client
        .patch_workspace_conf(&desired.custom_config)
        .await?;
    observed_conf(&workspace, &keys).await
}

/// Resets every managed key (see the module's documentation).
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((workspace, keys)) = workspace_of(p, object_id).await? else {
        return Ok(());
    };
    reset(&workspace, &keys).await
}

/// The configuration has no name to look for. Not finding it is safe: the journaled create is
/// dropped and the create runs again, and a create is an idempotent PATCH of the same values.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_id_names_the_managed_keys_sorted() {
        let keys: BTreeSet<String> = ["maxTokenLifetimeDays", "enableIpAccessLists"]
            .map(String::from)
            .into();
        let id = scoped_id(5, &native_id(&keys));
        assert_eq!(
            id,
            "5/workspace_conf:enableIpAccessLists,maxTokenLifetimeDays"
        );
        let (workspace_id, native) = split_scoped(KIND, &id).unwrap();
        assert_eq!(workspace_id, 5);
        assert_eq!(keys_of(native).unwrap(), keys);
        assert!(keys_of("enableIpAccessLists").is_err());
    }

    #[test]
    fn keys_that_stop_being_managed_are_reset_as_terraform_does() {
        assert_eq!(reset_value("enableIpAccessLists", Some("true")), "false");
        assert_eq!(reset_value("enforceUserIsolation", None), "false");
        assert_eq!(reset_value("someFlag", Some("TRUE")), "false");
        assert_eq!(reset_value("maxTokenLifetimeDays", Some("90")), "");
        assert_eq!(reset_value("maxTokenLifetimeDays", None), "");
    }
}
