//! The state backend a spec names, behind one type the engine can use.

use brickstack_aws::AwsClients;
use brickstack_aws::state_backend::S3Store;
use brickstack_spec::{Spec, StateBackend};
use brickstack_state::{
    Delta, Lease, LeaseStore, LockInfo, LockRequest, State, StateError, StateStore,
};
use brickstack_state_local::LocalStore;
use time::OffsetDateTime;

/// `local` (the embedded default) or `s3`.
pub enum Backend {
    Local(LocalStore),
    S3(S3Store),
}

impl Backend {
    /// The backend of `spec`; S3 clients come from the standard AWS chain in the state's region
    /// (the exit code when it cannot be used, after saying why).
    pub async fn for_spec(spec: &Spec) -> Result<Backend, std::process::ExitCode> {
        Ok(match &spec.state {
            StateBackend::Local { path } => Backend::Local(LocalStore::new(path)),
            StateBackend::S3(s3) => {
                let config = crate::aws::sdk_config(&s3.region).await?;
                let clients = AwsClients::new(&config);
                Backend::S3(S3Store::new(
                    &clients,
                    &s3.bucket,
                    &s3.key,
                    &s3.lock_table,
                    format!("alias/{}", s3.kms_key_alias),
                ))
            }
        })
    }
}

impl StateStore for Backend {
    fn location(&self) -> String {
        match self {
            Backend::Local(b) => b.location(),
            Backend::S3(b) => b.location(),
        }
    }
    async fn lock(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
        match self {
            Backend::Local(b) => b.lock(request).await,
            Backend::S3(b) => b.lock(request).await,
        }
    }
    async fn heartbeat(
        &self,
        lock: &LockInfo,
        now: OffsetDateTime,
    ) -> Result<LockInfo, StateError> {
        match self {
            Backend::Local(b) => b.heartbeat(lock, now).await,
            Backend::S3(b) => b.heartbeat(lock, now).await,
        }
    }
    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.unlock(lock).await,
            Backend::S3(b) => b.unlock(lock).await,
        }
    }
    async fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.force_unlock(lock_id).await,
            Backend::S3(b) => b.force_unlock(lock_id).await,
        }
    }
    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        match self {
            Backend::Local(b) => b.current_lock().await,
            Backend::S3(b) => b.current_lock().await,
        }
    }
    async fn read(&self) -> Result<Option<State>, StateError> {
        match self {
            Backend::Local(b) => b.read().await,
            Backend::S3(b) => b.read().await,
        }
    }
    async fn write(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.write(lock, state).await,
            Backend::S3(b) => b.write(lock, state).await,
        }
    }
    // Forwarded, not left to the trait's default (a whole write): the journal is what keeps a
    // write's cost independent of the state's size.
    async fn write_delta(
        &self,
        lock: &LockInfo,
        delta: &Delta,
        state: &State,
    ) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.write_delta(lock, delta, state).await,
            Backend::S3(b) => b.write_delta(lock, delta, state).await,
        }
    }
}

/// The monitor's leader election on the spec's backend (docs/monitor.md, "Replicas").
impl LeaseStore for Backend {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Lease, StateError> {
        match self {
            Backend::Local(b) => b.acquire_lease(name, holder, ttl, now).await,
            Backend::S3(b) => b.acquire_lease(name, holder, ttl, now).await,
        }
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.release_lease(name, holder).await,
            Backend::S3(b) => b.release_lease(name, holder).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brickstack_state::{Edit, RecordedResource};

    /// A delta written through `Backend` reaches the store's journal: one line appended, the
    /// document not rewritten.
    #[tokio::test]
    async fn deltas_reach_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalStore::new(dir.path().join("state/dev.json"));
        let journal = local.journal_path().to_path_buf();
        let backend = Backend::Local(local);
        let lock = backend
            .lock(&LockRequest {
                id: "lock-1".into(),
                operation: "apply".into(),
                who: "test".into(),
                version: "0".into(),
                now: OffsetDateTime::now_utc(),
                lease_seconds: 60,
            })
            .await
            .unwrap();
        assert_eq!(backend.read().await.unwrap(), None);
        let mut state = State::new("dev", "lineage-1");
        state.serial = 1;
        backend.write(&lock, &state).await.unwrap();
        let mut edit = Edit::new(&mut state);
        edit.insert_resource(
            "aws_vpc.main",
            RecordedResource::new("aws_vpc", "vpc-1", serde_json::Map::new(), vec![]),
        );
        let touched = edit.into_touched();
        state.serial += 1;
        backend
            .write_delta(&lock, &touched.delta(&state), &state)
            .await
            .unwrap();
        let lines = std::fs::read_to_string(&journal).unwrap().lines().count();
        assert_eq!(lines, 1, "the delta was journaled, not written whole");
        backend.unlock(&lock).await.unwrap();
    }

    /// A lease through `Backend` is the store's: its file appears beside the state, and another
    /// holder is refused.
    #[tokio::test]
    async fn leases_reach_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalStore::new(dir.path().join("state/dev.json"));
        let lease_file = local.lease_path("monitor");
        let backend = Backend::Local(local);
        let now = OffsetDateTime::now_utc();
        let ttl = std::time::Duration::from_secs(60);
        let held = backend
            .acquire_lease("monitor", "a", ttl, now)
            .await
            .unwrap();
        assert!(lease_file.is_file());
        let refused = backend
            .acquire_lease("monitor", "b", ttl, now)
            .await
            .unwrap();
        assert_eq!(refused, held);
        backend.release_lease("monitor", "a").await.unwrap();
        assert!(!lease_file.exists());
    }
}
