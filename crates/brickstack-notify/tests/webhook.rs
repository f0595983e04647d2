//! The Slack webhook and the `brickstack_slack_message` kind against a local webhook receiver
//! (axum on 127.0.0.1:0) that records every post and answers what the test asks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use brickstack_notify::{KIND, NotifyError, NotifyProvider, PostOptions, post_alarm, served_kinds};
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{
    CreateRequest, ErrorClass, Provider, ProviderError, SecretStore, SecretValue, SecretWrite,
};
use brickstack_state::ObjectLookup;
use serde_json::{Value, json};

/// The secret part of every webhook URL the tests use: it must never be printed.
const SECRET_PATH: &str = "/services/T0SECRET/B0SECRET/xoxSECRETxox";
const PARAMETER: &str = "/brickstack/test/slack/user-webhook";

/// An answer the receiver gives: status, body, `Retry-After` seconds.
type Answer = (StatusCode, &'static str, Option<u64>);

#[derive(Clone, Default)]
struct Receiver {
    posts: Arc<Mutex<Vec<(String, Value)>>>,
    /// Answers, in order, for the next posts; once used up, `200 ok`.
    answers: Arc<Mutex<Vec<Answer>>>,
    /// Hold every answer this long (a webhook that does not answer in time).
    hang: Option<Duration>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, &'static str) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    r.posts.lock().unwrap().push((content_type, body));
    if let Some(hang) = r.hang {
        tokio::time::sleep(hang).await;
    }
    let mut answers = r.answers.lock().unwrap();
    let (status, text, retry_after) = if answers.is_empty() {
        (StatusCode::OK, "ok", None)
    } else {
        answers.remove(0)
    };
    let mut headers = HeaderMap::new();
    if let Some(seconds) = retry_after {
        headers.insert("retry-after", seconds.to_string().parse().unwrap());
    }
    (status, headers, text)
}

/// A receiver on a free loopback port; returns its webhook URL.
async fn serve(receiver: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{SECRET_PATH}", listener.local_addr().unwrap());
    let app = Router::new()
        .route(SECRET_PATH, post(receive))
        .with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn secrets_with(url: &str) -> MemorySecrets {
    let secrets = MemorySecrets::new();
    secrets
        .put(&SecretWrite {
            name: PARAMETER,
            value: &SecretValue::new(url),
            kms_key_id: "alias/test",
            description: "a Slack webhook",
            tags: &Default::default(),
        })
        .await
        .unwrap();
    secrets
}

fn fast() -> PostOptions {
    PostOptions {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(2),
        attempts: 4,
        backoff: Duration::from_millis(150),
        max_retry_after: Duration::from_secs(2),
    }
}

fn message_request(text: &str) -> CreateRequest {
    let attributes = json!({
        "webhook_parameter": PARAMETER,
        "text": text,
        "cluster_id": "0101-abc",
    });
    CreateRequest {
        address: format!("{KIND}.su_ana_example_com"),
        kind: KIND.to_string(),
        attributes: attributes.as_object().unwrap().clone(),
        lookup: ObjectLookup::default(),
    }
}

/// Neither the URL nor its secret path appears in anything printable of `error`.
fn assert_no_url(shown: &str, url: &str) {
    assert!(!shown.contains(url), "the URL leaked: {shown}");
    assert!(!shown.contains("SECRET"), "the URL's path leaked: {shown}");
}

#[tokio::test]
async fn an_alarm_is_one_json_post_of_its_text() {
    let receiver = Receiver::default();
    let url = serve(receiver.clone()).await;
    let secrets = secrets_with(&url).await;
    post_alarm(
        &secrets,
        PARAMETER,
        "ana.silva@example.com: library `x==1` failed",
    )
    .await
    .unwrap();
    let posts = receiver.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].0.starts_with("application/json"), "{}", posts[0].0);
    assert_eq!(
        posts[0].1,
        json!({"text": "ana.silva@example.com: library `x==1` failed"})
    );
}

#[tokio::test]
async fn a_failed_post_names_the_status_and_the_parameter_never_the_url() {
    let receiver = Receiver::default();
    receiver.answers.lock().unwrap().push((
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        None,
    ));
    let url = serve(receiver.clone()).await;
    let secrets = secrets_with(&url).await;
    let e = post_alarm(&secrets, PARAMETER, "alarm").await.unwrap_err();
    let shown = format!("{e} | {e:?}");
    assert!(shown.contains("500"), "{shown}");
    assert!(shown.contains(PARAMETER), "{shown}");
    assert!(shown.contains("internal_error"), "{shown}");
    assert_no_url(&shown, &url);
    assert!(e.maybe_delivered(), "a 5xx may hide a posted message");
    // Never sent again after an answer that may hide a delivery.
    assert_eq!(receiver.posts.lock().unwrap().len(), 1);

    let p = ProviderError::from(e);
    assert!(p.maybe_applied);
    assert_eq!(p.code, "HTTP_500");
    assert_no_url(&format!("{p} | {p:?}"), &url);
}

#[tokio::test]
async fn a_revoked_webhook_is_invalid_input_with_a_hint() {
    let receiver = Receiver::default();
    receiver
        .answers
        .lock()
        .unwrap()
        .push((StatusCode::NOT_FOUND, "no_service", None));
    let url = serve(receiver.clone()).await;
    let provider = NotifyProvider::with_options(secrets_with(&url).await, fast());
    let e = provider.create(&message_request("hi")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");
    assert!(!e.maybe_applied);
    assert!(e.message.contains("no_service"), "{e}");
    assert!(
        e.message.contains("su_ana_example_com"),
        "names the address: {e}"
    );
    assert!(e.hint.as_deref().unwrap_or("").contains(PARAMETER), "{e:?}");
    assert_no_url(&format!("{e} | {e:?}"), &url);
    assert_eq!(receiver.posts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_webhook_that_does_not_answer_is_maybe_delivered_and_not_sent_again() {
    let receiver = Receiver {
        hang: Some(Duration::from_secs(5)),
        ..Receiver::default()
    };
    let url = serve(receiver.clone()).await;
    let secrets = secrets_with(&url).await;
    let options = PostOptions {
        timeout: Duration::from_millis(300),
        ..fast()
    };
    let provider = NotifyProvider::with_options(secrets, options);
    let e = provider.create(&message_request("hi")).await.unwrap_err();
    assert!(e.maybe_applied, "{e}");
    assert_eq!(e.code, "TRANSPORT");
    assert_no_url(&format!("{e} | {e:?}"), &url);
    assert_eq!(receiver.posts.lock().unwrap().len(), 1, "sent exactly once");
}

#[tokio::test]
async fn a_refused_connection_is_tried_again_until_the_webhook_listens() {
    // A port nobody listens on yet; the receiver takes it a little later.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}{SECRET_PATH}");
    let receiver = Receiver::default();
    let late = receiver.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let app = Router::new()
            .route(SECRET_PATH, post(receive))
            .with_state(late);
        axum::serve(listener, app).await.unwrap();
    });
    let provider = NotifyProvider::with_options(secrets_with(&url).await, fast());
    let created = provider.create(&message_request("welcome")).await.unwrap();
    assert_eq!(receiver.posts.lock().unwrap().len(), 1);
    assert_eq!(created.attributes["text"], "welcome");
}

#[tokio::test]
async fn a_webhook_that_never_listens_is_unreachable_and_retryable() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}{SECRET_PATH}");
    let secrets = secrets_with(&url).await;
    let provider = NotifyProvider::with_options(secrets, fast());
    let e = provider.create(&message_request("hi")).await.unwrap_err();
    assert!(e.is_retryable(), "nothing was posted: {e}");
    assert!(!e.maybe_applied);
    assert!(e.message.contains("4 attempts"), "{e}");
    assert_no_url(&format!("{e} | {e:?}"), &url);
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_posted_once() {
    let receiver = Receiver::default();
    receiver
        .answers
        .lock()
        .unwrap()
        .push((StatusCode::TOO_MANY_REQUESTS, "rate_limited", Some(1)));
    let url = serve(receiver.clone()).await;
    let provider = NotifyProvider::with_options(secrets_with(&url).await, fast());
    provider.create(&message_request("hi")).await.unwrap();
    // The first was refused (429 posts nothing), the second posted.
    assert_eq!(receiver.posts.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_message_is_posted_once_recorded_and_never_posted_by_other_operations() {
    let receiver = Receiver::default();
    let url = serve(receiver.clone()).await;
    let provider = NotifyProvider::with_options(secrets_with(&url).await, fast());
    assert_eq!(served_kinds(), [KIND]);
    let schema = provider.schema(KIND).expect("served");
    assert!(schema.recorded_only && schema.at_most_once && schema.retain_on_delete);
    assert!(provider.schema("databricks_cluster").is_none());

    let created = provider
        .create(&message_request("Your cluster is ready"))
        .await
        .unwrap();
    assert_eq!(
        receiver.posts.lock().unwrap().clone(),
        [(
            "application/json".to_string(),
            json!({"text": "Your cluster is ready"})
        )]
    );
    assert_eq!(created.attributes["webhook_parameter"], PARAMETER);
    assert_eq!(created.attributes["cluster_id"], "0101-abc");
    assert_eq!(created.attributes["id"], created.object_id.as_str());
    assert!(
        !serde_json::to_string(&created.attributes)
            .unwrap()
            .contains("SECRET"),
        "the URL is never an attribute"
    );

    // Read cannot know the text: present, with its id only.
    let read = provider
        .read(KIND, &created.object_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.object_id, created.object_id);
    assert_eq!(
        Value::Object(read.attributes),
        json!({"id": created.object_id})
    );
    let many = provider
        .read_many(KIND, std::slice::from_ref(&created.object_id))
        .await
        .unwrap();
    assert_eq!(many.len(), 1);

    // A new wording is recorded, not posted.
    let mut reworded = message_request("Your cluster is ready!").attributes;
    reworded.insert("text".into(), json!("Your cluster is ready!"));
    let updated = provider
        .update(KIND, &created.object_id, &reworded)
        .await
        .unwrap();
    assert_eq!(updated.attributes["text"], "Your cluster is ready!");
    assert_eq!(updated.object_id, created.object_id);

    assert_eq!(
        provider.find(KIND, &ObjectLookup::default()).await.unwrap(),
        None
    );
    provider.delete(KIND, &created.object_id).await.unwrap();
    assert_eq!(
        receiver.posts.lock().unwrap().len(),
        1,
        "posted exactly once"
    );
}

#[tokio::test]
async fn a_missing_parameter_or_bad_attributes_are_invalid_input() {
    let provider = NotifyProvider::with_options(MemorySecrets::new(), fast());
    let e = provider.create(&message_request("hi")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput);
    assert!(e.message.contains(PARAMETER), "{e}");
    assert!(e.hint.is_some());

    let mut request = message_request("hi");
    request.attributes.insert("url".into(), json!("https://x"));
    let e = provider.create(&request).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");

    let mut request = message_request("");
    request.kind = "databricks_user".into();
    assert_eq!(
        provider.create(&request).await.unwrap_err().code,
        "UnsupportedKind"
    );

    // A parameter holding something that is not a URL: named, the value never shown.
    let secrets = MemorySecrets::new();
    secrets
        .put(&SecretWrite {
            name: PARAMETER,
            value: &SecretValue::new("xoxb-SECRET-token"),
            kms_key_id: "alias/test",
            description: "",
            tags: &Default::default(),
        })
        .await
        .unwrap();
    let e = post_alarm(&secrets, PARAMETER, "x").await.unwrap_err();
    assert!(matches!(e, NotifyError::InvalidUrl { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("SECRET"));
}
