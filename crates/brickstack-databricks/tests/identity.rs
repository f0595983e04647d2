//! The identity area's typed calls against minilake, beyond the shared scenarios: how the client
//! pages, what missing objects look like (the kinds turn them into "gone"), and that token and
//! secret values stay out of everything printable. minilake has no token management (on-behalf-of
//! tokens) and no built-in `admins` group; those are exercised by `shared::kinds` against
//! brickstack's own emulator.

use brickstack_databricks::workspace::instance_profiles::InstanceProfile;
use brickstack_databricks::workspace::scim::{Group, PatchOp, filter_starts_with};
use brickstack_databricks::{Credentials, ErrorKind, RetryPolicy, WorkspaceClient};
use brickstack_provider::{ErrorClass, ProviderError, SecretValue};
use brickstack_testkit::unique_name;

fn minilake(test: &str) -> Option<WorkspaceClient> {
    let endpoint = brickstack_testkit::require_minilake(test)?;
    Some(
        WorkspaceClient::new(
            &endpoint.url,
            Credentials::Pat(SecretValue::new("dev")),
            RetryPolicy::default(),
        )
        .expect("client"),
    )
}

#[tokio::test]
async fn a_scim_listing_asks_one_page_per_call_until_it_has_total_results() {
    let Some(ws) = minilake("a_scim_listing_asks_one_page_per_call_until_it_has_total_results")
    else {
        return;
    };
    let groups = ws.groups();
    let prefix = unique_name("bs-pages");
    let mut made = Vec::new();
    for i in 0..3 {
        let g = groups
            .create(&Group::new(format!("{prefix}-{i}")))
            .await
            .expect("create");
        made.push(g.id.expect("id"));
    }
    let before = ws.client().calls();
    let listed = groups
        .list_paged(Some(&filter_starts_with("displayName", &prefix)), 1)
        .await
        .expect("list");
    assert_eq!(listed.len(), 3);
    let path = "GET /api/2.0/preview/scim/v2/Groups";
    let calls = ws.client().calls().get(path).copied().unwrap_or(0)
        - before.get(path).copied().unwrap_or(0);
    assert_eq!(calls, 3, "one call per page of one");
    for id in made {
        groups.delete(&id).await.expect("delete");
    }
}

#[tokio::test]
async fn missing_objects_read_as_none_and_their_deletes_are_not_found() {
    let Some(ws) = minilake("missing_objects_read_as_none_and_their_deletes_are_not_found") else {
        return;
    };
    let missing = unique_name("bs-missing");
    assert_eq!(ws.groups().get(&missing).await.expect("get group"), None);
    assert_eq!(ws.users().get(&missing).await.expect("get user"), None);
    assert_eq!(
        ws.service_principals().get(&missing).await.expect("get sp"),
        None
    );
    assert_eq!(
        ws.get_instance_profile(&format!("arn:aws:iam::1:instance-profile/{missing}"))
            .await
            .expect("list profiles"),
        None
    );
    assert_eq!(
        ws.get_secret_acl(&missing, "users")
            .await
            .expect("acl of a missing scope"),
        None
    );

    let errors = [
        ws.groups().delete(&missing).await.unwrap_err(),
        ws.groups()
            .patch(&missing, &[PatchOp::remove_value("members", "1")])
            .await
            .unwrap_err(),
        ws.delete_token(&missing).await.unwrap_err(),
        ws.delete_secret_scope(&missing).await.unwrap_err(),
        ws.delete_secret_acl(&missing, "users").await.unwrap_err(),
        ws.remove_instance_profile(&format!("arn:aws:iam::1:instance-profile/{missing}"))
            .await
            .unwrap_err(),
    ];
    for e in errors {
        assert!(e.is_not_found(), "{e}");
        // What the engine sees: not found, with the call that failed in the message.
        let p = ProviderError::from(e);
        assert_eq!(p.class, ErrorClass::NotFound, "{p}");
        assert!(p.message.contains("/api/2.0/"), "{p}");
    }
}

#[tokio::test]
async fn registering_an_instance_profile_twice_is_already_exists() {
    let Some(ws) = minilake("registering_an_instance_profile_twice_is_already_exists") else {
        return;
    };
    let arn = format!(
        "arn:aws:iam::123456789012:instance-profile/{}",
        unique_name("bs-twice")
    );
    let profile = InstanceProfile::new(&arn);
    ws.add_instance_profile(&profile, true).await.expect("add");
    let again = ws.add_instance_profile(&profile, true).await.unwrap_err();
    // The kind adopts a registration it collides with, so it must recognise this answer.
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again}");
    ws.remove_instance_profile(&arn).await.expect("remove");
}

#[tokio::test]
async fn token_and_secret_values_stay_out_of_what_prints() {
    let Some(ws) = minilake("token_and_secret_values_stay_out_of_what_prints") else {
        return;
    };
    let minted = ws
        .create_token(Some(600), &unique_name("bs-no-leak"))
        .await
        .expect("create token");
    let value = minted.value.expose().to_string();
    assert!(
        value.starts_with("dapi"),
        "a token value as the vendor's look"
    );
    assert!(!format!("{minted:?}").contains(&value));
    let listed = ws.list_tokens().await.expect("list");
    assert!(!format!("{listed:?}").contains(&value));
    ws.delete_token(&minted.info.token_id)
        .await
        .expect("delete");

    let scope = unique_name("bs-no-leak");
    ws.create_secret_scope(&scope).await.expect("scope");
    let secret = SecretValue::new(unique_name("value"));
    ws.put_secret(&scope, "k", &secret).await.expect("put");
    let listed = ws.list_secrets(&scope).await.expect("list");
    assert!(!format!("{listed:?}").contains(secret.expose()));
    ws.delete_secret_scope(&scope).await.expect("delete scope");
}
