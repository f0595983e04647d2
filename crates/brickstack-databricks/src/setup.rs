//! Which account brickstack acts in, on which host, as whom: the spec's account and the unified
//! Databricks configuration (environment, `~/.databrickscfg`) together, with the spec's SSM
//! parameters as the last source of the service principal's credentials.
//!
//! Precedence: `DATABRICKS_HOST` (or the profile's `host`) over the spec's `databricks.account.host`;
//! credentials from `DATABRICKS_CLIENT_ID`/`DATABRICKS_CLIENT_SECRET` (or the profile) over the SSM
//! parameters the spec names. The account id is the spec's; a different `DATABRICKS_ACCOUNT_ID` is
//! refused rather than silently ignored.

use brickstack_provider::{ProviderError, SecretStore};

use crate::client::auth::Credentials;
use crate::config::Settings;

/// The spec's account section, as plain values.
#[derive(Debug, Clone, Copy)]
pub struct SpecAccount<'a> {
    pub account_id: &'a str,
    pub host: &'a str,
    pub client_id_parameter: &'a str,
    pub client_secret_parameter: &'a str,
}

/// What brickstack connects to and with.
#[derive(Debug, Clone)]
pub struct ResolvedAccount {
    pub host: String,
    pub account_id: String,
    pub credentials: Credentials,
    /// Where the credentials came from, for messages (never the values).
    pub credentials_source: String,
}

/// Why no account connection can be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(
        "`DATABRICKS_ACCOUNT_ID` is `{configured}` ({origin}) but the spec's account is `{spec}`"
    )]
    AccountMismatch {
        configured: String,
        origin: String,
        spec: String,
    },
    #[error(
        "the Databricks host `{host}` ({origin}) is a workspace, but brickstack starts at the account API"
    )]
    WorkspaceHost { host: String, origin: String },
    #[error(
        "a personal access token is configured ({origin}), but the account API accepts only OAuth"
    )]
    PatForAccount { origin: String },
    #[error(
        "no Databricks service principal credentials: tried DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, `client_id`/`client_secret` in the `~/.databrickscfg` profile (DATABRICKS_CONFIG_PROFILE, else DEFAULT), and the SSM parameters `{id_parameter}` and `{secret_parameter}`{missing}"
    )]
    NoCredentials {
        id_parameter: String,
        secret_parameter: String,
        missing: String,
    },
    #[error("reading the service principal's credentials from SSM: {0}")]
    Secrets(ProviderError),
    #[error("{0}")]
    Client(String),
}

impl SetupError {
    pub fn hint(&self) -> String {
        match self {
            SetupError::Config(e) => e.hint().to_string(),
            SetupError::AccountMismatch { .. } => {
                "unset DATABRICKS_ACCOUNT_ID, or run against the environment of that account".into()
            }
            SetupError::WorkspaceHost { .. } => {
                "set DATABRICKS_HOST to the account console (`https://accounts.cloud.databricks.com`) or unset it; brickstack finds workspaces through the account".into()
            }
            SetupError::PatForAccount { .. } => {
                "use a service principal: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or the SSM parameters in `[databricks.account]`".into()
            }
            SetupError::NoCredentials { id_parameter, .. } => format!(
                "export DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, add `client_id` and `client_secret` to the `~/.databrickscfg` profile, or store them: `aws ssm put-parameter --type SecureString --name {id_parameter} --value <client id>` (and the secret likewise)"
            ),
            SetupError::Secrets(_) => {
                "check the AWS credentials can `ssm:GetParameter` with decryption on those parameters".into()
            }
            SetupError::Client(_) => "check the host is a valid URL".into(),
        }
    }
}

/// Resolves the account connection; reads SSM (through `secrets`) only when no credentials are
/// configured otherwise.
pub async fn resolve(
    spec: SpecAccount<'_>,
    settings: &Settings,
    secrets: &impl SecretStore,
) -> Result<ResolvedAccount, SetupError> {
    let source = |key: &str| {
        settings
            .sources
            .get(key)
            .cloned()
            .unwrap_or_else(|| "the configuration".into())
    };
    if let Some(configured) = &settings.account_id
        && configured != spec.account_id
    {
        return Err(SetupError::AccountMismatch {
            configured: configured.clone(),
            origin: source("account_id"),
            spec: spec.account_id.to_string(),
        });
    }
    let host = settings
        .host
        .clone()
        .unwrap_or_else(|| spec.host.trim_end_matches('/').to_string());
    if host.starts_with("https://") && !is_account_host(&host) && settings.host.is_some() {
        return Err(SetupError::WorkspaceHost {
            host,
            origin: source("host"),
        });
    }
    match settings.credentials()? {
        Some(credentials @ Credentials::OAuthM2m { .. }) => {
            return Ok(ResolvedAccount {
                host,
                account_id: spec.account_id.to_string(),
                credentials,
                credentials_source: source("client_id"),
            });
        }
        Some(Credentials::Pat(_)) => {
            return Err(SetupError::PatForAccount {
                origin: source("token"),
            });
        }
        None => {}
    }
    let id = secrets
        .read(spec.client_id_parameter)
        .await
        .map_err(SetupError::Secrets)?;
    let secret = secrets
        .read(spec.client_secret_parameter)
        .await
        .map_err(SetupError::Secrets)?;
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(ResolvedAccount {
            host,
            account_id: spec.account_id.to_string(),
            credentials: Credentials::OAuthM2m {
                client_id: id.expose().to_string(),
                client_secret: secret,
            },
            credentials_source: format!(
                "SSM parameters `{}` and `{}`",
                spec.client_id_parameter, spec.client_secret_parameter
            ),
        }),
        (id, secret) => {
            let missing: Vec<&str> = [
                (id.is_none(), spec.client_id_parameter),
                (secret.is_none(), spec.client_secret_parameter),
            ]
            .into_iter()
            .filter(|(absent, _)| *absent)
            .map(|(_, name)| name)
            .collect();
            Err(SetupError::NoCredentials {
                id_parameter: spec.client_id_parameter.to_string(),
                secret_parameter: spec.client_secret_parameter.to_string(),
                missing: format!(" (missing: {})", missing.join(", ")),
            })
        }
    }
}

/// `https://accounts.…` or `https://accounts-dod.…`, as the SDKs tell account hosts apart.
fn is_account_host(host: &str) -> bool {
    host.starts_with("https://accounts.") || host.starts_with("https://accounts-dod.")
}

#[cfg(test)]
mod tests {
    use brickstack_provider::memory::MemorySecrets;
    use brickstack_provider::{SecretValue, SecretWrite};

    use super::*;

    const SPEC: SpecAccount<'static> = SpecAccount {
        account_id: "0d26daa6-5e44-4c97-a497-ef015f91254a",
        host: "https://accounts.cloud.databricks.com",
        client_id_parameter: "/brickstack/dev/databricks/client-id",
        client_secret_parameter: "/brickstack/dev/databricks/client-secret",
    };

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let env: std::collections::BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(|k| env.get(k).cloned(), None).unwrap()
    }

    async fn store(secrets: &MemorySecrets, name: &str, value: &str) {
        SecretStore::put(
            secrets,
            &SecretWrite {
                name,
                value: &SecretValue::new(value),
                kms_key_id: "alias/x",
                description: "",
                tags: &Default::default(),
            },
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn environment_credentials_win_and_ssm_is_the_fallback() {
        let secrets = MemorySecrets::new();
        let from_env = resolve(
            SPEC,
            &settings(&[
                ("DATABRICKS_HOST", "http://127.0.0.1:9"),
                ("DATABRICKS_CLIENT_ID", "env-id"),
                ("DATABRICKS_CLIENT_SECRET", "env-secret"),
            ]),
            &secrets,
        )
        .await
        .unwrap();
        assert_eq!(from_env.host, "http://127.0.0.1:9");
        assert_eq!(from_env.credentials_source, "DATABRICKS_CLIENT_ID");

        let missing = resolve(SPEC, &settings(&[]), &secrets).await.unwrap_err();
        assert!(
            matches!(missing, SetupError::NoCredentials { .. }),
            "{missing}"
        );

        store(&secrets, SPEC.client_id_parameter, "ssm-id").await;
        store(&secrets, SPEC.client_secret_parameter, "ssm-secret").await;
        let from_ssm = resolve(SPEC, &settings(&[]), &secrets).await.unwrap();
        assert_eq!(from_ssm.host, SPEC.host);
        match from_ssm.credentials {
            Credentials::OAuthM2m { client_id, .. } => assert_eq!(client_id, "ssm-id"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn refusals_name_the_setting() {
        let secrets = MemorySecrets::new();
        let e = resolve(
            SPEC,
            &settings(&[(
                "DATABRICKS_ACCOUNT_ID",
                "11111111-1111-4111-8111-111111111111",
            )]),
            &secrets,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("DATABRICKS_ACCOUNT_ID"), "{e}");
        let e = resolve(
            SPEC,
            &settings(&[("DATABRICKS_HOST", "https://dbc-1.cloud.databricks.com")]),
            &secrets,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, SetupError::WorkspaceHost { .. }), "{e}");
        let e = resolve(SPEC, &settings(&[("DATABRICKS_TOKEN", "dapi1")]), &secrets)
            .await
            .unwrap_err();
        assert!(matches!(e, SetupError::PatForAccount { .. }), "{e}");
    }
}
