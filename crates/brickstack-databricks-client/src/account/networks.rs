//! Network configurations (`/networks`): a customer-managed VPC, its subnets and security groups,
//! and the platform's verdict on them (`vpc_status`, `error_messages`, `warning_messages`).
//! Immutable: create, get, list, delete.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A network configuration as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub network_id: String,
    pub network_name: String,
    #[serde(default)]
    pub account_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub creation_time: Option<i64>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub vpc_endpoints: Option<VpcEndpoints>,
    /// The workspace using this network, when one does.
    #[serde(default)]
    pub workspace_id: Option<i64>,
    /// `VALID`, `BROKEN`, `UNATTACHED` or `WARNED`.
    #[serde(default)]
    pub vpc_status: Option<String>,
    #[serde(default)]
    pub error_messages: Vec<NetworkHealth>,
    #[serde(default)]
    pub warning_messages: Vec<NetworkWarning>,
}

/// PrivateLink endpoints: Databricks VPC-endpoint registration ids (not AWS `vpce-` ids).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcEndpoints {
    #[serde(default)]
    pub rest_api: Vec<String>,
    #[serde(default)]
    pub dataplane_relay: Vec<String>,
}

impl VpcEndpoints {
    pub fn is_empty(&self) -> bool {
        self.rest_api.is_empty() && self.dataplane_relay.is_empty()
    }
}

/// What is wrong with the network (`error_type`: `credentials`, `networkAcl`, `securityGroup`,
/// `subnet`, `vpc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkHealth {
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
}

impl fmt::Display for NetworkHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.error_type.as_deref().unwrap_or("error"),
            self.error_message.as_deref().unwrap_or("(no message)")
        )
    }
}

/// What may be wrong with the network (`warning_type`: `securityGroup`, `subnet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkWarning {
    #[serde(default)]
    pub warning_type: Option<String>,
    #[serde(default)]
    pub warning_message: Option<String>,
}

/// What a new network configuration is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewNetwork {
    pub network_name: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoints: Option<VpcEndpoints>,
}

impl AccountClient {
    /// Every network configuration of the account.
    pub async fn list_networks(&self) -> Result<Vec<Network>, Error> {
        self.client().get(&self.path("networks"), &[]).await
    }

    /// One network configuration; `None` when it does not exist.
    pub async fn get_network(&self, network_id: &str) -> Result<Option<Network>, Error> {
        self.get_if_exists(&self.path(&format!("networks/{network_id}")))
            .await
    }

    /// Creates a network configuration; a create whose answer was lost is recognised by its
    /// name (unique in an account).
    pub async fn create_network(&self, new: &NewNetwork) -> Result<Network, Error> {
        self.client()
            .create(&self.path("networks"), new, || async {
                Ok(self
                    .list_networks()
                    .await?
                    .into_iter()
                    .find(|n| n.network_name == new.network_name))
            })
            .await
    }

    /// Deletes a network configuration (refused while a workspace uses it).
    pub async fn delete_network(&self, network_id: &str) -> Result<(), Error> {
        self.delete_object(&self.path(&format!("networks/{network_id}")))
            .await
    }
}
