//! Pass 4: cycle check. A cycle would deadlock the executor; reject it naming its members in order.

use std::collections::{BTreeSet, HashMap, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::NodeIndex;

use crate::error::GraphError;
use crate::graph::ResourceGraph;

pub fn check(graph: &ResourceGraph) -> Result<(), GraphError> {
    for component in tarjan_scc(&graph.graph) {
        let is_cycle = component.len() > 1
            || component
                .first()
                .is_some_and(|&n| graph.graph.find_edge(n, n).is_some());
        if is_cycle {
            return Err(GraphError::Cycle {
                cycle: shortest_cycle(graph, &component),
            });
        }
    }
    Ok(())
}

/// The shortest cycle through the component's smallest address, in dependency order.
fn shortest_cycle(graph: &ResourceGraph, component: &[NodeIndex]) -> Vec<crate::Address> {
    let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
    let start = *component
        .iter()
        .min_by_key(|&&n| &graph.graph[n].address)
        .expect("a cycle has members");
    let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    'search: while let Some(node) = queue.pop_front() {
        for next in graph.graph.neighbors(node) {
            if !members.contains(&next) || parent.contains_key(&next) {
                continue;
            }
            parent.insert(next, node);
            if next == start {
                break 'search;
            }
            queue.push_back(next);
        }
    }
    let mut path = vec![start];
    let mut node = parent[&start];
    while node != start {
        path.push(node);
        node = parent[&node];
    }
    path.push(start);
    path.reverse();
    path.into_iter()
        .map(|n| graph.graph[n].address.clone())
        .collect()
}
