//! Benchmark: the cost of one committed operation (`StateWriter::commit`, one resource recorded)
//! on the local backend, with 100 and with 20,000 resources already in state.
//!
//! A commit hands the store its delta; the local backend appends one record to
//! `state/ENV.json.journal` (flushed with `fdatasync`) and rewrites the document only when the
//! journal outgrows it. For comparison it also times one whole write of each state (what every
//! commit cost before the journal). Run with `scripts/bench.sh commit` or
//! `cargo bench -p brickstack-exec --bench commit_cost`; under `cargo test --all-targets` it runs
//! a few commits only, to check it still works.

use std::time::{Duration, Instant};

use brickstack_exec::StateWriter;
use brickstack_state::{LockRequest, RecordedResource, State, StateStore};
use brickstack_state_local::LocalStore;
use time::OffsetDateTime;

/// Commits timed per size: enough for the journal to outgrow even the 20,000-resource document,
/// so the mean includes the compactions' share.
fn commits() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        20_000
    } else {
        20
    }
}

/// A record the size of a typical resource's (a subnet: a handful of attributes and tags).
fn record(i: usize) -> RecordedResource {
    let attributes = serde_json::json!({
        "cidr_block": format!("10.{}.{}.0/24", i / 256 % 256, i % 256),
        "availability_zone": "eu-west-1a",
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "map_public_ip_on_launch": false,
        "tags": {
            "brickstack:environment": "bench",
            "brickstack:address": format!("aws_subnet.s{i}"),
            "Name": format!("bench-subnet-{i}"),
        },
    });
    RecordedResource::new(
        "aws_subnet",
        format!("subnet-{i:017x}"),
        attributes.as_object().cloned().unwrap_or_default(),
        vec!["aws_vpc.main".into()],
    )
}

struct Measured {
    per_commit: Vec<Duration>,
    whole_write: Duration,
    document_bytes: u64,
    compactions: usize,
}

async fn measure(resources: usize, commits: usize) -> Measured {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = LocalStore::new(dir.path().join("state/bench.json"));
    let lock = store
        .lock(&LockRequest {
            id: "bench".into(),
            operation: "apply".into(),
            who: "bench".into(),
            version: "0".into(),
            now: OffsetDateTime::now_utc(),
            lease_seconds: 600,
        })
        .await
        .expect("lock");
    assert_eq!(store.read().await.expect("read"), None);
    let mut state = State::new("bench", "bench-lineage");
    for i in 0..resources {
        state
            .resources
            .insert(format!("aws_subnet.s{i}"), record(i));
    }
    state.serial = 1;
    store.write(&lock, &state).await.expect("first write");
    let document_bytes = std::fs::metadata(store.path()).expect("document").len();

    // One whole write, as every commit used to be.
    let whole = Instant::now();
    state.serial += 1;
    store.write(&lock, &state).await.expect("whole write");
    let whole_write = whole.elapsed();

    let writer = StateWriter::new(&store, &lock, state);
    let inode = || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(store.path()).unwrap());
    let mut last_inode = inode();
    let mut compactions = 0;
    let mut per_commit = Vec::with_capacity(commits);
    for n in 0..commits {
        let i = resources + n;
        let t = Instant::now();
        writer
            .commit(|edit| {
                edit.insert_resource(format!("aws_subnet.s{}", i % (resources + 50)), record(i));
            })
            .await
            .expect("commit");
        per_commit.push(t.elapsed());
        let now = inode();
        if now != last_inode {
            compactions += 1;
            last_inode = now;
        }
    }
    let state = writer.into_state().await;
    let read_back = LocalStore::new(store.path())
        .read()
        .await
        .expect("read back");
    assert_eq!(read_back.as_ref(), Some(&state), "replay gives the state");
    Measured {
        per_commit,
        whole_write,
        document_bytes,
        compactions,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let commits = commits();
    println!(
        "| resources | document | commits | commit, mean | median | p99 | max | compactions | one whole write |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for resources in [100, 20_000] {
        let Measured {
            mut per_commit,
            whole_write,
            document_bytes,
            compactions,
        } = measure(resources, commits).await;
        let mean = per_commit.iter().sum::<Duration>() / per_commit.len() as u32;
        per_commit.sort();
        let at = |q: f64| per_commit[((per_commit.len() - 1) as f64 * q) as usize];
        println!(
            "| {resources} | {} KiB | {commits} | {:.3} ms | {:.3} ms | {:.3} ms | {:.1} ms | {compactions} | {:.1} ms |",
            document_bytes / 1024,
            ms(mean),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(per_commit[per_commit.len() - 1]),
            ms(whole_write),
        );
    }
}
