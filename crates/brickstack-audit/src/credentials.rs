//! Literal credentials in configuration values (Spark conf, environment variables, policy
//! definitions), recognised by the key that holds them or by their own shape. What is reported
//! is the kind of credential and its length, never a character of it.

/// What a value looks like when it holds a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// `AKIA…`/`ASIA…`: an AWS access key id.
    AwsAccessKeyId,
    /// 40 characters of `[A-Za-z0-9/+=]` under a secret-key name.
    AwsSecretAccessKey,
    /// `dapi` + 32 hex digits: a Databricks personal access token.
    DatabricksToken,
    /// A value under a name that says password, secret or token.
    Password,
}

impl CredentialKind {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::AwsAccessKeyId => "a literal AWS access key id",
            CredentialKind::AwsSecretAccessKey => "a literal AWS secret access key",
            CredentialKind::DatabricksToken => "a literal Databricks personal access token",
            CredentialKind::Password => "a literal password or secret",
        }
    }
}

/// Names whose value is a credential whatever it looks like.
const SECRET_NAMES: [&str; 11] = [
    "secret.key",
    "secret_access_key",
    "secret-access-key",
    "secretaccesskey",
    "secret_key",
    "secretkey",
    "secret-key",
    "password",
    "passwd",
    "token",
    "credential",
];

/// Whether `value` is a Databricks secret reference, `{{secrets/<scope>/<key>}}`: the fix.
pub fn is_secret_reference(value: &str) -> bool {
    let v = value.trim();
    v.strip_prefix("{{secrets/")
        .and_then(|rest| rest.strip_suffix("}}"))
        .is_some_and(|inner| {
            let mut parts = inner.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(s), Some(k), None) if !s.is_empty() && !k.is_empty())
        })
}

/// The credential `value` holds under `name`, if any. A secret reference, an empty value and a
/// value naming where a secret lives (a provider class, a parameter path) are not credentials.
pub fn classify(name: &str, value: &str) -> Option<CredentialKind> {
    let value = value.trim();
    if value.is_empty() || is_secret_reference(value) {
        return None;
    }
    if contains_token(value) {
        return Some(CredentialKind::DatabricksToken);
    }
    if contains_access_key_id(value) {
        return Some(CredentialKind::AwsAccessKeyId);
    }
    let lower = name.to_ascii_lowercase();
    let secret_name = SECRET_NAMES.iter().any(|n| lower.contains(n));
    if secret_name && is_aws_secret_shape(value) {
        return Some(CredentialKind::AwsSecretAccessKey);
    }
    // `…credentials.provider = org.apache.hadoop…` names a class, and `…token.file = /path`
    // a place: neither is the secret itself.
    let names_a_place = lower.ends_with(".provider")
        || lower.ends_with("provider.type")
        || lower.ends_with(".file")
        || lower.ends_with(".path")
        || lower.ends_with(".parameter");
    if secret_name && !names_a_place {
        return Some(CredentialKind::Password);
    }
    None
}

fn is_aws_secret_shape(value: &str) -> bool {
    value.len() == 40
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+' || b == b'=')
}

/// `AKIA`/`ASIA` followed by 16 upper-case letters or digits, as a word of its own.
fn contains_access_key_id(value: &str) -> bool {
    let bytes = value.as_bytes();
    (0..bytes.len().saturating_sub(19)).any(|i| {
        let word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let word_end = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        word_start
            && word_end
            && (bytes[i..].starts_with(b"AKIA") || bytes[i..].starts_with(b"ASIA"))
            && bytes[i + 4..i + 20]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// `dapi` followed by 32 hex digits.
fn contains_token(value: &str) -> bool {
    let bytes = value.as_bytes();
    (0..bytes.len().saturating_sub(35)).any(|i| {
        bytes[i..].starts_with(b"dapi") && bytes[i + 4..i + 36].iter().all(u8::is_ascii_hexdigit)
    })
}

/// How a finding shows a credential: its kind and length only.
pub fn masked(kind: CredentialKind, value: &str) -> String {
    format!(
        "{} ({} characters, not shown)",
        kind.describe(),
        value.trim().chars().count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made-up values of the right shapes (AWS's documentation examples).
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

    #[test]
    fn literal_credentials_are_recognised() {
        assert_eq!(
            classify("spark.hadoop.fs.s3a.secret.key", SECRET),
            Some(CredentialKind::AwsSecretAccessKey)
        );
        assert_eq!(
            classify("fs.s3a.access.key", KEY_ID),
            Some(CredentialKind::AwsAccessKeyId)
        );
        assert_eq!(
            classify("spark.env.X", &format!("dapi{}", "0a".repeat(16))),
            Some(CredentialKind::DatabricksToken)
        );
        assert_eq!(
            classify("spark.datasource.jdbc.password", "hunter2"),
            Some(CredentialKind::Password)
        );
    }

    #[test]
    fn references_and_ordinary_values_are_not_credentials() {
        assert_eq!(
            classify("fs.s3a.secret.key", "{{secrets/etl/aws-secret}}"),
            None
        );
        assert_eq!(classify("fs.s3a.secret.key", ""), None);
        assert_eq!(
            classify(
                "fs.s3a.aws.credentials.provider",
                "com.amazonaws.auth.InstanceProfileCredentialsProvider"
            ),
            None
        );
        assert_eq!(
            classify("spark.databricks.repl.allowedLanguages", "python,sql"),
            None
        );
        // 40 characters but not under a secret name: a path, a hash.
        assert_eq!(classify("spark.some.path", SECRET), None);
        // An access key id inside a longer word is not one.
        assert_eq!(classify("x", &format!("X{KEY_ID}")), None);
        assert!(!is_secret_reference("{{secrets/only-scope}}"));
    }

    #[test]
    fn masking_shows_no_character_of_the_value() {
        let shown = masked(CredentialKind::AwsSecretAccessKey, SECRET);
        assert_eq!(
            shown,
            "a literal AWS secret access key (40 characters, not shown)"
        );
        assert!(!shown.contains("wJal") && !shown.contains("KEY"));
    }
}
