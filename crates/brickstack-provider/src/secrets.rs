//! Where secret values go: a token Databricks hands out once is written straight to a secret
//! store (SSM SecureString under a KMS key on AWS) and never to state, plans or logs. State keeps
//! only the parameter's name and version.

use std::collections::BTreeMap;
use std::fmt;

use crate::ProviderError;

/// A secret value. Its `Debug` and `Display` never show it, so it cannot leak through a log line
/// or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }

    /// The value itself, for the one call that stores it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A secret to store: its name, the key it is encrypted under, and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretWrite<'a> {
    /// The parameter name, e.g. `/brickstack/dev/databricks/tokens/pat`.
    pub name: &'a str,
    pub value: &'a SecretValue,
    /// The KMS key (id, ARN or alias) the value is encrypted under.
    pub kms_key_id: &'a str,
    pub description: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

/// What is known of a stored secret without reading its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    pub name: String,
    /// Goes up by one with every write.
    pub version: i64,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// A store of secret values by name.
pub trait SecretStore: Send + Sync {
    /// Writes `secret` (a new version when it exists) and returns the stored version.
    fn put(
        &self,
        secret: &SecretWrite<'_>,
    ) -> impl Future<Output = Result<SecretMetadata, ProviderError>> + Send;

    /// The secret's metadata, `None` when it does not exist. Never decrypts the value.
    fn describe(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<SecretMetadata>, ProviderError>> + Send;

    /// The secret's value, `None` when it does not exist: for credentials brickstack reads
    /// (a service principal's OAuth secret), never for values it minted itself.
    fn read(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<SecretValue>, ProviderError>> + Send;

    /// Deletes the secret; a missing one is already deleted.
    fn delete(&self, name: &str) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::SecretValue;

    #[test]
    fn a_secret_value_never_prints() {
        let secret = SecretValue::new("dapi-very-secret");
        assert!(!format!("{secret:?} {secret}").contains("very-secret"));
        assert_eq!(secret.expose(), "dapi-very-secret");
    }
}
