//! The monitor's status page as a browser reads it: served on loopback, its DOM (as Chromium
//! parsed it) has every row with its `data-*` attributes and no hostile markup, and a screenshot
//! lands in `target/test-artifacts/status-page.png` for people to look at.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use brickstack_monitor::{
    BreakerRow, ClusterHealth, ClusterRow, RecoveryRow, StatusView, TicketRow, WorkspaceView,
    render_status_page,
};
use brickstack_testkit::browser::{artifacts_dir, require_chromium};

/// 2026-12-07T10:00:00Z.
const AT: i64 = 1_796_637_600_000;

fn view() -> StatusView {
    let cluster = |id: &str, name: &str, state: &str, health| ClusterRow {
        cluster_id: id.into(),
        cluster_name: name.into(),
        state: state.into(),
        health,
        termination_code: (state == "TERMINATED").then(|| "DRIVER_UNREACHABLE".into()),
        remediable: true,
    };
    StatusView {
        environment: "prod".into(),
        generated_at_ms: AT,
        active: true,
        leader: Some("host-a:7300".into()),
        auto_remediation: true,
        last_poll_ms: Some(AT - 5_000),
        workspaces: vec![WorkspaceView {
            workspace_id: 1001,
            name: "prod-eu".into(),
            poll_error: None,
            clusters: vec![
                cluster("0101-a", "etl", "RUNNING", ClusterHealth::Healthy),
                cluster("0101-b", "ml", "RESTARTING", ClusterHealth::Recovering),
                cluster(
                    "0101-c",
                    "<img src=x onerror=alert(1)>",
                    "TERMINATED",
                    ClusterHealth::Failed,
                ),
            ],
            open_tickets: vec![TicketRow {
                ticket_id: "RCA-20261207-003".into(),
                cluster_id: "0101-b".into(),
                cluster_name: "ml".into(),
                error_type: "DatabricksDriverNotResponding".into(),
                code: "DRIVER_UNREACHABLE".into(),
                status: "in_progress".into(),
                actions: vec!["restart_cluster".into()],
                opened_at_ms: AT - 60_000,
                note: None,
            }],
        }],
        breakers: vec![BreakerRow {
            scope: "cluster:1001/0101-c".into(),
            state: "half_open".into(),
            failures: 3,
            opened_at_ms: AT - 1_000_000,
            retry_at_ms: AT - 100_000,
        }],
        recent_recoveries: vec![RecoveryRow {
            ticket_id: "RCA-20261207-001".into(),
            workspace: "prod-eu".into(),
            cluster_name: "etl".into(),
            error_type: "DatabricksClusterTerminated".into(),
            actions: vec!["start_cluster".into()],
            outcome: "closed".into(),
            detected_at_ms: AT - 500_000,
            finished_at_ms: AT - 458_000,
            duration_ms: 42_000,
        }],
    }
}

#[tokio::test]
async fn the_status_page_reads_in_a_browser_and_is_screenshot() {
    let Some(chromium) = require_chromium("the_status_page_reads_in_a_browser_and_is_screenshot")
    else {
        return;
    };
    let page = render_status_page(&view(), 30);
    let app = Router::new().route("/", get(move || async move { Html(page) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dom = chromium
        .dump_dom(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}\nhint: {}", e.hint()));
    for needle in [
        r#"<dd id="role" data-role="active">"#,
        r#"<tr data-cluster="0101-a" data-health="healthy" data-state="RUNNING">"#,
        r#"<tr data-cluster="0101-b" data-health="recovering" data-state="RESTARTING">"#,
        r#"<tr data-cluster="0101-c" data-health="failed" data-state="TERMINATED">"#,
        r#"<tr data-ticket="RCA-20261207-003" data-status="in_progress" data-cluster="0101-b">"#,
        r#"<tr data-breaker="cluster:1001/0101-c" data-state="half_open">"#,
        r#"<tr data-ticket="RCA-20261207-001" data-outcome="closed" data-duration-ms="42000">"#,
        r#"<td class="duration">42 s</td>"#,
        "&lt;img src=x onerror=alert(1)&gt;",
    ] {
        assert!(
            dom.contains(needle),
            "`{needle}` missing from the DOM:\n{dom}"
        );
    }
    assert!(
        !dom.contains("<img"),
        "markup from a cluster name became an element"
    );
    assert!(!dom.contains("<script"), "the page has no script");

    let png = artifacts_dir().unwrap().join("status-page.png");
    chromium
        .screenshot(&url, &png, 1280, 900)
        .await
        .unwrap_or_else(|e| panic!("{e}\nhint: {}", e.hint()));
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "a page, not a blank"
    );
}
