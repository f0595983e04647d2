//! `databricks_mws_permission_assignment`: an account principal's permission on a workspace
//! (identity federation), here an account group's `USER` or `ADMIN`. The object id is
//! `<workspace_id>|<principal_id>`.
//!
//! * Create and update are the same `PUT`, which replaces the principal's permissions: sending
//!   it again changes nothing, so a lost answer is resent (`find` finds nothing to adopt).
//! * `permissions` is a set.
//! * The workspace must have a Unity Catalog metastore (the graph orders the assignment after it).

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::mws_credentials::check_account;
use super::{done_if_not_found, gone, invalid_input, observed, parse};
use crate::account::permission_assignments::WorkspacePermission;
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_permission_assignment";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentAttributes {
    account_id: String,
    workspace_id: i64,
    /// The principal's account SCIM id (an account group's `id`).
    principal_id: String,
    permissions: Vec<WorkspacePermission>,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute("workspace_id", AttributeBehaviour::ForcesReplacement)
        .attribute("principal_id", AttributeBehaviour::ForcesReplacement)
        .unordered("permissions")
}

fn object_id(workspace_id: i64, principal_id: &str) -> String {
    format!("{workspace_id}|{principal_id}")
}

fn split(object_id: &str) -> Result<(i64, &str), ProviderError> {
    object_id
        .split_once('|')
        .and_then(|(ws, p)| Some((ws.parse::<i64>().ok()?, p)))
        .filter(|(_, p)| !p.is_empty())
        .ok_or_else(|| {
            invalid_input(
                KIND,
                format!("object id `{object_id}` is not `<workspace_id>|<principal_id>`"),
            )
        })
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, principal_id) = split(object_id)?;
    if p.account().get_workspace(workspace_id).await?.is_none() {
        return Ok(None);
    }
    let Some(found) = p
        .account()
        .get_permission_assignment(workspace_id, principal_id)
        .await?
    else {
        return Ok(None);
    };
    if found.permissions.is_empty() {
        return Ok(None);
    }
    let attributes = AssignmentAttributes {
        account_id: p.account().account_id().to_string(),
        workspace_id,
        principal_id: principal_id.to_string(),
        permissions: found.permissions,
    };
    Ok(Some(observed(object_id, &attributes, [])))
}

async fn put(p: &DatabricksProvider, attributes: &Attributes) -> Result<Observed, ProviderError> {
    let desired: AssignmentAttributes = parse(KIND, attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    if desired.permissions.is_empty() {
        return Err(invalid_input(
            KIND,
            "`permissions` is empty; hint: remove the assignment instead",
        ));
    }
    p.account()
        .set_permission_assignment(
            desired.workspace_id,
            &desired.principal_id,
            &desired.permissions,
        )
        .await?;
    let id = object_id(desired.workspace_id, &desired.principal_id);
    read(p, &id).await?.ok_or_else(|| gone(KIND, &id))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    put(p, &request.attributes).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    _object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    put(p, attributes).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, principal_id) = split(object_id)?;
    done_if_not_found(
        p.account()
            .delete_permission_assignment(workspace_id, principal_id)
            .await,
    )
}

/// A `PUT` is harmless to resend: nothing to adopt.
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
    fn the_object_id_names_the_workspace_and_the_principal() {
        assert_eq!(object_id(12, "345"), "12|345");
        assert_eq!(split("12|345").unwrap(), (12, "345"));
        assert!(split("12").is_err() && split("x|1").is_err() && split("12|").is_err());
    }
}
