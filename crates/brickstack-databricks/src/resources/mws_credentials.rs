//! `databricks_mws_credentials`: the cross-account IAM role registered with the account. The
//! object id is the vendor's `credentials_id`.
//!
//! * Immutable: every desired attribute forces replacement.
//! * Right after the role is created (or its policy attached) the vendor may refuse it, because
//!   it validates the role by assuming it and IAM has not propagated yet. Those answers (see
//!   [`ROLE_NOT_USABLE_YET`]) are refusals, so the create is sent again here, spaced by
//!   [`PROPAGATION_RETRY_AFTER`] within the provider's retry budget (this adapter is the one
//!   retry layer for its calls: the engine does not retry on top), instead of anyone sleeping
//!   blindly before the create. Once the budget is spent the error stays classified retryable.
//! * Also home of [`check_account`], which every account-level kind uses.

use std::time::{Duration, Instant};

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{done_if_not_found, invalid_input, nothing_updates, observed, parse, unexpected};
use crate::account::credentials::Credential;
use crate::client::error::Error;
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_mws_credentials";

/// Phrases (compared in lower case) of the vendor's 400 answers to a role it cannot use yet:
///
/// * `Failed credential validation checks: please use a valid cross account IAM role with
///   permissions setup correctly` (the role cannot be assumed yet; also a wrong trust policy),
/// * `Failed credentials validation checks: Spot Cancellation, Delete Tags, ...` (the role's
///   policy is not effective yet; also a policy that lacks those actions),
/// * the wordings of an assume-role refusal.
///
/// A role that is wrong for good is refused the same way; it is then retried until the engine's
/// attempts run out, and the error it reports is the vendor's.
const ROLE_NOT_USABLE_YET: &[&str] = &[
    "credential validation checks",
    "credentials validation checks",
    "cannot be assumed",
    "unable to assume",
    "sts:assumerole",
];

/// IAM usually propagates within 10 to 30 seconds: retries are spaced at least this far apart.
const PROPAGATION_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialAttributes {
    account_id: String,
    credentials_name: String,
    role_arn: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("account_id", AttributeBehaviour::ForcesReplacement)
        .attribute("credentials_name", AttributeBehaviour::ForcesReplacement)
        .attribute("role_arn", AttributeBehaviour::ForcesReplacement)
        .attribute("credentials_id", AttributeBehaviour::Computed)
        .attribute("creation_time", AttributeBehaviour::Computed)
        .attribute("external_id", AttributeBehaviour::Computed)
}

/// Refuses desired attributes meant for another account than the provider's.
pub(crate) fn check_account(
    p: &DatabricksProvider,
    kind: &str,
    account_id: &str,
) -> Result<(), ProviderError> {
    let ours = p.account().account_id();
    if account_id == ours {
        return Ok(());
    }
    Err(invalid_input(
        kind,
        format!(
            "`account_id` is `{account_id}` but the provider acts in account `{ours}`; hint: set the spec's account id to the account the credentials belong to"
        ),
    ))
}

fn observe(p: &DatabricksProvider, credential: Credential) -> Result<Observed, ProviderError> {
    let role_arn = credential.role_arn().ok_or_else(|| {
        unexpected(
            KIND,
            format!(
                "credential configuration `{}` has no role ARN",
                credential.credentials_id
            ),
        )
    })?;
    let attributes = CredentialAttributes {
        account_id: p.account().account_id().to_string(),
        credentials_name: credential.credentials_name.clone(),
        role_arn: role_arn.to_string(),
    };
    let mut computed = vec![(
        "credentials_id",
        Value::from(credential.credentials_id.clone()),
    )];
    if let Some(t) = credential.creation_time {
        computed.push(("creation_time", Value::from(t)));
    }
    let external_id = credential
        .aws_credentials
        .sts_role
        .and_then(|r| r.external_id);
    if let Some(e) = external_id {
        computed.push(("external_id", Value::from(e)));
    }
    Ok(observed(&credential.credentials_id, &attributes, computed))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    p.account()
        .get_credential(object_id)
        .await?
        .map(|c| observe(p, c))
        .transpose()
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: CredentialAttributes = parse(KIND, &request.attributes)?;
    check_account(p, KIND, &desired.account_id)?;
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match p
            .account()
            .create_credential(&desired.credentials_name, &desired.role_arn)
            .await
        {
            Ok(created) => return observe(p, created),
            Err(e) => e,
        };
        // Only the refusal of a role not usable yet: anything transient was retried by the
        // client already.
        let not_yet = role_not_usable_yet(&e);
        let error = create_error(e);
        if !not_yet {
            return Err(error);
        }
        match p.retry().next_delay(
            attempt,
            started.elapsed(),
            Some(PROPAGATION_RETRY_AFTER),
            true,
        ) {
            Some(delay) => {
                tracing::debug!(attempt, ?delay, error = %error, "the role is not usable yet");
                tokio::time::sleep(delay).await;
            }
            None => return Err(error),
        }
    }
}

/// Whether the vendor refused the role because it cannot assume it (yet).
fn role_not_usable_yet(e: &Error) -> bool {
    e.api().is_some_and(|api| {
        let message = api.message.to_ascii_lowercase();
        api.status == 400 && ROLE_NOT_USABLE_YET.iter().any(|p| message.contains(p))
    })
}

/// A refused create, with an IAM role that cannot be used yet classified retryable.
fn create_error(e: Error) -> ProviderError {
    let not_usable_yet = role_not_usable_yet(&e);
    let mut error = ProviderError::from(e);
    if not_usable_yet {
        error.class = ErrorClass::Retryable {
            after: Some(PROPAGATION_RETRY_AFTER),
        };
    }
    error
}

/// Every attribute forces replacement, so the engine never asks for an update.
pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

/// The vendor refuses (`INVALID_STATE`, a conflict) while a workspace uses the configuration.
pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    done_if_not_found(p.account().delete_credential(object_id).await)
}

/// By `credentials_name`, unique in an account.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(name) = &lookup.name else {
        return Ok(None);
    };
    p.account()
        .list_credentials()
        .await?
        .into_iter()
        .find(|c| &c.credentials_name == name)
        .map(|c| observe(p, c))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::error::{ErrorDetail, parse as parse_error};

    fn answer(status: u16, content_type: &str, body: &str) -> ProviderError {
        create_error(Error::new(
            "POST",
            "/api/2.0/accounts/a/credentials",
            ErrorDetail::Api(parse_error(
                status,
                Some(content_type),
                body.as_bytes(),
                None,
                None,
            )),
        ))
    }

    #[test]
    fn a_role_not_usable_yet_is_retryable() {
        let retryable = ErrorClass::Retryable {
            after: Some(PROPAGATION_RETRY_AFTER),
        };
        for (content_type, body) in [
            (
                "text/plain; charset=utf-8",
                "MALFORMED_REQUEST: Failed credential validation checks: please use a valid cross account IAM role with permissions setup correctly",
            ),
            (
                "application/json",
                r#"{"error_code":"MALFORMED_REQUEST","message":"Failed credentials validation checks: Spot Cancellation, Delete Tags, Describe Availability Zones"}"#,
            ),
            (
                "application/json",
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Role arn:aws:iam::123456789012:role/x cannot be assumed by Databricks"}"#,
            ),
            (
                "application/json",
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"User is not authorized to perform: sts:AssumeRole on resource arn:aws:iam::123456789012:role/x"}"#,
            ),
        ] {
            let e = answer(400, content_type, body);
            assert_eq!(e.class, retryable, "{body}");
        }
    }

    #[test]
    fn other_refusals_stay_what_they_are() {
        let invalid = answer(
            400,
            "application/json",
            r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid role ARN: not-an-arn; expected arn:aws:iam::<12-digit account>:role/<name>"}"#,
        );
        assert_eq!(invalid.class, ErrorClass::InvalidInput);
        let exists = answer(
            409,
            "application/json",
            r#"{"error_code":"RESOURCE_ALREADY_EXISTS","message":"Credential configuration with name x already exists"}"#,
        );
        assert_eq!(exists.class, ErrorClass::Conflict);
        // The phrase alone does not make a server error retryable here: only a refusal (400) is
        // the vendor's verdict on the role.
        let server = answer(
            500,
            "application/json",
            r#"{"error_code":"INTERNAL_ERROR","message":"credential validation checks crashed"}"#,
        );
        assert_eq!(server.class, ErrorClass::Fatal);
    }
}
