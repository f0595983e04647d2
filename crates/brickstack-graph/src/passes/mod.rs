//! The graph is built by small named passes in a fixed order (Terraform's transformers):
//!
//! 1. `resources`: the component emitters turn the spec into resources;
//! 2. `tags`: every taggable resource gets the environment's tags and brickstack's own;
//! 3. `reference_edges`: each reference or explicit dependency becomes an edge;
//! 4. `cycle_check`: a cycle is rejected with a diagnostic naming it.
//!
//! Later passes (recorded-only resources to delete, destroy edges) join when state exists.

pub mod cycle_check;
pub mod reference_edges;
pub mod resources;
pub mod tags;
