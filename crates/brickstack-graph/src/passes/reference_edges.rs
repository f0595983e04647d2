//! Pass 3: reference edges. Each reference to another resource's attribute, and each explicit
//! dependency, becomes an edge from the dependency to the dependent.

use std::collections::HashSet;

use crate::error::GraphError;
use crate::graph::ResourceGraph;
use crate::resource::Resources;

pub fn connect(resources: Resources) -> Result<ResourceGraph, GraphError> {
    let mut graph = ResourceGraph::default();
    for resource in resources.items {
        let address = resource.address.clone();
        if graph.index.contains_key(&address) {
            return Err(GraphError::DuplicateAddress { address });
        }
        let node = graph.graph.add_node(resource);
        graph.index.insert(address, node);
    }
    let mut edges = Vec::new();
    for (address, &node) in &graph.index {
        for dependency in graph.graph[node].dependencies() {
            let Some(&from) = graph.index.get(&dependency) else {
                return Err(GraphError::UndefinedReference {
                    from: address.clone(),
                    to: dependency,
                });
            };
            edges.push((from, node));
        }
    }
    // `update_edge` scans the source's edges each time: quadratic for the workspace, which
    // thousands of people's resources refer to. A set keeps each edge once, in first-seen order.
    let mut seen = HashSet::with_capacity(edges.len());
    for (from, to) in edges {
        if seen.insert((from, to)) {
            graph.graph.add_edge(from, to, ());
        }
    }
    Ok(graph)
}
