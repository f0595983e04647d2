//! The executor: interprets a plan against a provider, with bounded concurrency, and keeps state
//! true at every instant: an intent is journaled before each create or delete, and state is
//! persisted after every completed operation.
//!
//! It never re-decides actions; the plan is the contract. See ARCHITECTURE.md for the invariants.

mod engine;
mod error;
mod import;
mod journal;
mod refresh;
mod walk;

pub use engine::{
    Desired, Engine, EngineError, GrantChange, LeaseLost, Refusal, Request, Runner, nothing,
};
pub use error::{ExecError, HeldData};
pub use import::{ImportError, ImportFailure, ImportReport, Imported, LeftOut, id_format};
pub use journal::{Settled, StateWriter, reconcile_pending};
pub use refresh::{RefreshMode, refresh, refresh_minimal};
pub use walk::{ApplyOptions, ApplyReport, Event, OUTCOME_UNKNOWN_ID, apply, refuse_unserved};
