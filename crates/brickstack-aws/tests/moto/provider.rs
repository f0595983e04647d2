//! `AwsProvider` against moto: every kind's lifecycle (create → read returns exactly the desired
//! attributes → update → delete → read is none), batched reads, adoption by `find`, contents,
//! refusal of other kinds, error classes, and the bootstrap graph applied and destroyed by the
//! engine.

use std::sync::atomic::AtomicBool;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ConnectorError, ErrorMetadata, SdkError};
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use aws_smithy_runtime_api::http::StatusCode;
use brickstack_aws::{AwsProvider, classify, classify_code};
use brickstack_exec::{ApplyOptions, Engine, Request, Runner, nothing};
use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, Observed, Provider, ProviderError,
};
use brickstack_state::ObjectLookup;
use brickstack_state_local::LocalStore;
use brickstack_testkit::{unique_bucket_name, unique_name};
use serde_json::{Value, json};

use crate::support::{MotoAccount, moto_account, ok};

// --- helpers ---------------------------------------------------------------------------------

async fn provider(test_name: &str) -> Option<(MotoAccount, AwsProvider)> {
    let moto = moto_account(test_name).await?;
    let provider = AwsProvider::new(&moto.clients);
    Some((moto, provider))
}

fn attributes(value: Value) -> Attributes {
    match value {
        Value::Object(map) => map,
        other => panic!("attributes must be an object, not {other}"),
    }
}

fn must<T>(what: &str, result: Result<T, ProviderError>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

async fn create(provider: &AwsProvider, kind: &str, desired: &Value) -> Observed {
    let request = CreateRequest {
        address: format!("{kind}.test"),
        kind: kind.to_string(),
        attributes: attributes(desired.clone()),
        lookup: ObjectLookup::default(),
    };
    must(&format!("create {kind}"), provider.create(&request).await)
}

async fn read(provider: &AwsProvider, kind: &str, object_id: &str) -> Option<Observed> {
    must(
        &format!("read {kind} `{object_id}`"),
        provider.read(kind, object_id).await,
    )
}

/// What the planner checks for a no-op: every desired attribute is observed, equal as JSON.
fn assert_no_changes(kind: &str, observed: &Observed, desired: &Value) {
    for (name, value) in attributes(desired.clone()) {
        assert_eq!(
            observed.attributes.get(&name),
            Some(&value),
            "{kind}.{name} reads back differently: a plan would not be a no-op\nobserved: {:#?}",
            observed.attributes
        );
    }
}

/// Create → read (equal to what create returned, and to the desired attributes) → update (if
/// given) → read → delete → read is none → delete again succeeds. Returns the object id.
async fn lifecycle(
    provider: &AwsProvider,
    kind: &str,
    desired: Value,
    updated: Option<Value>,
) -> String {
    let created = create(provider, kind, &desired).await;
    let id = created.object_id.clone();
    let observed = read(provider, kind, &id)
        .await
        .unwrap_or_else(|| panic!("{kind} `{id}` reads as missing right after create"));
    assert_eq!(
        observed, created,
        "{kind}: read differs from what create returned (drift)"
    );
    assert_no_changes(kind, &observed, &desired);

    if let Some(updated) = updated {
        let returned = must(
            &format!("update {kind}"),
            provider
                .update(kind, &id, &attributes(updated.clone()))
                .await,
        );
        let observed = read(provider, kind, &id)
            .await
            .unwrap_or_else(|| panic!("{kind} `{id}` reads as missing after update"));
        assert_eq!(
            observed, returned,
            "{kind}: read differs from what update returned"
        );
        assert_no_changes(kind, &observed, &updated);
    }

    must(&format!("delete {kind}"), provider.delete(kind, &id).await);
    assert_eq!(
        read(provider, kind, &id).await,
        None,
        "{kind} `{id}` still reads after delete"
    );
    must(
        &format!("delete {kind} again"),
        provider.delete(kind, &id).await,
    );
    id
}

fn key_policy(account_id: &str, extra_sid: Option<&str>) -> Value {
    let mut statements = vec![json!({
        "Sid": "EnableAccountAdministration",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{account_id}:root") },
        "Action": "kms:*",
        "Resource": "*",
    })];
    if let Some(sid) = extra_sid {
        statements.push(json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account_id}:root") },
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn key_attributes(account_id: &str, address: &str) -> Value {
    json!({
        "description": "brickstack test key",
        "key_usage": "ENCRYPT_DECRYPT",
        "enable_key_rotation": true,
        "deletion_window_in_days": 30,
        "is_enabled": true,
        "policy": key_policy(account_id, None),
        "tags": { "Name": "test", "brickstack:address": address, "brickstack:environment": "test" },
    })
}

async fn new_bucket(provider: &AwsProvider, test_name: &str) -> String {
    let name = unique_bucket_name(test_name);
    create(
        provider,
        "aws_s3_bucket",
        &json!({ "bucket": name, "force_destroy": false }),
    )
    .await
    .object_id
}

/// The bucket's versioning status, also from moto 5.2's answer, whose XML root the SDK refuses.
async fn versioning_status(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => out.status().map(|s| s.as_str().to_string()),
        Err(SdkError::ServiceError(e)) => {
            let body = std::str::from_utf8(e.raw().body().bytes()?).ok()?;
            let (_, rest) = body.split_once("<Status>")?;
            Some(rest.split_once("</Status>")?.0.to_string())
        }
        Err(e) => panic!("s3:GetBucketVersioning: {e:?}"),
    }
}

fn table_attributes(name: &str) -> Value {
    json!({
        "name": name,
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": "LockID",
        "attribute": [{ "name": "LockID", "type": "S" }],
        "server_side_encryption": { "enabled": true },
        "point_in_time_recovery": { "enabled": true },
        "tags": { "Name": name, "brickstack:address": "aws_dynamodb_table.lock" },
    })
}

// --- one lifecycle per kind ----------------------------------------------------------------

#[tokio::test]
async fn kms_key_lifecycle_reads_back_policy_and_schedules_deletion_with_its_window() {
    let Some((moto, p)) = provider("kms_key_lifecycle").await else {
        return;
    };
    let desired = key_attributes(&moto.account_id, "aws_kms_key.test");
    let updated = json!({
        "description": "brickstack test key, renamed",
        "key_usage": "ENCRYPT_DECRYPT",
        "enable_key_rotation": false,
        "deletion_window_in_days": 7,
        "is_enabled": false,
        "policy": key_policy(&moto.account_id, Some("AllowDecrypt")),
        "tags": { "Name": "test", "brickstack:address": "aws_kms_key.test", "owner": "data" },
    });
    let created = create(&p, "aws_kms_key", &desired).await;
    let key_id = created.object_id.clone();
    assert_eq!(created.attributes["key_id"], json!(key_id));
    assert!(
        created.attributes["arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:") && a.ends_with(&key_id)),
        "{:?}",
        created.attributes["arn"]
    );
    // The policy is an object on both sides, not a JSON string.
    assert!(created.attributes["policy"].is_object());
    assert_eq!(
        read(&p, "aws_kms_key", &key_id).await.as_ref(),
        Some(&created)
    );

    let returned = must(
        "update key",
        p.update("aws_kms_key", &key_id, &attributes(updated.clone()))
            .await,
    );
    let observed = read(&p, "aws_kms_key", &key_id).await.expect("the key");
    assert_eq!(observed, returned);
    assert_no_changes("aws_kms_key", &observed, &updated);
    // The window is kept as a tag on the key, and left out of `tags`.
    let stored = ok(
        "kms:ListResourceTags",
        moto.clients
            .kms
            .list_resource_tags()
            .key_id(&key_id)
            .send()
            .await,
    );
    assert!(
        stored
            .tags()
            .iter()
            .any(|t| t.tag_key() == "brickstack:deletion_window_in_days" && t.tag_value() == "7")
    );
    assert!(
        !stored
            .tags()
            .iter()
            .any(|t| t.tag_key() == "brickstack:environment"),
        "the removed tag is gone"
    );

    must("delete key", p.delete("aws_kms_key", &key_id).await);
    assert_eq!(
        read(&p, "aws_kms_key", &key_id).await,
        None,
        "pending deletion reads as gone"
    );
    let described = ok(
        "kms:DescribeKey",
        moto.clients.kms.describe_key().key_id(&key_id).send().await,
    );
    let meta = described.key_metadata().expect("metadata");
    assert_eq!(
        meta.key_state().map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let deletion = meta.deletion_date().expect("a deletion date").secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = (deletion - now) as f64 / 86_400.0;
    assert!(
        (6.9..7.1).contains(&days),
        "scheduled in {days} days, not the 7-day window"
    );
    must("delete key again", p.delete("aws_kms_key", &key_id).await);
}

#[tokio::test]
async fn kms_alias_lifecycle_retargets_in_place() {
    let Some((moto, p)) = provider("kms_alias_lifecycle").await else {
        return;
    };
    let first = create(
        &p,
        "aws_kms_key",
        &key_attributes(&moto.account_id, "aws_kms_key.a"),
    )
    .await
    .object_id;
    let second = create(
        &p,
        "aws_kms_key",
        &key_attributes(&moto.account_id, "aws_kms_key.b"),
    )
    .await
    .object_id;
    let name = format!("alias/{}", unique_name("bs-alias"));
    let id = lifecycle(
        &p,
        "aws_kms_alias",
        json!({ "name": name, "target_key_id": first }),
        Some(json!({ "name": name, "target_key_id": second })),
    )
    .await;
    assert_eq!(id, name, "an alias's object id is its name");
    let schema = p.schema("aws_kms_alias").expect("schema");
    assert_eq!(
        schema.behaviour("name"),
        AttributeBehaviour::ForcesReplacement
    );
    assert_eq!(
        schema.behaviour("target_key_id"),
        AttributeBehaviour::Updatable
    );
}

#[tokio::test]
async fn s3_bucket_lifecycle_keeps_force_destroy_out_of_tags() {
    let Some((moto, p)) = provider("s3_bucket_lifecycle").await else {
        return;
    };
    let name = unique_bucket_name("s3_bucket_lifecycle");
    let desired = json!({
        "bucket": name,
        "force_destroy": false,
        "tags": { "Name": name, "brickstack:address": "aws_s3_bucket.test" },
    });
    let updated = json!({
        "bucket": name,
        "force_destroy": true,
        "tags": { "Name": name, "brickstack:address": "aws_s3_bucket.test", "tier": "raw" },
    });
    let created = create(&p, "aws_s3_bucket", &desired).await;
    assert_eq!(created.object_id, name);
    assert_eq!(
        created.attributes["arn"],
        json!(format!("arn:aws:s3:::{name}"))
    );
    let location = ok(
        "s3:GetBucketLocation",
        moto.clients
            .s3
            .get_bucket_location()
            .bucket(&name)
            .send()
            .await,
    );
    assert_eq!(
        location
            .location_constraint()
            .map(|l| l.as_str().to_string()),
        moto.clients.s3.config().region().map(|r| r.to_string()),
        "created in the clients' region"
    );
    must("delete bucket", p.delete("aws_s3_bucket", &name).await);

    lifecycle(&p, "aws_s3_bucket", desired, Some(updated)).await;
    let schema = p.schema("aws_s3_bucket").expect("schema");
    assert!(schema.holds_data);
    assert_eq!(
        schema.behaviour("bucket"),
        AttributeBehaviour::ForcesReplacement
    );
    assert_eq!(schema.behaviour("arn"), AttributeBehaviour::Computed);
}

#[tokio::test]
async fn bucket_configuration_kinds_lifecycle() {
    let Some((moto, p)) = provider("bucket_configuration_kinds").await else {
        return;
    };
    let bucket = new_bucket(&p, "bucket_configuration_kinds").await;
    let key_arn = create(
        &p,
        "aws_kms_key",
        &key_attributes(&moto.account_id, "aws_kms_key.k"),
    )
    .await
    .attributes["arn"]
        .clone();
    let arn = format!("arn:aws:s3:::{bucket}");

    let id = lifecycle(
        &p,
        "aws_s3_bucket_versioning",
        json!({ "bucket": bucket, "status": "Enabled" }),
        None,
    )
    .await;
    assert_eq!(
        id, bucket,
        "a bucket setting's object id is the bucket name"
    );
    assert_eq!(
        versioning_status(&moto.clients.s3, &bucket)
            .await
            .as_deref(),
        Some("Suspended"),
        "delete suspends"
    );

    lifecycle(
        &p,
        "aws_s3_bucket_server_side_encryption_configuration",
        json!({
            "bucket": bucket,
            "rule": { "sse_algorithm": "aws:kms", "kms_master_key_id": key_arn, "bucket_key_enabled": true },
        }),
        Some(json!({ "bucket": bucket, "rule": { "sse_algorithm": "AES256" } })),
    )
    .await;

    lifecycle(
        &p,
        "aws_s3_bucket_public_access_block",
        json!({
            "bucket": bucket,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true,
        }),
        Some(json!({
            "bucket": bucket,
            "block_public_acls": true,
            "block_public_policy": false,
            "ignore_public_acls": true,
            "restrict_public_buckets": false,
        })),
    )
    .await;

    lifecycle(
        &p,
        "aws_s3_bucket_lifecycle_configuration",
        json!({
            "bucket": bucket,
            "rule": [{ "id": "expire-noncurrent-state", "status": "Enabled", "noncurrent_version_expiration_days": 90 }],
        }),
        Some(json!({
            "bucket": bucket,
            "rule": [
                { "id": "expire-noncurrent-state", "status": "Enabled", "noncurrent_version_expiration_days": 30 },
                {
                    "id": "archive",
                    "status": "Disabled",
                    "transition": { "days": 60, "storage_class": "GLACIER" },
                    "expiration_days": 365,
                },
            ],
        })),
    )
    .await;

    let deny = |sid: &str| {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": sid,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, format!("{arn}/*")],
                "Condition": { "Bool": { "aws:SecureTransport": "false" } },
            }],
        })
    };
    lifecycle(
        &p,
        "aws_s3_bucket_policy",
        json!({ "bucket": bucket, "policy": deny("DenyInsecureTransport") }),
        Some(json!({ "bucket": bucket, "policy": deny("DenyPlainHttp") })),
    )
    .await;

    must("delete bucket", p.delete("aws_s3_bucket", &bucket).await);
}

/// A bucket that `logging.s3.amazonaws.com` may write into, as the generator's access-log
/// bucket policy allows (S3 refuses a logging target without it). `force_destroy`, since S3
/// starts writing access logs into it at once.
async fn access_log_target(provider: &AwsProvider, test_name: &str) -> String {
    let target = unique_bucket_name(test_name);
    create(
        provider,
        "aws_s3_bucket",
        &json!({ "bucket": target, "force_destroy": true }),
    )
    .await;
    create(
        provider,
        "aws_s3_bucket_policy",
        &json!({
            "bucket": target,
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AllowS3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": { "Service": "logging.s3.amazonaws.com" },
                    "Action": "s3:PutObject",
                    "Resource": format!("arn:aws:s3:::{target}/*"),
                }],
            },
        }),
    )
    .await;
    target
}

#[tokio::test]
async fn s3_bucket_logging_lifecycle_puts_reads_back_retargets_and_turns_logging_off() {
    let Some((moto, p)) = provider("s3_bucket_logging").await else {
        return;
    };
    let bucket = new_bucket(&p, "s3_bucket_logging").await;
    let target = access_log_target(&p, "s3_bucket_logging_target").await;
    let other_target = access_log_target(&p, "s3_bucket_logging_other").await;
    assert_eq!(
        read(&p, "aws_s3_bucket_logging", &bucket).await,
        None,
        "a bucket that logs nowhere has no logging object"
    );

    let id = lifecycle(
        &p,
        "aws_s3_bucket_logging",
        json!({
            "bucket": bucket,
            "target_bucket": target,
            "target_prefix": format!("s3-access/{bucket}/"),
        }),
        Some(json!({
            "bucket": bucket,
            "target_bucket": other_target,
            "target_prefix": "elsewhere/",
        })),
    )
    .await;
    assert_eq!(id, bucket, "the logging object's id is the bucket name");
    let status = ok(
        "s3:GetBucketLogging",
        moto.clients
            .s3
            .get_bucket_logging()
            .bucket(&bucket)
            .send()
            .await,
    );
    assert_eq!(status.logging_enabled(), None, "delete turns logging off");

    // A target that does not let S3's logging service write is refused, not half-applied.
    let closed = new_bucket(&p, "s3_bucket_logging_closed").await;
    let refused = p
        .create(&CreateRequest {
            address: "aws_s3_bucket_logging.test".into(),
            kind: "aws_s3_bucket_logging".into(),
            attributes: attributes(json!({
                "bucket": bucket,
                "target_bucket": closed,
                "target_prefix": "",
            })),
            lookup: ObjectLookup::default(),
        })
        .await
        .expect_err("a target without the logging service's permission is refused");
    assert_eq!(refused.code, "InvalidTargetBucketForLogging", "{refused}");
    assert_eq!(read(&p, "aws_s3_bucket_logging", &bucket).await, None);

    let schema = p.schema("aws_s3_bucket_logging").expect("served");
    assert_eq!(
        schema.behaviour("bucket"),
        AttributeBehaviour::ForcesReplacement
    );
    assert_eq!(
        schema.behaviour("target_prefix"),
        AttributeBehaviour::Updatable
    );

    // Logging of a bucket that is gone is gone too.
    must("delete bucket", p.delete("aws_s3_bucket", &bucket).await);
    assert_eq!(read(&p, "aws_s3_bucket_logging", &bucket).await, None);
    must(
        "delete logging of a gone bucket",
        p.delete("aws_s3_bucket_logging", &bucket).await,
    );
    for target in [target, other_target, closed] {
        must("delete target", p.delete("aws_s3_bucket", &target).await);
    }
}

#[tokio::test]
async fn dynamodb_table_lifecycle_waits_and_updates_in_place() {
    let Some((moto, p)) = provider("dynamodb_table_lifecycle").await else {
        return;
    };
    let name = unique_name("bs-lock");
    let mut updated = table_attributes(&name);
    updated["point_in_time_recovery"] = json!({ "enabled": false });
    updated["tags"] = json!({ "Name": name, "team": "platform" });
    let created = create(&p, "aws_dynamodb_table", &table_attributes(&name)).await;
    assert_eq!(created.object_id, name);
    let described = ok(
        "dynamodb:DescribeTable",
        moto.clients
            .dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await,
    );
    assert_eq!(
        described
            .table()
            .and_then(|t| t.table_status())
            .map(|s| s.as_str()),
        Some("ACTIVE")
    );
    must("delete table", p.delete("aws_dynamodb_table", &name).await);

    lifecycle(
        &p,
        "aws_dynamodb_table",
        table_attributes(&name),
        Some(updated),
    )
    .await;
    let gone = moto
        .clients
        .dynamodb
        .describe_table()
        .table_name(&name)
        .send()
        .await;
    assert!(gone.is_err(), "the table is gone once delete returns");
}

// --- batched reads, adoption, contents -------------------------------------------------------

#[tokio::test]
async fn read_many_reads_several_objects_with_one_listing() {
    let Some((moto, p)) = provider("read_many").await else {
        return;
    };
    let mut buckets = Vec::new();
    for _ in 0..3 {
        buckets.push(new_bucket(&p, "read_many").await);
    }
    let missing = unique_bucket_name("read_many_missing");
    let mut asked = buckets.clone();
    asked.push(missing.clone());
    let before = p.calls().snapshot();
    let found = must(
        "read_many buckets",
        p.read_many("aws_s3_bucket", &asked).await,
    );
    let after = p.calls().snapshot();
    assert_eq!(found.keys().cloned().collect::<Vec<_>>(), {
        let mut b = buckets.clone();
        b.sort();
        b
    });
    assert!(!found.contains_key(&missing));
    let delta =
        |op: &str| after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
    assert_eq!(delta("s3:ListBuckets"), 1);
    assert_eq!(
        delta("s3:HeadBucket"),
        0,
        "existence comes from the listing"
    );

    let key = create(
        &p,
        "aws_kms_key",
        &key_attributes(&moto.account_id, "aws_kms_key.a"),
    )
    .await
    .object_id;
    let mut aliases = Vec::new();
    for _ in 0..2 {
        let name = format!("alias/{}", unique_name("bs-read-many"));
        create(
            &p,
            "aws_kms_alias",
            &json!({ "name": name, "target_key_id": key }),
        )
        .await;
        aliases.push(name);
    }
    let mut asked = aliases.clone();
    asked.push("alias/bs-not-there".to_string());
    let before = p.calls().total();
    let found = must(
        "read_many aliases",
        p.read_many("aws_kms_alias", &asked).await,
    );
    assert_eq!(
        p.calls().total() - before,
        1,
        "one ListAliases for every alias"
    );
    assert_eq!(found.len(), 2);
    for alias in &aliases {
        assert_eq!(found[alias].attributes["target_key_id"], json!(key));
    }

    let tables: Vec<String> = (0..2).map(|_| unique_name("bs-read-many")).collect();
    for table in &tables {
        create(&p, "aws_dynamodb_table", &table_attributes(table)).await;
    }
    let found = must(
        "read_many tables",
        p.read_many("aws_dynamodb_table", &tables).await,
    );
    assert_eq!(found.len(), 2);
    let found = must(
        "read_many keys",
        p.read_many("aws_kms_key", std::slice::from_ref(&key)).await,
    );
    assert_eq!(found[&key].object_id, key);
}

#[tokio::test]
async fn find_adopts_a_key_by_tags_or_alias_and_a_bucket_or_table_by_name() {
    let Some((moto, p)) = provider("find_adopts").await else {
        return;
    };
    let address = "aws_kms_key.state";
    let created = create(
        &p,
        "aws_kms_key",
        &key_attributes(&moto.account_id, address),
    )
    .await;
    // Another key with other tags, which must not be picked.
    create(
        &p,
        "aws_kms_key",
        &key_attributes(&moto.account_id, "aws_kms_key.other"),
    )
    .await;
    let by_tags = ObjectLookup {
        name: None,
        tags: [
            ("brickstack:address".to_string(), address.to_string()),
            ("brickstack:environment".to_string(), "test".to_string()),
        ]
        .into(),
        scope: None,
    };
    assert_eq!(
        must("find key", p.find("aws_kms_key", &by_tags).await),
        Some(created.clone())
    );
    let elsewhere = ObjectLookup {
        name: None,
        tags: [(
            "brickstack:address".to_string(),
            "aws_kms_key.nowhere".to_string(),
        )]
        .into(),
        scope: None,
    };
    assert_eq!(
        must("find no key", p.find("aws_kms_key", &elsewhere).await),
        None
    );

    let alias = unique_name("bs-find");
    create(
        &p,
        "aws_kms_alias",
        &json!({ "name": format!("alias/{alias}"), "target_key_id": created.object_id }),
    )
    .await;
    let by_alias = ObjectLookup {
        name: Some(alias),
        tags: Default::default(),
        scope: None,
    };
    assert_eq!(
        must("find key by alias", p.find("aws_kms_key", &by_alias).await),
        Some(created)
    );

    let bucket = new_bucket(&p, "find_adopts").await;
    let found = must(
        "find bucket",
        p.find(
            "aws_s3_bucket",
            &ObjectLookup {
                name: Some(bucket.clone()),
                tags: Default::default(),
                scope: None,
            },
        )
        .await,
    );
    assert_eq!(found.map(|o| o.object_id), Some(bucket));

    let table = unique_name("bs-find");
    create(&p, "aws_dynamodb_table", &table_attributes(&table)).await;
    let found = must(
        "find table",
        p.find(
            "aws_dynamodb_table",
            &ObjectLookup {
                name: Some(table.clone()),
                tags: Default::default(),
                scope: None,
            },
        )
        .await,
    );
    assert_eq!(found.map(|o| o.object_id), Some(table));
    let nothing = ObjectLookup {
        name: Some(unique_name("bs-find-none")),
        tags: Default::default(),
        scope: None,
    };
    assert_eq!(
        must(
            "find no table",
            p.find("aws_dynamodb_table", &nothing).await
        ),
        None
    );
}

#[tokio::test]
async fn contents_counts_versions_and_only_force_destroy_empties_a_bucket() {
    let Some((moto, p)) = provider("contents_counts").await else {
        return;
    };
    let s3 = &moto.clients.s3;
    let name = new_bucket(&p, "contents_counts").await;
    assert_eq!(
        must("contents", p.contents("aws_s3_bucket", &name).await),
        0
    );
    ok(
        "s3:PutBucketVersioning",
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await,
    );
    for (key, body) in [("a", "1"), ("a", "2"), ("b", "3")] {
        ok(
            "s3:PutObject",
            s3.put_object()
                .bucket(&name)
                .key(key)
                .body(ByteStream::from_static(body.as_bytes()))
                .send()
                .await,
        );
    }
    ok(
        "s3:DeleteObject",
        s3.delete_object().bucket(&name).key("b").send().await,
    );
    // Two versions of `a`, one of `b`, and `b`'s delete marker.
    assert_eq!(
        must("contents", p.contents("aws_s3_bucket", &name).await),
        4
    );

    let refused = p
        .delete("aws_s3_bucket", &name)
        .await
        .expect_err("a bucket with data and no force_destroy is not emptied");
    assert_eq!(refused.class, ErrorClass::Conflict, "{refused}");
    assert_eq!(refused.code, "BucketNotEmpty");
    assert_eq!(
        must("contents", p.contents("aws_s3_bucket", &name).await),
        4
    );

    must(
        "update force_destroy",
        p.update(
            "aws_s3_bucket",
            &name,
            &attributes(json!({ "bucket": name, "force_destroy": true })),
        )
        .await,
    );
    must(
        "delete with force_destroy",
        p.delete("aws_s3_bucket", &name).await,
    );
    assert_eq!(read(&p, "aws_s3_bucket", &name).await, None);
    assert_eq!(
        must(
            "contents of a gone bucket",
            p.contents("aws_s3_bucket", &name).await
        ),
        0
    );
    assert_eq!(
        must("contents of a key", p.contents("aws_kms_key", "any").await),
        0
    );
}

// --- refusals and error classes --------------------------------------------------------------

#[tokio::test]
async fn other_kinds_are_refused_naming_the_kind_and_the_issue() {
    let Some((_moto, p)) = provider("other_kinds_are_refused").await else {
        return;
    };
    assert!(p.schema("aws_security_group").is_none());
    let lookup = ObjectLookup::default();
    let request = CreateRequest {
        address: "aws_security_group.main".into(),
        kind: "aws_security_group".into(),
        attributes: Attributes::new(),
        lookup: lookup.clone(),
    };
    let errors = [
        p.read("aws_security_group", "sg-1").await.err(),
        p.read_many("aws_security_group", &["sg-1".into()])
            .await
            .err(),
        p.create(&request).await.err(),
        p.update("aws_security_group", "sg-1", &Attributes::new())
            .await
            .err(),
        p.delete("aws_security_group", "sg-1").await.err(),
        p.find("aws_security_group", &lookup).await.err(),
        p.contents("aws_security_group", "sg-1").await.err(),
    ];
    for error in errors {
        let error = error.expect("refused");
        assert_eq!(error.class, ErrorClass::Fatal);
        assert_eq!(error.code, "UnsupportedKind");
        assert!(error.message.contains("`aws_security_group`"), "{error}");
        assert!(error.message.contains("the generator emits"), "{error}");
    }
    let databricks = p
        .delete("databricks_cluster", "c-1")
        .await
        .expect_err("refused");
    assert!(
        databricks.message.contains("`databricks_cluster`"),
        "{databricks}"
    );
    assert!(databricks.message.contains("issue #5"), "{databricks}");
}

#[tokio::test]
async fn aws_errors_are_classified_against_moto() {
    let Some((moto, p)) = provider("aws_errors_are_classified").await else {
        return;
    };
    // Not found: a read says none, an update says NotFound.
    let missing = unique_bucket_name("missing");
    assert_eq!(read(&p, "aws_s3_bucket", &missing).await, None);
    assert_eq!(read(&p, "aws_s3_bucket_policy", &missing).await, None);
    assert_eq!(
        read(&p, "aws_dynamodb_table", &unique_name("bs-missing")).await,
        None
    );
    assert_eq!(
        read(&p, "aws_kms_key", "00000000-0000-4000-8000-000000000000").await,
        None
    );
    let bucket = new_bucket(&p, "aws_errors_are_classified").await;
    for kind in [
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_policy",
    ] {
        assert_eq!(
            read(&p, kind, &bucket).await,
            None,
            "{kind} of a bare bucket"
        );
    }
    let error = p
        .update(
            "aws_dynamodb_table",
            "bs-missing",
            &attributes(table_attributes("bs-missing")),
        )
        .await
        .expect_err("gone");
    assert_eq!(error.class, ErrorClass::NotFound, "{error}");

    // Conflict: the bucket exists already.
    let error = p
        .create(&CreateRequest {
            address: "aws_s3_bucket.again".into(),
            kind: "aws_s3_bucket".into(),
            attributes: attributes(json!({ "bucket": bucket })),
            lookup: ObjectLookup::default(),
        })
        .await
        .expect_err("exists");
    assert_eq!(error.class, ErrorClass::Conflict, "{error}");
    assert_eq!(error.code, "BucketAlreadyOwnedByYou");
    assert!(error.message.contains("s3:CreateBucket"), "{error}");

    // Invalid input: refused before any call.
    let mut window = key_attributes(&moto.account_id, "aws_kms_key.k");
    window["deletion_window_in_days"] = json!(3);
    let unknown = json!({ "bucket": bucket, "acl": "private" });
    let policy_string = json!({ "bucket": bucket, "policy": "{\"Version\":" });
    for (kind, desired) in [
        ("aws_kms_key", window),
        ("aws_s3_bucket", unknown),
        ("aws_s3_bucket_policy", policy_string),
        (
            "aws_kms_alias",
            json!({ "name": "state", "target_key_id": "k" }),
        ),
    ] {
        let error = p
            .create(&CreateRequest {
                address: format!("{kind}.bad"),
                kind: kind.into(),
                attributes: attributes(desired),
                lookup: ObjectLookup::default(),
            })
            .await
            .expect_err("invalid");
        assert_eq!(error.class, ErrorClass::InvalidInput, "{kind}: {error}");
    }
    // The bucket is still usable: nothing malformed reached it.
    assert!(read(&p, "aws_s3_bucket", &bucket).await.is_some());
}

#[test]
fn error_codes_are_classified_once() {
    let retryable = ErrorClass::Retryable { after: None };
    let cases = [
        (Some("NoSuchBucket"), Some(404), ErrorClass::NotFound),
        (Some("NotFound"), Some(404), ErrorClass::NotFound),
        (Some("NotFoundException"), Some(400), ErrorClass::NotFound),
        (
            Some("ResourceNotFoundException"),
            Some(400),
            ErrorClass::NotFound,
        ),
        (
            Some("NoSuchLifecycleConfiguration"),
            Some(404),
            ErrorClass::NotFound,
        ),
        (
            Some("ServerSideEncryptionConfigurationNotFoundError"),
            Some(404),
            ErrorClass::NotFound,
        ),
        (
            Some("NoSuchPublicAccessBlockConfiguration"),
            Some(404),
            ErrorClass::NotFound,
        ),
        (Some("NoSuchBucketPolicy"), Some(404), ErrorClass::NotFound),
        (
            Some("InvalidVpcID.NotFound"),
            Some(400),
            ErrorClass::NotFound,
        ),
        (None, Some(404), ErrorClass::NotFound),
        (Some("Throttling"), Some(400), retryable),
        (Some("ThrottlingException"), Some(400), retryable),
        (Some("SlowDown"), Some(503), retryable),
        (Some("RequestLimitExceeded"), Some(400), retryable),
        (
            Some("ProvisionedThroughputExceededException"),
            Some(400),
            retryable,
        ),
        (Some("SomethingNew"), Some(503), retryable),
        (None, Some(500), retryable),
        (None, Some(429), retryable),
        (
            Some("BucketAlreadyOwnedByYou"),
            Some(409),
            ErrorClass::Conflict,
        ),
        (
            Some("AlreadyExistsException"),
            Some(400),
            ErrorClass::Conflict,
        ),
        (
            Some("ResourceInUseException"),
            Some(400),
            ErrorClass::Conflict,
        ),
        (Some("OperationAborted"), Some(409), ErrorClass::Conflict),
        (Some("InvalidArgument"), Some(400), ErrorClass::InvalidInput),
        (
            Some("ValidationException"),
            Some(400),
            ErrorClass::InvalidInput,
        ),
        (Some("MalformedPolicy"), Some(400), ErrorClass::InvalidInput),
        (
            Some("MalformedPolicyDocumentException"),
            Some(400),
            ErrorClass::InvalidInput,
        ),
        (Some("AccessDenied"), Some(403), ErrorClass::Fatal),
        (Some("SomethingNew"), Some(400), ErrorClass::Fatal),
        (None, None, ErrorClass::Fatal),
    ];
    for (code, status, class) in cases {
        assert_eq!(
            classify_code(code, status),
            class,
            "{code:?} with HTTP {status:?}"
        );
    }
}

fn service_error(code: &str, status: u16) -> SdkError<HeadBucketError, HttpResponse> {
    service_error_saying(code, status, "the service said so")
}

fn service_error_saying(
    code: &str,
    status: u16,
    message: &str,
) -> SdkError<HeadBucketError, HttpResponse> {
    SdkError::service_error(
        HeadBucketError::generic(ErrorMetadata::builder().code(code).message(message).build()),
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
    )
}

#[test]
fn a_policy_naming_a_role_not_yet_propagated_is_retryable() {
    let retryable = ErrorClass::Retryable { after: None };
    for (code, message) in [
        (
            "MalformedPolicyDocumentException",
            "Policy contains a statement with one or more invalid principals.",
        ),
        (
            "MalformedPolicyDocument",
            "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/r\"",
        ),
        ("MalformedPolicy", "Invalid principal in policy"),
    ] {
        let error = classify("kms:CreateKey", &service_error_saying(code, 400, message));
        assert_eq!(error.class, retryable, "{code}: {message}");
    }
    let malformed = classify(
        "kms:CreateKey",
        &service_error_saying("MalformedPolicyDocumentException", 400, "syntax error"),
    );
    assert_eq!(malformed.class, ErrorClass::InvalidInput);
}

#[test]
fn sdk_errors_are_classified_with_their_code_and_cause() {
    let error = classify("s3:HeadBucket", &service_error("SlowDown", 503));
    assert!(error.is_retryable());
    assert_eq!(error.code, "SlowDown");
    // One line: the service's message, then the operation.
    assert_eq!(
        error.message, "the service said so (s3:HeadBucket)",
        "{error}"
    );
    assert!(error.to_string().starts_with("SlowDown: "), "{error}");

    let error = classify("s3:HeadBucket", &service_error("NoSuchBucket", 404));
    assert_eq!(error.class, ErrorClass::NotFound);

    let timeout: SdkError<HeadBucketError, HttpResponse> = SdkError::timeout_error("took too long");
    let error = classify("s3:HeadBucket", &timeout);
    assert!(error.is_retryable());
    assert_eq!(error.code, "TimeoutError");

    let refused: SdkError<HeadBucketError, HttpResponse> =
        SdkError::dispatch_failure(ConnectorError::io("Connection refused".into()));
    let error = classify("s3:HeadBucket", &refused);
    assert!(error.is_retryable());
    assert!(error.message.contains("Connection refused"), "{error}");

    let unbuildable: SdkError<HeadBucketError, HttpResponse> =
        SdkError::construction_failure("bucket is required");
    assert_eq!(
        classify("s3:HeadBucket", &unbuildable).class,
        ErrorClass::InvalidInput
    );

    let user: SdkError<HeadBucketError, HttpResponse> =
        SdkError::dispatch_failure(ConnectorError::user("bad TLS config".into()));
    assert_eq!(classify("s3:HeadBucket", &user).class, ErrorClass::Fatal);
}

// --- the bootstrap graph through the engine ------------------------------------------------

fn bootstrap_spec(prefix: &str, region: &str) -> brickstack_spec::Spec {
    let text = include_str!("../../../../environments/local.toml")
        .replace("prefix = \"bs-local\"", &format!("prefix = \"{prefix}\""))
        .replace("region = \"eu-west-1\"", &format!("region = \"{region}\""));
    assert!(
        text.contains(prefix),
        "the template still has its prefix line"
    );
    brickstack_spec::parse("local.toml", &text).unwrap_or_else(|e| panic!("spec: {e:?}"))
}

#[tokio::test]
async fn bootstrap_graph_applies_plans_no_changes_and_destroys() {
    let Some((moto, p)) = provider("bootstrap_graph_applies").await else {
        return;
    };
    let region = moto
        .clients
        .s3
        .config()
        .region()
        .map(|r| r.to_string())
        .expect("moto's region");
    let prefix = unique_name("bs");
    let spec = bootstrap_spec(&prefix, &region);
    let graph = brickstack_graph::bootstrap(&spec).unwrap_or_else(|e| panic!("graph: {e:?}"));
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("local.json"));
    let engine = Engine {
        provider: &p,
        store: &store,
        runner: Runner::default(),
    };
    let environment = spec.environment.name.as_str();
    let desired = Request {
        environment,
        graph: &graph,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: brickstack_exec::RefreshMode::Full,
    };
    let cancel = AtomicBool::new(false);
    let options = ApplyOptions::default();

    let applied = engine
        .apply(&desired, None, &options, &|_| {}, &cancel)
        .await
        .unwrap_or_else(|e| panic!("apply: {e}"));
    assert!(applied.succeeded(), "apply failed: {:#?}", applied.failed);
    assert_eq!(applied.state.resources.len(), graph.resources().count());

    let plan = engine
        .plan(&desired)
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"));
    assert!(
        !plan.has_changes(),
        "a second plan is not a no-op:\n{}",
        brickstack_plan::render::text(&plan, false)
    );
    assert!(
        plan.drift.is_empty(),
        "drift right after apply: {:#?}",
        plan.drift
    );

    let object = |address: &str| applied.state.resources[address].object_id.clone();
    let bucket = object("aws_s3_bucket.state");
    let table = object("aws_dynamodb_table.lock");
    let key_id = object("aws_kms_key.state");
    let alias = object("aws_kms_alias.state");

    let empty = nothing();
    let destroy = Request {
        environment,
        graph: &empty,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: brickstack_exec::RefreshMode::Full,
    };
    let destroyed = engine
        .apply(&destroy, None, &options, &|_| {}, &cancel)
        .await
        .unwrap_or_else(|e| panic!("destroy: {e}"));
    assert!(
        destroyed.succeeded(),
        "destroy failed: {:#?}",
        destroyed.failed
    );
    assert!(destroyed.state.resources.is_empty());

    let clients = &moto.clients;
    let head = clients.s3.head_bucket().bucket(&bucket).send().await;
    assert!(head.is_err(), "bucket `{bucket}` still exists");
    let described = clients
        .dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await;
    assert!(described.is_err(), "table `{table}` still exists");
    let key = ok(
        "kms:DescribeKey",
        clients.kms.describe_key().key_id(&key_id).send().await,
    );
    assert_eq!(
        key.key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let aliases = ok("kms:ListAliases", clients.kms.list_aliases().send().await);
    assert!(
        aliases
            .aliases()
            .iter()
            .all(|a| a.alias_name() != Some(alias.as_str())),
        "alias `{alias}` still exists"
    );
}

/// Puts `count` more delete markers on `keys` of a versioned bucket with `DeleteObjects` (each
/// delete of a key without a version id adds a marker), up to 1,000 a call.
async fn put_delete_markers(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[&str], count: usize) {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let all: Vec<&str> = keys.iter().copied().cycle().take(count).collect();
    for chunk in all.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
            .collect();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .unwrap();
        ok(
            "s3:DeleteObjects",
            s3.delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await,
        );
    }
}

#[tokio::test]
async fn destroy_data_empties_every_version_and_delete_marker_of_a_versioned_bucket_then_deletes_it()
 {
    let Some((moto, p)) = provider("destroy_data_empties").await else {
        return;
    };
    let s3 = &moto.clients.s3;
    let name = unique_bucket_name("destroy_data_empties");
    let mut resources = brickstack_graph::Resources::default();
    resources.add(
        "aws_s3_bucket",
        "data",
        brickstack_graph::map! { "bucket" => name.as_str(), "force_destroy" => false },
    );
    let spec = bootstrap_spec(&unique_name("dd"), "eu-west-1");
    let graph = brickstack_graph::build(&spec, resources).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("local.json"));
    let engine = Engine {
        provider: &p,
        store: &store,
        runner: Runner::default(),
    };
    fn request(graph: &brickstack_graph::ResourceGraph) -> Request<'_> {
        Request {
            environment: "local",
            graph,
            targets: &[],
            excludes: &[],
            replace: &[],
            refresh: brickstack_exec::RefreshMode::Full,
        }
    }
    let cancel = AtomicBool::new(false);
    let applied = engine
        .apply(
            &request(&graph),
            None,
            &ApplyOptions::default(),
            &|_| {},
            &cancel,
        )
        .await
        .unwrap_or_else(|e| panic!("apply: {e}"));
    assert!(applied.succeeded(), "{:#?}", applied.failed);
    // Versioning is turned on outside the graph: an `aws_s3_bucket_versioning` resource would be
    // deleted (suspended) before the bucket, and moto 5.2 then fails deleting a delete marker by
    // its version id in a suspended bucket (HTTP 500: `FakeDeleteMarker` has no `dispose`),
    // which S3 does not.
    ok(
        "s3:PutBucketVersioning",
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await,
    );

    // Several versions of several keys, a delete marker on some, and enough delete markers
    // that emptying takes more than one page of 1,000.
    for (key, body) in [
        ("a", "1"),
        ("a", "2"),
        ("a", "3"),
        ("b", "4"),
        ("b", "5"),
        ("c", "6"),
    ] {
        ok(
            "s3:PutObject",
            s3.put_object()
                .bucket(&name)
                .key(key)
                .body(ByteStream::from_static(body.as_bytes()))
                .send()
                .await,
        );
    }
    for key in ["a", "c"] {
        ok(
            "s3:DeleteObject",
            s3.delete_object().bucket(&name).key(key).send().await,
        );
    }
    put_delete_markers(s3, &name, &["a", "b"], 1100).await;
    let held = 6 + 2 + 1100;
    assert_eq!(
        must("contents", p.contents("aws_s3_bucket", &name).await),
        held
    );

    let empty = nothing();
    let refused = engine
        .apply(
            &request(&empty),
            None,
            &ApplyOptions::default(),
            &|_| {},
            &cancel,
        )
        .await
        .expect_err("a destroy of a bucket with data is refused");
    assert!(
        refused.to_string().contains(&format!(
            "aws_s3_bucket.data (`{name}`) holds {held} object(s)"
        )),
        "{refused}"
    );
    assert_eq!(
        must("contents", p.contents("aws_s3_bucket", &name).await),
        held,
        "nothing was touched"
    );

    let destroyed = engine
        .apply(
            &request(&empty),
            None,
            &ApplyOptions {
                destroy_data: true,
                ..ApplyOptions::default()
            },
            &|_| {},
            &cancel,
        )
        .await
        .unwrap_or_else(|e| panic!("destroy --destroy-data: {e}"));
    assert!(destroyed.succeeded(), "{:#?}", destroyed.failed);
    assert!(destroyed.state.resources.is_empty());
    assert_eq!(read(&p, "aws_s3_bucket", &name).await, None, "deleted");
    assert!(
        s3.head_bucket().bucket(&name).send().await.is_err(),
        "bucket `{name}` still exists"
    );
}
