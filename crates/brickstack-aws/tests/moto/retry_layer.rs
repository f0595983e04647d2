//! The one retry layer for AWS calls (the SDK's, as `brickstack_aws::retry` configures it) against
//! a scripted local server instead of moto, which cannot lose an answer or throttle: each test
//! scripts what the server does with each request and counts what the client sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use brickstack_aws::state_backend::S3Store;
use brickstack_aws::{AwsClients, StaticEndpoint, classify, static_sdk_config_with_policy};
use brickstack_provider::{ErrorClass, RetryPolicy};
use brickstack_state::conformance::{LEASE_SECONDS, T0};
use brickstack_state::{LeaseStore, LockInfo, LockRequest, StateError, StateStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Debug, Clone)]
enum Answer {
    /// Reads the request, then closes the connection without a word: an answer lost after the
    /// request arrived (and, for a create, took effect).
    Drop,
    /// Answers with this status and XML body.
    Xml(u16, &'static str),
    /// Answers with this status and JSON body (DynamoDB, KMS, SSM).
    Json(u16, &'static str),
}

const THROTTLED: Answer = Answer::Xml(
    503,
    "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>",
);
const INTERNAL_ERROR: Answer = Answer::Xml(
    500,
    "<Response><Errors><Error><Code>InternalError</Code><Message>An internal error has occurred</Message></Error></Errors><RequestID>r</RequestID></Response>",
);
const DEPENDENCY_VIOLATION: Answer = Answer::Xml(
    400,
    "<Response><Errors><Error><Code>DependencyViolation</Code><Message>The vpc has dependencies and cannot be deleted.</Message></Error></Errors><RequestID>r</RequestID></Response>",
);
const VPC_CREATED: Answer = Answer::Xml(
    200,
    r#"<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpc><vpcId>vpc-0123456789abcdef0</vpcId><state>pending</state><cidrBlock>10.0.0.0/16</cidrBlock></vpc></CreateVpcResponse>"#,
);
const VPC_DELETED: Answer = Answer::Xml(
    200,
    r#"<DeleteVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></DeleteVpcResponse>"#,
);
const NO_VPCS: Answer = Answer::Xml(
    200,
    r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcSet/></DescribeVpcsResponse>"#,
);

/// A server on loopback answering requests with `script` in order, then with `then`; it records
/// the `Action` of every request it read.
struct Scripted {
    url: String,
    actions: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    async fn start(script: Vec<Answer>, then: Answer) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let actions = Arc::new(Mutex::new(Vec::new()));
        let seen = actions.clone();
        tokio::spawn(async move {
            let mut script = script.into_iter();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let answer = script.next().unwrap_or_else(|| then.clone());
                let seen = seen.clone();
                tokio::spawn(async move {
                    if let Some(action) = serve(stream, answer).await {
                        seen.lock().unwrap().push(action);
                    }
                });
            }
        });
        Scripted { url, actions }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }

    fn clients(&self) -> AwsClients {
        let policy = RetryPolicy {
            budget: Duration::from_secs(5),
            base: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            jitter: Duration::ZERO,
            max_server_delay: Duration::from_millis(50),
        };
        AwsClients::new(
            &static_sdk_config_with_policy(
                &StaticEndpoint {
                    url: self.url.clone(),
                    region: "eu-west-1".into(),
                    access_key_id: "testing".into(),
                    secret_access_key: "testing".into(),
                    ca_bundle: None,
                },
                &policy,
            )
            .expect("no CA bundle to read"),
        )
    }
}

/// Reads one request from `stream` (one request per connection: every answer says `close`) and
/// answers it; returns the request's `Action`.
async fn serve(mut stream: TcpStream, answer: Answer) -> Option<String> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 8192];
    let body_start = loop {
        let n = stream.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        request.extend_from_slice(&buffer[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < body_start + length {
        let n = stream.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let body = String::from_utf8_lossy(&request[body_start..]).to_string();
    // `Action=` of the query protocols, else the JSON protocols' `X-Amz-Target` operation.
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .or_else(|| {
            head.lines()
                .find_map(|l| l.strip_prefix("x-amz-target:"))
                .and_then(|t| t.trim().rsplit('.').next())
        })
        .unwrap_or_default()
        .to_string();
    match answer {
        Answer::Drop => drop(stream),
        Answer::Xml(status, _) | Answer::Json(status, _) => {
            let (content_type, text) = match answer {
                Answer::Json(_, json) => ("application/x-amz-json-1.0", json),
                Answer::Xml(_, xml) => ("text/xml", xml),
                Answer::Drop => unreachable!("matched above"),
            };
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    }
    Some(action)
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_sent_once_and_comes_back_maybe_applied() {
    let server = Scripted::start(vec![Answer::Drop], VPC_CREATED).await;
    let error = server
        .clients()
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect_err("the answer was lost");
    assert_eq!(server.actions(), ["CreateVpc"], "never sent again blindly");
    let error = classify("ec2:CreateVpc", &error);
    assert!(error.maybe_applied, "{error:?}");
}

#[tokio::test]
async fn a_create_answered_with_a_5xx_is_not_sent_again_and_may_have_been_applied() {
    let server = Scripted::start(vec![INTERNAL_ERROR], VPC_CREATED).await;
    let error = server
        .clients()
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect_err("a 5xx");
    assert_eq!(server.actions(), ["CreateVpc"]);
    let error = classify("ec2:CreateVpc", &error);
    assert_eq!(error.code, "InternalError");
    assert!(error.maybe_applied, "{error:?}");
}

#[tokio::test]
async fn a_throttled_create_is_sent_again_since_nothing_happened() {
    let server = Scripted::start(vec![THROTTLED, THROTTLED], VPC_CREATED).await;
    let created = server
        .clients()
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("created after two throttles");
    assert_eq!(
        created.vpc().and_then(|v| v.vpc_id()),
        Some("vpc-0123456789abcdef0")
    );
    assert_eq!(server.actions(), ["CreateVpc", "CreateVpc", "CreateVpc"]);
}

#[tokio::test]
async fn a_read_whose_answer_is_lost_is_sent_again() {
    let server = Scripted::start(vec![Answer::Drop, Answer::Drop], NO_VPCS).await;
    server
        .clients()
        .ec2
        .describe_vpcs()
        .send()
        .await
        .expect("answered on the third attempt");
    assert_eq!(
        server.actions(),
        ["DescribeVpcs", "DescribeVpcs", "DescribeVpcs"]
    );
}

#[tokio::test]
async fn brickstack_retryable_codes_the_sdk_does_not_know_are_retried_by_the_sdk() {
    let server = Scripted::start(vec![DEPENDENCY_VIOLATION], VPC_DELETED).await;
    server
        .clients()
        .ec2
        .delete_vpc()
        .vpc_id("vpc-0123456789abcdef0")
        .send()
        .await
        .expect("deleted once the dependency went");
    assert_eq!(server.actions(), ["DeleteVpc", "DeleteVpc"]);
}

#[tokio::test]
async fn a_persistent_throttle_ends_within_the_budget_as_a_retryable_error() {
    let server = Scripted::start(vec![], THROTTLED).await;
    let started = std::time::Instant::now();
    let error = server
        .clients()
        .ec2
        .describe_vpcs()
        .send()
        .await
        .expect_err("always throttled");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the 5 s budget (plus an attempt): {:?}",
        started.elapsed()
    );
    assert!(server.actions().len() > 2, "{:?}", server.actions());
    let error = classify("ec2:DescribeVpcs", &error);
    assert_eq!(error.class, ErrorClass::Retryable { after: None });
    assert!(!error.maybe_applied, "a throttle refused the request");
}

#[tokio::test]
async fn an_unlock_whose_answer_is_lost_is_not_sent_again_and_the_lock_item_decides() {
    // A second conditional delete would be refused as if the lock had never been ours.
    let released = Scripted::start(vec![Answer::Drop], Answer::Json(200, "{}")).await;
    let store = S3Store::new(&released.clients(), "b", "k", "locks", "key");
    store
        .unlock(&lock("lock-1"))
        .await
        .expect("the lock is gone: released");
    assert_eq!(
        released.actions(),
        ["deleteitem", "getitem"],
        "headers read lowercased"
    );

    // The lock is still ours: the delete did not go through, and the error says so.
    let held = Scripted::start(vec![Answer::Drop], Answer::Json(200, held_by_lock_1())).await;
    let store = S3Store::new(&held.clients(), "b", "k", "locks", "key");
    match store.unlock(&lock("lock-1")).await {
        Err(StateError::Backend { .. }) => {}
        other => panic!("expected a Backend error, got {other:?}"),
    }
    assert_eq!(held.actions(), ["deleteitem", "getitem"]);
}

#[tokio::test]
async fn a_lease_acquire_whose_answer_is_lost_is_sent_again_and_is_ours() {
    // The condition `Holder = :me` lets the second send through: the lease is ours either way.
    let server = Scripted::start(vec![Answer::Drop], Answer::Json(200, "{}")).await;
    let store = S3Store::new(&server.clients(), "b", "k", "locks", "key");
    let lease = store
        .acquire_lease("monitor", "replica-a", Duration::from_secs(60), T0)
        .await
        .expect("the second send takes the lease");
    assert_eq!(lease.holder, "replica-a");
    assert_eq!(lease.expires_at, T0 + Duration::from_secs(60));
    assert_eq!(server.actions(), ["putitem", "putitem"]);
}

#[tokio::test]
async fn a_lease_release_whose_answer_is_lost_is_not_sent_again_and_the_item_decides() {
    // Gone: released.
    let released = Scripted::start(vec![Answer::Drop], Answer::Json(200, "{}")).await;
    let store = S3Store::new(&released.clients(), "b", "k", "locks", "key");
    store
        .release_lease("monitor", "replica-a")
        .await
        .expect("the lease item is gone: released");
    assert_eq!(released.actions(), ["deleteitem", "getitem"]);

    // Still ours: the delete did not go through, and the error says so.
    let held = Scripted::start(
        vec![Answer::Drop],
        Answer::Json(
            200,
            r#"{"Item": {"LockID": {"S": "b/k#monitor"}, "Holder": {"S": "replica-a"}, "Expires": {"N": "1767225660000"}}}"#,
        ),
    )
    .await;
    let store = S3Store::new(&held.clients(), "b", "k", "locks", "key");
    match store.release_lease("monitor", "replica-a").await {
        Err(StateError::Backend { .. }) => {}
        other => panic!("expected a Backend error, got {other:?}"),
    }
    assert_eq!(held.actions(), ["deleteitem", "getitem"]);
}

/// The lock item of `lock-1`, as DynamoDB's `GetItem` answers it.
fn held_by_lock_1() -> &'static str {
    let info = serde_json::to_string(&lock("lock-1")).unwrap();
    let item = serde_json::json!({
        "Item": { "LockID": {"S": "b/k"}, "ID": {"S": "lock-1"}, "Info": {"S": info} }
    });
    Box::leak(item.to_string().into_boxed_str())
}

fn lock(id: &str) -> LockInfo {
    LockInfo::from_request(
        &LockRequest {
            id: id.into(),
            operation: "apply".into(),
            who: "alice@laptop".into(),
            version: "0.1.0".into(),
            now: T0,
            lease_seconds: LEASE_SECONDS,
        },
        "s3://b/k",
    )
}
