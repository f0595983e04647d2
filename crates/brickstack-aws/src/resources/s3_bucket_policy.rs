//! `aws_s3_bucket_policy`: a bucket's policy. The object id is the bucket name; the policy is
//! read back parsed, the object the graph gives, not a JSON string.

use std::collections::BTreeMap;

use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{observed, parse, read_each, same_bucket};
use crate::classify::{absent_if_not_found, classify, done_if_not_found, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket_policy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    bucket: String,
    policy: Value,
}

impl Policy {
    fn desired(attributes: &Attributes) -> Result<Policy, ProviderError> {
        let policy: Policy = parse(KIND, attributes)?;
        // Only a document: a malformed policy is refused here rather than sent (some S3
        // look-alikes store it and then fail every request on the bucket).
        if !policy.policy.is_object() {
            return Err(invalid_input(
                KIND,
                "`policy` must be a policy document (an object), not a string",
            ));
        }
        Ok(policy)
    }
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
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify("s3:GetBucketPolicy", &e)),
    };
    let Some(text) = out.policy() else {
        return Ok(None);
    };
    let policy = Policy {
        bucket: bucket.to_string(),
        // A document that is not JSON stays a string, which shows as a diff and is replaced.
        policy: serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    };
    Ok(Some(observed(bucket, &policy, [])))
}

pub(crate) async fn read_many(
    aws: &AwsProvider,
    buckets: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    read_each(buckets, |bucket| read(aws, bucket)).await
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let policy = Policy::desired(attributes)?;
    aws.clients()
        .s3
        .put_bucket_policy()
        .bucket(&policy.bucket)
        .policy(policy.policy.to_string())
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketPolicy", &e))?;
    Ok(observed(&policy.bucket, &policy, []))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    bucket: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    same_bucket(KIND, attributes, bucket)?;
    create(aws, attributes).await
}

pub(crate) async fn delete(aws: &AwsProvider, bucket: &str) -> Result<(), ProviderError> {
    match aws
        .clients()
        .s3
        .delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("s3:DeleteBucketPolicy", &e)),
    }
}
