//! Secret scopes, secrets and scope ACLs (`/api/2.0/secrets/…`). Secret values go in as
//! [`SecretValue`] and never come back: the API has no read of a value outside a notebook.

use brickstack_provider::SecretValue;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::WorkspaceClient;
use crate::client::error::Error;

/// A secret scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretScope {
    pub name: String,
    /// `DATABRICKS` (the default) or `AZURE_KEYVAULT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_type: Option<String>,
}

/// A secret's key and when it was last written (epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMetadata {
    pub key: String,
    #[serde(default)]
    pub last_updated_timestamp: i64,
}

/// A principal's permission on a scope: `READ`, `WRITE` or `MANAGE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclItem {
    /// A user name, a group name or a service principal's application id.
    pub principal: String,
    pub permission: String,
}

#[derive(Deserialize)]
struct Scopes {
    #[serde(default)]
    scopes: Vec<SecretScope>,
}

#[derive(Deserialize)]
struct Secrets {
    #[serde(default)]
    secrets: Vec<SecretMetadata>,
}

#[derive(Deserialize)]
struct Acls {
    #[serde(default)]
    items: Vec<AclItem>,
}

impl WorkspaceClient {
    /// Creates the Databricks-backed scope `name` (the caller holds `MANAGE` on it); one that
    /// exists is `RESOURCE_ALREADY_EXISTS`. After a failure that may have reached the workspace,
    /// a scope `name` that then exists is the one this call made.
    pub async fn create_secret_scope(&self, name: &str) -> Result<(), Error> {
        let _: Value = self
            .client()
            .create(
                "/api/2.0/secrets/scopes/create",
                &json!({ "scope": name }),
                || async {
                    let scopes = self.list_secret_scopes().await?;
                    Ok(scopes.iter().any(|s| s.name == name).then(|| json!({})))
                },
            )
            .await?;
        Ok(())
    }

    /// Deletes the scope `name` with its secrets and ACLs.
    pub async fn delete_secret_scope(&self, name: &str) -> Result<(), Error> {
        let _: Value = self
            .client()
            .post("/api/2.0/secrets/scopes/delete", &json!({ "scope": name }))
            .await?;
        Ok(())
    }

    pub async fn list_secret_scopes(&self) -> Result<Vec<SecretScope>, Error> {
        let list: Scopes = self
            .client()
            .get("/api/2.0/secrets/scopes/list", &[])
            .await?;
        Ok(list.scopes)
    }

    /// Writes the secret `key` of `scope` (a new value replaces the old one).
    pub async fn put_secret(
        &self,
        scope: &str,
        key: &str,
        value: &SecretValue,
    ) -> Result<(), Error> {
        let body = json!({ "scope": scope, "key": key, "string_value": value.expose() });
        let _: Value = self.client().post("/api/2.0/secrets/put", &body).await?;
        Ok(())
    }

    pub async fn delete_secret(&self, scope: &str, key: &str) -> Result<(), Error> {
        let _: Value = self
            .client()
            .post(
                "/api/2.0/secrets/delete",
                &json!({ "scope": scope, "key": key }),
            )
            .await?;
        Ok(())
    }

    /// The keys of `scope`'s secrets (never their values).
    pub async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>, Error> {
        let list: Secrets = self
            .client()
            .get("/api/2.0/secrets/list", &[("scope", scope.to_string())])
            .await?;
        Ok(list.secrets)
    }

    /// Gives `principal` `permission` on `scope`, replacing what it had.
    pub async fn put_secret_acl(
        &self,
        scope: &str,
        principal: &str,
        permission: &str,
    ) -> Result<(), Error> {
        let body = json!({ "scope": scope, "principal": principal, "permission": permission });
        let _: Value = self
            .client()
            .post("/api/2.0/secrets/acls/put", &body)
            .await?;
        Ok(())
    }

    pub async fn delete_secret_acl(&self, scope: &str, principal: &str) -> Result<(), Error> {
        let body = json!({ "scope": scope, "principal": principal });
        let _: Value = self
            .client()
            .post("/api/2.0/secrets/acls/delete", &body)
            .await?;
        Ok(())
    }

    /// `principal`'s permission on `scope`; `None` when it has none (or the scope is gone).
    pub async fn get_secret_acl(
        &self,
        scope: &str,
        principal: &str,
    ) -> Result<Option<AclItem>, Error> {
        let query = [
            ("scope", scope.to_string()),
            ("principal", principal.to_string()),
        ];
        match self.client().get("/api/2.0/secrets/acls/get", &query).await {
            Ok(item) => Ok(Some(item)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn list_secret_acls(&self, scope: &str) -> Result<Vec<AclItem>, Error> {
        let list: Acls = self
            .client()
            .get(
                "/api/2.0/secrets/acls/list",
                &[("scope", scope.to_string())],
            )
            .await?;
        Ok(list.items)
    }
}
