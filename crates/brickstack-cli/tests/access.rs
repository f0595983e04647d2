//! Single-user clusters through the binary against moto and the Databricks emulator (issue #12,
//! docs/access.md): the seed's workflow made declarative. Each test runs the local environment
//! under fresh names with an `[access.single_user_clusters]` section, Slack webhook URLs in moto's
//! SSM pointing at a receiver in the test, and checks what the emulator holds and what the
//! receiver got.

mod support;

use std::time::{Duration, Instant};

use brickstack_databricks::workspace::scim::{PatchOp, User};
use brickstack_databricks::{AccountClient, Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;
use brickstack_testkit::{
    DatabricksEndpoint, MotoEndpoint, require_databricks, require_moto, unique_account_id,
};
use serde_json::{Value, json};
use support::slack::SlackReceiver;
use support::{Cli, Stopped, emulator_env, free_port, local_spec, moto_clients, text};

const LIBRARIES: [&str; 2] = ["great-expectations==1.2.0", "pyarrow==17.0.0"];

/// One environment: its names, directory, Slack receiver and spec.
struct Env {
    environment: String,
    prefix: String,
    account_id: String,
    dir: tempfile::TempDir,
    slack: SlackReceiver,
    moto: MotoEndpoint,
    databricks: DatabricksEndpoint,
}

impl Env {
    async fn new(tag: &str, moto: MotoEndpoint, databricks: DatabricksEndpoint) -> Env {
        let suffix = format!("{:08x}", fastrand::u32(..));
        let env = Env {
            environment: format!("{tag}{suffix}"),
            prefix: format!("bs-{suffix}"),
            account_id: unique_account_id(),
            dir: tempfile::tempdir().unwrap(),
            slack: SlackReceiver::start().await,
            moto,
            databricks,
        };
        // The webhook URLs are secrets: they live in SSM, the spec names the parameters.
        let ssm = &moto_clients(&env.moto).ssm;
        for channel in ["user", "alarms"] {
            ssm.put_parameter()
                .name(env.parameter(channel))
                .value(env.slack.url(channel))
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
        env
    }

    fn parameter(&self, channel: &str) -> String {
        format!("/{}/slack/{channel}", self.prefix)
    }

    /// Writes the spec with `people` in `users` and the removal grace `grace`.
    fn write_spec(&self, people: &[&str], grace: &str, extra: &str) {
        let users: Vec<String> = people.iter().map(|p| format!("\"{p}\"")).collect();
        let libraries: String = LIBRARIES
            .iter()
            .map(|l| format!("\n[[access.single_user_clusters.libraries]]\npypi = \"{l}\"\n"))
            .collect();
        let spec = format!(
            "{}\n[access.single_user_clusters]\nusers = [{}]\nremoval_grace = \"{grace}\"\n\n[access.single_user_clusters.cluster]\nspark_version = \"15.4.x-scala2.12\"\nautotermination_minutes = 30\n{libraries}\n[access.single_user_clusters.notifications]\nuser_webhook_parameter = \"{}\"\nalarms_webhook_parameter = \"{}\"\n{extra}",
            local_spec(&self.environment, &self.prefix, &self.account_id),
            users.join(", "),
            self.parameter("user"),
            self.parameter("alarms"),
        );
        std::fs::write(self.dir.path().join("env.toml"), spec).unwrap();
    }

    /// [`Env::write_spec`] with `account_groups` in the section.
    fn write_spec_with_account_groups(&self, people: &[&str], grace: &str, groups: &[&str]) {
        self.write_spec(people, grace, "");
        let path = self.dir.path().join("env.toml");
        let names: Vec<String> = groups.iter().map(|g| format!("\"{g}\"")).collect();
        let spec = std::fs::read_to_string(&path).unwrap().replacen(
            &format!("removal_grace = \"{grace}\"\n"),
            &format!(
                "removal_grace = \"{grace}\"\naccount_groups = [{}]\n",
                names.join(", ")
            ),
            1,
        );
        std::fs::write(path, spec).unwrap();
    }

    /// An account client as the account's service principal.
    fn account_client(&self) -> AccountClient {
        AccountClient::new(
            &self.databricks.url,
            &self.account_id,
            Credentials::OAuthM2m {
                client_id: self.databricks.client_id.clone(),
                client_secret: SecretValue::new(self.databricks.client_secret.as_str()),
            },
            RetryPolicy::default(),
        )
        .unwrap()
    }

    fn cli(&self) -> Cli<'_> {
        let mut env = emulator_env(&self.moto, &self.databricks);
        env.push(("BRICKSTACK_LOG", "warn".into()));
        Cli {
            dir: self.dir.path(),
            env,
        }
    }

    async fn apply(&self) -> std::process::Output {
        self.cli()
            .run(&["apply", "--file", "env.toml", "--auto-approve"])
            .await
    }

    async fn plan_exit(&self) -> (Option<i32>, String) {
        let plan = self
            .cli()
            .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
            .await;
        (plan.status.code(), text(&plan))
    }

    /// The environment's one workspace in the emulator's inventory.
    async fn workspace(&self) -> Value {
        let inventory: Value = reqwest::get(format!(
            "{}/_emulator/inventory?account_id={}",
            self.databricks.url, self.account_id
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        inventory["workspaces"][0].clone()
    }

    /// The single-user clusters of the workspace, by the person they are for.
    async fn clusters(&self) -> Vec<Value> {
        self.workspace().await["objects"]["clusters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["single_user_name"].is_string())
            .collect()
    }

    async fn clusters_of(&self, person: &str) -> Vec<Value> {
        self.clusters()
            .await
            .into_iter()
            .filter(|c| c["single_user_name"] == person)
            .collect()
    }

    /// A workspace client as the account's service principal, for what a person's login does.
    async fn workspace_client(&self) -> WorkspaceClient {
        let workspace_url = format!(
            "{}/w/{}",
            self.databricks.url,
            self.workspace().await["workspace_id"]
        );
        WorkspaceClient::new(
            &workspace_url,
            Credentials::OAuthM2m {
                client_id: self.databricks.client_id.clone(),
                client_secret: SecretValue::new(self.databricks.client_secret.as_str()),
            },
            RetryPolicy::default(),
        )
        .unwrap()
    }

    /// Messages the user channel received that name `person`.
    fn messages_to(&self, person: &str) -> usize {
        self.slack
            .texts("user")
            .iter()
            .filter(|t| t.contains(person))
            .count()
    }

    async fn library_failure(&self, library: &str) {
        let workspace_id = self.workspace().await["workspace_id"].clone();
        let response = reqwest::Client::new()
            .post(format!("{}/_emulator/library-failures", self.databricks.url))
            .json(&json!({
                "library": {"pypi": {"package": library}},
                "message": format!("Could not find a version that satisfies the requirement {library}"),
                "workspace_id": workspace_id,
            }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
    }

    async fn clear_library_failures(&self) {
        let response = reqwest::Client::new()
            .delete(format!(
                "{}/_emulator/library-failures",
                self.databricks.url
            ))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
}

fn assert_ready(cluster: &Value, person: &str) {
    assert_eq!(cluster["single_user_name"], person, "{cluster:#}");
    assert_eq!(cluster["data_security_mode"], "SINGLE_USER", "{cluster:#}");
    assert_eq!(cluster["state"], "TERMINATED", "{cluster:#}");
    let libraries = cluster["libraries"].as_array().unwrap();
    assert_eq!(libraries.len(), LIBRARIES.len(), "{cluster:#}");
    // On a terminated cluster the libraries stay attached, installed when it last ran.
    for library in libraries {
        assert!(
            matches!(library["status"].as_str(), Some("INSTALLED" | "PENDING")),
            "{cluster:#}"
        );
    }
    assert_eq!(
        cluster["permissions"],
        json!([{"user_name": person, "permission_level": "CAN_RESTART"}]),
        "{cluster:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_people_one_never_logged_in_then_a_library_that_fails() {
    let (Some(moto), Some(databricks)) = (
        require_moto("three_people_one_never_logged_in_then_a_library_that_fails"),
        require_databricks("three_people_one_never_logged_in_then_a_library_that_fails"),
    ) else {
        return;
    };
    let env = Env::new("su", moto, databricks).await;
    let (ana, bo, cy) = (
        "ana.silva@example.com",
        "bo.lee@example.com",
        "cy.never@example.com",
    );

    // The environment first, with nobody: ana and bo then log in (their users exist), cy never does.
    env.write_spec(&[], "7d", "");
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    let workspace = env.workspace_client().await;
    for person in [ana, bo] {
        workspace.users().create(&User::new(person)).await.unwrap();
    }

    env.write_spec(&[ana, bo, cy], "7d", "");
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    for person in [ana, bo, cy] {
        let clusters = env.clusters_of(person).await;
        assert_eq!(clusters.len(), 1, "{person}: {clusters:#?}");
        assert_ready(&clusters[0], person);
        assert_eq!(env.messages_to(person), 1, "{:?}", env.slack.texts("user"));
    }
    assert_eq!(env.slack.texts("user").len(), 3);
    assert!(env.slack.texts("alarms").is_empty());
    // ana's and bo's users were adopted, cy's created: one user each.
    let users = workspace.users().list(None).await.unwrap();
    for person in [ana, bo, cy] {
        assert_eq!(
            users.iter().filter(|u| u.user_name == person).count(),
            1,
            "{person}"
        );
    }
    let (code, plan) = env.plan_exit().await;
    assert_eq!(code, Some(0), "{plan}");
    // The webhook URLs are secrets: never in state or output.
    let state = env
        .cli()
        .run(&["state", "list", "--file", "env.toml"])
        .await;
    assert!(!text(&state).contains(&env.slack.url("user")));
    assert!(!text(&applied).contains(&env.slack.url("user")));

    // A fourth person whose library fails: one alarm naming person, cluster and library, exit 1.
    let dee = "dee.fail@example.com";
    env.library_failure(LIBRARIES[1]).await;
    env.write_spec(&[ana, bo, cy, dee], "7d", "");
    let failed = env.apply().await;
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let alarms = env.slack.texts("alarms");
    assert_eq!(alarms.len(), 1, "{alarms:#?}");
    assert!(alarms[0].contains(dee), "{}", alarms[0]);
    assert!(alarms[0].contains("dee_fail_su_cluster"), "{}", alarms[0]);
    assert!(alarms[0].contains(LIBRARIES[1]), "{}", alarms[0]);
    assert_eq!(env.messages_to(dee), 0);
    let cluster_id = env.clusters_of(dee).await[0]["cluster_id"].clone();

    // Cleared, the next apply finishes dee on the same cluster and messages once.
    env.clear_library_failures().await;
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    let clusters = env.clusters_of(dee).await;
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0]["cluster_id"], cluster_id);
    assert_ready(&clusters[0], dee);
    assert_eq!(env.messages_to(dee), 1);
    assert_eq!(env.slack.texts("user").len(), 4);
    assert_eq!(env.slack.texts("alarms").len(), 1);
    let (code, plan) = env.plan_exit().await;
    assert_eq!(code, Some(0), "{plan}");

    // The members of an account group get one too: eve is an account user (as an identity
    // provider's SCIM makes them) in the local spec's account group `bs-local-analysts`, which
    // brickstack made; a service principal in the same group gets none.
    let account = env.account_client();
    let eve = "eve.account@example.com";
    let user = account.create_account_user(eve).await.unwrap();
    let robot = account
        .create_service_principal(
            &brickstack_databricks::account::service_principals::NewServicePrincipal {
                display_name: "analysts-robot".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let group = account
        .find_account_group("bs-local-analysts")
        .await
        .unwrap()
        .expect("brickstack made the account group");
    account
        .patch_account_group(
            &group.id,
            &[PatchOp::add("members", [user.id.clone(), robot.id.clone()])],
        )
        .await
        .unwrap();
    env.write_spec_with_account_groups(&[ana, bo, cy, dee], "7d", &["bs-local-analysts"]);
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    let clusters = env.clusters_of(eve).await;
    assert_eq!(clusters.len(), 1, "{clusters:#?}");
    assert_ready(&clusters[0], eve);
    assert_eq!(
        env.clusters().await.len(),
        5,
        "one each for ana, bo, cy, dee and eve"
    );
    let (code, plan) = env.plan_exit().await;
    assert_eq!(code, Some(0), "{plan}");
    // A misspelt account group is an error naming it, not five clusters fewer.
    env.write_spec_with_account_groups(&[ana, bo, cy, dee], "7d", &["bs-local-analyst"]);
    let refused = env.apply().await;
    assert_ne!(refused.status.code(), Some(0), "{}", text(&refused));
    assert!(
        text(&refused).contains("account group `bs-local-analyst`"),
        "{}",
        text(&refused)
    );
    assert_eq!(env.clusters().await.len(), 5);
    env.write_spec(&[ana, bo, cy, dee], "7d", "");

    destroy(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_leaves_loses_the_cluster_after_the_grace_period() {
    let (Some(moto), Some(databricks)) = (
        require_moto("a_person_who_leaves_loses_the_cluster_after_the_grace_period"),
        require_databricks("a_person_who_leaves_loses_the_cluster_after_the_grace_period"),
    ) else {
        return;
    };
    let env = Env::new("sg", moto, databricks).await;
    let (ana, bo) = ("ana.stays@example.com", "bo.leaves@example.com");
    env.write_spec(&[ana, bo], "20s", "");
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    assert_eq!(env.clusters().await.len(), 2);

    env.write_spec(&[ana], "20s", "");
    let (code, plan) = env.plan_exit().await;
    assert_eq!(code, Some(2), "{plan}");
    assert!(
        plan.contains("databricks_cluster.su_bo_leaves_example_com"),
        "{plan}"
    );
    assert!(plan.contains("pending removal"), "{plan}");
    let marked = Instant::now();
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    // Within the grace the cluster stays, and plans show it pending.
    assert_eq!(env.clusters_of(bo).await.len(), 1);
    let (_, plan) = env.plan_exit().await;
    assert!(plan.contains("pending removal"), "{plan}");
    assert!(!plan.contains("will be destroyed"), "{plan}");

    tokio::time::sleep(Duration::from_secs(21).saturating_sub(marked.elapsed())).await;
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(env.clusters_of(bo).await.is_empty(), "bo's cluster is gone");
    assert_eq!(env.clusters_of(ana).await.len(), 1, "ana's stays");
    let (code, plan) = env.plan_exit().await;
    assert_eq!(code, Some(0), "{plan}");
    destroy(&env).await;
}

/// `brickstack access grant` killed with SIGKILL at two moments (while the cluster boots, and as
/// soon as the person's message arrived), then an apply: one cluster, one message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_grant_then_apply_makes_no_duplicate_and_no_second_message() {
    let (Some(moto), Some(databricks)) = (
        require_moto("kill_9_during_a_grant_then_apply_makes_no_duplicate_and_no_second_message"),
        require_databricks(
            "kill_9_during_a_grant_then_apply_makes_no_duplicate_and_no_second_message",
        ),
    ) else {
        return;
    };
    let env = Env::new("sk", moto, databricks).await;
    env.write_spec(&[], "7d", "");
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));

    for (person, moment) in [
        ("kim.boot@example.com", KillAt::ClusterExists),
        ("lee.message@example.com", KillAt::MessageArrived),
    ] {
        let mut grant =
            Stopped(env.spawn(&["access", "grant", "--file", "env.toml", "--user", person]));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let reached = match moment {
                KillAt::ClusterExists => !env.clusters_of(person).await.is_empty(),
                KillAt::MessageArrived => env.messages_to(person) > 0,
            };
            if reached || grant.0.try_wait().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "{person}: {moment:?} never came");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let running = grant.0.try_wait().unwrap().is_none();
        // Killed while the grant was under way (the message's round may just miss it: the run
        // has little left to do once the message went).
        if matches!(moment, KillAt::ClusterExists) {
            assert!(running, "{person}: the grant finished before the kill");
        }
        drop(grant);
        unlock(&env).await;
        // The grant was recorded before anything was created, so apply finishes the person.
        let applied = env.apply().await;
        assert!(applied.status.success(), "{person}: {}", text(&applied));
        let clusters = env.clusters_of(person).await;
        assert_eq!(clusters.len(), 1, "{person}: {clusters:#?}");
        assert_ready(&clusters[0], person);
        assert_eq!(env.messages_to(person), 1, "{person}");
        let (code, plan) = env.plan_exit().await;
        assert_eq!(code, Some(0), "{person}: {plan}");
    }
    destroy(&env).await;
}

#[derive(Debug, Clone, Copy)]
enum KillAt {
    ClusterExists,
    MessageArrived,
}

impl Env {
    /// `brickstack args…` started in the background, as `Cli::run` would run it.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_brickstack"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (name, value) in self.cli().env {
            command.env(name, value);
        }
        command.spawn().unwrap()
    }
}

/// Removes the lock a killed run left, if it left one.
async fn unlock(env: &Env) {
    let path = env
        .dir
        .path()
        .join(format!("state/{}.json.lock", env.environment));
    let Ok(lock) = std::fs::read_to_string(&path) else {
        return;
    };
    let lock: Value = serde_json::from_str(&lock).unwrap();
    let id = lock["ID"].as_str().unwrap();
    let unlocked = env
        .cli()
        .run(&["force-unlock", "--file", "env.toml", id])
        .await;
    assert!(unlocked.status.success(), "{}", text(&unlocked));
}

async fn destroy(env: &Env) {
    let destroyed = env
        .cli()
        .run(&[
            "destroy",
            "--file",
            "env.toml",
            "--auto-approve",
            "--destroy-data",
        ])
        .await;
    assert!(destroyed.status.success(), "{}", text(&destroyed));
    assert!(env.clusters().await.is_empty());
}

/// `brickstack serve` over HTTP: 401 without a key and with a wrong one; grant, a repeat that
/// changes nothing, status, revoke; 20 concurrent grants all land, one run at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_service_grants_and_revokes_over_http() {
    let (Some(moto), Some(databricks)) = (
        require_moto("the_access_service_grants_and_revokes_over_http"),
        require_databricks("the_access_service_grants_and_revokes_over_http"),
    ) else {
        return;
    };
    let env = Env::new("sv", moto, databricks).await;
    let key = format!("key-{:016x}", fastrand::u64(..));
    let key_parameter = format!("/{}/serve/api-key", env.prefix);
    moto_clients(&env.moto)
        .ssm
        .put_parameter()
        .name(&key_parameter)
        .value(&key)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let port = free_port();
    let serve = format!(
        "\n[serve]\nlisten = \"127.0.0.1:{port}\"\nauth = \"api_key\"\nkey_parameter = \"{key_parameter}\"\n"
    );
    env.write_spec(&[], "7d", &serve);
    let applied = env.apply().await;
    assert!(applied.status.success(), "{}", text(&applied));

    let mut service = Stopped(env.spawn(&["serve", "--file", "env.toml"]));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(service.0.try_wait().unwrap().is_none(), "serve exited");
        assert!(Instant::now() < deadline, "serve never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let route = format!("{base}/v1/access/single-user-clusters");
    let ana = "ana.http@example.com";

    let none = http
        .post(&route)
        .json(&json!({"username": ana}))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let wrong = http
        .post(&route)
        .header("x-api-key", "not-the-key")
        .json(&json!({"username": ana}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(env.clusters().await.is_empty());

    let grant = |person: String| {
        let http = http.clone();
        let route = route.clone();
        let key = key.clone();
        async move {
            http.post(&route)
                .header("x-api-key", key)
                .json(&json!({"username": person}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = grant(ana.into()).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let ready = wait_ready(&http, &route, &key, ana).await;
    assert_eq!(ready["status"], "ready", "{ready:#}");
    let cluster_id = ready["cluster_id"].clone();
    // A repeat changes nothing: the same answer, no second cluster, no second message.
    let again = grant(ana.into()).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["cluster_id"], cluster_id, "{again:#} after {first:#}");
    assert_eq!(env.clusters_of(ana).await.len(), 1);
    assert_ready(&env.clusters_of(ana).await[0], ana);
    assert_eq!(env.messages_to(ana), 1);

    // Revoked: the cluster goes at once (an explicit decision, no grace).
    let revoked = http
        .delete(format!("{route}/{ana}"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{revoked:?}");
    let gone = wait_status(&http, &route, &key, ana, "absent").await;
    assert_eq!(gone["status"], "absent", "{gone:#}");
    assert!(env.clusters_of(ana).await.is_empty());

    // Twenty at once: all land.
    let people: Vec<String> = (0..20)
        .map(|i| format!("p{i:02}.many@example.com"))
        .collect();
    let answers = futures::future::join_all(people.iter().cloned().map(grant)).await;
    for answer in answers {
        assert_eq!(answer.status(), 202);
    }
    for person in &people {
        let ready = wait_ready(&http, &route, &key, person).await;
        assert_eq!(ready["status"], "ready", "{person}: {ready:#}");
    }
    for person in &people {
        assert_eq!(env.clusters_of(person).await.len(), 1, "{person}");
        assert_eq!(env.messages_to(person), 1, "{person}");
    }
    // One run at a time: the runs were batched, and every run took the one lock.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let runs: f64 = metrics
        .lines()
        .find(|l| l.starts_with("brickstack_serve_access_runs_total"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap()
        .parse()
        .unwrap();
    assert!(runs < 20.0, "{metrics}");
    drop(service);
    unlock(&env).await;

    // The service recorded each person in state, so the next plan agrees.
    let (code, plan) = env.plan_exit().await;
    assert_eq!(code, Some(0), "{plan}");
    destroy(&env).await;
}

/// A background `brickstack` killed when dropped, a failed assertion included.
async fn wait_ready(http: &reqwest::Client, route: &str, key: &str, person: &str) -> Value {
    wait_status(http, route, key, person, "ready").await
}

/// Polls a person's status until it is `wanted` or `failed`, for up to three minutes.
async fn wait_status(
    http: &reqwest::Client,
    route: &str,
    key: &str,
    person: &str,
    wanted: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let status: Value = http
            .get(format!("{route}/{person}"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["status"] == wanted || status["status"] == "failed" {
            return status;
        }
        assert!(Instant::now() < deadline, "{person}: {status:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
