//! System schemas (`/metastores/{metastore_id}/systemschemas[/{schema}]`): list shows every
//! schema the emulator knows with its state, `AVAILABLE` or `ENABLE_COMPLETED`; `PUT` enables
//! (at once: the vendor's `ENABLE_INITIALIZED` step is skipped), `DELETE` disables. Both succeed
//! when there is nothing to do (inferred: the vendor does not say). The metastore must be the
//! calling workspace's (`404 METASTORE_DOES_NOT_EXIST` otherwise); an unknown schema is
//! `404 RESOURCE_DOES_NOT_EXIST` (inferred). Every schema starts `AVAILABLE`: none is `MANAGED`
//! here, so enabling each is observable.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::{UC, Uc, does_not_exist};
use crate::error::ApiError;
use crate::server::AppState;
use crate::workspace::{Ctx, empty};

/// The system schemas a metastore offers.
pub(crate) const SYSTEM_SCHEMAS: &[&str] = &[
    "access",
    "billing",
    "compute",
    "lakeflow",
    "marketplace",
    "query",
    "serving",
    "storage",
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{UC}/metastores/{{metastore_id}}/systemschemas"),
            get(list),
        )
        .route(
            &format!("{UC}/metastores/{{metastore_id}}/systemschemas/{{schema}}"),
            put(enable).delete(disable),
        )
}

fn open<'s>(
    state: &'s mut crate::state::State,
    ctx: &Ctx,
    params: &HashMap<String, String>,
) -> Result<Uc<'s>, ApiError> {
    let uc = Uc::open(state, ctx)?;
    let asked = &params["metastore_id"];
    if *asked != uc.metastore_id {
        return Err(does_not_exist(
            "METASTORE_DOES_NOT_EXIST",
            format!("Metastore '{asked}' does not exist or is not assigned to this workspace."),
        ));
    }
    Ok(uc)
}

fn schema(params: &HashMap<String, String>) -> Result<String, ApiError> {
    let schema = params["schema"].to_lowercase();
    if SYSTEM_SCHEMAS.contains(&schema.as_str()) {
        Ok(schema)
    } else {
        Err(ApiError::not_found(format!(
            "System schema '{schema}' does not exist."
        )))
    }
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = open(&mut state, &ctx, &params)?;
    let enabled = &uc.objects().system_schemas;
    let schemas: Vec<Value> = SYSTEM_SCHEMAS
        .iter()
        .map(|s| {
            let state = if enabled.iter().any(|e| e == s) {
                "ENABLE_COMPLETED"
            } else {
                "AVAILABLE"
            };
            json!({"schema": s, "state": state})
        })
        .collect();
    Ok(Json(json!({ "schemas": schemas })))
}

async fn enable(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let schema = schema(&params)?;
    let mut state = app.lock();
    let mut uc = open(&mut state, &ctx, &params)?;
    let enabled = &mut uc.objects().system_schemas;
    if !enabled.contains(&schema) {
        enabled.push(schema);
    }
    Ok(empty())
}

async fn disable(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let schema = schema(&params)?;
    let mut state = app.lock();
    let mut uc = open(&mut state, &ctx, &params)?;
    uc.objects().system_schemas.retain(|s| *s != schema);
    Ok(empty())
}
