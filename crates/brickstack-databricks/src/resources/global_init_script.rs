//! `databricks_global_init_script`: a script every cluster of the workspace runs at start. The
//! object id is `<workspace_id>/<script_id>`.
//!
//! * `content` is the script as text (the API wants it base64; the typed calls encode it).
//! * `position` is reported always (the API assigns one when none is given); `enabled` defaults
//!   to false, as the API's does.
//! * `find` adopts the one script with the looked-up name; several with that name are a
//!   conflict, not a guess.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{done_if_not_found, gone, observed, parse, scoped_id, scoped_workspace};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::init_scripts::{GlobalInitScript as ApiScript, GlobalInitScriptSpec};

pub(crate) const KIND: &str = "databricks_global_init_script";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobalInitScript {
    workspace_url: String,
    name: String,
    #[serde(default)]
    enabled: bool,
    /// The script as text.
    content: String,
    /// 0 runs first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<i64>,
}

impl GlobalInitScript {
    fn spec(&self) -> GlobalInitScriptSpec {
        GlobalInitScriptSpec {
            name: self.name.clone(),
            script: self.content.as_bytes().to_vec(),
            enabled: self.enabled,
            position: self.position,
        }
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
}

fn observed_script(workspace: &Workspace, script: ApiScript) -> Observed {
    let attributes = GlobalInitScript {
        workspace_url: workspace.client.host().to_string(),
        name: script.name,
        enabled: script.enabled,
        content: String::from_utf8_lossy(script.script.as_deref().unwrap_or_default()).into_owned(),
        position: script.position,
    };
    observed(
        &scoped_id(workspace.id, &script.script_id),
        &attributes,
        [("id", Value::String(script.script_id))],
    )
}

/// The workspace of `object_id` and the script's id in it; `None` when the workspace is gone.
/// The script as `read` reports it, or not found.
async fn current(workspace: &Workspace, script_id: &str) -> Result<Observed, ProviderError> {
    let script = workspace
        .client
        .get_global_init_script(script_id)
        .await?
        .ok_or_else(|| gone(KIND, &scoped_id(workspace.id, script_id)))?;
    Ok(observed_script(workspace, script))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((workspace, script_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(workspace
        .client
        .get_global_init_script(script_id)
        .await?
        .map(|script| observed_script(&workspace, script)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: GlobalInitScript = parse(KIND, &request.attributes)?;
    let workspace = p.workspace_at(&desired.workspace_url).await?;
    let script_id = workspace
        .client
        .create_global_init_script(&desired.spec())
        .await?;
    current(&workspace, &script_id).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: GlobalInitScript = parse(KIND, attributes)?;
    let (workspace, script_id) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    workspace
        .client
        .update_global_init_script(script_id, &desired.spec())
        .await?;
    current(&workspace, script_id).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((workspace, script_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(workspace.client.delete_global_init_script(script_id).await)
}

/// The one script named `lookup.name` in the workspace at `lookup.scope`.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(name)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    let workspace = match p.workspace_at(url).await {
        Ok(w) => w,
        Err(e) if e.class == ErrorClass::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let matching: Vec<ApiScript> = workspace
        .client
        .list_global_init_scripts()
        .await?
        .into_iter()
        .filter(|s| &s.name == name)
        .collect();
    match matching.as_slice() {
        [] => Ok(None),
        // The listing leaves the script out: read it whole.
        [one] => Ok(workspace
            .client
            .get_global_init_script(&one.script_id)
            .await?
            .map(|script| observed_script(&workspace, script))),
        several => Err(ProviderError::new(
            ErrorClass::Conflict,
            "AMBIGUOUS",
            format!(
                "{KIND}: {} global init scripts in `{url}` are named `{name}`; brickstack adopts none of them (delete the extra ones)",
                several.len()
            ),
        )),
    }
}
