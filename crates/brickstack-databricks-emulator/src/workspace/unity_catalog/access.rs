//! Who the caller is to Unity Catalog, and what it may see.
//!
//! A caller's names are its own (a service principal's application id, a user's user name), the
//! display names of the account groups it belongs to (directly or nested), and `account users`,
//! the group every account principal is in. It is a metastore admin when it is the configured
//! client or one of its names owns the metastore. Its privileges on an object are those granted
//! to any of its names on the object or an ancestor (schema, catalog, metastore); `ALL_PRIVILEGES`
//! stands for every privilege.
//!
//! The rules are the vendor's documented ones for reads: a catalog is visible to its owner and to
//! holders of `USE_CATALOG` (or `BROWSE`); a schema to the catalog's owner, its own owner and
//! holders of `USE_SCHEMA` who may use the catalog; a table to the catalog's owner, the schema's
//! owner who may use the catalog, and to those who may use both the catalog and the schema and
//! own the table or hold `SELECT` or `MODIFY` on it. A read of an object the caller may not see
//! is `403 PERMISSION_DENIED` (message inferred); listings leave such objects out.

use std::collections::BTreeSet;

use super::MetastoreObjects;
use crate::account::groups::groups_of;
use crate::state::Account;
use crate::workspace::Caller;

/// The group every account principal belongs to.
pub(crate) const ACCOUNT_USERS: &str = "account users";

/// The caller as Unity Catalog sees it.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub names: Vec<String>,
    pub admin: bool,
}

impl Viewer {
    pub fn of(account: &Account, caller: &Caller, metastore_owner: &str) -> Viewer {
        let mut names = vec![caller.name.clone(), ACCOUNT_USERS.to_string()];
        let principal_id = account
            .service_principals
            .values()
            .find(|sp| sp.application_id == caller.name)
            .map(|sp| sp.id.clone())
            .or_else(|| {
                account
                    .users
                    .values()
                    .find(|u| u.user_name == caller.name)
                    .map(|u| u.id.clone())
            });
        if let Some(id) = principal_id {
            for group in groups_of(account, &id) {
                if let Some(g) = account.groups.get(&group) {
                    names.push(g.display_name.clone());
                }
            }
        }
        let admin = caller.admin_client || names.iter().any(|n| n == metastore_owner);
        Viewer { names, admin }
    }

    pub fn is(&self, principal: &str) -> bool {
        self.names.iter().any(|n| n == principal)
    }
}

/// The securables a grant on `(kind, full_name)` is inherited from, nearest first (the metastore
/// last).
pub(crate) fn ancestors(kind: &str, full_name: &str, metastore_id: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = full_name.split('.').collect();
    let mut chain = Vec::new();
    if matches!(kind, "TABLE" | "VOLUME" | "FUNCTION") && parts.len() == 3 {
        chain.push(("SCHEMA".to_string(), format!("{}.{}", parts[0], parts[1])));
    }
    if matches!(kind, "TABLE" | "VOLUME" | "FUNCTION" | "SCHEMA") && parts.len() >= 2 {
        chain.push(("CATALOG".to_string(), parts[0].to_string()));
    }
    if kind != "METASTORE" {
        chain.push(("METASTORE".to_string(), metastore_id.to_string()));
    }
    chain
}

/// Every privilege `viewer` holds on the securable, directly or inherited.
pub(crate) fn privileges(
    objects: &MetastoreObjects,
    metastore_id: &str,
    kind: &str,
    full_name: &str,
    viewer: &Viewer,
) -> BTreeSet<String> {
    let mut chain = vec![(kind.to_string(), full_name.to_string())];
    chain.extend(ancestors(kind, full_name, metastore_id));
    chain
        .iter()
        .filter_map(|key| objects.grants.get(key))
        .flat_map(|principals| {
            principals
                .iter()
                .filter(|(p, _)| viewer.is(p))
                .flat_map(|(_, privileges)| privileges.iter().cloned())
        })
        .collect()
}

fn holds(privileges: &BTreeSet<String>, any_of: &[&str]) -> bool {
    privileges.contains("ALL_PRIVILEGES") || any_of.iter().any(|p| privileges.contains(*p))
}

fn owns(objects: &MetastoreObjects, kind: &str, full_name: &str, viewer: &Viewer) -> bool {
    let owner = match kind {
        "CATALOG" => objects.catalogs.get(full_name).map(|c| &c.owner),
        "SCHEMA" => objects.schemas.get(full_name).map(|s| &s.owner),
        "TABLE" => objects.tables.get(full_name).map(|t| &t.owner),
        _ => None,
    };
    owner.is_some_and(|o| viewer.is(o))
}

/// May `viewer` see (and use) the catalog?
pub(crate) fn may_use_catalog(
    objects: &MetastoreObjects,
    metastore_id: &str,
    catalog: &str,
    viewer: &Viewer,
) -> bool {
    viewer.admin
        || owns(objects, "CATALOG", catalog, viewer)
        || holds(
            &privileges(objects, metastore_id, "CATALOG", catalog, viewer),
            &["USE_CATALOG", "BROWSE"],
        )
}

/// May `viewer` see the schema `catalog.schema`?
pub(crate) fn may_see_schema(
    objects: &MetastoreObjects,
    metastore_id: &str,
    full_name: &str,
    viewer: &Viewer,
) -> bool {
    let catalog = full_name.split('.').next().unwrap_or_default();
    if viewer.admin || owns(objects, "CATALOG", catalog, viewer) {
        return true;
    }
    may_use_catalog(objects, metastore_id, catalog, viewer)
        && (owns(objects, "SCHEMA", full_name, viewer)
            || holds(
                &privileges(objects, metastore_id, "SCHEMA", full_name, viewer),
                &["USE_SCHEMA", "BROWSE"],
            ))
}

/// May `viewer` see the table `catalog.schema.table`?
pub(crate) fn may_see_table(
    objects: &MetastoreObjects,
    metastore_id: &str,
    full_name: &str,
    viewer: &Viewer,
) -> bool {
    let parts: Vec<&str> = full_name.split('.').collect();
    let [catalog, schema, _] = parts.as_slice() else {
        return false;
    };
    let schema_name = format!("{catalog}.{schema}");
    if viewer.admin || owns(objects, "CATALOG", catalog, viewer) {
        return true;
    }
    if !may_use_catalog(objects, metastore_id, catalog, viewer) {
        return false;
    }
    if owns(objects, "SCHEMA", &schema_name, viewer) {
        return true;
    }
    let on_schema = privileges(objects, metastore_id, "SCHEMA", &schema_name, viewer);
    if !holds(&on_schema, &["USE_SCHEMA"]) {
        return false;
    }
    owns(objects, "TABLE", full_name, viewer)
        || holds(
            &privileges(objects, metastore_id, "TABLE", full_name, viewer),
            &["SELECT", "MODIFY", "BROWSE"],
        )
}
