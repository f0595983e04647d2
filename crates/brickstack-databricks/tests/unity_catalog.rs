//! The Unity Catalog and account-group kinds through the provider, against brickstack's
//! Databricks emulator (in this process):
//!
//! * each kind created as the graph describes it reads back in the same shape (no false drift),
//!   changes in place where the API allows (catalog comment and owner, metastore name, grants as
//!   a diff that leaves other principals alone), and is gone after delete;
//! * a create whose answer is lost (applied, then a 500) or throttled still leaves exactly one
//!   object: found by its name, or (grants, permission assignments, system schemas) sent again,
//!   as the engine does after a create that may have been applied.

mod emulator;

use brickstack_databricks::DatabricksProvider;
use brickstack_databricks::workspace::unity_catalog::grants::{PermissionsChange, SecurableType};
use brickstack_databricks_emulator::FaultRule;
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{CreateRequest, Observed, Provider};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use emulator::EmulatorWorkspace;
use serde_json::{Value, json};

fn request(kind: &str, attributes: Value) -> CreateRequest {
    let map = attributes.as_object().cloned().unwrap();
    let name = ["name", "display_name"]
        .iter()
        .find_map(|k| map.get(*k).and_then(Value::as_str).map(str::to_string));
    let scope = map
        .get("workspace_url")
        .and_then(Value::as_str)
        .map(str::to_string);
    CreateRequest {
        address: format!("{kind}.test"),
        kind: kind.into(),
        attributes: map,
        lookup: ObjectLookup {
            name,
            tags: Default::default(),
            scope,
        },
    }
}

/// The raw layer's key, as the graph refers to it.
const RAW_KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/bs-test-raw";

/// Creates, then checks a read gives back every desired attribute as created.
async fn create(p: &DatabricksProvider, kind: &str, attributes: Value) -> Observed {
    let request = request(kind, attributes);
    let created = p
        .create(&request)
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    reads_back(p, &request, created).await
}

/// `created` as a read reports it, every desired attribute as asked.
async fn reads_back(
    p: &DatabricksProvider,
    request: &CreateRequest,
    created: Observed,
) -> Observed {
    let kind = request.kind.as_str();
    let read = p
        .read(kind, &created.object_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{kind} `{}` does not read back", created.object_id));
    let schema = p.schema(kind).unwrap();
    for (name, desired) in &request.attributes {
        assert!(
            schema.same_value(name, desired, &read.attributes[name]),
            "{kind}.{name}: desired {desired}, read {}",
            read.attributes[name]
        );
        assert!(
            schema.same_value(name, desired, &created.attributes[name]),
            "{kind}.{name}: desired {desired}, created {}",
            created.attributes[name]
        );
    }
    created
}

/// What the engine does with a create: sent; if it failed but may have been applied, looked up
/// with `find` and adopted, else sent once more.
async fn create_as_the_engine(p: &DatabricksProvider, kind: &str, attributes: Value) -> Observed {
    let request = request(kind, attributes);
    let created = match p.create(&request).await {
        Ok(created) => created,
        Err(e) if e.maybe_applied => match p.find(kind, &request.lookup).await.unwrap() {
            Some(found) => found,
            None => p
                .create(&request)
                .await
                .unwrap_or_else(|e| panic!("{kind}, sent again: {e}")),
        },
        Err(e) => panic!("{kind}: {e}"),
    };
    reads_back(p, &request, created).await
}

struct Setup {
    ws: EmulatorWorkspace,
    p: DatabricksProvider,
    account_id: String,
    metastore: Observed,
    groups: [Observed; 2],
}

/// A workspace with a metastore assigned and two account groups.
async fn setup() -> Setup {
    let ws = EmulatorWorkspace::start().await;
    let p = ws.provider(MemorySecrets::new());
    let account_id = ws.account.account_id().to_string();
    let groups = [
        create(
            &p,
            "databricks_account_group",
            json!({"account_id": account_id, "display_name": unique_name("bs-analysts")}),
        )
        .await,
        create(
            &p,
            "databricks_account_group",
            json!({"account_id": account_id, "display_name": unique_name("bs-auditors")}),
        )
        .await,
    ];
    let metastore = create(
        &p,
        "databricks_metastore",
        json!({
            "account_id": account_id,
            "name": unique_name("bs-metastore"),
            "region": "eu-west-1",
            "storage_root": "s3://bs-test-metastore/metastore",
        }),
    )
    .await;
    create(
        &p,
        "databricks_metastore_assignment",
        json!({
            "account_id": account_id,
            "workspace_id": ws.workspace_id,
            "metastore_id": metastore.attributes["metastore_id"],
        }),
    )
    .await;
    Setup {
        ws,
        p,
        account_id,
        metastore,
        groups,
    }
}

fn display_name(group: &Observed) -> String {
    group.attributes["display_name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_unity_catalog_kind_reads_back_updates_in_place_and_deletes() {
    let Setup {
        ws,
        p,
        account_id,
        metastore,
        groups: [analysts, auditors],
    } = setup().await;
    let url = ws.url.clone();

    // Resending an assignment of the same metastore adopts it; another metastore is refused.
    let assignment = json!({
        "account_id": account_id,
        "workspace_id": ws.workspace_id,
        "metastore_id": metastore.attributes["metastore_id"],
    });
    p.create(&request("databricks_metastore_assignment", assignment))
        .await
        .unwrap();
    let other = json!({
        "account_id": account_id,
        "workspace_id": ws.workspace_id,
        "metastore_id": "another-metastore",
    });
    let refused = p
        .create(&request("databricks_metastore_assignment", other))
        .await
        .unwrap_err();
    assert_eq!(
        refused.class,
        brickstack_provider::ErrorClass::Conflict,
        "{refused}"
    );

    let permission = create(
        &p,
        "databricks_mws_permission_assignment",
        json!({
            "account_id": account_id,
            "workspace_id": ws.workspace_id,
            "principal_id": analysts.attributes["id"],
            "permissions": ["USER"],
        }),
    )
    .await;
    let credential = create(
        &p,
        "databricks_storage_credential",
        json!({
            "workspace_url": url,
            "name": "bs-test-unity-catalog",
            "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/bs-test-unity-catalog"},
            "comment": "brickstack test",
        }),
    )
    .await;
    assert!(
        credential.attributes["external_id"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{credential:?}"
    );
    let location = create(
        &p,
        "databricks_external_location",
        json!({
            "workspace_url": url,
            "name": "bs-test-raw",
            "url": "s3://bs-test-raw/",
            "credential_name": "bs-test-unity-catalog",
            "comment": "the raw layer",
            "encryption_details": {"sse_encryption_details": {
                "algorithm": "AWS_SSE_KMS",
                "aws_kms_key_arn": RAW_KEY,
            }},
        }),
    )
    .await;
    assert_eq!(
        location.attributes["encryption_details"]["sse_encryption_details"]["aws_kms_key_arn"],
        RAW_KEY
    );
    let catalog = create(
        &p,
        "databricks_catalog",
        json!({
            "workspace_url": url,
            "name": "bs_test_raw",
            "comment": "Raw",
            "storage_root": "s3://bs-test-raw/",
            "owner": display_name(&analysts),
        }),
    )
    .await;
    let schema = create(
        &p,
        "databricks_schema",
        json!({"workspace_url": url, "catalog_name": "bs_test_raw", "name": "landing"}),
    )
    .await;
    assert_eq!(schema.attributes["full_name"], "bs_test_raw.landing");
    // `default` comes with the catalog: creating it adopts it.
    create(
        &p,
        "databricks_schema",
        json!({"workspace_url": url, "catalog_name": "bs_test_raw", "name": "default"}),
    )
    .await;
    let system = create(
        &p,
        "databricks_system_schema",
        json!({
            "workspace_url": url,
            "metastore_id": metastore.attributes["metastore_id"],
            "schema": "access",
        }),
    )
    .await;

    // Grants: someone else's grant on the schema is not brickstack's to take away.
    let client = ws.client();
    client
        .update_grants(
            &SecurableType::Schema,
            "bs_test_raw.landing",
            &[PermissionsChange {
                principal: display_name(&auditors),
                add: vec!["MODIFY".into()],
                remove: Vec::new(),
            }],
        )
        .await
        .unwrap();
    let grants = create(
        &p,
        "databricks_grants",
        json!({
            "workspace_url": url,
            "schema": "bs_test_raw.landing",
            "grant": [{"principal": display_name(&analysts), "privileges": ["SELECT", "USE_SCHEMA"]}],
        }),
    )
    .await;
    assert_eq!(
        grants.attributes["grant"].as_array().unwrap().len(),
        1,
        "only the named principal is reported: {grants:?}"
    );
    // The spec now names the auditors instead: the analysts lose theirs, the auditors keep
    // MODIFY from before and get USE_SCHEMA.
    let updated = p
        .update(
            "databricks_grants",
            &grants.object_id,
            json!({
                "workspace_url": url,
                "schema": "bs_test_raw.landing",
                "grant": [{"principal": display_name(&auditors), "privileges": ["MODIFY", "USE_SCHEMA"]}],
            })
            .as_object()
            .unwrap(),
        )
        .await
        .unwrap();
    assert_ne!(
        updated.object_id, grants.object_id,
        "the managed principals changed"
    );
    let held = client
        .get_grants(&SecurableType::Schema, "bs_test_raw.landing", None)
        .await
        .unwrap();
    let of = |principal: &str| -> Vec<String> {
        let mut p: Vec<String> = held
            .iter()
            .filter(|g| g.principal == principal)
            .flat_map(|g| g.privileges.clone())
            .collect();
        p.sort();
        p
    };
    assert_eq!(of(&display_name(&analysts)), Vec::<String>::new());
    assert_eq!(of(&display_name(&auditors)), ["MODIFY", "USE_SCHEMA"]);

    // In place: the location's key (sent on update, read back as desired), then none.
    let key = "arn:aws:kms:eu-west-1:123456789012:key/bs-test-other";
    let mut desired = json!({
        "workspace_url": url,
        "name": "bs-test-raw",
        "url": "s3://bs-test-raw/",
        "credential_name": "bs-test-unity-catalog",
        "comment": "the raw layer",
        "encryption_details": {"sse_encryption_details": {"algorithm": "AWS_SSE_KMS", "aws_kms_key_arn": key}},
    });
    let rekeyed = p
        .update(
            "databricks_external_location",
            &location.object_id,
            desired.as_object().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(rekeyed.object_id, location.object_id);
    let read = p
        .read("databricks_external_location", &location.object_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.attributes, rekeyed.attributes);
    assert_eq!(
        read.attributes["encryption_details"],
        desired["encryption_details"]
    );
    desired
        .as_object_mut()
        .unwrap()
        .remove("encryption_details");
    let cleared = p
        .update(
            "databricks_external_location",
            &location.object_id,
            desired.as_object().unwrap(),
        )
        .await
        .unwrap();
    assert!(
        cleared.attributes.get("encryption_details").is_none(),
        "{cleared:?}"
    );

    // In place: the catalog's comment and owner, the metastore's name.
    let catalog = p
        .update(
            "databricks_catalog",
            &catalog.object_id,
            json!({
                "workspace_url": url,
                "name": "bs_test_raw",
                "comment": "Raw data",
                "storage_root": "s3://bs-test-raw/",
                "owner": display_name(&auditors),
            })
            .as_object()
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(catalog.attributes["comment"], "Raw data");
    assert_eq!(catalog.attributes["owner"], json!(display_name(&auditors)));
    let renamed = unique_name("bs-renamed");
    let metastore_after = p
        .update(
            "databricks_metastore",
            &metastore.object_id,
            json!({
                "account_id": account_id,
                "name": renamed,
                "region": "eu-west-1",
                "storage_root": "s3://bs-test-metastore/metastore",
            })
            .as_object()
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(metastore_after.object_id, metastore.object_id);
    assert_eq!(metastore_after.attributes["name"], json!(renamed));

    // Deletes, in the graph's reverse order; each is gone after, and a second delete is fine.
    for (kind, object_id) in [
        ("databricks_grants", &updated.object_id),
        ("databricks_system_schema", &system.object_id),
        ("databricks_schema", &schema.object_id),
        ("databricks_catalog", &catalog.object_id),
        ("databricks_external_location", &location.object_id),
        ("databricks_storage_credential", &credential.object_id),
        (
            "databricks_mws_permission_assignment",
            &permission.object_id,
        ),
    ] {
        p.delete(kind, object_id).await.unwrap();
        if kind != "databricks_grants" {
            assert_eq!(p.read(kind, object_id).await.unwrap(), None, "{kind}");
        }
        p.delete(kind, object_id).await.unwrap();
    }
    assert_eq!(
        p.read("databricks_grants", &updated.object_id)
            .await
            .unwrap(),
        None,
        "the schema is gone, so are its grants"
    );
    let assignment_id = format!(
        "{}|{}",
        ws.workspace_id,
        metastore.attributes["metastore_id"].as_str().unwrap()
    );
    p.delete("databricks_metastore_assignment", &assignment_id)
        .await
        .unwrap();
    p.delete("databricks_metastore", &metastore.object_id)
        .await
        .unwrap();
    for g in [&analysts, &auditors] {
        p.delete("databricks_account_group", &g.object_id)
            .await
            .unwrap();
        assert_eq!(
            p.read("databricks_account_group", &g.object_id)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        p.read("databricks_metastore", &metastore.object_id)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn creates_whose_answer_is_lost_or_throttled_leave_exactly_one_object() {
    let Setup {
        ws,
        p,
        account_id,
        metastore,
        groups: [analysts, _],
    } = setup().await;
    let url = ws.url.clone();
    let uc = |rest: &str| format!("/w/{}/api/2.1/unity-catalog/{rest}", ws.workspace_id);
    let lose = |path: String, method: &str| {
        ws.emulator
            .add_faults(vec![FaultRule {
                method: Some(method.into()),
                ..FaultRule::after_apply(path, 500)
            }])
            .unwrap();
    };
    let throttle = |path: String| {
        ws.emulator
            .add_faults(vec![FaultRule {
                retry_after_seconds: Some(0),
                ..FaultRule::status(path, 429)
            }])
            .unwrap();
    };

    let group_name = unique_name("bs-lost");
    lose(
        format!("/api/2.0/accounts/{account_id}/scim/v2/Groups"),
        "POST",
    );
    create_as_the_engine(
        &p,
        "databricks_account_group",
        json!({"account_id": account_id, "display_name": group_name}),
    )
    .await;
    let found = ws
        .account
        .list_account_groups(Some(&format!("displayName eq \"{group_name}\"")))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");

    lose(uc("storage-credentials"), "POST");
    create_as_the_engine(
        &p,
        "databricks_storage_credential",
        json!({
            "workspace_url": url,
            "name": "bs-lost-credential",
            "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/bs-lost"},
        }),
    )
    .await;
    throttle(uc("external-locations"));
    lose(uc("external-locations"), "POST");
    create_as_the_engine(
        &p,
        "databricks_external_location",
        json!({
            "workspace_url": url,
            "name": "bs-lost-location",
            "url": "s3://bs-lost/",
            "credential_name": "bs-lost-credential",
        }),
    )
    .await;
    lose(uc("catalogs"), "POST");
    create_as_the_engine(
        &p,
        "databricks_catalog",
        json!({"workspace_url": url, "name": "bs_lost", "storage_root": "s3://bs-lost/"}),
    )
    .await;
    lose(uc("schemas"), "POST");
    create_as_the_engine(
        &p,
        "databricks_schema",
        json!({"workspace_url": url, "catalog_name": "bs_lost", "name": "landing"}),
    )
    .await;
    lose(uc("permissions"), "PATCH");
    create_as_the_engine(
        &p,
        "databricks_grants",
        json!({
            "workspace_url": url,
            "catalog": "bs_lost",
            "grant": [{"principal": display_name(&analysts), "privileges": ["USE_CATALOG"]}],
        }),
    )
    .await;
    lose(
        format!(
            "/api/2.0/accounts/{account_id}/workspaces/{}/permissionassignments",
            ws.workspace_id
        ),
        "PUT",
    );
    create_as_the_engine(
        &p,
        "databricks_mws_permission_assignment",
        json!({
            "account_id": account_id,
            "workspace_id": ws.workspace_id,
            "principal_id": analysts.attributes["id"],
            "permissions": ["USER"],
        }),
    )
    .await;
    lose(uc("metastores"), "PUT");
    create_as_the_engine(
        &p,
        "databricks_system_schema",
        json!({
            "workspace_url": url,
            "metastore_id": metastore.attributes["metastore_id"],
            "schema": "billing",
        }),
    )
    .await;
    let metastore_name = unique_name("bs-lost-metastore");
    lose(format!("/api/2.0/accounts/{account_id}/metastores"), "POST");
    create_as_the_engine(
        &p,
        "databricks_metastore",
        json!({
            "account_id": account_id,
            "name": metastore_name,
            // One metastore per region: the setup's is in eu-west-1.
            "region": "eu-central-1",
            "storage_root": "s3://bs-lost-metastore/metastore",
        }),
    )
    .await;

    // Every fault was served: each create above really lost its answer (or was throttled).
    let unserved: Vec<_> = ws
        .emulator
        .faults()
        .into_iter()
        .filter(|f| f.hits == 0)
        .map(|f| f.rule.path_prefix)
        .collect();
    assert!(unserved.is_empty(), "faults never hit: {unserved:?}");

    let client = ws.client();
    let count = |names: Vec<String>, name: &str| names.iter().filter(|n| *n == name).count();
    assert_eq!(
        count(
            client
                .list_storage_credentials()
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect(),
            "bs-lost-credential"
        ),
        1
    );
    assert_eq!(
        count(
            client
                .list_external_locations()
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect(),
            "bs-lost-location"
        ),
        1
    );
    assert_eq!(
        count(
            client
                .list_catalogs()
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect(),
            "bs_lost"
        ),
        1
    );
    assert_eq!(
        count(
            client
                .list_schemas("bs_lost")
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.name)
                .collect(),
            "landing"
        ),
        1
    );
    assert_eq!(
        count(
            ws.account
                .list_metastores()
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.name)
                .collect(),
            &metastore_name
        ),
        1
    );
    // Found again by name alone, as the engine looks before it resends.
    for (kind, name) in [
        ("databricks_catalog", "bs_lost"),
        ("databricks_external_location", "bs-lost-location"),
        ("databricks_storage_credential", "bs-lost-credential"),
        ("databricks_schema", "landing"),
    ] {
        let lookup = ObjectLookup {
            name: Some(name.into()),
            tags: Default::default(),
            scope: Some(url.clone()),
        };
        assert!(p.find(kind, &lookup).await.unwrap().is_some(), "{kind}");
    }
    let lookup = ObjectLookup {
        name: Some(metastore_name.clone()),
        ..ObjectLookup::default()
    };
    assert!(
        p.find("databricks_metastore", &lookup)
            .await
            .unwrap()
            .is_some()
    );
}
