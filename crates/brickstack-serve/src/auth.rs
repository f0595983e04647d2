//! Authentication of the access routes: an API key (`x-api-key`) or an HMAC-SHA256 signature of
//! `"{timestamp}.{METHOD}.{path}.{body}"` (method and path signed too, so a captured `GET` cannot
//! be replayed as a `DELETE` of the same person, nor a request for one person as another's) (`x-brickstack-timestamp`, `x-brickstack-signature: sha256=HEX`), both
//! compared in constant time. A refusal says only "missing" or "invalid", never which part.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::SecretValue;
use crate::error::ApiError;

pub const API_KEY_HEADER: &str = "x-api-key";
pub const TIMESTAMP_HEADER: &str = "x-brickstack-timestamp";
pub const SIGNATURE_HEADER: &str = "x-brickstack-signature";

/// How far a signed request's timestamp may be from the service's clock, either way.
pub const HMAC_WINDOW: Duration = Duration::from_secs(300);

/// The largest body a signed request may have; the access API's bodies are a few dozen bytes.
const MAX_SIGNED_BODY: usize = 64 * 1024;

/// How callers prove who they are. The key comes from SSM (the CLI reads it) and is never logged.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `x-api-key: KEY`.
    ApiKey(SecretValue),
    /// `x-brickstack-timestamp: UNIX` and `x-brickstack-signature: sha256=HEX`, where
    /// `HEX = hex(hmac_sha256(KEY, "{timestamp}.{METHOD}.{path}.{body}"))` (`path` with its query,
    /// as sent) and the timestamp is within 5 minutes.
    Hmac(SecretValue),
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Missing,
    Invalid,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let message = match self {
            Refusal::Missing => "missing credentials",
            Refusal::Invalid => "invalid credentials",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, message).into_response()
    }
}

/// The middleware: lets the request through when it proves the key, answers 401 otherwise.
pub(crate) async fn require(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    match auth {
        Auth::ApiKey(key) => match check_api_key(&key, request.headers()) {
            Ok(()) => next.run(request).await,
            Err(refusal) => refusal.into_response(),
        },
        Auth::Hmac(key) => {
            // The signature covers the body, so read it here and hand the handler a copy.
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_SIGNED_BODY).await else {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is larger than {MAX_SIGNED_BODY} bytes"),
                )
                .into_response();
            };
            let target = Target {
                method: parts.method.as_str(),
                path: parts
                    .uri
                    .path_and_query()
                    .map_or(parts.uri.path(), |p| p.as_str()),
            };
            match check_hmac(&key, &parts.headers, &target, &bytes, SystemTime::now()) {
                Ok(()) => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(refusal) => refusal.into_response(),
            }
        }
    }
}

fn check_api_key(key: &SecretValue, headers: &HeaderMap) -> Result<(), Refusal> {
    let given = headers.get(API_KEY_HEADER).ok_or(Refusal::Missing)?;
    // Comparing digests keeps the comparison's time independent of the key's length too.
    let expected = Sha256::digest(key.expose().as_bytes());
    let given = Sha256::digest(given.as_bytes());
    if bool::from(expected.ct_eq(&given)) {
        Ok(())
    } else {
        Err(Refusal::Invalid)
    }
}

/// What a signature covers besides the timestamp and the body.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `POST`, `GET`, `DELETE`.
    pub method: &'a str,
    /// The path with its query, as sent: `/v1/access/single-user-clusters/ana%40example.com`.
    pub path: &'a str,
}

fn check_hmac(
    key: &SecretValue,
    headers: &HeaderMap,
    target: &Target<'_>,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Refusal> {
    let (Some(timestamp), Some(signature)) =
        (headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER))
    else {
        return Err(Refusal::Missing);
    };
    let timestamp = timestamp.to_str().map_err(|_| Refusal::Invalid)?;
    let seconds: u64 = timestamp.parse().map_err(|_| Refusal::Invalid)?;
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    if now.abs_diff(seconds) > HMAC_WINDOW.as_secs() {
        return Err(Refusal::Invalid);
    }
    let signature = signature
        .to_str()
        .ok()
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(Refusal::Invalid)?;
    signed_message(key, timestamp, target, body)
        .verify_slice(&signature)
        .map_err(|_| Refusal::Invalid)
}

/// The MAC of `"{timestamp}.{METHOD}.{path}.{body}"`.
fn signed_message(
    key: &SecretValue,
    timestamp: &str,
    target: &Target<'_>,
    body: &[u8],
) -> Hmac<Sha256> {
    let mut mac = signer(key);
    for part in [
        timestamp.as_bytes(),
        target.method.as_bytes(),
        target.path.as_bytes(),
    ] {
        mac.update(part);
        mac.update(b".");
    }
    mac.update(body);
    mac
}

fn signer(key: &SecretValue) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts keys of any length")
}

/// The `x-brickstack-signature` value for a request to `target` with `body` at `timestamp`, as a
/// caller computes it (for tests and for callers written in Rust).
pub fn sign(key: &SecretValue, timestamp: u64, target: &Target<'_>, body: &[u8]) -> String {
    let mac = signed_message(key, &timestamp.to_string(), target, body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const NOW: u64 = 1_800_000_000;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    const GRANT: Target<'static> = Target {
        method: "POST",
        path: "/v1/access/single-user-clusters",
    };

    fn signed(key: &SecretValue, timestamp: u64, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TIMESTAMP_HEADER, HeaderValue::from(timestamp));
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&sign(key, timestamp, &GRANT, body)).unwrap(),
        );
        headers
    }

    #[test]
    fn an_api_key_matches_only_itself() {
        let key = SecretValue::new("k-123456");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(API_KEY_HEADER, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert_eq!(check_api_key(&key, &with("k-123456")), Ok(()));
        assert_eq!(
            check_api_key(&key, &with("k-123457")),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            check_api_key(&key, &with("k-1234567")),
            Err(Refusal::Invalid)
        );
        assert_eq!(check_api_key(&key, &with("")), Err(Refusal::Invalid));
        assert_eq!(
            check_api_key(&key, &HeaderMap::new()),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn a_signature_covers_timestamp_and_body_within_five_minutes() {
        let key = SecretValue::new("hmac-key");
        let body = br#"{"username":"ana@example.com"}"#;
        let ok = |headers: &HeaderMap, body: &[u8], now| {
            check_hmac(&key, headers, &GRANT, body, at(now))
        };

        assert_eq!(ok(&signed(&key, NOW, body), body, NOW), Ok(()));
        assert_eq!(ok(&signed(&key, NOW - 300, body), body, NOW), Ok(()));
        assert_eq!(ok(&signed(&key, NOW + 300, body), body, NOW), Ok(()));
        assert_eq!(
            ok(&signed(&key, NOW - 301, body), body, NOW),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            ok(&signed(&key, NOW + 301, body), body, NOW),
            Err(Refusal::Invalid)
        );
        // Another body, another key, another timestamp under the same signature.
        assert_eq!(
            ok(&signed(&key, NOW, body), b"{}", NOW),
            Err(Refusal::Invalid)
        );
        let other = SecretValue::new("other-key");
        assert_eq!(
            ok(&signed(&other, NOW, body), body, NOW),
            Err(Refusal::Invalid)
        );
        let mut moved = signed(&key, NOW, body);
        moved.insert(TIMESTAMP_HEADER, HeaderValue::from(NOW + 1));
        assert_eq!(ok(&moved, body, NOW), Err(Refusal::Invalid));
        // Malformed and missing parts.
        let mut bare = signed(&key, NOW, body);
        let hex = sign(&key, NOW, &GRANT, body)
            .trim_start_matches("sha256=")
            .to_string();
        bare.insert(SIGNATURE_HEADER, HeaderValue::from_str(&hex).unwrap());
        assert_eq!(ok(&bare, body, NOW), Err(Refusal::Invalid));
        let mut words = signed(&key, NOW, body);
        words.insert(TIMESTAMP_HEADER, HeaderValue::from_static("yesterday"));
        assert_eq!(ok(&words, body, NOW), Err(Refusal::Invalid));
        let mut unsigned = signed(&key, NOW, body);
        unsigned.remove(SIGNATURE_HEADER);
        assert_eq!(ok(&unsigned, body, NOW), Err(Refusal::Missing));
        let mut untimed = signed(&key, NOW, body);
        untimed.remove(TIMESTAMP_HEADER);
        assert_eq!(ok(&untimed, body, NOW), Err(Refusal::Missing));
    }

    #[test]
    fn a_signature_covers_the_method_and_the_path() {
        let key = SecretValue::new("hmac-key");
        let person = "/v1/access/single-user-clusters/ana%40example.com";
        let status = Target {
            method: "GET",
            path: person,
        };
        let mut headers = HeaderMap::new();
        headers.insert(TIMESTAMP_HEADER, HeaderValue::from(NOW));
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&sign(&key, NOW, &status, b"")).unwrap(),
        );
        assert_eq!(check_hmac(&key, &headers, &status, b"", at(NOW)), Ok(()));
        // The same signature replayed as a revoke, or for another person, is refused.
        let revoke = Target {
            method: "DELETE",
            path: person,
        };
        assert_eq!(
            check_hmac(&key, &headers, &revoke, b"", at(NOW)),
            Err(Refusal::Invalid)
        );
        let other = Target {
            method: "GET",
            path: "/v1/access/single-user-clusters/bo%40example.com",
        };
        assert_eq!(
            check_hmac(&key, &headers, &other, b"", at(NOW)),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn the_key_never_prints() {
        let auth = Auth::Hmac(SecretValue::new("very-secret-key"));
        assert!(!format!("{auth:?}").contains("very-secret"));
    }
}
