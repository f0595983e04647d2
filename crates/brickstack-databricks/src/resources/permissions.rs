//! `databricks_permissions` for one object of the workspace, named by exactly one of:
//!
//! * `authorization` (`"tokens"`: who may create and use personal access tokens; `"passwords"`),
//!   native id `authorization/<name>`;
//! * `cluster_id` (who may attach to, restart or manage a cluster), native id `clusters/<id>`.
//!
//! `id` is computed as Terraform's (`/authorization/tokens`, `/clusters/<id>`).
//!
//! Authoritative, like Terraform's: create and update PUT exactly the desired grants, so grants
//! made by hand are removed. The `admins` group always holds `CAN_MANAGE` on tokens and the API
//! refuses a PUT that would drop it, so every PUT on tokens carries it; on a cluster, admins'
//! `CAN_MANAGE` is inherited from `/clusters/` and no PUT can drop it. Reads leave `admins`'
//! grants and every inherited grant out, and delete PUTs no direct grant (tokens: `admins`
//! alone): the object goes back to what it was when it was made, and reads as gone.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::{absent_if_not_found, done_if_not_found, gone};
use super::{invalid_input, observed, parse, scoped_id, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::permissions::{AccessControlRequest, ObjectPermissions};

pub(crate) const KIND: &str = "databricks_permissions";

/// The authorization objects: tokens, and passwords (which only matter with password login).
const AUTHORIZATIONS: [&str; 2] = ["tokens", "passwords"];
const ADMINS: &str = "admins";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsAttributes {
    workspace_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
    access_control: Vec<AccessControl>,
}

/// The object whose grants a resource manages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Authorization(String),
    Cluster(String),
}

impl Target {
    /// `object_type` and `object_id` of the permissions API.
    fn path(&self) -> (&'static str, &str) {
        match self {
            Target::Authorization(name) => ("authorization", name),
            Target::Cluster(id) => ("clusters", id),
        }
    }

    /// `authorization/<name>` or `clusters/<id>`: the part of the object id after the workspace.
    fn native_id(&self) -> String {
        let (object_type, id) = self.path();
        format!("{object_type}/{id}")
    }

    /// Terraform's `id` of the permissions: `/authorization/tokens`, `/clusters/<id>`.
    fn terraform_id(&self) -> String {
        format!("/{}", self.native_id())
    }

    /// The target of a native id made by [`Target::native_id`].
    fn of_native(object_id: &str, native: &str) -> Result<Target, ProviderError> {
        if let Some(name) = native.strip_prefix("authorization/")
            && AUTHORIZATIONS.contains(&name)
        {
            return Ok(Target::Authorization(name.to_string()));
        }
        if let Some(id) = native.strip_prefix("clusters/")
            && !id.is_empty()
            && !id.contains('/')
        {
            return Ok(Target::Cluster(id.to_string()));
        }
        Err(invalid_input(
            KIND,
            format!(
                "object id `{object_id}` is neither `<workspace_id>/authorization/<tokens|passwords>` nor `<workspace_id>/clusters/<cluster_id>`"
            ),
        ))
    }

    fn attributes(
        &self,
        workspace_url: &str,
        access_control: Vec<AccessControl>,
    ) -> PermissionsAttributes {
        let (authorization, cluster_id) = match self {
            Target::Authorization(name) => (Some(name.clone()), None),
            Target::Cluster(id) => (None, Some(id.clone())),
        };
        PermissionsAttributes {
            workspace_url: workspace_url.to_string(),
            authorization,
            cluster_id,
            access_control,
        }
    }
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
        desired.target()?;
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

    /// The object named by exactly one of `authorization` and `cluster_id`.
    fn target(&self) -> Result<Target, ProviderError> {
        match (&self.authorization, &self.cluster_id) {
            (Some(name), None) if AUTHORIZATIONS.contains(&name.as_str()) => {
                Ok(Target::Authorization(name.clone()))
            }
            (Some(name), None) => Err(invalid_input(
                KIND,
                format!("`authorization` is `{name}`; it is one of `tokens`, `passwords`"),
            )),
            (None, Some(id)) if !id.trim().is_empty() && !id.contains('/') => {
                Ok(Target::Cluster(id.clone()))
            }
            (None, Some(id)) => Err(invalid_input(
                KIND,
                format!("`cluster_id` = `{id}` is not a cluster id"),
            )),
            _ => Err(invalid_input(
                KIND,
                "set exactly one of `authorization` and `cluster_id`",
            )),
        }
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("authorization", AttributeBehaviour::ForcesReplacement)
        .attribute("cluster_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .unordered("access_control")
}

/// The direct grants other than `admins`'; `None` when there are none (nothing of ours is set).
fn observed_permissions(
    ws: &Workspace,
    target: &Target,
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
    let attributes = target.attributes(ws.client.host(), access_control);
    Some(observed(
        &scoped_id(ws.id, &target.native_id()),
        &attributes,
        [("id", Value::String(target.terraform_id()))],
    ))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let target = Target::of_native(object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    let (object_type, id) = target.path();
    // A cluster that is gone took its grants with it.
    let Some(permissions) = absent_if_not_found(ws.client.get_permissions(object_type, id).await)?
    else {
        return Ok(None);
    };
    Ok(observed_permissions(&ws, &target, &permissions))
}

/// PUTs `grants`, plus the `admins` group's `CAN_MANAGE` on tokens.
async fn put(
    ws: &Workspace,
    target: &Target,
    grants: &[AccessControl],
) -> Result<ObjectPermissions, crate::client::error::Error> {
    let mut requests: Vec<AccessControlRequest> =
        grants.iter().map(AccessControl::request).collect();
    if *target == Target::Authorization("tokens".to_string()) {
        requests.push(AccessControlRequest::group(ADMINS, "CAN_MANAGE"));
    }
    let (object_type, id) = target.path();
    ws.client.set_permissions(object_type, id, &requests).await
}

async fn set(ws: &Workspace, desired: &PermissionsAttributes) -> Result<Observed, ProviderError> {
    let target = desired.target()?;
    let answer = put(ws, &target, &desired.access_control).await?;
    let object_id = scoped_id(ws.id, &target.native_id());
    observed_permissions(ws, &target, &answer).ok_or_else(|| gone(KIND, &object_id))
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
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    if Target::of_native(object_id, native)? != desired.target()? {
        // `authorization` and `cluster_id` force replacement: the planner never asks this.
        return Err(invalid_input(
            KIND,
            format!(
                "`{object_id}` is another object than the desired one; it is replaced, not updated"
            ),
        ));
    }
    let ws = p
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    set(&ws, &desired).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let target = Target::of_native(object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    // A cluster that is gone has no grants left.
    done_if_not_found(put(&ws, &target, &[]).await)
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
            json!({"workspace_url": "https://w", "authorization": "tokens", "cluster_id": "c",
                   "access_control": [{"user_name": "a@b.c", "permission_level": "CAN_RESTART"}]}),
            json!({"workspace_url": "https://w",
                   "access_control": [{"user_name": "a@b.c", "permission_level": "CAN_RESTART"}]}),
            json!({"workspace_url": "https://w", "cluster_id": "",
                   "access_control": [{"user_name": "a@b.c", "permission_level": "CAN_RESTART"}]}),
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
    fn the_cluster_form_names_a_cluster() {
        let cluster = json!({
            "workspace_url": "https://w", "cluster_id": "0101-abc",
            "access_control": [{"permission_level": "CAN_RESTART", "user_name": "ana@example.com"}]
        });
        let target = desired(cluster).unwrap().target().unwrap();
        assert_eq!(target, Target::Cluster("0101-abc".into()));
        assert_eq!(target.native_id(), "clusters/0101-abc");
        assert_eq!(target.terraform_id(), "/clusters/0101-abc");
    }

    #[test]
    fn object_ids_name_the_authorization_or_the_cluster() {
        assert_eq!(
            Target::of_native("1/authorization/tokens", "authorization/tokens").unwrap(),
            Target::Authorization("tokens".into())
        );
        assert_eq!(
            Target::of_native("1/clusters/x", "clusters/x").unwrap(),
            Target::Cluster("x".into())
        );
        for bad in [
            "authorization/clusters",
            "clusters/",
            "clusters/a/b",
            "jobs/1",
        ] {
            assert!(Target::of_native("1/x", bad).is_err(), "{bad}");
        }
    }
}
