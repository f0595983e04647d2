//! `databricks_dbfs_file`: a text file in DBFS. The object id is `<workspace_id>/<path>`; the
//! path is absolute, so ids look like `123//tmp/core-site.xml` ([`split_scoped`] splits at the
//! first `/`).
//!
//! * `content` is the text itself; read downloads and decodes the file and reports it, so an
//!   edit outside brickstack shows as drift. `file_size` is computed.
//! * Create and update write the whole file (`overwrite`); a file already at the path is
//!   replaced, as Terraform does: the path is brickstack's.
//! * `find` adopts the file at the looked-up path.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{done_if_not_found, invalid_input, observed, parse, scoped_id, split_scoped, wait_for};
use crate::provider::{DatabricksProvider, Workspace};

pub(crate) const KIND: &str = "databricks_dbfs_file";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DbfsFile {
    workspace_url: String,
    /// Absolute: `/tmp/core-site.xml`.
    path: String,
    content: String,
}

impl DbfsFile {
    fn desired(attributes: &Attributes) -> Result<DbfsFile, ProviderError> {
        let file: DbfsFile = parse(KIND, attributes)?;
        check_path(&file.path)?;
        Ok(file)
    }
}

fn check_path(path: &str) -> Result<(), ProviderError> {
    if !path.starts_with('/') || path.len() < 2 || path.ends_with('/') {
        return Err(invalid_input(
            KIND,
            format!(
                "`path` is `{path}`; give the absolute path of a file, e.g. `/tmp/core-site.xml`"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("path", AttributeBehaviour::ForcesReplacement)
        .attribute("file_size", AttributeBehaviour::Computed)
}

/// The file at `path` as `read` reports it; `None` when there is no file there.
async fn observed_at(workspace: &Workspace, path: &str) -> Result<Option<Observed>, ProviderError> {
    let Some(status) = workspace.client.dbfs_get_status(path).await? else {
        return Ok(None);
    };
    if status.is_dir {
        return Ok(None);
    }
    let bytes = match workspace.client.dbfs_read(path).await {
        Ok(bytes) => bytes,
        // Deleted between the two calls.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let file = DbfsFile {
        workspace_url: workspace.client.host().to_string(),
        path: path.to_string(),
        // Bytes that are not UTF-8 are not what brickstack wrote: shown lossily, they differ.
        content: String::from_utf8_lossy(&bytes).into_owned(),
    };
    Ok(Some(observed(
        &scoped_id(workspace.id, path),
        &file,
        [("file_size", Value::from(bytes.len()))],
    )))
}

/// The workspace of `object_id` and the file's path in it; `None` when the workspace is gone.
async fn workspace_of<'a>(
    p: &DatabricksProvider,
    object_id: &'a str,
) -> Result<Option<(Workspace, &'a str)>, ProviderError> {
    let (workspace_id, path) = split_scoped(KIND, object_id)?;
    check_path(path)?;
    Ok(p.workspace(workspace_id).await?.map(|w| (w, path)))
}

/// Writes the file, then waits (within the retry budget, at most [`VISIBLE_TIMEOUT`]) until a
/// read sees it: the engine does not retry on top, so a file not visible yet is waited for here;
/// after that the error is `NOT_YET_VISIBLE`, retryable.
async fn write(
    p: &DatabricksProvider,
    workspace: &Workspace,
    file: &DbfsFile,
) -> Result<Observed, ProviderError> {
    workspace
        .client
        .dbfs_put(&file.path, file.content.as_bytes(), true)
        .await?;
    let timeout = p.retry().budget.min(VISIBLE_TIMEOUT);
    wait_for(&format!("`{}` to be visible", file.path), timeout, || {
        observed_at(workspace, &file.path)
    })
    .await
    .map_err(|e| {
        if e.code != "WaitTimeout" {
            return e;
        }
        ProviderError::new(
            ErrorClass::Retryable { after: None },
            "NOT_YET_VISIBLE",
            format!(
                "{KIND}: `{}` was written but is not there yet ({})",
                file.path, e.message
            ),
        )
    })
}

/// How long a written file may take to be visible.
const VISIBLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((workspace, path)) = workspace_of(p, object_id).await? else {
        return Ok(None);
    };
    observed_at(&workspace, path).await
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = DbfsFile::desired(&request.attributes)?;
    let workspace = p.workspace_at(&desired.workspace_url).await?;
    write(p, &workspace, &desired).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = DbfsFile::desired(attributes)?;
    let Some((workspace, path)) = workspace_of(p, object_id).await? else {
        return Err(ProviderError::new(
            ErrorClass::NotFound,
            "WORKSPACE_NOT_FOUND",
            format!("{KIND} `{object_id}`: its workspace does not exist (any more)"),
        ));
    };
    if path != desired.path {
        return Err(invalid_input(
            KIND,
            format!(
                "`path` changes from `{path}` to `{}` only by replacement",
                desired.path
            ),
        ));
    }
    write(p, &workspace, &desired).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((workspace, path)) = workspace_of(p, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(workspace.client.dbfs_delete(path, false).await)
}

/// The file at `lookup.name` (the path) in the workspace at `lookup.scope`.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(path)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    if check_path(path).is_err() {
        return Ok(None);
    }
    let workspace = match p.workspace_at(url).await {
        Ok(w) => w,
        Err(e) if e.class == ErrorClass::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    observed_at(&workspace, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_keep_the_absolute_path() {
        let id = scoped_id(123, "/tmp/core-site.xml");
        assert_eq!(id, "123//tmp/core-site.xml");
        assert_eq!(
            split_scoped(KIND, &id).unwrap(),
            (123, "/tmp/core-site.xml")
        );
        for bad in ["tmp/x", "/", "/tmp/"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
