//! IAM for Databricks: the cross-account role, the log-delivery role, and the meta instance profile
//! whose role chains into the datalake read and write roles.
//!
//! Fixes over the seed: data roles cover every datalake layer (not only `raw`) and may use the
//! datalake key; the log-bucket policy names the bucket exactly; the `Vendor = Databricks` tag
//! conditions are kept unless the spec turns them off.

use brickstack_spec::defaults::DATABRICKS_AWS_ACCOUNT;
use brickstack_spec::{BucketRole, Spec};

use super::addresses;
use super::kms::document;
use crate::resource::{Resources, reference};
use crate::value::{ContextValue, Value};
use crate::{Address, list, map};

/// Databricks' log-delivery principal, trusted by the log-delivery role.
const LOG_DELIVERY_PRINCIPAL: &str =
    "arn:aws:iam::414351767826:role/SaasUsageDeliveryRole-prod-IAMRole-3PLHICCRR1TK";

const GLUE_ACTIONS: [&str; 22] = [
    "glue:BatchCreatePartition",
    "glue:BatchDeletePartition",
    "glue:BatchGetPartition",
    "glue:CreateDatabase",
    "glue:CreateTable",
    "glue:CreateUserDefinedFunction",
    "glue:DeleteDatabase",
    "glue:DeletePartition",
    "glue:DeleteTable",
    "glue:DeleteUserDefinedFunction",
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetUserDefinedFunction",
    "glue:GetUserDefinedFunctions",
    "glue:UpdateDatabase",
    "glue:UpdatePartition",
    "glue:UpdateTable",
    "glue:UpdateUserDefinedFunction",
];

pub fn emit(spec: &Spec, out: &mut Resources) {
    let iam = &spec.iam;
    let prefix = &spec.environment.prefix;
    let account_id = &spec.account.account_id;

    // Cross-account role: Databricks' control plane launches clusters in our VPC.
    let cross_account = out
        .add(
            "aws_iam_role",
            "cross_account",
            map! {
                "name" => &iam.cross_account_role,
                "assume_role_policy" => document(vec![map! {
                    "Effect" => "Allow",
                    "Principal" => map! { "AWS" => format!("arn:aws:iam::{DATABRICKS_AWS_ACCOUNT}:root") },
                    "Action" => "sts:AssumeRole",
                    "Condition" => map! { "StringEquals" => map! { "sts:ExternalId" => account_id } },
                }]),
            },
        )
        .address();
    out.add(
        "aws_iam_role_policy",
        "cross_account",
        map! {
            "name" => format!("{prefix}-cross-account-policy"),
            "role" => reference(&cross_account, "name"),
            "policy" => cross_account_policy(spec),
        },
    );
    let meta_role = addresses::role("meta");
    let pass_meta = managed_policy(
        out,
        "cross_account_pass_meta",
        format!("{prefix}-CrossAccAssumeMeta"),
        vec![map! {
            "Sid" => "PassMetaRole",
            "Effect" => "Allow",
            "Action" => "iam:PassRole",
            "Resource" => reference(&meta_role, "arn"),
        }],
    );
    attach(out, &cross_account, &pass_meta);

    // Log-delivery role and the policy that lets it (and cluster logs) write the logs bucket.
    let logs_bucket = addresses::bucket("databricks_logs");
    let logs_key = spec
        .buckets
        .get("databricks_logs")
        .map(|b| addresses::kms_key(&b.kms_key))
        .unwrap_or_else(|| addresses::kms_key("logging"));
    let log_bucket_access = managed_policy(
        out,
        "log_bucket_access",
        format!("{prefix}-logBucketPolicy"),
        vec![
            map! {
                "Sid" => "ListLogBucket",
                "Effect" => "Allow",
                "Action" => vec!["s3:ListBucket", "s3:GetBucketLocation", "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads"],
                "Resource" => reference(&logs_bucket, "arn"),
            },
            map! {
                "Sid" => "ReadWriteLogObjects",
                "Effect" => "Allow",
                "Action" => vec!["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:AbortMultipartUpload"],
                "Resource" => Value::Concat(vec![reference(&logs_bucket, "arn"), "/*".into()]),
            },
            map! {
                "Sid" => "UseLogsKey",
                "Effect" => "Allow",
                "Action" => vec!["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource" => reference(&logs_key, "arn"),
            },
        ],
    );
    let log_delivery = out
        .add(
            "aws_iam_role",
            "log_delivery",
            map! {
                "name" => &iam.log_delivery_role,
                "description" => format!("({prefix}) Usage and Audit delivery role"),
                "assume_role_policy" => document(vec![map! {
                    "Effect" => "Allow",
                    "Principal" => map! { "AWS" => LOG_DELIVERY_PRINCIPAL },
                    "Action" => "sts:AssumeRole",
                    "Condition" => map! { "StringEquals" => map! { "sts:ExternalId" => account_id } },
                }]),
            },
        )
        .address();
    attach(out, &log_delivery, &log_bucket_access);

    // Meta role: what clusters run as; it may only assume the data roles (and write cluster logs).
    let ec2_trust = map! {
        "Effect" => "Allow",
        "Principal" => map! { "Service" => "ec2.amazonaws.com" },
        "Action" => "sts:AssumeRole",
    };
    out.add(
        "aws_iam_role",
        "meta",
        map! { "name" => &iam.meta_role, "assume_role_policy" => document(vec![ec2_trust.clone()]) },
    );
    attach(out, &meta_role, &log_bucket_access);
    let read_role = addresses::role("data_read");
    let write_role = addresses::role("data_write");
    let assume_data = managed_policy(
        out,
        "meta_assume_data_roles",
        format!("{prefix}-metaRolePolicy"),
        vec![map! {
            "Sid" => "AssumeDataRoles",
            "Effect" => "Allow",
            "Action" => "sts:AssumeRole",
            "Resource" => list![reference(&read_role, "arn"), reference(&write_role, "arn")],
        }],
    );
    attach(out, &meta_role, &assume_data);
    instance_profile(
        out,
        "meta",
        format!("{prefix}-meta_instance_profile"),
        &meta_role,
    );

    // Data roles: assumed from the meta role; they cover every datalake layer.
    let layers: Vec<Address> = spec
        .buckets
        .by_role(BucketRole::Datalake)
        .map(|b| addresses::bucket(&b.key))
        .collect();
    let layer_keys: Vec<Value> = {
        let mut keys: Vec<&str> = spec
            .buckets
            .by_role(BucketRole::Datalake)
            .map(|b| b.kms_key.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|k| reference(&addresses::kms_key(k), "arn"))
            .collect()
    };
    let data_trust = vec![
        map! {
            "Sid" => "AllowMetaRole",
            "Effect" => "Allow",
            "Principal" => map! { "AWS" => reference(&meta_role, "arn") },
            "Action" => "sts:AssumeRole",
        },
        ec2_trust,
    ];
    for (name, role_name, role, object_actions, key_actions) in [
        (
            "data_read",
            &iam.read_role,
            &read_role,
            vec!["s3:GetObject", "s3:GetObjectVersion"],
            vec!["kms:Decrypt", "kms:DescribeKey"],
        ),
        (
            "data_write",
            &iam.write_role,
            &write_role,
            vec![
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:PutObjectAcl",
            ],
            vec![
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
        ),
    ] {
        out.add(
            "aws_iam_role",
            name,
            map! { "name" => role_name, "assume_role_policy" => document(data_trust.clone()) },
        );
        let policy_name = if name == "data_read" {
            "dataReadRolePolicy"
        } else {
            "dataWriteRolePolicy"
        };
        let policy = managed_policy(
            out,
            name,
            format!("{prefix}-{policy_name}"),
            vec![
                map! {
                    "Sid" => "ListDatalake",
                    "Effect" => "Allow",
                    "Action" => vec!["s3:ListBucket", "s3:GetBucketLocation"],
                    "Resource" => layers.iter().map(|b| reference(b, "arn")).collect::<Vec<_>>(),
                },
                map! {
                    "Sid" => "DatalakeObjects",
                    "Effect" => "Allow",
                    "Action" => object_actions,
                    "Resource" => layers.iter().map(|b| Value::Concat(vec![reference(b, "arn"), "/*".into()])).collect::<Vec<_>>(),
                },
                map! {
                    "Sid" => "UseDatalakeKeys",
                    "Effect" => "Allow",
                    "Action" => key_actions,
                    "Resource" => layer_keys.clone(),
                },
            ],
        );
        attach(out, role, &policy);
        let profile_suffix = if name == "data_read" {
            "read_instance_profile"
        } else {
            "write_instance_profile"
        };
        instance_profile(out, name, format!("{prefix}-{profile_suffix}"), role);
    }
    if iam.glue_access {
        let glue = managed_policy(
            out,
            "glue_access",
            format!("{prefix}-glueAccessPolicy"),
            vec![map! {
                "Sid" => "GrantCatalogAccessToGlue",
                "Effect" => "Allow",
                "Action" => GLUE_ACTIONS.to_vec(),
                "Resource" => "*",
            }],
        );
        attach(out, &write_role, &glue);
    }
}

fn managed_policy(
    out: &mut Resources,
    name: &str,
    policy_name: String,
    statements: Vec<Value>,
) -> Address {
    out.add(
        "aws_iam_policy",
        name,
        map! { "name" => policy_name, "path" => "/", "policy" => document(statements) },
    )
    .address()
}

fn attach(out: &mut Resources, role: &Address, policy: &Address) {
    out.add(
        "aws_iam_role_policy_attachment",
        format!("{}-{}", role.name, policy.name),
        map! { "role" => reference(role, "name"), "policy_arn" => reference(policy, "arn") },
    );
}

fn instance_profile(out: &mut Resources, name: &str, profile_name: String, role: &Address) {
    out.add(
        "aws_iam_instance_profile",
        name,
        map! { "name" => profile_name, "role" => reference(role, "name") },
    );
}

/// The customer-managed-VPC cross-account policy Databricks documents, scoped to this VPC.
fn cross_account_policy(spec: &Spec) -> Value {
    let region = &spec.environment.region;
    let arn = |resource: &str| {
        Value::Concat(vec![
            format!("arn:aws:ec2:{region}:").into(),
            Value::Context(ContextValue::AccountId),
            format!(":{resource}").into(),
        ])
    };
    let vpc_arn = Value::Concat(vec![
        format!("arn:aws:ec2:{region}:").into(),
        Value::Context(ContextValue::AccountId),
        ":vpc/".into(),
        reference(&addresses::vpc(), "id"),
    ]);
    let vendor_tag = |key: &str| {
        if spec.iam.restrict_to_databricks_tags {
            Some(map! { "StringEquals" => map! { key => "Databricks" } })
        } else {
            None
        }
    };
    let with_condition = |statement: Value, condition: Option<Value>| match (statement, condition) {
        (Value::Map(mut m), Some(c)) => {
            m.insert("Condition".into(), c);
            Value::Map(m)
        }
        (s, _) => s,
    };
    let statements = vec![
        map! {
            "Sid" => "NonResourceBasedPermissions",
            "Effect" => "Allow",
            "Action" => vec!["ec2:CancelSpotInstanceRequests", "ec2:DescribeAvailabilityZones", "ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:DescribeInternetGateways", "ec2:DescribeNatGateways", "ec2:DescribeNetworkAcls", "ec2:DescribePrefixLists", "ec2:DescribeReservedInstancesOfferings", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSpotInstanceRequests", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets", "ec2:DescribeVolumes", "ec2:DescribeVpcAttribute", "ec2:DescribeVpcs", "ec2:CreateTags", "ec2:DeleteTags", "ec2:RequestSpotInstances"],
            "Resource" => "*",
        },
        map! {
            "Sid" => "InstancePoolsSupport",
            "Effect" => "Allow",
            "Action" => vec!["ec2:AssociateIamInstanceProfile", "ec2:DisassociateIamInstanceProfile", "ec2:ReplaceIamInstanceProfileAssociation"],
            "Resource" => arn("instance/*"),
        },
        with_condition(
            map! {
                "Sid" => "AllowEc2RunInstancePerTag",
                "Effect" => "Allow",
                "Action" => "ec2:RunInstances",
                "Resource" => list![arn("volume/*"), arn("instance/*")],
            },
            vendor_tag("aws:RequestTag/Vendor"),
        ),
        map! {
            "Sid" => "AllowEc2RunInstanceImagePerTag",
            "Effect" => "Allow",
            "Action" => "ec2:RunInstances",
            "Resource" => format!("arn:aws:ec2:{region}:*:image/*"),
        },
        map! {
            "Sid" => "AllowEc2RunInstancePerVpc",
            "Effect" => "Allow",
            "Action" => "ec2:RunInstances",
            "Resource" => list![arn("network-interface/*"), arn("subnet/*"), arn("security-group/*")],
            "Condition" => map! { "StringEquals" => map! { "ec2:vpc" => vpc_arn } },
        },
        map! {
            "Sid" => "AllowEc2RunInstanceOtherResources",
            "Effect" => "Allow",
            "Action" => "ec2:RunInstances",
            "NotResource" => list![format!("arn:aws:ec2:{region}:*:image/*"), arn("network-interface/*"), arn("subnet/*"), arn("security-group/*"), arn("volume/*"), arn("instance/*")],
        },
        with_condition(
            map! {
                "Sid" => "DatabricksInstanceLifecycle",
                "Effect" => "Allow",
                "Action" => vec!["ec2:TerminateInstances", "ec2:AttachVolume", "ec2:DetachVolume", "ec2:DeleteVolume"],
                "Resource" => list![arn("instance/*"), arn("volume/*")],
            },
            vendor_tag("ec2:ResourceTag/Vendor"),
        ),
        with_condition(
            map! {
                "Sid" => "DatabricksCreateVolume",
                "Effect" => "Allow",
                "Action" => "ec2:CreateVolume",
                "Resource" => arn("volume/*"),
            },
            vendor_tag("aws:RequestTag/Vendor"),
        ),
        map! {
            "Sid" => "AllowSpotServiceLinkedRole",
            "Effect" => "Allow",
            "Action" => vec!["iam:CreateServiceLinkedRole", "iam:PutRolePolicy"],
            "Resource" => "arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
            "Condition" => map! { "StringLike" => map! { "iam:AWSServiceName" => "spot.amazonaws.com" } },
        },
    ];
    document(statements)
}
