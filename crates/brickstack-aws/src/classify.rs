//! Every AWS error the provider returns is classified here, once: not found, retryable,
//! conflict, invalid input or fatal. The engine decides retries from the class; nothing else
//! matches on codes or message text (and here only one message: a policy refused for naming a
//! just-created IAM role, which is eventual consistency, not bad input). The error's text is one
//! line (operation, the service's code and message) with a hint where the code says what to do.

use std::error::Error;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use brickstack_provider::{ErrorClass, ProviderError};

use crate::retry::{connector_failure_is_ambiguous, status_is_ambiguous};

/// The object (or the configuration a sub-resource kind stands for) does not exist.
const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchTagSet",
    "NoSuchLifecycleConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "NoSuchBucketPolicy",
    "NotFoundException",
    "ResourceNotFoundException",
    "TableNotFoundException",
    "NoSuchEntity",
    "ParameterNotFound",
    // EC2 (the `.NotFound` suffix matches most; listed so the kinds' codes are written down).
    "NatGatewayNotFound",
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidAllocationID.NotFound",
    "InvalidVpcEndpointId.NotFound",
    "InvalidFlowLogId.NotFound",
    "InvalidRoute.NotFound",
    "InvalidAssociationID.NotFound",
];

/// Throttling: the service refused the request without acting on it, so sending it again is
/// safe for every operation (a 503 `SlowDown` included).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "EC2ThrottledException",
];

/// Whether `code` is a throttling answer ([`THROTTLING`]).
pub(crate) fn is_throttle(code: &str) -> bool {
    THROTTLING.contains(&code)
}

/// Transient service trouble: worth another attempt (throttling, [`THROTTLING`], is too).
const RETRYABLE: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
    "ContinuousBackupsUnavailableException",
    "PriorRequestNotComplete",
    // EC2 releases a deleted object's network interfaces late: the VPC or subnet frees up soon.
    "DependencyViolation",
    // IAM: a quota hit mid-change (a policy's five versions, say), an entity still settling
    // after a change, a concurrent change, an IAM-side failure.
    "LimitExceeded",
    "EntityTemporarilyUnmodifiable",
    "ConcurrentModification",
    "ServiceFailure",
];

/// The object exists already, or is in a state that forbids the operation.
const CONFLICT: &[&str] = &[
    "BucketAlreadyOwnedByYou",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "OperationAborted",
    "InvalidBucketState",
    "AlreadyExistsException",
    "KMSInvalidStateException",
    "DisabledException",
    "ResourceInUseException",
    "ConditionalCheckFailedException",
    "TransactionConflictException",
    "ConcurrentModificationException",
    "EntityAlreadyExists",
    "DeleteConflict",
    "ParameterAlreadyExists",
];

/// The request itself is wrong: retrying it unchanged cannot help.
const INVALID_INPUT: &[&str] = &[
    "InvalidArgument",
    "InvalidRequest",
    "InvalidBucketName",
    "InvalidTag",
    "MalformedXML",
    "MalformedPolicy",
    "IllegalLocationConstraintException",
    "InvalidLocationConstraint",
    "ValidationException",
    "ValidationError",
    "MalformedPolicyDocumentException",
    "InvalidAliasNameException",
    "InvalidArnException",
    "InvalidKeyUsageException",
    "UnsupportedOperationException",
    "TagException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "InvalidParameterException",
    "MissingParameter",
    // IAM.
    "MalformedPolicyDocument",
    "UnmodifiableEntity",
    "InvalidInput",
    "PolicyNotAttachable",
];

/// The class of an AWS error `code`, with the HTTP `status` deciding codes not listed: 429 and
/// 5xx are retryable, a 404 without a code is not found, anything else is fatal.
pub fn classify_code(code: Option<&str>, status: Option<u16>) -> ErrorClass {
    let listed = |list: &[&str]| code.is_some_and(|c| list.contains(&c));
    if listed(NOT_FOUND) || code.is_some_and(|c| c.ends_with(".NotFound")) {
        ErrorClass::NotFound
    } else if listed(RETRYABLE) || code.is_some_and(is_throttle) {
        ErrorClass::Retryable { after: None }
    } else if listed(CONFLICT) {
        ErrorClass::Conflict
    } else if listed(INVALID_INPUT) {
        ErrorClass::InvalidInput
    } else if status.is_some_and(|s| s == 429 || (500..600).contains(&s)) {
        ErrorClass::Retryable { after: None }
    } else if code.is_none() && status == Some(404) {
        ErrorClass::NotFound
    } else {
        ErrorClass::Fatal
    }
}

/// Whether a refused policy's message blames a principal that does not exist (yet).
pub(crate) fn names_unknown_principal(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.to_ascii_lowercase().contains("invalid principal"))
}

/// Classifies an SDK error from `operation` (e.g. `s3:HeadBucket`). Service errors go by their
/// code; a timeout, an I/O failure or an unreadable response is retryable; a request the SDK
/// could not build is invalid input. The message is one line (see [`crate::error::one_line`]);
/// the SDK's whole cause chain is logged at `debug`.
///
/// The error is marked `maybe_applied` when the request may have taken effect although no answer
/// said so: a timeout, a transport failure after the request may have left (not a refused
/// connection), an unreadable answer, a 5xx that is not a throttle. The SDK has already retried
/// what was worth retrying (except creates, [`crate::retry::CreateGuard`]); the engine looks a
/// create failing this way up before it sends it again.
pub fn classify<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let retryable = ErrorClass::Retryable { after: None };
    let maybe_applied = match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => failure
            .as_connector_error()
            .is_none_or(connector_failure_is_ambiguous),
        SdkError::ServiceError(service) => {
            status_is_ambiguous(service.raw().status().as_u16(), service.err().code())
        }
        _ => false,
    };
    let (class, code) = match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code();
            let status = service.raw().status().as_u16();
            let class = match classify_code(code, Some(status)) {
                // A policy naming a role IAM has just created is refused until the role has
                // propagated (KMS, S3 and IAM all say "invalid principal"): worth another try.
                ErrorClass::InvalidInput if names_unknown_principal(service.err().message()) => {
                    retryable
                }
                class => class,
            };
            (
                class,
                code.map_or_else(|| format!("HTTP{status}"), str::to_string),
            )
        }
        SdkError::TimeoutError(_) => (retryable, "TimeoutError".to_string()),
        SdkError::DispatchFailure(failure) if failure.is_user() => {
            (ErrorClass::Fatal, "DispatchFailure".to_string())
        }
        SdkError::DispatchFailure(_) => (retryable, "DispatchFailure".to_string()),
        SdkError::ResponseError(_) => (retryable, "ResponseError".to_string()),
        SdkError::ConstructionFailure(_) => {
            (ErrorClass::InvalidInput, "ConstructionFailure".to_string())
        }
        _ => (ErrorClass::Fatal, "Unknown".to_string()),
    };
    crate::error::log_detail(operation, error);
    let error_hint = match error {
        SdkError::ServiceError(service) => service.err().code().and_then(|c| hint(operation, c)),
        SdkError::TimeoutError(_) => Some(format!(
            "AWS did not answer `{operation}` in time; run again (a change it made is found, not repeated)"
        )),
        SdkError::DispatchFailure(failure) if !failure.is_user() => Some(
            "AWS could not be reached: check the network and any endpoint override (`AWS_ENDPOINT_URL`)"
                .to_string(),
        ),
        _ => None,
    };
    let classified = ProviderError::new(
        class,
        code,
        format!("{} ({operation})", crate::error::one_line(error)),
    );
    let classified = match error_hint {
        Some(text) => classified.with_hint(text),
        None => classified,
    };
    if maybe_applied {
        classified.maybe_applied()
    } else {
        classified
    }
}

/// Codes saying the identity in use lacks a permission.
const NOT_AUTHORIZED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
];

/// Codes saying AWS did not accept the credentials themselves.
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "IncompleteSignature",
];

/// Codes saying the credentials were good but have expired.
const EXPIRED: &[&str] = &["ExpiredToken", "ExpiredTokenException", "RequestExpired"];

/// Codes saying the object lives in, or the request was signed for, another region.
const WRONG_REGION: &[&str] = &[
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
    "InvalidLocationConstraint",
];

/// What to do about a service error `code` from `operation`, where the code says.
fn hint(operation: &str, code: &str) -> Option<String> {
    let is = |list: &[&str]| list.contains(&code);
    if is(NOT_AUTHORIZED) {
        Some(format!(
            "the AWS identity brickstack runs as may not call `{operation}`: allow it in that identity's IAM policy (`aws sts get-caller-identity` names the identity)"
        ))
    } else if is(BAD_CREDENTIALS) {
        Some(
            "AWS did not accept the credentials: check `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` or the profile `AWS_PROFILE` names (`aws sts get-caller-identity` tries them)"
                .to_string(),
        )
    } else if is(EXPIRED) {
        Some(
            "the credentials have expired: renew them (`aws sso login`, or new keys for the profile) and run again"
                .to_string(),
        )
    } else if is(WRONG_REGION) {
        Some(
            "the object is in another region than the one in use: the spec's `environment.region` unless `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's region overrides it; make them agree"
                .to_string(),
        )
    } else if is_throttle(code) {
        Some(format!(
            "AWS kept throttling `{operation}` until the retry budget ran out: run again later, or with a lower `--parallelism`"
        ))
    } else {
        None
    }
}

/// `error` if it is not a not-found; `Ok(None)` for a not-found, which is how reads say "gone".
pub(crate) fn absent_if_not_found<T>(error: ProviderError) -> Result<Option<T>, ProviderError> {
    match error.class {
        ErrorClass::NotFound => Ok(None),
        _ => Err(error),
    }
}

/// `Ok(())` for a not-found, which is how deletes say "already gone"; `error` otherwise.
pub(crate) fn done_if_not_found(error: ProviderError) -> Result<(), ProviderError> {
    match error.class {
        ErrorClass::NotFound => Ok(()),
        _ => Err(error),
    }
}

/// An update of an object that no longer exists.
pub(crate) fn gone(kind: &str, object_id: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::NotFound,
        "NotFound",
        format!("{kind} `{object_id}` does not exist (any more)"),
    )
}

/// Desired attributes the kind cannot accept, found before any call.
pub(crate) fn invalid_input(kind: &str, message: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorClass::InvalidInput,
        "InvalidAttributes",
        format!("invalid attributes for `{kind}`: {message}"),
    )
}

/// A kind this provider does not serve (yet).
pub(crate) fn unsupported_kind(kind: &str) -> ProviderError {
    let arrives = if kind.starts_with("databricks_") {
        "Databricks kinds arrive with issue #5"
    } else {
        "it serves every AWS kind the generator emits (see `brickstack graph`), and this is not one of them"
    };
    ProviderError::new(
        ErrorClass::Fatal,
        "UnsupportedKind",
        format!("kind `{kind}` is not supported by the AWS provider: {arrives}"),
    )
}

/// An error after the object was created by an operation that makes more than one call: the
/// engine must not retry the whole create (that would make a second object), so the error becomes
/// fatal and says how the object is recovered (the journaled create is adopted by `find`).
pub(crate) fn after_created(kind: &str, object_id: &str, error: ProviderError) -> ProviderError {
    let mut fatal = ProviderError::new(
        ErrorClass::Fatal,
        error.code,
        format!(
            "{kind} `{object_id}` was created but configuring it failed; the next plan adopts it and repairs the rest: {}",
            error.message
        ),
    );
    fatal.hint = error.hint;
    fatal
}

/// A successful response without a field the API documents.
pub(crate) fn missing_field(operation: &str, field: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Fatal,
        "MissingField",
        format!("{operation} returned no `{field}`"),
    )
}
