//! The built binary, end to end: exit codes and the graph command's output.

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn brickstack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brickstack"))
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn every_environment_validates() {
    for env in ["reference", "dev", "prod", "local"] {
        let out = brickstack(&["validate", "-e", env]);
        assert!(
            out.status.success(),
            "{env}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn graph_json_lists_the_reference_inventory() {
    let out = brickstack(&["graph", "-e", "reference", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources = doc["resources"].as_array().unwrap();
    assert!(resources.len() >= 85, "only {} resources", resources.len());
    for r in resources {
        assert!(
            r["address"]
                .as_str()
                .unwrap()
                .starts_with(r["kind"].as_str().unwrap())
        );
        assert!(r["depends_on"].is_array());
    }
    let again = brickstack(&["graph", "-e", "reference", "--format", "json"]);
    assert_eq!(out.stdout, again.stdout, "graph JSON differs between runs");
}

#[test]
fn graph_dot_names_every_resource() {
    let out = brickstack(&["graph", "-e", "reference", "--format", "dot"]);
    assert!(out.status.success());
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph brickstack {"));
    assert!(dot.contains("\"aws_vpc.main\" -> \"aws_subnet.private-eu-west-1a\";"));
}

#[test]
fn a_missing_environment_is_invalid_input_with_a_hint() {
    let out = brickstack(&["validate", "-e", "no-such-env"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no spec at `environments/no-such-env.toml`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(brickstack(&["validate"]).status.code(), Some(2));
    assert_eq!(
        brickstack(&["graph", "-e", "reference", "--format", "svg"])
            .status
            .code(),
        Some(2)
    );
}
