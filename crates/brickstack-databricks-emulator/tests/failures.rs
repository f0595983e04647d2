//! What the cluster-failure monitor reads and what its tests cause: termination reasons and
//! events as the vendor reports them, and the controls that fail clusters (`cluster-failures`
//! with `cluster_id` and `on`, `cluster-terminations`) or slow their starts (`cluster-delays`).

mod common;

use common::{Api, Env, error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(ws: &Api, name: &str) -> String {
    let created = ws
        .ok(
            "/api/2.1/clusters/create",
            json!({"cluster_name": name, "spark_version": "15.4.x-scala2.12", "num_workers": 1}),
        )
        .await;
    created["cluster_id"].as_str().unwrap().to_string()
}

async fn get(ws: &Api, id: &str) -> Value {
    ws.read(&format!("/api/2.1/clusters/get?cluster_id={id}"))
        .await
}

/// Every event of the cluster, oldest first, through every page of `page_size`.
async fn events(ws: &Api, id: &str, extra: Value, page_size: usize) -> Vec<Value> {
    let mut request = json!({"cluster_id": id, "order": "ASC", "page_size": page_size});
    for (k, v) in extra.as_object().unwrap() {
        request[k] = v.clone();
    }
    let mut all = Vec::new();
    loop {
        let page = ws.ok("/api/2.1/clusters/events", request.clone()).await;
        all.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next_page_token"].as_str() {
            Some(token) => request["page_token"] = json!(token),
            None => return all,
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

async fn running(env: &Env, name: &str) -> String {
    let id = create(&env.ws, name).await;
    env.advance(60);
    assert_eq!(get(&env.ws, &id).await["state"], "RUNNING");
    id
}

#[tokio::test]
async fn a_failure_rule_on_restart_fails_the_restart_of_its_cluster_only() {
    let env = Env::start().await;
    let target = running(&env, "target").await;
    let other = running(&env, "other").await;
    let (status, body) = env
        .control(
            Method::POST,
            "cluster-failures",
            Some(
                json!({"workspace_id": env.workspace_id, "cluster_id": target, "on": "restart",
                        "code": "DRIVER_UNREACHABLE", "type": "SERVICE_FAULT"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["failures"][0]["on"], "restart");
    assert_eq!(body["failures"][0]["cluster_id"], target.as_str());

    // Neither a restart of another cluster nor a start of the target takes the rule.
    env.ws
        .ok("/api/2.1/clusters/restart", json!({"cluster_id": other}))
        .await;
    env.ws
        .ok("/api/2.1/clusters/delete", json!({"cluster_id": target}))
        .await;
    env.advance(60);
    env.ws
        .ok("/api/2.1/clusters/start", json!({"cluster_id": target}))
        .await;
    env.advance(60);
    assert_eq!(get(&env.ws, &other).await["state"], "RUNNING");
    assert_eq!(get(&env.ws, &target).await["state"], "RUNNING");

    env.ws
        .ok("/api/2.1/clusters/restart", json!({"cluster_id": target}))
        .await;
    assert_eq!(get(&env.ws, &target).await["state"], "RESTARTING");
    env.advance(35);
    let failed = get(&env.ws, &target).await;
    assert_eq!(failed["state"], "TERMINATING");
    assert_eq!(failed["termination_reason"]["code"], "DRIVER_UNREACHABLE");
    env.advance(60);
    let failed = get(&env.ws, &target).await;
    assert_eq!(failed["state"], "TERMINATED");
    assert_eq!(failed["termination_reason"]["type"], "SERVICE_FAULT");
    let all = events(&env.ws, &target, json!({}), 500).await;
    assert_eq!(
        types(&all),
        [
            "CREATING",
            "RUNNING",
            "TERMINATING",
            "STARTING",
            "RUNNING",
            "RESTARTING",
            "TERMINATING"
        ]
    );
    // The user's termination carries who; the failure its reason.
    assert_eq!(
        all[2]["details"]["reason"],
        json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": env.emulator.config().client_id}})
    );
    assert_eq!(
        all[6]["details"]["reason"],
        json!({"code": "DRIVER_UNREACHABLE", "type": "SERVICE_FAULT", "parameters": {}})
    );
}

#[tokio::test]
async fn a_failure_rule_on_start_spares_restarts() {
    let env = Env::start().await;
    let id = running(&env, "starts").await;
    env.control(
        Method::POST,
        "cluster-failures",
        Some(
            json!({"workspace_id": env.workspace_id, "on": "start", "times": 0,
                    "code": "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE", "type": "CLOUD_FAILURE"}),
        ),
    )
    .await;
    env.ws
        .ok("/api/2.1/clusters/restart", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    assert_eq!(get(&env.ws, &id).await["state"], "RUNNING");
    env.ws
        .ok("/api/2.1/clusters/delete", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    env.ws
        .ok("/api/2.1/clusters/start", json!({"cluster_id": id}))
        .await;
    env.advance(90);
    let failed = get(&env.ws, &id).await;
    assert_eq!(failed["state"], "TERMINATED");
    assert_eq!(
        failed["termination_reason"]["code"],
        "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE"
    );
    // A failed start: PENDING → TERMINATING → TERMINATED, no RUNNING in between.
    let all = events(&env.ws, &id, json!({}), 2).await;
    assert_eq!(
        types(&all)[types(&all).len() - 2..],
        ["STARTING", "TERMINATING"]
    );
    let (status, _) = env
        .control(
            Method::POST,
            "cluster-failures",
            Some(json!({"workspace_id": env.workspace_id, "on": "sometimes",
                        "code": "X", "type": "CLOUD_FAILURE"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_termination_fails_a_running_cluster_now_and_refuses_others() {
    let env = Env::start().await;
    let id = running(&env, "victim").await;
    let before = env.emulator.now_ms();
    let (status, body) = env
        .control(
            Method::POST,
            "cluster-terminations",
            Some(json!({"workspace_id": env.workspace_id, "cluster_id": id,
                        "code": "SPOT_INSTANCE_TERMINATION", "type": "CLOUD_FAILURE",
                        "parameters": {"aws_instance_state_reason": "Server.SpotInstanceTermination"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "TERMINATING");
    let reason = json!({"code": "SPOT_INSTANCE_TERMINATION", "type": "CLOUD_FAILURE",
                        "parameters": {"aws_instance_state_reason": "Server.SpotInstanceTermination"}});
    assert_eq!(get(&env.ws, &id).await["termination_reason"], reason);
    let terminating = events(
        &env.ws,
        &id,
        json!({"event_types": ["TERMINATING"], "start_time": before}),
        50,
    )
    .await;
    assert_eq!(terminating.len(), 1, "{terminating:?}");
    assert_eq!(terminating[0]["details"]["reason"], reason);
    env.advance(60);
    let terminated = get(&env.ws, &id).await;
    assert_eq!(terminated["state"], "TERMINATED");
    assert!(terminated["terminated_time"].as_i64().unwrap() >= before);

    let (status, body) = env
        .control(
            Method::POST,
            "cluster-terminations",
            Some(json!({"workspace_id": env.workspace_id, "cluster_id": id,
                        "code": "DRIVER_UNREACHABLE", "type": "SERVICE_FAULT"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("TERMINATED") && message.contains(&id),
        "{message}"
    );

    let pending = create(&env.ws, "pending").await;
    let refused = env
        .control(
            Method::POST,
            "cluster-terminations",
            Some(
                json!({"workspace_id": env.workspace_id, "cluster_id": pending,
                        "code": "DRIVER_UNREACHABLE", "type": "SERVICE_FAULT"}),
            ),
        )
        .await;
    assert_eq!(
        error(refused),
        (StatusCode::CONFLICT, "INVALID_STATE".into())
    );
    let missing = env
        .control(
            Method::POST,
            "cluster-terminations",
            Some(
                json!({"workspace_id": env.workspace_id, "cluster_id": "0101-000000-nosuchcl",
                        "code": "DRIVER_UNREACHABLE", "type": "SERVICE_FAULT"}),
            ),
        )
        .await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_start_delay_slows_one_workspace_only_until_cleared() {
    let env = Env::start().await;
    let (other_id, other_url) = env.create_workspace("other").await;
    let other = env.ws.with_token(&env.workspace_token(other_id).await);
    let other = Api {
        prefix: other_url,
        ..other
    };
    let (status, body) = env
        .control(
            Method::POST,
            "cluster-delays",
            Some(json!({"workspace_id": env.workspace_id, "start_delay_ms": 300_000})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["delays"],
        json!([{"workspace_id": env.workspace_id, "start_delay_ms": 300_000}])
    );
    let slow = create(&env.ws, "slow").await;
    let fast = create(&other, "fast").await;
    env.advance(60);
    assert_eq!(get(&env.ws, &slow).await["state"], "PENDING");
    assert_eq!(get(&other, &fast).await["state"], "RUNNING");
    env.advance(250);
    assert_eq!(get(&env.ws, &slow).await["state"], "RUNNING");

    let (status, _) = env
        .control(
            Method::DELETE,
            "cluster-delays",
            Some(json!({"workspace_id": env.workspace_id})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = env.control(Method::GET, "cluster-delays", None).await;
    assert_eq!(body["delays"], json!([]));
    env.ws
        .ok("/api/2.1/clusters/restart", json!({"cluster_id": slow}))
        .await;
    env.advance(31);
    assert_eq!(get(&env.ws, &slow).await["state"], "RUNNING");
    let (status, _) = env
        .control(
            Method::POST,
            "cluster-delays",
            Some(json!({"workspace_id": env.workspace_id, "start_delay_ms": -1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The monitor's read: events after a cursor (`start_time` = cursor + 1), oldest first, every
/// page; `end_time` bounds the other side.
#[tokio::test]
async fn events_after_a_cursor_come_oldest_first_over_pages() {
    let env = Env::start().await;
    let id = running(&env, "cursor").await;
    for _ in 0..3 {
        env.ws
            .ok("/api/2.1/clusters/restart", json!({"cluster_id": id}))
            .await;
        env.advance(60);
    }
    let all = events(&env.ws, &id, json!({}), 500).await;
    assert_eq!(all.len(), 8, "{all:?}");
    let cursor = all[3]["timestamp"].as_i64().unwrap();
    let after = events(&env.ws, &id, json!({"start_time": cursor + 1}), 2).await;
    assert_eq!(after, all[4..].to_vec());
    let stamps: Vec<i64> = after
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
    let bounded = events(
        &env.ws,
        &id,
        json!({"start_time": cursor + 1, "end_time": stamps[1]}),
        1,
    )
    .await;
    assert_eq!(bounded, all[4..6].to_vec());
    let newest = env
        .ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "order": "DESC", "page_size": 1}),
        )
        .await;
    assert_eq!(newest["events"][0], all[7]);
    let server_sized = env
        .ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "order": "ASC", "page_size": 0}),
        )
        .await;
    assert_eq!(
        server_sized["events"].as_array().unwrap().len(),
        8,
        "page_size 0: the server's size"
    );
    let restarts = events(&env.ws, &id, json!({"event_types": ["RESTARTING"]}), 500).await;
    assert_eq!(types(&restarts), ["RESTARTING"; 3]);
}
