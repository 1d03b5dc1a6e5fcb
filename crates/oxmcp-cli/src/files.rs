//! Read-only files under a root directory, served as resources.
//!
//! Every regular file under the root (up to [`MAX_LISTED`] of them) is listed as a
//! `file://` resource; the template `file://{+path}` reads any file under the root. A path
//! that leaves the root (`..`, a symlink pointing outside) gets exactly the same error as a
//! missing file, so the server does not reveal what exists outside.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use oxmcp::Error;
use oxmcp::model::ResourceContents;
use oxmcp::server::{Resource, ResourceTemplate};

/// Files listed at most (the rest are still readable through the template).
pub const MAX_LISTED: usize = 1000;
/// The largest file served (8 MiB).
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// A root directory.
#[derive(Debug, Clone)]
pub struct Files {
    root: Arc<PathBuf>,
}

impl Files {
    /// Opens the root (it must exist and be a directory).
    pub fn new(root: &Path) -> std::io::Result<Files> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a directory",
            ));
        }
        Ok(Files {
            root: Arc::new(root),
        })
    }

    /// Resolves a `file://` URI to a file inside the root, or the not-found error.
    pub fn resolve(root: &Path, uri: &str) -> Result<PathBuf, Error> {
        let not_found = || Error::resource_not_found(uri);
        let path = uri.strip_prefix("file://").ok_or_else(not_found)?;
        let real = Path::new(path).canonicalize().map_err(|_| not_found())?;
        if !real.starts_with(root) || !real.is_file() {
            return Err(not_found());
        }
        Ok(real)
    }

    /// Reads a file as text (UTF-8) or as a base64 blob.
    pub async fn read(root: &Path, uri: String) -> Result<Vec<ResourceContents>, Error> {
        let path = Self::resolve(root, &uri)?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|_| Error::resource_not_found(&uri))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(Error::failed(format!(
                "{uri} is {} bytes; the limit is {MAX_FILE_BYTES}",
                meta.len()
            )));
        }
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|_| Error::resource_not_found(&uri))?;
        let mime = mime_guess::from_path(&path).first_raw().map(str::to_owned);
        Ok(vec![match String::from_utf8(bytes) {
            Ok(text) => {
                ResourceContents::text(uri, Some(mime.unwrap_or_else(|| "text/plain".into())), text)
            }
            Err(e) => ResourceContents::blob(
                uri,
                Some(mime.unwrap_or_else(|| "application/octet-stream".into())),
                base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
            ),
        }])
    }

    /// The listed resources.
    pub fn resources(&self) -> Vec<Resource> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.as_ref().clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
            entries.sort();
            for path in entries {
                if out.len() >= MAX_LISTED {
                    return out;
                }
                // Listing follows no symlink out of the root.
                let Ok(real) = path.canonicalize() else {
                    continue;
                };
                if !real.starts_with(self.root.as_ref()) {
                    continue;
                }
                if real.is_dir() && path.is_dir() && !path.is_symlink() {
                    stack.push(path);
                } else if real.is_file() {
                    let uri = format!("file://{}", real.display());
                    let name = real
                        .strip_prefix(self.root.as_ref())
                        .unwrap_or(&real)
                        .display()
                        .to_string();
                    let root = self.root.clone();
                    let mut r = Resource::new(uri, name, move |uri, _ctx| {
                        let root = root.clone();
                        async move { Files::read(&root, uri).await }
                    });
                    if let Some(m) = mime_guess::from_path(&real).first_raw() {
                        r = r.mime_type(m);
                    }
                    out.push(r);
                }
            }
        }
        out
    }

    /// The template that reads any file under the root.
    pub fn template(&self) -> Result<ResourceTemplate, Error> {
        let root = self.root.clone();
        Ok(
            ResourceTemplate::new("file://{+path}", "files", move |uri, _vars, _ctx| {
                let root = root.clone();
                async move { Files::read(&root, uri).await }
            })?
            .description(format!("Any file under {}", self.root.display())),
        )
    }
}
