//! The resource graph: petgraph nodes are resources, an edge runs from a dependency to its dependent.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::address::Address;
use crate::resource::Resource;

/// Resources and the dependencies between them. Built only by [`crate::generate`] and
/// [`crate::bootstrap`], so every edge target exists and there is no cycle.
#[derive(Debug, Clone, Default)]
pub struct ResourceGraph {
    pub(crate) graph: DiGraph<Resource, ()>,
    pub(crate) index: BTreeMap<Address, NodeIndex>,
}

impl ResourceGraph {
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn get(&self, address: &Address) -> Option<&Resource> {
        self.index.get(address).map(|&i| &self.graph[i])
    }

    /// Every resource, sorted by address.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.index.values().map(|&i| &self.graph[i])
    }

    /// The addresses a resource depends on directly, sorted.
    pub fn dependencies(&self, address: &Address) -> BTreeSet<&Address> {
        self.neighbours(address, Direction::Incoming)
    }

    /// The addresses that depend directly on a resource, sorted.
    pub fn dependents(&self, address: &Address) -> BTreeSet<&Address> {
        self.neighbours(address, Direction::Outgoing)
    }

    fn neighbours(&self, address: &Address, direction: Direction) -> BTreeSet<&Address> {
        self.index
            .get(address)
            .map(|&i| {
                self.graph
                    .neighbors_directed(i, direction)
                    .map(|n| &self.graph[n].address)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Resources in an order where each comes after its dependencies; ties broken by address, so
    /// the order is stable across runs.
    pub fn creation_order(&self) -> Vec<&Resource> {
        let mut remaining: BTreeMap<&Address, usize> = self
            .index
            .iter()
            .map(|(a, &i)| {
                (
                    a,
                    self.graph
                        .neighbors_directed(i, Direction::Incoming)
                        .count(),
                )
            })
            .collect();
        let mut ready: BTreeSet<&Address> = remaining
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(a, _)| *a)
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(next) = ready.pop_first() {
            remaining.remove(next);
            let i = self.index[next];
            order.push(&self.graph[i]);
            for dependent in self.graph.neighbors_directed(i, Direction::Outgoing) {
                let address = &self.graph[dependent].address;
                if let Some(n) = remaining.get_mut(address) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(address);
                    }
                }
            }
        }
        order
    }

    /// Each kind with how many resources of it the graph holds.
    pub fn kind_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for r in self.resources() {
            *counts.entry(r.kind()).or_default() += 1;
        }
        counts
    }
}
