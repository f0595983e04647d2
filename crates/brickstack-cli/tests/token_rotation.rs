//! Token rotation through the built binary, against moto and brickstack's Databricks emulator
//! process (the harness of `end_to_end.rs`):
//!
//! * with the emulator's clock moved past the tokens' lifetime, `plan` announces the rotation of
//!   both tokens (exit 2 with `--detailed-exitcode`), `apply` rotates them and succeeds, the next
//!   plan is empty; the old values no longer authenticate, the new ones do; each parameter has a
//!   new version; no token value is in state or in any output;
//! * `rotate-tokens` on a fresh environment replaces both tokens (a new parameter version each)
//!   and nothing else.
//!
//! The tests run one at a time: the emulator's clock is shared by everything using it.

mod support;

use std::process::Output;

use brickstack_testkit::{
    DatabricksEndpoint, MotoEndpoint, require_databricks, require_moto, unique_account_id,
};
use serde_json::Value;
use support::{Cli, emulator_env, local_spec, moto_clients, text};

const TOKENS: [&str; 2] = ["databricks_token.deployer", "databricks_obo_token.deployer"];
/// `environments/local.toml`'s token lifetime (the default: 6 days).
const LIFETIME_SECONDS: u64 = 518_400;

/// One test at a time: advancing the emulator's clock would expire the other's tokens.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One deployed environment of a test: its directory, the CLI there, the emulators.
struct Fixture {
    dir: tempfile::TempDir,
    environment: String,
    account_id: String,
    moto: MotoEndpoint,
    databricks: DatabricksEndpoint,
    /// Everything the binary printed, for the leak search.
    transcript: String,
}

impl Fixture {
    /// Writes the spec and applies it; `None` when an emulator is missing (outside CI).
    async fn applied(test: &str, tag: &str) -> Option<Fixture> {
        let moto = require_moto(test)?;
        let databricks = require_databricks(test)?;
        let suffix = format!("{:08x}", fastrand::u32(..));
        let environment = format!("{tag}{suffix}");
        let prefix = format!("bs-{suffix}");
        let dir = tempfile::tempdir().unwrap();
        let account_id = unique_account_id();
        let spec = local_spec(&environment, &prefix, &account_id);
        std::fs::write(dir.path().join("env.toml"), spec).unwrap();
        let mut fixture = Fixture {
            dir,
            environment,
            account_id,
            moto,
            databricks,
            transcript: String::new(),
        };
        let apply = fixture
            .run(&["apply", "--file", "env.toml", "--auto-approve"])
            .await;
        assert!(apply.status.success(), "apply failed:\n{}", text(&apply));
        Some(fixture)
    }

    async fn run(&mut self, args: &[&str]) -> Output {
        let cli = Cli {
            dir: self.dir.path(),
            env: emulator_env(&self.moto, &self.databricks),
        };
        let output = cli.run(args).await;
        self.transcript.push_str(&text(&output));
        output
    }

    fn state_text(&self) -> String {
        std::fs::read_to_string(
            self.dir
                .path()
                .join(format!("state/{}.json", self.environment)),
        )
        .unwrap()
    }

    fn resources(&self) -> serde_json::Map<String, Value> {
        let state: Value = serde_json::from_str(&self.state_text()).unwrap();
        state["resources"].as_object().unwrap().clone()
    }

    fn aws(&self) -> brickstack_aws::AwsClients {
        moto_clients(&self.moto)
    }

    /// A token's parameter as SSM has it: `(value, version)`; `selector` picks a version
    /// (`name:1`), none the latest.
    async fn parameter(&self, name: &str, version: Option<i64>) -> (String, i64) {
        let selector = match version {
            Some(v) => format!("{name}:{v}"),
            None => name.to_string(),
        };
        let parameter = self
            .aws()
            .ssm
            .get_parameter()
            .name(selector)
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let parameter = parameter.parameter().unwrap();
        (parameter.value().unwrap().to_string(), parameter.version())
    }

    /// Every secret value the emulator has handed out.
    async fn minted(&self) -> Vec<String> {
        let minted: Value = reqwest::get(format!("{}/_emulator/minted", self.databricks.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        minted["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["value"].as_str().unwrap().to_string())
            .collect()
    }

    /// The ids of the workspace's tokens the emulator still has (expired ones included, as
    /// the API lists them until they are revoked), sorted.
    async fn token_ids(&self) -> Vec<String> {
        let inventory: Value = reqwest::get(format!(
            "{}/_emulator/inventory?account_id={}",
            self.databricks.url, self.account_id
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let workspaces = inventory["workspaces"].as_array().unwrap();
        assert_eq!(workspaces.len(), 1, "{inventory:#}");
        let mut ids: Vec<String> = workspaces[0]["objects"]["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["token_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }

    async fn destroy(mut self) {
        let destroy = self
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
    }
}

/// What each token's record says: `(token_id, value_parameter, value_parameter_version)`.
fn tokens(resources: &serde_json::Map<String, Value>) -> Vec<(String, String, i64)> {
    TOKENS
        .iter()
        .map(|address| {
            let a = &resources[*address]["attributes"];
            assert!(
                a.get("expires_in_seconds").is_none(),
                "a countdown is not recorded: {a:#}"
            );
            (
                a["token_id"].as_str().unwrap().to_string(),
                a["value_parameter"].as_str().unwrap().to_string(),
                a["value_parameter_version"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The status of `SCIM Me` at the workspace, authenticated with `token`.
async fn me_status(workspace_url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{workspace_url}/api/2.0/preview/scim/v2/Me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn workspace_url(resources: &serde_json::Map<String, Value>) -> String {
    resources["databricks_mws_workspaces.main"]["attributes"]["workspace_url"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every address whose object id changed between two states, and those only in one.
fn changed_objects(
    before: &serde_json::Map<String, Value>,
    after: &serde_json::Map<String, Value>,
) -> Vec<String> {
    let mut changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|a| {
            before.get(*a).map(|r| &r["object_id"]) != after.get(*a).map(|r| &r["object_id"])
        })
        .cloned()
        .collect();
    changed.sort();
    changed.dedup();
    changed
}

/// The old tokens stop authenticating and the new ones work; each parameter's previous version
/// holds the old value and its latest the new one.
async fn check_rotated(
    fixture: &Fixture,
    before: &[(String, String, i64)],
    after: &[(String, String, i64)],
    old_values: &[String],
) -> Vec<String> {
    let url = workspace_url(&fixture.resources());
    let mut new_values = Vec::new();
    for ((old, new), old_value) in before.iter().zip(after).zip(old_values) {
        assert_ne!(old.0, new.0, "a new token: {new:?}");
        assert_eq!(old.1, new.1, "the same parameter");
        assert_eq!(
            new.2,
            old.2 + 1,
            "a new parameter version: {old:?} -> {new:?}"
        );
        let (latest, version) = fixture.parameter(&new.1, None).await;
        assert_eq!(version, new.2);
        let (previous, _) = fixture.parameter(&new.1, Some(old.2)).await;
        assert_eq!(
            &previous, old_value,
            "the previous version keeps the old value"
        );
        assert_ne!(&latest, old_value);
        assert_eq!(
            me_status(&url, old_value).await,
            401,
            "the old token of `{}` still authenticates",
            new.1
        );
        assert_eq!(
            me_status(&url, &latest).await,
            200,
            "the new token of `{}` does not authenticate",
            new.1
        );
        new_values.push(latest);
    }
    new_values
}

/// No token value in state or anything the binary printed (logs at debug included).
async fn check_no_leak(fixture: &Fixture, values: &[String]) {
    let state = fixture.state_text();
    let minted = fixture.minted().await;
    assert!(minted.len() >= 4, "{} minted", minted.len());
    for secret in minted.iter().chain(values) {
        assert!(
            !state.contains(secret.as_str()),
            "a token value is in state"
        );
        assert!(
            !fixture.transcript.contains(secret.as_str()),
            "a token value is in the output or logs"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_tokens_are_announced_rotated_and_revoked_and_their_values_stay_secret() {
    const TEST: &str =
        "expired_tokens_are_announced_rotated_and_revoked_and_their_values_stay_secret";
    let _serial = SERIAL.lock().await;
    let Some(mut fixture) = Fixture::applied(TEST, "rot").await else {
        return;
    };
    let before = tokens(&fixture.resources());
    let mut old_values = Vec::new();
    for (_, parameter, version) in &before {
        let (value, current) = fixture.parameter(parameter, None).await;
        assert_eq!(current, *version);
        old_values.push(value);
    }
    let url = workspace_url(&fixture.resources());
    for value in &old_values {
        assert_eq!(me_status(&url, value).await, 200, "a fresh token works");
    }

    // Six days and an hour later, by the emulator's clock (ours has not moved).
    let advanced = reqwest::Client::new()
        .post(format!("{}/_emulator/clock", fixture.databricks.url))
        .json(&serde_json::json!({"advance_seconds": LIFETIME_SECONDS + 3600}))
        .send()
        .await
        .unwrap();
    assert!(advanced.status().is_success());
    for value in &old_values {
        assert_eq!(me_status(&url, value).await, 401, "an expired token");
    }

    let plan = fixture
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    let shown = String::from_utf8_lossy(&plan.stdout).to_string();
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    for address in TOKENS {
        assert!(
            shown.contains(&format!(
                "# {address} must be replaced (rotation: expired 1h ago; new object first)"
            )),
            "{address}:\n{shown}"
        );
    }
    assert!(
        shown.contains("Plan: 0 to add, 0 to change, 2 to replace, 0 to destroy."),
        "only the tokens change:\n{shown}"
    );
    assert!(!shown.contains("changed outside brickstack"), "{shown}");

    let json_plan = fixture.run(&["plan", "--file", "env.toml", "--json"]).await;
    let plan: Value = serde_json::from_slice(&json_plan.stdout).unwrap();
    for change in plan["changes"].as_array().unwrap() {
        if TOKENS.contains(&change["address"].as_str().unwrap()) {
            assert_eq!(change["action"], "replace");
            let reason = &change["replace_reason"];
            assert_eq!(reason["reason"], "rotation", "{change:#}");
            let expires_in = reason["expires_in_seconds"].as_i64().unwrap();
            assert!((-3700..=-3599).contains(&expires_in), "{reason}");
            assert_eq!(reason["rotate_before_seconds"], 86_400);
        } else {
            assert_eq!(change["action"], "no_op", "{change:#}");
        }
    }

    let apply = fixture
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));

    let replan = fixture
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the plan after the rotation is not empty:\n{}",
        text(&replan)
    );

    let after = tokens(&fixture.resources());
    let new_values = check_rotated(&fixture, &before, &after, &old_values).await;
    // Expired tokens fail anyway: that the old ones are gone shows they were revoked.
    let mut new_ids: Vec<String> = after.iter().map(|t| t.0.clone()).collect();
    new_ids.sort();
    assert_eq!(
        fixture.token_ids().await,
        new_ids,
        "only the new tokens are left"
    );
    let values: Vec<String> = old_values.into_iter().chain(new_values).collect();
    check_no_leak(&fixture, &values).await;
    fixture.destroy().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_tokens_replaces_both_tokens_and_nothing_else() {
    const TEST: &str = "rotate_tokens_replaces_both_tokens_and_nothing_else";
    let _serial = SERIAL.lock().await;
    let Some(mut fixture) = Fixture::applied(TEST, "rtk").await else {
        return;
    };
    let resources = fixture.resources();
    let before = tokens(&resources);
    let mut old_values = Vec::new();
    for (_, parameter, _) in &before {
        old_values.push(fixture.parameter(parameter, None).await.0);
    }

    // `--replace` names what to replace; a name that is not there stops the run.
    let replace = fixture
        .run(&[
            "plan",
            "--file",
            "env.toml",
            "--detailed-exitcode",
            "--replace",
            "databricks_token.deployer",
        ])
        .await;
    let shown = String::from_utf8_lossy(&replace.stdout).to_string();
    assert_eq!(replace.status.code(), Some(2), "{}", text(&replace));
    assert!(
        shown.contains(
            "# databricks_token.deployer must be replaced (replacement requested; new object first)"
        ) && shown.contains("Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy."),
        "{shown}"
    );
    let typo = fixture
        .run(&[
            "plan",
            "--file",
            "env.toml",
            "--replace",
            "databricks_token.deploy",
        ])
        .await;
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("did you mean `databricks_token.deployer`?"),
        "{}",
        text(&typo)
    );

    let rotate = fixture
        .run(&["rotate-tokens", "--file", "env.toml", "--auto-approve"])
        .await;
    let shown = text(&rotate);
    assert!(rotate.status.success(), "rotate-tokens failed:\n{shown}");
    for address in TOKENS {
        assert!(
            shown.contains(&format!(
                "# {address} must be replaced (replacement requested; new object first)"
            )),
            "{address}:\n{shown}"
        );
    }
    assert!(
        shown.contains("Plan: 0 to add, 0 to change, 2 to replace, 0 to destroy."),
        "{shown}"
    );

    let after_resources = fixture.resources();
    let mut expected: Vec<String> = TOKENS.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(
        changed_objects(&resources, &after_resources),
        expected,
        "only the tokens are new objects"
    );
    let after = tokens(&after_resources);
    let new_values = check_rotated(&fixture, &before, &after, &old_values).await;
    let mut new_ids: Vec<String> = after.iter().map(|t| t.0.clone()).collect();
    new_ids.sort();
    assert_eq!(
        fixture.token_ids().await,
        new_ids,
        "only the new tokens are left"
    );

    let replan = fixture
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(replan.status.code(), Some(0), "{}", text(&replan));
    let values: Vec<String> = old_values.into_iter().chain(new_values).collect();
    check_no_leak(&fixture, &values).await;
    fixture.destroy().await;
}
