//! The bootstrap graph: the state backend itself (state bucket, its KMS key and alias, lock table),
//! kept apart so the main graph's state can live in it.

use brickstack_spec::{S3Backend, Spec, StateBackend};

use super::kms::document;
use crate::resource::{Resources, reference};
use crate::value::{Value, account_root};
use crate::{list, map};

/// The S3 backend settings: the spec's, or those an `s3` backend would get by default.
pub fn backend_settings(spec: &Spec) -> S3Backend {
    match &spec.state {
        StateBackend::S3(s3) => s3.clone(),
        StateBackend::Local { .. } => S3Backend::default_for(&spec.environment),
    }
}

pub fn emit(spec: &Spec, out: &mut Resources) {
    let s3 = backend_settings(spec);
    let key = out
        .add(
            "aws_kms_key",
            "state",
            map! {
                "description" => format!("brickstack state of {}", spec.environment.name),
                "key_usage" => "ENCRYPT_DECRYPT",
                "enable_key_rotation" => true,
                "deletion_window_in_days" => 30i64,
                "is_enabled" => true,
                "policy" => document(vec![map! {
                    "Sid" => "EnableAccountAdministration",
                    "Effect" => "Allow",
                    "Principal" => map! { "AWS" => account_root() },
                    "Action" => "kms:*",
                    "Resource" => "*",
                }]),
            },
        )
        .name_tag(&s3.kms_key_alias)
        .address();
    out.add(
        "aws_kms_alias",
        "state",
        map! { "name" => format!("alias/{}", s3.kms_key_alias), "target_key_id" => reference(&key, "key_id") },
    );
    let bucket = out
        .add(
            "aws_s3_bucket",
            "state",
            map! { "bucket" => &s3.bucket, "force_destroy" => false },
        )
        .name_tag(&s3.bucket)
        // The state objects are encrypted with the key: it goes only after the bucket.
        .depends_on(&key)
        .address();
    let name = reference(&bucket, "bucket");
    let arn = reference(&bucket, "arn");
    out.add(
        "aws_s3_bucket_versioning",
        "state",
        map! { "bucket" => name.clone(), "status" => "Enabled" },
    );
    out.add(
        "aws_s3_bucket_server_side_encryption_configuration",
        "state",
        map! {
            "bucket" => name.clone(),
            "rule" => map! { "sse_algorithm" => "aws:kms", "kms_master_key_id" => reference(&key, "arn"), "bucket_key_enabled" => true },
        },
    );
    let pab = out
        .add(
            "aws_s3_bucket_public_access_block",
            "state",
            map! {
                "bucket" => name.clone(),
                "block_public_acls" => true,
                "block_public_policy" => true,
                "ignore_public_acls" => true,
                "restrict_public_buckets" => true,
            },
        )
        .address();
    out.add(
        "aws_s3_bucket_lifecycle_configuration",
        "state",
        map! {
            "bucket" => name.clone(),
            "rule" => list![map! { "id" => "expire-noncurrent-state", "status" => "Enabled", "noncurrent_version_expiration_days" => 90i64 }],
        },
    );
    out.add(
        "aws_s3_bucket_policy",
        "state",
        map! {
            "bucket" => name,
            "policy" => document(vec![map! {
                "Sid" => "DenyInsecureTransport",
                "Effect" => "Deny",
                "Principal" => "*",
                "Action" => "s3:*",
                "Resource" => list![arn.clone(), Value::Concat(vec![arn, "/*".into()])],
                "Condition" => map! { "Bool" => map! { "aws:SecureTransport" => "false" } },
            }]),
        },
    )
    .depends_on(&pab);
    out.add(
        "aws_dynamodb_table",
        "lock",
        map! {
            "name" => &s3.lock_table,
            "billing_mode" => "PAY_PER_REQUEST",
            "hash_key" => "LockID",
            "attribute" => list![map! { "name" => "LockID", "type" => "S" }],
            "server_side_encryption" => map! { "enabled" => true },
            "point_in_time_recovery" => map! { "enabled" => true },
        },
    )
    .name_tag(&s3.lock_table);
}
