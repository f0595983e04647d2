//! The `/_emulator/` controls: clock, fault rules (every body shape, Retry-After, counts,
//! probability, latency), inventory with `left_in_deleted_workspaces`, minted secrets, reset.

mod common;

use std::time::{Duration, Instant};

use brickstack_databricks_emulator::{FaultBody, FaultRule};
use common::{Env, http};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn the_clock_advances_over_http() {
    let env = Env::start().await;
    let (_, before) = env.control(Method::GET, "clock", None).await;
    let (status, after) = env
        .control(
            Method::POST,
            "clock",
            Some(json!({"advance_seconds": 7200})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let moved = after["now_ms"].as_i64().unwrap() - before["now_ms"].as_i64().unwrap();
    assert!((7_200_000..7_260_000).contains(&moved), "{moved}");
    assert!(env.emulator.now_ms() >= after["now_ms"].as_i64().unwrap());
    let (status, _) = env
        .control(Method::POST, "clock", Some(json!({"advance_seconds": -1})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Every answer's `Date` is the emulator's clock, which a test moves: a client judging expiry by
/// the server's time sees the advanced clock (hyper's own `Date` is real time).
#[tokio::test]
async fn answers_are_dated_by_the_emulator_clock() {
    let env = Env::start().await;
    let date = |headers: &reqwest::header::HeaderMap| {
        headers
            .get("date")
            .and_then(|d| d.to_str().ok())
            .unwrap()
            .to_string()
    };
    let (_, before, _) = raw(&format!("{}/health", env.emulator.url()), "").await;
    env.control(
        Method::POST,
        "clock",
        Some(json!({"advance_seconds": 3 * 365 * 86_400})),
    )
    .await;
    let (_, after, _) = raw(&format!("{}/health", env.emulator.url()), "").await;
    let year = |date: &str| date.split(' ').nth(3).unwrap().parse::<i32>().unwrap();
    assert!(
        year(&date(&after)) >= year(&date(&before)) + 2,
        "{} then {}",
        date(&before),
        date(&after)
    );
    assert!(date(&after).ends_with(" GMT"), "{}", date(&after));
    // Errors are dated too.
    let (status, headers, _) = raw(
        &format!(
            "{}/w/{}/api/2.0/token/list",
            env.emulator.url(),
            env.workspace_id
        ),
        "not-a-token",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(year(&date(&headers)), year(&date(&after)));
}

/// Raw status, headers and text of one GET.
async fn raw(url: &str, token: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = http().get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn faults_answer_in_every_body_shape() {
    let env = Env::start().await;
    let path = format!("/w/{}/api/2.1/clusters/list", env.workspace_id);
    let url = format!("{}{path}", env.emulator.url());
    let rule = |body: &str, status: u16| {
        json!({"method": "GET", "path_prefix": path, "status": status, "body": body,
               "error_code": "TEMPORARILY_UNAVAILABLE", "message": "try later", "retry_after_seconds": 3})
    };
    let cases: [(&str, u16, &str, &str); 7] = [
        (
            "json",
            503,
            "application/json",
            r#"{"error_code":"TEMPORARILY_UNAVAILABLE","message":"try later"}"#,
        ),
        (
            "json_numeric_code",
            503,
            "application/json",
            r#"{"error_code":503,"message":"try later"}"#,
        ),
        (
            "scim",
            503,
            "application/json",
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"try later","status":"503","scimType":"TEMPORARILY_UNAVAILABLE"}"#,
        ),
        ("html", 503, "text/html", "<pre>try later</pre>"),
        (
            "text",
            503,
            "text/plain",
            "TEMPORARILY_UNAVAILABLE: try later",
        ),
        ("empty", 503, "", ""),
        ("login_page", 503, "text/html", "<form action=\"/login\""),
    ];
    for (body, status, content_type, expected) in cases {
        let (code, _) = env
            .control(
                Method::POST,
                "faults",
                Some(json!({"rules": [rule(body, status)]})),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let (status, headers, text) = raw(&url, &env.ws.token).await;
        let expected_status = if body == "login_page" {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(headers["retry-after"], "3", "{body}");
        let ct = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("");
        assert!(ct.starts_with(content_type), "{body}: {ct}");
        if body.starts_with("json") || body == "scim" || body == "empty" {
            assert_eq!(text, expected, "{body}");
        } else {
            assert!(text.contains(expected), "{body}: {text}");
        }
        // `times` defaults to 1: the next request reaches the handler.
        assert_eq!(raw(&url, &env.ws.token).await.0, StatusCode::OK, "{body}");
    }
    let (_, listed) = env.control(Method::GET, "faults", None).await;
    let rules = listed["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 7);
    assert!(
        rules.iter().all(|r| r["hits"] == 1 && r["remaining"] == 0),
        "{listed}"
    );
    assert_eq!(
        env.control(Method::DELETE, "faults", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.control(Method::GET, "faults", None).await.1["rules"],
        json!([])
    );
}

#[tokio::test]
async fn fault_rules_count_match_and_delay() {
    let env = Env::start().await;
    let prefix = format!("/w/{}/api/2.0/token", env.workspace_id);
    let rule = FaultRule {
        method: Some("post".into()),
        times: Some(2),
        ..FaultRule::status(prefix.clone(), 429)
    };
    env.emulator.add_faults(vec![rule]).unwrap();
    // Another method does not match; the default body is JSON with the vendor's code for 429.
    assert_eq!(env.ws.get("/api/2.0/token/list").await.0, StatusCode::OK);
    for _ in 0..2 {
        let (status, body) = env.ws.post("/api/2.0/token/create", json!({})).await;
        assert_eq!(
            (status, &body["error_code"]),
            (
                StatusCode::TOO_MANY_REQUESTS,
                &json!("REQUEST_LIMIT_EXCEEDED")
            )
        );
    }
    assert_eq!(
        env.ws.post("/api/2.0/token/create", json!({})).await.0,
        StatusCode::OK
    );
    let faults = env.emulator.faults();
    assert_eq!((faults[0].hits, faults[0].remaining), (2, Some(0)));

    // SCIM paths default to the SCIM body.
    env.emulator
        .add_faults(vec![FaultRule::status(
            format!("/w/{}/api/2.0/preview/scim", env.workspace_id),
            500,
        )])
        .unwrap();
    let (status, body) = env.ws.get("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::INTERNAL_SERVER_ERROR, &json!("500"))
    );

    // Unlimited with a probability: seeded, so some but not all requests fail.
    env.emulator.clear_faults();
    env.emulator
        .add_faults(vec![FaultRule {
            times: Some(0),
            probability: Some(0.5),
            body: Some(FaultBody::Empty),
            ..FaultRule::status(format!("/w/{}/api/2.0/token/list", env.workspace_id), 503)
        }])
        .unwrap();
    let mut failed = 0;
    for _ in 0..40 {
        if env.ws.get("/api/2.0/token/list").await.0 == StatusCode::SERVICE_UNAVAILABLE {
            failed += 1;
        }
    }
    assert!((5..35).contains(&failed), "{failed} of 40");
    assert_eq!(env.emulator.faults()[0].hits, failed);

    // Latency only: delayed, then served.
    env.emulator.clear_faults();
    let (status, _) = env
        .control(
            Method::POST,
            "faults",
            Some(json!({"rules": [{"path_prefix": "/w/", "latency_ms": 300}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    assert_eq!(env.ws.get("/api/2.0/token/list").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Invalid rules are refused whole.
    let (status, _) = env
        .control(
            Method::POST,
            "faults",
            Some(json!({"rules": [{"status": 503, "probability": 2.0}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn kinds(objects: &Value) -> Vec<String> {
    objects.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn inventory_lists_live_objects_and_what_deleted_workspaces_left_behind() {
    let env = Env::start().await;
    let ws = &env.ws;
    ws.ok(
        "/api/2.0/preview/scim/v2/Users",
        json!({"userName": "ann@example.com"}),
    )
    .await;
    ws.ok(
        "/api/2.0/preview/scim/v2/Groups",
        json!({"displayName": "eng"}),
    )
    .await;
    ws.ok(
        "/api/2.0/preview/scim/v2/ServicePrincipals",
        json!({"displayName": "sp"}),
    )
    .await;
    ws.ok("/api/2.0/token/create", json!({"comment": "x"}))
        .await;
    ws.ok(
        "/api/2.0/instance-profiles/add",
        json!({"instance_profile_arn": "arn:aws:iam::123456789012:instance-profile/p"}),
    )
    .await;
    ws.ok(
        "/api/2.0/dbfs/put",
        json!({"path": "/f.txt", "contents": ""}),
    )
    .await;
    ws.ok(
        "/api/2.0/global-init-scripts",
        json!({"name": "s", "script": "ZWNobw=="}),
    )
    .await;
    ws.ok(
        "/api/2.1/clusters/create",
        json!({"spark_version": "15.4.x-scala2.12"}),
    )
    .await;
    ws.ok("/api/2.0/policies/clusters/create", json!({"name": "p"}))
        .await;
    ws.ok(
        "/api/2.0/ip-access-lists",
        json!({"label": "l", "list_type": "BLOCK", "ip_addresses": []}),
    )
    .await;
    ws.patch(
        "/api/2.0/workspace-conf",
        json!({"enableIpAccessLists": "true", "enableGp3": "true"}),
    )
    .await;
    ws.ok("/api/2.0/secrets/scopes/create", json!({"scope": "s"}))
        .await;

    let (status, inventory) = env
        .control(
            Method::GET,
            &format!("inventory?account_id={}", env.account_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inventory, env.emulator.inventory(&env.account_id));
    assert_eq!(
        kinds(&inventory),
        [
            "account_id",
            "credentials",
            "storage_configurations",
            "workspaces"
        ]
    );
    let objects = &inventory["workspaces"][0]["objects"];
    assert_eq!(
        kinds(objects),
        [
            "users",
            "groups",
            "service_principals",
            "tokens",
            "instance_profiles",
            "dbfs",
            "global_init_scripts",
            "clusters",
            "cluster_policies",
            "ip_access_lists",
            "secret_scopes",
            "secret_acls",
            "workspace_conf"
        ]
    );
    assert_eq!(
        objects["workspace_conf"],
        json!({"enableIpAccessLists": "true"}),
        "defaults are not listed"
    );
    assert_eq!(objects["dbfs"], json!(["/f.txt"]));

    let (status, _) = env
        .account
        .delete(&format!("workspaces/{}", env.workspace_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = env.emulator.inventory(&env.account_id);
    let left = &after["left_in_deleted_workspaces"];
    assert_eq!(left[0]["workspace_id"], env.workspace_id);
    assert_eq!(&left[0]["objects"]["groups"], &objects["groups"]);
    assert!(after.get("workspaces").is_none(), "{after}");

    // A workspace emptied before its deletion leaves nothing behind.
    let (clean, _) = env.create_workspace("clean").await;
    let clean_ws = common::Api {
        prefix: format!("{}/w/{clean}", env.emulator.url()),
        ..env.ws.with_token(&env.workspace_token(clean).await)
    };
    let (_, group) = clean_ws
        .post(
            "/api/2.0/preview/scim/v2/Groups",
            json!({"displayName": "tmp"}),
        )
        .await;
    let group_path = format!(
        "/api/2.0/preview/scim/v2/Groups/{}",
        group["id"].as_str().unwrap()
    );
    assert_eq!(
        env.emulator.inventory(&env.account_id)["workspaces"][0]["objects"],
        json!({"groups": [{"id": group["id"], "displayName": "tmp"}]})
    );
    clean_ws.delete(&group_path).await;
    assert_eq!(
        env.emulator.inventory(&env.account_id)["workspaces"][0]["objects"],
        json!({})
    );
    env.account.delete(&format!("workspaces/{clean}")).await;
    assert_eq!(
        env.emulator.inventory(&env.account_id)["left_in_deleted_workspaces"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // An account the emulator knows nothing of.
    let other = brickstack_testkit::unique_account_id();
    assert_eq!(env.emulator.inventory(&other), json!({"account_id": other}));
}

#[tokio::test]
async fn every_handed_out_secret_is_recorded_and_reset_forgets_objects() {
    let env = Env::start().await;
    let pat = env.ws.ok("/api/2.0/token/create", json!({})).await;
    let (_, minted) = env.control(Method::GET, "minted", None).await;
    let values: Vec<(&str, &str)> = minted["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["value"].as_str().unwrap()))
        .collect();
    assert!(values.contains(&(
        "personal_access_token",
        pat["token_value"].as_str().unwrap()
    )));
    assert!(values.contains(&("oauth_access_token", env.ws.token.as_str())));
    assert!(values.contains(&("oauth_access_token", env.account.token.as_str())));

    env.emulator
        .add_faults(vec![FaultRule::status("/nowhere", 500)])
        .unwrap();
    let (status, _) = env.control(Method::POST, "reset", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(env.emulator.faults().is_empty());
    assert_eq!(
        env.emulator.inventory(&env.account_id),
        json!({"account_id": env.account_id})
    );
    // The account token still works; the workspace is gone.
    assert_eq!(
        env.account.get("credentials").await,
        (StatusCode::OK, json!([]))
    );
    assert_eq!(
        env.ws.get("/api/2.0/token/list").await.0,
        StatusCode::NOT_FOUND
    );
}

/// `after_apply`: the request takes effect, then its answer is replaced by the fault (a lost
/// answer), as posted through the controls.
#[tokio::test]
async fn an_after_apply_fault_applies_the_request_and_loses_its_answer() {
    let env = Env::start().await;
    let (status, _) = env
        .control(
            Method::POST,
            "faults",
            Some(json!({"rules": [{
                "method": "POST",
                "path_prefix": format!("/w/{}/api/2.0/token/create", env.workspace_id),
                "status": 500,
                "after_apply": true,
            }]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = env.ws.read("/api/2.0/token/list").await["token_infos"]
        .as_array()
        .map_or(0, Vec::len);
    let (status, body) = env
        .ws
        .post("/api/2.0/token/create", json!({"comment": "lost"}))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.get("token_value").is_none(), "{body}");
    let tokens = env.ws.read("/api/2.0/token/list").await["token_infos"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(tokens.len(), before + 1, "{tokens:?}");
    assert!(
        tokens.iter().any(|t| t["comment"] == json!("lost")),
        "{tokens:?}"
    );
    // The rule lists with its mode.
    assert!(env.emulator.faults()[0].rule.after_apply);
}
