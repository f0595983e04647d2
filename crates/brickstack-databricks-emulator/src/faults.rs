//! Fault injection: rules that answer matching requests with an error (in any of the body shapes
//! the real API is known to send) or delay them, before they reach a handler.
//!
//! A rule matches on method and on a prefix of the full request path (`/w/<id>/api/2.1/...` for
//! workspace calls). Rules are tried in the order they were added; the first that matches and
//! has `times` left is used (its `probability`, drawn from a seeded generator, may still let the
//! request through, which does not use up a `times`). The emulator's own `/_emulator/` and
//! `/health` paths are never faulted. A rule with `after_apply` serves the request first and
//! answers with its fault instead of the real answer (an applied request whose answer is lost).

use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::server::AppState;

/// One fault rule, as posted to `POST /_emulator/faults` (`{"rules": [FaultRule]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Only this HTTP method (any case); absent = every method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only paths starting with this (matched against the full request path); absent = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// The status to answer with; absent = only delay (`latency_ms`), then serve normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `error_code` of the body; absent = the vendor's usual code for `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Message of the body; absent = a generic one naming the fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Shape of the body; absent = `scim` on SCIM paths, else `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<FaultBody>,
    /// Sets `Retry-After: <seconds>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// How many requests the rule serves; 0 = unlimited. Default 1.
    #[serde(default = "one", skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Chance (0.0–1.0) that a matching request is faulted; absent = always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Delay before answering (the fault, or the normal response when `status` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Serve the request first (its effect happens), then answer with the fault instead of
    /// the real answer: a lost answer, the case a client must look up before resending.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_apply: bool,
}

fn one() -> Option<u32> {
    Some(1)
}

impl FaultRule {
    /// A rule answering `status` once on paths starting with `path_prefix`.
    pub fn status(path_prefix: impl Into<String>, status: u16) -> Self {
        FaultRule {
            method: None,
            path_prefix: Some(path_prefix.into()),
            status: Some(status),
            error_code: None,
            message: None,
            body: None,
            retry_after_seconds: None,
            times: Some(1),
            probability: None,
            latency_ms: None,
            after_apply: false,
        }
    }

    /// A rule that lets the request take effect, then answers `status` instead (once).
    pub fn after_apply(path_prefix: impl Into<String>, status: u16) -> Self {
        FaultRule {
            after_apply: true,
            ..FaultRule::status(path_prefix, status)
        }
    }
}

/// The body shapes a faulted response can take (the variants the SDKs' error parsers handle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultBody {
    /// `{"error_code": "CODE", "message": "..."}`.
    Json,
    /// `{"error_code": <status as a number>, "message": "..."}`.
    JsonNumericCode,
    /// SCIM: `{"schemas": [...Error], "detail": "...", "status": "<status>"}`.
    Scim,
    /// An HTML error page with the message in `<pre>`.
    Html,
    /// Plain text `CODE: message`.
    Text,
    /// No body at all.
    Empty,
    /// HTTP 200 with an HTML login page (whatever `status` says): the 2xx that is an error.
    LoginPage,
}

/// A rule with its bookkeeping, as `GET /_emulator/faults` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultStatus {
    /// The rule as added (`times` = what was asked for).
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Requests it may still serve; `None` = unlimited.
    pub remaining: Option<u32>,
    /// Requests it has served.
    pub hits: u64,
}

/// The rule list and the seeded generator behind `probability`.
pub(crate) struct Faults {
    inner: Mutex<Inner>,
}

struct Inner {
    rules: Vec<FaultStatus>,
    rng: fastrand::Rng,
    seed: u64,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Faults {
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                rng: fastrand::Rng::with_seed(seed),
                seed,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks and appends rules; nothing is added when one is invalid.
    pub fn add(&self, rules: Vec<FaultRule>) -> Result<(), String> {
        for rule in &rules {
            if let Some(p) = rule.probability
                && !(0.0..=1.0).contains(&p)
            {
                return Err(format!("probability {p} is not between 0.0 and 1.0"));
            }
            if let Some(status) = rule.status
                && StatusCode::from_u16(status).is_err()
            {
                return Err(format!("status {status} is not an HTTP status"));
            }
            if rule.status.is_none() && rule.latency_ms.is_none() && rule.body.is_none() {
                return Err("a rule needs `status`, `latency_ms` or `body: login_page`".into());
            }
        }
        let mut inner = self.lock();
        for rule in rules {
            let remaining = match rule.times {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(1),
            };
            inner.rules.push(FaultStatus {
                rule,
                remaining,
                hits: 0,
            });
        }
        Ok(())
    }

    /// Removes every rule and re-seeds the generator, so a run is reproducible.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.rules.clear();
        let seed = inner.seed;
        inner.rng = fastrand::Rng::with_seed(seed);
    }

    pub fn list(&self) -> Vec<FaultStatus> {
        self.lock().rules.clone()
    }

    /// The rule that fires for this request, if any (its counters already updated).
    fn pick(&self, method: &str, path: &str) -> Option<FaultRule> {
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        let entry = rules.iter_mut().find(|r| {
            r.remaining != Some(0)
                && r.rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.rule
                    .path_prefix
                    .as_deref()
                    .is_none_or(|p| path.starts_with(p))
        })?;
        if let Some(p) = entry.rule.probability
            && rng.f64() >= p
        {
            return None;
        }
        entry.hits += 1;
        if let Some(n) = &mut entry.remaining {
            *n -= 1;
        }
        Some(entry.rule.clone())
    }
}

/// Middleware in front of every route.
pub(crate) async fn inject(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/_emulator/") || path == "/health" {
        return next.run(request).await;
    }
    let Some(rule) = app.faults().pick(request.method().as_str(), &path) else {
        return next.run(request).await;
    };
    if let Some(ms) = rule.latency_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let body = rule.body.unwrap_or(if path.contains("/scim/v2/") {
        FaultBody::Scim
    } else {
        FaultBody::Json
    });
    match (rule.status, body) {
        (None, FaultBody::LoginPage) | (Some(_), _) => {
            if rule.after_apply {
                // The real answer is dropped; only its effect on the state remains.
                let _applied = next.run(request).await;
            }
            fault_response(&rule, body, &path)
        }
        (None, _) => next.run(request).await,
    }
}

fn fault_response(rule: &FaultRule, body: FaultBody, path: &str) -> Response {
    let status = StatusCode::from_u16(rule.status.unwrap_or(200)).unwrap_or(StatusCode::OK);
    let code = rule
        .error_code
        .clone()
        .unwrap_or_else(|| default_error_code(status).to_string());
    let message = rule
        .message
        .clone()
        .unwrap_or_else(|| format!("Injected fault: {} on {path}", status.as_u16()));
    let mut response = match body {
        FaultBody::Json => {
            (status, Json(serde_json::json!({"error_code": code, "message": message}))).into_response()
        }
        FaultBody::JsonNumericCode => (
            status,
            Json(serde_json::json!({"error_code": status.as_u16(), "message": message})),
        )
            .into_response(),
        FaultBody::Scim => {
            let mut body = serde_json::json!({
                "schemas": [crate::error::SCIM_ERROR_SCHEMA],
                "detail": message,
                "status": status.as_u16().to_string(),
            });
            if let Some(code) = &rule.error_code {
                body["scimType"] = code.clone().into();
            }
            (status, Json(body)).into_response()
        }
        FaultBody::Html => html(
            status,
            format!(
                "<html><head><title>Error {} {code}</title></head><body><h2>HTTP ERROR {}</h2><pre>{message}</pre></body></html>",
                status.as_u16(),
                status.as_u16()
            ),
        ),
        FaultBody::Text => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{code}: {message}"),
        )
            .into_response(),
        FaultBody::Empty => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = status;
            r
        }
        FaultBody::LoginPage => html(
            StatusCode::OK,
            "<!doctype html><html><head><title>Databricks - Sign In</title></head><body><form action=\"/login\" method=\"post\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>".into(),
        ),
    };
    if let Some(seconds) = rule.retry_after_seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn html(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The `error_code` the real API usually sends with `status`.
fn default_error_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_PARAMETER_VALUE",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "RESOURCE_DOES_NOT_EXIST",
        409 => "RESOURCE_CONFLICT",
        429 => "REQUEST_LIMIT_EXCEEDED",
        499 => "CANCELLED",
        501 => "NOT_IMPLEMENTED",
        502 => "BAD_GATEWAY",
        503 => "TEMPORARILY_UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        s if s >= 500 => "INTERNAL_ERROR",
        _ => "UNKNOWN",
    }
}
