//! The vendor's error shapes: `{"error_code": "...", "message": "..."}` with its HTTP status, and
//! the SCIM error body that SCIM paths answer with instead ([`scim_errors`]).

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// `schemas` of a SCIM error body.
pub(crate) const SCIM_ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// An API error as the real API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub error_code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_code,
            message: message.into(),
        }
    }

    /// 404 `RESOURCE_DOES_NOT_EXIST`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }

    /// 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 400 `INVALID_STATE` (e.g. deleting a configuration a workspace still uses).
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_STATE", message)
    }

    /// 400 `MALFORMED_REQUEST` (the body is not JSON).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", message)
    }

    /// 409 `RESOURCE_ALREADY_EXISTS`.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "RESOURCE_ALREADY_EXISTS", message)
    }

    /// 400 `RESOURCE_ALREADY_EXISTS`: what the older workspace APIs (instance profiles, DBFS,
    /// secrets) answer for a duplicate.
    pub fn already_exists_400(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", message)
    }

    /// 503 `TEMPORARILY_UNAVAILABLE`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TEMPORARILY_UNAVAILABLE",
            message,
        )
    }

    /// Any other status and code.
    pub fn other(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(status, error_code, message)
    }

    /// 401 `UNAUTHENTICATED`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }

    /// 403 `PERMISSION_DENIED`.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }

    /// 404 `ENDPOINT_NOT_FOUND`: no API at this method and path.
    pub fn endpoint_not_found(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
            format!("No API found for '{method} {path}'"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error_code": self.error_code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

/// Middleware for SCIM routes: an error response in the standard shape is re-written as the
/// SCIM error body `{"schemas": [...Error], "detail": ..., "status": "<code>"}` (plus
/// `scimType` for filter and uniqueness errors), as the real SCIM API answers.
pub(crate) async fn scim_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (parts.status, "").into_response();
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let Some(error) = parsed.filter(|v| v.get("error_code").is_some()) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let mut body = serde_json::json!({
        "schemas": [SCIM_ERROR_SCHEMA],
        "detail": error["message"],
        "status": status.as_u16().to_string(),
    });
    let scim_type = match error["error_code"].as_str() {
        Some("INVALID_FILTER") => Some("invalidFilter"),
        Some("RESOURCE_ALREADY_EXISTS") => Some("uniqueness"),
        Some("INVALID_PATH") => Some("invalidPath"),
        _ => None,
    };
    if let Some(t) = scim_type {
        body["scimType"] = t.into();
    }
    (status, Json(body)).into_response()
}

/// Parses a JSON request body: syntax errors are `MALFORMED_REQUEST`, wrong or missing fields
/// `INVALID_PARAMETER_VALUE`.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid(e.to_string()),
        _ => ApiError::malformed(format!("Request body is not valid JSON: {e}")),
    })
}

/// A required string field: present and not blank.
pub(crate) fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::invalid(format!(
            "Missing required field: {field}"
        ))),
    }
}
