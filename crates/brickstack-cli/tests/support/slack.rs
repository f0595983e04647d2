//! A Slack incoming-webhook receiver on loopback: records every message posted to it, by path, so
//! a test can give brickstack one URL per channel and count what each channel received.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

type Received = Arc<Mutex<BTreeMap<String, Vec<Value>>>>;

/// The receiver; it stops when dropped.
pub struct SlackReceiver {
    address: SocketAddr,
    received: Received,
    task: tokio::task::JoinHandle<()>,
}

impl SlackReceiver {
    pub async fn start() -> SlackReceiver {
        let received: Received = Arc::default();
        let app = Router::new()
            .route("/hooks/{channel}", post(receive))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        SlackReceiver {
            address,
            received,
            task,
        }
    }

    /// The incoming-webhook URL of `channel`.
    pub fn url(&self, channel: &str) -> String {
        format!("http://{}/hooks/{channel}", self.address)
    }

    /// The messages `channel` received, in order.
    pub fn messages(&self, channel: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .get(channel)
            .cloned()
            .unwrap_or_default()
    }

    /// The `text` of each message `channel` received.
    pub fn texts(&self, channel: &str) -> Vec<String> {
        self.messages(channel)
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for SlackReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Slack answers `ok` with 200 to a well-formed message, and `invalid_payload` with 400 to one
/// without text.
async fn receive(
    State(received): State<Received>,
    Path(channel): Path<String>,
    body: String,
) -> (StatusCode, &'static str) {
    let Ok(message) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload");
    };
    if message["text"].as_str().is_none_or(str::is_empty) {
        return (StatusCode::BAD_REQUEST, "no_text");
    }
    received
        .lock()
        .unwrap()
        .entry(channel)
        .or_default()
        .push(message);
    (StatusCode::OK, "ok")
}
