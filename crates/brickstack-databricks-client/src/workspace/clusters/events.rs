//! A cluster's event log: the event types, the request and its filters, and the pages
//! (token paging, and the deprecated offset paging some servers still answer with).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{TerminationReason, null_as_default, open_enum, path};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

open_enum! {
    /// `type` of a cluster event.
    pub enum EventType {
        Creating = "CREATING",
        Starting = "STARTING",
        Restarting = "RESTARTING",
        /// Carries the termination reason; there is no separate `TERMINATED` event.
        Terminating = "TERMINATING",
        Edited = "EDITED",
        Running = "RUNNING",
        Resizing = "RESIZING",
        UpsizeCompleted = "UPSIZE_COMPLETED",
        NodesLost = "NODES_LOST",
        AddNodesFailed = "ADD_NODES_FAILED",
        AutoscalingFailed = "AUTOSCALING_FAILED",
        AutoscalingBackoff = "AUTOSCALING_BACKOFF",
        AutoscalingStatsReport = "AUTOSCALING_STATS_REPORT",
        InitScriptsStarted = "INIT_SCRIPTS_STARTED",
        InitScriptsFinished = "INIT_SCRIPTS_FINISHED",
        DriverHealthy = "DRIVER_HEALTHY",
        DriverNotResponding = "DRIVER_NOT_RESPONDING",
        DriverUnavailable = "DRIVER_UNAVAILABLE",
        SparkException = "SPARK_EXCEPTION",
        MetastoreDown = "METASTORE_DOWN",
        DbfsDown = "DBFS_DOWN",
        DidNotExpandDisk = "DID_NOT_EXPAND_DISK",
        ExpandedDisk = "EXPANDED_DISK",
        FailedToExpandDisk = "FAILED_TO_EXPAND_DISK",
        NodeBlacklisted = "NODE_BLACKLISTED",
        NodeExcludedDecommissioned = "NODE_EXCLUDED_DECOMMISSIONED",
        DecommissionStarted = "DECOMMISSION_STARTED",
        DecommissionEnded = "DECOMMISSION_ENDED",
        Pinned = "PINNED",
        Unpinned = "UNPINNED",
        AutomaticClusterUpdate = "AUTOMATIC_CLUSTER_UPDATE",
        ClusterMigrated = "CLUSTER_MIGRATED",
        DeferredPolicyEnforcementScheduled = "DEFERRED_POLICY_ENFORCEMENT_SCHEDULED",
        DeferredPolicyEnforcementFailed = "DEFERRED_POLICY_ENFORCEMENT_FAILED",
        UcVolumeMisconfigured = "UC_VOLUME_MISCONFIGURED",
    }
}

/// Event order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Order {
    Asc,
    Desc,
}

/// What `events` returns: one cluster's events, filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventsRequest {
    pub cluster_id: String,
    /// Epoch milliseconds, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// All types when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<EventType>,
    /// The API's default is newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// 0–500.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    /// Deprecated offset paging (servers that answer `next_page` instead of `next_page_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

impl EventsRequest {
    /// Every event newer than `cursor` (epoch ms; an event at exactly `cursor` counts as seen;
    /// `None` = from the beginning), oldest first, 500 a page: what a poller reads after its
    /// cursor with [`WorkspaceClient::cluster_events`] (all pages).
    pub fn after(cluster_id: impl Into<String>, cursor: Option<i64>) -> EventsRequest {
        EventsRequest {
            cluster_id: cluster_id.into(),
            start_time: cursor.map(|c| c.saturating_add(1)),
            order: Some(Order::Asc),
            page_size: Some(500),
            ..EventsRequest::default()
        }
    }
}

/// One event of a cluster's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEvent {
    pub cluster_id: String,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(default, deserialize_with = "null_as_default")]
    pub details: EventDetails,
}

/// `details` of an event; what a type does not carry is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDetails {
    /// On `TERMINATING`: why; on `RUNNING`/`UPSIZE_COMPLETED`: why some nodes were not acquired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TerminationReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_num_workers: Option<i64>,
    /// `AUTOSCALE`, `USER_REQUEST`, `AUTORECOVERY`, `REPLACE_BAD_NODES`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_state_message: Option<String>,
    /// Everything else (`attributes`, `cluster_size`, `init_scripts`, ...), as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One page of events and where the next starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventsPage {
    pub events: Vec<ClusterEvent>,
    /// The request for the next page, or `None` on the last.
    pub next: Option<EventsRequest>,
}

#[derive(Deserialize)]
struct EventsAnswer {
    #[serde(default, deserialize_with = "null_as_default")]
    events: Vec<ClusterEvent>,
    #[serde(default)]
    next_page_token: Option<String>,
    /// The deprecated offset paging: the request for the next page.
    #[serde(default)]
    next_page: Option<Value>,
}

impl WorkspaceClient {
    /// One page of a cluster's events.
    pub async fn cluster_events_page(&self, request: &EventsRequest) -> Result<EventsPage, Error> {
        let answer: EventsAnswer = self.client().post(&path("events"), request).await?;
        let next = if answer.events.is_empty() {
            None
        } else if let Some(token) = answer.next_page_token.filter(|t| !t.is_empty()) {
            (request.page_token.as_ref() != Some(&token)).then(|| EventsRequest {
                page_token: Some(token),
                ..request.clone()
            })
        } else {
            answer
                .next_page
                .and_then(|next| legacy_next_page(request, &next))
        };
        Ok(EventsPage {
            events: answer.events,
            next,
        })
    }

    /// Every event `request` selects, all pages.
    pub async fn cluster_events(
        &self,
        request: &EventsRequest,
    ) -> Result<Vec<ClusterEvent>, Error> {
        let mut events = Vec::new();
        let mut request = request.clone();
        loop {
            let page = self.cluster_events_page(&request).await?;
            events.extend(page.events);
            match page.next {
                Some(next) => request = next,
                None => return Ok(events),
            }
        }
    }
}

/// The next request under the deprecated offset paging, where `next_page` is the request for
/// the next page (its `offset` and `limit` are what moves on).
fn legacy_next_page(request: &EventsRequest, next: &Value) -> Option<EventsRequest> {
    #[derive(Deserialize)]
    struct Next {
        offset: Option<i64>,
        limit: Option<i64>,
    }
    let next = serde_json::from_value::<Next>(next.clone()).ok()?;
    let offset = next.offset.filter(|o| Some(*o) != request.offset)?;
    Some(EventsRequest {
        offset: Some(offset),
        limit: next.limit.or(request.limit),
        ..request.clone()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn offset_paging_moves_on_and_stops() {
        let first = EventsRequest {
            cluster_id: "c".into(),
            ..EventsRequest::default()
        };
        let next = legacy_next_page(
            &first,
            &json!({ "cluster_id": "c", "offset": 50, "limit": 50 }),
        )
        .unwrap();
        assert_eq!((next.offset, next.limit), (Some(50), Some(50)));
        assert!(legacy_next_page(&next, &json!({ "offset": 50 })).is_none());
        assert!(legacy_next_page(&next, &json!({})).is_none());
    }
}
