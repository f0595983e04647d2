//! The planner: the desired graph diffed against recorded state and what a refresh observed, into
//! a [`Plan`] — plain data the executor interprets and never re-decides.
//!
//! Pure: refresh happens before (the engine reads the cloud), rendering after (`render`).

mod diff;
mod plan;
pub mod render;
mod selection;

pub use diff::{PlanInput, RunMode, plan, plan_for, plan_observed};
pub use plan::{
    Action, Asleep, AttributeChange, Change, Drift, PLAN_FORMAT_VERSION, Plan, PlanError, Removal,
    ReplaceReason, Summary, graph_hash,
};
pub use selection::{Selection, SelectionError};
