//! Provider errors, classified once per adapter so the engine decides retries from the class,
//! never by matching message text.

use std::time::Duration;

/// What the engine may do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The object does not exist.
    NotFound,
    /// Worth retrying (throttling, eventual consistency), after this long if the API said.
    Retryable { after: Option<Duration> },
    /// The object exists or is in a state that forbids the operation.
    Conflict,
    /// The request was wrong; retrying will not help.
    InvalidInput,
    /// Anything else.
    Fatal,
}

/// An error from a provider call, naming the API's own error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    /// The API's error code, e.g. `InvalidVpcID.NotFound`, `RESOURCE_DOES_NOT_EXIST`.
    pub code: String,
    pub message: String,
    /// The request may have reached the service and taken effect although no answer said so (a
    /// timeout, a dropped connection, a 5xx after the request was sent). A create that fails this
    /// way is looked up (`Provider::find`) before it is ever sent again.
    pub maybe_applied: bool,
    /// What the user can do about it, where the adapter knows (a missing permission, a region
    /// mismatch); printed as the error's `hint:` line.
    pub hint: Option<String>,
}

impl ProviderError {
    pub fn new(class: ErrorClass, code: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            code: code.into(),
            message: message.into(),
            maybe_applied: false,
            hint: None,
        }
    }

    /// The same error, with what the user can do about it.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error, marked as one whose request may have taken effect.
    #[must_use]
    pub fn maybe_applied(mut self) -> Self {
        self.maybe_applied = true;
        self
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self.class, ErrorClass::Retryable { .. })
    }
}
