//! The local backend: the shared conformance suite on a temporary directory, then what is
//! particular to files (damaged documents, leftovers of a crash, the lock file's content, lockers
//! in separate threads).

#![allow(
    clippy::result_large_err,
    reason = "threads hand back `StateError`s, as the store does"
)]

use std::fs;
use std::path::Path;
use std::sync::Barrier;

use brickstack_state::conformance::{self, LEASE_SECONDS, T0};
use brickstack_state::{
    Delta, Edit, FORMAT_VERSION, Lease, LeaseStore, LockInfo, LockRequest, RecordedResource, State,
    StateError, StateStore,
};
use brickstack_state_local::LocalStore;

fn request(id: &str) -> LockRequest {
    LockRequest {
        id: id.into(),
        operation: "apply".into(),
        who: "alice@laptop".into(),
        version: "0.1.0".into(),
        now: T0,
        lease_seconds: LEASE_SECONDS,
    }
}

fn state(serial: u64) -> State {
    State {
        serial,
        ..State::new("dev", "lineage-1")
    }
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn local_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join("state").join(format!("{name}.json"));
    conformance::run_all(
        |name| LocalStore::new(at(name)),
        // What a process killed mid-append leaves: the start of a record, no end of line.
        async |name| {
            let journal = LocalStore::new(at(name)).journal_path().to_path_buf();
            let mut file = fs::OpenOptions::new().append(true).open(journal).unwrap();
            std::io::Write::write_all(&mut file, br#"{"lineage":"lineage-1","serial":4,"reso"#)
                .unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn local_store_passes_the_lease_checks() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join("state").join(format!("{name}.json"));
    conformance::run_leases(|name| LocalStore::new(at(name))).await;
}

/// The lease file is `<state>.<name>.lease`, JSON a person can read, beside its `flock` file;
/// a release removes the lease file and leaves no temporary file.
#[tokio::test]
async fn the_lease_file_is_documented_json_beside_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("dev.json"));
    assert_eq!(
        store.lease_path("monitor"),
        dir.path().join("dev.json.monitor.lease")
    );
    let lease = store
        .acquire_lease(
            "monitor",
            "host-1:4242",
            std::time::Duration::from_secs(60),
            T0,
        )
        .await
        .unwrap();
    let text = fs::read_to_string(store.lease_path("monitor")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"holder": "host-1:4242", "expires_at": "2026-01-01T00:01:00Z"})
    );
    assert_eq!(lease.holder, "host-1:4242");
    assert_eq!(
        entries(dir.path()),
        ["dev.json.monitor.lease", "dev.json.monitor.lease.lock"]
    );
    store.release_lease("monitor", "host-1:4242").await.unwrap();
    assert_eq!(entries(dir.path()), ["dev.json.monitor.lease.lock"]);
}

/// A damaged lease file is reported (naming the file), not taken over or treated as free; a name
/// that cannot be part of a file name is refused.
#[tokio::test]
async fn a_damaged_lease_file_and_a_bad_name_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("dev.json"));
    fs::write(store.lease_path("monitor"), "{\"holder\": 1}").unwrap();
    let ttl = std::time::Duration::from_secs(60);
    match store.acquire_lease("monitor", "a", ttl, T0).await {
        Err(StateError::Corrupt { detail }) => {
            assert!(detail.contains("dev.json.monitor.lease"), "{detail}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    for name in ["", "../escape", "a/b"] {
        assert!(
            matches!(
                store.acquire_lease(name, "a", ttl, T0).await,
                Err(StateError::Backend { .. })
            ),
            "lease name {name:?} was accepted"
        );
    }
}

/// Real parallelism for leases: eight threads (eight handles) acquire a free lease at once;
/// exactly one holds it, every one is told that one. The suite's `join!` runs on one thread.
#[test]
fn lease_acquirers_in_parallel_threads_exactly_one_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev.json");
    const ACQUIRERS: usize = 8;
    for round in 0..20 {
        let barrier = Barrier::new(ACQUIRERS);
        let name = format!("monitor-{round}");
        let leases: Vec<Lease> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..ACQUIRERS)
                .map(|i| {
                    let (path, barrier, name) = (&path, &barrier, &name);
                    scope.spawn(move || {
                        let store = LocalStore::new(path);
                        barrier.wait();
                        block_on(store.acquire_lease(
                            name,
                            &format!("replica-{i}"),
                            std::time::Duration::from_secs(60),
                            T0,
                        ))
                        .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let holders: Vec<usize> = (0..ACQUIRERS)
            .filter(|&i| leases[i].holder == format!("replica-{i}"))
            .collect();
        assert_eq!(holders.len(), 1, "round {round}: {leases:?}");
        assert!(
            leases.iter().all(|l| *l == leases[holders[0]]),
            "round {round}: {leases:?}"
        );
    }
}

/// One write's delta: a resource set at `address`.
fn commit(state: &mut State, address: &str) -> Delta {
    let mut edit = Edit::new(state);
    edit.insert_resource(
        address,
        RecordedResource::new("aws_vpc", address, serde_json::Map::new(), vec![]),
    );
    let touched = edit.into_touched();
    state.serial += 1;
    touched.delta(state)
}

#[tokio::test]
async fn the_journal_stays_within_its_bound_and_the_document_is_rewritten_only_on_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("state/dev.json"));
    let lock = store.lock(&request("lock-1")).await.unwrap();
    assert_eq!(store.read().await.unwrap(), None);
    let mut state = state(1);
    for i in 0..2000 {
        state.resources.insert(
            format!("aws_vpc.seed{i}"),
            RecordedResource::new("aws_vpc", "vpc", serde_json::Map::new(), vec![]),
        );
    }
    store.write(&lock, &state).await.unwrap();
    let document = fs::metadata(store.path()).unwrap();
    let mut rewrites = 0;
    let mut last_inode = std::os::unix::fs::MetadataExt::ino(&document);
    for i in 0..3000 {
        let delta = commit(&mut state, &format!("aws_vpc.n{i}"));
        store.write_delta(&lock, &delta, &state).await.unwrap();
        let document = fs::metadata(store.path()).unwrap();
        let journal = fs::metadata(store.journal_path()).map_or(0, |m| m.len());
        assert!(
            journal <= document.len().max(brickstack_state::COMPACTION_FLOOR_BYTES) + 200,
            "journal {journal} bytes past its bound (document {} bytes)",
            document.len()
        );
        let inode = std::os::unix::fs::MetadataExt::ino(&document);
        if inode != last_inode {
            rewrites += 1;
            last_inode = inode;
        }
    }
    // Each delta is ~150 bytes, the document grows from ~200 KB: the journal outgrows it a
    // handful of times, never once per write.
    assert!(
        (1..20).contains(&rewrites),
        "{rewrites} rewrites of the document"
    );
    assert_eq!(
        LocalStore::new(store.path()).read().await.unwrap(),
        Some(state)
    );
    store.unlock(&lock).await.unwrap();
}

/// Between runs the document alone is the state: unlocking folds the journal into it, so
/// people and tools reading `state/ENV.json` see every record.
#[tokio::test]
async fn unlocking_folds_the_journal_into_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("state/dev.json"));
    let lock = store.lock(&request("lock-1")).await.unwrap();
    assert_eq!(store.read().await.unwrap(), None);
    let mut state = state(1);
    store.write(&lock, &state).await.unwrap();
    for i in 0..3 {
        let delta = commit(&mut state, &format!("aws_vpc.n{i}"));
        store.write_delta(&lock, &delta, &state).await.unwrap();
    }
    assert!(store.journal_path().exists(), "the writes were journaled");
    store.unlock(&lock).await.unwrap();
    assert!(!store.journal_path().exists());
    let document = State::from_json(&fs::read(store.path()).unwrap()).unwrap();
    assert_eq!(document, state);
    // The same handle takes the next run without reading again: its view is the folded file.
    let lock = store.lock(&request("lock-2")).await.unwrap();
    let delta = commit(&mut state, "aws_vpc.after");
    store.write_delta(&lock, &delta, &state).await.unwrap();
    store.unlock(&lock).await.unwrap();
    assert_eq!(
        LocalStore::new(store.path()).read().await.unwrap(),
        Some(state)
    );
}

#[tokio::test]
async fn a_journal_record_that_is_complete_but_unreadable_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("state/dev.json"));
    let lock = store.lock(&request("lock-1")).await.unwrap();
    store.read().await.unwrap();
    let mut state = state(1);
    store.write(&lock, &state).await.unwrap();
    let delta = commit(&mut state, "aws_vpc.a");
    store.write_delta(&lock, &delta, &state).await.unwrap();
    let mut journal = fs::read(store.journal_path()).unwrap();
    journal.extend(b"{not json}\n");
    fs::write(store.journal_path(), journal).unwrap();
    match LocalStore::new(store.path()).read().await {
        Err(StateError::Corrupt { detail }) => {
            assert!(
                detail.contains("dev.json.journal") && detail.contains("record 2"),
                "{detail}"
            )
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn state_and_lock_files_sit_side_by_side_and_temporary_files_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("state/dev.json"));
    assert_eq!(
        store.location(),
        format!("{}", dir.path().join("state/dev.json").display())
    );

    let lock = store.lock(&request("lock-1")).await.unwrap();
    store.write(&lock, &state(1)).await.unwrap();
    store.write(&lock, &state(2)).await.unwrap();
    store.heartbeat(&lock, T0).await.unwrap();
    assert_eq!(
        entries(&dir.path().join("state")),
        ["dev.json", "dev.json.lock"],
        "the directory holds the state and its lock, no temporary file"
    );
    assert_eq!(
        fs::read(store.path()).unwrap(),
        state(2).to_json(),
        "the file is exactly the document"
    );

    let on_disk: serde_json::Value =
        serde_json::from_slice(&fs::read(store.lock_path()).unwrap()).unwrap();
    assert_eq!(
        on_disk,
        serde_json::json!({
            "ID": "lock-1",
            "Operation": "apply",
            "Who": "alice@laptop",
            "Version": "0.1.0",
            "Created": "2026-01-01T00:00:00Z",
            "Path": store.location(),
            "Heartbeat": "2026-01-01T00:00:00Z",
            "LeaseSeconds": LEASE_SECONDS,
        }),
        "the lock file is readable lock info"
    );

    store.unlock(&lock).await.unwrap();
    assert_eq!(entries(&dir.path().join("state")), ["dev.json"]);
}

#[tokio::test]
async fn a_corrupt_state_file_is_reported_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("dev.json"));
    fs::write(store.path(), b"{\"format_version\": 1, \"serial\": ").unwrap();

    let err = store.read().await.expect_err("a truncated document");
    let StateError::Corrupt { detail } = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    assert!(
        detail.contains("dev.json"),
        "the message names the file: {detail}"
    );

    let lock = store.lock(&request("lock-1")).await.unwrap();
    let err = store.write(&lock, &state(1)).await.expect_err("refused");
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        fs::read(store.path()).unwrap(),
        b"{\"format_version\": 1, \"serial\": ",
        "the damaged file is left for a person to look at"
    );
}

#[tokio::test]
async fn a_state_of_an_unknown_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("dev.json"));
    let mut future = serde_json::to_value(state(3)).unwrap();
    future["format_version"] = (FORMAT_VERSION + 1).into();
    fs::write(store.path(), serde_json::to_vec(&future).unwrap()).unwrap();

    let err = store.read().await.expect_err("a newer format");
    assert_eq!(
        err,
        StateError::UnsupportedFormat {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION,
        }
    );
    let lock = store.lock(&request("lock-1")).await.unwrap();
    assert!(matches!(
        store.write(&lock, &state(4)).await,
        Err(StateError::UnsupportedFormat { .. })
    ));
}

#[tokio::test]
async fn a_temporary_file_left_by_a_crash_does_not_break_reads_or_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("dev.json"));
    let lock = store.lock(&request("lock-1")).await.unwrap();
    store.write(&lock, &state(1)).await.unwrap();
    // What a write killed before its rename leaves: a partial document under a temporary name.
    let leftover = dir.path().join(".dev.json.a1b2c3.tmp");
    fs::write(&leftover, &state(2).to_json()[..20]).unwrap();

    let fresh = LocalStore::new(dir.path().join("dev.json"));
    assert_eq!(fresh.read().await.unwrap(), Some(state(1)));
    fresh.write(&lock, &state(2)).await.unwrap();
    assert_eq!(
        LocalStore::new(store.path()).read().await.unwrap(),
        Some(state(2))
    );
    assert!(leftover.exists(), "not ours to delete");
}

#[tokio::test]
async fn a_corrupt_lock_file_is_reported_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("dev.json"));
    fs::write(store.lock_path(), b"").unwrap();

    for err in [
        store
            .current_lock()
            .await
            .map(|_| ())
            .expect_err("unreadable"),
        store
            .lock(&request("lock-1"))
            .await
            .map(|_| ())
            .expect_err("unreadable"),
    ] {
        let StateError::Corrupt { detail } = &err else {
            panic!("expected Corrupt, got {err:?}");
        };
        assert!(
            detail.contains("dev.json.lock") && detail.contains("delete it"),
            "{detail}"
        );
    }
    assert_eq!(fs::read(store.lock_path()).unwrap(), b"");
}

/// Real parallelism (the suite's `join!` on one thread cannot interleave blocking file calls):
/// eight threads lock at once, exactly one wins, and every loser reads the winner's complete lock.
#[test]
fn lockers_in_parallel_threads_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev.json");
    const LOCKERS: usize = 8;
    for round in 0..20 {
        let barrier = Barrier::new(LOCKERS);
        let results: Vec<Result<LockInfo, StateError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..LOCKERS)
                .map(|i| {
                    let (path, barrier) = (&path, &barrier);
                    scope.spawn(move || {
                        let store = LocalStore::new(path);
                        let request = request(&format!("lock-{round}-{i}"));
                        barrier.wait();
                        block_on(store.lock(&request))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&LockInfo> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let [winner] = winners[..] else {
            panic!("round {round}: {} winners: {results:?}", winners.len());
        };
        for result in &results {
            match result {
                Ok(_) => {}
                Err(StateError::Locked { holder, .. }) => assert_eq!(holder, winner),
                Err(other) => panic!("round {round}: a loser saw {other:?}"),
            }
        }
        let store = LocalStore::new(&path);
        block_on(store.unlock(winner)).unwrap();
    }
    assert_eq!(
        entries(dir.path()),
        Vec::<String>::new(),
        "no temporary files left"
    );
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
