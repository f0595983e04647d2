//! One active replica: a lease on the state lock table (`LeaseStore`), taken and renewed every
//! third of its time to live. The replica holding it acts (the access worker, the monitor); the
//! others stand by and take it once it has expired. A replica that cannot renew stops acting a
//! third of the lease before it could expire, so two never act at once while clocks agree.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use brickstack_monitor::Leadership;
use brickstack_state::LeaseStore;
use time::OffsetDateTime;
use tokio::sync::watch;

/// The lease's name on the lock table.
pub const SERVE_LEASE: &str = "serve";

type Campaign =
    Box<dyn FnOnce(watch::Receiver<bool>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A replica's election, ready to run beside the service; see [`election`].
pub struct Election {
    campaign: Campaign,
}

impl Election {
    /// Runs until `stop`, then gives the lease up (so a standby takes over at once).
    pub(crate) async fn run(self, stop: watch::Receiver<bool>) {
        (self.campaign)(stop).await;
    }
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election").finish_non_exhaustive()
    }
}

/// The election of replica `holder` on `store` for a lease of `ttl`, and the channel where its
/// result shows (standby until the first lease is taken).
pub fn election<L: LeaseStore + 'static>(
    store: L,
    holder: String,
    ttl: Duration,
) -> (Election, watch::Receiver<Leadership>) {
    let (tell, leadership) = watch::channel(Leadership::default());
    let campaign: Campaign =
        Box::new(move |stop| Box::pin(campaign(store, holder, ttl, tell, stop)));
    (Election { campaign }, leadership)
}

/// No election: this process alone acts (one replica, or a test).
pub fn sole_replica() -> watch::Receiver<Leadership> {
    let (tell, leadership) = watch::channel(Leadership {
        active: true,
        leader: None,
    });
    // The receiver keeps the last value after the sender is gone.
    drop(tell);
    leadership
}

async fn campaign<L: LeaseStore>(
    store: L,
    holder: String,
    ttl: Duration,
    tell: watch::Sender<Leadership>,
    mut stop: watch::Receiver<bool>,
) {
    let every = ttl / 3;
    // Until when this replica may act on the strength of its last renewal.
    let mut acting_until: Option<OffsetDateTime> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        let now = OffsetDateTime::now_utc();
        let next = match store.acquire_lease(SERVE_LEASE, &holder, ttl, now).await {
            Ok(lease) => {
                let active = lease.held_by(&holder, now);
                acting_until = active.then(|| lease.expires_at - every);
                Leadership {
                    active,
                    leader: Some(lease.holder),
                }
            }
            Err(error) => {
                let still = acting_until.is_some_and(|until| OffsetDateTime::now_utc() < until);
                tracing::warn!(%error, acting = still, "cannot renew the service's lease");
                if !still {
                    acting_until = None;
                }
                Leadership {
                    active: still,
                    leader: tell.borrow().leader.clone(),
                }
            }
        };
        let was = tell.borrow().active;
        if next.active != was {
            if next.active {
                tracing::info!(replica = %holder, "this replica holds the lease: acting");
            } else {
                tracing::warn!(replica = %holder, leader = ?next.leader, "this replica does not hold the lease: standing by");
            }
        }
        tell.send_replace(next);
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    let was_active = tell.borrow().active;
    tell.send_replace(Leadership {
        active: false,
        leader: None,
    });
    if was_active {
        match store.release_lease(SERVE_LEASE, &holder).await {
            Ok(()) => tracing::info!(replica = %holder, "lease given up"),
            Err(error) => tracing::warn!(%error, "cannot give the lease up; it expires by itself"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use brickstack_state::{Lease, StateError};

    use super::*;

    /// An in-memory lock table shared by replicas.
    #[derive(Clone, Default)]
    struct Table(Arc<Mutex<HashMap<String, Lease>>>);

    impl LeaseStore for Table {
        async fn acquire_lease(
            &self,
            name: &str,
            holder: &str,
            ttl: Duration,
            now: OffsetDateTime,
        ) -> Result<Lease, StateError> {
            let mut leases = self.0.lock().unwrap();
            let free = leases
                .get(name)
                .is_none_or(|l| l.expires_at <= now || l.holder == holder);
            if free {
                leases.insert(
                    name.into(),
                    Lease {
                        name: name.into(),
                        holder: holder.into(),
                        expires_at: now + ttl,
                    },
                );
            }
            Ok(leases[name].clone())
        }

        async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StateError> {
            let mut leases = self.0.lock().unwrap();
            if leases.get(name).is_some_and(|l| l.holder == holder) {
                leases.remove(name);
            }
            Ok(())
        }
    }

    async fn wait_for(leadership: &mut watch::Receiver<Leadership>, active: bool) {
        tokio::time::timeout(
            Duration::from_secs(10),
            leadership.wait_for(|l| l.active == active),
        )
        .await
        .expect("leadership changes in time")
        .expect("election still running");
    }

    #[tokio::test]
    async fn one_replica_acts_and_the_other_takes_over_when_it_stops() {
        let table = Table::default();
        let ttl = Duration::from_millis(600);
        let (a, mut a_lead) = election(table.clone(), "a".into(), ttl);
        let (stop_a, a_stop) = watch::channel(false);
        let a_task = tokio::spawn(a.run(a_stop));
        wait_for(&mut a_lead, true).await;

        let (b, mut b_lead) = election(table.clone(), "b".into(), ttl);
        let (stop_b, b_stop) = watch::channel(false);
        let b_task = tokio::spawn(b.run(b_stop));
        tokio::time::sleep(ttl * 2).await;
        assert!(a_lead.borrow().active);
        assert!(!b_lead.borrow().active, "two replicas acting");
        assert_eq!(b_lead.borrow().leader.as_deref(), Some("a"));

        stop_a.send_replace(true);
        a_task.await.unwrap();
        wait_for(&mut b_lead, true).await;
        stop_b.send_replace(true);
        b_task.await.unwrap();
        assert!(table.0.lock().unwrap().is_empty(), "the lease was given up");
    }

    #[tokio::test]
    async fn a_dead_replica_is_replaced_after_its_lease_expires() {
        let table = Table::default();
        let ttl = Duration::from_millis(600);
        let (a, mut a_lead) = election(table.clone(), "a".into(), ttl);
        let (_stop_a, a_stop) = watch::channel(false);
        let a_task = tokio::spawn(a.run(a_stop));
        wait_for(&mut a_lead, true).await;
        // Killed: no release.
        a_task.abort();
        let (b, mut b_lead) = election(table.clone(), "b".into(), ttl);
        let (_stop_b, b_stop) = watch::channel(false);
        let _b_task = tokio::spawn(b.run(b_stop));
        wait_for(&mut b_lead, true).await;
        assert_eq!(b_lead.borrow().leader.as_deref(), Some("b"));
    }
}
