//! The emulator's workspace API through real HTTP: URL, auth and audience binding, tokens,
//! on-behalf-of tokens, SCIM, account service principals, and the other areas' round trips.

mod common;

use common::{Env, error, http, oauth};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PROFILE: &str = "arn:aws:iam::123456789012:instance-profile/databricks-data";

#[tokio::test]
async fn workspaces_are_served_under_the_emulator_url() {
    let env = Env::start().await;
    assert_eq!(
        env.workspace_url,
        format!("{}/w/{}", env.emulator.url(), env.workspace_id)
    );
    let me = env.ws.read("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(
        me["applicationId"],
        env.emulator.config().client_id.as_str()
    );
    let groups: Vec<&str> = me["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert!(groups.contains(&"admins"), "{me}");
}

#[tokio::test]
async fn unknown_workspaces_paths_and_methods_are_404() {
    let env = Env::start().await;
    let not_found = |code: &str| (StatusCode::NOT_FOUND, code.to_string());
    assert_eq!(
        error(env.ws.get("/api/2.0/no-such-api").await),
        not_found("ENDPOINT_NOT_FOUND")
    );
    assert_eq!(
        error(env.ws.delete("/api/2.0/token/create").await),
        not_found("ENDPOINT_NOT_FOUND")
    );
    let elsewhere = common::Api {
        prefix: format!("{}/w/1234", env.emulator.url()),
        ..env.ws.clone()
    };
    assert_eq!(
        error(elsewhere.get("/api/2.0/token/list").await),
        not_found("RESOURCE_DOES_NOT_EXIST")
    );
}

#[tokio::test]
async fn a_workspace_answers_503_until_it_has_run() {
    let env = Env::start().await;
    let (id, url) = env.create_workspace_unpolled("late").await;
    let early = env.ws.with_token(&env.emulator.issue_workspace_token(id));
    let early = common::Api {
        prefix: url,
        ..early
    };
    assert_eq!(
        error(early.get("/api/2.0/preview/scim/v2/Me").await),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "TEMPORARILY_UNAVAILABLE".into()
        )
    );
    env.account.read(&format!("workspaces/{id}")).await;
    assert_eq!(
        early.get("/api/2.0/preview/scim/v2/Me").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_are_bound_to_their_audience() {
    let env = Env::start().await;
    let unauthenticated = (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED".to_string());
    // An account token on a workspace API, and a workspace token on the account API.
    let account_token = env.account.token.clone();
    assert_eq!(
        error(
            env.ws
                .with_token(&account_token)
                .get("/api/2.0/token/list")
                .await
        ),
        unauthenticated
    );
    assert_eq!(
        error(
            env.account
                .with_token(&env.ws.token)
                .get("credentials")
                .await
        ),
        unauthenticated
    );
    // Another workspace's token.
    let (other, _) = env.create_workspace("other").await;
    let other_token = env.workspace_token(other).await;
    assert_eq!(
        error(
            env.ws
                .with_token(&other_token)
                .get("/api/2.0/token/list")
                .await
        ),
        unauthenticated
    );
    // No credential, a made-up one, and basic auth.
    let response = http()
        .get(env.ws.url("/api/2.0/token/list"))
        .send()
        .await
        .unwrap();
    assert_eq!(error(common::read(response).await), unauthenticated);
    assert_eq!(
        error(
            env.ws
                .with_token("dapi0000")
                .get("/api/2.0/token/list")
                .await
        ),
        unauthenticated
    );
    let response = http()
        .get(env.ws.url("/api/2.0/token/list"))
        .basic_auth("admin@example.com", Some("pw"))
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("end of life"));
    // A wrong client secret at the workspace token endpoint.
    let (status, body) = oauth(
        &http(),
        &format!("{}/oidc/v1/token", env.workspace_url),
        &env.emulator.config().client_id,
        "wrong",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_client"))
    );
}

#[tokio::test]
async fn personal_access_tokens_expire_with_the_clock_and_revoked_ones_are_refused() {
    let mut env = Env::start().await;
    let created = env
        .ws
        .ok(
            "/api/2.0/token/create",
            json!({"lifetime_seconds": 3600, "comment": "ci"}),
        )
        .await;
    let value = created["token_value"].as_str().unwrap().to_string();
    assert!(value.starts_with("dapi") && value.len() == 36, "{value}");
    assert!(value[4..].bytes().all(|c| c.is_ascii_hexdigit()), "{value}");
    let info = &created["token_info"];
    assert_eq!(
        info["expiry_time"].as_i64().unwrap() - info["creation_time"].as_i64().unwrap(),
        3_600_000
    );
    assert_eq!(info["comment"], "ci");
    let pat = env.ws.with_token(&value);
    let me = pat.read("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(
        me["applicationId"],
        env.emulator.config().client_id.as_str()
    );

    env.advance(3601);
    assert_eq!(
        error(pat.get("/api/2.0/preview/scim/v2/Me").await).0,
        StatusCode::UNAUTHORIZED
    );
    // The hour also expired the OAuth token.
    assert_eq!(
        env.ws.get("/api/2.0/token/list").await.0,
        StatusCode::UNAUTHORIZED
    );
    env.relogin().await;

    let forever = env
        .ws
        .ok("/api/2.0/token/create", json!({"comment": "no lifetime"}))
        .await;
    assert_eq!(forever["token_info"]["expiry_time"], -1);
    let id = forever["token_info"]["token_id"].as_str().unwrap();
    let listed = env.ws.read("/api/2.0/token/list").await;
    assert_eq!(
        listed["token_infos"],
        json!([info, forever["token_info"]]),
        "an expired token is still listed (until revoked), as the vendor's backend does"
    );
    let forever_api = env.ws.with_token(forever["token_value"].as_str().unwrap());
    assert_eq!(
        forever_api.get("/api/2.0/token/list").await.0,
        StatusCode::OK
    );
    env.ws
        .ok("/api/2.0/token/delete", json!({"token_id": id}))
        .await;
    assert_eq!(
        error(forever_api.get("/api/2.0/token/list").await).0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error(
            env.ws
                .post("/api/2.0/token/delete", json!({"token_id": id}))
                .await
        ),
        (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST".into())
    );

    // maxTokenLifetimeDays caps new tokens.
    let (status, _) = env
        .ws
        .patch(
            "/api/2.0/workspace-conf",
            json!({"maxTokenLifetimeDays": "1"}),
        )
        .await;
    assert!(status.is_success());
    assert_eq!(
        error(
            env.ws
                .post(
                    "/api/2.0/token/create",
                    json!({"lifetime_seconds": 172_800})
                )
                .await
        ),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    let capped = env.ws.ok("/api/2.0/token/create", json!({})).await;
    let info = &capped["token_info"];
    assert_eq!(
        info["expiry_time"].as_i64().unwrap() - info["creation_time"].as_i64().unwrap(),
        86_400_000
    );
}

#[tokio::test]
async fn on_behalf_of_tokens_need_can_use_and_act_as_the_service_principal() {
    let env = Env::start().await;
    let (status, sp) = env
        .ws
        .post(
            "/api/2.0/preview/scim/v2/ServicePrincipals",
            json!({"displayName": "deployer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sp}");
    let app_id = sp["applicationId"].as_str().unwrap().to_string();
    assert_eq!(app_id.len(), 36, "generated UUID: {sp}");
    let obo = |application_id: &str| json!({"application_id": application_id, "lifetime_seconds": 600, "comment": "deploy"});
    let path = "/api/2.0/token-management/on-behalf-of/tokens";
    assert_eq!(
        error(env.ws.post(path, obo(&app_id)).await),
        (StatusCode::FORBIDDEN, "PERMISSION_DENIED".into())
    );
    assert_eq!(
        error(
            env.ws
                .post(path, obo("00000000-0000-4000-8000-000000000000"))
                .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );

    let (status, acl) = env
        .ws
        .put(
            "/api/2.0/permissions/authorization/tokens",
            json!({"access_control_list": [{"service_principal_name": app_id, "permission_level": "CAN_USE"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    assert_eq!(acl["object_id"], "authorization/tokens");
    assert_eq!(
        acl["access_control_list"],
        json!([
            {"service_principal_name": app_id, "all_permissions": [{"permission_level": "CAN_USE", "inherited": false}]},
            {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true}]},
        ])
    );
    let minted = env.ws.ok(path, obo(&app_id)).await;
    let token_id = minted["token_info"]["token_id"]
        .as_str()
        .unwrap()
        .to_string();
    let as_sp = env.ws.with_token(minted["token_value"].as_str().unwrap());
    let me = as_sp.read("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(me["applicationId"], app_id.as_str());
    // The SP is no admin.
    let (status, refused) = as_sp
        .post(
            "/api/2.0/preview/scim/v2/Groups",
            json!({"displayName": "x"}),
        )
        .await;
    assert_eq!(
        (status, &refused["status"]),
        (StatusCode::FORBIDDEN, &json!("403"))
    );

    let all = env.ws.read("/api/2.0/token-management/tokens").await;
    let infos = all["token_infos"].as_array().unwrap();
    assert_eq!(infos.len(), 1, "{all}");
    assert_eq!(infos[0]["token_id"], token_id.as_str());
    assert_eq!(
        infos[0]["owner_id"],
        sp["id"].as_str().unwrap().parse::<i64>().unwrap()
    );
    assert_eq!(infos[0]["workspace_id"], env.workspace_id);
    let (status, _) = env
        .ws
        .delete(&format!("/api/2.0/token-management/tokens/{token_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        error(as_sp.get("/api/2.0/preview/scim/v2/Me").await).0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error(
            env.ws
                .get(&format!("/api/2.0/token-management/tokens/{token_id}"))
                .await
        )
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn permissions_check_levels_objects_and_principals() {
    let env = Env::start().await;
    let put = |level: &str, who: Value| {
        let mut entry = who;
        entry["permission_level"] = json!(level);
        json!({"access_control_list": [entry]})
    };
    let tokens = "/api/2.0/permissions/authorization/tokens";
    assert_eq!(
        error(
            env.ws
                .put(tokens, put("CAN_FLY", json!({"group_name": "users"})))
                .await
        ),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    assert_eq!(
        error(
            env.ws
                .put(
                    tokens,
                    put("CAN_USE", json!({"user_name": "nobody@example.com"}))
                )
                .await
        ),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    assert_eq!(
        error(
            env.ws
                .get("/api/2.0/permissions/clusters/0101-000000-nothere")
                .await
        ),
        (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST".into())
    );
    let levels = env
        .ws
        .read("/api/2.0/permissions/authorization/tokens/permissionLevels")
        .await;
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 2);
    let (status, patched) = env
        .ws
        .patch(tokens, put("CAN_USE", json!({"group_name": "users"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["access_control_list"][0]["group_name"], "users");
}

#[tokio::test]
async fn scim_users_groups_and_membership() {
    let env = Env::start().await;
    let scim = "/api/2.0/preview/scim/v2";
    let (status, user) = env
        .ws
        .post(
            &format!("{scim}/Users"),
            json!({"userName": "ann@example.com", "displayName": "Ann"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let user_id = user["id"].as_str().unwrap().to_string();
    assert!(user_id.bytes().all(|c| c.is_ascii_digit()), "{user}");

    // A duplicate is a SCIM error body.
    let (status, dup) = env
        .ws
        .post(
            &format!("{scim}/Users"),
            json!({"userName": "ann@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        dup["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(dup["status"], "409");
    assert!(dup["detail"].is_string(), "{dup}");

    let found = env
        .ws
        .read(&format!(
            "{scim}/Users?filter=userName%20eq%20%22ANN@example.com%22"
        ))
        .await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], user_id.as_str());

    let (status, group) = env
        .ws
        .post(
            &format!("{scim}/Groups"),
            json!({"displayName": "data-eng"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let group_id = group["id"].as_str().unwrap().to_string();
    assert_eq!(
        env.ws
            .post(
                &format!("{scim}/Groups"),
                json!({"displayName": "data-eng"})
            )
            .await
            .0,
        StatusCode::CONFLICT
    );
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let group_path = format!("{scim}/Groups/{group_id}");
    let (status, _) = env
        .ws
        .patch(&group_path, patch(json!([{"op": "add", "path": "members", "value": [{"value": user_id}]},
                                         {"op": "add", "path": "entitlements", "value": [{"value": "allow-cluster-create"}]}])))
        .await;
    assert_eq!(status, StatusCode::OK);
    let read = env.ws.read(&group_path).await;
    assert_eq!(read["members"][0]["value"], user_id.as_str());
    assert_eq!(
        read["entitlements"],
        json!([{"value": "allow-cluster-create"}])
    );
    let user_read = env.ws.read(&format!("{scim}/Users/{user_id}")).await;
    let groups: Vec<&str> = user_read["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["users", "data-eng"]);

    let filtered = env
        .ws
        .read(&format!(
            "{scim}/Groups?filter=displayName%20eq%20%22data-eng%22"
        ))
        .await;
    assert_eq!(filtered["Resources"][0]["id"], group_id.as_str());
    let all = env
        .ws
        .read(&format!("{scim}/Groups?startIndex=2&count=1"))
        .await;
    assert_eq!(
        (
            all["totalResults"].clone(),
            all["itemsPerPage"].clone(),
            all["startIndex"].clone()
        ),
        (json!(3), json!(1), json!(2))
    );

    // Removal by value filter; entitlements by value list.
    env.ws
        .patch(&group_path, patch(json!([{"op": "remove", "path": format!("members[value eq \"{user_id}\"]")},
                                         {"op": "remove", "path": "entitlements", "value": [{"value": "allow-cluster-create"}]}])))
        .await;
    let read = env.ws.read(&group_path).await;
    assert_eq!(
        (read["members"].clone(), read["entitlements"].clone()),
        (json!([]), json!([]))
    );

    // Roles must be registered instance profiles.
    let user_path = format!("{scim}/Users/{user_id}");
    let add_role = patch(json!([{"op": "add", "path": "roles", "value": [{"value": PROFILE}]}]));
    assert_eq!(
        env.ws.patch(&user_path, add_role.clone()).await.0,
        StatusCode::BAD_REQUEST
    );
    env.ws
        .ok(
            "/api/2.0/instance-profiles/add",
            json!({"instance_profile_arn": PROFILE}),
        )
        .await;
    let (status, with_role) = env.ws.patch(&user_path, add_role).await;
    assert_eq!(
        (status, &with_role["roles"]),
        (StatusCode::OK, &json!([{"value": PROFILE}]))
    );
    let (_, without) = env
        .ws
        .patch(
            &user_path,
            patch(json!([{"op": "remove", "path": format!("roles[value eq \"{PROFILE}\"]")}])),
        )
        .await;
    assert_eq!(without["roles"], json!([]));
    // groups is read-only.
    assert_eq!(
        env.ws
            .patch(
                &user_path,
                patch(json!([{"op": "add", "path": "groups", "value": [{"value": group_id}]}]))
            )
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    let (status, missing) = env.ws.get(&format!("{scim}/Users/1234")).await;
    assert_eq!(
        (status, &missing["status"]),
        (StatusCode::NOT_FOUND, &json!("404"))
    );
    let admins = env
        .ws
        .read(&format!(
            "{scim}/Groups?filter=displayName%20eq%20%22admins%22"
        ))
        .await;
    let admins_id = admins["Resources"][0]["id"].as_str().unwrap();
    assert_eq!(
        env.ws.delete(&format!("{scim}/Groups/{admins_id}")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(env.ws.delete(&user_path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(env.ws.get(&user_path).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn account_service_principal_secrets_work_at_both_token_endpoints() {
    let env = Env::start().await;
    let (status, sp) = env
        .account
        .post("scim/v2/ServicePrincipals", json!({"displayName": "ci"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sp}");
    let (id, app_id) = (
        sp["id"].as_str().unwrap(),
        sp["applicationId"].as_str().unwrap(),
    );
    let secrets = format!("servicePrincipals/{id}/credentials/secrets");
    let secret = env.account.ok(&secrets, json!({"lifetime": "3600s"})).await;
    let value = secret["secret"].as_str().unwrap();
    assert_eq!(secret["status"], "ACTIVE");
    assert!(
        secret["expire_time"].as_str().unwrap().ends_with('Z'),
        "{secret}"
    );
    let listed = env.account.read(&secrets).await;
    assert!(listed["secrets"][0].get("secret").is_none(), "{listed}");

    let base = env.emulator.url();
    let account_url = format!("{base}/oidc/accounts/{}/v1/token", env.account_id);
    let workspace_url = format!("{}/oidc/v1/token", env.workspace_url);
    let (status, account_token) = oauth(&http(), &account_url, app_id, value).await;
    assert_eq!(status, StatusCode::OK, "{account_token}");
    // Not an account admin yet.
    let as_sp = env
        .account
        .with_token(account_token["access_token"].as_str().unwrap());
    assert_eq!(
        error(as_sp.get("credentials").await).0,
        StatusCode::FORBIDDEN
    );
    let grant = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "add", "path": "roles", "value": [{"value": "account_admin"}]}]});
    assert_eq!(
        env.account
            .patch(&format!("scim/v2/ServicePrincipals/{id}"), grant)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(as_sp.get("credentials").await.0, StatusCode::OK);

    let (status, ws_token) = oauth(&http(), &workspace_url, app_id, value).await;
    assert_eq!(status, StatusCode::OK, "{ws_token}");
    let ws_sp = env
        .ws
        .with_token(ws_token["access_token"].as_str().unwrap());
    assert_eq!(
        ws_sp.read("/api/2.0/preview/scim/v2/Me").await["applicationId"],
        app_id
    );

    let minted = env.emulator.minted_secrets();
    assert!(
        minted
            .iter()
            .any(|m| m.kind == "oauth_secret" && m.value == value)
    );
    let secret_id = secret["id"].as_str().unwrap();
    assert_eq!(
        env.account
            .delete(&format!("{secrets}/{secret_id}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        oauth(&http(), &workspace_url, app_id, value).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn workspace_objects_round_trip() {
    let env = Env::start().await;
    let ws = &env.ws;
    // Instance profiles.
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/instance-profiles/add",
                json!({"instance_profile_arn": "not-an-arn"})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    ws.ok(
        "/api/2.0/instance-profiles/add",
        json!({"instance_profile_arn": PROFILE}),
    )
    .await;
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/instance-profiles/add",
                json!({"instance_profile_arn": PROFILE})
            )
            .await
        ),
        (StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS".into())
    );
    assert_eq!(
        ws.read("/api/2.0/instance-profiles/list").await["instance_profiles"],
        json!([{"instance_profile_arn": PROFILE, "is_meta_instance_profile": false}])
    );
    ws.ok(
        "/api/2.0/instance-profiles/remove",
        json!({"instance_profile_arn": PROFILE}),
    )
    .await;
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/instance-profiles/remove",
                json!({"instance_profile_arn": PROFILE})
            )
            .await
        )
        .0,
        StatusCode::NOT_FOUND
    );

    // DBFS.
    ws.ok(
        "/api/2.0/dbfs/put",
        json!({"path": "dbfs:/init/setup.sh", "contents": "ZWNobyBoaQ=="}),
    )
    .await;
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/dbfs/put",
                json!({"path": "/init/setup.sh", "contents": ""})
            )
            .await
        ),
        (StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS".into())
    );
    let status = ws
        .read("/api/2.0/dbfs/get-status?path=/init/setup.sh")
        .await;
    assert_eq!(
        (status["is_dir"].clone(), status["file_size"].clone()),
        (json!(false), json!(7))
    );
    let part = ws
        .read("/api/2.0/dbfs/read?path=/init/setup.sh&offset=5&length=10")
        .await;
    assert_eq!(part, json!({"bytes_read": 2, "data": "aGk="}));
    assert_eq!(
        ws.read("/api/2.0/dbfs/list?path=/init").await["files"][0]["path"],
        "/init/setup.sh"
    );
    assert_eq!(
        error(
            ws.post("/api/2.0/dbfs/delete", json!({"path": "/init"}))
                .await
        )
        .1,
        "IO_ERROR"
    );
    ws.ok(
        "/api/2.0/dbfs/delete",
        json!({"path": "/init", "recursive": true}),
    )
    .await;
    assert_eq!(
        error(ws.get("/api/2.0/dbfs/get-status?path=/init").await).0,
        StatusCode::NOT_FOUND
    );

    // Global init scripts.
    let first = ws
        .ok(
            "/api/2.0/global-init-scripts",
            json!({"name": "a", "script": "ZWNobw==", "enabled": true}),
        )
        .await;
    let second = ws
        .ok(
            "/api/2.0/global-init-scripts",
            json!({"name": "b", "script": "ZWNobw==", "position": 0}),
        )
        .await;
    let list = ws.read("/api/2.0/global-init-scripts").await;
    let names: Vec<&str> = list["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b", "a"]);
    assert!(list["scripts"][0].get("script").is_none());
    let read = ws
        .read(&format!(
            "/api/2.0/global-init-scripts/{}",
            first["script_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            read["script"].clone(),
            read["position"].clone(),
            read["enabled"].clone()
        ),
        (json!("ZWNobw=="), json!(1), json!(true))
    );
    assert_eq!(
        ws.delete(&format!(
            "/api/2.0/global-init-scripts/{}",
            second["script_id"].as_str().unwrap()
        ))
        .await
        .0,
        StatusCode::OK
    );

    // IP access lists.
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/ip-access-lists",
                json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["10.0.0.300"]})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/ip-access-lists",
                json!({"label": "x", "list_type": "MAYBE", "ip_addresses": []})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    let list = ws.ok("/api/2.0/ip-access-lists", json!({"label": "office", "list_type": "ALLOW", "ip_addresses": ["10.0.0.0/16", "1.2.3.4"]})).await;
    let list_id = list["ip_access_list"]["list_id"].as_str().unwrap();
    assert_eq!(list["ip_access_list"]["address_count"], 2);
    assert_eq!(
        ws.patch(
            &format!("/api/2.0/ip-access-lists/{list_id}"),
            json!({"enabled": false})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        ws.read(&format!("/api/2.0/ip-access-lists/{list_id}"))
            .await["ip_access_list"]["enabled"],
        false
    );
    assert_eq!(
        ws.put(
            &format!("/api/2.0/ip-access-lists/{list_id}"),
            json!({"label": "x"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    // Workspace conf.
    assert_eq!(
        error(
            ws.patch("/api/2.0/workspace-conf", json!({"enableFlying": "true"}))
                .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        error(
            ws.patch(
                "/api/2.0/workspace-conf",
                json!({"enableIpAccessLists": true})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    ws.patch(
        "/api/2.0/workspace-conf",
        json!({"enableIpAccessLists": "true"}),
    )
    .await;
    assert_eq!(
        ws.read("/api/2.0/workspace-conf?keys=enableIpAccessLists,enableGp3")
            .await,
        json!({"enableIpAccessLists": "true", "enableGp3": null})
    );

    // Cluster policies.
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/policies/clusters/create",
                json!({"name": "p", "definition": "{nope"})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    let policy = ws
        .ok(
            "/api/2.0/policies/clusters/create",
            json!({"name": "p", "definition": "{\"spark_version\": {\"type\": \"unlimited\"}}"}),
        )
        .await;
    let policy_id = policy["policy_id"].as_str().unwrap();
    assert_eq!(
        error(
            ws.post("/api/2.0/policies/clusters/create", json!({"name": "p"}))
                .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ws.read(&format!(
            "/api/2.0/policies/clusters/get?policy_id={policy_id}"
        ))
        .await["name"],
        "p"
    );
    let acl =
        json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_USE"}]});
    assert_eq!(
        ws.put(
            &format!("/api/2.0/permissions/cluster-policies/{policy_id}"),
            acl
        )
        .await
        .0,
        StatusCode::OK
    );
    ws.ok(
        "/api/2.0/policies/clusters/delete",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(
        error(
            ws.get(&format!(
                "/api/2.0/policies/clusters/get?policy_id={policy_id}"
            ))
            .await
        )
        .0,
        StatusCode::NOT_FOUND
    );

    // Secrets.
    ws.ok("/api/2.0/secrets/scopes/create", json!({"scope": "app"}))
        .await;
    assert_eq!(
        error(
            ws.post("/api/2.0/secrets/scopes/create", json!({"scope": "app"}))
                .await
        )
        .1,
        "RESOURCE_ALREADY_EXISTS"
    );
    ws.ok(
        "/api/2.0/secrets/put",
        json!({"scope": "app", "key": "db-password", "string_value": "s3cret"}),
    )
    .await;
    assert_eq!(
        ws.read("/api/2.0/secrets/list?scope=app").await["secrets"][0]["key"],
        "db-password"
    );
    assert_eq!(
        error(
            ws.post(
                "/api/2.0/secrets/acls/put",
                json!({"scope": "app", "principal": "ghosts", "permission": "READ"})
            )
            .await
        )
        .0,
        StatusCode::BAD_REQUEST
    );
    ws.ok(
        "/api/2.0/secrets/acls/put",
        json!({"scope": "app", "principal": "users", "permission": "READ"}),
    )
    .await;
    assert_eq!(
        ws.read("/api/2.0/secrets/acls/get?scope=app&principal=users")
            .await,
        json!({"principal": "users", "permission": "READ"})
    );
    assert_eq!(
        ws.read("/api/2.0/secrets/acls/list?scope=app").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    ws.ok("/api/2.0/secrets/scopes/delete", json!({"scope": "app"}))
        .await;
    assert_eq!(
        ws.read("/api/2.0/secrets/scopes/list").await["scopes"],
        json!([])
    );
}

/// The `brickstack-databricks-emulator` process from `scripts/emulators.sh`: its workspaces are
/// served under its own URL.
#[tokio::test]
async fn shared_emulator_serves_workspaces_under_its_url() {
    let Some(endpoint) =
        brickstack_testkit::require_databricks("shared_emulator_serves_workspaces_under_its_url")
    else {
        return;
    };
    let http = http();
    let account_id = brickstack_testkit::unique_account_id();
    let token_url = format!("{}/oidc/accounts/{account_id}/v1/token", endpoint.url);
    let (status, token) = oauth(
        &http,
        &token_url,
        &endpoint.client_id,
        &endpoint.client_secret,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let account = common::Api {
        http: http.clone(),
        prefix: format!("{}/api/2.0/accounts/{account_id}/", endpoint.url),
        token: token["access_token"].as_str().unwrap().to_string(),
    };
    let credentials = account
        .ok("credentials", json!({"credentials_name": "c", "aws_credentials": {"sts_role": {"role_arn": "arn:aws:iam::123456789012:role/x"}}}))
        .await;
    let storage = account
        .ok(
            "storage-configurations",
            json!({"storage_configuration_name": "s", "root_bucket_info": {"bucket_name": "b"}}),
        )
        .await;
    let workspace = account
        .ok(
            "workspaces",
            json!({"workspace_name": "shared", "aws_region": "eu-west-1",
                                 "credentials_id": credentials["credentials_id"],
                                 "storage_configuration_id": storage["storage_configuration_id"]}),
        )
        .await;
    let url = workspace["workspace_url"].as_str().unwrap();
    assert!(url.starts_with(&endpoint.url), "{url}");
    account
        .read(&format!("workspaces/{}", workspace["workspace_id"]))
        .await;
    let (status, token) = oauth(
        &http,
        &format!("{url}/oidc/v1/token"),
        &endpoint.client_id,
        &endpoint.client_secret,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let me = common::Api {
        http,
        prefix: url.to_string(),
        token: token["access_token"].as_str().unwrap().to_string(),
    }
    .read("/api/2.0/preview/scim/v2/Me")
    .await;
    assert_eq!(me["applicationId"], endpoint.client_id.as_str());
}
