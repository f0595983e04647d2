//! How a call authenticates: a personal access token as is, or an OAuth machine-to-machine token
//! fetched with a service principal's client id and secret, cached, and refreshed before it
//! expires (the SDKs' lead time: half the lifetime, at most 20 minutes).

use std::time::{Duration, Instant};

use base64::Engine;
use brickstack_provider::SecretValue;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::ErrorDetail;
use super::retry::RetryPolicy;

/// Credentials for one host.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A personal access token (workspaces only; the account API refuses them).
    Pat(SecretValue),
    /// A service principal's OAuth client id (its application id) and secret.
    OAuthM2m {
        client_id: String,
        client_secret: SecretValue,
    },
}

impl Credentials {
    /// The unified configuration's name of the method.
    pub fn auth_type(&self) -> &'static str {
        match self {
            Credentials::Pat(_) => "pat",
            Credentials::OAuthM2m { .. } => "oauth-m2m",
        }
    }
}

/// Hands out the bearer token for each call.
#[derive(Debug)]
pub(crate) struct TokenSource {
    credentials: Credentials,
    /// `…/oidc/v1/token` (workspace) or `…/oidc/accounts/{id}/v1/token` (account).
    token_url: String,
    cache: Mutex<Option<CachedToken>>,
}

#[derive(Debug, Clone)]
struct CachedToken {
    value: SecretValue,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Seconds, as the server put it: a number, a string, anything (see [`token_lifetime`]).
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// A token's lifetime unless the server says otherwise (the vendor's).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest lifetime believed: a server's `expires_in` is clamped to it, so a huge value
/// neither overflows `Instant` arithmetic nor keeps a token past any real expiry.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The lifetime a token answer's `expires_in` means: whole or fractional seconds, as a number or
/// a numeric string; zero or negative = already expiring (refreshed at the next call); absent,
/// or anything else = the default; never above [`MAX_TOKEN_LIFETIME`].
fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let seconds = match expires_in {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_nan() => DEFAULT_TOKEN_LIFETIME,
        Some(s) if s <= 0.0 => Duration::ZERO,
        Some(s) => Duration::try_from_secs_f64(s)
            .unwrap_or(MAX_TOKEN_LIFETIME)
            .min(MAX_TOKEN_LIFETIME),
        None => DEFAULT_TOKEN_LIFETIME,
    }
}

/// When a token of `lifetime` fetched at `now` is to be refreshed (never overflows: a lifetime
/// is at most [`MAX_TOKEN_LIFETIME`], and an `Instant` that far ahead is refused as `now`).
fn refresh_at(now: Instant, lifetime: Duration) -> Instant {
    now.checked_add(lifetime.saturating_sub(refresh_lead(lifetime)))
        .unwrap_or(now)
}

/// The SDKs' refresh lead: half the token's lifetime, at most 20 minutes.
fn refresh_lead(lifetime: Duration) -> Duration {
    (lifetime / 2).min(Duration::from_secs(20 * 60))
}

/// Token fetches are retried for at most a minute (the Go SDK's budget).
const TOKEN_RETRY_BUDGET: Duration = Duration::from_secs(60);

impl TokenSource {
    pub(crate) fn new(credentials: Credentials, token_url: String) -> Self {
        TokenSource {
            credentials,
            token_url,
            cache: Mutex::new(None),
        }
    }

    pub(crate) fn is_oauth(&self) -> bool {
        matches!(self.credentials, Credentials::OAuthM2m { .. })
    }

    /// The bearer token: the PAT, or a cached OAuth token, fetched when missing or due.
    pub(crate) async fn bearer(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
    ) -> Result<SecretValue, ErrorDetail> {
        let (client_id, client_secret) = match &self.credentials {
            Credentials::Pat(token) => return Ok(token.clone()),
            Credentials::OAuthM2m {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.value.clone());
        }
        let fetched = self
            .fetch(http, retry, client_id, client_secret)
            .await
            .map_err(|detail| match detail {
                ErrorDetail::Api(e) => ErrorDetail::Auth(format!(
                    "the token endpoint `{}` answered {e}",
                    self.token_url
                )),
                other => other,
            })?;
        *cache = Some(fetched.clone());
        Ok(fetched.value)
    }

    /// Forgets the cached token, after the API refused it (revoked, or a clock moved on).
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
        client_id: &str,
        client_secret: &SecretValue,
    ) -> Result<CachedToken, ErrorDetail> {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{client_id}:{}", client_secret.expose()));
        let retry = RetryPolicy {
            budget: retry.budget.min(TOKEN_RETRY_BUDGET),
            ..retry.clone()
        };
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = http
                .post(&self.token_url)
                .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body("grant_type=client_credentials&scope=all-apis")
                .send()
                .await;
            let detail = match sent {
                Ok(response) if response.status().is_success() => {
                    let body = response
                        .bytes()
                        .await
                        .map_err(|e| ErrorDetail::Transport(e.to_string()))?;
                    let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                        ErrorDetail::Auth(format!(
                            "the token endpoint `{}` answered something other than a token ({e})",
                            self.token_url
                        ))
                    })?;
                    let lifetime = token_lifetime(token.expires_in.as_ref());
                    return Ok(CachedToken {
                        value: SecretValue::new(token.access_token),
                        refresh_at: refresh_at(Instant::now(), lifetime),
                    });
                }
                Ok(response) => ErrorDetail::Api(super::read_error(response).await),
                Err(e) => ErrorDetail::Transport(super::describe_transport(&e)),
            };
            // 429, 502, 503, 504 and connection errors: worth another try.
            let retryable = match &detail {
                ErrorDetail::Api(e) => matches!(e.status, 429 | 502 | 503 | 504),
                ErrorDetail::Transport(_) => true,
                _ => false,
            };
            let retry_after = match &detail {
                ErrorDetail::Api(e) => e.retry_after,
                _ => None,
            };
            match retry.next_delay(attempt, started.elapsed(), retry_after, retryable) {
                Some(delay) => tokio::time::sleep(delay).await,
                None if retryable => {
                    return Err(super::retry::give_up(attempt, started.elapsed(), detail));
                }
                None => return Err(detail),
            }
        }
    }
}

/// The token endpoint of a workspace host.
pub fn workspace_token_url(host: &str) -> String {
    format!("{}/oidc/v1/token", host.trim_end_matches('/'))
}

/// The token endpoint of the account API.
pub fn account_token_url(host: &str, account_id: &str) -> String {
    format!(
        "{}/oidc/accounts/{account_id}/v1/token",
        host.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_hour_token_is_refreshed_twenty_minutes_early() {
        assert_eq!(
            refresh_lead(Duration::from_secs(3600)),
            Duration::from_secs(1200)
        );
        assert_eq!(
            refresh_lead(Duration::from_secs(600)),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn any_expires_in_gives_a_bounded_lifetime_without_overflow() {
        use serde_json::json;
        let cases = [
            (Some(json!(3600)), Duration::from_secs(3600)),
            (Some(json!("600")), Duration::from_secs(600)),
            (Some(json!(1.5)), Duration::from_millis(1500)),
            (Some(json!(u64::MAX)), MAX_TOKEN_LIFETIME),
            (Some(json!(1e300)), MAX_TOKEN_LIFETIME),
            (
                Some(json!("99999999999999999999999999")),
                MAX_TOKEN_LIFETIME,
            ),
            (Some(json!(-5)), Duration::ZERO),
            (Some(json!(i64::MIN)), Duration::ZERO),
            (Some(json!("soon")), DEFAULT_TOKEN_LIFETIME),
            (Some(json!(null)), DEFAULT_TOKEN_LIFETIME),
            (Some(json!({"s": 1})), DEFAULT_TOKEN_LIFETIME),
            (None, DEFAULT_TOKEN_LIFETIME),
        ];
        let now = Instant::now();
        for (expires_in, expected) in cases {
            let lifetime = token_lifetime(expires_in.as_ref());
            assert_eq!(lifetime, expected, "{expires_in:?}");
            let at = refresh_at(now, lifetime);
            assert!(
                at >= now && at <= now + MAX_TOKEN_LIFETIME,
                "{expires_in:?}"
            );
        }
        // A whole answer with a huge `expires_in` still parses.
        let answer: TokenResponse =
            serde_json::from_str(r#"{"access_token":"t","expires_in":18446744073709551616}"#)
                .unwrap();
        assert_eq!(
            token_lifetime(answer.expires_in.as_ref()),
            MAX_TOKEN_LIFETIME
        );
    }

    #[test]
    fn credentials_never_print_the_secret() {
        let c = Credentials::OAuthM2m {
            client_id: "abc".into(),
            client_secret: SecretValue::new("s3cr3t-value"),
        };
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }
}
