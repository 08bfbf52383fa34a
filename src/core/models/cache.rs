//! The content-addressed model cache on local disk.
//!
//! ```text
//! <root>/objects/<2 hex>/<sha256>   one read-only blob per distinct file content
//! <root>/trees/<tree id>/           a model directory: hard links to the blobs
//! <root>/trees/<tree id>.json       its manifest: [{path, size, sha256}], sorted by path
//! <root>/tmp/                       staging; everything is published from here by rename
//! ```
//!
//! The tree id is a digest of the manifest, so a tree's name says exactly what it holds. A tree
//! is built complete under `tmp/` and renamed into place; a reader either finds the whole tree
//! or none, and two processes building the same tree both end with the same one. Blobs are
//! read-only so that a flavor writing into its model directory cannot corrupt other trees.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

fn io_error(what: &str, path: &Path, err: io::Error) -> CoreError {
    CoreError::Io(format!("{what} {}: {err}", path.display()))
}

pub fn tree_dir(root: &Path, tree_id: &str) -> PathBuf {
    root.join("trees").join(tree_id)
}

fn manifest_path(root: &Path, tree_id: &str) -> PathBuf {
    root.join("trees").join(format!("{tree_id}.json"))
}

/// A name no other process or thread uses at the same time.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Every regular file under `dir`, as '/'-separated relative paths, sorted.
fn walk(dir: &Path) -> CoreResult<Vec<String>> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let here = dir.join(&rel);
        let entries = fs::read_dir(&here).map_err(|e| io_error("cannot list", &here, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("cannot list", &here, e))?;
            let kind = entry
                .file_type()
                .map_err(|e| io_error("cannot stat", &entry.path(), e))?;
            let child = rel.join(entry.file_name());
            if kind.is_dir() {
                pending.push(child);
            } else if kind.is_file() {
                let text = child.to_str().ok_or_else(|| {
                    CoreError::Declined(format!("non-UTF-8 file name {}", child.display()))
                })?;
                files.push(text.to_owned());
            } else {
                return Err(CoreError::Declined(format!(
                    "not a regular file: {}",
                    dir.join(&child).display()
                )));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn sha256_file(path: &Path) -> CoreResult<(u64, String)> {
    let mut file = fs::File::open(path).map_err(|e| io_error("cannot read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| io_error("cannot read", path, e))?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn tree_id_of(manifest: &[ManifestEntry]) -> String {
    let mut hasher = Sha256::new();
    for entry in manifest {
        hasher.update(entry.path.as_bytes());
        hasher.update([0]);
        hasher.update(entry.size.to_le_bytes());
        hasher.update(entry.sha256.as_bytes());
        hasher.update([b'\n']);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Move the files of `staged` (a downloaded model directory under `<root>/tmp`) into the cache
/// and publish their tree. Returns the tree id and manifest. `staged` is consumed: its files
/// become blobs or are dropped as duplicates.
pub fn ingest(root: &Path, staged: &Path) -> CoreResult<(String, Vec<ManifestEntry>)> {
    let files = walk(staged)?;
    let manifest: Vec<ManifestEntry> = crate::runtime::install(|| {
        files
            .par_iter()
            .map(|rel| {
                let (size, sha256) = sha256_file(&staged.join(rel))?;
                Ok(ManifestEntry {
                    path: rel.clone(),
                    size,
                    sha256,
                })
            })
            .collect::<CoreResult<_>>()
    })?;
    for entry in &manifest {
        store_blob(root, &staged.join(&entry.path), entry)?;
    }
    let tree_id = tree_id_of(&manifest);
    publish_tree(root, &tree_id, &manifest)?;
    Ok((tree_id, manifest))
}

fn blob_path(root: &Path, sha256: &str) -> PathBuf {
    root.join("objects").join(&sha256[..2]).join(sha256)
}

fn store_blob(root: &Path, file: &Path, entry: &ManifestEntry) -> CoreResult<()> {
    let blob = blob_path(root, &entry.sha256);
    // A blob whose size changed was altered through a hard link of some tree: replaced below
    // (trees still linking the old inode keep it, and are rebuilt when next checked).
    if fs::metadata(&blob).is_ok_and(|m| m.is_file() && m.len() == entry.size) {
        return Ok(());
    }
    let parent = blob.parent().expect("blob has a parent");
    fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
    fs::set_permissions(file, fs::Permissions::from_mode(0o444))
        .map_err(|e| io_error("cannot make read-only", file, e))?;
    // Same content under the same name: a concurrent writer's rename is equally good.
    fs::rename(file, &blob).map_err(|e| io_error("cannot store", &blob, e))
}

fn publish_tree(root: &Path, tree_id: &str, manifest: &[ManifestEntry]) -> CoreResult<()> {
    let target = tree_dir(root, tree_id);
    let tmp = root.join("tmp");
    if target.exists() {
        if intact_manifest(root, tree_id)?.is_some() {
            return Ok(());
        }
        // Damaged (a file deleted or resized by hand): moved aside in one rename, so readers
        // see the old tree or none, then rebuilt from the blobs.
        let _ = fs::create_dir_all(&tmp);
        let aside = tmp.join(unique_name("damaged"));
        if fs::rename(&target, &aside).is_ok() {
            let _ = fs::remove_dir_all(&aside);
        }
    }
    let building = tmp.join(unique_name("tree"));
    fs::create_dir_all(&building).map_err(|e| io_error("cannot create", &building, e))?;
    let result = build_tree(root, &building, tree_id, manifest);
    if building.exists() {
        let _ = fs::remove_dir_all(&building);
    }
    result
}

fn build_tree(
    root: &Path,
    building: &Path,
    tree_id: &str,
    manifest: &[ManifestEntry],
) -> CoreResult<()> {
    for entry in manifest {
        let dest = building.join(&entry.path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
        }
        let blob = blob_path(root, &entry.sha256);
        if fs::hard_link(&blob, &dest).is_err() {
            // Too many links on one blob, or a file system without them: a copy holds too.
            fs::copy(&blob, &dest).map_err(|e| io_error("cannot copy", &blob, e))?;
        }
    }
    // The manifest goes first: a manifest without its tree is harmless, the reverse is not.
    let json = serde_json::to_vec(manifest).map_err(|e| CoreError::Io(e.to_string()))?;
    let staged_manifest = building.with_extension("json");
    fs::write(&staged_manifest, json).map_err(|e| io_error("cannot write", &staged_manifest, e))?;
    let final_manifest = manifest_path(root, tree_id);
    let trees = root.join("trees");
    fs::create_dir_all(&trees).map_err(|e| io_error("cannot create", &trees, e))?;
    fs::rename(&staged_manifest, &final_manifest)
        .map_err(|e| io_error("cannot publish", &final_manifest, e))?;
    let target = tree_dir(root, tree_id);
    match fs::rename(building, &target) {
        Ok(()) => Ok(()),
        // Another loader published the same tree first; its content is ours by construction.
        Err(_) if target.is_dir() => Ok(()),
        Err(e) => Err(io_error("cannot publish", &target, e)),
    }
}

/// The manifest of a published tree whose files are all present with their sizes, or `None`
/// when the tree is missing, incomplete or altered (the caller fetches it again).
pub fn intact_manifest(root: &Path, tree_id: &str) -> CoreResult<Option<Vec<ManifestEntry>>> {
    let Ok(text) = fs::read(manifest_path(root, tree_id)) else {
        return Ok(None);
    };
    let Ok(manifest) = serde_json::from_slice::<Vec<ManifestEntry>>(&text) else {
        return Ok(None);
    };
    let dir = tree_dir(root, tree_id);
    for entry in &manifest {
        match fs::metadata(dir.join(&entry.path)) {
            Ok(meta) if meta.is_file() && meta.len() == entry.size => {}
            _ => return Ok(None),
        }
    }
    Ok(Some(manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(unique_name(name));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn stage(root: &Path, files: &[(&str, &[u8])]) -> PathBuf {
        let staged = root.join("tmp").join(unique_name("stage"));
        for (path, bytes) in files {
            let dest = staged.join(path);
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            fs::write(dest, bytes).unwrap();
        }
        staged
    }

    #[test]
    fn same_content_same_tree_and_shared_blobs() {
        let root = scratch("cache");
        let files: &[(&str, &[u8])] = &[("MLmodel", b"flavors: {}\n"), ("data/model.pkl", b"abc")];
        let (first, manifest) = ingest(&root, &stage(&root, files)).unwrap();
        let (second, _) = ingest(&root, &stage(&root, files)).unwrap();
        assert_eq!(first, second);
        assert_eq!(manifest.len(), 2);
        assert_eq!(
            fs::read(tree_dir(&root, &first).join("data/model.pkl")).unwrap(),
            b"abc"
        );
        let (other, _) = ingest(&root, &stage(&root, &[("MLmodel", b"flavors: {}\n")])).unwrap();
        assert_ne!(first, other);
        // One blob per distinct content: MLmodel is shared by both trees.
        let blobs: usize = fs::read_dir(root.join("objects"))
            .unwrap()
            .map(|d| fs::read_dir(d.unwrap().path()).unwrap().count())
            .sum();
        assert_eq!(blobs, 2);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn damaged_tree_and_resized_blob_are_rebuilt() {
        let root = scratch("cache");
        let files: &[(&str, &[u8])] = &[("a", b"12345"), ("b/c", b"xyz")];
        let (id, _) = ingest(&root, &stage(&root, files)).unwrap();
        let tree = tree_dir(&root, &id);
        fs::remove_file(tree.join("b/c")).unwrap();
        // Truncating through the tree's hard link truncates the shared blob too.
        fs::set_permissions(tree.join("a"), fs::Permissions::from_mode(0o644)).unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(tree.join("a"))
            .unwrap()
            .set_len(2)
            .unwrap();
        assert_eq!(intact_manifest(&root, &id).unwrap(), None);
        let (again, manifest) = ingest(&root, &stage(&root, files)).unwrap();
        assert_eq!(again, id);
        assert_eq!(intact_manifest(&root, &id).unwrap(), Some(manifest));
        assert_eq!(fs::read(tree.join("a")).unwrap(), b"12345");
        assert_eq!(fs::read(tree.join("b/c")).unwrap(), b"xyz");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn altered_tree_is_not_intact() {
        let root = scratch("cache");
        let (id, manifest) =
            ingest(&root, &stage(&root, &[("a", b"12345"), ("b/c", b"x")])).unwrap();
        assert_eq!(intact_manifest(&root, &id).unwrap(), Some(manifest));
        fs::remove_file(tree_dir(&root, &id).join("b/c")).unwrap();
        assert_eq!(intact_manifest(&root, &id).unwrap(), None);
        assert_eq!(intact_manifest(&root, "missing").unwrap(), None);
        fs::remove_dir_all(&root).unwrap();
    }
}
