//! `aws_s3_bucket_server_side_encryption_configuration`: a bucket's default encryption. The
//! object id is the bucket name.
//!
//! `rule` has one canonical shape, because the planner compares it whole: `sse_algorithm`;
//! `kms_master_key_id` only for SSE-KMS; `bucket_key_enabled` only when true (it applies to SSE-KMS
//! only). Since 2023 AWS reports SSE-S3 for a bucket without a configuration, so on AWS a deleted
//! configuration reads as `{sse_algorithm = "AES256"}`; S3 look-alikes (moto) report none.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{built, observed, parse, read_each, same_bucket};
use crate::classify::{absent_if_not_found, classify, done_if_not_found, invalid_input};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket_server_side_encryption_configuration";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Encryption {
    bucket: String,
    rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    sse_algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kms_master_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket_key_enabled: Option<bool>,
}

fn is_kms(algorithm: &str) -> bool {
    algorithm.starts_with("aws:kms")
}

impl Encryption {
    fn desired(attributes: &Attributes) -> Result<Encryption, ProviderError> {
        let encryption: Encryption = parse(KIND, attributes)?;
        let rule = &encryption.rule;
        if !is_kms(&rule.sse_algorithm)
            && (rule.kms_master_key_id.is_some() || rule.bucket_key_enabled.is_some())
        {
            return Err(invalid_input(
                KIND,
                format!(
                    "`rule.kms_master_key_id` and `rule.bucket_key_enabled` apply to SSE-KMS only, not `{}`",
                    rule.sse_algorithm
                ),
            ));
        }
        if rule.bucket_key_enabled == Some(false) {
            return Err(invalid_input(
                KIND,
                "leave `rule.bucket_key_enabled` out rather than setting it to false",
            ));
        }
        Ok(encryption)
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
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return absent_if_not_found(classify("s3:GetBucketEncryption", &e)),
    };
    let Some(rule) = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
    else {
        return Ok(None);
    };
    let Some(default) = rule.apply_server_side_encryption_by_default() else {
        return Ok(None);
    };
    let encryption = Encryption {
        bucket: bucket.to_string(),
        rule: Rule {
            sse_algorithm: default.sse_algorithm().as_str().to_string(),
            kms_master_key_id: default.kms_master_key_id().map(str::to_string),
            bucket_key_enabled: rule.bucket_key_enabled().filter(|enabled| *enabled),
        },
    };
    Ok(Some(observed(bucket, &encryption, [])))
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
    let encryption = Encryption::desired(attributes)?;
    let rule = &encryption.rule;
    let default = built(
        KIND,
        ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(rule.sse_algorithm.as_str()))
            .set_kms_master_key_id(rule.kms_master_key_id.clone())
            .build(),
    )?;
    let configuration = built(
        KIND,
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(rule.bucket_key_enabled.unwrap_or(false))
                    .build(),
            )
            .build(),
    )?;
    aws.clients()
        .s3
        .put_bucket_encryption()
        .bucket(&encryption.bucket)
        .server_side_encryption_configuration(configuration)
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketEncryption", &e))?;
    Ok(observed(&encryption.bucket, &encryption, []))
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
        .delete_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("s3:DeleteBucketEncryption", &e)),
    }
}
