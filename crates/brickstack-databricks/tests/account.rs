//! The account API and the account-level kinds, against the in-process account emulator.
//!
//! Two small axum servers stand in where the emulator has nothing: `FakeWorkspaces` is where the
//! emulator's workspace URLs point (OAuth token and SCIM `Me`, so a new workspace's "does it
//! answer" wait runs its real code path), and `FakeAccount` answers what the emulator cannot
//! produce (a FAILED workspace, paged log delivery listings, account SCIM service principals and
//! their OAuth secrets, the vendor's refusal of an IAM role not propagated yet).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use brickstack_databricks::account::keys::{AwsKeyInfo, NewCustomerManagedKey};
use brickstack_databricks::account::log_delivery::{
    LogDeliveryFilter, NewLogDeliveryConfiguration, Status,
};
use brickstack_databricks::account::networks::NewNetwork;
use brickstack_databricks::account::service_principals::{
    NewServicePrincipal, PatchOperation, scim_eq,
};
use brickstack_databricks::account::storage::{NewStorageConfiguration, RootBucketInfo};
use brickstack_databricks::account::workspaces::{NewWorkspace, WaitError, WorkspaceUpdate};
use brickstack_databricks::{AccountClient, Credentials, DatabricksProvider, RetryPolicy};
use brickstack_databricks_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use brickstack_databricks_emulator::{DatabricksEmulator, DatabricksEmulatorConfig};
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{CreateRequest, ErrorClass, Observed, Provider, SecretValue};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_account_id;
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/cross-account";
const KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        budget: Duration::from_millis(200),
        base: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        jitter: Duration::ZERO,
        ..RetryPolicy::default()
    }
}

fn oauth() -> Credentials {
    Credentials::OAuthM2m {
        client_id: DEFAULT_CLIENT_ID.into(),
        client_secret: SecretValue::new(DEFAULT_CLIENT_SECRET),
    }
}

/// An emulator, a fresh account in it, and a client of that account.
struct Env {
    _emulator: DatabricksEmulator,
    account: AccountClient,
}

impl Env {
    async fn start() -> Env {
        Env::start_with(DatabricksEmulatorConfig::default()).await
    }

    async fn start_with(config: DatabricksEmulatorConfig) -> Env {
        let emulator = DatabricksEmulator::start_with(config).await.unwrap();
        let account =
            AccountClient::new(&emulator.url(), &unique_account_id(), oauth(), fast_retry())
                .unwrap();
        Env {
            _emulator: emulator,
            account,
        }
    }

    fn id(&self) -> &str {
        self.account.account_id()
    }

    fn provider(&self) -> DatabricksProvider {
        provider_of(&self.account)
    }
}

fn provider_of(account: &AccountClient) -> DatabricksProvider {
    DatabricksProvider::new(
        account.clone(),
        oauth(),
        fast_retry(),
        MemorySecrets::new(),
        "test",
    )
}

fn request(kind: &str, attributes: &Value, lookup: ObjectLookup) -> CreateRequest {
    CreateRequest {
        address: format!("{kind}.test"),
        kind: kind.to_string(),
        attributes: attributes.as_object().unwrap().clone(),
        lookup,
    }
}

fn named(name: &str) -> ObjectLookup {
    ObjectLookup {
        name: Some(name.to_string()),
        ..ObjectLookup::default()
    }
}

/// Creates through the provider, checks every desired attribute comes back as given and a read
/// returns exactly the create's answer.
async fn create_and_read(
    p: &DatabricksProvider,
    kind: &str,
    attributes: &Value,
    lookup: ObjectLookup,
) -> Observed {
    let created = p
        .create(&request(kind, attributes, lookup))
        .await
        .unwrap_or_else(|e| panic!("create {kind}: {e}"));
    for (name, value) in attributes.as_object().unwrap() {
        assert_eq!(created.attributes.get(name), Some(value), "{kind}.{name}");
    }
    let read = p.read(kind, &created.object_id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&created), "{kind}: read after create");
    created
}

/// Deletes, checks the object reads as gone, and that a second delete succeeds.
async fn delete_twice(p: &DatabricksProvider, kind: &str, object_id: &str) {
    p.delete(kind, object_id).await.unwrap();
    assert_eq!(
        p.read(kind, object_id).await.unwrap(),
        None,
        "{kind}: read after delete"
    );
    p.delete(kind, object_id)
        .await
        .unwrap_or_else(|e| panic!("{kind}: second delete: {e}"));
}

fn network(name: &str, n: u8) -> NewNetwork {
    NewNetwork {
        network_name: name.into(),
        vpc_id: "vpc-0a".into(),
        subnet_ids: vec![format!("subnet-{n}a"), format!("subnet-{n}b")],
        security_group_ids: vec![format!("sg-{n}")],
        vpc_endpoints: None,
    }
}

fn storage(name: &str) -> NewStorageConfiguration {
    NewStorageConfiguration {
        storage_configuration_name: name.into(),
        root_bucket_info: RootBucketInfo {
            bucket_name: Some("root-bucket".into()),
        },
        role_arn: None,
    }
}

fn storage_key() -> NewCustomerManagedKey {
    NewCustomerManagedKey {
        use_cases: vec!["STORAGE".into()],
        aws_key_info: AwsKeyInfo {
            key_arn: KEY.into(),
            key_alias: Some("alias/ws".into()),
            ..AwsKeyInfo::default()
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Typed API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn provisioning_configurations_through_the_typed_api() {
    let env = Env::start().await;
    let a = &env.account;

    let credential = a.create_credential("creds", ROLE).await.unwrap();
    assert_eq!(credential.role_arn(), Some(ROLE));
    assert_eq!(
        a.get_credential(&credential.credentials_id).await.unwrap(),
        Some(credential.clone())
    );
    assert_eq!(
        a.list_credentials().await.unwrap(),
        vec![credential.clone()]
    );
    let duplicate = a.create_credential("creds", ROLE).await.unwrap_err();
    assert_eq!(duplicate.code(), "RESOURCE_ALREADY_EXISTS", "{duplicate}");

    let stored = a
        .create_storage_configuration(&storage("root"))
        .await
        .unwrap();
    assert_eq!(
        stored.root_bucket_info.bucket_name.as_deref(),
        Some("root-bucket")
    );
    assert_eq!(
        a.get_storage_configuration(&stored.storage_configuration_id)
            .await
            .unwrap(),
        Some(stored.clone())
    );
    assert_eq!(a.list_storage_configurations().await.unwrap().len(), 1);

    let net = a.create_network(&network("net", 1)).await.unwrap();
    assert_eq!(net.vpc_status.as_deref(), Some("UNATTACHED"));
    assert!(net.error_messages.is_empty() && net.warning_messages.is_empty());
    assert_eq!(
        a.get_network(&net.network_id).await.unwrap(),
        Some(net.clone())
    );
    assert_eq!(a.list_networks().await.unwrap().len(), 1);

    let key = a.create_customer_managed_key(&storage_key()).await.unwrap();
    let info = key.aws_key_info.clone().unwrap();
    // The vendor's defaults, filled in.
    assert_eq!(info.key_region.as_deref(), Some("eu-west-1"));
    assert_eq!(info.reuse_key_for_cluster_volumes, Some(true));
    assert_eq!(
        a.get_customer_managed_key(&key.customer_managed_key_id)
            .await
            .unwrap(),
        Some(key.clone())
    );
    assert_eq!(a.list_customer_managed_keys().await.unwrap().len(), 1);

    a.delete_credential(&credential.credentials_id)
        .await
        .unwrap();
    a.delete_storage_configuration(&stored.storage_configuration_id)
        .await
        .unwrap();
    a.delete_network(&net.network_id).await.unwrap();
    a.delete_customer_managed_key(&key.customer_managed_key_id)
        .await
        .unwrap();
    assert_eq!(
        a.get_credential(&credential.credentials_id).await.unwrap(),
        None
    );
    assert_eq!(
        a.get_storage_configuration(&stored.storage_configuration_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(a.get_network(&net.network_id).await.unwrap(), None);
    assert_eq!(
        a.get_customer_managed_key(&key.customer_managed_key_id)
            .await
            .unwrap(),
        None
    );
    let again = a
        .delete_credential(&credential.credentials_id)
        .await
        .unwrap_err();
    assert!(again.is_not_found(), "{again}");
}

#[tokio::test]
async fn a_workspace_is_created_waited_for_updated_and_deleted() {
    let delay = Duration::from_millis(300);
    let env = Env::start_with(DatabricksEmulatorConfig {
        provisioning: brickstack_databricks_emulator::account::Provisioning { delay, polls: 2 },
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let a = &env.account;
    let first = a.create_credential("creds-1", ROLE).await.unwrap();
    let second = a.create_credential("creds-2", ROLE).await.unwrap();
    let stored = a
        .create_storage_configuration(&storage("root"))
        .await
        .unwrap();
    let net = a.create_network(&network("net", 1)).await.unwrap();

    let started = Instant::now();
    let created = a
        .create_workspace(&NewWorkspace {
            workspace_name: "ws".into(),
            deployment_name: Some("acme-ws".into()),
            aws_region: "eu-west-1".into(),
            credentials_id: Some(first.credentials_id.clone()),
            storage_configuration_id: Some(stored.storage_configuration_id.clone()),
            network_id: Some(net.network_id.clone()),
            custom_tags: Some(BTreeMap::from([("team".into(), "data".into())])),
            ..NewWorkspace::default()
        })
        .await
        .unwrap();
    assert_eq!(created.workspace_status.as_deref(), Some("PROVISIONING"));
    let running = a
        .wait_running(created.workspace_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= delay,
        "returned before the emulator's delay"
    );
    assert_eq!(running.workspace_status.as_deref(), Some("RUNNING"));
    assert_eq!(running.deployment_name.as_deref(), Some("acme-ws"));
    let attached = a.get_network(&net.network_id).await.unwrap().unwrap();
    assert_eq!(attached.workspace_id, Some(created.workspace_id));
    assert_eq!(attached.vpc_status.as_deref(), Some("VALID"));

    // The emulator applies exactly the fields named in `update_mask`.
    let tags = BTreeMap::from([("team".into(), "platform".into())]);
    a.update_workspace(
        created.workspace_id,
        &WorkspaceUpdate {
            credentials_id: Some(second.credentials_id.clone()),
            custom_tags: Some(tags.clone()),
            ..WorkspaceUpdate::default()
        },
    )
    .await
    .unwrap();
    let updated = a
        .wait_running(created.workspace_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(updated.credentials_id, Some(second.credentials_id.clone()));
    assert_eq!(updated.custom_tags, Some(tags));
    assert_eq!(updated.network_id, Some(net.network_id.clone()));
    // Nothing to change is no call at all.
    a.update_workspace(created.workspace_id, &WorkspaceUpdate::default())
        .await
        .unwrap();

    let listed = a.list_workspaces().await.unwrap();
    assert_eq!(listed.len(), 1);
    a.delete_workspace(created.workspace_id).await.unwrap();
    a.wait_deleted(created.workspace_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(a.get_workspace(created.workspace_id).await.unwrap(), None);
    // Waiting for a workspace that is not there to run says so.
    let gone = a
        .wait_running(created.workspace_id, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(gone, WaitError::Gone { .. }), "{gone}");
}

#[tokio::test]
async fn the_wait_for_running_gives_up_after_its_timeout() {
    let env = Env::start_with(DatabricksEmulatorConfig {
        provisioning: brickstack_databricks_emulator::account::Provisioning {
            delay: Duration::from_secs(3600),
            polls: 0,
        },
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let a = &env.account;
    let creds = a.create_credential("creds", ROLE).await.unwrap();
    let stored = a
        .create_storage_configuration(&storage("root"))
        .await
        .unwrap();
    let created = a
        .create_workspace(&NewWorkspace {
            workspace_name: "slow".into(),
            aws_region: "eu-west-1".into(),
            credentials_id: Some(creds.credentials_id),
            storage_configuration_id: Some(stored.storage_configuration_id),
            ..NewWorkspace::default()
        })
        .await
        .unwrap();
    let started = Instant::now();
    let timeout = a
        .wait_running(created.workspace_id, Duration::from_millis(600))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match timeout {
        WaitError::Timeout { status, .. } => assert_eq!(status, "PROVISIONING"),
        other => panic!("expected a timeout, got {other}"),
    }
}

#[tokio::test]
async fn a_failed_workspace_is_explained_with_its_network_errors() {
    let fake = FakeAccount::start().await;
    let account = fake.client();
    let failed = account
        .wait_running(FAILED_WORKSPACE, Duration::from_secs(10))
        .await
        .unwrap_err();
    let WaitError::Failed {
        status,
        network_errors,
        ..
    } = &failed
    else {
        panic!("expected a failure, got {failed}");
    };
    assert_eq!(status, "FAILED");
    assert_eq!(network_errors.as_ref().unwrap().len(), 2);
    let text = failed.to_string();
    for part in [
        "Workspace failed to launch: subnets unreachable",
        "network `net-1` errors",
        "subnet: Subnet subnet-1 has no route to the NAT gateway",
        "securityGroup: Security group sg-1 lacks egress",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
}

#[tokio::test]
async fn log_delivery_is_created_listed_by_status_and_disabled() {
    let env = Env::start().await;
    let a = &env.account;
    let creds = a.create_credential("logs", ROLE).await.unwrap();
    let stored = a
        .create_storage_configuration(&storage("logs"))
        .await
        .unwrap();
    let new = |name: &str, log_type: &str, format: &str| NewLogDeliveryConfiguration {
        config_name: Some(name.into()),
        log_type: log_type.into(),
        output_format: format.into(),
        credentials_id: creds.credentials_id.clone(),
        storage_configuration_id: stored.storage_configuration_id.clone(),
        delivery_path_prefix: Some("billable-usage/dev".into()),
        delivery_start_time: None,
        status: None,
        workspace_ids_filter: vec![1234567890123456],
    };
    let billable = a
        .create_log_delivery(&new("billable", "BILLABLE_USAGE", "CSV"))
        .await
        .unwrap();
    let audit = a
        .create_log_delivery(&new("audit", "AUDIT_LOGS", "JSON"))
        .await
        .unwrap();
    assert!(billable.is_enabled());
    assert_eq!(billable.workspace_ids_filter, vec![1234567890123456]);
    assert_eq!(
        a.get_log_delivery(&billable.config_id).await.unwrap(),
        Some(billable.clone())
    );

    let enabled = LogDeliveryFilter {
        status: Some(Status::Enabled),
        ..LogDeliveryFilter::default()
    };
    let disabled = LogDeliveryFilter {
        status: Some(Status::Disabled),
        ..LogDeliveryFilter::default()
    };
    assert_eq!(a.list_log_delivery(&enabled).await.unwrap().len(), 2);
    a.set_log_delivery_status(&audit.config_id, Status::Disabled)
        .await
        .unwrap();
    let still_enabled = a.list_log_delivery(&enabled).await.unwrap();
    assert_eq!(still_enabled.len(), 1);
    assert_eq!(still_enabled[0].config_id, billable.config_id);
    let now_disabled = a.list_log_delivery(&disabled).await.unwrap();
    assert_eq!(now_disabled.len(), 1);
    assert!(!now_disabled[0].is_enabled());
    // Disabled is not deleted: the API has no DELETE.
    let kept = a.get_log_delivery(&audit.config_id).await.unwrap().unwrap();
    assert_eq!(kept.status.as_deref(), Some("DISABLED"));
    assert_eq!(a.get_log_delivery("no-such-config").await.unwrap(), None);
}

#[tokio::test]
async fn log_delivery_listings_follow_every_page() {
    let fake = FakeAccount::start().await;
    let account = fake.client();
    let filter = LogDeliveryFilter {
        status: Some(Status::Enabled),
        ..LogDeliveryFilter::default()
    };
    let all = account.list_log_delivery(&filter).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|c| c.config_id.as_str()).collect();
    assert_eq!(ids, vec!["config-1", "config-2"]);
    let queries = fake.state.log_queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 2);
    assert_eq!(
        queries[0].get("status").map(String::as_str),
        Some("ENABLED")
    );
    assert_eq!(queries[0].get("page_token"), None);
    assert_eq!(
        queries[1].get("status").map(String::as_str),
        Some("ENABLED")
    );
    assert_eq!(
        queries[1].get("page_token").map(String::as_str),
        Some("page-2")
    );
}

/// Against a small fake that pages by two, so the SCIM paging of the typed calls runs too; the
/// emulator test below covers the same calls against brickstack's emulator.
#[tokio::test]
async fn account_service_principals_and_their_oauth_secrets() {
    let fake = FakeAccount::start().await;
    let a = fake.client();
    let mut made = Vec::new();
    for name in ["deployer", "reader", "writer"] {
        made.push(
            a.create_service_principal(&NewServicePrincipal {
                display_name: name.into(),
                active: Some(true),
                ..NewServicePrincipal::default()
            })
            .await
            .unwrap(),
        );
    }
    let deployer = &made[0];
    assert_eq!(deployer.display_name.as_deref(), Some("deployer"));
    assert!(deployer.application_id.is_some());
    assert_eq!(
        a.get_service_principal(&deployer.id)
            .await
            .unwrap()
            .as_ref(),
        Some(deployer)
    );
    // The fake pages by two: three principals take two pages.
    assert_eq!(a.list_service_principals(None).await.unwrap(), made);
    let filtered = a
        .list_service_principals(Some(&scim_eq("displayName", "reader")))
        .await
        .unwrap();
    assert_eq!(filtered, vec![made[1].clone()]);

    a.patch_service_principal(
        &deployer.id,
        &[PatchOperation {
            op: "replace".into(),
            path: Some("active".into()),
            value: Some(json!(false)),
        }],
    )
    .await
    .unwrap();
    let patched = a
        .get_service_principal(&deployer.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.active, Some(false));

    let secret = a
        .create_service_principal_secret(&deployer.id, Some(Duration::from_secs(86_400)))
        .await
        .unwrap();
    assert_eq!(secret.secret.expose(), "dose-secret-1");
    assert!(
        !format!("{secret:?}").contains("dose-secret-1"),
        "a created secret prints its value"
    );
    assert_eq!(
        fake.state.secret_lifetimes.lock().unwrap().clone(),
        vec![Some("86400s".to_string())]
    );
    let listed = a
        .list_service_principal_secrets(&deployer.id)
        .await
        .unwrap();
    assert_eq!(listed, vec![secret.info.clone()]);
    a.delete_service_principal_secret(&deployer.id, &secret.info.id)
        .await
        .unwrap();
    assert!(
        a.list_service_principal_secrets(&deployer.id)
            .await
            .unwrap()
            .is_empty()
    );

    a.delete_service_principal(&deployer.id).await.unwrap();
    assert_eq!(a.get_service_principal(&deployer.id).await.unwrap(), None);
    let again = a.delete_service_principal(&deployer.id).await.unwrap_err();
    assert!(again.is_not_found(), "{again}");
}

/// The same calls against the emulator, and the minted secret authenticates its principal at the
/// account's token endpoint (a principal without the `account_admin` role is then refused with
/// 403, not 401: it authenticated).
#[tokio::test]
async fn an_account_service_principal_secret_authenticates_against_the_emulator() {
    let env = Env::start().await;
    let a = &env.account;
    let sp = a
        .create_service_principal(&NewServicePrincipal {
            display_name: "bs-reader".into(),
            active: Some(true),
            ..NewServicePrincipal::default()
        })
        .await
        .unwrap();
    let application_id = sp.application_id.clone().expect("an application id");
    let found = a
        .list_service_principals(Some(&scim_eq("displayName", "bs-reader")))
        .await
        .unwrap();
    assert_eq!(found, vec![sp.clone()]);
    let secret = a
        .create_service_principal_secret(&sp.id, Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    assert!(!format!("{secret:?}").contains(secret.secret.expose()));
    assert_eq!(
        a.list_service_principal_secrets(&sp.id).await.unwrap(),
        vec![secret.info.clone()]
    );

    let as_reader = AccountClient::new(
        a.client().host(),
        env.id(),
        Credentials::OAuthM2m {
            client_id: application_id,
            client_secret: secret.secret.clone(),
        },
        fast_retry(),
    )
    .unwrap();
    let refused = as_reader.list_workspaces().await.unwrap_err();
    assert_eq!(
        refused.api().map(|e| e.status),
        Some(403),
        "authenticated, but not an account admin: {refused}"
    );

    a.delete_service_principal_secret(&sp.id, &secret.info.id)
        .await
        .unwrap();
    let as_revoked = AccountClient::new(
        a.client().host(),
        env.id(),
        Credentials::OAuthM2m {
            client_id: sp.application_id.clone().unwrap(),
            client_secret: secret.secret.clone(),
        },
        fast_retry(),
    )
    .unwrap();
    let e = as_revoked.list_workspaces().await.unwrap_err();
    assert_eq!(
        e.kind(),
        brickstack_databricks::ErrorKind::Unauthenticated,
        "{e}"
    );
    assert!(!e.to_string().contains(secret.secret.expose()));
    a.delete_service_principal(&sp.id).await.unwrap();
    assert_eq!(a.get_service_principal(&sp.id).await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Kinds, through the provider
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn credentials_storage_networks_and_keys_live_and_die_through_the_provider() {
    let env = Env::start().await;
    let p = env.provider();
    let id = env.id();

    let cases = [
        (
            "databricks_mws_credentials",
            json!({ "account_id": id, "credentials_name": "dev-creds", "role_arn": ROLE }),
            Some("dev-creds"),
            "credentials_id",
        ),
        (
            "databricks_mws_storage_configurations",
            json!({ "account_id": id, "storage_configuration_name": "dev-storage", "bucket_name": "dev-root" }),
            Some("dev-storage"),
            "storage_configuration_id",
        ),
        (
            "databricks_mws_networks",
            json!({
                "account_id": id, "network_name": "dev-network", "vpc_id": "vpc-1",
                "subnet_ids": ["subnet-b", "subnet-a"], "security_group_ids": ["sg-1"]
            }),
            Some("dev-network"),
            "network_id",
        ),
        (
            "databricks_mws_customer_managed_keys",
            json!({
                "account_id": id, "use_cases": ["STORAGE"],
                "aws_key_info": { "key_arn": KEY, "key_alias": "alias/dev" }
            }),
            None,
            "customer_managed_key_id",
        ),
    ];
    for (kind, attributes, name, id_attribute) in &cases {
        let lookup = name.map(named).unwrap_or_default();
        let created = create_and_read(&p, kind, attributes, lookup.clone()).await;
        assert_eq!(
            created.attributes.get(*id_attribute),
            Some(&json!(created.object_id)),
            "{kind}"
        );
        assert!(created.attributes.contains_key("creation_time"), "{kind}");
        // Nothing forces an update on an immutable kind.
        let schema = p.schema(kind).unwrap();
        for attribute in attributes.as_object().unwrap().keys() {
            assert_eq!(
                schema.behaviour(attribute),
                brickstack_provider::AttributeBehaviour::ForcesReplacement,
                "{kind}.{attribute}"
            );
        }
        // A create whose answer was lost is found by its name.
        let found = p.find(kind, &lookup).await.unwrap();
        match name {
            Some(_) => assert_eq!(found.as_ref(), Some(&created), "{kind}: find"),
            None => assert_eq!(found, None, "{kind}: nothing identifies it"),
        }
        delete_twice(&p, kind, &created.object_id).await;
        assert_eq!(p.find(kind, &lookup).await.unwrap(), None, "{kind}");
    }
}

#[tokio::test]
async fn a_network_reports_the_platform_verdict_as_computed_attributes() {
    let env = Env::start().await;
    let p = env.provider();
    let attributes = json!({
        "account_id": env.id(), "network_name": "n", "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-1", "subnet-2"], "security_group_ids": ["sg-1"],
        "vpc_endpoints": { "rest_api": ["vpce-reg-1"], "dataplane_relay": ["vpce-reg-2"] }
    });
    let created = create_and_read(&p, "databricks_mws_networks", &attributes, named("n")).await;
    assert_eq!(created.attributes["vpc_status"], json!("UNATTACHED"));
    assert_eq!(created.attributes["error_messages"], json!([]));
    assert_eq!(created.attributes["warning_messages"], json!([]));
    let schema = p.schema("databricks_mws_networks").unwrap();
    assert!(schema.same_value(
        "subnet_ids",
        &json!(["subnet-2", "subnet-1"]),
        &created.attributes["subnet_ids"]
    ));
}

#[tokio::test]
async fn an_attribute_for_another_account_is_refused() {
    let env = Env::start().await;
    let p = env.provider();
    let error = p
        .create(&request(
            "databricks_mws_credentials",
            &json!({ "account_id": "someone-else", "credentials_name": "c", "role_arn": ROLE }),
            named("c"),
        ))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::InvalidInput);
    assert!(error.message.contains("someone-else"), "{error}");
    assert!(env.account.list_credentials().await.unwrap().is_empty());

    let malformed = p
        .create(&request(
            "databricks_mws_credentials",
            &json!({ "account_id": env.id(), "credentials_name": "c", "role_arn": "not-an-arn" }),
            named("c"),
        ))
        .await
        .unwrap_err();
    assert_eq!(malformed.class, ErrorClass::InvalidInput, "{malformed}");
}

#[tokio::test]
async fn a_role_not_propagated_yet_is_retryable() {
    let fake = FakeAccount::start().await;
    let account = fake.client();
    let p = provider_of(&account);
    let error = p
        .create(&request(
            "databricks_mws_credentials",
            &json!({ "account_id": FAKE_ACCOUNT, "credentials_name": "c", "role_arn": ROLE }),
            named("c"),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(error.class, ErrorClass::Retryable { after: Some(_) }),
        "{error:?}"
    );
    assert_eq!(error.code, "MALFORMED_REQUEST");
}

#[tokio::test]
async fn log_delivery_lives_and_dies_through_the_provider() {
    let env = Env::start().await;
    let p = env.provider();
    let a = &env.account;
    let creds = a.create_credential("logs", ROLE).await.unwrap();
    let stored = a
        .create_storage_configuration(&storage("logs"))
        .await
        .unwrap();
    let kind = "databricks_mws_log_delivery";
    let attributes = json!({
        "account_id": env.id(),
        "config_name": "dev Billable Logs",
        "log_type": "BILLABLE_USAGE",
        "output_format": "CSV",
        "delivery_path_prefix": "billable-usage/dev",
        "credentials_id": creds.credentials_id,
        "storage_configuration_id": stored.storage_configuration_id,
        "workspace_ids_filter": [1234567890123456_i64],
    });
    let lookup = named("dev Billable Logs");
    let created = create_and_read(&p, kind, &attributes, lookup.clone()).await;
    assert_eq!(created.attributes["config_id"], json!(created.object_id));
    assert_eq!(
        p.find(kind, &lookup).await.unwrap().as_ref(),
        Some(&created)
    );

    // Delete disables; a disabled configuration is gone for brickstack and never found again.
    delete_twice(&p, kind, &created.object_id).await;
    let kept = a
        .get_log_delivery(&created.object_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status.as_deref(), Some("DISABLED"));
    assert_eq!(p.find(kind, &lookup).await.unwrap(), None);

    // A create whose answer was lost is found among the enabled ones.
    let lost = a
        .create_log_delivery(&NewLogDeliveryConfiguration {
            config_name: Some("dev Billable Logs".into()),
            log_type: "BILLABLE_USAGE".into(),
            output_format: "CSV".into(),
            credentials_id: creds.credentials_id.clone(),
            storage_configuration_id: stored.storage_configuration_id.clone(),
            delivery_path_prefix: Some("billable-usage/dev".into()),
            delivery_start_time: None,
            status: None,
            workspace_ids_filter: vec![1234567890123456],
        })
        .await
        .unwrap();
    let found = p.find(kind, &lookup).await.unwrap().unwrap();
    assert_eq!(found.object_id, lost.config_id);
    assert_eq!(
        p.read(kind, &lost.config_id).await.unwrap().as_ref(),
        Some(&found)
    );
}

#[tokio::test]
async fn a_workspace_lives_updates_and_dies_through_the_provider() {
    // More unavailable answers than one call's retry budget absorbs: the create's own wait for
    // the workspace to answer must carry on through the failed calls.
    let workspaces = FakeWorkspaces::start(12).await;
    let env = Env::start_with(DatabricksEmulatorConfig {
        workspace_url_template: Some(format!("{}/w/{{workspace_id}}", workspaces.url)),
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let p = env.provider();
    let a = &env.account;
    let first = a.create_credential("creds-1", ROLE).await.unwrap();
    let second = a.create_credential("creds-2", ROLE).await.unwrap();
    let stored = a
        .create_storage_configuration(&storage("root"))
        .await
        .unwrap();
    let net = a.create_network(&network("net", 1)).await.unwrap();
    let key = a.create_customer_managed_key(&storage_key()).await.unwrap();

    let kind = "databricks_mws_workspaces";
    let tags = json!({
        "brickstack:environment": "dev",
        "brickstack:address": "databricks_mws_workspaces.this",
    });
    let mut attributes = json!({
        "account_id": env.id(),
        "workspace_name": "dev",
        "aws_region": "eu-west-1",
        "pricing_tier": "PREMIUM",
        "credentials_id": first.credentials_id,
        "storage_configuration_id": stored.storage_configuration_id,
        "network_id": net.network_id,
        "storage_customer_managed_key_id": key.customer_managed_key_id,
        "custom_tags": tags,
    });
    let lookup = ObjectLookup {
        name: Some("dev".into()),
        tags: serde_json::from_value(tags.clone()).unwrap(),
        scope: None,
    };
    let created = create_and_read(&p, kind, &attributes, lookup.clone()).await;
    let workspace_id = created.attributes["workspace_id"].as_i64().unwrap();
    assert_eq!(created.object_id, workspace_id.to_string());
    assert_eq!(
        created.attributes["workspace_url"],
        json!(format!("{}/w/{workspace_id}", workspaces.url))
    );
    assert!(created.attributes["deployment_name"].is_string());
    // The create waited through the new workspace's unavailable answers to SCIM `Me`.
    assert!(
        workspaces.state.me_calls.load(Ordering::SeqCst) > 12,
        "the workspace was not waited for"
    );
    assert!(workspaces.state.me_authenticated.load(Ordering::SeqCst));

    // Updatable in place: the credentials and the tags.
    attributes["credentials_id"] = json!(second.credentials_id);
    attributes["custom_tags"]["team"] = json!("data");
    let updated = p
        .update(kind, &created.object_id, attributes.as_object().unwrap())
        .await
        .unwrap();
    assert_eq!(
        updated.attributes["credentials_id"],
        json!(second.credentials_id)
    );
    assert_eq!(updated.attributes["custom_tags"], attributes["custom_tags"]);
    assert_eq!(
        p.read(kind, &created.object_id).await.unwrap().as_ref(),
        Some(&updated)
    );
    // An update that changes nothing is harmless.
    let same = p
        .update(kind, &created.object_id, attributes.as_object().unwrap())
        .await
        .unwrap();
    assert_eq!(same, updated);
    // The pricing tier cannot be PATCHed: it forces replacement, and update refuses it.
    let schema = p.schema(kind).unwrap();
    for (attribute, behaviour) in [
        (
            "pricing_tier",
            brickstack_provider::AttributeBehaviour::ForcesReplacement,
        ),
        (
            "workspace_name",
            brickstack_provider::AttributeBehaviour::ForcesReplacement,
        ),
        (
            "credentials_id",
            brickstack_provider::AttributeBehaviour::Updatable,
        ),
        (
            "custom_tags",
            brickstack_provider::AttributeBehaviour::Updatable,
        ),
        (
            "workspace_url",
            brickstack_provider::AttributeBehaviour::Computed,
        ),
    ] {
        assert_eq!(schema.behaviour(attribute), behaviour, "{attribute}");
    }
    let mut enterprise = attributes.clone();
    enterprise["pricing_tier"] = json!("ENTERPRISE");
    let refused = p
        .update(kind, &created.object_id, enterprise.as_object().unwrap())
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::InvalidInput, "{refused}");

    // Found by name and brickstack's tags, never by name alone.
    let found = p.find(kind, &lookup).await.unwrap();
    assert_eq!(found.as_ref(), Some(&updated));
    let elsewhere = ObjectLookup {
        tags: BTreeMap::from([("brickstack:environment".into(), "prod".into())]),
        ..lookup.clone()
    };
    assert_eq!(p.find(kind, &elsewhere).await.unwrap(), None);

    delete_twice(&p, kind, &created.object_id).await;
    assert_eq!(p.find(kind, &lookup).await.unwrap(), None);
}

#[tokio::test]
async fn a_workspace_whose_create_answer_was_lost_is_found_and_waited_for() {
    let workspaces = FakeWorkspaces::start(0).await;
    let env = Env::start_with(DatabricksEmulatorConfig {
        workspace_url_template: Some(format!("{}/w/{{workspace_id}}", workspaces.url)),
        provisioning: brickstack_databricks_emulator::account::Provisioning {
            delay: Duration::from_millis(200),
            polls: 2,
        },
        ..DatabricksEmulatorConfig::default()
    })
    .await;
    let p = env.provider();
    let a = &env.account;
    let creds = a.create_credential("creds", ROLE).await.unwrap();
    let stored = a
        .create_storage_configuration(&storage("root"))
        .await
        .unwrap();
    let tags = BTreeMap::from([
        ("brickstack:environment".to_string(), "dev".to_string()),
        (
            "brickstack:address".to_string(),
            "databricks_mws_workspaces.this".to_string(),
        ),
    ]);
    let lost = a
        .create_workspace(&NewWorkspace {
            workspace_name: "dev".into(),
            aws_region: "eu-west-1".into(),
            credentials_id: Some(creds.credentials_id),
            storage_configuration_id: Some(stored.storage_configuration_id),
            custom_tags: Some(tags.clone()),
            ..NewWorkspace::default()
        })
        .await
        .unwrap();
    let lookup = ObjectLookup {
        name: Some("dev".into()),
        tags,
        scope: None,
    };
    let found = p
        .find("databricks_mws_workspaces", &lookup)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.object_id, lost.workspace_id.to_string());
    let now = a.get_workspace(lost.workspace_id).await.unwrap().unwrap();
    assert_eq!(now.workspace_status.as_deref(), Some("RUNNING"));
    assert!(workspaces.state.me_calls.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn a_workspace_that_fails_to_provision_is_deleted_and_explained() {
    let fake = FakeAccount::start().await;
    let p = provider_of(&fake.client());
    let error = p
        .create(&request(
            "databricks_mws_workspaces",
            &json!({
                "account_id": FAKE_ACCOUNT, "workspace_name": "doomed", "aws_region": "eu-west-1",
                "credentials_id": "c", "storage_configuration_id": "s", "network_id": "net-1"
            }),
            named("doomed"),
        ))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Fatal, "{error}");
    assert_eq!(error.code, "WorkspaceFailed");
    assert!(
        error
            .message
            .contains("Subnet subnet-1 has no route to the NAT gateway"),
        "{error}"
    );
    assert!(error.message.contains("it was deleted"), "{error}");
    assert!(fake.state.failed_deleted.load(Ordering::SeqCst));
}

// ---------------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------------

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn token() -> Json<Value> {
    Json(json!({ "access_token": "fake-token", "token_type": "Bearer", "expires_in": 3600 }))
}

/// Where the emulator's workspace URLs point: `/w/{id}/oidc/v1/token` and SCIM `Me`, which
/// answers 503 `unavailable_first` times before it answers.
struct FakeWorkspaces {
    url: String,
    state: Arc<WorkspacesState>,
}

#[derive(Default)]
struct WorkspacesState {
    unavailable_first: usize,
    me_calls: AtomicUsize,
    me_authenticated: AtomicBool,
}

impl FakeWorkspaces {
    async fn start(unavailable_first: usize) -> FakeWorkspaces {
        let state = Arc::new(WorkspacesState {
            unavailable_first,
            ..WorkspacesState::default()
        });
        let router = axum::Router::new()
            .route("/w/{id}/oidc/v1/token", post(|| async { token() }))
            .route("/w/{id}/api/2.0/preview/scim/v2/Me", get(me))
            .with_state(state.clone());
        FakeWorkspaces {
            url: serve(router).await,
            state,
        }
    }
}

async fn me(State(state): State<Arc<WorkspacesState>>, headers: HeaderMap) -> Response {
    let calls = state.me_calls.fetch_add(1, Ordering::SeqCst);
    if calls < state.unavailable_first {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error_code": "TEMPORARILY_UNAVAILABLE", "message": "starting" })),
        )
            .into_response();
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Bearer fake-token");
    state.me_authenticated.store(bearer, Ordering::SeqCst);
    Json(json!({ "userName": "sp" })).into_response()
}

const FAKE_ACCOUNT: &str = "fake-account";
const FAILED_WORKSPACE: i64 = 42;

/// What the account emulator cannot produce (see the file's documentation).
struct FakeAccount {
    url: String,
    state: Arc<AccountState>,
}

#[derive(Default)]
struct AccountState {
    log_queries: Mutex<Vec<HashMap<String, String>>>,
    principals: Mutex<Vec<Value>>,
    secrets: Mutex<Vec<(String, Value)>>,
    secret_lifetimes: Mutex<Vec<Option<String>>>,
    next_id: AtomicU64,
    failed_deleted: AtomicBool,
}

type Shared = State<Arc<AccountState>>;

impl FakeAccount {
    async fn start() -> FakeAccount {
        let state = Arc::new(AccountState::default());
        let base = "/api/2.0/accounts/{account}";
        let router = axum::Router::new()
            .route(
                "/oidc/accounts/{account}/v1/token",
                post(|| async { token() }),
            )
            .route(&format!("{base}/credentials"), post(refuse_role))
            .route(&format!("{base}/workspaces"), post(create_doomed))
            .route(
                &format!("{base}/workspaces/{{id}}"),
                get(failed_workspace).delete(delete_failed),
            )
            .route(&format!("{base}/networks/{{id}}"), get(broken_network))
            .route(&format!("{base}/log-delivery"), get(log_delivery_page))
            .route(
                &format!("{base}/scim/v2/ServicePrincipals"),
                post(create_principal).get(list_principals),
            )
            .route(
                &format!("{base}/scim/v2/ServicePrincipals/{{id}}"),
                get(get_principal)
                    .patch(patch_principal)
                    .delete(delete_principal),
            )
            .route(
                &format!("{base}/servicePrincipals/{{id}}/credentials/secrets"),
                post(create_secret).get(list_secrets),
            )
            .route(
                &format!("{base}/servicePrincipals/{{id}}/credentials/secrets/{{secret}}"),
                delete(delete_secret),
            )
            .with_state(state.clone());
        FakeAccount {
            url: serve(router).await,
            state,
        }
    }

    fn client(&self) -> AccountClient {
        AccountClient::new(&self.url, FAKE_ACCOUNT, oauth(), fast_retry()).unwrap()
    }
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error_code": code, "message": message })),
    )
        .into_response()
}

fn scim_not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "detail": format!("Service principal {id} not found"),
            "status": "404"
        })),
    )
        .into_response()
}

/// What the vendor answers while the cross-account role cannot be assumed yet (in plain text).
async fn refuse_role() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "text/plain; charset=utf-8")],
        "MALFORMED_REQUEST: Failed credential validation checks: please use a valid cross account IAM role with permissions setup correctly",
    )
        .into_response()
}

async fn create_doomed() -> Json<Value> {
    Json(json!({
        "workspace_id": FAILED_WORKSPACE, "workspace_name": "doomed", "deployment_name": "doomed",
        "aws_region": "eu-west-1", "network_id": "net-1", "workspace_status": "PROVISIONING"
    }))
}

async fn failed_workspace(State(state): Shared, Path((_, id)): Path<(String, i64)>) -> Response {
    if id != FAILED_WORKSPACE || state.failed_deleted.load(Ordering::SeqCst) {
        return api_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            "no such workspace",
        );
    }
    Json(json!({
        "workspace_id": id, "workspace_name": "doomed", "deployment_name": "doomed",
        "aws_region": "eu-west-1", "network_id": "net-1", "workspace_status": "FAILED",
        "workspace_status_message": "Workspace failed to launch: subnets unreachable"
    }))
    .into_response()
}

async fn delete_failed(State(state): Shared) -> Json<Value> {
    state.failed_deleted.store(true, Ordering::SeqCst);
    Json(json!({}))
}

async fn broken_network(Path((_, id)): Path<(String, String)>) -> Json<Value> {
    Json(json!({
        "network_id": id, "network_name": "broken", "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-1", "subnet-2"], "security_group_ids": ["sg-1"],
        "vpc_status": "BROKEN",
        "error_messages": [
            { "error_type": "subnet", "error_message": "Subnet subnet-1 has no route to the NAT gateway" },
            { "error_type": "securityGroup", "error_message": "Security group sg-1 lacks egress" }
        ],
        "warning_messages": []
    }))
}

/// Two pages of one configuration each.
async fn log_delivery_page(
    State(state): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    state.log_queries.lock().unwrap().push(query.clone());
    let config = |id: &str| {
        json!({
            "config_id": id, "config_name": id, "log_type": "AUDIT_LOGS", "output_format": "JSON",
            "credentials_id": "c", "storage_configuration_id": "s", "status": "ENABLED"
        })
    };
    match query.get("page_token").map(String::as_str) {
        None => Json(json!({
            "log_delivery_configurations": [config("config-1")],
            "next_page_token": "page-2"
        })),
        Some(_) => Json(json!({ "log_delivery_configurations": [config("config-2")] })),
    }
}

async fn create_principal(State(state): Shared, Json(body): Json<Value>) -> Json<Value> {
    let n = state.next_id.fetch_add(1, Ordering::SeqCst) + 1;
    let principal = json!({
        "id": format!("{}", 1000 + n),
        "applicationId": format!("00000000-0000-4000-8000-{n:012}"),
        "displayName": body["displayName"],
        "active": body.get("active").cloned().unwrap_or(json!(true)),
        "schemas": body["schemas"],
    });
    state.principals.lock().unwrap().push(principal.clone());
    Json(principal)
}

/// SCIM listing, two per page whatever `count` asks, filtered by `displayName eq "…"`.
async fn list_principals(
    State(state): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let wanted = query.get("filter").map(|f| {
        f.trim_start_matches("displayName eq \"")
            .trim_end_matches('"')
            .to_string()
    });
    let all: Vec<Value> = state
        .principals
        .lock()
        .unwrap()
        .iter()
        .filter(|p| wanted.as_ref().is_none_or(|w| p["displayName"] == json!(w)))
        .cloned()
        .collect();
    let start: usize = query
        .get("startIndex")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let page: Vec<Value> = all.iter().skip(start - 1).take(2).cloned().collect();
    Json(json!({
        "totalResults": all.len(), "startIndex": start, "itemsPerPage": page.len(),
        "Resources": page
    }))
}

async fn get_principal(State(state): Shared, Path((_, id)): Path<(String, String)>) -> Response {
    match state
        .principals
        .lock()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!(id))
    {
        Some(p) => Json(p.clone()).into_response(),
        None => scim_not_found(&id),
    }
}

async fn patch_principal(
    State(state): Shared,
    Path((_, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut principals = state.principals.lock().unwrap();
    let Some(principal) = principals.iter_mut().find(|p| p["id"] == json!(id)) else {
        return scim_not_found(&id);
    };
    for op in body["Operations"].as_array().cloned().unwrap_or_default() {
        if op["op"] == "replace"
            && let Some(path) = op["path"].as_str()
        {
            principal[path] = op["value"].clone();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_principal(State(state): Shared, Path((_, id)): Path<(String, String)>) -> Response {
    let mut principals = state.principals.lock().unwrap();
    let before = principals.len();
    principals.retain(|p| p["id"] != json!(id));
    if principals.len() == before {
        return scim_not_found(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn create_secret(
    State(state): Shared,
    Path((_, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let n = state.next_id.fetch_add(1, Ordering::SeqCst) + 1;
    state
        .secret_lifetimes
        .lock()
        .unwrap()
        .push(body["lifetime"].as_str().map(str::to_string));
    let info = json!({
        "id": format!("secret-{n}"), "secret_hash": "hash", "status": "ACTIVE",
        "create_time": "2026-01-01T00:00:00Z", "expire_time": "2026-01-02T00:00:00Z"
    });
    state.secrets.lock().unwrap().push((id, info.clone()));
    let mut answer = info;
    answer["secret"] = json!("dose-secret-1");
    Json(answer)
}

async fn list_secrets(State(state): Shared, Path((_, id)): Path<(String, String)>) -> Json<Value> {
    let secrets: Vec<Value> = state
        .secrets
        .lock()
        .unwrap()
        .iter()
        .filter(|(sp, _)| *sp == id)
        .map(|(_, s)| s.clone())
        .collect();
    Json(json!({ "secrets": secrets }))
}

async fn delete_secret(
    State(state): Shared,
    Path((_, id, secret)): Path<(String, String, String)>,
) -> Json<Value> {
    state
        .secrets
        .lock()
        .unwrap()
        .retain(|(sp, s)| !(*sp == id && s["id"] == json!(secret)));
    Json(json!({}))
}

/// The adapter is the one retry layer for its calls: a role the vendor cannot use yet is sent
/// again here (spaced by the server-delay the policy allows), not by the engine.
#[tokio::test]
async fn a_role_not_usable_yet_is_created_again_within_the_budget() {
    let emulator = DatabricksEmulator::start_with(DatabricksEmulatorConfig::default())
        .await
        .unwrap();
    let policy = RetryPolicy {
        budget: Duration::from_secs(2),
        max_server_delay: Duration::from_millis(20),
        ..fast_retry()
    };
    let account = AccountClient::new(
        &emulator.url(),
        &unique_account_id(),
        oauth(),
        policy.clone(),
    )
    .unwrap();
    let p = DatabricksProvider::new(
        account.clone(),
        oauth(),
        policy,
        MemorySecrets::new(),
        "test",
    );
    emulator
        .add_faults(vec![brickstack_databricks_emulator::FaultRule {
            method: Some("POST".into()),
            error_code: Some("INVALID_PARAMETER_VALUE".into()),
            message: Some(format!("Role {ROLE} cannot be assumed by Databricks")),
            times: Some(2),
            ..brickstack_databricks_emulator::FaultRule::status(
                format!("/api/2.0/accounts/{}/credentials", account.account_id()),
                400,
            )
        }])
        .unwrap();
    let created = p
        .create(&request(
            "databricks_mws_credentials",
            &json!({ "account_id": account.account_id(), "credentials_name": "c", "role_arn": ROLE }),
            named("c"),
        ))
        .await
        .unwrap();
    assert_eq!(
        emulator.faults().iter().map(|f| f.hits).collect::<Vec<_>>(),
        [2]
    );
    let listed = account.list_credentials().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(created.object_id, listed[0].credentials_id);
}
