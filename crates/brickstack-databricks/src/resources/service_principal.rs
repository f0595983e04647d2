//! `databricks_service_principal`: a workspace SCIM service principal (the deployer identity),
//! with the `allow-cluster-create` entitlement. The object id is `<workspace_id>/<SCIM id>`;
//! `id` and the workspace-assigned `application_id` (the name ACLs and tokens use) are computed.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{done_if_not_found, observed, parse, scoped_id, split_scoped, unexpected};
use super::{gone, workspace_if_any};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::scim::{
    ALLOW_CLUSTER_CREATE, ComplexValue, PatchOp, ServicePrincipal, entitlement_ops, filter_eq,
    has_value,
};

pub(crate) const KIND: &str = "databricks_service_principal";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicePrincipalAttributes {
    workspace_url: String,
    display_name: String,
    #[serde(default)]
    allow_cluster_create: bool,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("application_id", AttributeBehaviour::Computed)
}

fn observed_sp(ws: &Workspace, sp: &ServicePrincipal) -> Result<Observed, ProviderError> {
    let id = sp.id.as_deref().ok_or_else(|| {
        unexpected(
            KIND,
            "the workspace reported a service principal without `id`",
        )
    })?;
    let application_id = sp.application_id.as_deref().ok_or_else(|| {
        unexpected(
            KIND,
            format!("the workspace reported service principal `{id}` without `applicationId`"),
        )
    })?;
    let attributes = ServicePrincipalAttributes {
        workspace_url: ws.client.host().to_string(),
        display_name: sp.display_name.clone(),
        allow_cluster_create: has_value(&sp.entitlements, ALLOW_CLUSTER_CREATE),
    };
    Ok(observed(
        &scoped_id(ws.id, id),
        &attributes,
        [("id", json!(id)), ("application_id", json!(application_id))],
    ))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    match ws.client.service_principals().get(id).await? {
        Some(sp) => observed_sp(&ws, &sp).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: ServicePrincipalAttributes = parse(KIND, &request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let mut sp = ServicePrincipal::new(&desired.display_name);
    if desired.allow_cluster_create {
        sp.entitlements = vec![ComplexValue::new(ALLOW_CLUSTER_CREATE)];
    }
    let created = ws.client.service_principals().create(&sp).await?;
    // Read back, so the result is what a read reports; the answer itself while the read lags.
    let read_back = match created.id.as_deref() {
        Some(id) => ws.client.service_principals().get(id).await?,
        None => None,
    };
    observed_sp(&ws, read_back.as_ref().unwrap_or(&created))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired: ServicePrincipalAttributes = parse(KIND, attributes)?;
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let ws = p
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let sps = ws.client.service_principals();
    let sp = sps.get(id).await?.ok_or_else(|| gone(KIND, object_id))?;
    let mut ops = Vec::new();
    if sp.display_name != desired.display_name {
        ops.push(PatchOp::replace(
            "displayName",
            desired.display_name.as_str(),
        ));
    }
    ops.extend(entitlement_ops(
        &sp.entitlements,
        &[(ALLOW_CLUSTER_CREATE, desired.allow_cluster_create)],
    ));
    if ops.is_empty() {
        return observed_sp(&ws, &sp);
    }
    sps.patch(id, &ops).await?;
    let updated = sps.get(id).await?.ok_or_else(|| gone(KIND, object_id))?;
    observed_sp(&ws, &updated)
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.service_principals().delete(id).await)
}

/// The service principal named `lookup.name` in the workspace at `lookup.scope`. Display names
/// of service principals are not unique, so only a single match is adopted; several are a
/// conflict a person must settle (adopting one at random could take another's principal, and
/// creating one more would add to the pile).
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(name)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    let Some(ws) = workspace_if_any(p, url).await? else {
        return Ok(None);
    };
    let mut found = ws
        .client
        .service_principals()
        .list(Some(&filter_eq("displayName", name)))
        .await?;
    match found.len() {
        0 => Ok(None),
        1 => found.pop().map(|sp| observed_sp(&ws, &sp)).transpose(),
        n => Err(ProviderError::new(
            ErrorClass::Conflict,
            "AMBIGUOUS_SERVICE_PRINCIPAL",
            format!(
                "{KIND}: {n} service principals of `{url}` are named `{name}` (ids {}); hint: delete the ones brickstack did not record, then apply again",
                found
                    .iter()
                    .filter_map(|sp| sp.id.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
