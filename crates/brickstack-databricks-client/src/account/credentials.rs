//! Credential configurations (`/credentials`): the cross-account IAM role Databricks assumes to
//! run the workspace's compute in the customer's AWS account. Immutable: create, get, list, delete.

use serde::{Deserialize, Serialize};

use super::AccountClient;
use crate::client::error::Error;

/// A credential configuration as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub credentials_id: String,
    pub credentials_name: String,
    #[serde(default)]
    pub account_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub creation_time: Option<i64>,
    #[serde(default)]
    pub aws_credentials: AwsCredentials,
}

impl Credential {
    /// The IAM role's ARN.
    pub fn role_arn(&self) -> Option<&str> {
        self.aws_credentials.sts_role.as_ref()?.role_arn.as_deref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts_role: Option<StsRole>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsRole {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy must require (the Databricks account id); older
    /// API versions return it, the current one does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

#[derive(Serialize)]
struct CreateRequest<'a> {
    credentials_name: &'a str,
    aws_credentials: AwsCredentials,
}

impl AccountClient {
    /// Every credential configuration of the account.
    pub async fn list_credentials(&self) -> Result<Vec<Credential>, Error> {
        self.client().get(&self.path("credentials"), &[]).await
    }

    /// One credential configuration; `None` when it does not exist.
    pub async fn get_credential(&self, credentials_id: &str) -> Result<Option<Credential>, Error> {
        self.get_if_exists(&self.path(&format!("credentials/{credentials_id}")))
            .await
    }

    /// Registers `role_arn` as `name`. Names are unique in an account, so a create whose answer
    /// was lost is recognised by its name.
    pub async fn create_credential(&self, name: &str, role_arn: &str) -> Result<Credential, Error> {
        let body = CreateRequest {
            credentials_name: name,
            aws_credentials: AwsCredentials {
                sts_role: Some(StsRole {
                    role_arn: Some(role_arn.to_string()),
                    external_id: None,
                }),
            },
        };
        self.client()
            .create(&self.path("credentials"), &body, || async {
                Ok(self
                    .list_credentials()
                    .await?
                    .into_iter()
                    .find(|c| c.credentials_name == name))
            })
            .await
    }

    /// Deletes a credential configuration (refused while a workspace uses it).
    pub async fn delete_credential(&self, credentials_id: &str) -> Result<(), Error> {
        self.delete_object(&self.path(&format!("credentials/{credentials_id}")))
            .await
    }
}
