//! Clusters and libraries on the emulator clock: the state machine, the vendor's 400 for a missing
//! cluster, events, auto-termination, injected start failures, library installs.

mod common;

use brickstack_databricks_emulator::ClusterFailure;
use common::{Api, Env, error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PROFILE: &str = "arn:aws:iam::123456789012:instance-profile/databricks-data";

fn spec(name: &str) -> Value {
    json!({
        "cluster_name": name,
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": 2,
        "autotermination_minutes": 30,
        "data_security_mode": "SINGLE_USER",
        "single_user_name": "ann@example.com",
        "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1, "zone_id": "auto", "instance_profile_arn": PROFILE},
        "custom_tags": {"team": "data"},
        "spark_conf": {"spark.speculation": "true"},
        "spark_env_vars": {"PYSPARK_PYTHON": "/databricks/python3/bin/python3"},
        "cluster_log_conf": {"s3": {"destination": "s3://logs/clusters", "region": "eu-west-1"}},
        "init_scripts": [{"workspace": {"destination": "/Shared/init.sh"}}],
    })
}

async fn create(ws: &Api, body: Value) -> String {
    let created = ws.ok("/api/2.1/clusters/create", body).await;
    created["cluster_id"].as_str().unwrap().to_string()
}

async fn get(ws: &Api, id: &str) -> Value {
    ws.read(&format!("/api/2.1/clusters/get?cluster_id={id}"))
        .await
}

async fn state(ws: &Api, id: &str) -> String {
    get(ws, id).await["state"].as_str().unwrap().to_string()
}

async fn event_types(ws: &Api, id: &str) -> Vec<String> {
    let events = ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "order": "ASC"}),
        )
        .await;
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn env_with_profile() -> Env {
    let env = Env::start().await;
    env.ws
        .ok(
            "/api/2.0/instance-profiles/add",
            json!({"instance_profile_arn": PROFILE}),
        )
        .await;
    // The `single_user_name` of `spec` must name a user of the workspace.
    env.ws
        .ok(
            "/api/2.0/preview/scim/v2/Users",
            json!({"userName": "ann@example.com"}),
        )
        .await;
    env
}

#[tokio::test]
async fn clusters_echo_their_spec_and_move_through_states_on_the_clock() {
    let env = env_with_profile().await;
    let ws = &env.ws;
    let body = spec("etl");
    let id = create(ws, body.clone()).await;
    let shape: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(shape, [4, 6, 8], "MMDD-HHMMSS-xxxxxxxx: {id}");

    let pending = get(ws, &id).await;
    for (field, value) in body.as_object().unwrap() {
        assert_eq!(&pending[field], value, "{field} round-trips");
    }
    assert_eq!(pending["state"], "PENDING");
    assert_eq!(pending["cluster_source"], "API");
    assert_eq!(
        pending["creator_user_name"],
        env.emulator.config().client_id.as_str()
    );
    assert_eq!(pending["default_tags"]["ClusterId"], id.as_str());
    assert_eq!(pending["spec"]["spark_version"], "15.4.x-scala2.12");

    env.advance(60);
    assert_eq!(state(ws, &id).await, "RUNNING");
    let start = |id: &str| json!({"cluster_id": id});
    assert_eq!(
        error(ws.post("/api/2.1/clusters/start", start(&id)).await),
        (StatusCode::BAD_REQUEST, "INVALID_STATE".into())
    );

    ws.ok(
        "/api/2.1/clusters/resize",
        json!({"cluster_id": id, "num_workers": 4}),
    )
    .await;
    assert_eq!(state(ws, &id).await, "RESIZING");
    env.advance(60);
    let resized = get(ws, &id).await;
    assert_eq!(
        (resized["state"].clone(), resized["num_workers"].clone()),
        (json!("RUNNING"), json!(4))
    );

    ws.ok("/api/2.1/clusters/restart", start(&id)).await;
    assert_eq!(state(ws, &id).await, "RESTARTING");
    env.advance(60);
    assert_eq!(state(ws, &id).await, "RUNNING");

    // Edit of a running cluster restarts it; of a pending one is refused.
    let mut edited = spec("etl");
    edited["cluster_id"] = json!(id);
    edited["num_workers"] = json!(1);
    ws.ok("/api/2.1/clusters/edit", edited).await;
    assert_eq!(state(ws, &id).await, "RESTARTING");
    let other = create(ws, spec("other")).await;
    let mut early = spec("other");
    early["cluster_id"] = json!(other);
    assert_eq!(
        error(ws.post("/api/2.1/clusters/edit", early).await),
        (StatusCode::BAD_REQUEST, "INVALID_STATE".into())
    );
    env.advance(60);

    ws.ok("/api/2.1/clusters/delete", start(&id)).await;
    let terminating = get(ws, &id).await;
    assert_eq!(terminating["state"], "TERMINATING");
    env.advance(60);
    let terminated = get(ws, &id).await;
    assert_eq!(terminated["state"], "TERMINATED");
    assert_eq!(
        terminated["termination_reason"],
        json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": env.emulator.config().client_id}})
    );
    assert!(
        terminated["terminated_time"].as_i64().unwrap()
            > terminated["start_time"].as_i64().unwrap()
    );
    // Delete of a terminated cluster does nothing; resize needs RUNNING.
    ws.ok("/api/2.1/clusters/delete", start(&id)).await;
    assert_eq!(
        error(
            ws.post(
                "/api/2.1/clusters/resize",
                json!({"cluster_id": id, "num_workers": 1})
            )
            .await
        )
        .1,
        "INVALID_STATE"
    );
    // A terminated cluster takes an update and stays terminated.
    ws.ok(
        "/api/2.1/clusters/update",
        json!({"cluster_id": id, "update_mask": "autotermination_minutes", "cluster": {"autotermination_minutes": 60}}),
    )
    .await;
    let updated = get(ws, &id).await;
    assert_eq!(
        (
            updated["state"].clone(),
            updated["autotermination_minutes"].clone()
        ),
        (json!("TERMINATED"), json!(60))
    );

    assert_eq!(
        event_types(ws, &id).await,
        [
            "CREATING",
            "RUNNING",
            "RESIZING",
            "UPSIZE_COMPLETED",
            "RESTARTING",
            "RUNNING",
            "EDITED",
            "RESTARTING",
            "RUNNING",
            "TERMINATING",
            "EDITED"
        ]
    );
    let only = ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "event_types": ["TERMINATING"], "page_size": 1}),
        )
        .await;
    assert_eq!(
        only["events"][0]["details"]["reason"]["code"],
        "USER_REQUEST"
    );
    assert_eq!(only["total_count"], 1);
    let paged = ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "page_size": 2}),
        )
        .await;
    assert_eq!(
        paged["events"][0]["type"], "EDITED",
        "newest first by default"
    );
    assert_eq!(paged["next_page_token"], "2");

    let listed = ws
        .read("/api/2.1/clusters/list?filter_by.cluster_states=TERMINATED&filter_by.cluster_states=TERMINATING")
        .await;
    let ids: Vec<&str> = listed["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cluster_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    assert!(listed["clusters"][0].get("spec").is_none());
    let page = ws.read("/api/2.1/clusters/list?page_size=1").await;
    assert_eq!(page["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_page_token"], "1");

    ws.ok("/api/2.1/clusters/permanent-delete", start(&id))
        .await;
    assert_eq!(
        error(
            ws.get(&format!("/api/2.1/clusters/get?cluster_id={id}"))
                .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_missing_cluster_is_400_invalid_parameter_value_as_the_real_api_answers() {
    let env = Env::start().await;
    for version in ["2.0", "2.1"] {
        let (status, body) = env
            .ws
            .get(&format!(
                "/api/{version}/clusters/get?cluster_id=0101-000000-nothere"
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{version}");
        assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");
        assert_eq!(
            body["message"],
            "Cluster 0101-000000-nothere does not exist"
        );
    }
}

#[tokio::test]
async fn clusters_are_validated() {
    let env = Env::start().await;
    let invalid = |status_code: (StatusCode, String)| {
        assert_eq!(
            status_code,
            (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
        );
    };
    for bad in [
        json!({"cluster_name": "x", "num_workers": 1}),
        json!({"spark_version": "latest", "num_workers": 1}),
        json!({"spark_version": "15.4.x-scala2.12", "autotermination_minutes": 5}),
        json!({"spark_version": "15.4.x-scala2.12", "autoscale": {"min_workers": 4, "max_workers": 2}}),
        json!({"spark_version": "15.4.x-scala2.12", "policy_id": "ABCDEF0123456789"}),
        json!({"spark_version": "15.4.x-scala2.12", "aws_attributes": {"instance_profile_arn": PROFILE}}),
        json!({"spark_version": "15.4.x-scala2.12", "data_security_mode": "EVERYONE"}),
    ] {
        invalid(error(env.ws.post("/api/2.1/clusters/create", bad).await));
    }
    let versions = env.ws.read("/api/2.1/clusters/spark-versions").await;
    assert!(
        versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == "15.4.x-scala2.12")
    );
    let nodes = env.ws.read("/api/2.0/clusters/list-node-types").await;
    assert!(
        nodes["node_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["node_type_id"] == "i3.xlarge")
    );
}

#[tokio::test]
async fn an_idle_cluster_terminates_after_its_autotermination_minutes() {
    let env = Env::start().await;
    let id = create(
        &env.ws,
        json!({"cluster_name": "idle", "spark_version": "15.4.x-scala2.12", "num_workers": 0, "autotermination_minutes": 10}),
    )
    .await;
    env.advance(60);
    let running = get(&env.ws, &id).await;
    assert_eq!(running["state"], "RUNNING");
    env.advance(9 * 60);
    assert_eq!(state(&env.ws, &id).await, "RUNNING");
    env.advance(60);
    let terminated = get(&env.ws, &id).await;
    assert_eq!(terminated["state"], "TERMINATED", "{terminated}");
    assert_eq!(
        terminated["termination_reason"],
        json!({"code": "INACTIVITY", "type": "SUCCESS", "parameters": {"inactivity_duration_min": "10"}})
    );
    assert_eq!(
        terminated["state_message"],
        "Inactive cluster terminated (inactive for 10 minutes)."
    );
    // Idle from reaching RUNNING (30 s after create); TERMINATING takes 10 s.
    let idle_since = running["start_time"].as_i64().unwrap() + 30_000;
    assert_eq!(
        terminated["terminated_time"].as_i64().unwrap(),
        idle_since + 600_000 + 10_000
    );
}

#[tokio::test]
async fn injected_start_failures_terminate_the_cluster_with_their_reason() {
    let env = Env::start().await;
    let (status, _) = env
        .control(
            Method::POST,
            "cluster-failures",
            Some(
                json!({"workspace_id": env.workspace_id, "cluster_name": "doomed",
                        "code": "CLOUD_PROVIDER_LAUNCH_FAILURE", "type": "CLOUD_FAILURE",
                        "parameters": {"aws_api_error_code": "InsufficientInstanceCapacity"}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let body =
        json!({"cluster_name": "doomed", "spark_version": "15.4.x-scala2.12", "num_workers": 1});
    let id = create(&env.ws, body.clone()).await;
    assert_eq!(state(&env.ws, &id).await, "PENDING");
    env.advance(60);
    let failed = get(&env.ws, &id).await;
    assert_eq!(failed["state"], "TERMINATED");
    let reason = json!({"code": "CLOUD_PROVIDER_LAUNCH_FAILURE", "type": "CLOUD_FAILURE",
                        "parameters": {"aws_api_error_code": "InsufficientInstanceCapacity"}});
    assert_eq!(failed["termination_reason"], reason);
    let message = failed["state_message"].as_str().unwrap();
    assert!(
        message.contains("CLOUD_PROVIDER_LAUNCH_FAILURE")
            && message.contains("InsufficientInstanceCapacity"),
        "{message}"
    );
    let events = env
        .ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "event_types": ["TERMINATING"]}),
        )
        .await;
    assert_eq!(events["events"][0]["details"]["reason"], reason);
    assert_eq!(event_types(&env.ws, &id).await, ["CREATING", "TERMINATING"]);

    // Used up: the next start of the same cluster succeeds.
    env.ws
        .ok("/api/2.1/clusters/start", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    let started = get(&env.ws, &id).await;
    assert_eq!(started["state"], "RUNNING");
    assert!(started.get("termination_reason").is_none(), "{started}");

    // The Rust method does the same; other names are not affected.
    env.emulator.add_cluster_failure(ClusterFailure {
        workspace_id: env.workspace_id,
        cluster_name: None,
        cluster_id: None,
        on: None,
        code: "BOOTSTRAP_TIMEOUT".into(),
        kind: "SERVICE_FAULT".into(),
        parameters: None,
        times: Some(1),
    });
    let id = create(
        &env.ws,
        json!({"cluster_name": "any", "spark_version": "15.4.x-scala2.12"}),
    )
    .await;
    env.advance(60);
    assert_eq!(
        get(&env.ws, &id).await["termination_reason"]["code"],
        "BOOTSTRAP_TIMEOUT"
    );
}

#[tokio::test]
async fn libraries_install_on_a_running_cluster_and_wait_for_a_terminated_one() {
    let env = Env::start().await;
    let ws = &env.ws;
    let id = create(
        ws,
        json!({"cluster_name": "libs", "spark_version": "15.4.x-scala2.12", "num_workers": 1}),
    )
    .await;
    env.advance(60);
    let lib = json!({"pypi": {"package": "requests==2.32.3"}});
    ws.ok(
        "/api/2.0/libraries/install",
        json!({"cluster_id": id, "libraries": [lib]}),
    )
    .await;
    let status = || async {
        let s = ws
            .read(&format!(
                "/api/2.0/libraries/cluster-status?cluster_id={id}"
            ))
            .await;
        s["library_statuses"][0]["status"]
            .as_str()
            .unwrap_or("none")
            .to_string()
    };
    // Each step takes 10 s of emulator time.
    assert_eq!(status().await, "PENDING");
    env.advance(15);
    assert_eq!(status().await, "INSTALLING");
    env.advance(10);
    assert_eq!(status().await, "INSTALLED");
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/libraries/install",
                json!({"cluster_id": id, "libraries": [{"pypi": {}, "jar": "x"}]})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );

    ws.ok(
        "/api/2.0/libraries/uninstall",
        json!({"cluster_id": id, "libraries": [lib]}),
    )
    .await;
    assert_eq!(status().await, "UNINSTALL_ON_RESTART");
    ws.ok(
        "/api/2.0/libraries/install",
        json!({"cluster_id": id, "libraries": [{"whl": "/Volumes/main/default/libs/x.whl"}]}),
    )
    .await;
    ws.ok("/api/2.0/clusters/delete", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    // The uninstalled library is gone; the other waits for the next start.
    assert_eq!(status().await, "PENDING");
    let all = ws.read("/api/2.0/libraries/all-cluster-statuses").await;
    assert_eq!(
        all["statuses"][0]["library_statuses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ws.ok("/api/2.0/clusters/start", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    assert_eq!(status().await, "INSTALLED");
}

#[tokio::test]
async fn by_default_a_cluster_starts_in_200_ms_of_emulator_time() {
    let env =
        Env::start_with(brickstack_databricks_emulator::DatabricksEmulatorConfig::default()).await;
    let id = create(
        &env.ws,
        json!({"cluster_name": "quick", "spark_version": "15.4.x-scala2.12"}),
    )
    .await;
    env.emulator
        .advance_clock(std::time::Duration::from_millis(250));
    assert_eq!(state(&env.ws, &id).await, "RUNNING");
    let events = env
        .ws
        .ok(
            "/api/2.1/clusters/events",
            json!({"cluster_id": id, "order": "ASC"}),
        )
        .await;
    let at = |i: usize| events["events"][i]["timestamp"].as_i64().unwrap();
    assert_eq!(at(1) - at(0), 200, "{events}");
}
