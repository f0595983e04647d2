//! The emulator's account-level Unity Catalog API (metastores, assignments, storage credentials)
//! and workspace permission assignments through real HTTP, with the account's OAuth token.

use brickstack_databricks_emulator::{DatabricksEmulator, DatabricksEmulatorConfig};
use brickstack_testkit::unique_account_id;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An authenticated client for one fresh account of an in-process emulator.
struct Client {
    http: reqwest::Client,
    base: String,
    account_id: String,
    token: String,
}

impl Client {
    async fn start() -> (DatabricksEmulator, Client) {
        let emulator = DatabricksEmulator::start_with(DatabricksEmulatorConfig::default())
            .await
            .unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let account_id = unique_account_id();
        let config = emulator.config();
        let response = http
            .post(format!(
                "{}/oidc/accounts/{account_id}/v1/token",
                emulator.url()
            ))
            .basic_auth(&config.client_id, Some(&config.client_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=all-apis")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let client = Client {
            token: body["access_token"].as_str().unwrap().to_string(),
            http,
            base: emulator.url(),
            account_id,
        };
        (emulator, client)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/2.0/accounts/{}/{path}", self.base, self.account_id)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.bearer_auth(&self.token).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text}"));
        (status, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    async fn ok(&self, response: (StatusCode, Value), what: &str) -> Value {
        assert_eq!(response.0, StatusCode::OK, "{what}: {}", response.1);
        response.1
    }

    async fn metastore(&self, name: &str, region: &str) -> Value {
        let body = json!({"metastore_info": {"name": name, "region": region, "storage_root": format!("s3://{name}/root")}});
        let created = self.ok(self.post("metastores", body).await, "create").await;
        created["metastore_info"].clone()
    }

    /// A serverless workspace (no credential or storage configuration needed) in `region`.
    async fn workspace(&self, name: &str, region: &str) -> i64 {
        let body =
            json!({"workspace_name": name, "aws_region": region, "compute_mode": "SERVERLESS"});
        let created = self
            .ok(self.post("workspaces", body).await, "workspace")
            .await;
        created["workspace_id"].as_i64().unwrap()
    }

    async fn service_principal(&self, name: &str) -> (String, String) {
        let (status, sp) = self
            .post("scim/v2/ServicePrincipals", json!({"displayName": name}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{sp}");
        (
            sp["id"].as_str().unwrap().to_string(),
            sp["applicationId"].as_str().unwrap().to_string(),
        )
    }
}

fn assert_error(actual: (StatusCode, Value), status: StatusCode, error_code: &str) -> String {
    let (actual_status, body) = actual;
    assert_eq!(actual_status, status, "{body}");
    assert_eq!(body["error_code"], error_code, "{body}");
    body["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn metastores_round_trip_with_vendor_fields() {
    let (emulator, client) = Client::start().await;
    let created = client.metastore("main", "eu-west-1").await;
    let id = created["metastore_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "{created}");
    assert_eq!(created["name"], "main");
    assert_eq!(created["region"], "eu-west-1");
    assert_eq!(created["storage_root"], "s3://main/root");
    assert_eq!(created["cloud"], "aws");
    assert_eq!(
        created["global_metastore_id"],
        format!("aws:eu-west-1:{id}")
    );
    assert_eq!(created["privilege_model_version"], "1.0");
    assert_eq!(created["owner"], emulator.config().client_id.as_str());
    assert_eq!(created["created_by"], emulator.config().client_id.as_str());
    assert!(created["created_at"].as_i64().unwrap() > 1_600_000_000_000);

    let read = client
        .ok(client.get(&format!("metastores/{id}")).await, "get")
        .await;
    assert_eq!(read["metastore_info"], created);
    let list = client.ok(client.get("metastores").await, "list").await;
    assert_eq!(list, json!({"metastores": [created]}));

    let updated = client
        .ok(
            client
                .put(
                    &format!("metastores/{id}"),
                    json!({"metastore_info": {"name": "renamed", "external_access_enabled": true}}),
                )
                .await,
            "update",
        )
        .await;
    assert_eq!(updated["metastore_info"]["name"], "renamed");
    assert_eq!(updated["metastore_info"]["external_access_enabled"], true);
    assert_eq!(updated["metastore_info"]["region"], "eu-west-1");
    let message = assert_error(
        client
            .put(
                &format!("metastores/{id}"),
                json!({"metastore_info": {"region": "us-east-1"}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("cannot be changed"), "{message}");

    client
        .ok(client.delete(&format!("metastores/{id}")).await, "delete")
        .await;
    for response in [
        client.get(&format!("metastores/{id}")).await,
        client.delete(&format!("metastores/{id}")).await,
        client
            .put(&format!("metastores/{id}"), json!({"metastore_info": {}}))
            .await,
    ] {
        let message = assert_error(response, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
        assert!(message.contains(&id), "{message}");
    }
    assert_eq!(
        client.ok(client.get("metastores").await, "list").await,
        json!({"metastores": []})
    );
}

#[tokio::test]
async fn metastore_names_are_unique_and_a_region_holds_one_metastore() {
    let (_emulator, client) = Client::start().await;
    client.metastore("main", "eu-west-1").await;
    let cases = [
        (
            json!({"metastore_info": {"name": "main", "region": "us-east-1"}}),
            StatusCode::CONFLICT,
            "RESOURCE_ALREADY_EXISTS",
            "main",
        ),
        (
            json!({"metastore_info": {"name": "second", "region": "eu-west-1"}}),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            "one metastore per region",
        ),
        (
            json!({"metastore_info": {"region": "us-east-1"}}),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            "metastore_info.name",
        ),
    ];
    for (body, status, code, says) in cases {
        let message = assert_error(client.post("metastores", body.clone()).await, status, code);
        assert!(message.contains(says), "{body}: {message}");
    }
    // Another region is fine.
    client.metastore("us", "us-east-1").await;
}

#[tokio::test]
async fn assignments_follow_the_region_and_block_a_plain_delete() {
    let (_emulator, client) = Client::start().await;
    let metastore = client.metastore("main", "eu-west-1").await;
    let id = metastore["metastore_id"].as_str().unwrap().to_string();
    let other = client.metastore("us", "us-east-1").await;
    let other_id = other["metastore_id"].as_str().unwrap().to_string();
    let ws = client.workspace("analytics", "eu-west-1").await;

    assert_error(
        client.get(&format!("workspaces/{ws}/metastore")).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let message = assert_error(
        client
            .post(
                &format!("workspaces/{ws}/metastores/{other_id}"),
                json!({"metastore_assignment": {"metastore_id": other_id}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("region"), "{message}");

    let path = format!("workspaces/{ws}/metastores/{id}");
    client
        .ok(
            client
                .post(
                    &path,
                    json!({"metastore_assignment": {"metastore_id": id, "default_catalog_name": "main"}}),
                )
                .await,
            "assign",
        )
        .await;
    let read = client
        .ok(
            client.get(&format!("workspaces/{ws}/metastore")).await,
            "read",
        )
        .await;
    assert_eq!(
        read,
        json!({"metastore_assignment": {"workspace_id": ws, "metastore_id": id, "default_catalog_name": "main"}})
    );
    let ids = client
        .ok(
            client.get(&format!("metastores/{id}/workspaces")).await,
            "ids",
        )
        .await;
    assert_eq!(ids, json!({"workspace_ids": [ws]}));
    // A second metastore for the same workspace is refused.
    let message = assert_error(
        client
            .post(&path, json!({"metastore_assignment": {"metastore_id": id}}))
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
    );
    assert!(message.contains("only one metastore"), "{message}");

    client
        .ok(
            client
                .put(
                    &path,
                    json!({"metastore_assignment": {"default_catalog_name": "sales"}}),
                )
                .await,
            "update assignment",
        )
        .await;
    let read = client
        .ok(
            client.get(&format!("workspaces/{ws}/metastore")).await,
            "read",
        )
        .await;
    assert_eq!(
        read["metastore_assignment"]["default_catalog_name"],
        "sales"
    );

    let message = assert_error(
        client.delete(&format!("metastores/{id}")).await,
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
    );
    assert!(message.contains("force=true"), "{message}");
    client
        .ok(
            client.delete(&format!("metastores/{id}?force=true")).await,
            "forced delete",
        )
        .await;
    assert_error(
        client.get(&format!("workspaces/{ws}/metastore")).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );

    // Unassign: assign the other region's workspace, then remove the assignment.
    let us = client.workspace("us-ws", "us-east-1").await;
    let path = format!("workspaces/{us}/metastores/{other_id}");
    client
        .ok(client.post(&path, json!({})).await, "assign")
        .await;
    client.ok(client.delete(&path).await, "unassign").await;
    assert_error(
        client.delete(&path).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let ids = client
        .ok(
            client
                .get(&format!("metastores/{other_id}/workspaces"))
                .await,
            "ids",
        )
        .await;
    assert_eq!(ids, json!({"workspace_ids": []}));
    client
        .ok(
            client.delete(&format!("metastores/{other_id}")).await,
            "delete",
        )
        .await;
}

#[tokio::test]
async fn storage_credentials_get_a_generated_external_id() {
    let (_emulator, client) = Client::start().await;
    let metastore = client.metastore("main", "eu-west-1").await;
    let id = metastore["metastore_id"].as_str().unwrap().to_string();
    let base = format!("metastores/{id}/storage-credentials");
    let role = "arn:aws:iam::123456789012:role/uc-access";
    let created = client
        .ok(
            client
                .post(
                    &base,
                    json!({"credential_info": {"name": "root", "aws_iam_role": {"role_arn": role}, "comment": "root storage"}, "skip_validation": true}),
                )
                .await,
            "create",
        )
        .await["credential_info"]
        .clone();
    assert_eq!(created["name"], "root");
    assert_eq!(created["full_name"], "root");
    assert_eq!(created["metastore_id"], id.as_str());
    assert_eq!(created["read_only"], false);
    assert_eq!(created["aws_iam_role"]["role_arn"], role);
    assert_eq!(
        created["aws_iam_role"]["unity_catalog_iam_arn"],
        "arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL"
    );
    let external_id = created["aws_iam_role"]["external_id"].as_str().unwrap();
    assert_eq!(external_id.len(), 36, "{created}");
    assert_eq!(created["id"].as_str().unwrap().len(), 36, "{created}");

    let second = client
        .ok(
            client
                .post(
                    &base,
                    json!({"credential_info": {"name": "other", "aws_iam_role": {"role_arn": role}}}),
                )
                .await,
            "create",
        )
        .await["credential_info"]
        .clone();
    assert_ne!(second["aws_iam_role"]["external_id"], external_id);

    assert_error(
        client
            .post(
                &base,
                json!({"credential_info": {"name": "root", "aws_iam_role": {"role_arn": role}}}),
            )
            .await,
        StatusCode::CONFLICT,
        "RESOURCE_ALREADY_EXISTS",
    );
    let list = client.ok(client.get(&base).await, "list").await;
    assert_eq!(list, json!({"storage_credentials": [created, second]}));

    let updated = client
        .ok(
            client
                .put(
                    &format!("{base}/root"),
                    json!({"credential_info": {"read_only": true, "comment": "changed"}}),
                )
                .await,
            "update",
        )
        .await["credential_info"]
        .clone();
    assert_eq!(updated["read_only"], true);
    assert_eq!(updated["comment"], "changed");
    assert_eq!(updated["aws_iam_role"]["external_id"], external_id);
    let read = client
        .ok(client.get(&format!("{base}/root")).await, "get")
        .await;
    assert_eq!(read["credential_info"], updated);

    // A metastore holding credentials is not deleted without force.
    assert_error(
        client.delete(&format!("metastores/{id}")).await,
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
    );
    for name in ["root", "other"] {
        client
            .ok(client.delete(&format!("{base}/{name}")).await, "delete")
            .await;
    }
    assert_error(
        client.get(&format!("{base}/root")).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
    client
        .ok(client.delete(&format!("metastores/{id}")).await, "delete")
        .await;
}

#[tokio::test]
async fn permission_assignments_need_a_metastore_and_a_known_principal() {
    let (_emulator, client) = Client::start().await;
    let ws = client.workspace("analytics", "eu-west-1").await;
    let (sp_id, application_id) = client.service_principal("deployer").await;
    let base = format!("workspaces/{ws}/permissionassignments");
    let principal = format!("{base}/principals/{sp_id}");

    for response in [
        client.get(&base).await,
        client.get(&format!("{base}/permissions")).await,
        client
            .put(&principal, json!({"permissions": ["USER"]}))
            .await,
    ] {
        let message = assert_error(response, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
        assert!(
            message.contains("permission assignment APIs are not available for this workspace"),
            "{message}"
        );
    }

    let metastore = client.metastore("main", "eu-west-1").await;
    let id = metastore["metastore_id"].as_str().unwrap();
    client
        .ok(
            client
                .post(&format!("workspaces/{ws}/metastores/{id}"), json!({}))
                .await,
            "assign",
        )
        .await;

    let levels = client
        .ok(client.get(&format!("{base}/permissions")).await, "levels")
        .await;
    let levels: Vec<&str> = levels["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission_level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["USER", "ADMIN"]);
    assert_eq!(
        client.ok(client.get(&base).await, "list").await,
        json!({"permission_assignments": []})
    );

    client
        .ok(
            client
                .put(&principal, json!({"permissions": ["USER"]}))
                .await,
            "put",
        )
        .await;
    client
        .ok(
            client
                .put(&principal, json!({"permissions": ["ADMIN"]}))
                .await,
            "put",
        )
        .await;
    let list = client.ok(client.get(&base).await, "list").await;
    assert_eq!(
        list,
        json!({"permission_assignments": [{
            "principal": {
                "principal_id": sp_id.parse::<i64>().unwrap(),
                "display_name": "deployer",
                "service_principal_name": application_id,
            },
            "permissions": ["ADMIN"],
        }]})
    );

    for response in [
        client
            .put(
                &format!("{base}/principals/1234567890123456"),
                json!({"permissions": ["USER"]}),
            )
            .await,
        client
            .delete(&format!("{base}/principals/1234567890123456"))
            .await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    }

    client.ok(client.delete(&principal).await, "delete").await;
    assert_eq!(
        client.ok(client.get(&base).await, "list").await,
        json!({"permission_assignments": []})
    );
    assert_error(
        client.delete(&principal).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
}

#[tokio::test]
async fn inventory_lists_unity_catalog_objects_and_reset_forgets_them() {
    let (emulator, client) = Client::start().await;
    let ws = client.workspace("analytics", "eu-west-1").await;
    let (sp_id, _) = client.service_principal("deployer").await;
    let metastore = client.metastore("main", "eu-west-1").await;
    let id = metastore["metastore_id"].as_str().unwrap().to_string();
    client
        .ok(
            client
                .post(&format!("workspaces/{ws}/metastores/{id}"), json!({}))
                .await,
            "assign",
        )
        .await;
    client
        .ok(
            client
                .post(
                    &format!("metastores/{id}/storage-credentials"),
                    json!({"credential_info": {"name": "root", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}}}),
                )
                .await,
            "credential",
        )
        .await;
    client
        .ok(
            client
                .put(
                    &format!("workspaces/{ws}/permissionassignments/principals/{sp_id}"),
                    json!({"permissions": ["USER"]}),
                )
                .await,
            "permission",
        )
        .await;

    let inventory = emulator.inventory(&client.account_id);
    assert_eq!(
        inventory["metastores"],
        json!([{"metastore_id": id, "name": "main", "region": "eu-west-1", "storage_credentials": ["root"]}])
    );
    assert_eq!(
        inventory["metastore_assignments"],
        json!([{"workspace_id": ws, "metastore_id": id}])
    );
    assert_eq!(
        inventory["permission_assignments"],
        json!([{"workspace_id": ws, "principal_id": sp_id, "permissions": ["USER"]}])
    );

    let response = client
        .http
        .post(format!("{}/_emulator/reset", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        emulator.inventory(&client.account_id),
        json!({"account_id": client.account_id})
    );
    assert_eq!(
        client.ok(client.get("metastores").await, "list").await,
        json!({"metastores": []})
    );
}

#[tokio::test]
async fn a_deleted_workspace_takes_its_assignments_with_it() {
    let (emulator, client) = Client::start().await;
    let ws = client.workspace("analytics", "eu-west-1").await;
    let (sp_id, _) = client.service_principal("deployer").await;
    let metastore = client.metastore("main", "eu-west-1").await;
    let id = metastore["metastore_id"].as_str().unwrap().to_string();
    client
        .ok(
            client
                .post(&format!("workspaces/{ws}/metastores/{id}"), json!({}))
                .await,
            "assign",
        )
        .await;
    client
        .ok(
            client
                .put(
                    &format!("workspaces/{ws}/permissionassignments/principals/{sp_id}"),
                    json!({"permissions": ["USER"]}),
                )
                .await,
            "permission",
        )
        .await;
    client
        .ok(
            client.delete(&format!("workspaces/{ws}")).await,
            "delete workspace",
        )
        .await;
    let ids = client
        .ok(
            client.get(&format!("metastores/{id}/workspaces")).await,
            "ids",
        )
        .await;
    assert_eq!(ids, json!({"workspace_ids": []}));
    let inventory = emulator.inventory(&client.account_id);
    assert!(
        inventory.get("metastore_assignments").is_none(),
        "{inventory}"
    );
    assert!(
        inventory.get("permission_assignments").is_none(),
        "{inventory}"
    );
    client
        .ok(
            client.delete(&format!("metastores/{id}")).await,
            "plain delete",
        )
        .await;
}
