//! Workspaces (`/workspaces`): the typed shape, reads, and the workspace's URL.

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A workspace as the account API reports it (vendor field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub workspace_id: i64,
    pub workspace_name: String,
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
    pub custom_tags: Option<std::collections::BTreeMap<String, String>>,
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
