//! `brickstack bootstrap` against moto, through the built binary: it creates the state backend,
//! and running it again changes nothing.

use std::path::Path;
use std::process::{Command, Output};

use brickstack_testkit::{MotoEndpoint, require_moto, unique_name};

fn run(dir: &Path, moto: &MotoEndpoint, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_brickstack"));
    command
        .args(args)
        .current_dir(dir)
        // The standard AWS chain, pointed at moto; nothing else from the environment leaks in.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", &moto.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &moto.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    if let Some(ca) = &moto.ca_bundle {
        command.env("AWS_CA_BUNDLE", ca);
    }
    // Plans reach the Databricks account too: the emulator's, when it runs.
    if let Some(databricks) = brickstack_testkit::databricks() {
        command
            .env("DATABRICKS_HOST", &databricks.url)
            .env("DATABRICKS_CLIENT_ID", &databricks.client_id)
            .env("DATABRICKS_CLIENT_SECRET", &databricks.client_secret);
    }
    command.output().unwrap()
}

#[test]
fn bootstrap_creates_the_backend_and_a_second_run_changes_nothing() {
    let Some(moto) = require_moto("bootstrap_creates_the_backend_and_a_second_run_changes_nothing")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Bucket names are global in moto: a unique prefix keeps parallel runs apart.
    let prefix = unique_name("bs");
    std::fs::write(
        dir.path().join("local.toml"),
        format!(
            "[environment]\nname = \"local\"\nprefix = \"{prefix}\"\nregion = \"{}\"\n\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
            moto.region
        ),
    )
    .unwrap();

    let first = run(
        dir.path(),
        &moto,
        &["bootstrap", "--file", "local.toml", "--auto-approve"],
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout.contains("Plan: 9 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "+ bucket                  = \"{prefix}-{}-state\"",
            moto.region
        )) || stdout.contains(&format!("{prefix}-{}-state", moto.region)),
        "{stdout}"
    );

    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("state/local.bootstrap.json")).unwrap(),
    )
    .unwrap();
    let resources = state["resources"].as_object().unwrap();
    let mut kinds: Vec<&str> = resources
        .values()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "aws_dynamodb_table",
            "aws_kms_alias",
            "aws_kms_key",
            "aws_s3_bucket",
            "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_policy",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_versioning",
        ]
    );
    assert!(state.get("pending").is_none(), "no intent left behind");
    let serial = state["serial"].as_u64().unwrap();

    let second = run(
        dir.path(),
        &moto,
        &["bootstrap", "--file", "local.toml", "--auto-approve"],
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(stdout.contains("No changes."), "{stdout}");
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("state/local.bootstrap.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["serial"].as_u64().unwrap(),
        serial,
        "a no-op run writes nothing"
    );
}

/// `AWS_CA_BUNDLE` naming a file that is not there is bad input: exit 2 before any call, naming
/// the path and the variable, with a hint (needs no emulator: nothing may be sent).
#[test]
fn an_unusable_ca_bundle_stops_the_run_with_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        "[environment]\nname = \"local\"\nprefix = \"bs-ca\"\nregion = \"eu-west-1\"\n\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let output = Command::new(env!("CARGO_BIN_EXE_brickstack"))
        .args(["bootstrap", "--file", "local.toml", "--auto-approve"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_ENDPOINT_URL", "https://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CA_BUNDLE", &missing)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr.contains(&format!(
            "error: cannot use the CA bundle `{}` (from `AWS_CA_BUNDLE`): ",
            missing.display()
        )) && stderr.contains("hint: `AWS_CA_BUNDLE` must name a readable PEM file"),
        "{stderr}"
    );
    assert!(!dir.path().join("state").exists(), "nothing was applied");
}

fn spec_file(dir: &Path, moto: &MotoEndpoint) -> String {
    let prefix = unique_name("bs");
    std::fs::write(
        dir.join("local.toml"),
        format!(
            "[environment]\nname = \"local\"\nprefix = \"{prefix}\"\nregion = \"{}\"\n\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
            moto.region
        ),
    )
    .unwrap();
    prefix
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn plan_apply_state_and_destroy_through_the_binary() {
    let Some(moto) = require_moto("plan_apply_state_and_destroy_through_the_binary") else {
        return;
    };
    let Some(_) =
        brickstack_testkit::require_databricks("plan_apply_state_and_destroy_through_the_binary")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = spec_file(dir.path(), &moto);
    fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [args, &["--file", "local.toml"][..]].concat()
    }

    let plan = run(dir.path(), &moto, &with(&["plan", "--detailed-exitcode"]));
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    let json = run(dir.path(), &moto, &with(&["plan", "--json"]));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        doc["summary"]["create"].as_u64().unwrap() >= 85,
        "{}",
        text(&json)
    );

    // The AWS provider serves buckets already: apply just one, with what it depends on (its
    // KMS key, which outlives it, and the role the key's policy names).
    let apply = run(
        dir.path(),
        &moto,
        &with(&["apply", "--target", "aws_s3_bucket.raw", "--auto-approve"]),
    );
    assert!(apply.status.success(), "{}", text(&apply));
    let list = run(dir.path(), &moto, &with(&["state", "list"]));
    let listed = String::from_utf8_lossy(&list.stdout);
    let addresses: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        addresses,
        [
            "aws_iam_role.cross_account",
            "aws_kms_key.datalake",
            "aws_s3_bucket.raw"
        ],
        "{listed}"
    );
    assert!(
        listed.contains(&format!("aws_s3_bucket.raw  {prefix}-raw")),
        "{listed}"
    );
    let show = run(
        dir.path(),
        &moto,
        &with(&["state", "show", "aws_s3_bucket.raw"]),
    );
    let recorded: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        recorded["attributes"]["tags"]["brickstack:address"],
        "aws_s3_bucket.raw"
    );
    let again = run(
        dir.path(),
        &moto,
        &with(&[
            "plan",
            "--target",
            "aws_s3_bucket.raw",
            "--detailed-exitcode",
        ]),
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));

    let unlock = run(dir.path(), &moto, &with(&["force-unlock", "no-such-lock"]));
    assert_eq!(unlock.status.code(), Some(1));
    assert!(text(&unlock).contains("no-such-lock"), "{}", text(&unlock));

    let destroy = run(dir.path(), &moto, &with(&["destroy", "--auto-approve"]));
    assert!(destroy.status.success(), "{}", text(&destroy));
    assert!(
        String::from_utf8_lossy(&destroy.stdout).contains("3 to destroy"),
        "{}",
        text(&destroy)
    );
    let list = run(dir.path(), &moto, &with(&["state", "list"]));
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "");
}
