//! The harness of the tests that run the built binary against the emulators: a command runner
//! with nothing from the caller's environment but what a test gives it, the local environment's
//! spec under fresh names, and the emulators' settings.

#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use brickstack_testkit::{DatabricksEndpoint, MotoEndpoint};
use serde_json::Value;

/// Runs `brickstack args…` in `dir` with only `env` (plus `PATH`) in its environment, and every
/// diagnostic on (`BRICKSTACK_LOG=debug`) so a leak search sees every log line.
pub struct Cli<'a> {
    pub dir: &'a Path,
    pub env: Vec<(&'static str, String)>,
}

impl Cli<'_> {
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_brickstack"));
        command
            .args(args)
            .current_dir(self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir)
            .env("NO_COLOR", "1")
            .env("BRICKSTACK_LOG", "debug");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command.output().await.unwrap()
    }
}

/// What a run printed, stdout then stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `environments/local.toml` under a fresh environment name, prefix and Databricks account, so
/// runs never meet in the shared emulators (moto's bucket names are global).
pub fn local_spec(environment: &str, prefix: &str, account_id: &str) -> String {
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments/local.toml"),
    )
    .unwrap();
    spec.replace(
        "name = \"local\"\nstage",
        &format!("name = \"{environment}\"\nstage"),
    )
    .replace("prefix = \"bs-local\"", &format!("prefix = \"{prefix}\""))
    .replace(
        "account_id = \"00000000-0000-4000-8000-000000000001\"",
        &format!("account_id = \"{account_id}\""),
    )
}

/// The standard AWS chain pointed at moto, and the Databricks emulator's host and service
/// principal.
pub fn emulator_env(
    moto: &MotoEndpoint,
    databricks: &DatabricksEndpoint,
) -> Vec<(&'static str, String)> {
    let mut env = moto_env(moto);
    env.extend([
        ("DATABRICKS_HOST", databricks.url.clone()),
        ("DATABRICKS_CLIENT_ID", databricks.client_id.clone()),
        ("DATABRICKS_CLIENT_SECRET", databricks.client_secret.clone()),
    ]);
    env
}

/// The standard AWS chain pointed at moto: its URL, the CA its certificate is signed by (as the
/// AWS CLI reads it, `AWS_CA_BUNDLE`), static credentials, no instance metadata.
pub fn moto_env(moto: &MotoEndpoint) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        ("AWS_ACCESS_KEY_ID", moto.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", moto.secret_access_key.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ];
    if let Some(ca) = &moto.ca_bundle {
        env.push(("AWS_CA_BUNDLE", ca.display().to_string()));
    }
    env
}

/// SDK clients of moto, for checks made without brickstack.
pub fn moto_clients(moto: &MotoEndpoint) -> brickstack_aws::AwsClients {
    brickstack_aws::AwsClients::new(
        &brickstack_aws::static_sdk_config(&brickstack_aws::StaticEndpoint {
            url: moto.url.clone(),
            region: moto.region.clone(),
            access_key_id: moto.access_key_id.clone(),
            secret_access_key: moto.secret_access_key.clone(),
            ca_bundle: moto.ca_bundle.clone(),
        })
        .expect("moto's CA bundle is usable"),
    )
}

/// Every non-empty list in the emulator's inventory, by its JSON path.
pub fn leftover_objects(value: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Array(items) if !items.is_empty() => out.push(format!("{path}: {items:?}")),
            Value::Object(map) => {
                for (key, value) in map {
                    walk(value, &format!("{path}/{key}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

pub mod slack;

/// A background process killed (and reaped) when the test ends, failing or not.
pub struct Stopped(pub std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
