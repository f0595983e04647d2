//! Cluster policies (`/api/2.0/policies/clusters/create|edit|delete|get|list`).
//!
//! `name` is unique (1–100 characters); `definition` (and
//! `policy_family_definition_overrides`) are JSON documents sent as strings and must parse to an
//! object. Policies are stored, not enforced. Choices where the vendor is silent: `policy_id` is
//! 16 upper-case hex digits; a duplicate name is `400 INVALID_PARAMETER_VALUE` (as minilake
//! answers); an unknown id is `404 RESOURCE_DOES_NOT_EXIST`; writes need an admin.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Ctx, WorkspaceData, empty, query_param};
use crate::error::{ApiError, parse_json, required};
use crate::ids::hex;
use crate::server::AppState;

#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub policy_id: String,
    pub name: String,
    /// Every other field as sent (`definition`, `description`, `max_clusters_per_user`, ...).
    pub fields: Map<String, Value>,
    pub creator_user_name: String,
    pub created_at_timestamp: i64,
}

impl Policy {
    fn to_json(&self) -> Value {
        let mut v = self.fields.clone();
        v.insert("policy_id".into(), json!(self.policy_id));
        v.insert("name".into(), json!(self.name));
        v.insert("creator_user_name".into(), json!(self.creator_user_name));
        v.insert(
            "created_at_timestamp".into(),
            json!(self.created_at_timestamp),
        );
        v.insert("is_default".into(), json!(false));
        Value::Object(v)
    }
}

const FIELDS: &[&str] = &[
    "definition",
    "description",
    "max_clusters_per_user",
    "policy_family_id",
    "policy_family_definition_overrides",
    "libraries",
];

#[derive(Deserialize)]
struct IdRequest {
    policy_id: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/policies/clusters/create", post(create))
        .route("/api/2.0/policies/clusters/edit", post(edit))
        .route("/api/2.0/policies/clusters/delete", post(delete))
        .route("/api/2.0/policies/clusters/get", get(read))
        .route("/api/2.0/policies/clusters/list", get(list))
}

/// Name and the stored fields of a create/edit body.
fn check(
    data: &WorkspaceData,
    body: &Map<String, Value>,
    own_id: Option<&str>,
) -> Result<(String, Map<String, Value>), ApiError> {
    let name = match body.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => n.clone(),
        _ => {
            return Err(ApiError::invalid(
                "name is required and must be 1 to 100 characters",
            ));
        }
    };
    if data
        .policies
        .values()
        .any(|p| p.name == name && Some(p.policy_id.as_str()) != own_id)
    {
        return Err(ApiError::invalid(format!(
            "A cluster policy named {name} already exists"
        )));
    }
    let mut fields = Map::new();
    for field in FIELDS {
        if let Some(v) = body.get(*field).filter(|v| !v.is_null()) {
            fields.insert(field.to_string(), v.clone());
        }
    }
    for doc in ["definition", "policy_family_definition_overrides"] {
        if let Some(v) = fields.get(doc) {
            let text = v.as_str().ok_or_else(|| {
                ApiError::invalid(format!("{doc} must be a JSON document in a string"))
            })?;
            let parsed: Value = serde_json::from_str(text)
                .map_err(|e| ApiError::invalid(format!("{doc} is not valid JSON: {e}")))?;
            if !parsed.is_object() {
                return Err(ApiError::invalid(format!("{doc} must be a JSON object")));
            }
        }
    }
    if !fields.contains_key("definition") && !fields.contains_key("policy_family_id") {
        fields.insert("definition".into(), json!("{}"));
    }
    Ok((name, fields))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Cluster policy {id} does not exist"))
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: Map<String, Value> = parse_json(&body)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let (name, fields) = check(data, &body, None)?;
    let policy_id = hex(16).to_uppercase();
    data.policies.insert(
        policy_id.clone(),
        Policy {
            policy_id: policy_id.clone(),
            name,
            fields,
            creator_user_name: ctx.caller.name.clone(),
            created_at_timestamp: now,
        },
    );
    Ok(Json(json!({ "policy_id": policy_id })))
}

async fn edit(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: Map<String, Value> = parse_json(&body)?;
    let id = body
        .get("policy_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("Missing required field: policy_id"))?
        .to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    if !data.policies.contains_key(&id) {
        return Err(not_found(&id));
    }
    let (name, fields) = check(data, &body, Some(&id))?;
    let policy = data.policies.get_mut(&id).ok_or_else(|| not_found(&id))?;
    policy.name = name;
    policy.fields = fields;
    Ok(empty())
}

async fn delete(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: IdRequest = parse_json(&body)?;
    let id = required(&req.policy_id, "policy_id")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    data.policies
        .shift_remove(&id)
        .ok_or_else(|| not_found(&id))?;
    data.permissions.remove(&format!("cluster-policies/{id}"));
    Ok(empty())
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let id = query_param(&q, "policy_id")?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let policy = data.policies.get(id).ok_or_else(|| not_found(id))?;
    Ok(Json(policy.to_json()))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let mut all: Vec<&Policy> = data.policies.values().collect();
    match q.get("sort_column").map(String::as_str) {
        Some("POLICY_NAME") => all.sort_by(|a, b| a.name.cmp(&b.name)),
        _ => all.sort_by_key(|p| p.created_at_timestamp),
    }
    if q.get("sort_order").map(String::as_str) == Some("DESC") {
        all.reverse();
    }
    let policies: Vec<Value> = all.iter().map(|p| p.to_json()).collect();
    Ok(Json(json!({ "policies": policies })))
}
