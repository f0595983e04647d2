//! Object permissions (`/api/2.0/permissions/{object_type}/{object_id}`): who may do what with a
//! cluster, a policy, or the workspace's tokens (`authorization/tokens`). PUT replaces every
//! direct grant, PATCH adds or changes some; reads also report inherited grants.

use serde::{Deserialize, Serialize};

use super::WorkspaceClient;
use crate::client::error::Error;

/// One grant to set: exactly one principal field, and a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessControlRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// A service principal's application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_name: Option<String>,
    pub permission_level: String,
}

impl AccessControlRequest {
    pub fn user(name: &str, level: &str) -> Self {
        Self::of(Some(name), None, None, level)
    }

    pub fn group(name: &str, level: &str) -> Self {
        Self::of(None, Some(name), None, level)
    }

    pub fn service_principal(application_id: &str, level: &str) -> Self {
        Self::of(None, None, Some(application_id), level)
    }

    fn of(user: Option<&str>, group: Option<&str>, sp: Option<&str>, level: &str) -> Self {
        AccessControlRequest {
            user_name: user.map(str::to_string),
            group_name: group.map(str::to_string),
            service_principal_name: sp.map(str::to_string),
            permission_level: level.to_string(),
        }
    }
}

/// One principal's grants on an object, direct and inherited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessControlResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub all_permissions: Vec<Permission>,
}

impl AccessControlResponse {
    /// The grants set on the object itself, as requests that would set them again.
    pub fn direct(&self) -> impl Iterator<Item = AccessControlRequest> + '_ {
        self.all_permissions
            .iter()
            .filter(|p| !p.inherited)
            .map(|p| AccessControlRequest {
                user_name: self.user_name.clone(),
                group_name: self.group_name.clone(),
                service_principal_name: self.service_principal_name.clone(),
                permission_level: p.permission_level.clone(),
            })
    }
}

/// A level a principal holds, and whether it comes from a parent object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub permission_level: String,
    #[serde(default)]
    pub inherited: bool,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inherited_from_object: Vec<String>,
}

/// An object's grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPermissions {
    #[serde(default)]
    pub object_id: String,
    #[serde(default)]
    pub object_type: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub access_control_list: Vec<AccessControlResponse>,
}

impl ObjectPermissions {
    /// Every grant set on the object itself (inherited ones left out), as requests that would set
    /// them again.
    pub fn direct(&self) -> Vec<AccessControlRequest> {
        self.access_control_list
            .iter()
            .flat_map(AccessControlResponse::direct)
            .collect()
    }
}

/// A level the object type offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionLevel {
    pub permission_level: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Serialize)]
struct SetPermissions<'a> {
    access_control_list: &'a [AccessControlRequest],
}

#[derive(Deserialize)]
struct PermissionLevels {
    #[serde(default)]
    permission_levels: Vec<PermissionLevel>,
}

/// A list some servers send as `null` when it is empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn path(object_type: &str, object_id: &str) -> String {
    format!("/api/2.0/permissions/{object_type}/{object_id}")
}

impl WorkspaceClient {
    /// The grants on `object_type/object_id` (`authorization/tokens`, `clusters/<id>`, ...).
    pub async fn get_permissions(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> Result<ObjectPermissions, Error> {
        self.client().get(&path(object_type, object_id), &[]).await
    }

    /// Replaces every direct grant on the object with `grants`.
    pub async fn set_permissions(
        &self,
        object_type: &str,
        object_id: &str,
        grants: &[AccessControlRequest],
    ) -> Result<ObjectPermissions, Error> {
        let body = SetPermissions {
            access_control_list: grants,
        };
        self.client()
            .put(&path(object_type, object_id), &body)
            .await
    }

    /// Adds `grants` to the object's, changing the level of principals it already names.
    pub async fn update_permissions(
        &self,
        object_type: &str,
        object_id: &str,
        grants: &[AccessControlRequest],
    ) -> Result<ObjectPermissions, Error> {
        let body = SetPermissions {
            access_control_list: grants,
        };
        self.client()
            .patch(&path(object_type, object_id), &[], &body)
            .await
    }

    /// The levels the object offers.
    pub async fn permission_levels(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> Result<Vec<PermissionLevel>, Error> {
        let levels: PermissionLevels = self
            .client()
            .get(
                &format!("{}/permissionLevels", path(object_type, object_id)),
                &[],
            )
            .await?;
        Ok(levels.permission_levels)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_objects_direct_grants_leave_inherited_ones_out() {
        let object: ObjectPermissions = serde_json::from_value(json!({
            "object_id": "/clusters/c",
            "object_type": "cluster",
            "access_control_list": [
                {"user_name": "ana@example.com", "all_permissions": [{"permission_level": "CAN_RESTART", "inherited": false}]},
                {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/clusters/"]}]}
            ]
        }))
        .unwrap();
        assert_eq!(
            object.direct(),
            vec![AccessControlRequest::user("ana@example.com", "CAN_RESTART")]
        );
    }

    #[test]
    fn only_direct_grants_are_set_again() {
        let acl: AccessControlResponse = serde_json::from_value(json!({
            "group_name": "data",
            "all_permissions": [
                {"permission_level": "CAN_USE", "inherited": false},
                {"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/authorization/root"]},
                {"permission_level": "CAN_RESTART", "inherited": false, "inherited_from_object": null}
            ]
        }))
        .unwrap();
        assert_eq!(
            acl.direct().collect::<Vec<_>>(),
            vec![
                AccessControlRequest::group("data", "CAN_USE"),
                AccessControlRequest::group("data", "CAN_RESTART")
            ]
        );
        assert_eq!(
            serde_json::to_value(AccessControlRequest::service_principal("app", "CAN_USE"))
                .unwrap(),
            json!({"service_principal_name": "app", "permission_level": "CAN_USE"})
        );
    }
}
