//! Errors from AWS calls, as one readable line each. The SDK's own `Display` says only "dispatch
//! failure" or "service error" and its `DisplayErrorContext` dumps nested structs, headers and
//! raw bytes: the line here takes the service's code and message (or, for a failure without an
//! answer, the innermost cause), and the whole cause chain goes to the log at `debug`.

use std::error::Error;

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

/// An AWS call failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The SDK returned an error: a service error (with its AWS error code) or a transport failure.
    #[error("{operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Sdk {
        operation: &'static str,
        /// The AWS error code, e.g. `InvalidVpcID.NotFound`; `None` for transport failures.
        code: Option<String>,
        /// One line: the service's message, or the innermost cause of a failure without an answer.
        message: String,
    },
    /// A successful response lacked a field the API documents.
    #[error("{operation} returned no `{field}`")]
    MissingField {
        operation: &'static str,
        field: &'static str,
    },
}

impl AwsError {
    /// Wraps an SDK error from `operation`.
    pub fn sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: Error + ProvideErrorMetadata + 'static,
    {
        log_detail(operation, &error);
        AwsError::Sdk {
            operation,
            code: error.code().map(str::to_string),
            message: one_line(&error),
        }
    }

    /// The AWS error code, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Sdk { code, .. } => code.as_deref(),
            AwsError::MissingField { .. } => None,
        }
    }
}

/// The SDK's account of `error` (every cause in its chain, the request id), for
/// `BRICKSTACK_LOG=debug` only. Not `DisplayErrorContext`: it ends with the error's `Debug`,
/// which holds the raw response, body included (an answer that failed to parse would print).
pub(crate) fn log_detail<E>(operation: &str, error: &SdkError<E, HttpResponse>)
where
    E: Error + ProvideErrorMetadata + 'static,
{
    let request_id = match error {
        SdkError::ServiceError(service) => service
            .raw()
            .headers()
            .get("x-amzn-requestid")
            .or_else(|| service.raw().headers().get("x-amz-request-id")),
        _ => None,
    };
    tracing::debug!(operation, request_id, error = %causes(error), "AWS call failed");
}

/// Every error of `error`'s source chain, outermost first, joined by `: `.
pub(crate) fn causes(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error;
    while let Some(source) = current.source() {
        text.push_str(": ");
        text.push_str(&source.to_string());
        current = source;
    }
    flatten(&text)
}

/// What went wrong, in one line without the code: the service's message for an answer, else
/// what kept an answer from arriving.
pub(crate) fn one_line<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: Error + ProvideErrorMetadata + 'static,
{
    let text = match error {
        SdkError::ServiceError(service) => match service.err().message() {
            Some(message) if !message.trim().is_empty() => message.to_string(),
            _ => format!("HTTP {} with no message", service.raw().status().as_u16()),
        },
        SdkError::TimeoutError(_) => format!("no answer in time: {}", innermost(error)),
        SdkError::DispatchFailure(_) => format!("no answer: {}", innermost(error)),
        SdkError::ResponseError(_) => format!("the answer could not be read: {}", innermost(error)),
        SdkError::ConstructionFailure(_) => {
            format!("the request could not be built: {}", innermost(error))
        }
        _ => innermost(error),
    };
    flatten(&text)
}

/// The last error of `error`'s source chain: the one that says what happened ("Connection
/// refused (os error 111)"), where the outer ones only say where ("dispatch failure").
fn innermost(error: &(dyn Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// `text` on one line, with runs of whitespace (a service's wrapped message) as one space.
fn flatten(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
