//! The prod environment as written (`environments/prod.toml`: NAT per zone, access logging, a
//! versioned datalake, state in S3 with a DynamoDB lock) through the built binary, against moto
//! over TLS and brickstack's Databricks emulator, under a fresh name, prefix and Databricks account:
//! `bootstrap`, `apply` (the state goes to the bootstrapped bucket, whose TLS-only policy stays),
//! an empty plan, `destroy --destroy-data` with an object in a datalake bucket, and nothing of the
//! environment left in moto (by tag and prefix; the bootstrap's own objects stay, they hold the
//! state) nor in the Databricks emulator.

mod support;

use std::collections::BTreeSet;

use brickstack_testkit::{require_databricks, require_moto, unique_account_id};
use serde_json::Value;
use support::{Cli, emulator_env, moto_clients, text};

/// `environments/prod.toml` under a fresh environment name, prefix and Databricks account.
fn prod_spec(environment: &str, prefix: &str, account_id: &str) -> String {
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments/prod.toml"),
    )
    .unwrap();
    let replaced = spec
        .replace(
            "name = \"prod\"\nstage",
            &format!("name = \"{environment}\"\nstage"),
        )
        .replace(
            "# prefix = \"acme-prod-eu-datateam\" (derived)",
            &format!("prefix = \"{prefix}\""),
        )
        .replace(
            "account_id = \"3f1c9a52-7d4e-4b8a-9c26-5e0f7a1b2d84\"",
            &format!("account_id = \"{account_id}\""),
        );
    for fresh in [environment, prefix, account_id] {
        assert!(replaced.contains(fresh), "prod.toml changed shape: {fresh}");
    }
    replaced
}

#[tokio::test(flavor = "multi_thread")]
async fn the_prod_environment_bootstraps_applies_converges_and_destroys_with_its_data() {
    const TEST: &str =
        "the_prod_environment_bootstraps_applies_converges_and_destroys_with_its_data";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    assert!(moto.url.starts_with("https://"), "moto over TLS: {moto:?}");
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("prod{suffix}");
    let prefix = format!("bs-{suffix}");
    let account_id = unique_account_id();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("env.toml"),
        prod_spec(&environment, &prefix, &account_id),
    )
    .unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: emulator_env(&moto, &databricks),
    };
    let bootstrap = cli
        .run(&["bootstrap", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(
        bootstrap.status.success(),
        "bootstrap:\n{}",
        text(&bootstrap)
    );

    let apply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(apply.status.success(), "apply:\n{}", text(&apply));

    let replan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the second plan is not empty:\n{}",
        text(&replan)
    );

    // The state is in the bootstrapped bucket (read here over TLS), not on disk.
    assert!(
        !dir.path()
            .join(format!("state/{environment}.json"))
            .exists(),
        "prod keeps its state in S3"
    );
    let aws = moto_clients(&moto);
    let state_bucket = format!("{prefix}-eu-west-1-state");
    let object = aws
        .s3
        .get_object()
        .bucket(&state_bucket)
        .key(format!("{environment}/brickstack.json"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("the state object in s3://{state_bucket}: {e:?}"));
    // The document plus the journal records a compaction has not folded in yet: the state as
    // the backend reads it (which records are still in the journal depends on run timing).
    let document: brickstack_state::State =
        serde_json::from_slice(&object.body.collect().await.unwrap().to_vec()).unwrap();
    let records = aws
        .s3
        .list_objects_v2()
        .bucket(&state_bucket)
        .prefix(format!("{environment}/brickstack.json.journal/"))
        .send()
        .await
        .unwrap();
    let mut journal = Vec::new();
    for record in records.contents() {
        let body = aws
            .s3
            .get_object()
            .bucket(&state_bucket)
            .key(record.key().unwrap())
            .send()
            .await
            .unwrap();
        journal.extend(body.body.collect().await.unwrap().to_vec());
        if journal.last() != Some(&b'\n') {
            journal.push(b'\n');
        }
    }
    let state = serde_json::to_value(
        brickstack_state::replay(Some(document), &journal)
            .unwrap()
            .state
            .unwrap(),
    )
    .unwrap();
    let resources = state["resources"].as_object().unwrap();
    assert!(
        resources
            .values()
            .any(|r| r["kind"] == "aws_s3_bucket_logging"),
        "prod turns access logging on"
    );

    // Data in a versioned bucket (a second write makes a second version). Not a datalake layer:
    // their policies deny uploads without SSE-KMS, and moto 5.2 applies such a deny whatever the
    // request's headers (it evaluates no `Null`/`StringNotEquals` condition), so the logs bucket
    // (versioned, TLS-only) stands in.
    let datalake = resources
        .get("aws_s3_bucket.databricks_logs")
        .and_then(|r| r["attributes"]["bucket"].as_str())
        .unwrap_or_else(|| panic!("the logs bucket in state: {:?}", resources.keys()))
        .to_string();
    for body in ["first", "second"] {
        aws.s3
            .put_object()
            .bucket(&datalake)
            .key("raw/data.csv")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put into {datalake}: {e:?}"));
    }

    let destroy = cli
        .run(&[
            "destroy",
            "--file",
            "env.toml",
            "--auto-approve",
            "--destroy-data",
        ])
        .await;
    assert!(destroy.status.success(), "destroy:\n{}", text(&destroy));

    // What bootstrap made stays (it holds the state); nothing else of the environment may.
    let bootstrap_state: Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join(format!("state/{environment}.bootstrap.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let bootstrap_objects: BTreeSet<String> = bootstrap_state["resources"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|r| r["object_id"].as_str().map(str::to_string))
        .collect();
    let left: Vec<String> = brickstack_aws::inventory::leftovers(&aws, &environment, &prefix)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| !bootstrap_objects.iter().any(|id| l.contains(id.as_str())))
        .collect();
    assert!(left.is_empty(), "left in moto after destroy: {left:#?}");

    let inventory: Value = reqwest::get(format!(
        "{}/_emulator/inventory?account_id={account_id}",
        databricks.url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let left = support::leftover_objects(&inventory);
    assert!(
        left.is_empty(),
        "left in the Databricks emulator after destroy: {left:#?}\n{inventory:#}"
    );
}
