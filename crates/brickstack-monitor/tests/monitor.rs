//! The monitor against the in-memory Databricks: detection, decisions, recoveries, breakers,
//! resume after a crash, leadership, the report.

mod common;

use std::time::Duration;

use brickstack_monitor::{AlertKind, Leadership, SpecChange, audit_records, report};
use common::*;
use time::OffsetDateTime;
use tokio::sync::watch;

#[tokio::test]
async fn a_driver_failure_seen_by_one_poll_is_restarted_health_checked_and_closed() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    s.clusters.with(WS, "c1", |c| c.libraries_pending_calls = 2);
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");

    let summary = s.monitor.poll().await.unwrap();
    assert_eq!(
        (summary.workspaces, summary.clusters, summary.failures),
        (1, 1, 1)
    );
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);

    let tickets = settled(&s).await;
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    assert!(
        t.ticket_id.starts_with("RCA-") && t.ticket_id.ends_with("-001"),
        "{}",
        t.ticket_id
    );
    assert_eq!(t.error_type, "DatabricksDriverNotResponding");
    assert_eq!(t.code, "DRIVER_UNREACHABLE");
    assert_eq!(t.status, "closed");
    assert!(t.recovered);
    assert_eq!(action_names(t), ["start_cluster"]);
    assert_eq!(t.actions[0].detail, "clusters/start");
    assert_eq!(t.actions[0].outcome.as_deref(), Some("ok"));
    assert!(t.actions[0].sent_at_ms.is_some());
    assert_eq!(s.clusters.with(WS, "c1", |c| c.starts_applied), 1);
    assert_eq!(
        s.clusters.with(WS, "c1", |c| c.cluster.state.clone()),
        "RUNNING"
    );
    // The health check waited for the libraries.
    assert!(s.clusters.calls("libraries") >= 3);
    assert_eq!(
        s.alerts.kinds(),
        [
            (AlertKind::TicketOpened, Some(t.ticket_id.clone())),
            (AlertKind::Recovered, Some(t.ticket_id.clone())),
        ]
    );
    let opened = &s.alerts.sent()[0].text;
    assert!(
        opened.contains("c1-name") && opened.contains("DRIVER_UNREACHABLE"),
        "{opened}"
    );

    // The next poll reads the events after the cursor: the same failure is not seen again.
    let again = s.monitor.poll().await.unwrap();
    assert_eq!(again.failures, 0);
    assert_eq!(s.tickets().len(), 1);

    let audit: Vec<String> = audit_records(&s.records())
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    for kind in [
        "ticket_opened",
        "action_intent",
        "action_sent",
        "recovered",
        "alert_sent",
    ] {
        assert!(audit.iter().any(|k| k == kind), "no {kind} in {audit:?}");
    }
}

#[tokio::test]
async fn a_capacity_failure_falls_back_to_on_demand_then_to_the_next_instance_type() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    // The on-demand start fails for capacity too; the next one (r5d.xlarge) comes up.
    s.clusters.with(WS, "c1", |c| {
        c.start_failures.push_back(reason(
            "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
            "CLOUD_FAILURE",
        ))
    });
    s.clusters.terminate(
        WS,
        "c1",
        "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
        "CLOUD_FAILURE",
    );

    s.monitor.poll().await.unwrap();
    let first = settled(&s).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].error_type, "DatabricksResourceExhausted");
    assert_eq!(first[0].status, "failed");
    assert_eq!(
        action_names(&first[0]),
        ["restart_with_fallback:on_demand", "start_cluster"]
    );
    assert!(
        first[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("TERMINATED again"),
        "{:?}",
        first[0].note
    );

    // The failed start is a new failure of the same cluster: the next step of the ladder.
    assert_eq!(s.monitor.poll().await.unwrap().failures, 1);
    let both = settled(&s).await;
    assert_eq!(both.len(), 2);
    let second = &both[1];
    assert_eq!(second.status, "closed");
    assert_eq!(
        action_names(second),
        [
            "restart_with_fallback:node_type=r5d.xlarge",
            "start_cluster"
        ]
    );
    assert_eq!(
        s.clusters.with(WS, "c1", |c| c.spec_changes.clone()),
        [
            SpecChange::OnDemand,
            SpecChange::NodeType("r5d.xlarge".into())
        ]
    );
    assert_eq!(
        s.alerts.kinds().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [
            AlertKind::TicketOpened,
            AlertKind::RecoveryFailed,
            AlertKind::TicketOpened,
            AlertKind::Recovered
        ]
    );
}

#[tokio::test]
async fn expected_terminations_open_no_ticket_and_take_no_action() {
    let s = setup();
    let cases = [
        ("USER_REQUEST", "SUCCESS"),
        ("INACTIVITY", "SUCCESS"),
        ("JOB_FINISHED", "SUCCESS"),
        // A user's request is never remediated, whatever the type says.
        ("USER_REQUEST", "CLIENT_ERROR"),
        // Type SUCCESS wins over a failure code.
        ("DRIVER_UNREACHABLE", "SUCCESS"),
    ];
    for (i, (code, kind)) in cases.iter().enumerate() {
        let id = format!("c{i}");
        s.clusters.add_cluster(WS, &id);
        s.clusters.terminate(WS, &id, code, kind);
    }
    let summary = s.monitor.poll().await.unwrap();
    assert_eq!(summary.failures, 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(s.tickets().is_empty());
    assert_eq!(s.clusters.calls("start") + s.clusters.calls("restart"), 0);
    assert!(s.alerts.sent().is_empty());
    let expected = audit_records(&s.records())
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == "expected_termination")
        .count();
    assert_eq!(expected, cases.len());

    // Terminated clusters whose events were read after they terminated are not read again.
    let reads = s.clusters.calls("events");
    s.monitor.poll().await.unwrap();
    assert_eq!(s.clusters.calls("events"), reads);
    assert_eq!(s.clusters.calls("list"), 2);
}

#[tokio::test]
async fn the_third_failure_in_the_window_opens_the_breaker_gets_a_ticket_and_an_alert_but_no_action()
 {
    let s = setup();
    for id in ["a", "b", "c", "d"] {
        s.clusters.add_cluster(WS, id);
    }
    for id in ["a", "b"] {
        s.clusters
            .terminate(WS, id, "DRIVER_UNREACHABLE", "CLIENT_ERROR");
        s.monitor.poll().await.unwrap();
        settled(&s).await;
    }
    s.clusters
        .terminate(WS, "c", "DRIVER_UNRESPONSIVE", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    s.clusters
        .terminate(WS, "d", "COMMUNICATION_LOST", "CLOUD_FAILURE");
    s.monitor.poll().await.unwrap();

    let tickets = settled(&s).await;
    let statuses: Vec<(&str, &str, Option<&str>)> = tickets
        .iter()
        .map(|t| (t.cluster_id.as_str(), t.status.as_str(), t.hold.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("a", "closed", None),
            ("b", "closed", None),
            ("c", "open", Some("breaker_open")),
            ("d", "open", Some("breaker_open")),
        ]
    );
    assert!(tickets[2].actions.is_empty() && tickets[3].actions.is_empty());
    assert_eq!(s.clusters.calls("start"), 2);
    let third = tickets[2].ticket_id.clone();
    let breaker_alerts: Vec<_> = s
        .alerts
        .kinds()
        .into_iter()
        .filter(|(k, _)| *k == AlertKind::BreakerOpened)
        .collect();
    assert_eq!(
        breaker_alerts,
        [(AlertKind::BreakerOpened, Some(third.clone()))]
    );
    // Every failure has its ticket alert, the breaker's and the fourth's included.
    let opened = s
        .alerts
        .kinds()
        .into_iter()
        .filter(|(k, _)| *k == AlertKind::TicketOpened)
        .count();
    assert_eq!(opened, 4);

    let view = s.monitor.status().unwrap();
    assert_eq!(view.breakers.len(), 1);
    assert_eq!(
        view.breakers[0].scope,
        "error_type:DatabricksDriverNotResponding"
    );
    assert_eq!(view.breakers[0].state, "open");
    assert_eq!(view.breakers[0].failures, 4);

    let figures = report(&s.records(), OffsetDateTime::now_utc()).unwrap();
    assert_eq!(figures.breaker_openings_24h, 1);
}

#[tokio::test]
async fn tickets_outside_scope_of_job_clusters_or_with_remediation_off_are_ticket_only() {
    use brickstack_monitor::Cluster;
    let s = setup();
    s.clusters.add(
        WS,
        Cluster {
            cluster_id: "foreign".into(),
            cluster_name: "someone-elses".into(),
            state: "RUNNING".into(),
            ..Cluster::default()
        },
    );
    s.clusters.add_cluster(WS, "job");
    s.clusters
        .with(WS, "job", |c| c.cluster.cluster_source = Some("JOB".into()));
    s.clusters.add_cluster(WS, "config");
    s.clusters
        .terminate(WS, "foreign", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.clusters
        .terminate(WS, "job", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.clusters
        .terminate(WS, "config", "INIT_SCRIPT_FAILURE", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    let tickets = settled(&s).await;
    let holds: Vec<(&str, &str, Option<&str>)> = tickets
        .iter()
        .map(|t| (t.cluster_id.as_str(), t.status.as_str(), t.hold.as_deref()))
        .collect();
    let mut holds = holds;
    holds.sort();
    assert_eq!(
        holds,
        [
            ("config", "open", Some("playbook_none")),
            ("foreign", "open", Some("out_of_scope")),
            ("job", "open", Some("job_cluster")),
        ]
    );
    assert_eq!(s.clusters.calls("start"), 0);

    // Remediation off: a brickstack cluster's restartable failure is ticket only too.
    let mut off = config();
    off.auto_remediation = false;
    let s = setup_with(off, true);
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    let tickets = settled(&s).await;
    assert_eq!(tickets[0].hold.as_deref(), Some("remediation_off"));
    assert_eq!(s.clusters.calls("start"), 0);

    // A ticket-only cluster someone starts again closes its ticket on the next poll.
    s.clusters
        .with(WS, "c1", |c| c.cluster.state = "RUNNING".into());
    s.monitor.poll().await.unwrap();
    let t = &s.tickets()[0];
    assert_eq!(t.status, "closed");
    assert!(!t.recovered);
}

#[tokio::test]
async fn a_failed_alert_is_audited_and_the_recovery_goes_on() {
    let s = setup();
    s.alerts.fail();
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .terminate(WS, "c1", "SPOT_INSTANCE_TERMINATION", "CLOUD_FAILURE");
    s.monitor.poll().await.unwrap();
    let tickets = settled(&s).await;
    assert_eq!(tickets[0].error_type, "DatabricksClusterTerminated");
    assert_eq!(tickets[0].status, "closed");
    let failed = audit_records(&s.records())
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == "alert_failed")
        .count();
    assert_eq!(failed, 2, "ticket opened and recovered");
}

#[tokio::test]
async fn a_failed_library_fails_the_health_check() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    s.clusters.with(WS, "c1", |c| {
        c.libraries[0].status = "FAILED".into();
        c.libraries[0].messages = vec!["pip: no matching distribution".into()];
    });
    s.clusters
        .terminate(WS, "c1", "INTERNAL_ERROR", "SERVICE_FAULT");
    s.monitor.poll().await.unwrap();
    let t = &settled(&s).await[0];
    assert_eq!(t.error_type, "DatabricksServiceFault");
    assert_eq!(t.status, "failed");
    assert!(
        t.note
            .as_deref()
            .unwrap()
            .contains("pypi:requests==2.32.3 FAILED"),
        "{:?}",
        t.note
    );
    assert_eq!(s.alerts.kinds()[1].0, AlertKind::RecoveryFailed);
}

#[tokio::test]
async fn the_resize_playbook_starts_then_resizes() {
    let mut config = config();
    let mut resize = config.playbooks.base("DatabricksDriverNotResponding");
    resize.action = brickstack_monitor::Action::Resize;
    resize.resize_to = Some(8);
    config.playbooks.set("DRIVER_UNRESPONSIVE", resize);
    let s = setup_with(config, true);
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNRESPONSIVE", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    let t = &settled(&s).await[0];
    assert_eq!(t.status, "closed", "{t:#?}");
    assert_eq!(action_names(t), ["start_cluster", "resize_cluster:8"]);
    assert_eq!(
        s.clusters.with(WS, "c1", |c| c.cluster.num_workers),
        Some(8)
    );
}

/// Runs a monitor's loop; returns the stop switch and the loop's task.
fn run(monitor: std::sync::Arc<TestMonitor>) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stop_rx) = watch::channel(false);
    (stop, tokio::spawn(monitor.run(stop_rx)))
}

async fn crash_between_intent_and_sent(hang: Hang) {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .with(WS, "c1", |c| c.hang_next_start = Some(hang));
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");

    let (stop, task) = run(s.monitor.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !s.clusters.hung() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the start was never called"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The process dies: the call never returns, the loop and its recoveries are dropped.
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let t = &s.tickets()[0];
    assert_eq!(t.status, "in_progress");
    assert_eq!(t.actions.len(), 1);
    assert!(t.actions[0].sent_at_ms.is_none() && t.actions[0].outcome.is_none());

    // A new process on the same records resumes the recovery.
    let again = s.reopen(config());
    let (stop, task) = run(again);
    let tickets = wait_for(&s.records(), "the resumed recovery", |t| {
        t[0].status == "closed"
    })
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();

    assert_eq!(tickets.len(), 1);
    assert_eq!(
        s.clusters.with(WS, "c1", |c| c.starts_applied),
        1,
        "exactly one start"
    );
    let outcome = tickets[0].actions[0].outcome.clone().unwrap();
    match hang {
        Hang::AfterApply => {
            assert!(
                outcome.starts_with("already applied (STARTING"),
                "{outcome}"
            );
            assert_eq!(s.clusters.calls("start"), 1, "no second call");
        }
        Hang::BeforeApply => {
            assert_eq!(outcome, "ok");
            assert_eq!(
                s.clusters.calls("start"),
                2,
                "the first call never reached the cluster"
            );
        }
    }
}

#[tokio::test]
async fn a_crash_after_the_start_went_through_does_not_start_twice() {
    crash_between_intent_and_sent(Hang::AfterApply).await;
}

#[tokio::test]
async fn a_crash_before_the_start_went_out_sends_it_on_resume() {
    crash_between_intent_and_sent(Hang::BeforeApply).await;
}

#[tokio::test]
async fn a_standby_does_not_poll_and_starts_when_it_becomes_active() {
    let s = setup_with(config(), false);
    s.clusters.add_cluster(WS, "c1");
    let (stop, task) = run(s.monitor.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.clusters.calls("workspaces") + s.clusters.calls("list"), 0);
    assert!(!s.monitor.status().unwrap().active);

    s.leadership
        .send(Leadership {
            active: true,
            leader: Some("replica-b".into()),
        })
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while s.clusters.calls("list") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no poll after activation"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let view = s.monitor.status().unwrap();
    assert!(view.active);
    assert_eq!(view.leader.as_deref(), Some("replica-b"));

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_report_counts_failures_statuses_mttr_and_open_tickets() {
    let s = setup();
    s.clusters.add_cluster(WS, "ok");
    s.clusters.add_cluster(WS, "bad");
    s.clusters
        .terminate(WS, "ok", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.clusters
        .terminate(WS, "bad", "INVALID_ARGUMENT", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    let tickets = settled(&s).await;
    assert_eq!(tickets.len(), 2);

    let now = OffsetDateTime::now_utc();
    let r = report(&s.records(), now).unwrap();
    assert_eq!(r.failures_24h, 2);
    assert_eq!(r.tickets_by_status["closed"], 1);
    assert_eq!(r.tickets_by_status["open"], 1);
    let driver = r
        .error_types
        .iter()
        .find(|f| f.error_type == "DatabricksDriverNotResponding")
        .unwrap();
    assert_eq!(driver.failures_24h, 1);
    let closed = tickets.iter().find(|t| t.status == "closed").unwrap();
    let expected = (closed.finished_at_ms.unwrap() - closed.detected_at_ms) as f64 / 1000.0;
    assert_eq!(driver.mttr_seconds, Some(expected));
    assert_eq!(r.mttr_seconds, Some(expected));
    let config = r
        .error_types
        .iter()
        .find(|f| f.error_type == "DatabricksConfigurationError")
        .unwrap();
    assert_eq!((config.failures_24h, config.mttr_seconds), (1, None));
    assert_eq!(r.open_tickets.len(), 1);
    assert_eq!(r.open_tickets[0].code, "INVALID_ARGUMENT");
    let text = r.render_text();
    assert!(text.contains("DatabricksDriverNotResponding"), "{text}");
    assert!(text.contains(&r.open_tickets[0].ticket_id), "{text}");
    assert!(text.contains("Breaker openings: 0"), "{text}");

    // No records: a clear error, and nothing is created.
    let missing = s.dir.path().join("state/prod.monitor.sqlite");
    let error = report(&missing, now).unwrap_err().to_string();
    assert!(error.contains("no monitor records at"), "{error}");
    assert!(!missing.exists());

    // Two days later the failures are out of the window; the open ticket is still open.
    let later = report(&s.records(), now + time::Duration::days(2)).unwrap();
    assert_eq!(later.failures_24h, 0);
    assert_eq!(later.mttr_seconds, None);
    assert_eq!(later.open_tickets.len(), 1);
}

#[tokio::test]
async fn metrics_carry_the_figures() {
    let s = setup();
    let mut registry = prometheus_client::registry::Registry::default();
    s.monitor.register_metrics(&mut registry);
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.monitor.poll().await.unwrap();
    settled(&s).await;
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        "brickstack_monitor_failures_24h{error_type=\"DatabricksDriverNotResponding\"} 1",
        "brickstack_monitor_open_tickets 0",
        "brickstack_monitor_breaker_openings_24h 0",
        "brickstack_monitor_polls_total 1",
        "brickstack_monitor_actions_total{action=\"start\"} 1",
        "brickstack_monitor_active 1",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    assert!(
        text.contains("brickstack_monitor_mttr_seconds_24h"),
        "{text}"
    );
}

#[tokio::test]
async fn after_the_cooldown_one_trial_runs_and_its_recovery_closes_the_breaker() {
    let mut config = config();
    config.breaker = brickstack_monitor::BreakerConfig {
        threshold: 2,
        window: Duration::from_secs(3600),
        cooldown: Duration::from_millis(300),
    };
    let s = setup_with(config, true);
    for id in ["a", "b", "c"] {
        s.clusters.add_cluster(WS, id);
    }
    s.clusters
        .terminate(WS, "a", "CLOUD_PROVIDER_SHUTDOWN", "CLOUD_FAILURE");
    s.monitor.poll().await.unwrap();
    settled(&s).await;
    s.clusters
        .terminate(WS, "b", "CLOUD_PROVIDER_SHUTDOWN", "CLOUD_FAILURE");
    s.monitor.poll().await.unwrap();
    settled(&s).await;
    let view = s.monitor.status().unwrap();
    assert_eq!(view.breakers.len(), 1);
    assert_eq!(view.breakers[0].state, "open");

    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(s.monitor.status().unwrap().breakers[0].state, "half_open");
    s.clusters
        .terminate(WS, "c", "CLOUD_PROVIDER_SHUTDOWN", "CLOUD_FAILURE");
    s.monitor.poll().await.unwrap();
    let tickets = settled(&s).await;
    let outcomes: Vec<(&str, &str)> = tickets
        .iter()
        .map(|t| (t.cluster_id.as_str(), t.status.as_str()))
        .collect();
    assert_eq!(outcomes, [("a", "closed"), ("b", "open"), ("c", "closed")]);
    assert!(
        s.monitor.status().unwrap().breakers.is_empty(),
        "the trial's recovery closed it"
    );
}

#[tokio::test]
async fn losing_the_lease_stops_recoveries_and_the_next_activation_resumes_them() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    // The libraries stay pending a long while: the recovery is in its health check.
    s.clusters
        .with(WS, "c1", |c| c.libraries_pending_calls = u32::MAX);
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    let (stop, task) = run(s.monitor.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.clusters.calls("libraries") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no health check");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    s.leadership
        .send(Leadership {
            active: false,
            leader: Some("replica-b".into()),
        })
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while s.monitor.recoveries_running() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the recovery kept running"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let reads = s.clusters.calls("libraries");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        s.clusters.calls("libraries"),
        reads,
        "a standby does not act"
    );
    assert_eq!(s.tickets()[0].status, "in_progress");

    // Active again: the recovery resumes (no second start) and finishes.
    s.clusters.with(WS, "c1", |c| c.libraries_pending_calls = 0);
    s.leadership
        .send(Leadership {
            active: true,
            leader: Some("replica-a".into()),
        })
        .unwrap();
    let tickets = wait_for(&s.records(), "the resumed recovery", |t| {
        t[0].status == "closed"
    })
    .await;
    assert_eq!(tickets[0].actions.len(), 1);
    assert_eq!(s.clusters.calls("start"), 1);
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_start_whose_answer_is_lost_is_not_sent_again_and_the_health_check_decides() {
    let s = setup();
    s.clusters.add_cluster(WS, "c1");
    s.clusters
        .terminate(WS, "c1", "DRIVER_UNREACHABLE", "CLIENT_ERROR");
    s.clusters.lose_next_answer("start");

    s.monitor.poll().await.unwrap();
    let tickets = settled(&s).await;
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    // The start took effect though its answer was lost: one start, the cluster recovered.
    assert_eq!(s.clusters.with(WS, "c1", |c| c.starts_applied), 1);
    assert_eq!(s.clusters.calls("start"), 1, "the start was sent again");
    assert_eq!(t.status, "closed", "{t:#?}");
    assert!(t.recovered);
    assert!(
        t.actions[0]
            .outcome
            .as_deref()
            .is_some_and(|o| o.starts_with("maybe applied")),
        "{t:#?}"
    );
    // Later passes change nothing.
    s.monitor.poll().await.unwrap();
    assert_eq!(s.clusters.calls("start"), 1);
    assert_eq!(s.tickets().len(), 1);
}
