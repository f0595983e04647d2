//! `brickstack monitor report`: the figures of the records (last 24 h per error type, tickets by
//! status, mean time to recovery, breaker openings, open tickets), as JSON or text. The gauges of
//! `/metrics` are the same figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::classify::ErrorType;
use crate::error::MonitorError;
use crate::records::{self, DbResult, Records};

const DAY_MS: i64 = 24 * 3600 * 1000;
const STATUSES: [&str; 4] = ["open", "in_progress", "closed", "failed"];

/// The figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// RFC 3339, UTC.
    pub generated_at: String,
    /// Every error type, in `ErrorType::ALL` order, with its figures of the last 24 h.
    pub error_types: Vec<ErrorTypeFigures>,
    /// Failures (tickets) detected in the last 24 h.
    pub failures_24h: u64,
    /// Those tickets by status (every status present).
    pub tickets_by_status: BTreeMap<String, u64>,
    /// Mean seconds from detection to a passed health check over those tickets; `None` when none
    /// recovered.
    pub mttr_seconds: Option<f64>,
    pub breaker_openings_24h: u64,
    /// Tickets of any age not closed (`open`, `in_progress`, `failed`), newest first.
    pub open_tickets: Vec<OpenTicket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorTypeFigures {
    pub error_type: String,
    pub failures_24h: u64,
    pub tickets_by_status: BTreeMap<String, u64>,
    pub mttr_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTicket {
    pub ticket_id: String,
    pub status: String,
    pub workspace_id: i64,
    pub cluster_id: String,
    pub cluster_name: String,
    pub error_type: String,
    pub code: String,
    /// RFC 3339, UTC.
    pub detected_at: String,
    pub note: Option<String>,
}

/// `brickstack monitor report`: reads the records only (no Clusters needed).
pub fn report(records: &Path, now: OffsetDateTime) -> Result<Report, MonitorError> {
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    Records::open_existing(records)?.call_now(|conn| compute(conn, now_ms))
}

pub(crate) fn compute(conn: &Connection, now_ms: i64) -> DbResult<Report> {
    let since = now_ms - DAY_MS;
    let recent = records::tickets_since(conn, since)?;
    let by_status = |tickets: &[&records::TicketRecord]| -> BTreeMap<String, u64> {
        let mut map: BTreeMap<String, u64> = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
        for t in tickets {
            *map.entry(t.status.clone()).or_default() += 1;
        }
        map
    };
    let mttr = |tickets: &[&records::TicketRecord]| -> Option<f64> {
        let times: Vec<f64> = tickets
            .iter()
            .filter(|t| t.recovered)
            .filter_map(|t| {
                t.finished_at_ms
                    .map(|f| (f - t.detected_at_ms) as f64 / 1000.0)
            })
            .collect();
        (!times.is_empty()).then(|| times.iter().sum::<f64>() / times.len() as f64)
    };
    let all: Vec<&records::TicketRecord> = recent.iter().collect();
    let error_types = ErrorType::ALL
        .into_iter()
        .map(|error_type| {
            let mine: Vec<&records::TicketRecord> = recent
                .iter()
                .filter(|t| t.error_type == error_type.as_str())
                .collect();
            ErrorTypeFigures {
                error_type: error_type.as_str().to_owned(),
                failures_24h: mine.len() as u64,
                tickets_by_status: by_status(&mine),
                mttr_seconds: mttr(&mine),
            }
        })
        .collect();
    let open_tickets = records::tickets_in(conn, &["open", "in_progress", "failed"])?
        .into_iter()
        .map(|t| OpenTicket {
            detected_at: rfc3339(t.detected_at_ms),
            ticket_id: t.ticket_id,
            status: t.status,
            workspace_id: t.workspace_id,
            cluster_id: t.cluster_id,
            cluster_name: t.cluster_name,
            error_type: t.error_type,
            code: t.code,
            note: t.note,
        })
        .collect();
    Ok(Report {
        generated_at: rfc3339(now_ms),
        error_types,
        failures_24h: recent.len() as u64,
        tickets_by_status: by_status(&all),
        mttr_seconds: mttr(&all),
        breaker_openings_24h: records::count_audit_since(conn, "breaker_opened", since)?,
        open_tickets,
    })
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |s| format!("{s:.0}s"))
}

impl Report {
    /// The report as a terminal shows it.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Cluster-failure monitor report, {} (last 24 h)",
            self.generated_at
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<38} {:>8} {:>6} {:>11} {:>7} {:>7} {:>8}",
            "error type", "failures", "open", "in_progress", "closed", "failed", "MTTR"
        );
        for f in &self.error_types {
            let n = |s: &str| f.tickets_by_status.get(s).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{:<38} {:>8} {:>6} {:>11} {:>7} {:>7} {:>8}",
                f.error_type,
                f.failures_24h,
                n("open"),
                n("in_progress"),
                n("closed"),
                n("failed"),
                seconds(f.mttr_seconds)
            );
        }
        let n = |s: &str| self.tickets_by_status.get(s).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "{:<38} {:>8} {:>6} {:>11} {:>7} {:>7} {:>8}",
            "all",
            self.failures_24h,
            n("open"),
            n("in_progress"),
            n("closed"),
            n("failed"),
            seconds(self.mttr_seconds)
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "Breaker openings: {}", self.breaker_openings_24h);
        let _ = writeln!(out);
        if self.open_tickets.is_empty() {
            let _ = writeln!(out, "Open tickets: none");
        } else {
            let _ = writeln!(out, "Open tickets ({}):", self.open_tickets.len());
            for t in &self.open_tickets {
                let _ = writeln!(
                    out,
                    "  {} {:<11} {} {} ({}) in workspace {}, detected {}{}",
                    t.ticket_id,
                    t.status,
                    t.error_type,
                    t.cluster_name,
                    t.code,
                    t.workspace_id,
                    t.detected_at,
                    t.note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                );
            }
        }
        out
    }
}
