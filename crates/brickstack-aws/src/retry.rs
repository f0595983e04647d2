//! The one retry layer for AWS calls (`docs/lifecycle.md`, "Retries"): the SDK's standard retry
//! strategy, configured from [`RetryPolicy`], plus two additions registered on every client:
//!
//! * [`RetryableCodes`], a retry classifier: brickstack's retryable codes the SDK does not know
//!   (`DependencyViolation`, an IAM entity still settling, a policy naming a role not yet
//!   propagated), decided by the same [`classify_code`] the provider's errors go through;
//! * [`CreateGuard`], an interceptor: the SDK never sends again an operation that would make a
//!   second object (`CreateVpc`, `AllocateAddress`, `CreateKey`, ...) after an ambiguous failure
//!   (a timeout, a dropped connection, an unreadable answer, a 5xx that is not a throttle). The
//!   error goes up marked `maybe_applied`, and the engine looks the object up before it sends
//!   anything again. Throttling answers refuse the request, so they are retried for every call.
//!
//! The guard is an interceptor rather than a classifier because a classifier sees neither the
//! operation's name nor its request; an interceptor reads the name from the config bag and stops
//! the retry loop by lowering the operation's `max_attempts`.

use std::error::Error;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_s3::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    FinalizerInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::ErrorKind;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use brickstack_provider::{ErrorClass, RetryPolicy};

use crate::classify::{classify_code, is_throttle, names_unknown_principal};

/// The most attempts one call makes, whatever the budget: the operation timeout bounds the time,
/// this bounds the count.
const MAX_ATTEMPTS: u32 = 50;

/// The SDK's retry settings for `policy`: standard mode (token bucket, exponential backoff with
/// full jitter), `base` as the first backoff, `max_backoff` as the cap, and as many attempts as fit
/// in `budget` with every wait at its ceiling. `RetryPolicy::none()` disables retries.
pub fn retry_config(policy: &RetryPolicy) -> RetryConfig {
    let attempts = max_attempts(policy);
    if attempts <= 1 {
        return RetryConfig::disabled();
    }
    RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(policy.base.max(Duration::from_millis(1)))
        .with_max_backoff(policy.max_backoff.max(policy.base))
}

/// Connect, per-attempt and whole-operation timeouts: the operation (every attempt and every
/// wait) is bounded by the policy's budget plus one attempt, so a call never outlives its budget
/// by more than the attempt that was running when the budget ran out.
pub fn timeout_config(policy: &RetryPolicy, connect: Duration, attempt: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(connect)
        .operation_attempt_timeout(attempt)
        .operation_timeout(policy.budget.saturating_add(attempt))
        .build()
}

/// The clients' retry partition: without the SDK's retry quota (a process-wide token bucket that
/// forgets a permit for every retry after the first, so a long run under throttling would end up
/// retrying nothing), because the policy's budget already bounds every call.
pub(crate) fn retry_partition() -> RetryPartition {
    RetryPartition::custom("brickstack")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

fn max_attempts(policy: &RetryPolicy) -> u32 {
    let mut waited = Duration::ZERO;
    let mut attempts = 1;
    while attempts < MAX_ATTEMPTS {
        let ceiling = policy
            .base
            .saturating_mul(2u32.saturating_pow(attempts - 1))
            .min(policy.max_backoff);
        waited = waited.saturating_add(ceiling);
        if waited > policy.budget {
            break;
        }
        attempts += 1;
    }
    attempts
}

/// Operations the SDK must not send again after an ambiguous failure, by `(service, operation)`
/// as the SDK's `Metadata` names them: creates that make a new object each time they are sent
/// (the engine looks the object up instead), and the state lock's conditional delete, whose
/// second send would be refused as if the lock had never been ours (the backend reads the lock
/// instead). Creates that take an idempotency token (`CreateNatGateway`, `CreateVpcEndpoint`,
/// `CreateFlowLogs`, `CreateRouteTable`: the SDK keeps one token across its own attempts, and
/// brickstack passes one per run) are not listed, nor creates whose second send is refused
/// without a second object (`CreateRoute`, `AssociateRouteTable`), which the kinds read as "it
/// is there".
const NOT_RESENT: &[(&str, &str)] = &[
    ("EC2", "CreateVpc"),
    ("EC2", "CreateSubnet"),
    ("EC2", "CreateInternetGateway"),
    ("EC2", "AllocateAddress"),
    ("KMS", "CreateKey"),
    ("KMS", "CreateAlias"),
    ("IAM", "CreateRole"),
    ("IAM", "CreatePolicy"),
    ("IAM", "CreatePolicyVersion"),
    ("IAM", "CreateInstanceProfile"),
    ("IAM", "AddRoleToInstanceProfile"),
    ("S3", "CreateBucket"),
    ("DynamoDB", "CreateTable"),
    ("DynamoDB", "DeleteItem"),
];

/// Whether sending `operation` of `service` again after it took effect would make a second
/// object or misreport the first send's effect ([`NOT_RESENT`]).
pub fn not_resent(service: &str, operation: &str) -> bool {
    NOT_RESENT.contains(&(service, operation))
}

/// Whether a transport failure may have happened after the request left: everything but a
/// request the client refused to send and a connection the server refused.
pub(crate) fn connector_failure_is_ambiguous(error: &ConnectorError) -> bool {
    !error.is_user() && !connection_refused(error)
}

fn connection_refused(error: &(dyn Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        next = error.source();
    }
    false
}

/// Whether an answer with `status` and error `code` leaves the request's effect unknown: a 5xx
/// that is not a throttle (the service may have applied it before failing).
pub(crate) fn status_is_ambiguous(status: u16, code: Option<&str>) -> bool {
    (500..600).contains(&status) && !code.is_some_and(is_throttle)
}

/// Whether an attempt's failure leaves its effect unknown.
fn attempt_is_ambiguous(
    error: &OrchestratorError<impl Error>,
    response: Option<&HttpResponse>,
) -> bool {
    if error.is_timeout_error() || error.is_response_error() {
        true
    } else if let Some(connector) = error.as_connector_error() {
        connector_failure_is_ambiguous(connector)
    } else if error.is_operation_error() {
        response.is_some_and(|r| {
            status_is_ambiguous(r.status().as_u16(), ServiceAnswer::of(r).code.as_deref())
        })
    } else {
        false
    }
}

/// Keeps the SDK from sending again a create whose first send may have taken effect.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateGuard;

impl Intercept for CreateGuard {
    fn name(&self) -> &'static str {
        "brickstack-create-guard"
    }

    // Runs after each attempt and before the retry strategy decides, with the operation's name in
    // the config bag: lowering `max_attempts` to one ends the retry loop with this attempt's error.
    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let guarded = cfg
            .load::<Metadata>()
            .is_some_and(|m| not_resent(m.service(), m.name()));
        let ambiguous = match context.output_or_error() {
            Some(Err(error)) => attempt_is_ambiguous(error, context.response()),
            _ => false,
        };
        if guarded && ambiguous {
            let stop = cfg
                .load::<RetryConfig>()
                .cloned()
                .unwrap_or_else(RetryConfig::disabled)
                .with_max_attempts(1);
            cfg.interceptor_state().store_put(stop);
        }
        Ok(())
    }
}

/// Retries the answers brickstack classifies retryable and the SDK does not know
/// (`DependencyViolation`, `EntityTemporarilyUnmodifiable`, `ConcurrentModification`, a policy
/// naming a principal IAM has not propagated yet, ...). Runs after the SDK's own classifiers and
/// only adds retries; it never removes one.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryableCodes;

impl ClassifyRetry for RetryableCodes {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        self.classify_retry_v2(ctx, &RetryAction::NoActionIndicated)
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        if *previous != RetryAction::NoActionIndicated {
            return RetryAction::NoActionIndicated;
        }
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(response) = ctx.response().filter(|_| error.is_operation_error()) else {
            return RetryAction::NoActionIndicated;
        };
        let answer = ServiceAnswer::of(response);
        let code = answer.code.as_deref();
        let status = response.status().as_u16();
        let retryable = match classify_code(code, Some(status)) {
            ErrorClass::Retryable { .. } => true,
            // A policy naming a role IAM has just created, as `classify` decides it.
            ErrorClass::InvalidInput => names_unknown_principal(answer.message.as_deref()),
            _ => false,
        };
        match (retryable, code) {
            (false, _) => RetryAction::NoActionIndicated,
            (true, Some(code)) if is_throttle(code) => RetryAction::throttling_error(),
            (true, _) if status >= 500 => RetryAction::server_error(),
            (true, _) => RetryAction::retryable_error(ErrorKind::ClientError),
        }
    }

    fn name(&self) -> &'static str {
        "brickstack retryable codes"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The error code and message of a service's error answer, read from the raw response whatever
/// the protocol: the `x-amzn-ErrorType` header or `__type` of the JSON protocols (KMS, DynamoDB,
/// SSM), `<Code>` and `<Message>` of the XML ones (EC2, IAM, STS, S3).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceAnswer {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl ServiceAnswer {
    pub(crate) fn of(response: &HttpResponse) -> Self {
        let header = response.headers().get("x-amzn-errortype");
        let body = response.body().bytes().unwrap_or_default();
        Self::parse(header, body)
    }

    pub(crate) fn parse(header: Option<&str>, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let text = text.trim_start();
        let mut answer = if text.starts_with('{') {
            let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            let field = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| json.get(*n).and_then(|v| v.as_str()))
                    .map(str::to_string)
            };
            ServiceAnswer {
                code: field(&["__type", "code", "Code"]),
                message: field(&["message", "Message"]),
            }
        } else {
            let element = |name: &str| {
                let open = format!("<{name}>");
                let start = text.find(&open)? + open.len();
                let end = text[start..].find(&format!("</{name}>"))? + start;
                Some(text[start..end].trim().to_string())
            };
            ServiceAnswer {
                code: element("Code"),
                message: element("Message"),
            }
        };
        if let Some(header) = header.filter(|h| !h.is_empty()) {
            answer.code = Some(header.to_string());
        }
        // `aws.protocols#ThrottlingException:http://...` → `ThrottlingException`.
        answer.code = answer.code.map(|code| {
            let code = code.split(':').next().unwrap_or_default();
            code.rsplit('#').next().unwrap_or_default().to_string()
        });
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_gives_standard_retries_bounded_by_the_budget() {
        let policy = RetryPolicy::default();
        let config = retry_config(&policy);
        assert_eq!(config.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(config.initial_backoff(), Duration::from_secs(1));
        assert_eq!(config.max_backoff(), Duration::from_secs(10));
        // 1 + 2 + 4 + 8 s, then 28 waits of 10 s: 295 s of the 300 s budget.
        assert_eq!(config.max_attempts(), 33);
        let timeouts = timeout_config(&policy, Duration::from_secs(5), Duration::from_secs(30));
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(330)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn no_budget_means_no_retries() {
        assert_eq!(retry_config(&RetryPolicy::none()).max_attempts(), 1);
        let huge = RetryPolicy {
            budget: Duration::MAX,
            ..RetryPolicy::default()
        };
        assert_eq!(retry_config(&huge).max_attempts(), MAX_ATTEMPTS);
    }

    #[test]
    fn codes_are_read_from_every_protocol() {
        let check = |header: Option<&str>, body: &str, code: &str, message: Option<&str>| {
            let answer = ServiceAnswer::parse(header, body.as_bytes());
            assert_eq!(answer.code.as_deref(), Some(code), "{body}");
            assert_eq!(answer.message.as_deref(), message, "{body}");
        };
        check(
            None,
            "<Response><Errors><Error><Code>DependencyViolation</Code><Message>in use</Message></Error></Errors></Response>",
            "DependencyViolation",
            Some("in use"),
        );
        check(
            None,
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
            "Throttling",
            Some("Rate exceeded"),
        );
        check(
            None,
            r#"{"__type":"com.amazonaws.kms#KMSInternalException","message":"oops"}"#,
            "KMSInternalException",
            Some("oops"),
        );
        check(
            Some(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
            ),
            r#"{"message":"slow down"}"#,
            "ThrottlingException",
            Some("slow down"),
        );
        assert_eq!(ServiceAnswer::parse(None, b""), ServiceAnswer::default());
    }

    #[test]
    fn only_operations_whose_resend_would_duplicate_or_mislead_are_guarded() {
        for (service, operation) in [
            ("EC2", "CreateVpc"),
            ("EC2", "AllocateAddress"),
            ("KMS", "CreateKey"),
            ("IAM", "CreateRole"),
        ] {
            assert!(not_resent(service, operation), "{operation}");
        }
        for (service, operation) in [
            ("EC2", "DescribeVpcs"),
            ("EC2", "CreateNatGateway"),
            ("EC2", "CreateTags"),
            ("S3", "PutObject"),
            ("DynamoDB", "PutItem"),
            ("SSM", "PutParameter"),
        ] {
            assert!(!not_resent(service, operation), "{operation}");
        }
    }

    #[test]
    fn a_5xx_is_ambiguous_unless_it_is_a_throttle() {
        assert!(status_is_ambiguous(500, Some("InternalError")));
        assert!(status_is_ambiguous(503, None));
        assert!(status_is_ambiguous(503, Some("ServiceUnavailable")));
        assert!(!status_is_ambiguous(503, Some("SlowDown")));
        assert!(!status_is_ambiguous(400, Some("RequestLimitExceeded")));
        assert!(!status_is_ambiguous(429, None));
        assert!(!status_is_ambiguous(400, Some("InvalidParameterValue")));
    }
}
