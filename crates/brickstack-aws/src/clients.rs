//! One SDK client per AWS service brickstack uses.

use aws_config::SdkConfig;

use crate::error::AwsError;

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
    /// Builds every client from `config`.
    pub fn new(config: &SdkConfig) -> Self {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        AwsClients {
            ec2: aws_sdk_ec2::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: aws_sdk_kms::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
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
