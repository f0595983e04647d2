//! The Unity Catalog client suite: catalogs, schemas, tables, grants and effective permissions,
//! and the current metastore assignment, one scenario per behaviour, each taking a
//! `&WorkspaceClient` and asserting only what both minilake 1.9.0 and brickstack's emulator do
//! (and the vendor documents). Names are unique, so scenarios share one metastore.
//!
//! `shared_unity_catalog_minilake.rs` and `shared_unity_catalog_emulator.rs` run every scenario.
//! Where the two differ the suite asserts only the common part: minilake ignores a catalog's
//! `storage_root` (it has no external locations), answers `NOT_FOUND`/`ALREADY_EXISTS` where the
//! vendor and our emulator say `CATALOG_DOES_NOT_EXIST`/`CATALOG_ALREADY_EXISTS` (the client
//! classifies both alike), refuses a table in a missing schema with `400` where ours says `404
//! SCHEMA_DOES_NOT_EXIST`, and accepts grants to any principal name (ours wants an account
//! principal), so the principals are the caller's to provide.

#![allow(dead_code, reason = "each test binary runs its part of the suite")]

use brickstack_databricks_client::workspace::unity_catalog::catalogs::NewCatalog;
use brickstack_databricks_client::workspace::unity_catalog::grants::{
    EffectivePrivilege, PermissionsChange, PrivilegeAssignment, SecurableType,
};
use brickstack_databricks_client::workspace::unity_catalog::schemas::NewSchema;
use brickstack_databricks_client::workspace::unity_catalog::tables::{ColumnInfo, NewTable};
use brickstack_databricks_client::{ErrorKind, WorkspaceClient};
use brickstack_testkit::unique_name;

pub fn ok<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A unique catalog name (`[a-z0-9_]`, as both servers accept).
pub fn catalog_name(prefix: &str) -> String {
    unique_name(prefix).replace('-', "_")
}

/// What a catalog needs beyond its name where the server checks storage (ours: a root under an
/// external location; minilake ignores it).
#[derive(Debug, Clone, Default)]
pub struct Storage {
    /// `s3://…` under an external location, when the catalog gets a root of its own.
    pub catalog_root: Option<String>,
}

pub async fn catalog(w: &WorkspaceClient, storage: &Storage, prefix: &str) -> String {
    let name = catalog_name(prefix);
    let created = ok(
        "create catalog",
        w.create_catalog(&NewCatalog {
            name: name.clone(),
            comment: Some("made by the shared suite".into()),
            storage_root: storage.catalog_root.clone(),
            ..NewCatalog::default()
        })
        .await,
    );
    assert_eq!(created.name, name);
    name
}

/// A catalog, schema `landing` and table `events` (two columns): the table's full name.
pub async fn table(w: &WorkspaceClient, storage: &Storage, prefix: &str) -> String {
    let catalog = catalog(w, storage, prefix).await;
    ok(
        "create schema",
        w.create_schema(&NewSchema {
            name: "landing".into(),
            catalog_name: catalog.clone(),
            ..NewSchema::default()
        })
        .await,
    );
    let created = ok(
        "create table",
        w.create_table(&NewTable {
            name: "events".into(),
            catalog_name: catalog.clone(),
            schema_name: "landing".into(),
            table_type: "MANAGED".into(),
            columns: vec![
                ColumnInfo::new("id", "bigint", "LONG"),
                ColumnInfo::new("payload", "string", "STRING"),
            ],
            ..NewTable::default()
        })
        .await,
    );
    let full_name = format!("{catalog}.landing.events");
    assert_eq!(created.qualified_name(), full_name);
    full_name
}

/// Create, read, list, refuse a duplicate, delete: catalogs and their schemas.
pub async fn catalogs_and_schemas(w: &WorkspaceClient, storage: &Storage) {
    let name = catalog(w, storage, "bs-cat").await;
    let read = ok("get catalog", w.get_catalog(&name).await).expect("the catalog exists");
    assert_eq!(read.comment.as_deref(), Some("made by the shared suite"));
    let listed = ok("list catalogs", w.list_catalogs().await);
    assert!(listed.iter().any(|c| c.name == name), "{listed:?}");
    let duplicate = w
        .create_catalog(&NewCatalog {
            name: name.clone(),
            ..NewCatalog::default()
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::AlreadyExists, "{duplicate}");

    let schema = ok(
        "create schema",
        w.create_schema(&NewSchema {
            name: "landing".into(),
            catalog_name: name.clone(),
            comment: Some("raw files".into()),
            ..NewSchema::default()
        })
        .await,
    );
    assert_eq!(schema.qualified_name(), format!("{name}.landing"));
    let schemas = ok("list schemas", w.list_schemas(&name).await);
    let names: Vec<&str> = schemas.iter().map(|s| s.name.as_str()).collect();
    // Every new catalog has `default`, as the vendor's do.
    assert!(names.contains(&"default"), "{names:?}");
    assert!(names.contains(&"landing"), "{names:?}");
    let read = ok("get schema", w.get_schema(&format!("{name}.landing")).await)
        .expect("the schema exists");
    assert_eq!(read.catalog_name, name);
    assert_eq!(read.comment.as_deref(), Some("raw files"));
    let duplicate = w
        .create_schema(&NewSchema {
            name: "landing".into(),
            catalog_name: name.clone(),
            ..NewSchema::default()
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::AlreadyExists, "{duplicate}");
    assert_eq!(
        ok(
            "get missing",
            w.get_schema(&format!("{name}.nothing")).await
        ),
        None
    );

    ok(
        "delete schema",
        w.delete_schema(&format!("{name}.landing"), false).await,
    );
    assert_eq!(
        ok(
            "get deleted",
            w.get_schema(&format!("{name}.landing")).await
        ),
        None
    );
    ok("delete catalog", w.delete_catalog(&name, true).await);
    assert_eq!(ok("get deleted", w.get_catalog(&name).await), None);
    assert_eq!(
        ok("get missing", w.get_catalog(&catalog_name("bs-none")).await),
        None
    );
}

/// A table with columns: create, get, list, refused without its schema, delete.
pub async fn tables(w: &WorkspaceClient, storage: &Storage) {
    let full_name = table(w, storage, "bs-tab").await;
    let read = ok("get table", w.get_table(&full_name).await).expect("the table exists");
    assert_eq!(read.name, "events");
    assert_eq!(read.schema_name, "landing");
    let columns: Vec<&str> = read.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["id", "payload"]);
    let catalog = read.catalog_name.clone();
    let listed = ok("list tables", w.list_tables(&catalog, "landing").await);
    let names: Vec<String> = listed.iter().map(|t| t.qualified_name()).collect();
    assert_eq!(names, std::slice::from_ref(&full_name));

    let orphan = w
        .create_table(&NewTable {
            name: "orphan".into(),
            catalog_name: catalog.clone(),
            schema_name: "missing".into(),
            table_type: "MANAGED".into(),
            columns: vec![ColumnInfo::new("id", "int", "INT")],
            ..NewTable::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(orphan.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput),
        "{orphan}"
    );

    ok("delete table", w.delete_table(&full_name).await);
    assert_eq!(ok("get deleted", w.get_table(&full_name).await), None);
    ok("delete catalog", w.delete_catalog(&catalog, true).await);
}

fn privileges(assignments: &[PrivilegeAssignment], principal: &str) -> Vec<String> {
    assignments
        .iter()
        .find(|a| a.principal == principal)
        .map(|a| a.privileges.clone())
        .unwrap_or_default()
}

/// Grants on a catalog and a schema are inherited by the table below; `get` shows only direct
/// grants, effective permissions name each privilege's source, `principal` filters, and
/// removing a principal's last privilege drops it. `first` and `second` are principals the
/// server accepts.
pub async fn grants_and_effective_permissions(
    w: &WorkspaceClient,
    storage: &Storage,
    first: &str,
    second: &str,
) {
    let table = table(w, storage, "bs-grants").await;
    let catalog = table.split('.').next().unwrap().to_string();
    let schema = format!("{catalog}.landing");
    let add = |principal: &str, privileges: &[&str]| PermissionsChange {
        principal: principal.to_string(),
        add: privileges.iter().map(|p| p.to_string()).collect(),
        remove: Vec::new(),
    };
    let after = ok(
        "grant on catalog",
        w.update_grants(
            &SecurableType::Catalog,
            &catalog,
            &[add(first, &["USE_CATALOG", "USE_SCHEMA"])],
        )
        .await,
    );
    assert_eq!(privileges(&after, first), ["USE_CATALOG", "USE_SCHEMA"]);
    ok(
        "grant on schema",
        w.update_grants(&SecurableType::Schema, &schema, &[add(first, &["SELECT"])])
            .await,
    );
    ok(
        "grant on table",
        w.update_grants(&SecurableType::Table, &table, &[add(second, &["SELECT"])])
            .await,
    );
    // Resending an update changes nothing.
    let again = ok(
        "grant on table again",
        w.update_grants(&SecurableType::Table, &table, &[add(second, &["SELECT"])])
            .await,
    );
    assert_eq!(privileges(&again, second), ["SELECT"]);

    let direct = ok(
        "get grants",
        w.get_grants(&SecurableType::Table, &table, None).await,
    );
    assert_eq!(
        direct,
        [PrivilegeAssignment {
            principal: second.to_string(),
            privileges: vec!["SELECT".into()],
        }]
    );
    let of_first = ok(
        "get grants of one",
        w.get_grants(&SecurableType::Catalog, &catalog, Some(first))
            .await,
    );
    assert_eq!(of_first.len(), 1);

    let effective = ok(
        "effective",
        w.get_effective_grants(&SecurableType::Table, &table, Some(first))
            .await,
    );
    assert_eq!(effective.len(), 1, "{effective:?}");
    assert_eq!(effective[0].principal, first);
    let inherited = |privilege: &str, kind: &str, name: &str| EffectivePrivilege {
        privilege: privilege.into(),
        inherited_from_type: Some(kind.into()),
        inherited_from_name: Some(name.into()),
    };
    assert_eq!(
        effective[0].privileges,
        [
            inherited("SELECT", "SCHEMA", &schema),
            inherited("USE_CATALOG", "CATALOG", &catalog),
            inherited("USE_SCHEMA", "CATALOG", &catalog),
        ]
    );
    assert!(effective[0].holds("SELECT"));
    assert!(!effective[0].holds("MODIFY"));
    let all = ok(
        "effective of all",
        w.get_effective_grants(&SecurableType::Table, &table, None)
            .await,
    );
    let of_second = all
        .iter()
        .find(|a| a.principal == second)
        .expect("the table's own grant");
    assert_eq!(
        of_second.privileges,
        [EffectivePrivilege {
            privilege: "SELECT".into(),
            inherited_from_type: None,
            inherited_from_name: None,
        }]
    );

    let after = ok(
        "revoke",
        w.update_grants(
            &SecurableType::Table,
            &table,
            &[PermissionsChange {
                principal: second.to_string(),
                add: Vec::new(),
                remove: vec!["SELECT".into()],
            }],
        )
        .await,
    );
    assert!(after.is_empty(), "{after:?}");
    ok("delete catalog", w.delete_catalog(&catalog, true).await);
}

/// The workspace has a metastore, and says which.
pub async fn current_metastore(w: &WorkspaceClient) -> String {
    let assignment = ok("current", w.current_metastore_assignment().await)
        .expect("the workspace has a metastore");
    assert!(!assignment.metastore_id.is_empty());
    assignment.metastore_id
}
