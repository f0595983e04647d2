//! The Databricks unified client configuration: `DATABRICKS_*` environment variables first, then
//! the selected profile of `~/.databrickscfg` for what is still unset (the SDKs' order), and
//! their checks: one authentication method, never username/password.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use brickstack_provider::SecretValue;

use crate::client::auth::Credentials;

/// The settings the unified configuration resolved; unset ones are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub host: Option<String>,
    pub account_id: Option<String>,
    pub token: Option<SecretValue>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretValue>,
    pub auth_type: Option<String>,
    /// Where each setting came from (`DATABRICKS_HOST`, `~/.databrickscfg [prod]`), for messages.
    pub sources: BTreeMap<&'static str, String>,
}

/// The configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the Databricks configuration file `{path}`: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("the Databricks configuration file `{path}` has no profile `{profile}`")]
    NoProfile { path: PathBuf, profile: String },
    #[error("more than one authorization method configured: {0} and {1}")]
    Ambiguous(&'static str, &'static str),
    #[error(
        "username/password authentication is configured ({0}), but Databricks ended it on 2024-07-10"
    )]
    BasicAuth(String),
    #[error("unsupported auth_type `{0}`; brickstack supports `pat` and `oauth-m2m`")]
    UnsupportedAuthType(String),
    #[error("auth_type `{auth_type}` needs {missing}")]
    Incomplete {
        auth_type: String,
        missing: &'static str,
    },
}

impl ConfigError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ConfigError::File { .. } | ConfigError::NoProfile { .. } => {
                "fix the file, or point DATABRICKS_CONFIG_FILE / DATABRICKS_CONFIG_PROFILE elsewhere"
            }
            ConfigError::Ambiguous(..) => {
                "unset one of them, or choose with DATABRICKS_AUTH_TYPE (`pat` or `oauth-m2m`)"
            }
            ConfigError::BasicAuth(_) => {
                "use a service principal: set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (or `client_id`/`client_secret` in the profile)"
            }
            ConfigError::UnsupportedAuthType(_) | ConfigError::Incomplete { .. } => {
                "set DATABRICKS_TOKEN for `pat`, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for `oauth-m2m`"
            }
        }
    }
}

/// `(setting, environment variable, profile key)`.
const KEYS: &[(&str, &str, &str)] = &[
    ("host", "DATABRICKS_HOST", "host"),
    ("account_id", "DATABRICKS_ACCOUNT_ID", "account_id"),
    ("token", "DATABRICKS_TOKEN", "token"),
    ("client_id", "DATABRICKS_CLIENT_ID", "client_id"),
    ("client_secret", "DATABRICKS_CLIENT_SECRET", "client_secret"),
    ("auth_type", "DATABRICKS_AUTH_TYPE", "auth_type"),
    ("username", "DATABRICKS_USERNAME", "username"),
    ("password", "DATABRICKS_PASSWORD", "password"),
];

impl Settings {
    /// Resolves from the process environment and `~/.databrickscfg`.
    pub fn from_environment() -> Result<Settings, ConfigError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Settings::resolve(|name| std::env::var(name).ok(), home.as_deref())
    }

    /// Resolves from `env` (a variable lookup) and the config file it or `home` names.
    pub fn resolve(
        env: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Settings, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut values: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
        for (key, var, _) in KEYS {
            if let Some(value) = env(var) {
                values.insert(key, (value, (*var).to_string()));
            }
        }
        let explicit_profile = env("DATABRICKS_CONFIG_PROFILE");
        let path = env("DATABRICKS_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".databrickscfg")));
        if let Some(path) = path.filter(|p| p.exists() || explicit_profile.is_some()) {
            let file = ini::Ini::load_from_file(&path).map_err(|e| ConfigError::File {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let default_profile = file
                .section(Some("__settings__"))
                .and_then(|s| s.get("default_profile"))
                .map(str::to_string);
            let profile = explicit_profile
                .clone()
                .or(default_profile)
                .unwrap_or_else(|| "DEFAULT".into());
            match file.section(Some(profile.as_str())) {
                Some(section) => {
                    for (key, _, file_key) in KEYS {
                        if values.contains_key(key) {
                            continue;
                        }
                        if let Some(value) = section.get(file_key).filter(|v| !v.trim().is_empty())
                        {
                            values.insert(
                                key,
                                (
                                    value.trim().to_string(),
                                    format!("{} [{profile}]", path.display()),
                                ),
                            );
                        }
                    }
                }
                None if explicit_profile.is_some() => {
                    return Err(ConfigError::NoProfile { path, profile });
                }
                None => {}
            }
        }
        for key in ["username", "password"] {
            if let Some((_, source)) = values.get(key) {
                return Err(ConfigError::BasicAuth(source.clone()));
            }
        }
        let take = |key: &str| values.get(key).map(|(v, _)| v.clone());
        let settings = Settings {
            host: take("host").map(|h| h.trim_end_matches('/').to_string()),
            account_id: take("account_id"),
            token: take("token").map(SecretValue::new),
            client_id: take("client_id"),
            client_secret: take("client_secret").map(SecretValue::new),
            auth_type: take("auth_type"),
            sources: values.iter().map(|(k, (_, s))| (*k, s.clone())).collect(),
        };
        settings.credentials()?;
        Ok(settings)
    }

    /// The one authentication method configured, if any.
    pub fn credentials(&self) -> Result<Option<Credentials>, ConfigError> {
        let pat = self.token.clone().map(Credentials::Pat);
        let m2m = match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) => Some(Credentials::OAuthM2m {
                client_id: id.clone(),
                client_secret: secret.clone(),
            }),
            _ => None,
        };
        match self.auth_type.as_deref() {
            None => match (pat, m2m) {
                (Some(_), Some(_)) => Err(ConfigError::Ambiguous("pat", "oauth-m2m")),
                (pat, m2m) => Ok(pat.or(m2m)),
            },
            Some("pat") => pat.map(Some).ok_or(ConfigError::Incomplete {
                auth_type: "pat".into(),
                missing: "DATABRICKS_TOKEN",
            }),
            Some("oauth-m2m") => m2m.map(Some).ok_or(ConfigError::Incomplete {
                auth_type: "oauth-m2m".into(),
                missing: "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET",
            }),
            Some(other) => Err(ConfigError::UnsupportedAuthType(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(env: &[(&str, &str)], file: Option<&str>) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = file {
            std::fs::write(dir.path().join(".databrickscfg"), text).unwrap();
        }
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(|k| env.get(k).cloned(), Some(dir.path()))
    }

    const FILE: &str = "[DEFAULT]\nhost = https://dbc-1.cloud.databricks.com\ntoken = dapi-file\n\n[acct]\nhost = https://accounts.cloud.databricks.com\naccount_id = 0d26daa6-5e44-4c97-a497-ef015f91254a\nclient_id = sp-id\nclient_secret = sp-secret\n";

    #[test]
    fn environment_wins_and_the_profile_fills_the_rest() {
        let s = resolve(
            &[
                ("DATABRICKS_CONFIG_PROFILE", "acct"),
                ("DATABRICKS_HOST", "http://127.0.0.1:9/"),
            ],
            Some(FILE),
        )
        .unwrap();
        assert_eq!(s.host.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(s.client_id.as_deref(), Some("sp-id"));
        assert_eq!(s.sources["host"], "DATABRICKS_HOST");
        assert!(s.sources["client_id"].ends_with(".databrickscfg [acct]"));
        assert!(matches!(
            s.credentials().unwrap(),
            Some(Credentials::OAuthM2m { .. })
        ));
    }

    #[test]
    fn default_profile_and_settings_section() {
        let s = resolve(&[], Some(FILE)).unwrap();
        assert!(matches!(
            s.credentials().unwrap(),
            Some(Credentials::Pat(_))
        ));
        let chosen = format!("[__settings__]\ndefault_profile = acct\n\n{FILE}");
        let s = resolve(&[], Some(&chosen)).unwrap();
        assert_eq!(s.client_id.as_deref(), Some("sp-id"));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            resolve(
                &[
                    ("DATABRICKS_TOKEN", "dapi"),
                    ("DATABRICKS_CLIENT_ID", "a"),
                    ("DATABRICKS_CLIENT_SECRET", "b")
                ],
                None
            ),
            Err(ConfigError::Ambiguous("pat", "oauth-m2m"))
        );
        assert!(matches!(
            resolve(&[("DATABRICKS_PASSWORD", "hunter2")], None),
            Err(ConfigError::BasicAuth(_))
        ));
        assert!(matches!(
            resolve(&[("DATABRICKS_CONFIG_PROFILE", "nope")], Some(FILE)),
            Err(ConfigError::NoProfile { .. })
        ));
        assert!(matches!(
            resolve(&[("DATABRICKS_AUTH_TYPE", "azure-cli")], None),
            Err(ConfigError::UnsupportedAuthType(_))
        ));
        let s = resolve(
            &[
                ("DATABRICKS_AUTH_TYPE", "oauth-m2m"),
                ("DATABRICKS_TOKEN", "dapi"),
                ("DATABRICKS_CLIENT_ID", "a"),
                ("DATABRICKS_CLIENT_SECRET", "b"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(s.credentials().unwrap().unwrap().auth_type(), "oauth-m2m");
    }
}
