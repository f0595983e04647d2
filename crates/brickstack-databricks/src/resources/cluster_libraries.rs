//! `databricks_cluster_libraries`: the libraries of one cluster, as one resource. The object id
//! is `<workspace_id>/<cluster_id>`, and `id` is the cluster id.
//!
//! * Create attaches every library, starts the cluster when it is not running (a library
//!   installs only on a running cluster) and waits until each is `INSTALLED`. A `FAILED` (or
//!   `SKIPPED`) library fails the create with an error naming it and the vendor's message,
//!   invalid input: the same install fails the same way until something changes. Created again
//!   after such a failure (the cluster is there, the record is not), a library that is `FAILED`
//!   makes the create restart the cluster, since Databricks installs a cluster's libraries
//!   afresh at every start.
//! * Read reports the libraries that are `INSTALLED` or on their way (pending, resolving,
//!   installing), and on a cluster that is not running those attached (they install at its next
//!   start), so a terminated cluster is no drift and a library removed by hand
//!   (`UNINSTALL_ON_RESTART`) or one that failed is. Libraries brickstack cannot describe (CRAN,
//!   eggs, a requirements file, a custom repository) are left out. Gone when the cluster is.
//! * Update installs the added and uninstalls the removed; it waits for the added only on a
//!   running cluster (a terminated single-user cluster stays terminated; they install at its
//!   next start), which it restarts when a desired library failed.
//! * Delete uninstalls every library (at the cluster's next restart, as Databricks does); a
//!   cluster that is gone has none.
//! * Find finds nothing: installing again what is installed changes nothing.

use std::time::Duration;

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{gone, invalid_input, observed, parse, scoped_id, scoped_workspace, wait_for};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::clusters::{ClusterDetails, ClusterState};
use crate::workspace::libraries::{
    Library as ApiLibrary, LibraryFullStatus, LibraryStatus, MavenLibrary, PyPiLibrary,
};

pub(crate) const KIND: &str = "databricks_cluster_libraries";

/// How long a cluster may take to start (as for `databricks_cluster`).
const START_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long the libraries may take to install once the cluster runs.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterLibraries {
    workspace_url: String,
    cluster_id: String,
    #[serde(default)]
    libraries: Vec<Library>,
}

/// One library: exactly one member set.
///
/// Members in alphabetical order, the order of the graph's maps: the planner compares the items
/// of an unordered list by their JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Library {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    maven: Option<Maven>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pypi: Option<PyPi>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    whl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Maven {
    coordinates: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PyPi {
    package: String,
}

impl Library {
    fn members(&self) -> usize {
        [
            self.jar.is_some(),
            self.maven.is_some(),
            self.pypi.is_some(),
            self.whl.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count()
    }

    fn api(&self) -> ApiLibrary {
        ApiLibrary {
            jar: self.jar.clone(),
            whl: self.whl.clone(),
            pypi: self.pypi.as_ref().map(|p| PyPiLibrary {
                package: p.package.clone(),
                repo: None,
            }),
            maven: self.maven.as_ref().map(|m| MavenLibrary {
                coordinates: m.coordinates.clone(),
                repo: None,
                exclusions: Vec::new(),
            }),
            ..ApiLibrary::default()
        }
    }

    /// The library as brickstack describes it; `None` for one it cannot (CRAN, eggs, a
    /// requirements file, a custom repository or exclusions), which it never manages.
    fn of(api: &ApiLibrary) -> Option<Library> {
        let unmanaged = api.cran.is_some()
            || api.egg.is_some()
            || api.requirements.is_some()
            || api.pypi.as_ref().is_some_and(|p| p.repo.is_some())
            || api
                .maven
                .as_ref()
                .is_some_and(|m| m.repo.is_some() || !m.exclusions.is_empty());
        let library = Library {
            jar: api.jar.clone(),
            maven: api.maven.as_ref().map(|m| Maven {
                coordinates: m.coordinates.clone(),
            }),
            pypi: api.pypi.as_ref().map(|p| PyPi {
                package: p.package.clone(),
            }),
            whl: api.whl.clone(),
        };
        (!unmanaged && library.members() == 1).then_some(library)
    }
}

impl std::fmt::Display for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.jar, &self.maven, &self.pypi, &self.whl) {
            (Some(jar), ..) => write!(f, "jar `{jar}`"),
            (_, Some(maven), ..) => write!(f, "maven `{}`", maven.coordinates),
            (_, _, Some(pypi), _) => write!(f, "pypi `{}`", pypi.package),
            (.., Some(whl)) => write!(f, "whl `{whl}`"),
            _ => f.write_str("an empty library"),
        }
    }
}

impl ClusterLibraries {
    fn desired(attributes: &Attributes) -> Result<Self, ProviderError> {
        let desired: ClusterLibraries = parse(KIND, attributes)?;
        for (i, library) in desired.libraries.iter().enumerate() {
            if library.members() != 1 {
                return Err(invalid_input(
                    KIND,
                    format!(
                        "`libraries[{i}]` sets {} of `pypi`, `maven`, `jar`, `whl`; a library is exactly one",
                        library.members()
                    ),
                ));
            }
        }
        Ok(desired)
    }

    fn api_libraries(&self) -> Vec<ApiLibrary> {
        self.libraries.iter().map(Library::api).collect()
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("cluster_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .unordered("libraries")
}

/// The status of `library` on the cluster, if it is there at all.
fn status_of<'a>(
    statuses: &'a [LibraryFullStatus],
    library: &Library,
) -> Option<&'a LibraryFullStatus> {
    statuses
        .iter()
        .find(|s| Library::of(&s.library).as_ref() == Some(library))
}

/// Whether a library with `status` counts as the cluster's: installed or on its way there, or,
/// on a cluster that is not running, attached (it installs at the next start).
fn counts(status: &LibraryStatus, cluster_running: bool) -> bool {
    match status {
        LibraryStatus::Installed | LibraryStatus::Restored => true,
        s if s.is_in_progress() => true,
        LibraryStatus::UninstallOnRestart | LibraryStatus::Failed | LibraryStatus::Skipped => false,
        // A status this client does not know: attached, at least, on a stopped cluster.
        _ => !cluster_running,
    }
}

fn observed_libraries(
    ws: &Workspace,
    cluster_id: &str,
    cluster_running: bool,
    statuses: &[LibraryFullStatus],
) -> Observed {
    let mut libraries: Vec<Library> = Vec::new();
    for status in statuses {
        if !counts(&status.status, cluster_running) {
            continue;
        }
        if let Some(library) = Library::of(&status.library)
            && !libraries.contains(&library)
        {
            libraries.push(library);
        }
    }
    let attributes = ClusterLibraries {
        workspace_url: ws.client.host().to_string(),
        cluster_id: cluster_id.to_string(),
        libraries,
    };
    observed(
        &scoped_id(ws.id, cluster_id),
        &attributes,
        [("id", json!(cluster_id))],
    )
}

async fn statuses(
    ws: &Workspace,
    cluster_id: &str,
) -> Result<Vec<LibraryFullStatus>, ProviderError> {
    Ok(ws
        .client
        .cluster_library_statuses(cluster_id)
        .await?
        .library_statuses)
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, cluster_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    let Some(cluster) = ws.client.get_cluster(cluster_id).await? else {
        return Ok(None);
    };
    let statuses = match ws.client.cluster_library_statuses(cluster_id).await {
        Ok(s) => s.library_statuses,
        // Deleted between the two calls.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(observed_libraries(
        &ws,
        cluster_id,
        cluster.state == ClusterState::Running,
        &statuses,
    )))
}

/// The cluster, or the error saying it is not there to install on.
async fn cluster(ws: &Workspace, cluster_id: &str) -> Result<ClusterDetails, ProviderError> {
    ws.client.get_cluster(cluster_id).await?.ok_or_else(|| {
        ProviderError::new(
            ErrorClass::NotFound,
            "RESOURCE_DOES_NOT_EXIST",
            format!(
                "{KIND}: cluster `{cluster_id}` of `{}` does not exist",
                ws.client.host()
            ),
        )
    })
}

/// Brings the cluster to `RUNNING`: started when it is stopped, restarted when `restart` (a
/// library failed and only a fresh start installs it again), waited for when it is on its way.
async fn run(ws: &Workspace, cluster_id: &str, restart: bool) -> Result<(), ProviderError> {
    let settled = ws.client.wait_settled(cluster_id, START_TIMEOUT).await?;
    match settled.state {
        ClusterState::Running if restart => ws.client.restart_cluster(cluster_id).await?,
        ClusterState::Running => return Ok(()),
        _ => ws.client.start_cluster(cluster_id).await?,
    }
    ws.client.wait_running(cluster_id, START_TIMEOUT).await?;
    Ok(())
}

/// The error of a library that will not install: its name and the vendor's messages.
fn install_failed(
    cluster_id: &str,
    library: &Library,
    status: &LibraryFullStatus,
) -> ProviderError {
    let messages = if status.messages.is_empty() {
        "no message given".to_string()
    } else {
        status.messages.join("; ")
    };
    ProviderError::new(
        ErrorClass::InvalidInput,
        format!("LIBRARY_{}", status.status),
        format!(
            "{KIND}: library {library} is {} on cluster `{cluster_id}`: {messages}",
            status.status
        ),
    )
    .with_hint(
        "fix the library (its name, version, or what the cluster's runtime supports), then apply again; the cluster is restarted to install it afresh",
    )
}

/// Waits until every one of `wanted` is `INSTALLED` on the running cluster; the first that
/// fails (or is skipped) ends the wait with its error. The cluster stopping meanwhile is an
/// error too: its libraries would wait for the next start forever.
async fn wait_installed(
    ws: &Workspace,
    cluster_id: &str,
    wanted: &[Library],
) -> Result<Vec<LibraryFullStatus>, ProviderError> {
    wait_for(
        &format!("the libraries of cluster `{cluster_id}` to install"),
        INSTALL_TIMEOUT,
        || async {
            let current = statuses(ws, cluster_id).await?;
            let mut pending = false;
            for library in wanted {
                match status_of(&current, library) {
                    Some(s) if s.status == LibraryStatus::Installed => {}
                    Some(s)
                        if matches!(s.status, LibraryStatus::Failed | LibraryStatus::Skipped) =>
                    {
                        return Err(install_failed(cluster_id, library, s));
                    }
                    _ => pending = true,
                }
            }
            if !pending {
                return Ok(Some(current));
            }
            let details = cluster(ws, cluster_id).await?;
            if details.state != ClusterState::Running && !details.state.is_transient() {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    format!("CLUSTER_{}", details.state),
                    format!(
                        "{KIND}: cluster `{cluster_id}` became {} while its libraries were installing",
                        details.state
                    ),
                ));
            }
            Ok(None)
        },
    )
    .await
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = ClusterLibraries::desired(&request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let cluster_id = desired.cluster_id.as_str();
    cluster(&ws, cluster_id).await?;
    let before = statuses(&ws, cluster_id).await?;
    // A library that failed before (the last create's error) installs again only at a start.
    let failed_before = desired
        .libraries
        .iter()
        .any(|l| status_of(&before, l).is_some_and(|s| s.status == LibraryStatus::Failed));
    if !desired.libraries.is_empty() {
        ws.client
            .install_libraries(cluster_id, &desired.api_libraries())
            .await?;
    }
    run(&ws, cluster_id, failed_before).await?;
    let installed = wait_installed(&ws, cluster_id, &desired.libraries).await?;
    Ok(observed_libraries(&ws, cluster_id, true, &installed))
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = ClusterLibraries::desired(attributes)?;
    let (ws, cluster_id) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let details = ws
        .client
        .get_cluster(cluster_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let running = details.state == ClusterState::Running;
    let current = statuses(&ws, cluster_id).await?;
    let attached: Vec<Library> = current
        .iter()
        .filter(|s| counts(&s.status, running))
        .filter_map(|s| Library::of(&s.library))
        .collect();
    let added: Vec<ApiLibrary> = desired
        .libraries
        .iter()
        .filter(|l| !attached.contains(l))
        .map(Library::api)
        .collect();
    let removed: Vec<ApiLibrary> = attached
        .iter()
        .filter(|l| !desired.libraries.contains(l))
        .map(Library::api)
        .collect();
    if !removed.is_empty() {
        ws.client.uninstall_libraries(cluster_id, &removed).await?;
    }
    if !added.is_empty() {
        ws.client.install_libraries(cluster_id, &added).await?;
    }
    // A desired library that failed installs again only at a start (a stopped cluster's next
    // start does it by itself).
    let failed = desired
        .libraries
        .iter()
        .any(|l| status_of(&current, l).is_some_and(|s| s.status == LibraryStatus::Failed));
    if running && failed {
        run(&ws, cluster_id, true).await?;
    }
    let now = if running && !added.is_empty() {
        wait_installed(&ws, cluster_id, &desired.libraries).await?
    } else {
        statuses(&ws, cluster_id).await?
    };
    Ok(observed_libraries(&ws, cluster_id, running, &now))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, cluster_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    if ws.client.get_cluster(cluster_id).await?.is_none() {
        return Ok(());
    }
    let attached: Vec<ApiLibrary> = match ws.client.cluster_library_statuses(cluster_id).await {
        Ok(s) => s
            .library_statuses
            .into_iter()
            .filter(|s| {
                s.status != LibraryStatus::UninstallOnRestart && !s.is_library_for_all_clusters
            })
            .map(|s| s.library)
            .collect(),
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if attached.is_empty() {
        return Ok(());
    }
    match ws.client.uninstall_libraries(cluster_id, &attached).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Nothing to find by, and nothing to lose: installing the same libraries again changes nothing.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn desired(value: Value) -> Result<ClusterLibraries, ProviderError> {
        ClusterLibraries::desired(value.as_object().unwrap())
    }

    #[test]
    fn each_library_is_exactly_one_kind() {
        let ok = json!({"workspace_url": "https://w", "cluster_id": "c", "libraries": [
            {"pypi": {"package": "great-expectations==1.2.0"}},
            {"maven": {"coordinates": "g:a:1"}},
            {"jar": "s3://b/x.jar"},
            {"whl": "s3://b/x.whl"}
        ]});
        assert_eq!(desired(ok).unwrap().libraries.len(), 4);
        for bad in [
            json!({"workspace_url": "https://w", "cluster_id": "c", "libraries": [{}]}),
            json!({"workspace_url": "https://w", "cluster_id": "c", "libraries": [{"jar": "a", "whl": "b"}]}),
            json!({"workspace_url": "https://w", "cluster_id": "c", "libraries": [{"cran": {"package": "x"}}]}),
            json!({"workspace_url": "https://w", "cluster_id": "c", "libraries": [{"pypi": {"package": "x", "repo": "r"}}]}),
        ] {
            assert_eq!(
                desired(bad.clone()).unwrap_err().class,
                ErrorClass::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_library_reads_back_as_the_graph_writes_it() {
        for text in [
            r#"{"pypi":{"package":"x==1"}}"#,
            r#"{"maven":{"coordinates":"g:a:1"}}"#,
            r#"{"jar":"s3://b/x.jar"}"#,
            r#"{"whl":"s3://b/x.whl"}"#,
        ] {
            let library: Library = serde_json::from_str(text).unwrap();
            let round_trip = Library::of(&library.api()).expect("brickstack describes it");
            assert_eq!(serde_json::to_string(&round_trip).unwrap(), text);
        }
        let cran: ApiLibrary = serde_json::from_value(json!({"cran": {"package": "x"}})).unwrap();
        assert_eq!(Library::of(&cran), None, "not one brickstack manages");
        let with_repo: ApiLibrary =
            serde_json::from_value(json!({"pypi": {"package": "x", "repo": "https://r"}})).unwrap();
        assert_eq!(Library::of(&with_repo), None);
    }

    #[test]
    fn what_counts_as_the_clusters() {
        use LibraryStatus::*;
        for (status, running, expected) in [
            (Installed, true, true),
            (Pending, true, true),
            (Installing, true, true),
            (Pending, false, true),
            (Failed, true, false),
            (Failed, false, false),
            (UninstallOnRestart, false, false),
            (Skipped, true, false),
        ] {
            assert_eq!(
                counts(&status, running),
                expected,
                "{status} running={running}"
            );
        }
    }

    #[test]
    fn a_failed_install_names_the_library_and_the_vendors_message() {
        let status: LibraryFullStatus = serde_json::from_value(json!({
            "library": {"pypi": {"package": "nope==9"}},
            "status": "FAILED",
            "messages": ["Could not find a version that satisfies the requirement nope==9"]
        }))
        .unwrap();
        let library = Library::of(&status.library).unwrap();
        let e = install_failed("0101-abc", &library, &status);
        assert_eq!(e.class, ErrorClass::InvalidInput);
        assert!(!e.is_retryable());
        assert!(e.message.contains("pypi `nope==9`"), "{e}");
        assert!(e.message.contains("Could not find a version"), "{e}");
        assert!(e.message.contains("0101-abc"), "{e}");
    }
}
