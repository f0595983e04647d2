//! The local state backend (the embedded default): `state/ENV.json` on disk, an exclusive lock file
//! next to it, every write atomic by rename.
//!
//! * State: `state/ENV.json`, the document as [`State::to_json`] writes it. A write goes to a
//!   temporary file in the same directory (`.ENV.json.XXXXXX.tmp`), is flushed to disk, then
//!   renamed over the state file and the directory flushed: a reader sees the old document or
//!   the new one, never half of one. A temporary file left by a crash is ignored.
//! * Lock: `state/ENV.json.lock`, holding the [`LockInfo`] as JSON. It is written to a temporary
//!   file first and then moved into place only if no lock file exists (`renameat2(NOREPLACE)`, or
//!   `link` + `unlink`), so exactly one of several lockers wins and nobody ever reads a lock file
//!   that is still being written.
//!
//! Checks and actions are separate file operations, so a run that is `force-unlock`ed while it is
//! between checking its lock and acting can still complete that one action; the write's
//! condition on what this handle last read (see [`StateStore::write`]) still refuses to overwrite
//! a state it did not see. Meant for one machine; a shared network filesystem is not supported.

#![allow(
    clippy::result_large_err,
    reason = "`StateError` names the lock holder (a `LockInfo`); it is returned once per backend call, next to disk or network I/O"
)]

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use brickstack_state::{LockInfo, LockRequest, State, StateError, StateStore, check_write};
use tempfile::NamedTempFile;
use time::OffsetDateTime;

/// The state of one environment in a local file.
#[derive(Debug)]
pub struct LocalStore {
    path: PathBuf,
    lock_path: PathBuf,
    /// Lineage and serial of the document this handle last read or wrote; `Some(None)`: it read
    /// "no state". `None`: it has not read yet. Writes are conditional on it.
    view: Mutex<Option<Option<Version>>>,
}

type Version = (String, u64);

impl LocalStore {
    /// The state at `path` (e.g. `state/dev.json`); its lock is `path` + `.lock`. Nothing is
    /// touched until the first call; the directory is created by the first lock or write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        LocalStore {
            path,
            lock_path: lock_path.into(),
            view: Mutex::new(None),
        }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    fn io_error(&self, action: &str, path: &Path, error: io::Error) -> StateError {
        StateError::Backend {
            backend: self.location(),
            detail: format!("{action} `{}`: {error}", path.display()),
            retryable: matches!(
                error.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
        }
    }

    fn read_lock(&self) -> Result<Option<LockInfo>, StateError> {
        let bytes = match fs::read(&self.lock_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("reading", &self.lock_path, e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                detail: format!(
                    "lock file `{}` is not lock info ({e}); if no brickstack run is going, delete it",
                    self.lock_path.display()
                ),
            })
    }

    fn read_state(&self) -> Result<Option<State>, StateError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("reading", &self.path, e)),
        };
        State::from_json(&bytes).map(Some).map_err(|e| match e {
            StateError::Corrupt { detail } => StateError::Corrupt {
                detail: format!("`{}`: {detail}", self.path.display()),
            },
            other => other,
        })
    }

    /// `bytes` fully written and flushed to a new temporary file next to `target`.
    fn staged(&self, target: &Path, bytes: &[u8]) -> Result<NamedTempFile, StateError> {
        let dir = self.dir();
        fs::create_dir_all(dir).map_err(|e| self.io_error("creating", dir, e))?;
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| self.io_error("creating a temporary file in", dir, e))?;
        file.write_all(bytes)
            .and_then(|()| file.as_file().sync_all())
            .map_err(|e| self.io_error("writing", file.path(), e))?;
        Ok(file)
    }

    /// Replaces `target` with `bytes` atomically.
    fn replace(&self, target: &Path, bytes: &[u8]) -> Result<(), StateError> {
        self.staged(target, bytes)?
            .persist(target)
            .map_err(|e| self.io_error("renaming a temporary file to", target, e.error))?;
        self.sync_dir()
    }

    /// Creates `target` holding `bytes` if it does not exist; `Ok(false)` if it does.
    fn create_exclusively(&self, target: &Path, bytes: &[u8]) -> Result<bool, StateError> {
        match self.staged(target, bytes)?.persist_noclobber(target) {
            Ok(_) => self.sync_dir().map(|()| true),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(self.io_error("creating", target, e.error)),
        }
    }

    /// Makes a rename or removal in the directory durable.
    fn sync_dir(&self) -> Result<(), StateError> {
        #[cfg(unix)]
        {
            let dir = self.dir();
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.io_error("flushing", dir, e))?;
        }
        Ok(())
    }

    /// The current lock if its id is `id`, else `LockNotHeld` naming the actual holder.
    fn held(&self, id: &str) -> Result<LockInfo, StateError> {
        match self.read_lock()? {
            Some(current) if current.id == id => Ok(current),
            current => Err(StateError::LockNotHeld {
                id: id.into(),
                current,
            }),
        }
    }

    fn view(&self) -> std::sync::MutexGuard<'_, Option<Option<Version>>> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_now(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
        let info = LockInfo::from_request(request, self.location());
        let bytes = lock_json(&info);
        // A lock released between our failed create and our read of it: try again.
        for _ in 0..3 {
            if self.create_exclusively(&self.lock_path, &bytes)? {
                return Ok(info);
            }
            match self.read_lock()? {
                Some(holder) if holder.id == request.id => return Ok(holder),
                Some(holder) => return Err(StateError::locked(holder, request.now)),
                None => continue,
            }
        }
        Err(StateError::Backend {
            backend: self.location(),
            detail: format!(
                "lock file `{}` kept appearing and disappearing",
                self.lock_path.display()
            ),
            retryable: true,
        })
    }

    fn heartbeat_now(&self, lock: &LockInfo, now: OffsetDateTime) -> Result<LockInfo, StateError> {
        let renewed = LockInfo {
            heartbeat: now,
            ..self.held(&lock.id)?
        };
        self.replace(&self.lock_path, &lock_json(&renewed))?;
        Ok(renewed)
    }

    fn remove_lock(&self, id: &str) -> Result<(), StateError> {
        self.held(id)?;
        match fs::remove_file(&self.lock_path) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StateError::LockNotHeld {
                id: id.into(),
                current: None,
            }),
            Err(e) => Err(self.io_error("removing", &self.lock_path, e)),
        }
    }

    fn read_now(&self) -> Result<Option<State>, StateError> {
        let state = self.read_state()?;
        *self.view() = Some(version(state.as_ref()));
        Ok(state)
    }

    fn write_now(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        self.held(&lock.id)?;
        let stored = self.read_state()?;
        check_write(stored.as_ref(), state)?;
        let mut view = self.view();
        let stored = version(stored.as_ref());
        if let Some(seen) = &*view
            && *seen != stored
        {
            return Err(StateError::WriteConflict {
                detail: format!(
                    "`{}` holds {}, but this run last read or wrote {}",
                    self.path.display(),
                    describe(&stored),
                    describe(seen)
                ),
            });
        }
        self.replace(&self.path, &state.to_json())?;
        *view = Some(version(Some(state)));
        Ok(())
    }
}

fn lock_json(info: &LockInfo) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(info).expect("lock info serialises");
    bytes.push(b'\n');
    bytes
}

fn version(state: Option<&State>) -> Option<Version> {
    state.map(|s| (s.lineage.clone(), s.serial))
}

fn describe(version: &Option<Version>) -> String {
    match version {
        Some((lineage, serial)) => format!("serial {serial} of lineage `{lineage}`"),
        None => "no state".into(),
    }
}

// The file operations are short and blocking; they run inline rather than on a blocking thread.
impl StateStore for LocalStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn lock(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
        self.lock_now(request)
    }

    async fn heartbeat(
        &self,
        lock: &LockInfo,
        now: OffsetDateTime,
    ) -> Result<LockInfo, StateError> {
        self.heartbeat_now(lock, now)
    }

    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
        self.remove_lock(&lock.id)
    }

    async fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        self.remove_lock(lock_id)
    }

    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        self.read_lock()
    }

    async fn read(&self) -> Result<Option<State>, StateError> {
        self.read_now()
    }

    async fn write(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        self.write_now(lock, state)
    }
}
