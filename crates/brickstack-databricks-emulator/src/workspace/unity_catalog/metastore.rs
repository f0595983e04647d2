//! The calling workspace's metastore: `GET /current-metastore-assignment` (`{workspace_id,
//! metastore_id, default_catalog_name}`, from the account-level assignment) and
//! `GET /metastore_summary` (its `MetastoreInfo`). Both are `404 METASTORE_DOES_NOT_EXIST`
//! without an assignment.

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::{UC, Uc, no_metastore};
use crate::error::ApiError;
use crate::server::AppState;
use crate::workspace::Ctx;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{UC}/current-metastore-assignment"),
            get(current_assignment),
        )
        .route(&format!("{UC}/metastore_summary"), get(summary))
}

async fn current_assignment(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let uc = Uc::open(&mut state, &ctx)?;
    let assignment = uc
        .account
        .metastore_assignments
        .get(&ctx.workspace_id)
        .ok_or_else(no_metastore)?;
    Ok(Json(json!(assignment)))
}

async fn summary(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    Ok(Json(json!(uc.metastore())))
}
