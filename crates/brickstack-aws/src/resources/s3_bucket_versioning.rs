//! `aws_s3_bucket_versioning`: versioning of a bucket. The object id is the bucket name.
//!
//! S3 versioning can be suspended but never removed, so the object exists while versioning is
//! `Enabled`: delete suspends it, and a bucket whose versioning was never enabled or is suspended
//! reads as having none. `status` must therefore be `Enabled`.

use std::collections::BTreeMap;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningError;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{observed, parse, read_each, same_bucket};
use crate::classify::{absent_if_not_found, classify, done_if_not_found, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket_versioning";

const ENABLED: &str = "Enabled";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Versioning {
    bucket: String,
    status: String,
}

impl Versioning {
    fn desired(attributes: &Attributes) -> Result<Versioning, ProviderError> {
        let versioning: Versioning = parse(KIND, attributes)?;
        if versioning.status != ENABLED {
            return Err(invalid_input(
                KIND,
                format!(
                    "`status` is `{}`; only `Enabled` can be declared (remove the resource to suspend versioning)",
                    versioning.status
                ),
            ));
        }
        Ok(versioning)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND).attribute("bucket", AttributeBehaviour::ForcesReplacement)
}

pub(crate) async fn read(
    aws: &AwsProvider,
    bucket: &str,
) -> Result<Option<Observed>, ProviderError> {
    let status = match aws
        .clients()
        .s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out.status().map(|s| s.as_str().to_string()),
        Err(e) => match status_from_raw_body(&e) {
            Some(status) => status,
            None => return absent_if_not_found(classify("s3:GetBucketVersioning", &e)),
        },
    };
    if status.as_deref() != Some(ENABLED) {
        return Ok(None);
    }
    let versioning = Versioning {
        bucket: bucket.to_string(),
        status: ENABLED.to_string(),
    };
    Ok(Some(observed(bucket, &versioning, [])))
}

/// moto 5.2 wraps GetBucketVersioning's answer in `<GetBucketVersioningResponse>` rather than
/// S3's `<VersioningConfiguration>`, and the SDK refuses the unknown root; the status is then
/// taken from the raw body. An answer from S3 itself never takes this path.
fn status_from_raw_body(
    error: &SdkError<GetBucketVersioningError, HttpResponse>,
) -> Option<Option<String>> {
    let SdkError::ServiceError(service) = error else {
        return None;
    };
    if service.raw().status().as_u16() != 200 {
        return None;
    }
    let body = std::str::from_utf8(service.raw().body().bytes()?).ok()?;
    if !body.contains("<GetBucketVersioningResponse") {
        return None;
    }
    Some(
        body.split_once("<Status>")
            .and_then(|(_, rest)| rest.split_once("</Status>"))
            .map(|(status, _)| status.to_string()),
    )
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
    status: BucketVersioningStatus,
) -> Result<(), ProviderError> {
    aws.clients()
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("s3:PutBucketVersioning", &e))
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let versioning = Versioning::desired(attributes)?;
    put(aws, &versioning.bucket, BucketVersioningStatus::Enabled).await?;
    Ok(observed(&versioning.bucket, &versioning, []))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    bucket: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    same_bucket(KIND, attributes, bucket)?;
    create(aws, attributes).await
}

/// Suspends versioning (it cannot be removed); a bucket that is gone has none to suspend.
pub(crate) async fn delete(aws: &AwsProvider, bucket: &str) -> Result<(), ProviderError> {
    if read(aws, bucket).await?.is_none() {
        return Ok(());
    }
    put(aws, bucket, BucketVersioningStatus::Suspended)
        .await
        .or_else(done_if_not_found)
}
