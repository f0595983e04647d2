//! The generator: a validated spec compiled into the resource dependency graph of an environment.
//!
//! Pure: no I/O. Component emitters (`components`) produce resources named after their Terraform
//! types; named passes (`passes`) tag them, connect references into edges, and reject cycles.

mod address;
pub mod components;
mod error;
mod graph;
pub mod kinds;
pub mod passes;
pub mod render;
mod resource;
pub mod saving;
pub mod selections;
mod value;

pub use address::Address;
pub use error::GraphError;
pub use graph::ResourceGraph;
pub use resource::{Resource, Resources, reference};
pub use value::{ContextValue, Reference, Value, account_root};

use brickstack_spec::Spec;

/// The main graph of an environment: network, keys, buckets, IAM and Databricks.
pub fn generate(spec: &Spec) -> Result<ResourceGraph, GraphError> {
    build(spec, passes::resources::from_spec(spec))
}

/// The bootstrap graph: the state bucket, its key and alias, and the lock table.
pub fn bootstrap(spec: &Spec) -> Result<ResourceGraph, GraphError> {
    build(spec, passes::resources::bootstrap_from_spec(spec))
}

/// Runs the passes after the first over emitted resources.
pub fn build(spec: &Spec, mut resources: Resources) -> Result<ResourceGraph, GraphError> {
    passes::tags::apply(spec, &mut resources);
    let graph = passes::reference_edges::connect(resources)?;
    passes::cycle_check::check(&graph)?;
    Ok(graph)
}
