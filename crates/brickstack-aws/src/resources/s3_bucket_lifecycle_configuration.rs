//! `aws_s3_bucket_lifecycle_configuration`: a bucket's lifecycle rules. The object id is the
//! bucket name.
//!
//! Each rule applies to the whole bucket and holds at most one action of each sort: expiration,
//! one transition, noncurrent-version expiration, aborting incomplete multipart uploads. Absent
//! actions are left out of the rule, in what is sent and in what is read.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    Transition, TransitionStorageClass,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{built, observed, parse, read_each, same_bucket};
use crate::classify::{absent_if_not_found, classify, done_if_not_found};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_s3_bucket_lifecycle_configuration";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lifecycle {
    bucket: String,
    rule: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    id: String,
    /// `Enabled` or `Disabled`.
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiration_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transition: Option<RuleTransition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    noncurrent_version_expiration_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    abort_incomplete_multipart_upload_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleTransition {
    days: i32,
    storage_class: String,
}

impl Rule {
    fn to_sdk(&self) -> Result<LifecycleRule, ProviderError> {
        let mut rule = LifecycleRule::builder()
            .id(&self.id)
            .status(ExpirationStatus::from(self.status.as_str()))
            .filter(LifecycleRuleFilter::builder().prefix("").build());
        if let Some(days) = self.expiration_days {
            rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
        }
        if let Some(t) = &self.transition {
            rule = rule.transitions(
                Transition::builder()
                    .days(t.days)
                    .storage_class(TransitionStorageClass::from(t.storage_class.as_str()))
                    .build(),
            );
        }
        if let Some(days) = self.noncurrent_version_expiration_days {
            rule = rule.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days)
                    .build(),
            );
        }
        if let Some(days) = self.abort_incomplete_multipart_upload_days {
            rule = rule.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(days)
                    .build(),
            );
        }
        built(KIND, rule.build())
    }

    fn from_sdk(rule: &LifecycleRule) -> Rule {
        Rule {
            id: rule.id().unwrap_or_default().to_string(),
            status: rule.status().as_str().to_string(),
            expiration_days: rule.expiration().and_then(|e| e.days()),
            transition: rule.transitions().first().and_then(|t| {
                Some(RuleTransition {
                    days: t.days()?,
                    storage_class: t.storage_class()?.as_str().to_string(),
                })
            }),
            noncurrent_version_expiration_days: rule
                .noncurrent_version_expiration()
                .and_then(|n| n.noncurrent_days()),
            abort_incomplete_multipart_upload_days: rule
                .abort_incomplete_multipart_upload()
                .and_then(|a| a.days_after_initiation()),
        }
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
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            return absent_if_not_found(classify("s3:GetBucketLifecycleConfiguration", &e));
        }
    };
    let lifecycle = Lifecycle {
        bucket: bucket.to_string(),
        rule: out.rules().iter().map(Rule::from_sdk).collect(),
    };
    Ok(Some(observed(bucket, &lifecycle, [])))
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
    let lifecycle: Lifecycle = parse(KIND, attributes)?;
    let rules = lifecycle
        .rule
        .iter()
        .map(Rule::to_sdk)
        .collect::<Result<Vec<_>, _>>()?;
    let configuration = built(
        KIND,
        BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build(),
    )?;
    aws.clients()
        .s3
        .put_bucket_lifecycle_configuration()
        .bucket(&lifecycle.bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketLifecycleConfiguration", &e))?;
    Ok(observed(&lifecycle.bucket, &lifecycle, []))
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
        .delete_bucket_lifecycle()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => done_if_not_found(classify("s3:DeleteBucketLifecycle", &e)),
    }
}
