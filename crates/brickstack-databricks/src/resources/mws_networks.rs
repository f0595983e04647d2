//! `databricks_mws_networks`: a customer-managed VPC registered with the account. The object id
//! is the vendor's `network_id`.
//!
//! * Immutable: every desired attribute forces replacement.
//! * `subnet_ids` and `security_group_ids` are sets to the vendor (unordered).
//! * The platform's verdict on the network (`vpc_status`, `error_messages`, `warning_messages`)
//!   is computed: it changes when a workspace starts using the network.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mws_credentials::check_account;
use super::{done_if_not_found, nothing_updates, observed, parse, unexpected};
use crate::account::networks::{Network, NewNetwork, VpcEndpoints};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_networks";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkAttributes {
    account_id: String,
    network_name: String,
    vpc_id: String,
    subnet_ids: Vec<String>,
    security_group_ids: Vec<String>,
    /// PrivateLink endpoints; left out when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vpc_endpoints: Option<EndpointAttributes>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointAttributes {
    #[serde(default)]
    rest_api: Vec<String>,
    #[serde(default)]
    dataplane_relay: Vec<String>,
}

impl EndpointAttributes {
    /// `None` for no endpoints at all, however the vendor or the spec spells that.
    fn of(endpoints: Option<&VpcEndpoints>) -> Option<EndpointAttributes> {
        endpoints
            .filter(|e| !e.is_empty())
            .map(|e| EndpointAttributes {
                rest_api: e.rest_api.clone(),
                dataplane_relay: e.dataplane_relay.clone(),
            })
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute("network_name", AttributeBehaviour::ForcesReplacement)
        .attribute("vpc_id", AttributeBehaviour::ForcesReplacement)
        .attribute("subnet_ids", AttributeBehaviour::ForcesReplacement)
        .attribute("security_group_ids", AttributeBehaviour::ForcesReplacement)
        .attribute("vpc_endpoints", AttributeBehaviour::ForcesReplacement)
        .attribute("network_id", AttributeBehaviour::Computed)
        .attribute("creation_time", AttributeBehaviour::Computed)
        .attribute("vpc_status", AttributeBehaviour::Computed)
        .attribute("error_messages", AttributeBehaviour::Computed)
        .attribute("warning_messages", AttributeBehaviour::Computed)
        .unordered("subnet_ids")
        .unordered("security_group_ids")
}

fn observe(p: &DatabricksProvider, network: Network) -> Result<Observed, ProviderError> {
    let vpc_id = network.vpc_id.clone().ok_or_else(|| {
        unexpected(
            KIND,
            format!(
                "network configuration `{}` has no VPC id",
                network.network_id
            ),
        )
    })?;
    let attributes = NetworkAttributes {
        account_id: p.account().account_id().to_string(),
        network_name: network.network_name.clone(),
        vpc_id,
        subnet_ids: network.subnet_ids.clone(),
        security_group_ids: network.security_group_ids.clone(),
        vpc_endpoints: EndpointAttributes::of(network.vpc_endpoints.as_ref()),
    };
    let mut computed = vec![
        ("network_id", Value::from(network.network_id.clone())),
        (
            "error_messages",
            serde_json::to_value(&network.error_messages).unwrap_or_default(),
        ),
        (
            "warning_messages",
            serde_json::to_value(&network.warning_messages).unwrap_or_default(),
        ),
    ];
    if let Some(t) = network.creation_time {
        computed.push(("creation_time", Value::from(t)));
    }
    if let Some(s) = &network.vpc_status {
        computed.push(("vpc_status", Value::from(s.clone())));
    }
    Ok(observed(&network.network_id, &attributes, computed))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    p.account()
        .get_network(object_id)
        .await?
        .map(|n| observe(p, n))
        .transpose()
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: NetworkAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let created = p
        .account()
        .create_network(&NewNetwork {
            network_name: desired.network_name,
            vpc_id: desired.vpc_id,
            subnet_ids: desired.subnet_ids,
            security_group_ids: desired.security_group_ids,
            vpc_endpoints: desired
                .vpc_endpoints
                .filter(|e| !(e.rest_api.is_empty() && e.dataplane_relay.is_empty()))
                .map(|e| VpcEndpoints {
                    rest_api: e.rest_api,
                    dataplane_relay: e.dataplane_relay,
                }),
        })
        .await?;
    observe(p, created)
}

/// Every attribute forces replacement, so the engine never asks for an update.
pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

/// The vendor refuses (a conflict) while a workspace uses the configuration.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(p.account().delete_network(object_id).await)
}

/// By `network_name`, unique in an account.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    p.account()
        .list_networks()
        .await?
        .into_iter()
        .find(|n| &n.network_name == name)
        .map(|n| observe(p, n))
        .transpose()
}
