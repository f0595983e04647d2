//! Scenarios of the workspace API that any faithful workspace emulator, and the real API, must
//! pass: each takes a [`WorkspaceClient`] and asserts only what the vendor documents. They run
//! against minilake (`tests/shared_minilake.rs`) and against brickstack's own emulator, so the
//! two are shown to agree. Every scenario names what it makes uniquely (the workspace may be
//! shared by tests running in parallel) and removes it again.
//!
//! `kinds` holds the provider-level lifecycles of the identity kinds, which need a workspace
//! reachable through the account API.

#![allow(
    dead_code,
    reason = "each test binary runs the scenarios its emulator serves: minilake the client ones, brickstack's emulator all"
)]

pub mod kinds;

use brickstack_databricks::ErrorKind;
use brickstack_databricks::WorkspaceClient;
use brickstack_databricks::workspace::instance_profiles::InstanceProfile;
use brickstack_databricks::workspace::permissions::{AccessControlRequest, ObjectPermissions};
use brickstack_databricks::workspace::scim::{
    ALLOW_CLUSTER_CREATE, Group, PatchOp, ServicePrincipal, User, filter_eq, filter_starts_with,
    has_value,
};
use brickstack_provider::SecretValue;
use brickstack_testkit::unique_name;

/// `Me` names the caller.
pub async fn me_identifies_the_caller(ws: &WorkspaceClient) {
    let me = ws.me().await.expect("Me");
    assert!(me.id.as_deref().is_some_and(|id| !id.is_empty()), "{me:?}");
    assert!(!me.user_name.is_empty(), "{me:?}");
}

/// Users: create, get, find by `userName`, delete; a deleted user reads as none.
pub async fn scim_users_round_trip(ws: &WorkspaceClient) {
    let users = ws.users();
    let name = format!("{}@example.com", unique_name("bs-user"));
    let created = users.create(&User::new(&name)).await.expect("create user");
    let id = created.id.clone().expect("a created user has an id");
    assert_eq!(created.user_name, name);

    let got = users.get(&id).await.expect("get").expect("the user exists");
    assert_eq!(got.user_name, name);
    let found = users
        .list(Some(&filter_eq("userName", &name)))
        .await
        .expect("filter");
    assert_eq!(ids(found.iter().map(|u| u.id.as_deref())), vec![id.clone()]);

    users.delete(&id).await.expect("delete");
    assert_eq!(users.get(&id).await.expect("get after delete"), None);
}

/// Groups: create, get, filter by `displayName`; members, roles and entitlements added and
/// removed with PATCH; renamed; deleted. A second group of the same name is refused.
pub async fn scim_groups_round_trip(ws: &WorkspaceClient) {
    let groups = ws.groups();
    let name = unique_name("bs-group");
    let created = groups
        .create(&Group::new(&name))
        .await
        .expect("create group");
    let id = created.id.clone().expect("a created group has an id");
    assert_eq!(created.display_name, name);

    let duplicate = groups.create(&Group::new(&name)).await.unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::AlreadyExists, "{duplicate}");

    let found = groups
        .list(Some(&filter_eq("displayName", &name)))
        .await
        .expect("filter");
    assert_eq!(ids(found.iter().map(|g| g.id.as_deref())), vec![id.clone()]);

    // A member: a service principal of our own.
    let sp = ws
        .service_principals()
        .create(&ServicePrincipal::new(unique_name("bs-member")))
        .await
        .expect("create member");
    let sp_id = sp.id.clone().expect("sp id");
    groups
        .patch(&id, &[PatchOp::add("members", [sp_id.as_str()])])
        .await
        .expect("add member");
    let with_member = groups.get(&id).await.expect("get").expect("group");
    assert!(has_value(&with_member.members, &sp_id), "{with_member:?}");
    groups
        .patch(&id, &[PatchOp::remove_value("members", &sp_id)])
        .await
        .expect("remove member");
    let without = groups.get(&id).await.expect("get").expect("group");
    assert!(!has_value(&without.members, &sp_id), "{without:?}");

    // A role (an IAM role ARN) and an entitlement.
    let role = format!("arn:aws:iam::123456789012:role/{name}");
    groups
        .patch(
            &id,
            &[
                PatchOp::add("roles", [role.as_str()]),
                PatchOp::add("entitlements", [ALLOW_CLUSTER_CREATE]),
            ],
        )
        .await
        .expect("add role and entitlement");
    let granted = groups
        .get_attributes(&id, Some("displayName,roles,entitlements"))
        .await
        .expect("get")
        .expect("group");
    assert!(has_value(&granted.roles, &role), "{granted:?}");
    assert!(
        has_value(&granted.entitlements, ALLOW_CLUSTER_CREATE),
        "{granted:?}"
    );
    groups
        .patch(
            &id,
            &[
                PatchOp::remove_value("roles", &role),
                PatchOp::remove_values("entitlements", [ALLOW_CLUSTER_CREATE]),
            ],
        )
        .await
        .expect("remove role and entitlement");
    let revoked = groups.get(&id).await.expect("get").expect("group");
    assert!(!has_value(&revoked.roles, &role), "{revoked:?}");
    assert!(
        !has_value(&revoked.entitlements, ALLOW_CLUSTER_CREATE),
        "{revoked:?}"
    );

    let renamed = format!("{name}-renamed");
    groups
        .patch(&id, &[PatchOp::replace("displayName", renamed.as_str())])
        .await
        .expect("rename");
    let got = groups.get(&id).await.expect("get").expect("group");
    assert_eq!(got.display_name, renamed);

    groups.delete(&id).await.expect("delete");
    assert_eq!(groups.get(&id).await.expect("get after delete"), None);
    ws.service_principals()
        .delete(&sp_id)
        .await
        .expect("delete member");
}

/// Service principals: the workspace assigns `applicationId`; found by it; entitlements set at
/// create; deleted.
pub async fn scim_service_principals_round_trip(ws: &WorkspaceClient) {
    let sps = ws.service_principals();
    let name = unique_name("bs-sp");
    let mut sp = ServicePrincipal::new(&name);
    sp.entitlements = vec![brickstack_databricks::workspace::scim::ComplexValue::new(
        ALLOW_CLUSTER_CREATE,
    )];
    let created = sps.create(&sp).await.expect("create service principal");
    let id = created.id.clone().expect("id");
    let application_id = created
        .application_id
        .clone()
        .expect("the workspace assigns an application id");
    assert!(!application_id.is_empty());

    let got = sps.get(&id).await.expect("get").expect("sp");
    assert_eq!(got.display_name, name);
    assert!(
        has_value(&got.entitlements, ALLOW_CLUSTER_CREATE),
        "{got:?}"
    );
    let found = sps
        .list(Some(&filter_eq("applicationId", &application_id)))
        .await
        .expect("filter");
    assert_eq!(ids(found.iter().map(|s| s.id.as_deref())), vec![id.clone()]);

    sps.delete(&id).await.expect("delete");
    assert_eq!(sps.get(&id).await.expect("get after delete"), None);
    let gone = sps.delete(&id).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

/// A listing asks page after page until it has `totalResults` objects.
pub async fn scim_lists_page_through_total_results(ws: &WorkspaceClient) {
    let groups = ws.groups();
    let prefix = unique_name("bs-page");
    let mut made = Vec::new();
    for i in 0..3 {
        let g = groups
            .create(&Group::new(format!("{prefix}-{i}")))
            .await
            .expect("create group");
        made.push(g.id.expect("id"));
    }
    let listed = groups
        .list_paged(Some(&filter_starts_with("displayName", &prefix)), 2)
        .await
        .expect("paged list");
    let mut listed = ids(listed.iter().map(|g| g.id.as_deref()));
    listed.sort();
    let mut expected = made.clone();
    expected.sort();
    assert_eq!(listed, expected);
    for id in made {
        groups.delete(&id).await.expect("delete");
    }
}

/// Personal access tokens: minted with a lifetime and comment, listed (never with a value),
/// revoked; revoking twice is not-found.
pub async fn tokens_round_trip(ws: &WorkspaceClient) {
    let comment = unique_name("bs-token");
    let minted = ws
        .create_token(Some(3600), &comment)
        .await
        .expect("create token");
    assert!(!minted.value.expose().is_empty());
    assert_eq!(minted.info.comment.as_deref(), Some(comment.as_str()));
    let lifetime_ms = minted.info.expiry_time - minted.info.creation_time;
    assert!(
        (3_599_000..=3_601_000).contains(&lifetime_ms),
        "lifetime {lifetime_ms} ms"
    );

    let listed = ws.list_tokens().await.expect("list tokens");
    let info = listed
        .iter()
        .find(|t| t.token_id == minted.info.token_id)
        .expect("the new token is listed");
    assert_eq!(info.comment.as_deref(), Some(comment.as_str()));

    ws.delete_token(&minted.info.token_id)
        .await
        .expect("delete token");
    let listed = ws.list_tokens().await.expect("list tokens");
    assert!(!listed.iter().any(|t| t.token_id == minted.info.token_id));
    let again = ws.delete_token(&minted.info.token_id).await.unwrap_err();
    assert!(again.is_not_found(), "{again}");
}

/// Instance profiles: registered (validation skipped: there is no AWS behind a test), listed
/// with the meta flag, removed.
pub async fn instance_profiles_round_trip(ws: &WorkspaceClient) {
    let arn = format!(
        "arn:aws:iam::123456789012:instance-profile/{}",
        unique_name("bs-profile")
    );
    let profile = InstanceProfile {
        is_meta_instance_profile: true,
        ..InstanceProfile::new(&arn)
    };
    ws.add_instance_profile(&profile, true)
        .await
        .expect("add instance profile");
    let got = ws
        .get_instance_profile(&arn)
        .await
        .expect("list")
        .expect("the profile is registered");
    assert!(got.is_meta_instance_profile, "{got:?}");

    ws.remove_instance_profile(&arn).await.expect("remove");
    assert_eq!(ws.get_instance_profile(&arn).await.expect("list"), None);
}

/// Who may use tokens (`authorization/tokens`): PUT replaces the direct grants (keeping the
/// `admins` group's `CAN_MANAGE`, which the API insists on), PATCH adds one, and the last PUT
/// leaves only `admins`. This object is the workspace's own: the scenario ends with it as a new
/// workspace has it.
pub async fn token_permissions_round_trip(ws: &WorkspaceClient) {
    let sp = ws
        .service_principals()
        .create(&ServicePrincipal::new(unique_name("bs-token-user")))
        .await
        .expect("create sp");
    let sp_id = sp.id.clone().expect("id");
    let application_id = sp.application_id.clone().expect("application id");
    let group = ws
        .groups()
        .create(&Group::new(unique_name("bs-token-users")))
        .await
        .expect("create group");
    let group_id = group.id.clone().expect("id");
    let admins = AccessControlRequest::group("admins", "CAN_MANAGE");

    let set = ws
        .set_permissions(
            "authorization",
            "tokens",
            &[
                AccessControlRequest::service_principal(&application_id, "CAN_USE"),
                admins.clone(),
            ],
        )
        .await
        .expect("put");
    assert!(
        grants(&set).contains(&AccessControlRequest::service_principal(
            &application_id,
            "CAN_USE"
        ))
    );
    let got = ws
        .get_permissions("authorization", "tokens")
        .await
        .expect("get");
    assert!(
        grants(&got).contains(&AccessControlRequest::service_principal(
            &application_id,
            "CAN_USE"
        ))
    );

    ws.update_permissions(
        "authorization",
        "tokens",
        &[AccessControlRequest::group(&group.display_name, "CAN_USE")],
    )
    .await
    .expect("patch");
    let got = grants(
        &ws.get_permissions("authorization", "tokens")
            .await
            .expect("get"),
    );
    assert!(got.contains(&AccessControlRequest::service_principal(
        &application_id,
        "CAN_USE"
    )));
    assert!(got.contains(&AccessControlRequest::group(&group.display_name, "CAN_USE")));

    ws.set_permissions("authorization", "tokens", &[admins])
        .await
        .expect("put admins only");
    let got = grants(
        &ws.get_permissions("authorization", "tokens")
            .await
            .expect("get"),
    );
    assert!(
        !got.iter()
            .any(|g| g.service_principal_name.as_deref() == Some(application_id.as_str())),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|g| g.group_name.as_deref() == Some(group.display_name.as_str())),
        "{got:?}"
    );
    let levels = ws
        .permission_levels("authorization", "tokens")
        .await
        .expect("levels");
    assert!(!levels.is_empty());

    ws.groups().delete(&group_id).await.expect("delete group");
    ws.service_principals()
        .delete(&sp_id)
        .await
        .expect("delete sp");
}

/// Secret scopes, secrets and scope ACLs: a scope made, refused a second time, a secret written
/// and deleted, a group given `READ` and taken it back, the scope deleted.
pub async fn secrets_round_trip(ws: &WorkspaceClient) {
    let scope = unique_name("bs-scope");
    ws.create_secret_scope(&scope).await.expect("create scope");
    let scopes = ws.list_secret_scopes().await.expect("list scopes");
    assert!(scopes.iter().any(|s| s.name == scope), "{scopes:?}");
    let again = ws.create_secret_scope(&scope).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again}");

    ws.put_secret(&scope, "key", &SecretValue::new("s3cr3t"))
        .await
        .expect("put secret");
    let secrets = ws.list_secrets(&scope).await.expect("list secrets");
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    assert_eq!(secrets[0].key, "key");
    assert!(secrets[0].last_updated_timestamp > 0);
    ws.delete_secret(&scope, "key")
        .await
        .expect("delete secret");
    assert!(ws.list_secrets(&scope).await.expect("list").is_empty());

    ws.put_secret_acl(&scope, "users", "READ")
        .await
        .expect("put acl");
    let acl = ws
        .get_secret_acl(&scope, "users")
        .await
        .expect("get acl")
        .expect("the acl exists");
    assert_eq!(acl.permission, "READ");
    let acls = ws.list_secret_acls(&scope).await.expect("list acls");
    assert!(
        acls.iter()
            .any(|a| a.principal == "users" && a.permission == "READ"),
        "{acls:?}"
    );
    ws.delete_secret_acl(&scope, "users")
        .await
        .expect("delete acl");
    assert_eq!(ws.get_secret_acl(&scope, "users").await.expect("get"), None);

    ws.delete_secret_scope(&scope).await.expect("delete scope");
    let scopes = ws.list_secret_scopes().await.expect("list scopes");
    assert!(!scopes.iter().any(|s| s.name == scope));
}

fn ids<'a>(ids: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    ids.map(|id| id.expect("listed objects have ids").to_string())
        .collect()
}

/// The direct grants of `permissions`.
fn grants(permissions: &ObjectPermissions) -> Vec<AccessControlRequest> {
    permissions
        .access_control_list
        .iter()
        .flat_map(|acl| acl.direct())
        .collect()
}
