//! One module per resource kind: its attributes, schema, read, batched read, create, update,
//! delete, find and the errors it treats specially, together.
//!
//! Every kind keeps its attributes as a typed struct that both directions go through: desired
//! JSON is parsed into it (unknown attributes are invalid input) and what the cloud reports is
//! converted into it, then serialised. So `read` returns every attribute in the shape `create`
//! received it, and `create`/`update` return exactly what a later `read` will (no false drift).

pub(crate) mod default_security_group;
pub(crate) mod dynamodb_table;
mod ec2;
pub(crate) mod eip;
pub(crate) mod flow_log;
pub(crate) mod iam;
pub(crate) mod iam_instance_profile;
pub(crate) mod iam_policy;
pub(crate) mod iam_role;
pub(crate) mod iam_role_policy;
pub(crate) mod iam_role_policy_attachment;
pub(crate) mod internet_gateway;
pub(crate) mod kms_alias;
pub(crate) mod kms_key;
pub(crate) mod nat_gateway;
pub(crate) mod route;
pub(crate) mod route_table;
pub(crate) mod route_table_association;
pub(crate) mod s3_bucket;
pub(crate) mod s3_bucket_lifecycle_configuration;
pub(crate) mod s3_bucket_logging;
pub(crate) mod s3_bucket_policy;
pub(crate) mod s3_bucket_public_access_block;
pub(crate) mod s3_bucket_server_side_encryption_configuration;
pub(crate) mod s3_bucket_versioning;
pub(crate) mod subnet;
pub(crate) mod vpc;
pub(crate) mod vpc_endpoint;

use std::collections::BTreeMap;
use std::time::Duration;

use brickstack_provider::{Attributes, ErrorClass, Observed, ProviderError};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::classify::invalid_input;

/// Tags as brickstack's attributes hold them: a map, whatever list shape the API uses.
pub(crate) type Tags = BTreeMap<String, String>;

/// Reads run at once in a batched read, for APIs with no batch call.
const READ_CONCURRENCY: usize = 8;
/// How long to wait for a table to become active or go away.
const WAIT_TIMEOUT: Duration = Duration::from_secs(600);
const WAIT_FIRST_DELAY: Duration = Duration::from_millis(200);
const WAIT_MAX_DELAY: Duration = Duration::from_secs(5);

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
    computed: impl IntoIterator<Item = (&'static str, String)>,
) -> Observed {
    let mut map = match serde_json::to_value(attributes) {
        Ok(Value::Object(map)) => map,
        // Every kind's attributes are a struct of plain data, which always serialises to an object.
        _ => Attributes::new(),
    };
    for (name, value) in computed {
        map.insert(name.to_string(), Value::String(value));
    }
    Observed {
        object_id: object_id.to_string(),
        attributes: map,
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
    // The futures are made up front (they do nothing until polled): a stream holding the
    // closure trips the compiler's check that the provider's futures are `Send`.
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

/// A value an SDK builder made, or why it could not (a required field was missing).
pub(crate) fn built<T>(
    kind: &str,
    result: Result<T, aws_sdk_s3::error::BuildError>,
) -> Result<T, ProviderError> {
    result.map_err(|e| invalid_input(kind, e))
}

/// Refuses an update that would move a bucket's configuration to another bucket (`bucket`
/// forces replacement, so the planner never asks for one).
pub(crate) fn same_bucket(
    kind: &str,
    attributes: &Attributes,
    object_id: &str,
) -> Result<(), ProviderError> {
    match attributes.get("bucket").and_then(Value::as_str) {
        Some(bucket) if bucket != object_id => Err(invalid_input(
            kind,
            format!("`bucket` changes from `{object_id}` to `{bucket}` only by replacement"),
        )),
        _ => Ok(()),
    }
}

/// Refuses desired tags that brickstack keeps for itself on `kind`.
pub(crate) fn reject_reserved_tags(
    kind: &str,
    tags: &Tags,
    reserved: &[&str],
) -> Result<(), ProviderError> {
    match tags.keys().find(|k| reserved.contains(&k.as_str())) {
        Some(key) => Err(invalid_input(
            kind,
            format!("tag `{key}` is reserved: set the attribute it mirrors instead"),
        )),
        None => Ok(()),
    }
}

/// Polls `check` until it yields a value, backing off up to a few seconds between polls; gives
/// up (retryable) after ten minutes.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let deadline = tokio::time::Instant::now() + WAIT_TIMEOUT;
    let mut delay = WAIT_FIRST_DELAY;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ProviderError::new(
                ErrorClass::Retryable { after: None },
                "WaitTimeout",
                format!(
                    "gave up waiting for {what} after {} s",
                    WAIT_TIMEOUT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(WAIT_MAX_DELAY);
    }
}
