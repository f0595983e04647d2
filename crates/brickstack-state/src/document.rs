//! The versioned JSON document a backend stores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::StateError;

/// The document format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Everything brickstack knows it created for one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Incremented on every write; a write never goes backwards.
    pub serial: u64,
    /// Identifies this state's history; set when the state is first written, never changed.
    pub lineage: String,
    pub environment: String,
    /// Recorded resources by address.
    pub resources: BTreeMap<String, RecordedResource>,
    /// Operations started but not known to have finished, by address: journaled before the cloud
    /// call so a crash leaves a trail to the object instead of an orphan.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, PendingOperation>,
    /// People given access by `brickstack access grant` or the access service, by lower-cased
    /// e-mail (`docs/access.md`); omitted when empty, so documents without grants are unchanged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub access_grants: BTreeMap<String, AccessGrant>,
}

/// Why a person is on record as having access: when, and through what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessGrant {
    /// RFC 3339 time the grant was recorded.
    pub granted_at: String,
    /// What granted it: `cli`, `serve`, ...
    pub source: String,
}

impl State {
    /// An empty state of a new lineage.
    pub fn new(environment: impl Into<String>, lineage: impl Into<String>) -> Self {
        State {
            format_version: FORMAT_VERSION,
            serial: 0,
            lineage: lineage.into(),
            environment: environment.into(),
            resources: BTreeMap::new(),
            pending: BTreeMap::new(),
            access_grants: BTreeMap::new(),
        }
    }

    /// Parses a stored document, refusing formats this build does not know.
    pub fn from_json(bytes: &[u8]) -> Result<State, StateError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let version: Version = serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
            detail: e.to_string(),
        })?;
        if version.format_version != FORMAT_VERSION {
            return Err(StateError::UnsupportedFormat {
                found: version.format_version,
                supported: FORMAT_VERSION,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
            detail: e.to_string(),
        })
    }

    /// The stored form: pretty JSON with a trailing newline, stable key order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("state serialises");
        bytes.push(b'\n');
        bytes
    }
}

/// One object brickstack created (or adopted), as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResource {
    pub kind: String,
    /// The cloud's identifier for the object (VPC id, bucket name, cluster id).
    pub object_id: String,
    /// Attributes as recorded after the last operation or refresh. Never a secret value: a secret
    /// is recorded as a reference (an SSM parameter name and version).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Addresses this resource depended on, so destroy order survives its removal from the spec.
    pub dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "ResourceStatus::is_live")]
    pub status: ResourceStatus,
    /// How long the object stays after the spec stops desiring it (`Resource::removal_grace_seconds`),
    /// as last applied; `None`: deleted by the next apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal_grace_seconds: Option<u64>,
    /// RFC 3339 time an apply first found the resource no longer desired; it is deleted by the
    /// first apply at or after this plus the grace. Cleared when it is desired again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_since: Option<String>,
}

impl RecordedResource {
    /// A live record with no grace.
    pub fn new(
        kind: impl Into<String>,
        object_id: impl Into<String>,
        attributes: serde_json::Map<String, serde_json::Value>,
        dependencies: Vec<String>,
    ) -> Self {
        RecordedResource {
            kind: kind.into(),
            object_id: object_id.into(),
            attributes,
            dependencies,
            status: ResourceStatus::Live,
            removal_grace_seconds: None,
            retiring_since: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    /// The object exists.
    #[default]
    Live,
    /// Deliberately destroyed by `brickstack sleep`; `wake` recreates it.
    Asleep,
}

impl ResourceStatus {
    pub fn is_live(&self) -> bool {
        *self == ResourceStatus::Live
    }
}

/// An operation journaled before its cloud call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOperation {
    pub kind: String,
    pub operation: PendingKind,
    /// RFC 3339 time the operation started.
    pub started_at: String,
    /// How to find the object if the call went through but its result was never recorded.
    pub lookup: ObjectLookup,
    pub dependencies: Vec<String>,
    /// The desired attributes sent, written only for kinds sent at most once
    /// (`KindSchema::at_most_once`): a create never recorded is settled as done from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    Create,
    Delete,
}

/// What identifies an object without its id: its deterministic name, or brickstack's tags, and
/// where to look for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLookup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The container the object lives in, when its API is per container: a Databricks
    /// workspace's URL for workspace-level objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The write rule every backend applies: the same lineage, and a serial above the stored one.
pub fn check_write(stored: Option<&State>, next: &State) -> Result<(), StateError> {
    let Some(stored) = stored else {
        return Ok(());
    };
    if stored.lineage != next.lineage {
        return Err(StateError::LineageMismatch {
            stored: stored.lineage.clone(),
            attempted: next.lineage.clone(),
        });
    }
    if next.serial <= stored.serial {
        return Err(StateError::StaleSerial {
            stored: stored.serial,
            attempted: next.serial,
        });
    }
    Ok(())
}
