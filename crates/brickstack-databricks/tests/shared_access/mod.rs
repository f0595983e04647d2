//! The access client suite (single-user clusters, issue #12): one scenario per behaviour, each
//! taking a `&WorkspaceClient` and asserting only what both a faithful emulator and the real API
//! do. Objects get unique names and a scenario looks at its own objects only, so scenarios run in
//! parallel against one shared workspace.
//!
//! `shared_access_minilake.rs` runs what minilake 1.9.0 serves faithfully: cluster permissions
//! (PUT replaces, PATCH merges). The scenarios marked "needs a faithful emulator" use what
//! minilake lacks: it accepts any cluster id, level and principal on the permissions API (200),
//! offers the generic levels `CAN_READ`/`CAN_RUN`/`CAN_EDIT`/`CAN_MANAGE` for clusters, drops
//! `single_user_name` and `data_security_mode` without checking the user, and answers the
//! libraries API with 501 `NOT_IMPLEMENTED`.

#![allow(dead_code, reason = "each test binary runs its part of the suite")]

use std::time::{Duration, Instant};

use brickstack_databricks::WorkspaceClient;
use brickstack_databricks::client::error::ErrorKind;
use brickstack_databricks::workspace::clusters::{ClusterFilter, DataSecurityMode};
use brickstack_databricks::workspace::libraries::{Library, LibraryFullStatus, LibraryStatus};
use brickstack_databricks::workspace::permissions::AccessControlRequest;
use brickstack_databricks::workspace::scim::{ServicePrincipal, User};
use brickstack_testkit::unique_name;

use super::shared_compute::{CLUSTER_TIMEOUT, ok, small_cluster};

/// A workspace user with a unique e-mail; returns (SCIM id, user name).
pub async fn new_user(w: &WorkspaceClient, prefix: &str) -> (String, String) {
    let name = format!("{}@example.com", unique_name(prefix));
    let user = ok("create user", w.users().create(&User::new(&name)).await);
    (user.id.expect("a created user has an id"), name)
}

/// A running cluster of the suite's small shape.
pub async fn running_cluster(w: &WorkspaceClient, prefix: &str) -> String {
    let spec = small_cluster(w, prefix).await;
    let id = ok("create", w.create_cluster(&spec).await);
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    id
}

fn levels_of(grants: &[AccessControlRequest], user: &str) -> Vec<String> {
    grants
        .iter()
        .filter(|g| g.user_name.as_deref() == Some(user))
        .map(|g| g.permission_level.clone())
        .collect()
}

/// Cluster permissions: PUT a user's `CAN_RESTART` → read back; PATCH adds a group's
/// `CAN_ATTACH_TO` beside it; PUT again replaces both with one grant.
pub async fn cluster_permissions(w: &WorkspaceClient) {
    let (user_id, user) = new_user(w, "bs-access-perm").await;
    let id = running_cluster(w, "bs-access-perm").await;
    let set = ok(
        "put",
        w.set_permissions(
            "clusters",
            &id,
            &[AccessControlRequest::user(&user, "CAN_RESTART")],
        )
        .await,
    );
    assert_eq!(levels_of(&set.direct(), &user), ["CAN_RESTART"]);
    let read = ok("get", w.get_permissions("clusters", &id).await);
    assert_eq!(levels_of(&read.direct(), &user), ["CAN_RESTART"]);

    let patched = ok(
        "patch",
        w.update_permissions(
            "clusters",
            &id,
            &[AccessControlRequest::group("users", "CAN_ATTACH_TO")],
        )
        .await,
    );
    let direct = patched.direct();
    assert_eq!(levels_of(&direct, &user), ["CAN_RESTART"], "PATCH keeps");
    assert!(
        direct
            .iter()
            .any(|g| g.group_name.as_deref() == Some("users")
                && g.permission_level == "CAN_ATTACH_TO"),
        "{direct:?}"
    );

    ok(
        "put again",
        w.set_permissions(
            "clusters",
            &id,
            &[AccessControlRequest::user(&user, "CAN_MANAGE")],
        )
        .await,
    );
    let read = ok("get after put", w.get_permissions("clusters", &id).await).direct();
    assert_eq!(levels_of(&read, &user), ["CAN_MANAGE"]);
    assert!(
        read.iter()
            .all(|g| g.group_name.as_deref() != Some("users")),
        "PUT replaced the group's grant: {read:?}"
    );
    ok("delete cluster", w.permanent_delete_cluster(&id).await);
    ok("delete user", w.users().delete(&user_id).await);
}

// --- needs a faithful emulator (minilake lacks these) ------------------------------------------

/// The vendor's errors on cluster permissions: a missing cluster is not found, a level clusters
/// do not offer and an unknown principal are invalid input and grant nothing.
pub async fn cluster_permission_errors(w: &WorkspaceClient) {
    let (user_id, user) = new_user(w, "bs-access-perm-err").await;
    let missing = "0101-000000-nosuchcl";
    let e = w.get_permissions("clusters", missing).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.code(), "RESOURCE_DOES_NOT_EXIST");
    let e = w
        .set_permissions(
            "clusters",
            missing,
            &[AccessControlRequest::user(&user, "CAN_RESTART")],
        )
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");

    let id = running_cluster(w, "bs-access-perm-err").await;
    let levels = ok("levels", w.permission_levels("clusters", &id).await);
    let levels: Vec<&str> = levels.iter().map(|l| l.permission_level.as_str()).collect();
    assert_eq!(levels, ["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"]);
    for level in ["CAN_USE", "CAN_READ"] {
        let e = w
            .set_permissions("clusters", &id, &[AccessControlRequest::user(&user, level)])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{level}: {e}");
        assert_eq!(e.code(), "INVALID_PARAMETER_VALUE");
    }
    let ghost = format!("{}@example.com", unique_name("bs-ghost"));
    let e = w
        .update_permissions(
            "clusters",
            &id,
            &[AccessControlRequest::user(&ghost, "CAN_RESTART")],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAMETER_VALUE");
    assert_eq!(
        e.api().map(|a| a.message.as_str()),
        Some(format!("Principal: UserName({ghost}) does not exist").as_str())
    );
    let read = ok("get", w.get_permissions("clusters", &id).await).direct();
    assert!(read.is_empty(), "nothing was granted: {read:?}");
    ok("delete cluster", w.permanent_delete_cluster(&id).await);
    ok("delete user", w.users().delete(&user_id).await);
}

/// A single-user cluster for a person who is not a user of the workspace fails with the seed's
/// error and creates nothing; once the user exists it is created and reads back its user and
/// mode; a service principal's application id is a principal too.
pub async fn single_user_cluster(w: &WorkspaceClient) {
    let person = format!("{}@example.com", unique_name("bs-access-su"));
    let mut spec = small_cluster(w, "bs-access-su").await;
    spec.data_security_mode = Some(DataSecurityMode::SingleUser);
    spec.single_user_name = Some(person.clone());
    let e = w.create_cluster(&spec).await.unwrap_err();
    let api = e.api().expect("an API error");
    assert_eq!(api.status, 400);
    assert_eq!(api.error_code, "BAD_REQUEST");
    assert_eq!(
        api.message,
        format!("Principal: UserName({person}) does not exist")
    );
    let listed = ok("list", w.list_clusters(&ClusterFilter::default()).await);
    assert!(
        listed
            .iter()
            .all(|c| c.spec.cluster_name != spec.cluster_name),
        "no cluster was created"
    );

    let user = ok("create user", w.users().create(&User::new(&person)).await);
    let id = ok("create", w.create_cluster(&spec).await);
    let got = ok("get", w.get_cluster(&id).await).expect("the cluster exists");
    assert_eq!(got.spec.single_user_name.as_deref(), Some(person.as_str()));
    assert_eq!(
        got.spec.data_security_mode,
        Some(DataSecurityMode::SingleUser)
    );
    ok("delete", w.permanent_delete_cluster(&id).await);

    let sp = ok(
        "create service principal",
        w.service_principals()
            .create(&ServicePrincipal::new(unique_name("bs-access-sp")))
            .await,
    );
    let mut spec = small_cluster(w, "bs-access-su-sp").await;
    spec.data_security_mode = Some(DataSecurityMode::SingleUser);
    spec.single_user_name = sp.application_id.clone();
    let id = ok(
        "create for a service principal",
        w.create_cluster(&spec).await,
    );
    ok("delete", w.permanent_delete_cluster(&id).await);
    ok("delete user", w.users().delete(&user.id.unwrap()).await);
    ok(
        "delete service principal",
        w.service_principals().delete(&sp.id.unwrap()).await,
    );
}

/// The status of `library` on cluster `id`.
pub async fn library_status(w: &WorkspaceClient, id: &str, library: &Library) -> LibraryFullStatus {
    let statuses = ok("cluster status", w.cluster_library_statuses(id).await);
    statuses
        .library_statuses
        .into_iter()
        .find(|s| s.library == *library)
        .unwrap_or_else(|| panic!("{library:?} is listed on {id}"))
}

/// Polls until `library` is no longer in progress; every status seen on the way.
pub async fn wait_library(
    w: &WorkspaceClient,
    id: &str,
    library: &Library,
) -> (LibraryFullStatus, Vec<LibraryStatus>) {
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let status = library_status(w, id, library).await;
        if seen.last() != Some(&status.status) {
            seen.push(status.status.clone());
        }
        if !status.status.is_in_progress() {
            return (status, seen);
        }
        assert!(
            started.elapsed() < CLUSTER_TIMEOUT,
            "{library:?} still {} on {id}",
            status.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Libraries: installed on a running cluster through `PENDING`/`INSTALLING`; on a terminated
/// one they wait, `PENDING`, for its start; a library of no type is invalid input, and a
/// missing cluster the clusters API's 400 that the client reads as not found.
pub async fn library_install_states(w: &WorkspaceClient) {
    let id = running_cluster(w, "bs-access-libs").await;
    let library = Library::pypi("great-expectations==1.2.0");
    ok(
        "install",
        w.install_libraries(&id, std::slice::from_ref(&library))
            .await,
    );
    let (done, seen) = wait_library(w, &id, &library).await;
    assert_eq!(done.status, LibraryStatus::Installed, "{seen:?}");
    assert!(done.messages.is_empty());
    assert!(
        seen.iter()
            .all(|s| s.is_in_progress() || *s == LibraryStatus::Installed),
        "{seen:?}"
    );

    ok("terminate", w.terminate_cluster(&id).await);
    ok(
        "wait terminated",
        w.wait_terminated(&id, CLUSTER_TIMEOUT).await,
    );
    let later = Library::maven("com.example:util:1.0");
    ok(
        "install on a terminated cluster",
        w.install_libraries(&id, std::slice::from_ref(&later)).await,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        library_status(w, &id, &later).await.status,
        LibraryStatus::Pending,
        "waits for the cluster"
    );
    ok("start", w.start_cluster(&id).await);
    ok("wait running", w.wait_running(&id, CLUSTER_TIMEOUT).await);
    let (done, _) = wait_library(w, &id, &later).await;
    assert_eq!(done.status, LibraryStatus::Installed);

    let e = w
        .install_libraries(&id, &[Library::default()])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAMETER_VALUE", "{e}");
    let e = w
        .install_libraries("0101-000000-nosuchcl", std::slice::from_ref(&library))
        .await
        .unwrap_err();
    assert!(
        e.is_not_found(),
        "the clusters API's 400 for a missing cluster reads as not found: {e}"
    );
    ok("delete", w.permanent_delete_cluster(&id).await);
}
