//! `brickstack sleep` and `wake` through the built binary, against moto and brickstack's
//! Databricks emulator, on the whole local environment (`environments/local.toml`, whose network
//! has one NAT gateway with its Elastic IP and route, and the STS and Kinesis interface endpoints
//! in three private subnets): a running cluster blocks sleep, naming it; `--force` sleeps anyway;
//! an asleep environment plans as no change and lists what sleeps; sleep and wake are idempotent;
//! wake returns to a no-change plan; with the cluster terminated, sleep needs no `--force`; destroy
//! leaves nothing.

mod support;

use std::path::Path;
use std::process::Output;

use brickstack_databricks::{Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;
use brickstack_testkit::{require_databricks, require_moto, unique_account_id};
use serde_json::Value;
use support::{Cli, emulator_env, local_spec, moto_clients, text};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What sleeps in the local environment.
const SLEEPING: [&str; 5] = [
    "aws_eip.nat-eu-west-1c",
    "aws_nat_gateway.eu-west-1c",
    "aws_route.private-nat",
    "aws_vpc_endpoint.kinesis-streams",
    "aws_vpc_endpoint.sts",
];

fn state(dir: &Path, environment: &str) -> Value {
    let path = dir.join(format!("state/{environment}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The saving summary `sleep` prints, from its first line to its last, the environment's
/// (random) name as `ENV`.
fn saving_summary(stdout: &str, environment: &str) -> String {
    let start = stdout.find("Asleep, this saves").expect("a saving summary");
    stdout[start..].replace(environment, "ENV")
}

#[tokio::test(flavor = "multi_thread")]
async fn sleep_and_wake_the_local_environment() {
    const TEST: &str = "sleep_and_wake_the_local_environment";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("nap{suffix}");
    let prefix = format!("bs-{suffix}");
    let account_id = unique_account_id();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("env.toml"),
        local_spec(&environment, &prefix, &account_id),
    )
    .unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: emulator_env(&moto, &databricks),
    };
    let aws = moto_clients(&moto);
    let left = async || {
        brickstack_aws::inventory::leftovers(&aws, &environment, &prefix)
            .await
            .unwrap()
    };

    let apply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));
    let applied = state(dir.path(), &environment);
    // The NAT gateway, its address and the endpoints exist, by their ids, in moto.
    let ids: Vec<String> = [
        "aws_eip.nat-eu-west-1c",
        "aws_nat_gateway.eu-west-1c",
        "aws_vpc_endpoint.kinesis-streams",
        "aws_vpc_endpoint.sts",
    ]
    .iter()
    .map(|a| {
        applied["resources"][a]["object_id"]
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    let before = left().await;
    for id in &ids {
        assert!(
            before.iter().any(|l| l.contains(id.as_str())),
            "`{id}` is in moto after apply"
        );
    }

    // The cluster `local-small` runs after apply: sleep refuses, naming it, and changes nothing.
    let refused = cli
        .run(&["sleep", "--file", "env.toml", "--auto-approve"])
        .await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("`local-small` (RUNNING") && message.contains("--force"),
        "{message}"
    );
    assert_eq!(
        state(dir.path(), &environment)["serial"],
        applied["serial"],
        "a refused sleep writes nothing"
    );

    // --force sleeps anyway: the objects are gone, their records asleep, the saving printed.
    let slept = cli
        .run(&["sleep", "--file", "env.toml", "--auto-approve", "--force"])
        .await;
    assert!(
        slept.status.success(),
        "sleep --force failed:\n{}",
        text(&slept)
    );
    assert!(
        String::from_utf8_lossy(&slept.stderr).contains("warning: 1 cluster(s)")
            && String::from_utf8_lossy(&slept.stderr).contains("`local-small`"),
        "--force names what loses its route out:\n{}",
        text(&slept)
    );
    insta::assert_snapshot!(
        "sleep_summary",
        saving_summary(&stdout(&slept), &environment)
    );
    let asleep = state(dir.path(), &environment);
    for address in SLEEPING {
        assert_eq!(
            asleep["resources"][address]["status"], "asleep",
            "{address}"
        );
    }
    let during = left().await;
    for id in &ids {
        assert!(
            !during.iter().any(|l| l.contains(id.as_str())),
            "`{id}` is still in moto while asleep"
        );
    }

    // Asleep is no change, and the plan says what sleeps, in text and in JSON.
    let plan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    for address in SLEEPING {
        assert!(
            stdout(&plan).contains(&format!("  asleep: {address}\n")),
            "{address}:\n{}",
            text(&plan)
        );
    }
    let json = cli.run(&["plan", "--file", "env.toml", "--json"]).await;
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let listed: Vec<&str> = json["asleep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert_eq!(listed, SLEEPING);
    assert_eq!(json["summary"]["asleep"], 5);
    assert_eq!(json["summary"]["create"], 0);

    // Sleeping again does nothing, and says so (the running cluster does not matter then).
    let again = cli
        .run(&["sleep", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        stdout(&again).contains("is already asleep: nothing to do"),
        "{}",
        text(&again)
    );
    assert_eq!(state(dir.path(), &environment)["serial"], asleep["serial"]);

    // Wake recreates them; the environment plans as no change, with nothing asleep.
    let woken = cli
        .run(&["wake", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(woken.status.success(), "wake failed:\n{}", text(&woken));
    assert!(
        stdout(&woken).contains("Plan: 5 to add, 0 to change"),
        "{}",
        text(&woken)
    );
    let plan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(!stdout(&plan).contains("asleep"), "{}", text(&plan));
    let awake = state(dir.path(), &environment);
    for address in SLEEPING {
        assert!(awake["resources"][address]["status"].is_null(), "{address}");
    }
    let after_wake = left().await;
    assert!(
        after_wake.iter().any(|l| l.starts_with("NatGateway")),
        "a NAT gateway again: {after_wake:#?}"
    );

    // Waking an awake environment does nothing.
    let again = cli
        .run(&["wake", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        stdout(&again).contains("nothing asleep to wake"),
        "{}",
        text(&again)
    );
    assert_eq!(state(dir.path(), &environment)["serial"], awake["serial"]);

    // With the cluster terminated (through the workspace API), sleep needs no --force.
    let workspace_url = awake["resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["kind"] == "databricks_mws_workspaces")
        .unwrap()["attributes"]["workspace_url"]
        .as_str()
        .unwrap()
        .to_string();
    let cluster_id = awake["resources"]["databricks_cluster.small"]["object_id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let workspace = WorkspaceClient::new(
        &workspace_url,
        Credentials::OAuthM2m {
            client_id: databricks.client_id.clone(),
            client_secret: SecretValue::new(databricks.client_secret.as_str()),
        },
        RetryPolicy::default(),
    )
    .unwrap();
    assert_eq!(workspace.active_clusters().await.unwrap().len(), 1);
    workspace.terminate_cluster(&cluster_id).await.unwrap();
    assert!(workspace.active_clusters().await.unwrap().is_empty());
    let slept = cli
        .run(&["sleep", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(slept.status.success(), "sleep failed:\n{}", text(&slept));
    assert!(
        stdout(&slept).contains(
            "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 5 to put to sleep."
        )
    );
    let woken = cli
        .run(&["wake", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(woken.status.success(), "wake failed:\n{}", text(&woken));
    let plan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    let destroy = cli
        .run(&[
            "destroy",
            "--file",
            "env.toml",
            "--auto-approve",
            "--destroy-data",
        ])
        .await;
    assert!(
        destroy.status.success(),
        "destroy failed:\n{}",
        text(&destroy)
    );
    let left = left().await;
    assert!(left.is_empty(), "left in moto after destroy: {left:#?}");
}

/// Destroying an environment while it sleeps destroys what is live and forgets what sleeps:
/// nothing is left in moto, nothing in state.
#[tokio::test(flavor = "multi_thread")]
async fn an_asleep_environment_destroys_to_nothing() {
    const TEST: &str = "an_asleep_environment_destroys_to_nothing";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("nad{suffix}");
    let prefix = format!("bs-{suffix}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("env.toml"),
        local_spec(&environment, &prefix, &unique_account_id()),
    )
    .unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: emulator_env(&moto, &databricks),
    };
    for args in [
        &["apply", "--file", "env.toml", "--auto-approve"][..],
        &["sleep", "--file", "env.toml", "--auto-approve", "--force"],
        &[
            "destroy",
            "--file",
            "env.toml",
            "--auto-approve",
            "--destroy-data",
        ],
    ] {
        let run = cli.run(args).await;
        assert!(run.status.success(), "{args:?} failed:\n{}", text(&run));
    }
    let after = state(dir.path(), &environment);
    assert!(
        after["resources"].as_object().unwrap().is_empty(),
        "{after:#}"
    );
    let aws = moto_clients(&moto);
    let left = brickstack_aws::inventory::leftovers(&aws, &environment, &prefix)
        .await
        .unwrap();
    assert!(left.is_empty(), "left in moto after destroy: {left:#?}");
}
