//! `databricks_cluster_policy`: rules a cluster's spec must follow. The object id is
//! `<workspace_id>/<policy_id>`; the computed `id` (also `policy_id`) is what clusters reference.
//!
//! * `definition` is JSON text. It is compared as a JSON value: read reports it in canonical
//!   form (keys sorted at every level, no whitespace), so how the API formats what it stores
//!   makes no difference. A desired definition written in that form therefore reads back equal;
//!   one written otherwise differs from every read, so the generator should hand definitions
//!   over canonical ([`canonical`] is the form).
//! * Policy names are unique in a workspace, so `find` adopts the policy of the looked-up name.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{done_if_not_found, invalid_input, observed, parse, scoped_id, scoped_workspace};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::policies::{Policy, PolicySpec};

pub(crate) const KIND: &str = "databricks_cluster_policy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterPolicy {
    workspace_url: String,
    name: String,
    /// JSON text of an object.
    definition: String,
}

impl ClusterPolicy {
    fn desired(attributes: &Attributes) -> Result<ClusterPolicy, ProviderError> {
        let policy: ClusterPolicy = parse(KIND, attributes)?;
        match serde_json::from_str::<Value>(&policy.definition) {
            Ok(Value::Object(_)) => Ok(policy),
            Ok(_) => Err(invalid_input(KIND, "`definition` must be a JSON object")),
            Err(e) => Err(invalid_input(
                KIND,
                format!("`definition` is not JSON: {e}"),
            )),
        }
    }

    fn spec(&self) -> PolicySpec {
        PolicySpec {
            name: self.name.clone(),
            definition: Some(self.definition.clone()),
            ..PolicySpec::default()
        }
    }
}

/// `text` as canonical JSON: object keys sorted at every level, no insignificant whitespace.
/// Text that is not JSON is returned as it is.
pub(crate) fn canonical(text: &str) -> String {
    fn sorted(value: Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => sorted(value).to_string(),
        Err(_) => text.to_string(),
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("policy_id", AttributeBehaviour::Computed)
}

fn observed_policy(workspace: &Workspace, policy: Policy) -> Observed {
    let attributes = ClusterPolicy {
        workspace_url: workspace.client.host().to_string(),
        name: policy.spec.name,
        definition: canonical(policy.spec.definition.as_deref().unwrap_or("{}")),
    };
    observed(
        &scoped_id(workspace.id, &policy.policy_id),
        &attributes,
        [
            ("id", Value::String(policy.policy_id.clone())),
            ("policy_id", Value::String(policy.policy_id)),
        ],
    )
}

/// The workspace of `object_id` and the policy's id in it; `None` when the workspace is gone.
/// The policy as `read` reports it, or not found.
async fn current(workspace: &Workspace, policy_id: &str) -> Result<Observed, ProviderError> {
    let policy = workspace
        .client
        .get_policy(policy_id)
        .await?
        .ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                "RESOURCE_DOES_NOT_EXIST",
                format!(
                    "{KIND} `{}` does not exist (any more)",
                    scoped_id(workspace.id, policy_id)
                ),
            )
        })?;
    Ok(observed_policy(workspace, policy))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((workspace, policy_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(workspace
        .client
        .get_policy(policy_id)
        .await?
        .map(|policy| observed_policy(&workspace, policy)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = ClusterPolicy::desired(&request.attributes)?;
    let workspace = p.workspace_at(&desired.workspace_url).await?;
    let policy_id = workspace.client.create_policy(&desired.spec()).await?;
    current(&workspace, &policy_id).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = ClusterPolicy::desired(attributes)?;
    let Some((workspace, policy_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Err(ProviderError::new(
            ErrorClass::NotFound,
            "WORKSPACE_NOT_FOUND",
            format!("{KIND} `{object_id}`: its workspace does not exist (any more)"),
        ));
    };
    workspace
        .client
        .edit_policy(policy_id, &desired.spec())
        .await?;
    current(&workspace, policy_id).await
}

/// A policy clusters still use cannot be deleted (`INVALID_STATE`, a conflict): brickstack
/// deletes its clusters first.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((workspace, policy_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(workspace.client.delete_policy(policy_id).await)
}

/// The policy named `lookup.name` in the workspace at `lookup.scope` (names are unique).
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
    Ok(workspace
        .client
        .policy_named(name)
        .await?
        .map(|policy| observed_policy(&workspace, policy)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_equal_as_json_read_back_the_same() {
        let written = "{\n  \"spark_version\": { \"type\": \"unlimited\" },\n  \"autotermination_minutes\": {\"type\": \"fixed\", \"value\": 30, \"hidden\": true}\n}";
        let compact = r#"{"autotermination_minutes":{"type":"fixed","value":30,"hidden":true},"spark_version":{"type":"unlimited"}}"#;
        let expected = r#"{"autotermination_minutes":{"hidden":true,"type":"fixed","value":30},"spark_version":{"type":"unlimited"}}"#;
        assert_eq!(canonical(written), expected);
        assert_eq!(canonical(compact), expected);
        assert_eq!(
            canonical(expected),
            expected,
            "canonical text is a fixed point"
        );
        assert_eq!(canonical("not json"), "not json");
    }

    #[test]
    fn a_definition_must_be_a_json_object() {
        let attributes = |definition: &str| {
            serde_json::json!({ "workspace_url": "https://w", "name": "p", "definition": definition })
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(ClusterPolicy::desired(&attributes("{}")).is_ok());
        for bad in ["[]", "{", "30"] {
            let e = ClusterPolicy::desired(&attributes(bad)).unwrap_err();
            assert_eq!(e.class, ErrorClass::InvalidInput, "{bad}");
        }
    }
}
