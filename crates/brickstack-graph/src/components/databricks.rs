//! The Databricks side: account-level workspace provisioning and log delivery, then everything inside
//! the workspace.
//!
//! Every workspace-level resource carries `workspace_url`, a reference to the workspace: that is
//! the edge that orders it after the workspace on apply and before it on destroy, and how the
//! provider finds the host (no provider block configured from another resource's output).
//! Token values never enter the graph: a token resource names the SSM parameter its value goes to.

use brickstack_spec::{BucketRole, DataAccess, Spec};

use super::addresses;
use crate::resource::{Resources, reference};
use crate::value::Value;
use crate::{Address, list, map};

/// The built-in workspace group every workspace has.
const ADMINS: &str = "admins";

pub fn emit(spec: &Spec, out: &mut Resources) {
    let account_id = &spec.account.account_id;
    let prefix = &spec.environment.prefix;
    let db = &spec.databricks;

    // Account level: what the workspace is made of.
    let credentials = out
        .add(
            "databricks_mws_credentials",
            "workspace",
            map! {
                "account_id" => account_id,
                "credentials_name" => format!("{prefix}-creds"),
                "role_arn" => reference(&addresses::role("cross_account"), "arn"),
            },
        )
        .address();
    let storage = out
        .add(
            "databricks_mws_storage_configurations",
            "workspace_root",
            map! {
                "account_id" => account_id,
                "storage_configuration_name" => format!("{prefix}-storage"),
                "bucket_name" => reference(&addresses::bucket("workspace_root"), "bucket"),
            },
        )
        .address();
    let subnets: Vec<Value> = spec
        .network
        .private_subnets
        .iter()
        .map(|s| reference(&addresses::private_subnet(&s.az), "id"))
        .collect();
    let network = out
        .add(
            "databricks_mws_networks",
            "workspace",
            map! {
                "account_id" => account_id,
                "network_name" => format!("{prefix}-network"),
                "vpc_id" => reference(&addresses::vpc(), "id"),
                "subnet_ids" => subnets,
                "security_group_ids" => list![reference(&addresses::default_security_group(), "id")],
            },
        )
        .address();
    let cmk = out
        .add(
            "databricks_mws_customer_managed_keys",
            &db.storage_cmk,
            map! {
                "account_id" => account_id,
                "aws_key_info" => map! {
                    "key_arn" => reference(&addresses::kms_key(&db.storage_cmk), "arn"),
                    "key_alias" => reference(&addresses::kms_alias(&db.storage_cmk), "name"),
                },
                "use_cases" => vec!["STORAGE"],
            },
        )
        .address();
    let workspace = out
        .add(
            "databricks_mws_workspaces",
            addresses::workspace().name,
            map! {
                "account_id" => account_id,
                "workspace_name" => &db.workspace_name,
                "aws_region" => &spec.environment.region,
                "pricing_tier" => &db.pricing_tier,
                "credentials_id" => reference(&credentials, "credentials_id"),
                "storage_configuration_id" => reference(&storage, "storage_configuration_id"),
                "network_id" => reference(&network, "network_id"),
                "storage_customer_managed_key_id" => reference(&cmk, "customer_managed_key_id"),
            },
        )
        .address();
    let url = reference(&workspace, "workspace_url");

    if db.log_delivery_billable_usage || db.log_delivery_audit_logs {
        let log_credentials = out
            .add(
                "databricks_mws_credentials",
                "log_delivery",
                map! {
                    "account_id" => account_id,
                    "credentials_name" => format!("{prefix}-log-delivery"),
                    "role_arn" => reference(&addresses::role("log_delivery"), "arn"),
                },
            )
            .address();
        let log_storage = out
            .add(
                "databricks_mws_storage_configurations",
                "log_delivery",
                map! {
                    "account_id" => account_id,
                    "storage_configuration_name" => format!("{prefix}-log-delivery"),
                    "bucket_name" => reference(&addresses::bucket("databricks_logs"), "bucket"),
                },
            )
            .address();
        for (enabled, name, config_name, log_type, format, path) in [
            (
                db.log_delivery_billable_usage,
                "billable_usage",
                "Billable Logs",
                "BILLABLE_USAGE",
                "CSV",
                "billable-usage",
            ),
            (
                db.log_delivery_audit_logs,
                "audit_logs",
                "Audit Logs",
                "AUDIT_LOGS",
                "JSON",
                "audit-logs",
            ),
        ] {
            if !enabled {
                continue;
            }
            out.add(
                "databricks_mws_log_delivery",
                name,
                map! {
                    "account_id" => account_id,
                    "config_name" => format!("{prefix} {config_name}"),
                    "log_type" => log_type,
                    "output_format" => format,
                    "delivery_path_prefix" => format!("{path}/{}", spec.environment.name),
                    "credentials_id" => reference(&log_credentials, "credentials_id"),
                    "storage_configuration_id" => reference(&log_storage, "storage_configuration_id"),
                    // Scoped to this environment's workspace, not the whole account (the seed's default).
                    "workspace_ids_filter" => list![reference(&workspace, "workspace_id")],
                },
            );
        }
    }

    // Workspace level: the deployer identity and its tokens.
    let deployer = out
        .add(
            "databricks_service_principal",
            "deployer",
            map! {
                "workspace_url" => url.clone(),
                "display_name" => &db.service_principal_name,
                "allow_cluster_create" => true,
            },
        )
        .address();
    let admin_membership = out
        .add(
            "databricks_group_member",
            "admins-deployer",
            map! {
                "workspace_url" => url.clone(),
                "group_display_name" => ADMINS,
                "member_id" => reference(&deployer, "id"),
            },
        )
        .address();
    let token_usage = out
        .add(
            "databricks_permissions",
            "token_usage",
            map! {
                "workspace_url" => url.clone(),
                "authorization" => "tokens",
                "access_control" => list![map! {
                    "service_principal_name" => reference(&deployer, "application_id"),
                    "permission_level" => "CAN_USE",
                }],
            },
        )
        .address();
    let tokens = &db.tokens;
    let pat = out
        .add(
            "databricks_token",
            "deployer",
            map! {
                "workspace_url" => url.clone(),
                "comment" => format!("brickstack {} deployer", spec.environment.name),
                "lifetime_seconds" => tokens.lifetime_seconds,
                // Read by the plan's rotation rule only; the token cannot report it back.
                "rotate_before_seconds" => tokens.rotate_before_seconds,
                "value_parameter" => format!("{}/pat", tokens.parameter_prefix),
                "value_parameter_kms_key_id" => reference(&addresses::kms_key("logging"), "arn"),
            },
        )
        .address();
    out.add(
        "databricks_obo_token",
        "deployer",
        map! {
            "workspace_url" => url.clone(),
            "application_id" => reference(&deployer, "application_id"),
            "comment" => format!("brickstack {} on behalf of {}", spec.environment.name, db.service_principal_name),
            "lifetime_seconds" => tokens.lifetime_seconds,
            "rotate_before_seconds" => tokens.rotate_before_seconds,
            "value_parameter" => format!("{}/service-principal", tokens.parameter_prefix),
            "value_parameter_kms_key_id" => reference(&addresses::kms_key("logging"), "arn"),
        },
    )
    // The API refuses an on-behalf-of token until the principal may use tokens and the first
    // token of the workspace exists.
    .depends_on(&admin_membership)
    .depends_on(&token_usage)
    .depends_on(&pat);

    if let Some(days) = db.max_token_lifetime_days {
        let mut conf = map! { "maxTokenLifetimeDays" => days.to_string() };
        if !db.ip_access_lists.is_empty()
            && let Value::Map(m) = &mut conf
        {
            m.insert("enableIpAccessLists".into(), "true".into());
        }
        out.add(
            "databricks_workspace_conf",
            "main",
            map! { "workspace_url" => url.clone(), "custom_config" => conf },
        );
    } else if !db.ip_access_lists.is_empty() {
        out.add(
            "databricks_workspace_conf",
            "main",
            map! { "workspace_url" => url.clone(), "custom_config" => map! { "enableIpAccessLists" => "true" } },
        );
    }
    for list in &db.ip_access_lists {
        out.add(
            "databricks_ip_access_list",
            &list.key,
            map! {
                "workspace_url" => url.clone(),
                "label" => &list.label,
                "list_type" => &list.list_type,
                "ip_addresses" => list.ip_addresses.clone(),
            },
        )
        .depends_on(&Address::new("databricks_workspace_conf", "main"));
    }

    // SSE-KMS for DBFS: a core-site.xml naming the datalake key, spliced in by a global init script.
    let datalake_key = addresses::kms_key(&db.storage_cmk);
    if db.dbfs_sse_kms {
        out.add(
            "databricks_dbfs_file",
            "core_site",
            map! {
                "workspace_url" => url.clone(),
                "path" => "/tmp/core-site.xml",
                "content" => Value::Concat(vec![
                    "<property>\n  <name>fs.s3a.server-side-encryption-algorithm</name>\n  <value>SSE-KMS</value>\n</property>\n<property>\n  <name>fs.s3a.server-side-encryption.key</name>\n  <value>".into(),
                    reference(&datalake_key, "arn"),
                    "</value>\n</property>\n".into(),
                ]),
            },
        );
        out.add(
            "databricks_global_init_script",
            "sse_kms",
            map! {
                "workspace_url" => url.clone(),
                "name" => "encryption_init_script",
                "enabled" => true,
                "content" => SSE_INIT_SCRIPT,
            },
        );
    }

    // Groups and their data access through the meta instance profile's role chain.
    for group in &db.groups {
        let g = out
            .add(
                "databricks_group",
                &group.key,
                map! {
                    "workspace_url" => url.clone(),
                    "display_name" => &group.display_name,
                    "allow_cluster_create" => group.allow_cluster_create,
                    "allow_instance_pool_create" => false,
                },
            )
            .address();
        let role = match group.data_access {
            DataAccess::Read => Some(addresses::role("data_read")),
            DataAccess::Write => Some(addresses::role("data_write")),
            DataAccess::None => None,
        };
        if let Some(role) = role {
            out.add(
                "databricks_group_role",
                &group.key,
                map! {
                    "workspace_url" => url.clone(),
                    "group_id" => reference(&g, "id"),
                    "role" => reference(&role, "arn"),
                },
            );
        }
    }
    let meta_profile = out
        .add(
            "databricks_instance_profile",
            "meta",
            map! {
                "workspace_url" => url.clone(),
                "instance_profile_arn" => reference(&addresses::instance_profile("meta"), "arn"),
                "is_meta_instance_profile" => true,
            },
        )
        .address();
    for group in &db.meta_instance_profile_groups {
        let group_ref: Value = if group == ADMINS || group == "users" {
            group.as_str().into()
        } else {
            reference(&Address::new("databricks_group", group), "id")
        };
        let key = if group == ADMINS || group == "users" {
            "group_display_name"
        } else {
            "group_id"
        };
        out.add(
            "databricks_group_instance_profile",
            format!("{group}-meta"),
            map! {
                "workspace_url" => url.clone(),
                key => group_ref,
                "instance_profile_id" => reference(&meta_profile, "id"),
            },
        );
    }

    for policy in &db.cluster_policies {
        out.add(
            "databricks_cluster_policy",
            &policy.key,
            map! { "workspace_url" => url.clone(), "name" => &policy.name, "definition" => &policy.definition },
        );
    }
    let logs_bucket = spec.buckets.by_role(BucketRole::DatabricksLogs).next();
    let datalake_sse = spec
        .buckets
        .by_role(BucketRole::Datalake)
        .any(|b| b.enforce_sse_kms);
    for cluster in &db.clusters {
        let mut spark_conf: std::collections::BTreeMap<String, Value> = cluster
            .spark_conf
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect();
        if datalake_sse {
            spark_conf.insert(
                "spark.hadoop.fs.s3a.server-side-encryption-algorithm".into(),
                "SSE-KMS".into(),
            );
            spark_conf.insert(
                "spark.hadoop.fs.s3a.server-side-encryption.key".into(),
                reference(&datalake_key, "arn"),
            );
        }
        let mut attributes = map! {
            "workspace_url" => url.clone(),
            "cluster_name" => &cluster.name,
            "spark_version" => &cluster.spark_version,
            "node_type_id" => &cluster.node_type_id,
            "autotermination_minutes" => cluster.autotermination_minutes,
            "autoscale" => map! {
                "min_workers" => cluster.autoscale.min_workers,
                "max_workers" => cluster.autoscale.max_workers,
            },
            "aws_attributes" => map! {
                "availability" => &cluster.aws_attributes.availability,
                "first_on_demand" => cluster.aws_attributes.first_on_demand,
                "spot_bid_price_percent" => cluster.aws_attributes.spot_bid_price_percent,
                "ebs_volume_type" => "GENERAL_PURPOSE_SSD",
                "ebs_volume_count" => cluster.aws_attributes.ebs_volume_count,
                "ebs_volume_size" => cluster.aws_attributes.ebs_volume_size_gb,
                "instance_profile_arn" => reference(&meta_profile, "instance_profile_arn"),
            },
            "spark_conf" => Value::Map(spark_conf),
        };
        if let Value::Map(m) = &mut attributes {
            if let (Some(prefix), Some(bucket)) = (&cluster.log_prefix, logs_bucket) {
                m.insert(
                    "cluster_log_conf".into(),
                    map! { "s3" => map! {
                        "destination" => Value::Concat(vec!["s3://".into(), reference(&addresses::bucket(&bucket.key), "bucket"), format!("/{prefix}").into()]),
                        "region" => &spec.environment.region,
                        "enable_encryption" => true,
                        "encryption_type" => "sse-kms",
                        "kms_key" => reference(&addresses::kms_key(&bucket.kms_key), "arn"),
                    } },
                );
            }
            if let Some(policy) = &cluster.policy {
                m.insert(
                    "policy_id".into(),
                    reference(&Address::new("databricks_cluster_policy", policy), "id"),
                );
            }
        }
        out.add("databricks_cluster", &cluster.key, attributes);
    }

    for scope in &db.secret_scopes {
        let s = out
            .add(
                "databricks_secret_scope",
                &scope.key,
                map! { "workspace_url" => url.clone(), "name" => &scope.name },
            )
            .address();
        for reader in &scope.readers {
            let principal: Value = match db.groups.iter().find(|g| &g.key == reader) {
                Some(_) => reference(&Address::new("databricks_group", reader), "display_name"),
                None => reader.as_str().into(),
            };
            out.add(
                "databricks_secret_acl",
                format!("{}-{reader}", scope.key),
                map! {
                    "workspace_url" => url.clone(),
                    "scope" => reference(&s, "name"),
                    "principal" => principal,
                    "permission" => "READ",
                },
            );
        }
    }
}

/// Splices `/dbfs/tmp/core-site.xml` into the Hadoop configuration on every node at start.
const SSE_INIT_SCRIPT: &str = r#"#!/bin/bash
# Installed by brickstack: make every S3A write use SSE-KMS with the datalake key.
set -euo pipefail
CORE_SITE=/databricks/spark/dbconf/hadoop/core-site.xml
EXTRA=/dbfs/tmp/core-site.xml
if [ -f "$EXTRA" ] && ! grep -q server-side-encryption "$CORE_SITE"; then
  sed -i "/<\/configuration>/e cat $EXTRA" "$CORE_SITE"
fi
"#;
