//! Log delivery (`/log-delivery`): billable-usage and audit logs delivered to S3. Create, get,
//! list (filtered, paged) and a PATCH of `status`; the API has no DELETE, a configuration is
//! disabled instead.

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A log delivery configuration as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDeliveryConfiguration {
    pub config_id: String,
    #[serde(default)]
    pub config_name: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub creation_time: Option<i64>,
    #[serde(default)]
    pub update_time: Option<i64>,
    /// `AUDIT_LOGS` or `BILLABLE_USAGE`.
    pub log_type: String,
    /// `JSON` (audit logs) or `CSV` (billable usage).
    pub output_format: String,
    pub credentials_id: String,
    pub storage_configuration_id: String,
    #[serde(default)]
    pub delivery_path_prefix: Option<String>,
    /// `YYYY-MM`, billable usage only.
    #[serde(default)]
    pub delivery_start_time: Option<String>,
    /// `ENABLED` or `DISABLED`.
    #[serde(default)]
    pub status: Option<String>,
    /// Workspaces whose logs are delivered; empty = the whole account.
    #[serde(default)]
    pub workspace_ids_filter: Vec<i64>,
    #[serde(default)]
    pub log_delivery_status: Option<LogDeliveryStatus>,
}

impl LogDeliveryConfiguration {
    /// Whether the configuration delivers (the API's default status is `ENABLED`).
    pub fn is_enabled(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s == Status::Enabled.as_str())
    }
}

/// How delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDeliveryStatus {
    /// `CREATED`, `SUCCEEDED`, `USER_FAILURE`, `SYSTEM_FAILURE` or `NOT_FOUND`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Whether a configuration delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Enabled,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabled => "ENABLED",
            Status::Disabled => "DISABLED",
        }
    }
}

/// What a new configuration is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewLogDeliveryConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_name: Option<String>,
    pub log_type: String,
    pub output_format: String,
    pub credentials_id: String,
    pub storage_configuration_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_path_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspace_ids_filter: Vec<i64>,
}

/// Which configurations a listing returns; every field left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogDeliveryFilter {
    pub status: Option<Status>,
    pub credentials_id: Option<String>,
    pub storage_configuration_id: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogDeliveryPage {
    #[serde(default)]
    pub log_delivery_configurations: Vec<LogDeliveryConfiguration>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// Create and get wrap the configuration in `log_delivery_configuration`.
#[derive(Serialize, Deserialize)]
struct Wrapped<T> {
    log_delivery_configuration: T,
}

#[derive(Serialize)]
struct StatusUpdate {
    status: Status,
}

impl AccountClient {
    /// One page of the configurations `filter` selects, from `page_token` (`None` = the first).
    pub async fn log_delivery_page(
        &self,
        filter: &LogDeliveryFilter,
        page_token: Option<&str>,
    ) -> Result<LogDeliveryPage, Error> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(status) = filter.status {
            query.push(("status", status.as_str().to_string()));
        }
        if let Some(id) = &filter.credentials_id {
            query.push(("credentials_id", id.clone()));
        }
        if let Some(id) = &filter.storage_configuration_id {
            query.push(("storage_configuration_id", id.clone()));
        }
        if let Some(token) = page_token {
            query.push(("page_token", token.to_string()));
        }
        self.client().get(&self.path("log-delivery"), &query).await
    }

    /// Every configuration `filter` selects, all pages.
    pub async fn list_log_delivery(
        &self,
        filter: &LogDeliveryFilter,
    ) -> Result<Vec<LogDeliveryConfiguration>, Error> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.log_delivery_page(filter, token.as_deref()).await?;
            all.extend(page.log_delivery_configurations);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                // A server that hands back the token it was given would page for ever.
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// One configuration; `None` when it does not exist (a disabled one still exists).
    pub async fn get_log_delivery(
        &self,
        config_id: &str,
    ) -> Result<Option<LogDeliveryConfiguration>, Error> {
        let wrapped: Option<Wrapped<LogDeliveryConfiguration>> = self
            .get_if_exists(&self.path(&format!("log-delivery/{config_id}")))
            .await?;
        Ok(wrapped.map(|w| w.log_delivery_configuration))
    }

    /// Creates a configuration. Names are not unique to the API, but a create whose answer was
    /// lost is recognised by its name among the enabled configurations of the same credentials
    /// and storage.
    pub async fn create_log_delivery(
        &self,
        new: &NewLogDeliveryConfiguration,
    ) -> Result<LogDeliveryConfiguration, Error> {
        let body = Wrapped {
            log_delivery_configuration: new,
        };
        let created: Wrapped<LogDeliveryConfiguration> = self
            .client()
            .create(&self.path("log-delivery"), &body, || async {
                let filter = LogDeliveryFilter {
                    status: Some(Status::Enabled),
                    credentials_id: Some(new.credentials_id.clone()),
                    storage_configuration_id: Some(new.storage_configuration_id.clone()),
                };
                Ok(self
                    .list_log_delivery(&filter)
                    .await?
                    .into_iter()
                    .find(|c| new.config_name.is_some() && c.config_name == new.config_name)
                    .map(|c| Wrapped {
                        log_delivery_configuration: c,
                    }))
            })
            .await?;
        Ok(created.log_delivery_configuration)
    }

    /// Enables or disables a configuration.
    pub async fn set_log_delivery_status(
        &self,
        config_id: &str,
        status: Status,
    ) -> Result<(), Error> {
        self.client()
            .patch::<_, serde::de::IgnoredAny>(
                &self.path(&format!("log-delivery/{config_id}")),
                &[],
                &StatusUpdate { status },
            )
            .await?;
        Ok(())
    }
}
