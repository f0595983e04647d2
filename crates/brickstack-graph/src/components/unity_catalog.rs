//! Account groups and Unity Catalog (docs/unity-catalog.md): the groups and their workspace
//! permission, the quickstart's catalog IAM role and its policy, the metastore and its assignment
//! to the workspace, the storage credential, one external location per datalake layer, catalogs,
//! schemas, grants, and the system schemas. The metastore's bucket is one of the spec's buckets,
//! emitted and hardened by `buckets`.
//!
//! The role trusts the storage credential's external id, which Databricks makes when the
//! credential is created; the credential names the role by an ARN built from the account id and
//! the role's name (as Terraform's Unity Catalog guide does), not by a reference, so the two do
//! not form a cycle: credential first, then the role, then what needs the role to work.

use brickstack_spec::{BucketRole, Spec, UcGrant};

use super::addresses;
use super::kms::document;
use crate::resource::{Resources, reference};
use crate::value::{ContextValue, Value, account_root};
use crate::{Address, map};

/// Databricks' Unity Catalog master role, which assumes every metastore's catalog role.
pub const UC_MASTER_ROLE: &str =
    "arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL";

pub fn emit(spec: &Spec, out: &mut Resources) {
    let account_id = &spec.account.account_id;
    let prefix = &spec.environment.prefix;
    let workspace = addresses::workspace();
    let url = reference(&workspace, "workspace_url");

    // Identity federation: a workspace takes account principals once it has a metastore.
    let metastore_assignment = Address::new("databricks_metastore_assignment", "this");
    for group in &spec.account_groups {
        let g = out
            .add(
                "databricks_account_group",
                &group.key,
                map! { "account_id" => account_id, "display_name" => &group.display_name },
            )
            .address();
        if let Some(permission) = group.workspace_permission {
            let assignment = out.add(
                "databricks_mws_permission_assignment",
                &group.key,
                map! {
                    "account_id" => account_id,
                    "workspace_id" => reference(&workspace, "workspace_id"),
                    "principal_id" => reference(&g, "id"),
                    "permissions" => vec![permission.as_api()],
                },
            );
            if spec.unity_catalog.is_some() {
                assignment.depends_on(&metastore_assignment);
            }
        }
    }

    let Some(uc) = &spec.unity_catalog else {
        return;
    };
    let owner = uc
        .owner
        .as_ref()
        .map(|key| reference(&addresses::account_group(key), "display_name"));
    let with_owner = |mut attributes: Value| {
        if let (Value::Map(m), Some(owner)) = (&mut attributes, &owner) {
            m.insert("owner".into(), owner.clone());
        }
        attributes
    };

    // Account level: the metastore, rooted in its bucket, and its assignment to the workspace.
    let metastore_bucket = addresses::bucket("metastore");
    let metastore = out
        .add(
            "databricks_metastore",
            "this",
            with_owner(map! {
                "account_id" => account_id,
                "name" => &uc.metastore_name,
                "region" => &spec.environment.region,
                "storage_root" => Value::Concat(vec![
                    "s3://".into(),
                    reference(&metastore_bucket, "bucket"),
                    "/metastore".into(),
                ]),
            }),
        )
        .address();
    let assignment = out
        .add(
            "databricks_metastore_assignment",
            "this",
            map! {
                "account_id" => account_id,
                "workspace_id" => reference(&workspace, "workspace_id"),
                "metastore_id" => reference(&metastore, "metastore_id"),
            },
        )
        .address();

    // The storage credential: the workspace's view of the catalog role (the metastore must be
    // assigned to the workspace first).
    let role_arn = Value::Concat(vec![
        "arn:aws:iam::".into(),
        Value::Context(ContextValue::AccountId),
        format!(":role/{}", uc.role).into(),
    ]);
    let credential = out
        .add(
            "databricks_storage_credential",
            "unity_catalog",
            map! {
                "workspace_url" => url.clone(),
                "name" => format!("{prefix}-unity-catalog"),
                "aws_iam_role" => map! { "role_arn" => role_arn.clone() },
                "comment" => format!("brickstack {}: the catalog role {}", spec.environment.name, uc.role),
            },
        )
        .depends_on(&assignment)
        .address();

    // The catalog role: assumed by Databricks' master role and by itself, for this credential only.
    let external_id = reference(&credential, "external_id");
    let role = out
        .add(
            "aws_iam_role",
            "unity_catalog",
            map! {
                "name" => &uc.role,
                "description" => format!("({prefix}) Unity Catalog storage credential"),
                "assume_role_policy" => document(vec![
                    map! {
                        "Sid" => "UnityCatalogMasterRole",
                        "Effect" => "Allow",
                        "Principal" => map! { "AWS" => UC_MASTER_ROLE },
                        "Action" => "sts:AssumeRole",
                        "Condition" => map! { "StringEquals" => map! {
                            "sts:ExternalId" => external_id.clone(),
                        } },
                    },
                    // IAM refuses a principal that does not exist yet, so the role trusts its
                    // own account and names itself in a condition (Terraform's
                    // `databricks_aws_unity_catalog_assume_role_policy` does the same).
                    map! {
                        "Sid" => "ExplicitSelfRoleAssumption",
                        "Effect" => "Allow",
                        "Principal" => map! { "AWS" => account_root() },
                        "Action" => "sts:AssumeRole",
                        "Condition" => map! {
                            "ArnLike" => map! { "aws:PrincipalArn" => role_arn.clone() },
                            "StringEquals" => map! { "sts:ExternalId" => external_id },
                        },
                    },
                ]),
            },
        )
        .name_tag(&uc.role)
        .address();
    let mut buckets = vec![metastore_bucket.clone()];
    if uc.external_locations {
        buckets.extend(
            spec.buckets
                .by_role(BucketRole::Datalake)
                .map(|b| addresses::bucket(&b.key)),
        );
    }
    let keys: Vec<Value> = {
        let mut keys: Vec<&str> = spec
            .buckets
            .all
            .iter()
            .filter(|b| {
                b.role == BucketRole::Metastore
                    || (uc.external_locations && b.role == BucketRole::Datalake)
            })
            .map(|b| b.kms_key.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|k| reference(&addresses::kms_key(k), "arn"))
            .collect()
    };
    let role_policy = out
        .add(
            "aws_iam_role_policy",
            "unity_catalog",
            map! {
                "name" => format!("{prefix}-unity-catalog"),
                "role" => reference(&role, "name"),
                "policy" => document(vec![
                    map! {
                        "Sid" => "CatalogObjects",
                        "Effect" => "Allow",
                        "Action" => vec!["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        "Resource" => buckets.iter().map(|b| Value::Concat(vec![reference(b, "arn"), "/*".into()])).collect::<Vec<_>>(),
                    },
                    map! {
                        "Sid" => "CatalogBuckets",
                        "Effect" => "Allow",
                        "Action" => vec!["s3:ListBucket", "s3:GetBucketLocation", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"],
                        "Resource" => buckets.iter().map(|b| reference(b, "arn")).collect::<Vec<_>>(),
                    },
                    map! {
                        "Sid" => "CatalogKeys",
                        "Effect" => "Allow",
                        "Action" => vec!["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                        "Resource" => keys,
                    },
                    map! {
                        "Sid" => "AssumeSelf",
                        "Effect" => "Allow",
                        "Action" => "sts:AssumeRole",
                        "Resource" => role_arn,
                    },
                ]),
            },
        )
        .address();

    // External locations: one per datalake layer, usable once the role can read it. Every layer
    // is SSE-KMS with its key (`buckets`), and its policy may refuse uploads without the SSE-KMS
    // header (`enforce_sse_kms`), so Unity Catalog is told to write with that key.
    if uc.external_locations {
        for bucket in spec.buckets.by_role(BucketRole::Datalake) {
            let attributes = map! {
                "workspace_url" => url.clone(),
                "name" => format!("{prefix}-{}", bucket.key),
                "url" => Value::Concat(vec![
                    "s3://".into(),
                    reference(&addresses::bucket(&bucket.key), "bucket"),
                    "/".into(),
                ]),
                "credential_name" => reference(&credential, "name"),
                "comment" => format!("brickstack {}: the {} layer", spec.environment.name, bucket.key),
                "encryption_details" => map! {
                    "sse_encryption_details" => map! {
                        "algorithm" => "AWS_SSE_KMS",
                        "aws_kms_key_arn" => reference(&addresses::kms_key(&bucket.kms_key), "arn"),
                    },
                },
            };
            out.add("databricks_external_location", &bucket.key, attributes)
                .depends_on(&role_policy);
        }
    }

    for catalog in &uc.catalogs {
        let mut attributes = with_owner(map! {
            "workspace_url" => url.clone(),
            "name" => &catalog.name,
            "comment" => &catalog.comment,
        });
        if let (Some(storage), Value::Map(m)) = (&catalog.storage, &mut attributes) {
            m.insert(
                "storage_root".into(),
                reference(&addresses::external_location(storage), "url"),
            );
        }
        let c = out
            .add("databricks_catalog", &catalog.key, attributes)
            .depends_on(&assignment)
            .address();
        grants(
            out,
            &url,
            format!("catalog_{}", catalog.key),
            "catalog",
            reference(&c, "name"),
            &catalog.grants,
        );
        for schema in &catalog.schemas {
            let s = out
                .add(
                    "databricks_schema",
                    format!("{}_{}", catalog.key, schema.name),
                    with_owner(map! {
                        "workspace_url" => url.clone(),
                        "catalog_name" => reference(&c, "name"),
                        "name" => &schema.name,
                    }),
                )
                .address();
            grants(
                out,
                &url,
                format!("schema_{}_{}", catalog.key, schema.name),
                "schema",
                reference(&s, "full_name"),
                &schema.grants,
            );
        }
    }

    for schema in &uc.system_schemas {
        out.add(
            "databricks_system_schema",
            schema,
            map! {
                "workspace_url" => url.clone(),
                "metastore_id" => reference(&metastore, "metastore_id"),
                "schema" => schema,
            },
        )
        // Enabled through the workspace, which reaches the metastore once it is assigned.
        .depends_on(&assignment);
    }
}

/// `databricks_grants.<name>`: the privileges of each account group on one securable, as the
/// group's display name (what Unity Catalog calls the principal).
fn grants(
    out: &mut Resources,
    url: &Value,
    name: String,
    securable: &str,
    securable_name: Value,
    grants: &[UcGrant],
) {
    if grants.is_empty() {
        return;
    }
    let grant: Vec<Value> = grants
        .iter()
        .map(|g| {
            map! {
                "principal" => reference(&addresses::account_group(&g.group), "display_name"),
                "privileges" => g.privileges.clone(),
            }
        })
        .collect();
    let mut attributes = map! { "workspace_url" => url.clone(), "grant" => grant };
    if let Value::Map(m) = &mut attributes {
        m.insert(securable.into(), securable_name);
    }
    out.add("databricks_grants", name, attributes);
}
