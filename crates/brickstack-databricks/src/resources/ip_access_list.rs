//! `databricks_ip_access_list`: addresses allowed to (or blocked from) reaching a workspace. The
//! object id is `<workspace_id>/<list_id>`.
//!
//! * `ip_addresses` is a set: the API keeps its own order.
//! * `enabled` defaults to true; create takes no `enabled`, so a disabled list is created and
//!   then disabled (and deleted again if that fails, so a retried create cannot duplicate it).
//! * Update replaces the whole list (`PUT`).
//! * `find` adopts the one list with the looked-up label; several with that label are a
//!   conflict, not a guess.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{done_if_not_found, gone, observed, parse, scoped_id, scoped_workspace};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::ip_access_lists::{
    IpAccessList as ApiList, IpAccessListSpec, IpAccessListUpdate, ListType,
};

pub(crate) const KIND: &str = "databricks_ip_access_list";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IpAccessList {
    workspace_url: String,
    label: String,
    /// `ALLOW` or `BLOCK`.
    list_type: ListType,
    ip_addresses: Vec<String>,
    #[serde(default = "enabled")]
    enabled: bool,
}

fn enabled() -> bool {
    true
}

impl IpAccessList {
    fn spec(&self) -> IpAccessListSpec {
        IpAccessListSpec {
            label: self.label.clone(),
            list_type: self.list_type.clone(),
            ip_addresses: self.ip_addresses.clone(),
            enabled: self.enabled,
        }
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .unordered("ip_addresses")
}

fn observed_list(workspace: &Workspace, list: ApiList) -> Observed {
    let attributes = IpAccessList {
        workspace_url: workspace.client.host().to_string(),
        label: list.label,
        list_type: list.list_type,
        ip_addresses: list.ip_addresses,
        enabled: list.enabled,
    };
    observed(
        &scoped_id(workspace.id, &list.list_id),
        &attributes,
        [("id", Value::String(list.list_id))],
    )
}

/// The workspace of `object_id` and the list's id in it; `None` when the workspace is gone.
/// The list as `read` reports it, or not found.
async fn current(
    workspace: &Workspace,
    object_id: &str,
    list_id: &str,
) -> Result<Observed, ProviderError> {
    let list = workspace
        .client
        .get_ip_access_list(list_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    Ok(observed_list(workspace, list))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((workspace, list_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(workspace
        .client
        .get_ip_access_list(list_id)
        .await?
        .map(|list| observed_list(&workspace, list)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: IpAccessList = parse(KIND, &request.attributes)?;
    let workspace = p.workspace_at(&desired.workspace_url).await?;
    let created = workspace
        .client
        .create_ip_access_list(&desired.label, &desired.list_type, &desired.ip_addresses)
        .await?;
    let object_id = scoped_id(workspace.id, &created.list_id);
    if !desired.enabled {
        let disable = IpAccessListUpdate {
            enabled: Some(false),
            ..IpAccessListUpdate::default()
        };
        if let Err(e) = workspace
            .client
            .update_ip_access_list(&created.list_id, &disable)
            .await
        {
            // Undo the create, so that retrying it cannot leave a second list behind.
            if let Err(cleanup) = workspace
                .client
                .delete_ip_access_list(&created.list_id)
                .await
            {
                tracing::warn!(%object_id, error = %cleanup, "could not delete the list after failing to disable it");
            }
            return Err(e.into());
        }
    }
    current(&workspace, &object_id, &created.list_id).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: IpAccessList = parse(KIND, attributes)?;
    let (workspace, list_id) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    workspace
        .client
        .replace_ip_access_list(list_id, &desired.spec())
        .await?;
    current(&workspace, object_id, list_id).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((workspace, list_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(workspace.client.delete_ip_access_list(list_id).await)
}

/// The one list labelled `lookup.name` in the workspace at `lookup.scope`.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(label)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    let workspace = match p.workspace_at(url).await {
        Ok(w) => w,
        Err(e) if e.class == ErrorClass::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut matching: Vec<ApiList> = workspace
        .client
        .list_ip_access_lists()
        .await?
        .into_iter()
        .filter(|l| &l.label == label)
        .collect();
    match matching.len() {
        0 => Ok(None),
        1 => Ok(matching.pop().map(|l| observed_list(&workspace, l))),
        n => Err(ProviderError::new(
            ErrorClass::Conflict,
            "AMBIGUOUS",
            format!(
                "{KIND}: {n} IP access lists in `{url}` are labelled `{label}`; brickstack adopts none of them (delete the extra ones)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_list_reads_back_in_the_shape_the_graph_gives_it() {
        let desired = json!({
            "workspace_url": "https://acme.cloud.databricks.com",
            "label": "office",
            "list_type": "ALLOW",
            "ip_addresses": ["10.0.0.0/16", "192.0.2.1"],
        });
        let parsed: IpAccessList =
            parse(KIND, desired.as_object().unwrap()).expect("the generator's shape parses");
        assert!(parsed.enabled, "enabled defaults to true");
        let api: ApiList = serde_json::from_value(json!({
            "list_id": "abc", "label": "office", "list_type": "ALLOW",
            "ip_addresses": ["192.0.2.1", "10.0.0.0/16"], "address_count": 2,
            "enabled": true, "created_at": 1, "created_by": 42
        }))
        .unwrap();
        let workspace = Workspace {
            id: 7,
            client: crate::WorkspaceClient::new(
                "https://acme.cloud.databricks.com",
                crate::Credentials::Pat(brickstack_provider::SecretValue::new("x")),
                crate::RetryPolicy::none(),
            )
            .unwrap(),
        };
        let o = observed_list(&workspace, api);
        assert_eq!(o.object_id, "7/abc");
        let schema = schema();
        for (name, value) in desired.as_object().unwrap() {
            assert!(
                schema.same_value(name, value, &o.attributes[name]),
                "{name} differs: {}",
                o.attributes[name]
            );
        }
        assert_eq!(o.attributes["id"], "abc");
        assert!(parse::<IpAccessList>(KIND, json!({"label": "x"}).as_object().unwrap()).is_err());
    }
}
