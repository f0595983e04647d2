//! Schemas (`/schemas`), addressed as `catalog.schema`. The catalog must exist
//! (`404 CATALOG_DOES_NOT_EXIST`); a `storage_root` must be under an external location. A schema
//! holding tables is deleted only with `force=true` (`400 SCHEMA_NOT_EMPTY`). Reads are filtered
//! by [`super::access`]; listing the schemas of a catalog the caller may not use is
//! `403 PERMISSION_DENIED`.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::access::{may_see_schema, may_use_catalog};
use super::catalogs::{checked_root, denied, managed_location};
use super::{UC, Uc, already_exists, does_not_exist, object_name};
use crate::error::{ApiError, parse_json};
use crate::server::AppState;
use crate::workspace::{Ctx, empty, query_param};

/// The schema every catalog has, describing the catalog itself.
pub(crate) const INFORMATION_SCHEMA: &str = "information_schema";

/// A schema (`SchemaInfo`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Schema {
    pub name: String,
    pub catalog_name: String,
    full_name: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    pub metastore_id: String,
    pub properties: BTreeMap<String, String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Schema {
    pub fn new(
        catalog: &str,
        name: &str,
        owner: &str,
        metastore_id: &str,
        storage_root: Option<String>,
        now: i64,
    ) -> Schema {
        Schema {
            name: name.to_string(),
            catalog_name: catalog.to_string(),
            full_name: format!("{catalog}.{name}"),
            owner: owner.to_string(),
            comment: None,
            storage_location: storage_root
                .as_deref()
                .map(|r| managed_location(r, "schemas")),
            storage_root,
            metastore_id: metastore_id.to_string(),
            properties: BTreeMap::new(),
            created_at: now,
            created_by: owner.to_string(),
            updated_at: now,
            updated_by: owner.to_string(),
        }
    }

    pub fn full_name(&self) -> String {
        format!("{}.{}", self.catalog_name, self.name)
    }

    fn to_json(&self) -> Value {
        let mut v = json!(self);
        v["full_name"] = self.full_name().into();
        v
    }
}

#[derive(Deserialize)]
struct SchemaRequest {
    name: Option<String>,
    catalog_name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    storage_root: Option<String>,
    properties: Option<BTreeMap<String, String>>,
    owner: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{UC}/schemas"), get(list).post(create))
        .route(
            &format!("{UC}/schemas/{{full_name}}"),
            get(read).patch(update).delete(remove),
        )
}

pub(crate) fn not_found(full_name: &str) -> ApiError {
    does_not_exist(
        "SCHEMA_DOES_NOT_EXIST",
        format!("Schema '{full_name}' does not exist."),
    )
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: SchemaRequest = parse_json(&body)?;
    let name = object_name(req.name.as_deref(), "name")?;
    let catalog = object_name(req.catalog_name.as_deref(), "catalog_name")?;
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    if !uc.objects().catalogs.contains_key(&catalog) {
        return Err(super::catalogs::not_found(&catalog));
    }
    let full_name = format!("{catalog}.{name}");
    if uc.objects().schemas.contains_key(&full_name) {
        return Err(already_exists(
            "SCHEMA_ALREADY_EXISTS",
            format!("Schema '{full_name}' already exists."),
        ));
    }
    let storage_root = match req.storage_root.as_deref().filter(|r| !r.is_empty()) {
        Some(raw) => Some(checked_root(&mut uc, raw)?),
        None => None,
    };
    let owner = req.owner.unwrap_or_else(|| ctx.caller.name.clone());
    let mut schema = Schema::new(&catalog, &name, &owner, &uc.metastore_id, storage_root, now);
    schema.comment = req.comment.filter(|c| !c.is_empty());
    schema.properties = req.properties.unwrap_or_default();
    schema.created_by = ctx.caller.name.clone();
    schema.updated_by = ctx.caller.name.clone();
    let out = schema.to_json();
    uc.objects().schemas.insert(full_name, schema);
    Ok(Json(out))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let catalog = query_param(&query, "catalog_name")?.to_lowercase();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let viewer = uc.viewer(&ctx.caller);
    let metastore_id = uc.metastore_id.clone();
    let objects = uc.objects();
    if !objects.catalogs.contains_key(&catalog) {
        return Err(super::catalogs::not_found(&catalog));
    }
    if !may_use_catalog(objects, &metastore_id, &catalog, &viewer) {
        return Err(denied("Catalog", &catalog));
    }
    let visible: Vec<Value> = objects
        .schemas
        .values()
        .filter(|s| s.catalog_name == catalog)
        .filter(|s| may_see_schema(objects, &metastore_id, &s.full_name(), &viewer))
        .map(Schema::to_json)
        .collect();
    Ok(Json(json!({ "schemas": visible })))
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
    let s = objects
        .schemas
        .get(&full_name)
        .ok_or_else(|| not_found(&full_name))?;
    if !may_see_schema(objects, &metastore_id, &full_name, &viewer) {
        return Err(denied("Schema", &full_name));
    }
    Ok(Json(s.to_json()))
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let full_name = params["full_name"].to_lowercase();
    let req: SchemaRequest = parse_json(&body)?;
    let new_name = match req.new_name.as_deref() {
        Some(n) => Some(object_name(Some(n), "new_name")?),
        None => None,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let objects = uc.objects();
    let mut s = objects
        .schemas
        .get(&full_name)
        .cloned()
        .ok_or_else(|| not_found(&full_name))?;
    if let Some(comment) = req.comment {
        s.comment = Some(comment).filter(|c| !c.is_empty());
    }
    if let Some(owner) = req.owner.filter(|o| !o.is_empty()) {
        s.owner = owner;
    }
    if let Some(properties) = req.properties {
        s.properties = properties;
    }
    s.updated_at = now;
    s.updated_by = ctx.caller.name.clone();
    if let Some(n) = new_name.filter(|n| *n != s.name) {
        let renamed = format!("{}.{n}", s.catalog_name);
        if objects.schemas.contains_key(&renamed) {
            return Err(already_exists(
                "SCHEMA_ALREADY_EXISTS",
                format!("Schema '{renamed}' already exists."),
            ));
        }
        super::rename_prefix(objects, &full_name, &renamed);
        objects.schemas.shift_remove(&renamed);
        s.name = n;
        s.full_name = renamed;
    }
    let out = s.to_json();
    objects.schemas.insert(s.full_name(), s);
    Ok(Json(out))
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let full_name = params["full_name"].to_lowercase();
    let force = query.get("force").is_some_and(|f| f == "true");
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let objects = uc.objects();
    if !objects.schemas.contains_key(&full_name) {
        return Err(not_found(&full_name));
    }
    let prefix = format!("{full_name}.");
    if objects.tables.keys().any(|t| t.starts_with(&prefix)) && !force {
        return Err(ApiError::other(
            StatusCode::BAD_REQUEST,
            "SCHEMA_NOT_EMPTY",
            format!(
                "Cannot delete schema '{full_name}' because it holds tables. Use force=true to delete it anyway."
            ),
        ));
    }
    super::forget_prefix(objects, &full_name);
    Ok(empty())
}
