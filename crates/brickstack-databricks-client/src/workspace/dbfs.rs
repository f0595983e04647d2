//! DBFS (`/api/2.0/dbfs/…`): files of the workspace's root storage. Contents travel base64
//! encoded, at most 1 MiB per call, so larger files are written with create / add-block / close
//! and read in 1 MiB ranges.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::WorkspaceClient;
use super::clusters::null_as_default;
use crate::client::error::{Error, ErrorDetail};

/// The most data one `put`, `add-block` or `read` carries (before base64).
pub const MAX_BLOCK: usize = 1024 * 1024;

/// A file or directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Absolute, e.g. `/tmp/core-site.xml`.
    pub path: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_dir: bool,
    /// Bytes (0 for a directory).
    #[serde(default, deserialize_with = "null_as_default")]
    pub file_size: i64,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_time: Option<i64>,
}

#[derive(Deserialize)]
struct Handle {
    handle: i64,
}

#[derive(Deserialize)]
struct Block {
    #[serde(default)]
    bytes_read: i64,
    #[serde(default)]
    data: String,
}

const DBFS: &str = "/api/2.0/dbfs";

fn path(call: &str) -> String {
    format!("{DBFS}/{call}")
}

impl WorkspaceClient {
    /// Writes `contents` to the file at `path` (parents are created). Without `overwrite`, an
    /// existing file answers `RESOURCE_ALREADY_EXISTS`.
    pub async fn dbfs_put(
        &self,
        path: &str,
        contents: &[u8],
        overwrite: bool,
    ) -> Result<(), Error> {
        if contents.len() <= MAX_BLOCK {
            let body = serde_json::json!({
                "path": path,
                "contents": STANDARD.encode(contents),
                "overwrite": overwrite,
            });
            let _: IgnoredAny = self.client().post(&self::path("put"), &body).await?;
            return Ok(());
        }
        let handle: Handle = self
            .client()
            .post(
                &self::path("create"),
                &serde_json::json!({ "path": path, "overwrite": overwrite }),
            )
            .await?;
        let written = self.dbfs_add_blocks(handle.handle, contents).await;
        // Close the handle whatever happened: an open one blocks the path for 10 minutes.
        let closed: Result<IgnoredAny, Error> = self
            .client()
            .post(
                &self::path("close"),
                &serde_json::json!({ "handle": handle.handle }),
            )
            .await;
        written?;
        closed?;
        Ok(())
    }

    async fn dbfs_add_blocks(&self, handle: i64, contents: &[u8]) -> Result<(), Error> {
        for block in contents.chunks(MAX_BLOCK) {
            let _: IgnoredAny = self
                .client()
                .post(
                    &path("add-block"),
                    &serde_json::json!({ "handle": handle, "data": STANDARD.encode(block) }),
                )
                .await?;
        }
        Ok(())
    }

    /// The file or directory at `path`; `None` when there is none.
    pub async fn dbfs_get_status(&self, path: &str) -> Result<Option<FileInfo>, Error> {
        match self
            .client()
            .get(&self::path("get-status"), &[("path", path.to_string())])
            .await
        {
            Ok(info) => Ok(Some(info)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Up to `length` (at most [`MAX_BLOCK`]) bytes of the file at `path` from `offset`.
    pub async fn dbfs_read_range(
        &self,
        path: &str,
        offset: u64,
        length: usize,
    ) -> Result<Vec<u8>, Error> {
        let call = self::path("read");
        let block: Block = self
            .client()
            .get(
                &call,
                &[
                    ("path", path.to_string()),
                    ("offset", offset.to_string()),
                    ("length", length.min(MAX_BLOCK).to_string()),
                ],
            )
            .await?;
        let data = STANDARD.decode(block.data.as_bytes()).map_err(|e| {
            Error::new(
                "GET",
                &call,
                ErrorDetail::Decode(format!("`data` is not base64: {e}")),
            )
        })?;
        if block.bytes_read >= 0 && data.len() as i64 != block.bytes_read {
            tracing::debug!(
                path,
                bytes_read = block.bytes_read,
                decoded = data.len(),
                "dbfs read: bytes_read differs from the data's length"
            );
        }
        Ok(data)
    }

    /// The whole file at `path`, read 1 MiB at a time.
    pub async fn dbfs_read(&self, path: &str) -> Result<Vec<u8>, Error> {
        let mut contents = Vec::new();
        loop {
            let block = self
                .dbfs_read_range(path, contents.len() as u64, MAX_BLOCK)
                .await?;
            let last = block.len() < MAX_BLOCK;
            contents.extend(block);
            if last {
                return Ok(contents);
            }
        }
    }

    /// The entries of the directory at `path` (a file lists as itself).
    pub async fn dbfs_list(&self, path: &str) -> Result<Vec<FileInfo>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            files: Vec<FileInfo>,
        }
        let answer: Answer = self
            .client()
            .get(&self::path("list"), &[("path", path.to_string())])
            .await?;
        Ok(answer.files)
    }

    /// Creates the directory at `path` and its parents; nothing happens if it exists.
    pub async fn dbfs_mkdirs(&self, path: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(&self::path("mkdirs"), &serde_json::json!({ "path": path }))
            .await?;
        Ok(())
    }

    /// Deletes the file or directory at `path` (a non-empty directory only when `recursive`).
    /// A large delete answers 503 part way; the client's retries call it again until it is done.
    pub async fn dbfs_delete(&self, path: &str, recursive: bool) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(
                &self::path("delete"),
                &serde_json::json!({ "path": path, "recursive": recursive }),
            )
            .await?;
        Ok(())
    }
}
