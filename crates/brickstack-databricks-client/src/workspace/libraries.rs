//! Cluster libraries (`/api/2.0/libraries/…`): install, uninstall and their statuses.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::WorkspaceClient;
use super::clusters::{null_as_default, open_enum};
use crate::client::error::Error;

open_enum! {
    /// Where a library is on a cluster.
    pub enum LibraryStatus {
        Pending = "PENDING",
        Resolving = "RESOLVING",
        Installing = "INSTALLING",
        Installed = "INSTALLED",
        /// Not installed and never will be (e.g. a Scala version that does not match).
        Skipped = "SKIPPED",
        /// Uninstalled once the cluster restarts.
        UninstallOnRestart = "UNINSTALL_ON_RESTART",
        /// See the status's `messages`.
        Failed = "FAILED",
        Restored = "RESTORED",
    }
}

impl LibraryStatus {
    /// Whether the platform is still working on it (the SDK's wait keeps polling).
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            LibraryStatus::Pending | LibraryStatus::Resolving | LibraryStatus::Installing
        )
    }
}

/// A PyPI package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyPiLibrary {
    /// `name` or `name==version`.
    pub package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

/// A Maven artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MavenLibrary {
    /// `group:artifact:version`.
    pub coordinates: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
}

/// A CRAN package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CranLibrary {
    pub package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

/// A library: exactly one member is set. Paths are workspace files, `/Volumes/…` or `s3://…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whl: Option<String>,
    /// A `requirements.txt` in the workspace or a volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pypi: Option<PyPiLibrary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maven: Option<MavenLibrary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cran: Option<CranLibrary>,
    /// Deprecated (unsupported from DBR 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egg: Option<String>,
}

impl Library {
    /// A PyPI package, `name` or `name==version`, from the default index.
    pub fn pypi(package: impl Into<String>) -> Self {
        Library {
            pypi: Some(PyPiLibrary {
                package: package.into(),
                repo: None,
            }),
            ..Library::default()
        }
    }

    /// A Maven artifact, `group:artifact:version`, from Maven Central.
    pub fn maven(coordinates: impl Into<String>) -> Self {
        Library {
            maven: Some(MavenLibrary {
                coordinates: coordinates.into(),
                repo: None,
                exclusions: Vec::new(),
            }),
            ..Library::default()
        }
    }
}

/// One library on one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryFullStatus {
    pub library: Library,
    pub status: LibraryStatus,
    #[serde(default, deserialize_with = "null_as_default")]
    pub messages: Vec<String>,
    #[serde(default)]
    pub is_library_for_all_clusters: bool,
}

/// The libraries of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterLibraryStatuses {
    pub cluster_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub library_statuses: Vec<LibraryFullStatus>,
}

#[derive(Serialize)]
struct Libraries<'a> {
    cluster_id: &'a str,
    libraries: &'a [Library],
}

impl WorkspaceClient {
    /// Installs `libraries` on a cluster, asynchronously (on a terminated cluster, at its next
    /// start); follow with [`WorkspaceClient::cluster_library_statuses`].
    pub async fn install_libraries(
        &self,
        cluster_id: &str,
        libraries: &[Library],
    ) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(
                "/api/2.0/libraries/install",
                &Libraries {
                    cluster_id,
                    libraries,
                },
            )
            .await?;
        Ok(())
    }

    /// Uninstalls `libraries` from a cluster at its next restart (`UNINSTALL_ON_RESTART`);
    /// libraries it does not have are ignored.
    pub async fn uninstall_libraries(
        &self,
        cluster_id: &str,
        libraries: &[Library],
    ) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(
                "/api/2.0/libraries/uninstall",
                &Libraries {
                    cluster_id,
                    libraries,
                },
            )
            .await?;
        Ok(())
    }

    /// The libraries of one cluster and their statuses.
    pub async fn cluster_library_statuses(
        &self,
        cluster_id: &str,
    ) -> Result<ClusterLibraryStatuses, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            cluster_id: Option<String>,
            #[serde(default, deserialize_with = "null_as_default")]
            library_statuses: Vec<LibraryFullStatus>,
        }
        let answer: Answer = self
            .client()
            .get(
                "/api/2.0/libraries/cluster-status",
                &[("cluster_id", cluster_id.to_string())],
            )
            .await?;
        Ok(ClusterLibraryStatuses {
            // A cluster without libraries may be answered with `{}`.
            cluster_id: answer.cluster_id.unwrap_or_else(|| cluster_id.to_string()),
            library_statuses: answer.library_statuses,
        })
    }

    /// The libraries of every cluster that has any.
    pub async fn all_cluster_library_statuses(&self) -> Result<Vec<ClusterLibraryStatuses>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            statuses: Vec<ClusterLibraryStatuses>,
        }
        let answer: Answer = self
            .client()
            .get("/api/2.0/libraries/all-cluster-statuses", &[])
            .await?;
        Ok(answer.statuses)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn constructors_send_one_member() {
        assert_eq!(
            serde_json::to_value(Library::pypi("x==1")).unwrap(),
            json!({"pypi": {"package": "x==1"}})
        );
        assert_eq!(
            serde_json::to_value(Library::maven("g:a:1")).unwrap(),
            json!({"maven": {"coordinates": "g:a:1"}})
        );
        let failed: LibraryFullStatus = serde_json::from_value(json!({
            "library": {"pypi": {"package": "x==1"}},
            "status": "FAILED",
            "messages": ["Library installation attempted on the driver node of cluster c and failed."]
        }))
        .unwrap();
        assert_eq!(failed.status, LibraryStatus::Failed);
        assert!(!failed.status.is_in_progress());
        assert_eq!(failed.messages.len(), 1);
    }
}
