//! Workspace configuration (`GET /api/2.0/workspace-conf?keys=a,b`, `PATCH /api/2.0/workspace-conf`
//! with a flat map of strings).
//!
//! Unlike minilake, unknown keys are `400 INVALID_PARAMETER_VALUE`, values must be strings,
//! `enable*` keys take `"true"`/`"false"` and `maxTokenLifetimeDays` an integer 1–730 (or `""`
//! to unset). GET answers every requested key: the value set, or `null` for a key never set.
//! `maxTokenLifetimeDays` caps new tokens and `enableTokensConfig = "false"` refuses them
//! ([`super::tokens`]). Writes need an admin.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Map, Value};

use super::{Ctx, query_param};
use crate::error::{ApiError, parse_json};
use crate::server::AppState;

/// Known keys and the value the workspace behaves as when the key is unset.
const KEYS: &[(&str, Option<&str>)] = &[
    ("enableIpAccessLists", Some("false")),
    ("maxTokenLifetimeDays", None),
    ("enableTokensConfig", Some("true")),
    ("enableDeprecatedClusterNamedInitScripts", Some("false")),
    ("enableDeprecatedGlobalInitScripts", Some("false")),
    ("enableGp3", Some("true")),
    ("enableResultsDownloading", Some("true")),
    ("enableNotebookTableClipboard", Some("true")),
    ("enableWebTerminal", Some("true")),
    ("enableDbfsFileBrowser", Some("false")),
    ("enableExportNotebook", Some("true")),
    ("enableUploadDataUis", Some("true")),
    ("enforceUserIsolation", Some("false")),
    ("enableEnforceImdsV2", Some("false")),
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/workspace-conf", get(read).patch(update))
}

fn known(key: &str) -> Result<(), ApiError> {
    if KEYS.iter().any(|(k, _)| *k == key) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid keys: [{key}]; known keys: {}",
            KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
        )))
    }
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let keys: Vec<String> = query_param(&q, "keys")?
        .split(',')
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    for k in &keys {
        known(k)?;
    }
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let out: Map<String, Value> = keys
        .into_iter()
        .map(|k| {
            let v = data
                .conf
                .get(&k)
                .cloned()
                .map_or(Value::Null, Value::String);
            (k, v)
        })
        .collect();
    Ok(Json(Value::Object(out)))
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: Map<String, Value> = parse_json(&body)?;
    let mut changes = Vec::new();
    for (key, value) in body {
        known(&key)?;
        let Value::String(value) = value else {
            return Err(ApiError::invalid(format!(
                "Value of {key} must be a string, got {value}"
            )));
        };
        if key == "maxTokenLifetimeDays" {
            let ok = value.is_empty() || value.parse::<u32>().is_ok_and(|d| (1..=730).contains(&d));
            if !ok {
                return Err(ApiError::invalid(format!(
                    "maxTokenLifetimeDays must be an integer from 1 to 730, got {value}"
                )));
            }
        } else if (key.starts_with("enable") || key.starts_with("enforce"))
            && value != "true"
            && value != "false"
        {
            return Err(ApiError::invalid(format!(
                "{key} must be \"true\" or \"false\", got {value}"
            )));
        }
        changes.push((key, value));
    }
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    for (key, value) in changes {
        if value.is_empty() {
            data.conf.remove(&key);
        } else {
            data.conf.insert(key, value);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Keys set to something other than what the workspace does by default, for the inventory.
pub(crate) fn non_default(conf: &BTreeMap<String, String>) -> Map<String, Value> {
    conf.iter()
        .filter(|(k, v)| {
            KEYS.iter()
                .find(|(key, _)| key == k)
                .is_none_or(|(_, default)| *default != Some(v.as_str()))
        })
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}
