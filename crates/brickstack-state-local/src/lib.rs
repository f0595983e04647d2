//! The local state backend (the embedded default): `state/ENV.json` on disk, an exclusive lock file
//! next to it, every write atomic by rename.
//!
//! * State: `state/ENV.json`, the document as [`State::to_json`] writes it. A write goes to a
//!   temporary file in the same directory (`.ENV.json.XXXXXX.tmp`), is flushed to disk, then
//!   renamed over the state file and the directory flushed: a reader sees the old document or
//!   the new one, never half of one. A temporary file left by a crash is ignored.
//! * Journal: `state/ENV.json.journal`, one line of JSON per write since the document was last
//!   written whole ([`Delta::to_json_line`]), appended and flushed (`fdatasync`) per write. A read
//!   replays it over the document; a last line without its `\n` (a crash mid-append) is ignored
//!   and cut off by the next append. When the journal outgrows the document
//!   ([`compaction_due`]) the document is rewritten whole (as above) and the journal removed.
//!   A write checks the lock and compares the two files' identity (inode, size, modification
//!   time) with what this handle last saw, so it reads neither file: its cost is its delta's.
//! * Lock: `state/ENV.json.lock`, holding the [`LockInfo`] as JSON. It is written to a temporary
//!   file first and then moved into place only if no lock file exists (`renameat2(NOREPLACE)`, or
//!   `link` + `unlink`), so exactly one of several lockers wins and nobody ever reads a lock file
//!   that is still being written.
//!
//! * Leases ([`LeaseStore`]): `state/ENV.json.<name>.lease` holding `{"holder", "expires_at"}`
//!   (RFC 3339). Each acquire or release reads, decides and writes (temporary file, flushed,
//!   renamed) while holding an exclusive `flock` on `state/ENV.json.<name>.lease.lock`, so two
//!   processes never both take a lease. The lock file stays: removing it would let a process
//!   lock a file another has just unlinked.
//!
//! Checks and actions are separate file operations, so a run that is `force-unlock`ed while it is
//! between checking its lock and acting can still complete that one action; the write's
//! condition on what this handle last read (see [`StateStore::write`]) still refuses to overwrite
//! a state it did not see. Meant for one machine; a shared network filesystem is not supported.

#![allow(
    clippy::result_large_err,
    reason = "`StateError` names the lock holder (a `LockInfo`); it is returned once per backend call, next to disk or network I/O"
)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use brickstack_state::{
    Delta, Lease, LeaseStore, LockInfo, LockRequest, State, StateError, StateStore, check_write,
    compaction_due, replay,
};
use tempfile::NamedTempFile;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The state of one environment in a local file.
#[derive(Debug)]
pub struct LocalStore {
    path: PathBuf,
    lock_path: PathBuf,
    journal_path: PathBuf,
    /// What this handle last read or wrote; `None`: it has not read yet. Writes are conditional
    /// on it.
    view: Mutex<Option<View>>,
}

type Version = (String, u64);

/// The state a handle last read or wrote, and the files as they were then.
#[derive(Debug, Clone, PartialEq)]
struct View {
    /// Lineage and serial; `None`: "no state".
    version: Option<Version>,
    files: Files,
}

/// The document's and the journal's identity, to tell without reading them whether anyone
/// wrote since: an append grows the journal, a whole write renames a new document into place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Files {
    document: Option<FileId>,
    journal: Option<FileId>,
    /// The journal's bytes up to its last complete record (what follows is torn).
    journal_intact: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileId {
    fn of(metadata: &fs::Metadata) -> FileId {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(metadata);
        #[cfg(not(unix))]
        let inode = 0;
        FileId {
            inode,
            len: metadata.len(),
            modified: metadata.modified().ok(),
        }
    }
}

impl LocalStore {
    /// The state at `path` (e.g. `state/dev.json`); its lock is `path` + `.lock`. Nothing is
    /// touched until the first call; the directory is created by the first lock or write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let beside = |suffix: &str| {
            let mut beside = path.clone().into_os_string();
            beside.push(suffix);
            PathBuf::from(beside)
        };
        LocalStore {
            lock_path: beside(".lock"),
            journal_path: beside(".journal"),
            path,
            view: Mutex::new(None),
        }
    }

    /// The journal of writes since the document was last written whole.
    pub fn journal_path(&self) -> &Path {
        &self.journal_path
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

    /// A file's bytes and identity, or `None` if it does not exist.
    fn read_file(&self, path: &Path) -> Result<Option<(Vec<u8>, FileId)>, StateError> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("reading", path, e)),
        };
        let mut bytes = Vec::new();
        let id = file
            .metadata()
            .and_then(|m| file.read_to_end(&mut bytes).map(|_| FileId::of(&m)))
            .map_err(|e| self.io_error("reading", path, e))?;
        Ok(Some((bytes, id)))
    }

    fn stat(&self, path: &Path) -> Result<Option<FileId>, StateError> {
        match fs::metadata(path) {
            Ok(m) => Ok(Some(FileId::of(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_error("reading", path, e)),
        }
    }

    /// The document with its journal replayed, and the files as read.
    fn read_state(&self) -> Result<(Option<State>, Files), StateError> {
        let corrupt = |path: &Path, e: StateError| match e {
            StateError::Corrupt { detail } => StateError::Corrupt {
                detail: format!("`{}`: {detail}", path.display()),
            },
            other => other,
        };
        let document = self.read_file(&self.path)?;
        let journal = self.read_file(&self.journal_path)?;
        let state = document
            .as_ref()
            .map(|(bytes, _)| State::from_json(bytes))
            .transpose()
            .map_err(|e| corrupt(&self.path, e))?;
        let journal_bytes = journal.as_ref().map_or(&[][..], |(bytes, _)| bytes);
        let replayed = replay(state, journal_bytes).map_err(|e| corrupt(&self.journal_path, e))?;
        if replayed.intact_bytes < journal_bytes.len() {
            tracing::warn!(
                journal = %self.journal_path.display(),
                torn_bytes = journal_bytes.len() - replayed.intact_bytes,
                "the journal's last record is incomplete (a run stopped while writing it): ignored"
            );
        }
        Ok((
            replayed.state,
            Files {
                document: document.map(|(_, id)| id),
                journal: journal.map(|(_, id)| id),
                journal_intact: replayed.intact_bytes as u64,
            },
        ))
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

    fn view(&self) -> std::sync::MutexGuard<'_, Option<View>> {
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
        let (state, files) = self.read_state()?;
        *self.view() = Some(View {
            version: version(state.as_ref()),
            files,
        });
        Ok(state)
    }

    fn conflict(&self, stored: &Option<Version>, seen: &Option<Version>) -> StateError {
        StateError::WriteConflict {
            detail: format!(
                "`{}` holds {}, but this run last read or wrote {}",
                self.path.display(),
                describe(stored),
                describe(seen)
            ),
        }
    }

    fn write_now(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        self.held(&lock.id)?;
        let (stored, _) = self.read_state()?;
        check_write(stored.as_ref(), state)?;
        let mut view = self.view();
        let stored = version(stored.as_ref());
        if let Some(seen) = &*view
            && seen.version != stored
        {
            return Err(self.conflict(&stored, &seen.version));
        }
        self.replace(&self.path, &state.to_json())?;
        // The document holds every record now; one left by a crash here is skipped on replay
        // (its serial is not above the document's).
        self.remove_journal()?;
        *view = Some(View {
            version: version(Some(state)),
            files: self.files_now(0)?,
        });
        Ok(())
    }

    /// Writes the journal's records into the document before the lock goes, so that between runs
    /// `state/ENV.json` is the whole state (for people and tools that read the file); a crash
    /// before this leaves the journal, which the next read replays. One whole write per run, not
    /// per operation.
    fn fold_journal(&self, lock: &LockInfo) -> Result<(), StateError> {
        self.held(&lock.id)?;
        if self.stat(&self.journal_path)?.is_none() {
            return Ok(());
        }
        let (stored, files) = self.read_state()?;
        let Some(state) = stored else {
            return Ok(());
        };
        // The stored state as it is, whoever wrote it: the content does not change, only where
        // its last records live.
        self.replace(&self.path, &state.to_json())?;
        // A record appended meanwhile stays in the journal; replay skips what the document
        // already holds (serials not above its own).
        if self.stat(&self.journal_path)? == files.journal {
            self.remove_journal()?;
        }
        let mut view = self.view();
        if view
            .as_ref()
            .is_some_and(|seen| seen.version == version(Some(&state)))
        {
            *view = Some(View {
                version: version(Some(&state)),
                files: self.files_now(0)?,
            });
        }
        Ok(())
    }

    fn remove_journal(&self) -> Result<(), StateError> {
        match fs::remove_file(&self.journal_path) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error("removing", &self.journal_path, e)),
        }
    }

    fn files_now(&self, journal_intact: u64) -> Result<Files, StateError> {
        Ok(Files {
            document: self.stat(&self.path)?,
            journal: self.stat(&self.journal_path)?,
            journal_intact,
        })
    }

    /// Appends `delta` to the journal when this handle's view is still what is stored (checked
    /// by the files' identity, reading them only if another handle wrote), compacting when due.
    fn write_delta_now(
        &self,
        lock: &LockInfo,
        delta: &Delta,
        state: &State,
    ) -> Result<(), StateError> {
        let seen = self.view().clone();
        let Some(View {
            version: Some(seen_version),
            files: seen_files,
        }) = seen
        else {
            // Not read yet, or no state: the first write is whole.
            return self.write_now(lock, state);
        };
        self.held(&lock.id)?;
        let files = self.files_now(seen_files.journal_intact)?;
        let intact = if files == seen_files {
            seen_files.journal_intact
        } else {
            // Someone else wrote (or compacted): read what is there now.
            let (stored, files) = self.read_state()?;
            let stored = version(stored.as_ref());
            if stored.as_ref() != Some(&seen_version) {
                return Err(self.conflict(&stored, &Some(seen_version)));
            }
            files.journal_intact
        };
        let (lineage, serial) = seen_version;
        if delta.lineage != lineage {
            return Err(StateError::LineageMismatch {
                stored: lineage,
                attempted: delta.lineage.clone(),
            });
        }
        if delta.serial <= serial {
            return Err(StateError::StaleSerial {
                stored: serial,
                attempted: delta.serial,
            });
        }
        if delta.serial != serial + 1 || state.serial != delta.serial {
            return Err(StateError::WriteConflict {
                detail: format!(
                    "a delta to serial {} does not follow serial {serial}, the state this run last read or wrote",
                    delta.serial
                ),
            });
        }
        let line = delta.to_json_line();
        let created = files.journal.is_none();
        let mut journal = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&self.journal_path)
            .map_err(|e| self.io_error("opening", &self.journal_path, e))?;
        // A torn record left by a crash is cut off, so this one starts on a line of its own.
        journal
            .set_len(intact)
            .and_then(|()| journal.seek(SeekFrom::Start(intact)))
            .and_then(|_| journal.write_all(&line))
            .and_then(|()| journal.sync_data())
            .map_err(|e| self.io_error("appending to", &self.journal_path, e))?;
        if created {
            self.sync_dir()?;
        }
        let journal_bytes = intact + line.len() as u64;
        let document_bytes = files.document.as_ref().map_or(0, |d| d.len);
        let journal_intact = if compaction_due(journal_bytes, document_bytes) {
            self.replace(&self.path, &state.to_json())?;
            self.remove_journal()?;
            0
        } else {
            journal_bytes
        };
        *self.view() = Some(View {
            version: version(Some(state)),
            files: self.files_now(journal_intact)?,
        });
        Ok(())
    }
}

impl LocalStore {
    /// The lease file of lease `name`: `<state path>.<name>.lease`.
    pub fn lease_path(&self, name: &str) -> PathBuf {
        let mut path = self.path.clone().into_os_string();
        path.push(format!(".{name}.lease"));
        PathBuf::from(path)
    }

    /// The lease's file and the file whose `flock` serialises its read-modify-write; the name is
    /// checked first, since it becomes part of a file name.
    fn lease_files(&self, name: &str) -> Result<(PathBuf, File), StateError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(StateError::Backend {
                backend: self.location(),
                detail: format!(
                    "lease name `{name}` is not letters, digits, `-` and `_` (it names a file)"
                ),
                retryable: false,
            });
        }
        let path = self.lease_path(name);
        let mut guard_path = path.clone().into_os_string();
        guard_path.push(".lock");
        let guard_path = PathBuf::from(guard_path);
        let dir = self.dir();
        fs::create_dir_all(dir).map_err(|e| self.io_error("creating", dir, e))?;
        let guard = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&guard_path)
            .map_err(|e| self.io_error("opening", &guard_path, e))?;
        // Blocks while another process reads or writes the lease: a few file operations.
        guard
            .lock()
            .map_err(|e| self.io_error("locking", &guard_path, e))?;
        Ok((path, guard))
    }

    fn read_lease(&self, name: &str, path: &Path) -> Result<Option<Lease>, StateError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("reading", path, e)),
        };
        let corrupt = |why: String| StateError::Corrupt {
            detail: format!(
                "lease file `{}` {why}; if no `brickstack serve` is running, delete it",
                path.display()
            ),
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("is not JSON ({e})")))?;
        let holder = value["holder"]
            .as_str()
            .ok_or_else(|| corrupt("has no string `holder`".into()))?;
        let expires_at = value["expires_at"]
            .as_str()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .ok_or_else(|| corrupt("has no RFC 3339 `expires_at`".into()))?;
        Ok(Some(Lease {
            name: name.into(),
            holder: holder.into(),
            expires_at,
        }))
    }

    fn acquire_lease_now(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Lease, StateError> {
        let (path, guard) = self.lease_files(name)?;
        if let Some(current) = self.read_lease(name, &path)?
            && current.holder != holder
            && current.expires_at > now
        {
            return Ok(current);
        }
        let expires_at = time::Duration::try_from(ttl)
            .ok()
            .and_then(|ttl| now.checked_add(ttl))
            .ok_or_else(|| StateError::Backend {
                backend: self.location(),
                detail: format!("a lease of {ttl:?} from {now} ends beyond the calendar"),
                retryable: false,
            })?;
        let expires_text = expires_at
            .format(&Rfc3339)
            .map_err(|e| StateError::Backend {
                backend: self.location(),
                detail: format!("the lease's expiry {expires_at} has no RFC 3339 form ({e})"),
                retryable: false,
            })?;
        let mut bytes = serde_json::to_vec_pretty(
            &serde_json::json!({ "holder": holder, "expires_at": expires_text }),
        )
        .expect("a JSON value serialises");
        bytes.push(b'\n');
        self.replace(&path, &bytes)?;
        drop(guard);
        Ok(Lease {
            name: name.into(),
            holder: holder.into(),
            expires_at,
        })
    }

    fn release_lease_now(&self, name: &str, holder: &str) -> Result<(), StateError> {
        let (path, guard) = self.lease_files(name)?;
        if self
            .read_lease(name, &path)?
            .is_some_and(|current| current.holder == holder)
        {
            match fs::remove_file(&path) {
                Ok(()) => self.sync_dir()?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.io_error("removing", &path, e)),
            }
        }
        drop(guard);
        Ok(())
    }
}

// Blocking file operations (and a short `flock` wait) inline, as the state's are.
impl LeaseStore for LocalStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Lease, StateError> {
        self.acquire_lease_now(name, holder, ttl, now)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StateError> {
        self.release_lease_now(name, holder)
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
        self.fold_journal(lock)?;
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

    async fn write_delta(
        &self,
        lock: &LockInfo,
        delta: &Delta,
        state: &State,
    ) -> Result<(), StateError> {
        self.write_delta_now(lock, delta, state)
    }
}
