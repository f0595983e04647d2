//! The state document (what brickstack created and where), its write rules, and the `StateStore`
//! trait that the local and S3 backends implement.
//!
//! Pure: no I/O and no clock; callers pass the time. See `docs/state.md` for the format.

#![allow(
    clippy::result_large_err,
    reason = "`StateError` names the lock holder (a `LockInfo`); it is returned once per backend call, next to disk or network I/O"
)]

mod delta;
mod document;
mod lease;
mod lock;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use delta::{COMPACTION_FLOOR_BYTES, Delta, Edit, Replayed, Touched, compaction_due, replay};
pub use document::{
    AccessGrant, FORMAT_VERSION, ObjectLookup, PendingKind, PendingOperation, RecordedResource,
    ResourceStatus, State, check_write,
};
pub use lease::{Lease, LeaseStore};
pub use lock::{LockInfo, LockRequest};
pub use store::{StateError, StateStore};

#[cfg(test)]
mod docs_examples {
    //! The examples in `docs/state.md` are what this build writes, byte for byte.

    use super::*;

    fn json_blocks() -> Vec<&'static str> {
        include_str!("../../../docs/state.md")
            .split("```json\n")
            .skip(1)
            .map(|block| &block[..block.find("```").expect("closed block")])
            .collect()
    }

    #[test]
    fn the_documented_state_is_read_and_written_back_unchanged() {
        let example = json_blocks()[0];
        let state = State::from_json(example.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(state.to_json()).unwrap(), example);
    }

    #[test]
    fn the_documented_journal_record_is_one_that_replays_over_the_documented_state() {
        let doc = include_str!("../../../docs/state.md");
        let start = doc.find("```jsonl\n").expect("a jsonl block") + "```jsonl\n".len();
        let line = &doc[start..start + doc[start..].find("```").expect("closed block")];
        let delta = Delta::from_json(line.as_bytes()).unwrap();
        assert_eq!(delta.to_json_line(), line.as_bytes());
        let mut state = State::from_json(json_blocks()[0].as_bytes()).unwrap();
        delta.apply_to(&mut state).unwrap();
        assert!(state.pending.is_empty());
        assert_eq!(
            state.resources["aws_s3_bucket.raw"].object_id,
            "acme-dev-raw"
        );
    }

    #[test]
    fn the_documented_lock_is_read_and_written_back_unchanged() {
        let example = json_blocks()[1];
        let lock: LockInfo = serde_json::from_str(example).unwrap();
        assert_eq!(serde_json::to_string_pretty(&lock).unwrap() + "\n", example);
    }
}
