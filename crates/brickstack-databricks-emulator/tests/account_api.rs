//! The Databricks emulator's account API through real HTTP (reqwest), as a client would use it.
//! Every test starts its own in-process emulator, except `shared_emulator_*`, which uses the
//! process started by `scripts/emulators.sh`.

use std::time::Duration;

use brickstack_databricks_emulator::{DatabricksEmulator, DatabricksEmulatorConfig, Provisioning};
use brickstack_testkit::{require_databricks, unique_account_id, unique_name};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An authenticated client for one account of one emulator.
struct Client {
    http: reqwest::Client,
    base: String,
    account_id: String,
    token: String,
}

impl Client {
    /// Logs in with OAuth client credentials (HTTP Basic client auth, as the SDKs do).
    async fn login(base: &str, client_id: &str, client_secret: &str) -> Client {
        let http = http();
        let account_id = unique_account_id();
        let (status, body) = token_request(
            &http,
            base,
            &account_id,
            Some((client_id, client_secret)),
            "grant_type=client_credentials&scope=all-apis",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        Client {
            token: body["access_token"].as_str().unwrap().to_string(),
            http,
            base: base.to_string(),
            account_id,
        }
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

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Creates and returns the object, asserting success.
    async fn create(&self, path: &str, body: Value) -> Value {
        let (status, created) = self.post(path, body).await;
        assert_eq!(status, StatusCode::OK, "POST {path}: {created}");
        created
    }
}

/// A client that talks to 127.0.0.1 directly even when the machine has `HTTP_PROXY` set.
fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn token_request(
    http: &reqwest::Client,
    base: &str,
    account_id: &str,
    basic: Option<(&str, &str)>,
    form: &str,
) -> (StatusCode, Value) {
    let mut request = http
        .post(format!("{base}/oidc/accounts/{account_id}/v1/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn start(config: DatabricksEmulatorConfig) -> (DatabricksEmulator, Client) {
    let emulator = DatabricksEmulator::start_with(config).await.unwrap();
    let client = Client::login(
        &emulator.url(),
        &emulator.config().client_id,
        &emulator.config().client_secret,
    )
    .await;
    (emulator, client)
}

fn assert_error(actual: (StatusCode, Value), status: StatusCode, error_code: &str) -> String {
    let (actual_status, body) = actual;
    assert_eq!(actual_status, status, "{body}");
    assert_eq!(body["error_code"], error_code, "{body}");
    body["message"].as_str().unwrap().to_string()
}

fn role_arn() -> &'static str {
    "arn:aws:iam::123456789012:role/databricks-cross-account"
}

/// The configurations a workspace needs, created in `client`'s account: (credentials, storage).
async fn prerequisites(client: &Client) -> (String, String) {
    let credentials = client
        .create(
            "credentials",
            json!({"credentials_name": unique_name("creds"), "aws_credentials": {"sts_role": {"role_arn": role_arn()}}}),
        )
        .await;
    let storage = client
        .create(
            "storage-configurations",
            json!({"storage_configuration_name": unique_name("storage"), "root_bucket_info": {"bucket_name": unique_name("root")}}),
        )
        .await;
    (
        credentials["credentials_id"].as_str().unwrap().to_string(),
        storage["storage_configuration_id"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// create → get → list → delete → get is 404, for each immutable configuration kind.
#[tokio::test]
async fn configurations_round_trip_and_are_gone_after_delete() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let cases = [
        (
            "credentials",
            "credentials_id",
            json!({"credentials_name": "c1", "aws_credentials": {"sts_role": {"role_arn": role_arn()}}}),
        ),
        (
            "storage-configurations",
            "storage_configuration_id",
            json!({"storage_configuration_name": "s1", "root_bucket_info": {"bucket_name": "root-bucket"}}),
        ),
        (
            "networks",
            "network_id",
            json!({"network_name": "n1", "vpc_id": "vpc-1", "subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": ["sg-1"]}),
        ),
        (
            "customer-managed-keys",
            "customer_managed_key_id",
            json!({"use_cases": ["MANAGED_SERVICES", "STORAGE"], "aws_key_info": {"key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc"}}),
        ),
    ];
    for (path, id_field, body) in cases {
        let created = client.create(path, body.clone()).await;
        let id = created[id_field].as_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "{path}: ids are UUIDs: {created}");
        assert_eq!(created["account_id"], client.account_id.as_str());
        assert!(created["creation_time"].as_i64().unwrap() > 1_600_000_000_000);
        for (field, value) in body.as_object().unwrap() {
            if field != "aws_key_info" {
                assert_eq!(&created[field], value, "{path}.{field}");
            }
        }

        let (status, read) = client.get(&format!("{path}/{id}")).await;
        assert_eq!((status, &read), (StatusCode::OK, &created), "{path}");

        let (status, list) = client.get(path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list, json!([created]), "{path}: lists are bare arrays");

        let (status, _) = client.delete(&format!("{path}/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let message = assert_error(
            client.get(&format!("{path}/{id}")).await,
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
        );
        assert!(message.contains(&id), "{message}");
        assert_error(
            client.delete(&format!("{path}/{id}")).await,
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
        );
        assert_eq!(client.get(path).await.1, json!([]));
    }
}

#[tokio::test]
async fn customer_managed_key_fills_region_and_volume_reuse() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let key = client
        .create(
            "customer-managed-keys",
            json!({"use_cases": ["STORAGE"], "aws_key_info": {"key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc", "key_alias": "alias/x"}}),
        )
        .await;
    assert_eq!(
        key["aws_key_info"],
        json!({"key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc", "key_alias": "alias/x", "key_region": "eu-west-1", "reuse_key_for_cluster_volumes": true})
    );
    assert_error(
        client
            .post(
                "customer-managed-keys",
                json!({"use_cases": ["MANAGED_SERVICES"], "aws_key_info": {"key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc", "reuse_key_for_cluster_volumes": false}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
}

#[tokio::test]
async fn duplicates_are_rejected() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let body = json!({"credentials_name": "same", "aws_credentials": {"sts_role": {"role_arn": role_arn()}}});
    client.create("credentials", body.clone()).await;
    let message = assert_error(
        client.post("credentials", body).await,
        StatusCode::CONFLICT,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert!(message.contains("same"), "{message}");

    client
        .create(
            "networks",
            json!({"network_name": "n1", "vpc_id": "vpc-1", "subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": ["sg-1"]}),
        )
        .await;
    let message = assert_error(
        client
            .post(
                "networks",
                json!({"network_name": "n2", "vpc_id": "vpc-1", "subnet_ids": ["subnet-b", "subnet-c"], "security_group_ids": ["sg-2"]}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("subnet-b"), "{message}");
}

#[tokio::test]
async fn invalid_requests_name_the_problem() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let message = assert_error(
        client
            .post(
                "credentials",
                json!({"aws_credentials": {"sts_role": {"role_arn": role_arn()}}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("credentials_name"), "{message}");
    assert_error(
        client
            .post(
                "credentials",
                json!({"credentials_name": "c", "aws_credentials": {"sts_role": {"role_arn": "not-an-arn"}}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        client
            .send(
                client
                    .http
                    .post(client.url("credentials"))
                    .header("content-type", "application/json")
                    .body("{not json"),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "MALFORMED_REQUEST",
    );
    assert_error(
        client.get("no-such-api").await,
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
    );
}

#[tokio::test]
async fn api_calls_require_a_token_issued_for_the_account() {
    let (emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let http = http();
    let url = client.url("credentials");

    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], "UNAUTHENTICATED", "{body}");

    let response = http.get(&url).bearer_auth("made-up").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let other_account = emulator.issue_token(&unique_account_id());
    let response = http
        .get(&url)
        .bearer_auth(other_account)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = http
        .get(&url)
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Health needs no token.
    let response = http
        .get(format!("{}/health", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_endpoint_checks_client_grant_and_scope() {
    let emulator = DatabricksEmulator::start().await.unwrap();
    let http = http();
    let base = emulator.url();
    let account = unique_account_id();
    let config = emulator.config();
    let ok_form = "grant_type=client_credentials&scope=all-apis";

    let (status, body) = token_request(
        &http,
        &base,
        &account,
        Some((&config.client_id, "wrong")),
        ok_form,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");

    let (status, body) = token_request(&http, &base, &account, None, ok_form).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_client"))
    );

    // Client credentials as form fields work too.
    let form = format!(
        "{ok_form}&client_id={}&client_secret={}",
        config.client_id, config.client_secret
    );
    let (status, body) = token_request(&http, &base, &account, None, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].as_str().unwrap().len() > 16);

    let creds = Some((config.client_id.as_str(), config.client_secret.as_str()));
    let (status, body) = token_request(
        &http,
        &base,
        &account,
        creds,
        "grant_type=password&scope=all-apis",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("unsupported_grant_type"))
    );
    let (status, body) = token_request(
        &http,
        &base,
        &account,
        creds,
        "grant_type=client_credentials&scope=sql",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_scope"))
    );

    let response = http
        .get(format!(
            "{base}/oidc/accounts/{account}/.well-known/oauth-authorization-server"
        ))
        .send()
        .await
        .unwrap();
    let discovery: Value = response.json().await.unwrap();
    assert_eq!(
        discovery["token_endpoint"],
        format!("{base}/oidc/accounts/{account}/v1/token")
    );
}

#[tokio::test]
async fn basic_auth_is_refused_with_its_end_of_life() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let response = http()
        .get(client.url("workspaces"))
        .basic_auth("admin@example.com", Some("password"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], "UNAUTHENTICATED");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("end of life"), "{message}");
}

#[tokio::test]
async fn workspace_reaches_running_and_can_be_updated_and_deleted() {
    let (_emulator, client) = start(DatabricksEmulatorConfig {
        workspace_url_template: Some("http://127.0.0.1:9/{deployment_name}".into()),
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let (credentials_id, storage_id) = prerequisites(&client).await;
    let deployment = unique_name("ws");
    let created = client
        .create(
            "workspaces",
            json!({
                "workspace_name": "dev",
                "deployment_name": deployment,
                "aws_region": "eu-west-1",
                "credentials_id": credentials_id,
                "storage_configuration_id": storage_id,
                "pricing_tier": "PREMIUM",
                "custom_tags": {"team": "data"},
            }),
        )
        .await;
    assert_eq!(created["workspace_status"], "PROVISIONING");
    assert_eq!(created["deployment_name"], deployment.as_str());
    assert_eq!(
        created["workspace_url"],
        format!("http://127.0.0.1:9/{deployment}")
    );
    let id = created["workspace_id"].as_i64().unwrap();
    assert!(id > 0, "workspace ids are int64: {created}");

    let (status, running) = client.get(&format!("workspaces/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(running["workspace_status"], "RUNNING", "{running}");

    // In use: the credential configuration cannot be deleted.
    assert_error(
        client
            .delete(&format!("credentials/{credentials_id}"))
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
    );
    // Deployment names are unique.
    assert_error(
        client
            .post(
                "workspaces",
                json!({"workspace_name": "again", "deployment_name": deployment, "aws_region": "eu-west-1",
                       "credentials_id": credentials_id, "storage_configuration_id": storage_id}),
            )
            .await,
        StatusCode::CONFLICT,
        "RESOURCE_ALREADY_EXISTS",
    );

    let (status, updated) = client
        .send(
            client
                .http
                .patch(format!(
                    "{}?update_mask=custom_tags",
                    client.url(&format!("workspaces/{id}"))
                ))
                .json(&json!({"custom_tags": {"team": "platform"}, "workspace_name": "ignored"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["custom_tags"], json!({"team": "platform"}));
    assert_eq!(updated["workspace_name"], "dev");
    // A Databricks-managed VPC re-provisions after an update.
    assert_eq!(updated["workspace_status"], "PROVISIONING");
    assert_error(
        client
            .patch(&format!("workspaces/{id}"), json!({"workspace_name": "x"}))
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );

    let (_, list) = client.get("workspaces").await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    let (status, _) = client.delete(&format!("workspaces/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_error(
        client.get(&format!("workspaces/{id}")).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let (status, _) = client
        .delete(&format!("credentials/{credentials_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn workspace_stays_provisioning_for_the_configured_delay() {
    let delay = Duration::from_secs(600);
    let (emulator, client) = start(DatabricksEmulatorConfig {
        provisioning: Provisioning { delay, polls: 0 },
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let (credentials_id, storage_id) = prerequisites(&client).await;
    let created = client
        .create(
            "workspaces",
            json!({"workspace_name": "slow", "aws_region": "eu-west-1",
                   "credentials_id": credentials_id, "storage_configuration_id": storage_id}),
        )
        .await;
    let deployment = created["deployment_name"].as_str().unwrap();
    assert!(deployment.starts_with("dbc-"), "generated: {deployment}");
    let path = format!("workspaces/{}", created["workspace_id"]);
    assert_eq!(
        client.get(&path).await.1["workspace_status"],
        "PROVISIONING"
    );
    // The delay is emulator-clock time: no test waits ten minutes.
    emulator.advance_clock(delay);
    assert_eq!(client.get(&path).await.1["workspace_status"], "RUNNING");
}

#[tokio::test]
async fn workspace_references_must_exist() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let (credentials_id, _) = prerequisites(&client).await;
    let message = assert_error(
        client
            .post(
                "workspaces",
                json!({"workspace_name": "w", "aws_region": "eu-west-1", "credentials_id": credentials_id,
                       "storage_configuration_id": "00000000-0000-4000-8000-000000000000"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("storage_configuration_id"), "{message}");
}

#[tokio::test]
async fn log_delivery_is_created_listed_and_disabled_but_never_deleted() {
    let (_emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    let (credentials_id, storage_id) = prerequisites(&client).await;
    let created = client
        .create(
            "log-delivery",
            json!({"log_delivery_configuration": {
                "config_name": "audit", "log_type": "AUDIT_LOGS", "output_format": "JSON",
                "credentials_id": credentials_id, "storage_configuration_id": storage_id,
                "delivery_path_prefix": "audit"}}),
        )
        .await;
    let config = &created["log_delivery_configuration"];
    assert_eq!(config["status"], "ENABLED");
    assert_eq!(config["log_delivery_status"]["status"], "CREATED");
    let id = config["config_id"].as_str().unwrap();

    let (_, read) = client.get(&format!("log-delivery/{id}")).await;
    assert_eq!(&read["log_delivery_configuration"], config);

    let (status, _) = client
        .patch(&format!("log-delivery/{id}"), json!({"status": "DISABLED"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = client.get("log-delivery?status=DISABLED").await;
    let configs = list["log_delivery_configurations"].as_array().unwrap();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0]["status"], "DISABLED");
    let (_, list) = client.get("log-delivery?status=ENABLED").await;
    assert_eq!(list["log_delivery_configurations"], json!([]));

    assert_error(
        client.delete(&format!("log-delivery/{id}")).await,
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
    );
    assert_error(
        client
            .post(
                "log-delivery",
                json!({"log_delivery_configuration": {
                    "log_type": "BILLABLE_USAGE", "output_format": "JSON",
                    "credentials_id": credentials_id, "storage_configuration_id": storage_id}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
}

#[tokio::test]
async fn reset_forgets_objects_but_keeps_tokens() {
    let (emulator, client) = start(DatabricksEmulatorConfig::default()).await;
    prerequisites(&client).await;
    let response = http()
        .post(format!("{}/_emulator/reset", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(client.get("credentials").await, (StatusCode::OK, json!([])));
}

/// The `brickstack-databricks-emulator` process from `scripts/emulators.sh`, through `.emulators.env`.
#[tokio::test]
async fn shared_emulator_serves_an_isolated_account() {
    let Some(endpoint) = require_databricks("shared_emulator_serves_an_isolated_account") else {
        return;
    };
    let client = Client::login(&endpoint.url, &endpoint.client_id, &endpoint.client_secret).await;
    let created = client
        .create(
            "credentials",
            json!({"credentials_name": "shared", "aws_credentials": {"sts_role": {"role_arn": role_arn()}}}),
        )
        .await;
    let (_, list) = client.get("credentials").await;
    assert_eq!(list, json!([created]));
}

/// The testkit hands the emulator's default credentials to tests that find a running emulator
/// without them in `.emulators.env`; they must be the ones the emulator accepts.
#[test]
fn testkit_knows_the_emulators_default_credentials() {
    assert_eq!(
        brickstack_testkit::endpoints::EMULATOR_CLIENT_ID,
        brickstack_databricks_emulator::DEFAULT_CLIENT_ID
    );
    assert_eq!(
        brickstack_testkit::endpoints::EMULATOR_CLIENT_SECRET,
        brickstack_databricks_emulator::DEFAULT_CLIENT_SECRET
    );
}
