//! The conformance suite every [`StateStore`] backend passes: one public async function per
//! behaviour, each saying what it guards, and [`run_all`] to run them all.
//!
//! A backend's test hands [`run_all`] a factory: `new_store(name)` returns a new handle on the
//! location `name` (a file, an S3 key). Two calls with the same name are two handles on one
//! location, standing for two processes; every check uses its own name, so checks never see each
//! other's locks or state. The crate has no clock, so the checks pass a fixed instant ([`T0`]) and
//! offsets from it: ages are exact and nothing sleeps.
//!
//! `tear(name)` leaves at `name` what a process killed in the middle of writing the next journal
//! record (serial 4) leaves (a half-written line for a file; for an object store, whose puts are atomic,
//! whatever an interrupted upload leaves).
//!
//! Leases ([`LeaseStore`]) have their own runner, [`run_leases`], with the same factory: each
//! check takes lease [`LEASE`] at its own location.
//!
//! ```text
//! brickstack_state::conformance::run_all(|name| LocalStore::new(dir.join(format!("{name}.json"))), |name| tear(name)).await;
//! ```

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::delta::{Delta, Edit};
use crate::document::{
    AccessGrant, ObjectLookup, PendingKind, PendingOperation, RecordedResource, ResourceStatus,
    State,
};
use crate::lease::{Lease, LeaseStore};
use crate::lock::{LockInfo, LockRequest};
use crate::store::{StateError, StateStore};

/// The instant the checks treat as "now".
pub const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// The lease every check's lock is taken with.
pub const LEASE_SECONDS: u64 = 60;

/// The lease name the lease checks take (the monitor's).
pub const LEASE: &str = "monitor";

/// The leases' time to live in the lease checks.
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs every check, each on its own location from `new_store`; `tear` damages a location's
/// journal as a crash mid-append would.
pub async fn run_all<S: StateStore>(new_store: impl Fn(&str) -> S, tear: impl AsyncFn(&str)) {
    let new_store = &new_store;
    let at = move |name: &'static str| {
        eprintln!("conformance: {name}");
        move || new_store(name)
    };
    read_of_empty_is_none(&at("read_of_empty_is_none")()).await;
    write_then_read_round_trips(at("write_then_read_round_trips")).await;
    second_lock_is_refused_naming_the_holder(at("second_lock_is_refused_naming_the_holder")).await;
    concurrent_lockers_exactly_one_wins(at("concurrent_lockers_exactly_one_wins")).await;
    unlock_then_lock_again(at("unlock_then_lock_again")).await;
    relock_with_the_same_id_returns_the_held_lock(at(
        "relock_with_the_same_id_returns_the_held_lock",
    ))
    .await;
    heartbeat_renews_the_lease(at("heartbeat_renews_the_lease")).await;
    stale_lease_is_reported_with_its_age(at("stale_lease_is_reported_with_its_age")).await;
    force_unlock_removes_a_lock_by_id(at("force_unlock_removes_a_lock_by_id")).await;
    write_without_the_lock_is_refused(at("write_without_the_lock_is_refused")).await;
    write_of_another_lineage_is_refused(&at("write_of_another_lineage_is_refused")()).await;
    write_of_a_serial_not_above_the_stored_one_is_refused(&at(
        "write_of_a_serial_not_above_the_stored_one_is_refused",
    )())
    .await;
    write_from_a_stale_view_is_refused(at("write_from_a_stale_view_is_refused")).await;
    creating_a_state_created_since_reading_none_is_refused(at(
        "creating_a_state_created_since_reading_none_is_refused",
    ))
    .await;
    writers_racing_from_one_view_exactly_one_wins(at(
        "writers_racing_from_one_view_exactly_one_wins",
    ))
    .await;
    deltas_replay_in_serial_order(at("deltas_replay_in_serial_order")).await;
    delta_without_the_lock_is_refused(at("delta_without_the_lock_is_refused")).await;
    delta_from_a_stale_view_is_refused(at("delta_from_a_stale_view_is_refused")).await;
    delta_writers_racing_from_one_view_exactly_one_wins(at(
        "delta_writers_racing_from_one_view_exactly_one_wins",
    ))
    .await;
    a_writer_behind_a_compaction_is_refused(at("a_writer_behind_a_compaction_is_refused")).await;
    let torn = "a_torn_append_is_ignored";
    a_torn_append_is_ignored(at(torn), async || tear(torn).await).await;
}

/// Runs every lease check, each on its own location from `new_store` (two calls with one name are
/// two processes on one location). Leases live beside the state lock, so the backend is both.
pub async fn run_leases<S: StateStore + LeaseStore>(new_store: impl Fn(&str) -> S) {
    let new_store = &new_store;
    let at = move |name: &'static str| {
        eprintln!("conformance: {name}");
        move || new_store(name)
    };
    a_free_lease_is_taken(at("a_free_lease_is_taken")).await;
    renewal_by_the_holder_extends_the_lease(at("renewal_by_the_holder_extends_the_lease")).await;
    another_holder_is_refused_until_the_lease_expires(at(
        "another_holder_is_refused_until_the_lease_expires",
    ))
    .await;
    release_by_another_holder_does_nothing(at("release_by_another_holder_does_nothing")).await;
    release_frees_the_lease(at("release_frees_the_lease")).await;
    concurrent_acquirers_exactly_one_holds(at("concurrent_acquirers_exactly_one_holds")).await;
    leases_are_apart_from_each_other_and_from_the_state_lock(at(
        "leases_are_apart_from_each_other_and_from_the_state_lock",
    ))
    .await;
}

fn lease(holder: &str, expires_at: OffsetDateTime) -> Lease {
    Lease {
        name: LEASE.into(),
        holder: holder.into(),
        expires_at,
    }
}

/// Guards: a lease nobody holds is taken, until `now + ttl`, and read back as taken by another
/// process, which does not get it.
pub async fn a_free_lease_is_taken<S: LeaseStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let taken = ok(
        "acquire a free lease",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0).await,
    );
    assert_eq!(taken, lease("replica-a", T0 + Duration::seconds(60)));
    assert!(taken.held_by("replica-a", T0));
    assert_eq!(
        ok(
            "acquire by another replica",
            b.acquire_lease(LEASE, "replica-b", LEASE_TTL, T0 + Duration::seconds(1))
                .await
        ),
        taken,
        "the other replica gets the holder's lease back, unchanged"
    );
}

/// Guards: the holder renews: the lease then runs from the renewal, so another replica is still
/// refused after the first term would have ended.
pub async fn renewal_by_the_holder_extends_the_lease<S: LeaseStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    ok(
        "acquire",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0).await,
    );
    let at_30 = T0 + Duration::seconds(30);
    let renewed = ok(
        "renew",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, at_30).await,
    );
    assert_eq!(
        renewed,
        lease("replica-a", at_30 + Duration::seconds(60)),
        "a renewal runs from its own `now`"
    );
    let at_70 = T0 + Duration::seconds(70);
    assert_eq!(
        ok(
            "acquire by another replica after the first term",
            b.acquire_lease(LEASE, "replica-b", LEASE_TTL, at_70).await
        ),
        renewed,
        "the renewed lease still stands"
    );
}

/// Guards: another replica is refused while the lease is unexpired (up to the last instant
/// before `expires_at`) and takes it from `expires_at` on: a crashed holder is replaced.
pub async fn another_holder_is_refused_until_the_lease_expires<S: LeaseStore>(
    new_handle: impl Fn() -> S,
) {
    let (a, b) = (new_handle(), new_handle());
    let held = ok(
        "acquire",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0).await,
    );
    let just_before = held.expires_at - Duration::milliseconds(1);
    assert_eq!(
        ok(
            "acquire just before expiry",
            b.acquire_lease(LEASE, "replica-b", LEASE_TTL, just_before)
                .await
        ),
        held
    );
    let taken = ok(
        "acquire at expiry",
        b.acquire_lease(LEASE, "replica-b", LEASE_TTL, held.expires_at)
            .await,
    );
    assert_eq!(
        taken,
        lease("replica-b", held.expires_at + Duration::seconds(60)),
        "an acquire at expiry takes the lease"
    );
    assert_eq!(
        ok(
            "the former holder tries to renew",
            a.acquire_lease(
                LEASE,
                "replica-a",
                LEASE_TTL,
                held.expires_at + Duration::seconds(1)
            )
            .await
        ),
        taken,
        "a holder that lost its lease does not get it back by renewing"
    );
}

/// Guards: only the holder releases: a release by another replica leaves the lease in place.
pub async fn release_by_another_holder_does_nothing<S: LeaseStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let held = ok(
        "acquire",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0).await,
    );
    ok(
        "release by another replica",
        b.release_lease(LEASE, "replica-b").await,
    );
    assert_eq!(
        ok(
            "acquire after the other's release",
            b.acquire_lease(LEASE, "replica-b", LEASE_TTL, T0 + Duration::seconds(1))
                .await
        ),
        held,
        "the lease is still the holder's after another replica's release"
    );
}

/// Guards: a release frees the lease at once (a replica shutting down hands over without waiting
/// for expiry); releasing a free lease is harmless.
pub async fn release_frees_the_lease<S: LeaseStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    ok(
        "release of a free lease",
        a.release_lease(LEASE, "replica-a").await,
    );
    ok(
        "acquire",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0).await,
    );
    ok("release", a.release_lease(LEASE, "replica-a").await);
    let at_1 = T0 + Duration::seconds(1);
    assert_eq!(
        ok(
            "acquire after release",
            b.acquire_lease(LEASE, "replica-b", LEASE_TTL, at_1).await
        ),
        lease("replica-b", at_1 + Duration::seconds(60))
    );
    ok("release again", a.release_lease(LEASE, "replica-a").await);
    assert_eq!(
        ok(
            "acquire by the former holder",
            a.acquire_lease(LEASE, "replica-a", LEASE_TTL, at_1).await
        ),
        lease("replica-b", at_1 + Duration::seconds(60)),
        "the old holder's second release did not free the new holder's lease"
    );
}

/// Guards: the take is one atomic step: of four replicas acquiring a free lease at the same
/// moment exactly one holds it, and every one is told that one. Repeated, so a backend that only
/// sometimes lets two win is likely caught.
pub async fn concurrent_acquirers_exactly_one_holds<S: LeaseStore>(new_handle: impl Fn() -> S) {
    for round in 0..5 {
        let name = format!("{LEASE}-{round}");
        let replicas: [S; 4] = std::array::from_fn(|_| new_handle());
        let holders: [String; 4] = std::array::from_fn(|i| format!("replica-{i}"));
        let (r0, r1, r2, r3) = tokio::join!(
            replicas[0].acquire_lease(&name, &holders[0], LEASE_TTL, T0),
            replicas[1].acquire_lease(&name, &holders[1], LEASE_TTL, T0),
            replicas[2].acquire_lease(&name, &holders[2], LEASE_TTL, T0),
            replicas[3].acquire_lease(&name, &holders[3], LEASE_TTL, T0),
        );
        let leases = [r0, r1, r2, r3].map(|r| ok("a racing acquire", r));
        let winners: Vec<usize> = (0..4).filter(|&i| leases[i].holder == holders[i]).collect();
        let [winner] = winners[..] else {
            panic!("round {round}: racing acquirers: expected exactly one holder, got {leases:?}");
        };
        for got in &leases {
            assert_eq!(
                got, &leases[winner],
                "round {round}: every acquirer is told the one holder"
            );
        }
    }
}

/// Guards: a lease is not the state lock and one lease is not another: holding one never stops
/// a run from locking the state, nor a replica from taking another lease, and the reverse.
pub async fn leases_are_apart_from_each_other_and_from_the_state_lock<
    S: StateStore + LeaseStore,
>(
    new_handle: impl Fn() -> S,
) {
    let (a, b) = (new_handle(), new_handle());
    let held = ok(
        "acquire",
        a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0).await,
    );
    let other = ok(
        "acquire another lease",
        b.acquire_lease("access-worker", "replica-b", LEASE_TTL, T0)
            .await,
    );
    assert_eq!(other.holder, "replica-b");
    assert_eq!(other.name, "access-worker");
    let lock = ok(
        "lock the state while a lease is held",
        b.lock(&request("lock-beside-a-lease", T0)).await,
    );
    assert_eq!(
        ok(
            "renew while the state is locked",
            a.acquire_lease(LEASE, "replica-a", LEASE_TTL, T0 + Duration::seconds(1))
                .await
        ),
        lease("replica-a", T0 + Duration::seconds(61))
    );
    assert_eq!(
        ok("current lock", a.current_lock().await),
        Some(lock.clone())
    );
    ok("unlock", b.unlock(&lock).await);
    ok("release", a.release_lease(LEASE, "replica-a").await);
    assert_eq!(
        ok(
            "the other lease after a release",
            a.acquire_lease(
                "access-worker",
                "replica-a",
                LEASE_TTL,
                T0 + Duration::seconds(2)
            )
            .await
        ),
        other,
        "releasing one lease left the other"
    );
    let _ = held;
}

/// One edit of `state`, committed as the next serial: the delta and the state it produces.
fn edited(state: &mut State, change: impl FnOnce(&mut Edit<'_>)) -> Delta {
    let mut edit = Edit::new(state);
    change(&mut edit);
    let touched = edit.into_touched();
    state.serial += 1;
    touched.delta(state)
}

/// A resource whose attribute `blob` is `size` bytes, so a few deltas outweigh the document.
fn bulky(marker: &str, size: usize) -> RecordedResource {
    let mut attributes = serde_json::Map::new();
    attributes.insert(
        "blob".into(),
        serde_json::Value::String(marker.repeat(size / marker.len().max(1))),
    );
    RecordedResource::new(
        "aws_s3_bucket",
        format!("bucket-{marker}"),
        attributes,
        vec![],
    )
}

/// Guards: deltas are replayed in serial order over the document: every kind of entry (resource
/// set, changed in place, removed; pending operation set and removed; access grant set and
/// removed) reads back exactly, by the writer and by another process, across enough writes of
/// bulky resources to pass any compaction bound several times; a full write in between replaces
/// everything before it.
pub async fn deltas_replay_in_serial_order<S: StateStore>(new_handle: impl Fn() -> S) {
    let (store, other) = (new_handle(), new_handle());
    let lock = ok("lock", store.lock(&request("lock-deltas", T0)).await);
    assert_eq!(ok("read", store.read().await), None);
    let mut expected = state("lineage-1", 1, "base");
    ok("first write", store.write(&lock, &expected).await);
    for i in 0..40u64 {
        let delta = edited(&mut expected, |edit| {
            edit.insert_resource(
                format!("aws_s3_bucket.b{}", i % 7),
                bulky(&format!("m{i}-"), 6000),
            );
            if i % 3 == 0 {
                edit.remove_resource(&format!("aws_s3_bucket.b{}", (i + 3) % 7));
            }
            if let Some(record) = edit.resource_mut("aws_s3_bucket.base") {
                record.attributes.insert("n".into(), serde_json::json!(i));
            }
            if i % 2 == 0 {
                edit.insert_pending(
                    format!("aws_vpc.p{i}"),
                    PendingOperation {
                        kind: "aws_vpc".into(),
                        operation: PendingKind::Create,
                        started_at: "2026-01-01T00:00:00Z".into(),
                        lookup: ObjectLookup::default(),
                        dependencies: vec![],
                        attributes: None,
                    },
                );
            } else {
                edit.remove_pending(&format!("aws_vpc.p{}", i - 1));
            }
            match i % 4 {
                0 => edit.set_grant(
                    format!("p{i}@example.com"),
                    AccessGrant {
                        granted_at: "2026-01-01T00:00:00Z".into(),
                        source: "conformance".into(),
                    },
                ),
                2 => {
                    edit.remove_grant(&format!("p{}@example.com", i - 2));
                }
                _ => {}
            }
        });
        ok(
            &format!("delta {}", delta.serial),
            store.write_delta(&lock, &delta, &expected).await,
        );
        if i % 5 == 4 {
            assert_eq!(
                ok("read by another process", other.read().await).as_ref(),
                Some(&expected),
                "after serial {}",
                expected.serial
            );
        }
        if i == 20 {
            expected = state("lineage-1", expected.serial + 1, "whole");
            ok(
                "a full write between deltas",
                store.write(&lock, &expected).await,
            );
        }
    }
    assert_eq!(
        ok("read by the writer", store.read().await),
        Some(expected.clone())
    );
    assert_eq!(
        ok("read by a new process", new_handle().read().await),
        Some(expected)
    );
    ok("unlock", store.unlock(&lock).await);
}

/// Guards: a delta, like a whole write, is refused without the current lock and stores nothing.
pub async fn delta_without_the_lock_is_refused<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let lock = ok("lock", a.lock(&request("lock-delta-a", T0)).await);
    let mut expected = state("lineage-1", 1, "base");
    ok("first write", a.write(&lock, &expected).await);
    ok("unlock", a.unlock(&lock).await);
    let held = ok(
        "lock by another run",
        b.lock(&request("lock-delta-b", T0)).await,
    );
    let delta = edited(&mut expected, |edit| {
        edit.insert_resource("aws_s3_bucket.late", bulky("late", 10));
    });
    expect_not_held(
        a.write_delta(&lock, &delta, &expected).await,
        "lock-delta-a",
        Some(&held),
    );
    assert_eq!(
        ok("read", b.read().await).map(|s| s.serial),
        Some(1),
        "nothing was stored"
    );
    ok("unlock", b.unlock(&held).await);
}

/// Guards: a delta is conditional on the writer's view, as a whole write is: B, which read serial
/// 1, cannot append serial 2 or 3 after A appended serial 2 (B's delta would apply to a state it
/// never saw); after reading again it can.
pub async fn delta_from_a_stale_view_is_refused<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let lock = ok("lock", a.lock(&request("lock-delta-view", T0)).await);
    let base = state("lineage-1", 1, "base");
    ok("base write", a.write(&lock, &base).await);
    assert_eq!(ok("read by A", a.read().await), Some(base.clone()));
    assert_eq!(ok("read by B", b.read().await), Some(base.clone()));

    let mut by_a = base.clone();
    let delta_a = edited(&mut by_a, |edit| {
        edit.insert_resource("aws_s3_bucket.a", bulky("a", 10));
    });
    ok(
        "A appends serial 2",
        a.write_delta(&lock, &delta_a, &by_a).await,
    );
    for serial in [2, 3] {
        let mut by_b = base.clone();
        by_b.serial = serial - 1;
        let delta_b = edited(&mut by_b, |edit| {
            edit.insert_resource("aws_s3_bucket.b", bulky("b", 10));
        });
        match b.write_delta(&lock, &delta_b, &by_b).await {
            Err(StateError::WriteConflict { .. }) => {}
            Err(StateError::StaleSerial { .. }) if serial == 2 => {}
            other => panic!(
                "B's delta serial {serial} from its view of serial 1 over A's serial 2: expected WriteConflict, got {other:?}"
            ),
        }
    }
    assert_eq!(ok("read", new_handle().read().await), Some(by_a.clone()));
    assert_eq!(ok("B reads again", b.read().await), Some(by_a.clone()));
    let mut by_b = by_a;
    let delta_b = edited(&mut by_b, |edit| {
        edit.insert_resource("aws_s3_bucket.b", bulky("b", 10));
    });
    ok(
        "B appends serial 3 from a fresh view",
        b.write_delta(&lock, &delta_b, &by_b).await,
    );
    assert_eq!(ok("read", new_handle().read().await), Some(by_b));
    ok("unlock", a.unlock(&lock).await);
}

/// Guards: of four handles appending serial 2 from one view at the same moment exactly one lands.
pub async fn delta_writers_racing_from_one_view_exactly_one_wins<S: StateStore>(
    new_handle: impl Fn() -> S,
) {
    let writers: [S; 4] = std::array::from_fn(|_| new_handle());
    let lock = ok(
        "lock",
        writers[0].lock(&request("lock-delta-race", T0)).await,
    );
    let base = state("lineage-1", 1, "base");
    ok("base write", writers[0].write(&lock, &base).await);
    for writer in &writers {
        assert_eq!(ok("read", writer.read().await).map(|s| s.serial), Some(1));
    }
    let attempts: [(Delta, State); 4] = std::array::from_fn(|i| {
        let mut next = base.clone();
        let delta = edited(&mut next, |edit| {
            edit.insert_resource(format!("aws_s3_bucket.w{i}"), bulky(&format!("w{i}"), 10));
        });
        (delta, next)
    });
    let (r0, r1, r2, r3) = tokio::join!(
        writers[0].write_delta(&lock, &attempts[0].0, &attempts[0].1),
        writers[1].write_delta(&lock, &attempts[1].0, &attempts[1].1),
        writers[2].write_delta(&lock, &attempts[2].0, &attempts[2].1),
        writers[3].write_delta(&lock, &attempts[3].0, &attempts[3].1),
    );
    let results = [r0, r1, r2, r3];
    let winners: Vec<usize> = (0..4).filter(|&i| results[i].is_ok()).collect();
    let [winner] = winners[..] else {
        panic!("racing delta writers: expected exactly one to win, got {results:?}");
    };
    assert_eq!(
        ok("read", new_handle().read().await).as_ref(),
        Some(&attempts[winner].1),
        "the winner's state is stored"
    );
    ok("unlock", writers[0].unlock(&lock).await);
}

/// Guards: a compaction (the document rewritten whole, the records it holds dropped) does not
/// let a writer behind it slip a delta in: A reads serial 1; B appends bulky deltas well past any
/// compaction bound; A's delta is refused, and the state is B's.
pub async fn a_writer_behind_a_compaction_is_refused<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let lock = ok("lock", a.lock(&request("lock-compaction", T0)).await);
    let base = state("lineage-1", 1, "base");
    ok("base write", a.write(&lock, &base).await);
    assert_eq!(ok("read by A", a.read().await), Some(base.clone()));
    assert_eq!(ok("read by B", b.read().await), Some(base.clone()));
    let mut by_b = base.clone();
    for i in 0..12 {
        let delta = edited(&mut by_b, |edit| {
            edit.insert_resource(format!("aws_s3_bucket.b{i}"), bulky(&format!("b{i}"), 8000));
        });
        ok("B appends", b.write_delta(&lock, &delta, &by_b).await);
    }
    let mut by_a = base;
    let delta = edited(&mut by_a, |edit| {
        edit.insert_resource("aws_s3_bucket.a", bulky("a", 10));
    });
    match a.write_delta(&lock, &delta, &by_a).await {
        Err(StateError::WriteConflict { .. } | StateError::StaleSerial { .. }) => {}
        other => {
            panic!("A's delta serial 2 behind B's serial 13: expected WriteConflict, got {other:?}")
        }
    }
    assert_eq!(ok("read", new_handle().read().await), Some(by_b));
    ok("unlock", a.unlock(&lock).await);
}

/// Guards: a record cut off by a crash mid-append never corrupts the state: the next reader gets
/// the state as of the last complete record, and the next append lands after it (not glued to
/// the torn bytes), so a third process reads it.
pub async fn a_torn_append_is_ignored<S: StateStore>(
    new_handle: impl Fn() -> S,
    tear: impl AsyncFn(),
) {
    let store = new_handle();
    let lock = ok("lock", store.lock(&request("lock-torn", T0)).await);
    assert_eq!(ok("read", store.read().await), None);
    let mut expected = state("lineage-1", 1, "base");
    ok("first write", store.write(&lock, &expected).await);
    for i in 0..2 {
        let delta = edited(&mut expected, |edit| {
            edit.insert_resource(format!("aws_s3_bucket.t{i}"), bulky("t", 100));
        });
        ok("append", store.write_delta(&lock, &delta, &expected).await);
    }
    tear().await;
    let after_crash = new_handle();
    assert_eq!(
        ok("read after a torn append", after_crash.read().await).as_ref(),
        Some(&expected),
        "the state as of the last complete record"
    );
    let delta = edited(&mut expected, |edit| {
        edit.insert_resource("aws_s3_bucket.after", bulky("after", 100));
    });
    ok(
        "append after the torn one",
        after_crash.write_delta(&lock, &delta, &expected).await,
    );
    assert_eq!(
        ok("read by a third process", new_handle().read().await),
        Some(expected)
    );
    ok("unlock", store.unlock(&lock).await);
}

/// Guards: a location never written reads as `None` (not an error, not an empty state of some
/// lineage) and is not locked. The engine starts a new lineage only on `None`.
pub async fn read_of_empty_is_none<S: StateStore>(store: &S) {
    assert_eq!(ok("read of an empty location", store.read().await), None);
    assert_eq!(
        ok(
            "current lock of an empty location",
            store.current_lock().await
        ),
        None
    );
}

/// Guards: what is written is read back field for field (resources with attributes,
/// dependencies and status; pending operations), by the writer and by another process, and a
/// second write replaces the first.
pub async fn write_then_read_round_trips<S: StateStore>(new_handle: impl Fn() -> S) {
    let (store, other) = (new_handle(), new_handle());
    let lock = ok("lock", store.lock(&request("round-trip", T0)).await);

    let mut first = state("lineage-1", 1, "first");
    first.resources.insert(
        "aws_vpc.main".into(),
        RecordedResource {
            kind: "aws_vpc".into(),
            object_id: "vpc-0123".into(),
            attributes: serde_json::json!({ "cidr_block": "10.0.0.0/16", "tags": { "a": "b" } })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            dependencies: vec!["aws_s3_bucket.first".into()],
            status: ResourceStatus::Asleep,
            removal_grace_seconds: Some(3600),
            retiring_since: Some("2026-01-01T00:00:00Z".into()),
        },
    );
    first.pending.insert(
        "aws_nat_gateway.main".into(),
        PendingOperation {
            kind: "aws_nat_gateway".into(),
            operation: PendingKind::Create,
            started_at: "2026-01-01T00:00:00Z".into(),
            lookup: ObjectLookup {
                name: None,
                tags: [(
                    "brickstack:address".to_string(),
                    "aws_nat_gateway.main".to_string(),
                )]
                .into(),
                scope: None,
            },
            dependencies: vec!["aws_vpc.main".into()],
            attributes: Some(serde_json::Map::from_iter([(
                "text".to_string(),
                serde_json::json!("hello"),
            )])),
        },
    );
    first.access_grants.insert(
        "ana@example.com".into(),
        AccessGrant {
            granted_at: "2026-01-01T00:00:00Z".into(),
            source: "cli".into(),
        },
    );
    ok("first write", store.write(&lock, &first).await);
    assert_eq!(
        ok("read by the writer", store.read().await),
        Some(first.clone())
    );
    assert_eq!(
        ok("read by another process", other.read().await),
        Some(first)
    );

    let second = state("lineage-1", 2, "second");
    ok("second write", store.write(&lock, &second).await);
    assert_eq!(
        ok("read after the second write", other.read().await),
        Some(second)
    );
    ok("unlock", store.unlock(&lock).await);
}

/// Guards: the lock is exclusive, and the refusal names the holder (who), its operation and its
/// age, so the user knows whom to ask; the holder can be read back unchanged.
pub async fn second_lock_is_refused_naming_the_holder<S: StateStore>(new_handle: impl Fn() -> S) {
    let (alice, bob) = (new_handle(), new_handle());
    let held = ok(
        "first lock",
        alice
            .lock(&LockRequest {
                id: "lock-alice".into(),
                operation: "apply".into(),
                who: "alice@laptop".into(),
                version: "0.1.0".into(),
                now: T0,
                lease_seconds: LEASE_SECONDS,
            })
            .await,
    );
    assert_eq!(
        held,
        LockInfo {
            id: "lock-alice".into(),
            operation: "apply".into(),
            who: "alice@laptop".into(),
            version: "0.1.0".into(),
            created: T0,
            path: alice.location(),
            heartbeat: T0,
            lease_seconds: LEASE_SECONDS,
        },
        "the lock returned describes the request, at the store's location"
    );

    let later = T0 + Duration::seconds(30);
    let refused = bob
        .lock(&request_by("lock-bob", "bob@ci", "plan", later))
        .await;
    let (age, silent, stale) = expect_locked(refused.clone(), &held);
    assert_eq!((age, silent, stale), (30, 30, false));
    let message = refused.expect_err("refused").to_string();
    for part in ["`alice@laptop`", "`apply`", "30s ago", "`lock-alice`"] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }

    let again = alice.lock(&request("lock-alice-2", later)).await;
    expect_locked(again, &held);
    assert_eq!(ok("current lock", bob.current_lock().await), Some(held));
}

/// Guards: of two processes locking at the same moment exactly one wins, and the loser is told who
/// won. Repeated, so a backend that only sometimes lets both win is likely caught.
pub async fn concurrent_lockers_exactly_one_wins<S: StateStore>(new_handle: impl Fn() -> S) {
    for round in 0..5 {
        let (a, b) = (new_handle(), new_handle());
        let request_a = request_by(&format!("lock-a-{round}"), "a@host", "apply", T0);
        let request_b = request_by(&format!("lock-b-{round}"), "b@host", "destroy", T0);
        let (result_a, result_b) = tokio::join!(a.lock(&request_a), b.lock(&request_b));
        let (winner, winner_store, loser) = match (result_a, result_b) {
            (Ok(won), Err(lost)) => (won, &a, lost),
            (Err(lost), Ok(won)) => (won, &b, lost),
            (Ok(_), Ok(_)) => panic!("round {round}: both lockers got the lock"),
            (Err(ea), Err(eb)) => panic!("round {round}: neither locker got the lock: {ea}; {eb}"),
        };
        expect_locked(Err(loser.clone()), &winner);
        let message = loser.to_string();
        for part in [winner.who.as_str(), winner.operation.as_str(), "0s ago"] {
            assert!(message.contains(part), "`{part}` missing from: {message}");
        }
        ok("unlock by the winner", winner_store.unlock(&winner).await);
    }
}

/// Guards: unlock releases the lock so the next run can take it; an unlock with another id is
/// refused and leaves the holder's lock in place.
pub async fn unlock_then_lock_again<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let held = ok("lock", a.lock(&request("lock-1", T0)).await);
    let impostor = LockInfo {
        id: "not-the-holder".into(),
        ..held.clone()
    };
    expect_not_held(b.unlock(&impostor).await, "not-the-holder", Some(&held));
    assert_eq!(
        ok("current lock", b.current_lock().await),
        Some(held.clone())
    );

    ok("unlock", a.unlock(&held).await);
    assert_eq!(
        ok("current lock after unlock", b.current_lock().await),
        None
    );
    let next = ok(
        "lock after unlock",
        b.lock(&request("lock-2", T0 + Duration::seconds(1))).await,
    );
    expect_not_held(a.unlock(&held).await, "lock-1", Some(&next));
    ok("unlock", b.unlock(&next).await);
    expect_not_held(a.unlock(&held).await, "lock-1", None);
}

/// Guards: locking again with the id already holding the lock returns that lock instead of
/// refusing, so a lock request retried after its answer was lost does not lock its own run out.
pub async fn relock_with_the_same_id_returns_the_held_lock<S: StateStore>(
    new_handle: impl Fn() -> S,
) {
    let (a, retry) = (new_handle(), new_handle());
    let held = ok("lock", a.lock(&request("lock-retried", T0)).await);
    let again = ok(
        "the same lock id again",
        retry
            .lock(&request("lock-retried", T0 + Duration::seconds(5)))
            .await,
    );
    assert_eq!(again, held, "the lock as first taken");
    ok("unlock", a.unlock(&held).await);
}

/// Guards: a heartbeat renews the lease (`silent_seconds` counts from it, so a renewing holder is
/// never reported stale) without changing the lock's age, and only the holder can renew.
pub async fn heartbeat_renews_the_lease<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let held = ok("lock", a.lock(&request("lock-beating", T0)).await);
    let at_100 = T0 + Duration::seconds(100);
    assert!(
        held.is_stale(at_100),
        "without a heartbeat the lease would have expired"
    );

    let renewed = ok(
        "heartbeat",
        a.heartbeat(&held, T0 + Duration::seconds(50)).await,
    );
    assert_eq!(renewed.heartbeat, T0 + Duration::seconds(50));
    assert_eq!(
        LockInfo {
            heartbeat: held.heartbeat,
            ..renewed.clone()
        },
        held,
        "a heartbeat changes nothing but the heartbeat"
    );
    assert_eq!(
        ok("current lock", b.current_lock().await),
        Some(renewed.clone())
    );

    let (age, silent, stale) = expect_locked(b.lock(&request("lock-other", at_100)).await, &held);
    assert_eq!((age, silent, stale), (100, 50, false));

    let impostor = LockInfo {
        id: "not-the-holder".into(),
        ..renewed.clone()
    };
    expect_not_held(
        b.heartbeat(&impostor, at_100).await,
        "not-the-holder",
        Some(&renewed),
    );
    ok("unlock", a.unlock(&held).await);
    expect_not_held(a.heartbeat(&held, at_100).await, "lock-beating", None);
}

/// Guards: a lock whose holder stopped heartbeating (a crashed run) is reported to the next locker
/// as stale, with its age and a hint naming `force-unlock` and the lock id; it is not taken over
/// silently.
pub async fn stale_lease_is_reported_with_its_age<S: StateStore>(new_handle: impl Fn() -> S) {
    let (crashed, next) = (new_handle(), new_handle());
    let two_hours_ago = T0 - Duration::hours(2);
    let held = ok(
        "lock two hours ago",
        crashed
            .lock(&request_by(
                "lock-crashed",
                "ci@runner-7",
                "apply",
                two_hours_ago,
            ))
            .await,
    );

    let refused = next.lock(&request("lock-next", T0)).await;
    let (age, silent, stale) = expect_locked(refused.clone(), &held);
    assert_eq!((age, silent, stale), (7200, 7200, true));
    let error = refused.expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("7200s ago"), "{message}");
    assert!(message.contains("no heartbeat for 7200s"), "{message}");
    let hint = error.hint().unwrap_or_default();
    assert!(
        hint.contains("force-unlock") && hint.contains("lock-crashed"),
        "{hint}"
    );
    assert_eq!(
        ok("current lock", next.current_lock().await),
        Some(held),
        "a stale lock stays until it is force-unlocked"
    );
}

/// Guards: `force-unlock` removes the lock with the given id whoever holds it, refuses another id
/// (naming the actual holder, and leaving it), and the removed holder can no longer write.
pub async fn force_unlock_removes_a_lock_by_id<S: StateStore>(new_handle: impl Fn() -> S) {
    let (stuck, operator) = (new_handle(), new_handle());
    let held = ok("lock", stuck.lock(&request("lock-stuck", T0)).await);

    expect_not_held(
        operator.force_unlock("not-a-lock-id").await,
        "not-a-lock-id",
        Some(&held),
    );
    assert_eq!(
        ok("current lock", operator.current_lock().await),
        Some(held.clone())
    );

    ok("force-unlock", operator.force_unlock("lock-stuck").await);
    assert_eq!(
        ok(
            "current lock after force-unlock",
            operator.current_lock().await
        ),
        None
    );
    let next = ok(
        "lock after force-unlock",
        operator
            .lock(&request("lock-operator", T0 + Duration::seconds(1)))
            .await,
    );
    expect_not_held(
        stuck.write(&held, &state("lineage-1", 1, "stuck")).await,
        "lock-stuck",
        Some(&next),
    );
    ok("unlock", operator.unlock(&next).await);
    expect_not_held(
        operator.force_unlock("lock-stuck").await,
        "lock-stuck",
        None,
    );
}

/// Guards: only the lock holder writes: a write with no lock taken, or with a lock that is not the
/// current one, is refused and stores nothing.
pub async fn write_without_the_lock_is_refused<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let never_taken = LockInfo::from_request(&request("lock-never-taken", T0), a.location());
    expect_not_held(
        a.write(&never_taken, &state("lineage-1", 1, "a")).await,
        "lock-never-taken",
        None,
    );
    let held = ok("lock by another run", b.lock(&request("lock-b", T0)).await);
    expect_not_held(
        a.write(&never_taken, &state("lineage-1", 1, "a")).await,
        "lock-never-taken",
        Some(&held),
    );
    assert_eq!(ok("read", b.read().await), None, "nothing was stored");
    ok("unlock", b.unlock(&held).await);
}

/// Guards: a state of another lineage (another environment's history, or a state started afresh)
/// never overwrites the stored one.
pub async fn write_of_another_lineage_is_refused<S: StateStore>(store: &S) {
    let lock = ok("lock", store.lock(&request("lock-lineage", T0)).await);
    let stored = state("lineage-dev", 1, "dev");
    ok("first write", store.write(&lock, &stored).await);
    match store.write(&lock, &state("lineage-prod", 2, "prod")).await {
        Err(StateError::LineageMismatch { stored, attempted }) => {
            assert_eq!(
                (stored.as_str(), attempted.as_str()),
                ("lineage-dev", "lineage-prod")
            );
        }
        other => panic!("expected LineageMismatch, got {other:?}"),
    }
    assert_eq!(ok("read", store.read().await), Some(stored));
    ok("unlock", store.unlock(&lock).await);
}

/// Guards: a write never goes back in time: a serial equal to or below the stored one is refused
/// and the stored state is kept.
pub async fn write_of_a_serial_not_above_the_stored_one_is_refused<S: StateStore>(store: &S) {
    let lock = ok("lock", store.lock(&request("lock-serial", T0)).await);
    ok(
        "write 1",
        store.write(&lock, &state("lineage-1", 1, "one")).await,
    );
    let stored = state("lineage-1", 2, "two");
    ok("write 2", store.write(&lock, &stored).await);
    for attempted in [2, 1] {
        match store
            .write(&lock, &state("lineage-1", attempted, "old"))
            .await
        {
            Err(StateError::StaleSerial {
                stored: 2,
                attempted: a,
            }) if a == attempted => {}
            other => panic!("serial {attempted}: expected StaleSerial, got {other:?}"),
        }
    }
    assert_eq!(ok("read", store.read().await), Some(stored));
    ok(
        "write 3",
        store.write(&lock, &state("lineage-1", 3, "three")).await,
    );
    ok("unlock", store.unlock(&lock).await);
}

/// Guards: a write is conditional on what the writing handle last read or wrote. Two handles both
/// pass the lock check (the window after a `force-unlock` of a live run) and read serial 1; A writes
/// serial 2. B's serial 2 is refused, and so is B's serial 3, which passes the serial rule but
/// would silently drop A's changes: only a write conditional on B's view (an ETag, a re-read)
/// refuses it. After reading again, B may write.
pub async fn write_from_a_stale_view_is_refused<S: StateStore>(new_handle: impl Fn() -> S) {
    let (a, b) = (new_handle(), new_handle());
    let lock = ok("lock", a.lock(&request("lock-shared", T0)).await);
    ok(
        "base write",
        a.write(&lock, &state("lineage-1", 1, "base")).await,
    );
    let base = ok("read by A", a.read().await);
    assert_eq!(ok("read by B", b.read().await), base);

    let by_a = state("lineage-1", 2, "a");
    ok("A writes serial 2", a.write(&lock, &by_a).await);
    match b.write(&lock, &state("lineage-1", 2, "b")).await {
        Err(StateError::StaleSerial { .. } | StateError::WriteConflict { .. }) => {}
        other => {
            panic!("B's serial 2 over A's: expected StaleSerial or WriteConflict, got {other:?}")
        }
    }
    match b.write(&lock, &state("lineage-1", 3, "b")).await {
        Err(StateError::WriteConflict { .. }) => {}
        other => panic!(
            "B's serial 3, written from its view of serial 1 over A's serial 2: expected WriteConflict, got {other:?}"
        ),
    }
    assert_eq!(ok("read", new_handle().read().await), Some(by_a.clone()));

    assert_eq!(ok("B reads again", b.read().await), Some(by_a));
    ok(
        "B writes serial 3 from a fresh view",
        b.write(&lock, &state("lineage-1", 3, "b")).await,
    );
    ok("unlock", a.unlock(&lock).await);
}

/// Guards: a handle that read "no state" does not overwrite a state another process created since:
/// not with the same serial, not with a higher one, not with another lineage.
pub async fn creating_a_state_created_since_reading_none_is_refused<S: StateStore>(
    new_handle: impl Fn() -> S,
) {
    let (a, b) = (new_handle(), new_handle());
    let lock = ok("lock", a.lock(&request("lock-create", T0)).await);
    assert_eq!(ok("read by A", a.read().await), None);
    assert_eq!(ok("read by B", b.read().await), None);
    let by_a = state("lineage-a", 1, "a");
    ok("A creates the state", a.write(&lock, &by_a).await);

    for attempt in [
        state("lineage-a", 1, "b"),
        state("lineage-a", 5, "b"),
        state("lineage-b", 1, "b"),
    ] {
        match b.write(&lock, &attempt).await {
            Err(
                StateError::StaleSerial { .. }
                | StateError::WriteConflict { .. }
                | StateError::LineageMismatch { .. },
            ) => {}
            other => panic!(
                "B creating lineage `{}` serial {} over A's state: expected a refusal, got {other:?}",
                attempt.lineage, attempt.serial
            ),
        }
    }
    assert_eq!(ok("read", new_handle().read().await), Some(by_a));
    ok("unlock", a.unlock(&lock).await);
}

/// Guards: the condition is checked in the same atomic step as the write. Four handles read
/// serial 1 and then write serial 2 at the same moment; exactly one write lands and the others are
/// refused. A backend that compares views first and then writes unconditionally lets every writer
/// that compared before the first write landed win, silently dropping the other writers' changes.
pub async fn writers_racing_from_one_view_exactly_one_wins<S: StateStore>(
    new_handle: impl Fn() -> S,
) {
    let writers: [S; 4] = std::array::from_fn(|_| new_handle());
    let lock = ok("lock", writers[0].lock(&request("lock-race", T0)).await);
    ok(
        "base write",
        writers[0]
            .write(&lock, &state("lineage-1", 1, "base"))
            .await,
    );
    for writer in &writers {
        let read = ok("read", writer.read().await);
        assert_eq!(read.map(|s| s.serial), Some(1));
    }
    let attempts: [State; 4] = std::array::from_fn(|i| state("lineage-1", 2, &format!("w{i}")));
    let (r0, r1, r2, r3) = tokio::join!(
        writers[0].write(&lock, &attempts[0]),
        writers[1].write(&lock, &attempts[1]),
        writers[2].write(&lock, &attempts[2]),
        writers[3].write(&lock, &attempts[3]),
    );
    let results = [r0, r1, r2, r3];
    let winners: Vec<usize> = (0..4).filter(|&i| results[i].is_ok()).collect();
    let [winner] = winners[..] else {
        panic!("racing writers: expected exactly one to win, got {results:?}");
    };
    for result in &results {
        match result {
            Ok(()) | Err(StateError::StaleSerial { .. } | StateError::WriteConflict { .. }) => {}
            Err(other) => panic!("a racing writer was refused with {other:?}"),
        }
    }
    assert_eq!(
        ok("read", new_handle().read().await).as_ref(),
        Some(&attempts[winner]),
        "the winner's state is stored"
    );
    ok("unlock", writers[0].unlock(&lock).await);
}

fn ok<T>(what: &str, result: Result<T, StateError>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e} ({e:?})"))
}

fn request(id: &str, now: OffsetDateTime) -> LockRequest {
    request_by(id, "conformance@test", "apply", now)
}

fn request_by(id: &str, who: &str, operation: &str, now: OffsetDateTime) -> LockRequest {
    LockRequest {
        id: id.into(),
        operation: operation.into(),
        who: who.into(),
        version: "0.1.0".into(),
        now,
        lease_seconds: LEASE_SECONDS,
    }
}

/// A state whose one resource is named after `marker`, so two writers' states differ.
fn state(lineage: &str, serial: u64, marker: &str) -> State {
    let mut state = State::new("conformance", lineage);
    state.serial = serial;
    state.resources.insert(
        format!("aws_s3_bucket.{marker}"),
        RecordedResource {
            kind: "aws_s3_bucket".into(),
            object_id: format!("bucket-{marker}-{serial}"),
            attributes: serde_json::Map::from_iter([(
                "bucket".to_string(),
                serde_json::Value::String(format!("bucket-{marker}-{serial}")),
            )]),
            dependencies: vec![],
            status: ResourceStatus::Live,
            removal_grace_seconds: None,
            retiring_since: None,
        },
    );
    state
}

/// Asserts a `Locked` refusal naming `holder`; returns its age, silence and staleness.
fn expect_locked(result: Result<LockInfo, StateError>, holder: &LockInfo) -> (u64, u64, bool) {
    match result {
        Err(StateError::Locked {
            holder: reported,
            age_seconds,
            silent_seconds,
            stale,
        }) => {
            assert_eq!(
                LockInfo {
                    heartbeat: holder.heartbeat,
                    ..reported
                },
                *holder,
                "the refusal names the holder"
            );
            (age_seconds, silent_seconds, stale)
        }
        other => panic!("expected Locked by `{}`, got {other:?}", holder.id),
    }
}

/// Asserts a `LockNotHeld` refusal for `id` naming the actual holder, if any.
fn expect_not_held<T: std::fmt::Debug>(
    result: Result<T, StateError>,
    id: &str,
    current: Option<&LockInfo>,
) {
    match result {
        Err(StateError::LockNotHeld {
            id: refused,
            current: actual,
        }) => {
            assert_eq!(refused, id);
            assert_eq!(
                actual.as_ref().map(|l| &l.id),
                current.map(|l| &l.id),
                "the refusal names the actual holder"
            );
        }
        other => panic!("expected LockNotHeld for `{id}`, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    //! The suite against an in-memory store, correct and with one flaw at a time: the suite must
    //! pass the first and catch each flaw.

    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::document::check_write;

    #[derive(Default, Clone, Copy)]
    struct Flaws {
        shared_lock: bool,
        unchecked_writer: bool,
        no_view: bool,
        racy_condition: bool,
        /// Deltas appended without comparing the stored state with the writer's view.
        delta_ignores_view: bool,
        /// The next record appended right after a torn one, not in its place.
        appends_after_torn_bytes: bool,
        /// A compaction that drops the records but keeps the old document.
        compaction_loses_records: bool,
        /// Any holder takes a lease, expired or not.
        lease_taken_by_anyone: bool,
        /// An expired lease is never taken over.
        lease_never_expires: bool,
        /// A renewal keeps the first term's expiry.
        renewal_keeps_expiry: bool,
        /// Any replica's release frees the lease.
        lease_released_by_anyone: bool,
        /// A lease checked, then written in a second step.
        racy_lease: bool,
    }

    /// A document and its journal, as a file-like backend keeps them.
    #[derive(Default)]
    struct Stored {
        document: Option<State>,
        journal: Vec<u8>,
        lock: Option<LockInfo>,
        leases: std::collections::BTreeMap<String, Lease>,
    }

    impl Stored {
        fn replayed(&self) -> Result<crate::delta::Replayed, StateError> {
            crate::delta::replay(self.document.clone(), &self.journal)
        }
    }

    struct MemoryStore {
        location: String,
        stored: Arc<Mutex<Stored>>,
        /// Lineage and serial this handle last read or wrote; `Some(None)`: read "no state".
        view: Mutex<Option<Option<(String, u64)>>>,
        flaws: Flaws,
    }

    impl MemoryStore {
        fn not_held(&self, id: &str, stored: &Stored) -> StateError {
            StateError::LockNotHeld {
                id: id.into(),
                current: stored.lock.clone(),
            }
        }

        fn held<'a>(
            &self,
            id: &str,
            stored: &'a mut Stored,
        ) -> Result<&'a mut LockInfo, StateError> {
            if stored.lock.as_ref().is_none_or(|l| l.id != id) {
                return Err(self.not_held(id, stored));
            }
            Ok(stored.lock.as_mut().expect("checked above"))
        }
    }

    fn version(state: Option<&State>) -> Option<(String, u64)> {
        state.map(|s| (s.lineage.clone(), s.serial))
    }

    impl StateStore for MemoryStore {
        fn location(&self) -> String {
            self.location.clone()
        }

        async fn lock(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
            let mut stored = self.stored.lock().unwrap();
            match &stored.lock {
                Some(holder) if holder.id == request.id => Ok(holder.clone()),
                Some(holder) if !self.flaws.shared_lock => {
                    Err(StateError::locked(holder.clone(), request.now))
                }
                _ => {
                    let info = LockInfo::from_request(request, self.location());
                    stored.lock = Some(info.clone());
                    Ok(info)
                }
            }
        }

        async fn heartbeat(
            &self,
            lock: &LockInfo,
            now: OffsetDateTime,
        ) -> Result<LockInfo, StateError> {
            let mut stored = self.stored.lock().unwrap();
            let held = self.held(&lock.id, &mut stored)?;
            held.heartbeat = now;
            Ok(held.clone())
        }

        async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
            self.force_unlock(&lock.id).await
        }

        async fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
            let mut stored = self.stored.lock().unwrap();
            self.held(lock_id, &mut stored)?;
            stored.lock = None;
            Ok(())
        }

        async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
            Ok(self.stored.lock().unwrap().lock.clone())
        }

        async fn read(&self) -> Result<Option<State>, StateError> {
            let state = self.stored.lock().unwrap().replayed()?.state;
            *self.view.lock().unwrap() = Some(version(state.as_ref()));
            Ok(state)
        }

        async fn write_delta(
            &self,
            lock: &LockInfo,
            delta: &Delta,
            state: &State,
        ) -> Result<(), StateError> {
            let mut stored = self.stored.lock().unwrap();
            if stored.lock.as_ref().map(|l| &l.id) != Some(&lock.id) {
                return Err(self.not_held(&lock.id, &stored));
            }
            let replayed = stored.replayed()?;
            check_write(replayed.state.as_ref(), state)?;
            let seen = self.view.lock().unwrap().clone();
            if !self.flaws.delta_ignores_view
                && seen.as_ref() != Some(&version(replayed.state.as_ref()))
            {
                return Err(StateError::WriteConflict {
                    detail: "changed since this handle read it".into(),
                });
            }
            if replayed.state.is_none() {
                stored.document = Some(state.clone());
            } else {
                if !self.flaws.appends_after_torn_bytes {
                    stored.journal.truncate(replayed.intact_bytes);
                }
                stored.journal.extend(delta.to_json_line());
                let document_bytes = stored.document.as_ref().map_or(0, |d| d.to_json().len());
                if crate::delta::compaction_due(stored.journal.len() as u64, document_bytes as u64)
                {
                    if !self.flaws.compaction_loses_records {
                        stored.document = Some(state.clone());
                    }
                    stored.journal.clear();
                }
            }
            *self.view.lock().unwrap() = Some(version(Some(state)));
            Ok(())
        }

        async fn write(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
            {
                let stored = self.stored.lock().unwrap();
                if !self.flaws.unchecked_writer
                    && stored.lock.as_ref().map(|l| &l.id) != Some(&lock.id)
                {
                    return Err(self.not_held(&lock.id, &stored));
                }
                let stored_state = stored.replayed()?.state;
                check_write(stored_state.as_ref(), state)?;
                let seen = self.view.lock().unwrap().clone();
                if let Some(seen) = seen
                    && !self.flaws.no_view
                    && seen != version(stored_state.as_ref())
                {
                    return Err(StateError::WriteConflict {
                        detail: "changed since this handle read it".into(),
                    });
                }
            }
            if self.flaws.racy_condition {
                // Checked above, written below: others may write in between.
                tokio::task::yield_now().await;
            }
            {
                let mut stored = self.stored.lock().unwrap();
                stored.document = Some(state.clone());
                stored.journal.clear();
            }
            *self.view.lock().unwrap() = Some(version(Some(state)));
            Ok(())
        }
    }

    impl LeaseStore for MemoryStore {
        async fn acquire_lease(
            &self,
            name: &str,
            holder: &str,
            ttl: std::time::Duration,
            now: OffsetDateTime,
        ) -> Result<Lease, StateError> {
            let current = self.stored.lock().unwrap().leases.get(name).cloned();
            if let Some(current) = &current {
                let expired = current.expires_at <= now && !self.flaws.lease_never_expires;
                if current.holder != holder && !expired && !self.flaws.lease_taken_by_anyone {
                    return Ok(current.clone());
                }
            }
            if self.flaws.racy_lease {
                tokio::task::yield_now().await;
            }
            let expires_at = match &current {
                Some(c) if c.holder == holder && self.flaws.renewal_keeps_expiry => c.expires_at,
                _ => now + ttl,
            };
            let taken = Lease {
                name: name.into(),
                holder: holder.into(),
                expires_at,
            };
            self.stored
                .lock()
                .unwrap()
                .leases
                .insert(name.into(), taken.clone());
            Ok(taken)
        }

        async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StateError> {
            let mut stored = self.stored.lock().unwrap();
            if stored
                .leases
                .get(name)
                .is_some_and(|l| l.holder == holder || self.flaws.lease_released_by_anyone)
            {
                stored.leases.remove(name);
            }
            Ok(())
        }
    }

    async fn run_with(flaws: Flaws) {
        let locations: Mutex<std::collections::BTreeMap<String, Arc<Mutex<Stored>>>> =
            Mutex::default();
        let at = |name: &str| {
            locations
                .lock()
                .unwrap()
                .entry(name.to_string())
                .or_default()
                .clone()
        };
        run_all(
            |name| MemoryStore {
                location: format!("memory://{name}"),
                stored: at(name),
                view: Mutex::new(None),
                flaws,
            },
            async |name| {
                at(name)
                    .lock()
                    .unwrap()
                    .journal
                    .extend_from_slice(br#"{"lineage":"lineage-1","serial":"#);
            },
        )
        .await;
        run_leases(|name| MemoryStore {
            location: format!("memory://{name}"),
            stored: at(name),
            view: Mutex::new(None),
            flaws,
        })
        .await;
    }

    #[tokio::test]
    async fn a_correct_store_passes() {
        run_with(Flaws::default()).await;
    }

    #[tokio::test]
    #[should_panic(expected = "expected Locked by `lock-alice`")]
    async fn a_store_whose_lock_is_not_exclusive_fails() {
        run_with(Flaws {
            shared_lock: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "expected LockNotHeld for `lock-stuck`")]
    async fn a_store_that_lets_anyone_write_fails() {
        run_with(Flaws {
            unchecked_writer: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "racing writers: expected exactly one to win")]
    async fn a_store_that_checks_then_writes_in_two_steps_fails() {
        run_with(Flaws {
            racy_condition: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "expected WriteConflict")]
    async fn a_store_whose_deltas_ignore_the_writers_view_fails() {
        run_with(Flaws {
            delta_ignores_view: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "read by a third process")]
    async fn a_store_that_appends_after_a_torn_record_fails() {
        run_with(Flaws {
            appends_after_torn_bytes: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "delta 5")]
    async fn a_store_whose_compaction_loses_records_fails() {
        run_with(Flaws {
            compaction_loses_records: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "expected WriteConflict")]
    async fn a_store_whose_writes_ignore_the_writers_view_fails() {
        run_with(Flaws {
            no_view: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "the other replica gets the holder's lease back")]
    async fn a_store_whose_lease_anyone_takes_fails() {
        run_with(Flaws {
            lease_taken_by_anyone: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "an acquire at expiry takes the lease")]
    async fn a_store_whose_leases_never_expire_fails() {
        run_with(Flaws {
            lease_never_expires: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "a renewal runs from its own `now`")]
    async fn a_store_whose_renewals_do_not_extend_fails() {
        run_with(Flaws {
            renewal_keeps_expiry: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "still the holder's after another replica's release")]
    async fn a_store_that_lets_anyone_release_a_lease_fails() {
        run_with(Flaws {
            lease_released_by_anyone: true,
            ..Flaws::default()
        })
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "racing acquirers: expected exactly one holder")]
    async fn a_store_that_checks_then_takes_a_lease_in_two_steps_fails() {
        run_with(Flaws {
            racy_lease: true,
            ..Flaws::default()
        })
        .await;
    }
}
