//! Credential configurations (`/credentials`): the cross-account IAM role Databricks assumes.
//! Immutable: create, get, list, delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, parse_json, required};
use crate::ids::uuid_v4;
use crate::server::{AppState, Empty};

/// A credential configuration, with the vendor's field names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Credential {
    pub credentials_id: String,
    pub credentials_name: String,
    pub account_id: String,
    pub creation_time: i64,
    pub aws_credentials: AwsCredentials,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AwsCredentials {
    pub sts_role: Option<StsRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StsRole {
    pub role_arn: Option<String>,
}

#[derive(Deserialize)]
struct CreateRequest {
    credentials_name: Option<String>,
    aws_credentials: Option<AwsCredentials>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/accounts/{account_id}/credentials",
            post(create).get(list),
        )
        .route(
            "/api/2.0/accounts/{account_id}/credentials/{credentials_id}",
            get(read).delete(delete),
        )
}

async fn create(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<Credential>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let name = required(&req.credentials_name, "credentials_name")?.to_string();
    let role_arn = req
        .aws_credentials
        .as_ref()
        .and_then(|c| c.sts_role.as_ref())
        .and_then(|r| r.role_arn.clone());
    let role_arn = required(&role_arn, "aws_credentials.sts_role.role_arn")?.to_string();
    if !is_iam_role_arn(&role_arn) {
        return Err(ApiError::invalid(format!(
            "Invalid role ARN: {role_arn}; expected arn:aws:iam::<12-digit account>:role/<name>"
        )));
    }
    let mut state = app.lock();
    let account = state.account(&account_id);
    if account
        .credentials
        .values()
        .any(|c| c.credentials_name == name)
    {
        return Err(ApiError::already_exists(format!(
            "Credential configuration with name {name} already exists"
        )));
    }
    let credential = Credential {
        credentials_id: uuid_v4(),
        credentials_name: name,
        account_id,
        creation_time: app.now_ms(),
        aws_credentials: AwsCredentials {
            sts_role: Some(StsRole {
                role_arn: Some(role_arn),
            }),
        },
    };
    account
        .credentials
        .insert(credential.credentials_id.clone(), credential.clone());
    Ok(Json(credential))
}

async fn list(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
) -> Json<Vec<Credential>> {
    let mut state = app.lock();
    Json(
        state
            .account(&account_id)
            .credentials
            .values()
            .cloned()
            .collect(),
    )
}

async fn read(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Credential>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    account
        .credentials
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

async fn delete(
    State(app): State<AppState>,
    Path((account_id, id)): Path<(String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let mut state = app.lock();
    let account = state.account(&account_id);
    if !account.credentials.contains_key(&id) {
        return Err(not_found(&id));
    }
    if let Some(ws) = account.workspace_using(|w| w.credentials_id.as_deref() == Some(&id)) {
        return Err(ApiError::invalid_state(format!(
            "Credential configuration {id} cannot be deleted: it is used by workspace {ws}"
        )));
    }
    account.credentials.shift_remove(&id);
    Ok(Json(Empty {}))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Credential configuration {id} does not exist"))
}

/// `arn:aws:iam::<12 digits>:role/<name>` (any partition).
fn is_iam_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn role_arns() {
        assert!(super::is_iam_role_arn("arn:aws:iam::123456789012:role/x"));
        assert!(super::is_iam_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/path/x"
        ));
        assert!(!super::is_iam_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!super::is_iam_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!super::is_iam_role_arn("not-an-arn"));
    }
}
