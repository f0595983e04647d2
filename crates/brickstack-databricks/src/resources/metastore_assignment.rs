//! `databricks_metastore_assignment`: the metastore a workspace uses. The object id is
//! `<workspace_id>|<metastore_id>`.
//!
//! * Every attribute forces replacement: a workspace changes metastore by losing its assignment
//!   and getting another.
//! * The API refuses a second assignment, so create reads the workspace's assignment first: the
//!   same metastore (a resent create) is adopted; another one is a conflict brickstack does not
//!   resolve by moving the workspace.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::mws_credentials::check_account;
use super::{done_if_not_found, invalid_input, nothing_updates, observed, parse};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_metastore_assignment";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentAttributes {
    account_id: String,
    workspace_id: i64,
    metastore_id: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute("workspace_id", AttributeBehaviour::ForcesReplacement)
        .attribute("metastore_id", AttributeBehaviour::ForcesReplacement)
}

fn object_id(workspace_id: i64, metastore_id: &str) -> String {
    format!("{workspace_id}|{metastore_id}")
}

fn split(object_id: &str) -> Result<(i64, &str), ProviderError> {
    object_id
        .split_once('|')
        .and_then(|(ws, m)| Some((ws.parse::<i64>().ok()?, m)))
        .filter(|(_, m)| !m.is_empty())
        .ok_or_else(|| {
            invalid_input(
                KIND,
                format!("object id `{object_id}` is not `<workspace_id>|<metastore_id>`"),
            )
        })
}

fn observe(p: &DatabricksProvider, workspace_id: i64, metastore_id: &str) -> Observed {
    let attributes = AssignmentAttributes {
        account_id: p.account().account_id().to_string(),
        workspace_id,
        metastore_id: metastore_id.to_string(),
    };
    observed(&object_id(workspace_id, metastore_id), &attributes, [])
}

/// The workspace's current metastore; `None` when the workspace or its assignment is gone.
async fn assigned(
    p: &DatabricksProvider,
    workspace_id: i64,
) -> Result<Option<String>, ProviderError> {
    if p.account().get_workspace(workspace_id).await?.is_none() {
        return Ok(None);
    }
    Ok(p.account()
        .get_metastore_assignment(workspace_id)
        .await?
        .map(|a| a.metastore_id))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, metastore_id) = split(object_id)?;
    Ok(assigned(p, workspace_id)
        .await?
        .filter(|m| m == metastore_id)
        .map(|m| observe(p, workspace_id, &m)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: AssignmentAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    match assigned(p, desired.workspace_id).await? {
        Some(m) if m == desired.metastore_id => {}
        Some(other) => {
            return Err(ProviderError::new(
                ErrorClass::Conflict,
                "WORKSPACE_ALREADY_ASSIGNED",
                format!(
                    "{KIND}: workspace {} already uses metastore `{other}`; hint: unassign it (or import that metastore) before brickstack assigns `{}`",
                    desired.workspace_id, desired.metastore_id
                ),
            ));
        }
        None => {
            p.account()
                .create_metastore_assignment(desired.workspace_id, &desired.metastore_id)
                .await?;
        }
    }
    Ok(observe(p, desired.workspace_id, &desired.metastore_id))
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, metastore_id) = split(object_id)?;
    done_if_not_found(
        p.account()
            .delete_metastore_assignment(workspace_id, metastore_id)
            .await,
    )
}

/// Create adopts an existing assignment of the same metastore itself.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}
