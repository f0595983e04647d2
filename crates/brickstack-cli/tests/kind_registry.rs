//! The kind registry (`brickstack_graph::kinds`) against the adapters' dispatch tables: every
//! kind the generator can emit is served by exactly one adapter, the one the registry names.
//! This crate is the one that sees both adapters.

use std::collections::BTreeSet;
use std::path::Path;

use brickstack_graph::kinds::{self, Family};

/// What each adapter serves, from its dispatch table.
fn served() -> [(Family, BTreeSet<&'static str>); 3] {
    [
        (
            Family::Aws,
            brickstack_aws::served_kinds().iter().copied().collect(),
        ),
        (
            Family::Databricks,
            brickstack_databricks::served_kinds()
                .iter()
                .copied()
                .collect(),
        ),
        (
            Family::Notify,
            brickstack_notify::served_kinds().iter().copied().collect(),
        ),
    ]
}

#[test]
fn every_registered_kind_is_served_by_exactly_one_adapter_of_its_family() {
    let served = served();
    let mut problems = Vec::new();
    for kind in kinds::REGISTRY {
        let by: Vec<Family> = served
            .iter()
            .filter(|(_, kinds)| kinds.contains(kind.name))
            .map(|(family, _)| *family)
            .collect();
        if by != [kind.family] {
            problems.push(format!(
                "`{}` is registered for {:?} but served by {by:?}",
                kind.name, kind.family
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_served_kind_is_registered() {
    let stray: Vec<_> = served()
        .into_iter()
        .flat_map(|(family, kinds)| kinds.into_iter().map(move |k| (family, k)))
        .filter(|(family, k)| kinds::kind(k).is_none_or(|r| r.family != *family))
        .collect();
    assert!(
        stray.is_empty(),
        "served but not registered for that family: {stray:?}"
    );
}

#[test]
fn every_kind_the_widest_spec_generates_is_served() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/every_option.toml");
    let text = std::fs::read_to_string(&path).expect("the every-option spec");
    let spec = brickstack_spec::parse(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let served: BTreeSet<&str> = served().into_iter().flat_map(|(_, k)| k).collect();
    let mut unserved = BTreeSet::new();
    for graph in [
        brickstack_graph::generate(&spec).expect("the main graph"),
        brickstack_graph::bootstrap(&spec).expect("the bootstrap graph"),
    ] {
        for kind in graph.kind_counts().keys() {
            if !served.contains(kind) {
                unserved.insert(kind.to_string());
            }
        }
    }
    assert!(
        unserved.is_empty(),
        "emitted but served by no adapter: {unserved:?}"
    );
}
