//! Renderings of a graph for people (text), for Graphviz (dot), and for tools (json).
//!
//! All three are sorted by address so output is stable across runs and diffs well.

use std::fmt::Write as _;

use serde::Serialize;

use crate::graph::ResourceGraph;

/// One line per resource with its direct dependencies; with `attributes`, its desired attributes too.
pub fn text(graph: &ResourceGraph, attributes: bool) -> String {
    let mut out = String::new();
    for resource in graph.resources() {
        let _ = writeln!(out, "{}", resource.address);
        if attributes {
            for (name, value) in &resource.attributes {
                let _ = writeln!(out, "    {name} = {value}");
            }
        }
        for dependency in graph.dependencies(&resource.address) {
            let _ = writeln!(out, "    <- {dependency}");
        }
    }
    let _ = writeln!(out, "{} resources", graph.len());
    out
}

pub fn dot(graph: &ResourceGraph) -> String {
    let mut out =
        String::from("digraph brickstack {\n  rankdir = \"LR\";\n  node [shape = \"box\"];\n");
    for resource in graph.resources() {
        let _ = writeln!(out, "  \"{}\";", resource.address);
    }
    for resource in graph.resources() {
        for dependency in graph.dependencies(&resource.address) {
            let _ = writeln!(out, "  \"{dependency}\" -> \"{}\";", resource.address);
        }
    }
    out.push_str("}\n");
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    resources: Vec<JsonResource<'a>>,
}

#[derive(Serialize)]
struct JsonResource<'a> {
    address: String,
    kind: &'a str,
    depends_on: Vec<String>,
}

/// `{"resources":[{"address":…, "kind":…, "depends_on":[…]}, …]}`, sorted by address.
pub fn json(graph: &ResourceGraph) -> String {
    let doc = JsonGraph {
        resources: graph
            .resources()
            .map(|r| JsonResource {
                address: r.address.to_string(),
                kind: r.kind(),
                depends_on: graph
                    .dependencies(&r.address)
                    .into_iter()
                    .map(ToString::to_string)
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("a graph serialises");
    text.push('\n');
    text
}
