//! The trait every state backend implements, and its errors.

use std::future::Future;

use time::OffsetDateTime;

use crate::document::State;
use crate::lock::{LockInfo, LockRequest};

/// Where state lives. Every method is one atomic step against the backend; the caller composes
/// them: lock, read, (write after every operation), unlock.
pub trait StateStore: Send + Sync {
    /// Where the state is, for messages: `state/dev.json`, `s3://bucket/key`.
    fn location(&self) -> String;

    /// Takes the lock, or fails with [`StateError::Locked`] naming the holder.
    fn lock(
        &self,
        request: &LockRequest,
    ) -> impl Future<Output = Result<LockInfo, StateError>> + Send;

    /// Renews the lease of a lock this caller holds.
    fn heartbeat(
        &self,
        lock: &LockInfo,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<LockInfo, StateError>> + Send;

    /// Releases a lock this caller holds.
    fn unlock(&self, lock: &LockInfo) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Removes whatever lock has this id, whoever holds it (`brickstack force-unlock`).
    fn force_unlock(&self, lock_id: &str) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The current lock, if any.
    fn current_lock(&self) -> impl Future<Output = Result<Option<LockInfo>, StateError>> + Send;

    /// The stored state, or `None` before the first write.
    fn read(&self) -> impl Future<Output = Result<Option<State>, StateError>> + Send;

    /// Stores `state` under `lock`, refusing another lineage, a serial not above the stored one,
    /// or a concurrent write (conditional on what was read).
    fn write(
        &self,
        lock: &LockInfo,
        state: &State,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    #[error(
        "the state is locked by `{}` for `{}` since {} ({}s ago), lock id `{}`{}",
        holder.who,
        holder.operation,
        holder.created,
        age_seconds,
        holder.id,
        if *stale { format!("; its lease expired {silent_seconds}s ago, so its holder has most likely died") } else { String::new() }
    )]
    Locked {
        holder: LockInfo,
        age_seconds: u64,
        silent_seconds: u64,
        stale: bool,
    },
    #[error("lock `{id}` is not held (the current lock is {})", current.as_ref().map_or("none".to_string(), |c| format!("`{}` by `{}`", c.id, c.who)))]
    LockNotHeld {
        id: String,
        current: Option<LockInfo>,
    },
    #[error(
        "the stored state has lineage `{stored}`, not `{attempted}`: it is another environment's history"
    )]
    LineageMismatch { stored: String, attempted: String },
    #[error(
        "the stored state is at serial {stored}; writing serial {attempted} would go back in time"
    )]
    StaleSerial { stored: u64, attempted: u64 },
    #[error("the state changed while it was being written: {detail}")]
    WriteConflict { detail: String },
    #[error("the state document is not valid: {detail}")]
    Corrupt { detail: String },
    #[error("the state document has format {found}; this brickstack reads format {supported}")]
    UnsupportedFormat { found: u32, supported: u32 },
    #[error("{backend}: {detail}")]
    Backend {
        backend: String,
        detail: String,
        retryable: bool,
    },
}

impl StateError {
    /// A `Locked` error for `holder` as seen at `now`.
    pub fn locked(holder: LockInfo, now: OffsetDateTime) -> StateError {
        StateError::Locked {
            age_seconds: holder.age_seconds(now),
            silent_seconds: holder.silent_seconds(now),
            stale: holder.is_stale(now),
            holder,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            StateError::Locked {
                holder,
                stale: true,
                ..
            } => format!(
                "if no brickstack run is still going, remove the lock with `brickstack force-unlock -e ENV {}`",
                holder.id
            ),
            StateError::Locked { .. } => {
                "wait for the other run to finish; its lease is still being renewed".into()
            }
            StateError::LineageMismatch { .. } => {
                "check the backend settings point at this environment's state".into()
            }
            StateError::StaleSerial { .. } | StateError::WriteConflict { .. } => {
                "another run wrote the state; run `brickstack plan` again".into()
            }
            StateError::UnsupportedFormat { .. } => "upgrade brickstack".into(),
            _ => return None,
        })
    }
}
