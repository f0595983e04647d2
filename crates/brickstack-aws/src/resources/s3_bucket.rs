//! `aws_s3_bucket`: the bucket itself; its versioning, encryption, public access block,
//! lifecycle and policy are kinds of their own. The object id is the bucket name.
//!
//! * Created in the region the clients act in (a `LocationConstraint` outside `us-east-1`).
//! * `force_destroy` acts only at delete, and delete gets nothing but the name, so `true` is kept
//!   as the tag `brickstack:force_destroy`; read reports it from there and leaves it out of `tags`.
//! * Buckets hold data: `contents` counts object versions and delete markers, and `empty`
//!   deletes them all (what `--destroy-data` asks for: the engine calls it before the delete).
//!   Delete itself empties the bucket only under `force_destroy`; otherwise a bucket with data
//!   fails with `BucketNotEmpty` (the engine refuses such deletes before getting here unless
//!   told to destroy data).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{Tags, built, observed, parse, read_each, reject_reserved_tags};
use crate::classify::{
    absent_if_not_found, after_created, classify, classify_code, done_if_not_found, gone,
    invalid_input,
};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket";

const FORCE_DESTROY_TAG: &str = "brickstack:force_destroy";
/// Object versions listed and deleted per call: the most `DeleteObjects` takes.
const PAGE: i32 = 1000;
/// The region where a bucket is created without a location constraint.
const NO_CONSTRAINT_REGION: &str = "us-east-1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Bucket {
    bucket: String,
    #[serde(default)]
    force_destroy: bool,
    #[serde(default)]
    tags: Tags,
}

impl Bucket {
    fn desired(attributes: &Attributes) -> Result<Bucket, ProviderError> {
        let bucket: Bucket = parse(KIND, attributes)?;
        reject_reserved_tags(KIND, &bucket.tags, &[FORCE_DESTROY_TAG])?;
        Ok(bucket)
    }

    /// The tags as stored on the bucket: the desired ones, plus the marker for `force_destroy`.
    fn stored_tags(&self) -> Tags {
        let mut tags = self.tags.clone();
        if self.force_destroy {
            tags.insert(FORCE_DESTROY_TAG.to_string(), "true".to_string());
        }
        tags
    }

    fn from_stored(name: &str, mut stored: Tags) -> Bucket {
        let force_destroy = stored.remove(FORCE_DESTROY_TAG).as_deref() == Some("true");
        Bucket {
            bucket: name.to_string(),
            force_destroy,
            tags: stored,
        }
    }

    async fn observed(&self, aws: &AwsProvider) -> Result<Observed, ProviderError> {
        let partition = &aws.identity().await?.partition;
        let arn = format!("arn:{partition}:s3:::{}", self.bucket);
        Ok(observed(&self.bucket, self, [("arn", arn)]))
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema {
        holds_data: true,
        ..KindSchema::new(KIND)
            .attribute("bucket", AttributeBehaviour::ForcesReplacement)
            .attribute("arn", AttributeBehaviour::Computed)
    }
}

/// The bucket's tags; `None` when the bucket is gone.
async fn stored_tags(s3: &Client, name: &str) -> Result<Option<Tags>, ProviderError> {
    match s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(Some(
            out.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        )),
        Err(e) => {
            let error = classify("s3:GetBucketTagging", &e);
            // A bucket without tags answers NoSuchTagSet; only a missing bucket means gone.
            if error.code == "NoSuchTagSet" {
                Ok(Some(Tags::new()))
            } else {
                absent_if_not_found(error)
            }
        }
    }
}

async fn put_tags(s3: &Client, name: &str, tags: &Tags) -> Result<(), ProviderError> {
    if tags.is_empty() {
        return s3
            .delete_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("s3:DeleteBucketTagging", &e));
    }
    let tag_set = tags
        .iter()
        .map(|(k, v)| built(KIND, Tag::builder().key(k).value(v).build()))
        .collect::<Result<Vec<_>, _>>()?;
    let tagging = built(KIND, Tagging::builder().set_tag_set(Some(tag_set)).build())?;
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("s3:PutBucketTagging", &e))
}

pub(crate) async fn read(aws: &AwsProvider, name: &str) -> Result<Option<Observed>, ProviderError> {
    let s3 = &aws.clients().s3;
    if let Err(e) = s3.head_bucket().bucket(name).send().await {
        return absent_if_not_found(classify("s3:HeadBucket", &e));
    }
    match stored_tags(s3, name).await? {
        Some(tags) => Ok(Some(Bucket::from_stored(name, tags).observed(aws).await?)),
        None => Ok(None),
    }
}

/// One ListBuckets says which exist; then each existing bucket's tags.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    names: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    let s3 = &aws.clients().s3;
    let owned: BTreeSet<String> = s3
        .list_buckets()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("s3:ListBuckets", &e))?
        .into_iter()
        .filter_map(|b| b.name)
        .collect();
    let existing: Vec<String> = names
        .iter()
        .filter(|n| owned.contains(*n))
        .cloned()
        .collect();
    read_each(&existing, |name| async move {
        match stored_tags(s3, name).await? {
            Some(tags) => Ok(Some(Bucket::from_stored(name, tags).observed(aws).await?)),
            None => Ok(None),
        }
    })
    .await
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let bucket = Bucket::desired(attributes)?;
    let s3 = &aws.clients().s3;
    let region = aws.region()?;
    let configuration = (region != NO_CONSTRAINT_REGION).then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region.as_str()))
            .build()
    });
    s3.create_bucket()
        .bucket(&bucket.bucket)
        .set_create_bucket_configuration(configuration)
        .send()
        .await
        .map_err(|e| classify("s3:CreateBucket", &e))?;
    let tags = bucket.stored_tags();
    if !tags.is_empty() {
        put_tags(s3, &bucket.bucket, &tags)
            .await
            .map_err(|e| after_created(KIND, &bucket.bucket, e))?;
    }
    bucket.observed(aws).await
}

pub(crate) async fn update(
    aws: &AwsProvider,
    name: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let bucket = Bucket::desired(attributes)?;
    if bucket.bucket != name {
        return Err(invalid_input(
            KIND,
            "`bucket` changes only by replacing the bucket",
        ));
    }
    let s3 = &aws.clients().s3;
    let current = stored_tags(s3, name)
        .await?
        .ok_or_else(|| gone(KIND, name))?;
    let desired = bucket.stored_tags();
    if current != desired {
        put_tags(s3, name, &desired).await?;
    }
    bucket.observed(aws).await
}

/// Deletes the bucket, emptying it first only if `force_destroy` is set on it.
pub(crate) async fn delete(aws: &AwsProvider, name: &str) -> Result<(), ProviderError> {
    let s3 = &aws.clients().s3;
    let Some(tags) = stored_tags(s3, name).await? else {
        return Ok(());
    };
    if Bucket::from_stored(name, tags).force_destroy {
        empty_versions(s3, name).await?;
    }
    match s3.delete_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("s3:DeleteBucket", &e)),
    }
}

/// Object versions and delete markers in the bucket (0 when it is gone).
pub(crate) async fn contents(aws: &AwsProvider, name: &str) -> Result<u64, ProviderError> {
    let s3 = &aws.clients().s3;
    let mut count = 0u64;
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let page = match s3
            .list_object_versions()
            .bucket(name)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) => {
                return absent_if_not_found::<()>(classify("s3:ListObjectVersions", &e)).map(|_| 0);
            }
        };
        count += (page.versions().len() + page.delete_markers().len()) as u64;
        if page.is_truncated() != Some(true) {
            return Ok(count);
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
        if key_marker.is_none() {
            return Ok(count);
        }
    }
}

/// Deletes every object version and delete marker of the bucket (none when it is gone).
pub(crate) async fn empty(aws: &AwsProvider, name: &str) -> Result<(), ProviderError> {
    empty_versions(&aws.clients().s3, name).await
}

/// Deletes every object version and delete marker, a page (up to 1,000, what one
/// `DeleteObjects` takes) at a time. Each page is listed from the start: the previous page's
/// entries are gone, so no marker is needed.
async fn empty_versions(s3: &Client, name: &str) -> Result<(), ProviderError> {
    loop {
        let page = match s3
            .list_object_versions()
            .bucket(name)
            .max_keys(PAGE)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) => return done_if_not_found(classify("s3:ListObjectVersions", &e)),
        };
        let versions = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        let objects = versions
            .filter_map(|(key, version)| {
                key.map(|k| {
                    built(
                        KIND,
                        ObjectIdentifier::builder()
                            .key(k)
                            .set_version_id(version.map(str::to_string))
                            .build(),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if objects.is_empty() {
            return Ok(());
        }
        let delete = built(
            KIND,
            Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build(),
        )?;
        let out = s3
            .delete_objects()
            .bucket(name)
            .delete(delete)
            .send()
            .await
            .map_err(|e| classify("s3:DeleteObjects", &e))?;
        if let Some(failed) = out.errors().first() {
            return Err(ProviderError::new(
                classify_code(failed.code(), None),
                failed.code().unwrap_or("DeleteObjectsFailed").to_string(),
                format!(
                    "s3:DeleteObjects could not delete `{}` ({} failures in this page): {}",
                    failed.key().unwrap_or_default(),
                    out.errors().len(),
                    failed.message().unwrap_or_default()
                ),
            ));
        }
    }
}
