//! The fault-injecting proxy against a tiny local upstream that records what reached it: requests
//! are forwarded verbatim, operations are named per protocol, a lost answer was still applied
//! upstream, throttling never reaches the upstream and speaks each service's error shape.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use brickstack_testkit::{FaultProxy, LostAnswer, OperationCounts};

/// What reached the upstream: `METHOD path?query body`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// An upstream that records every request and echoes it back in headers and body.
async fn upstream() -> (String, Seen) {
    async fn echo(State(seen): State<Seen>, request: Request) -> impl IntoResponse {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let line = format!(
            "{} {} {}",
            parts.method,
            parts.uri.path_and_query().map_or("", |p| p.as_str()),
            String::from_utf8_lossy(&body)
        );
        seen.0.lock().unwrap().push(line.clone());
        let mut headers = HeaderMap::new();
        if let Some(v) = parts.headers.get("x-test") {
            headers.insert("x-echo", v.clone());
        }
        if let Some(v) = parts.headers.get("host") {
            headers.insert("x-echo-host", v.clone());
        }
        headers.insert("x-object-size", "7".parse().unwrap());
        (StatusCode::OK, headers, line)
    }
    let seen = Seen::default();
    let app = Router::new().fallback(echo).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// A SigV4 `Authorization` header for `service` (the proxy reads only the credential scope).
fn signed(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261206/eu-west-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// One AWS-shaped request: `(service, method, path and query, extra header, body)`.
struct Call {
    service: &'static str,
    method: Method,
    path: &'static str,
    header: Option<(&'static str, &'static str)>,
    body: &'static str,
}

const fn call(
    service: &'static str,
    method: Method,
    path: &'static str,
    header: Option<(&'static str, &'static str)>,
    body: &'static str,
) -> Call {
    Call {
        service,
        method,
        path,
        header,
        body,
    }
}

async fn send(base: &str, c: &Call) -> reqwest::Result<reqwest::Response> {
    let mut request = client()
        .request(c.method.clone(), format!("{base}{}", c.path))
        .header("authorization", signed(c.service))
        .body(c.body);
    if let Some((name, value)) = c.header {
        request = request.header(name, value);
    }
    if c.body.starts_with("Action=") {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    request.send().await
}

const FORM: Option<(&str, &str)> = None;

fn create_vpc() -> Call {
    call(
        "ec2",
        Method::POST,
        "/",
        FORM,
        "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
    )
}

#[tokio::test]
async fn forwards_method_path_query_headers_and_body_and_returns_the_upstream_answer() {
    let (upstream_url, seen) = upstream().await;
    let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
    let answer = client()
        .put(format!(
            "{}/bucket/some/key?x-id=PutObject&a=b",
            proxy.url()
        ))
        .header("authorization", signed("s3"))
        .header("x-test", "kept")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-echo"], "kept");
    assert_eq!(answer.headers()["x-object-size"], "7");
    // The upstream is addressed as itself, not as the proxy.
    assert_eq!(
        answer.headers()["x-echo-host"],
        upstream_url.trim_start_matches("http://")
    );
    assert_eq!(
        answer.text().await.unwrap(),
        "PUT /bucket/some/key?x-id=PutObject&a=b payload"
    );
    assert_eq!(seen.count(), 1);
    let stats = proxy.stats();
    assert_eq!(
        stats.get("s3:PutObject"),
        OperationCounts {
            seen: 1,
            forwarded: 1,
            answers_lost: 0,
            throttled: 0
        }
    );
}

#[tokio::test]
async fn names_operations_from_action_target_and_s3_method_path_query() {
    let (upstream_url, _) = upstream().await;
    let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
    let cases = [
        (create_vpc(), "ec2:CreateVpc"),
        (
            call(
                "iam",
                Method::POST,
                "/",
                FORM,
                "Action=CreateRole&RoleName=r",
            ),
            "iam:CreateRole",
        ),
        (
            call("sts", Method::GET, "/?Action=GetCallerIdentity", FORM, ""),
            "sts:GetCallerIdentity",
        ),
        (
            call(
                "kms",
                Method::POST,
                "/",
                Some(("x-amz-target", "TrentService.CreateKey")),
                "{}",
            ),
            "kms:CreateKey",
        ),
        (
            call(
                "dynamodb",
                Method::POST,
                "/",
                Some(("x-amz-target", "DynamoDB_20120810.CreateTable")),
                "{}",
            ),
            "dynamodb:CreateTable",
        ),
        (call("s3", Method::PUT, "/b", FORM, ""), "s3:CreateBucket"),
        (
            call("s3", Method::PUT, "/b?versioning", FORM, "<x/>"),
            "s3:PutBucketVersioning",
        ),
        (
            call("s3", Method::PUT, "/b?publicAccessBlock", FORM, "<x/>"),
            "s3:PutPublicAccessBlock",
        ),
        (
            call("s3", Method::PUT, "/b?encryption", FORM, "<x/>"),
            "s3:PutBucketEncryption",
        ),
        (
            call("s3", Method::PUT, "/b?lifecycle", FORM, "<x/>"),
            "s3:PutBucketLifecycleConfiguration",
        ),
        (
            call("s3", Method::PUT, "/b?policy", FORM, "{}"),
            "s3:PutBucketPolicy",
        ),
        (
            call("s3", Method::GET, "/b?versions", FORM, ""),
            "s3:ListObjectVersions",
        ),
        (call("s3", Method::HEAD, "/b", FORM, ""), "s3:HeadBucket"),
        (
            call("s3", Method::DELETE, "/b", FORM, ""),
            "s3:DeleteBucket",
        ),
        (call("s3", Method::GET, "/", FORM, ""), "s3:ListBuckets"),
    ];
    for (c, _) in &cases {
        send(proxy.url(), c).await.unwrap();
    }
    let stats = proxy.stats();
    let expected: Vec<&str> = cases.iter().map(|(_, name)| *name).collect();
    let mut named: Vec<&str> = stats.by_operation.keys().map(String::as_str).collect();
    let mut sorted = expected.clone();
    sorted.sort();
    named.sort();
    assert_eq!(named, sorted, "{stats:#?}");
}

#[tokio::test]
async fn a_lost_answer_is_applied_upstream_and_the_connection_closes_unanswered() {
    let (upstream_url, seen) = upstream().await;
    let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
    proxy.lose_answers("ec2:CreateVpc", 1, LostAnswer::Drop);

    let lost = send(proxy.url(), &create_vpc()).await;
    let error = lost.expect_err("the answer should be lost");
    assert!(!error.is_status(), "no status was answered: {error:?}");
    assert_eq!(seen.count(), 1, "the upstream applied the request");

    // Only the first match: the second is answered.
    let answered = send(proxy.url(), &create_vpc()).await.unwrap();
    assert_eq!(answered.status(), 200);
    assert_eq!(seen.count(), 2);
    assert_eq!(
        proxy.stats().get("ec2:CreateVpc"),
        OperationCounts {
            seen: 2,
            forwarded: 2,
            answers_lost: 1,
            throttled: 0
        }
    );
}

#[tokio::test]
async fn a_lost_answer_can_be_a_5xx_after_the_upstream_applied_it() {
    let (upstream_url, seen) = upstream().await;
    let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
    proxy.lose_answers("CreateKey", 1, LostAnswer::Status(500));
    let create_key = call(
        "kms",
        Method::POST,
        "/",
        Some(("x-amz-target", "TrentService.CreateKey")),
        "{}",
    );
    let answer = send(proxy.url(), &create_key).await.unwrap();
    assert_eq!(answer.status(), 500);
    assert_eq!(
        answer.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["__type"], "InternalError");
    assert_eq!(seen.count(), 1);
}

#[tokio::test]
async fn a_lost_answer_can_hang_past_the_clients_timeout() {
    let (upstream_url, seen) = upstream().await;
    let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
    proxy.lose_answers("CreateVpc", 1, LostAnswer::Hang(Duration::from_secs(5)));
    let c = create_vpc();
    let error = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .post(format!("{}/", proxy.url()))
        .header("authorization", signed(c.service))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(c.body)
        .send()
        .await
        .expect_err("the client should time out");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(seen.count(), 1, "the upstream applied the request");
}

#[tokio::test]
async fn throttling_never_reaches_the_upstream_and_speaks_each_services_error_shape() {
    let (upstream_url, seen) = upstream().await;
    let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
    proxy.throttle(1.0, 1);
    let json = |service, target| {
        call(
            service,
            Method::POST,
            "/",
            Some(("x-amz-target", target)),
            "{}",
        )
    };
    let cases = [
        (
            create_vpc(),
            503,
            "text/xml",
            "<Code>RequestLimitExceeded</Code>",
        ),
        (
            call("iam", Method::POST, "/", FORM, "Action=CreateRole"),
            400,
            "text/xml",
            "<Code>Throttling</Code>",
        ),
        (
            call("sts", Method::POST, "/", FORM, "Action=AssumeRole"),
            400,
            "text/xml",
            "<Code>Throttling</Code>",
        ),
        (
            json("kms", "TrentService.CreateKey"),
            400,
            "application/x-amz-json-1.1",
            "\"__type\":\"ThrottlingException\"",
        ),
        (
            json("ssm", "AmazonSSM.PutParameter"),
            400,
            "application/x-amz-json-1.1",
            "\"__type\":\"ThrottlingException\"",
        ),
        (
            json("dynamodb", "DynamoDB_20120810.CreateTable"),
            400,
            "application/x-amz-json-1.0",
            "\"__type\":\"ThrottlingException\"",
        ),
        (
            call("s3", Method::PUT, "/b", FORM, ""),
            503,
            "application/xml",
            "<Code>SlowDown</Code>",
        ),
    ];
    for (c, status, content_type, code) in &cases {
        let answer = send(proxy.url(), c).await.unwrap();
        assert_eq!(answer.status().as_u16(), *status, "{}", c.service);
        assert_eq!(
            answer.headers()["content-type"],
            *content_type,
            "{}",
            c.service
        );
        let body = answer.text().await.unwrap();
        assert!(body.contains(code), "{}: {body}", c.service);
    }
    assert_eq!(seen.count(), 0);
    let total = proxy.stats().total();
    assert_eq!((total.seen, total.throttled, total.forwarded), (7, 7, 0));
}

#[tokio::test]
async fn throttling_a_fraction_is_seeded_and_close_to_the_rate() {
    let (upstream_url, seen) = upstream().await;
    let mut throttled = Vec::new();
    for _ in 0..2 {
        let proxy = FaultProxy::start(&upstream_url, None).await.unwrap();
        proxy.throttle(0.2, 42);
        let mut pattern = Vec::new();
        for _ in 0..200 {
            let answer = send(proxy.url(), &create_vpc()).await.unwrap();
            pattern.push(answer.status() == 503);
        }
        let count = pattern.iter().filter(|t| **t).count();
        assert!(
            (20..=60).contains(&count),
            "{count} of 200 throttled at 20%"
        );
        assert_eq!(proxy.stats().total().throttled, count as u64);
        throttled.push(pattern);
    }
    assert_eq!(
        throttled[0], throttled[1],
        "the same seed throttles the same requests"
    );
    let forwarded = throttled.iter().flatten().filter(|t| !**t).count();
    assert_eq!(seen.count(), forwarded);
}

#[tokio::test]
async fn an_unreadable_or_invalid_ca_certificate_is_refused_with_its_path() {
    let missing = std::path::Path::new("/nonexistent/ca.pem");
    let error = FaultProxy::start("https://127.0.0.1:1", Some(missing))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    let dir = tempfile_dir();
    let garbage = dir.join("ca.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let error = FaultProxy::start("https://127.0.0.1:1", Some(&garbage))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("hint:"), "{error}");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fault-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn an_upstream_that_is_down_answers_502() {
    let proxy = FaultProxy::start("http://127.0.0.1:1", None).await.unwrap();
    let answer = send(proxy.url(), &create_vpc()).await.unwrap();
    assert_eq!(answer.status(), 502);
}
