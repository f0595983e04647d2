//! Lock information, readable by people and compatible in spirit with Terraform's `LockInfo`, plus
//! a lease: a holder that stops renewing it is reported as stale with its age.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a caller asks to lock for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    /// Unique id of this lock, e.g. a UUID.
    pub id: String,
    /// `plan`, `apply`, `destroy`, `bootstrap`, `state rm`, ...
    pub operation: String,
    /// `user@host`.
    pub who: String,
    /// brickstack's version.
    pub version: String,
    pub now: OffsetDateTime,
    /// How long the lock stays valid without a heartbeat.
    pub lease_seconds: u64,
}

/// A lock as stored by a backend: what [`LockRequest`] asked for, where, and its lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LockInfo {
    /// The lock's id; `brickstack force-unlock` takes it.
    #[serde(rename = "ID")]
    pub id: String,
    pub operation: String,
    pub who: String,
    pub version: String,
    /// When the lock was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The state's location, e.g. `s3://bucket/key` or `state/dev.json`.
    pub path: String,
    /// Last renewal of the lease.
    #[serde(with = "time::serde::rfc3339")]
    pub heartbeat: OffsetDateTime,
    /// How long the lock stays valid after a heartbeat.
    pub lease_seconds: u64,
}

impl LockInfo {
    /// The lock `request` asks for on the state at `path`, taken and renewed at `request.now`.
    pub fn from_request(request: &LockRequest, path: impl Into<String>) -> Self {
        LockInfo {
            id: request.id.clone(),
            operation: request.operation.clone(),
            who: request.who.clone(),
            version: request.version.clone(),
            created: request.now,
            path: path.into(),
            heartbeat: request.now,
            lease_seconds: request.lease_seconds,
        }
    }

    /// Seconds since the lock was taken.
    pub fn age_seconds(&self, now: OffsetDateTime) -> u64 {
        (now - self.created).whole_seconds().max(0) as u64
    }

    /// Seconds since the holder last renewed the lease.
    pub fn silent_seconds(&self, now: OffsetDateTime) -> u64 {
        (now - self.heartbeat).whole_seconds().max(0) as u64
    }

    /// Whether the holder stopped renewing: its process most likely died.
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        self.silent_seconds(now) > self.lease_seconds
    }
}
