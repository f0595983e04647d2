//! Waiting for a cluster to reach a state (`RUNNING`, `TERMINATED`, settled), and how a wait
//! that ends otherwise is reported and classified.

use std::time::Duration;

use brickstack_provider::{ErrorClass, ProviderError};

use super::{ClusterDetails, ClusterState, TerminationReason, TerminationType};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

/// A wait for a cluster's state ended without reaching it.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(transparent)]
    Api(#[from] Error),
    /// The cluster stopped (`TERMINATED`, `ERROR`) instead of reaching the wanted state.
    #[error("{}", describe_failure(cluster_id, state, state_message, reason.as_ref()))]
    Failed {
        cluster_id: String,
        state: ClusterState,
        state_message: String,
        reason: Option<TerminationReason>,
    },
    /// The cluster no longer exists.
    #[error("cluster `{cluster_id}` disappeared while waiting for it to become {wanted}")]
    Gone {
        cluster_id: String,
        wanted: ClusterState,
    },
    #[error(
        "cluster `{cluster_id}` is still {state} after {} s; it was to become {wanted}",
        waited.as_secs()
    )]
    Timeout {
        cluster_id: String,
        state: ClusterState,
        wanted: ClusterState,
        waited: Duration,
    },
}

fn describe_failure(
    cluster_id: &str,
    state: &ClusterState,
    state_message: &str,
    reason: Option<&TerminationReason>,
) -> String {
    let mut text = format!("cluster `{cluster_id}` is {state}");
    match reason {
        Some(reason) => text.push_str(&format!(": {reason}")),
        None => text.push_str(" (no termination reason given)"),
    }
    if !state_message.is_empty() {
        text.push_str(&format!(": {state_message}"));
    }
    text
}

impl WaitError {
    /// The termination reason, when the cluster stopped with one.
    pub fn termination_reason(&self) -> Option<&TerminationReason> {
        match self {
            WaitError::Failed { reason, .. } => reason.as_ref(),
            _ => None,
        }
    }
}

impl From<WaitError> for ProviderError {
    /// A cluster that stopped is classified by its termination type: `CLIENT_ERROR` (the spec
    /// must change) is invalid input; `CLOUD_FAILURE` and `SERVICE_FAULT` may pass, so they are
    /// retryable; `SUCCESS` means someone or something stopped it on purpose, a conflict. The
    /// code is the termination code.
    fn from(e: WaitError) -> Self {
        let message = e.to_string();
        match e {
            WaitError::Api(e) => e.into(),
            WaitError::Failed { state, reason, .. } => {
                let class = match reason.as_ref().and_then(|r| r.kind.as_ref()) {
                    Some(TerminationType::ClientError) => ErrorClass::InvalidInput,
                    Some(TerminationType::CloudFailure | TerminationType::ServiceFault) => {
                        ErrorClass::Retryable { after: None }
                    }
                    Some(TerminationType::Success) => ErrorClass::Conflict,
                    Some(TerminationType::Other(_)) | None => ErrorClass::Fatal,
                };
                let code = match reason.and_then(|r| r.code) {
                    Some(code) => code.to_string(),
                    None => format!("CLUSTER_{state}"),
                };
                ProviderError::new(class, code, message)
            }
            WaitError::Gone { .. } => {
                ProviderError::new(ErrorClass::NotFound, "RESOURCE_DOES_NOT_EXIST", message)
            }
            WaitError::Timeout { .. } => ProviderError::new(
                ErrorClass::Retryable { after: None },
                "WaitTimeout",
                message,
            ),
        }
    }
}

/// Polls back off by this much more each time...
const POLL_STEP: Duration = Duration::from_secs(1);
/// ...up to this (the SDKs' cluster waiters).
const POLL_MAX: Duration = Duration::from_secs(10);

/// What one poll of a wait decided.
enum Poll {
    Done,
    Failed,
    Continue,
}

impl WorkspaceClient {
    /// Waits until the cluster is `RUNNING` and returns it; fails when it stops instead
    /// (`TERMINATED` or `ERROR`: the error names the termination reason's code and type and the
    /// state message), disappears, or is not running after `timeout`. Polls every 1 s × attempt,
    /// at most every 10 s.
    pub async fn wait_running(
        &self,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<ClusterDetails, WaitError> {
        self.wait_for(cluster_id, ClusterState::Running, timeout, |s| match s {
            ClusterState::Running => Poll::Done,
            ClusterState::Terminated | ClusterState::Error => Poll::Failed,
            _ => Poll::Continue,
        })
        .await
    }

    /// Waits until the cluster is `TERMINATED`; fails on `ERROR`.
    pub async fn wait_terminated(
        &self,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<ClusterDetails, WaitError> {
        self.wait_for(cluster_id, ClusterState::Terminated, timeout, |s| match s {
            ClusterState::Terminated => Poll::Done,
            ClusterState::Error => Poll::Failed,
            _ => Poll::Continue,
        })
        .await
    }

    /// Waits until no transition is under way (the state is neither `PENDING`, `RESTARTING`,
    /// `RESIZING` nor `TERMINATING`) and returns the cluster, whatever state it settled in.
    pub async fn wait_settled(
        &self,
        cluster_id: &str,
        timeout: Duration,
    ) -> Result<ClusterDetails, WaitError> {
        self.wait_for(cluster_id, ClusterState::Running, timeout, |s| {
            if s.is_transient() {
                Poll::Continue
            } else {
                Poll::Done
            }
        })
        .await
    }

    async fn wait_for(
        &self,
        cluster_id: &str,
        wanted: ClusterState,
        timeout: Duration,
        decide: impl Fn(&ClusterState) -> Poll,
    ) -> Result<ClusterDetails, WaitError> {
        let started = tokio::time::Instant::now();
        let deadline = started + timeout;
        let mut attempt: u32 = 0;
        loop {
            let Some(details) = self.get_cluster(cluster_id).await? else {
                return Err(WaitError::Gone {
                    cluster_id: cluster_id.to_string(),
                    wanted,
                });
            };
            match decide(&details.state) {
                Poll::Done => return Ok(details),
                Poll::Failed => {
                    return Err(WaitError::Failed {
                        cluster_id: cluster_id.to_string(),
                        state: details.state,
                        state_message: details.state_message,
                        reason: details.termination_reason,
                    });
                }
                Poll::Continue => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout {
                    cluster_id: cluster_id.to_string(),
                    state: details.state,
                    wanted,
                    waited: now - started,
                });
            }
            attempt += 1;
            tracing::debug!(cluster_id, state = %details.state, %wanted, attempt, "waiting for cluster");
            tokio::time::sleep(poll_delay(attempt, deadline - now)).await;
        }
    }
}

/// The pause before poll `attempt + 1`: 1 s × attempt, at most 10 s, never past the deadline.
fn poll_delay(attempt: u32, remaining: Duration) -> Duration {
    (POLL_STEP * attempt).min(POLL_MAX).min(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::clusters::*;

    #[test]
    fn a_stopped_cluster_is_classified_by_its_termination_type() {
        let failed = |code: &str, kind: Option<&str>| WaitError::Failed {
            cluster_id: "c".into(),
            state: ClusterState::Terminated,
            state_message: "m".into(),
            reason: Some(TerminationReason {
                code: Some(TerminationCode::from(code)),
                kind: kind.map(TerminationType::from),
                parameters: BTreeMap::new(),
            }),
        };
        let cases = [
            (
                failed("INVALID_ARGUMENT", Some("CLIENT_ERROR")),
                ErrorClass::InvalidInput,
            ),
            (
                failed(
                    "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
                    Some("CLOUD_FAILURE"),
                ),
                ErrorClass::Retryable { after: None },
            ),
            (
                failed("INTERNAL_ERROR", Some("SERVICE_FAULT")),
                ErrorClass::Retryable { after: None },
            ),
            (
                failed("USER_REQUEST", Some("SUCCESS")),
                ErrorClass::Conflict,
            ),
            (failed("NEW_CODE", None), ErrorClass::Fatal),
        ];
        for (error, class) in cases {
            let code = error.termination_reason().unwrap().code.clone().unwrap();
            let p = ProviderError::from(error);
            assert_eq!((p.class, p.code.as_str()), (class, code.as_str()));
        }
        let gone = ProviderError::from(WaitError::Gone {
            cluster_id: "c".into(),
            wanted: ClusterState::Running,
        });
        assert_eq!(gone.class, ErrorClass::NotFound);
    }

    #[test]
    fn polls_back_off_linearly_up_to_ten_seconds_and_stop_at_the_deadline() {
        let delays: Vec<u64> = (1..=12)
            .map(|a| poll_delay(a, Duration::from_secs(3600)).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10]);
        assert_eq!(
            poll_delay(5, Duration::from_millis(300)),
            Duration::from_millis(300)
        );
    }
}
