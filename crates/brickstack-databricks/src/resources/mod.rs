//! One module per resource kind: its attributes, schema, read, create, update, delete and find,
//! and the errors it treats specially, together.
//!
//! Every kind keeps its attributes as a typed struct that both directions go through: desired
//! JSON is parsed into it (unknown attributes are invalid input) and what the API reports is
//! converted into it, then serialised. So `read` returns every attribute in the shape `create`
//! received it, and `create`/`update` return exactly what a later `read` will (no false drift).
//!
//! Workspace-level kinds carry `workspace_url` (the edge to the workspace) and have object ids
//! `<workspace_id>/<id>` ([`scoped_id`], [`split_scoped`]).

pub(crate) mod account_group;
pub(crate) mod catalog;
pub(crate) mod cluster;
pub(crate) mod cluster_libraries;
pub(crate) mod cluster_policy;
pub(crate) mod cluster_shutdown;
pub(crate) mod dbfs_file;
pub(crate) mod external_location;
pub(crate) mod global_init_script;
pub(crate) mod grants;
pub(crate) mod group;
pub(crate) mod group_instance_profile;
pub(crate) mod group_member;
pub(crate) mod group_role;
pub(crate) mod instance_profile;
pub(crate) mod ip_access_list;
pub(crate) mod metastore;
pub(crate) mod metastore_assignment;
pub(crate) mod mws_credentials;
pub(crate) mod mws_customer_managed_keys;
pub(crate) mod mws_log_delivery;
pub(crate) mod mws_networks;
pub(crate) mod mws_permission_assignment;
pub(crate) mod mws_storage_configurations;
pub(crate) mod mws_workspaces;
pub(crate) mod obo_token;
pub(crate) mod permissions;
pub(crate) mod schema;
pub(crate) mod secret_acl;
pub(crate) mod secret_scope;
pub(crate) mod service_principal;
pub(crate) mod storage_credential;
pub(crate) mod system_schema;
pub(crate) mod token;
pub(crate) mod user;
pub(crate) mod workspace_conf;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use brickstack_provider::{Attributes, ErrorClass, Observed, ProviderError};

use crate::provider::{DatabricksProvider, Workspace};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Reads run at once in a batched read.
const READ_CONCURRENCY: usize = 8;
const WAIT_FIRST_DELAY: Duration = Duration::from_millis(100);
const WAIT_MAX_DELAY: Duration = Duration::from_secs(5);

pub(crate) fn unsupported_kind(kind: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::InvalidInput,
        "UnsupportedKind",
        format!("the Databricks provider does not serve `{kind}`"),
    )
}

/// Desired attributes that cannot be right: retrying will not help.
pub(crate) fn invalid_input(kind: &str, reason: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorClass::InvalidInput,
        "InvalidAttributes",
        format!("{kind}: {reason}"),
    )
}

/// An answer the API should not have given (a field missing that it always sends).
pub(crate) fn unexpected(kind: &str, reason: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorClass::Fatal,
        "UnexpectedAnswer",
        format!("{kind}: {reason}"),
    )
}

/// `attributes` as `kind`'s typed form.
pub(crate) fn parse<T: DeserializeOwned>(
    kind: &str,
    attributes: &Attributes,
) -> Result<T, ProviderError> {
    serde_json::from_value(Value::Object(attributes.clone())).map_err(|e| invalid_input(kind, e))
}

/// An object as the engine sees it: the typed attributes plus the computed ones.
pub(crate) fn observed<T: Serialize>(
    object_id: &str,
    attributes: &T,
    computed: impl IntoIterator<Item = (&'static str, Value)>,
) -> Observed {
    let mut map = match serde_json::to_value(attributes) {
        Ok(Value::Object(map)) => map,
        // Every kind's attributes are a struct of plain data, which always serialises to an object.
        _ => Attributes::new(),
    };
    for (name, value) in computed {
        map.insert(name.to_string(), value);
    }
    Observed {
        object_id: object_id.to_string(),
        attributes: map,
    }
}

/// `<workspace_id>/<id>`: the object id of a workspace-level object.
pub(crate) fn scoped_id(workspace_id: i64, id: &str) -> String {
    format!("{workspace_id}/{id}")
}

/// The workspace id and the in-workspace id of a workspace-level object id.
pub(crate) fn split_scoped<'a>(
    kind: &str,
    object_id: &'a str,
) -> Result<(i64, &'a str), ProviderError> {
    object_id
        .split_once('/')
        .and_then(|(ws, id)| Some((ws.parse::<i64>().ok()?, id)))
        .filter(|(_, id)| !id.is_empty())
        .ok_or_else(|| {
            invalid_input(
                kind,
                format!("object id `{object_id}` is not `<workspace_id>/<id>`"),
            )
        })
}

/// Ok(None) for a not-found error, which is how reads say "gone"; the error otherwise.
pub(crate) fn absent_if_not_found<T>(
    result: Result<T, crate::client::error::Error>,
) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A Unity Catalog read: a missing object, or a workspace that no longer has a metastore (so
/// nothing of it is visible), is `None`.
pub(crate) fn uc_read<T>(
    result: Result<Option<T>, crate::client::error::Error>,
) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(found) => Ok(found),
        Err(e) if crate::workspace::unity_catalog::is_missing_metastore(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Ok(()) for a not-found error, which is how deletes say "already gone".
pub(crate) fn done_if_not_found<T>(
    result: Result<T, crate::client::error::Error>,
) -> Result<(), ProviderError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A batched read for APIs without a batch call: `read` for every id, a few at a time.
pub(crate) async fn read_each<'a, F, Fut>(
    object_ids: &'a [String],
    read: F,
) -> Result<BTreeMap<String, Observed>, ProviderError>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Result<Option<Observed>, ProviderError>>,
{
    let reads: Vec<Fut> = object_ids.iter().map(|id| read(id.as_str())).collect();
    let found: Vec<Option<Observed>> = stream::iter(reads)
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .map(|o| (o.object_id.clone(), o))
        .collect())
}

/// Polls `check` until it yields a value, backing off up to a few seconds between polls; gives
/// up (retryable) after `timeout`.
pub(crate) async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = WAIT_FIRST_DELAY;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ProviderError::new(
                ErrorClass::Retryable { after: None },
                "WaitTimeout",
                format!("gave up waiting for {what} after {} s", timeout.as_secs()),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(WAIT_MAX_DELAY);
    }
}

/// The workspace of a workspace-level object and the object's id in it; `None` when the workspace
/// is gone (everything in it went with it).
pub(crate) async fn scoped_workspace<'a>(
    p: &DatabricksProvider,
    kind: &str,
    object_id: &'a str,
) -> Result<Option<(Workspace, &'a str)>, ProviderError> {
    let (workspace_id, id) = split_scoped(kind, object_id)?;
    Ok(p.workspace(workspace_id).await?.map(|w| (w, id)))
}

/// The workspace at `url`, or `None` when the account has no such workspace (nothing in it can
/// be found then).
pub(crate) async fn workspace_if_any(
    p: &DatabricksProvider,
    url: &str,
) -> Result<Option<Workspace>, ProviderError> {
    match p.workspace_at(url).await {
        Ok(ws) => Ok(Some(ws)),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The error of an update (or a read after a write) of an object that is no longer there.
pub(crate) fn gone(kind: &str, object_id: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::NotFound,
        "NOT_FOUND",
        format!("{kind}: `{object_id}` no longer exists"),
    )
}

/// The error of `update` for kinds whose every attribute forces replacement.
pub(crate) fn nothing_updates(kind: &str) -> ProviderError {
    invalid_input(
        kind,
        "every attribute forces replacement, so nothing changes in place",
    )
}
