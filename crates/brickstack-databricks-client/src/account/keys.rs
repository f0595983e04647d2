//! Customer-managed keys (`/customer-managed-keys`): a KMS key Databricks encrypts managed
//! services (`MANAGED_SERVICES`) and/or workspace storage (`STORAGE`) with. Immutable: create,
//! get, list, delete.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A customer-managed key configuration as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerManagedKey {
    pub customer_managed_key_id: String,
    #[serde(default)]
    pub account_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub creation_time: Option<i64>,
    /// `MANAGED_SERVICES` and/or `STORAGE`.
    #[serde(default)]
    pub use_cases: Vec<String>,
    #[serde(default)]
    pub aws_key_info: Option<AwsKeyInfo>,
}

/// The KMS key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsKeyInfo {
    pub key_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_alias: Option<String>,
    /// The vendor fills in the ARN's region when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_region: Option<String>,
    /// Only with `STORAGE`; the vendor's default is `true` (cluster EBS volumes are encrypted too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_key_for_cluster_volumes: Option<bool>,
}

/// What a new key configuration is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCustomerManagedKey {
    pub use_cases: Vec<String>,
    pub aws_key_info: AwsKeyInfo,
}

impl AccountClient {
    /// Every customer-managed key configuration of the account.
    pub async fn list_customer_managed_keys(&self) -> Result<Vec<CustomerManagedKey>, Error> {
        self.client()
            .get(&self.path("customer-managed-keys"), &[])
            .await
    }

    /// One key configuration; `None` when it does not exist.
    pub async fn get_customer_managed_key(
        &self,
        customer_managed_key_id: &str,
    ) -> Result<Option<CustomerManagedKey>, Error> {
        self.get_if_exists(&self.path(&format!("customer-managed-keys/{customer_managed_key_id}")))
            .await
    }

    /// Creates a key configuration. It has no name: a create whose answer was lost is recognised
    /// by its key ARN and use cases (the newest such configuration; any of them would encrypt
    /// the same way).
    pub async fn create_customer_managed_key(
        &self,
        new: &NewCustomerManagedKey,
    ) -> Result<CustomerManagedKey, Error> {
        let use_cases: BTreeSet<&str> = new.use_cases.iter().map(String::as_str).collect();
        self.client()
            .create(&self.path("customer-managed-keys"), new, || async {
                Ok(self
                    .list_customer_managed_keys()
                    .await?
                    .into_iter()
                    .filter(|k| {
                        k.aws_key_info.as_ref().map(|i| &i.key_arn)
                            == Some(&new.aws_key_info.key_arn)
                            && k.use_cases
                                .iter()
                                .map(String::as_str)
                                .collect::<BTreeSet<_>>()
                                == use_cases
                    })
                    .max_by_key(|k| k.creation_time))
            })
            .await
    }

    /// Deletes a key configuration (refused while a running workspace uses it).
    pub async fn delete_customer_managed_key(
        &self,
        customer_managed_key_id: &str,
    ) -> Result<(), Error> {
        self.delete_object(&self.path(&format!("customer-managed-keys/{customer_managed_key_id}")))
            .await
    }
}
