//! The Databricks account API (provisioning objects, service principals and OAuth M2M, account
//! users and groups, Unity Catalog metastores and workspace permission assignments), one
//! module per API area.
//!
//! Modelled on the vendor's paths, field names, id formats and error shape
//! (`{"error_code", "message"}`). Every `/api/2.0/accounts/{account_id}/` call needs
//! `Authorization: Bearer <token>` from `POST /oidc/accounts/{account_id}/v1/token`.
//!
//! Where the vendor's documentation is silent the emulator picks a plausible answer and says so:
//! duplicate configuration names are `409 RESOURCE_ALREADY_EXISTS`; deleting a configuration a
//! workspace uses is `400 INVALID_STATE`; a service principal other than the configured client
//! may call the account API only with the `account_admin` role (`403 PERMISSION_DENIED`).

pub(crate) mod auth;
pub(crate) mod credentials;
pub(crate) mod groups;
pub(crate) mod keys;
pub(crate) mod log_delivery;
pub(crate) mod networks;
pub(crate) mod permission_assignments;
pub(crate) mod service_principals;
pub(crate) mod storage;
pub(crate) mod unity_catalog;
pub(crate) mod users;
pub(crate) mod workspaces;

use axum::{Router, middleware};

pub use workspaces::Provisioning;

use crate::server::AppState;

/// Every account-API route, the bearer check in front of the `/api/2.0/accounts/` ones.
pub(crate) fn routes(app: AppState) -> Router<AppState> {
    let api = Router::new()
        .merge(credentials::routes())
        .merge(storage::routes())
        .merge(networks::routes())
        .merge(keys::routes())
        .merge(workspaces::routes())
        .merge(log_delivery::routes())
        .merge(service_principals::routes())
        .merge(groups::routes())
        .merge(users::routes())
        .merge(unity_catalog::routes())
        .merge(permission_assignments::routes())
        .route_layer(middleware::from_fn_with_state(app, auth::require_bearer));
    Router::new().merge(auth::routes()).merge(api)
}
