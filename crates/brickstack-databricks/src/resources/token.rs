//! `databricks_token`: a personal access token of the provider's own principal, minted with
//! `token/create`, its value written to the secret store (an SSM SecureString parameter) and
//! nowhere else. Also the implementation `databricks_obo_token` shares ([`Flavor`]).
//!
//! The object id is `<workspace_id>/<token_id>|<value_parameter>`: read and delete receive
//! nothing but the object id, and both need the parameter. State keeps the token's id, times,
//! the parameter's name and its version; never the value.
//!
//! Every desired attribute forces replacement (a token cannot change), and a replacement mints
//! the new token before revoking the old one (`create_before_destroy`), both writing the same
//! parameter. The parameter is tagged with the id of the token whose value it holds, so deleting
//! the old token never deletes the parameter the new one now owns.
//!
//! Rotation: `read` reports `expires_in_seconds`, the token's expiry minus the *server's* time
//! (from the workspace's `Date` headers; clocks skew), negative once expired, absent for a token
//! that never expires; an expired token still reads as present. The schema's rotation rule has
//! the planner replace a token once that is at most the desired `rotate_before_seconds`, which
//! the kind accepts and never reports (it is the plan's setting, not the token's). `create`
//! returns no `expires_in_seconds` (a countdown in state would be stale at once). A new token is
//! checked before its value is stored: one call made *with it* (`SCIM Me`) must succeed, so a
//! replacement never retires a working token for one that does not work.
//!
//! Identity: a token carries no tags, so its comment does. The comment sent is the desired one
//! followed by ` [brickstack:<environment>:<address>:<value_parameter>]` (read strips it, so
//! the plan compares the desired comment). `find` (the lookup's `scope` is the workspace URL,
//! its `name` the value parameter) lists the workspace's tokens with that mark: the one whose
//! value the parameter holds (tagged with its id) is adopted; any other was minted by a create
//! whose value never reached the parameter, and since a value is shown only once such a token
//! can never be used: it is revoked, so that the create mints a new one and nothing is orphaned.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
    SecretMetadata, SecretValue, SecretWrite,
};
use brickstack_state::ObjectLookup;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::nothing_updates;
use super::{
    absent_if_not_found, done_if_not_found, invalid_input, observed, parse, scoped_id, split_scoped,
};
use crate::client::auth::Credentials;
use crate::client::error::{Error, ErrorKind};
use crate::client::retry::RetryPolicy;
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::WorkspaceClient;
use crate::workspace::tokens::{MintedToken, TokenInfo};

pub(crate) const KIND: &str = "databricks_token";

/// The tag naming the token whose value a parameter holds.
const TOKEN_ID_TAG: &str = "brickstack:token_id";
const ENVIRONMENT_TAG: &str = "brickstack:environment";
const ADDRESS_TAG: &str = "brickstack:address";

/// The cheap authenticated call a new token must answer before its value is stored.
const SCIM_ME: &str = "/api/2.0/preview/scim/v2/Me";
/// How long a new token may take to be accepted (the provider's retry policy, at most this).
const VERIFY_BUDGET: Duration = Duration::from_secs(60);

/// Which token API a kind uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// The caller's own personal access token (`token/…`).
    Personal,
    /// A token of a service principal, minted by an admin (`token-management/…`).
    OnBehalfOf,
}

impl Flavor {
    fn kind(self) -> &'static str {
        match self {
            Flavor::Personal => KIND,
            Flavor::OnBehalfOf => super::obo_token::KIND,
        }
    }

    /// The token's metadata; `None` when it no longer exists.
    async fn get(self, ws: &Workspace, token_id: &str) -> Result<Option<TokenInfo>, Error> {
        match self {
            // Only token management reads one token, and it needs an admin; a principal's own
            // listing needs nothing.
            Flavor::Personal => Ok(ws
                .client
                .list_tokens()
                .await?
                .into_iter()
                .find(|t| t.token_id == token_id)),
            Flavor::OnBehalfOf => ws.client.get_managed_token(token_id).await,
        }
    }

    /// Every token of the workspace this flavor's API can see: the caller's own, or (token
    /// management, an admin's view) all of them.
    async fn list(self, ws: &Workspace) -> Result<Vec<TokenInfo>, Error> {
        match self {
            Flavor::Personal => ws.client.list_tokens().await,
            Flavor::OnBehalfOf => ws.client.list_managed_tokens(None).await,
        }
    }

    async fn mint(
        self,
        ws: &Workspace,
        desired: &TokenAttributes,
        mark: &str,
    ) -> Result<MintedToken, Error> {
        let comment = marked_comment(desired.comment.as_deref(), mark);
        let comment = comment.as_str();
        match self {
            Flavor::Personal => {
                ws.client
                    .create_token(desired.lifetime_seconds, comment)
                    .await
            }
            Flavor::OnBehalfOf => {
                // Checked present by `TokenAttributes::desired`.
                let application_id = desired.application_id.as_deref().unwrap_or_default();
                ws.client
                    .create_obo_token(application_id, desired.lifetime_seconds, comment)
                    .await
            }
        }
    }

    async fn revoke(self, ws: &Workspace, token_id: &str) -> Result<(), Error> {
        match self {
            Flavor::Personal => ws.client.delete_token(token_id).await,
            Flavor::OnBehalfOf => ws.client.delete_managed_token(token_id).await,
        }
    }
}

/// The attributes of both token kinds (`application_id` only for on-behalf-of tokens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenAttributes {
    workspace_url: String,
    /// The service principal the token authenticates as (on-behalf-of tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    application_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifetime_seconds: Option<i64>,
    /// The plan's rotation threshold: accepted, never reported (the API has no such field).
    #[serde(default, skip_serializing)]
    rotate_before_seconds: Option<i64>,
    /// The secret store's name for the value (an SSM parameter). Absent from a read when the
    /// parameter no longer holds this token's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_parameter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_parameter_kms_key_id: Option<String>,
}

impl TokenAttributes {
    fn desired(flavor: Flavor, attributes: &Attributes) -> Result<Self, ProviderError> {
        let kind = flavor.kind();
        let desired: TokenAttributes = parse(kind, attributes)?;
        let required = |value: &Option<String>, name: &str| match value.as_deref() {
            Some(v) if !v.is_empty() => Ok(()),
            _ => Err(invalid_input(
                kind,
                format!("`{name}` is required: a token's value goes nowhere else"),
            )),
        };
        required(&desired.value_parameter, "value_parameter")?;
        required(
            &desired.value_parameter_kms_key_id,
            "value_parameter_kms_key_id",
        )?;
        match (flavor, &desired.application_id) {
            (Flavor::OnBehalfOf, None) => {
                return Err(invalid_input(
                    kind,
                    "`application_id` is required: it names the service principal the token is for",
                ));
            }
            (Flavor::Personal, Some(_)) => {
                return Err(invalid_input(
                    kind,
                    "`application_id` is for `databricks_obo_token`; a personal token is the provider's own",
                ));
            }
            _ => {}
        }
        if desired.lifetime_seconds.is_some_and(|l| l <= 0) {
            return Err(invalid_input(
                kind,
                "`lifetime_seconds` is a positive number of seconds; leave it out for the workspace's maximum",
            ));
        }
        Ok(desired)
    }
}

pub(crate) fn schema() -> KindSchema {
    schema_of(KIND)
}

/// Both token kinds' schema: a token cannot change, so every attribute forces replacement.
pub(crate) fn schema_of(kind: &str) -> KindSchema {
    let mut schema = KindSchema::new(kind);
    for name in [
        "workspace_url",
        "application_id",
        "comment",
        "lifetime_seconds",
        "value_parameter",
        "value_parameter_kms_key_id",
    ] {
        schema = schema.attribute(name, AttributeBehaviour::ForcesReplacement);
    }
    for name in [
        "token_id",
        "creation_time",
        "expiry_time",
        "expires_in_seconds",
        "value_parameter_version",
    ] {
        schema = schema.attribute(name, AttributeBehaviour::Computed);
    }
    schema = schema.rotation("expires_in_seconds", "rotate_before_seconds");
    schema.create_before_destroy = true;
    schema
}

/// What identifies a token brickstack mints: `brickstack:<environment>:<address>:<parameter>`.
fn identity_mark(environment: &str, address: &str, parameter: &str) -> String {
    format!("brickstack:{environment}:{address}:{parameter}")
}

/// The comment sent: the desired one, then the mark in brackets.
fn marked_comment(comment: Option<&str>, mark: &str) -> String {
    match comment {
        Some(c) if !c.is_empty() => format!("{c} [{mark}]"),
        _ => format!("[{mark}]"),
    }
}

/// A comment without its mark, and the mark (without brackets) when it has one.
fn split_comment(comment: &str) -> (&str, Option<&str>) {
    match comment
        .strip_suffix(']')
        .and_then(|c| c.rsplit_once("[brickstack:"))
    {
        Some((rest, mark)) => (
            rest.strip_suffix(' ').unwrap_or(rest),
            Some(&comment[rest.len() + 1..comment.len() - 1]).filter(|_| !mark.is_empty()),
        ),
        None => (comment, None),
    }
}

/// Whether the token's mark says it was minted for `parameter` in `environment`.
fn marked_for(info: &TokenInfo, environment: &str, parameter: &str) -> bool {
    let Some((_, Some(mark))) = info.comment.as_deref().map(split_comment) else {
        return false;
    };
    mark.strip_prefix(&format!("brickstack:{environment}:"))
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(address, p)| !address.is_empty() && p == parameter)
}

/// `<token_id>|<value_parameter>`.
fn native_id(token_id: &str, parameter: &str) -> String {
    format!("{token_id}|{parameter}")
}

fn split_native<'a>(
    kind: &str,
    object_id: &str,
    native: &'a str,
) -> Result<(&'a str, &'a str), ProviderError> {
    native
        .split_once('|')
        .filter(|(token, parameter)| !token.is_empty() && !parameter.is_empty())
        .ok_or_else(|| {
            invalid_input(
                kind,
                format!(
                    "object id `{object_id}` is not `<workspace_id>/<token_id>|<value_parameter>`"
                ),
            )
        })
}

/// The lifetime a token was created with, from its times (whole seconds, rounded); `None` for
/// a token that never expires.
fn lifetime_seconds(info: &TokenInfo) -> Option<i64> {
    // Saturating: the times are the server's, and may be anything.
    (info.expiry_time >= 0).then(|| {
        info.expiry_time
            .saturating_sub(info.creation_time)
            .saturating_add(500)
            .div_euclid(1000)
    })
}

/// Whole seconds from `server_now_ms` until the token expires, rounded down (negative once
/// expired); `None` for a token that never expires.
fn expires_in_seconds(info: &TokenInfo, server_now_ms: i64) -> Option<i64> {
    (info.expiry_time >= 0).then(|| {
        info.expiry_time
            .saturating_sub(server_now_ms)
            .div_euclid(1000)
    })
}

/// The token as `read` reports it. `stored` is the parameter's metadata when it holds this
/// token's value; without it `value_parameter` is absent, and the plan replaces the token.
/// `expires_in` is left out by `create` (see the module's documentation).
fn observed_token(
    ws: &Workspace,
    info: &TokenInfo,
    application_id: Option<String>,
    parameter: &str,
    stored: Option<&SecretMetadata>,
    expires_in: Option<i64>,
) -> Observed {
    let attributes = TokenAttributes {
        workspace_url: ws.client.host().to_string(),
        application_id,
        comment: info
            .comment
            .as_deref()
            .and_then(|c| match split_comment(c) {
                ("", Some(_)) => None,
                (rest, _) => Some(rest.to_string()),
            }),
        lifetime_seconds: lifetime_seconds(info),
        rotate_before_seconds: None,
        value_parameter: stored.map(|s| s.name.clone()),
        value_parameter_kms_key_id: stored.and_then(|s| s.kms_key_id.clone()),
    };
    let mut computed = vec![
        ("token_id", json!(info.token_id)),
        ("creation_time", json!(info.creation_time)),
        ("expiry_time", json!(info.expiry_time)),
    ];
    if let Some(seconds) = expires_in {
        computed.push(("expires_in_seconds", json!(seconds)));
    }
    if let Some(stored) = stored {
        computed.push(("value_parameter_version", json!(stored.version)));
    }
    observed(
        &scoped_id(ws.id, &native_id(&info.token_id, parameter)),
        &attributes,
        computed,
    )
}

/// The parameter's metadata when it holds the value of token `token_id`.
async fn stored_value(
    p: &DatabricksProvider,
    parameter: &str,
    token_id: &str,
) -> Result<Option<SecretMetadata>, ProviderError> {
    Ok(p.secrets()
        .describe(parameter)
        .await?
        .filter(|meta| meta.tags.get(TOKEN_ID_TAG).map(String::as_str) == Some(token_id)))
}

/// The application id of the service principal an on-behalf-of token authenticates as.
async fn owner_application_id(
    ws: &Workspace,
    info: &TokenInfo,
) -> Result<Option<String>, ProviderError> {
    let Some(owner) = info.owner_id else {
        return Ok(None);
    };
    Ok(ws
        .client
        .service_principals()
        .get_attributes(&owner.to_string(), Some("applicationId"))
        .await?
        .and_then(|sp| sp.application_id))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    read_token(Flavor::Personal, p, object_id).await
}

pub(crate) async fn read_token(
    flavor: Flavor,
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let kind = flavor.kind();
    let (workspace_id, native) = split_scoped(kind, object_id)?;
    let (token_id, parameter) = split_native(kind, object_id, native)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    let Some(info) = absent_if_not_found(flavor.get(&ws, token_id).await)?.flatten() else {
        return Ok(None);
    };
    // Judged by the workspace's clock (the answer just read carried it), not ours. An expired
    // token is still there, to be rotated (replaced, then revoked), not recreated.
    let expires_in = expires_in_seconds(&info, ws.client.client().server_now_ms());
    let application_id = match flavor {
        Flavor::OnBehalfOf => owner_application_id(&ws, &info).await?,
        Flavor::Personal => None,
    };
    // A parameter deleted, or overwritten by another token, no longer holds this token's value:
    // `value_parameter` is then left out, so the plan replaces the token and the value is
    // written again.
    let stored = stored_value(p, parameter, token_id).await?;
    Ok(Some(observed_token(
        &ws,
        &info,
        application_id,
        parameter,
        stored.as_ref(),
        expires_in,
    )))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    create_token(Flavor::Personal, p, request).await
}

/// Mints the token, checks that it authenticates, and writes its value to the parameter, tagged
/// with the token's id. A token that does not authenticate, or whose value cannot be stored, is
/// revoked again and the create fails: the parameter keeps the value it had (SSM cannot take a
/// version back, so a dead token is never written), and a replacement leaves the old token be.
pub(crate) async fn create_token(
    flavor: Flavor,
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let kind = flavor.kind();
    let desired = TokenAttributes::desired(flavor, &request.attributes)?;
    let (Some(parameter), Some(kms_key_id)) = (
        desired.value_parameter.as_deref(),
        desired.value_parameter_kms_key_id.as_deref(),
    ) else {
        return Err(invalid_input(kind, "`value_parameter` is required"));
    };
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let mark = identity_mark(p.environment(), &request.address, parameter);
    // An answer lost on the way back leaves a token nobody holds the value of: the error says
    // `maybe_applied`, and `find` revokes that token before the create is sent again.
    let minted = flavor.mint(&ws, &desired, &mark).await?;
    let token_id = minted.info.token_id.clone();
    if let Err(e) = verify(p, &ws, &minted.value).await {
        let revoked = revoke_after_failure(flavor, &ws, &token_id).await;
        let error = ProviderError::from(e);
        return Err(ProviderError::new(
            error.class,
            error.code,
            format!(
                "{kind}: the new token `{token_id}` does not authenticate at {} (`GET {SCIM_ME}` with it failed), so it was not stored and {revoked}: {}",
                ws.client.host(),
                error.message
            ),
        ));
    }
    let tags = BTreeMap::from([
        (ENVIRONMENT_TAG.to_string(), p.environment().to_string()),
        (ADDRESS_TAG.to_string(), request.address.clone()),
        (TOKEN_ID_TAG.to_string(), token_id.clone()),
    ]);
    let description = format!(
        "Databricks token `{token_id}` of {} (`{}`), written by brickstack for `{}`",
        ws.client.host(),
        desired.comment.as_deref().unwrap_or_default(),
        request.address
    );
    let write = SecretWrite {
        name: parameter,
        value: &minted.value,
        kms_key_id,
        description: &description,
        tags: &tags,
    };
    let stored = match p.secrets().put(&write).await {
        Ok(stored) => stored,
        Err(e) => {
            let revoked = revoke_after_failure(flavor, &ws, &token_id).await;
            return Err(ProviderError::new(
                e.class,
                e.code,
                format!(
                    "{kind}: the value of the new token `{token_id}` could not be written to `{parameter}`, so {revoked}: {}",
                    e.message
                ),
            ));
        }
    };
    Ok(observed_token(
        &ws,
        &minted.info,
        desired.application_id.clone(),
        parameter,
        Some(&stored),
        None,
    ))
}

/// Revokes a token a failed create minted; says what happened, for the error.
async fn revoke_after_failure(flavor: Flavor, ws: &Workspace, token_id: &str) -> String {
    match flavor.revoke(ws, token_id).await {
        Ok(()) => "it was revoked".to_string(),
        Err(r) => format!("revoking it failed too ({r}); hint: revoke token `{token_id}` by hand"),
    }
}

/// One call with the new token itself (`SCIM Me`, which any principal may make), at the
/// workspace that minted it. A refusal is tried again for a while (the provider's retry
/// policy, within [`VERIFY_BUDGET`]), since a token may take a moment to be accepted
/// everywhere; any other failure is the answer.
async fn verify(p: &DatabricksProvider, ws: &Workspace, value: &SecretValue) -> Result<(), Error> {
    let policy = RetryPolicy {
        budget: p.retry().budget.min(VERIFY_BUDGET),
        ..p.retry().clone()
    };
    let client = WorkspaceClient::new(
        ws.client.host(),
        Credentials::Pat(value.clone()),
        policy.clone(),
    )
    .map_err(|e| {
        Error::new(
            "GET",
            SCIM_ME,
            crate::client::error::ErrorDetail::Transport(e.to_string()),
        )
    })?;
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match client.client().get::<IgnoredAny>(SCIM_ME, &[]).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let not_yet = e.kind() == ErrorKind::Unauthenticated;
        match policy.next_delay(attempt, started.elapsed(), None, not_yet) {
            Some(delay) => {
                tracing::debug!(host = ws.client.host(), attempt, error = %e, "the new token is not accepted yet");
                tokio::time::sleep(delay).await;
            }
            None => return Err(e),
        }
    }
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    delete_token(Flavor::Personal, p, object_id).await
}

/// Revokes the token, then deletes the parameter if it still holds this token's value (a newer
/// token that replaced this one owns it otherwise).
pub(crate) async fn delete_token(
    flavor: Flavor,
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<(), ProviderError> {
    let kind = flavor.kind();
    let (workspace_id, native) = split_scoped(kind, object_id)?;
    let (token_id, parameter) = split_native(kind, object_id, native)?;
    // A workspace that is gone took its tokens with it; the parameter may still be there.
    if let Some(ws) = p.workspace(workspace_id).await? {
        done_if_not_found(flavor.revoke(&ws, token_id).await)?;
    }
    if stored_value(p, parameter, token_id).await?.is_some() {
        p.secrets().delete(parameter).await?;
    }
    Ok(())
}

pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    find_token(Flavor::Personal, p, lookup).await
}

/// The token a create interrupted before its record minted (see the module's documentation):
/// the marked token whose value the parameter holds is adopted; every other token marked for
/// this parameter in this environment is revoked (its value is lost, so it can never be used).
/// `None` when no token holds the parameter's value, so the create mints a new one.
pub(crate) async fn find_token(
    flavor: Flavor,
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(parameter)) = (lookup.scope.as_deref(), lookup.name.as_deref()) else {
        return Ok(None);
    };
    let ws = match p.workspace_at(url).await {
        Ok(ws) => ws,
        // The workspace is gone, and its tokens with it.
        Err(e) if e.class == brickstack_provider::ErrorClass::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let marked: Vec<TokenInfo> = flavor
        .list(&ws)
        .await?
        .into_iter()
        .filter(|t| marked_for(t, p.environment(), parameter))
        .collect();
    let mut adopted = None;
    for info in marked {
        if adopted.is_none()
            && let Some(stored) = stored_value(p, parameter, &info.token_id).await?
        {
            adopted = Some((info, stored));
            continue;
        }
        tracing::info!(
            kind = flavor.kind(),
            token_id = %info.token_id,
            parameter,
            "revoking a token whose value never reached its parameter"
        );
        done_if_not_found(flavor.revoke(&ws, &info.token_id).await)?;
    }
    let Some((info, stored)) = adopted else {
        return Ok(None);
    };
    let application_id = match flavor {
        Flavor::OnBehalfOf => owner_application_id(&ws, &info).await?,
        Flavor::Personal => None,
    };
    let expires_in = expires_in_seconds(&info, ws.client.client().server_now_ms());
    Ok(Some(observed_token(
        &ws,
        &info,
        application_id,
        parameter,
        Some(&stored),
        expires_in,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(creation_time: i64, expiry_time: i64) -> TokenInfo {
        serde_json::from_value(json!({
            "token_id": "t", "creation_time": creation_time, "expiry_time": expiry_time
        }))
        .unwrap()
    }

    #[test]
    fn the_lifetime_comes_from_the_times() {
        assert_eq!(lifetime_seconds(&info(1_000, 3_601_000)), Some(3600));
        assert_eq!(lifetime_seconds(&info(1_000, 3_601_400)), Some(3600));
        assert_eq!(lifetime_seconds(&info(1_000, 3_600_600)), Some(3600));
        assert_eq!(lifetime_seconds(&info(1_000, -1)), None);
    }

    #[test]
    fn expiry_is_counted_from_the_servers_time() {
        assert_eq!(expires_in_seconds(&info(0, 3_600_000), 0), Some(3600));
        assert_eq!(expires_in_seconds(&info(0, 3_600_000), 3_599_500), Some(0));
        assert_eq!(expires_in_seconds(&info(0, 3_600_000), 3_600_000), Some(0));
        assert_eq!(expires_in_seconds(&info(0, 3_600_000), 3_600_001), Some(-1));
        assert_eq!(
            expires_in_seconds(&info(0, 3_600_000), 3_600_000 + 10_800_000),
            Some(-10_800)
        );
        assert_eq!(expires_in_seconds(&info(0, -1), i64::MAX / 2), None);
        // Times from a server are whatever it sent: no overflow.
        assert_eq!(
            expires_in_seconds(&info(0, i64::MAX), i64::MIN),
            Some(i64::MAX / 1000)
        );
        assert_eq!(
            lifetime_seconds(&info(i64::MIN, i64::MAX)),
            Some(i64::MAX / 1000)
        );
    }

    #[test]
    fn desired_attributes_are_checked_per_flavor() {
        let pat = json!({
            "workspace_url": "https://w", "comment": "c", "lifetime_seconds": 3600,
            "value_parameter": "/p", "value_parameter_kms_key_id": "k"
        });
        TokenAttributes::desired(Flavor::Personal, pat.as_object().unwrap()).unwrap();
        let e = TokenAttributes::desired(Flavor::OnBehalfOf, pat.as_object().unwrap()).unwrap_err();
        assert!(e.message.contains("application_id"), "{}", e.message);
        let no_parameter = json!({"workspace_url": "https://w", "value_parameter_kms_key_id": "k"});
        assert!(
            TokenAttributes::desired(Flavor::Personal, no_parameter.as_object().unwrap()).is_err()
        );
    }

    #[test]
    fn the_comment_carries_the_identity_and_read_strips_it() {
        let mark = identity_mark("dev", "databricks_token.deployer", "/bs/dev/pat");
        let sent = marked_comment(Some("brickstack dev deployer"), &mark);
        assert_eq!(
            sent,
            "brickstack dev deployer [brickstack:dev:databricks_token.deployer:/bs/dev/pat]"
        );
        assert_eq!(
            split_comment(&sent),
            ("brickstack dev deployer", Some(mark.as_str()))
        );
        assert_eq!(
            split_comment(&marked_comment(None, &mark)),
            ("", Some(mark.as_str()))
        );
        assert_eq!(
            split_comment("made by hand [x]"),
            ("made by hand [x]", None)
        );
        let token = |comment: &str| -> TokenInfo {
            serde_json::from_value(json!({
                "token_id": "t", "creation_time": 0, "expiry_time": -1, "comment": comment
            }))
            .unwrap()
        };
        assert!(marked_for(&token(&sent), "dev", "/bs/dev/pat"));
        assert!(!marked_for(&token(&sent), "prod", "/bs/dev/pat"));
        assert!(!marked_for(&token(&sent), "dev", "/bs/dev/other"));
        assert!(!marked_for(
            &token("brickstack dev deployer"),
            "dev",
            "/bs/dev/pat"
        ));
    }

    #[test]
    fn object_ids_carry_the_parameter() {
        let native = native_id("abc", "/brickstack/dev/tokens/pat");
        assert_eq!(
            split_native(KIND, "1/x", &native).unwrap(),
            ("abc", "/brickstack/dev/tokens/pat")
        );
        assert!(split_native(KIND, "1/x", "abc").is_err());
    }

    #[test]
    fn the_schema_replaces_before_destroying() {
        let schema = schema();
        assert!(schema.create_before_destroy);
        assert_eq!(
            schema.behaviour("lifetime_seconds"),
            AttributeBehaviour::ForcesReplacement
        );
        assert_eq!(schema.behaviour("token_id"), AttributeBehaviour::Computed);
        let rotation = schema.rotation.as_ref().unwrap();
        assert_eq!(
            (
                rotation.expires_in.as_str(),
                rotation.rotate_before.as_str()
            ),
            ("expires_in_seconds", "rotate_before_seconds")
        );
        assert!(!schema.compared("rotate_before_seconds"));
        assert!(!schema.compared("expires_in_seconds"));
    }
}
