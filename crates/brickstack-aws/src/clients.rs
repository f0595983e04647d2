//! One SDK client per AWS service brickstack uses.

use aws_config::SdkConfig;

use crate::error::AwsError;
use crate::retry::{CreateGuard, RetryableCodes, retry_partition};

/// The SDK clients, all built from one [`SdkConfig`] (cheap to clone: each is an `Arc`).
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub ec2: aws_sdk_ec2::Client,
    /// Uses path-style addressing whenever `config` overrides the endpoint, because
    /// `bucket.<host>` does not resolve for an emulator's host.
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub iam: aws_sdk_iam::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sts: aws_sdk_sts::Client,
    /// The Resource Groups Tagging API: `--refresh=minimal` lists the environment's objects.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

impl AwsClients {
    /// Builds every client from `config`, each with brickstack's retry classifier and create
    /// guard on top of the SDK's retry layer (`crate::retry`), sharing one retry partition
    /// without a retry quota ([`retry_partition`]).
    pub fn new(config: &SdkConfig) -> Self {
        let partition = retry_partition();
        macro_rules! guarded {
            ($sdk:ident) => {
                guarded!($sdk, $sdk::config::Builder::from(config))
            };
            ($sdk:ident, $builder:expr) => {
                $sdk::Client::from_conf(
                    $builder
                        .retry_classifier(RetryableCodes)
                        .interceptor(CreateGuard)
                        .retry_partition(partition.clone())
                        .build(),
                )
            };
        }
        AwsClients {
            ec2: guarded!(aws_sdk_ec2),
            s3: guarded!(
                aws_sdk_s3,
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(config.endpoint_url().is_some())
            ),
            kms: guarded!(aws_sdk_kms),
            iam: guarded!(aws_sdk_iam),
            ssm: guarded!(aws_sdk_ssm),
            dynamodb: guarded!(aws_sdk_dynamodb),
            sts: guarded!(aws_sdk_sts),
            tagging: guarded!(aws_sdk_resourcegroupstagging),
        }
    }

    /// The 12-digit account the credentials act in (`sts:GetCallerIdentity`).
    pub async fn caller_account(&self) -> Result<String, AwsError> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::sdk("sts:GetCallerIdentity", e))?;
        identity
            .account()
            .map(str::to_string)
            .ok_or(AwsError::MissingField {
                operation: "sts:GetCallerIdentity",
                field: "Account",
            })
    }
}
