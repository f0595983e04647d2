//! The service over real HTTP on 127.0.0.1:0, with a fake runner that records its batches and
//! notices any two runs that overlap.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use brickstack_serve::{
    AccessAction, AccessOutcome, AccessRequest, AccessRunner, Auth, SecretValue, ServeConfig,
    ServeError, Server,
};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

const KEY: &str = "test-key-0123456789";
const ROUTE: &str = "/v1/access/single-user-clusters";
/// How long a test waits for something the worker should do.
const PATIENCE: Duration = Duration::from_secs(20);

// ---- the fake runner -------------------------------------------------------------------------

#[derive(Default)]
struct Record {
    batches: Mutex<Vec<Vec<AccessRequest>>>,
    running: AtomicUsize,
    overlaps: AtomicUsize,
}

/// Grants become `Ready` with a cluster named after the person, revokes `Revoked`; a person whose
/// address starts with `fail` fails, and one starting with `panic` panics the whole batch. With a gate, each batch waits for one permit.
#[derive(Clone, Default)]
struct FakeRunner {
    record: Arc<Record>,
    gate: Option<Arc<Semaphore>>,
    delay: Duration,
}

impl FakeRunner {
    fn gated() -> (Self, Arc<Semaphore>) {
        let gate = Arc::new(Semaphore::new(0));
        let runner = FakeRunner {
            gate: Some(gate.clone()),
            ..FakeRunner::default()
        };
        (runner, gate)
    }

    fn batches(&self) -> Vec<Vec<AccessRequest>> {
        self.record.batches.lock().unwrap().clone()
    }

    fn people_run(&self) -> Vec<(String, AccessAction)> {
        self.batches()
            .into_iter()
            .flatten()
            .map(|r| (r.username, r.action))
            .collect()
    }

    fn overlaps(&self) -> usize {
        self.record.overlaps.load(Ordering::SeqCst)
    }
}

impl AccessRunner for FakeRunner {
    async fn run(&self, batch: &[AccessRequest]) -> Vec<AccessOutcome> {
        if self.record.running.fetch_add(1, Ordering::SeqCst) > 0 {
            self.record.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        self.record.batches.lock().unwrap().push(batch.to_vec());
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        tokio::time::sleep(self.delay).await;
        self.record.running.fetch_sub(1, Ordering::SeqCst);
        if let Some(person) = batch.iter().find(|r| r.username.starts_with("panic")) {
            panic!("cannot handle {}", person.username);
        }
        batch
            .iter()
            .map(|request| match request.action {
                _ if request.username.starts_with("fail") => AccessOutcome::Failed {
                    error: format!("Principal: UserName({}) does not exist", request.username),
                },
                AccessAction::Grant => AccessOutcome::Ready {
                    cluster_id: format!("cluster-{}", request.username),
                    cluster_name: format!("{}_su_cluster", request.username.replace('@', "_")),
                },
                AccessAction::Revoke => AccessOutcome::Revoked,
            })
            .collect()
    }
}

// ---- a running service -----------------------------------------------------------------------

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops it as SIGTERM would and waits until it returns.
    async fn stop(mut self) -> Result<(), ServeError> {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.await.unwrap()
    }

    /// Stops it as `kill -9` would: its tasks dropped wherever they are, nothing recorded.
    async fn kill(self) {
        self.task.abort();
        assert!(self.task.await.unwrap_err().is_cancelled());
    }
}

fn db(dir: &Path) -> PathBuf {
    dir.join("state/dev.serve.sqlite")
}

async fn start(db_path: &Path, auth: Auth, runner: FakeRunner) -> Running {
    let config = ServeConfig::new(([127, 0, 0, 1], 0).into(), auth, db_path);
    let server = Server::bind(config, runner).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

fn api_key() -> Auth {
    Auth::ApiKey(SecretValue::new(KEY))
}

/// How a test client proves itself.
#[derive(Clone, Copy)]
enum Caller<'a> {
    Anonymous,
    ApiKey(&'a str),
    /// Signs with the key at `now - age` seconds.
    Hmac {
        key: &'a str,
        age: u64,
    },
}

async fn call(
    service: &Running,
    caller: Caller<'_>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = reqwest::Client::new()
        .request(method.clone(), service.url(path))
        .body(body.clone());
    match caller {
        Caller::Anonymous => {}
        Caller::ApiKey(key) => request = request.header("x-api-key", key),
        Caller::Hmac { key, age } => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let timestamp = now - age;
            // Signed as sent: the path as the URL encodes it, with its query.
            let url = reqwest::Url::parse(&service.url(path)).unwrap();
            let sent = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_string(),
            };
            let target = brickstack_serve::Target {
                method: method.as_str(),
                path: &sent,
            };
            let signature =
                brickstack_serve::sign(&SecretValue::new(key), timestamp, &target, body.as_bytes());
            request = request
                .header("x-brickstack-timestamp", timestamp.to_string())
                .header("x-brickstack-signature", signature);
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{status}: the body is not JSON ({e}): {text}"));
    (status, json)
}

async fn grant(service: &Running, caller: Caller<'_>, username: &str) -> (StatusCode, Value) {
    let body = json!({"username": username});
    call(service, caller, reqwest::Method::POST, ROUTE, Some(body)).await
}

async fn revoke(service: &Running, caller: Caller<'_>, username: &str) -> (StatusCode, Value) {
    let path = format!("{ROUTE}/{username}");
    call(service, caller, reqwest::Method::DELETE, &path, None).await
}

async fn status(service: &Running, caller: Caller<'_>, username: &str) -> (StatusCode, Value) {
    let path = format!("{ROUTE}/{username}");
    call(service, caller, reqwest::Method::GET, &path, None).await
}

/// Polls the person's status until it is `want`; fails after [`PATIENCE`].
async fn wait_for(service: &Running, username: &str, want: &str) -> Value {
    wait_for_as(service, Caller::ApiKey(KEY), username, want).await
}

async fn wait_for_as(service: &Running, caller: Caller<'_>, username: &str, want: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (code, body) = status(service, caller, username).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        if body["status"] == want {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{username} never became {want}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the runner has been handed `count` batches.
async fn wait_for_batches(runner: &FakeRunner, count: usize) {
    let deadline = Instant::now() + PATIENCE;
    while runner.batches().len() < count {
        assert!(
            Instant::now() < deadline,
            "the runner got {:?}, not {count} batches",
            runner.batches()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn request_id(body: &Value) -> String {
    body["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no request_id in {body}"))
        .to_owned()
}

// ---- the tests -------------------------------------------------------------------------------

#[tokio::test]
async fn grant_status_and_revoke_with_an_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner::default();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    let (code, body) = status(&service, key, "ana@example.com").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        body,
        json!({"username": "ana@example.com", "status": "absent"})
    );

    // The address is lower-cased: one person however it is written.
    let (code, body) = grant(&service, key, "Ana@Example.com").await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "queued");
    assert_eq!(body["username"], "ana@example.com");
    assert_eq!(body["action"], "grant");
    let granted = request_id(&body);

    let ready = wait_for(&service, "ana@example.com", "ready").await;
    assert_eq!(request_id(&ready), granted);
    assert_eq!(ready["cluster_id"], "cluster-ana@example.com");
    assert_eq!(ready["cluster_name"], "ana_example.com_su_cluster");
    assert!(ready["finished_at"].is_string(), "{ready}");

    let (code, body) = revoke(&service, key, "ana@example.com").await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        (&body["action"], &body["status"]),
        (&json!("revoke"), &json!("queued"))
    );
    let revoked = request_id(&body);
    assert_ne!(revoked, granted);
    let absent = wait_for(&service, "ana@example.com", "absent").await;
    assert_eq!(request_id(&absent), revoked);
    // A repeated revoke of a finished one answers with it.
    let (code, body) = revoke(&service, key, "ana@example.com").await;
    assert_eq!((code, request_id(&body)), (StatusCode::OK, revoked));

    assert_eq!(
        runner.people_run(),
        [
            ("ana@example.com".to_owned(), AccessAction::Grant),
            ("ana@example.com".to_owned(), AccessAction::Revoke)
        ]
    );
    service.stop().await.unwrap();
}

#[tokio::test]
async fn a_failed_grant_is_reported_and_a_new_grant_retries_it() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner::default();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    let (_, body) = grant(&service, key, "fail.once@example.com").await;
    let first = request_id(&body);
    let failed = wait_for(&service, "fail.once@example.com", "failed").await;
    assert_eq!(
        failed["error"],
        "Principal: UserName(fail.once@example.com) does not exist"
    );
    let (code, body) = grant(&service, key, "fail.once@example.com").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_ne!(
        request_id(&body),
        first,
        "a failed grant is retried as a new request"
    );
    wait_for_batches(&runner, 2).await;
    service.stop().await.unwrap();
}

#[tokio::test]
async fn a_runner_that_panics_fails_its_batch_and_the_service_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (runner, gate) = FakeRunner::gated();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    grant(&service, key, "panic@example.com").await;
    wait_for_batches(&runner, 1).await;
    grant(&service, key, "ana@example.com").await;
    grant(&service, key, "bob@example.com").await;
    gate.add_permits(1);
    let failed = wait_for(&service, "panic@example.com", "failed").await;
    assert_eq!(
        failed["error"],
        "the run panicked: cannot handle panic@example.com"
    );
    // The worker lives on: the next batch runs.
    gate.add_permits(1);
    wait_for(&service, "ana@example.com", "ready").await;
    wait_for(&service, "bob@example.com", "ready").await;
    let metrics = reqwest::get(service.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("brickstack_serve_access_runs_failed_total 1\n"),
        "{metrics}"
    );
    service.stop().await.unwrap();
}

#[tokio::test]
async fn a_username_that_is_not_an_e_mail_is_refused_with_the_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner::default();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    let cases = [
        (json!({"username": "ana"}), "`ana` has no `@`"),
        (
            json!({"username": "ana@localhost"}),
            "the domain `localhost` has no dot",
        ),
        (json!({"username": 42}), "`username` must be a string"),
        (
            json!({"user": "ana@example.com"}),
            "missing field `username`",
        ),
    ];
    for (body, problem) in cases {
        let (code, answer) = call(
            &service,
            key,
            reqwest::Method::POST,
            ROUTE,
            Some(body.clone()),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(problem), "{body}: {error}");
    }
    let (code, answer) = revoke(&service, key, "not-an-address").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"].as_str().unwrap().contains("has no `@`"),
        "{answer}"
    );
    let (code, _) = status(&service, key, "a%20b@example.com").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    service.stop().await.unwrap();
    assert!(runner.batches().is_empty(), "nothing invalid is queued");
}

#[tokio::test]
async fn an_api_key_that_is_missing_or_wrong_gets_401_and_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner::default();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;

    for (caller, error) in [
        (Caller::Anonymous, "missing credentials"),
        (Caller::ApiKey("test-key-0123456788"), "invalid credentials"),
        (Caller::ApiKey(""), "invalid credentials"),
        (Caller::Hmac { key: KEY, age: 0 }, "missing credentials"),
    ] {
        let (code, body) = grant(&service, caller, "ana@example.com").await;
        assert_eq!(
            (code, body),
            (StatusCode::UNAUTHORIZED, json!({"error": error}))
        );
        let (code, _) = revoke(&service, caller, "ana@example.com").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
        let (code, _) = status(&service, caller, "ana@example.com").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
    }
    // Probes and scrapers hold no key.
    let (code, body) = call(
        &service,
        Caller::Anonymous,
        reqwest::Method::GET,
        "/healthz",
        None,
    )
    .await;
    assert_eq!((code, body), (StatusCode::OK, json!({"status": "ok"})));
    let metrics = reqwest::get(service.url("/metrics")).await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);

    let (_, body) = status(&service, Caller::ApiKey(KEY), "ana@example.com").await;
    assert_eq!(body["status"], "absent");
    service.stop().await.unwrap();
    assert!(runner.batches().is_empty());
}

#[tokio::test]
async fn hmac_signatures_pass_and_missing_forged_or_stale_ones_get_401() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner::default();
    let auth = Auth::Hmac(SecretValue::new(KEY));
    let service = start(&db(dir.path()), auth, runner.clone()).await;
    let signed = Caller::Hmac { key: KEY, age: 0 };

    for (caller, error) in [
        (Caller::Anonymous, "missing credentials"),
        // The right key as an API key is not a signature.
        (Caller::ApiKey(KEY), "missing credentials"),
        (
            Caller::Hmac {
                key: "another-key",
                age: 0,
            },
            "invalid credentials",
        ),
        // Correctly signed ten minutes ago: a replay.
        (Caller::Hmac { key: KEY, age: 600 }, "invalid credentials"),
    ] {
        let (code, body) = grant(&service, caller, "ana@example.com").await;
        assert_eq!(
            (code, body),
            (StatusCode::UNAUTHORIZED, json!({"error": error}))
        );
    }
    // A signature of one body does not carry another.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = SecretValue::new(KEY);
    let target = brickstack_serve::Target {
        method: "POST",
        path: ROUTE,
    };
    let signature =
        brickstack_serve::sign(&key, now, &target, br#"{"username":"ana@example.com"}"#);
    let forged = reqwest::Client::new()
        .post(service.url(ROUTE))
        .header("x-brickstack-timestamp", now.to_string())
        .header("x-brickstack-signature", signature)
        .body(r#"{"username":"eve@example.com"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let (code, body) = grant(&service, signed, "ana@example.com").await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    // Four minutes old is within the window.
    let (code, body) = status(
        &service,
        Caller::Hmac { key: KEY, age: 240 },
        "ana@example.com",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    wait_for_as(&service, signed, "ana@example.com", "ready").await;
    let (code, body) = revoke(&service, signed, "ana@example.com").await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    wait_for_as(&service, signed, "ana@example.com", "absent").await;
    service.stop().await.unwrap();
    assert_eq!(
        runner.people_run(),
        [
            ("ana@example.com".to_owned(), AccessAction::Grant),
            ("ana@example.com".to_owned(), AccessAction::Revoke)
        ],
        "only the signed requests ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repeated_grant_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (runner, gate) = FakeRunner::gated();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    let (code, body) = grant(&service, key, "ana@example.com").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    let id = request_id(&body);
    // Repeats while it is queued or running, some at once, answer with the same request.
    let repeats =
        join_all((0..5).map(|_| async { grant(&service, key, "ANA@example.com").await })).await;
    for (code, body) in repeats {
        assert_eq!(
            (code, request_id(&body)),
            (StatusCode::ACCEPTED, id.clone())
        );
    }
    wait_for_batches(&runner, 1).await;
    let (code, body) = grant(&service, key, "ana@example.com").await;
    assert_eq!(
        (code, &body["status"]),
        (StatusCode::ACCEPTED, &json!("running"))
    );
    assert_eq!(request_id(&body), id);

    gate.add_permits(100);
    wait_for(&service, "ana@example.com", "ready").await;
    // Once ready, a repeat answers 200 with the person's cluster.
    let (code, body) = grant(&service, key, "ana@example.com").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(request_id(&body), id);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["cluster_id"], "cluster-ana@example.com");

    service.stop().await.unwrap();
    assert_eq!(
        runner.people_run(),
        [("ana@example.com".to_owned(), AccessAction::Grant)],
        "the runner ran the person once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_grants_all_land_in_one_batch_one_run_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (mut runner, gate) = FakeRunner::gated();
    runner.delay = Duration::from_millis(50);
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    // A first person's run holds the worker while twenty more arrive at once.
    grant(&service, key, "first@example.com").await;
    wait_for_batches(&runner, 1).await;
    let people: Vec<String> = (0..20).map(|i| format!("person.{i}@example.com")).collect();
    let answers = join_all(people.iter().map(|p| grant(&service, key, p))).await;
    let mut ids = BTreeSet::new();
    for (code, body) in &answers {
        assert_eq!(*code, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["status"], "queued");
        ids.insert(request_id(body));
    }
    assert_eq!(ids.len(), 20, "each person has their own request");

    gate.add_permits(100);
    for person in &people {
        wait_for(&service, person, "ready").await;
    }
    service.stop().await.unwrap();

    let batches = runner.batches();
    assert_eq!(
        batches.len(),
        2,
        "the worker takes every queued request at once"
    );
    let second: BTreeSet<String> = batches[1].iter().map(|r| r.username.clone()).collect();
    assert_eq!(second, people.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(runner.overlaps(), 0, "two runs overlapped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runs_never_overlap_while_requests_keep_arriving() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner {
        delay: Duration::from_millis(15),
        ..FakeRunner::default()
    };
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);
    // Requests in small waves, so the worker is woken while it runs.
    for wave in 0..8 {
        let people: Vec<String> = (0..5)
            .map(|i| format!("w{wave}.p{i}@example.com"))
            .collect();
        join_all(people.iter().map(|p| grant(&service, key, p))).await;
        tokio::time::sleep(Duration::from_millis(7)).await;
    }
    for wave in 0..8 {
        for i in 0..5 {
            wait_for(&service, &format!("w{wave}.p{i}@example.com"), "ready").await;
        }
    }
    service.stop().await.unwrap();
    assert_eq!(runner.people_run().len(), 40, "each person ran once");
    assert_eq!(runner.overlaps(), 0, "two runs overlapped");
}

#[tokio::test]
async fn a_restarted_service_resumes_its_queue_and_does_not_rerun_finished_requests() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let key = Caller::ApiKey(KEY);
    let (first_runner, gate) = FakeRunner::gated();
    let first = start(&path, api_key(), first_runner.clone()).await;

    gate.add_permits(1);
    let (_, body) = grant(&first, key, "done@example.com").await;
    let done_id = request_id(&body);
    wait_for(&first, "done@example.com", "ready").await;
    // One request is running when the process dies, another is still queued.
    let (_, body) = grant(&first, key, "interrupted@example.com").await;
    let interrupted_id = request_id(&body);
    wait_for(&first, "interrupted@example.com", "running").await;
    let (_, body) = grant(&first, key, "waiting@example.com").await;
    let waiting_id = request_id(&body);

    // A second service on the same queue is refused while the first lives.
    let config = ServeConfig::new(([127, 0, 0, 1], 0).into(), api_key(), &path);
    match Server::bind(config, FakeRunner::default()).await {
        Err(ServeError::AlreadyRunning { .. }) => {}
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("two services ran on one queue"),
    }
    first.kill().await;

    let second_runner = FakeRunner::default();
    let second = start(&path, api_key(), second_runner.clone()).await;
    let body = wait_for(&second, "interrupted@example.com", "ready").await;
    assert_eq!(request_id(&body), interrupted_id);
    let body = wait_for(&second, "waiting@example.com", "ready").await;
    assert_eq!(request_id(&body), waiting_id);
    let body = wait_for(&second, "done@example.com", "ready").await;
    assert_eq!(request_id(&body), done_id);
    second.stop().await.unwrap();

    let rerun: BTreeSet<String> = second_runner
        .people_run()
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        rerun,
        BTreeSet::from([
            "interrupted@example.com".into(),
            "waiting@example.com".into()
        ]),
        "the finished request ran again, or a queued one was lost"
    );
}

#[tokio::test]
async fn a_stop_lets_the_running_batch_finish_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let (runner, gate) = FakeRunner::gated();
    let service = start(&path, api_key(), runner.clone()).await;
    let (_, body) = grant(&service, Caller::ApiKey(KEY), "ana@example.com").await;
    let id = request_id(&body);
    wait_for_batches(&runner, 1).await;

    let addr = service.addr;
    let stop = service.stop.unwrap();
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !service.task.is_finished(),
        "it stopped with a batch running"
    );
    // Stopped accepting.
    assert!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_err()
    );
    gate.add_permits(1);
    tokio::time::timeout(PATIENCE, service.task)
        .await
        .expect("the stop waited past the batch")
        .unwrap()
        .unwrap();

    let again = FakeRunner::default();
    let service = start(&path, api_key(), again.clone()).await;
    let body = wait_for(&service, "ana@example.com", "ready").await;
    assert_eq!(request_id(&body), id);
    service.stop().await.unwrap();
    assert!(again.batches().is_empty(), "the finished batch ran again");
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let runner = FakeRunner::default();
    let service = start(&db(dir.path()), api_key(), runner.clone()).await;
    let key = Caller::ApiKey(KEY);

    grant(&service, key, "ana@example.com").await;
    grant(&service, key, "fail@example.com").await;
    wait_for(&service, "ana@example.com", "ready").await;
    wait_for(&service, "fail@example.com", "failed").await;
    grant(&service, Caller::Anonymous, "ana@example.com").await;
    call(
        &service,
        Caller::Anonymous,
        reqwest::Method::GET,
        "/healthz",
        None,
    )
    .await;

    let response = reqwest::get(service.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(
            matches!(
                prometheus_parse::LineInfo::parse(line),
                prometheus_parse::LineInfo::Sample { .. }
            ),
            "not a sample line: {line}"
        );
    }
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let value = |metric: &str, labels: &[(&str, &str)]| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {metric} {labels:?} in\n{text}"));
        match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{metric}: {other:?}"),
        }
    };
    let http = "brickstack_serve_http_requests_total";
    let post = [("method", "POST"), ("route", ROUTE)];
    assert_eq!(value(http, &[post[0], post[1], ("status", "202")]), 2.0);
    assert_eq!(value(http, &[post[0], post[1], ("status", "401")]), 1.0);
    let get = [
        ("method", "GET"),
        ("route", "/v1/access/single-user-clusters/:username"),
    ];
    assert!(value(http, &[get[0], get[1], ("status", "200")]) >= 2.0);
    assert_eq!(
        value(http, &[("route", "/healthz"), ("status", "200")]),
        1.0
    );
    assert!(
        !text.contains("ana@example.com"),
        "a person's address in the labels"
    );
    let runs = value("brickstack_serve_access_runs_total", &[]);
    assert_eq!(runs, runner.batches().len() as f64);
    assert_eq!(
        value("brickstack_serve_access_run_duration_seconds_count", &[]),
        runs
    );
    let outcome = "brickstack_serve_access_outcomes_total";
    assert_eq!(
        value(outcome, &[("action", "grant"), ("outcome", "ready")]),
        1.0
    );
    assert_eq!(
        value(outcome, &[("action", "grant"), ("outcome", "failed")]),
        1.0
    );
    assert_eq!(value("brickstack_serve_access_queue_depth", &[]), 0.0);
    service.stop().await.unwrap();
}

/// An in-memory lock table two replicas share.
#[derive(Clone, Default)]
struct LeaseTable(Arc<Mutex<Option<brickstack_state::Lease>>>);

impl brickstack_state::LeaseStore for LeaseTable {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: time::OffsetDateTime,
    ) -> Result<brickstack_state::Lease, brickstack_state::StateError> {
        let mut lease = self.0.lock().unwrap();
        if lease
            .as_ref()
            .is_none_or(|l| l.expires_at <= now || l.holder == holder)
        {
            *lease = Some(brickstack_state::Lease {
                name: name.into(),
                holder: holder.into(),
                expires_at: now + ttl,
            });
        }
        Ok(lease.clone().unwrap())
    }

    async fn release_lease(
        &self,
        _name: &str,
        holder: &str,
    ) -> Result<(), brickstack_state::StateError> {
        let mut lease = self.0.lock().unwrap();
        if lease.as_ref().is_some_and(|l| l.holder == holder) {
            *lease = None;
        }
        Ok(())
    }
}

async fn start_replica(
    db_path: &Path,
    name: &str,
    table: &LeaseTable,
    runner: FakeRunner,
) -> Running {
    let config = ServeConfig {
        poll_interval: Duration::from_millis(200),
        ..ServeConfig::new(
            ([127, 0, 0, 1], 0).into(),
            Auth::ApiKey(SecretValue::new(KEY)),
            db_path,
        )
    };
    let (election, leadership) =
        brickstack_serve::election(table.clone(), name.into(), Duration::from_millis(900));
    let parts = brickstack_serve::Parts {
        election: Some(election),
        leadership,
        ..brickstack_serve::Parts::default()
    };
    let server = Server::bind_with(config, Some(runner), parts)
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

#[tokio::test]
async fn replicas_on_one_queue_take_turns_and_a_standby_refuses_requests() {
    let dir = tempfile::tempdir().unwrap();
    let table = LeaseTable::default();
    let first_runner = FakeRunner::default();
    let first = start_replica(&db(dir.path()), "first", &table, first_runner.clone()).await;
    let http = reqwest::Client::new();
    let grant = |running: &Running, person: &str| {
        http.post(running.url(ROUTE))
            .header("x-api-key", KEY)
            .json(&json!({"username": person}))
            .send()
    };
    let deadline = Instant::now() + PATIENCE;
    while grant(&first, "ana@example.com").await.unwrap().status() != StatusCode::ACCEPTED {
        assert!(Instant::now() < deadline, "the first replica never acted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second_runner = FakeRunner::default();
    let second = start_replica(&db(dir.path()), "second", &table, second_runner.clone()).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let refused = grant(&second, "bea@example.com").await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["leader"], "first", "{body}");
    // Without the key a standby still says 401: authentication comes first.
    let anonymous = http
        .post(second.url(ROUTE))
        .json(&json!({"username": "bea@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        http.get(second.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // The first stops (and gives the lease up): the second acts and works the shared queue.
    first.stop().await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    while grant(&second, "bea@example.com").await.unwrap().status()
        == StatusCode::SERVICE_UNAVAILABLE
    {
        assert!(
            Instant::now() < deadline,
            "the second replica never took over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + PATIENCE;
    while !second_runner
        .people_run()
        .iter()
        .any(|(p, _)| p == "bea@example.com")
    {
        assert!(Instant::now() < deadline, "bea's grant never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ran: Vec<String> = first_runner
        .people_run()
        .into_iter()
        .chain(second_runner.people_run())
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        ran.iter().filter(|p| *p == "ana@example.com").count(),
        1,
        "{ran:?}"
    );
    assert_eq!(first_runner.overlaps() + second_runner.overlaps(), 0);
    second.stop().await.unwrap();
    assert!(table.0.lock().unwrap().is_none(), "the lease was given up");
}
