//! What the IAM kinds share: one `GetAccountAuthorizationDetails` (GAAD) for a batched read,
//! policy documents as objects, tags as a map, retagging, and the tag check of `find`.
//!
//! * IAM returns policy documents URL-encoded (RFC 3986: `%20` for a space, a `+` stays a
//!   `+`); brickstack keeps them as the JSON object the graph gives.
//! * GAAD reports every role with its trust policy, tags, inline policies, attached managed
//!   policies and instance profiles, and every customer managed policy with its versions, in a
//!   few pages for the whole account: a refresh of any number of IAM objects is one call (per
//!   page) instead of one per object.
//!
//! moto (5.2.5) differs from AWS here, and the code accepts both:
//! * it returns some documents as plain JSON (GAAD's and ListRoles' trust policies,
//!   GetPolicyVersion), others URL-encoded (GetRole, GetRolePolicy, GAAD's inline and managed
//!   policy documents): a document is read as JSON first, then as URL-encoded JSON;
//! * GAAD and ListInstanceProfiles return instance profiles' tags, which AWS documents only for
//!   GetInstanceProfile: see `iam_instance_profile`.
//! * GAAD's managed policies have no `PolicyName`: it is taken from the ARN, which ends with it.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{EntityType, ManagedPolicyDetail, RoleDetail, Tag};
use brickstack_provider::{ErrorClass, ProviderError};
use brickstack_state::ObjectLookup;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::Tags;
use crate::classify::{classify, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const GAAD: &str = "iam:GetAccountAuthorizationDetails";

/// The path IAM gives a role, policy or instance profile created without one.
pub(crate) const ROOT_PATH: &str = "/";

pub(crate) fn root_path() -> String {
    ROOT_PATH.to_string()
}

/// What one GAAD (all its pages) reported.
#[derive(Debug, Default)]
pub(crate) struct AuthorizationDetails {
    pub roles: Vec<RoleDetail>,
    pub policies: Vec<ManagedPolicyDetail>,
}

/// The account's entities of the types `filters` (`Role`, `LocalManagedPolicy`), from one
/// paginated GAAD.
pub(crate) async fn authorization_details(
    aws: &AwsProvider,
    filters: &[EntityType],
) -> Result<AuthorizationDetails, ProviderError> {
    let pages: Vec<_> = aws
        .clients()
        .iam
        .get_account_authorization_details()
        .set_filter(Some(filters.to_vec()))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(GAAD, &e))?;
    let mut details = AuthorizationDetails::default();
    for page in pages {
        details
            .roles
            .extend(page.role_detail_list.unwrap_or_default());
        details.policies.extend(page.policies.unwrap_or_default());
    }
    Ok(details)
}

/// A policy document as IAM returns it, as an object: plain JSON (moto, sometimes) or
/// URL-encoded JSON (AWS). A document that is neither stays a string, a visible diff.
pub(crate) fn policy_document(text: &str) -> Value {
    if let Ok(document) = serde_json::from_str(text) {
        return document;
    }
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .and_then(|decoded| serde_json::from_str(&decoded).ok())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// Refuses a policy document given as anything but an object (a JSON string, say): it would
/// never read back equal.
pub(crate) fn require_document(
    kind: &str,
    attribute: &str,
    document: &Value,
) -> Result<(), ProviderError> {
    if document.is_object() {
        Ok(())
    } else {
        Err(invalid_input(
            kind,
            format!("`{attribute}` must be a policy document (an object), not {document}"),
        ))
    }
}

/// `text` unless it is empty: IAM reports a cleared description as empty or not at all.
pub(crate) fn non_empty(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_string)
}

/// IAM's tag list as brickstack's map.
pub(crate) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// `tags` as IAM's list, `None` when empty (IAM refuses an empty list on some calls).
pub(crate) fn tag_list<'a>(
    kind: &str,
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Option<Vec<Tag>>, ProviderError> {
    let list = tags
        .into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| invalid_input(kind, e))
        })
        .collect::<Result<Vec<Tag>, ProviderError>>()?;
    Ok((!list.is_empty()).then_some(list))
}

/// Moves an object's tags from `current` to `desired`: `tag` adds or changes, `untag` removes,
/// each called only when there is something to do.
pub(crate) async fn retag<TagFut, UntagFut>(
    kind: &str,
    current: &Tags,
    desired: &Tags,
    tag: impl FnOnce(Vec<Tag>) -> TagFut,
    untag: impl FnOnce(Vec<String>) -> UntagFut,
) -> Result<(), ProviderError>
where
    TagFut: Future<Output = Result<(), ProviderError>>,
    UntagFut: Future<Output = Result<(), ProviderError>>,
{
    let removed: Vec<String> = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        untag(removed).await?;
    }
    let changed = desired.iter().filter(|(k, v)| current.get(*k) != Some(*v));
    if let Some(tags) = tag_list(kind, changed)? {
        tag(tags).await?;
    }
    Ok(())
}

/// Whether an object with `tags` may be adopted for `lookup`: it carries every brickstack tag
/// the lookup has, so another environment's object of the same name is never taken.
/// What a create refused with `EntityAlreadyExists` looks for (IAM names are unique in the
/// account): the object of that name carrying brickstack's tags of the desired ones, so another
/// environment's object is never taken for this one. A second send of a create whose first
/// answer was lost is refused this way; the object found is the one the first send made.
pub(crate) fn already_there(name: &str, desired_tags: &Tags) -> ObjectLookup {
    ObjectLookup {
        name: Some(name.to_string()),
        tags: desired_tags
            .iter()
            .filter(|(k, _)| k.starts_with("brickstack:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        scope: None,
    }
}

/// IAM's refusal to create a name that exists.
pub(crate) const ENTITY_ALREADY_EXISTS: &str = "EntityAlreadyExists";

pub(crate) fn carries_lookup_tags(lookup: &ObjectLookup, tags: &Tags) -> bool {
    lookup.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
}

/// `object_id` split at the first `separator` into its two parts, both non-empty.
pub(crate) fn split_id<'a>(
    kind: &str,
    object_id: &'a str,
    separator: char,
    shape: &str,
) -> Result<(&'a str, &'a str), ProviderError> {
    object_id
        .split_once(separator)
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorClass::InvalidInput,
                "InvalidObjectId",
                format!("`{object_id}` is not a {kind} id (`{shape}`)"),
            )
        })
}

/// Refuses an update that would change an attribute that only changes by replacement (the
/// planner never asks for one).
pub(crate) fn unchanged(
    kind: &str,
    attribute: &str,
    current: &str,
    desired: &str,
) -> Result<(), ProviderError> {
    if current == desired {
        Ok(())
    } else {
        Err(invalid_input(
            kind,
            format!("`{attribute}` changes from `{current}` to `{desired}` only by replacement"),
        ))
    }
}

/// Only the entries of `found` whose key is among `object_ids`.
pub(crate) fn asked<T>(
    object_ids: &[String],
    mut found: BTreeMap<String, T>,
) -> BTreeMap<String, T> {
    object_ids
        .iter()
        .filter_map(|id| found.remove_entry(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::policy_document;

    #[test]
    fn documents_are_read_plain_or_url_encoded() {
        let document = json!({"Statement": [{"Resource": "arn:aws:s3:::b/a b+c*"}]});
        assert_eq!(policy_document(&document.to_string()), document);
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab/a%20b%2Bc%2A%22%7D%5D%7D";
        assert_eq!(policy_document(encoded), document);
        // A `+` is a plus in RFC 3986, not a space as in a form.
        let plus = "%7B%22Action%22%3A%22a+b%22%7D";
        assert_eq!(policy_document(plus), json!({"Action": "a+b"}));
        assert_eq!(policy_document("not json"), json!("not json"));
    }
}
