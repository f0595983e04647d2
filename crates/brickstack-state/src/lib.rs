//! The state document (what brickstack created and where), its write rules, and the `StateStore`
//! trait that the local and S3 backends implement.
//!
//! Pure: no I/O and no clock; callers pass the time. See `docs/state.md` for the format.

mod document;
mod lock;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use document::{
    FORMAT_VERSION, ObjectLookup, PendingKind, PendingOperation, RecordedResource, ResourceStatus,
    State, check_write,
};
pub use lock::{LockInfo, LockRequest};
pub use store::{StateError, StateStore};
