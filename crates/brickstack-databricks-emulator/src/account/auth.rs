//! OAuth machine-to-machine auth: the account token endpoint (client-credentials grant) and the
//! bearer-token check in front of every `/api/2.0/accounts/...` call. The client-credentials
//! parsing and the client check are shared with the workspace token endpoint.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::json;

use crate::error::ApiError;
use crate::server::AppState;
use crate::state::{Audience, State as EmulatorState};

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

/// `POST /oidc/accounts/{account_id}/v1/token`: tokens for the account API.
async fn token(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = match client_credentials(&headers, &body) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    if !client_is_known(&app, &mut state, &account_id, &client, now) {
        return invalid_client();
    }
    let lifetime = app.config().token_lifetime;
    let access_token = state.issue_token(Audience::Account(account_id), &client.id, lifetime, now);
    token_response(&access_token, lifetime.as_secs())
}

/// A client-credentials request that passed the grant and scope checks.
pub(crate) struct ClientCredentials {
    pub id: String,
    pub secret: String,
}

/// Reads client authentication (HTTP Basic, what the SDKs send, or `client_id`/`client_secret`
/// form fields) and checks `grant_type=client_credentials` and `scope=all-apis`.
pub(crate) fn client_credentials(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<ClientCredentials, Response> {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let client = match basic_credentials(headers) {
        Some(Ok(pair)) => Some(pair),
        Some(Err(())) => {
            return Err(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Malformed Basic authorization header",
            ));
        }
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
            _ => None,
        },
    };
    let Some((id, secret)) = client else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication is required (HTTP Basic, or client_id and client_secret)",
        ));
    };
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only grant_type=client_credentials is supported",
            ));
        }
        None => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing grant_type",
            ));
        }
    }
    let scope = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "all-apis".into());
    if scope.split_whitespace().any(|s| s != "all-apis") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Only the all-apis scope is supported",
        ));
    }
    Ok(ClientCredentials {
        id: decode_form_or_raw(&id),
        secret: decode_form_or_raw(&secret),
    })
}

/// Whether `client` is the configured client or an active, unexpired OAuth secret of a service
/// principal of `account_id`.
pub(crate) fn client_is_known(
    app: &AppState,
    state: &mut EmulatorState,
    account_id: &str,
    client: &ClientCredentials,
    now: i64,
) -> bool {
    let config = app.config();
    if client.id == config.client_id {
        return client.secret == config.client_secret;
    }
    state
        .account(account_id)
        .service_principals
        .values()
        .filter(|sp| sp.application_id == client.id && sp.active)
        .flat_map(|sp| sp.secrets.values())
        .any(|s| s.secret == client.secret && s.expire_ms > now)
}

pub(crate) fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed",
    )
}

pub(crate) fn token_response(access_token: &str, expires_in: u64) -> Response {
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": "all-apis",
    }))
    .into_response()
}

/// The OAuth discovery document the SDKs read to find the token endpoint.
async fn discovery(Path(account_id): Path<String>, headers: HeaderMap) -> Response {
    discovery_document(&headers, &format!("/oidc/accounts/{account_id}"))
}

/// The discovery document for the token endpoint under `oidc_path` (`/oidc/accounts/X` or
/// `/w/123/oidc`).
pub(crate) fn discovery_document(headers: &HeaderMap, oidc_path: &str) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}{oidc_path}");
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
/// with a token issued by that account's token endpoint and not expired.
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
    let credential = bearer(headers)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let Some(token) = state.tokens.get(credential).cloned() else {
        return Err(ApiError::unauthenticated("Invalid access token"));
    };
    if token.expires_at_ms <= now {
        return Err(ApiError::unauthenticated("Access token has expired"));
    }
    let token_account = match &token.audience {
        Audience::Account(a) => a,
        Audience::Workspace(_) => {
            return Err(ApiError::unauthenticated(
                "Invalid access token: it was issued for a workspace, not for the account API",
            ));
        }
    };
    if token_account != account_id {
        return Err(ApiError::permission_denied(format!(
            "The access token was issued for account {token_account}, not {account_id}"
        )));
    }
    if token.application_id == app.config().client_id {
        return Ok(());
    }
    let admin = state
        .account(account_id)
        .service_principals
        .values()
        .any(|sp| {
            sp.application_id == token.application_id
                && sp.active
                && sp.roles.iter().any(|r| r == "account_admin")
        });
    if admin {
        Ok(())
    } else {
        Err(ApiError::permission_denied(format!(
            "Service principal {} is not an account admin",
            token.application_id
        )))
    }
}

/// The credential of `Authorization: Bearer <credential>`; basic auth is refused with the
/// vendor's end-of-life notice.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
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
    Ok(credential.trim())
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
/// does); many clients do not. Decoding is harmless for ids and secrets without `%` or `+`.
fn decode_form_or_raw(sent: &str) -> String {
    if !sent.contains('%') && !sent.contains('+') {
        return sent.to_string();
    }
    form_urlencoded::parse(format!("x={sent}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| sent.to_string())
}
