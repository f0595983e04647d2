//! Pass 3: reference edges. Each reference to another resource's attribute, and each explicit
//! dependency, becomes an edge from the dependency to the dependent.

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
    for (from, to) in edges {
        graph.graph.update_edge(from, to, ());
    }
    Ok(graph)
}
