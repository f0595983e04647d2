//! `databricks_mws_log_delivery`: billable-usage or audit-log delivery to S3. The object id is
//! the vendor's `config_id`.
//!
//! * The vendor allows only a change of status, which is not an attribute: every desired
//!   attribute forces replacement.
//! * The API has no DELETE: delete disables the configuration, and a disabled configuration is
//!   gone as far as brickstack is concerned (read answers `None`, `find` looks among the enabled
//!   ones only).
//! * `workspace_ids_filter` is a set of workspace ids (numbers); empty means the whole account,
//!   and is left out.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{done_if_not_found, invalid_input, observed, parse};
use crate::account::log_delivery::{
    LogDeliveryConfiguration, LogDeliveryFilter, NewLogDeliveryConfiguration, Status,
};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_log_delivery";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogDeliveryAttributes {
    account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    config_name: Option<String>,
    /// `AUDIT_LOGS` or `BILLABLE_USAGE`.
    log_type: String,
    /// `JSON` or `CSV`.
    output_format: String,
    credentials_id: String,
    storage_configuration_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_path_prefix: Option<String>,
    /// `YYYY-MM`; the vendor fills in a default for billable usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    workspace_ids_filter: Vec<i64>,
}

pub(crate) fn schema() -> KindSchema {
    let mut schema = KindSchema::new(KIND);
    for name in [
        "account_id",
        "config_name",
        "log_type",
        "output_format",
        "credentials_id",
        "storage_configuration_id",
        "delivery_path_prefix",
        "delivery_start_time",
        "workspace_ids_filter",
    ] {
        schema = schema.attribute(name, AttributeBehaviour::ForcesReplacement);
    }
    schema
        .attribute("config_id", AttributeBehaviour::Computed)
        .attribute("creation_time", AttributeBehaviour::Computed)
        .unordered("workspace_ids_filter")
}

fn observe(p: &DatabricksProvider, config: LogDeliveryConfiguration) -> Observed {
    let attributes = LogDeliveryAttributes {
        account_id: p.account().account_id().to_string(),
        config_name: config.config_name.clone().filter(|n| !n.is_empty()),
        log_type: config.log_type.clone(),
        output_format: config.output_format.clone(),
        credentials_id: config.credentials_id.clone(),
        storage_configuration_id: config.storage_configuration_id.clone(),
        delivery_path_prefix: config
            .delivery_path_prefix
            .clone()
            .filter(|p| !p.is_empty()),
        delivery_start_time: config.delivery_start_time.clone().filter(|t| !t.is_empty()),
        workspace_ids_filter: config.workspace_ids_filter.clone(),
    };
    let mut computed = vec![("config_id", Value::from(config.config_id.clone()))];
    if let Some(t) = config.creation_time {
        computed.push(("creation_time", Value::from(t)));
    }
    observed(&config.config_id, &attributes, computed)
}

/// A disabled configuration is `None`: that is what brickstack's delete leaves.
pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(p.account()
        .get_log_delivery(object_id)
        .await?
        .filter(LogDeliveryConfiguration::is_enabled)
        .map(|c| observe(p, c)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: LogDeliveryAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let created = p
        .account()
        .create_log_delivery(&NewLogDeliveryConfiguration {
            config_name: desired.config_name,
            log_type: desired.log_type,
            output_format: desired.output_format,
            credentials_id: desired.credentials_id,
            storage_configuration_id: desired.storage_configuration_id,
            delivery_path_prefix: desired.delivery_path_prefix,
            delivery_start_time: desired.delivery_start_time,
            status: Some(Status::Enabled),
            workspace_ids_filter: desired.workspace_ids_filter,
        })
        .await?;
    Ok(observe(p, created))
}

/// Every attribute forces replacement, so the engine never asks for an update.
pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(invalid_input(
        KIND,
        "a log delivery configuration cannot change in place (the vendor changes only its status); every attribute forces replacement",
    ))
}

/// Disables the configuration: the API has no DELETE.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(
        p.account()
            .set_log_delivery_status(object_id, Status::Disabled)
            .await,
    )
}

/// By `config_name` among the enabled configurations. The vendor does not keep names unique:
/// when several enabled ones share the name, adopting any one would leave the others delivering
/// unmanaged, so that is a conflict for a person to settle.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    let filter = LogDeliveryFilter {
        status: Some(Status::Enabled),
        ..LogDeliveryFilter::default()
    };
    let mut found: Vec<LogDeliveryConfiguration> = p
        .account()
        .list_log_delivery(&filter)
        .await?
        .into_iter()
        .filter(|c| c.is_enabled() && c.config_name.as_ref() == Some(name))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop().map(|c| observe(p, c))),
        _ => {
            let ids: Vec<String> = found.iter().map(|c| format!("`{}`", c.config_id)).collect();
            Err(ProviderError::new(
                ErrorClass::Conflict,
                "AmbiguousLogDelivery",
                format!(
                    "{KIND}: {} enabled log delivery configurations are named `{name}` ({}); hint: disable all but one (PATCH its status to DISABLED) and apply again",
                    found.len(),
                    ids.join(", ")
                ),
            ))
        }
    }
}
