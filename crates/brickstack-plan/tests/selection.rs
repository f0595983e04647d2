//! `--target` and `--exclude`: a desired address takes what it depends on; an address only the
//! state has (one the run deletes, as everything in `destroy`) takes what depends on it, and
//! excluding it keeps what it depends on but not what depends on it; a selection that ends up empty is an error, never
//! "everything".

use brickstack_graph::{Address, ResourceGraph, Resources, map, reference};
use brickstack_plan::{Selection, SelectionError};
use brickstack_state::{RecordedResource, State};

fn spec() -> brickstack_spec::Spec {
    brickstack_spec::parse(
        "t.toml",
        "[environment]\nname = \"test\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap()
}

/// A network: a VPC, two subnets in it, a route table in it, an association of subnet `a`
/// with the route table. `(dependent, dependency)` by address.
const NETWORK: &[(&str, &[&str])] = &[
    ("test_vpc.main", &[]),
    ("test_subnet.a", &["test_vpc.main"]),
    ("test_subnet.b", &["test_vpc.main"]),
    ("test_route_table.main", &["test_vpc.main"]),
    (
        "test_association.a",
        &["test_subnet.a", "test_route_table.main"],
    ),
];

/// The network as desired (a graph).
fn desired() -> ResourceGraph {
    let mut resources = Resources::default();
    for (address, dependencies) in NETWORK {
        let (kind, name) = address.split_once('.').unwrap();
        let mut attributes = map! { "name" => name };
        if let brickstack_graph::Value::Map(m) = &mut attributes {
            for (i, dependency) in dependencies.iter().enumerate() {
                let (dkind, dname) = dependency.split_once('.').unwrap();
                m.insert(
                    format!("ref{i}"),
                    reference(&Address::new(dkind, dname), "id"),
                );
            }
        }
        resources.add(kind, name, attributes);
    }
    brickstack_graph::build(&spec(), resources).unwrap()
}

/// The network as recorded (a state).
fn recorded() -> State {
    let mut state = State::new("test", "lineage");
    for (address, dependencies) in NETWORK {
        state.resources.insert(
            address.to_string(),
            RecordedResource {
                kind: address.split_once('.').unwrap().0.into(),
                object_id: format!("id-{address}"),
                attributes: Default::default(),
                dependencies: dependencies.iter().map(ToString::to_string).collect(),
                status: Default::default(),
                removal_grace_seconds: None,
                retiring_since: None,
            },
        );
    }
    state
}

fn strings(addresses: &[&str]) -> Vec<String> {
    addresses.iter().map(ToString::to_string).collect()
}

/// The sorted addresses `Selection::new` picks, or its error.
fn select(
    graph: &ResourceGraph,
    state: &State,
    targets: &[&str],
    excludes: &[&str],
) -> Result<Vec<String>, SelectionError> {
    match Selection::new(graph, state, &strings(targets), &strings(excludes))? {
        Selection::All => Ok(vec!["(all)".into()]),
        Selection::Only(set) => Ok(set.into_iter().collect()),
    }
}

struct Case {
    name: &'static str,
    /// Against the desired network (an apply), or the empty graph (a destroy).
    destroy: bool,
    targets: &'static [&'static str],
    excludes: &'static [&'static str],
    selected: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "nothing asked: everything",
        destroy: false,
        targets: &[],
        excludes: &[],
        selected: &["(all)"],
    },
    Case {
        name: "apply: a target takes what it depends on",
        destroy: false,
        targets: &["test_association.a"],
        excludes: &[],
        selected: &[
            "test_association.a",
            "test_route_table.main",
            "test_subnet.a",
            "test_vpc.main",
        ],
    },
    Case {
        name: "apply: an exclude drops what depends on it",
        destroy: false,
        targets: &[],
        excludes: &["test_subnet.a"],
        selected: &["test_route_table.main", "test_subnet.b", "test_vpc.main"],
    },
    Case {
        name: "destroy: a target takes what depends on it, not what it depends on",
        destroy: true,
        targets: &["test_subnet.a"],
        excludes: &[],
        selected: &["test_association.a", "test_subnet.a"],
    },
    Case {
        name: "destroy: destroying the VPC takes everything in it",
        destroy: true,
        targets: &["test_vpc.main"],
        excludes: &[],
        selected: &[
            "test_association.a",
            "test_route_table.main",
            "test_subnet.a",
            "test_subnet.b",
            "test_vpc.main",
        ],
    },
    Case {
        name: "destroy: a kept subnet keeps its VPC; what depends on the subnet may go",
        destroy: true,
        targets: &[],
        excludes: &["test_subnet.a"],
        selected: &[
            "test_association.a",
            "test_route_table.main",
            "test_subnet.b",
        ],
    },
    Case {
        name: "destroy: a target minus an exclude",
        destroy: true,
        targets: &["test_vpc.main"],
        excludes: &["test_association.a"],
        selected: &["test_subnet.b"],
    },
];

#[test]
fn targets_and_excludes_follow_the_direction_of_each_action() {
    let state = recorded();
    for case in CASES {
        let graph = if case.destroy {
            ResourceGraph::default()
        } else {
            desired()
        };
        assert_eq!(
            select(&graph, &state, case.targets, case.excludes).unwrap(),
            strings(case.selected),
            "{}",
            case.name
        );
    }
}

#[test]
fn a_selection_that_leaves_nothing_is_refused_not_read_as_everything() {
    let state = recorded();
    let graph = desired();
    for (destroy, targets, excludes) in [
        (false, &[][..], &["test_vpc.main"][..]),
        (false, &["test_subnet.a"][..], &["test_vpc.main"][..]),
        (true, &[][..], &["test_association.a", "test_subnet.b"][..]),
        (true, &["test_subnet.a"][..], &["test_association.a"][..]),
    ] {
        let graph = if destroy {
            ResourceGraph::default()
        } else {
            graph.clone()
        };
        let error = select(&graph, &state, targets, excludes).unwrap_err();
        assert_eq!(
            error,
            SelectionError::Empty {
                targets: strings(targets),
                excludes: strings(excludes),
            }
        );
    }
    insta::assert_snapshot!(
        [
            SelectionError::Empty {
                targets: vec![],
                excludes: strings(&["test_vpc.main"]),
            },
            SelectionError::Empty {
                targets: strings(&["test_subnet.a"]),
                excludes: strings(&["test_vpc.main", "test_route_table.main"]),
            },
        ]
        .iter()
        .map(|e| format!("error: {e}\n  hint: {}", e.hint()))
        .collect::<Vec<_>>()
        .join("\n")
    );
}
