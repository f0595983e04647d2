//! One-time job runs, notification destinations and the `on_failure` webhook: submit → job
//! cluster → `runs/get` → `/_emulator/runs/finish` (each outcome) → the delivery to a local
//! receiver, with Basic auth, retried after a 5xx.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use common::{Api, Env, error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One request a receiver saw: `Authorization`, `Content-Type`, body.
type Seen = (Option<String>, Option<String>, Value);

/// A webhook receiver on 127.0.0.1: records each request's `Authorization`, content type and
/// body, and answers the scripted statuses in turn (then 200).
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Receiver {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let recorded = seen.clone();
        let app = axum::Router::new().route(
            "/hooks/{secret}",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let recorded = recorded.clone();
                let script = script.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                    };
                    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    recorded.lock().unwrap().push((
                        header("authorization"),
                        header("content-type"),
                        body,
                    ));
                    let mut script = script.lock().unwrap();
                    let status = if script.is_empty() {
                        200
                    } else {
                        script.remove(0)
                    };
                    AxumStatus::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hooks/s3cr3t-path"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn host(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string()
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn destination(ws: &Api, url: &str, auth: Option<(&str, &str)>) -> String {
    let mut hook = json!({"url": url});
    if let Some((user, password)) = auth {
        hook["username"] = json!(user);
        hook["password"] = json!(password);
    }
    let made = ws
        .ok(
            "/api/2.0/notification-destinations",
            json!({"display_name": "on-call", "config": {"generic_webhook": hook}}),
        )
        .await;
    made["id"].as_str().unwrap().to_string()
}

async fn run(ws: &Api, run_id: i64) -> Value {
    ws.read(&format!("/api/2.2/jobs/runs/get?run_id={run_id}"))
        .await
}

async fn cluster(ws: &Api, id: &str) -> Value {
    ws.read(&format!("/api/2.1/clusters/get?cluster_id={id}"))
        .await
}

fn new_cluster() -> Value {
    json!({"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2,
           "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "zone_id": "eu-west-1a"},
           "custom_tags": {"team": "data"}})
}

async fn submit(ws: &Api, body: Value) -> i64 {
    let answer = ws.ok("/api/2.1/jobs/runs/submit", body).await;
    answer["run_id"].as_i64().expect("run_id is a number")
}

async fn finish(env: &Env, body: Value) -> (StatusCode, Value) {
    env.control(Method::POST, "runs/finish", Some(body)).await
}

/// The deliveries of `run_id`, polled until `count` are recorded (or five seconds pass).
async fn deliveries(env: &Env, run_id: i64, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (_, body) = env
            .control(
                Method::GET,
                &format!("deliveries?workspace_id={}", env.workspace_id),
                None,
            )
            .await;
        let mine: Vec<Value> = body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["run_id"] == run_id)
            .cloned()
            .collect();
        if mine.len() >= count {
            return mine;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} deliveries of run {run_id}");
}

#[tokio::test]
async fn destinations_never_return_their_secrets() {
    let env = Env::start().await;
    let made = env
        .ws
        .ok(
            "/api/2.0/notification-destinations",
            json!({"display_name": "monitor", "config": {"generic_webhook":
                   {"url": "https://hooks.example.com/abc", "username": "bob", "password": "pw-123"}}}),
        )
        .await;
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["destination_type"], "WEBHOOK");
    assert_eq!(
        made["config"],
        json!({"generic_webhook": {"url_set": true, "username_set": true, "password_set": true}})
    );
    let text = made.to_string();
    assert!(
        !text.contains("pw-123") && !text.contains("hooks.example.com") && !text.contains("bob")
    );
    let list = env.ws.read("/api/2.0/notification-destinations").await;
    assert_eq!(
        list["results"],
        json!([{"id": id, "display_name": "monitor", "destination_type": "WEBHOOK"}])
    );
    let path = format!("/api/2.0/notification-destinations/{id}");
    let (status, patched) = env
        .ws
        .patch(
            &path,
            json!({"display_name": "monitor 2", "config": {"generic_webhook": {"password": ""}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["display_name"], "monitor 2");
    assert_eq!(patched["config"]["generic_webhook"]["password_set"], false);
    assert_eq!(env.ws.read(&path).await, patched);
    assert_eq!(
        error(
            env.ws
                .post(
                    "/api/2.0/notification-destinations",
                    json!({"display_name": "x", "config": {"slack": {"url": "https://hooks.slack.com/x"}}})
                )
                .await
        ),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    assert_eq!(
        error(
            env.ws
                .post(
                    "/api/2.0/notification-destinations",
                    json!({"config": {"generic_webhook": {"url": "https://x"}}})
                )
                .await
        )
        .1,
        "INVALID_PARAMETER_VALUE"
    );
    let (status, _) = env.ws.delete(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        error(env.ws.get(&path).await),
        (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST".into())
    );
}

/// A code failure of a run on a job cluster: the run ends FAILED / RUN_EXECUTION_ERROR, its job
/// cluster JOB_FINISHED / SUCCESS, and the destination gets the notification with Basic auth.
#[tokio::test]
async fn a_code_failure_ends_the_job_cluster_normally_and_notifies_with_basic_auth() {
    let env = Env::start().await;
    let receiver = Receiver::start(vec![]).await;
    let hook = destination(&env.ws, &receiver.url, Some(("monitor", "pa:ss word"))).await;
    let run_id = submit(
        &env.ws,
        json!({"run_name": "nightly-etl",
               "tasks": [{"task_key": "etl", "new_cluster": new_cluster(),
                          "notebook_task": {"notebook_path": "/Shared/etl"}}],
               "webhook_notifications": {"on_failure": [{"id": hook}]}}),
    )
    .await;
    let pending = run(&env.ws, run_id).await;
    assert_eq!(pending["state"]["life_cycle_state"], "PENDING");
    assert_eq!(pending["status"]["state"], "PENDING");
    assert_eq!(pending["run_name"], "nightly-etl");
    assert_eq!(pending["end_time"], 0);
    assert_eq!(
        pending["tasks"][0]["notebook_task"]["notebook_path"],
        "/Shared/etl"
    );
    let job_id = pending["job_id"].as_i64().unwrap();
    let task_run = pending["tasks"][0]["run_id"].as_i64().unwrap();
    let cluster_id = pending["cluster_instance"]["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        pending["tasks"][0]["cluster_instance"]["cluster_id"],
        cluster_id.as_str()
    );
    assert!(
        pending["run_page_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/#job/{job_id}/run/{run_id}"))
    );

    let job_cluster = cluster(&env.ws, &cluster_id).await;
    assert_eq!(job_cluster["cluster_source"], "JOB");
    assert_eq!(
        job_cluster["cluster_name"],
        format!("job-{job_id}-run-{task_run}")
    );
    assert_eq!(job_cluster["aws_attributes"]["zone_id"], "eu-west-1a");
    assert_eq!(job_cluster["default_tags"]["JobId"], job_id.to_string());
    let listed = env
        .ws
        .read("/api/2.1/clusters/list?filter_by.cluster_sources=JOB")
        .await;
    assert_eq!(listed["clusters"].as_array().unwrap().len(), 1);

    env.advance(60);
    assert_eq!(
        run(&env.ws, run_id).await["state"]["life_cycle_state"],
        "RUNNING"
    );
    // Job clusters are the Jobs service's: the vendor refuses to start or edit them.
    let refused = env
        .ws
        .post("/api/2.1/clusters/edit", {
            let mut spec = new_cluster();
            spec["cluster_id"] = json!(cluster_id);
            spec
        })
        .await;
    assert_eq!(refused.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.1["message"],
        format!("Cannot edit cluster {cluster_id} created by JobLauncher")
    );

    let (status, ended) = finish(
        &env,
        json!({"workspace_id": env.workspace_id, "run_id": run_id, "outcome": "code_failure"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    let ended = run(&env.ws, run_id).await;
    assert_eq!(ended["state"]["life_cycle_state"], "TERMINATED");
    assert_eq!(ended["state"]["result_state"], "FAILED");
    assert_eq!(ended["status"]["state"], "TERMINATED");
    assert_eq!(
        ended["status"]["termination_details"]["code"],
        "RUN_EXECUTION_ERROR"
    );
    assert_eq!(
        ended["status"]["termination_details"]["type"],
        "CLIENT_ERROR"
    );
    assert!(ended["end_time"].as_i64().unwrap() >= ended["start_time"].as_i64().unwrap());
    assert_eq!(ended["tasks"][0]["state"]["result_state"], "FAILED");
    env.advance(60);
    let finished = cluster(&env.ws, &cluster_id).await;
    assert_eq!(finished["state"], "TERMINATED");
    assert_eq!(
        finished["termination_reason"],
        json!({"code": "JOB_FINISHED", "type": "SUCCESS", "parameters": {}})
    );
    let refused = env
        .ws
        .post("/api/2.1/clusters/start", json!({"cluster_id": cluster_id}))
        .await;
    assert_eq!(
        error(refused),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );

    let attempts = deliveries(&env, run_id, 1).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0]["status"], 200);
    assert_eq!(attempts[0]["destination_id"], hook.as_str());
    assert_eq!(attempts[0]["host"], receiver.host());
    assert_eq!(attempts[0]["basic_auth"], true);
    assert!(!attempts[0].to_string().contains("s3cr3t"), "{attempts:?}");
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let (auth, content_type, body) = &seen[0];
    assert_eq!(
        auth.as_deref(),
        Some(basic("monitor", "pa:ss word").as_str())
    );
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        &json!({"event_type": "jobs.on_failure", "workspace_id": env.workspace_id,
                "run": {"run_id": run_id}, "job": {"job_id": job_id, "name": "nightly-etl"}})
    );
    // Ended runs stay ended.
    let again = finish(
        &env,
        json!({"workspace_id": env.workspace_id, "run_id": run_id, "outcome": "success"}),
    )
    .await;
    assert_eq!(error(again), (StatusCode::CONFLICT, "INVALID_STATE".into()));
}

/// A cluster failure under a run on an existing cluster: the cluster terminates with the default
/// reason, the run ends INTERNAL_ERROR / CLUSTER_ERROR; a 503 from the receiver is retried.
#[tokio::test]
async fn a_cluster_failure_terminates_the_existing_cluster_and_the_delivery_is_retried() {
    let env = Env::start().await;
    let receiver = Receiver::start(vec![503]).await;
    let hook = destination(&env.ws, &receiver.url, None).await;
    let existing = env
        .ws
        .ok(
            "/api/2.1/clusters/create",
            json!({"cluster_name": "shared", "spark_version": "15.4.x-scala2.12", "num_workers": 1}),
        )
        .await["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    env.advance(60);
    // The legacy single-task form.
    let run_id = submit(
        &env.ws,
        json!({"run_name": "adhoc", "existing_cluster_id": existing,
               "spark_python_task": {"python_file": "dbfs:/x.py"},
               "webhook_notifications": {"on_failure": [{"id": hook}]}}),
    )
    .await;
    let running = run(&env.ws, run_id).await;
    assert_eq!(running["state"]["life_cycle_state"], "RUNNING");
    assert_eq!(running["cluster_instance"]["cluster_id"], existing.as_str());
    let (status, _) = finish(
        &env,
        json!({"workspace_id": env.workspace_id, "run_id": run_id, "outcome": "cluster_failure"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let failed = cluster(&env.ws, &existing).await;
    assert_eq!(failed["state"], "TERMINATING");
    assert_eq!(failed["termination_reason"]["code"], "DRIVER_UNREACHABLE");
    assert_eq!(failed["termination_reason"]["type"], "SERVICE_FAULT");
    let ended = run(&env.ws, run_id).await;
    assert_eq!(ended["state"]["life_cycle_state"], "INTERNAL_ERROR");
    assert_eq!(ended["state"]["result_state"], "FAILED");
    assert_eq!(
        ended["status"]["termination_details"]["code"],
        "CLUSTER_ERROR"
    );
    let message = ended["status"]["termination_details"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains(&existing) && message.contains("DRIVER_UNREACHABLE"),
        "{message}"
    );

    let attempts = deliveries(&env, run_id, 2).await;
    let statuses: Vec<&Value> = attempts.iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [&json!(503), &json!(200)]);
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[0]["basic_auth"], false);
    assert_eq!(
        receiver.seen()[1].0,
        None,
        "no Authorization without credentials"
    );
    // An existing cluster is not the run's to finish: a success leaves it running.
    env.advance(60);
    env.ws
        .ok("/api/2.1/clusters/start", json!({"cluster_id": existing}))
        .await;
    env.advance(60);
    let run_id = submit(
        &env.ws,
        json!({"run_name": "ok", "tasks": [{"task_key": "a", "existing_cluster_id": existing}]}),
    )
    .await;
    finish(
        &env,
        json!({"workspace_id": env.workspace_id, "run_id": run_id, "outcome": "success"}),
    )
    .await;
    let ok = run(&env.ws, run_id).await;
    assert_eq!(ok["state"]["result_state"], "SUCCESS");
    assert_eq!(ok["status"]["termination_details"]["code"], "SUCCESS");
    env.advance(60);
    assert_eq!(cluster(&env.ws, &existing).await["state"], "RUNNING");
}

/// A job cluster that fails to start ends its run by itself (no control), and the notification
/// goes out; a control's cluster failure with its own code terminates a job cluster with it.
#[tokio::test]
async fn a_job_cluster_that_fails_to_start_fails_its_run() {
    let env = Env::start().await;
    let receiver = Receiver::start(vec![]).await;
    let hook = destination(&env.ws, &receiver.url, Some(("u", "p"))).await;
    env.control(
        Method::POST,
        "cluster-failures",
        Some(json!({"workspace_id": env.workspace_id, "on": "start",
                    "code": "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE", "type": "CLOUD_FAILURE"})),
    )
    .await;
    let run_id = submit(
        &env.ws,
        json!({"run_name": "capacity", "new_cluster": new_cluster(),
               "webhook_notifications": {"on_failure": [{"id": hook}]}}),
    )
    .await;
    env.advance(60);
    let ended = run(&env.ws, run_id).await;
    assert_eq!(ended["state"]["life_cycle_state"], "INTERNAL_ERROR");
    assert_eq!(
        ended["status"]["termination_details"]["code"],
        "CLUSTER_ERROR"
    );
    assert_eq!(
        ended["status"]["termination_details"]["type"],
        "CLOUD_FAILURE"
    );
    let attempts = deliveries(&env, run_id, 1).await;
    assert_eq!(attempts[0]["status"], 200);

    let run_id = submit(
        &env.ws,
        json!({"run_name": "two", "tasks": [
            {"task_key": "a", "new_cluster": new_cluster()},
            {"task_key": "b", "new_cluster": new_cluster()}]}),
    )
    .await;
    env.advance(60);
    let running = run(&env.ws, run_id).await;
    assert!(
        running.get("cluster_instance").is_none(),
        "two clusters: {running}"
    );
    let (status, _) = finish(
        &env,
        json!({"workspace_id": env.workspace_id, "run_id": run_id, "outcome": "cluster_failure",
               "code": "SPOT_INSTANCE_TERMINATION", "type": "CLOUD_FAILURE"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for task in running["tasks"].as_array().unwrap() {
        let id = task["cluster_instance"]["cluster_id"].as_str().unwrap();
        assert_eq!(
            cluster(&env.ws, id).await["termination_reason"]["code"],
            "SPOT_INSTANCE_TERMINATION"
        );
    }
}

#[tokio::test]
async fn submits_are_checked_and_pages_of_tasks_follow_tokens() {
    let env = Env::start().await;
    let bad = |body: Value| {
        let ws = env.ws.clone();
        async move { ws.post("/api/2.2/jobs/runs/submit", body).await }
    };
    let (status, body) = bad(json!({"run_name": "x", "webhook_notifications":
        {"on_failure": [{"id": "00000000-0000-4000-8000-000000000000"}]},
        "tasks": [{"task_key": "a", "new_cluster": new_cluster()}]}))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("does not exist"),
        "{body}"
    );
    let (status, body) =
        bad(json!({"run_name": "x", "notebook_task": {"notebook_path": "/x"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Either new_cluster or existing_cluster_id must be specified."
    );
    let (status, _) =
        bad(json!({"tasks": [{"task_key": "a", "existing_cluster_id": "0101-000000-nosuchcl"}]}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        bad(json!({"tasks": [{"task_key": "a", "new_cluster": {"num_workers": 1}}]})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a job cluster needs spark_version"
    );
    let inventory = env.emulator.inventory(&env.account_id);
    assert!(
        inventory["workspaces"][0]["objects"]
            .get("clusters")
            .is_none(),
        "refused submits make nothing: {inventory}"
    );
    let missing = env.ws.get("/api/2.2/jobs/runs/get?run_id=12345").await;
    assert_eq!(missing.1["message"], "Run 12345 does not exist.");
    assert_eq!(
        error(missing),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );

    let existing = env
        .ws
        .ok(
            "/api/2.1/clusters/create",
            json!({"cluster_name": "many", "spark_version": "15.4.x-scala2.12"}),
        )
        .await["cluster_id"]
        .clone();
    let tasks: Vec<Value> = (0..150)
        .map(|i| json!({"task_key": format!("t{i:03}"), "existing_cluster_id": existing}))
        .collect();
    let body = json!({"run_name": "wide", "tasks": tasks, "idempotency_token": "tok-1"});
    let run_id = submit(&env.ws, body.clone()).await;
    assert_eq!(
        submit(&env.ws, body).await,
        run_id,
        "same idempotency token, same run"
    );
    let first = run(&env.ws, run_id).await;
    assert_eq!(first["tasks"].as_array().unwrap().len(), 100);
    let token = first["next_page_token"].as_str().unwrap();
    let second = env
        .ws
        .read(&format!(
            "/api/2.2/jobs/runs/get?run_id={run_id}&page_token={token}"
        ))
        .await;
    assert_eq!(second["tasks"].as_array().unwrap().len(), 50);
    assert_eq!(second["tasks"][49]["task_key"], "t149");
    assert!(second.get("next_page_token").is_none());
    assert_eq!(second["run_id"], run_id);
    let whole = env
        .ws
        .read(&format!("/api/2.1/jobs/runs/get?run_id={run_id}"))
        .await;
    assert_eq!(whole["tasks"].as_array().unwrap().len(), 150);
    assert_eq!(whole["cluster_instance"]["cluster_id"], existing);

    // The inventory lists runs and destinations; reset forgets them.
    destination(&env.ws, "https://hooks.example.com/x", None).await;
    let inventory = env.emulator.inventory(&env.account_id);
    let objects = &inventory["workspaces"][0]["objects"];
    assert_eq!(objects["runs"][0]["run_id"], run_id);
    assert_eq!(objects["runs"][0]["life_cycle_state"], "PENDING");
    assert_eq!(
        objects["notification_destinations"][0]["display_name"],
        "on-call"
    );
    env.emulator.reset();
    assert_eq!(
        env.emulator.inventory(&env.account_id),
        json!({"account_id": env.account_id})
    );
}

/// A destination nobody listens at: four attempts, each recorded with the error and no status;
/// a destination deleted before the failure is recorded as such.
#[tokio::test]
async fn deliveries_to_nowhere_are_tried_four_times_and_recorded() {
    let env = Env::start().await;
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let nowhere = destination(&env.ws, &format!("http://{closed}/hook"), None).await;
    let gone = destination(&env.ws, "https://hooks.example.com/gone", None).await;
    let run_id = submit(
        &env.ws,
        json!({"run_name": "unheard", "new_cluster": new_cluster(),
               "webhook_notifications": {"on_failure": [{"id": nowhere}, {"id": gone}]}}),
    )
    .await;
    env.ws
        .delete(&format!("/api/2.0/notification-destinations/{gone}"))
        .await;
    let (status, _) = finish(
        &env,
        json!({"workspace_id": env.workspace_id, "run_id": run_id, "outcome": "code_failure"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let attempts = deliveries(&env, run_id, 5).await;
    let to_nowhere: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["destination_id"] == nowhere.as_str())
        .collect();
    assert_eq!(to_nowhere.len(), 4, "{attempts:?}");
    for (i, a) in to_nowhere.iter().enumerate() {
        assert_eq!(a["attempt"], i + 1);
        assert!(a.get("status").is_none() && a["error"].is_string(), "{a}");
        assert_eq!(a["host"], closed.to_string());
    }
    let to_gone: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["destination_id"] == gone.as_str())
        .collect();
    assert_eq!(to_gone.len(), 1);
    assert_eq!(
        to_gone[0]["error"],
        "the notification destination no longer exists"
    );
}
