//! `databricks_secret_acl`: a principal's permission (`READ`, `WRITE`, `MANAGE`) on a secret
//! scope. The native id is `<scope>|<principal>` (scope names cannot hold `|`).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::gone;
use super::{done_if_not_found, invalid_input, observed, parse, scoped_id, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_secret_acl";

const PERMISSIONS: [&str; 3] = ["READ", "WRITE", "MANAGE"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretAclAttributes {
    workspace_url: String,
    scope: String,
    /// A user name, a group name or a service principal's application id.
    principal: String,
    permission: String,
}

impl SecretAclAttributes {
    fn desired(attributes: &Attributes) -> Result<Self, ProviderError> {
        let desired: SecretAclAttributes = parse(KIND, attributes)?;
        if !PERMISSIONS.contains(&desired.permission.as_str()) {
            return Err(invalid_input(
                KIND,
                format!(
                    "`permission` is `{}`; it is one of `READ`, `WRITE`, `MANAGE`",
                    desired.permission
                ),
            ));
        }
        if desired.scope.contains('|') {
            return Err(invalid_input(
                KIND,
                format!(
                    "`scope` is `{}`; scope names cannot hold `|`",
                    desired.scope
                ),
            ));
        }
        Ok(desired)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("scope", AttributeBehaviour::ForcesReplacement)
        .attribute("principal", AttributeBehaviour::ForcesReplacement)
}

fn split_native<'a>(object_id: &str, native: &'a str) -> Result<(&'a str, &'a str), ProviderError> {
    native
        .split_once('|')
        .filter(|(scope, principal)| !scope.is_empty() && !principal.is_empty())
        .ok_or_else(|| {
            invalid_input(
                KIND,
                format!("object id `{object_id}` is not `<workspace_id>/<scope>|<principal>`"),
            )
        })
}

fn observed_acl(ws: &Workspace, scope: &str, principal: &str, permission: &str) -> Observed {
    let attributes = SecretAclAttributes {
        workspace_url: ws.client.host().to_string(),
        scope: scope.to_string(),
        principal: principal.to_string(),
        permission: permission.to_string(),
    };
    observed(
        &scoped_id(ws.id, &format!("{scope}|{principal}")),
        &attributes,
        [],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let (scope, principal) = split_native(object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    Ok(ws
        .client
        .get_secret_acl(scope, principal)
        .await?
        .map(|acl| observed_acl(&ws, scope, &acl.principal, &acl.permission)))
}

async fn put(ws: &Workspace, desired: &SecretAclAttributes) -> Result<Observed, ProviderError> {
    ws.client
        .put_secret_acl(&desired.scope, &desired.principal, &desired.permission)
        .await?;
    Ok(observed_acl(
        ws,
        &desired.scope,
        &desired.principal,
        &desired.permission,
    ))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = SecretAclAttributes::desired(&request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    put(&ws, &desired).await
}

/// A new `permission` replaces the old one in place.
pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = SecretAclAttributes::desired(attributes)?;
    let (workspace_id, _) = split_scoped(KIND, object_id)?;
    let ws = p
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    put(&ws, &desired).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, native) = split_scoped(KIND, object_id)?;
    let (scope, principal) = split_native(object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.delete_secret_acl(scope, principal).await)
}

/// Nothing to find by, and nothing to lose: putting an ACL again sets the same permission.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}
