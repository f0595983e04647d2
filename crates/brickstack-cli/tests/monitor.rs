//! The cluster-failure monitor through the binary (issue #13, docs/monitor.md): `brickstack serve`
//! started by the test against moto and the Databricks emulator, clusters failed with the
//! emulator's controls, and what the monitor did read from the emulator (cluster events), the
//! Slack receiver, the service's answers, its records, `monitor report` and the status page in
//! headless Chromium.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use brickstack_databricks::workspace::clusters::{AwsAttributes, ClusterSpec, EventsRequest};
use brickstack_databricks::workspace::jobs::{
    NotebookTask, RunSubmit, SubmitTask, Webhook, WebhookNotifications,
};
use brickstack_databricks::workspace::notification_destinations::NewWebhookDestination;
use brickstack_databricks::{Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;
use brickstack_testkit::{
    DatabricksEndpoint, MotoEndpoint, require_databricks, require_moto, unique_account_id,
};
use serde_json::{Value, json};
use support::slack::SlackReceiver;
use support::{Cli, Stopped, emulator_env, free_port, local_spec, moto_clients, text};

/// The poll interval the tests' monitor runs with.
const INTERVAL: Duration = Duration::from_secs(2);

/// One deployed environment with a monitor: names, directory, Slack receiver, secrets.
struct Env {
    environment: String,
    prefix: String,
    account_id: String,
    dir: tempfile::TempDir,
    slack: SlackReceiver,
    moto: MotoEndpoint,
    databricks: DatabricksEndpoint,
    /// The service's key (access routes) and the push key (`x-api-key` of /databricks-monitor).
    push_key: String,
    jobs_password: String,
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
            push_key: format!("push-{:016x}", fastrand::u64(..)),
            jobs_password: format!("jobs-{:016x}", fastrand::u64(..)),
        };
        let ssm = &moto_clients(&env.moto).ssm;
        let service_key = format!("key-{:016x}", fastrand::u64(..));
        for (name, value) in [
            ("serve/api-key", service_key),
            ("monitor/push-key", env.push_key.clone()),
            ("monitor/slack", env.slack.url("oncall")),
            ("monitor/jobs-user", "databricks-jobs".to_string()),
            ("monitor/jobs-password", env.jobs_password.clone()),
        ] {
            ssm.put_parameter()
                .name(format!("/{}/{name}", env.prefix))
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
        env
    }

    /// The local environment with `[serve]` on `port` and a `[monitor]` acting on clusters tagged
    /// `monitor = "on"`, with short timeouts, a lease of `lease`.
    fn write_spec(&self, port: u16, lease: &str) {
        let p = &self.prefix;
        let spec = format!(
            r#"{}
[serve]
listen = "127.0.0.1:{port}"
auth = "api_key"
key_parameter = "/{p}/serve/api-key"

[monitor]
interval = "{interval}s"
lease = "{lease}"
api_key_parameter = "/{p}/monitor/push-key"
slack_webhook_parameter = "/{p}/monitor/slack"
job_webhook_username_parameter = "/{p}/monitor/jobs-user"
job_webhook_password_parameter = "/{p}/monitor/jobs-password"

[monitor.scope]
tags = {{ monitor = "on" }}

[monitor.breaker]
threshold = 3
window = "1h"
cooldown = "15m"

[monitor.playbooks.DatabricksDriverNotResponding]
action = "restart"
timeout = "90s"
health_check_timeout = "30s"

[monitor.playbooks.DatabricksClusterTerminated]
action = "restart"
timeout = "90s"
health_check_timeout = "30s"

[monitor.playbooks.DatabricksResourceExhausted]
action = "restart_with_fallback"
on_demand = true
instance_types = ["i3.xlarge", "r5d.xlarge"]
timeout = "90s"
health_check_timeout = "30s"
"#,
            local_spec(&self.environment, &self.prefix, &self.account_id),
            interval = INTERVAL.as_secs(),
        );
        std::fs::write(self.dir.path().join("env.toml"), spec).unwrap();
    }

    fn cli(&self) -> Cli<'_> {
        let mut env = emulator_env(&self.moto, &self.databricks);
        env.push(("BRICKSTACK_LOG", "warn".into()));
        Cli {
            dir: self.dir.path(),
            env,
        }
    }

    async fn apply(&self) {
        let applied = self
            .cli()
            .run(&["apply", "--file", "env.toml", "--auto-approve"])
            .await;
        assert!(applied.status.success(), "{}", text(&applied));
    }

    /// `brickstack serve --file env.toml [extra…]` in the background, its output in a file of
    /// the environment's directory (kept for a failing test's message).
    fn spawn_serve(&self, name: &str, extra: &[&str]) -> Stopped {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_brickstack"));
        command
            .args(["serve", "--file", "env.toml"])
            .args(extra)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("BRICKSTACK_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (name, value) in self.cli().env {
            if name != "BRICKSTACK_LOG" {
                command.env(name, value);
            }
        }
        Stopped(command.spawn().unwrap())
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    fn records(&self) -> PathBuf {
        self.dir
            .path()
            .join("state")
            .join(format!("{}.monitor.sqlite", self.environment))
    }

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

    async fn workspace_id(&self) -> i64 {
        self.workspace().await["workspace_id"].as_i64().unwrap()
    }

    /// A workspace client as the account's service principal: what a person or a job does.
    async fn client(&self) -> WorkspaceClient {
        WorkspaceClient::new(
            &format!("{}/w/{}", self.databricks.url, self.workspace_id().await),
            Credentials::OAuthM2m {
                client_id: self.databricks.client_id.clone(),
                client_secret: SecretValue::new(self.databricks.client_secret.as_str()),
            },
            RetryPolicy::default(),
        )
        .unwrap()
    }

    /// A running all-purpose cluster made outside brickstack, in the monitor's scope when
    /// `in_scope` (tag `monitor = "on"`).
    async fn running_cluster(&self, name: &str, in_scope: bool, availability: &str) -> String {
        let client = self.client().await;
        let mut spec = ClusterSpec {
            cluster_name: Some(name.into()),
            spark_version: "15.4.x-scala2.12".into(),
            node_type_id: Some("i3.xlarge".into()),
            num_workers: Some(1),
            autotermination_minutes: Some(60),
            aws_attributes: Some(AwsAttributes {
                availability: Some(availability.into()),
                ..AwsAttributes::default()
            }),
            ..ClusterSpec::default()
        };
        if in_scope {
            spec.custom_tags.insert("monitor".into(), "on".into());
        }
        let id = client.create_cluster(&spec).await.unwrap();
        self.wait_state(&id, "RUNNING", Duration::from_secs(60))
            .await;
        id
    }

    async fn cluster(&self, cluster_id: &str) -> Value {
        let client = self.client().await;
        let details = client.get_cluster(cluster_id).await.unwrap().unwrap();
        serde_json::to_value(details).unwrap()
    }

    async fn wait_state(&self, cluster_id: &str, state: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let now = self.cluster(cluster_id).await;
            if now["state"] == state {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cluster {cluster_id} never reached {state}: {now:#}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The cluster's event types after `after_ms`, oldest first.
    async fn events_after(&self, cluster_id: &str, after_ms: i64) -> Vec<(i64, String)> {
        let client = self.client().await;
        let events = client
            .cluster_events(&EventsRequest::after(cluster_id, Some(after_ms)))
            .await
            .unwrap();
        events
            .into_iter()
            .filter_map(|e| Some((e.timestamp?, e.kind.as_str().to_string())))
            .filter(|(at, _)| *at > after_ms)
            .collect()
    }

    /// The timestamp of the cluster's last `TERMINATING` event.
    async fn last_terminating(&self, cluster_id: &str) -> i64 {
        self.events_after(cluster_id, 0)
            .await
            .into_iter()
            .filter(|(_, kind)| kind == "TERMINATING")
            .map(|(at, _)| at)
            .max()
            .expect("a TERMINATING event")
    }

    /// How many times the cluster was started or restarted after `after_ms`.
    async fn starts_after(&self, cluster_id: &str, after_ms: i64) -> usize {
        self.events_after(cluster_id, after_ms)
            .await
            .iter()
            .filter(|(_, kind)| kind == "STARTING" || kind == "RESTARTING")
            .count()
    }

    /// Fails a running cluster now with `code` and `type` (the emulator's control).
    async fn fail(&self, cluster_id: &str, code: &str, kind: &str) {
        let before = self
            .events_after(cluster_id, 0)
            .await
            .iter()
            .map(|(at, _)| *at)
            .max()
            .unwrap_or(0);
        let response = reqwest::Client::new()
            .post(format!(
                "{}/_emulator/cluster-terminations",
                self.databricks.url
            ))
            .json(&json!({
                "workspace_id": self.workspace_id().await,
                "cluster_id": cluster_id,
                "code": code,
                "type": kind,
            }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
        // The termination shows in the events; not by waiting for `TERMINATED`, since the
        // monitor may have started the cluster again before a busy test reads its state.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self
            .events_after(cluster_id, before)
            .await
            .iter()
            .any(|(_, kind)| kind == "TERMINATING")
        {
            assert!(
                Instant::now() < deadline,
                "cluster {cluster_id} never terminated after the injected failure"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A one-time job run on a new job cluster in the monitor's scope, notifying `on_failure`.
    async fn submit_run(&self, name: &str, on_failure: Option<&str>) -> i64 {
        let mut cluster = ClusterSpec {
            spark_version: "15.4.x-scala2.12".into(),
            node_type_id: Some("i3.xlarge".into()),
            num_workers: Some(1),
            ..ClusterSpec::default()
        };
        cluster.custom_tags.insert("monitor".into(), "on".into());
        let submit = RunSubmit {
            run_name: Some(name.into()),
            tasks: vec![SubmitTask {
                task_key: "main".into(),
                new_cluster: Some(cluster),
                notebook_task: Some(NotebookTask {
                    notebook_path: "/Shared/job".into(),
                    ..NotebookTask::default()
                }),
                ..SubmitTask::default()
            }],
            webhook_notifications: on_failure.map(|id| WebhookNotifications {
                on_failure: vec![Webhook { id: id.into() }],
                ..WebhookNotifications::default()
            }),
            ..RunSubmit::default()
        };
        self.client().await.runs_submit(&submit).await.unwrap()
    }

    async fn control(&self, path: &str, body: Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/_emulator/{path}", self.databricks.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.text().await.unwrap_or_default()
        );
    }

    fn tickets(&self) -> Vec<Value> {
        brickstack_monitor::tickets(&self.records())
            .unwrap()
            .into_iter()
            .map(|t| serde_json::to_value(t).unwrap())
            .collect()
    }

    fn tickets_of(&self, cluster_id: &str) -> Vec<Value> {
        self.tickets()
            .into_iter()
            .filter(|t| t["cluster_id"] == cluster_id)
            .collect()
    }

    /// Waits for the cluster's tickets to reach `count`, the last one `status`.
    async fn wait_ticket(
        &self,
        cluster_id: &str,
        count: usize,
        status: &str,
        within: Duration,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let tickets = self.tickets_of(cluster_id);
            if tickets.len() >= count
                && tickets
                    .iter()
                    .max_by_key(|t| t["detected_at_ms"].as_i64())
                    .is_some_and(|t| t["status"] == status)
            {
                return tickets
                    .into_iter()
                    .max_by_key(|t| t["detected_at_ms"].as_i64())
                    .unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "cluster {cluster_id}: wanted {count} ticket(s), the last {status}; have {tickets:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn wait_http(base: &str, path: &str, status: u16, service: &mut Stopped, within: Duration) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + within;
    loop {
        if let Ok(answer) = http.get(format!("{base}{path}")).send().await
            && answer.status().as_u16() == status
        {
            return;
        }
        assert!(service.0.try_wait().unwrap().is_none(), "serve exited");
        assert!(
            Instant::now() < deadline,
            "{base}{path} never answered {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn actions(ticket: &Value) -> Vec<String> {
    ticket["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let action = a["action"].as_str().unwrap_or_default();
            match a["detail"].as_str().filter(|d| !d.is_empty()) {
                Some(detail) => format!("{action}:{detail}"),
                None => action.to_string(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_monitor_recovers_failures_leaves_expected_terminations_and_opens_breakers() {
    let (Some(moto), Some(databricks)) = (
        require_moto(
            "the_monitor_recovers_failures_leaves_expected_terminations_and_opens_breakers",
        ),
        require_databricks(
            "the_monitor_recovers_failures_leaves_expected_terminations_and_opens_breakers",
        ),
    ) else {
        return;
    };
    let env = Env::new("mon", moto, databricks).await;
    let port = free_port();
    env.write_spec(port, "30s");
    env.apply().await;
    let base = format!("http://127.0.0.1:{port}");
    let mut service = env.spawn_serve("serve", &[]);
    wait_http(&base, "/readyz", 200, &mut service, Duration::from_secs(60)).await;
    let http = reqwest::Client::new();

    // 1. A running cluster's driver becomes unreachable: found by the poll within one interval,
    //    a ticket, a start, the health check, the ticket closed, Slack told.
    let a = env.running_cluster("mon-a", true, "ON_DEMAND").await;
    let failed_at = Instant::now();
    env.fail(&a, "DRIVER_UNREACHABLE", "SERVICE_FAULT").await;
    let a_failure = env.last_terminating(&a).await;
    let opened = env.wait_ticket(&a, 1, "in_progress", INTERVAL * 5).await;
    let noticed = failed_at.elapsed();
    assert!(
        noticed <= INTERVAL + Duration::from_secs(3),
        "the failure was noticed after {noticed:?}, more than one poll interval ({INTERVAL:?}) and a poll"
    );
    assert_eq!(
        opened["error_type"], "DatabricksDriverNotResponding",
        "{opened:#}"
    );
    assert_eq!(opened["code"], "DRIVER_UNREACHABLE");
    let closed = env
        .wait_ticket(&a, 1, "closed", Duration::from_secs(90))
        .await;
    assert!(
        closed["ticket_id"].as_str().unwrap().starts_with("RCA-"),
        "{closed:#}"
    );
    env.wait_state(&a, "RUNNING", Duration::from_secs(5)).await;
    assert_eq!(
        env.starts_after(&a, a_failure).await,
        1,
        "one start for one failure"
    );
    let a_ticket = closed["ticket_id"].as_str().unwrap().to_string();
    let a_messages: Vec<String> = env
        .slack
        .texts("oncall")
        .into_iter()
        .filter(|t| t.contains(&a_ticket))
        .collect();
    assert!(
        a_messages.len() >= 2,
        "opened and recovered: {a_messages:#?}"
    );
    assert!(
        a_messages
            .iter()
            .any(|t| t.to_lowercase().contains("recovered")),
        "{a_messages:#?}"
    );

    // 2. No capacity for a spot cluster's start: started again on demand, the ticket says so.
    let b = env.running_cluster("mon-b", true, "SPOT").await;
    // A user's termination is no failure.
    env.client().await.terminate_cluster(&b).await.unwrap();
    env.wait_state(&b, "TERMINATED", Duration::from_secs(30))
        .await;
    env.control(
        "cluster-failures",
        json!({
            "workspace_id": env.workspace_id().await,
            "cluster_id": b,
            "on": "start",
            "code": "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
            "type": "CLOUD_FAILURE",
            "parameters": {"aws_api_error_code": "InsufficientInstanceCapacity"},
            "times": 1,
        }),
    )
    .await;
    env.client().await.start_cluster(&b).await.unwrap();
    let b_closed = env
        .wait_ticket(&b, 1, "closed", Duration::from_secs(90))
        .await;
    assert_eq!(
        b_closed["error_type"], "DatabricksResourceExhausted",
        "{b_closed:#}"
    );
    let b_actions = actions(&b_closed);
    assert!(
        b_actions.iter().any(|a| a.contains("on_demand")),
        "the ticket says which fallback: {b_actions:?}"
    );
    let b_now = env.cluster(&b).await;
    assert_eq!(b_now["state"], "RUNNING");
    assert_eq!(
        b_now["aws_attributes"]["availability"], "ON_DEMAND",
        "{b_now:#}"
    );

    // 3. Expected terminations: a user's (b's above), an auto-termination, a finished job
    //    cluster. No ticket, no action.
    let c = env.running_cluster("mon-c", true, "ON_DEMAND").await;
    env.fail(&c, "INACTIVITY", "SUCCESS").await;
    let c_end = env.last_terminating(&c).await;
    let run = env.submit_run("mon-job", None).await;
    let job_cluster = wait_job_cluster(&env, run).await;
    env.control(
        "runs/finish",
        json!({"workspace_id": env.workspace_id().await, "run_id": run, "outcome": "success"}),
    )
    .await;
    env.wait_state(&job_cluster, "TERMINATED", Duration::from_secs(30))
        .await;
    let job_end = env.last_terminating(&job_cluster).await;
    tokio::time::sleep(INTERVAL * 3).await;
    for (cluster, end) in [(&c, c_end), (&job_cluster, job_end)] {
        assert!(
            env.tickets_of(cluster).is_empty(),
            "{cluster}: {:#?}",
            env.tickets_of(cluster)
        );
        assert_eq!(
            env.starts_after(cluster, end).await,
            0,
            "{cluster} was touched"
        );
    }
    assert_eq!(
        env.tickets_of(&b).len(),
        1,
        "the user's termination of b opened a ticket"
    );

    // 3b. Job-failure notifications from a generic-webhook destination (Basic auth), enriched
    //     through the run: a cluster failure gets a ticket (ticket only: a job cluster cannot be
    //     started again), a code failure none.
    let destination = env
        .client()
        .await
        .create_webhook_destination(&NewWebhookDestination {
            display_name: format!("{}-monitor", env.prefix),
            url: SecretValue::new(format!("{base}/databricks-monitor/jobs")),
            username: Some("databricks-jobs".into()),
            password: Some(SecretValue::new(env.jobs_password.as_str())),
        })
        .await
        .unwrap();
    let code_run = env.submit_run("mon-code", Some(&destination.id)).await;
    let code_cluster = wait_job_cluster(&env, code_run).await;
    env.control(
        "runs/finish",
        json!({"workspace_id": env.workspace_id().await, "run_id": code_run, "outcome": "code_failure"}),
    )
    .await;
    let broken_run = env.submit_run("mon-broken", Some(&destination.id)).await;
    let broken_cluster = wait_job_cluster(&env, broken_run).await;
    env.control(
        "runs/finish",
        json!({
            "workspace_id": env.workspace_id().await,
            "run_id": broken_run,
            "outcome": "cluster_failure",
            "code": "DRIVER_UNRESPONSIVE",
            "type": "SERVICE_FAULT",
        }),
    )
    .await;
    let broken = env
        .wait_ticket(&broken_cluster, 1, "open", Duration::from_secs(60))
        .await;
    assert_eq!(
        broken["error_type"], "DatabricksDriverNotResponding",
        "{broken:#}"
    );
    assert!(
        actions(&broken).is_empty(),
        "a job cluster was acted on: {broken:#}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let deliveries: Value = reqwest::get(format!(
            "{}/_emulator/deliveries?workspace_id={}",
            env.databricks.url,
            env.workspace_id().await
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let delivered: Vec<(i64, u64)> = deliveries["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| Some((d["run_id"].as_i64()?, d["status"].as_u64()?)))
            .collect();
        if [code_run, broken_run]
            .iter()
            .all(|run| delivered.contains(&(*run, 200)))
        {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries: {deliveries:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(INTERVAL * 2).await;
    assert!(
        env.tickets_of(&code_cluster).is_empty(),
        "a code failure got a ticket"
    );
    assert_eq!(
        env.tickets_of(&broken_cluster).len(),
        1,
        "notification and poll made two tickets"
    );

    // 4. The same failure three times within the window: the breaker opens; the third gets a
    //    ticket and an alert, no start.
    let d = env.running_cluster("mon-d", true, "ON_DEMAND").await;
    for round in 1..=3 {
        env.fail(&d, "CLOUD_PROVIDER_SHUTDOWN", "CLOUD_FAILURE")
            .await;
        let status = if round < 3 { "closed" } else { "open" };
        let ticket = env
            .wait_ticket(&d, round, status, Duration::from_secs(90))
            .await;
        assert_eq!(
            ticket["error_type"], "DatabricksClusterTerminated",
            "{ticket:#}"
        );
        if round < 3 {
            env.wait_state(&d, "RUNNING", Duration::from_secs(5)).await;
        } else {
            let third = env.last_terminating(&d).await;
            tokio::time::sleep(INTERVAL * 2).await;
            assert_eq!(
                env.starts_after(&d, third).await,
                0,
                "started with the breaker open"
            );
            assert!(actions(&ticket).is_empty(), "{ticket:#}");
            let why = format!("{} {}", ticket["hold"], ticket["note"]);
            assert!(why.contains("breaker"), "{ticket:#}");
            let texts = env.slack.texts("oncall");
            assert!(
                texts.iter().any(|t| t.to_lowercase().contains("breaker")),
                "{texts:#?}"
            );
            assert!(
                texts
                    .iter()
                    .any(|t| t.contains(ticket["ticket_id"].as_str().unwrap())),
                "{texts:#?}"
            );
        }
    }

    // 5. The seed's test payloads on the push route.
    let push = format!("{base}/databricks-monitor");
    let e = env.running_cluster("mon-e", true, "ON_DEMAND").await;
    env.fail(&e, "DRIVER_UNREACHABLE", "CLIENT_ERROR").await;
    let pushed = |payload: Value, key: Option<&str>| {
        let mut request = http.post(&push).json(&payload);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send()
    };
    let driver_payload = json!({
        "event": "cluster.terminated",
        "cluster": {
            "cluster_id": e,
            "cluster_name": "mon-e",
            "state": "TERMINATED",
            "termination_reason": {"code": "DRIVER_UNREACHABLE", "type": "CLIENT_ERROR", "parameters": {"driver_id": "driver-abc"}},
        },
    });
    let none = pushed(driver_payload.clone(), None).await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = pushed(driver_payload.clone(), Some("balaji-rca-secret-2025"))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let answer = pushed(driver_payload, Some(&env.push_key)).await.unwrap();
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["status"], "success", "{answer:#}");
    assert!(
        answer["ticket_id"].as_str().unwrap().starts_with("RCA-"),
        "{answer:#}"
    );
    assert_eq!(
        answer["error_type"], "DatabricksDriverNotResponding",
        "{answer:#}"
    );
    assert!(
        ["in_progress", "recovered"].contains(&answer["recovery_status"].as_str().unwrap()),
        "{answer:#}"
    );
    assert!(
        answer["actions_taken"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("start")),
        "{answer:#}"
    );
    env.wait_ticket(&e, 1, "closed", Duration::from_secs(90))
        .await;
    tokio::time::sleep(INTERVAL * 2).await;
    assert_eq!(
        env.tickets_of(&e).len(),
        1,
        "push and poll made two tickets"
    );
    let capacity = pushed(
        json!({
            "event": "cluster.terminated",
            "cluster": {
                "cluster_id": "test-cluster-456",
                "cluster_name": "Analytics Cluster",
                "state": "TERMINATED",
                "termination_reason": {"code": "INSUFFICIENT_INSTANCE_CAPACITY", "type": "CLOUD_FAILURE", "parameters": {"region": "eastus2"}},
            },
        }),
        Some(&env.push_key),
    )
    .await
    .unwrap();
    assert_eq!(capacity.status(), 200);
    let capacity: Value = capacity.json().await.unwrap();
    assert_eq!(capacity["status"], "success", "{capacity:#}");
    assert_eq!(
        capacity["error_type"], "DatabricksResourceExhausted",
        "{capacity:#}"
    );
    for field in ["ticket_id", "recovery_status", "actions_taken"] {
        assert!(!capacity[field].is_null(), "{field}: {capacity:#}");
    }
    let test_event: Value = pushed(json!({"event": "test"}), Some(&env.push_key))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(test_event["status"], "ok", "{test_event:#}");

    // 6. `monitor report` on these records, and the same figures in /metrics.
    let report = env
        .cli()
        .run(&["monitor", "report", "--file", "env.toml", "--json"])
        .await;
    assert!(report.status.success(), "{}", text(&report));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let failures = |error_type: &str| -> i64 {
        report["error_types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["error_type"] == error_type)
            .map_or(0, |t| t["failures_24h"].as_i64().unwrap())
    };
    assert_eq!(failures("DatabricksDriverNotResponding"), 3, "{report:#}");
    assert_eq!(failures("DatabricksClusterTerminated"), 3, "{report:#}");
    assert_eq!(failures("DatabricksResourceExhausted"), 2, "{report:#}");
    assert!(
        report["breaker_openings_24h"].as_i64().unwrap() >= 1,
        "{report:#}"
    );
    assert!(report["mttr_seconds"].as_f64().unwrap() > 0.0, "{report:#}");
    let text_report = env
        .cli()
        .run(&["monitor", "report", "--file", "env.toml"])
        .await;
    assert!(text_report.status.success());
    assert!(text(&text_report).contains("DatabricksClusterTerminated"));
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "brickstack_monitor_failures_24h{error_type=\"DatabricksClusterTerminated\"} 3"
        ),
        "{metrics}"
    );

    // 7. The status page in a real browser: the open breaker, the recovered cluster.
    let Some(chromium) = brickstack_testkit::browser::require_chromium(
        "the_monitor_recovers_failures_leaves_expected_terminations_and_opens_breakers",
    ) else {
        return;
    };
    let page = format!("{base}/");
    let dom = chromium.dump_dom(&page).await.unwrap();
    assert!(
        dom.contains("data-breaker=\"error_type:DatabricksClusterTerminated\""),
        "the open breaker is not shown:\n{dom}"
    );
    assert!(
        dom.contains("data-state=\"open\""),
        "no open breaker shown:\n{dom}"
    );
    assert!(
        dom.contains(&format!("data-ticket=\"{a_ticket}\"")),
        "the recovery of a is not shown:\n{dom}"
    );
    assert!(
        dom.contains(&format!("data-cluster=\"{a}\"")),
        "cluster a is not shown:\n{dom}"
    );
    let screenshot = brickstack_testkit::browser::artifacts_dir()
        .unwrap()
        .join("monitor-status.png");
    chromium
        .screenshot(&page, &screenshot, 1280, 1800)
        .await
        .unwrap();
    drop(service);
    let _ = env.log("serve");
}

/// The job cluster of run `run_id` once the run has one.
async fn wait_job_cluster(env: &Env, run_id: i64) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = env.client().await.get_run(run_id).await.unwrap().unwrap();
        if let Some(id) = run.cluster_ids().into_iter().next() {
            env.wait_state(&id, "RUNNING", Duration::from_secs(60))
                .await;
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} never got a cluster"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_replica_acts_a_killed_one_is_replaced_and_its_recovery_completes_once() {
    let (Some(moto), Some(databricks)) = (
        require_moto("one_replica_acts_a_killed_one_is_replaced_and_its_recovery_completes_once"),
        require_databricks(
            "one_replica_acts_a_killed_one_is_replaced_and_its_recovery_completes_once",
        ),
    ) else {
        return;
    };
    let env = Env::new("rep", moto, databricks).await;
    let lease = Duration::from_secs(6);
    let (port_1, port_2) = (free_port(), free_port());
    env.write_spec(port_1, &format!("{}s", lease.as_secs()));
    env.apply().await;
    let (base_1, base_2) = (
        format!("http://127.0.0.1:{port_1}"),
        format!("http://127.0.0.1:{port_2}"),
    );
    let mut first = env.spawn_serve("first", &[]);
    wait_http(&base_1, "/readyz", 200, &mut first, Duration::from_secs(60)).await;
    let mut second = env.spawn_serve("second", &["--listen", &format!("127.0.0.1:{port_2}")]);
    wait_http(
        &base_2,
        "/readyz",
        503,
        &mut second,
        Duration::from_secs(60),
    )
    .await;
    // Exactly one acts: the standby does not poll.
    tokio::time::sleep(INTERVAL * 2).await;
    let polls = |base: String| async move {
        let metrics = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metrics
            .lines()
            .find(|l| l.starts_with("brickstack_monitor_polls_total"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert!(polls(base_1.clone()).await > 0.0, "{}", env.log("first"));
    assert_eq!(
        polls(base_2.clone()).await,
        0.0,
        "the standby polls:\n{}",
        env.log("second")
    );

    // Slow starts, so the active replica is killed while its recovery waits for the cluster.
    let f = env.running_cluster("rep-f", true, "ON_DEMAND").await;
    env.control(
        "cluster-delays",
        json!({"workspace_id": env.workspace_id().await, "start_delay_ms": 15_000}),
    )
    .await;
    env.fail(&f, "DRIVER_UNREACHABLE", "SERVICE_FAULT").await;
    let failure = env.last_terminating(&f).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.starts_after(&f, failure).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the monitor never started f:\n{}",
            env.log("first")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(env.tickets_of(&f)[0]["status"], "in_progress");
    // kill -9: no release of the lease, the recovery cut off mid-wait.
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let killed = Instant::now();
    wait_http(&base_2, "/readyz", 200, &mut second, lease * 3).await;
    let took_over = killed.elapsed();
    assert!(
        took_over <= lease + lease / 3 + Duration::from_secs(2),
        "the standby took over after {took_over:?}, the lease is {lease:?}"
    );
    let ticket = env
        .wait_ticket(&f, 1, "closed", Duration::from_secs(120))
        .await;
    assert_eq!(env.tickets_of(&f).len(), 1);
    assert_eq!(
        env.starts_after(&f, failure).await,
        1,
        "a second start of the same failure"
    );
    assert_eq!(actions(&ticket).len(), 1, "{ticket:#}");

    // The only replica killed mid-recovery and started again on its address: it takes its own
    // lease back, resumes the recovery from the records, and starts nothing twice.
    let g = env.running_cluster("rep-g", true, "ON_DEMAND").await;
    env.fail(&g, "DRIVER_UNREACHABLE", "SERVICE_FAULT").await;
    let g_failure = env.last_terminating(&g).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.starts_after(&g, g_failure).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the monitor never started g:\n{}",
            env.log("second")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(env.tickets_of(&g)[0]["status"], "in_progress");
    second.0.kill().unwrap();
    second.0.wait().unwrap();
    let mut again = env.spawn_serve(
        "second-again",
        &["--listen", &format!("127.0.0.1:{port_2}")],
    );
    wait_http(&base_2, "/readyz", 200, &mut again, lease * 3).await;
    let g_ticket = env
        .wait_ticket(&g, 1, "closed", Duration::from_secs(120))
        .await;
    assert_eq!(env.tickets_of(&g).len(), 1);
    assert_eq!(
        env.starts_after(&g, g_failure).await,
        1,
        "a second start of the same failure after the restart"
    );
    assert_eq!(actions(&g_ticket).len(), 1, "{g_ticket:#}");
    let audit = brickstack_monitor::audit_records(&env.records()).unwrap();
    let resumed = audit
        .iter()
        .filter(|a| {
            a.kind == "recovery_resumed" && a.ticket_id.as_deref() == g_ticket["ticket_id"].as_str()
        })
        .count();
    assert!(
        resumed >= 1,
        "the restarted replica did not resume g's recovery"
    );

    let cleared = reqwest::Client::new()
        .delete(format!("{}/_emulator/cluster-delays", env.databricks.url))
        .json(&json!({"workspace_id": env.workspace_id().await}))
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success());
    drop(again);
}
