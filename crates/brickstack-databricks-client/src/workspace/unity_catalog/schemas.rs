//! Schemas (`/schemas`): the second level of the namespace, addressed as `catalog.schema`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

/// A schema as the API reports it (`SchemaInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaInfo {
    pub name: String,
    pub catalog_name: String,
    /// `catalog.schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
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

impl SchemaInfo {
    /// `catalog.schema`, from `full_name` or built when the API left it out.
    pub fn qualified_name(&self) -> String {
        self.full_name
            .clone()
            .unwrap_or_else(|| format!("{}.{}", self.catalog_name, self.name))
    }
}

/// What a new schema is made of (`CreateSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewSchema {
    pub name: String,
    pub catalog_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
}

/// A partial update (`PATCH`): members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
}

const PATH: &str = "schemas";

impl WorkspaceClient {
    /// Creates a schema; a create whose answer was lost is found by its full name.
    pub async fn create_schema(&self, new: &NewSchema) -> Result<SchemaInfo, Error> {
        let full_name = format!("{}.{}", new.catalog_name, new.name);
        self.client()
            .create(&format!("{UC}/{PATH}"), new, || self.get_schema(&full_name))
            .await
    }

    /// The schema `catalog.schema`; `None` when it does not exist.
    pub async fn get_schema(&self, full_name: &str) -> Result<Option<SchemaInfo>, Error> {
        self.uc_get(&format!("{UC}/{PATH}/{}", segment(full_name)), &[])
            .await
    }

    /// Every schema of the catalog the caller may see.
    pub async fn list_schemas(&self, catalog_name: &str) -> Result<Vec<SchemaInfo>, Error> {
        self.uc_list(
            &format!("{UC}/{PATH}"),
            &[("catalog_name", catalog_name.to_string())],
            "schemas",
        )
        .await
    }

    pub async fn update_schema(
        &self,
        full_name: &str,
        update: &SchemaUpdate,
    ) -> Result<SchemaInfo, Error> {
        self.client()
            .patch(&format!("{UC}/{PATH}/{}", segment(full_name)), &[], update)
            .await
    }

    /// Deletes a schema; `force` deletes one that still holds tables.
    pub async fn delete_schema(&self, full_name: &str, force: bool) -> Result<(), Error> {
        self.uc_delete(&format!("{UC}/{PATH}/{}", segment(full_name)), force)
            .await
    }
}
