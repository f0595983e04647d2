//! The monitor's records: one SQLite file (`state/ENV.monitor.sqlite`), WAL, numbered migrations
//! under `user_version` (as the access queue's store). Tickets, their actions (intent before the
//! call, sent after, outcome), the audit trail of every decision, the breakers, the event cursors
//! and the job notifications seen. Replicas share the file; only the active one writes decisions.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;
use time::OffsetDateTime;

use crate::breaker::Breaker;
use crate::decide::PlannedStep;
use crate::error::MonitorError;
use crate::playbook::Playbook;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE tickets (
        ticket_id      TEXT    PRIMARY KEY,
        day            TEXT    NOT NULL,  -- YYYYMMDD (UTC) of detection
        seq            INTEGER NOT NULL,  -- NNN within the day
        workspace_id   INTEGER NOT NULL,  -- 0: unknown (a push about a cluster no workspace has)
        workspace_name TEXT    NOT NULL,
        cluster_id     TEXT    NOT NULL,
        cluster_name   TEXT    NOT NULL,
        failure_ts     INTEGER NOT NULL,  -- the TERMINATING event's timestamp (workspace clock, ms)
        code           TEXT    NOT NULL,
        kind           TEXT    NOT NULL,  -- the termination reason's type
        parameters     TEXT    NOT NULL,  -- JSON object
        error_type     TEXT    NOT NULL,
        status         TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'closed', 'failed')),
        hold           TEXT,              -- why no action (decide::Hold), NULL when acted on
        playbook       TEXT    NOT NULL,  -- JSON Playbook as decided (resume uses the same limits)
        plan           TEXT    NOT NULL,  -- JSON [PlannedStep]
        note           TEXT,
        source         TEXT    NOT NULL,  -- poll, push, jobs
        detected_at    INTEGER NOT NULL,  -- monitor clock, ms
        finished_at    INTEGER,
        recovered      INTEGER NOT NULL DEFAULT 0,  -- the health check passed
        UNIQUE (workspace_id, cluster_id, failure_ts),
        UNIQUE (day, seq)
    );
    CREATE INDEX tickets_by_status ON tickets (status);
    CREATE INDEX tickets_by_detection ON tickets (detected_at);
    CREATE TABLE actions (
        ticket_id   TEXT    NOT NULL REFERENCES tickets (ticket_id),
        step        INTEGER NOT NULL,
        action      TEXT    NOT NULL,
        detail      TEXT    NOT NULL,
        intent_at   INTEGER NOT NULL,
        sent_at     INTEGER,
        finished_at INTEGER,
        outcome     TEXT,
        PRIMARY KEY (ticket_id, step)
    );
    CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        ticket_id TEXT,
        kind      TEXT    NOT NULL,
        detail    TEXT    NOT NULL  -- JSON
    );
    CREATE INDEX audit_by_kind ON audit (kind, at);
    CREATE TABLE breakers (
        scope        TEXT    PRIMARY KEY,  -- error_type:<name> or cluster:<workspace_id>/<cluster_id>
        state        TEXT    NOT NULL CHECK (state IN ('closed', 'open', 'trial')),
        opened_at    INTEGER,
        failures     TEXT    NOT NULL      -- JSON [ms]
    );
    CREATE TABLE cursors (
        workspace_id  INTEGER NOT NULL,
        cluster_id    TEXT    NOT NULL,
        last_event_ts INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, cluster_id)
    );
    CREATE TABLE notifications (
        run_id     INTEGER NOT NULL,
        event_type TEXT    NOT NULL,
        seen_at    INTEGER NOT NULL,
        outcome    TEXT    NOT NULL,
        PRIMARY KEY (run_id, event_type)
    );
"];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One action of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRecord {
    pub step: u32,
    /// The name it is known by: `start_cluster`, `restart_with_fallback:on_demand`, `resize_cluster:8`.
    pub action: String,
    /// The call: `clusters/start`, `clusters/edit availability=ON_DEMAND`.
    pub detail: String,
    /// `ok`, `already applied (…)`, `skipped: …`, `error: …`; `None` while only the intent is recorded.
    pub outcome: Option<String>,
    pub intent_at_ms: i64,
    pub sent_at_ms: Option<i64>,
}

/// One ticket with its actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRecord {
    /// `RCA-YYYYMMDD-NNN`.
    pub ticket_id: String,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub cluster_id: String,
    pub cluster_name: String,
    pub error_type: String,
    pub code: String,
    /// The termination reason's type.
    pub kind: String,
    pub parameters: BTreeMap<String, String>,
    /// `open`, `in_progress`, `closed`, `failed`.
    pub status: String,
    /// Why no action was taken (`breaker_open`, `playbook_none`, `out_of_scope`, …), if none was.
    pub hold: Option<String>,
    /// The actions decided, by name (the push answer's `actions_taken`).
    pub planned: Vec<String>,
    pub actions: Vec<ActionRecord>,
    pub note: Option<String>,
    /// `poll`, `push` or `jobs`.
    pub source: String,
    pub detected_at_ms: i64,
    /// The failure's time: the `TERMINATING` event's timestamp (or the push's time).
    pub failed_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// The health check passed (MTTR counts these only).
    pub recovered: bool,
    #[serde(skip)]
    pub(crate) plan: Vec<PlannedStep>,
    #[serde(skip)]
    pub(crate) playbook: Option<Playbook>,
}

/// A ticket to write.
#[derive(Debug, Clone)]
pub(crate) struct NewTicket {
    pub workspace_id: i64,
    pub workspace_name: String,
    pub cluster_id: String,
    pub cluster_name: String,
    pub failure_ts: i64,
    pub code: String,
    pub kind: String,
    pub parameters: BTreeMap<String, String>,
    pub error_type: String,
    pub status: &'static str,
    pub hold: Option<&'static str>,
    pub playbook: Playbook,
    pub plan: Vec<PlannedStep>,
    pub note: Option<String>,
    pub source: &'static str,
    pub detected_at_ms: i64,
}

/// A failure of a records call before the path is known.
#[derive(Debug)]
pub(crate) enum DbError {
    Sqlite(rusqlite::Error),
    Corrupt { column: &'static str, value: String },
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Corrupt {
            column: "json",
            value: e.to_string(),
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// The open records. Clones share one connection; calls run on the blocking pool.
#[derive(Clone)]
pub(crate) struct Records {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl Records {
    /// Opens (or creates, with its folder) the file and migrates it.
    pub fn open(path: &Path) -> Result<Records, MonitorError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| MonitorError::Folder {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let records_error = |source| MonitorError::Records {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(records_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(records_error)?;
        // WAL: the status page reads while the monitor writes; FULL: a recorded intent survives a
        // power loss, so a restarted monitor never repeats the call blindly.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(records_error)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(records_error)?;
        migrate(&mut conn, path)?;
        Ok(Records {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Opens records that must exist already (readers: a report does not create them).
    pub fn open_existing(path: &Path) -> Result<Records, MonitorError> {
        if !path.is_file() {
            return Err(MonitorError::NoRecords {
                path: path.to_path_buf(),
            });
        }
        Records::open(path)
    }

    /// Runs `f` on the connection, on the blocking pool.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> DbResult<T> + Send + 'static,
    ) -> Result<T, MonitorError> {
        let conn = self.conn.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| MonitorError::Task {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        result.map_err(|e| self.error(e))
    }

    /// Runs `f` on the calling thread (for reports and pages outside the runtime's async parts).
    pub fn call_now<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> DbResult<T>,
    ) -> Result<T, MonitorError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn).map_err(|e| self.error(e))
    }

    fn error(&self, e: DbError) -> MonitorError {
        match e {
            DbError::Sqlite(source) => MonitorError::Records {
                path: self.path.clone(),
                source,
            },
            DbError::Corrupt { column, value } => MonitorError::Corrupt {
                path: self.path.clone(),
                column,
                value,
            },
        }
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), MonitorError> {
    let records_error = |source| MonitorError::Records {
        path: path.to_path_buf(),
        source,
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(records_error)?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(records_error)?;
    if found > SCHEMA_VERSION {
        return Err(MonitorError::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(migration).map_err(records_error)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)
            .map_err(records_error)?;
    }
    tx.commit().map_err(records_error)
}

// ---- cursors ----

/// Every cursor of a workspace, by cluster.
pub(crate) fn cursors(conn: &Connection, workspace_id: i64) -> DbResult<HashMap<String, i64>> {
    let mut stmt =
        conn.prepare("SELECT cluster_id, last_event_ts FROM cursors WHERE workspace_id = ?1")?;
    let rows = stmt
        .query_map([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub(crate) fn cursor(
    conn: &Connection,
    workspace_id: i64,
    cluster_id: &str,
) -> DbResult<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT last_event_ts FROM cursors WHERE workspace_id = ?1 AND cluster_id = ?2",
            params![workspace_id, cluster_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Moves a cursor forward (never back).
pub(crate) fn advance_cursor(
    conn: &Connection,
    workspace_id: i64,
    cluster_id: &str,
    ts: i64,
) -> DbResult<()> {
    conn.execute(
        "INSERT INTO cursors (workspace_id, cluster_id, last_event_ts) VALUES (?1, ?2, ?3)
         ON CONFLICT (workspace_id, cluster_id)
         DO UPDATE SET last_event_ts = max(last_event_ts, excluded.last_event_ts)",
        params![workspace_id, cluster_id, ts],
    )?;
    Ok(())
}

// ---- audit ----

/// Appends to the audit trail.
pub(crate) fn audit(
    conn: &Connection,
    at_ms: i64,
    ticket_id: Option<&str>,
    kind: &str,
    detail: &serde_json::Value,
) -> DbResult<()> {
    conn.execute(
        "INSERT INTO audit (at, ticket_id, kind, detail) VALUES (?1, ?2, ?3, ?4)",
        params![at_ms, ticket_id, kind, detail.to_string()],
    )?;
    Ok(())
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub at_ms: i64,
    pub ticket_id: Option<String>,
    pub kind: String,
    pub detail: serde_json::Value,
}

pub(crate) fn audit_trail(conn: &Connection) -> DbResult<Vec<AuditRecord>> {
    let mut stmt = conn.prepare("SELECT at, ticket_id, kind, detail FROM audit ORDER BY seq")?;
    let rows: Vec<(i64, Option<String>, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(at_ms, ticket_id, kind, detail)| {
            Ok(AuditRecord {
                at_ms,
                ticket_id,
                kind,
                detail: serde_json::from_str(&detail)?,
            })
        })
        .collect()
}

pub(crate) fn count_audit_since(conn: &Connection, kind: &str, since_ms: i64) -> DbResult<u64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM audit WHERE kind = ?1 AND at >= ?2",
        params![kind, since_ms],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

// ---- breakers ----

pub(crate) fn breaker(conn: &Connection, scope: &str) -> DbResult<Breaker> {
    let row: Option<(String, Option<i64>, String)> = conn
        .query_row(
            "SELECT state, opened_at, failures FROM breakers WHERE scope = ?1",
            [scope],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match row {
        None => Ok(Breaker::default()),
        Some((state, opened_at_ms, failures)) => Ok(Breaker {
            state: serde_json::from_value(serde_json::Value::String(state.clone())).map_err(
                |_| DbError::Corrupt {
                    column: "breakers.state",
                    value: state,
                },
            )?,
            opened_at_ms,
            failures: serde_json::from_str(&failures)?,
        }),
    }
}

pub(crate) fn save_breaker(conn: &Connection, scope: &str, breaker: &Breaker) -> DbResult<()> {
    let state = serde_json::to_value(breaker.state)?;
    conn.execute(
        "INSERT INTO breakers (scope, state, opened_at, failures) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (scope) DO UPDATE SET state = excluded.state, opened_at = excluded.opened_at,
                                          failures = excluded.failures",
        params![
            scope,
            state.as_str().unwrap_or("closed"),
            breaker.opened_at_ms,
            serde_json::to_string(&breaker.failures)?
        ],
    )?;
    Ok(())
}

pub(crate) fn breakers(conn: &Connection) -> DbResult<Vec<(String, Breaker)>> {
    let scopes: Vec<String> = conn
        .prepare("SELECT scope FROM breakers ORDER BY scope")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    scopes
        .into_iter()
        .map(|scope| Ok((scope.clone(), breaker(conn, &scope)?)))
        .collect()
}

// ---- tickets ----

/// Writes a ticket, giving it the next id of its UTC day; returns the id.
pub(crate) fn insert_ticket(conn: &Connection, t: &NewTicket) -> DbResult<String> {
    let day = day_of(t.detected_at_ms);
    let seq: i64 = conn.query_row(
        "SELECT coalesce(max(seq), 0) + 1 FROM tickets WHERE day = ?1",
        [&day],
        |r| r.get(0),
    )?;
    let ticket_id = format!("RCA-{day}-{seq:03}");
    conn.execute(
        "INSERT INTO tickets (ticket_id, day, seq, workspace_id, workspace_name, cluster_id,
             cluster_name, failure_ts, code, kind, parameters, error_type, status, hold, playbook,
             plan, note, source, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        params![
            ticket_id,
            day,
            seq,
            t.workspace_id,
            t.workspace_name,
            t.cluster_id,
            t.cluster_name,
            t.failure_ts,
            t.code,
            t.kind,
            serde_json::to_string(&t.parameters)?,
            t.error_type,
            t.status,
            t.hold,
            serde_json::to_string(&t.playbook)?,
            serde_json::to_string(&t.plan)?,
            t.note,
            t.source,
            t.detected_at_ms,
        ],
    )?;
    Ok(ticket_id)
}

/// `YYYYMMDD` of an epoch-ms time, UTC.
pub(crate) fn day_of(ms: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day())
}

const TICKET_COLUMNS: &str = "ticket_id, workspace_id, workspace_name, cluster_id, cluster_name,
    failure_ts, code, kind, parameters, error_type, status, hold, playbook, plan, note, source,
    detected_at, finished_at, recovered";

fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<RawTicket> {
    Ok(RawTicket {
        ticket_id: row.get(0)?,
        workspace_id: row.get(1)?,
        workspace_name: row.get(2)?,
        cluster_id: row.get(3)?,
        cluster_name: row.get(4)?,
        failure_ts: row.get(5)?,
        code: row.get(6)?,
        kind: row.get(7)?,
        parameters: row.get(8)?,
        error_type: row.get(9)?,
        status: row.get(10)?,
        hold: row.get(11)?,
        playbook: row.get(12)?,
        plan: row.get(13)?,
        note: row.get(14)?,
        source: row.get(15)?,
        detected_at: row.get(16)?,
        finished_at: row.get(17)?,
        recovered: row.get(18)?,
    })
}

struct RawTicket {
    ticket_id: String,
    workspace_id: i64,
    workspace_name: String,
    cluster_id: String,
    cluster_name: String,
    failure_ts: i64,
    code: String,
    kind: String,
    parameters: String,
    error_type: String,
    status: String,
    hold: Option<String>,
    playbook: String,
    plan: String,
    note: Option<String>,
    source: String,
    detected_at: i64,
    finished_at: Option<i64>,
    recovered: bool,
}

impl RawTicket {
    fn into_record(self, conn: &Connection) -> DbResult<TicketRecord> {
        let plan: Vec<PlannedStep> = serde_json::from_str(&self.plan)?;
        let actions = actions(conn, &self.ticket_id)?;
        Ok(TicketRecord {
            planned: plan.iter().map(|s| s.name.clone()).collect(),
            actions,
            plan,
            playbook: Some(serde_json::from_str(&self.playbook)?),
            parameters: serde_json::from_str(&self.parameters)?,
            ticket_id: self.ticket_id,
            workspace_id: self.workspace_id,
            workspace_name: self.workspace_name,
            cluster_id: self.cluster_id,
            cluster_name: self.cluster_name,
            error_type: self.error_type,
            code: self.code,
            kind: self.kind,
            status: self.status,
            hold: self.hold,
            note: self.note,
            source: self.source,
            detected_at_ms: self.detected_at,
            failed_at_ms: self.failure_ts,
            finished_at_ms: self.finished_at,
            recovered: self.recovered,
        })
    }
}

fn query_tickets(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> DbResult<Vec<TicketRecord>> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets {filter}");
    let raw: Vec<RawTicket> = conn
        .prepare(&sql)?
        .query_map(args, ticket_from_row)?
        .collect::<Result<_, _>>()?;
    raw.into_iter().map(|t| t.into_record(conn)).collect()
}

pub(crate) fn ticket(conn: &Connection, ticket_id: &str) -> DbResult<Option<TicketRecord>> {
    Ok(query_tickets(conn, "WHERE ticket_id = ?1", [ticket_id])?.pop())
}

pub(crate) fn ticket_by_key(
    conn: &Connection,
    workspace_id: i64,
    cluster_id: &str,
    failure_ts: i64,
) -> DbResult<Option<TicketRecord>> {
    Ok(query_tickets(
        conn,
        "WHERE workspace_id = ?1 AND cluster_id = ?2 AND failure_ts = ?3",
        params![workspace_id, cluster_id, failure_ts],
    )?
    .pop())
}

/// The cluster's newest ticket for a failure in `[from_ts, to_ts]` with `code`.
pub(crate) fn recent_ticket(
    conn: &Connection,
    workspace_id: i64,
    cluster_id: &str,
    code: &str,
    from_ts: i64,
    to_ts: i64,
) -> DbResult<Option<TicketRecord>> {
    Ok(query_tickets(
        conn,
        "WHERE workspace_id = ?1 AND cluster_id = ?2 AND code = ?3 AND failure_ts BETWEEN ?4 AND ?5
         ORDER BY failure_ts DESC LIMIT 1",
        params![workspace_id, cluster_id, code, from_ts, to_ts],
    )?
    .pop())
}

/// Tickets in the given statuses, newest first.
pub(crate) fn tickets_in(conn: &Connection, statuses: &[&str]) -> DbResult<Vec<TicketRecord>> {
    let list = statuses
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(", ");
    query_tickets(
        conn,
        &format!("WHERE status IN ({list}) ORDER BY detected_at DESC, ticket_id DESC"),
        [],
    )
}

/// Tickets detected at or after `since_ms`, newest first.
pub(crate) fn tickets_since(conn: &Connection, since_ms: i64) -> DbResult<Vec<TicketRecord>> {
    query_tickets(
        conn,
        "WHERE detected_at >= ?1 ORDER BY detected_at DESC, ticket_id DESC",
        [since_ms],
    )
}

/// The last `limit` finished tickets that had actions, newest first.
pub(crate) fn recent_recoveries(conn: &Connection, limit: u32) -> DbResult<Vec<TicketRecord>> {
    query_tickets(
        conn,
        "WHERE status IN ('closed', 'failed') AND hold IS NULL AND finished_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT ?1",
        [limit],
    )
}

pub(crate) fn all_tickets(conn: &Connection) -> DbResult<Vec<TicketRecord>> {
    query_tickets(conn, "ORDER BY detected_at, ticket_id", [])
}

/// Sets a ticket's status; `finished_at`, `recovered` and the note when given.
pub(crate) fn finish_ticket(
    conn: &Connection,
    ticket_id: &str,
    status: &str,
    finished_at_ms: Option<i64>,
    recovered: bool,
    note: Option<&str>,
) -> DbResult<()> {
    conn.execute(
        "UPDATE tickets SET status = ?2, finished_at = coalesce(?3, finished_at), recovered = ?4,
                            note = coalesce(?5, note)
         WHERE ticket_id = ?1",
        params![ticket_id, status, finished_at_ms, recovered, note],
    )?;
    Ok(())
}

// ---- actions ----

fn actions(conn: &Connection, ticket_id: &str) -> DbResult<Vec<ActionRecord>> {
    let rows = conn
        .prepare(
            "SELECT step, action, detail, outcome, intent_at, sent_at FROM actions
             WHERE ticket_id = ?1 ORDER BY step",
        )?
        .query_map([ticket_id], |r| {
            Ok(ActionRecord {
                step: r.get(0)?,
                action: r.get(1)?,
                detail: r.get(2)?,
                outcome: r.get(3)?,
                intent_at_ms: r.get(4)?,
                sent_at_ms: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Records the intent of a step before its call.
pub(crate) fn action_intent(
    conn: &Connection,
    ticket_id: &str,
    step: u32,
    action: &str,
    detail: &str,
    at_ms: i64,
) -> DbResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO actions (ticket_id, step, action, detail, intent_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ticket_id, step, action, detail, at_ms],
    )?;
    Ok(())
}

/// Records what became of a step's call; `sent` = it reached the API (or was found applied).
pub(crate) fn action_outcome(
    conn: &Connection,
    ticket_id: &str,
    step: u32,
    sent: bool,
    outcome: &str,
    at_ms: i64,
) -> DbResult<()> {
    conn.execute(
        "UPDATE actions SET sent_at = CASE WHEN ?3 THEN ?5 ELSE sent_at END, finished_at = ?5,
                            outcome = ?4
         WHERE ticket_id = ?1 AND step = ?2",
        params![ticket_id, step, sent, outcome, at_ms],
    )?;
    Ok(())
}

// ---- job notifications ----

pub(crate) fn notification_seen(
    conn: &Connection,
    run_id: i64,
    event_type: &str,
) -> DbResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT outcome FROM notifications WHERE run_id = ?1 AND event_type = ?2",
            params![run_id, event_type],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn mark_notification(
    conn: &Connection,
    run_id: i64,
    event_type: &str,
    at_ms: i64,
    outcome: &str,
) -> DbResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO notifications (run_id, event_type, seen_at, outcome)
         VALUES (?1, ?2, ?3, ?4)",
        params![run_id, event_type, at_ms, outcome],
    )?;
    Ok(())
}

// ---- public reads ----

/// Every ticket of the records at `path`, oldest first, with its actions (for tests and tools).
pub fn tickets(records: &Path) -> Result<Vec<TicketRecord>, MonitorError> {
    Records::open_existing(records)?.call_now(|conn| all_tickets(conn))
}

/// The whole audit trail of the records at `path`, oldest first.
pub fn audit_records(records: &Path) -> Result<Vec<AuditRecord>, MonitorError> {
    Records::open_existing(records)?.call_now(|conn| audit_trail(conn))
}

pub(crate) fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::{Action, Playbook};

    fn new_ticket(cluster: &str, ts: i64, detected: i64) -> NewTicket {
        NewTicket {
            workspace_id: 1,
            workspace_name: "ws".into(),
            cluster_id: cluster.into(),
            cluster_name: cluster.into(),
            failure_ts: ts,
            code: "DRIVER_UNREACHABLE".into(),
            kind: "CLIENT_ERROR".into(),
            parameters: BTreeMap::new(),
            error_type: "DatabricksDriverNotResponding".into(),
            status: "open",
            hold: None,
            playbook: Playbook::with_action(Action::Restart),
            plan: Vec::new(),
            note: None,
            source: "poll",
            detected_at_ms: detected,
        }
    }

    #[test]
    fn ticket_ids_count_per_utc_day_and_the_failure_key_is_unique() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(&dir.path().join("state/dev.monitor.sqlite")).unwrap();
        // 2026-12-07T23:59:59Z and the next day.
        let late = 1_796_687_999_000;
        records
            .call_now(|conn| {
                assert_eq!(
                    insert_ticket(conn, &new_ticket("a", 1, late))?,
                    "RCA-20261207-001"
                );
                assert_eq!(
                    insert_ticket(conn, &new_ticket("b", 1, late))?,
                    "RCA-20261207-002"
                );
                assert_eq!(
                    insert_ticket(conn, &new_ticket("a", 2, late + 1000))?,
                    "RCA-20261208-001"
                );
                assert!(insert_ticket(conn, &new_ticket("a", 1, late)).is_err());
                Ok(())
            })
            .unwrap();
        records
            .call_now(|conn| {
                conn.execute(
                    "UPDATE tickets SET seq = 999 WHERE ticket_id = 'RCA-20261208-001'",
                    [],
                )?;
                assert_eq!(
                    insert_ticket(conn, &new_ticket("c", 3, late + 2000))?,
                    "RCA-20261208-1000"
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn cursors_never_move_back_and_breakers_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(&dir.path().join("m.sqlite")).unwrap();
        records
            .call_now(|conn| {
                advance_cursor(conn, 1, "c", 100)?;
                advance_cursor(conn, 1, "c", 50)?;
                assert_eq!(cursor(conn, 1, "c")?, Some(100));
                assert_eq!(cursor(conn, 2, "c")?, None);
                let b = Breaker {
                    state: crate::breaker::BreakerState::Open,
                    opened_at_ms: Some(7),
                    failures: vec![1, 2, 7],
                };
                save_breaker(conn, "cluster:1/c", &b)?;
                assert_eq!(breaker(conn, "cluster:1/c")?, b);
                assert_eq!(breaker(conn, "cluster:1/x")?, Breaker::default());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn records_from_a_newer_brickstack_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite");
        drop(Records::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            Records::open(&path),
            Err(MonitorError::SchemaTooNew { found, .. }) if found == SCHEMA_VERSION + 1
        ));
    }
}
