//! OAuth machine-to-machine auth: the account token endpoint (client-credentials grant) and the
//! bearer-token check in front of every `/api/2.0/accounts/...` call.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::json;

use super::AppState;
use super::error::ApiError;

/// The vendor's documented reason for refusing username/password.
pub(crate) const BASIC_AUTH_END_OF_LIFE: &str = "Basic authentication using a Databricks username and password reached end of life on July 10, 2024; use OAuth (a service principal's client id and secret) instead";

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/oidc/accounts/{account_id}/v1/token", post(token))
        .route(
            "/oidc/accounts/{account_id}/.well-known/oauth-authorization-server",
            get(discovery),
        )
}

/// RFC 6749 error body, `{"error": ..., "error_description": ...}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `POST /oidc/accounts/{account_id}/v1/token`, form-encoded `grant_type=client_credentials`,
/// `scope=all-apis`; client authentication by HTTP Basic (what the SDKs send) or by
/// `client_id`/`client_secret` form fields.
async fn token(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let client = match basic_credentials(&headers) {
        Some(Ok(pair)) => Some(pair),
        Some(Err(())) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Malformed Basic authorization header",
            );
        }
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
            _ => None,
        },
    };
    let config = app.config();
    match client {
        Some((id, secret))
            if matches_form_or_raw(&id, &config.client_id)
                && matches_form_or_raw(&secret, &config.client_secret) => {}
        Some(_) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            );
        }
        None => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication is required (HTTP Basic, or client_id and client_secret)",
            );
        }
    }
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only grant_type=client_credentials is supported",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing grant_type",
            );
        }
    }
    let scope = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "all-apis".into());
    if scope.split_whitespace().any(|s| s != "all-apis") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Only the all-apis scope is supported",
        );
    }
    let lifetime = config.token_lifetime;
    let access_token = app.lock().issue_token(&account_id, lifetime);
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "scope": "all-apis",
    }))
    .into_response()
}

/// The OAuth discovery document the SDKs read to find the token endpoint.
async fn discovery(Path(account_id): Path<String>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}/oidc/accounts/{account_id}");
    Json(json!({
        "issuer": format!("{base}/v1"),
        "authorization_endpoint": format!("{base}/v1/authorize"),
        "token_endpoint": format!("{base}/v1/token"),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": ["all-apis"],
    }))
    .into_response()
}

/// Middleware for `/api/2.0/accounts/{account_id}/...`: requires `Authorization: Bearer <token>`
/// with a token issued for that account and not expired.
pub(crate) async fn require_bearer(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path_account = request
        .uri()
        .path()
        .strip_prefix("/api/2.0/accounts/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_string();
    match authorize(&app, request.headers(), &path_account) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

fn authorize(app: &AppState, headers: &HeaderMap, account_id: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthenticated(
            "Credential was not sent or was of an unsupported type for this API",
        ));
    };
    let value = value.to_str().unwrap_or_default();
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::unauthenticated(BASIC_AUTH_END_OF_LIFE));
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthenticated(
            "Credential was not sent or was of an unsupported type for this API",
        ));
    }
    let state = app.lock();
    let Some(token) = state.tokens.get(credential.trim()) else {
        return Err(ApiError::unauthenticated("Invalid access token"));
    };
    if token.expires_at <= Instant::now() {
        return Err(ApiError::unauthenticated("Access token has expired"));
    }
    if token.account_id != account_id {
        return Err(ApiError::permission_denied(format!(
            "The access token was issued for account {}, not {account_id}",
            token.account_id
        )));
    }
    Ok(())
}

/// `Some(Ok((user, password)))` for a well-formed `Authorization: Basic`, `Some(Err)` for a
/// malformed one, `None` when the header is absent or another scheme.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Some(
        decoded
            .and_then(|s| {
                s.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
            .ok_or(()),
    )
}

/// RFC 6749 §2.3.1 has clients form-urlencode id and secret before Basic encoding (Go's oauth2
/// does); many clients do not, so accept both.
fn matches_form_or_raw(sent: &str, expected: &str) -> bool {
    sent == expected
        || form_urlencoded::parse(format!("x={sent}").as_bytes())
            .next()
            .is_some_and(|(_, v)| v == expected)
}
