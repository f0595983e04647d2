//! Workspaces (`/workspaces`): the typed shape, create, reads, update, delete, the workspace's
//! URL, and the waits for a workspace to run and to be gone.
//!
//! Creation is asynchronous: the create answers at once with `PROVISIONING` and the workspace
//! runs minutes later, or fails. An update of a workspace on a Databricks-managed VPC provisions
//! it again. A delete, too, takes a while to be seen.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::AccountClient;
use super::networks::NetworkHealth;
use crate::client::error::Error;

/// `workspace_status` values the waits act on; any other is waited through.
pub const RUNNING: &str = "RUNNING";
/// Statuses a workspace does not leave on its own: a wait for `RUNNING` stops there.
const GIVEN_UP: &[&str] = &["FAILED", "BANNED", "CANCELLED"];

/// Polls back off from this...
const POLL_FIRST: Duration = Duration::from_millis(250);
/// ...to at most this (provisioning takes minutes).
const POLL_MAX: Duration = Duration::from_secs(10);

/// A workspace as the account API reports it (vendor field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub workspace_id: i64,
    pub workspace_name: String,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub deployment_name: Option<String>,
    #[serde(default)]
    pub aws_region: Option<String>,
    #[serde(default)]
    pub credentials_id: Option<String>,
    #[serde(default)]
    pub storage_configuration_id: Option<String>,
    #[serde(default)]
    pub network_id: Option<String>,
    #[serde(default)]
    pub managed_services_customer_managed_key_id: Option<String>,
    #[serde(default)]
    pub storage_customer_managed_key_id: Option<String>,
    #[serde(default)]
    pub private_access_settings_id: Option<String>,
    #[serde(default)]
    pub pricing_tier: Option<String>,
    #[serde(default)]
    pub custom_tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub workspace_status: Option<String>,
    #[serde(default)]
    pub workspace_status_message: Option<String>,
    #[serde(default)]
    pub creation_time: Option<i64>,
    /// Not reliably returned on AWS; see [`Workspace::url`].
    #[serde(default)]
    pub workspace_url: Option<String>,
}

impl Workspace {
    /// The workspace's URL: the one the API returned, else `https://<deployment_name>.` plus
    /// the account host without its `accounts.` (what the Terraform provider does).
    pub fn url(&self, account_host: &str) -> Option<String> {
        if let Some(url) = self.workspace_url.as_deref().filter(|u| !u.is_empty()) {
            return Some(url.trim_end_matches('/').to_string());
        }
        let deployment = self.deployment_name.as_deref()?;
        let domain = account_host
            .trim_start_matches("https://")
            .trim_start_matches("accounts-dod.")
            .trim_start_matches("accounts.");
        Some(format!("https://{deployment}.{domain}"))
    }
}

/// What a new workspace is made of (the AWS fields of the vendor's create request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewWorkspace {
    pub workspace_name: String,
    /// The subdomain; the API generates `dbc-xxxxxxxx-xxxx` when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
    pub aws_region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing_tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_configuration_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_access_settings_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_services_customer_managed_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_customer_managed_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, String>>,
}

/// The fields an update sets; `None` leaves a field as it is. The pricing tier and the
/// workspace's name are not among them: the API cannot change those.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkspaceUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_configuration_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_access_settings_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_services_customer_managed_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_customer_managed_key_id: Option<String>,
    /// Replaces the tags; the API ignores an empty map.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, String>>,
}

impl WorkspaceUpdate {
    /// The `update_mask`: the names of the fields set, as the body carries them.
    pub fn mask(&self) -> Vec<&'static str> {
        let fields: [(&'static str, bool); 7] = [
            ("credentials_id", self.credentials_id.is_some()),
            ("custom_tags", self.custom_tags.is_some()),
            (
                "managed_services_customer_managed_key_id",
                self.managed_services_customer_managed_key_id.is_some(),
            ),
            ("network_id", self.network_id.is_some()),
            (
                "private_access_settings_id",
                self.private_access_settings_id.is_some(),
            ),
            (
                "storage_configuration_id",
                self.storage_configuration_id.is_some(),
            ),
            (
                "storage_customer_managed_key_id",
                self.storage_customer_managed_key_id.is_some(),
            ),
        ];
        fields
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect()
    }
}

/// A wait on a workspace that did not end as hoped.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(transparent)]
    Api(#[from] Error),
    /// The workspace reached a status it does not leave on its own (`FAILED`, `BANNED`,
    /// `CANCELLED`). `network_errors` are its network's, when it has one (what Terraform's
    /// `explainWorkspaceFailure` adds).
    #[error("{}", describe_failure(*workspace_id, status, status_message, network_id.as_deref(), network_errors))]
    Failed {
        workspace_id: i64,
        status: String,
        status_message: String,
        network_id: Option<String>,
        /// The network's errors, or why they could not be read.
        network_errors: Result<Vec<NetworkHealth>, String>,
    },
    /// The workspace disappeared while it was waited on to run.
    #[error("workspace {workspace_id} no longer exists")]
    Gone { workspace_id: i64 },
    #[error(
        "workspace {workspace_id} is still `{status}` after {waited_seconds} s: {status_message}"
    )]
    Timeout {
        workspace_id: i64,
        status: String,
        status_message: String,
        waited_seconds: u64,
    },
}

fn describe_failure(
    workspace_id: i64,
    status: &str,
    status_message: &str,
    network_id: Option<&str>,
    network_errors: &Result<Vec<NetworkHealth>, String>,
) -> String {
    let mut text = format!("workspace {workspace_id} is `{status}`: {status_message}");
    if let Some(network_id) = network_id {
        match network_errors {
            Ok(errors) if errors.is_empty() => {
                text.push_str(&format!("; network `{network_id}` reports no errors"));
            }
            Ok(errors) => {
                let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
                text.push_str(&format!(
                    "; network `{network_id}` errors: {}",
                    errors.join("; ")
                ));
            }
            Err(why) => {
                text.push_str(&format!(
                    "; network `{network_id}` could not be read: {why}"
                ));
            }
        }
    }
    text
}

impl AccountClient {
    /// Every workspace of the account.
    pub async fn list_workspaces(&self) -> Result<Vec<Workspace>, Error> {
        self.client().get(&self.path("workspaces"), &[]).await
    }

    /// One workspace; `None` when it does not exist (deleted workspaces answer 404).
    pub async fn get_workspace(&self, workspace_id: i64) -> Result<Option<Workspace>, Error> {
        match self
            .client()
            .get(&self.path(&format!("workspaces/{workspace_id}")), &[])
            .await
        {
            Ok(w) => Ok(Some(w)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a workspace; it answers while the workspace is still `PROVISIONING` (see
    /// [`AccountClient::wait_running`]). A create whose answer was lost is recognised by the
    /// workspace's name, credentials and tags.
    pub async fn create_workspace(&self, new: &NewWorkspace) -> Result<Workspace, Error> {
        self.client()
            .create(&self.path("workspaces"), new, || async {
                Ok(self
                    .list_workspaces()
                    .await?
                    .into_iter()
                    .find(|w| is_made_from(w, new)))
            })
            .await
    }

    /// Changes the fields `update` sets: a PATCH with the fields in a flat body and their names
    /// in `?update_mask=` (the request Terraform sends, which both API versions accept). A
    /// workspace on a Databricks-managed VPC provisions again afterwards.
    pub async fn update_workspace(
        &self,
        workspace_id: i64,
        update: &WorkspaceUpdate,
    ) -> Result<(), Error> {
        let mask = update.mask();
        if mask.is_empty() {
            return Ok(());
        }
        self.client()
            .patch::<_, IgnoredAny>(
                &self.path(&format!("workspaces/{workspace_id}")),
                &[("update_mask", mask.join(","))],
                update,
            )
            .await?;
        Ok(())
    }

    /// Deletes a workspace; it may still be listed for a while (see
    /// [`AccountClient::wait_deleted`]).
    pub async fn delete_workspace(&self, workspace_id: i64) -> Result<(), Error> {
        self.delete_object(&self.path(&format!("workspaces/{workspace_id}")))
            .await
    }

    /// Polls the workspace until it is `RUNNING` and returns it. `FAILED`, `BANNED` and
    /// `CANCELLED` end the wait with the status message and, when the workspace has a network,
    /// the network's error messages; any other status (`PROVISIONING`, unknown ones) is waited
    /// through, for at most `timeout`.
    pub async fn wait_running(
        &self,
        workspace_id: i64,
        timeout: Duration,
    ) -> Result<Workspace, WaitError> {
        let started = tokio::time::Instant::now();
        let mut delay = POLL_FIRST;
        loop {
            let workspace = self
                .get_workspace(workspace_id)
                .await?
                .ok_or(WaitError::Gone { workspace_id })?;
            let status = workspace.workspace_status.clone().unwrap_or_default();
            if status == RUNNING {
                return Ok(workspace);
            }
            if GIVEN_UP.contains(&status.as_str()) {
                return Err(self.explain_failure(workspace, status).await);
            }
            if started.elapsed() >= timeout {
                return Err(WaitError::Timeout {
                    workspace_id,
                    status,
                    status_message: workspace.workspace_status_message.unwrap_or_default(),
                    waited_seconds: started.elapsed().as_secs(),
                });
            }
            tracing::debug!(workspace_id, status, "waiting for the workspace to run");
            tokio::time::sleep(delay.min(timeout.saturating_sub(started.elapsed()))).await;
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// Polls until the workspace is gone (the API answers 404), for at most `timeout`.
    pub async fn wait_deleted(
        &self,
        workspace_id: i64,
        timeout: Duration,
    ) -> Result<(), WaitError> {
        let started = tokio::time::Instant::now();
        let mut delay = POLL_FIRST;
        loop {
            let Some(workspace) = self.get_workspace(workspace_id).await? else {
                return Ok(());
            };
            if started.elapsed() >= timeout {
                return Err(WaitError::Timeout {
                    workspace_id,
                    status: workspace.workspace_status.unwrap_or_default(),
                    status_message: "still there after its delete".into(),
                    waited_seconds: started.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(delay.min(timeout.saturating_sub(started.elapsed()))).await;
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// A failed workspace's error, with its network's error messages.
    async fn explain_failure(&self, workspace: Workspace, status: String) -> WaitError {
        let network_errors = match &workspace.network_id {
            None => Ok(Vec::new()),
            Some(id) => match self.get_network(id).await {
                Ok(Some(network)) => Ok(network.error_messages),
                Ok(None) => Err("it does not exist".to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        WaitError::Failed {
            workspace_id: workspace.workspace_id,
            status,
            status_message: workspace.workspace_status_message.unwrap_or_default(),
            network_id: workspace.network_id,
            network_errors,
        }
    }
}

/// Whether `workspace` is what creating `new` made: same name and credentials, and every tag of
/// `new` (brickstack's own tags name the environment and the resource).
fn is_made_from(workspace: &Workspace, new: &NewWorkspace) -> bool {
    let tags_match = new.custom_tags.as_ref().is_none_or(|wanted| {
        let tags = workspace.custom_tags.as_ref();
        wanted
            .iter()
            .all(|(k, v)| tags.and_then(|t| t.get(k)) == Some(v))
    });
    workspace.workspace_name == new.workspace_name
        && workspace.credentials_id == new.credentials_id
        && new
            .deployment_name
            .as_ref()
            .is_none_or(|d| workspace.deployment_name.as_ref() == Some(d))
        && tags_match
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_comes_from_the_deployment_name_when_the_api_gives_none() {
        let mut w: Workspace = serde_json::from_value(serde_json::json!({
            "workspace_id": 1, "workspace_name": "x", "deployment_name": "acme-dev"
        }))
        .unwrap();
        assert_eq!(
            w.url("https://accounts.cloud.databricks.com").as_deref(),
            Some("https://acme-dev.cloud.databricks.com")
        );
        w.workspace_url = Some("http://127.0.0.1:9/w/1/".into());
        assert_eq!(
            w.url("http://127.0.0.1:9").as_deref(),
            Some("http://127.0.0.1:9/w/1")
        );
    }
}
