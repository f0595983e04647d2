//! `brickstack schedule` through the built binary: the output for a spec read with `--file`, and
//! the errors for an environment that has no schedule or names a zone the database lacks (each
//! test brings its own database in `TZDIR`). The rendering of each kind of schedule is
//! snapshot-tested in `src/schedule.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// A time zone database holding only the zones named, so the test does not depend on the host's.
fn zone_database(dir: &Path, zones: &[&str]) -> PathBuf {
    let db = dir.join("zoneinfo");
    for zone in zones {
        let file = db.join(zone);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, "TZif").unwrap();
    }
    db
}

fn brickstack(args: &[&str], cwd: &Path, tzdir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brickstack"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("TZDIR", tzdir)
        .output()
        .expect("the brickstack binary runs")
}

const SPEC: &str = r#"[environment]
name = "dev"

[databricks.account]
account_id = "0d26daa6-5e44-4c97-a497-ef015f91254a"

[sleep.schedule]
sleep_at = "19:00"
wake_at = "07:30"
time_zone = "Europe/Madrid"
days = ["mon", "tue", "wed", "thu", "fri"]
"#;

#[test]
fn schedule_prints_crontab_lines_and_systemd_units() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    std::fs::write(&spec, SPEC).unwrap();
    let tzdir = zone_database(dir.path(), &["Europe/Madrid"]);
    let out = brickstack(
        &[
            "schedule",
            "--file",
            spec.to_str().unwrap(),
            "--workdir",
            "/srv/brickstack",
            "--binary",
            "/usr/local/bin/brickstack",
        ],
        dir.path(),
        &tzdir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.is_empty(),
        "nothing belongs on stderr, got:\n{stderr}"
    );
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn format_cron_prints_only_the_crontab() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    std::fs::write(&spec, SPEC).unwrap();
    let tzdir = zone_database(dir.path(), &["Europe/Madrid"]);
    let out = brickstack(
        &[
            "schedule",
            "--file",
            spec.to_str().unwrap(),
            "--format",
            "cron",
        ],
        dir.path(),
        &tzdir,
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\n0 19 * * 1-5 cd "), "{stdout}");
    assert!(!stdout.contains("[Timer]"), "{stdout}");
    // The defaults: the current directory and this executable.
    let workdir = dir.path().to_str().unwrap();
    let binary = env!("CARGO_BIN_EXE_brickstack");
    assert!(
        stdout.contains(&format!("cd {workdir} && {binary} sleep -e dev\n")),
        "{stdout}"
    );
}

#[test]
fn an_environment_without_a_schedule_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let tzdir = zone_database(dir.path(), &[]);
    // prod.toml has no `[sleep.schedule]`: production never sleeps.
    let out = brickstack(&["schedule", "-e", "prod"], &repo_root(), &tzdir);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(String::from_utf8(out.stderr).unwrap());
}

#[test]
fn a_zone_missing_from_the_database_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    std::fs::write(&spec, SPEC.replace("Europe/Madrid", "Europe/Madird")).unwrap();
    let tzdir = zone_database(dir.path(), &["Europe/Madrid"]);
    let out = brickstack(
        &["schedule", "--file", spec.to_str().unwrap()],
        dir.path(),
        &tzdir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("`Europe/Madird`") && stderr.contains("hint:"),
        "{stderr}"
    );
}
