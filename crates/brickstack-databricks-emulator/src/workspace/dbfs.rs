//! DBFS (`/api/2.0/dbfs/put|create|add-block|close|get-status|read|list|mkdirs|delete`), files
//! in memory. A streaming upload (`create` → `add-block`… → `close`) becomes visible at `close`.
//!
//! Paths may carry the `dbfs:` prefix and must be absolute. `put` creates parent directories and
//! needs `overwrite` to replace a file (`400 RESOURCE_ALREADY_EXISTS` otherwise); blocks and
//! reads are limited to 1 MB (`MAX_BLOCK_SIZE_EXCEEDED`, `MAX_READ_SIZE_EXCEEDED`); deleting a
//! non-empty directory without `recursive` is `400 IO_ERROR`. Choice where the vendor is silent:
//! deleting a path that does not exist succeeds (the SDKs treat delete as idempotent).

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, bad_request, empty, query_param};
use crate::error::{ApiError, parse_json, required};
use crate::server::AppState;

const MAX_BLOCK: usize = 1 << 20;

/// A file or directory.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub is_dir: bool,
    pub data: Vec<u8>,
    pub modification_time: i64,
}

/// The file system of a new workspace: just `/`.
pub(crate) fn root(now: i64) -> BTreeMap<String, Node> {
    BTreeMap::from([(
        "/".to_string(),
        Node {
            is_dir: true,
            data: Vec::new(),
            modification_time: now,
        },
    )])
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/dbfs/put", post(put))
        .route("/api/2.0/dbfs/create", post(create))
        .route("/api/2.0/dbfs/add-block", post(add_block))
        .route("/api/2.0/dbfs/close", post(close))
        .route("/api/2.0/dbfs/get-status", get(get_status))
        .route("/api/2.0/dbfs/read", get(read))
        .route("/api/2.0/dbfs/list", get(list))
        .route("/api/2.0/dbfs/mkdirs", post(mkdirs))
        .route("/api/2.0/dbfs/delete", post(delete))
}

/// `dbfs:/a//b/` → `/a/b`.
fn normalize(path: &str) -> Result<String, ApiError> {
    let p = path.strip_prefix("dbfs:").unwrap_or(path);
    if !p.starts_with('/') {
        return Err(ApiError::invalid(format!("Path must be absolute: {path}")));
    }
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    if parts.iter().any(|s| *s == "." || *s == "..") {
        return Err(ApiError::invalid(format!("Invalid path: {path}")));
    }
    Ok(format!("/{}", parts.join("/")))
}

fn parent(path: &str) -> Option<String> {
    if path == "/" {
        return None;
    }
    let cut = path.rfind('/').unwrap_or(0);
    Some(if cut == 0 {
        "/".into()
    } else {
        path[..cut].into()
    })
}

fn not_found(path: &str) -> ApiError {
    ApiError::not_found(format!("No file or directory exists on path {path}."))
}

fn info(path: &str, node: &Node) -> Value {
    json!({
        "path": path,
        "is_dir": node.is_dir,
        "file_size": node.data.len(),
        "modification_time": node.modification_time,
    })
}

/// Creates `path` and its parents as directories; a file in the way is an error.
fn make_dirs(fs: &mut BTreeMap<String, Node>, path: &str, now: i64) -> Result<(), ApiError> {
    let mut chain = vec![path.to_string()];
    while let Some(p) = parent(chain.last().unwrap()) {
        chain.push(p);
    }
    for dir in chain.iter().rev() {
        match fs.get(dir) {
            Some(n) if n.is_dir => {}
            Some(_) => {
                return Err(ApiError::already_exists_400(format!(
                    "A file exists at {dir}; cannot create a directory there"
                )));
            }
            None => {
                fs.insert(
                    dir.clone(),
                    Node {
                        is_dir: true,
                        data: Vec::new(),
                        modification_time: now,
                    },
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct PutRequest {
    path: Option<String>,
    contents: Option<String>,
    #[serde(default)]
    overwrite: bool,
}

async fn put(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: PutRequest = parse_json(&body)?;
    let path = normalize(required(&req.path, "path")?)?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(req.contents.unwrap_or_default())
        .map_err(|e| ApiError::invalid(format!("contents is not valid base64: {e}")))?;
    if data.len() > MAX_BLOCK {
        return Err(bad_request(
            "MAX_BLOCK_SIZE_EXCEEDED",
            format!(
                "File contents of {} bytes exceed the 1 MB limit of put",
                data.len()
            ),
        ));
    }
    let now = app.now_ms();
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    check_writable(&ws.dbfs, &path, req.overwrite)?;
    if let Some(p) = parent(&path) {
        make_dirs(&mut ws.dbfs, &p, now)?;
    }
    ws.dbfs.insert(
        path,
        Node {
            is_dir: false,
            data,
            modification_time: now,
        },
    );
    Ok(empty())
}

/// Refuses writing a file at `path` over a directory, or over a file without `overwrite`.
fn check_writable(
    fs: &BTreeMap<String, Node>,
    path: &str,
    overwrite: bool,
) -> Result<(), ApiError> {
    match fs.get(path) {
        Some(n) if n.is_dir => Err(ApiError::already_exists_400(format!(
            "A directory exists at {path}"
        ))),
        Some(_) if !overwrite => Err(ApiError::already_exists_400(format!(
            "A file or directory already exists at the input path {path}."
        ))),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
struct CreateRequest {
    path: Option<String>,
    #[serde(default)]
    overwrite: bool,
}

async fn create(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let path = normalize(required(&req.path, "path")?)?;
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    check_writable(&ws.dbfs, &path, req.overwrite)?;
    let handle = ws.dbfs_handles.keys().next_back().map_or(1, |h| h + 1);
    ws.dbfs_handles.insert(handle, (path, Vec::new()));
    Ok(Json(json!({ "handle": handle })))
}

#[derive(Deserialize)]
struct BlockRequest {
    handle: Option<i64>,
    data: Option<String>,
}

fn unknown_handle(handle: i64) -> ApiError {
    ApiError::not_found(format!(
        "Stream handle {handle} does not exist or has been closed"
    ))
}

async fn add_block(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: BlockRequest = parse_json(&body)?;
    let handle = req
        .handle
        .ok_or_else(|| ApiError::invalid("Missing required field: handle"))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(req.data.unwrap_or_default())
        .map_err(|e| ApiError::invalid(format!("data is not valid base64: {e}")))?;
    if data.len() > MAX_BLOCK {
        return Err(bad_request(
            "MAX_BLOCK_SIZE_EXCEEDED",
            format!("A block of {} bytes exceeds the 1 MB limit", data.len()),
        ));
    }
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    let (_, bytes) = ws
        .dbfs_handles
        .get_mut(&handle)
        .ok_or_else(|| unknown_handle(handle))?;
    bytes.extend_from_slice(&data);
    Ok(empty())
}

async fn close(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: BlockRequest = parse_json(&body)?;
    let handle = req
        .handle
        .ok_or_else(|| ApiError::invalid("Missing required field: handle"))?;
    let now = app.now_ms();
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    let (path, data) = ws
        .dbfs_handles
        .remove(&handle)
        .ok_or_else(|| unknown_handle(handle))?;
    if let Some(p) = parent(&path) {
        make_dirs(&mut ws.dbfs, &p, now)?;
    }
    ws.dbfs.insert(
        path,
        Node {
            is_dir: false,
            data,
            modification_time: now,
        },
    );
    Ok(empty())
}

async fn get_status(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let path = normalize(query_param(&q, "path")?)?;
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    let node = ws.dbfs.get(&path).ok_or_else(|| not_found(&path))?;
    Ok(Json(info(&path, node)))
}

async fn read(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let path = normalize(query_param(&q, "path")?)?;
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        q.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ApiError::invalid(format!("{name} must be a non-negative integer")))
        })
    };
    let offset = number("offset", 0)?;
    let length = number("length", 512 * 1024)?;
    if length > MAX_BLOCK {
        return Err(bad_request(
            "MAX_READ_SIZE_EXCEEDED",
            format!("length {length} exceeds the 1 MB limit of read"),
        ));
    }
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    let node = ws.dbfs.get(&path).ok_or_else(|| not_found(&path))?;
    if node.is_dir {
        return Err(ApiError::invalid(format!("{path} is a directory")));
    }
    let start = offset.min(node.data.len());
    let end = (start + length).min(node.data.len());
    let chunk = &node.data[start..end];
    Ok(Json(json!({
        "bytes_read": chunk.len(),
        "data": base64::engine::general_purpose::STANDARD.encode(chunk),
    })))
}

async fn list(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let path = normalize(query_param(&q, "path")?)?;
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    let node = ws.dbfs.get(&path).ok_or_else(|| not_found(&path))?;
    let files: Vec<Value> = if node.is_dir {
        ws.dbfs
            .iter()
            .filter(|(p, _)| parent(p).as_deref() == Some(path.as_str()))
            .map(|(p, n)| info(p, n))
            .collect()
    } else {
        vec![info(&path, node)]
    };
    Ok(Json(json!({ "files": files })))
}

#[derive(Deserialize)]
struct PathRequest {
    path: Option<String>,
    #[serde(default)]
    recursive: bool,
}

async fn mkdirs(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: PathRequest = parse_json(&body)?;
    let path = normalize(required(&req.path, "path")?)?;
    let now = app.now_ms();
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    make_dirs(&mut ws.dbfs, &path, now)?;
    Ok(empty())
}

async fn delete(
    State(app): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: PathRequest = parse_json(&body)?;
    let path = normalize(required(&req.path, "path")?)?;
    let mut state = app.lock();
    let ws = ctx.data(&mut state)?;
    let Some(node) = ws.dbfs.get(&path) else {
        return Ok(empty());
    };
    let prefix = if path == "/" {
        "/".to_string()
    } else {
        format!("{path}/")
    };
    let children: Vec<String> = ws
        .dbfs
        .keys()
        .filter(|k| k.starts_with(&prefix) && **k != path)
        .cloned()
        .collect();
    if node.is_dir && !children.is_empty() && !req.recursive {
        return Err(bad_request(
            "IO_ERROR",
            format!("Directory {path} is not empty; use recursive to delete it"),
        ));
    }
    for child in children {
        ws.dbfs.remove(&child);
    }
    if path != "/" {
        ws.dbfs.remove(&path);
    }
    Ok(empty())
}

/// Every file, for the inventory (directories hold nothing by themselves, and `put` creates
/// parents implicitly, so listing them would only report what deleting the files leaves).
pub(crate) fn inventory(fs: &BTreeMap<String, Node>) -> Vec<Value> {
    fs.iter()
        .filter(|(_, n)| !n.is_dir)
        .map(|(p, _)| Value::String(p.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize("dbfs:/a//b/").unwrap(), "/a/b");
        assert_eq!(normalize("/").unwrap(), "/");
        assert!(normalize("a/b").is_err());
        assert_eq!(parent("/a/b").as_deref(), Some("/a"));
        assert_eq!(parent("/a").as_deref(), Some("/"));
        assert_eq!(parent("/"), None);
    }
}
