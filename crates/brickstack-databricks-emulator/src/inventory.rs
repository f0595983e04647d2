//! `GET /_emulator/inventory?account_id=X`: every live object the emulator holds for an account,
//! so a test can prove that a destroy removed everything it created.
//!
//! Shape: `{"account_id", <kind>: [...], "workspaces": [{"workspace_id", "workspace_name",
//! "workspace_status", "objects": {<kind>: [...]}}], "left_in_deleted_workspaces": [{"workspace_id",
//! "workspace_name", "objects"}]}`. Kinds without objects are left out everywhere, so an account
//! that holds nothing is exactly `{"account_id": X}` and a clean workspace has `"objects": {}`.
//! Account kinds: `credentials`, `storage_configurations`, `networks`, `customer_managed_keys`,
//! `log_delivery` (ENABLED configurations only: the vendor has no delete), `service_principals`,
//! `groups` (`{"id", "displayName", "members": [<SCIM id>]}`), `users` (`{"id", "userName"}`),
//! `metastores` (`{"metastore_id", "name", "region", "storage_credentials": [<name>]}` plus, when
//! not empty, `external_locations` (with `encryption_details` when set), `catalogs`, `schemas`
//! (`information_schema` left out), `tables`, `grants`
//! (`{"securable_type", "full_name", "principal", "privileges"}`) and `system_schemas` (the
//! enabled ones): see
//! `workspace::unity_catalog::MetastoreObjects::inventory`),
//! `metastore_assignments` (`{"workspace_id", "metastore_id"}`) and `permission_assignments`
//! (`{"workspace_id", "principal_id", "permissions"}`).
//! Workspace kinds are listed in [`crate::workspace::WorkspaceData::inventory`]; built-in groups
//! and the configured client's service principal are not user-created and never appear.

use serde_json::{Map, Value, json};

use crate::server::DatabricksEmulatorConfig;
use crate::state::State;

pub(crate) fn of_account(
    state: &mut State,
    config: &DatabricksEmulatorConfig,
    account_id: &str,
    now: i64,
) -> Value {
    let mut out = Map::new();
    out.insert("account_id".into(), json!(account_id));
    let library_failures = state.library_failures.clone();
    let Some(account) = state.accounts.get_mut(account_id) else {
        return Value::Object(out);
    };
    let mut put = |kind: &str, items: Vec<Value>| {
        if !items.is_empty() {
            out.insert(kind.into(), Value::Array(items));
        }
    };
    put(
        "credentials",
        account
            .credentials
            .values()
            .map(|c| json!({"credentials_id": c.credentials_id, "credentials_name": c.credentials_name}))
            .collect(),
    );
    put(
        "storage_configurations",
        account
            .storage_configurations
            .values()
            .map(|s| json!({"storage_configuration_id": s.storage_configuration_id, "storage_configuration_name": s.storage_configuration_name}))
            .collect(),
    );
    put(
        "networks",
        account
            .networks
            .values()
            .map(|n| json!({"network_id": n.network_id, "network_name": n.network_name}))
            .collect(),
    );
    put(
        "customer_managed_keys",
        account
            .customer_managed_keys
            .values()
            .map(|k| json!({"customer_managed_key_id": k.customer_managed_key_id}))
            .collect(),
    );
    put(
        "log_delivery",
        account
            .log_delivery
            .values()
            .filter(|l| l.status == "ENABLED")
            .map(|l| json!({"config_id": l.config_id, "config_name": l.config_name, "log_type": l.log_type}))
            .collect(),
    );
    put(
        "service_principals",
        account
            .service_principals
            .values()
            .map(|sp| {
                json!({
                    "id": sp.id,
                    "applicationId": sp.application_id,
                    "displayName": sp.display_name,
                    "oauth_secrets": sp.secrets.len(),
                })
            })
            .collect(),
    );
    put(
        "groups",
        account
            .groups
            .values()
            .map(|g| json!({"id": g.id, "displayName": g.display_name, "members": g.members}))
            .collect(),
    );
    put(
        "users",
        account
            .users
            .values()
            .map(|u| json!({"id": u.id, "userName": u.user_name}))
            .collect(),
    );
    put(
        "metastores",
        account
            .metastores
            .values()
            .map(|m| {
                let credentials: Vec<&String> = m.storage_credentials.keys().collect();
                let mut v = json!({
                    "metastore_id": m.metastore_id,
                    "name": m.name,
                    "region": m.region,
                    "storage_credentials": credentials,
                });
                if let Value::Object(fields) = &mut v {
                    m.objects.inventory(fields);
                }
                v
            })
            .collect(),
    );
    put(
        "metastore_assignments",
        account
            .metastore_assignments
            .values()
            .map(|a| json!({"workspace_id": a.workspace_id, "metastore_id": a.metastore_id}))
            .collect(),
    );
    put(
        "permission_assignments",
        account
            .permission_assignments
            .iter()
            .flat_map(|(ws, principals)| {
                principals.iter().map(move |(principal_id, permissions)| {
                    json!({"workspace_id": ws, "principal_id": principal_id, "permissions": permissions})
                })
            })
            .collect(),
    );
    let workspaces: Vec<Value> = account
        .workspaces
        .values()
        .map(|w| {
            let objects = account.workspace_data.get_mut(&w.workspace_id).map_or_else(
                || json!({}),
                |d| d.inventory(config, &library_failures, now),
            );
            json!({
                "workspace_id": w.workspace_id,
                "workspace_name": w.workspace_name,
                "workspace_status": w.workspace_status,
                "objects": objects,
            })
        })
        .collect();
    put("workspaces", workspaces);
    put(
        "left_in_deleted_workspaces",
        account.left_in_deleted_workspaces.clone(),
    );
    Value::Object(out)
}
