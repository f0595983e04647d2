//! Every spec in `tests/specs/invalid/` is rejected by the built binary: exit code 2, a located
//! message, no panic, and exactly the diagnostics in its snapshot.
//!
//! Add a case by dropping a `.toml` file in that directory and running
//! `INSTA_UPDATE=always cargo test -p brickstack-cli --test invalid_specs`; then read the new
//! `.snap` file before committing it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Guards against a moved or emptied corpus passing vacuously.
const MIN_CASES: usize = 30;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// The corpus, sorted so failures and snapshot runs are in a stable order.
fn cases(root: &Path) -> Vec<String> {
    let dir = root.join("tests/specs/invalid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

/// Whether `stderr` has a `<path>:<line>:<col>` location with positive numbers.
fn has_location(stderr: &str, path: &str) -> bool {
    stderr.match_indices(&format!("{path}:")).any(|(i, m)| {
        let rest = &stderr[i + m.len()..];
        let mut parts = rest.splitn(3, ':');
        let is_number = |s: Option<&str>| {
            s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s != "0")
        };
        is_number(parts.next()) && is_number(parts.next())
    })
}

#[test]
fn every_invalid_spec_exits_2_with_located_diagnostics() {
    let root = repo_root();
    let names = cases(&root);
    assert!(
        names.len() >= MIN_CASES,
        "expected at least {MIN_CASES} invalid specs in tests/specs/invalid, found {}",
        names.len()
    );
    for name in &names {
        let path = format!("tests/specs/invalid/{name}");
        let output = Command::new(env!("CARGO_BIN_EXE_brickstack"))
            .args(["validate", "--file", &path])
            .current_dir(&root)
            .env("NO_COLOR", "1")
            .output()
            .expect("the brickstack binary runs");
        let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
        let stdout = String::from_utf8_lossy(&output.stdout);

        assert!(!stderr.contains("panicked"), "{path} panicked:\n{stderr}");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{path} must be rejected with exit code 2\nstderr:\n{stderr}"
        );
        assert!(
            stdout.is_empty(),
            "{path}: nothing belongs on stdout, got:\n{stdout}"
        );
        assert!(
            has_location(&stderr, &path),
            "{path}: no `{path}:<line>:<col>` in stderr:\n{stderr}"
        );

        let stem = name.trim_end_matches(".toml");
        insta::with_settings!({
            snapshot_path => root.join("tests/specs/invalid/snapshots"),
            prepend_module_to_snapshot => false,
            description => format!("brickstack validate --file {path}"),
        }, {
            insta::assert_snapshot!(stem, stderr);
        });
    }
}

#[test]
fn location_check_rejects_a_message_without_line_and_column() {
    let path = "tests/specs/invalid/empty.toml";
    assert!(has_location(&format!("{path}:1:1: oops"), path));
    assert!(!has_location(&format!("error: no spec at `{path}`"), path));
    assert!(!has_location(&format!("{path}:0:1: oops"), path));
}
