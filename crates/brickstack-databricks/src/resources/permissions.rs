//! `databricks_permissions` for the workspace's authorization objects (`authorization = "tokens"`:
//! who may create and use personal access tokens). The native id is `authorization/<name>`.
//!
//! Authoritative, like Terraform's: create and update PUT exactly the desired grants, so grants
//! made by hand are removed. The `admins` group always holds `CAN_MANAGE` on tokens and the API
//! refuses a PUT that would drop it, so every PUT carries it, reads leave it (and inherited
//! grants) out, and delete PUTs it alone: the object goes back to what a new workspace has.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::gone;
use super::{invalid_input, observed, parse, scoped_id, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::permissions::{AccessControlRequest, ObjectPermissions};

pub(crate) const KIND: &str = "databricks_permissions";

const OBJECT_TYPE: &str = "authorization";
/// The authorization objects: tokens, and passwords (which only matter with password login).
const AUTHORIZATIONS: [&str; 2] = ["tokens", "passwords"];
const ADMINS: &str = "admins";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsAttributes {
    workspace_url: String,
    authorization: String,
    access_control: Vec<AccessControl>,
}

/// One grant: exactly one principal field, and a level.
///
/// Fields in alphabetical order, the order of the graph's maps: the planner compares the items
/// of an unordered list by their JSON text, so a grant must serialise as the desired one does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessControl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    permission_level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_principal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
}

impl AccessControl {
    fn request(&self) -> AccessControlRequest {
        AccessControlRequest {
            user_name: self.user_name.clone(),
            group_name: self.group_name.clone(),
            service_principal_name: self.service_principal_name.clone(),
            permission_level: self.permission_level.clone(),
        }
    }
}

impl PermissionsAttributes {
    fn desired(attributes: &Attributes) -> Result<Self, ProviderError> {
        let desired: PermissionsAttributes = parse(KIND, attributes)?;
        if !AUTHORIZATIONS.contains(&desired.authorization.as_str()) {
            return Err(invalid_input(
                KIND,
                format!(
                    "`authorization` is `{}`; it is one of `tokens`, `passwords`",
                    desired.authorization
                ),
            ));
        }
        if desired.access_control.is_empty() {
            return Err(invalid_input(
                KIND,
                "`access_control` is empty; hint: to remove every grant, remove the resource",
            ));
        }
        for (i, grant) in desired.access_control.iter().enumerate() {
            let principals = [
                &grant.service_principal_name,
                &grant.group_name,
                &grant.user_name,
            ]
            .iter()
            .filter(|p| p.is_some())
            .count();
            if principals != 1 {
                return Err(invalid_input(
                    KIND,
                    format!(
                        "`access_control[{i}]` names {principals} principals; it names exactly one of `service_principal_name`, `group_name`, `user_name`"
                    ),
                ));
            }
            if grant.group_name.as_deref() == Some(ADMINS) {
                return Err(invalid_input(
                    KIND,
                    format!(
                        "`access_control[{i}]` grants to `admins`, which always holds `CAN_MANAGE`; hint: leave it out"
                    ),
                ));
            }
        }
        Ok(desired)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("authorization", AttributeBehaviour::ForcesReplacement)
        .unordered("access_control")
}

/// `authorization/<name>` and the name back.
fn native_id(authorization: &str) -> String {
    format!("{OBJECT_TYPE}/{authorization}")
}

fn authorization_of<'a>(object_id: &str, native: &'a str) -> Result<&'a str, ProviderError> {
    native
        .strip_prefix("authorization/")
        .filter(|a| AUTHORIZATIONS.contains(a))
        .ok_or_else(|| {
            invalid_input(
                KIND,
                format!("object id `{object_id}` is not `<workspace_id>/authorization/<tokens|passwords>`"),
            )
        })
}

/// The direct grants other than `admins`'; `None` when there are none (nothing of ours is set).
fn observed_permissions(
    ws: &Workspace,
    authorization: &str,
    permissions: &ObjectPermissions,
) -> Option<Observed> {
    let access_control: Vec<AccessControl> = permissions
        .access_control_list
        .iter()
        .filter(|acl| acl.group_name.as_deref() != Some(ADMINS))
        .flat_map(|acl| acl.direct())
        .map(|grant| AccessControl {
            group_name: grant.group_name,
            permission_level: grant.permission_level,
            service_principal_name: grant.service_principal_name,
            user_name: grant.user_name,
        })
        .collect();
    if access_control.is_empty() {
        return None;
    }
    let attributes = PermissionsAttributes {
        workspace_url: ws.client.host().to_string(),
        authorization: authorization.to_string(),
        access_control,
    };
    Some(observed(
        &scoped_id(ws.id, &native_id(authorization)),
        &attributes,
        [],
    ))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let authorization = authorization_of(object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    let permissions = ws
        .client
        .get_permissions(OBJECT_TYPE, authorization)
        .await?;
    Ok(observed_permissions(&ws, authorization, &permissions))
}

/// PUTs `grants` plus the `admins` group's `CAN_MANAGE`.
async fn put(
    ws: &Workspace,
    authorization: &str,
    grants: &[AccessControl],
) -> Result<ObjectPermissions, ProviderError> {
    let mut requests: Vec<AccessControlRequest> =
        grants.iter().map(AccessControl::request).collect();
    if authorization == "tokens" {
        requests.push(AccessControlRequest::group(ADMINS, "CAN_MANAGE"));
    }
    Ok(ws
        .client
        .set_permissions(OBJECT_TYPE, authorization, &requests)
        .await?)
}

async fn set(ws: &Workspace, desired: &PermissionsAttributes) -> Result<Observed, ProviderError> {
    let answer = put(ws, &desired.authorization, &desired.access_control).await?;
    let object_id = scoped_id(ws.id, &native_id(&desired.authorization));
    observed_permissions(ws, &desired.authorization, &answer).ok_or_else(|| gone(KIND, &object_id))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = PermissionsAttributes::desired(&request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    set(&ws, &desired).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = PermissionsAttributes::desired(attributes)?;
    let (workspace_id, _) = split_scoped(KIND, object_id)?;
    let ws = p
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    set(&ws, &desired).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let authorization = authorization_of(object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    put(&ws, authorization, &[]).await.map(|_| ())
}

/// Nothing to find by, and nothing to lose: the PUT is authoritative, so creating again after a
/// lost create sets the same grants.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use brickstack_provider::ErrorClass;
    use serde_json::json;

    use super::*;

    fn desired(value: serde_json::Value) -> Result<PermissionsAttributes, ProviderError> {
        PermissionsAttributes::desired(value.as_object().unwrap())
    }

    #[test]
    fn each_grant_names_one_principal_and_never_admins() {
        let ok = json!({
            "workspace_url": "https://w", "authorization": "tokens",
            "access_control": [{"service_principal_name": "app", "permission_level": "CAN_USE"}]
        });
        desired(ok).unwrap();
        for bad in [
            json!({"workspace_url": "https://w", "authorization": "tokens",
                   "access_control": [{"permission_level": "CAN_USE"}]}),
            json!({"workspace_url": "https://w", "authorization": "tokens",
                   "access_control": [{"group_name": "a", "user_name": "b", "permission_level": "CAN_USE"}]}),
            json!({"workspace_url": "https://w", "authorization": "tokens",
                   "access_control": [{"group_name": "admins", "permission_level": "CAN_MANAGE"}]}),
            json!({"workspace_url": "https://w", "authorization": "clusters", "access_control": []}),
        ] {
            assert_eq!(
                desired(bad.clone()).unwrap_err().class,
                ErrorClass::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_grant_serialises_as_the_graph_writes_it() {
        // The graph's maps are sorted by key; the planner compares unordered items as text.
        let from_graph = json!({"service_principal_name": "app", "permission_level": "CAN_USE"});
        let mut sorted: Vec<(String, serde_json::Value)> = from_graph
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let from_graph = serde_json::Value::Object(sorted.into_iter().collect());
        let grant = AccessControl {
            group_name: None,
            permission_level: "CAN_USE".into(),
            service_principal_name: Some("app".into()),
            user_name: None,
        };
        assert_eq!(
            serde_json::to_value(&grant).unwrap().to_string(),
            from_graph.to_string()
        );
    }

    #[test]
    fn object_ids_name_the_authorization() {
        assert_eq!(
            authorization_of("1/authorization/tokens", "authorization/tokens").unwrap(),
            "tokens"
        );
        assert!(authorization_of("1/clusters/x", "clusters/x").is_err());
    }
}
