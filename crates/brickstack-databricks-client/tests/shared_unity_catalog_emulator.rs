//! The Unity Catalog client suite (`shared_unity_catalog`) against brickstack's own Databricks
//! emulator (in this process; a workspace made through the account API, a metastore assigned to
//! it by the account API, a storage credential and an external location for catalog roots), and
//! what minilake does not serve, run here only: storage credentials, external locations, system
//! schemas, the account's metastores, assignments, groups and workspace permission assignments,
//! a workspace without a metastore, and visibility by privilege (minilake records grants but
//! does not enforce them).

mod emulator;
mod shared_unity_catalog;

use brickstack_databricks_client::account::groups::{NewAccountGroup, PatchOp};
use brickstack_databricks_client::account::permission_assignments::WorkspacePermission;
use brickstack_databricks_client::account::service_principals::NewServicePrincipal;
use brickstack_databricks_client::account::unity_catalog::{MetastoreUpdate, NewMetastore};
use brickstack_databricks_client::workspace::unity_catalog::external_locations::{
    EncryptionDetails, ExternalLocationUpdate, NewExternalLocation, SseEncryptionDetails,
};
use brickstack_databricks_client::workspace::unity_catalog::grants::{
    PermissionsChange, SecurableType,
};
use brickstack_databricks_client::workspace::unity_catalog::is_missing_metastore;
use brickstack_databricks_client::workspace::unity_catalog::schemas::NewSchema;
use brickstack_databricks_client::workspace::unity_catalog::storage_credentials::{
    AwsIamRoleRequest, NewStorageCredential, StorageCredentialUpdate,
};
use brickstack_databricks_client::workspace::unity_catalog::system_schemas::SystemSchemaState;
use brickstack_databricks_client::workspace::unity_catalog::tables::{ColumnInfo, NewTable};
use brickstack_databricks_client::{Credentials, ErrorKind, WorkspaceClient};
use brickstack_databricks_emulator::FaultRule;
use brickstack_provider::SecretValue;
use brickstack_testkit::unique_name;
use emulator::{EmulatorWorkspace, retry};
use shared_unity_catalog::{Storage, ok};

const ROLE: &str = "arn:aws:iam::123456789012:role/bs-unity-catalog";

/// An emulator workspace with a metastore assigned, a storage credential and an external
/// location on `s3://<bucket>/`, and two account groups for grants.
struct UcWorkspace {
    ws: EmulatorWorkspace,
    metastore_id: String,
    bucket: String,
    groups: [String; 2],
}

impl UcWorkspace {
    async fn start() -> UcWorkspace {
        let ws = EmulatorWorkspace::start().await;
        let a = &ws.account;
        let metastore = ok(
            "metastore",
            a.create_metastore(&NewMetastore {
                name: unique_name("bs-metastore"),
                region: Some("eu-west-1".into()),
                storage_root: Some(format!("s3://{}/metastore", unique_name("bs-root"))),
                ..NewMetastore::default()
            })
            .await,
        );
        ok(
            "assign",
            a.create_metastore_assignment(ws.workspace_id, &metastore.metastore_id)
                .await,
        );
        let w = ws.client();
        let bucket = unique_name("bs-lake");
        ok(
            "credential",
            w.create_storage_credential(&NewStorageCredential {
                name: "bs-uc".into(),
                aws_iam_role: AwsIamRoleRequest {
                    role_arn: ROLE.into(),
                },
                skip_validation: Some(true),
                ..NewStorageCredential::default()
            })
            .await,
        );
        ok(
            "location",
            w.create_external_location(&NewExternalLocation {
                name: bucket.clone(),
                url: format!("s3://{bucket}/"),
                credential_name: "bs-uc".into(),
                ..NewExternalLocation::default()
            })
            .await,
        );
        let mut groups = [unique_name("bs-analysts"), unique_name("bs-engineers")];
        for g in &mut groups {
            let made = ok(
                "group",
                a.create_account_group(&NewAccountGroup {
                    display_name: g.clone(),
                    ..NewAccountGroup::default()
                })
                .await,
            );
            *g = made.display_name;
        }
        UcWorkspace {
            ws,
            metastore_id: metastore.metastore_id,
            bucket,
            groups,
        }
    }

    fn storage(&self) -> Storage {
        Storage {
            catalog_root: Some(format!("s3://{}/{}", self.bucket, unique_name("root"))),
        }
    }

    /// A workspace client that authenticates as a new account service principal that is a
    /// member of `group` (none: of no group).
    async fn member_of(&self, group: Option<&str>) -> WorkspaceClient {
        let a = &self.ws.account;
        let sp = ok(
            "service principal",
            a.create_service_principal(&NewServicePrincipal {
                display_name: unique_name("bs-reader"),
                ..NewServicePrincipal::default()
            })
            .await,
        );
        let secret = ok(
            "secret",
            a.create_service_principal_secret(&sp.id, None).await,
        );
        if let Some(group) = group {
            let g = ok("find group", a.find_account_group(group).await).expect("the group");
            ok(
                "add member",
                a.patch_account_group(&g.id, &[PatchOp::add("members", [sp.id.clone()])])
                    .await,
            );
        }
        WorkspaceClient::new(
            &self.ws.url,
            Credentials::OAuthM2m {
                client_id: sp.application_id.expect("an application id"),
                client_secret: SecretValue::new(secret.secret.expose()),
            },
            retry(),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn catalogs_and_schemas() {
    let uc = UcWorkspace::start().await;
    shared_unity_catalog::catalogs_and_schemas(&uc.ws.client(), &uc.storage()).await;
}

#[tokio::test]
async fn tables() {
    let uc = UcWorkspace::start().await;
    shared_unity_catalog::tables(&uc.ws.client(), &uc.storage()).await;
}

#[tokio::test]
async fn grants_and_effective_permissions() {
    let uc = UcWorkspace::start().await;
    let [first, second] = &uc.groups;
    shared_unity_catalog::grants_and_effective_permissions(
        &uc.ws.client(),
        &uc.storage(),
        first,
        second,
    )
    .await;
}

#[tokio::test]
async fn current_metastore() {
    let uc = UcWorkspace::start().await;
    let id = shared_unity_catalog::current_metastore(&uc.ws.client()).await;
    assert_eq!(id, uc.metastore_id);
    let summary = ok("summary", uc.ws.client().metastore_summary().await);
    assert_eq!(summary.metastore_id, uc.metastore_id);
}

// What follows runs against our emulator only: minilake serves none of it.

#[tokio::test]
async fn storage_credentials_and_external_locations() {
    let uc = UcWorkspace::start().await;
    let w = uc.ws.client();
    let credential = ok("get", w.get_storage_credential("bs-uc").await).expect("made at start");
    let role = credential.aws_iam_role.clone().expect("an AWS role");
    assert_eq!(role.role_arn, ROLE);
    assert!(role.external_id.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(
        role.unity_catalog_iam_arn.as_deref(),
        Some("arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL")
    );
    let updated = ok(
        "update",
        w.update_storage_credential(
            "bs-uc",
            &StorageCredentialUpdate {
                comment: Some("the quickstart's catalog role".into()),
                ..StorageCredentialUpdate::default()
            },
        )
        .await,
    );
    assert_eq!(
        updated.aws_iam_role.unwrap().external_id,
        role.external_id,
        "an update keeps the external id"
    );
    let listed = ok("list", w.list_storage_credentials().await);
    assert_eq!(listed.len(), 1);
    let duplicate = w
        .create_storage_credential(&NewStorageCredential {
            name: "bs-uc".into(),
            aws_iam_role: AwsIamRoleRequest {
                role_arn: ROLE.into(),
            },
            ..NewStorageCredential::default()
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::AlreadyExists, "{duplicate}");

    let locations = ok("list locations", w.list_external_locations().await);
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0].url, format!("s3://{}/", uc.bucket));
    assert_eq!(locations[0].credential_name, "bs-uc");
    assert_eq!(locations[0].encryption_details, None);
    // SSE-KMS details: sent on update, answered in the same shape.
    let key = "arn:aws:kms:us-east-1:123456789012:key/lake";
    let encrypted = ok(
        "encrypt location",
        w.update_external_location(
            &uc.bucket,
            &ExternalLocationUpdate {
                encryption_details: Some(EncryptionDetails::sse_kms(key)),
                ..ExternalLocationUpdate::default()
            },
        )
        .await,
    );
    assert_eq!(
        encrypted.encryption_details,
        Some(EncryptionDetails::sse_kms(key))
    );
    let read = ok("get location", w.get_external_location(&uc.bucket).await).unwrap();
    assert_eq!(
        read.encryption_details,
        Some(EncryptionDetails::sse_kms(key))
    );
    let without_key = w
        .create_external_location(&NewExternalLocation {
            name: "keyless".into(),
            url: "s3://keyless/".into(),
            credential_name: "bs-uc".into(),
            encryption_details: Some(EncryptionDetails {
                sse_encryption_details: Some(SseEncryptionDetails {
                    algorithm: Some("AWS_SSE_KMS".into()),
                    aws_kms_key_arn: None,
                }),
            }),
            ..NewExternalLocation::default()
        })
        .await
        .unwrap_err();
    assert_eq!(without_key.kind(), ErrorKind::InvalidInput, "{without_key}");
    let missing_credential = w
        .create_external_location(&NewExternalLocation {
            name: "other".into(),
            url: "s3://other/".into(),
            credential_name: "nothing".into(),
            ..NewExternalLocation::default()
        })
        .await
        .unwrap_err();
    assert_eq!(missing_credential.kind(), ErrorKind::NotFound);
    // In use by the location: refused without force.
    let in_use = w
        .delete_storage_credential("bs-uc", false)
        .await
        .unwrap_err();
    assert_eq!(in_use.kind(), ErrorKind::InvalidState, "{in_use}");
    ok(
        "delete location",
        w.delete_external_location(&uc.bucket, false).await,
    );
    ok(
        "delete credential",
        w.delete_storage_credential("bs-uc", false).await,
    );
    assert_eq!(ok("get", w.get_storage_credential("bs-uc").await), None);
    assert_eq!(ok("get", w.get_external_location(&uc.bucket).await), None);
}

#[tokio::test]
async fn system_schemas_are_enabled_and_disabled() {
    let uc = UcWorkspace::start().await;
    let w = uc.ws.client();
    let state = |schemas: &[brickstack_databricks_client::workspace::unity_catalog::system_schemas::SystemSchemaInfo],
                 name: &str| {
        schemas
            .iter()
            .find(|s| s.schema == name)
            .map(|s| s.state.clone())
            .unwrap_or_else(|| panic!("no {name} in {schemas:?}"))
    };
    let before = ok("list", w.list_system_schemas(&uc.metastore_id).await);
    assert_eq!(state(&before, "access"), SystemSchemaState::Available);
    for schema in ["access", "billing", "compute", "access"] {
        ok(
            "enable",
            w.enable_system_schema(&uc.metastore_id, schema).await,
        );
    }
    let after = ok("list", w.list_system_schemas(&uc.metastore_id).await);
    for schema in ["access", "billing", "compute"] {
        assert!(state(&after, schema).is_enabled(), "{schema}");
    }
    assert!(!state(&after, "lakeflow").is_enabled());
    ok(
        "disable",
        w.disable_system_schema(&uc.metastore_id, "compute").await,
    );
    let after = ok("list", w.list_system_schemas(&uc.metastore_id).await);
    assert_eq!(state(&after, "compute"), SystemSchemaState::Available);
}

#[tokio::test]
async fn without_a_metastore_calls_say_so() {
    let ws = EmulatorWorkspace::start().await;
    let w = ws.client();
    assert_eq!(ok("current", w.current_metastore_assignment().await), None);
    let listed = w.list_catalogs().await.unwrap_err();
    assert!(is_missing_metastore(&listed), "{listed}");
    // A get does not mistake the missing metastore for a missing catalog.
    let read = w.get_catalog("raw").await.unwrap_err();
    assert!(is_missing_metastore(&read), "{read}");
}

#[tokio::test]
async fn account_metastores_and_assignments() {
    let ws = EmulatorWorkspace::start().await;
    let a = &ws.account;
    let name = unique_name("bs-metastore");
    let created = ok(
        "create",
        a.create_metastore(&NewMetastore {
            name: name.clone(),
            region: Some("eu-west-1".into()),
            storage_root: Some("s3://bs-root/metastore".into()),
            ..NewMetastore::default()
        })
        .await,
    );
    let id = created.metastore_id.clone();
    assert_eq!(created.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        ok("find", a.find_metastore(&name).await),
        Some(created.clone())
    );
    assert_eq!(ok("get", a.get_metastore(&id).await), Some(created.clone()));
    let renamed = ok(
        "update",
        a.update_metastore(
            &id,
            &MetastoreUpdate {
                new_name: Some(format!("{name}-2")),
                ..MetastoreUpdate::default()
            },
        )
        .await,
    );
    assert_eq!(renamed.name, format!("{name}-2"));

    assert_eq!(
        ok(
            "no assignment",
            a.get_metastore_assignment(ws.workspace_id).await
        ),
        None
    );
    ok(
        "assign",
        a.create_metastore_assignment(ws.workspace_id, &id).await,
    );
    let assignment =
        ok("read", a.get_metastore_assignment(ws.workspace_id).await).expect("assigned");
    assert_eq!(assignment.metastore_id, id);
    assert_eq!(assignment.workspace_id, Some(ws.workspace_id));
    assert_eq!(
        ok("workspaces", a.metastore_workspaces(&id).await),
        [ws.workspace_id]
    );
    ok(
        "update assignment",
        a.update_metastore_assignment(ws.workspace_id, &id, Some("main"))
            .await,
    );
    // The workspace sees the assignment the account made.
    let current =
        ok("current", ws.client().current_metastore_assignment().await).expect("assigned");
    assert_eq!(current.metastore_id, id);
    assert_eq!(current.default_catalog_name.as_deref(), Some("main"));

    let refused = a.delete_metastore(&id, false).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidState, "{refused}");
    ok(
        "unassign",
        a.delete_metastore_assignment(ws.workspace_id, &id).await,
    );
    ok("delete", a.delete_metastore(&id, true).await);
    assert_eq!(ok("gone", a.get_metastore(&id).await), None);
    assert!(ok("list", a.list_metastores().await).is_empty());
}

#[tokio::test]
async fn account_groups_and_workspace_permission_assignments() {
    let uc = UcWorkspace::start().await;
    let a = &uc.ws.account;
    let sp = ok(
        "service principal",
        a.create_service_principal(&NewServicePrincipal {
            display_name: unique_name("bs-etl"),
            ..NewServicePrincipal::default()
        })
        .await,
    );
    let name = unique_name("bs-admins");
    let group = ok(
        "create",
        a.create_account_group(&NewAccountGroup {
            display_name: name.clone(),
            ..NewAccountGroup::default()
        })
        .await,
    );
    assert_eq!(group.display_name, name);
    let duplicate = a
        .create_account_group(&NewAccountGroup {
            display_name: name.clone(),
            ..NewAccountGroup::default()
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::AlreadyExists, "{duplicate}");
    let found = ok("find", a.find_account_group(&name).await).expect("found by name");
    assert_eq!(found.id, group.id);
    assert_eq!(ok("find none", a.find_account_group("nobody").await), None);

    ok(
        "add member",
        a.patch_account_group(&group.id, &[PatchOp::add("members", [sp.id.clone()])])
            .await,
    );
    let read = ok("get", a.get_account_group(&group.id).await).expect("exists");
    assert_eq!(read.members.len(), 1);
    assert_eq!(read.members[0].value, sp.id);
    ok(
        "remove member",
        a.patch_account_group(&group.id, &[PatchOp::remove_value("members", &sp.id)])
            .await,
    );
    let read = ok("get", a.get_account_group(&group.id).await).expect("exists");
    assert!(read.members.is_empty());

    let ws = uc.ws.workspace_id;
    ok(
        "assign",
        a.set_permission_assignment(ws, &group.id, &[WorkspacePermission::User])
            .await,
    );
    let assignment = ok("get", a.get_permission_assignment(ws, &group.id).await).expect("assigned");
    assert_eq!(assignment.permissions, [WorkspacePermission::User]);
    assert_eq!(
        assignment.principal.group_name.as_deref(),
        Some(name.as_str())
    );
    // A PUT replaces: resending or changing the level is harmless.
    ok(
        "admin",
        a.set_permission_assignment(ws, &group.id, &[WorkspacePermission::Admin])
            .await,
    );
    let all = ok("list", a.list_permission_assignments(ws).await);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].permissions, [WorkspacePermission::Admin]);
    ok(
        "unassign",
        a.delete_permission_assignment(ws, &group.id).await,
    );
    assert_eq!(
        ok("get", a.get_permission_assignment(ws, &group.id).await),
        None
    );

    ok("delete", a.delete_account_group(&group.id).await);
    assert_eq!(ok("gone", a.get_account_group(&group.id).await), None);
}

/// The "must show": a table in a catalog is visible to a member of the group granted on
/// the catalog and not to a member of another group; effective permissions say the same.
#[tokio::test]
async fn a_table_is_visible_to_the_granted_group_only() {
    let uc = UcWorkspace::start().await;
    let w = uc.ws.client();
    let table = shared_unity_catalog::table(&w, &uc.storage(), "bs-visible").await;
    let catalog = table.split('.').next().unwrap().to_string();
    let [granted_group, other_group] = &uc.groups;
    ok(
        "grant",
        w.update_grants(
            &SecurableType::Catalog,
            &catalog,
            &[PermissionsChange {
                principal: granted_group.clone(),
                add: vec!["USE_CATALOG".into(), "USE_SCHEMA".into(), "SELECT".into()],
                remove: Vec::new(),
            }],
        )
        .await,
    );
    let granted = uc.member_of(Some(granted_group)).await;
    let other = uc.member_of(Some(other_group)).await;
    let nobody = uc.member_of(None).await;

    let seen = ok(
        "granted lists",
        granted.list_tables(&catalog, "landing").await,
    );
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].qualified_name(), table);
    assert!(ok("granted gets", granted.get_table(&table).await).is_some());
    assert!(
        ok("granted catalogs", granted.list_catalogs().await)
            .iter()
            .any(|c| c.name == catalog)
    );
    for client in [&other, &nobody] {
        assert!(
            !ok("other catalogs", client.list_catalogs().await)
                .iter()
                .any(|c| c.name == catalog)
        );
        let denied = client.get_table(&table).await.unwrap_err();
        assert_eq!(denied.kind(), ErrorKind::PermissionDenied, "{denied}");
    }
    let effective = ok(
        "effective",
        w.get_effective_grants(&SecurableType::Table, &table, Some(other_group))
            .await,
    );
    assert!(effective.is_empty(), "{effective:?}");
    let effective = ok(
        "effective",
        w.get_effective_grants(&SecurableType::Table, &table, Some(granted_group))
            .await,
    );
    assert!(effective[0].holds("SELECT"));
}

/// A create whose answer is lost (applied, then a 500) is found by its name and not made twice:
/// the catalog, schema, table, storage credential, external location, account group and
/// metastore each come back from the lookup, and exactly one of each exists.
#[tokio::test]
async fn creates_whose_answer_is_lost_are_found_not_repeated() {
    let uc = UcWorkspace::start().await;
    let w = uc.ws.client();
    let lose_next = |path: &str| {
        uc.ws
            .emulator
            .add_faults(vec![FaultRule {
                method: Some("POST".into()),
                after_apply: true,
                ..FaultRule::status(path, 500)
            }])
            .unwrap();
    };
    let ws_path = |rest: &str| format!("/w/{}/api/2.1/unity-catalog/{rest}", uc.ws.workspace_id);

    lose_next(&ws_path("catalogs"));
    let catalog = shared_unity_catalog::catalog(&w, &uc.storage(), "bs-lost").await;
    lose_next(&ws_path("schemas"));
    ok(
        "schema",
        w.create_schema(&NewSchema {
            name: "landing".into(),
            catalog_name: catalog.clone(),
            ..NewSchema::default()
        })
        .await,
    );
    lose_next(&ws_path("tables"));
    let table = ok(
        "table",
        w.create_table(&NewTable {
            name: "events".into(),
            catalog_name: catalog.clone(),
            schema_name: "landing".into(),
            table_type: "MANAGED".into(),
            columns: vec![ColumnInfo::new("id", "bigint", "LONG")],
            ..NewTable::default()
        })
        .await,
    );
    assert_eq!(table.qualified_name(), format!("{catalog}.landing.events"));
    lose_next(&ws_path("storage-credentials"));
    let credential = ok(
        "credential",
        w.create_storage_credential(&NewStorageCredential {
            name: "bs-second".into(),
            aws_iam_role: AwsIamRoleRequest {
                role_arn: ROLE.into(),
            },
            ..NewStorageCredential::default()
        })
        .await,
    );
    assert!(credential.aws_iam_role.unwrap().external_id.is_some());
    lose_next(&ws_path("external-locations"));
    ok(
        "location",
        w.create_external_location(&NewExternalLocation {
            name: "bs-second".into(),
            url: format!("s3://{}/", unique_name("bs-second")),
            credential_name: "bs-second".into(),
            ..NewExternalLocation::default()
        })
        .await,
    );
    let a = &uc.ws.account;
    let account_path = |rest: &str| format!("/api/2.0/accounts/{}/{rest}", a.account_id());
    lose_next(&account_path("scim/v2/Groups"));
    let group = ok(
        "group",
        a.create_account_group(&NewAccountGroup {
            display_name: unique_name("bs-lost"),
            ..NewAccountGroup::default()
        })
        .await,
    );
    assert!(!group.id.is_empty());
    lose_next(&account_path("metastores"));
    let metastore = ok(
        "metastore",
        a.create_metastore(&NewMetastore {
            name: unique_name("bs-us"),
            region: Some("us-east-1".into()),
            ..NewMetastore::default()
        })
        .await,
    );
    // Every fault was used: each create was applied once, its answer lost, then looked up.
    assert!(uc.ws.emulator.faults().iter().all(|f| f.hits == 1));

    assert_eq!(
        ok("catalogs", w.list_catalogs().await)
            .iter()
            .filter(|c| c.name == catalog)
            .count(),
        1
    );
    assert_eq!(
        ok("schemas", w.list_schemas(&catalog).await)
            .iter()
            .filter(|s| s.name == "landing")
            .count(),
        1
    );
    assert_eq!(
        ok("tables", w.list_tables(&catalog, "landing").await).len(),
        1
    );
    assert_eq!(
        ok("credentials", w.list_storage_credentials().await).len(),
        2
    );
    assert_eq!(ok("locations", w.list_external_locations().await).len(), 2);
    assert_eq!(
        ok("groups", a.list_account_groups(None).await)
            .iter()
            .filter(|g| g.display_name == group.display_name)
            .count(),
        1
    );
    assert_eq!(
        ok("metastores", a.list_metastores().await)
            .iter()
            .filter(|m| m.metastore_id == metastore.metastore_id)
            .count(),
        1
    );
}
