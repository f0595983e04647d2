//! Errors from AWS calls, with the SDK's full cause chain in the message.

use std::error::Error;

use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata};

/// An AWS call failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The SDK returned an error: a service error (with its AWS error code) or a transport failure.
    #[error("{operation} failed: {message}")]
    Sdk {
        operation: &'static str,
        /// The AWS error code, e.g. `InvalidVpcID.NotFound`; `None` for transport failures.
        code: Option<String>,
        /// The whole cause chain, as `DisplayErrorContext` prints it.
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
    /// Wraps an SDK error (any service's `SdkError<_, _>`) from `operation`.
    pub fn sdk<E>(operation: &'static str, error: E) -> Self
    where
        E: Error + ProvideErrorMetadata + 'static,
    {
        AwsError::Sdk {
            operation,
            code: error.code().map(str::to_string),
            message: DisplayErrorContext(&error).to_string(),
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
