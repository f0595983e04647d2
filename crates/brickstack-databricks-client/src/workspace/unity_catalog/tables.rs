//! Tables (`/tables`): the third level of the namespace, `catalog.schema.table`.
//!
//! Get, list and delete are the vendor's public API. The vendor creates tables through SQL
//! (`CREATE TABLE` on a warehouse or cluster), not REST; [`WorkspaceClient::create_table`] posts
//! to `/tables`, the form minilake and brickstack's emulator serve (and the one the SDKs'
//! integration tests use), so tests can make a table through the metastore without a SQL engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{UC, segment};
use crate::client::error::Error;
use crate::workspace::WorkspaceClient;

/// A column (`ColumnInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    /// SQL type text, e.g. `bigint`, `decimal(10,2)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    /// E.g. `LONG`, `STRING`, `DECIMAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl ColumnInfo {
    /// A column of SQL type `type_text` whose type name is `type_name` (e.g. `("id", "bigint",
    /// "LONG")`).
    pub fn new(name: &str, type_text: &str, type_name: &str) -> Self {
        ColumnInfo {
            name: name.to_string(),
            type_text: Some(type_text.to_string()),
            type_name: Some(type_name.to_string()),
            ..ColumnInfo::default()
        }
    }
}

/// A table as the API reports it (`TableInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    /// `catalog.schema.table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
    /// `MANAGED`, `EXTERNAL`, `VIEW`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    /// `DELTA`, `PARQUET`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
}

impl TableInfo {
    /// `catalog.schema.table`, from `full_name` or built when the API left it out.
    pub fn qualified_name(&self) -> String {
        self.full_name
            .clone()
            .unwrap_or_else(|| format!("{}.{}.{}", self.catalog_name, self.schema_name, self.name))
    }
}

/// What a new table is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewTable {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    /// `MANAGED` or `EXTERNAL`.
    pub table_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_source_format: Option<String>,
    /// Required for an external table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    pub columns: Vec<ColumnInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

const PATH: &str = "tables";

impl WorkspaceClient {
    /// Creates a table (see the module doc); a create whose answer was lost is found by name.
    pub async fn create_table(&self, new: &NewTable) -> Result<TableInfo, Error> {
        let full_name = format!("{}.{}.{}", new.catalog_name, new.schema_name, new.name);
        self.client()
            .create(&format!("{UC}/{PATH}"), new, || self.get_table(&full_name))
            .await
    }

    /// The table `catalog.schema.table`; `None` when it does not exist. A caller who may not see
    /// it (no `USE_CATALOG`, `USE_SCHEMA` and `SELECT` or ownership) gets an error of kind
    /// `PermissionDenied`.
    pub async fn get_table(&self, full_name: &str) -> Result<Option<TableInfo>, Error> {
        self.uc_get(&format!("{UC}/{PATH}/{}", segment(full_name)), &[])
            .await
    }

    /// Every table of the schema the caller may see.
    pub async fn list_tables(
        &self,
        catalog_name: &str,
        schema_name: &str,
    ) -> Result<Vec<TableInfo>, Error> {
        self.uc_list(
            &format!("{UC}/{PATH}"),
            &[
                ("catalog_name", catalog_name.to_string()),
                ("schema_name", schema_name.to_string()),
            ],
            "tables",
        )
        .await
    }

    pub async fn delete_table(&self, full_name: &str) -> Result<(), Error> {
        self.uc_delete(&format!("{UC}/{PATH}/{}", segment(full_name)), false)
            .await
    }
}
