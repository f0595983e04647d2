//! With no AWS credentials anywhere, a run stops before its first call, with exit 2, saying
//! "no AWS credentials found", every source it looked in and how to set one; the SDK's own
//! warnings (instance metadata not answering) stay off stderr unless `BRICKSTACK_LOG=debug`.
//! Through the built binary with an empty environment: `HOME` an empty directory, no `AWS_*`.

use std::time::{Duration, Instant};

/// `brickstack plan` of the local environment with nothing in the environment but `PATH`,
/// `HOME` (empty) and `extra`.
fn plan_without_credentials(extra: &[(&str, &str)]) -> (std::process::Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments/local.toml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("env.toml"), spec).unwrap();
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_brickstack"))
        .args(["plan", "--file", "env.toml"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .envs(extra.iter().copied())
        .output()
        .unwrap();
    (output, started.elapsed())
}

#[test]
fn no_aws_credentials_stop_the_run_with_exit_2_naming_every_source_tried() {
    for level in [None, Some("info")] {
        let extra: Vec<(&str, &str)> = level.map(|l| ("BRICKSTACK_LOG", l)).into_iter().collect();
        let (output, took) = plan_without_credentials(&extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{level:?}: {stderr}");
        for expected in [
            "error: no AWS credentials found; tried",
            "`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`",
            "the profile `default` in `~/.aws/config` and `~/.aws/credentials`",
            "SSO",
            "web identity",
            "container credentials",
            "instance metadata",
            "hint: export `AWS_ACCESS_KEY_ID`",
            "`AWS_PROFILE`",
        ] {
            assert!(
                stderr.contains(expected),
                "{level:?}: no `{expected}` in:\n{stderr}"
            );
        }
        // One error and its hint; no SDK warning, no dispatch failure.
        assert_eq!(stderr.lines().count(), 2, "{level:?}:\n{stderr}");
        assert!(
            !stderr.contains("WARN") && !stderr.contains("DispatchFailure"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing planned");
        assert!(took < Duration::from_secs(30), "the check took {took:?}");
    }
}

#[test]
fn the_sdks_detail_on_missing_credentials_shows_at_debug() {
    let (output, _) = plan_without_credentials(&[("BRICKSTACK_LOG", "debug")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    assert!(
        stderr.lines().count() > 2 && stderr.contains("aws_config"),
        "the SDK's own account of the chain at debug:\n{stderr}"
    );
}
