//! `aws_s3_bucket_logging`: a bucket's server access logging. The object id is the bucket name.
//!
//! S3 keeps logging as a setting of the bucket, so the object exists while logging is enabled:
//! create and update put the target, delete puts an empty `BucketLoggingStatus` (logging off),
//! and a bucket that logs nowhere reads as having none. The target bucket must let
//! `logging.s3.amazonaws.com` write (the generator orders this after the target's policy), or S3
//! answers `InvalidTargetBucketForLogging`.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{built, observed, parse, read_each, same_bucket};
use crate::classify::{absent_if_not_found, classify, done_if_not_found};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket_logging";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Logging {
    bucket: String,
    target_bucket: String,
    /// S3 keeps an absent prefix as the empty string, so that is the canonical form.
    #[serde(default)]
    target_prefix: String,
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND).attribute("bucket", AttributeBehaviour::ForcesReplacement)
}

pub(crate) async fn read(
    aws: &AwsProvider,
    bucket: &str,
) -> Result<Option<Observed>, ProviderError> {
    let out = match aws
        .clients()
        .s3
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify("s3:GetBucketLogging", &e)),
    };
    let Some(enabled) = out.logging_enabled() else {
        return Ok(None);
    };
    let logging = Logging {
        bucket: bucket.to_string(),
        target_bucket: enabled.target_bucket().to_string(),
        target_prefix: enabled.target_prefix().to_string(),
    };
    Ok(Some(observed(bucket, &logging, [])))
}

pub(crate) async fn read_many(
    aws: &AwsProvider,
    buckets: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    read_each(buckets, |bucket| read(aws, bucket)).await
}

async fn put(
    aws: &AwsProvider,
    bucket: &str,
    status: BucketLoggingStatus,
) -> Result<(), ProviderError> {
    aws.clients()
        .s3
        .put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(status)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("s3:PutBucketLogging", &e))
}

/// Puts the target: the same call sets it the first time and changes it later, and sending it
/// again is harmless (an interrupted create is simply re-sent).
pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let logging: Logging = parse(KIND, attributes)?;
    let enabled = built(
        KIND,
        LoggingEnabled::builder()
            .target_bucket(&logging.target_bucket)
            .target_prefix(&logging.target_prefix)
            .build(),
    )?;
    put(
        aws,
        &logging.bucket,
        BucketLoggingStatus::builder()
            .logging_enabled(enabled)
            .build(),
    )
    .await?;
    Ok(observed(&logging.bucket, &logging, []))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    bucket: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    same_bucket(KIND, attributes, bucket)?;
    create(aws, attributes).await
}

/// Turns logging off (an empty status); a bucket that is gone logs nowhere.
pub(crate) async fn delete(aws: &AwsProvider, bucket: &str) -> Result<(), ProviderError> {
    put(aws, bucket, BucketLoggingStatus::builder().build())
        .await
        .or_else(done_if_not_found)
}
