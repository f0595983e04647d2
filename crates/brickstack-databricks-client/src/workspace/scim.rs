//! Workspace SCIM (`/api/2.0/preview/scim/v2/`): users, groups and service principals, and `Me`.
//!
//! The three resources share one set of calls ([`Scim`]): list (SCIM filter, paged with
//! `startIndex`/`count` until `totalResults`), get, create, PATCH and delete. Bodies use SCIM's
//! camelCase names. Entitlements, AWS roles (instance profiles and IAM roles) and group members
//! are multi-valued attributes changed with [`PatchOp`]s, in the forms the vendor documents.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::WorkspaceClient;
use crate::client::Client;
use crate::client::error::Error;

const BASE: &str = "/api/2.0/preview/scim/v2";
const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const SERVICE_PRINCIPAL_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";

/// Entitlement: may create clusters.
pub const ALLOW_CLUSTER_CREATE: &str = "allow-cluster-create";
/// Entitlement: may create instance pools.
pub const ALLOW_INSTANCE_POOL_CREATE: &str = "allow-instance-pool-create";

/// Results asked for per page of a listing.
const PAGE_SIZE: usize = 100;

/// One entry of a multi-valued attribute: a member, an entitlement, a role, an e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplexValue {
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ComplexValue {
    pub fn new(value: impl Into<String>) -> Self {
        ComplexValue {
            value: value.into(),
            ..ComplexValue::default()
        }
    }
}

/// Whether `values` holds an entry for `value`.
pub fn has_value(values: &[ComplexValue], value: &str) -> bool {
    values.iter().any(|v| v.value == value)
}

/// A workspace user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ComplexValue>,
    /// Read-only: the groups the user is a direct member of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
}

impl User {
    /// A user to create.
    pub fn new(user_name: impl Into<String>) -> Self {
        User {
            user_name: user_name.into(),
            schemas: vec![USER_SCHEMA.into()],
            ..User::default()
        }
    }
}

/// A workspace group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ComplexValue>,
    /// Read-only: the groups this group is a member of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
}

impl Group {
    /// A group to create.
    pub fn new(display_name: impl Into<String>) -> Self {
        Group {
            display_name: display_name.into(),
            schemas: vec![GROUP_SCHEMA.into()],
            ..Group::default()
        }
    }
}

/// A workspace service principal. On AWS the workspace assigns `applicationId` (the OAuth client
/// id, and the name permissions and ACLs use) when the create leaves it out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ComplexValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
}

impl ServicePrincipal {
    /// A service principal to create, active, its application id left to the workspace.
    pub fn new(display_name: impl Into<String>) -> Self {
        ServicePrincipal {
            display_name: display_name.into(),
            active: Some(true),
            schemas: vec![SERVICE_PRINCIPAL_SCHEMA.into()],
            ..ServicePrincipal::default()
        }
    }
}

/// What the calls of [`Scim`] need to know of a resource type.
pub trait ScimResource: Serialize + DeserializeOwned + Send + Sync {
    /// `Users`, `Groups` or `ServicePrincipals`.
    const ENDPOINT: &'static str;
    /// The object's id; `None` only on an object not yet created.
    fn id(&self) -> Option<&str>;
    /// A filter that finds exactly the object a create of `self` makes, if any attribute of it
    /// is unique; used to look for an object a lost create may have made before posting again.
    fn unique_filter(&self) -> Option<String>;
}

impl ScimResource for User {
    const ENDPOINT: &'static str = "Users";
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn unique_filter(&self) -> Option<String> {
        Some(filter_eq("userName", &self.user_name))
    }
}

impl ScimResource for Group {
    const ENDPOINT: &'static str = "Groups";
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn unique_filter(&self) -> Option<String> {
        Some(filter_eq("displayName", &self.display_name))
    }
}

impl ScimResource for ServicePrincipal {
    const ENDPOINT: &'static str = "ServicePrincipals";
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// The application id when the create names one; otherwise the display name, which the
    /// workspace does not keep unique, so a lookup only trusts a single match.
    fn unique_filter(&self) -> Option<String> {
        Some(match &self.application_id {
            Some(id) => filter_eq("applicationId", id),
            None => filter_eq("displayName", &self.display_name),
        })
    }
}

/// `attribute eq "value"`, the value quoted as SCIM filters require.
pub fn filter_eq(attribute: &str, value: &str) -> String {
    format!("{attribute} eq {}", quote(value))
}

/// `attribute sw "value"` (starts with).
pub fn filter_starts_with(attribute: &str, value: &str) -> String {
    format!("{attribute} sw {}", quote(value))
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One operation of a SCIM PATCH.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOp {
    pub op: &'static str,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOp {
    /// Adds `values` to the multi-valued attribute `path` (`members`, `entitlements`, `roles`).
    pub fn add<I, S>(path: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PatchOp {
            op: "add",
            path: path.to_string(),
            value: Some(complex_values(values)),
        }
    }

    /// Removes the entry `value` from `path` with a value filter: `members[value eq "<id>"]`,
    /// `roles[value eq "<arn>"]`.
    pub fn remove_value(path: &str, value: &str) -> Self {
        PatchOp {
            op: "remove",
            path: format!("{path}[value eq {}]", quote(value)),
            value: None,
        }
    }

    /// Removes `values` from `path` by listing them: the vendor's form for entitlements.
    pub fn remove_values<I, S>(path: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PatchOp {
            op: "remove",
            path: path.to_string(),
            value: Some(complex_values(values)),
        }
    }

    /// Replaces the single-valued attribute `path` (`displayName`, `active`).
    pub fn replace(path: &str, value: impl Into<Value>) -> Self {
        PatchOp {
            op: "replace",
            path: path.to_string(),
            value: Some(value.into()),
        }
    }
}

fn complex_values<I, S>(values: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::Array(
        values
            .into_iter()
            .map(|v| serde_json::json!({ "value": v.into() }))
            .collect(),
    )
}

/// The operations that take `current` entitlements to exactly `desired` among `managed` ones,
/// leaving entitlements outside `managed` alone: one remove and one add at most.
pub fn entitlement_ops(current: &[ComplexValue], managed: &[(&str, bool)]) -> Vec<PatchOp> {
    let add: Vec<&str> = managed
        .iter()
        .filter(|(name, wanted)| *wanted && !has_value(current, name))
        .map(|(name, _)| *name)
        .collect();
    let remove: Vec<&str> = managed
        .iter()
        .filter(|(name, wanted)| !*wanted && has_value(current, name))
        .map(|(name, _)| *name)
        .collect();
    // Removes first: a server that drops the whole attribute on a `remove` with a value list
    // (minilake does) still ends with the entitlements added after it.
    let mut ops = Vec::new();
    if !remove.is_empty() {
        ops.push(PatchOp::remove_values("entitlements", remove));
    }
    if !add.is_empty() {
        ops.push(PatchOp::add("entitlements", add));
    }
    ops
}

#[derive(Serialize)]
struct PatchRequest<'a> {
    schemas: [&'static str; 1],
    #[serde(rename = "Operations")]
    operations: &'a [PatchOp],
}

#[derive(Deserialize)]
#[serde(bound = "R: DeserializeOwned")]
struct ListResponse<R> {
    #[serde(default, rename = "totalResults")]
    total_results: usize,
    #[serde(default, rename = "Resources")]
    resources: Vec<R>,
}

/// The SCIM calls on one resource type of one workspace.
#[derive(Debug)]
pub struct Scim<'a, R> {
    client: &'a Client,
    resource: PhantomData<fn() -> R>,
}

impl<R: ScimResource> Scim<'_, R> {
    fn collection(&self) -> String {
        format!("{BASE}/{}", R::ENDPOINT)
    }

    fn item(&self, id: &str) -> String {
        format!("{BASE}/{}/{id}", R::ENDPOINT)
    }

    /// Every object matching `filter` (all of them without one), page after page.
    pub async fn list(&self, filter: Option<&str>) -> Result<Vec<R>, Error> {
        self.list_paged(filter, PAGE_SIZE).await
    }

    /// [`Scim::list`] asking `page_size` objects per call.
    pub async fn list_paged(
        &self,
        filter: Option<&str>,
        page_size: usize,
    ) -> Result<Vec<R>, Error> {
        let mut all = Vec::new();
        loop {
            let mut query = vec![
                ("startIndex", (all.len() + 1).to_string()),
                ("count", page_size.max(1).to_string()),
            ];
            if let Some(filter) = filter {
                query.push(("filter", filter.to_string()));
            }
            let page: ListResponse<R> = self.client.get(&self.collection(), &query).await?;
            let got = page.resources.len();
            all.extend(page.resources);
            // An empty page ends the listing even if `totalResults` promised more (objects
            // deleted while paging).
            if got == 0 || all.len() >= page.total_results {
                return Ok(all);
            }
        }
    }

    /// The object `id`; `None` when it does not exist.
    pub async fn get(&self, id: &str) -> Result<Option<R>, Error> {
        self.get_attributes(id, None).await
    }

    /// The object `id` with only `attributes` (comma-separated; `id` always comes back), so a
    /// big group's members are not sent when only its roles are needed.
    pub async fn get_attributes(
        &self,
        id: &str,
        attributes: Option<&str>,
    ) -> Result<Option<R>, Error> {
        let query: Vec<(&str, String)> = attributes
            .map(|a| ("attributes", a.to_string()))
            .into_iter()
            .collect();
        match self.client.get(&self.item(id), &query).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates `object`. After a failure that may have reached the workspace, the object is
    /// looked up by its unique attribute before posting again, so no duplicate is made.
    pub async fn create(&self, object: &R) -> Result<R, Error> {
        let filter = object.unique_filter();
        self.client
            .create(&self.collection(), object, || async {
                let Some(filter) = &filter else {
                    return Ok(None);
                };
                // Only a single match is surely what the lost create made.
                let mut found = self.list(Some(filter)).await?;
                Ok(if found.len() == 1 { found.pop() } else { None })
            })
            .await
    }

    /// Applies `operations` to the object `id`, in order, in one request.
    pub async fn patch(&self, id: &str, operations: &[PatchOp]) -> Result<(), Error> {
        let body = PatchRequest {
            schemas: [PATCH_OP_SCHEMA],
            operations,
        };
        // The workspace answers the object or nothing (204), depending on the resource.
        let _: Value = self.client.patch(&self.item(id), &[], &body).await?;
        Ok(())
    }

    /// Deletes the object `id`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        let _: Value = self.client.delete(&self.item(id), &[]).await?;
        Ok(())
    }
}

impl WorkspaceClient {
    pub fn users(&self) -> Scim<'_, User> {
        self.scim()
    }

    pub fn groups(&self) -> Scim<'_, Group> {
        self.scim()
    }

    pub fn service_principals(&self) -> Scim<'_, ServicePrincipal> {
        self.scim()
    }

    fn scim<R>(&self) -> Scim<'_, R> {
        Scim {
            client: self.client(),
            resource: PhantomData,
        }
    }

    /// The principal the client authenticates as: the cheap call that proves credentials work.
    /// A service principal is reported in the user shape, its `userName` the application id.
    pub async fn me(&self) -> Result<User, Error> {
        self.client().get(&format!("{BASE}/Me"), &[]).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patch_bodies_have_the_vendor_forms() {
        let ops = [
            PatchOp::add("members", ["123"]),
            PatchOp::remove_value("members", "123"),
            PatchOp::remove_value("roles", "arn:aws:iam::1:role/a\"b"),
            PatchOp::remove_values("entitlements", [ALLOW_CLUSTER_CREATE]),
            PatchOp::replace("displayName", "data"),
        ];
        let body = PatchRequest {
            schemas: [PATCH_OP_SCHEMA],
            operations: &ops,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": "123"}]},
                    {"op": "remove", "path": "members[value eq \"123\"]"},
                    {"op": "remove", "path": "roles[value eq \"arn:aws:iam::1:role/a\\\"b\"]"},
                    {"op": "remove", "path": "entitlements", "value": [{"value": "allow-cluster-create"}]},
                    {"op": "replace", "path": "displayName", "value": "data"},
                ]
            })
        );
    }

    #[test]
    fn entitlement_ops_touch_only_managed_entitlements_that_differ() {
        let current = [
            ComplexValue::new(ALLOW_CLUSTER_CREATE),
            ComplexValue::new("workspace-access"),
        ];
        assert_eq!(
            entitlement_ops(
                &current,
                &[
                    (ALLOW_CLUSTER_CREATE, false),
                    (ALLOW_INSTANCE_POOL_CREATE, true)
                ]
            ),
            vec![
                PatchOp::remove_values("entitlements", [ALLOW_CLUSTER_CREATE]),
                PatchOp::add("entitlements", [ALLOW_INSTANCE_POOL_CREATE]),
            ]
        );
        assert!(entitlement_ops(&current, &[(ALLOW_CLUSTER_CREATE, true)]).is_empty());
    }

    #[test]
    fn a_group_reads_from_the_wire_shape() {
        let group: Group = serde_json::from_value(json!({
            "id": "42",
            "displayName": "data",
            "members": [{"value": "7", "display": "sp", "$ref": "ServicePrincipals/7"}],
            "entitlements": [{"value": "allow-cluster-create"}],
            "meta": {"resourceType": "WorkspaceGroup"},
            "schemas": [GROUP_SCHEMA]
        }))
        .unwrap();
        assert_eq!(group.id.as_deref(), Some("42"));
        assert!(has_value(&group.members, "7"));
        assert!(has_value(&group.entitlements, ALLOW_CLUSTER_CREATE));
        assert_eq!(
            serde_json::to_value(Group::new("data")).unwrap(),
            json!({"displayName": "data", "schemas": [GROUP_SCHEMA]})
        );
    }

    #[test]
    fn filters_quote_their_values() {
        assert_eq!(
            filter_eq("displayName", "admins"),
            r#"displayName eq "admins""#
        );
        assert_eq!(
            filter_eq("displayName", r#"a"b"#),
            r#"displayName eq "a\"b""#
        );
    }
}
