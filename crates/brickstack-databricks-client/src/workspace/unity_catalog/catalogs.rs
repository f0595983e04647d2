//! Catalogs (`/catalogs`): the first level of Unity Catalog's three-level namespace. A catalog
//! with a `storage_root` keeps its managed tables there (under an external location); one
//! without uses the metastore's root.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

/// A catalog as the API reports it (`CatalogInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metastore_id: Option<String>,
    /// As sent at create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    /// Where managed tables actually go (the root plus a generated prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    /// E.g. `MANAGED_CATALOG`, `SYSTEM_CATALOG`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// What a new catalog is made of (`CreateCatalog`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewCatalog {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `s3://…` under an external location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
}

/// A partial update (`PATCH`): members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatalogUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
}

const PATH: &str = "catalogs";

impl WorkspaceClient {
    /// Creates a catalog; a create whose answer was lost is found by name.
    pub async fn create_catalog(&self, new: &NewCatalog) -> Result<CatalogInfo, Error> {
        self.client()
            .create(&format!("{UC}/{PATH}"), new, || self.get_catalog(&new.name))
            .await
    }

    /// The catalog named `name`; `None` when it does not exist. A caller without `USE_CATALOG`
    /// gets an error of kind `PermissionDenied`.
    pub async fn get_catalog(&self, name: &str) -> Result<Option<CatalogInfo>, Error> {
        self.uc_get(&format!("{UC}/{PATH}/{}", segment(name)), &[])
            .await
    }

    /// Every catalog the caller may see.
    pub async fn list_catalogs(&self) -> Result<Vec<CatalogInfo>, Error> {
        self.uc_list(&format!("{UC}/{PATH}"), &[], "catalogs").await
    }

    pub async fn update_catalog(
        &self,
        name: &str,
        update: &CatalogUpdate,
    ) -> Result<CatalogInfo, Error> {
        self.client()
            .patch(&format!("{UC}/{PATH}/{}", segment(name)), &[], update)
            .await
    }

    /// Deletes a catalog; `force` deletes one that still holds schemas other than `default`.
    pub async fn delete_catalog(&self, name: &str, force: bool) -> Result<(), Error> {
        self.uc_delete(&format!("{UC}/{PATH}/{}", segment(name)), force)
            .await
    }
}
