//! Leases on the state lock table: the election of one active `brickstack serve` replica
//! (docs/monitor.md, "Replicas"). A lease is not the state lock: holding it never stops a run, and
//! the state lock never stops a lease.

use std::future::Future;
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::StateError;

/// A lease as it stands: who holds it, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub expires_at: OffsetDateTime,
}

impl Lease {
    /// `holder` holds it at `now`.
    pub fn held_by(&self, holder: &str, now: OffsetDateTime) -> bool {
        self.holder == holder && self.expires_at > now
    }
}

/// Leases next to a backend's lock: a DynamoDB item beside the lock item, a file beside the local
/// lock file. Callers pass `now` (this crate reads no clock); replicas' clocks are assumed to
/// agree to well within a lease.
pub trait LeaseStore: Send + Sync {
    /// Takes lease `name` for `holder` until `now + ttl` when it is free, expired at `now`, or
    /// already `holder`'s (a renewal), in one atomic step. Returns the lease as it stands after the
    /// call: `holder`'s when taken, another's (unchanged) otherwise.
    fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Lease, StateError>> + Send;

    /// Gives lease `name` up if `holder` holds it; otherwise does nothing.
    fn release_lease(
        &self,
        name: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}
