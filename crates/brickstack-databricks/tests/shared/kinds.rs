//! Provider-level lifecycles of the identity kinds: create, read (the same shape create
//! returned), update where a kind has one, find, delete, read of the deleted object (none),
//! delete again (fine). Each takes a [`DatabricksProvider`] that reaches the workspace at
//! `url` through the account API, so they run against brickstack's own emulator; minilake is no
//! account API.
//!
//! The token lifecycles also take the provider's secret store: build the provider with
//! [`SharedSecrets`] around the same [`MemorySecrets`].
//!
//! The workspace needs the built-in `admins` group, and token management for the on-behalf-of
//! token. `token_permissions_lifecycle` and `obo_token_lifecycle` both set the workspace's one
//! token ACL (`authorization/tokens`, authoritative): give each its own workspace, or run them
//! one after the other.

use std::sync::Arc;

use brickstack_databricks::DatabricksProvider;
use brickstack_provider::memory::MemorySecrets;
use brickstack_provider::{
    CreateRequest, ErrorClass, Observed, Provider, ProviderError, SecretMetadata, SecretStore,
    SecretValue, SecretWrite,
};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use serde_json::{Value, json};

/// A [`SecretStore`] sharing one [`MemorySecrets`], so a test sees what the provider stored.
#[derive(Debug, Clone, Default)]
pub struct SharedSecrets(pub Arc<MemorySecrets>);

impl SecretStore for SharedSecrets {
    async fn put(&self, secret: &SecretWrite<'_>) -> Result<SecretMetadata, ProviderError> {
        self.0.put(secret).await
    }
    async fn describe(&self, name: &str) -> Result<Option<SecretMetadata>, ProviderError> {
        self.0.describe(name).await
    }
    async fn read(&self, name: &str) -> Result<Option<SecretValue>, ProviderError> {
        self.0.read(name).await
    }
    async fn delete(&self, name: &str) -> Result<(), ProviderError> {
        self.0.delete(name).await
    }
}

/// A create request as the engine makes it: found again by its name attribute in its workspace.
fn request(kind: &str, name: &str, attributes: Value) -> CreateRequest {
    let attributes = attributes
        .as_object()
        .cloned()
        .expect("attributes are an object");
    let lookup = ObjectLookup {
        name: ["name", "display_name"]
            .iter()
            .find_map(|k| attributes.get(*k).and_then(Value::as_str))
            .map(str::to_string),
        tags: Default::default(),
        scope: attributes
            .get("workspace_url")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    CreateRequest {
        address: format!("{kind}.{name}"),
        kind: kind.to_string(),
        attributes,
        lookup,
    }
}

async fn create(p: &DatabricksProvider, request: &CreateRequest) -> Observed {
    p.create(request)
        .await
        .unwrap_or_else(|e| panic!("create {}: {e}", request.address))
}

/// Reads `object` back and checks it is what create (or update) returned.
async fn read_back(p: &DatabricksProvider, kind: &str, object: &Observed) {
    let read = p
        .read(kind, &object.object_id)
        .await
        .unwrap_or_else(|e| panic!("read {kind} {}: {e}", object.object_id))
        .unwrap_or_else(|| panic!("{kind} {} reads as gone", object.object_id));
    assert_eq!(
        &read, object,
        "{kind}: read differs from what create returned"
    );
}

/// Deletes `object`, checks it reads as gone, and that a second delete is fine.
async fn delete_for_good(p: &DatabricksProvider, kind: &str, object: &Observed) {
    p.delete(kind, &object.object_id)
        .await
        .unwrap_or_else(|e| panic!("delete {kind} {}: {e}", object.object_id));
    assert_eq!(
        p.read(kind, &object.object_id).await.expect("read deleted"),
        None,
        "{kind} {} still reads after delete",
        object.object_id
    );
    p.delete(kind, &object.object_id)
        .await
        .unwrap_or_else(|e| panic!("delete {kind} {} again: {e}", object.object_id));
}

fn attr<'a>(object: &'a Observed, name: &str) -> &'a Value {
    object
        .attributes
        .get(name)
        .unwrap_or_else(|| panic!("{} has no `{name}`", object.object_id))
}

fn text(object: &Observed, name: &str) -> String {
    attr(object, name)
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` of {} is not text", object.object_id))
        .to_string()
}

fn with(mut attributes: Value, changes: Value) -> serde_json::Map<String, Value> {
    let map = attributes.as_object_mut().expect("object");
    for (k, v) in changes.as_object().expect("object") {
        map.insert(k.clone(), v.clone());
    }
    map.clone()
}

async fn new_service_principal(p: &DatabricksProvider, url: &str) -> Observed {
    let name = unique_name("bs-kinds-sp");
    create(
        p,
        &request(
            "databricks_service_principal",
            &name,
            json!({"workspace_url": url, "display_name": name, "allow_cluster_create": false}),
        ),
    )
    .await
}

async fn new_group(p: &DatabricksProvider, url: &str) -> Observed {
    let name = unique_name("bs-kinds-group");
    create(
        p,
        &request(
            "databricks_group",
            &name,
            json!({"workspace_url": url, "display_name": name,
                   "allow_cluster_create": false, "allow_instance_pool_create": false}),
        ),
    )
    .await
}

/// `databricks_service_principal`: computed `id` and `application_id`; the entitlement and the
/// display name change in place; found by display name.
pub async fn service_principal_lifecycle(p: &DatabricksProvider, url: &str) {
    const KIND: &str = "databricks_service_principal";
    let name = unique_name("bs-kinds-deployer");
    let desired = json!({"workspace_url": url, "display_name": name, "allow_cluster_create": true});
    let req = request(KIND, "deployer", desired.clone());
    let sp = create(p, &req).await;
    assert_eq!(attr(&sp, "allow_cluster_create"), &json!(true));
    assert_eq!(attr(&sp, "display_name"), &json!(name));
    assert!(!text(&sp, "application_id").is_empty());
    assert!(sp.object_id.ends_with(&format!("/{}", text(&sp, "id"))));
    read_back(p, KIND, &sp).await;

    let found = p.find(KIND, &req.lookup).await.expect("find");
    assert_eq!(found.as_ref(), Some(&sp));

    let renamed = format!("{name}-2");
    let updated = p
        .update(
            KIND,
            &sp.object_id,
            &with(
                desired,
                json!({"display_name": renamed, "allow_cluster_create": false}),
            ),
        )
        .await
        .expect("update");
    assert_eq!(attr(&updated, "allow_cluster_create"), &json!(false));
    assert_eq!(attr(&updated, "display_name"), &json!(renamed));
    assert_eq!(updated.object_id, sp.object_id);
    read_back(p, KIND, &updated).await;

    delete_for_good(p, KIND, &updated).await;
}

/// `databricks_group`: both entitlements and the name change in place; found by display name;
/// built-in groups are refused.
pub async fn group_lifecycle(p: &DatabricksProvider, url: &str) {
    const KIND: &str = "databricks_group";
    let name = unique_name("bs-kinds-data");
    let desired = json!({"workspace_url": url, "display_name": name,
                         "allow_cluster_create": true, "allow_instance_pool_create": false});
    let req = request(KIND, "data", desired.clone());
    let group = create(p, &req).await;
    assert_eq!(attr(&group, "allow_cluster_create"), &json!(true));
    assert_eq!(attr(&group, "allow_instance_pool_create"), &json!(false));
    read_back(p, KIND, &group).await;
    assert_eq!(
        p.find(KIND, &req.lookup).await.expect("find").as_ref(),
        Some(&group)
    );

    let updated = p
        .update(
            KIND,
            &group.object_id,
            &with(
                desired,
                json!({"display_name": format!("{name}-2"),
                       "allow_cluster_create": false, "allow_instance_pool_create": true}),
            ),
        )
        .await
        .expect("update");
    assert_eq!(attr(&updated, "allow_cluster_create"), &json!(false));
    assert_eq!(attr(&updated, "allow_instance_pool_create"), &json!(true));
    read_back(p, KIND, &updated).await;
    delete_for_good(p, KIND, &updated).await;

    let admins = p
        .create(&request(
            KIND,
            "admins",
            json!({"workspace_url": url, "display_name": "admins"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(admins.class, ErrorClass::InvalidInput, "{admins}");
}

/// `databricks_group_member`: a service principal in a group by id, and in the built-in
/// `admins` by display name; reads report the group both ways.
pub async fn group_member_lifecycle(p: &DatabricksProvider, url: &str) {
    const KIND: &str = "databricks_group_member";
    let sp = new_service_principal(p, url).await;
    let group = new_group(p, url).await;
    let member_id = text(&sp, "id");
    let group_id = text(&group, "id");

    let by_id = create(
        p,
        &request(
            KIND,
            "data-deployer",
            json!({"workspace_url": url, "group_id": group_id, "member_id": member_id}),
        ),
    )
    .await;
    assert!(
        by_id
            .object_id
            .ends_with(&format!("/{group_id}|{member_id}"))
    );
    assert_eq!(
        attr(&by_id, "group_display_name"),
        attr(&group, "display_name")
    );
    read_back(p, KIND, &by_id).await;
    delete_for_good(p, KIND, &by_id).await;

    let in_admins = create(
        p,
        &request(
            KIND,
            "admins-deployer",
            json!({"workspace_url": url, "group_display_name": "admins", "member_id": member_id}),
        ),
    )
    .await;
    assert_eq!(attr(&in_admins, "group_display_name"), &json!("admins"));
    read_back(p, KIND, &in_admins).await;
    delete_for_good(p, KIND, &in_admins).await;

    let unknown = p
        .create(&request(
            KIND,
            "nowhere",
            json!({"workspace_url": url, "group_display_name": unique_name("bs-no-such-group"),
                   "member_id": member_id}),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.class, ErrorClass::NotFound, "{unknown}");

    delete_for_good(p, "databricks_group", &group).await;
    delete_for_good(p, "databricks_service_principal", &sp).await;
}

/// `databricks_instance_profile`, `databricks_group_instance_profile` and
/// `databricks_group_role`: a meta instance profile registered (and adopted when registered
/// already), granted to a group and to `admins`, and an IAM role added to the group's roles.
pub async fn instance_profile_and_group_roles_lifecycle(p: &DatabricksProvider, url: &str) {
    let arn = format!(
        "arn:aws:iam::123456789012:instance-profile/{}",
        unique_name("bs-kinds-meta")
    );
    let profile_req = request(
        "databricks_instance_profile",
        "meta",
        json!({"workspace_url": url, "instance_profile_arn": arn, "is_meta_instance_profile": true}),
    );
    let profile = create(p, &profile_req).await;
    assert_eq!(attr(&profile, "id"), &json!(arn));
    read_back(p, "databricks_instance_profile", &profile).await;
    // Registered already: the create adopts it (how a lost create completes).
    assert_eq!(create(p, &profile_req).await, profile);

    let group = new_group(p, url).await;
    let group_id = text(&group, "id");
    let grant = create(
        p,
        &request(
            "databricks_group_instance_profile",
            "data-meta",
            json!({"workspace_url": url, "group_id": group_id, "instance_profile_id": arn}),
        ),
    )
    .await;
    read_back(p, "databricks_group_instance_profile", &grant).await;
    let admins_grant = create(
        p,
        &request(
            "databricks_group_instance_profile",
            "admins-meta",
            json!({"workspace_url": url, "group_display_name": "admins", "instance_profile_id": arn}),
        ),
    )
    .await;
    read_back(p, "databricks_group_instance_profile", &admins_grant).await;

    let role_arn = format!(
        "arn:aws:iam::123456789012:role/{}",
        unique_name("bs-kinds-read")
    );
    let role = create(
        p,
        &request(
            "databricks_group_role",
            "data",
            json!({"workspace_url": url, "group_id": group_id, "role": role_arn}),
        ),
    )
    .await;
    read_back(p, "databricks_group_role", &role).await;

    delete_for_good(p, "databricks_group_role", &role).await;
    // The grant is gone; the group's other role entry (the profile) is not.
    read_back(p, "databricks_group_instance_profile", &grant).await;
    delete_for_good(p, "databricks_group_instance_profile", &grant).await;
    delete_for_good(p, "databricks_group_instance_profile", &admins_grant).await;
    delete_for_good(p, "databricks_instance_profile", &profile).await;
    delete_for_good(p, "databricks_group", &group).await;
}

/// `databricks_permissions` on tokens: authoritative grants, compared as a set; `admins` never
/// reported; delete leaves only `admins` (the object reads as gone).
pub async fn token_permissions_lifecycle(p: &DatabricksProvider, url: &str) {
    const KIND: &str = "databricks_permissions";
    let sp = new_service_principal(p, url).await;
    let group = new_group(p, url).await;
    // Keys in the graph's (sorted) order: the planner compares unordered items as JSON text.
    let sp_grant = json!({"permission_level": "CAN_USE", "service_principal_name": text(&sp, "application_id")});
    let group_grant =
        json!({"group_name": text(&group, "display_name"), "permission_level": "CAN_USE"});
    let desired =
        json!({"workspace_url": url, "authorization": "tokens", "access_control": [sp_grant]});
    let permissions = create(p, &request(KIND, "token_usage", desired.clone())).await;
    assert!(permissions.object_id.ends_with("/authorization/tokens"));
    assert_eq!(attr(&permissions, "access_control"), &json!([sp_grant]));
    read_back(p, KIND, &permissions).await;

    let updated = p
        .update(
            KIND,
            &permissions.object_id,
            &with(desired, json!({"access_control": [group_grant, sp_grant]})),
        )
        .await
        .expect("update");
    let schema = p.schema(KIND).expect("schema");
    assert!(schema.same_value(
        "access_control",
        &json!([group_grant, sp_grant]),
        attr(&updated, "access_control")
    ));
    read_back(p, KIND, &updated).await;

    delete_for_good(p, KIND, &updated).await;
    delete_for_good(p, "databricks_group", &group).await;
    delete_for_good(p, "databricks_service_principal", &sp).await;
}

/// `databricks_secret_scope` and `databricks_secret_acl`: a scope found by name, a group's
/// `READ` changed to `WRITE` in place, both deleted.
pub async fn secret_scope_and_acl_lifecycle(p: &DatabricksProvider, url: &str) {
    let name = unique_name("bs-kinds-scope");
    let scope_req = request(
        "databricks_secret_scope",
        "app",
        json!({"workspace_url": url, "name": name}),
    );
    let scope = create(p, &scope_req).await;
    read_back(p, "databricks_secret_scope", &scope).await;
    assert_eq!(
        p.find("databricks_secret_scope", &scope_req.lookup)
            .await
            .expect("find")
            .as_ref(),
        Some(&scope)
    );

    let group = new_group(p, url).await;
    let principal = text(&group, "display_name");
    let desired =
        json!({"workspace_url": url, "scope": name, "principal": principal, "permission": "READ"});
    let acl = create(
        p,
        &request("databricks_secret_acl", "app-data", desired.clone()),
    )
    .await;
    assert!(acl.object_id.ends_with(&format!("/{name}|{principal}")));
    read_back(p, "databricks_secret_acl", &acl).await;
    let updated = p
        .update(
            "databricks_secret_acl",
            &acl.object_id,
            &with(desired, json!({"permission": "WRITE"})),
        )
        .await
        .expect("update");
    assert_eq!(attr(&updated, "permission"), &json!("WRITE"));
    read_back(p, "databricks_secret_acl", &updated).await;

    delete_for_good(p, "databricks_secret_acl", &updated).await;
    delete_for_good(p, "databricks_secret_scope", &scope).await;
    delete_for_good(p, "databricks_group", &group).await;
}

/// What `observed` shows anywhere (its id and attributes), as text to search for a leak.
fn shown(observed: &Observed) -> String {
    format!(
        "{} {}",
        observed.object_id,
        serde_json::to_string(&observed.attributes).expect("attributes serialise")
    )
}

/// Reads a token back: what create returned, plus `expires_in_seconds`, which only a read
/// reports (counted by the workspace's clock, so at most the lifetime and close to it here).
async fn read_back_token(p: &DatabricksProvider, kind: &str, object: &Observed, lifetime: i64) {
    let mut read = p
        .read(kind, &object.object_id)
        .await
        .unwrap_or_else(|e| panic!("read {kind} {}: {e}", object.object_id))
        .unwrap_or_else(|| panic!("{kind} {} reads as gone", object.object_id));
    let expires_in = read
        .attributes
        .remove("expires_in_seconds")
        .and_then(|v| v.as_i64())
        .unwrap_or_else(|| panic!("{kind}: a read reports `expires_in_seconds`"));
    assert!(
        (lifetime - 60..=lifetime).contains(&expires_in),
        "{kind}: expires in {expires_in}s, lifetime {lifetime}s"
    );
    assert_eq!(
        &read, object,
        "{kind}: read differs from what create returned"
    );
}

/// The checks both token kinds share, on the token `desired` describes. Mints it, replaces it
/// (create before destroy: the new token writes the parameter, the old one's delete leaves it),
/// and deletes the new one with its parameter.
async fn token_replacement(
    p: &DatabricksProvider,
    secrets: &MemorySecrets,
    kind: &str,
    desired: Value,
) {
    let parameter = desired["value_parameter"]
        .as_str()
        .expect("value_parameter")
        .to_string();
    let lifetime = desired["lifetime_seconds"]
        .as_i64()
        .expect("lifetime_seconds");
    let req = request(kind, "deployer", desired);

    let first = create(p, &req).await;
    // No countdown to go stale in state, and the plan's threshold is not the token's.
    assert!(!first.attributes.contains_key("expires_in_seconds"));
    assert!(!first.attributes.contains_key("rotate_before_seconds"));
    let first_value = secrets
        .values()
        .get(&parameter)
        .cloned()
        .expect("the value is in the secret store");
    assert!(
        !shown(&first).contains(first_value.expose()),
        "the token's value is in what create returned"
    );
    let stored = secrets
        .describe(&parameter)
        .await
        .expect("describe")
        .expect("stored");
    assert_eq!(stored.version, 1);
    assert_eq!(attr(&first, "value_parameter_version"), &json!(1));
    assert_eq!(
        stored.tags.get("brickstack:token_id"),
        Some(&text(&first, "token_id"))
    );
    assert_eq!(
        stored.tags.get("brickstack:address").map(String::as_str),
        Some(req.address.as_str())
    );
    assert!(stored.tags.contains_key("brickstack:environment"));
    assert_eq!(
        attr(&first, "lifetime_seconds"),
        &req.attributes["lifetime_seconds"]
    );
    read_back_token(p, kind, &first, lifetime).await;
    // Without the parameter to go by, nothing is found...
    assert_eq!(p.find(kind, &req.lookup).await.expect("find"), None);
    // ...with the engine's lookup (the workspace URL, the value parameter) the token whose value
    // the parameter holds is adopted.
    let lookup = ObjectLookup {
        name: Some(parameter.clone()),
        ..req.lookup.clone()
    };
    let found = p
        .find(kind, &lookup)
        .await
        .expect("find")
        .expect("the stored token is adopted");
    assert_eq!(found.object_id, first.object_id);
    assert_eq!(attr(&found, "token_id"), attr(&first, "token_id"));
    let update = p
        .update(kind, &first.object_id, &req.attributes)
        .await
        .unwrap_err();
    assert_eq!(update.class, ErrorClass::InvalidInput);

    // The replacement: the new token first...
    let second = create(p, &req).await;
    assert_ne!(text(&second, "token_id"), text(&first, "token_id"));
    let second_value = secrets.values()[&parameter].clone();
    assert_ne!(second_value, first_value);
    assert!(!shown(&second).contains(second_value.expose()));
    assert_eq!(
        secrets
            .describe(&parameter)
            .await
            .expect("describe")
            .expect("stored")
            .version,
        2
    );
    assert_eq!(attr(&second, "value_parameter_version"), &json!(2));
    // ...the old one no longer owns the parameter, so a plan would replace it...
    let old = p
        .read(kind, &first.object_id)
        .await
        .expect("read")
        .expect("the old token still exists");
    assert!(!old.attributes.contains_key("value_parameter"), "{old:?}");
    assert!(!shown(&old).contains(first_value.expose()));
    // ...and its delete revokes it, leaving the parameter to the new one.
    delete_for_good(p, kind, &first).await;
    assert_eq!(secrets.values().get(&parameter), Some(&second_value));
    read_back_token(p, kind, &second, lifetime).await;

    // A parameter deleted outside brickstack: the token reads without it (the plan replaces).
    secrets.delete(&parameter).await.expect("delete parameter");
    let orphan = p
        .read(kind, &second.object_id)
        .await
        .expect("read")
        .expect("the token exists");
    assert!(!orphan.attributes.contains_key("value_parameter"));
    assert!(!orphan.attributes.contains_key("value_parameter_version"));
    delete_for_good(p, kind, &second).await;
    assert_eq!(secrets.values().get(&parameter), None);
}

/// `databricks_token`: the provider's own PAT. Its value is only in the secret store (version 1,
/// then 2 after a replacement), never in what the provider returns.
pub async fn token_lifecycle(p: &DatabricksProvider, secrets: &MemorySecrets, url: &str) {
    let parameter = format!("/brickstack/test/{}/pat", unique_name("bs-kinds"));
    token_replacement(
        p,
        secrets,
        "databricks_token",
        json!({
            "workspace_url": url,
            "comment": unique_name("brickstack test deployer"),
            "lifetime_seconds": 3600,
            "rotate_before_seconds": 600,
            "value_parameter": parameter,
            "value_parameter_kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/test",
        }),
    )
    .await;
}

/// `databricks_obo_token`: a token of a service principal allowed to use tokens, minted through
/// token management; reads report the principal's application id.
pub async fn obo_token_lifecycle(p: &DatabricksProvider, secrets: &MemorySecrets, url: &str) {
    let sp = new_service_principal(p, url).await;
    let application_id = text(&sp, "application_id");
    let permissions = create(
        p,
        &request(
            "databricks_permissions",
            "token_usage",
            json!({"workspace_url": url, "authorization": "tokens", "access_control": [
                {"permission_level": "CAN_USE", "service_principal_name": application_id}
            ]}),
        ),
    )
    .await;
    let parameter = format!(
        "/brickstack/test/{}/service-principal",
        unique_name("bs-kinds")
    );
    token_replacement(
        p,
        secrets,
        "databricks_obo_token",
        json!({
            "workspace_url": url,
            "application_id": application_id,
            "comment": unique_name("brickstack test on behalf of"),
            "lifetime_seconds": 3600,
            "rotate_before_seconds": 600,
            "value_parameter": parameter,
            "value_parameter_kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/test",
        }),
    )
    .await;
    delete_for_good(p, "databricks_permissions", &permissions).await;
    delete_for_good(p, "databricks_service_principal", &sp).await;
}
