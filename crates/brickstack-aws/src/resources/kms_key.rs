//! `aws_kms_key`: a customer-managed KMS key. The object id is the key id.
//!
//! * `policy` is read back parsed, the object the graph gives, not a JSON string.
//! * `deletion_window_in_days` acts only at delete (ScheduleKeyDeletion), and delete gets nothing
//!   but the key id, so a window other than the default 30 days is kept on the key as the tag
//!   `brickstack:deletion_window_in_days`; read reports it from there and leaves it out of `tags`.
//! * A key pending deletion reads as gone (brickstack never cancels a deletion).
//! * `find`: the key carrying every brickstack tag looked up (ListKeys + ListResourceTags), else
//!   the key the alias of the looked-up name points to.

use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use brickstack_provider::{
    AttributeBehaviour, Attributes, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use futures::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Tags, observed, parse, read_each, reject_reserved_tags};
use crate::classify::{
    absent_if_not_found, after_created, classify, done_if_not_found, gone, invalid_input,
    missing_field,
};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_kms_key";

/// Where a non-default `deletion_window_in_days` is kept.
const WINDOW_TAG: &str = "brickstack:deletion_window_in_days";
const DEFAULT_WINDOW: i32 = 30;
const POLICY_NAME: &str = "default";
/// Tag listings run at once while searching keys by tag.
const FIND_CONCURRENCY: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Key {
    #[serde(default)]
    description: String,
    #[serde(default = "encrypt_decrypt")]
    key_usage: String,
    #[serde(default)]
    enable_key_rotation: bool,
    #[serde(default = "default_window")]
    deletion_window_in_days: i32,
    #[serde(default = "enabled")]
    is_enabled: bool,
    /// The key policy document as an object; AWS's default policy when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy: Option<Value>,
    #[serde(default)]
    tags: Tags,
}

fn encrypt_decrypt() -> String {
    "ENCRYPT_DECRYPT".into()
}

fn default_window() -> i32 {
    DEFAULT_WINDOW
}

fn enabled() -> bool {
    true
}

impl Key {
    fn desired(attributes: &Attributes) -> Result<Key, ProviderError> {
        let key: Key = parse(KIND, attributes)?;
        if !(7..=30).contains(&key.deletion_window_in_days) {
            return Err(invalid_input(
                KIND,
                format!(
                    "`deletion_window_in_days` is {}; AWS accepts 7 to 30",
                    key.deletion_window_in_days
                ),
            ));
        }
        if key.policy.as_ref().is_some_and(|p| !p.is_object()) {
            return Err(invalid_input(
                KIND,
                "`policy` must be a policy document (an object), not a string",
            ));
        }
        reject_reserved_tags(KIND, &key.tags, &[WINDOW_TAG])?;
        Ok(key)
    }

    /// The tags as stored on the key: the desired ones plus the window when not the default.
    fn stored_tags(&self) -> Tags {
        let mut tags = self.tags.clone();
        if self.deletion_window_in_days != DEFAULT_WINDOW {
            tags.insert(
                WINDOW_TAG.to_string(),
                self.deletion_window_in_days.to_string(),
            );
        }
        tags
    }

    fn observed(&self, key_id: &str, arn: &str) -> Observed {
        observed(
            key_id,
            self,
            [("key_id", key_id.to_string()), ("arn", arn.to_string())],
        )
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("key_id", AttributeBehaviour::Computed)
        .attribute("arn", AttributeBehaviour::Computed)
        .attribute("key_usage", AttributeBehaviour::ForcesReplacement)
}

/// A key as the cloud has it.
struct Current {
    key_id: String,
    arn: String,
    key: Key,
    /// Every tag on the key, the window tag included.
    stored_tags: Tags,
}

/// The live key `key_id` (or alias), `None` when it is gone or pending deletion.
async fn current(aws: &AwsProvider, key_id: &str) -> Result<Option<Current>, ProviderError> {
    let kms = &aws.clients().kms;
    let described = match kms.describe_key().key_id(key_id).send().await {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify("kms:DescribeKey", &e)),
    };
    let meta = described
        .key_metadata()
        .ok_or_else(|| missing_field("kms:DescribeKey", "KeyMetadata"))?;
    if matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        return Ok(None);
    }
    let key_id = meta.key_id().to_string();
    let arn = meta
        .arn()
        .ok_or_else(|| missing_field("kms:DescribeKey", "Arn"))?
        .to_string();
    // Only symmetric encryption keys rotate; the others answer UnsupportedOperationException.
    let rotates = matches!(meta.key_spec(), None | Some(KeySpec::SymmetricDefault))
        && matches!(meta.key_usage(), None | Some(KeyUsageType::EncryptDecrypt));
    let rotation = async {
        if !rotates {
            return Ok(false);
        }
        kms.get_key_rotation_status()
            .key_id(&key_id)
            .send()
            .await
            .map(|out| out.key_rotation_enabled())
            .map_err(|e| classify("kms:GetKeyRotationStatus", &e))
    };
    let policy = async {
        kms.get_key_policy()
            .key_id(&key_id)
            .policy_name(POLICY_NAME)
            .send()
            .await
            .map(|out| out.policy().map(parse_policy))
            .map_err(|e| classify("kms:GetKeyPolicy", &e))
    };
    let result = tokio::try_join!(rotation, policy, list_tags(kms, &key_id));
    let (enable_key_rotation, policy, stored_tags) = match result {
        Ok(parts) => parts,
        // Deleted between the calls.
        Err(e) => return absent_if_not_found(e),
    };
    let deletion_window_in_days = stored_tags
        .get(WINDOW_TAG)
        .and_then(|w| w.parse().ok())
        .unwrap_or(DEFAULT_WINDOW);
    let mut tags = stored_tags.clone();
    tags.remove(WINDOW_TAG);
    let key = Key {
        description: meta.description().unwrap_or_default().to_string(),
        key_usage: meta
            .key_usage()
            .map_or_else(encrypt_decrypt, |u| u.as_str().to_string()),
        enable_key_rotation,
        deletion_window_in_days,
        is_enabled: meta.enabled(),
        policy,
        tags,
    };
    Ok(Some(Current {
        key_id,
        arn,
        key,
        stored_tags,
    }))
}

/// A policy document as an object; a document that is not JSON stays a string (a visible diff).
fn parse_policy(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

async fn list_tags(kms: &Client, key_id: &str) -> Result<Tags, ProviderError> {
    let tags: Vec<Tag> = kms
        .list_resource_tags()
        .key_id(key_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("kms:ListResourceTags", &e))?;
    Ok(tags.into_iter().map(|t| (t.tag_key, t.tag_value)).collect())
}

fn kms_tags<'a>(
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| invalid_input(KIND, e))
        })
        .collect()
}

pub(crate) async fn read(
    aws: &AwsProvider,
    key_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(current(aws, key_id)
        .await?
        .map(|c| c.key.observed(&c.key_id, &c.arn)))
}

/// KMS has no batch describe: the keys are read a few at a time.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    key_ids: &[String],
) -> Result<std::collections::BTreeMap<String, Observed>, ProviderError> {
    read_each(key_ids, |id| read(aws, id)).await
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let mut key = Key::desired(attributes)?;
    let kms = &aws.clients().kms;
    let tags = key.stored_tags();
    let created = kms
        .create_key()
        .description(&key.description)
        .key_usage(KeyUsageType::from(key.key_usage.as_str()))
        .set_policy(key.policy.as_ref().map(Value::to_string))
        .set_tags((!tags.is_empty()).then(|| kms_tags(&tags)).transpose()?)
        .send()
        .await
        .map_err(|e| classify("kms:CreateKey", &e))?;
    let meta = created
        .key_metadata()
        .ok_or_else(|| missing_field("kms:CreateKey", "KeyMetadata"))?;
    let key_id = meta.key_id().to_string();
    let arn = meta
        .arn()
        .ok_or_else(|| missing_field("kms:CreateKey", "Arn"))?
        .to_string();
    let configured = async {
        if key.enable_key_rotation {
            kms.enable_key_rotation()
                .key_id(&key_id)
                .send()
                .await
                .map_err(|e| classify("kms:EnableKeyRotation", &e))?;
        }
        if !key.is_enabled {
            kms.disable_key()
                .key_id(&key_id)
                .send()
                .await
                .map_err(|e| classify("kms:DisableKey", &e))?;
        }
        if key.policy.is_none() {
            let policy = kms
                .get_key_policy()
                .key_id(&key_id)
                .policy_name(POLICY_NAME)
                .send()
                .await
                .map_err(|e| classify("kms:GetKeyPolicy", &e))?;
            key.policy = policy.policy().map(parse_policy);
        }
        Ok(())
    };
    configured
        .await
        .map_err(|e| after_created(KIND, &key_id, e))?;
    Ok(key.observed(&key_id, &arn))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    key_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let mut key = Key::desired(attributes)?;
    let kms = &aws.clients().kms;
    let current = current(aws, key_id)
        .await?
        .ok_or_else(|| gone(KIND, key_id))?;
    let key_id = current.key_id.as_str();
    if key.key_usage != current.key.key_usage {
        return Err(invalid_input(
            KIND,
            "`key_usage` changes only by replacing the key",
        ));
    }
    if key.description != current.key.description {
        kms.update_key_description()
            .key_id(key_id)
            .description(&key.description)
            .send()
            .await
            .map_err(|e| classify("kms:UpdateKeyDescription", &e))?;
    }
    match &key.policy {
        Some(policy) if Some(policy) != current.key.policy.as_ref() => {
            kms.put_key_policy()
                .key_id(key_id)
                .policy_name(POLICY_NAME)
                .policy(policy.to_string())
                .send()
                .await
                .map_err(|e| classify("kms:PutKeyPolicy", &e))?;
        }
        Some(_) => {}
        None => key.policy = current.key.policy.clone(),
    }
    // A disabled key cannot change its rotation: enable first, disable last.
    if key.is_enabled && !current.key.is_enabled {
        kms.enable_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| classify("kms:EnableKey", &e))?;
    }
    if key.enable_key_rotation != current.key.enable_key_rotation {
        if key.enable_key_rotation {
            kms.enable_key_rotation()
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| classify("kms:EnableKeyRotation", &e))?;
        } else {
            kms.disable_key_rotation()
                .key_id(key_id)
                .send()
                .await
                .map_err(|e| classify("kms:DisableKeyRotation", &e))?;
        }
    }
    if !key.is_enabled && current.key.is_enabled {
        kms.disable_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| classify("kms:DisableKey", &e))?;
    }
    sync_tags(kms, key_id, &current.stored_tags, &key.stored_tags()).await?;
    Ok(key.observed(key_id, &current.arn))
}

/// Makes the key's tags exactly `desired`.
async fn sync_tags(
    kms: &Client,
    key_id: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ProviderError> {
    let removed: Vec<String> = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        kms.untag_resource()
            .key_id(key_id)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| classify("kms:UntagResource", &e))?;
    }
    let changed: Vec<(&String, &String)> = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .collect();
    if !changed.is_empty() {
        kms.tag_resource()
            .key_id(key_id)
            .set_tags(Some(kms_tags(changed)?))
            .send()
            .await
            .map_err(|e| classify("kms:TagResource", &e))?;
    }
    Ok(())
}

/// Schedules the key's deletion with its `deletion_window_in_days`; a key already gone or
/// pending deletion is left alone.
pub(crate) async fn delete(aws: &AwsProvider, key_id: &str) -> Result<(), ProviderError> {
    let kms = &aws.clients().kms;
    let described = match kms.describe_key().key_id(key_id).send().await {
        Ok(out) => out,
        Err(e) => return done_if_not_found(classify("kms:DescribeKey", &e)),
    };
    if described.key_metadata().is_some_and(|m| {
        matches!(
            m.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        )
    }) {
        return Ok(());
    }
    let window = list_tags(kms, key_id)
        .await?
        .get(WINDOW_TAG)
        .and_then(|w| w.parse().ok())
        .unwrap_or(DEFAULT_WINDOW);
    match kms
        .schedule_key_deletion()
        .key_id(key_id)
        .pending_window_in_days(window)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("kms:ScheduleKeyDeletion", &e)),
    }
}

/// The live key carrying every tag in `lookup.tags`, else the key behind the alias `lookup.name`.
pub(crate) async fn find(
    aws: &AwsProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let kms = &aws.clients().kms;
    if !lookup.tags.is_empty() {
        let keys: Vec<String> = kms
            .list_keys()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("kms:ListKeys", &e))?
            .into_iter()
            .filter_map(|k| k.key_id)
            .collect();
        // Made up front, not in a stream's closure: see `read_each`.
        let checks: Vec<_> = keys
            .iter()
            .map(|key_id| async move {
                let tags = match list_tags(kms, key_id).await {
                    Ok(tags) => tags,
                    Err(e) => return absent_if_not_found(e),
                };
                if lookup.tags.iter().all(|(k, v)| tags.get(k) == Some(v)) {
                    read(aws, key_id).await
                } else {
                    Ok(None)
                }
            })
            .collect();
        let matching: Vec<Option<Observed>> = stream::iter(checks)
            .buffer_unordered(FIND_CONCURRENCY)
            .try_collect()
            .await?;
        let mut live: Vec<Observed> = matching.into_iter().flatten().collect();
        match live.len() {
            0 => {}
            1 => return Ok(live.pop()),
            _ => {
                let ids: Vec<&str> = live.iter().map(|o| o.object_id.as_str()).collect();
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    "AmbiguousLookup",
                    format!(
                        "{} live keys carry the tags {:?}: `{}`; hint: schedule the deletion of the extra keys",
                        ids.len(),
                        lookup.tags,
                        ids.join("`, `")
                    ),
                ));
            }
        }
    }
    if let Some(name) = &lookup.name {
        let alias = if name.starts_with("alias/") {
            name.clone()
        } else {
            format!("alias/{name}")
        };
        return read(aws, &alias).await;
    }
    Ok(None)
}
