//! Catalogs (`/catalogs`). A catalog with a `storage_root` keeps its managed tables there, which
//! must be under an external location; one without uses the metastore's root, and when the
//! metastore has none the create is refused (both `400 INVALID_PARAMETER_VALUE`, messages
//! inferred). A new catalog holds the schemas `default` and `information_schema`, as the vendor's
//! do; its owner is the caller. Deleting a catalog that holds other schemas or any table needs
//! `force=true` (`400 CATALOG_NOT_EMPTY`); a forced delete takes its schemas, tables and grants
//! with it.
//!
//! Reads are filtered by [`super::access`]: a listing shows the catalogs the caller may use, a get
//! of another is `403 PERMISSION_DENIED`.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::access::may_use_catalog;
use super::external_locations::containing;
use super::schemas::{INFORMATION_SCHEMA, Schema};
use super::{UC, Uc, already_exists, does_not_exist, object_name, s3_url, trim_url};
use crate::error::{ApiError, parse_json};
use crate::ids::uuid_v4;
use crate::server::AppState;
use crate::workspace::{Ctx, empty};

/// A catalog (`CatalogInfo`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Catalog {
    pub name: String,
    pub full_name: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_root: Option<String>,
    pub storage_location: String,
    pub metastore_id: String,
    pub catalog_type: &'static str,
    pub isolation_mode: &'static str,
    pub securable_type: &'static str,
    pub properties: BTreeMap<String, String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Deserialize)]
struct CatalogRequest {
    name: Option<String>,
    new_name: Option<String>,
    comment: Option<String>,
    storage_root: Option<String>,
    properties: Option<BTreeMap<String, String>>,
    owner: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{UC}/catalogs"), get(list).post(create))
        .route(
            &format!("{UC}/catalogs/{{name}}"),
            get(read).patch(update).delete(remove),
        )
}

pub(crate) fn not_found(name: &str) -> ApiError {
    does_not_exist(
        "CATALOG_DOES_NOT_EXIST",
        format!("Catalog '{name}' does not exist."),
    )
}

pub(crate) fn denied(what: &str, name: &str) -> ApiError {
    ApiError::permission_denied(format!(
        "User does not have the privileges to access {what} '{name}'."
    ))
}

/// Where managed data under `root` goes: `<root>/__unitystorage/<kind>/<uuid>`, the vendor's
/// layout.
pub(crate) fn managed_location(root: &str, kind: &str) -> String {
    format!("{}/__unitystorage/{kind}/{}", trim_url(root), uuid_v4())
}

/// A storage root given for a catalog or schema, checked to be under an external location.
pub(crate) fn checked_root(uc: &mut Uc<'_>, raw: &str) -> Result<String, ApiError> {
    let root = s3_url(Some(raw), "storage_root")?;
    if containing(uc, &root).is_none() {
        return Err(ApiError::invalid(format!(
            "Storage root '{root}' is not under any external location; create an external location that contains it first."
        )));
    }
    Ok(root)
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CatalogRequest = parse_json(&body)?;
    let name = object_name(req.name.as_deref(), "name")?;
    let now = app.now_ms();
    let caller = ctx.caller.name.clone();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    if uc.objects().catalogs.contains_key(&name) {
        return Err(already_exists(
            "CATALOG_ALREADY_EXISTS",
            format!("Catalog '{name}' already exists."),
        ));
    }
    let storage_root = match req.storage_root.as_deref().filter(|r| !r.is_empty()) {
        Some(raw) => Some(checked_root(&mut uc, raw)?),
        None => None,
    };
    let base = match (&storage_root, uc.metastore().storage_root.clone()) {
        (Some(root), _) => root.clone(),
        (None, Some(metastore_root)) => metastore_root,
        (None, None) => {
            return Err(ApiError::invalid(
                "Metastore storage root URL does not exist. Please provide a storage location for the catalog.",
            ));
        }
    };
    let metastore_id = uc.metastore_id.clone();
    let catalog = Catalog {
        full_name: name.clone(),
        name: name.clone(),
        owner: req.owner.unwrap_or_else(|| caller.clone()),
        comment: req.comment.filter(|c| !c.is_empty()),
        storage_location: managed_location(&base, "catalogs"),
        storage_root,
        metastore_id: metastore_id.clone(),
        catalog_type: "MANAGED_CATALOG",
        isolation_mode: "OPEN",
        securable_type: "CATALOG",
        properties: req.properties.unwrap_or_default(),
        created_at: now,
        created_by: caller.clone(),
        updated_at: now,
        updated_by: caller.clone(),
    };
    let out = json!(catalog);
    let objects = uc.objects();
    for schema in ["default", INFORMATION_SCHEMA] {
        let s = Schema::new(&name, schema, &caller, &metastore_id, None, now);
        objects.schemas.insert(s.full_name(), s);
    }
    objects.catalogs.insert(name, catalog);
    Ok(Json(out))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let viewer = uc.viewer(&ctx.caller);
    let metastore_id = uc.metastore_id.clone();
    let objects = uc.objects();
    let visible: Vec<&Catalog> = objects
        .catalogs
        .values()
        .filter(|c| may_use_catalog(objects, &metastore_id, &c.name, &viewer))
        .collect();
    Ok(Json(json!({ "catalogs": visible })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let viewer = uc.viewer(&ctx.caller);
    let metastore_id = uc.metastore_id.clone();
    let objects = uc.objects();
    let c = objects
        .catalogs
        .get(&name)
        .ok_or_else(|| not_found(&name))?;
    if !may_use_catalog(objects, &metastore_id, &name, &viewer) {
        return Err(denied("Catalog", &name));
    }
    Ok(Json(json!(c)))
}

/// Comment, owner, properties and name change; a rename renames the schemas, tables and grants
/// under it.
async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let req: CatalogRequest = parse_json(&body)?;
    let new_name = match req.new_name.as_deref() {
        Some(n) => Some(object_name(Some(n), "new_name")?).filter(|n| *n != name),
        None => None,
    };
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let objects = uc.objects();
    let mut c = objects
        .catalogs
        .get(&name)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    if let Some(comment) = req.comment {
        c.comment = Some(comment).filter(|c| !c.is_empty());
    }
    if let Some(owner) = req.owner.filter(|o| !o.is_empty()) {
        c.owner = owner;
    }
    if let Some(properties) = req.properties {
        c.properties = properties;
    }
    c.updated_at = now;
    c.updated_by = ctx.caller.name.clone();
    if let Some(n) = new_name {
        if objects.catalogs.contains_key(&n) {
            return Err(already_exists(
                "CATALOG_ALREADY_EXISTS",
                format!("Catalog '{n}' already exists."),
            ));
        }
        super::rename_prefix(objects, &name, &n);
        objects.catalogs.shift_remove(&name);
        c.name = n.clone();
        c.full_name = n;
    }
    let out = json!(c);
    objects.catalogs.insert(c.name.clone(), c);
    Ok(Json(out))
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let force = query.get("force").is_some_and(|f| f == "true");
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let objects = uc.objects();
    if !objects.catalogs.contains_key(&name) {
        return Err(not_found(&name));
    }
    let prefix = format!("{name}.");
    let holds_more = objects
        .schemas
        .values()
        .any(|s| s.catalog_name == name && s.name != "default" && s.name != INFORMATION_SCHEMA)
        || objects.tables.keys().any(|t| t.starts_with(&prefix));
    if holds_more && !force {
        return Err(ApiError::other(
            StatusCode::BAD_REQUEST,
            "CATALOG_NOT_EMPTY",
            format!(
                "Cannot delete catalog '{name}' because it is not empty: it holds schemas or tables. Use force=true to delete it anyway."
            ),
        ));
    }
    objects.catalogs.shift_remove(&name);
    super::forget_prefix(objects, &name);
    Ok(empty())
}
