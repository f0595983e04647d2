//! Shared by the workspace-API and control tests: an emulator with one running workspace and a
//! reqwest client for each API, through real HTTP as a client would use them.

#![allow(dead_code)]

use brickstack_databricks_emulator::{DatabricksEmulator, DatabricksEmulatorConfig};
use brickstack_testkit::{unique_account_id, unique_name};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A client that talks to 127.0.0.1 directly even when the machine has `HTTP_PROXY` set.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// One API (the account API, or one workspace's) with a bearer token.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    /// Prefix of every path: `<base>/api/2.0/accounts/<id>/` or `<base>/w/<id>`.
    pub prefix: String,
    pub token: String,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: token.to_string(),
            ..self.clone()
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.bearer_auth(&self.token).send().await.unwrap();
        read(response).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    /// POST that must succeed (200 or 201); returns the body.
    pub async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, out) = self.post(path, body).await;
        assert!(status.is_success(), "POST {path}: {status} {out}");
        out
    }

    /// GET that must succeed.
    pub async fn read(&self, path: &str) -> Value {
        let (status, out) = self.get(path).await;
        assert!(status.is_success(), "GET {path}: {status} {out}");
        out
    }
}

/// Status and JSON body (`null` when empty; panics on a body that is not JSON).
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    if text.is_empty() {
        return (status, Value::Null);
    }
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text}"));
    (status, body)
}

/// `(status, error_code)` of an error answer, asserting the vendor's JSON shape.
pub fn error(actual: (StatusCode, Value)) -> (StatusCode, String) {
    let (status, body) = actual;
    let code = body["error_code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error_code: {status} {body}"))
        .to_string();
    assert!(body["message"].is_string(), "{body}");
    (status, code)
}

/// Client-credentials token request; `(status, body)`.
pub async fn oauth(
    http: &reqwest::Client,
    url: &str,
    id: &str,
    secret: &str,
) -> (StatusCode, Value) {
    let response = http
        .post(url)
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all-apis")
        .send()
        .await
        .unwrap();
    read(response).await
}

/// An emulator, an account logged in as the configured client, and one running workspace.
pub struct Env {
    pub emulator: DatabricksEmulator,
    pub account_id: String,
    pub account: Api,
    pub workspace_id: i64,
    pub workspace_url: String,
    pub ws: Api,
}

impl Env {
    /// Transitions take tens of seconds of emulator time, so that no real delay between two
    /// requests (a loaded CI machine) can let one happen unseen; tests advance the clock instead.
    pub async fn start() -> Env {
        Self::start_with(DatabricksEmulatorConfig {
            cluster_start_delay: std::time::Duration::from_secs(30),
            cluster_terminate_delay: std::time::Duration::from_secs(10),
            library_install_delay: std::time::Duration::from_secs(10),
            ..DatabricksEmulatorConfig::default()
        })
        .await
    }

    pub async fn start_with(config: DatabricksEmulatorConfig) -> Env {
        let emulator = DatabricksEmulator::start_with(config).await.unwrap();
        let http = http();
        let account_id = unique_account_id();
        let base = emulator.url();
        let (status, token) = oauth(
            &http,
            &format!("{base}/oidc/accounts/{account_id}/v1/token"),
            &emulator.config().client_id,
            &emulator.config().client_secret,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{token}");
        let account = Api {
            http: http.clone(),
            prefix: format!("{base}/api/2.0/accounts/{account_id}/"),
            token: token["access_token"].as_str().unwrap().to_string(),
        };
        let mut env = Env {
            emulator,
            account_id,
            account,
            workspace_id: 0,
            workspace_url: String::new(),
            ws: Api {
                http,
                prefix: String::new(),
                token: String::new(),
            },
        };
        let (id, url) = env.create_workspace("dev").await;
        env.workspace_id = id;
        env.workspace_url = url.clone();
        env.ws.prefix = url;
        env.ws.token = env.workspace_token(id).await;
        env
    }

    /// Creates a workspace and polls it once (it is then `RUNNING`): (id, workspace_url).
    pub async fn create_workspace(&self, name: &str) -> (i64, String) {
        let (id, url) = self.create_workspace_unpolled(name).await;
        let running = self.account.read(&format!("workspaces/{id}")).await;
        assert_eq!(running["workspace_status"], "RUNNING", "{running}");
        (id, url)
    }

    pub async fn create_workspace_unpolled(&self, name: &str) -> (i64, String) {
        let credentials = self
            .account
            .ok(
                "credentials",
                json!({"credentials_name": unique_name("creds"), "aws_credentials": {"sts_role": {"role_arn": "arn:aws:iam::123456789012:role/x"}}}),
            )
            .await;
        let storage = self
            .account
            .ok(
                "storage-configurations",
                json!({"storage_configuration_name": unique_name("storage"), "root_bucket_info": {"bucket_name": unique_name("root")}}),
            )
            .await;
        let workspace = self
            .account
            .ok(
                "workspaces",
                json!({"workspace_name": name, "aws_region": "eu-west-1",
                       "credentials_id": credentials["credentials_id"],
                       "storage_configuration_id": storage["storage_configuration_id"]}),
            )
            .await;
        (
            workspace["workspace_id"].as_i64().unwrap(),
            workspace["workspace_url"].as_str().unwrap().to_string(),
        )
    }

    /// A fresh OAuth token for workspace `id`, as the configured client.
    pub async fn workspace_token(&self, id: i64) -> String {
        let (status, token) = oauth(
            &self.ws.http,
            &format!("{}/w/{id}/oidc/v1/token", self.emulator.url()),
            &self.emulator.config().client_id,
            &self.emulator.config().client_secret,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{token}");
        token["access_token"].as_str().unwrap().to_string()
    }

    /// Logs in again (after the clock moved past the one-hour OAuth lifetime).
    pub async fn relogin(&mut self) {
        self.ws.token = self.workspace_token(self.workspace_id).await;
        self.account.token = self.emulator.issue_token(&self.account_id);
    }

    /// Moves the emulator clock.
    pub fn advance(&self, seconds: u64) {
        self.emulator
            .advance_clock(std::time::Duration::from_secs(seconds));
    }

    /// `GET /_emulator/<path>` etc. without auth.
    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .ws
            .http
            .request(method, format!("{}/_emulator/{path}", self.emulator.url()));
        if let Some(b) = body {
            request = request.json(&b);
        }
        read(request.send().await.unwrap()).await
    }
}
