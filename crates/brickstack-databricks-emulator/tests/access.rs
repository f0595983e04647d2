//! What single-user clusters need of the emulator (issue #12): `single_user_name` must name a
//! principal (the seed's exact error otherwise), library installs that fail by a control and
//! install again on restart, validated cluster permissions, the cluster-create rate limit, and
//! the inventory that shows all of it.

mod common;

use common::{Api, Env, error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const VERSION: &str = "15.4.x-scala2.12";

async fn add_user(ws: &Api, name: &str) {
    ws.ok("/api/2.0/preview/scim/v2/Users", json!({"userName": name}))
        .await;
}

async fn create(ws: &Api, body: Value) -> String {
    let created = ws.ok("/api/2.1/clusters/create", body).await;
    created["cluster_id"].as_str().unwrap().to_string()
}

fn single_user(name: &str, user: &str) -> Value {
    json!({
        "cluster_name": name,
        "spark_version": VERSION,
        "num_workers": 0,
        "data_security_mode": "SINGLE_USER",
        "single_user_name": user,
    })
}

async fn cluster_count(ws: &Api) -> usize {
    ws.read("/api/2.1/clusters/list").await["clusters"]
        .as_array()
        .map_or(0, Vec::len)
}

/// The seed's error, byte for byte, for a `single_user_name` no principal of the workspace has.
#[tokio::test]
async fn a_single_user_name_that_names_nobody_is_the_seeds_bad_request_and_creates_nothing() {
    let env = Env::start().await;
    let ws = &env.ws;
    let (status, body) = ws
        .post(
            "/api/2.1/clusters/create",
            single_user("ana_silva_su_cluster", "ana.silva@example.com"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error_code": "BAD_REQUEST", "message": "Principal: UserName(ana.silva@example.com) does not exist"})
    );
    assert_eq!(cluster_count(ws).await, 0, "nothing was created");

    add_user(ws, "ana.silva@example.com").await;
    let id = create(
        ws,
        single_user("ana_silva_su_cluster", "Ana.Silva@example.com"),
    )
    .await;
    for path in [
        format!("/api/2.1/clusters/get?cluster_id={id}"),
        format!("/api/2.0/clusters/get?cluster_id={id}"),
    ] {
        let got = ws.read(&path).await;
        assert_eq!(got["data_security_mode"], "SINGLE_USER");
        assert_eq!(got["single_user_name"], "Ana.Silva@example.com");
    }
    let listed = ws.read("/api/2.1/clusters/list").await;
    assert_eq!(
        listed["clusters"][0]["single_user_name"],
        "Ana.Silva@example.com"
    );
    assert_eq!(listed["clusters"][0]["data_security_mode"], "SINGLE_USER");

    // A service principal's applicationId is a principal too.
    let sp = ws
        .ok(
            "/api/2.0/preview/scim/v2/ServicePrincipals",
            json!({"applicationId": "6c5f0a3e-0d35-4f43-b3a1-5f1c4e1e2b7a", "displayName": "etl"}),
        )
        .await;
    let app_id = sp["applicationId"].as_str().unwrap();
    create(ws, single_user("etl_su_cluster", app_id)).await;

    // edit: the same check, and the cluster keeps its spec.
    env.advance(60);
    let mut edit = single_user("ana_silva_su_cluster", "bo.lee@example.com");
    edit["cluster_id"] = json!(id);
    let (status, body) = ws.post("/api/2.1/clusters/edit", edit.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error_code": "BAD_REQUEST", "message": "Principal: UserName(bo.lee@example.com) does not exist"})
    );
    let got = ws
        .read(&format!("/api/2.1/clusters/get?cluster_id={id}"))
        .await;
    assert_eq!(got["single_user_name"], "Ana.Silva@example.com");
    add_user(ws, "bo.lee@example.com").await;
    ws.ok("/api/2.1/clusters/edit", edit).await;
    let got = ws
        .read(&format!("/api/2.1/clusters/get?cluster_id={id}"))
        .await;
    assert_eq!(got["single_user_name"], "bo.lee@example.com");
}

async fn library_status(ws: &Api, id: &str) -> Vec<(String, Value)> {
    let s = ws
        .read(&format!(
            "/api/2.0/libraries/cluster-status?cluster_id={id}"
        ))
        .await;
    s["library_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["status"].as_str().unwrap().to_string(),
                l.get("messages").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

async fn statuses(ws: &Api, id: &str) -> Vec<String> {
    library_status(ws, id)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// A library-failure rule fails matching installs with the vendor's message; clearing it does
/// not mend a failed library, a restart does; with the rule still set the reinstall fails again.
#[tokio::test]
async fn a_library_failure_fails_the_install_until_a_restart_without_it() {
    let env = Env::start().await;
    let ws = &env.ws;
    let id = create(
        ws,
        json!({"cluster_name": "libs", "spark_version": VERSION, "num_workers": 0}),
    )
    .await;
    env.advance(60);
    let bad = json!({"pypi": {"package": "great-expectations==1.2.0"}});
    let good = json!({"maven": {"coordinates": "com.example:util:1.0"}});
    let (status, rules) = env
        .control(
            Method::POST,
            "library-failures",
            Some(json!({"library": bad, "message": "ERROR: No matching distribution found for great-expectations==1.2.0"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(rules["failures"].as_array().unwrap().len(), 1);

    ws.ok(
        "/api/2.0/libraries/install",
        json!({"cluster_id": id, "libraries": [bad, good]}),
    )
    .await;
    assert_eq!(statuses(ws, &id).await, ["PENDING", "PENDING"]);
    env.advance(15);
    assert_eq!(statuses(ws, &id).await, ["INSTALLING", "INSTALLING"]);
    env.advance(10);
    let settled = library_status(ws, &id).await;
    assert_eq!(settled[0].0, "FAILED");
    assert_eq!(settled[1].0, "INSTALLED");
    let message = settled[0].1[0].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Library installation attempted on the driver node of cluster {id} and failed."
        )) && message.contains("Error Code: DRIVER_LIBRARY_INSTALLATION_FAILURE")
            && message.ends_with("No matching distribution found for great-expectations==1.2.0"),
        "{message}"
    );
    assert_eq!(
        settled[1].1,
        Value::Null,
        "an installed library has no messages"
    );

    // Restarting with the rule still set: the reinstall fails again.
    ws.ok("/api/2.0/clusters/restart", json!({"cluster_id": id}))
        .await;
    assert_eq!(statuses(ws, &id).await, ["PENDING", "PENDING"]);
    env.advance(60);
    assert_eq!(statuses(ws, &id).await, ["FAILED", "INSTALLED"]);

    // Clearing the rule does not mend the failed install...
    let (status, _) = env.control(Method::DELETE, "library-failures", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.advance(60);
    assert_eq!(statuses(ws, &id).await, ["FAILED", "INSTALLED"]);
    // ... a restart does: Databricks reinstalls cluster libraries.
    ws.ok("/api/2.0/clusters/restart", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    assert_eq!(statuses(ws, &id).await, ["INSTALLED", "INSTALLED"]);

    // A rule seen during an attempt dooms it even if cleared before it finishes.
    let other = json!({"whl": "/Volumes/main/default/libs/x.whl"});
    env.emulator
        .add_library_failure(brickstack_databricks_emulator::LibraryFailure {
            library: other.clone(),
            message: None,
            workspace_id: Some(env.workspace_id),
            cluster_id: Some(id.clone()),
        });
    ws.ok(
        "/api/2.0/libraries/install",
        json!({"cluster_id": id, "libraries": [other]}),
    )
    .await;
    env.emulator.clear_library_failures();
    env.advance(60);
    let settled = library_status(ws, &id).await;
    assert_eq!(settled[2].0, "FAILED");
    assert!(
        settled[2].1[0]
            .as_str()
            .unwrap()
            .ends_with("Could not find a version that satisfies the requirement /Volumes/main/default/libs/x.whl"),
        "{:?}",
        settled[2].1
    );
}

/// On a terminated cluster a library waits, `PENDING`, for the next start; a rule for another
/// workspace or cluster does not touch it.
#[tokio::test]
async fn libraries_of_a_terminated_cluster_wait_for_its_start() {
    let env = Env::start().await;
    let ws = &env.ws;
    let id = create(
        ws,
        json!({"cluster_name": "later", "spark_version": VERSION}),
    )
    .await;
    env.advance(60);
    ws.ok("/api/2.1/clusters/delete", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    let (status, _) = env
        .control(
            Method::POST,
            "library-failures",
            Some(json!({"library": {"pypi": {"package": "x==1"}}, "workspace_id": env.workspace_id + 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    ws.ok(
        "/api/2.0/libraries/install",
        json!({"cluster_id": id, "libraries": [{"pypi": {"package": "x==1", "repo": "https://pypi.org/simple"}}]}),
    )
    .await;
    env.advance(600);
    assert_eq!(statuses(ws, &id).await, ["PENDING"]);
    ws.ok("/api/2.1/clusters/start", json!({"cluster_id": id}))
        .await;
    assert_eq!(statuses(ws, &id).await, ["PENDING"]);
    env.advance(30);
    assert_eq!(
        statuses(ws, &id).await,
        ["PENDING"],
        "the driver just came up"
    );
    env.advance(15);
    assert_eq!(statuses(ws, &id).await, ["INSTALLING"]);
    env.advance(10);
    assert_eq!(statuses(ws, &id).await, ["INSTALLED"]);
}

#[tokio::test]
async fn libraries_are_validated() {
    let env = Env::start().await;
    let ws = &env.ws;
    let id = create(ws, json!({"cluster_name": "v", "spark_version": VERSION})).await;
    for library in [
        json!({}),
        json!({"pypi": {"package": "x"}, "jar": "/x.jar"}),
        json!({"wheel": "/x.whl"}),
    ] {
        assert_eq!(
            error(
                ws.post(
                    "/api/2.0/libraries/install",
                    json!({"cluster_id": id, "libraries": [library]}),
                )
                .await
            ),
            (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into()),
            "{library}"
        );
    }
    let missing = "0101-000000-nosuchcl";
    for answer in [
        ws.post(
            "/api/2.0/libraries/install",
            json!({"cluster_id": missing, "libraries": [{"jar": "/x.jar"}]}),
        )
        .await,
        ws.post(
            "/api/2.0/libraries/uninstall",
            json!({"cluster_id": missing, "libraries": [{"jar": "/x.jar"}]}),
        )
        .await,
        ws.get(&format!(
            "/api/2.0/libraries/cluster-status?cluster_id={missing}"
        ))
        .await,
    ] {
        assert_eq!(answer.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.1,
            json!({"error_code": "INVALID_PARAMETER_VALUE", "message": format!("Cluster {missing} does not exist")})
        );
    }
    let (status, body) = env
        .control(
            Method::POST,
            "library-failures",
            Some(json!({"library": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Cluster permissions: unknown cluster, level or principal are the vendor's errors and change
/// nothing; PUT replaces, PATCH merges.
#[tokio::test]
async fn cluster_permissions_are_validated() {
    let env = Env::start().await;
    let ws = &env.ws;
    add_user(ws, "ana@example.com").await;
    let id = create(ws, json!({"cluster_name": "p", "spark_version": VERSION})).await;
    let path = format!("/api/2.0/permissions/clusters/{id}");
    let grant = |user: &str, level: &str| json!({"access_control_list": [{"user_name": user, "permission_level": level}]});

    let missing = "/api/2.0/permissions/clusters/0101-000000-nosuchcl";
    for answer in [
        ws.get(missing).await,
        ws.put(missing, grant("ana@example.com", "CAN_RESTART"))
            .await,
        ws.patch(missing, grant("ana@example.com", "CAN_RESTART"))
            .await,
        ws.get(&format!("{missing}/permissionLevels")).await,
    ] {
        assert_eq!(answer.0, StatusCode::NOT_FOUND);
        assert_eq!(
            answer.1,
            json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Cluster 0101-000000-nosuchcl does not exist"})
        );
    }
    for level in ["CAN_USE", "CAN_VIEW", "CAN_FLY"] {
        assert_eq!(
            error(ws.put(&path, grant("ana@example.com", level)).await),
            (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into()),
            "{level}"
        );
    }
    let (status, body) = ws
        .patch(&path, grant("ghost@example.com", "CAN_RESTART"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Principal: UserName(ghost@example.com) does not exist"})
    );
    let (status, body) = ws
        .put(
            &path,
            json!({"access_control_list": [{"group_name": "ghosts", "permission_level": "CAN_ATTACH_TO"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Principal: GroupName(ghosts) does not exist"
    );
    let direct = |acl: &Value| -> Vec<Value> {
        acl["access_control_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["all_permissions"][0]["inherited"] == false)
            .cloned()
            .collect()
    };
    assert!(
        direct(&ws.read(&path).await).is_empty(),
        "nothing was granted"
    );

    let put = ws
        .send(
            ws.http
                .put(ws.url(&path))
                .json(&grant("ana@example.com", "CAN_RESTART")),
        )
        .await;
    assert_eq!(put.0, StatusCode::OK);
    assert_eq!(put.1["object_id"], format!("/clusters/{id}"));
    assert_eq!(put.1["object_type"], "cluster");
    let patched = ws
        .patch(
            &path,
            json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_ATTACH_TO"}]}),
        )
        .await;
    assert_eq!(patched.0, StatusCode::OK);
    assert_eq!(direct(&patched.1).len(), 2);
    ws.put(&path, grant("ana@example.com", "CAN_MANAGE")).await;
    let now = direct(&ws.read(&path).await);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["user_name"], "ana@example.com");
    assert_eq!(
        now[0]["all_permissions"][0]["permission_level"],
        "CAN_MANAGE"
    );
    let levels = ws.read(&format!("{path}/permissionLevels")).await;
    let levels: Vec<&str> = levels["permission_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["permission_level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"]);
}

/// Past N accepted creates in a minute of emulator time: 429 `REQUEST_LIMIT_EXCEEDED` with
/// `Retry-After`, and no cluster; room comes back as the window slides.
#[tokio::test]
async fn cluster_creates_past_the_limit_are_429_with_retry_after_and_create_nothing() {
    let env = Env::start().await;
    let ws = &env.ws;
    let (status, limits) = env.control(Method::GET, "limits", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        limits,
        json!({"cluster_creates_per_minute": null, "window_seconds": 60, "throttled": 0}),
        "unlimited by default"
    );
    let (status, _) = env
        .control(
            Method::POST,
            "limits",
            Some(json!({"cluster_creates_per_minute": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let body = json!({"cluster_name": "r", "spark_version": VERSION});
    // A create refused for its spec is not counted.
    assert_eq!(
        ws.post("/api/2.1/clusters/create", json!({"cluster_name": "r"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    create(ws, body.clone()).await;
    env.advance(20);
    create(ws, body.clone()).await;
    let response = ws
        .http
        .post(ws.url("/api/2.1/clusters/create"))
        .bearer_auth(&ws.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((39..=40).contains(&retry_after), "{retry_after}");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error_code"], "REQUEST_LIMIT_EXCEEDED");
    assert!(answer["message"].is_string());
    assert_eq!(
        cluster_count(ws).await,
        2,
        "the refused create made nothing"
    );
    assert_eq!(env.emulator.throttled_cluster_creates(), 1);

    env.advance(retry_after);
    create(ws, body.clone()).await;
    assert_eq!(
        ws.post("/api/2.0/clusters/create", body.clone()).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the 2.0 path shares the limit"
    );
    let (_, limits) = env
        .control(
            Method::POST,
            "limits",
            Some(json!({"cluster_creates_per_minute": 0})),
        )
        .await;
    assert_eq!(limits["cluster_creates_per_minute"], Value::Null);
    assert_eq!(limits["throttled"], 2);
    for _ in 0..5 {
        create(ws, body.clone()).await;
    }
    assert_eq!(cluster_count(ws).await, 8);
}

#[tokio::test]
async fn the_limit_can_be_configured_and_a_reset_restores_it() {
    let env = Env::start_with(brickstack_databricks_emulator::DatabricksEmulatorConfig {
        cluster_creates_per_minute: 1,
        ..brickstack_databricks_emulator::DatabricksEmulatorConfig::default()
    })
    .await;
    let body = json!({"cluster_name": "r", "spark_version": VERSION});
    create(&env.ws, body.clone()).await;
    assert_eq!(
        env.ws
            .post("/api/2.1/clusters/create", body.clone())
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    env.emulator
        .set_limits(brickstack_databricks_emulator::Limits::default());
    create(&env.ws, body.clone()).await;
    let (status, _) = env.control(Method::POST, "reset", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, limits) = env.control(Method::GET, "limits", None).await;
    assert_eq!(
        limits,
        json!({"cluster_creates_per_minute": 1, "window_seconds": 60, "throttled": 0})
    );
}

/// The inventory shows what an end-to-end test asserts on a single-user cluster.
#[tokio::test]
async fn the_inventory_shows_a_clusters_user_mode_libraries_and_grants() {
    let env = Env::start().await;
    let ws = &env.ws;
    add_user(ws, "ana@example.com").await;
    let id = create(ws, single_user("ana_su_cluster", "ana@example.com")).await;
    env.advance(60);
    let lib = json!({"pypi": {"package": "great-expectations==1.2.0"}});
    ws.ok(
        "/api/2.0/libraries/install",
        json!({"cluster_id": id, "libraries": [lib]}),
    )
    .await;
    ws.put(
        &format!("/api/2.0/permissions/clusters/{id}"),
        json!({"access_control_list": [{"user_name": "ana@example.com", "permission_level": "CAN_RESTART"}]}),
    )
    .await;
    let cluster = |inventory: &Value| inventory["workspaces"][0]["objects"]["clusters"][0].clone();
    let expected = |state: &str, status: &str| {
        json!({
            "cluster_id": id,
            "cluster_name": "ana_su_cluster",
            "state": state,
            "data_security_mode": "SINGLE_USER",
            "single_user_name": "ana@example.com",
            "libraries": [{"library": lib, "status": status}],
            "permissions": [{"user_name": "ana@example.com", "permission_level": "CAN_RESTART"}],
        })
    };
    assert_eq!(
        cluster(&env.emulator.inventory(&env.account_id)),
        expected("RUNNING", "PENDING")
    );
    env.advance(60);
    let (_, inventory) = env
        .control(
            Method::GET,
            &format!("inventory?account_id={}", env.account_id),
            None,
        )
        .await;
    assert_eq!(cluster(&inventory), expected("RUNNING", "INSTALLED"));
    ws.ok("/api/2.1/clusters/delete", json!({"cluster_id": id}))
        .await;
    env.advance(60);
    assert_eq!(
        cluster(&env.emulator.inventory(&env.account_id)),
        expected("TERMINATED", "PENDING")
    );
}
