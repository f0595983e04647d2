//! Grants (`/permissions/{securable_type}/{full_name}`: get, and update with `changes` of
//! `{principal, add, remove}`) and effective permissions
//! (`/effective-permissions/{securable_type}/{full_name}`), modelled on minilake's semantics:
//! a get lists the grants made on the securable itself; an update applies each principal's adds
//! then removes, and a principal left with nothing disappears; effective permissions add what is
//! inherited from the schema, catalog and metastore above, each tagged with
//! `inherited_from_type` (upper case) and `inherited_from_name` (the metastore's is its id), the
//! nearest source winning. The `principal` filter matches the principal name exactly (no group
//! expansion), as minilake does; what a caller may see through its groups is [`super::access`]'s
//! business.
//!
//! Beyond minilake: the securable must exist (its kind's `*_DOES_NOT_EXIST`, 404); a privilege
//! must be one of Unity Catalog's (`400 INVALID_PARAMETER_VALUE`); a principal that is added
//! privileges must be an account group (display name), service principal (application id), user
//! (user name), the configured client, or `account users` (`400 PRINCIPAL_DOES_NOT_EXIST`,
//! status and message inferred). Securable types are accepted in any case (`catalog`,
//! `CATALOG`, and the `SecurableType.CATALOG` form some SDK versions send). Neither call checks
//! the caller's own privileges.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::{ACCOUNT_USERS, ancestors};
use super::{UC, Uc, does_not_exist};
use crate::error::{ApiError, parse_json};
use crate::server::AppState;
use crate::workspace::Ctx;

/// Unity Catalog's privileges (privilege model 1.0).
pub(crate) const PRIVILEGES: &[&str] = &[
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "BROWSE",
    "CREATE_CATALOG",
    "CREATE_CONNECTION",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_EXTERNAL_TABLE",
    "CREATE_EXTERNAL_VOLUME",
    "CREATE_FOREIGN_CATALOG",
    "CREATE_FUNCTION",
    "CREATE_MANAGED_STORAGE",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MODEL",
    "CREATE_SCHEMA",
    "CREATE_STORAGE_CREDENTIAL",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "EXECUTE",
    "MANAGE",
    "MODIFY",
    "READ_FILES",
    "READ_VOLUME",
    "REFRESH",
    "SELECT",
    "USE_CATALOG",
    "USE_CONNECTION",
    "USE_SCHEMA",
    "WRITE_FILES",
    "WRITE_VOLUME",
];

#[derive(Deserialize)]
struct Change {
    principal: Option<String>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct UpdateRequest {
    changes: Option<Vec<Change>>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{UC}/permissions/{{securable_type}}/{{full_name}}"),
            get(read).patch(update),
        )
        .route(
            &format!("{UC}/effective-permissions/{{securable_type}}/{{full_name}}"),
            get(effective),
        )
}

/// The securable's type in upper case and its full name as stored, checked to exist.
fn securable(
    uc: &mut Uc<'_>,
    raw_type: &str,
    raw_name: &str,
) -> Result<(String, String), ApiError> {
    let kind = raw_type
        .rsplit('.')
        .next()
        .unwrap_or(raw_type)
        .to_uppercase();
    let name = if kind == "METASTORE" {
        raw_name.to_string()
    } else {
        raw_name.to_lowercase()
    };
    let parts = name.split('.').count();
    let missing = |code: &'static str, what: &str| {
        does_not_exist(code, format!("{what} '{name}' does not exist."))
    };
    let metastore_id = uc.metastore_id.clone();
    let objects = uc.objects();
    match kind.as_str() {
        "METASTORE" if name == metastore_id => {}
        "METASTORE" => return Err(missing("METASTORE_DOES_NOT_EXIST", "Metastore")),
        "CATALOG" if parts == 1 && objects.catalogs.contains_key(&name) => {}
        "CATALOG" => return Err(missing("CATALOG_DOES_NOT_EXIST", "Catalog")),
        "SCHEMA" if parts == 2 && objects.schemas.contains_key(&name) => {}
        "SCHEMA" => return Err(missing("SCHEMA_DOES_NOT_EXIST", "Schema")),
        "TABLE" if parts == 3 && objects.tables.contains_key(&name) => {}
        "TABLE" => return Err(missing("TABLE_DOES_NOT_EXIST", "Table")),
        "EXTERNAL_LOCATION" if objects.external_locations.contains_key(&name) => {}
        "EXTERNAL_LOCATION" => {
            return Err(missing(
                "EXTERNAL_LOCATION_DOES_NOT_EXIST",
                "External Location",
            ));
        }
        "STORAGE_CREDENTIAL" if uc.metastore().storage_credentials.contains_key(&name) => {}
        "STORAGE_CREDENTIAL" => {
            return Err(missing(
                "STORAGE_CREDENTIAL_DOES_NOT_EXIST",
                "Storage Credential",
            ));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Unsupported securable type '{other}': the emulator grants on METASTORE, CATALOG, SCHEMA, TABLE, EXTERNAL_LOCATION and STORAGE_CREDENTIAL."
            )));
        }
    }
    Ok((kind, name))
}

/// Whether `name` names a principal of the account.
fn known_principal(uc: &Uc<'_>, name: &str, configured_client: &str) -> bool {
    let a = &uc.account;
    name == ACCOUNT_USERS
        || name == configured_client
        || a.groups.values().any(|g| g.display_name == name)
        || a.service_principals
            .values()
            .any(|sp| sp.application_id == name)
        || a.users.values().any(|u| u.user_name == name)
}

fn assignments(grants: Option<&IndexMap<String, Vec<String>>>, principal: Option<&str>) -> Value {
    let mut sorted: Vec<(&String, &Vec<String>)> = grants.into_iter().flatten().collect();
    sorted.sort();
    let list: Vec<Value> = sorted
        .into_iter()
        .filter(|(who, _)| principal.is_none_or(|p| p == who.as_str()))
        .map(|(who, privileges)| json!({"principal": who, "privileges": privileges}))
        .collect();
    json!({ "privilege_assignments": list })
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let key = securable(&mut uc, &params["securable_type"], &params["full_name"])?;
    let principal = query.get("principal").map(String::as_str);
    Ok(Json(assignments(uc.objects().grants.get(&key), principal)))
}

fn privilege(raw: &str) -> Result<String, ApiError> {
    let p = raw.trim().to_uppercase().replace(' ', "_");
    if PRIVILEGES.contains(&p.as_str()) {
        Ok(p)
    } else {
        Err(ApiError::invalid(format!("Privilege {raw} is not valid.")))
    }
}

async fn update(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: UpdateRequest = parse_json(&body)?;
    let mut state = app.lock();
    let configured_client = app.config().client_id.clone();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let key = securable(&mut uc, &params["securable_type"], &params["full_name"])?;
    // Everything is checked before anything changes, so a refused update changes nothing.
    let mut changes = Vec::new();
    for change in req.changes.unwrap_or_default() {
        let principal = change
            .principal
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("Each change requires a principal"))?;
        let add = change
            .add
            .unwrap_or_default()
            .iter()
            .map(|p| privilege(p))
            .collect::<Result<Vec<_>, _>>()?;
        let remove = change
            .remove
            .unwrap_or_default()
            .iter()
            .map(|p| privilege(p))
            .collect::<Result<Vec<_>, _>>()?;
        if !add.is_empty() && !known_principal(&uc, &principal, &configured_client) {
            return Err(ApiError::other(
                StatusCode::BAD_REQUEST,
                "PRINCIPAL_DOES_NOT_EXIST",
                format!("Could not find principal with name {principal}."),
            ));
        }
        changes.push((principal, add, remove));
    }
    let grants = uc.objects().grants.entry(key.clone()).or_default();
    for (principal, add, remove) in changes {
        let mut held: Vec<String> = grants.get(&principal).cloned().unwrap_or_default();
        held.extend(add);
        held.retain(|p| !remove.contains(p));
        held.sort();
        held.dedup();
        if held.is_empty() {
            grants.shift_remove(&principal);
        } else {
            grants.insert(principal, held);
        }
    }
    if grants.is_empty() {
        uc.objects().grants.shift_remove(&key);
    }
    Ok(Json(assignments(uc.objects().grants.get(&key), None)))
}

async fn effective(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let mut uc = Uc::open(&mut state, &ctx)?;
    let (kind, name) = securable(&mut uc, &params["securable_type"], &params["full_name"])?;
    let metastore_id = uc.metastore_id.clone();
    let mut chain = vec![((kind.clone(), name.clone()), false)];
    chain.extend(
        ancestors(&kind, &name, &metastore_id)
            .into_iter()
            .map(|a| (a, true)),
    );
    // principal → privilege → its source (None when granted on the securable itself).
    let mut found: BTreeMap<String, BTreeMap<String, Option<(String, String)>>> = BTreeMap::new();
    let objects = uc.objects();
    for (source, inherited) in &chain {
        for (who, privileges) in objects.grants.get(source).into_iter().flatten() {
            for p in privileges {
                found
                    .entry(who.clone())
                    .or_default()
                    .entry(p.clone())
                    .or_insert_with(|| inherited.then(|| source.clone()));
            }
        }
    }
    let principal = query.get("principal");
    let list: Vec<Value> = found
        .into_iter()
        .filter(|(who, _)| principal.is_none_or(|p| p == who))
        .map(|(who, privileges)| {
            let privileges: Vec<Value> = privileges
                .into_iter()
                .map(|(privilege, source)| match source {
                    None => json!({"privilege": privilege}),
                    Some((t, n)) => json!({
                        "privilege": privilege,
                        "inherited_from_type": t,
                        "inherited_from_name": n,
                    }),
                })
                .collect();
            json!({"principal": who, "privileges": privileges})
        })
        .collect();
    Ok(Json(json!({ "privilege_assignments": list })))
}
