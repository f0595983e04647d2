//! Account service principals (SCIM 2.0 under `/scim/v2/ServicePrincipals`: create, get, list
//! with a filter, patch, delete) and their OAuth secrets (`/servicePrincipals/{id}/credentials/
//! secrets`: create, list, delete). A secret's value is returned once, by create, as a
//! [`SecretValue`] so that it never prints.

use std::time::Duration;

use brickstack_provider::SecretValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AccountClient;
use crate::client::error::{Error, ErrorDetail};

const SCHEMA_SERVICE_PRINCIPAL: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const SCHEMA_PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Resources asked for per listing page (the API's own maximum is larger; this keeps pages small).
const PAGE_SIZE: u32 = 100;

/// An account service principal as SCIM reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountServicePrincipal {
    /// The numeric SCIM id: used in permission assignments and secret paths.
    pub id: String,
    /// The OAuth client id (a UUID), and the name ACLs use.
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub external_id: Option<String>,
    /// E.g. `account_admin`.
    #[serde(default)]
    pub roles: Vec<ComplexValue>,
}

/// A SCIM multi-valued attribute's entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplexValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// What a new service principal is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewServicePrincipal {
    pub display_name: String,
    /// Only to register an existing application; the API makes one otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ComplexValue>,
}

/// One SCIM PATCH operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOperation {
    /// `add`, `remove` or `replace`.
    pub op: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A SCIM listing page.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default)]
    total_results: Option<u64>,
    #[serde(default, rename = "Resources")]
    resources: Vec<AccountServicePrincipal>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScimCreate<'a> {
    schemas: [&'static str; 1],
    #[serde(flatten)]
    principal: &'a NewServicePrincipal,
}

#[derive(Serialize)]
struct ScimPatch<'a> {
    schemas: [&'static str; 1],
    #[serde(rename = "Operations")]
    operations: &'a [PatchOperation],
}

/// A SCIM filter `attribute eq "value"`, the value's quotes and backslashes escaped.
pub fn scim_eq(attribute: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{attribute} eq \"{escaped}\"")
}

/// An OAuth secret as listings report it (never with its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretInfo {
    pub id: String,
    #[serde(default)]
    pub secret_hash: Option<String>,
    /// E.g. `ACTIVE`.
    #[serde(default)]
    pub status: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub create_time: Option<String>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default)]
    pub expire_time: Option<String>,
}

/// A secret just created: its metadata and, this once, its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSecret {
    pub info: SecretInfo,
    pub secret: SecretValue,
}

#[derive(Deserialize)]
struct SecretsPage {
    #[serde(default)]
    secrets: Vec<SecretInfo>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Serialize)]
struct CreateSecret {
    #[serde(skip_serializing_if = "Option::is_none")]
    lifetime: Option<String>,
}

impl AccountClient {
    fn service_principal_path(&self, id: &str) -> String {
        self.path(&format!("scim/v2/ServicePrincipals/{id}"))
    }

    fn secrets_path(&self, service_principal_id: &str) -> String {
        self.path(&format!(
            "servicePrincipals/{service_principal_id}/credentials/secrets"
        ))
    }

    /// Every service principal `filter` (a SCIM filter, e.g. [`scim_eq`]) selects, all pages.
    pub async fn list_service_principals(
        &self,
        filter: Option<&str>,
    ) -> Result<Vec<AccountServicePrincipal>, Error> {
        let path = self.path("scim/v2/ServicePrincipals");
        let mut all = Vec::new();
        loop {
            let mut query = vec![
                ("startIndex", (all.len() + 1).to_string()),
                ("count", PAGE_SIZE.to_string()),
            ];
            if let Some(filter) = filter {
                query.push(("filter", filter.to_string()));
            }
            let page: ListResponse = self.client().get(&path, &query).await?;
            let got = page.resources.len();
            all.extend(page.resources);
            let total = page.total_results.unwrap_or(0);
            if got == 0 || all.len() as u64 >= total {
                return Ok(all);
            }
        }
    }

    /// One service principal by its SCIM id; `None` when it does not exist.
    pub async fn get_service_principal(
        &self,
        id: &str,
    ) -> Result<Option<AccountServicePrincipal>, Error> {
        self.get_if_exists(&self.service_principal_path(id)).await
    }

    /// Creates a service principal. A create whose answer was lost is recognised by its display
    /// name when exactly one service principal has it (display names are not unique).
    pub async fn create_service_principal(
        &self,
        new: &NewServicePrincipal,
    ) -> Result<AccountServicePrincipal, Error> {
        let body = ScimCreate {
            schemas: [SCHEMA_SERVICE_PRINCIPAL],
            principal: new,
        };
        self.client()
            .create(&self.path("scim/v2/ServicePrincipals"), &body, || async {
                let mut found = self
                    .list_service_principals(Some(&scim_eq("displayName", &new.display_name)))
                    .await?;
                Ok(if found.len() == 1 { found.pop() } else { None })
            })
            .await
    }

    /// Applies SCIM PATCH `operations` to a service principal.
    pub async fn patch_service_principal(
        &self,
        id: &str,
        operations: &[PatchOperation],
    ) -> Result<(), Error> {
        let body = ScimPatch {
            schemas: [SCHEMA_PATCH_OP],
            operations,
        };
        self.client()
            .patch::<_, serde::de::IgnoredAny>(&self.service_principal_path(id), &[], &body)
            .await?;
        Ok(())
    }

    /// Deletes a service principal.
    pub async fn delete_service_principal(&self, id: &str) -> Result<(), Error> {
        self.delete_object(&self.service_principal_path(id)).await
    }

    /// Creates an OAuth secret for the service principal with SCIM id `service_principal_id`,
    /// valid for `lifetime` (the API's default, 730 days, when `None`). The value is in the
    /// answer only this once. Not retried after an ambiguous failure: a lost secret cannot be
    /// recovered, and a stray one is harmless.
    pub async fn create_service_principal_secret(
        &self,
        service_principal_id: &str,
        lifetime: Option<Duration>,
    ) -> Result<CreatedSecret, Error> {
        let path = self.secrets_path(service_principal_id);
        let body = CreateSecret {
            lifetime: lifetime.map(|l| format!("{}s", l.as_secs())),
        };
        // Read as a JSON value, never as a typed struct: a decoding error would quote the body,
        // and the body holds the secret.
        let mut answer: Value = self.client().post(&path, &body).await?;
        let malformed = |what: &str| {
            Error::new(
                "POST",
                &path,
                ErrorDetail::Decode(format!("the created secret has no {what}")),
            )
        };
        let secret = match answer.get_mut("secret").map(Value::take) {
            Some(Value::String(s)) if !s.is_empty() => SecretValue::new(s),
            _ => return Err(malformed("`secret` string")),
        };
        let info: SecretInfo =
            serde_json::from_value(answer).map_err(|_| malformed("valid metadata"))?;
        Ok(CreatedSecret { info, secret })
    }

    /// The service principal's OAuth secrets (without values), all pages.
    pub async fn list_service_principal_secrets(
        &self,
        service_principal_id: &str,
    ) -> Result<Vec<SecretInfo>, Error> {
        let path = self.secrets_path(service_principal_id);
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let query: Vec<(&str, String)> =
                token.iter().map(|t| ("page_token", t.clone())).collect();
            let page: SecretsPage = self.client().get(&path, &query).await?;
            all.extend(page.secrets);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// Deletes one OAuth secret.
    pub async fn delete_service_principal_secret(
        &self,
        service_principal_id: &str,
        secret_id: &str,
    ) -> Result<(), Error> {
        self.delete_object(&format!(
            "{}/{secret_id}",
            self.secrets_path(service_principal_id)
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_quoted_and_escaped() {
        assert_eq!(scim_eq("displayName", "ci"), r#"displayName eq "ci""#);
        assert_eq!(
            scim_eq("displayName", r#"a "b" \c"#),
            r#"displayName eq "a \"b\" \\c""#
        );
    }

    #[test]
    fn a_created_secret_never_prints_its_value() {
        let created = CreatedSecret {
            info: SecretInfo {
                id: "1".into(),
                secret_hash: None,
                status: None,
                create_time: None,
                update_time: None,
                expire_time: None,
            },
            secret: SecretValue::new("dose-very-secret"),
        };
        assert!(!format!("{created:?}").contains("very-secret"));
    }
}
