//! No secret value at any `BRICKSTACK_LOG` level, `trace` included (issue #11): at `trace` the
//! AWS SDK would log whole answers, a decrypted SSM parameter among them, so the CLI caps what the
//! SDK and the HTTP stack log. Through the built binary against moto and the Databricks emulator:
//! an apply whose service principal comes from the spec's SSM parameters (no
//! `DATABRICKS_CLIENT_*`), then a token rotation, both traced; neither their output nor the state
//! holds the client secret or any secret the emulator minted.

mod support;

use brickstack_provider::{SecretStore, SecretValue, SecretWrite};
use brickstack_testkit::{require_databricks, require_moto, unique_account_id};
use serde_json::Value;
use support::{Cli, local_spec, moto_clients, text};

#[tokio::test(flavor = "multi_thread")]
async fn a_traced_apply_and_rotation_print_no_secret() {
    const TEST: &str = "a_traced_apply_and_rotation_print_no_secret";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("trc{suffix}");
    let dir = tempfile::tempdir().unwrap();
    let spec = local_spec(&environment, &format!("bs-{suffix}"), &unique_account_id());
    std::fs::write(dir.path().join("env.toml"), spec).unwrap();

    // The service principal only in the spec's SSM parameters.
    let aws = brickstack_aws::AwsProvider::new(&moto_clients(&moto));
    let parameters = [
        ("client-id", &databricks.client_id),
        ("client-secret", &databricks.client_secret),
    ]
    .map(|(name, value)| {
        (
            format!("/brickstack/{environment}/databricks/{name}"),
            value.clone(),
        )
    });
    for (name, value) in &parameters {
        aws.put(&SecretWrite {
            name,
            value: &SecretValue::new(value.as_str()),
            kms_key_id: "alias/aws/ssm",
            description: "test: the account service principal",
            tags: &Default::default(),
        })
        .await
        .unwrap();
    }
    let cli = Cli {
        dir: dir.path(),
        // No `DATABRICKS_CLIENT_*`: the service principal comes from SSM.
        env: support::moto_env(&moto)
            .into_iter()
            .chain([
                ("DATABRICKS_HOST", databricks.url.clone()),
                ("BRICKSTACK_LOG", "trace".into()),
            ])
            .collect(),
    };

    let mut transcript = String::new();
    for args in [
        &["apply", "--file", "env.toml", "--auto-approve"][..],
        &["rotate-tokens", "--file", "env.toml", "--auto-approve"][..],
    ] {
        let run = cli.run(args).await;
        transcript.push_str(&text(&run));
        assert!(run.status.success(), "{args:?} failed:\n{}", text(&run));
    }
    // The trace is on: our own `trace`/`debug` lines are there (the filter was not just ignored).
    assert!(
        transcript.contains("TRACE") || transcript.contains("DEBUG"),
        "no log line at all: {}",
        &transcript[..transcript.len().min(2000)]
    );

    let state =
        std::fs::read_to_string(dir.path().join(format!("state/{environment}.json"))).unwrap();
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
        minted.len() >= 4,
        "tokens minted and rotated: {}",
        minted.len()
    );
    for secret in minted.iter().chain([&databricks.client_secret]) {
        assert!(!state.contains(secret.as_str()), "a secret is in the state");
        assert!(
            !transcript.contains(secret.as_str()),
            "a secret is in the traced output"
        );
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
    assert!(
        destroy.status.success(),
        "destroy failed:\n{}",
        text(&destroy)
    );
    for (name, _) in &parameters {
        aws.delete(name).await.unwrap();
    }
}
