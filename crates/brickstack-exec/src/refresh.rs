//! Refresh: what the cloud has now for every live recorded object. Full: one batched read per
//! kind, the kinds read concurrently. Minimal: existence and tags from the provider's survey, plus
//! a full read of the objects whose kind has a rotation rule (tokens).
//!
//! Nothing here retries: each read is retried by the adapter that makes it (the AWS SDK's retry
//! layer, the Databricks client's loop), so an error that reaches the refresh has used its budget.

use std::collections::{BTreeMap, BTreeSet};

use brickstack_graph::{Address, ResourceGraph};
use brickstack_provider::{Observed, Presence, Provider, SurveyObject};
use brickstack_state::{RecordedResource, ResourceStatus, State};
use futures::future::try_join_all;

use crate::error::ExecError;

/// Observed objects by address; `None` for an object that no longer exists.
pub async fn refresh<P: Provider>(
    provider: &P,
    state: &State,
) -> Result<BTreeMap<String, Option<Observed>>, ExecError> {
    let mut by_kind: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    let recorded_only = recorded_only_kinds(provider, state);
    for (address, recorded) in &state.resources {
        if recorded.status == ResourceStatus::Live
            && !recorded_only.contains(recorded.kind.as_str())
        {
            by_kind
                .entry(recorded.kind.as_str())
                .or_default()
                .push((address.as_str(), recorded.object_id.as_str()));
        }
    }
    let reads = by_kind.iter().map(|(kind, objects)| async move {
        let ids: Vec<String> = objects.iter().map(|(_, id)| id.to_string()).collect();
        let mut found =
            provider
                .read_many(kind, &ids)
                .await
                .map_err(|error| ExecError::Provider {
                    address: kind.to_string(),
                    operation: "refresh",
                    error,
                })?;
        // Each observation moves to its address; only an id recorded under two addresses (which
        // nothing makes, but state can be edited) is copied.
        let mut left: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, id) in objects {
            *left.entry(id).or_default() += 1;
        }
        Ok::<_, ExecError>(
            objects
                .iter()
                .map(|(address, id)| {
                    let n = left.get_mut(id).expect("counted above");
                    *n -= 1;
                    let observed = if *n == 0 {
                        found.remove(*id)
                    } else {
                        found.get(*id).cloned()
                    };
                    (address.to_string(), observed)
                })
                .collect::<Vec<_>>(),
        )
    });
    let mut observed: BTreeMap<String, Option<Observed>> =
        try_join_all(reads).await?.into_iter().flatten().collect();
    keep_recorded_only(state, &recorded_only, &mut observed);
    Ok(observed)
}

/// Kinds whose objects cannot be read back (`KindSchema::recorded_only`) among those recorded.
fn recorded_only_kinds<'s, P: Provider>(provider: &P, state: &'s State) -> BTreeSet<&'s str> {
    let kinds: BTreeSet<&str> = state.resources.values().map(|r| r.kind.as_str()).collect();
    kinds
        .into_iter()
        .filter(|kind| provider.schema(kind).is_some_and(|s| s.recorded_only))
        .collect()
}

/// Observes each live record of a recorded-only kind as its record says, unless something it
/// depends on (as recorded) is gone: then it is gone too (a shutdown step whose cluster was
/// deleted), spreading along chains of such records.
fn keep_recorded_only(
    state: &State,
    recorded_only: &BTreeSet<&str>,
    observed: &mut BTreeMap<String, Option<Observed>>,
) {
    let records: Vec<(&String, &RecordedResource)> = state
        .resources
        .iter()
        .filter(|(_, r)| {
            r.status == ResourceStatus::Live && recorded_only.contains(r.kind.as_str())
        })
        .collect();
    for (address, record) in &records {
        observed.insert(
            address.to_string(),
            Some(Observed {
                object_id: record.object_id.clone(),
                attributes: record.attributes.clone(),
            }),
        );
    }
    loop {
        let gone: Vec<&String> = records
            .iter()
            .filter(|(address, _)| matches!(observed.get(*address), Some(Some(_))))
            .filter(|(_, record)| {
                record
                    .dependencies
                    .iter()
                    .any(|d| matches!(observed.get(d), Some(None)))
            })
            .map(|(address, _)| *address)
            .collect();
        if gone.is_empty() {
            return;
        }
        for address in gone {
            observed.insert(address.clone(), None);
        }
    }
}

/// How much a plan reads of the cloud before comparing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RefreshMode {
    /// Every recorded object read in full (batched per kind): drift in any attribute shows.
    #[default]
    Full,
    /// Existence and tags only, from the provider's survey (on AWS one paginated tagging-API
    /// listing plus one IAM listing): fast, and blind to drift in other attributes.
    Minimal,
}

/// The minimal refresh: recorded attributes, with `tags` as the survey reports them, for objects
/// that exist; `None` for those gone. An object the survey cannot check keeps its recorded
/// attributes, unless an object it depends on is gone: then it is gone too (a bucket deleted out
/// of band takes its versioning with it), so the plan recreates it along with its parent.
pub async fn refresh_minimal<P: Provider>(
    provider: &P,
    state: &State,
    graph: &ResourceGraph,
) -> Result<BTreeMap<String, Option<Observed>>, ExecError> {
    let recorded_only = recorded_only_kinds(provider, state);
    let live: Vec<(&String, &RecordedResource)> = state
        .resources
        .iter()
        .filter(|(_, r)| {
            r.status == ResourceStatus::Live && !recorded_only.contains(r.kind.as_str())
        })
        .collect();
    let objects: Vec<SurveyObject> = live
        .iter()
        .map(|(_, r)| SurveyObject {
            kind: r.kind.clone(),
            object_id: r.object_id.clone(),
        })
        .collect();
    let surveyed = provider
        .survey(&state.environment, &objects)
        .await
        .map_err(|error| ExecError::Provider {
            address: "(provider)".into(),
            operation: "survey",
            error,
        })?;
    let mut observed: BTreeMap<String, Option<Observed>> = BTreeMap::new();
    let mut unchecked: Vec<&str> = Vec::new();
    for ((address, recorded), object) in live.iter().zip(&objects) {
        let mut attributes = recorded.attributes.clone();
        match surveyed.get(object) {
            Some(Presence::Gone) => {
                observed.insert(address.to_string(), None);
                continue;
            }
            Some(Presence::Present { tags: Some(tags) }) if attributes.contains_key("tags") => {
                attributes.insert(
                    "tags".to_string(),
                    serde_json::to_value(tags).unwrap_or_default(),
                );
            }
            Some(Presence::Present { .. }) => {}
            None => unchecked.push(address.as_str()),
        }
        observed.insert(
            address.to_string(),
            Some(Observed {
                object_id: recorded.object_id.clone(),
                attributes,
            }),
        );
    }
    // Gone spreads to unchecked dependents until nothing changes (dependencies as the graph has
    // them; an address the graph no longer has keeps its recorded attributes).
    loop {
        let newly_gone: Vec<&str> = unchecked
            .iter()
            .copied()
            .filter(|address| matches!(observed.get(*address), Some(Some(_))))
            .filter(|address| {
                Address::parse(address).is_some_and(|a| {
                    graph
                        .dependencies(&a)
                        .iter()
                        .any(|d| matches!(observed.get(&d.to_string()), Some(None)))
                })
            })
            .collect();
        if newly_gone.is_empty() {
            break;
        }
        for address in newly_gone {
            observed.insert(address.to_string(), None);
        }
    }
    read_expiring(provider, state, &mut observed).await?;
    keep_recorded_only(state, &recorded_only, &mut observed);
    Ok(observed)
}

/// Reads in full, even in a minimal refresh, the objects of kinds with a rotation rule that are
/// still there: whether one is due is for the cloud's clock to say, and the recorded attributes
/// cannot (a handful of tokens, one batched read per kind).
async fn read_expiring<P: Provider>(
    provider: &P,
    state: &State,
    observed: &mut BTreeMap<String, Option<Observed>>,
) -> Result<(), ExecError> {
    let mut by_kind: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (address, recorded) in &state.resources {
        let present = matches!(observed.get(address), Some(Some(_)));
        let expiring = provider
            .schema(&recorded.kind)
            .is_some_and(|s| s.rotation.is_some());
        if present && expiring {
            by_kind
                .entry(recorded.kind.as_str())
                .or_default()
                .push((address.as_str(), recorded.object_id.as_str()));
        }
    }
    for (kind, objects) in by_kind {
        let ids: Vec<String> = objects.iter().map(|(_, id)| id.to_string()).collect();
        let found = provider
            .read_many(kind, &ids)
            .await
            .map_err(|error| ExecError::Provider {
                address: kind.to_string(),
                operation: "refresh",
                error,
            })?;
        for (address, id) in objects {
            observed.insert(address.to_string(), found.get(id).cloned());
        }
    }
    Ok(())
}
