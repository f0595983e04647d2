//! Instance profiles (`/api/2.0/instance-profiles/add|edit|list|remove`), admin-only writes.
//!
//! Unlike minilake, the ARN must be `arn:aws:iam::<12 digits>:instance-profile/<name>` (and
//! `iam_role_arn`, when given, a role ARN); a duplicate is `400 RESOURCE_ALREADY_EXISTS`; editing
//! or removing an unknown profile is `404 RESOURCE_DOES_NOT_EXIST`. Removing a profile also
//! removes it from SCIM `roles`.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Ctx, empty};
use crate::error::{ApiError, parse_json, required};
use crate::server::AppState;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct InstanceProfile {
    pub instance_profile_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    pub is_meta_instance_profile: bool,
}

#[derive(Deserialize)]
struct AddRequest {
    instance_profile_arn: Option<String>,
    iam_role_arn: Option<String>,
    #[serde(default)]
    is_meta_instance_profile: bool,
    // `skip_validation` is accepted and ignored: the emulator never dry-runs EC2.
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/instance-profiles/add", post(add))
        .route("/api/2.0/instance-profiles/edit", post(edit))
        .route("/api/2.0/instance-profiles/list", get(list))
        .route("/api/2.0/instance-profiles/remove", post(remove))
}

/// `arn:<partition>:iam::<12 digits>:<kind>/<name>`.
pub(crate) fn is_iam_arn(arn: &str, kind: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|c| c.is_ascii_digit())
            && resource.strip_prefix(kind).and_then(|r| r.strip_prefix('/')).is_some_and(|n| !n.is_empty()))
}

fn check(req: &AddRequest) -> Result<String, ApiError> {
    let arn = required(&req.instance_profile_arn, "instance_profile_arn")?.to_string();
    if !is_iam_arn(&arn, "instance-profile") {
        return Err(ApiError::invalid(format!(
            "Invalid instance profile ARN {arn}; expected arn:aws:iam::<12-digit account>:instance-profile/<name>"
        )));
    }
    if let Some(role) = &req.iam_role_arn
        && !is_iam_arn(role, "role")
    {
        return Err(ApiError::invalid(format!(
            "Invalid iam_role_arn {role}; expected arn:aws:iam::<12-digit account>:role/<name>"
        )));
    }
    Ok(arn)
}

fn not_found(arn: &str) -> ApiError {
    ApiError::not_found(format!("Instance profile {arn} does not exist"))
}

async fn add(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: AddRequest = parse_json(&body)?;
    let arn = check(&req)?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    if data.instance_profiles.contains_key(&arn) {
        return Err(ApiError::already_exists_400(format!(
            "Instance profile {arn} already exists"
        )));
    }
    data.instance_profiles.insert(
        arn.clone(),
        InstanceProfile {
            instance_profile_arn: arn,
            iam_role_arn: req.iam_role_arn,
            is_meta_instance_profile: req.is_meta_instance_profile,
        },
    );
    Ok(empty())
}

async fn edit(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: AddRequest = parse_json(&body)?;
    let arn = check(&req)?;
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    let profile = data
        .instance_profiles
        .get_mut(&arn)
        .ok_or_else(|| not_found(&arn))?;
    profile.iam_role_arn = req.iam_role_arn;
    profile.is_meta_instance_profile = req.is_meta_instance_profile;
    Ok(empty())
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<Value>, ApiError> {
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    let profiles: Vec<&InstanceProfile> = data.instance_profiles.values().collect();
    Ok(Json(json!({ "instance_profiles": profiles })))
}

#[derive(Deserialize)]
struct RemoveRequest {
    instance_profile_arn: Option<String>,
}

async fn remove(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: RemoveRequest = parse_json(&body)?;
    let arn = required(&req.instance_profile_arn, "instance_profile_arn")?.to_string();
    let mut state = app.lock();
    let data = ctx.data(&mut state)?;
    data.require_admin(&ctx.caller)?;
    data.instance_profiles
        .shift_remove(&arn)
        .ok_or_else(|| not_found(&arn))?;
    let dir = &mut data.directory;
    for p in dir
        .users
        .values_mut()
        .chain(dir.service_principals.values_mut())
    {
        p.roles.retain(|r| *r != arn);
    }
    for g in dir.groups.values_mut() {
        g.roles.retain(|r| *r != arn);
    }
    Ok(empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn arns() {
        assert!(super::is_iam_arn(
            "arn:aws:iam::123456789012:instance-profile/x",
            "instance-profile"
        ));
        assert!(!super::is_iam_arn("not-an-arn", "instance-profile"));
        assert!(!super::is_iam_arn(
            "arn:aws:iam::123456789012:role/x",
            "instance-profile"
        ));
    }
}
