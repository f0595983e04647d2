//! Pass 1: resources from the spec.

use brickstack_spec::Spec;

use crate::components;
use crate::error::GraphError;
use crate::inputs::RunInputs;
use crate::resource::Resources;

/// Every resource of the main graph, the people of the run given their single-user clusters.
pub fn from_spec(spec: &Spec, inputs: &RunInputs) -> Result<Resources, GraphError> {
    let mut out = Resources::default();
    components::network::emit(spec, &mut out);
    components::kms::emit(spec, &mut out);
    components::buckets::emit(spec, &mut out);
    components::iam::emit(spec, &mut out);
    components::databricks::emit(spec, &mut out);
    components::unity_catalog::emit(spec, &mut out);
    components::access::emit(spec, inputs, &mut out)?;
    Ok(out)
}

/// Every resource of the bootstrap graph.
pub fn bootstrap_from_spec(spec: &Spec) -> Resources {
    let mut out = Resources::default();
    components::bootstrap::emit(spec, &mut out);
    out
}
