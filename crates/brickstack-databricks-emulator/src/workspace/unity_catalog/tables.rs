//! Tables (`/tables`): get, list and delete as the vendor's API has them, and a create (`POST
//! /tables`) that the vendor does not expose (it creates tables through SQL) but minilake serves
//! in the same shape, so a test can make a table through the metastore without a SQL engine.
//!
//! A table needs its catalog and schema (`404 SCHEMA_DOES_NOT_EXIST`), at least one column with a
//! name and a type, and a `table_type` of `MANAGED` (the default; stored under the schema's,
//! catalog's or metastore's root) or `EXTERNAL` (its `storage_location` under an external
//! location). Reads are filtered by [`super::access`].

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::access::{may_see_schema, may_see_table};
use super::catalogs::{denied, managed_location};
use super::external_locations::containing;
use super::{UC, Uc, already_exists, does_not_exist, object_name, s3_url};
use crate::error::{ApiError, parse_json};
use crate::ids::uuid_v4;
use crate::server::AppState;
use crate::workspace::{Ctx, empty, query_param};

/// A column (`ColumnInfo`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Column {
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_json: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i64>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default)]
    pub nullable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A table (`TableInfo`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Table {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    pub table_id: String,
    pub table_type: String,
    pub data_source_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub owner: String,
    pub metastore_id: String,
    pub columns: Vec<Column>,
    pub properties: BTreeMap<String, String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Table {
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.catalog_name, self.schema_name, self.name)
    }

    fn to_json(&self) -> Value {
        let mut v = json!(self);
        v["full_name"] = self.full_name().into();
        v
    }
}

#[derive(Deserialize)]
struct TableRequest {
    name: Option<String>,
    catalog_name: Option<String>,
    schema_name: Option<String>,
    table_type: Option<String>,
    data_source_format: Option<String>,
    storage_location: Option<String>,
    columns: Option<Vec<Column>>,
    comment: Option<String>,
    properties: Option<BTreeMap<String, String>>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{UC}/tables"), get(list).post(create))
        .route(
            &format!("{UC}/tables/{{full_name}}"),
            get(read).delete(remove),
        )
}

fn not_found(full_name: &str) -> ApiError {
    does_not_exist(
        "TABLE_DOES_NOT_EXIST",
        format!("Table '{full_name}' does not exist."),
    )
}

/// Columns checked (a name and a type each) and numbered.
fn columns(raw: Vec<Column>, table: &str) -> Result<Vec<Column>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::invalid(format!(
            "Table '{table}' needs at least one column."
        )));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            // Column names keep their case, unlike the names of securables.
            let name = c
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid(format!("Missing required field: columns[{i}].name"))
                })?
                .to_string();
            if c.type_text.is_none() && c.type_name.is_none() {
                return Err(ApiError::invalid(format!(
                    "Column '{name}' of table '{table}' needs type_text or type_name."
                )));
            }
            if c.type_text.is_none() {
                c.type_text = c.type_name.as_ref().map(|t| t.to_lowercase());
            }
            if c.type_name.is_none() {
                c.type_name = c.type_text.as_ref().map(|t| t.to_uppercase());
            }
            c.name = Some(name);
            c.position = Some(i as i64);
            c.nullable = Some(c.nullable.unwrap_or(true));
            Ok(c)
        })
        .collect()
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: TableRequest = parse_json(&body)?;
    let name = object_name(req.name.as_deref(), "name")?;
    let catalog = object_name(req.catalog_name.as_deref(), "catalog_name")?;
    let schema = object_name(req.schema_name.as_deref(), "schema_name")?;
    let full_name = format!("{catalog}.{schema}.{name}");
    let table_type = req
        .table_type
        .unwrap_or_else(|| "MANAGED".to_string())
        .to_uppercase();
    if table_type != "MANAGED" && table_type != "EXTERNAL" {
        return Err(ApiError::invalid(format!(
            "Invalid table_type '{table_type}': expected MANAGED or EXTERNAL."
        )));
    }
    let columns = columns(req.columns.unwrap_or_default(), &full_name)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let schema_name = format!("{catalog}.{schema}");
    let Some(parent) = uc.objects().schemas.get(&schema_name).cloned() else {
        if !uc.objects().catalogs.contains_key(&catalog) {
            return Err(super::catalogs::not_found(&catalog));
        }
        return Err(super::schemas::not_found(&schema_name));
    };
    if uc.objects().tables.contains_key(&full_name) {
        return Err(already_exists(
            "TABLE_ALREADY_EXISTS",
            format!("Table '{full_name}' already exists."),
        ));
    }
    let storage_location = if table_type == "EXTERNAL" {
        let location = s3_url(req.storage_location.as_deref(), "storage_location")?;
        if containing(&mut uc, &location).is_none() {
            return Err(ApiError::invalid(format!(
                "storage_location '{location}' is not under any external location."
            )));
        }
        location
    } else {
        let catalog_location = uc
            .objects()
            .catalogs
            .get(&catalog)
            .map(|c| c.storage_location.clone())
            .unwrap_or_default();
        let base = parent.storage_location.clone().unwrap_or(catalog_location);
        managed_location(&base, "tables")
    };
    let table = Table {
        name,
        catalog_name: catalog,
        schema_name: schema,
        table_id: uuid_v4(),
        table_type,
        data_source_format: req
            .data_source_format
            .unwrap_or_else(|| "DELTA".to_string())
            .to_uppercase(),
        storage_location: Some(storage_location),
        comment: req.comment.filter(|c| !c.is_empty()),
        owner: ctx.caller.name.clone(),
        metastore_id: uc.metastore_id.clone(),
        columns,
        properties: req.properties.unwrap_or_default(),
        created_at: now,
        created_by: ctx.caller.name.clone(),
        updated_at: now,
        updated_by: ctx.caller.name.clone(),
    };
    let out = table.to_json();
    uc.objects().tables.insert(full_name, table);
    Ok(Json(out))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let catalog = query_param(&query, "catalog_name")?.to_lowercase();
    let schema = query_param(&query, "schema_name")?.to_lowercase();
    let schema_name = format!("{catalog}.{schema}");
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let viewer = uc.viewer(&ctx.caller);
    let metastore_id = uc.metastore_id.clone();
    let objects = uc.objects();
    if !objects.schemas.contains_key(&schema_name) {
        if !objects.catalogs.contains_key(&catalog) {
            return Err(super::catalogs::not_found(&catalog));
        }
        return Err(super::schemas::not_found(&schema_name));
    }
    if !may_see_schema(objects, &metastore_id, &schema_name, &viewer) {
        return Err(denied("Schema", &schema_name));
    }
    let visible: Vec<Value> = objects
        .tables
        .values()
        .filter(|t| t.catalog_name == catalog && t.schema_name == schema)
        .filter(|t| may_see_table(objects, &metastore_id, &t.full_name(), &viewer))
        .map(Table::to_json)
        .collect();
    Ok(Json(json!({ "tables": visible })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let full_name = params["full_name"].to_lowercase();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let viewer = uc.viewer(&ctx.caller);
    let metastore_id = uc.metastore_id.clone();
    let objects = uc.objects();
    let t = objects
        .tables
        .get(&full_name)
        .ok_or_else(|| not_found(&full_name))?;
    if !may_see_table(objects, &metastore_id, &full_name, &viewer) {
        return Err(denied("Table", &full_name));
    }
    Ok(Json(t.to_json()))
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let full_name = params["full_name"].to_lowercase();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let objects = uc.objects();
    objects
        .tables
        .shift_remove(&full_name)
        .ok_or_else(|| not_found(&full_name))?;
    objects
        .grants
        .retain(|(kind, name), _| !(kind == "TABLE" && *name == full_name));
    Ok(empty())
}
