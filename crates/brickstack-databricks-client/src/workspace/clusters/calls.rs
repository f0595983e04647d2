//! The calls on clusters: create (with a lookup before any resend), edit, update, get, list,
//! start, restart, resize, terminate, permanent delete, and the catalog.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    ClusterDetails, ClusterFilter, ClusterSize, ClusterSpec, ClusterState, NodeType, SparkVersion,
};
use super::{null_as_default, path};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

#[derive(Deserialize)]
struct Created {
    cluster_id: String,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default, deserialize_with = "null_as_default")]
    clusters: Vec<ClusterDetails>,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl WorkspaceClient {
    /// Creates a cluster (it starts in `PENDING`) and returns its id. A create whose answer was
    /// lost is looked up before it is sent again: a cluster with the same name carrying all of
    /// the spec's custom tags counts as made by it. Give clusters a unique tag (brickstack tags
    /// each with its address); without custom tags nothing counts, since adopting somebody
    /// else's cluster of the same name would be worse than a duplicate.
    pub async fn create_cluster(&self, spec: &ClusterSpec) -> Result<String, Error> {
        let made = self
            .client()
            .create(&path("create"), spec, || async {
                if spec.custom_tags.is_empty() {
                    return Ok(None);
                }
                let found = self
                    .list_clusters(&ClusterFilter::default())
                    .await?
                    .into_iter()
                    .find(|c| {
                        c.spec.cluster_name == spec.cluster_name
                            && spec
                                .custom_tags
                                .iter()
                                .all(|(k, v)| c.spec.custom_tags.get(k) == Some(v))
                    });
                Ok(found.map(|c| Created {
                    cluster_id: c.cluster_id,
                }))
            })
            .await?;
        Ok(made.cluster_id)
    }

    /// Replaces a cluster's whole spec. Allowed when `RUNNING` (the cluster restarts) or
    /// `TERMINATED` (it stays terminated); other states answer `INVALID_STATE`.
    pub async fn edit_cluster(&self, cluster_id: &str, spec: &ClusterSpec) -> Result<(), Error> {
        #[derive(Serialize)]
        struct Edit<'a> {
            cluster_id: &'a str,
            #[serde(flatten)]
            spec: &'a ClusterSpec,
        }
        let _: IgnoredAny = self
            .client()
            .post(&path("edit"), &Edit { cluster_id, spec })
            .await?;
        Ok(())
    }

    /// Changes only the top-level fields named in `mask` (`num_workers`, `custom_tags`, ...) to
    /// their values in `spec`; a masked field `spec` leaves out is cleared.
    pub async fn update_cluster(
        &self,
        cluster_id: &str,
        mask: &[&str],
        spec: &ClusterSpec,
    ) -> Result<(), Error> {
        let fields = match serde_json::to_value(spec) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let cluster: serde_json::Map<String, Value> = fields
            .into_iter()
            .filter(|(k, _)| mask.contains(&k.as_str()))
            .collect();
        let body = serde_json::json!({
            "cluster_id": cluster_id,
            "update_mask": mask.join(","),
            "cluster": cluster,
        });
        let _: IgnoredAny = self.client().post(&path("update"), &body).await?;
        Ok(())
    }

    /// The cluster; `None` when it does not exist (a missing cluster answers
    /// `400 INVALID_PARAMETER_VALUE "Cluster … does not exist"`, classified as not found).
    pub async fn get_cluster(&self, cluster_id: &str) -> Result<Option<ClusterDetails>, Error> {
        match self
            .client()
            .get(&path("get"), &[("cluster_id", cluster_id.to_string())])
            .await
        {
            Ok(details) => Ok(Some(details)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every cluster `filter` selects, all pages (pinned, active, and terminated in the last 30
    /// days).
    pub async fn list_clusters(
        &self,
        filter: &ClusterFilter,
    ) -> Result<Vec<ClusterDetails>, Error> {
        let query = list_query(filter);
        let mut clusters = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = query.clone();
            if let Some(t) = &token {
                q.push(("page_token", t.clone()));
            }
            let page: ListPage = self.client().get(&path("list"), &q).await?;
            let done = page.clusters.is_empty();
            clusters.extend(page.clusters);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                // A token that does not move on would loop for ever.
                Some(next) if !done && token.as_ref() != Some(&next) => token = Some(next),
                _ => return Ok(clusters),
            }
        }
    }

    /// Every cluster that is starting, running, resizing or restarting: those that would notice
    /// their network going away. Filtered by the API and again here, so an API that ignores the
    /// filter cannot make a terminated cluster look active.
    pub async fn active_clusters(&self) -> Result<Vec<ClusterDetails>, Error> {
        let filter = ClusterFilter {
            states: ClusterState::active().to_vec(),
            ..ClusterFilter::default()
        };
        let mut clusters = self.list_clusters(&filter).await?;
        clusters.retain(|c| c.state.is_active());
        Ok(clusters)
    }

    /// Starts a `TERMINATED` cluster (same id, last size).
    pub async fn start_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("start", cluster_id).await
    }

    /// Restarts a `RUNNING` cluster.
    pub async fn restart_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("restart", cluster_id).await
    }

    /// Resizes a `RUNNING` cluster.
    pub async fn resize_cluster(&self, cluster_id: &str, size: ClusterSize) -> Result<(), Error> {
        let body = match size {
            ClusterSize::Fixed(n) => {
                serde_json::json!({ "cluster_id": cluster_id, "num_workers": n })
            }
            ClusterSize::Autoscale(range) => {
                serde_json::json!({ "cluster_id": cluster_id, "autoscale": range })
            }
        };
        let _: IgnoredAny = self.client().post(&path("resize"), &body).await?;
        Ok(())
    }

    /// Terminates a cluster (asynchronously; it stays listed as `TERMINATED` and can be
    /// started again). Nothing happens to a cluster already terminating or terminated.
    pub async fn terminate_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("delete", cluster_id).await
    }

    /// Terminates and removes a cluster: `get` and `list` no longer know it.
    pub async fn permanent_delete_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_call("permanent-delete", cluster_id).await
    }

    async fn cluster_call(&self, call: &str, cluster_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(
                &path(call),
                &serde_json::json!({ "cluster_id": cluster_id }),
            )
            .await?;
        Ok(())
    }

    /// The runtime versions the workspace offers.
    pub async fn spark_versions(&self) -> Result<Vec<SparkVersion>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            versions: Vec<SparkVersion>,
        }
        let answer: Answer = self.client().get(&path("spark-versions"), &[]).await?;
        Ok(answer.versions)
    }

    /// The node types the workspace offers.
    pub async fn list_node_types(&self) -> Result<Vec<NodeType>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            node_types: Vec<NodeType>,
        }
        let answer: Answer = self.client().get(&path("list-node-types"), &[]).await?;
        Ok(answer.node_types)
    }
}

/// The query of `list`: nested filters with dots, a repeated key per state (as the Go SDK
/// encodes them).
fn list_query(filter: &ClusterFilter) -> Vec<(&'static str, String)> {
    let mut query: Vec<(&str, String)> = filter
        .states
        .iter()
        .map(|s| ("filter_by.cluster_states", s.to_string()))
        .collect();
    if let Some(policy) = &filter.policy_id {
        query.push(("filter_by.policy_id", policy.clone()));
    }
    if let Some(size) = filter.page_size {
        query.push(("page_size", size.to_string()));
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::clusters::*;

    #[test]
    fn list_filters_repeat_the_state_key() {
        let query = list_query(&ClusterFilter {
            states: vec![ClusterState::Running, ClusterState::Pending],
            policy_id: Some("P".into()),
            page_size: Some(50),
        });
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("filter_by.cluster_states", "RUNNING"),
                ("filter_by.cluster_states", "PENDING"),
                ("filter_by.policy_id", "P"),
                ("page_size", "50"),
            ]
        );
    }
}
