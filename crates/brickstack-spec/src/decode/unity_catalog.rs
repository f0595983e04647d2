//! `[account_groups]` and `[unity_catalog]` (docs/unity-catalog.md): groups of the Databricks
//! account, and the metastore with its catalogs, schemas and grants.
//!
//! What one key can say wrong is reported here (a workspace permission, a privilege, a system
//! schema); what needs another section (a grant's group, a catalog's storage bucket, duplicate
//! names) is a rule in `checks`.

use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::model::{
    AccountGroup, Bucket, BucketRole, Buckets, Environment, UcCatalog, UcGrant, UcSchema,
    UnityCatalog, WorkspacePermission,
};
use crate::reader::{Cx, Item, Table, did_you_mean};

/// The schema every catalog has when the spec names none (Databricks makes it with the catalog).
const DEFAULT_SCHEMA: &str = "default";

pub(super) fn account_groups(
    t: &mut Table<'_, '_>,
    cx: &mut Cx,
    env: &Environment,
) -> Vec<AccountGroup> {
    t.named_tables(cx, "account_groups")
        .unwrap_or_default()
        .into_iter()
        .map(|(key, mut g)| {
            let display_name = g
                .str(cx, "display_name")
                .unwrap_or_else(|| format!("{}-{key}", env.prefix));
            let workspace_permission = match g
                .choice(cx, "workspace_permission", &["USER", "ADMIN"])
                .as_deref()
            {
                Some("USER") => Some(WorkspacePermission::User),
                Some("ADMIN") => Some(WorkspacePermission::Admin),
                _ => None,
            };
            g.finish(cx);
            AccountGroup {
                key,
                display_name,
                workspace_permission,
            }
        })
        .collect()
}

/// `[unity_catalog]`; `None` when the file has none. The metastore's bucket joins `buckets`, so
/// it gets every datalake bucket's hardening and naming checks.
pub(super) fn unity_catalog(
    top: &mut Table<'_, '_>,
    cx: &mut Cx,
    env: &Environment,
    buckets: &mut Buckets,
) -> Option<UnityCatalog> {
    if !top.has_table("unity_catalog") {
        // Reports a `unity_catalog` that is not a table.
        top.table(cx, "unity_catalog");
        return None;
    }
    let mut t = top.table(cx, "unity_catalog");
    let p = &env.prefix;
    let metastore_name = t
        .str(cx, "metastore_name")
        .unwrap_or_else(|| format!("{p}-metastore"));
    let bucket = t
        .str(cx, "bucket")
        .unwrap_or_else(|| format!("{p}-metastore"));
    let role = t
        .str(cx, "role")
        .unwrap_or_else(|| format!("{p}-unity-catalog"));
    let owner = t.str(cx, "owner");
    let external_locations = t.bool(cx, "external_locations").unwrap_or(true);
    let system_schemas = system_schemas(&mut t, cx);
    let layers: Vec<String> = buckets
        .by_role(BucketRole::Datalake)
        .map(|b| b.key.clone())
        .collect();
    let catalogs = match t.named_tables(cx, "catalogs") {
        Some(tables) => tables
            .into_iter()
            .map(|(key, mut c)| {
                let catalog = catalog(&mut c, cx, env, key, &layers, external_locations);
                c.finish(cx);
                catalog
            })
            .collect(),
        // One catalog per datalake layer, rooted in its bucket.
        None => layers
            .iter()
            .map(|key| UcCatalog {
                key: key.clone(),
                name: default_catalog_name(env, key),
                storage: external_locations.then(|| key.clone()),
                comment: default_comment(env, key),
                schemas: vec![UcSchema {
                    name: DEFAULT_SCHEMA.into(),
                    grants: Vec::new(),
                }],
                grants: Vec::new(),
            })
            .collect(),
    };
    t.finish(cx);

    // Encrypted with the datalake's key, like the layers whose tables it may hold.
    let kms_key = buckets
        .by_role(BucketRole::Datalake)
        .next()
        .map_or_else(|| "datalake".to_string(), |b| b.kms_key.clone());
    buckets.all.push(Bucket {
        key: "metastore".into(),
        role: BucketRole::Metastore,
        name: bucket.clone(),
        kms_key,
        versioning: true,
        lifecycle: None,
        // Unity Catalog writes managed tables without an encryption header; the bucket's
        // default SSE-KMS encrypts them, and a policy demanding the header would refuse them.
        enforce_sse_kms: false,
        enforce_tls: true,
        access_logging: false,
    });

    Some(UnityCatalog {
        metastore_name,
        bucket,
        role,
        owner,
        external_locations,
        system_schemas,
        catalogs,
    })
}

/// `<prefix>_<key>` with every character a catalog name cannot have made `_`.
fn default_catalog_name(env: &Environment, key: &str) -> String {
    format!("{}_{key}", env.prefix)
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn default_comment(env: &Environment, key: &str) -> String {
    format!("{key} layer of {} (brickstack)", env.name)
}

/// `system_schemas`: each one Databricks offers, each once; default access, billing, compute.
fn system_schemas(t: &mut Table<'_, '_>, cx: &mut Cx) -> Vec<String> {
    let Some(written) = t.str_list(cx, "system_schemas") else {
        return ["access", "billing", "compute"].map(String::from).to_vec();
    };
    let path = format!("{}.system_schemas", t.path);
    let mut out: Vec<String> = Vec::new();
    for (i, schema) in written.into_iter().enumerate() {
        let item = format!("{path}[{i}]");
        if !UnityCatalog::SYSTEM_SCHEMAS.contains(&schema.as_str()) {
            cx.poison(&path);
            let listed = backticked(&UnityCatalog::SYSTEM_SCHEMAS);
            let help = match did_you_mean(&schema, UnityCatalog::SYSTEM_SCHEMAS) {
                Some(best) => format!("did you mean `{best}`? the system schemas are {listed}"),
                None => format!("the system schemas are {listed}"),
            };
            let span = cx.locate(&item);
            cx.report(
                Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    &item,
                    span,
                    format!("`{schema}` is not a system schema"),
                )
                .with_help(help),
            );
        } else if out.contains(&schema) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &item,
                format!("system schema `{schema}` is listed twice"),
                "list each system schema once",
            );
        } else {
            out.push(schema);
        }
    }
    out
}

fn catalog(
    t: &mut Table<'_, '_>,
    cx: &mut Cx,
    env: &Environment,
    key: String,
    layers: &[String],
    external_locations: bool,
) -> UcCatalog {
    let name = t
        .str(cx, "name")
        .unwrap_or_else(|| default_catalog_name(env, &key));
    let storage = match t.str(cx, "storage") {
        Some(s) => Some(s),
        None if external_locations && layers.contains(&key) => Some(key.clone()),
        None => None,
    };
    let comment = t
        .str(cx, "comment")
        .unwrap_or_else(|| default_comment(env, &key));
    let schemas_path = format!("{}.schemas", t.path);
    let schemas = match t.str_or_table_array(cx, "schemas") {
        None => vec![UcSchema {
            name: DEFAULT_SCHEMA.into(),
            grants: Vec::new(),
        }],
        Some(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Item::Str(name) => Some(UcSchema {
                    name,
                    grants: Vec::new(),
                }),
                Item::Table(mut s) => {
                    let name = s.str(cx, "name");
                    if name.is_none() && !s.has("name") {
                        cx.error_at(
                            DiagnosticCode::MissingKey,
                            &s.path,
                            format!("`{}` needs `name`", s.path),
                            "write the schema as `{ name = \"landing\" }`, or as the string `\"landing\"`",
                        );
                    }
                    let grants = grants(&mut s, cx, &UcSchema::PRIVILEGES, "schema");
                    s.finish(cx);
                    if name.is_none() {
                        cx.poison(&schemas_path);
                    }
                    Some(UcSchema {
                        name: name?,
                        grants,
                    })
                }
            })
            .collect(),
    };
    let grants = grants(t, cx, &UcCatalog::PRIVILEGES, "catalog");
    UcCatalog {
        key,
        name,
        storage,
        comment,
        schemas,
        grants,
    }
}

/// `grants`: `[[...grants]]` tables or inline `{ group, privileges }`, each with a group key and
/// at least one privilege of the securable; privileges upper case, sorted, each once.
fn grants(t: &mut Table<'_, '_>, cx: &mut Cx, allowed: &[&str], securable: &str) -> Vec<UcGrant> {
    let Some(tables) = t.table_array(cx, "grants") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for mut g in tables {
        let group = g.str(cx, "group");
        if group.is_none() && !g.has("group") {
            cx.error_at(
                DiagnosticCode::MissingKey,
                &g.path,
                format!("`{}` needs `group`", g.path),
                "name the `[account_groups]` key the grant is for, e.g. `group = \"analysts\"`",
            );
        }
        let privileges_path = format!("{}.privileges", g.path);
        let written = g.str_list(cx, "privileges");
        if written.is_none() && !g.has("privileges") {
            cx.error_at(
                DiagnosticCode::MissingKey,
                &g.path,
                format!("`{}` needs `privileges`", g.path),
                format!(
                    "list what the group may do, e.g. `privileges = [\"USE_{}\", \"SELECT\"]`",
                    securable.to_uppercase()
                ),
            );
        }
        let written = written.unwrap_or_default();
        if written.is_empty() && g.has("privileges") {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &privileges_path,
                format!("`{privileges_path}` grants nothing"),
                "list at least one privilege, or remove the grant",
            );
        }
        let mut privileges = Vec::new();
        for (i, privilege) in written.into_iter().enumerate() {
            if allowed.contains(&privilege.as_str()) {
                privileges.push(privilege);
                continue;
            }
            let item = format!("{privileges_path}[{i}]");
            let spelled = privilege.trim().to_uppercase().replace([' ', '-'], "_");
            let help = if allowed.contains(&spelled.as_str()) {
                format!("write it as `{spelled}`")
            } else if UcCatalog::PRIVILEGES.contains(&spelled.as_str()) {
                format!("`{spelled}` is granted on the catalog: move it to the catalog's `grants`")
            } else {
                match did_you_mean(&spelled, allowed.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "the privileges on a {securable} are {}",
                        backticked(allowed)
                    ),
                }
            };
            let span = cx.locate(&item);
            cx.report(
                Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    &item,
                    span,
                    format!("`{privilege}` is not a Unity Catalog privilege on a {securable}"),
                )
                .with_help(help),
            );
        }
        privileges.sort();
        privileges.dedup();
        g.finish(cx);
        match group {
            Some(group) => out.push(UcGrant { group, privileges }),
            // Later grants' indices no longer match the file: rules about them would mislocate.
            None => cx.poison(&format!("{}.grants", t.path)),
        }
    }
    out
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
