//! `aws_s3_bucket_public_access_block`: a bucket's public access block. The object id is the
//! bucket name.

use std::collections::BTreeMap;

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{observed, parse, read_each, same_bucket};
use crate::classify::{absent_if_not_found, classify, done_if_not_found};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket_public_access_block";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicAccessBlock {
    bucket: String,
    #[serde(default)]
    block_public_acls: bool,
    #[serde(default)]
    block_public_policy: bool,
    #[serde(default)]
    ignore_public_acls: bool,
    #[serde(default)]
    restrict_public_buckets: bool,
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
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify("s3:GetPublicAccessBlock", &e)),
    };
    let Some(config) = out.public_access_block_configuration() else {
        return Ok(None);
    };
    let block = PublicAccessBlock {
        bucket: bucket.to_string(),
        block_public_acls: config.block_public_acls().unwrap_or(false),
        block_public_policy: config.block_public_policy().unwrap_or(false),
        ignore_public_acls: config.ignore_public_acls().unwrap_or(false),
        restrict_public_buckets: config.restrict_public_buckets().unwrap_or(false),
    };
    Ok(Some(observed(bucket, &block, [])))
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
    let block: PublicAccessBlock = parse(KIND, attributes)?;
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(block.block_public_acls)
        .block_public_policy(block.block_public_policy)
        .ignore_public_acls(block.ignore_public_acls)
        .restrict_public_buckets(block.restrict_public_buckets)
        .build();
    aws.clients()
        .s3
        .put_public_access_block()
        .bucket(&block.bucket)
        .public_access_block_configuration(config)
        .send()
        .await
        .map_err(|e| classify("s3:PutPublicAccessBlock", &e))?;
    Ok(observed(&block.bucket, &block, []))
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
        .delete_public_access_block()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("s3:DeletePublicAccessBlock", &e)),
    }
}
