//! A fault-injecting HTTP proxy on loopback, put between an AWS SDK client and moto (or any
//! upstream) to prove that the unhappy path is safe: answers lost after the upstream applied a
//! request, and throttling answered in each service's own error shape.
//!
//! The client talks plain HTTP to [`FaultProxy::url`]; the proxy forwards every request verbatim
//! (method, path, query, headers but the hop-by-hop ones, body) to the upstream base URL, which
//! may be `https://` with an extra trusted CA certificate (moto behind a generated CA).
//!
//! Built on hyper directly rather than axum: a hyper service that returns an error makes hyper
//! close the connection without writing any answer, which is exactly "the answer was lost", and
//! axum's infallible router cannot express it. The upstream leg is reqwest, which takes an extra
//! root certificate from a PEM file in one call.
//!
//! Rules are set at run time by the test:
//! * [`FaultProxy::lose_answers`]: forward the first `times` requests matching an operation (or
//!   any predicate on [`RequestInfo`]), let the upstream apply them, then drop the connection,
//!   answer a 5xx, or hang without answering ([`LostAnswer`]);
//! * [`FaultProxy::throttle`]: answer a seeded fraction of all requests with the service's own
//!   throttling error without forwarding them;
//! * [`FaultProxy::stats`]: requests seen, forwarded, answers lost and throttled, per operation.
//!
//! Operations are named like the adapter's call counter, `service:Operation` (`ec2:CreateVpc`,
//! `s3:PutBucketVersioning`): the service from the SigV4 credential scope of `Authorization`, the
//! operation from `Action=` (query protocol: EC2, IAM, STS), `X-Amz-Target` (JSON protocol: KMS,
//! DynamoDB, SSM, tagging) or, for S3's REST protocol, from the method, path and query.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the upstream request looked like, for rules to match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The SigV4 signing name (`ec2`, `s3`, `iam`, `kms`, ...), or `unknown`.
    pub service: String,
    /// The operation (`CreateVpc`, `PutBucketVersioning`), or `METHOD` for an S3 call not named.
    pub operation: String,
    pub method: Method,
    pub path: String,
    pub query: String,
}

impl RequestInfo {
    /// `service:Operation`, the key of [`ProxyStats`].
    pub fn name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }

    /// Whether `operation` names this request: `CreateVpc` or `ec2:CreateVpc`.
    pub fn is(&self, operation: &str) -> bool {
        match operation.split_once(':') {
            Some((service, op)) => service == self.service && op == self.operation,
            None => operation == self.operation,
        }
    }
}

/// How a lost answer is lost, once the upstream has applied the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostAnswer {
    /// Close the connection without a byte of answer.
    Drop,
    /// Answer this 5xx status with an `InternalError` body in the service's shape.
    Status(u16),
    /// Hold the connection open without answering for this long (longer than the client's
    /// attempt timeout), then close it.
    Hang(Duration),
}

/// Counts for one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationCounts {
    /// Requests received.
    pub seen: u64,
    /// Requests sent on to the upstream (lost answers included).
    pub forwarded: u64,
    /// Requests the upstream applied whose answer the proxy then lost.
    pub answers_lost: u64,
    /// Requests answered with a throttling error, never forwarded.
    pub throttled: u64,
}

/// Everything the proxy counted, by `service:Operation`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub by_operation: BTreeMap<String, OperationCounts>,
}

impl ProxyStats {
    /// The sums over every operation.
    pub fn total(&self) -> OperationCounts {
        self.by_operation
            .values()
            .fold(OperationCounts::default(), |sum, c| OperationCounts {
                seen: sum.seen + c.seen,
                forwarded: sum.forwarded + c.forwarded,
                answers_lost: sum.answers_lost + c.answers_lost,
                throttled: sum.throttled + c.throttled,
            })
    }

    /// The counts of one operation (`service:Operation`); zero when never seen.
    pub fn get(&self, name: &str) -> OperationCounts {
        self.by_operation.get(name).copied().unwrap_or_default()
    }
}

/// Starting the proxy failed.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("cannot read the CA certificate `{path}`: {source}")]
    ReadCa {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not a PEM certificate: {source}; hint: pass the CA's PEM file")]
    ParseCa {
        path: PathBuf,
        source: reqwest::Error,
    },
    #[error(
        "`{path}` holds no PEM certificate; hint: pass the CA's PEM file (`-----BEGIN CERTIFICATE-----`)"
    )]
    NoCertificate { path: PathBuf },
    #[error("cannot build the upstream HTTP client: {0}")]
    Client(reqwest::Error),
}

type Predicate = Box<dyn Fn(&RequestInfo) -> bool + Send + Sync>;

struct LoseRule {
    matches: Predicate,
    remaining: u32,
    how: LostAnswer,
}

struct Throttle {
    rate: f64,
    rng: fastrand::Rng,
}

#[derive(Default)]
struct Rules {
    lose: Vec<LoseRule>,
    throttle: Option<Throttle>,
    stats: ProxyStats,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    rules: Mutex<Rules>,
}

/// The running proxy; stops accepting connections when dropped.
pub struct FaultProxy {
    url: String,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("url", &self.url)
            .field("upstream", &self.shared.upstream)
            .finish()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` (`http://host:port` or `https://...`;
    /// `ca_pem` is a CA certificate to trust on top of the system's roots, for an upstream whose
    /// certificate a test generated). Must be called inside a tokio runtime.
    pub async fn start(upstream: &str, ca_pem: Option<&Path>) -> Result<Self, ProxyError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(path) = ca_pem {
            let pem = std::fs::read(path).map_err(|source| ProxyError::ReadCa {
                path: path.to_owned(),
                source,
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                ProxyError::ParseCa {
                    path: path.to_owned(),
                    source,
                }
            })?;
            if certificates.is_empty() {
                return Err(ProxyError::NoCertificate {
                    path: path.to_owned(),
                });
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let client = builder.build().map_err(ProxyError::Client)?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(ProxyError::Bind)?;
        let port = listener.local_addr().map_err(ProxyError::Bind)?.port();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client,
            rules: Mutex::new(Rules::default()),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(FaultProxy {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            accept,
        })
    }

    /// `http://127.0.0.1:N`, the endpoint to give the client.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Loses the answer of the first `times` requests named `operation` (`CreateVpc` or
    /// `ec2:CreateVpc`), after the upstream applied them.
    pub fn lose_answers(&self, operation: &str, times: u32, how: LostAnswer) {
        let operation = operation.to_string();
        self.lose_answers_matching(move |r| r.is(&operation), times, how);
    }

    /// Loses the answer of the first `times` requests for which `matches` holds.
    pub fn lose_answers_matching(
        &self,
        matches: impl Fn(&RequestInfo) -> bool + Send + Sync + 'static,
        times: u32,
        how: LostAnswer,
    ) {
        self.rules().lose.push(LoseRule {
            matches: Box::new(matches),
            remaining: times,
            how,
        });
    }

    /// Answers a fraction `rate` (0.0–1.0) of all requests, drawn from a generator seeded with
    /// `seed`, with the service's throttling error, without forwarding them.
    pub fn throttle(&self, rate: f64, seed: u64) {
        self.rules().throttle = Some(Throttle {
            rate: rate.clamp(0.0, 1.0),
            rng: fastrand::Rng::with_seed(seed),
        });
    }

    /// Removes every rule (counts are kept).
    pub fn clear_rules(&self) {
        let mut rules = self.rules();
        rules.lose.clear();
        rules.throttle = None;
    }

    /// What was counted so far.
    pub fn stats(&self) -> ProxyStats {
        self.rules().stats.clone()
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Rules> {
        self.shared.rules.lock().unwrap()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            // An error here is a connection the proxy closed on purpose, or one the client
            // closed: nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The error that makes hyper close the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("answer lost on purpose")]
struct AnswerLost;

enum Decision {
    Throttle,
    Forward(Option<LostAnswer>),
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, AnswerLost> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(AnswerLost),
    };
    let info = describe(&parts.method, &parts.uri, &parts.headers, &body);
    let decision = {
        let mut rules = shared.rules.lock().unwrap();
        let Rules {
            lose,
            throttle,
            stats,
        } = &mut *rules;
        let counts = stats.by_operation.entry(info.name()).or_default();
        counts.seen += 1;
        let throttled = throttle
            .as_mut()
            .is_some_and(|t| t.rate > 0.0 && t.rng.f64() < t.rate);
        if throttled {
            counts.throttled += 1;
            Decision::Throttle
        } else {
            counts.forwarded += 1;
            let rule = lose
                .iter_mut()
                .find(|rule| rule.remaining > 0 && (rule.matches)(&info));
            Decision::Forward(rule.map(|rule| {
                rule.remaining -= 1;
                counts.answers_lost += 1;
                rule.how
            }))
        }
    };
    match decision {
        Decision::Throttle => Ok(throttling_answer(&info)),
        Decision::Forward(lost) => {
            let answer = forward(&shared, &parts.method, &parts.uri, &parts.headers, body).await;
            match lost {
                None => Ok(answer),
                Some(LostAnswer::Drop) => Err(AnswerLost),
                Some(LostAnswer::Hang(duration)) => {
                    tokio::time::sleep(duration).await;
                    Err(AnswerLost)
                }
                Some(LostAnswer::Status(status)) => Ok(error_answer(
                    &info,
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )),
            }
        }
    }
}

/// Headers that describe one connection, not the request (RFC 9110 §7.6.1), plus the ones the
/// upstream leg sets itself (`host` for the upstream, the body's length).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

async fn forward(
    shared: &Shared,
    method: &Method,
    uri: &hyper::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = HeaderMap::new();
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            outgoing.append(name.clone(), value.clone());
        }
    }
    let sent = shared
        .client
        .request(
            method.clone(),
            format!("{}{path_and_query}", shared.upstream),
        )
        .headers(outgoing)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(upstream) => upstream,
        Err(e) => return bad_gateway(&e),
    };
    let status = upstream.status();
    let mut answer_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        // `content-length` stays: a HEAD answer carries the object's length and no body.
        if name != header::CONTENT_LENGTH && HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        answer_headers.append(name.clone(), value.clone());
    }
    let bytes = match upstream.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return bad_gateway(&e),
    };
    let mut answer = Response::new(Full::new(bytes));
    *answer.status_mut() = status;
    *answer.headers_mut() = answer_headers;
    answer
}

fn bad_gateway(e: &reqwest::Error) -> Response<Full<Bytes>> {
    let mut answer = Response::new(Full::new(Bytes::from(format!(
        "fault proxy: upstream failed: {e}"
    ))));
    *answer.status_mut() = StatusCode::BAD_GATEWAY;
    answer
}

/// The wire protocol of a service, which decides the shape of its error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// EC2's own query dialect: `<Response><Errors><Error>`.
    Ec2,
    /// awsQuery (IAM, STS): `<ErrorResponse><Error>`.
    Query,
    /// awsJson 1.0 / 1.1 (KMS, DynamoDB, SSM, tagging): `{"__type": ...}`.
    Json(&'static str),
    /// REST-XML (S3): `<Error>`.
    RestXml,
}

fn protocol(info: &RequestInfo, headers_json: Option<&'static str>) -> Protocol {
    match (info.service.as_str(), headers_json) {
        (_, Some(version)) => Protocol::Json(version),
        ("ec2", _) => Protocol::Ec2,
        ("s3", _) => Protocol::RestXml,
        _ => Protocol::Query,
    }
}

/// The throttling error each service sends: EC2 `RequestLimitExceeded` (503, as AWS sends it),
/// IAM and STS `Throttling` (400), JSON services `ThrottlingException` (400), S3 `SlowDown` (503).
fn throttling_answer(info: &RequestInfo) -> Response<Full<Bytes>> {
    let (status, code, message) = match protocol(info, json_version(info)) {
        Protocol::Ec2 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
        Protocol::Query => (StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"),
        Protocol::Json(_) => (
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        ),
        Protocol::RestXml => (
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        ),
    };
    error_answer(info, status, code, message)
}

/// The JSON protocol version of the services that speak it (from the `X-Amz-Target` prefix
/// recorded in `info.operation`'s service; DynamoDB is 1.0, the others 1.1).
fn json_version(info: &RequestInfo) -> Option<&'static str> {
    match info.service.as_str() {
        "dynamodb" => Some("1.0"),
        "kms" | "ssm" | "tagging" => Some("1.1"),
        _ => None,
    }
}

fn error_answer(
    info: &RequestInfo,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response<Full<Bytes>> {
    let request_id = "fault-proxy-0000";
    let (content_type, body) = match protocol(info, json_version(info)) {
        Protocol::Ec2 => (
            "text/xml".to_string(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
            ),
        ),
        Protocol::Query => (
            "text/xml".to_string(),
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ),
        ),
        Protocol::Json(version) => (
            format!("application/x-amz-json-{version}"),
            serde_json::json!({"__type": code, "message": message}).to_string(),
        ),
        Protocol::RestXml => (
            "application/xml".to_string(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
            ),
        ),
    };
    let mut answer = Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("text/xml")),
    );
    answer.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_static("fault-proxy-0000"),
    );
    answer
}

/// Names the request: service from the SigV4 scope, operation from the protocol.
pub fn describe(
    method: &Method,
    uri: &hyper::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> RequestInfo {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let service = header("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split([',', ' ']).next())
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string();
    let query = uri.query().unwrap_or("").to_string();
    let pairs = |text: &[u8]| -> Vec<(String, String)> {
        form_urlencoded::parse(text).into_owned().collect()
    };
    let action = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v)
    };
    let target = header("x-amz-target").and_then(|t| t.rsplit('.').next());
    let is_form =
        header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let operation = target
        .map(str::to_string)
        .or_else(|| action(pairs(query.as_bytes())))
        .or_else(|| is_form.then(|| action(pairs(body))).flatten())
        .unwrap_or_else(|| rest_operation(method, uri.path(), &pairs(query.as_bytes())));
    RequestInfo {
        service,
        operation,
        method: method.clone(),
        path: uri.path().to_string(),
        query,
    }
}

/// S3's operation from method, path (path-style: `/bucket/key`) and query (`x-id` when the SDK
/// sends it, else the sub-resource key such as `?versioning`).
fn rest_operation(method: &Method, path: &str, query: &[(String, String)]) -> String {
    if let Some((_, id)) = query.iter().find(|(k, _)| k == "x-id") {
        return id.clone();
    }
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let bucket = segments.next().filter(|b| !b.is_empty());
    let key = segments.next().filter(|k| !k.is_empty());
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    const BUCKET_SETTINGS: &[(&str, &str)] = &[
        ("versioning", "BucketVersioning"),
        ("policy", "BucketPolicy"),
        ("publicAccessBlock", "PublicAccessBlock"),
        ("encryption", "BucketEncryption"),
        ("lifecycle", "BucketLifecycleConfiguration"),
        ("tagging", "BucketTagging"),
        ("location", "BucketLocation"),
        ("acl", "BucketAcl"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("logging", "BucketLogging"),
        ("cors", "BucketCors"),
        ("notification", "BucketNotificationConfiguration"),
    ];
    let verb = match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        _ => "",
    };
    let named = match (bucket, key) {
        (None, _) if *method == Method::GET => Some("ListBuckets".to_string()),
        (Some(_), None) => {
            if let Some((_, setting)) = BUCKET_SETTINGS.iter().find(|(k, _)| has(k)) {
                (!verb.is_empty()).then(|| format!("{verb}{setting}"))
            } else if has("versions") {
                Some("ListObjectVersions".to_string())
            } else if has("delete") && *method == Method::POST {
                Some("DeleteObjects".to_string())
            } else if has("uploads") {
                Some("ListMultipartUploads".to_string())
            } else {
                match *method {
                    Method::PUT => Some("CreateBucket".to_string()),
                    Method::DELETE => Some("DeleteBucket".to_string()),
                    Method::HEAD => Some("HeadBucket".to_string()),
                    Method::GET if has("list-type") => Some("ListObjectsV2".to_string()),
                    Method::GET => Some("ListObjects".to_string()),
                    _ => None,
                }
            }
        }
        (Some(_), Some(_)) => match *method {
            Method::PUT if has("partNumber") => Some("UploadPart".to_string()),
            Method::PUT if has("tagging") => Some("PutObjectTagging".to_string()),
            Method::PUT => Some("PutObject".to_string()),
            Method::GET => Some("GetObject".to_string()),
            Method::HEAD => Some("HeadObject".to_string()),
            Method::DELETE => Some("DeleteObject".to_string()),
            _ => None,
        },
        _ => None,
    };
    named.unwrap_or_else(|| method.as_str().to_string())
}
