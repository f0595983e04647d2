//! S3 buckets: each with public access blocked, SSE-KMS by default, a TLS-only policy, and the
//! versioning, lifecycle and access logging its spec asks for.

use brickstack_spec::defaults::DATABRICKS_AWS_ACCOUNT;
use brickstack_spec::{Bucket, BucketRole, Spec};

use super::addresses;
use super::kms::document;
use crate::resource::{Resources, reference};
use crate::value::Value;
use crate::{list, map};

pub fn emit(spec: &Spec, out: &mut Resources) {
    let flow_log_bucket = spec.network.flow_logs.as_ref().map(|f| f.bucket.as_str());
    let logged_into_access_logs = spec.buckets.all.iter().any(|b| b.access_logging);
    for bucket in &spec.buckets.all {
        let address = out
            .add(
                "aws_s3_bucket",
                &bucket.key,
                map! { "bucket" => &bucket.name, "force_destroy" => false },
            )
            .name_tag(&bucket.name)
            // Its objects are encrypted with the key: the key is scheduled for deletion only
            // once the bucket is gone (the encryption setting alone would let it go first).
            .depends_on(&addresses::kms_key(&bucket.kms_key))
            .address();
        let bucket_name = reference(&address, "bucket");
        let public_access_block = out
            .add(
                "aws_s3_bucket_public_access_block",
                &bucket.key,
                map! {
                    "bucket" => bucket_name.clone(),
                    "block_public_acls" => true,
                    "block_public_policy" => true,
                    "ignore_public_acls" => true,
                    "restrict_public_buckets" => true,
                },
            )
            .address();
        // S3 server access logs cannot be delivered into a bucket encrypted with SSE-KMS by
        // default, so a bucket receiving them uses SSE-S3.
        let rule = if bucket.role == BucketRole::AccessLogs && logged_into_access_logs {
            map! { "sse_algorithm" => "AES256" }
        } else {
            map! {
                "sse_algorithm" => "aws:kms",
                "kms_master_key_id" => reference(&addresses::kms_key(&bucket.kms_key), "arn"),
                "bucket_key_enabled" => true,
            }
        };
        out.add(
            "aws_s3_bucket_server_side_encryption_configuration",
            &bucket.key,
            map! { "bucket" => bucket_name.clone(), "rule" => rule },
        );
        if bucket.versioning {
            out.add(
                "aws_s3_bucket_versioning",
                &bucket.key,
                map! { "bucket" => bucket_name.clone(), "status" => "Enabled" },
            );
        }
        if let Some(rule) = &bucket.lifecycle {
            let mut r = map! { "id" => "brickstack", "status" => "Enabled" };
            if let Value::Map(m) = &mut r {
                if let Some(days) = rule.transition_to_glacier_days {
                    m.insert(
                        "transition".into(),
                        map! { "days" => days, "storage_class" => "GLACIER" },
                    );
                }
                if let Some(days) = rule.expire_days {
                    m.insert("expiration_days".into(), days.into());
                }
                if let Some(days) = rule.noncurrent_expire_days {
                    m.insert("noncurrent_version_expiration_days".into(), days.into());
                }
            }
            out.add(
                "aws_s3_bucket_lifecycle_configuration",
                &bucket.key,
                map! { "bucket" => bucket_name.clone(), "rule" => list![r] },
            );
        }
        if bucket.access_logging && bucket.role != BucketRole::AccessLogs {
            out.add(
                "aws_s3_bucket_logging",
                &bucket.key,
                map! {
                    "bucket" => bucket_name.clone(),
                    "target_bucket" => reference(&addresses::bucket("access_logs"), "bucket"),
                    "target_prefix" => format!("s3-access/{}/", bucket.name),
                },
            )
            // S3 refuses a target that does not yet let its logging service write.
            .depends_on(&addresses::bucket_policy("access_logs"));
        }
        let statements = policy_statements(
            bucket,
            &address,
            flow_log_bucket == Some(bucket.key.as_str()),
            bucket.role == BucketRole::AccessLogs && logged_into_access_logs,
        );
        if !statements.is_empty() {
            out.add(
                "aws_s3_bucket_policy",
                &bucket.key,
                map! { "bucket" => bucket_name, "policy" => document(statements) },
            )
            // A policy put before the public access block can be rejected as public.
            .depends_on(&public_access_block);
        }
    }
}

fn policy_statements(
    bucket: &Bucket,
    address: &crate::Address,
    receives_flow_logs: bool,
    receives_access_logs: bool,
) -> Vec<Value> {
    let arn = reference(address, "arn");
    let objects = Value::Concat(vec![arn.clone(), "/*".into()]);
    // `{"AWS": "*"}` is AWS's equivalent of the bare `"*"`; S3 reads principals as maps when it
    // checks that a logging target lets the logging service write (moto does too).
    let anyone = || map! { "AWS" => "*" };
    let mut statements = Vec::new();
    if bucket.enforce_tls {
        statements.push(map! {
            "Sid" => "DenyInsecureTransport",
            "Effect" => "Deny",
            "Principal" => anyone(),
            "Action" => "s3:*",
            "Resource" => list![arn.clone(), objects.clone()],
            "Condition" => map! { "Bool" => map! { "aws:SecureTransport" => "false" } },
        });
    }
    if bucket.enforce_sse_kms {
        statements.push(map! {
            "Sid" => "DenyUploadsWithoutSseHeader",
            "Effect" => "Deny",
            "Principal" => anyone(),
            "Action" => "s3:PutObject",
            "Resource" => objects.clone(),
            "Condition" => map! { "Null" => map! { "s3:x-amz-server-side-encryption" => "true" } },
        });
        statements.push(map! {
            "Sid" => "DenyUploadsNotSseKms",
            "Effect" => "Deny",
            "Principal" => anyone(),
            "Action" => "s3:PutObject",
            "Resource" => objects.clone(),
            "Condition" => map! { "StringNotEquals" => map! { "s3:x-amz-server-side-encryption" => "aws:kms" } },
        });
    }
    if bucket.role == BucketRole::WorkspaceRoot {
        statements.push(map! {
            "Sid" => "AllowDatabricksControlPlane",
            "Effect" => "Allow",
            "Principal" => map! { "AWS" => format!("arn:aws:iam::{DATABRICKS_AWS_ACCOUNT}:root") },
            "Action" => vec!["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource" => list![arn.clone(), objects.clone()],
        });
    }
    if receives_flow_logs {
        statements.push(map! {
            "Sid" => "AllowFlowLogDeliveryWrite",
            "Effect" => "Allow",
            "Principal" => map! { "Service" => "delivery.logs.amazonaws.com" },
            "Action" => "s3:PutObject",
            "Resource" => objects.clone(),
            "Condition" => map! { "StringEquals" => map! { "s3:x-amz-acl" => "bucket-owner-full-control" } },
        });
        statements.push(map! {
            "Sid" => "AllowFlowLogDeliveryAclCheck",
            "Effect" => "Allow",
            "Principal" => map! { "Service" => "delivery.logs.amazonaws.com" },
            "Action" => "s3:GetBucketAcl",
            "Resource" => arn.clone(),
        });
    }
    if receives_access_logs {
        statements.push(map! {
            "Sid" => "AllowS3ServerAccessLogs",
            "Effect" => "Allow",
            "Principal" => map! { "Service" => "logging.s3.amazonaws.com" },
            "Action" => "s3:PutObject",
            "Resource" => objects,
        });
    }
    statements
}
