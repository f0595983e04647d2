//! Unity Catalog on each workspace's API (`/w/{id}/api/2.1/unity-catalog/…`), one module per
//! object kind: storage credentials, external locations, catalogs, schemas, tables, grants and
//! effective permissions, system schemas, and the workspace's own metastore
//! (`current-metastore-assignment`, `metastore_summary`).
//!
//! The objects belong to the metastore, not the workspace: every workspace the account assigned to
//! the same metastore sees the same catalogs. The metastore is the one the account-level
//! assignment (`account::unity_catalog`) names; a workspace without one answers every call here
//! with `404 METASTORE_DOES_NOT_EXIST` "No metastore assigned for the current workspace." (the
//! vendor's code and message). Names of catalogs, schemas, tables, external locations and storage
//! credentials are stored in lower case, as the vendor documents.
//!
//! Error codes are the vendor's (`CATALOG_DOES_NOT_EXIST`, `SCHEMA_ALREADY_EXISTS`,
//! `STORAGE_CREDENTIAL_DOES_NOT_EXIST`, `CATALOG_NOT_EMPTY`, `PRINCIPAL_DOES_NOT_EXIST`, …, from the
//! SDKs' error-code list); their statuses (404 for `*_DOES_NOT_EXIST`, 409 for
//! `*_ALREADY_EXISTS`, 400 otherwise) and the messages are inferred.
//!
//! Visibility ([`access`]): reads of catalogs, schemas and tables are filtered by the caller's
//! privileges, as the vendor documents for its list and get calls. The caller is the real one (the
//! OAuth client or PAT owner of the request, with the account groups it belongs to), so a test
//! proves visibility by calling as a service principal that is, or is not, in a granted group; no
//! test-only header is involved. The configured client is treated as a metastore admin (it sees
//! everything), as is every member of the metastore's owner. Writes, grants reads, storage
//! credentials, external locations and system schemas are not checked against privileges.

pub(crate) mod access;
pub(crate) mod catalogs;
pub(crate) mod external_locations;
pub(crate) mod grants;
pub(crate) mod metastore;
pub(crate) mod schemas;
pub(crate) mod storage_credentials;
pub(crate) mod system_schemas;
pub(crate) mod tables;

use axum::Router;
use axum::http::StatusCode;
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::{Caller, Ctx};
use crate::account::unity_catalog::Metastore;
use crate::error::ApiError;
use crate::server::AppState;
use crate::state::{Account, State};

pub(crate) const UC: &str = "/api/2.1/unity-catalog";

/// Everything a metastore holds besides its storage credentials (which the account API reaches
/// too, so they stay on [`Metastore`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct MetastoreObjects {
    pub external_locations: IndexMap<String, external_locations::ExternalLocation>,
    pub catalogs: IndexMap<String, catalogs::Catalog>,
    /// By full name `catalog.schema`.
    pub schemas: IndexMap<String, schemas::Schema>,
    /// By full name `catalog.schema.table`.
    pub tables: IndexMap<String, tables::Table>,
    /// (securable type in upper case, full name) → principal → privileges (sorted).
    pub grants: IndexMap<(String, String), IndexMap<String, Vec<String>>>,
    /// Enabled system schemas.
    pub system_schemas: Vec<String>,
}

impl MetastoreObjects {
    /// The user-created objects, by kind, for the inventory; kinds without objects left out.
    pub fn inventory(&self, out: &mut serde_json::Map<String, Value>) {
        let mut put = |kind: &str, items: Vec<Value>| {
            if !items.is_empty() {
                out.insert(kind.into(), Value::Array(items));
            }
        };
        put(
            "external_locations",
            self.external_locations
                .values()
                .map(|l| {
                    let mut v =
                        json!({"name": l.name, "url": l.url, "credential_name": l.credential_name});
                    if let Some(e) = &l.encryption_details {
                        v["encryption_details"] = e.clone();
                    }
                    v
                })
                .collect(),
        );
        put(
            "catalogs",
            self.catalogs
                .values()
                .map(|c| json!({"name": c.name, "storage_root": c.storage_root, "owner": c.owner}))
                .collect(),
        );
        put(
            "schemas",
            self.schemas
                .values()
                .filter(|s| s.name != schemas::INFORMATION_SCHEMA)
                .map(|s| json!({"full_name": s.full_name(), "owner": s.owner}))
                .collect(),
        );
        put(
            "tables",
            self.tables
                .values()
                .map(|t| json!({"full_name": t.full_name(), "table_type": t.table_type}))
                .collect(),
        );
        put(
            "grants",
            self.grants
                .iter()
                .flat_map(|((kind, name), principals)| {
                    principals.iter().map(move |(principal, privileges)| {
                        json!({
                            "securable_type": kind,
                            "full_name": name,
                            "principal": principal,
                            "privileges": privileges,
                        })
                    })
                })
                .collect(),
        );
        put(
            "system_schemas",
            self.system_schemas
                .iter()
                .map(|s| Value::String(s.clone()))
                .collect(),
        );
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(metastore::routes())
        .merge(storage_credentials::routes())
        .merge(external_locations::routes())
        .merge(catalogs::routes())
        .merge(schemas::routes())
        .merge(tables::routes())
        .merge(grants::routes())
        .merge(system_schemas::routes())
}

/// 404 `METASTORE_DOES_NOT_EXIST`, the vendor's answer on a workspace without a metastore.
pub(crate) fn no_metastore() -> ApiError {
    ApiError::other(
        StatusCode::NOT_FOUND,
        "METASTORE_DOES_NOT_EXIST",
        "No metastore assigned for the current workspace.",
    )
}

pub(crate) fn does_not_exist(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::other(StatusCode::NOT_FOUND, code, message)
}

pub(crate) fn already_exists(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::other(StatusCode::CONFLICT, code, message)
}

/// The account and metastore ids behind the calling workspace.
pub(crate) fn locate(state: &mut State, ctx: &Ctx) -> Result<(String, String), ApiError> {
    let account_id = ctx.data(state)?.account_id.clone();
    let metastore_id = state
        .account(&account_id)
        .metastore_assignments
        .get(&ctx.workspace_id)
        .map(|a| a.metastore_id.clone())
        .ok_or_else(no_metastore)?;
    Ok((account_id, metastore_id))
}

/// The calling workspace's account and metastore, for a handler: the metastore through
/// [`Uc::metastore`], the account (groups, principals) through [`Uc::account`].
pub(crate) struct Uc<'a> {
    pub account: &'a mut Account,
    pub metastore_id: String,
}

impl Uc<'_> {
    pub fn open<'s>(state: &'s mut State, ctx: &Ctx) -> Result<Uc<'s>, ApiError> {
        let (account_id, metastore_id) = locate(state, ctx)?;
        let account = state.account(&account_id);
        if !account.metastores.contains_key(&metastore_id) {
            return Err(no_metastore());
        }
        Ok(Uc {
            account,
            metastore_id,
        })
    }

    pub fn metastore(&mut self) -> &mut Metastore {
        self.account
            .metastores
            .get_mut(&self.metastore_id)
            .expect("checked at open")
    }

    pub fn objects(&mut self) -> &mut MetastoreObjects {
        &mut self.metastore().objects
    }

    /// The caller as Unity Catalog sees it (its names, whether it is a metastore admin).
    pub fn viewer(&self, caller: &Caller) -> access::Viewer {
        let owner = self
            .account
            .metastores
            .get(&self.metastore_id)
            .map(|m| m.owner.clone())
            .unwrap_or_default();
        access::Viewer::of(self.account, caller, &owner)
    }
}

/// Whether `full_name` is `name` or a securable under it (`name.…`).
fn is_within(full_name: &str, name: &str) -> bool {
    full_name == name
        || full_name
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Forgets every schema, table and grant at or under the catalog or schema `name` (a forced
/// delete).
pub(crate) fn forget_prefix(objects: &mut MetastoreObjects, name: &str) {
    objects.schemas.retain(|k, _| !is_within(k, name));
    objects.tables.retain(|k, _| !is_within(k, name));
    objects.grants.retain(|(kind, k), _| {
        !(matches!(kind.as_str(), "CATALOG" | "SCHEMA" | "TABLE") && is_within(k, name))
    });
}

/// Renames the catalog or schema `old` to `new` in the full names of what is under it.
pub(crate) fn rename_prefix(objects: &mut MetastoreObjects, old: &str, new: &str) {
    let renamed = |k: &str| format!("{new}{}", &k[old.len()..]);
    let depth = old.split('.').count();
    objects.schemas = std::mem::take(&mut objects.schemas)
        .into_iter()
        .map(|(k, mut s)| {
            if is_within(&k, old) {
                if depth == 1 {
                    s.catalog_name = new.to_string();
                } else {
                    s.name = new.rsplit('.').next().unwrap_or(new).to_string();
                }
                (renamed(&k), s)
            } else {
                (k, s)
            }
        })
        .collect();
    objects.tables = std::mem::take(&mut objects.tables)
        .into_iter()
        .map(|(k, mut t)| {
            if is_within(&k, old) {
                let parts: Vec<&str> = new.split('.').collect();
                t.catalog_name = parts[0].to_string();
                if let Some(schema) = parts.get(1) {
                    t.schema_name = (*schema).to_string();
                }
                (renamed(&k), t)
            } else {
                (k, t)
            }
        })
        .collect();
    objects.grants = std::mem::take(&mut objects.grants)
        .into_iter()
        .map(|((kind, k), v)| {
            if matches!(kind.as_str(), "CATALOG" | "SCHEMA" | "TABLE") && is_within(&k, old) {
                ((kind, renamed(&k)), v)
            } else {
                ((kind, k), v)
            }
        })
        .collect();
}

/// A name as Unity Catalog keeps it: trimmed and in lower case. Refuses what the vendor documents
/// as invalid in names: empty, periods, spaces, forward slashes, control characters.
pub(crate) fn object_name(raw: Option<&str>, field: &str) -> Result<String, ApiError> {
    let name = raw.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::invalid(format!(
            "Missing required field: {field}"
        )));
    }
    if name
        .chars()
        .any(|c| c == '.' || c == ' ' || c == '/' || c.is_control())
    {
        return Err(ApiError::invalid(format!(
            "Invalid {field} '{name}': names cannot contain periods, spaces, forward slashes or control characters"
        )));
    }
    Ok(name.to_lowercase())
}

/// `url` without trailing slashes, for prefix comparisons.
pub(crate) fn trim_url(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// Whether `url` is `base` or under it.
pub(crate) fn is_under(url: &str, base: &str) -> bool {
    let (url, base) = (trim_url(url), trim_url(base));
    url == base || url.starts_with(&format!("{base}/"))
}

/// An `s3://bucket[/prefix]` URL, or a 400 saying what is wrong.
pub(crate) fn s3_url(raw: Option<&str>, field: &str) -> Result<String, ApiError> {
    let url = raw.map(str::trim).unwrap_or_default();
    if url.is_empty() {
        return Err(ApiError::invalid(format!(
            "Missing required field: {field}"
        )));
    }
    let bucket = url
        .strip_prefix("s3://")
        .map(|rest| rest.split('/').next().unwrap_or_default())
        .unwrap_or_default();
    if bucket.is_empty() {
        return Err(ApiError::invalid(format!(
            "Invalid {field} '{url}': expected s3://<bucket>[/<path>]"
        )));
    }
    Ok(url.to_string())
}
