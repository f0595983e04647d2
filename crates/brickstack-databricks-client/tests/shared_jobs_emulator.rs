//! The jobs client suite (`shared_jobs`) against brickstack's own Databricks emulator (a
//! workspace made through the account API, OAuth at the workspace): every scenario minilake
//! passes, and what the cluster-failure monitor reads that minilake cannot serve: the clusters of
//! a run and why it ended, 2.2's task pages, destinations' `*_set` flags, cluster events after a
//! cursor, and a terminated cluster's spec edited and started again.

mod emulator;
mod shared_jobs;

use std::time::Duration;

use brickstack_databricks_client::ErrorKind;
use brickstack_databricks_client::workspace::clusters::{
    AutoScale, AwsAttributes, ClusterSpec, ClusterState, EventType, EventsRequest, TerminationCode,
    TerminationType,
};
use brickstack_databricks_client::workspace::jobs::{
    RunLifeCycleState, RunResultState, RunSubmit, RunTerminationCode, RunTerminationType,
    SubmitTask, Webhook, WebhookNotifications,
};
use brickstack_databricks_client::workspace::notification_destinations::{
    DestinationType, GenericWebhookInfo, NewWebhookDestination,
};
use brickstack_databricks_client::workspace::policies::PolicySpec;
use brickstack_databricks_emulator::{ClusterTermination, RunFinish};
use brickstack_provider::SecretValue;
use brickstack_testkit::unique_name;
use emulator::EmulatorWorkspace;
use shared_jobs::{job_cluster, ok};

macro_rules! against_the_emulator {
    ($($scenario:ident),* $(,)?) => {
        mod client {
            use super::*;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let ws = EmulatorWorkspace::start().await;
                    shared_jobs::$scenario(&ws.client()).await;
                }
            )*
        }
    };
}

against_the_emulator! {
    submit_and_get_run,
    webhook_destinations,
}

/// Lets a minute of emulator time pass (cluster starts take 200 ms of it by default).
fn later(ws: &EmulatorWorkspace) {
    ws.emulator.advance_clock(Duration::from_secs(60));
}

fn finish(ws: &EmulatorWorkspace, run_id: i64, outcome: &str, code: Option<&str>) {
    let finished = ws.emulator.finish_run(&RunFinish {
        workspace_id: ws.workspace_id,
        run_id,
        outcome: outcome.into(),
        code: code.map(str::to_string),
        kind: code.map(|_| "CLOUD_FAILURE".to_string()),
        parameters: None,
    });
    finished.unwrap_or_else(|e| panic!("finish {run_id}: {e:?}"));
}

async fn all_purpose(ws: &EmulatorWorkspace, spec: ClusterSpec) -> String {
    let w = ws.client();
    let id = ok("create", w.create_cluster(&spec).await);
    later(ws);
    let running = ok("get", w.get_cluster(&id).await).expect("the cluster exists");
    assert_eq!(running.state, ClusterState::Running);
    id
}

/// A run on a job cluster and an existing cluster fails with a cluster failure: the run names
/// both clusters, says CLUSTER_ERROR, and each cluster tells its termination reason.
#[tokio::test]
async fn a_cluster_failure_reads_from_the_run_and_its_clusters() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    let mut spec = job_cluster(&w).await;
    spec.cluster_name = Some(unique_name("bs-shared"));
    let existing = all_purpose(&ws, spec).await;
    let hook = ok(
        "destination",
        w.create_webhook_destination(&NewWebhookDestination {
            display_name: unique_name("bs-dest"),
            // Nothing listens there: the delivery fails, which this test does not look at.
            url: SecretValue::new("http://127.0.0.1:9/hook"),
            username: None,
            password: None,
        })
        .await,
    );
    let submit = RunSubmit {
        run_name: Some("two-clusters".into()),
        tasks: vec![
            SubmitTask {
                task_key: "own".into(),
                new_cluster: Some(job_cluster(&w).await),
                ..SubmitTask::default()
            },
            SubmitTask {
                task_key: "shared".into(),
                existing_cluster_id: Some(existing.clone()),
                ..SubmitTask::default()
            },
        ],
        webhook_notifications: Some(WebhookNotifications {
            on_failure: vec![Webhook {
                id: hook.id.clone(),
            }],
            ..WebhookNotifications::default()
        }),
        ..RunSubmit::default()
    };
    let run_id = ok("submit", w.runs_submit(&submit).await);
    let run = ok("get", w.get_run(run_id).await).expect("the run exists");
    let ids = run.cluster_ids();
    assert_eq!(ids.len(), 2, "{run:?}");
    assert_eq!(ids[1], existing);
    let job_cluster_id = ids[0].clone();
    assert!(run.termination_details().is_none());
    assert!(!run.has_ended());
    later(&ws);
    let run = ok("get", w.get_run(run_id).await).unwrap();
    assert_eq!(
        run.state.unwrap().life_cycle_state,
        Some(RunLifeCycleState::Running)
    );

    let job = ok("get job cluster", w.get_cluster(&job_cluster_id).await).unwrap();
    assert!(job.is_job_cluster());
    let e = w.start_cluster(&job_cluster_id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    finish(
        &ws,
        run_id,
        "cluster_failure",
        Some("SPOT_INSTANCE_TERMINATION"),
    );
    let run = ok("get ended", w.get_run(run_id).await).unwrap();
    assert!(run.has_ended());
    let details = run.termination_details().expect("an ended run says why");
    assert_eq!(details.code, Some(RunTerminationCode::ClusterError));
    assert_eq!(details.kind, Some(RunTerminationType::CloudFailure));
    assert_eq!(
        run.state.as_ref().unwrap().result_state,
        Some(RunResultState::Failed)
    );
    assert!(run.end_time.is_some());
    for id in run.cluster_ids() {
        let cluster = ok("get cluster", w.get_cluster(&id).await).unwrap();
        let reason = cluster
            .termination_reason
            .expect("a terminating cluster says why");
        assert_eq!(reason.code, Some(TerminationCode::SpotInstanceTermination));
        assert_eq!(reason.kind, Some(TerminationType::CloudFailure));
    }
}

/// A code failure: RUN_EXECUTION_ERROR, and the job cluster ends normally (JOB_FINISHED).
#[tokio::test]
async fn a_code_failure_leaves_a_normal_end_on_the_job_cluster() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    let submit = shared_jobs::notebook_run(&w, &unique_name("bs-code")).await;
    let run_id = ok("submit", w.runs_submit(&submit).await);
    later(&ws);
    finish(&ws, run_id, "code_failure", None);
    let run = ok("get", w.get_run(run_id).await).unwrap();
    let details = run.termination_details().unwrap();
    assert_eq!(details.code, Some(RunTerminationCode::RunExecutionError));
    assert_eq!(details.kind, Some(RunTerminationType::ClientError));
    later(&ws);
    let id = &run.cluster_ids()[0];
    let cluster = ok("get", w.wait_terminated(id, Duration::from_secs(10)).await);
    let reason = cluster.termination_reason.unwrap();
    assert_eq!(reason.code, Some(TerminationCode::JobFinished));
    assert_eq!(reason.kind, Some(TerminationType::Success));
}

/// 2.2 answers 100 tasks a page; `get_run` follows the tokens and merges them.
#[tokio::test]
async fn get_run_merges_every_page_of_tasks() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    let mut spec = job_cluster(&w).await;
    spec.cluster_name = Some(unique_name("bs-wide"));
    let existing = all_purpose(&ws, spec).await;
    let tasks: Vec<SubmitTask> = (0..230)
        .map(|i| SubmitTask {
            task_key: format!("t{i:03}"),
            existing_cluster_id: Some(existing.clone()),
            ..SubmitTask::default()
        })
        .collect();
    let run_id = ok(
        "submit",
        w.runs_submit(&RunSubmit {
            run_name: Some("wide".into()),
            tasks,
            ..RunSubmit::default()
        })
        .await,
    );
    let before = w.client().calls();
    let run = ok("get", w.get_run(run_id).await).unwrap();
    let calls = w.client().calls();
    let gets = |c: &std::collections::BTreeMap<String, u64>| {
        c.get("GET /api/2.2/jobs/runs/get").copied().unwrap_or(0)
    };
    assert_eq!(gets(&calls) - gets(&before), 3, "three pages");
    assert_eq!(run.tasks.len(), 230);
    assert_eq!(run.tasks[229].task_key, "t229");
    assert_eq!(run.cluster_ids(), [existing]);
}

/// The API reports which of a webhook's values are set, never the values; an update replaces
/// them.
#[tokio::test]
async fn destinations_report_which_values_are_set() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    let mut new = NewWebhookDestination {
        display_name: unique_name("bs-dest"),
        url: SecretValue::new("https://hooks.example.com/a"),
        username: Some("jobs".into()),
        password: Some(SecretValue::new("pw")),
    };
    let made = ok("create", w.create_webhook_destination(&new).await);
    assert_eq!(made.destination_type, Some(DestinationType::Webhook));
    let all_set = GenericWebhookInfo {
        url_set: true,
        username_set: true,
        password_set: true,
    };
    assert_eq!(made.config.unwrap().generic_webhook, Some(all_set));
    new.username = None;
    new.password = None;
    new.display_name.push_str("-2");
    let updated = ok("update", w.update_webhook_destination(&made.id, &new).await);
    assert_eq!(updated.display_name, new.display_name);
    let read = ok("get", w.get_notification_destination(&made.id).await).unwrap();
    // An update that leaves out the user name and password keeps them (PATCH).
    assert_eq!(read.config.unwrap().generic_webhook, Some(all_set));
}

/// What the monitor does with a failed cluster it may repair: read the events after its cursor,
/// oldest first over pages; read the terminated cluster's spec, change availability, node type
/// and zone, edit, start.
#[tokio::test]
async fn a_terminated_clusters_spec_goes_back_changed_and_events_follow_a_cursor() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    let policy = ok(
        "policy",
        w.create_policy(&PolicySpec {
            name: unique_name("bs-policy"),
            definition: Some("{}".into()),
            ..PolicySpec::default()
        })
        .await,
    );
    let mut spec = job_cluster(&w).await;
    spec.cluster_name = Some(unique_name("bs-fallback"));
    spec.num_workers = None;
    spec.autoscale = Some(AutoScale {
        min_workers: 1,
        max_workers: 4,
    });
    spec.policy_id = Some(policy.clone());
    spec.node_type_id = Some("i3.xlarge".into());
    spec.aws_attributes = Some(AwsAttributes {
        availability: Some("SPOT".into()),
        zone_id: Some("eu-west-1a".into()),
        first_on_demand: Some(1),
        ..AwsAttributes::default()
    });
    let id = all_purpose(&ws, spec.clone()).await;
    let seen = ok(
        "events so far",
        w.cluster_events(&EventsRequest::after(&id, None)).await,
    );
    let cursor = seen.last().and_then(|e| e.timestamp);
    let kinds: Vec<EventType> = seen.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, [EventType::Creating, EventType::Running]);

    let terminated = ws.emulator.terminate_cluster(&ClusterTermination {
        workspace_id: ws.workspace_id,
        cluster_id: id.clone(),
        code: "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE".into(),
        kind: "CLOUD_FAILURE".into(),
        parameters: None,
    });
    assert!(terminated.is_ok(), "{terminated:?}");
    later(&ws);
    let details = ok("get", w.get_cluster(&id).await).unwrap();
    assert_eq!(details.state, ClusterState::Terminated);
    assert_eq!(details.cluster_source.as_deref(), Some("API"));
    assert!(!details.is_job_cluster());
    assert_eq!(details.spec.policy_id.as_deref(), Some(policy.as_str()));
    assert_eq!(details.spec.custom_tags["team"], "data");
    assert_eq!(details.spec.autoscale, spec.autoscale);
    assert!(details.terminated_time.is_some());
    let reason = details.termination_reason.clone().unwrap();
    assert_eq!(
        reason.code,
        Some(TerminationCode::AwsInsufficientInstanceCapacityFailure)
    );
    let attributes = details.spec.aws_attributes.clone().unwrap();
    assert_eq!(attributes.availability.as_deref(), Some("SPOT"));
    assert_eq!(attributes.zone_id.as_deref(), Some("eu-west-1a"));

    let mut fallback = details.editable_spec();
    assert_eq!(fallback, spec, "the spec as sent comes back whole");
    let aws = fallback.aws_attributes.as_mut().unwrap();
    aws.availability = Some("ON_DEMAND".into());
    aws.zone_id = Some("eu-west-1b".into());
    fallback.node_type_id = Some("r5d.xlarge".into());
    ok("edit", w.edit_cluster(&id, &fallback).await);
    ok("start", w.start_cluster(&id).await);
    later(&ws);
    let restarted = ok("get", w.get_cluster(&id).await).unwrap();
    assert_eq!(restarted.state, ClusterState::Running);
    assert_eq!(restarted.spec.node_type_id.as_deref(), Some("r5d.xlarge"));
    let aws = restarted.spec.aws_attributes.unwrap();
    assert_eq!(
        (
            aws.availability.as_deref(),
            aws.zone_id.as_deref(),
            aws.first_on_demand
        ),
        (Some("ON_DEMAND"), Some("eu-west-1b"), Some(1))
    );
    assert_eq!(restarted.spec.policy_id.as_deref(), Some(policy.as_str()));

    // After the cursor, two a page: the failure, the edit, the start, running.
    let request = EventsRequest {
        page_size: Some(2),
        ..EventsRequest::after(&id, cursor)
    };
    let after = ok("events after", w.cluster_events(&request).await);
    let kinds: Vec<EventType> = after.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            EventType::Terminating,
            EventType::Edited,
            EventType::Starting,
            EventType::Running
        ]
    );
    assert_eq!(after[0].details.reason.as_ref(), Some(&reason));
}
