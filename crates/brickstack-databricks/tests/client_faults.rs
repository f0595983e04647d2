//! The REST client's error parsing, retry policy, OAuth token cache and create safety, against the
//! Databricks emulator's fault injection: every error body shape the platform sends, which
//! answers are retried and how long the client waits, the retry budget, a token that expires or
//! whose endpoint is throttled, and a create whose answer is lost.
//!
//! Fault rules answer before any emulator handler runs, so they cannot make an object and then
//! fail; `FakeThings` (a few lines of axum) stands in for the creates that need that. Every
//! policy here has zero jitter and millisecond steps, so waits are exact and the file is fast.

mod emulator;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use brickstack_databricks::{
    AccountClient, Client, Credentials, Error, ErrorDetail, ErrorKind, RetryPolicy, WorkspaceClient,
};
use brickstack_databricks_emulator::{
    DEFAULT_CLIENT_ID, DatabricksEmulator, DatabricksEmulatorConfig, FaultBody, FaultRule,
};
use brickstack_provider::{ErrorClass, ProviderError, SecretValue};
use brickstack_testkit::{unique_account_id, unique_name};
use emulator::{EmulatorWorkspace, oauth};
use serde_json::{Value, json};

/// The workspace read most tests fault: cheap, and idempotent.
const SCOPES: &str = "/api/2.0/secrets/scopes/list";
const ROLE: &str = "arn:aws:iam::123456789012:role/cross-account";

/// A policy that waits `step` before every retry (zero jitter, so waits are exact).
fn policy(budget: Duration, step: Duration) -> RetryPolicy {
    RetryPolicy {
        budget,
        base: step,
        max_backoff: step,
        jitter: Duration::ZERO,
        ..RetryPolicy::default()
    }
}

/// Retries 10 ms apart for up to 5 s: for tests where the wait does not matter.
fn fast() -> RetryPolicy {
    policy(Duration::from_secs(5), Duration::from_millis(10))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn workspace_client(ws: &EmulatorWorkspace, retry: RetryPolicy) -> WorkspaceClient {
    WorkspaceClient::new(&ws.url, oauth(), retry).unwrap()
}

fn account_client(emulator: &DatabricksEmulator, account_id: &str) -> AccountClient {
    AccountClient::new(&emulator.url(), account_id, oauth(), fast()).unwrap()
}

/// The full request path of a workspace API path, as fault rules match it.
fn in_workspace(ws: &EmulatorWorkspace, path: &str) -> String {
    format!("/w/{}{path}", ws.workspace_id)
}

/// A rule that faults nothing and lets every matching request through: its `hits` count them.
fn counter(path_prefix: &str) -> FaultRule {
    FaultRule {
        status: None,
        latency_ms: Some(0),
        times: Some(0),
        ..FaultRule::status(path_prefix, 200)
    }
}

/// `(hits, remaining)` of every rule, in the order they were added.
fn served(emulator: &DatabricksEmulator) -> Vec<(u64, Option<u32>)> {
    emulator
        .faults()
        .iter()
        .map(|f| (f.hits, f.remaining))
        .collect()
}

/// How many times the client sent `METHOD path`, retries included.
fn sent(client: &Client, call: &str) -> u64 {
    client.calls().get(call).copied().unwrap_or(0)
}

/// The API error of a failed call; anything else fails the test, naming what it was.
fn api_error<T: std::fmt::Debug>(outcome: Result<T, Error>) -> brickstack_databricks::ApiError {
    match outcome {
        Err(Error {
            detail: ErrorDetail::Api(api),
            ..
        }) => api,
        other => panic!("expected an API error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/// A faulted answer: status, body shape, the rule's `error_code` and `message`; then what the
/// client must read: `error_code`, message (`{path}` = the full request path) and kind.
type BodyCase = (
    u16,
    FaultBody,
    Option<&'static str>,
    Option<&'static str>,
    (&'static str, &'static str, ErrorKind),
);

/// Only statuses that are never retried, so each case is exactly one request.
const BODY_CASES: &[BodyCase] = &[
    (
        404,
        FaultBody::Json,
        Some("RESOURCE_DOES_NOT_EXIST"),
        Some("Scope s does not exist"),
        (
            "RESOURCE_DOES_NOT_EXIST",
            "Scope s does not exist",
            ErrorKind::NotFound,
        ),
    ),
    (
        403,
        FaultBody::JsonNumericCode,
        None,
        Some("Invalid access token."),
        (
            "FORBIDDEN",
            "Invalid access token.",
            ErrorKind::PermissionDenied,
        ),
    ),
    (
        404,
        FaultBody::Scim,
        None,
        Some("Group 12 not found"),
        ("SCIM_404", "Group 12 not found", ErrorKind::NotFound),
    ),
    (
        409,
        FaultBody::Scim,
        Some("uniqueness"),
        Some("User alice already exists"),
        (
            "SCIM_409",
            "uniqueness User alice already exists",
            ErrorKind::AlreadyExists,
        ),
    ),
    (
        500,
        FaultBody::Html,
        None,
        Some("java.lang.IllegalStateException"),
        (
            "INTERNAL_SERVER_ERROR",
            "java.lang.IllegalStateException",
            ErrorKind::Other,
        ),
    ),
    (
        502,
        FaultBody::Html,
        None,
        None,
        (
            "BAD_GATEWAY",
            "Injected fault: 502 on {path}",
            ErrorKind::Other,
        ),
    ),
    (
        400,
        FaultBody::Text,
        Some("INVALID_PARAMETER_VALUE"),
        Some("subnet ids must be distinct"),
        (
            "INVALID_PARAMETER_VALUE",
            "subnet ids must be distinct",
            ErrorKind::InvalidInput,
        ),
    ),
    (
        409,
        FaultBody::Text,
        None,
        Some("the name is taken"),
        (
            "RESOURCE_CONFLICT",
            "the name is taken",
            ErrorKind::AlreadyExists,
        ),
    ),
    (
        403,
        FaultBody::Empty,
        None,
        None,
        ("FORBIDDEN", "Forbidden", ErrorKind::PermissionDenied),
    ),
    (
        404,
        FaultBody::Empty,
        None,
        None,
        ("NOT_FOUND", "Not Found", ErrorKind::NotFound),
    ),
];

/// Outcome of one case as `(status, error_code, message, kind, rule hits)`, or a description of
/// whatever else the call returned.
type Read = Result<(u16, String, String, ErrorKind, u64), String>;

/// Runs every case against `GET path` (`full_path` as the emulator sees it) and compares all
/// outcomes at once.
async fn check_bodies(emulator: &DatabricksEmulator, client: &Client, path: &str, full_path: &str) {
    let mut actual: Vec<Read> = Vec::new();
    let mut expected: Vec<Read> = Vec::new();
    for &(status, body, code, message, (want_code, want_message, want_kind)) in BODY_CASES {
        emulator.clear_faults();
        emulator
            .add_faults(vec![FaultRule {
                body: Some(body),
                error_code: code.map(str::to_string),
                message: message.map(str::to_string),
                ..FaultRule::status(full_path, status)
            }])
            .unwrap();
        let outcome = client.get::<Value>(path, &[]).await;
        let hits = emulator.faults()[0].hits;
        actual.push(match outcome {
            Err(e) => match (&e.detail, e.method.as_str(), e.path.as_str()) {
                (ErrorDetail::Api(api), "GET", p) if p == path => Ok((
                    api.status,
                    api.error_code.clone(),
                    api.message.clone(),
                    e.kind(),
                    hits,
                )),
                _ => Err(format!("{body:?} {status}: {e:?}")),
            },
            Ok(v) => Err(format!("{body:?} {status}: succeeded with {v}")),
        });
        expected.push(Ok((
            status,
            want_code.to_string(),
            want_message.replace("{path}", full_path),
            want_kind,
            1,
        )));
    }
    emulator.clear_faults();
    assert_eq!(actual, expected, "GET {full_path}");
}

#[tokio::test]
async fn every_error_body_parses_to_its_api_error_on_a_workspace_and_the_account() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    check_bodies(
        &ws.emulator,
        workspace.client(),
        SCOPES,
        &in_workspace(&ws, SCOPES),
    )
    .await;

    let account = account_client(&ws.emulator, ws.account.account_id());
    let credentials = format!("/api/2.0/accounts/{}/credentials", account.account_id());
    check_bodies(&ws.emulator, account.client(), &credentials, &credentials).await;
}

#[tokio::test]
async fn a_login_page_answered_with_200_is_not_json_and_points_at_the_credentials() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    let account = account_client(&ws.emulator, ws.account.account_id());
    let login_page = |path: String| FaultRule {
        status: None,
        body: Some(FaultBody::LoginPage),
        ..FaultRule::status(path, 200)
    };
    ws.emulator
        .add_faults(vec![
            login_page(in_workspace(&ws, SCOPES)),
            login_page(format!(
                "/api/2.0/accounts/{}/credentials",
                account.account_id()
            )),
        ])
        .unwrap();

    let errors = [
        workspace.list_secret_scopes().await.map(|_| ()),
        account.list_credentials().await.map(|_| ()),
    ];

    for outcome in errors {
        let e = outcome.expect_err("a login page is not a list");
        match &e.detail {
            ErrorDetail::NotJson {
                status,
                content_type,
                snippet,
            } => {
                assert_eq!(*status, 200);
                assert_eq!(content_type, "text/html; charset=utf-8");
                assert!(snippet.contains("Databricks - Sign In"), "{snippet}");
            }
            other => panic!("expected NotJson, got {other:?}"),
        }
        assert!(
            e.to_string().contains("the credentials were not accepted"),
            "{e}"
        );
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        assert_eq!(e.code(), "NOT_JSON");
        assert_eq!(ProviderError::from(e).class, ErrorClass::Fatal);
    }
    // Each answered once: a login page is not worth asking again.
    assert_eq!(served(&ws.emulator), [(1, Some(0)), (1, Some(0))]);
}

// ---------------------------------------------------------------------------------------------
// What is retried, and how long the client waits
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn throttling_and_unavailability_are_retried_after_the_backoff_until_the_call_succeeds() {
    let ws = EmulatorWorkspace::start().await;
    // Waits of 100 ms then 150 ms (linear, capped); no answer carries `Retry-After`.
    let retry = RetryPolicy {
        base: ms(100),
        max_backoff: ms(150),
        ..policy(Duration::from_secs(5), ms(100))
    };
    let workspace = workspace_client(&ws, retry.clone());
    let account =
        AccountClient::new(&ws.emulator.url(), ws.account.account_id(), oauth(), retry).unwrap();
    let scope = unique_name("scope");
    workspace.create_secret_scope(&scope).await.unwrap();
    let credential = account
        .create_credential(&unique_name("creds"), ROLE)
        .await
        .unwrap();
    let credential_path = format!(
        "/api/2.0/accounts/{}/credentials/{}",
        account.account_id(),
        credential.credentials_id
    );
    ws.emulator
        .add_faults(vec![
            FaultRule {
                times: Some(2),
                ..FaultRule::status(in_workspace(&ws, SCOPES), 429)
            },
            FaultRule {
                times: Some(2),
                ..FaultRule::status(&credential_path, 503)
            },
        ])
        .unwrap();

    let started = Instant::now();
    let scopes = workspace.list_secret_scopes().await.unwrap();
    let throttled = started.elapsed();
    let started = Instant::now();
    let found = account
        .get_credential(&credential.credentials_id)
        .await
        .unwrap();
    let unavailable = started.elapsed();

    assert_eq!(
        scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        [scope.as_str()]
    );
    assert_eq!(found, Some(credential));
    assert_eq!(served(&ws.emulator), [(2, Some(0)), (2, Some(0))]);
    assert_eq!(sent(workspace.client(), &format!("GET {SCOPES}")), 3);
    assert_eq!(sent(account.client(), &format!("GET {credential_path}")), 3);
    for elapsed in [throttled, unavailable] {
        assert!(
            elapsed >= ms(250) && elapsed < ms(1000),
            "100 ms + 150 ms of backoff, and no 1 s Retry-After assumed: {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn retry_after_is_waited_even_when_the_backoff_is_tiny() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, policy(Duration::from_secs(5), ms(1)));
    ws.emulator
        .add_faults(vec![FaultRule {
            retry_after_seconds: Some(1),
            ..FaultRule::status(in_workspace(&ws, SCOPES), 429)
        }])
        .unwrap();

    let started = Instant::now();
    let scopes = workspace.list_secret_scopes().await.unwrap();
    let elapsed = started.elapsed();

    assert!(scopes.is_empty(), "{scopes:?}");
    assert_eq!(served(&ws.emulator), [(1, Some(0))]);
    assert_eq!(sent(workspace.client(), &format!("GET {SCOPES}")), 2);
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn server_errors_and_refusals_are_not_retried() {
    let ws = EmulatorWorkspace::start().await;
    let full_path = in_workspace(&ws, SCOPES);
    for (status, code, kind) in [
        (500, "INTERNAL_ERROR", ErrorKind::Other),
        (502, "BAD_GATEWAY", ErrorKind::Other),
        (400, "INVALID_PARAMETER_VALUE", ErrorKind::InvalidInput),
        (404, "RESOURCE_DOES_NOT_EXIST", ErrorKind::NotFound),
    ] {
        // A fresh client per status, so its call count is this status's alone.
        let workspace = workspace_client(&ws, fast());
        ws.emulator.clear_faults();
        // Three answers in store: a retry would meet the fault again and show in `hits`.
        ws.emulator
            .add_faults(vec![FaultRule {
                times: Some(3),
                ..FaultRule::status(&full_path, status)
            }])
            .unwrap();
        let api = api_error(workspace.list_secret_scopes().await);
        let outcome = (
            api.status,
            api.error_code.as_str(),
            api.kind(),
            served(&ws.emulator),
            sent(workspace.client(), &format!("GET {SCOPES}")),
        );
        assert_eq!(
            outcome,
            (status, code, kind, vec![(1, Some(2))], 1),
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_500_with_a_transient_message_is_retried() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    ws.emulator
        .add_faults(vec![FaultRule {
            error_code: Some("INTERNAL_ERROR".into()),
            message: Some("RPC token bucket limit has been exceeded".into()),
            ..FaultRule::status(in_workspace(&ws, SCOPES), 500)
        }])
        .unwrap();

    let scopes = workspace.list_secret_scopes().await.unwrap();
    assert!(scopes.is_empty(), "{scopes:?}");
    assert_eq!(served(&ws.emulator), [(1, Some(0))]);
    assert_eq!(sent(workspace.client(), &format!("GET {SCOPES}")), 2);
}

#[tokio::test]
async fn a_cluster_answered_400_does_not_exist_reads_as_none() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    ws.emulator
        .add_faults(vec![FaultRule {
            error_code: Some("INVALID_PARAMETER_VALUE".into()),
            message: Some("Cluster 0123-456789-abcdefgh does not exist".into()),
            times: Some(3),
            ..FaultRule::status(in_workspace(&ws, "/api/2.1/clusters/get"), 400)
        }])
        .unwrap();

    let cluster = workspace.get_cluster("0123-456789-abcdefgh").await.unwrap();

    assert_eq!(cluster, None);
    assert_eq!(served(&ws.emulator), [(1, Some(2))]);
}

// ---------------------------------------------------------------------------------------------
// The retry budget
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_persistent_503_exhausts_the_budget_and_stays_retryable() {
    let ws = EmulatorWorkspace::start().await;
    // Attempts at about 0, 100 and 200 ms; a third wait would end at 300 ms, past the budget.
    // (Exact while one local request takes under 25 ms.)
    let workspace = workspace_client(&ws, policy(ms(250), ms(100)));
    let full_path = in_workspace(&ws, SCOPES);
    ws.emulator
        .add_faults(vec![FaultRule {
            times: Some(0),
            ..FaultRule::status(&full_path, 503)
        }])
        .unwrap();

    let started = Instant::now();
    let e = workspace.list_secret_scopes().await.unwrap_err();
    let elapsed = started.elapsed();

    let ErrorDetail::RetriesExhausted {
        attempts,
        elapsed_seconds,
        last,
    } = &e.detail
    else {
        panic!("expected RetriesExhausted, got {e:?}");
    };
    assert_eq!((*attempts, *elapsed_seconds), (3, 0));
    let ErrorDetail::Api(api) = last.as_ref() else {
        panic!("expected the last API error, got {last:?}");
    };
    let message = format!("Injected fault: 503 on {full_path}");
    assert_eq!(
        (api.status, api.error_code.as_str(), api.message.as_str()),
        (503, "TEMPORARILY_UNAVAILABLE", message.as_str())
    );
    assert_eq!(e.api(), Some(api));
    assert_eq!(
        e.to_string(),
        format!(
            "GET {SCOPES}: gave up after 3 attempts in 0s; last error: 503 TEMPORARILY_UNAVAILABLE: {message}"
        )
    );
    assert_eq!(served(&ws.emulator), [(3, None)]);
    assert!(elapsed >= ms(200) && elapsed < ms(1000), "{elapsed:?}");
    assert_eq!(e.kind(), ErrorKind::Transient);
    let p = ProviderError::from(e);
    assert_eq!(
        (p.class, p.code.as_str()),
        (
            ErrorClass::Retryable { after: None },
            "TEMPORARILY_UNAVAILABLE"
        )
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once_and_keeps_the_wait() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, policy(ms(250), ms(10)));
    ws.emulator
        .add_faults(vec![FaultRule {
            retry_after_seconds: Some(1),
            times: Some(0),
            ..FaultRule::status(in_workspace(&ws, SCOPES), 429)
        }])
        .unwrap();

    let started = Instant::now();
    let e = workspace.list_secret_scopes().await.unwrap_err();
    let elapsed = started.elapsed();

    let api = e
        .api()
        .expect("the 429 itself, not a retry summary")
        .clone();
    assert!(matches!(e.detail, ErrorDetail::Api(_)), "{e:?}");
    assert_eq!(
        (api.status, api.error_code.as_str(), api.retry_after),
        (429, "REQUEST_LIMIT_EXCEEDED", Some(Duration::from_secs(1)))
    );
    assert_eq!(served(&ws.emulator), [(1, None)]);
    assert!(
        elapsed < ms(1000),
        "did not wait for Retry-After: {elapsed:?}"
    );
    // The caller (the executor) learns how long to wait.
    assert_eq!(
        ProviderError::from(e).class,
        ErrorClass::Retryable {
            after: Some(Duration::from_secs(1))
        }
    );
}

#[tokio::test]
async fn random_faults_do_not_fail_a_sequence_of_reads() {
    const SEED: u64 = 7;
    const READS: usize = 16;
    let ws = EmulatorWorkspace::start_with(DatabricksEmulatorConfig {
        fault_seed: SEED,
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let workspace = workspace_client(&ws, fast());
    let scope = unique_name("scope");
    workspace.create_secret_scope(&scope).await.unwrap();
    ws.emulator
        .add_faults(vec![FaultRule {
            times: Some(0),
            probability: Some(0.5),
            ..FaultRule::status(in_workspace(&ws, SCOPES), 503)
        }])
        .unwrap();
    // The emulator draws once per matching request from `Rng::with_seed(SEED)`, faulting below
    // 0.5; every fault is one more request of the same read.
    let mut rng = fastrand::Rng::with_seed(SEED);
    let faulted: u64 = (0..READS)
        .map(|_| std::iter::from_fn(|| (rng.f64() < 0.5).then_some(())).count() as u64)
        .sum();
    assert!(
        faulted >= 3,
        "seed {SEED} faults too little to test: {faulted}"
    );

    for _ in 0..READS {
        let scopes = workspace.list_secret_scopes().await.unwrap();
        assert_eq!(
            scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            [scope.as_str()]
        );
    }

    assert_eq!(served(&ws.emulator), [(faulted, None)]);
    assert_eq!(
        sent(workspace.client(), &format!("GET {SCOPES}")),
        READS as u64 + faulted
    );
}

#[tokio::test]
async fn latency_alone_does_not_fail_a_call() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    ws.emulator
        .add_faults(vec![FaultRule {
            status: None,
            latency_ms: Some(300),
            ..FaultRule::status(in_workspace(&ws, SCOPES), 200)
        }])
        .unwrap();

    let started = Instant::now();
    let scopes = workspace.list_secret_scopes().await.unwrap();
    let elapsed = started.elapsed();

    assert!(scopes.is_empty(), "{scopes:?}");
    assert_eq!(served(&ws.emulator), [(1, Some(0))]);
    assert_eq!(sent(workspace.client(), &format!("GET {SCOPES}")), 1);
    assert!(elapsed >= ms(300), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// OAuth machine-to-machine tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_expired_token_is_refused_then_fetched_again_once() {
    let lifetime = Duration::from_secs(120);
    let ws = EmulatorWorkspace::start_with(DatabricksEmulatorConfig {
        token_lifetime: lifetime,
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let workspace = workspace_client(&ws, fast());
    ws.emulator
        .add_faults(vec![
            counter(&in_workspace(&ws, "/oidc/v1/token")),
            counter(&in_workspace(&ws, SCOPES)),
        ])
        .unwrap();
    workspace.list_secret_scopes().await.unwrap();
    assert_eq!(served(&ws.emulator), [(1, None), (1, None)]);

    // The client's cache still holds the token (refreshed after 60 s of *its* time); the
    // emulator's clock says it has expired.
    ws.emulator.advance_clock(lifetime + Duration::from_secs(1));
    let scopes = workspace.list_secret_scopes().await.unwrap();

    assert!(scopes.is_empty(), "{scopes:?}");
    // One new token; the read sent twice: refused (401), then accepted.
    assert_eq!(served(&ws.emulator), [(2, None), (3, None)]);
    assert_eq!(sent(workspace.client(), &format!("GET {SCOPES}")), 3);
}

#[tokio::test]
async fn a_token_refused_again_is_fetched_only_once() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    ws.emulator
        .add_faults(vec![
            counter(&in_workspace(&ws, "/oidc/v1/token")),
            FaultRule {
                times: Some(0),
                ..FaultRule::status(in_workspace(&ws, SCOPES), 401)
            },
        ])
        .unwrap();

    let e = workspace.list_secret_scopes().await.unwrap_err();

    let api = e.api().expect("the last 401");
    assert_eq!(
        (api.status, api.error_code.as_str(), api.kind()),
        (401, "UNAUTHENTICATED", ErrorKind::Unauthenticated)
    );
    // One token at the first attempt, one more after the 401; no third.
    assert_eq!(served(&ws.emulator), [(2, None), (2, None)]);
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_retried() {
    let emulator = DatabricksEmulator::start().await.unwrap();
    let account_id = unique_account_id();
    let account = account_client(&emulator, &account_id);
    let token_path = format!("/oidc/accounts/{account_id}/v1/token");
    emulator
        .add_faults(vec![
            FaultRule::status(&token_path, 429),
            counter(&token_path),
        ])
        .unwrap();

    let credentials = account.list_credentials().await.unwrap();
    assert!(credentials.is_empty(), "{credentials:?}");
    assert_eq!(served(&emulator), [(1, Some(0)), (1, None)]);
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_auth_error_that_does_not_show_the_secret() {
    const SECRET: &str = "wrong-secret-5f3a9c";
    let emulator = DatabricksEmulator::start().await.unwrap();
    let account_id = unique_account_id();
    let account = AccountClient::new(
        &emulator.url(),
        &account_id,
        Credentials::OAuthM2m {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: SecretValue::new(SECRET),
        },
        fast(),
    )
    .unwrap();
    let token_path = format!("/oidc/accounts/{account_id}/v1/token");
    emulator
        .add_faults(vec![
            counter(&token_path),
            counter(&format!("/api/2.0/accounts/{account_id}/")),
        ])
        .unwrap();

    let e = account.list_credentials().await.unwrap_err();

    let ErrorDetail::Auth(reason) = &e.detail else {
        panic!("expected an Auth error, got {e:?}");
    };
    assert_eq!(
        reason,
        &format!(
            "the token endpoint `{}{token_path}` answered 401 UNAUTHORIZED: invalid_client: Client authentication failed",
            emulator.url()
        )
    );
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    let p = ProviderError::from(e);
    assert!(!p.message.contains(SECRET), "{}", p.message);
    assert_eq!(
        (p.class, p.code.as_str()),
        (ErrorClass::Fatal, "AUTHENTICATION")
    );
    // Asked for a token once; no API call went out without one.
    assert_eq!(served(&emulator), [(1, None), (0, None)]);
}

// ---------------------------------------------------------------------------------------------
// Creates are not idempotent
// ---------------------------------------------------------------------------------------------

/// What `FakeThings` answers to a create, in order; once the script is used up, creates succeed.
#[derive(Debug, Clone, Copy)]
enum Post {
    /// Answers `status` without making the object.
    Fail(u16),
    /// Makes the object, then answers `status` with `message` (the answer that was "lost").
    MakeThenFail(u16, &'static str),
}

/// A few lines of API: `POST /api/2.0/things` makes `{"id", "name"}`, `GET /api/2.0/things`
/// lists them; it counts both.
#[derive(Default)]
struct FakeThings {
    made: Vec<Value>,
    posts: u32,
    lists: u32,
    script: VecDeque<Post>,
}

type Fake = Arc<Mutex<FakeThings>>;

impl FakeThings {
    fn make(&mut self, body: &Value) -> Value {
        let thing = json!({ "id": self.made.len() + 1, "name": body["name"] });
        self.made.push(thing.clone());
        thing
    }
}

fn lock(fake: &Fake) -> std::sync::MutexGuard<'_, FakeThings> {
    fake.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn post_thing(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    let mut things = lock(&fake);
    things.posts += 1;
    let (status, message) = match things.script.pop_front() {
        None => return Json(things.make(&body)).into_response(),
        Some(Post::Fail(status)) => (status, "scripted failure"),
        Some(Post::MakeThenFail(status, message)) => {
            things.make(&body);
            (status, message)
        }
    };
    let code = match status {
        400 => "INVALID_PARAMETER_VALUE",
        429 => "REQUEST_LIMIT_EXCEEDED",
        503 => "TEMPORARILY_UNAVAILABLE",
        _ => "INTERNAL_ERROR",
    };
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({ "error_code": code, "message": message })),
    )
        .into_response()
}

async fn list_things(State(fake): State<Fake>) -> Json<Value> {
    let mut things = lock(&fake);
    things.lists += 1;
    Json(json!({ "things": things.made }))
}

/// Serves `FakeThings` with `script`; a PAT client of it with `retry`.
async fn fake_things(script: &[Post], retry: RetryPolicy) -> (Fake, Client) {
    let fake: Fake = Arc::new(Mutex::new(FakeThings {
        script: script.iter().copied().collect(),
        ..FakeThings::default()
    }));
    let router = axum::Router::new()
        .route("/api/2.0/things", post(post_thing).get(list_things))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Client::new(
        &url,
        Credentials::Pat(SecretValue::new("dev")),
        format!("{url}/no-token-endpoint"),
        retry,
    )
    .unwrap();
    (fake, client)
}

/// Creates the thing `name`; a lost answer is looked up by name.
async fn create_thing(client: &Client, name: &str) -> Result<Value, Error> {
    client
        .create("/api/2.0/things", &json!({ "name": name }), || async {
            let list: Value = client.get("/api/2.0/things", &[]).await?;
            Ok(list["things"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["name"] == name)
                .cloned())
        })
        .await
}

/// `(posts, lists, things made)` so far.
fn counts(fake: &Fake) -> (u32, u32, usize) {
    let things = lock(fake);
    (things.posts, things.lists, things.made.len())
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_not_sent_again() {
    for lost in [
        Post::MakeThenFail(500, "Internal error"),
        Post::MakeThenFail(502, "Bad gateway"),
    ] {
        let (fake, client) = fake_things(&[lost], fast()).await;

        let thing = create_thing(&client, "a").await.unwrap();

        assert_eq!(thing, json!({ "id": 1, "name": "a" }), "{lost:?}");
        assert_eq!(counts(&fake), (1, 1, 1), "{lost:?}");
    }
}

#[tokio::test]
async fn a_create_that_made_nothing_is_sent_again_after_the_lookup() {
    let (fake, client) = fake_things(&[Post::Fail(500)], fast()).await;

    let thing = create_thing(&client, "a").await.unwrap();

    assert_eq!(thing, json!({ "id": 1, "name": "a" }));
    assert_eq!(counts(&fake), (2, 1, 1));
}

#[tokio::test]
async fn a_refused_create_is_sent_again_without_a_lookup() {
    for refused in [Post::Fail(429), Post::Fail(503)] {
        let (fake, client) = fake_things(&[refused, refused], fast()).await;

        let thing = create_thing(&client, "a").await.unwrap();

        assert_eq!(thing, json!({ "id": 1, "name": "a" }), "{refused:?}");
        assert_eq!(counts(&fake), (3, 0, 1), "{refused:?}");
    }
}

#[tokio::test]
async fn a_rejected_create_is_neither_looked_up_nor_sent_again() {
    let (fake, client) = fake_things(&[Post::Fail(400)], fast()).await;

    let api = api_error(create_thing(&client, "a").await);

    assert_eq!(
        (api.status, api.error_code.as_str(), api.kind()),
        (400, "INVALID_PARAMETER_VALUE", ErrorKind::InvalidInput)
    );
    assert_eq!(counts(&fake), (1, 0, 0));
}

#[tokio::test]
async fn a_create_that_keeps_failing_gives_up_within_the_budget() {
    // Tries at about 0, 100 and 200 ms, each followed by a lookup that finds nothing.
    let (fake, client) = fake_things(&[Post::Fail(500); 10], policy(ms(250), ms(100))).await;

    let api = api_error(create_thing(&client, "a").await);

    assert_eq!(
        (api.status, api.error_code.as_str()),
        (500, "INTERNAL_ERROR")
    );
    assert_eq!(counts(&fake), (3, 3, 0));
}

#[tokio::test]
async fn creates_against_faults_are_retried_or_looked_up() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    let create = in_workspace(&ws, "/api/2.0/secrets/scopes/create");
    let post = "POST /api/2.0/secrets/scopes/create";
    let list = format!("GET {SCOPES}");

    // Throttled: refused, so simply sent again.
    ws.emulator
        .add_faults(vec![FaultRule::status(&create, 429)])
        .unwrap();
    workspace.create_secret_scope("throttled").await.unwrap();
    assert_eq!(served(&ws.emulator), [(1, Some(0))]);
    assert_eq!(
        (
            sent(workspace.client(), post),
            sent(workspace.client(), &list)
        ),
        (2, 0)
    );

    // A 500 (which the fault answered before the emulator made anything): looked up, not
    // found, sent again.
    ws.emulator.clear_faults();
    ws.emulator
        .add_faults(vec![FaultRule::status(&create, 500)])
        .unwrap();
    workspace.create_secret_scope("failed").await.unwrap();
    assert_eq!(served(&ws.emulator), [(1, Some(0))]);
    assert_eq!(
        (
            sent(workspace.client(), post),
            sent(workspace.client(), &list)
        ),
        (4, 1)
    );

    let mut names: Vec<_> = workspace
        .list_secret_scopes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    assert_eq!(names, ["failed", "throttled"]);
}

// ---------------------------------------------------------------------------------------------
// What comes after a retried attempt keeps its own meaning (each of these was a bug once)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_missing_cluster_after_a_throttled_attempt_still_reads_as_none() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    // Throttled once, then the emulator's own answer: `400 INVALID_PARAMETER_VALUE "Cluster …
    // does not exist"`.
    ws.emulator
        .add_faults(vec![FaultRule::status(
            in_workspace(&ws, "/api/2.1/clusters/get"),
            429,
        )])
        .unwrap();

    let cluster = workspace.get_cluster("0123-456789-abcdefgh").await;

    assert_eq!(served(&ws.emulator), [(1, Some(0))]);
    assert_eq!(cluster.unwrap(), None);
}

#[tokio::test]
async fn a_create_lost_after_a_throttled_attempt_is_looked_up() {
    let (fake, client) = fake_things(
        &[Post::Fail(429), Post::MakeThenFail(500, "Internal error")],
        fast(),
    )
    .await;

    let thing = create_thing(&client, "a").await;

    assert_eq!(thing.unwrap(), json!({ "id": 1, "name": "a" }));
    assert_eq!(counts(&fake), (2, 1, 1));
}

#[tokio::test]
async fn a_create_answered_with_a_transient_looking_500_is_looked_up_not_sent_again() {
    let (fake, client) = fake_things(
        &[Post::MakeThenFail(500, "Timed out after 30000 ms")],
        fast(),
    )
    .await;

    let thing = create_thing(&client, "a").await.unwrap();

    // Today: a second POST makes a duplicate `{"id": 2, "name": "a"}`, and no lookup is made.
    assert_eq!(thing, json!({ "id": 1, "name": "a" }));
    assert_eq!(counts(&fake), (1, 1, 1));
}

#[tokio::test]
async fn a_token_refused_after_a_fresh_fetch_is_an_authentication_error() {
    let ws = EmulatorWorkspace::start().await;
    let workspace = workspace_client(&ws, fast());
    ws.emulator
        .add_faults(vec![FaultRule {
            times: Some(0),
            ..FaultRule::status(in_workspace(&ws, SCOPES), 401)
        }])
        .unwrap();

    let e = workspace.list_secret_scopes().await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert_eq!(ProviderError::from(e).class, ErrorClass::Fatal);
}
