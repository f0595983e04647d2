//! The kill -9 harness (issue #11): `brickstack apply` of the whole local environment against
//! moto and the Databricks emulator, killed with SIGKILL at a random moment (seeded, spread over
//! an uninterrupted apply's duration), then applied again. Each round must converge in that one
//! re-apply with no duplicate and no orphan: as many objects left in moto (by tag, with plain
//! describe calls) and in the Databricks emulator's inventory as an uninterrupted apply leaves,
//! the workspace's tokens exactly those state records, and the next plan empty.
//!
//! The suite runs `BRICKSTACK_KILL_ROUNDS` rounds (default 2, to keep CI short); `scripts/bench.sh
//! kill` runs 30 and writes the figures (`BRICKSTACK_KILL_REPORT`). `BRICKSTACK_KILL_SEED` replays
//! a run's kill times.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use brickstack_testkit::{
    DatabricksEndpoint, MotoEndpoint, require_databricks, require_moto, unique_account_id,
};
use serde_json::Value;
use support::{Cli, emulator_env, local_spec, moto_clients, text};

/// One environment of a round: its names, its directory and the CLI there.
struct Round {
    environment: String,
    prefix: String,
    account_id: String,
    dir: tempfile::TempDir,
}

impl Round {
    fn new(tag: &str) -> Round {
        let suffix = format!("{:08x}", fastrand::u32(..));
        let round = Round {
            environment: format!("{tag}{suffix}"),
            prefix: format!("bs-{suffix}"),
            account_id: unique_account_id(),
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            round.dir.path().join("env.toml"),
            local_spec(&round.environment, &round.prefix, &round.account_id),
        )
        .unwrap();
        round
    }

    fn cli<'a>(&'a self, moto: &MotoEndpoint, databricks: &DatabricksEndpoint) -> Cli<'a> {
        let mut env = emulator_env(moto, databricks);
        // A kill leaves the log unread: keep it short.
        env.push(("BRICKSTACK_LOG", "warn".into()));
        Cli {
            dir: self.dir.path(),
            env,
        }
    }

    fn state(&self) -> Value {
        let path = self
            .dir
            .path()
            .join(format!("state/{}.json", self.environment));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The id of the lock a killed run left, if it left one.
    fn stale_lock(&self) -> Option<String> {
        let path = self
            .dir
            .path()
            .join(format!("state/{}.json.lock", self.environment));
        let lock: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        lock["ID"].as_str().map(str::to_string)
    }
}

/// What an environment leaves in the emulators: moto's tagged objects, the Databricks
/// emulator's objects, and the workspace's tokens.
#[derive(Debug, PartialEq)]
struct Footprint {
    aws: usize,
    databricks: usize,
    tokens: Vec<String>,
}

async fn footprint(
    round: &Round,
    moto: &MotoEndpoint,
    databricks: &DatabricksEndpoint,
) -> Footprint {
    let aws = brickstack_aws::inventory::leftovers(
        &moto_clients(moto),
        &round.environment,
        &round.prefix,
    )
    .await
    .unwrap()
    .len();
    let inventory: Value = reqwest::get(format!(
        "{}/_emulator/inventory?account_id={}",
        databricks.url, round.account_id
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    fn count(value: &Value) -> usize {
        match value {
            Value::Array(items) => items.len() + items.iter().map(count).sum::<usize>(),
            Value::Object(map) => map.values().map(count).sum(),
            _ => 0,
        }
    }
    let mut tokens: Vec<String> = inventory["workspaces"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|w| {
            w["objects"]["tokens"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|t| t["token_id"].as_str().map(str::to_string))
        .collect();
    tokens.sort();
    Footprint {
        aws,
        databricks: count(&inventory),
        tokens,
    }
}

/// The token ids state records, sorted.
fn recorded_tokens(state: &Value) -> Vec<String> {
    let mut ids: Vec<String> = state["resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| {
            matches!(
                r["kind"].as_str(),
                Some("databricks_token" | "databricks_obo_token")
            )
        })
        .filter_map(|r| r["attributes"]["token_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// Runs `apply` and kills it with SIGKILL after `after` (if it has not finished by then).
async fn killed_apply(round: &Round, cli: &Cli<'_>, after: Duration) -> bool {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_brickstack"));
    command
        .args(["apply", "--file", "env.toml", "--auto-approve"])
        .current_dir(round.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", round.dir.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (name, value) in &cli.env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    tokio::select! {
        _ = child.wait() => false,
        () = tokio::time::sleep(after) => {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
            true
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_applies_converge_in_one_reapply_with_no_duplicate_and_no_orphan() {
    const TEST: &str = "killed_applies_converge_in_one_reapply_with_no_duplicate_and_no_orphan";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let rounds: usize = std::env::var("BRICKSTACK_KILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2);
    let seed: u64 = std::env::var("BRICKSTACK_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    eprintln!("{TEST}: {rounds} round(s), seed {seed} (BRICKSTACK_KILL_SEED replays it)");

    // The baseline: an uninterrupted apply's duration and what it leaves.
    let baseline = Round::new("k9b");
    let cli = baseline.cli(&moto, &databricks);
    let started = Instant::now();
    let apply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    let duration = started.elapsed();
    assert!(
        apply.status.success(),
        "the baseline apply failed:\n{}",
        text(&apply)
    );
    let expected = footprint(&baseline, &moto, &databricks).await;
    assert_eq!(expected.tokens, recorded_tokens(&baseline.state()));
    destroy(&baseline, &cli).await;

    let mut lines = vec![format!(
        "seed {seed}; uninterrupted apply {:.1}s; footprint: {} AWS objects, {} Databricks objects, {} tokens",
        duration.as_secs_f64(),
        expected.aws,
        expected.databricks,
        expected.tokens.len()
    )];
    let mut failures = Vec::new();
    for n in 1..=rounds {
        let round = Round::new("k9r");
        let cli = round.cli(&moto, &databricks);
        let at = duration.mul_f64(rng.f64());
        let killed = killed_apply(&round, &cli, at).await;
        let unlocked = match round.stale_lock() {
            Some(id) => {
                let unlock = cli.run(&["force-unlock", "--file", "env.toml", &id]).await;
                assert!(unlock.status.success(), "{}", text(&unlock));
                true
            }
            None => false,
        };
        let reapply = cli
            .run(&["apply", "--file", "env.toml", "--auto-approve"])
            .await;
        let mut problems = Vec::new();
        if !reapply.status.success() {
            problems.push(format!(
                "the re-apply failed: {}",
                String::from_utf8_lossy(&reapply.stderr).trim()
            ));
        }
        let replan = cli
            .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
            .await;
        if replan.status.code() != Some(0) {
            problems.push(format!("the next plan is not empty:\n{}", text(&replan)));
        }
        let found = footprint(&round, &moto, &databricks).await;
        if found.aws != expected.aws {
            problems.push(format!("{} AWS objects, not {}", found.aws, expected.aws));
        }
        if found.databricks != expected.databricks {
            problems.push(format!(
                "{} Databricks objects, not {}",
                found.databricks, expected.databricks
            ));
        }
        if reapply.status.success() && found.tokens != recorded_tokens(&round.state()) {
            problems.push(format!(
                "tokens in the workspace {:?}, in state {:?}",
                found.tokens,
                recorded_tokens(&round.state())
            ));
        }
        lines.push(format!(
            "round {n}: kill at {:.2}s ({}), {}: {}",
            at.as_secs_f64(),
            if killed { "killed" } else { "had finished" },
            if unlocked {
                "stale lock removed"
            } else {
                "no lock left"
            },
            if problems.is_empty() {
                "converged, nothing duplicated or orphaned".to_string()
            } else {
                problems.join("; ")
            }
        ));
        if !problems.is_empty() {
            failures.push(n);
        }
        destroy(&round, &cli).await;
    }
    lines.push(format!(
        "{} of {rounds} round(s) converged cleanly",
        rounds - failures.len()
    ));
    let report = lines.join("\n");
    eprintln!("{report}");
    if let Ok(path) = std::env::var("BRICKSTACK_KILL_REPORT") {
        std::fs::write(Path::new(&path), format!("{report}\n")).unwrap();
    }
    assert!(
        failures.is_empty(),
        "rounds {failures:?} did not converge cleanly:\n{report}"
    );
}

/// Destroys a round's environment, so the emulators do not fill up.
async fn destroy(round: &Round, cli: &Cli<'_>) {
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
        "destroy of `{}` failed:\n{}",
        round.environment,
        text(&destroy)
    );
}
