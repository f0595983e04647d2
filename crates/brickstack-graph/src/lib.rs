//! The generator: a validated spec compiled into the resource dependency graph of an environment.
//!
//! Pure: no I/O. Component emitters (`components`) produce resources named after their Terraform
//! types; named passes (`passes`) tag them, connect references into edges, and reject cycles.
//!
//! Entry points: [`generate`] (the spec alone), [`generate_with`] (the spec and what a run reads
//! when it starts: the people of `docs/access.md`, from groups and grants, each of whom gets the
//! six resources of a single-user cluster), [`bootstrap`] (the state backend's own graph).
//! [`components::access`] maps a person to their addresses and back; [`selections::person`]
//! is what `brickstack access grant` targets.

mod address;
pub mod components;
mod error;
mod graph;
mod inputs;
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
pub use inputs::{Person, PersonSource, RunInputs};
pub use resource::{Resource, Resources, reference};
pub use value::{ContextValue, Reference, Value, account_root};

use brickstack_spec::Spec;

/// The main graph of an environment: network, keys, buckets, IAM, Databricks, and a
/// single-user cluster for each of the spec's `users`.
pub fn generate(spec: &Spec) -> Result<ResourceGraph, GraphError> {
    generate_with(spec, &RunInputs::default())
}

/// [`generate`], with a single-user cluster also for each of `inputs.people` (group members and
/// grants, read when the run starts). Fails on a person whose e-mail cannot be a user name.
pub fn generate_with(spec: &Spec, inputs: &RunInputs) -> Result<ResourceGraph, GraphError> {
    build(spec, passes::resources::from_spec(spec, inputs)?)
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
