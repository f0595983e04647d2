//! The durable queue: one SQLite file (`state/ENV.serve.sqlite`), WAL, every acknowledged request
//! committed with `synchronous = FULL` before its answer. Schema changes are numbered migrations
//! under the `user_version` pragma, so later features (the cluster-failure monitor's tickets and
//! cursors) add tables without touching these.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::access::{AccessAction, AccessOutcome, AccessRequest};
use crate::error::ServeError;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit one that
/// has shipped.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE access_requests (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id   TEXT    NOT NULL UNIQUE,
        username     TEXT    NOT NULL,
        action       TEXT    NOT NULL CHECK (action IN ('grant', 'revoke')),
        status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        queued_at    INTEGER NOT NULL,  -- unix milliseconds
        started_at   INTEGER,
        finished_at  INTEGER,
        attempts     INTEGER NOT NULL DEFAULT 0,  -- runs started, resumed ones included
        error        TEXT,
        cluster_id   TEXT,
        cluster_name TEXT
    );
    CREATE INDEX access_requests_by_person ON access_requests (username, seq);
    CREATE INDEX access_requests_by_status ON access_requests (status, seq);
"];

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl RequestStatus {
    fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Queued => "queued",
            RequestStatus::Running => "running",
            RequestStatus::Done => "done",
            RequestStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => RequestStatus::Queued,
            "running" => RequestStatus::Running,
            "done" => RequestStatus::Done,
            "failed" => RequestStatus::Failed,
            _ => return None,
        })
    }
}

/// One row of `access_requests`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestRecord {
    pub request_id: String,
    pub username: String,
    pub action: AccessAction,
    pub status: RequestStatus,
    pub queued_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub attempts: i64,
    pub error: Option<String>,
    pub cluster_id: Option<String>,
    pub cluster_name: Option<String>,
}

/// What an incoming request does to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A new request, queued.
    Queue,
    /// The same request is already queued or running: answer with it.
    SameRequest,
    /// The same request already finished: answer with its result.
    AlreadyDone,
}

/// Decides what a `action` for a person does, given the latest request about them. A failed
/// request, or a different latest action, queues anew: that is how a caller retries.
pub(crate) fn decide(action: AccessAction, latest: Option<&RequestRecord>) -> Decision {
    match latest {
        Some(record) if record.action == action => match record.status {
            RequestStatus::Queued | RequestStatus::Running => Decision::SameRequest,
            RequestStatus::Done => Decision::AlreadyDone,
            RequestStatus::Failed => Decision::Queue,
        },
        _ => Decision::Queue,
    }
}

#[derive(Debug, thiserror::Error)]
/// A failure of the request database after it opened.
pub enum StoreError {
    #[error("request database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("request database: the blocking task died: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("request database: a row has an unknown {column} `{value}`")]
    Corrupt { column: &'static str, value: String },
}

/// The queue's database. Clones share one connection; every call runs on the blocking pool.
#[derive(Clone)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (or creates) the database at `path` and brings its schema to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Store, ServeError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| ServeError::Folder {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let database = |source| ServeError::Database {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(database)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(database)?;
        // WAL: readers (status, healthz) never wait for the worker's writes. FULL: a commit is on
        // disk before the answer that acknowledges it, even across a power loss.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(database)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(database)?;
        migrate(&mut conn, path)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await?
    }

    /// Queues `action` for `username` unless [`decide`] says the latest request already answers
    /// it; returns the decision and the request the caller is answered with. One immediate
    /// transaction, so two equal requests racing queue one row.
    pub async fn enqueue(
        &self,
        username: String,
        action: AccessAction,
        now: OffsetDateTime,
    ) -> Result<(Decision, RequestRecord), StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let latest = latest(&tx, &username)?;
            let decision = decide(action, latest.as_ref());
            let record = match (decision, latest) {
                (Decision::Queue, _) | (_, None) => {
                    let record = RequestRecord {
                        request_id: uuid::Uuid::new_v4().to_string(),
                        username,
                        action,
                        status: RequestStatus::Queued,
                        queued_at: now,
                        started_at: None,
                        finished_at: None,
                        attempts: 0,
                        error: None,
                        cluster_id: None,
                        cluster_name: None,
                    };
                    tx.execute(
                        "INSERT INTO access_requests (request_id, username, action, status, queued_at)
                         VALUES (?1, ?2, ?3, 'queued', ?4)",
                        params![
                            record.request_id,
                            record.username,
                            action.as_str(),
                            millis(now)
                        ],
                    )?;
                    record
                }
                (_, Some(existing)) => existing,
            };
            tx.commit()?;
            Ok((decision, record))
        })
        .await
    }

    /// The latest request about `username`, if any.
    pub async fn latest(&self, username: String) -> Result<Option<RequestRecord>, StoreError> {
        self.with(move |conn| latest(conn, &username)).await
    }

    /// Marks every queued request running (the oldest per person; a person's later requests wait
    /// for the next batch, so their order holds) and returns them in queue order.
    pub async fn take_batch(&self, now: OffsetDateTime) -> Result<Vec<AccessRequest>, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let queued: Vec<(i64, String, String, String)> = tx
                .prepare(
                    "SELECT seq, request_id, username, action FROM access_requests
                     WHERE status = 'queued' ORDER BY seq",
                )?
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut people = std::collections::HashSet::new();
            let mut batch = Vec::new();
            for (seq, id, username, action) in queued {
                if !people.insert(username.clone()) {
                    continue;
                }
                let action = AccessAction::parse(&action).ok_or(StoreError::Corrupt {
                    column: "action",
                    value: action,
                })?;
                tx.execute(
                    "UPDATE access_requests
                     SET status = 'running', started_at = ?2, attempts = attempts + 1
                     WHERE seq = ?1",
                    params![seq, millis(now)],
                )?;
                batch.push(AccessRequest {
                    id,
                    username,
                    action,
                });
            }
            tx.commit()?;
            Ok(batch)
        })
        .await
    }

    /// Records what became of the request `request_id`.
    pub async fn finish(
        &self,
        request_id: String,
        outcome: AccessOutcome,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.with(move |conn| {
            let (status, error, cluster_id, cluster_name) = match outcome {
                AccessOutcome::Ready {
                    cluster_id,
                    cluster_name,
                } => (
                    RequestStatus::Done,
                    None,
                    Some(cluster_id),
                    Some(cluster_name),
                ),
                AccessOutcome::Revoked => (RequestStatus::Done, None, None, None),
                AccessOutcome::Failed { error } => (RequestStatus::Failed, Some(error), None, None),
            };
            conn.execute(
                "UPDATE access_requests
                 SET status = ?2, finished_at = ?3, error = ?4, cluster_id = ?5, cluster_name = ?6
                 WHERE request_id = ?1",
                params![
                    request_id,
                    status.as_str(),
                    millis(now),
                    error,
                    cluster_id,
                    cluster_name
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Puts back in the queue the requests a dead process left running; returns how many. Only
    /// the holder of the worker's lock may call it.
    pub async fn requeue_interrupted(&self) -> Result<usize, StoreError> {
        self.with(|conn| {
            Ok(conn.execute(
                "UPDATE access_requests SET status = 'queued' WHERE status = 'running'",
                [],
            )?)
        })
        .await
    }

    /// How many requests wait.
    pub async fn queue_depth(&self) -> Result<i64, StoreError> {
        self.with(|conn| {
            Ok(conn.query_row(
                "SELECT count(*) FROM access_requests WHERE status = 'queued'",
                [],
                |row| row.get(0),
            )?)
        })
        .await
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), ServeError> {
    let database = |source| ServeError::Database {
        path: path.to_path_buf(),
        source,
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(database)?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(database)?;
    if found > SCHEMA_VERSION {
        return Err(ServeError::SchemaTooNew {
            path: PathBuf::from(path),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(migration).map_err(database)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)
            .map_err(database)?;
    }
    tx.commit().map_err(database)
}

fn latest(conn: &Connection, username: &str) -> Result<Option<RequestRecord>, StoreError> {
    let row = conn
        .query_row(
            "SELECT request_id, username, action, status, queued_at, started_at, finished_at,
                    attempts, error, cluster_id, cluster_name
             FROM access_requests WHERE username = ?1 ORDER BY seq DESC LIMIT 1",
            [username],
            RawRecord::from_row,
        )
        .optional()?;
    row.map(RawRecord::into_record).transpose()
}

/// A row before its text columns are checked.
struct RawRecord {
    request_id: String,
    username: String,
    action: String,
    status: String,
    queued_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    attempts: i64,
    error: Option<String>,
    cluster_id: Option<String>,
    cluster_name: Option<String>,
}

impl RawRecord {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawRecord {
            request_id: row.get(0)?,
            username: row.get(1)?,
            action: row.get(2)?,
            status: row.get(3)?,
            queued_at: row.get(4)?,
            started_at: row.get(5)?,
            finished_at: row.get(6)?,
            attempts: row.get(7)?,
            error: row.get(8)?,
            cluster_id: row.get(9)?,
            cluster_name: row.get(10)?,
        })
    }

    fn into_record(self) -> Result<RequestRecord, StoreError> {
        let action = AccessAction::parse(&self.action).ok_or(StoreError::Corrupt {
            column: "action",
            value: self.action.clone(),
        })?;
        let status = RequestStatus::parse(&self.status).ok_or(StoreError::Corrupt {
            column: "status",
            value: self.status.clone(),
        })?;
        Ok(RequestRecord {
            request_id: self.request_id,
            username: self.username,
            action,
            status,
            queued_at: from_millis(self.queued_at),
            started_at: self.started_at.map(from_millis),
            finished_at: self.finished_at.map(from_millis),
            attempts: self.attempts,
            error: self.error,
            cluster_id: self.cluster_id,
            cluster_name: self.cluster_name,
        })
    }
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state/dev.serve.sqlite")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn equal_requests_queue_once_and_a_failure_queues_anew() {
        let (_dir, store) = open();
        let ana = || "ana@example.com".to_string();
        let (first, queued) = store
            .enqueue(ana(), AccessAction::Grant, now())
            .await
            .unwrap();
        assert_eq!(first, Decision::Queue);
        let (again, same) = store
            .enqueue(ana(), AccessAction::Grant, now())
            .await
            .unwrap();
        assert_eq!(
            (again, &same.request_id),
            (Decision::SameRequest, &queued.request_id)
        );

        let batch = store.take_batch(now()).await.unwrap();
        assert_eq!(batch.len(), 1);
        let (running, same) = store
            .enqueue(ana(), AccessAction::Grant, now())
            .await
            .unwrap();
        assert_eq!(
            (running, same.status),
            (Decision::SameRequest, RequestStatus::Running)
        );

        let failed = AccessOutcome::Failed {
            error: "boom".into(),
        };
        store
            .finish(queued.request_id.clone(), failed, now())
            .await
            .unwrap();
        let (retry, new) = store
            .enqueue(ana(), AccessAction::Grant, now())
            .await
            .unwrap();
        assert_eq!(retry, Decision::Queue);
        assert_ne!(new.request_id, queued.request_id);

        store.take_batch(now()).await.unwrap();
        let ready = AccessOutcome::Ready {
            cluster_id: "c-1".into(),
            cluster_name: "ana_su".into(),
        };
        store
            .finish(new.request_id.clone(), ready, now())
            .await
            .unwrap();
        let (done, record) = store
            .enqueue(ana(), AccessAction::Grant, now())
            .await
            .unwrap();
        assert_eq!(done, Decision::AlreadyDone);
        assert_eq!(record.cluster_id.as_deref(), Some("c-1"));
        assert_eq!(record.attempts, 1);
    }

    #[tokio::test]
    async fn a_batch_takes_one_request_per_person_in_queue_order() {
        let (_dir, store) = open();
        let person = |s: &str| s.to_string();
        store
            .enqueue(person("a@x.io"), AccessAction::Grant, now())
            .await
            .unwrap();
        store
            .enqueue(person("b@x.io"), AccessAction::Grant, now())
            .await
            .unwrap();
        store
            .enqueue(person("a@x.io"), AccessAction::Revoke, now())
            .await
            .unwrap();
        let first = store.take_batch(now()).await.unwrap();
        let names: Vec<_> = first
            .iter()
            .map(|r| (r.username.as_str(), r.action))
            .collect();
        assert_eq!(
            names,
            [
                ("a@x.io", AccessAction::Grant),
                ("b@x.io", AccessAction::Grant)
            ]
        );
        assert_eq!(store.queue_depth().await.unwrap(), 1);
        let second = store.take_batch(now()).await.unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].action, AccessAction::Revoke);
    }

    #[tokio::test]
    async fn a_database_from_a_newer_brickstack_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let Err(error) = Store::open(&path) else {
            panic!("a newer schema was accepted");
        };
        assert!(
            matches!(error, ServeError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1)
        );
        // Reopening at the current version changes nothing.
        let conn = Connection::open(dir.path().join("y.sqlite")).unwrap();
        drop(conn);
        drop(Store::open(&dir.path().join("y.sqlite")).unwrap());
        let store = Store::open(&dir.path().join("y.sqlite")).unwrap();
        let version: i64 = store
            .with(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
