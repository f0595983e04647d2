//! The HTTP core every typed call goes through: one host, its credentials, the retry policy,
//! error parsing, a count of calls per endpoint for `--stats`, and the server's clock as its
//! answers' `Date` headers tell it.

pub mod auth;
pub mod error;
pub mod retry;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use auth::{Credentials, TokenSource};
use error::{ApiError, Error, ErrorDetail, ErrorKind};
use retry::RetryPolicy;

/// How long one HTTP exchange may take (the SDKs' default).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of one Databricks host (the account console or one workspace). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    host: String,
    tokens: TokenSource,
    retry: RetryPolicy,
    calls: Mutex<BTreeMap<String, u64>>,
    /// The server's clock minus ours, in milliseconds, from the last answer's `Date`.
    server_offset_ms: Mutex<Option<i64>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.inner.host)
            .finish_non_exhaustive()
    }
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build an HTTP client for `{host}`: {reason}")]
pub struct BuildError {
    pub host: String,
    pub reason: String,
}

/// A query string: `(name, value)` pairs, repeated names allowed.
pub type Query<'a> = &'a [(&'a str, String)];

impl Client {
    /// A client of `host` (`https://…`, or `http://127.0.0.1:…` for an emulator; a path prefix is
    /// kept) whose OAuth tokens come from `token_url`.
    pub fn new(
        host: &str,
        credentials: Credentials,
        token_url: String,
        retry: RetryPolicy,
    ) -> Result<Self, BuildError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("brickstack/", env!("CARGO_PKG_VERSION")))
            // A redirect is how the platform says "log in"; never follow it into a login page.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BuildError {
                host: host.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                host: host.trim_end_matches('/').to_string(),
                tokens: TokenSource::new(credentials, token_url),
                retry,
                calls: Mutex::new(BTreeMap::new()),
                server_offset_ms: Mutex::new(None),
            }),
        })
    }

    /// The host this client talks to, without a trailing slash.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// The server's time now, in epoch milliseconds (to the second): our clock corrected by how
    /// far the server's was from it at the last answer (its `Date` header); our clock alone
    /// before any answer. Expiry the server enforces is judged by this, since clocks skew (and
    /// an emulator's clock may run ahead on purpose).
    pub fn server_now_ms(&self) -> i64 {
        let offset = self
            .inner
            .server_offset_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or(0);
        local_now_ms().saturating_add(offset)
    }

    /// Notes the server's clock from an answer's `Date` header (ignored when absent or not an
    /// HTTP date).
    fn note_server_time(&self, headers: &reqwest::header::HeaderMap) {
        let Some(server_ms) = headers
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(parse_http_date)
        else {
            return;
        };
        *self
            .inner
            .server_offset_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(server_ms - local_now_ms());
    }

    /// Calls made so far, per `METHOD path` (ids in paths are not collapsed).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.inner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: Query<'_>) -> Result<T, Error> {
        self.call(reqwest::Method::GET, path, query, None, Resend::Always)
            .await
    }

    /// A POST the API treats as idempotent (or whose repetition is harmless); creates use
    /// [`Client::create`].
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = to_value("POST", path, body)?;
        self.call(reqwest::Method::POST, path, &[], Some(body), Resend::Always)
            .await
    }

    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = to_value("PUT", path, body)?;
        self.call(reqwest::Method::PUT, path, &[], Some(body), Resend::Always)
            .await
    }

    pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: Query<'_>,
        body: &B,
    ) -> Result<T, Error> {
        let body = to_value("PATCH", path, body)?;
        self.call(
            reqwest::Method::PATCH,
            path,
            query,
            Some(body),
            Resend::Always,
        )
        .await
    }

    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Query<'_>,
    ) -> Result<T, Error> {
        self.call(reqwest::Method::DELETE, path, query, None, Resend::Always)
            .await
    }

    /// A non-idempotent POST with no way to look up what it made (a token: its value is shown
    /// once): resent only after an answer proving it was refused (429, 503). After a failure that
    /// may have reached the server the error is returned as it is
    /// ([`Error::may_have_been_applied`]), for the caller to find and settle what it made.
    pub async fn post_once<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = to_value("POST", path, body)?;
        self.call(
            reqwest::Method::POST,
            path,
            &[],
            Some(body),
            Resend::OnlyIfRefused,
        )
        .await
    }

    /// A create that is not idempotent: tried again after a failure that may have reached the
    /// server (no answer, a 5xx) only once `lookup` found no object the lost attempt made.
    /// Answers that prove the request was refused (429, 503) are retried as usual.
    pub async fn create<B, T, F, Fut>(&self, path: &str, body: &B, lookup: F) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, Error>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        let body = to_value("POST", path, body)?;
        loop {
            attempt += 1;
            match self
                .call::<T>(
                    reqwest::Method::POST,
                    path,
                    &[],
                    Some(body.clone()),
                    Resend::OnlyIfRefused,
                )
                .await
            {
                Ok(created) => return Ok(created),
                Err(e) if !e.may_have_been_applied() => return Err(e),
                Err(e) => {
                    tracing::debug!(path, error = %e, "create may have reached the server; looking for what it made");
                    if let Some(found) = lookup().await? {
                        return Ok(found);
                    }
                    let retry = &self.inner.retry;
                    match retry.next_delay(attempt, started.elapsed(), None, true) {
                        Some(delay) => tokio::time::sleep(delay).await,
                        None => return Err(e),
                    }
                }
            }
        }
    }

    /// One call, retried per the policy; a refused OAuth token is fetched anew once.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Query<'_>,
        body: Option<Value>,
        resend: Resend,
    ) -> Result<T, Error> {
        let inner = &self.inner;
        let fail = |detail| Error::new(method.as_str(), path, detail);
        let started = Instant::now();
        let mut attempt = 0;
        let mut refreshed_token = false;
        loop {
            attempt += 1;
            self.count(&method, path);
            let bearer = inner
                .tokens
                .bearer(&inner.http, &inner.retry)
                .await
                .map_err(fail)?;
            let mut request = inner
                .http
                .request(method.clone(), format!("{}{path}", inner.host))
                .bearer_auth(bearer.expose())
                .query(query);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let sent = request.send().await;
            if let Ok(response) = &sent {
                self.note_server_time(response.headers());
            }
            let detail = match sent {
                Ok(response) if response.status().is_success() => {
                    return decode(response).await.map_err(fail);
                }
                Ok(response) if response.status().is_redirection() => ErrorDetail::NotJson {
                    status: response.status().as_u16(),
                    content_type: "redirect".into(),
                    snippet: format!(
                        "redirected to `{}`",
                        response
                            .headers()
                            .get(reqwest::header::LOCATION)
                            .and_then(|l| l.to_str().ok())
                            .unwrap_or("?")
                    ),
                },
                Ok(response) => ErrorDetail::Api(read_error(response).await),
                Err(e) => ErrorDetail::Transport(describe_transport(&e)),
            };
            if let ErrorDetail::Api(api) = &detail
                && api.status == 401
                && inner.tokens.is_oauth()
                && !refreshed_token
            {
                // The cached token was revoked or expired early (a server clock ahead of ours).
                refreshed_token = true;
                inner.tokens.invalidate().await;
                continue;
            }
            let (retryable, retry_after) = match &detail {
                // A create is resent only after an answer proving it was refused; a 5xx (even one
                // with a transient message) may hide an applied create, so `create` looks first.
                ErrorDetail::Api(api) => (
                    is_retryable(api) && (resend == Resend::Always || was_refused(api)),
                    api.retry_after,
                ),
                // No answer: the request may have been applied; only an idempotent one is resent.
                ErrorDetail::Transport(_) => (resend == Resend::Always, None),
                _ => (false, None),
            };
            match inner
                .retry
                .next_delay(attempt, started.elapsed(), retry_after, retryable)
            {
                Some(delay) => {
                    tracing::debug!(%method, path, attempt, ?delay, error = %detail, "retrying");
                    tokio::time::sleep(delay).await;
                }
                // Out of budget for a retryable error: say so. Anything else is the answer itself,
                // whatever came before it (a not-found after a throttled attempt is a not-found).
                None if retryable => {
                    return Err(fail(retry::give_up(attempt, started.elapsed(), detail)));
                }
                None => return Err(fail(detail)),
            }
        }
    }

    fn count(&self, method: &reqwest::Method, path: &str) {
        *self
            .inner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(format!("{method} {path}"))
            .or_default() += 1;
    }
}

fn local_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An HTTP date (RFC 9110's IMF-fixdate, the only form servers send: `Sun, 06 Nov 1994
/// 08:49:37 GMT`) as epoch milliseconds.
fn parse_http_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let parsed = time::PrimitiveDateTime::parse(text.trim(), format).ok()?;
    Some(parsed.assume_utc().unix_timestamp() * 1000)
}

/// Whether a request may be sent again after a failure that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resend {
    /// Idempotent (reads, updates, deletes, and posts the API treats as such).
    Always,
    /// A create: resent only after an answer proving it was refused (429, 503); after no
    /// answer, [`Client::create`] looks for the object first.
    OnlyIfRefused,
}

/// 429, 503 and the transient codes and messages; never other 5xx (the SDKs do not either).
fn is_retryable(api: &ApiError) -> bool {
    matches!(api.status, 429 | 503) || api.kind() == ErrorKind::Transient
}

/// An answer proving the server did not act on the request: throttled or unavailable.
fn was_refused(api: &ApiError) -> bool {
    api.status < 500 || api.status == 503
}

fn to_value<B: Serialize + ?Sized>(method: &str, path: &str, body: &B) -> Result<Value, Error> {
    serde_json::to_value(body).map_err(|e| {
        Error::new(
            method,
            path,
            ErrorDetail::Decode(format!("request body: {e}")),
        )
    })
}

/// A 2xx body as `T`; an empty body reads as `{}` (deletes and updates answer nothing).
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ErrorDetail> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .bytes()
        .await
        .map_err(|e| ErrorDetail::Transport(describe_transport(&e)))?;
    let text = String::from_utf8_lossy(&body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return serde_json::from_str("{}")
            .or_else(|_| serde_json::from_str("null"))
            .map_err(|e| ErrorDetail::Decode(e.to_string()));
    }
    if content_type.contains("html") || trimmed.starts_with('<') {
        return Err(ErrorDetail::NotJson {
            status,
            content_type,
            snippet: error::truncate(trimmed, 200),
        });
    }
    serde_json::from_str(trimmed)
        .map_err(|e| ErrorDetail::Decode(format!("{e} in `{}`", error::truncate(trimmed, 300))))
}

/// An error answer, parsed; `Retry-After` read as whole seconds.
pub(crate) async fn read_error(response: reqwest::Response) -> ApiError {
    let status = response.status().as_u16();
    let headers = response.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
    let request_id = header("x-request-id");
    let body = response.bytes().await.unwrap_or_default();
    error::parse(
        status,
        content_type.as_deref(),
        &body,
        retry_after,
        request_id,
    )
}

/// `Retry-After` as delay-seconds (RFC 9110): digits only; a number too large for `u64` is the
/// longest delay (the retry policy clamps it to `max_server_delay`); anything else (negative,
/// fractional, an HTTP date) is ignored, and the policy's own backoff applies.
fn parse_retry_after(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX)))
}

/// A transport error with its cause chain (reqwest's own message is often just "error sending request").
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        text.push_str(" (timed out)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{RetryPolicy, parse_http_date, parse_retry_after};
    use std::time::Duration;

    #[test]
    fn retry_after_parses_without_overflow_and_ignores_what_is_not_seconds() {
        let cases = [
            ("0", Some(Duration::ZERO)),
            (" 120 ", Some(Duration::from_secs(120))),
            ("18446744073709551615", Some(Duration::from_secs(u64::MAX))),
            (
                "99999999999999999999999999999",
                Some(Duration::from_secs(u64::MAX)),
            ),
            ("-1", None),
            ("1.5", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_retry_after(text), expected, "{text:?}");
        }
        // Whatever the server asked, the policy waits at most its `max_server_delay`.
        let policy = RetryPolicy::default();
        let delay = policy
            .next_delay(
                1,
                Duration::ZERO,
                parse_retry_after("99999999999999999999"),
                true,
            )
            .unwrap();
        assert_eq!(delay, policy.max_server_delay);
    }

    #[test]
    fn http_dates_parse_to_epoch_milliseconds() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400_000)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
