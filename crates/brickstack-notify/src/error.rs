//! What can go wrong posting a message, and how the engine classifies it. No variant holds the
//! webhook URL: errors name the SSM parameter it came from.

use brickstack_provider::{ErrorClass, ProviderError};

/// A message that was not posted (or may not have been).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the secret store has no parameter `{parameter}` (the Slack webhook URL)")]
    MissingParameter { parameter: String },
    #[error("reading the Slack webhook URL from `{parameter}` failed: {error}")]
    SecretStore {
        parameter: String,
        error: ProviderError,
    },
    #[error("the value of `{source_name}` is not a Slack webhook URL (`https://…`)")]
    InvalidUrl { source_name: String },
    #[error("building the HTTP client failed: {reason}")]
    Client { reason: String },
    /// The connection could not be made: nothing was posted.
    #[error(
        "the Slack webhook of `{source_name}` could not be reached ({attempts} attempts): {reason}"
    )]
    Unreachable {
        source_name: String,
        attempts: u32,
        reason: String,
    },
    /// No answer after the request may have left (a timeout, a dropped connection): the
    /// message may have been posted.
    #[error("no answer from the Slack webhook of `{source_name}`: {reason}")]
    Transport { source_name: String, reason: String },
    /// Slack answered an error status.
    #[error(
        "the Slack webhook of `{source_name}` answered HTTP {status}{}",
        body_suffix(body)
    )]
    Rejected {
        source_name: String,
        status: u16,
        /// The first line of Slack's answer (`invalid_payload`, `no_service`, …).
        body: String,
    },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl NotifyError {
    /// Whether the message may have reached the channel although the post failed: no answer
    /// after sending, or a 5xx. A post is never sent again after such an error.
    pub fn maybe_delivered(&self) -> bool {
        match self {
            NotifyError::Transport { .. } => true,
            NotifyError::Rejected { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The error's code, for `ProviderError::code`.
    fn code(&self) -> String {
        match self {
            NotifyError::MissingParameter { .. } => "ParameterNotFound".into(),
            NotifyError::SecretStore { error, .. } => error.code.clone(),
            NotifyError::InvalidUrl { .. } => "InvalidWebhookUrl".into(),
            NotifyError::Client { .. } => "CLIENT".into(),
            NotifyError::Unreachable { .. } => "UNREACHABLE".into(),
            NotifyError::Transport { .. } => "TRANSPORT".into(),
            NotifyError::Rejected { status, .. } => format!("HTTP_{status}"),
        }
    }
}

impl From<NotifyError> for ProviderError {
    /// A missing or wrong parameter, and a 4xx (a revoked webhook is `404 no_service`, a bad
    /// payload `400`), are invalid input with a hint; a `429` that outlasted the resends and an
    /// unreachable webhook are retryable (nothing was posted); the rest is fatal, marked
    /// `maybe_applied` when the message may have been posted.
    fn from(e: NotifyError) -> Self {
        let class = match &e {
            NotifyError::MissingParameter { .. } | NotifyError::InvalidUrl { .. } => {
                ErrorClass::InvalidInput
            }
            NotifyError::SecretStore { error, .. } => error.class,
            NotifyError::Rejected { status: 429, .. } | NotifyError::Unreachable { .. } => {
                ErrorClass::Retryable { after: None }
            }
            NotifyError::Rejected { status, .. } if (400..500).contains(status) => {
                ErrorClass::InvalidInput
            }
            _ => ErrorClass::Fatal,
        };
        let hint = match &e {
            NotifyError::MissingParameter { parameter }
            | NotifyError::InvalidUrl {
                source_name: parameter,
            } => Some(format!(
                "put the Slack incoming-webhook URL in `{parameter}` as an SSM SecureString"
            )),
            NotifyError::Rejected {
                status,
                source_name,
                ..
            } if (400..500).contains(status) && *status != 429 => Some(format!(
                "check that the webhook in `{source_name}` is still active in Slack (a removed one answers 404 `no_service`)"
            )),
            _ => None,
        };
        let mut error = ProviderError::new(class, e.code(), e.to_string());
        if e.maybe_delivered() {
            error = error.maybe_applied();
        }
        match hint {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}
