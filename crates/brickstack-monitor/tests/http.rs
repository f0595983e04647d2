//! The monitor's routes over HTTP: the seed's push payloads and answers, authentication, the
//! test event, push and poll of one failure, job notifications, standby, status JSON and page.

mod common;

use std::sync::Arc;

use brickstack_monitor::{Leadership, PushAuth, RunInfo, SecretValue};
use common::*;
use serde_json::{Value, json};

const KEY: &str = "balaji-rca-secret-2025";

async fn serve(monitor: &Arc<TestMonitor>) -> String {
    let router = monitor.routes(PushAuth {
        api_key: Some(SecretValue::new(KEY)),
        job_webhook: Some(("jobs".into(), SecretValue::new("hunter2"))),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

async fn push(url: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/databricks-monitor"))
        .json(body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The seed's "Simulate Driver Crash" payload.
fn driver_crash(cluster_id: &str) -> Value {
    json!({
        "event": "cluster.terminated",
        "cluster": {
            "cluster_id": cluster_id,
            "cluster_name": "Test Cluster",
            "state": "TERMINATED",
            "termination_reason": {
                "code": "DRIVER_UNREACHABLE",
                "type": "CLIENT_ERROR",
                "parameters": {"driver_id": "driver-abc"}
            }
        }
    })
}

/// The seed's "Simulate Resource Exhaustion" payload.
fn capacity(cluster_id: &str) -> Value {
    json!({
        "event": "cluster.terminated",
        "cluster": {
            "cluster_id": cluster_id,
            "cluster_name": "Analytics Cluster",
            "state": "TERMINATED",
            "termination_reason": {
                "code": "INSUFFICIENT_INSTANCE_CAPACITY",
                "type": "CLOUD_FAILURE",
                "parameters": {"region": "eastus2"}
            }
        }
    })
}

#[tokio::test]
async fn the_seed_driver_crash_payload_for_a_known_cluster_starts_a_recovery() {
    let s = setup();
    s.clusters.add_cluster(WS, "test-cluster-123");
    s.clusters
        .terminate(WS, "test-cluster-123", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    let url = serve(&s.monitor).await;

    let (status, body) = push(&url, Some(KEY), &driver_crash("test-cluster-123")).await;
    assert_eq!(status, 200, "{body}");
    let ticket_id = body["ticket_id"].as_str().unwrap().to_owned();
    assert!(ticket_id.starts_with("RCA-") && ticket_id.ends_with("-001"));
    assert_eq!(
        body,
        json!({
            "status": "success",
            "ticket_id": ticket_id,
            "error_type": "DatabricksDriverNotResponding",
            "recovery_status": "in_progress",
            "actions_taken": ["start_cluster"],
            "message": "Cluster start initiated"
        })
    );
    let tickets = settled(&s).await;
    assert_eq!(tickets[0].status, "closed");
    assert_eq!(tickets[0].source, "push");

    // The same push again, and the next poll: still one ticket.
    let (_, again) = push(&url, Some(KEY), &driver_crash("test-cluster-123")).await;
    assert_eq!(again["ticket_id"], json!(ticket_id));
    assert_eq!(again["recovery_status"], "recovered");
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .starts_with("already handled"),
        "{again}"
    );
    s.monitor.poll().await.unwrap();
    assert_eq!(s.tickets().len(), 1);
    assert_eq!(
        s.clusters
            .with(WS, "test-cluster-123", |c| c.starts_applied),
        1
    );
}

#[tokio::test]
async fn a_failure_seen_by_a_poll_and_then_pushed_is_one_ticket() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    let url = serve(&s.monitor).await;
    s.monitor.poll().await.unwrap();
    let polled = settled(&s).await;
    assert_eq!(polled.len(), 1);
    // Recovered meanwhile; the push (late, as pushes may be) describes the old failure.

    let (status, body) = push(&url, Some(KEY), &driver_crash("c1")).await;
    assert_eq!(status, 200);
    assert_eq!(body["ticket_id"], json!(polled[0].ticket_id));
    assert_eq!(s.tickets().len(), 1);
}

#[tokio::test]
async fn the_seed_payloads_for_unknown_clusters_get_ticket_only_answers() {
    let s = setup();
    let url = serve(&s.monitor).await;

    let (status, body) = push(&url, Some(KEY), &driver_crash("test-cluster-123")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["error_type"], "DatabricksDriverNotResponding");
    assert_eq!(body["recovery_status"], "not_attempted");
    assert_eq!(body["actions_taken"], json!([]));

    let (status, body) = push(&url, Some(KEY), &capacity("test-cluster-456")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error_type"], "DatabricksResourceExhausted");
    assert!(body["ticket_id"].as_str().unwrap().ends_with("-002"));

    // Pushed twice: the same ticket.
    let (_, again) = push(&url, Some(KEY), &capacity("test-cluster-456")).await;
    assert_eq!(again["ticket_id"], body["ticket_id"]);
    let tickets = s.tickets();
    assert_eq!(tickets.len(), 2);
    assert!(
        tickets
            .iter()
            .all(|t| t.workspace_id == 0 && t.hold.as_deref() == Some("cluster_unknown"))
    );
    assert_eq!(s.clusters.calls("start"), 0);

    // A workspace that cannot be asked: 502 (the sender retries), no ticket in workspace 0.
    s.clusters.fail_calls("get");
    let (status, body) = push(&url, Some(KEY), &driver_crash("test-cluster-789")).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("test-cluster-789"),
        "{body}"
    );
    assert_eq!(s.tickets().len(), 2);
}

#[tokio::test]
async fn test_events_expected_terminations_bad_bodies_and_keys() {
    let s = setup();
    let url = serve(&s.monitor).await;
    assert_eq!(
        push(&url, Some(KEY), &json!({"event": "test"})).await,
        (
            200,
            json!({"status": "ok", "message": "test event received"})
        )
    );
    assert_eq!(
        push(&url, None, &json!({"event": "test"})).await,
        (401, json!({"error": "missing api key"}))
    );
    assert_eq!(
        push(
            &url,
            Some("balaji-rca-secret-2024"),
            &json!({"event": "test"})
        )
        .await,
        (401, json!({"error": "invalid api key"}))
    );
    let (status, _) = push(&url, Some(KEY), &json!({"event": "cluster.terminated"})).await;
    assert_eq!(status, 400);
    let (status, _) = push(&url, Some(KEY), &json!({"cluster": "nope"})).await;
    assert_eq!(status, 400);

    let mut user = driver_crash("c9");
    user["cluster"]["termination_reason"] = json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": "ana@example.com"}});
    let (status, body) = push(&url, Some(KEY), &user).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ignored");
    assert_eq!(body["ticket_id"], Value::Null);
    assert_eq!(body["error_type"], Value::Null);
    assert_eq!(body["recovery_status"], "not_needed");
    assert!(s.tickets().is_empty());
}

#[tokio::test]
async fn a_standby_answers_pushes_and_readyz_with_503() {
    let s = setup_with(config(), false);
    let url = serve(&s.monitor).await;
    let response = reqwest::Client::new()
        .post(format!("{url}/databricks-monitor"))
        .header("x-api-key", KEY)
        .json(&driver_crash("c1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "30");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "standby", "leader": "replica-a"})
    );
    let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    // The page and the JSON still answer.
    let page = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("http-equiv=\"refresh\" content=\"30\"")
    );
    let view: Value = reqwest::get(format!("{url}/monitor/status.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["active"], false);
    assert_eq!(view["environment"], "dev");

    s.leadership
        .send(Leadership {
            active: true,
            leader: Some("replica-a".into()),
        })
        .unwrap();
    assert_eq!(
        reqwest::get(format!("{url}/readyz"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(s.clusters.calls("list"), 0, "a standby never polled");
}

async fn job_notification(url: &str, auth: Option<(&str, &str)>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/databricks-monitor/jobs"))
        .json(body);
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn job_notifications_tell_cluster_failures_from_code_failures() {
    let s = setup();
    let url = serve(&s.monitor).await;
    // Run 7 died with its job cluster; run 8 failed in its code on a cluster that finished normally.
    s.clusters.add_cluster(WS, "job-7");
    s.clusters.with(WS, "job-7", |c| {
        c.cluster.cluster_source = Some("JOB".into())
    });
    s.clusters
        .terminate(WS, "job-7", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.clusters.add_cluster(WS, "job-8");
    s.clusters.with(WS, "job-8", |c| {
        c.cluster.cluster_source = Some("JOB".into())
    });
    s.clusters.terminate(WS, "job-8", "JOB_FINISHED", "SUCCESS");
    for (run_id, cluster, code) in [
        (7, "job-7", "CLUSTER_ERROR"),
        (8, "job-8", "RUN_EXECUTION_ERROR"),
    ] {
        s.clusters.add_run(
            WS,
            RunInfo {
                run_id,
                job_id: Some(70),
                run_name: Some("nightly".into()),
                cluster_ids: vec![cluster.into()],
                termination_code: Some(code.into()),
                ..RunInfo::default()
            },
        );
    }
    let payload = |run_id: Value, ws: Value| {
        json!({"event_type": "jobs.on_failure", "workspace_id": ws, "run": {"run_id": run_id},
               "job": {"job_id": 70, "name": "nightly"}, "extra": true})
    };
    let auth = Some(("jobs", "hunter2"));

    let (status, body) = job_notification(&url, auth, &payload(json!(7), json!(WS))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    let failures = body["cluster_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["cluster_id"], "job-7");
    assert_eq!(failures[0]["error_type"], "DatabricksDriverNotResponding");
    assert_eq!(
        failures[0]["recovery_status"], "not_attempted",
        "a job cluster: ticket only"
    );
    let tickets = s.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].hold.as_deref(), Some("job_cluster"));
    assert_eq!(tickets[0].source, "jobs");

    // Ids as strings; a code failure gets no ticket, only the audit trail.
    let (status, body) =
        job_notification(&url, auth, &payload(json!("8"), json!(WS.to_string()))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "code_failure");
    assert_eq!(s.tickets().len(), 1);
    let audit = brickstack_monitor::audit_records(&s.records()).unwrap();
    let code = audit.iter().find(|a| a.kind == "code_failure").unwrap();
    assert_eq!(code.detail["run_id"], 8);
    assert_eq!(code.detail["termination_code"], "RUN_EXECUTION_ERROR");

    // The same notification again: handled once.
    let (_, body) = job_notification(&url, auth, &payload(json!(7), json!(WS))).await;
    assert_eq!(body["status"], "duplicate");
    assert_eq!(s.tickets().len(), 1);
    assert_eq!(s.clusters.calls("run"), 2);

    // Credentials.
    assert_eq!(
        job_notification(&url, None, &payload(json!(7), json!(WS)))
            .await
            .0,
        401
    );
    assert_eq!(
        job_notification(&url, Some(("jobs", "wrong")), &payload(json!(7), json!(WS)))
            .await
            .0,
        401
    );
    assert_eq!(
        job_notification(&url, auth, &json!({"run": 1})).await.0,
        400
    );
}

#[tokio::test]
async fn routes_without_credentials_are_not_served() {
    let s = setup();
    let router = s.monitor.routes(PushAuth::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    assert_eq!(
        push(&url, Some(KEY), &json!({"event": "test"})).await.0,
        404
    );
    assert_eq!(
        reqwest::get(format!("{url}/readyz"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn the_status_json_shows_clusters_tickets_and_recoveries() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    s.clusters.add_cluster(WS, "c2");
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.clusters
        .terminate(WS, "c2", "INVALID_SPARK_IMAGE", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    settled(&s).await;
    s.monitor.poll().await.unwrap();
    let url = serve(&s.monitor).await;
    let view: Value = reqwest::get(format!("{url}/monitor/status.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws = &view["workspaces"][0];
    assert_eq!(ws["name"], "analytics");
    let health = |id: &str| {
        ws["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cluster_id"] == id)
            .unwrap()["health"]
            .clone()
    };
    assert_eq!(health("c1"), "healthy");
    assert_eq!(health("c2"), "failed");
    assert_eq!(ws["open_tickets"].as_array().unwrap().len(), 1);
    assert_eq!(ws["open_tickets"][0]["code"], "INVALID_SPARK_IMAGE");
    assert_eq!(view["recent_recoveries"][0]["cluster_name"], "c1-name");
    assert_eq!(view["recent_recoveries"][0]["outcome"], "closed");
    assert_eq!(
        view["recent_recoveries"][0]["actions"],
        json!(["start_cluster"])
    );
}

#[tokio::test]
async fn a_late_push_for_a_cluster_running_again_restarts_nothing() {
    let s = setup();
    // Running, with no failure in its events: the push is stale or false.
    s.clusters.add_cluster(WS, "busy-cluster");
    let url = serve(&s.monitor).await;

    let (status, body) = push(&url, Some(KEY), &driver_crash("busy-cluster")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ignored", "{body}");
    assert_eq!(body["recovery_status"], "not_needed", "{body}");
    assert!(body["ticket_id"].is_null(), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("RUNNING"),
        "{body}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(s.tickets().is_empty(), "{:#?}", s.tickets());
    assert_eq!(s.clusters.calls("restart"), 0);
    assert_eq!(s.clusters.calls("start"), 0);
}
