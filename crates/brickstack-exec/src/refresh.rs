//! Refresh: what the cloud has now for every live recorded object, one batched read per kind,
//! the kinds read concurrently.

use std::collections::BTreeMap;

use brickstack_provider::{Observed, Provider};
use brickstack_state::{ResourceStatus, State};
use futures::future::try_join_all;

use crate::error::ExecError;

/// Observed objects by address; `None` for an object that no longer exists.
pub async fn refresh<P: Provider>(
    provider: &P,
    state: &State,
) -> Result<BTreeMap<String, Option<Observed>>, ExecError> {
    let mut by_kind: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (address, recorded) in &state.resources {
        if recorded.status == ResourceStatus::Live {
            by_kind
                .entry(recorded.kind.as_str())
                .or_default()
                .push((address.as_str(), recorded.object_id.as_str()));
        }
    }
    let reads = by_kind.iter().map(|(kind, objects)| async move {
        let ids: Vec<String> = objects.iter().map(|(_, id)| id.to_string()).collect();
        let found = provider
            .read_many(kind, &ids)
            .await
            .map_err(|error| ExecError::Provider {
                address: kind.to_string(),
                operation: "refresh",
                error,
            })?;
        Ok::<_, ExecError>(
            objects
                .iter()
                .map(|(address, id)| (address.to_string(), found.get(*id).cloned()))
                .collect::<Vec<_>>(),
        )
    });
    Ok(try_join_all(reads).await?.into_iter().flatten().collect())
}
