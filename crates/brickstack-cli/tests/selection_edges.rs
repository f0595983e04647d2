//! Selections through the built binary, against moto and the Databricks emulator: a `--select`
//! that selects nothing exits 2 instead of planning the whole environment; `destroy --target`
//! takes what depends on the target (a VPC takes its subnet); a `destroy --exclude` that keeps
//! everything exits 2.

mod support;

use brickstack_testkit::{require_databricks, require_moto, unique_account_id};
use support::{Cli, emulator_env, local_spec, moto_clients, text};

#[tokio::test(flavor = "multi_thread")]
async fn empty_selections_exit_2_and_destroy_targets_take_their_dependents() {
    const TEST: &str = "empty_selections_exit_2_and_destroy_targets_take_their_dependents";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("sel{suffix}");
    let prefix = format!("bs-{suffix}");
    let dir = tempfile::tempdir().unwrap();
    // Nothing sleeps in this environment.
    let spec = local_spec(&environment, &prefix, &unique_account_id())
        + "\n[sleep]\nnat = false\ninterface_endpoints = false\ns3_gateway_endpoint = false\n";
    std::fs::write(dir.path().join("env.toml"), spec).unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: emulator_env(&moto, &databricks),
    };

    let select = cli
        .run(&["plan", "--file", "env.toml", "--select", "sleep"])
        .await;
    assert_eq!(select.status.code(), Some(2), "{}", text(&select));
    assert!(
        String::from_utf8_lossy(&select.stderr)
            .contains("the selection is empty: `--select sleep` selects nothing"),
        "{}",
        text(&select)
    );
    assert!(
        select.stdout.is_empty(),
        "nothing planned: {}",
        text(&select)
    );

    let subnet = "aws_subnet.private-eu-west-1a";
    let apply = cli
        .run(&[
            "apply",
            "--file",
            "env.toml",
            "--target",
            subnet,
            "--auto-approve",
        ])
        .await;
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(
        String::from_utf8_lossy(&apply.stdout).contains("Plan: 2 to add, "),
        "the subnet and its VPC: {}",
        text(&apply)
    );

    let keep_all = cli
        .run(&[
            "destroy",
            "--file",
            "env.toml",
            "--exclude",
            subnet,
            "--auto-approve",
        ])
        .await;
    assert_eq!(keep_all.status.code(), Some(2), "{}", text(&keep_all));
    assert!(
        String::from_utf8_lossy(&keep_all.stderr).contains("the selection is empty"),
        "{}",
        text(&keep_all)
    );

    let destroy = cli
        .run(&[
            "destroy",
            "--file",
            "env.toml",
            "--target",
            "aws_vpc.main",
            "--auto-approve",
        ])
        .await;
    assert!(destroy.status.success(), "{}", text(&destroy));
    assert!(
        String::from_utf8_lossy(&destroy.stdout).contains("0 to replace, 2 to destroy."),
        "the VPC and its subnet: {}",
        text(&destroy)
    );
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(format!("state/{environment}.json"))).unwrap(),
    )
    .unwrap();
    assert!(
        state["resources"].as_object().unwrap().is_empty(),
        "{state:#}"
    );
    let left = brickstack_aws::inventory::leftovers(&moto_clients(&moto), &environment, &prefix)
        .await
        .unwrap();
    assert!(left.is_empty(), "left in moto: {left:#?}");
}
