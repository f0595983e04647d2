//! Customer-managed KMS keys and their aliases.
//!
//! Key policies grant the account root (never `"*"`, the seed's defect), Databricks' control plane
//! for DBFS, and the cross-account role for EBS through EC2 only.

use brickstack_spec::defaults::DATABRICKS_AWS_ACCOUNT;
use brickstack_spec::{KmsKey, Spec};

use super::addresses;
use crate::resource::{Resources, reference};
use crate::value::account_root;
use crate::{Value, map};

pub fn emit(spec: &Spec, out: &mut Resources) {
    for key in &spec.kms {
        let policy = key_policy(spec, key);
        let address = out
            .add(
                "aws_kms_key",
                &key.name,
                map! {
                    "description" => &key.description,
                    "key_usage" => "ENCRYPT_DECRYPT",
                    "enable_key_rotation" => key.rotation,
                    "deletion_window_in_days" => key.deletion_window_days,
                    "is_enabled" => true,
                    "policy" => policy,
                },
            )
            .name_tag(&key.alias)
            .address();
        out.add(
            "aws_kms_alias",
            &key.name,
            map! {
                "name" => format!("alias/{}", key.alias),
                "target_key_id" => reference(&address, "key_id"),
            },
        );
    }
}

fn key_policy(spec: &Spec, key: &KmsKey) -> Value {
    let databricks = format!("arn:aws:iam::{DATABRICKS_AWS_ACCOUNT}:root");
    let cross_account = reference(&addresses::role("cross_account"), "arn");
    let mut statements = vec![
        map! {
            "Sid" => "EnableAccountAdministration",
            "Effect" => "Allow",
            "Principal" => map! { "AWS" => account_root() },
            "Action" => "kms:*",
            "Resource" => "*",
        },
        map! {
            "Sid" => "AllowDatabricksControlPlaneForDbfs",
            "Effect" => "Allow",
            "Principal" => map! { "AWS" => databricks.clone() },
            "Action" => vec!["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource" => "*",
        },
        map! {
            "Sid" => "AllowDatabricksControlPlaneGrants",
            "Effect" => "Allow",
            "Principal" => map! { "AWS" => databricks },
            "Action" => vec!["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource" => "*",
            "Condition" => map! { "Bool" => map! { "kms:GrantIsForAWSResource" => "true" } },
        },
        map! {
            "Sid" => "AllowCrossAccountRoleForEbs",
            "Effect" => "Allow",
            "Principal" => map! { "AWS" => cross_account },
            "Action" => vec!["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
            "Resource" => "*",
            "Condition" => map! { "ForAnyValue:StringLike" => map! { "kms:ViaService" => "ec2.*.amazonaws.com" } },
        },
    ];
    if key.allow_log_services {
        statements.push(map! {
            "Sid" => "AllowLogDeliveryServices",
            "Effect" => "Allow",
            "Principal" => map! { "Service" => vec![
                format!("logs.{}.amazonaws.com", spec.environment.region),
                "delivery.logs.amazonaws.com".to_string(),
            ] },
            "Action" => vec!["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource" => "*",
        });
    }
    map! { "Version" => "2012-10-17", "Statement" => Value::List(statements) }
}

/// The policy-document helper other components share: one statement list, versioned.
pub(crate) fn document(statements: Vec<Value>) -> Value {
    map! { "Version" => "2012-10-17", "Statement" => Value::List(statements) }
}
