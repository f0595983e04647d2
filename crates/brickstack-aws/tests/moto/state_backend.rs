//! The S3 + DynamoDB state backend: the shared conformance suite against moto, then what is
//! particular to AWS (encryption, versions, the lock item's layout, error mapping).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    ServerSideEncryption, VersioningConfiguration,
};
use brickstack_aws::state_backend::{LOCK_TABLE_KEY, S3Store};
use brickstack_aws::{AwsClients, StaticEndpoint, static_sdk_config_with_policy};
use brickstack_provider::RetryPolicy;
use brickstack_state::conformance::{self, LEASE_SECONDS, T0};
use brickstack_state::{
    Edit, LeaseStore, LockInfo, LockRequest, RecordedResource, State, StateError, StateStore,
};
use brickstack_testkit::{unique_bucket_name, unique_name};

use crate::support::{moto_account, ok};

/// What the bootstrap graph creates for a backend: a versioned bucket, a KMS key, a lock table,
/// in a moto account of this test's own.
struct Backend {
    clients: AwsClients,
    bucket: String,
    lock_table: String,
    kms_key_id: String,
}

impl Backend {
    async fn new(test_name: &str) -> Option<Backend> {
        let moto = moto_account(test_name).await?;
        let clients = moto.clients;

        let key = ok(
            "kms:CreateKey",
            clients
                .kms
                .create_key()
                .description("brickstack state")
                .send()
                .await,
        );
        let kms_key_id = key
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .expect("CreateKey returns the key");

        let bucket = unique_bucket_name(test_name);
        let region = clients
            .s3
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default();
        let mut create = clients.s3.create_bucket().bucket(&bucket);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        ok("s3:CreateBucket", create.send().await);
        ok(
            "s3:PutBucketVersioning",
            clients
                .s3
                .put_bucket_versioning()
                .bucket(&bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await,
        );

        let lock_table = unique_name("brickstack-locks");
        ok(
            "dynamodb:CreateTable",
            clients
                .dynamodb
                .create_table()
                .table_name(&lock_table)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(LOCK_TABLE_KEY)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .expect("attribute definition"),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(LOCK_TABLE_KEY)
                        .key_type(KeyType::Hash)
                        .build()
                        .expect("key schema"),
                )
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await,
        );
        Some(Backend {
            clients,
            bucket,
            lock_table,
            kms_key_id,
        })
    }

    fn store(&self, key: &str) -> S3Store {
        S3Store::new(
            &self.clients,
            &self.bucket,
            key,
            &self.lock_table,
            &self.kms_key_id,
        )
    }
}

fn request(id: &str) -> LockRequest {
    LockRequest {
        id: id.into(),
        operation: "apply".into(),
        who: "alice@laptop".into(),
        version: "0.1.0".into(),
        now: T0,
        lease_seconds: LEASE_SECONDS,
    }
}

fn state(serial: u64) -> State {
    State {
        serial,
        ..State::new("dev", "lineage-1")
    }
}

/// What a process killed while putting the next journal record (serial 4) leaves: S3 puts are
/// atomic, so at most an upload that never completed, which no listing shows.
pub async fn tear(store: &S3Store) {
    let (bucket, key) = (store.bucket(), store.record_key(4));
    let upload = ok(
        "s3:CreateMultipartUpload",
        store
            .s3()
            .create_multipart_upload()
            .bucket(bucket)
            .key(&key)
            .send()
            .await,
    );
    ok(
        "s3:UploadPart",
        store
            .s3()
            .upload_part()
            .bucket(bucket)
            .key(&key)
            .upload_id(upload.upload_id().unwrap_or_default())
            .part_number(1)
            .body(br#"{"lineage":"lineage-1","ser"#.to_vec().into())
            .send()
            .await,
    );
}

#[tokio::test]
async fn s3_store_passes_the_conformance_suite() {
    let Some(backend) = Backend::new("s3_store_passes_the_conformance_suite").await else {
        return;
    };
    let at = |name: &str| backend.store(&format!("conformance/{name}.json"));
    conformance::run_all(at, async |name| tear(&at(name)).await).await;
}

#[tokio::test]
async fn s3_store_passes_the_lease_checks() {
    let Some(backend) = Backend::new("s3_store_passes_the_lease_checks").await else {
        return;
    };
    conformance::run_leases(|name| backend.store(&format!("leases/{name}.json"))).await;
}

/// The lease item's layout (docs/monitor.md names it): `LockID = "<bucket>/<key>#<name>"`,
/// `Holder`, `Expires` in epoch milliseconds; beside, not in, the state's lock item.
#[tokio::test]
async fn the_lease_item_is_the_documented_layout() {
    let Some(backend) = Backend::new("the_lease_item_is_the_documented_layout").await else {
        return;
    };
    let store = backend.store("env/prod.json");
    let lease_id = format!("{}/env/prod.json#monitor", backend.bucket);
    assert_eq!(store.lease_id("monitor"), lease_id);
    store
        .acquire_lease(
            "monitor",
            "host-1:4242",
            std::time::Duration::from_secs(60),
            T0,
        )
        .await
        .unwrap();
    let item = ok(
        "dynamodb:GetItem",
        backend
            .clients
            .dynamodb
            .get_item()
            .table_name(&backend.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(lease_id.clone()))
            .consistent_read(true)
            .send()
            .await,
    );
    let item = item.item().expect("the lease item");
    assert_eq!(
        item.get("Holder"),
        Some(&AttributeValue::S("host-1:4242".into()))
    );
    let expires_ms = (T0.unix_timestamp() + 60) * 1000;
    assert_eq!(
        item.get("Expires"),
        Some(&AttributeValue::N(expires_ms.to_string()))
    );
    assert_eq!(store.current_lock().await.unwrap(), None, "no state lock");
    store.release_lease("monitor", "host-1:4242").await.unwrap();
    let after = ok(
        "dynamodb:GetItem",
        backend
            .clients
            .dynamodb
            .get_item()
            .table_name(&backend.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(lease_id))
            .consistent_read(true)
            .send()
            .await,
    );
    assert!(after.item().is_none_or(|i| i.is_empty()), "released");
}

#[tokio::test]
async fn state_object_is_kms_encrypted_json_and_every_write_is_a_version() {
    let Some(backend) =
        Backend::new("state_object_is_kms_encrypted_json_and_every_write_is_a_version").await
    else {
        return;
    };
    let store = backend.store("env/dev.json");
    assert_eq!(
        store.location(),
        format!("s3://{}/env/dev.json", backend.bucket)
    );
    let lock = store.lock(&request("lock-1")).await.unwrap();
    store.write(&lock, &state(1)).await.unwrap();
    store.write(&lock, &state(2)).await.unwrap();
    store.unlock(&lock).await.unwrap();

    let s3 = &backend.clients.s3;
    let head = ok(
        "s3:HeadObject",
        s3.head_object()
            .bucket(&backend.bucket)
            .key("env/dev.json")
            .send()
            .await,
    );
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    let key = head.ssekms_key_id().unwrap_or_default();
    assert!(key.contains(&backend.kms_key_id), "{key}");
    assert_eq!(head.content_type(), Some("application/json"));

    let object = ok(
        "s3:GetObject",
        s3.get_object()
            .bucket(&backend.bucket)
            .key("env/dev.json")
            .send()
            .await,
    );
    let body = object.body.collect().await.unwrap().to_vec();
    assert_eq!(
        body,
        state(2).to_json(),
        "the object is exactly the document"
    );

    let versions = ok(
        "s3:ListObjectVersions",
        s3.list_object_versions()
            .bucket(&backend.bucket)
            .prefix("env/dev.json")
            .send()
            .await,
    );
    assert_eq!(
        versions
            .versions()
            .iter()
            .filter(|v| v.key() == Some("env/dev.json"))
            .count(),
        2,
        "both writes are kept as versions"
    );
}

#[tokio::test]
async fn journal_records_are_encrypted_objects_beside_the_key_and_a_whole_write_drops_them() {
    let Some(backend) = Backend::new(
        "journal_records_are_encrypted_objects_beside_the_key_and_a_whole_write_drops_them",
    )
    .await
    else {
        return;
    };
    let store = backend.store("env/dev.json");
    let lock = store.lock(&request("lock-1")).await.unwrap();
    assert_eq!(store.read().await.unwrap(), None);
    let mut expected = state(1);
    store.write(&lock, &expected).await.unwrap();
    for i in 0..3 {
        let mut edit = Edit::new(&mut expected);
        edit.insert_resource(
            format!("aws_vpc.v{i}"),
            RecordedResource::new("aws_vpc", format!("vpc-{i}"), Default::default(), vec![]),
        );
        let touched = edit.into_touched();
        expected.serial += 1;
        let delta = touched.delta(&expected);
        store.write_delta(&lock, &delta, &expected).await.unwrap();
    }
    let s3 = &backend.clients.s3;
    let list = |s3: aws_sdk_s3::Client, bucket: String| async move {
        ok(
            "s3:ListObjectsV2",
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix("env/dev.json.journal/")
                .send()
                .await,
        )
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect::<Vec<_>>()
    };
    let records = list(s3.clone(), backend.bucket.clone()).await;
    assert_eq!(
        records,
        [2, 3, 4].map(|serial| format!("env/dev.json.journal/{serial:020}.json")),
        "one object per delta, named by serial"
    );
    let head = ok(
        "s3:HeadObject",
        s3.head_object()
            .bucket(&backend.bucket)
            .key(&records[0])
            .send()
            .await,
    );
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(
        backend.store("env/dev.json").read().await.unwrap(),
        Some(expected.clone()),
        "another process replays the records"
    );

    expected.serial += 1;
    store.write(&lock, &expected).await.unwrap();
    assert!(
        list(s3.clone(), backend.bucket.clone()).await.is_empty(),
        "a whole write drops the records it holds"
    );
    assert_eq!(
        backend.store("env/dev.json").read().await.unwrap(),
        Some(expected)
    );
    store.unlock(&lock).await.unwrap();
}

#[tokio::test]
async fn lock_item_is_keyed_by_bucket_and_key_and_holds_readable_lock_info() {
    let Some(backend) =
        Backend::new("lock_item_is_keyed_by_bucket_and_key_and_holds_readable_lock_info").await
    else {
        return;
    };
    let store = backend.store("env/dev.json");
    assert_eq!(store.lock_id(), format!("{}/env/dev.json", backend.bucket));
    let lock = store.lock(&request("lock-1")).await.unwrap();

    let item = ok(
        "dynamodb:GetItem",
        backend
            .clients
            .dynamodb
            .get_item()
            .table_name(&backend.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(store.lock_id()))
            .consistent_read(true)
            .send()
            .await,
    );
    let item = item.item().expect("the lock item");
    assert_eq!(item.get("ID"), Some(&AttributeValue::S("lock-1".into())));
    let info: serde_json::Value =
        serde_json::from_str(item.get("Info").unwrap().as_s().unwrap()).unwrap();
    assert_eq!(
        info,
        serde_json::json!({
            "ID": "lock-1",
            "Operation": "apply",
            "Who": "alice@laptop",
            "Version": "0.1.0",
            "Created": "2026-01-01T00:00:00Z",
            "Path": store.location(),
            "Heartbeat": "2026-01-01T00:00:00Z",
            "LeaseSeconds": LEASE_SECONDS,
        })
    );
    assert_eq!(serde_json::from_value::<LockInfo>(info).unwrap(), lock);

    let other_key = backend.store("env/prod.json");
    let other = other_key.lock(&request("lock-2")).await;
    assert!(other.is_ok(), "another key is another lock: {other:?}");
}

#[tokio::test]
async fn missing_bucket_and_table_are_backend_errors_naming_the_location() {
    let Some(backend) =
        Backend::new("missing_bucket_and_table_are_backend_errors_naming_the_location").await
    else {
        return;
    };
    let missing_bucket = unique_bucket_name("never-created");
    let store = S3Store::new(
        &backend.clients,
        &missing_bucket,
        "env/dev.json",
        "no-such-table",
        &backend.kms_key_id,
    );
    match store.read().await {
        Err(StateError::Backend {
            backend: location,
            detail,
            retryable: false,
        }) => {
            assert_eq!(location, format!("s3://{missing_bucket}/env/dev.json"));
            assert!(
                detail.contains("s3:GetObject") && detail.contains("NoSuchBucket"),
                "{detail}"
            );
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
    match store.lock(&request("lock-1")).await {
        Err(StateError::Backend {
            detail,
            retryable: false,
            ..
        }) => {
            assert!(
                detail.contains("dynamodb:PutItem") && detail.contains("ResourceNotFoundException"),
                "{detail}"
            );
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_a_retryable_backend_error() {
    // Needs no moto: nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = static_sdk_config_with_policy(
        &StaticEndpoint {
            url: format!("http://127.0.0.1:{port}"),
            region: "eu-west-1".into(),
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            ca_bundle: None,
        },
        &RetryPolicy::none(),
    )
    .unwrap();
    let store = S3Store::new(&AwsClients::new(&config), "b", "k", "t", "key");
    for result in [
        store.read().await.map(|_| ()),
        store.current_lock().await.map(|_| ()),
    ] {
        match result {
            Err(StateError::Backend {
                retryable: true,
                detail,
                ..
            }) => assert!(detail.contains("Connection refused"), "{detail}"),
            other => panic!("expected a retryable Backend error, got {other:?}"),
        }
    }
}
