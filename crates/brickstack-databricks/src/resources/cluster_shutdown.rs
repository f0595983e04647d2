//! `databricks_cluster_shutdown`: the step that terminates a single-user cluster once it is
//! ready (booted, libraries installed, permission granted). The object is the event, not
//! something in the workspace: its id is `<workspace_id>/<cluster_id>`, and `libraries_id` and
//! `permissions_id` are only references, so it runs after the libraries and the permissions.
//!
//! * Create terminates the cluster (`clusters/delete`, which terminates and keeps it) and waits
//!   until it is `TERMINATED`. Terminating a terminated cluster changes nothing, so `find`
//!   finds nothing and a lost create is simply sent again.
//! * The kind is `recorded_only` (`KindSchema`): a cluster that runs again later (its person
//!   restarted it) is its normal life, not drift, so the engine keeps the record. `read`
//!   reports the event as long as the cluster exists (every attribute follows from the object
//!   id), and none once the cluster is gone.
//! * Every attribute forces replacement (a new cluster is shut down anew); delete does nothing:
//!   the cluster's own delete removes the cluster.

use std::time::Duration;

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::{nothing_updates, observed, parse, scoped_id, scoped_workspace};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_cluster_shutdown";

/// How long a cluster may take to terminate.
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shutdown {
    workspace_url: String,
    cluster_id: String,
    /// The libraries' `id` (the cluster id): an edge, so the shutdown waits for the install.
    libraries_id: String,
    /// The permissions' `id` (`/clusters/<cluster_id>`): an edge, so it waits for the grant.
    permissions_id: String,
}

impl Shutdown {
    /// What the event's attributes are for the cluster `cluster_id` of `ws`: the references
    /// name the libraries and the permissions of that cluster, whose ids follow from it.
    fn of(ws: &Workspace, cluster_id: &str) -> Shutdown {
        Shutdown {
            workspace_url: ws.client.host().to_string(),
            cluster_id: cluster_id.to_string(),
            libraries_id: cluster_id.to_string(),
            permissions_id: format!("/clusters/{cluster_id}"),
        }
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("cluster_id", AttributeBehaviour::ForcesReplacement)
        .attribute("libraries_id", AttributeBehaviour::ForcesReplacement)
        .attribute("permissions_id", AttributeBehaviour::ForcesReplacement)
        .recorded_only()
}

/// The event, while the cluster exists; none once it is gone.
pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, cluster_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(ws
        .client
        .get_cluster(cluster_id)
        .await?
        .map(|_| observed(object_id, &Shutdown::of(&ws, cluster_id), [])))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: Shutdown = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let cluster_id = desired.cluster_id.as_str();
    let missing = || {
        ProviderError::new(
            ErrorClass::NotFound,
            "RESOURCE_DOES_NOT_EXIST",
            format!(
                "{KIND}: cluster `{cluster_id}` of `{}` does not exist",
                ws.client.host()
            ),
        )
    };
    match ws.client.terminate_cluster(cluster_id).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return Err(missing()),
        Err(e) => return Err(e.into()),
    }
    ws.client
        .wait_terminated(cluster_id, TERMINATE_TIMEOUT)
        .await?;
    // The desired attributes as given (the references are whatever the graph resolved them to).
    Ok(observed(&scoped_id(ws.id, cluster_id), &desired, []))
}

/// Every attribute forces replacement.
pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

/// Nothing to undo: a shutdown cannot be taken back, and the cluster's own delete removes the
/// cluster.
pub(crate) async fn delete(_p: &DatabricksProvider, _object_id: &str) -> Result<(), ProviderError> {
    Ok(())
}

/// Nothing to find: terminating again is harmless, so a lost create is sent again.
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
    fn the_shutdown_is_recorded_only_and_replaced_for_a_new_cluster() {
        let schema = schema();
        assert!(schema.recorded_only);
        assert!(!schema.at_most_once);
        for name in ["cluster_id", "libraries_id", "permissions_id"] {
            assert_eq!(
                schema.behaviour(name),
                AttributeBehaviour::ForcesReplacement,
                "{name}"
            );
        }
    }
}
