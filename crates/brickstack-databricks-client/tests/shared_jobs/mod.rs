//! The jobs and notification-destination client suite: one scenario per behaviour, each taking
//! a `&WorkspaceClient` and asserting only what both a faithful emulator and the real API do.
//! Objects get unique names, so scenarios run in parallel against one workspace.
//!
//! `shared_jobs_minilake.rs` runs what minilake 1.9.0 serves faithfully enough: submitting a
//! run and reading it back (it serves `runs/submit` and `runs/get` under `/api/2.2` only, runs
//! the tasks itself, and reports neither `status`, `cluster_instance` nor a `job_id` for one-time
//! runs), and the destinations' create/list/get/delete (it answers `destination_type`
//! `GENERIC_WEBHOOK` where the vendor says `WEBHOOK`, and echoes the URL and password back
//! instead of `*_set` flags). What needs a faithful emulator (clusters of a run, termination
//! details, task pages, `*_set`) is in `shared_jobs_emulator.rs`.

#![allow(dead_code, reason = "each test binary runs its part of the suite")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use brickstack_databricks_client::WorkspaceClient;
use brickstack_databricks_client::workspace::clusters::ClusterSpec;
use brickstack_databricks_client::workspace::jobs::{NotebookTask, Run, RunSubmit, SubmitTask};
use brickstack_databricks_client::workspace::notification_destinations::NewWebhookDestination;
use brickstack_provider::SecretValue;
use brickstack_testkit::unique_name;

pub fn ok<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A job cluster spec the workspace can run: its first runtime and node type, one worker.
pub async fn job_cluster(w: &WorkspaceClient) -> ClusterSpec {
    let versions = ok("spark-versions", w.spark_versions().await);
    let node_types = ok("list-node-types", w.list_node_types().await);
    ClusterSpec {
        spark_version: versions.first().expect("a runtime").key.clone(),
        node_type_id: Some(
            node_types
                .first()
                .expect("a node type")
                .node_type_id
                .clone(),
        ),
        num_workers: Some(1),
        custom_tags: BTreeMap::from([("team".to_string(), "data".to_string())]),
        ..ClusterSpec::default()
    }
}

/// A one-task run on a job cluster running a notebook that does not exist.
pub async fn notebook_run(w: &WorkspaceClient, name: &str) -> RunSubmit {
    RunSubmit {
        run_name: Some(name.to_string()),
        tasks: vec![SubmitTask {
            task_key: "main".into(),
            new_cluster: Some(job_cluster(w).await),
            notebook_task: Some(NotebookTask {
                notebook_path: format!("/Shared/{name}"),
                ..NotebookTask::default()
            }),
            ..SubmitTask::default()
        }],
        ..RunSubmit::default()
    }
}

/// The run once `ready` holds (servers fill tasks in as they go), within ten seconds.
pub async fn run_when(w: &WorkspaceClient, run_id: i64, ready: impl Fn(&Run) -> bool) -> Run {
    let started = Instant::now();
    loop {
        let run = ok("get run", w.get_run(run_id).await).expect("the run exists");
        if ready(&run) || started.elapsed() > Duration::from_secs(10) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Submit a run, read it back (its id, name and task), a repeat with the same idempotency token
/// answers the same run, and a run that does not exist reads as none.
pub async fn submit_and_get_run(w: &WorkspaceClient) {
    let name = unique_name("bs-run");
    let mut submit = notebook_run(w, &name).await;
    submit.idempotency_token = Some(unique_name("bs-token"));
    let run_id = ok("submit", w.runs_submit(&submit).await);
    assert_eq!(
        ok("submit again", w.runs_submit(&submit).await),
        run_id,
        "the idempotency token names the first run"
    );
    let run = run_when(w, run_id, |r| !r.tasks.is_empty()).await;
    assert_eq!(run.run_id, run_id);
    assert_eq!(run.run_name.as_deref(), Some(name.as_str()));
    let state = run.state.as_ref().expect("a run has a state");
    assert!(state.life_cycle_state.is_some(), "{run:?}");
    let keys: Vec<&str> = run.tasks.iter().map(|t| t.task_key.as_str()).collect();
    assert_eq!(keys, ["main"]);
    assert!(run.tasks[0].run_id.is_some_and(|id| id != run_id));

    let missing = run_id.saturating_add(987_654_321);
    assert!(
        ok("get a missing run", w.get_run(missing).await).is_none(),
        "a missing run reads as none"
    );
}

/// A generic-webhook destination: create, list, get, delete (then it reads as none and a second
/// delete is fine). Nothing the client returns shows the URL or the password.
pub async fn webhook_destinations(w: &WorkspaceClient) {
    let name = unique_name("bs-dest");
    let secret_path = unique_name("hook-path");
    let new = NewWebhookDestination {
        display_name: name.clone(),
        url: SecretValue::new(format!("https://hooks.example.com/{secret_path}")),
        username: Some("monitor".into()),
        password: Some(SecretValue::new("pw-do-not-show")),
    };
    let made = ok("create", w.create_webhook_destination(&new).await);
    assert!(!made.id.is_empty());
    assert_eq!(made.display_name, name);
    let listed = ok("list", w.list_notification_destinations().await);
    assert!(
        listed
            .iter()
            .any(|d| d.id == made.id && d.display_name == name),
        "{listed:?}"
    );
    let read = ok("get", w.get_notification_destination(&made.id).await).expect("it exists");
    assert_eq!(read.id, made.id);
    assert_eq!(read.display_name, name);
    for shown in [
        format!("{made:?}"),
        format!("{read:?}"),
        format!("{listed:?}"),
    ] {
        assert!(
            !shown.contains(&secret_path) && !shown.contains("pw-do-not-show"),
            "{shown}"
        );
    }
    ok("delete", w.delete_notification_destination(&made.id).await);
    assert!(
        ok(
            "get deleted",
            w.get_notification_destination(&made.id).await
        )
        .is_none()
    );
    ok(
        "delete again",
        w.delete_notification_destination(&made.id).await,
    );
}
