//! External locations (`/external-locations`): an `s3://` URL and the storage credential that
//! reaches it. Catalogs, schemas and external tables outside the metastore root must live under
//! one.
//!
//! Rules (vendor-documented; messages inferred): the URL must be `s3://<bucket>[/<path>]`; the
//! credential must exist (`404 STORAGE_CREDENTIAL_DOES_NOT_EXIST`); names are unique
//! (`409 EXTERNAL_LOCATION_ALREADY_EXISTS`); two locations may not overlap (one URL under the
//! other), nor may a location overlap the metastore's root (`400 INVALID_PARAMETER_VALUE`). A
//! location a catalog, schema or table still uses is deleted only with `force=true`
//! (`400 INVALID_STATE`).
//!
//! `encryption_details.sse_encryption_details` (vendor-documented shape): `algorithm` is
//! `AWS_SSE_KMS` or `AWS_SSE_S3`, and `AWS_SSE_KMS` needs `aws_kms_key_arn`; anything else is
//! `400 INVALID_PARAMETER_VALUE` (messages inferred). Stored and answered as sent; an update that
//! carries it replaces it, and an empty object clears it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{UC, Uc, already_exists, does_not_exist, is_under, object_name, s3_url};
use crate::error::{ApiError, parse_json};
use crate::server::AppState;
use crate::workspace::{Ctx, empty};

/// An external location (`ExternalLocationInfo`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExternalLocation {
    pub name: String,
    pub url: String,
    pub credential_name: String,
    pub credential_id: String,
    pub metastore_id: String,
    pub owner: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub isolation_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_details: Option<Value>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Deserialize)]
struct LocationRequest {
    name: Option<String>,
    new_name: Option<String>,
    url: Option<String>,
    credential_name: Option<String>,
    comment: Option<String>,
    read_only: Option<bool>,
    owner: Option<String>,
    encryption_details: Option<EncryptionDetails>,
}

#[derive(Deserialize)]
struct EncryptionDetails {
    sse_encryption_details: Option<SseEncryptionDetails>,
}

#[derive(Deserialize)]
struct SseEncryptionDetails {
    algorithm: Option<String>,
    aws_kms_key_arn: Option<String>,
}

/// The details to store (`None` when the request clears them), or the API's refusal.
fn encryption_details(details: EncryptionDetails) -> Result<Option<Value>, ApiError> {
    let Some(sse) = details.sse_encryption_details else {
        return Ok(None);
    };
    let key = sse.aws_kms_key_arn.filter(|k| !k.is_empty());
    match sse.algorithm.as_deref() {
        Some("AWS_SSE_KMS") => {
            let Some(key) = key else {
                return Err(ApiError::invalid(
                    "encryption_details.sse_encryption_details.aws_kms_key_arn is required when algorithm is AWS_SSE_KMS.",
                ));
            };
            Ok(Some(
                json!({"sse_encryption_details": {"algorithm": "AWS_SSE_KMS", "aws_kms_key_arn": key}}),
            ))
        }
        Some("AWS_SSE_S3") => Ok(Some(
            json!({"sse_encryption_details": {"algorithm": "AWS_SSE_S3"}}),
        )),
        other => Err(ApiError::invalid(format!(
            "Invalid encryption_details.sse_encryption_details.algorithm '{}': expected AWS_SSE_KMS or AWS_SSE_S3.",
            other.unwrap_or("")
        ))),
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{UC}/external-locations"), get(list).post(create))
        .route(
            &format!("{UC}/external-locations/{{name}}"),
            get(read).patch(update).delete(remove),
        )
}

fn not_found(name: &str) -> ApiError {
    does_not_exist(
        "EXTERNAL_LOCATION_DOES_NOT_EXIST",
        format!("External Location '{name}' does not exist."),
    )
}

/// The location `url` is under, if any.
pub(crate) fn containing<'a>(uc: &'a mut Uc<'_>, url: &str) -> Option<&'a ExternalLocation> {
    uc.objects()
        .external_locations
        .values()
        .find(|l| is_under(url, &l.url))
}

/// Refuses a URL that overlaps another location (not `except`) or the metastore root.
fn check_overlap(uc: &mut Uc<'_>, url: &str, except: Option<&str>) -> Result<(), ApiError> {
    if let Some(root) = uc.metastore().storage_root.clone()
        && (is_under(url, &root) || is_under(&root, url))
    {
        return Err(ApiError::invalid(format!(
            "Input path url '{url}' overlaps with the metastore's root storage '{root}'."
        )));
    }
    if let Some(other) = uc.objects().external_locations.values().find(|l| {
        Some(l.name.as_str()) != except && (is_under(url, &l.url) || is_under(&l.url, url))
    }) {
        return Err(ApiError::invalid(format!(
            "Input path url '{url}' overlaps with an existing external location '{}' ({}).",
            other.name, other.url
        )));
    }
    Ok(())
}

fn credential_id(uc: &mut Uc<'_>, name: &str) -> Result<String, ApiError> {
    uc.metastore()
        .storage_credentials
        .get(name)
        .map(|c| c.id.clone())
        .ok_or_else(|| super::storage_credentials::not_found(name))
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: LocationRequest = parse_json(&body)?;
    let name = object_name(req.name.as_deref(), "name")?;
    let url = s3_url(req.url.as_deref(), "url")?;
    let credential_name = object_name(req.credential_name.as_deref(), "credential_name")?;
    let encryption = req
        .encryption_details
        .map(encryption_details)
        .transpose()?
        .flatten();
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let credential_id = credential_id(&mut uc, &credential_name)?;
    if uc.objects().external_locations.contains_key(&name) {
        return Err(already_exists(
            "EXTERNAL_LOCATION_ALREADY_EXISTS",
            format!("External Location '{name}' already exists."),
        ));
    }
    check_overlap(&mut uc, &url, None)?;
    let location = ExternalLocation {
        name: name.clone(),
        url,
        credential_name,
        credential_id,
        metastore_id: uc.metastore_id.clone(),
        owner: req.owner.unwrap_or_else(|| ctx.caller.name.clone()),
        read_only: req.read_only.unwrap_or(false),
        comment: req.comment.filter(|c| !c.is_empty()),
        isolation_mode: "ISOLATION_MODE_OPEN",
        encryption_details: encryption,
        created_at: now,
        created_by: ctx.caller.name.clone(),
        updated_at: now,
        updated_by: ctx.caller.name.clone(),
    };
    let out = json!(location);
    uc.objects().external_locations.insert(name, location);
    Ok(Json(out))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let list: Vec<&ExternalLocation> = uc.objects().external_locations.values().collect();
    Ok(Json(json!({ "external_locations": list })))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let l = uc
        .objects()
        .external_locations
        .get(&name)
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(json!(l)))
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = params["name"].to_lowercase();
    let req: LocationRequest = parse_json(&body)?;
    let new_name = match req.new_name.as_deref() {
        Some(n) => Some(object_name(Some(n), "new_name")?).filter(|n| *n != name),
        None => None,
    };
    let url = req
        .url
        .as_deref()
        .map(|u| s3_url(Some(u), "url"))
        .transpose()?;
    let encryption = req.encryption_details.map(encryption_details).transpose()?;
    let now = app.now_ms();
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let mut l = uc
        .objects()
        .external_locations
        .get(&name)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    if let Some(n) = &new_name
        && uc.objects().external_locations.contains_key(n)
    {
        return Err(already_exists(
            "EXTERNAL_LOCATION_ALREADY_EXISTS",
            format!("External Location '{n}' already exists."),
        ));
    }
    if let Some(url) = url {
        check_overlap(&mut uc, &url, Some(&name))?;
        l.url = url;
    }
    if let Some(c) = req.credential_name.as_deref() {
        let c = object_name(Some(c), "credential_name")?;
        l.credential_id = credential_id(&mut uc, &c)?;
        l.credential_name = c;
    }
    if let Some(comment) = req.comment {
        l.comment = Some(comment).filter(|c| !c.is_empty());
    }
    if let Some(read_only) = req.read_only {
        l.read_only = read_only;
    }
    if let Some(encryption) = encryption {
        l.encryption_details = encryption;
    }
    if let Some(owner) = req.owner.filter(|o| !o.is_empty()) {
        l.owner = owner;
    }
    l.updated_at = now;
    l.updated_by = ctx.caller.name.clone();
    let objects = uc.objects();
    if let Some(n) = new_name {
        objects.external_locations.shift_remove(&name);
        l.name = n;
    }
    let out = json!(l);
    objects.external_locations.insert(l.name.clone(), l);
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
    let url = objects
        .external_locations
        .get(&name)
        .map(|l| l.url.clone())
        .ok_or_else(|| not_found(&name))?;
    let user = objects
        .catalogs
        .values()
        .filter_map(|c| c.storage_root.as_ref().map(|r| (r, c.name.clone())))
        .chain(
            objects
                .schemas
                .values()
                .filter_map(|s| s.storage_root.as_ref().map(|r| (r, s.full_name()))),
        )
        .chain(
            objects
                .tables
                .values()
                .filter(|t| t.table_type == "EXTERNAL")
                .filter_map(|t| t.storage_location.as_ref().map(|r| (r, t.full_name()))),
        )
        .find(|(root, _)| is_under(root, &url))
        .map(|(_, who)| who);
    if let Some(user) = user
        && !force
    {
        return Err(ApiError::invalid_state(format!(
            "External Location '{name}' cannot be deleted because '{user}' uses it. Use force=true to delete it anyway."
        )));
    }
    objects.external_locations.shift_remove(&name);
    Ok(empty())
}
