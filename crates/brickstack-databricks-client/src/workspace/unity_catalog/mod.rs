//! Unity Catalog on a workspace host (`/api/2.1/unity-catalog/…`), one module per object kind.
//!
//! Every call here needs the workspace to have a metastore; without one the platform answers
//! `METASTORE_DOES_NOT_EXIST` (a 404), which [`is_missing_metastore`] tells apart from a missing
//! object: the getters return `None` only for the latter.

pub mod catalogs;
pub mod external_locations;
pub mod grants;
pub mod metastore;
pub mod schemas;
pub mod storage_credentials;
pub mod system_schemas;
pub mod tables;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::WorkspaceClient;
use crate::client::error::Error;

pub(crate) const UC: &str = "/api/2.1/unity-catalog";

/// The error code of a Unity Catalog call on a workspace with no metastore assigned.
pub const METASTORE_DOES_NOT_EXIST: &str = "METASTORE_DOES_NOT_EXIST";

/// Whether `error` says the workspace has no metastore (rather than that an object is missing).
pub fn is_missing_metastore(error: &Error) -> bool {
    error
        .api()
        .is_some_and(|api| api.error_code == METASTORE_DOES_NOT_EXIST)
}

/// A page of a Unity Catalog listing: the items under `key`, and the token of the next page.
#[derive(Deserialize)]
struct Page {
    #[serde(flatten)]
    fields: serde_json::Map<String, serde_json::Value>,
}

impl WorkspaceClient {
    /// GET of one Unity Catalog object; `None` when it does not exist (but an error when the
    /// workspace has no metastore).
    pub(crate) async fn uc_get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, Error> {
        match self.client().get(path, query).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() && !is_missing_metastore(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of a listing under `key`, following `next_page_token` (asking for the paged
    /// form with `max_results=0`, the vendor's advice, only when `paged`).
    pub(crate) async fn uc_list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        key: &str,
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            if let Some(t) = &token {
                q.push(("page_token", t.clone()));
            }
            let page: Page = self.client().get(path, &q).await?;
            let mut fields = page.fields;
            if let Some(items) = fields.remove(key).filter(|v| !v.is_null()) {
                let items: Vec<T> = serde_json::from_value(items).map_err(|e| {
                    Error::new(
                        "GET",
                        path,
                        crate::client::error::ErrorDetail::Decode(format!("`{key}`: {e}")),
                    )
                })?;
                all.extend(items);
            }
            let next = fields
                .remove("next_page_token")
                .and_then(|v| v.as_str().map(str::to_string))
                .filter(|t| !t.is_empty());
            match next {
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// DELETE of one Unity Catalog object, `force` sent only when set.
    pub(crate) async fn uc_delete(&self, path: &str, force: bool) -> Result<(), Error> {
        let query: Vec<(&str, String)> = if force {
            vec![("force", "true".to_string())]
        } else {
            Vec::new()
        };
        self.client().delete::<IgnoredAny>(path, &query).await?;
        Ok(())
    }
}

/// `name` as one path segment: Unity Catalog names may hold characters a URL path may not.
pub(crate) fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
