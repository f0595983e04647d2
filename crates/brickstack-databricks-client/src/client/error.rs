//! Errors of the Databricks REST APIs, parsed from every body shape the platform is known to send
//! (the order and rules of the official SDKs' parsers, `apierr/errors.go` and
//! `errors/deserializer.py`), and classified once.

use std::fmt;
use std::time::Duration;

use brickstack_provider::{ErrorClass, ProviderError};
use serde_json::Value;

/// An error answer of the API: HTTP status, the platform's `error_code` and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// `RESOURCE_DOES_NOT_EXIST`, `SCIM_404`, ...; synthesised from the status when the body has none.
    pub error_code: String,
    pub message: String,
    /// `Retry-After` in whole seconds, on 429 and 503.
    pub retry_after: Option<Duration>,
    /// `X-Request-Id`, for a support ticket.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error_code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// What a caller may do about an [`ApiError`]; decided here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    /// The object is in a state that forbids the call (`INVALID_STATE`, `ABORTED`).
    InvalidState,
    InvalidInput,
    Unauthenticated,
    PermissionDenied,
    /// Throttling, a temporary outage or a transient platform condition: retry.
    Transient,
    Other,
}

/// Messages the SDKs retry whatever the status: worker environments not ready yet, cluster-manager
/// restarts, rate limits reported as 500 by SCIM.
const TRANSIENT_MESSAGES: &[&str] = &[
    "com.databricks.backend.manager.util.UnknownWorkerEnvironmentException",
    "does not have any associated worker environments",
    "There is no worker environment with id",
    "Unknown worker environment",
    "ClusterNotReadyException",
    "Timed out after ",
    "deadline exceeded",
    "REQUEST_LIMIT_EXCEEDED",
    "Please try again later or try a faster operation.",
    "RPC token bucket limit has been exceeded",
];

impl ApiError {
    /// The error's kind: the `error_code` first (it is more precise than the status), then the
    /// status, then the transient-message patterns.
    pub fn kind(&self) -> ErrorKind {
        if self.is_missing_cluster() {
            return ErrorKind::NotFound;
        }
        if TRANSIENT_MESSAGES.iter().any(|m| self.message.contains(m)) {
            return ErrorKind::Transient;
        }
        match self.error_code.as_str() {
            "RESOURCE_DOES_NOT_EXIST" | "NOT_FOUND" | "FEATURE_DISABLED_NOT_FOUND" => {
                return ErrorKind::NotFound;
            }
            "RESOURCE_ALREADY_EXISTS" | "ALREADY_EXISTS" => return ErrorKind::AlreadyExists,
            "INVALID_STATE" | "ABORTED" => return ErrorKind::InvalidState,
            "INVALID_PARAMETER_VALUE"
            | "MALFORMED_REQUEST"
            | "BAD_REQUEST"
            | "INVALID_FILTER"
            | "QUOTA_EXCEEDED"
            | "RESOURCE_LIMIT_EXCEEDED"
            | "MAX_BLOCK_SIZE_EXCEEDED" => {
                return ErrorKind::InvalidInput;
            }
            "UNAUTHENTICATED" => return ErrorKind::Unauthenticated,
            "PERMISSION_DENIED" | "CUSTOMER_UNAUTHORIZED" | "PRIVATE_LINK_VALIDATION_ERROR" => {
                return ErrorKind::PermissionDenied;
            }
            "RESOURCE_EXHAUSTED" | "REQUEST_LIMIT_EXCEEDED" | "TEMPORARILY_UNAVAILABLE" => {
                return ErrorKind::Transient;
            }
            _ => {}
        }
        match self.status {
            404 => ErrorKind::NotFound,
            409 => ErrorKind::AlreadyExists,
            400 => ErrorKind::InvalidInput,
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            429 | 503 => ErrorKind::Transient,
            _ => ErrorKind::Other,
        }
    }

    /// `clusters/get` answers `400 INVALID_PARAMETER_VALUE "Cluster <id> does not exist"` for a
    /// missing cluster, and the Jobs API likewise `"Job <id> does not exist."` and `"Run <id> does
    /// not exist."`; the SDKs map them to not-found, so do we.
    fn is_missing_cluster(&self) -> bool {
        let message = self.message.trim_end_matches('.');
        self.status == 400
            && self.error_code == "INVALID_PARAMETER_VALUE"
            && ["Cluster ", "Job ", "Run "]
                .iter()
                .any(|p| message.starts_with(p))
            && message.ends_with("does not exist")
    }

    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }
}

/// Parses an error answer. `body` is the raw body; `content_type` its header.
///
/// Shapes, in the SDKs' order: the standard `{"error_code","message"}` (with `error_code` a
/// string or a number); API 1.2's `{"error": "..."}`; SCIM's `{"detail","status","scimType"}`;
/// plain `ERROR_CODE: message`; HTML with `<pre>` or `<title>`; an empty body; anything else.
pub fn parse(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    retry_after: Option<Duration>,
    request_id: Option<String>,
) -> ApiError {
    let (error_code, message) = parse_body(status, content_type, body);
    ApiError {
        status,
        error_code,
        message,
        retry_after,
        request_id,
    }
}

fn parse_body(status: u16, content_type: Option<&str>, body: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return (status_code_name(status), reason_phrase(status).to_string());
    }
    if let Ok(Value::Object(json)) = serde_json::from_str::<Value>(text) {
        let message = json
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match json.get("error_code") {
            Some(Value::String(code)) if !code.is_empty() => return (code.clone(), message),
            // `/preview/scim/v2/Me` answers 403 with `"error_code": 403`.
            Some(Value::Number(n)) => return (status_code_name(n_status(n, status)), message),
            _ => {}
        }
        if let Some(error) = json.get("error").and_then(Value::as_str) {
            let description = json.get("error_description").and_then(Value::as_str);
            let message = match description {
                // OAuth token endpoints (RFC 6749): `{"error": "invalid_client", ...}`.
                Some(d) => format!("{error}: {d}"),
                None => error.to_string(),
            };
            return (status_code_name(status), message);
        }
        if let Some(detail) = json.get("detail") {
            let scim_status = match json.get("status") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => status.to_string(),
            };
            let detail = match detail.as_str() {
                Some("null") | None => "SCIM API Internal Error".to_string(),
                Some(d) => d.to_string(),
            };
            let message = match json.get("scimType").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => format!("{t} {detail}"),
                _ => detail,
            };
            return (format!("SCIM_{scim_status}"), message);
        }
        if !message.is_empty() {
            return (status_code_name(status), message);
        }
    }
    if let Some((code, message)) = plain_text_error(text) {
        return (code, message);
    }
    let is_html = content_type.is_some_and(|c| c.contains("html")) || text.starts_with('<');
    if is_html {
        let message = between(text, "<pre>", "</pre>")
            .or_else(|| between(text, "<title>", "</title>"))
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| reason_phrase(status).to_string());
        return (status_code_name(status), message);
    }
    ("UNKNOWN".to_string(), truncate(text, 500))
}

fn n_status(n: &serde_json::Number, fallback: u16) -> u16 {
    n.as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or(fallback)
}

/// `ERROR_CODE: message`, as some account APIs answer in plain text.
fn plain_text_error(text: &str) -> Option<(String, String)> {
    let (code, message) = text.split_once(": ")?;
    let is_code = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        && code.starts_with(|c: char| c.is_ascii_uppercase());
    (is_code && !message.contains('\n')).then(|| (code.to_string(), message.to_string()))
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The status's reason phrase as an error code: `404` → `NOT_FOUND`.
fn status_code_name(status: u16) -> String {
    reason_phrase(status).to_ascii_uppercase().replace(' ', "_")
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// Any failure of a client call: which call, and why.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: {detail}")]
pub struct Error {
    pub method: String,
    /// The path without the host, e.g. `/api/2.1/clusters/get`.
    pub path: String,
    pub detail: ErrorDetail,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ErrorDetail {
    #[error("{0}")]
    Api(ApiError),
    #[error("no answer: {0}")]
    Transport(String),
    /// A 2xx whose body is not the JSON the endpoint returns (a login page, a proxy's HTML).
    #[error(
        "HTTP {status} with a `{content_type}` body instead of JSON (a login or proxy page: the credentials were not accepted, or something between us and Databricks answered): {snippet}"
    )]
    NotJson {
        status: u16,
        content_type: String,
        snippet: String,
    },
    #[error("the answer does not have the expected shape: {0}")]
    Decode(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("gave up after {attempts} attempts in {elapsed_seconds}s; last error: {last}")]
    RetriesExhausted {
        attempts: u32,
        elapsed_seconds: u64,
        last: Box<ErrorDetail>,
    },
}

impl Error {
    /// Whether the request may have taken effect although no answer said so: no answer at all
    /// (timeout, dropped connection), or a 5xx other than 503 (a 503, like a 429, proves the
    /// request was refused), also as the last failure of exhausted retries.
    pub fn may_have_been_applied(&self) -> bool {
        fn ambiguous(detail: &ErrorDetail) -> bool {
            match detail {
                ErrorDetail::Transport(_) => true,
                ErrorDetail::Api(api) => api.status >= 500 && api.status != 503,
                _ => false,
            }
        }
        match &self.detail {
            ErrorDetail::RetriesExhausted { last, .. } => ambiguous(last),
            other => ambiguous(other),
        }
    }

    /// The error of the call `method path` (public for callers that build a client themselves
    /// and report its failure as the call they were making).
    pub fn new(method: &str, path: &str, detail: ErrorDetail) -> Self {
        Error {
            method: method.to_string(),
            path: path.to_string(),
            detail,
        }
    }

    /// The API's error, when the platform answered one (after retries, the last one).
    pub fn api(&self) -> Option<&ApiError> {
        match &self.detail {
            ErrorDetail::Api(e) => Some(e),
            ErrorDetail::RetriesExhausted { last, .. } => match last.as_ref() {
                ErrorDetail::Api(e) => Some(e),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match &self.detail {
            ErrorDetail::Api(e) => e.kind(),
            ErrorDetail::Transport(_) => ErrorKind::Transient,
            // Only retryable errors run out of retries; a later call may still succeed.
            ErrorDetail::RetriesExhausted { .. } => ErrorKind::Transient,
            ErrorDetail::NotJson { .. } => ErrorKind::Unauthenticated,
            ErrorDetail::Auth(_) => ErrorKind::Unauthenticated,
            ErrorDetail::Decode(_) => ErrorKind::Other,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// The error code to show: the API's, or what went wrong locally.
    pub fn code(&self) -> String {
        match &self.detail {
            ErrorDetail::Api(e) => e.error_code.clone(),
            ErrorDetail::Transport(_) => "TRANSPORT".into(),
            ErrorDetail::NotJson { .. } => "NOT_JSON".into(),
            ErrorDetail::Decode(_) => "DECODE".into(),
            ErrorDetail::Auth(_) => "AUTHENTICATION".into(),
            ErrorDetail::RetriesExhausted { last, .. } => match last.as_ref() {
                ErrorDetail::Api(e) => e.error_code.clone(),
                _ => "RETRIES_EXHAUSTED".into(),
            },
        }
    }
}

impl From<Error> for ProviderError {
    /// The class from the error's kind; `maybe_applied` for a call other than a read whose
    /// failure leaves its effect unknown (see [`Error::may_have_been_applied`]).
    fn from(e: Error) -> Self {
        let class = match e.kind() {
            ErrorKind::NotFound => ErrorClass::NotFound,
            ErrorKind::AlreadyExists | ErrorKind::InvalidState => ErrorClass::Conflict,
            ErrorKind::InvalidInput => ErrorClass::InvalidInput,
            ErrorKind::Transient => ErrorClass::Retryable {
                after: e.api().and_then(|a| a.retry_after),
            },
            ErrorKind::Unauthenticated | ErrorKind::PermissionDenied | ErrorKind::Other => {
                ErrorClass::Fatal
            }
        };
        let maybe_applied = e.method != "GET" && e.may_have_been_applied();
        let error = ProviderError::new(class, e.code(), e.to_string());
        if maybe_applied {
            error.maybe_applied()
        } else {
            error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: u16, content_type: Option<&str>, body: &str) -> (String, String, ErrorKind) {
        let e = parse(status, content_type, body.as_bytes(), None, None);
        let kind = e.kind();
        (e.error_code, e.message, kind)
    }

    #[test]
    fn every_body_shape_parses() {
        /// Status, content type, body; then the expected code, message and kind.
        type Case<'a> = (u16, Option<&'a str>, &'a str, (&'a str, &'a str, ErrorKind));
        let cases: &[Case] = &[
            (
                404,
                Some("application/json"),
                r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Cluster x does not exist"}"#,
                (
                    "RESOURCE_DOES_NOT_EXIST",
                    "Cluster x does not exist",
                    ErrorKind::NotFound,
                ),
            ),
            (
                403,
                Some("application/json"),
                r#"{"error_code":403,"message":"Invalid access token."}"#,
                (
                    "FORBIDDEN",
                    "Invalid access token.",
                    ErrorKind::PermissionDenied,
                ),
            ),
            (
                400,
                Some("application/json"),
                r#"{"error":"Bad things"}"#,
                ("BAD_REQUEST", "Bad things", ErrorKind::InvalidInput),
            ),
            (
                404,
                Some("application/scim+json"),
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Group 12 not found","status":"404"}"#,
                ("SCIM_404", "Group 12 not found", ErrorKind::NotFound),
            ),
            (
                409,
                Some("application/scim+json"),
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"null","status":"409","scimType":"uniqueness"}"#,
                (
                    "SCIM_409",
                    "uniqueness SCIM API Internal Error",
                    ErrorKind::AlreadyExists,
                ),
            ),
            (
                400,
                Some("text/plain"),
                "INVALID_PARAMETER_VALUE: subnet ids must be distinct",
                (
                    "INVALID_PARAMETER_VALUE",
                    "subnet ids must be distinct",
                    ErrorKind::InvalidInput,
                ),
            ),
            (
                500,
                Some("text/html"),
                "<html><body><pre>Worker environment not ready</pre></body></html>",
                (
                    "INTERNAL_SERVER_ERROR",
                    "Worker environment not ready",
                    ErrorKind::Other,
                ),
            ),
            (
                502,
                Some("text/html"),
                "<html><head><title>502 Bad Gateway</title></head></html>",
                ("BAD_GATEWAY", "502 Bad Gateway", ErrorKind::Other),
            ),
            (
                503,
                None,
                "",
                (
                    "SERVICE_UNAVAILABLE",
                    "Service Unavailable",
                    ErrorKind::Transient,
                ),
            ),
            (
                500,
                Some("text/plain"),
                "boom\nat line 2",
                ("UNKNOWN", "boom\nat line 2", ErrorKind::Other),
            ),
            (
                400,
                Some("application/json"),
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Cluster 0123-abc does not exist"}"#,
                (
                    "INVALID_PARAMETER_VALUE",
                    "Cluster 0123-abc does not exist",
                    ErrorKind::NotFound,
                ),
            ),
            (
                400,
                Some("application/json"),
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Run 42 does not exist."}"#,
                (
                    "INVALID_PARAMETER_VALUE",
                    "Run 42 does not exist.",
                    ErrorKind::NotFound,
                ),
            ),
            (
                400,
                Some("application/json"),
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Run name does not exist in the request"}"#,
                (
                    "INVALID_PARAMETER_VALUE",
                    "Run name does not exist in the request",
                    ErrorKind::InvalidInput,
                ),
            ),
            (
                500,
                Some("application/json"),
                r#"{"error_code":"INTERNAL_ERROR","message":"REQUEST_LIMIT_EXCEEDED: too many"}"#,
                (
                    "INTERNAL_ERROR",
                    "REQUEST_LIMIT_EXCEEDED: too many",
                    ErrorKind::Transient,
                ),
            ),
            (
                401,
                Some("application/json"),
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
                (
                    "UNAUTHORIZED",
                    "invalid_client: Client authentication failed",
                    ErrorKind::Unauthenticated,
                ),
            ),
        ];
        for (status, content_type, body, (code, message, kind)) in cases {
            assert_eq!(
                check(*status, *content_type, body),
                (code.to_string(), message.to_string(), *kind),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn provider_errors_keep_the_class_and_the_code() {
        let e = Error::new(
            "GET",
            "/api/2.1/clusters/get",
            ErrorDetail::Api(parse(
                429,
                None,
                br#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
                Some(Duration::from_secs(3)),
                None,
            )),
        );
        let p = ProviderError::from(e);
        assert_eq!(
            p.class,
            ErrorClass::Retryable {
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(p.code, "REQUEST_LIMIT_EXCEEDED");
        assert!(
            p.message.contains("GET /api/2.1/clusters/get"),
            "{}",
            p.message
        );
    }

    #[test]
    fn ambiguous_failures_of_calls_that_change_something_are_maybe_applied() {
        let api = |status| ErrorDetail::Api(parse(status, None, b"", None, None));
        // (method, detail, maybe_applied)
        let cases = [
            ("POST", ErrorDetail::Transport("timed out".into()), true),
            ("POST", api(500), true),
            ("POST", api(502), true),
            ("POST", api(504), true),
            // Refusals: the request did not take effect.
            ("POST", api(503), false),
            ("POST", api(429), false),
            ("POST", api(400), false),
            ("POST", api(404), false),
            (
                "POST",
                ErrorDetail::RetriesExhausted {
                    attempts: 3,
                    elapsed_seconds: 1,
                    last: Box::new(api(500)),
                },
                true,
            ),
            (
                "POST",
                ErrorDetail::RetriesExhausted {
                    attempts: 3,
                    elapsed_seconds: 1,
                    last: Box::new(api(503)),
                },
                false,
            ),
            ("DELETE", api(500), true),
            // A read changes nothing, whatever happened to it.
            (
                "GET",
                ErrorDetail::Transport("connection reset".into()),
                false,
            ),
            ("GET", api(500), false),
        ];
        for (method, detail, expected) in cases {
            let shown = format!("{method} {detail}");
            let e = Error::new(method, "/api/2.0/token/create", detail);
            assert_eq!(ProviderError::from(e).maybe_applied, expected, "{shown}");
        }
    }
}
