//! The trait every state backend implements, and its errors.

use std::future::Future;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::delta::Delta;
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

    /// The stored state, or `None` before the first write. The handle remembers what it read:
    /// its next write is conditional on it.
    fn read(&self) -> impl Future<Output = Result<Option<State>, StateError>> + Send;

    /// Stores `state` under `lock`. Refuses, storing nothing: a lock that is not the current one
    /// ([`StateError::LockNotHeld`]); another lineage or a serial not above the stored one
    /// ([`check_write`](crate::check_write)); and a stored state other than the one this handle
    /// last read or wrote ([`StateError::WriteConflict`]), so nobody overwrites a state they have
    /// not seen, whatever its serial. A handle that has not read yet writes over what it finds.
    /// A handle's writes are made one after another.
    fn write(
        &self,
        lock: &LockInfo,
        state: &State,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Stores `state`, which is `delta` applied to the state this handle last read or wrote,
    /// under the same rules as [`StateStore::write`]. A journaling backend stores just the delta
    /// (a record appended with `delta.serial`; now and then a compaction writes `state` whole
    /// and drops the records it holds), so a write costs in proportion to what it changed. The
    /// default writes `state` whole.
    fn write_delta(
        &self,
        lock: &LockInfo,
        delta: &Delta,
        state: &State,
    ) -> impl Future<Output = Result<(), StateError>> + Send {
        let _ = delta;
        self.write(lock, state)
    }
}

/// Why a backend refused or failed; [`StateError::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    /// Another lock holds the state (see [`StateError::locked`]).
    #[error(
        "the state is locked by `{}` for `{}` since {} ({}s ago), lock id `{}`{}",
        holder.who,
        holder.operation,
        rfc3339(holder.created),
        age_seconds,
        holder.id,
        if *stale { format!("; its lease expired (no heartbeat for {silent_seconds}s, lease {}s), so its holder has most likely died", holder.lease_seconds) } else { String::new() }
    )]
    Locked {
        holder: LockInfo,
        /// Seconds since the holder took the lock.
        age_seconds: u64,
        /// Seconds since the holder's last heartbeat.
        silent_seconds: u64,
        /// The lease expired: the holder most likely died.
        stale: bool,
    },
    /// A heartbeat, unlock, force-unlock or write named a lock that is not the current one.
    #[error("lock `{id}` is not held (the current lock is {})", current.as_ref().map_or("none".to_string(), |c| format!("`{}` by `{}`", c.id, c.who)))]
    LockNotHeld {
        id: String,
        /// The actual holder, if any.
        current: Option<LockInfo>,
    },
    /// The write's lineage is not the stored one.
    #[error(
        "the stored state has lineage `{stored}`, not `{attempted}`: it is another environment's history"
    )]
    LineageMismatch { stored: String, attempted: String },
    /// The write's serial is not above the stored one.
    #[error(
        "the stored state is at serial {stored}; writing serial {attempted} would go back in time"
    )]
    StaleSerial { stored: u64, attempted: u64 },
    /// The stored state is not the one the writing handle last read or wrote.
    #[error("the state changed while it was being written: {detail}")]
    WriteConflict { detail: String },
    /// The stored document (or lock) does not parse.
    #[error("the state document is not valid: {detail}")]
    Corrupt { detail: String },
    /// The stored document has a format this build does not know.
    #[error("the state document has format {found}; this brickstack reads format {supported}")]
    UnsupportedFormat { found: u32, supported: u32 },
    /// The backend failed (I/O, network, the service's answer).
    #[error("{backend}: {detail}")]
    Backend {
        /// The state's location, e.g. `s3://bucket/key`.
        backend: String,
        /// The call that failed and its whole cause chain.
        detail: String,
        /// Whether trying again later may succeed (timeouts, throttling, 5xx).
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
            StateError::LockNotHeld { .. } => {
                "that id is not the current lock's: check it, or, if a run lost its lock, find out who ran `brickstack force-unlock`".into()
            }
            StateError::UnsupportedFormat { .. } => "upgrade brickstack".into(),
            _ => return None,
        })
    }
}

/// `2026-01-01T00:00:00Z`, for messages (`OffsetDateTime`'s `Display` is not a standard format).
fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}
