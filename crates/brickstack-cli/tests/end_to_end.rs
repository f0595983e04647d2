//! The whole local environment (`environments/local.toml`: every AWS and Databricks kind of the
//! reference architecture, and one of every other Databricks kind) through the built binary,
//! against moto and brickstack's Databricks emulator: apply; a second plan has no changes; no
//! secret the emulator minted appears in the state file, a plan or any log line; destroy leaves
//! no object in moto (by tag, with plain describe calls) and none in the Databricks emulator.

mod support;

use brickstack_testkit::{require_databricks, require_moto, unique_account_id};
use serde_json::Value;
use support::{Cli, emulator_env, leftover_objects, local_spec, moto_clients, text};

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_local_environment_applies_converges_keeps_secrets_out_and_destroys_to_nothing() {
    const TEST: &str =
        "the_whole_local_environment_applies_converges_keeps_secrets_out_and_destroys_to_nothing";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("e2e{suffix}");
    let prefix = format!("bs-{suffix}");
    let account_id = unique_account_id();
    let dir = tempfile::tempdir().unwrap();
    let spec = local_spec(&environment, &prefix, &account_id);
    assert!(spec.contains(&prefix) && spec.contains(&account_id));
    std::fs::write(dir.path().join("env.toml"), spec).unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: emulator_env(&moto, &databricks),
    };
    let mut transcript = String::new();

    let apply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    transcript.push_str(&text(&apply));
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));

    let replan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    transcript.push_str(&text(&replan));
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the second plan is not empty:\n{}",
        text(&replan)
    );
    let json_plan = cli.run(&["plan", "--file", "env.toml", "--json"]).await;
    transcript.push_str(&text(&json_plan));
    let plan: Value = serde_json::from_slice(&json_plan.stdout).unwrap();
    let summary = &plan["summary"];
    for action in ["create", "update", "replace", "delete", "drifted"] {
        assert_eq!(
            summary[action], 0,
            "{action} in the second plan: {summary:#}"
        );
    }
    assert_eq!(
        summary["no_op"], 126,
        "every resource is in the plan: {summary:#}"
    );

    let state_path = dir.path().join(format!("state/{environment}.json"));
    let state_text = std::fs::read_to_string(&state_path).unwrap();
    let state: Value = serde_json::from_str(&state_text).unwrap();
    let resources = state["resources"].as_object().unwrap();
    let databricks_count = resources
        .values()
        .filter(|r| r["kind"].as_str().unwrap().starts_with("databricks_"))
        .count();
    assert_eq!(databricks_count, 43, "Databricks resources in state");
    // The tokens' state: the id, the expiry, the parameter and its version; no value.
    for address in ["databricks_token.deployer", "databricks_obo_token.deployer"] {
        let token = &resources[address]["attributes"];
        for attribute in [
            "token_id",
            "expiry_time",
            "value_parameter",
            "value_parameter_version",
        ] {
            assert!(
                !token[attribute].is_null(),
                "{address}.{attribute}: {token:#}"
            );
        }
    }

    // Every secret the emulator handed out (to this test and any other): none may be in state,
    // plans or logs.
    let minted: Value = reqwest::get(format!("{}/_emulator/minted", databricks.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let minted: Vec<String> = minted["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap().to_string())
        .collect();
    assert!(
        minted.len() >= 3,
        "the emulator minted at least the PAT, the on-behalf-of token and OAuth tokens: {}",
        minted.len()
    );
    for secret in &minted {
        assert!(
            !state_text.contains(secret.as_str()),
            "a minted secret is in the state file"
        );
        assert!(
            !transcript.contains(secret.as_str()),
            "a minted secret is in the output or logs"
        );
    }
    assert!(!transcript.contains(&databricks.client_secret));

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
    for secret in &minted {
        assert!(
            !text(&destroy).contains(secret.as_str()),
            "a minted secret is in destroy's output"
        );
    }

    let aws = moto_clients(&moto);
    let left = brickstack_aws::inventory::leftovers(&aws, &environment, &prefix)
        .await
        .unwrap();
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
    let left = leftover_objects(&inventory);
    assert!(
        left.is_empty(),
        "left in the Databricks emulator after destroy: {left:#?}\n{inventory:#}"
    );
}

/// With no `DATABRICKS_CLIENT_*` in the environment, the service principal's credentials come
/// from the SSM parameters the spec names; without them either, the run stops with exit 2 before
/// touching anything, naming both sources.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_come_from_the_specs_ssm_parameters_when_the_environment_has_none() {
    const TEST: &str =
        "credentials_come_from_the_specs_ssm_parameters_when_the_environment_has_none";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("ssm{suffix}");
    let dir = tempfile::tempdir().unwrap();
    let spec = local_spec(&environment, &format!("bs-{suffix}"), &unique_account_id());
    std::fs::write(dir.path().join("env.toml"), spec).unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: {
            let mut env = support::moto_env(&moto);
            env.push(("DATABRICKS_HOST", databricks.url.clone()));
            env
        },
    };

    let refused = cli.run(&["plan", "--file", "env.toml"]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let message = text(&refused);
    assert!(
        message.contains("DATABRICKS_CLIENT_ID")
            && message.contains("~/.databrickscfg")
            && message.contains(&format!("/brickstack/{environment}/databricks/client-id")),
        "{message}"
    );

    let aws = brickstack_aws::AwsProvider::new(&moto_clients(&moto));
    for (name, value) in [
        ("client-id", &databricks.client_id),
        ("client-secret", &databricks.client_secret),
    ] {
        brickstack_provider::SecretStore::put(
            &aws,
            &brickstack_provider::SecretWrite {
                name: &format!("/brickstack/{environment}/databricks/{name}"),
                value: &brickstack_provider::SecretValue::new(value.as_str()),
                kms_key_id: "alias/aws/ssm",
                description: "test: the account service principal",
                tags: &Default::default(),
            },
        )
        .await
        .unwrap();
    }
    let plan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(
        plan.status.code(),
        Some(2),
        "changes to make: {}",
        text(&plan)
    );
    // Exit 2 is also invalid input: the plan itself must be there.
    assert!(
        String::from_utf8_lossy(&plan.stdout).contains("Plan: 126 to add"),
        "{}",
        text(&plan)
    );
    assert!(!text(&plan).contains(&databricks.client_secret));
    for name in ["client-id", "client-secret"] {
        brickstack_provider::SecretStore::delete(
            &aws,
            &format!("/brickstack/{environment}/databricks/{name}"),
        )
        .await
        .unwrap();
    }
}
