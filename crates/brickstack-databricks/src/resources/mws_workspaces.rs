//! `databricks_mws_workspaces`: a workspace. The object id is the vendor's `workspace_id`.
//!
//! * Create posts the workspace, waits until it is `RUNNING` (20 minutes at most, Terraform's
//!   default), then until the new workspace answers `GET /api/2.0/preview/scim/v2/Me` with the
//!   provider's workspace credentials: a new workspace's DNS takes a while, and every
//!   workspace-level resource after it needs the workspace to answer. A workspace that ends
//!   `FAILED` (or `BANNED`, `CANCELLED`) is deleted, as Terraform does, and the error says why it
//!   failed, with its network's error messages.
//! * Once the workspace exists, no create error is retryable: a retried create would make a
//!   second workspace. The create's intent stays journaled, so the next apply adopts the
//!   workspace through `find`.
//! * Updatable in place (a PATCH, then a wait for `RUNNING`): `credentials_id`, `network_id`,
//!   the two customer-managed key ids and `custom_tags` (which carry brickstack's tags). The
//!   name, region, pricing tier, storage configuration and deployment name force replacement:
//!   the API cannot change them. Neither can it remove a network, a key or every tag, which is
//!   refused with a hint instead of silently not happening.
//! * Computed: `workspace_id` (a number), `workspace_url`, `creation_time`. The status is not an
//!   attribute: it changes under brickstack's feet and would read as drift.
//! * Delete waits until the API no longer knows the workspace (15 minutes at most). The schema
//!   declares `holds_data`: the engine refuses a delete or replacement without `--destroy-data`.
//! * `find` adopts the workspace of the looked-up name that carries the lookup's tags.

use std::collections::BTreeMap;
use std::time::Duration;

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{invalid_input, observed, parse, unexpected, wait_for};
use crate::account::workspaces::{NewWorkspace, WaitError, Workspace, WorkspaceUpdate};
use crate::client::error::{Error, ErrorDetail};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_workspaces";

/// How long a new or updated workspace may take to run.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// How long a running workspace may take to answer (DNS).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a deleted workspace may stay visible (Terraform's wait).
const DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The cheap authenticated call a new workspace must answer.
const SCIM_ME: &str = "/api/2.0/preview/scim/v2/Me";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceAttributes {
    account_id: String,
    workspace_name: String,
    aws_region: String,
    /// The vendor's default (`PREMIUM`) when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pricing_tier: Option<String>,
    /// The vendor generates one when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployment_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credentials_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage_configuration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    network_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage_customer_managed_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    managed_services_customer_managed_key_id: Option<String>,
    /// Left out when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custom_tags: Option<BTreeMap<String, String>>,
}

impl WorkspaceAttributes {
    fn desired(p: &DatabricksProvider, attributes: &Attributes) -> Result<Self, ProviderError> {
        let mut desired: WorkspaceAttributes = parse(KIND, attributes)?;
        check_account(p, KIND, &desired.account_id)?;
        desired.custom_tags = desired.custom_tags.filter(|t| !t.is_empty());
        Ok(desired)
    }
}

/// `holds_data`: a workspace holds notebooks, jobs and DBFS files that no call counts cheaply,
/// so deleting or replacing one is refused without `--destroy-data`, whatever it holds (the
/// kind registry's `Data::Uncounted` says what is lost).
pub(crate) fn schema() -> KindSchema {
    let mut schema = KindSchema {
        holds_data: true,
        ..KindSchema::new(KIND)
    };
    for name in [
        "account_id",
        "workspace_name",
        "aws_region",
        "pricing_tier",
        "deployment_name",
        "storage_configuration_id",
    ] {
        schema = schema.attribute(name, AttributeBehaviour::ForcesReplacement);
    }
    for name in [
        "credentials_id",
        "network_id",
        "storage_customer_managed_key_id",
    ] {
        schema = schema.attribute(name, AttributeBehaviour::Updatable);
    }
    schema
        .attribute(
            "managed_services_customer_managed_key_id",
            AttributeBehaviour::Updatable,
        )
        .attribute("custom_tags", AttributeBehaviour::Updatable)
        .attribute("workspace_id", AttributeBehaviour::Computed)
        .attribute("workspace_url", AttributeBehaviour::Computed)
        .attribute("creation_time", AttributeBehaviour::Computed)
}

fn observe(p: &DatabricksProvider, workspace: &Workspace) -> Result<Observed, ProviderError> {
    let url = workspace.url(p.account().client().host()).ok_or_else(|| {
        unexpected(
            KIND,
            format!(
                "workspace {} has neither a URL nor a deployment name",
                workspace.workspace_id
            ),
        )
    })?;
    let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let attributes = WorkspaceAttributes {
        account_id: p.account().account_id().to_string(),
        workspace_name: workspace.workspace_name.clone(),
        aws_region: workspace.aws_region.clone().unwrap_or_default(),
        pricing_tier: some(&workspace.pricing_tier),
        deployment_name: some(&workspace.deployment_name),
        credentials_id: some(&workspace.credentials_id),
        storage_configuration_id: some(&workspace.storage_configuration_id),
        network_id: some(&workspace.network_id),
        storage_customer_managed_key_id: some(&workspace.storage_customer_managed_key_id),
        managed_services_customer_managed_key_id: some(
            &workspace.managed_services_customer_managed_key_id,
        ),
        custom_tags: workspace.custom_tags.clone().filter(|t| !t.is_empty()),
    };
    let mut computed = vec![
        ("workspace_id", Value::from(workspace.workspace_id)),
        ("workspace_url", Value::from(url)),
    ];
    if let Some(t) = workspace.creation_time {
        computed.push(("creation_time", Value::from(t)));
    }
    Ok(observed(
        &workspace.workspace_id.to_string(),
        &attributes,
        computed,
    ))
}

fn workspace_id(object_id: &str) -> Result<i64, ProviderError> {
    object_id.parse().map_err(|_| {
        invalid_input(
            KIND,
            format!("object id `{object_id}` is not a workspace id (a number)"),
        )
    })
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let id = workspace_id(object_id)?;
    p.account()
        .get_workspace(id)
        .await?
        .map(|w| observe(p, &w))
        .transpose()
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = WorkspaceAttributes::desired(p, &request.attributes)?;
    let created = p
        .account()
        .create_workspace(&NewWorkspace {
            workspace_name: desired.workspace_name,
            deployment_name: desired.deployment_name,
            aws_region: desired.aws_region,
            pricing_tier: desired.pricing_tier,
            credentials_id: desired.credentials_id,
            storage_configuration_id: desired.storage_configuration_id,
            network_id: desired.network_id,
            private_access_settings_id: None,
            managed_services_customer_managed_key_id: desired
                .managed_services_customer_managed_key_id,
            storage_customer_managed_key_id: desired.storage_customer_managed_key_id,
            custom_tags: desired.custom_tags,
        })
        .await?;
    let id = created.workspace_id;
    settle(p, id, true)
        .await
        .map_err(|e| kept_or_deleted(id, e))
}

/// Waits until workspace `id` runs and answers, and returns it observed. A workspace that ends
/// in a failed status is deleted when `delete_failed`.
async fn settle(
    p: &DatabricksProvider,
    id: i64,
    delete_failed: bool,
) -> Result<Observed, ProviderError> {
    let running = match p.account().wait_running(id, RUNNING_TIMEOUT).await {
        Ok(w) => w,
        Err(failed @ WaitError::Failed { .. }) if delete_failed => {
            let deleted = match p.account().delete_workspace(id).await {
                Ok(()) => p
                    .account()
                    .wait_deleted(id, DELETE_TIMEOUT)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            let outcome = match deleted {
                Ok(()) => "it was deleted; hint: fix the cause and apply again".to_string(),
                Err(why) => format!("deleting it failed too ({why}); hint: delete it by hand"),
            };
            return Err(ProviderError::new(
                ErrorClass::Fatal,
                "WorkspaceFailed",
                format!("{KIND}: {failed}; {outcome}"),
            ));
        }
        Err(e) => return Err(wait_error(e)),
    };
    wait_until_answering(p, id).await?;
    observe(p, &running)
}

/// Waits until the workspace answers an authenticated call: unreachable (DNS not there yet) or
/// unavailable (502, 503, 504) means not yet; any other answer is final.
async fn wait_until_answering(p: &DatabricksProvider, id: i64) -> Result<(), ProviderError> {
    let workspace = p.workspace(id).await?.ok_or_else(|| {
        ProviderError::new(
            ErrorClass::NotFound,
            "WorkspaceGone",
            format!("{KIND}: workspace {id} disappeared after it started running"),
        )
    })?;
    let host = workspace.client.host().to_string();
    let query = [("excludedAttributes", "entitlements".to_string())];
    wait_for(
        &format!("workspace {id} at `{host}` to answer"),
        ANSWER_TIMEOUT,
        || async {
            match workspace
                .client
                .client()
                .get::<IgnoredAny>(SCIM_ME, &query)
                .await
            {
                Ok(_) => Ok(Some(())),
                Err(e) if is_not_up_yet(&e) => {
                    tracing::debug!(workspace_id = id, error = %e, "the new workspace does not answer yet");
                    Ok(None)
                }
                Err(e) => Err(e.into()),
            }
        },
    )
    .await
}

/// Whether a call to a new workspace failed because it is not reachable or not serving yet.
fn is_not_up_yet(e: &Error) -> bool {
    fn unavailable(detail: &ErrorDetail) -> bool {
        match detail {
            ErrorDetail::Transport(_) => true,
            ErrorDetail::Api(api) => matches!(api.status, 502..=504),
            _ => false,
        }
    }
    match &e.detail {
        ErrorDetail::RetriesExhausted { last, .. } => unavailable(last),
        detail => unavailable(detail),
    }
}

/// The error of a wait, classified.
fn wait_error(e: WaitError) -> ProviderError {
    match e {
        WaitError::Api(e) => e.into(),
        WaitError::Gone { .. } => ProviderError::new(
            ErrorClass::NotFound,
            "WorkspaceGone",
            format!("{KIND}: {e}"),
        ),
        WaitError::Failed { .. } => {
            ProviderError::new(ErrorClass::Fatal, "WorkspaceFailed", format!("{KIND}: {e}"))
        }
        WaitError::Timeout { .. } => ProviderError::new(
            ErrorClass::Retryable { after: None },
            "WaitTimeout",
            format!("{KIND}: {e}"),
        ),
    }
}

/// An error after the workspace was created: never retryable (a retried create would make a
/// second workspace), and saying what became of the workspace.
fn kept_or_deleted(id: i64, mut e: ProviderError) -> ProviderError {
    if e.code != "WorkspaceFailed" && e.class != ErrorClass::NotFound {
        e.message = format!(
            "{}; workspace {id} was created and is kept: the next apply adopts it",
            e.message
        );
    }
    if e.is_retryable() {
        e.class = ErrorClass::Fatal;
    }
    e
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let id = workspace_id(object_id)?;
    let desired = WorkspaceAttributes::desired(p, attributes)?;
    let current = p.account().get_workspace(id).await?.ok_or_else(|| {
        ProviderError::new(
            ErrorClass::NotFound,
            "WorkspaceGone",
            format!("{KIND}: workspace {id} does not exist"),
        )
    })?;
    let change = changes(&desired, &current)?;
    // Also when there is nothing to change: a retry after a wait that timed out waits again.
    p.account().update_workspace(id, &change).await?;
    let running = match p.account().wait_running(id, RUNNING_TIMEOUT).await {
        // Waited again here, within the retry budget: the engine no longer retries a timeout.
        Err(WaitError::Timeout { .. }) if !p.retry().budget.is_zero() => {
            p.account().wait_running(id, p.retry().budget).await
        }
        other => other,
    }
    .map_err(wait_error)?;
    observe(p, &running)
}

/// What an update must send to make `current` what `desired` says; refuses what the API cannot
/// do in place.
fn changes(
    desired: &WorkspaceAttributes,
    current: &Workspace,
) -> Result<WorkspaceUpdate, ProviderError> {
    let replaced = [
        (
            "workspace_name",
            Some(&desired.workspace_name),
            Some(&current.workspace_name),
        ),
        (
            "aws_region",
            Some(&desired.aws_region),
            current.aws_region.as_ref(),
        ),
        (
            "pricing_tier",
            desired.pricing_tier.as_ref(),
            current.pricing_tier.as_ref(),
        ),
        (
            "deployment_name",
            desired.deployment_name.as_ref(),
            current.deployment_name.as_ref(),
        ),
        (
            "storage_configuration_id",
            desired.storage_configuration_id.as_ref(),
            current.storage_configuration_id.as_ref(),
        ),
    ];
    if let Some((name, _, _)) = replaced
        .iter()
        .find(|(_, want, have)| want.is_some() && want != have)
    {
        return Err(invalid_input(
            KIND,
            format!("`{name}` cannot change in place; it forces replacement"),
        ));
    }
    let field = |name: &str, want: &Option<String>, have: &Option<String>| match (
        want,
        have.as_ref().filter(|h| !h.is_empty()),
    ) {
        (Some(w), Some(h)) if w == h => Ok(None),
        (Some(w), _) => Ok(Some(w.clone())),
        (None, None) => Ok(None),
        (None, Some(h)) => Err(invalid_input(
            KIND,
            format!(
                "`{name}` cannot be removed from a workspace (it is `{h}`); hint: set it, or replace the workspace"
            ),
        )),
    };
    let current_tags = current.custom_tags.clone().filter(|t| !t.is_empty());
    let custom_tags = match (&desired.custom_tags, &current_tags) {
        (Some(w), Some(h)) if w == h => None,
        (Some(w), _) => Some(w.clone()),
        (None, None) => None,
        (None, Some(_)) => {
            return Err(invalid_input(
                KIND,
                "`custom_tags` cannot all be removed: the API ignores an empty map; hint: keep at least one tag",
            ));
        }
    };
    Ok(WorkspaceUpdate {
        credentials_id: field(
            "credentials_id",
            &desired.credentials_id,
            &current.credentials_id,
        )?,
        network_id: field("network_id", &desired.network_id, &current.network_id)?,
        storage_customer_managed_key_id: field(
            "storage_customer_managed_key_id",
            &desired.storage_customer_managed_key_id,
            &current.storage_customer_managed_key_id,
        )?,
        managed_services_customer_managed_key_id: field(
            "managed_services_customer_managed_key_id",
            &desired.managed_services_customer_managed_key_id,
            &current.managed_services_customer_managed_key_id,
        )?,
        custom_tags,
        ..WorkspaceUpdate::default()
    })
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let id = workspace_id(object_id)?;
    p.forget_workspace(id).await;
    match p.account().delete_workspace(id).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    match p.account().wait_deleted(id, DELETE_TIMEOUT).await {
        // Waited again here, within the retry budget: the engine no longer retries a timeout.
        Err(WaitError::Timeout { .. }) if !p.retry().budget.is_zero() => {
            p.account().wait_deleted(id, p.retry().budget).await
        }
        other => other,
    }
    .map_err(wait_error)
}

/// By `workspace_name` among the workspaces carrying every tag of the lookup (brickstack's
/// environment and address tags), so another environment's workspace of the same name is never
/// adopted. A workspace found still provisioning is waited for, as its create would have.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    let mut found: Vec<Workspace> = p
        .account()
        .list_workspaces()
        .await?
        .into_iter()
        .filter(|w| {
            &w.workspace_name == name
                && lookup
                    .tags
                    .iter()
                    .all(|(k, v)| w.custom_tags.as_ref().and_then(|t| t.get(k)) == Some(v))
        })
        .collect();
    let workspace = match found.len() {
        0 => return Ok(None),
        1 => found.remove(0),
        n => {
            let ids: Vec<String> = found.iter().map(|w| w.workspace_id.to_string()).collect();
            return Err(ProviderError::new(
                ErrorClass::Conflict,
                "AmbiguousWorkspace",
                format!(
                    "{KIND}: {n} workspaces are named `{name}` with this resource's tags ({}); hint: delete the extra ones and apply again",
                    ids.join(", ")
                ),
            ));
        }
    };
    settle(p, workspace.workspace_id, false).await.map(Some)
}

/// A workspace made outside brickstack (a quickstart's): the one named as desired, whatever its
/// custom tags, unless a brickstack tag on it names another environment or address.
pub(crate) async fn discover(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    let found: Vec<Workspace> = p
        .account()
        .list_workspaces()
        .await?
        .into_iter()
        .filter(|w| {
            &w.workspace_name == name
                && w.custom_tags.iter().flatten().all(|(k, v)| {
                    !k.starts_with("brickstack:") || lookup.tags.get(k).is_none_or(|want| want == v)
                })
        })
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [workspace] => settle(p, workspace.workspace_id, false).await.map(Some),
        _ => Err(ProviderError::new(
            ErrorClass::Conflict,
            "AmbiguousWorkspace",
            format!(
                "{KIND}: {} workspaces are named `{name}`; hint: import the right one with `brickstack import ADDRESS WORKSPACE_ID`",
                found.len()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> WorkspaceAttributes {
        WorkspaceAttributes {
            account_id: "a".into(),
            workspace_name: "ws".into(),
            aws_region: "eu-west-1".into(),
            pricing_tier: Some("PREMIUM".into()),
            deployment_name: None,
            credentials_id: Some("c1".into()),
            storage_configuration_id: Some("s1".into()),
            network_id: Some("n1".into()),
            storage_customer_managed_key_id: None,
            managed_services_customer_managed_key_id: None,
            custom_tags: Some(BTreeMap::from([("k".into(), "v".into())])),
        }
    }

    fn current() -> Workspace {
        serde_json::from_value(serde_json::json!({
            "workspace_id": 7, "workspace_name": "ws", "aws_region": "eu-west-1",
            "pricing_tier": "PREMIUM", "deployment_name": "dbc-1", "credentials_id": "c1",
            "storage_configuration_id": "s1", "network_id": "n1", "custom_tags": { "k": "v" }
        }))
        .unwrap()
    }

    #[test]
    fn an_update_sends_only_what_differs() {
        assert_eq!(
            changes(&desired(), &current()).unwrap().mask(),
            Vec::<&str>::new()
        );
        let mut want = desired();
        want.credentials_id = Some("c2".into());
        want.custom_tags = Some(BTreeMap::from([("k".into(), "w".into())]));
        let change = changes(&want, &current()).unwrap();
        assert_eq!(change.mask(), vec!["credentials_id", "custom_tags"]);
        assert_eq!(change.credentials_id.as_deref(), Some("c2"));
    }

    #[test]
    fn what_the_api_cannot_do_in_place_is_refused() {
        let mut want = desired();
        want.pricing_tier = Some("ENTERPRISE".into());
        assert!(changes(&want, &current()).is_err());
        let mut want = desired();
        want.network_id = None;
        assert!(changes(&want, &current()).is_err());
        let mut want = desired();
        want.custom_tags = None;
        assert!(changes(&want, &current()).is_err());
    }

    #[test]
    fn only_unreachable_or_unavailable_means_not_up_yet() {
        let api = |status: u16| {
            Error::new(
                "GET",
                SCIM_ME,
                ErrorDetail::Api(crate::client::error::parse(status, None, b"", None, None)),
            )
        };
        assert!(is_not_up_yet(&Error::new(
            "GET",
            SCIM_ME,
            ErrorDetail::Transport("dns error: no such host".into())
        )));
        assert!(is_not_up_yet(&api(503)));
        assert!(!is_not_up_yet(&api(403)));
        assert!(!is_not_up_yet(&api(404)));
    }
}
