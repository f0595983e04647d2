//! Personal access tokens (`/api/2.0/token/…`, the caller's own) and token management
//! (`/api/2.0/token-management/…`, an admin's view of every token, and tokens minted on behalf of
//! a service principal).
//!
//! A minted token's value is handed out once, by the create call. It is taken out of the answer
//! straight into a [`SecretValue`] (which never prints), and an answer that cannot be decoded is
//! reported without its body, which may hold the value.

use brickstack_provider::SecretValue;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::WorkspaceClient;
use crate::client::error::{Error, ErrorDetail};

/// A token's metadata as the token and token-management APIs report it (never its value).
/// Fields only token management reports are `None` in the caller's own listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub token_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub creation_time: i64,
    /// Epoch milliseconds; `-1` when the token never expires.
    #[serde(default = "never")]
    pub expiry_time: i64,
    /// The SCIM id of the principal the token authenticates as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<i64>,
}

fn never() -> i64 {
    -1
}

impl TokenInfo {
    /// Whether the token no longer authenticates at `now_ms` (epoch milliseconds).
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expiry_time >= 0 && self.expiry_time <= now_ms
    }
}

/// A token just minted: its value, which nothing will show again, and its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MintedToken {
    #[serde(rename = "token_value", deserialize_with = "secret")]
    pub value: SecretValue,
    #[serde(rename = "token_info")]
    pub info: TokenInfo,
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretValue, D::Error> {
    String::deserialize(d).map(SecretValue::new)
}

#[derive(Serialize)]
struct CreateToken<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    application_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifetime_seconds: Option<i64>,
    comment: &'a str,
}

#[derive(Deserialize)]
struct TokenInfos {
    #[serde(default)]
    token_infos: Vec<TokenInfo>,
}

#[derive(Deserialize)]
struct OneTokenInfo {
    token_info: TokenInfo,
}

/// The decode error of a create's answer, without the answer (it may hold the token's value).
fn redact_decode(mut e: Error) -> Error {
    if matches!(e.detail, ErrorDetail::Decode(_)) {
        e.detail = ErrorDetail::Decode(
            "the answer is not a minted token (`token_value` and `token_info`); it is not shown since it may hold a token"
                .into(),
        );
    }
    e
}

impl WorkspaceClient {
    /// Mints a personal access token for the caller, valid `lifetime_seconds` (the workspace's
    /// maximum, or no expiry, when `None`).
    pub async fn create_token(
        &self,
        lifetime_seconds: Option<i64>,
        comment: &str,
    ) -> Result<MintedToken, Error> {
        let body = CreateToken {
            application_id: None,
            lifetime_seconds,
            comment,
        };
        // Never resent after an answer that may hide a minted token (its value is gone with
        // the answer): the caller finds it by `comment` and revokes it before minting again.
        self.client()
            .post_once("/api/2.0/token/create", &body)
            .await
            .map_err(redact_decode)
    }

    /// The caller's own tokens.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        let list: TokenInfos = self.client().get("/api/2.0/token/list", &[]).await?;
        Ok(list.token_infos)
    }

    /// Revokes one of the caller's tokens; an unknown id is `RESOURCE_DOES_NOT_EXIST`.
    pub async fn delete_token(&self, token_id: &str) -> Result<(), Error> {
        let _: Value = self
            .client()
            .post(
                "/api/2.0/token/delete",
                &serde_json::json!({ "token_id": token_id }),
            )
            .await?;
        Ok(())
    }

    /// Mints a token that authenticates as the service principal `application_id` (workspace
    /// admins only; the principal must be allowed to use tokens).
    pub async fn create_obo_token(
        &self,
        application_id: &str,
        lifetime_seconds: Option<i64>,
        comment: &str,
    ) -> Result<MintedToken, Error> {
        let body = CreateToken {
            application_id: Some(application_id),
            lifetime_seconds,
            comment,
        };
        self.client()
            .post_once("/api/2.0/token-management/on-behalf-of/tokens", &body)
            .await
            .map_err(redact_decode)
    }

    /// Every token of the workspace, or only those created by the principal `created_by_id`.
    pub async fn list_managed_tokens(
        &self,
        created_by_id: Option<i64>,
    ) -> Result<Vec<TokenInfo>, Error> {
        let query: Vec<(&str, String)> = created_by_id
            .map(|id| ("created_by_id", id.to_string()))
            .into_iter()
            .collect();
        let list: TokenInfos = self
            .client()
            .get("/api/2.0/token-management/tokens", &query)
            .await?;
        Ok(list.token_infos)
    }

    /// Any token of the workspace by id; `None` when it does not exist.
    pub async fn get_managed_token(&self, token_id: &str) -> Result<Option<TokenInfo>, Error> {
        match self
            .client()
            .get::<OneTokenInfo>(&format!("/api/2.0/token-management/tokens/{token_id}"), &[])
            .await
        {
            Ok(found) => Ok(Some(found.token_info)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Revokes any token of the workspace.
    pub async fn delete_managed_token(&self, token_id: &str) -> Result<(), Error> {
        let _: Value = self
            .client()
            .delete(&format!("/api/2.0/token-management/tokens/{token_id}"), &[])
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_minted_token_never_prints_its_value() {
        let minted: MintedToken = serde_json::from_value(json!({
            "token_value": "dapi0123456789abcdef",
            "token_info": {"token_id": "t1", "creation_time": 1000, "expiry_time": 3601000, "comment": "c"}
        }))
        .unwrap();
        assert_eq!(minted.value.expose(), "dapi0123456789abcdef");
        assert!(!format!("{minted:?}").contains("0123456789abcdef"));
        assert!(!minted.info.is_expired(3_600_999));
        assert!(minted.info.is_expired(3_601_000));
    }

    #[test]
    fn a_token_without_expiry_never_expires() {
        let info: TokenInfo = serde_json::from_value(json!({"token_id": "t"})).unwrap();
        assert_eq!(info.expiry_time, -1);
        assert!(!info.is_expired(i64::MAX));
    }

    #[test]
    fn an_undecodable_answer_to_a_create_is_not_shown() {
        let e = Error::new(
            "POST",
            "/api/2.0/token/create",
            ErrorDetail::Decode(
                "missing field `token_info` in `{\"token_value\":\"dapisecret\"}`".into(),
            ),
        );
        assert!(!redact_decode(e).to_string().contains("dapisecret"));
    }
}
