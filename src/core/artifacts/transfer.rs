//! Moving files between local disk and an object store. Uploads: small files whole and many
//! at once; large files multipart, one at a time with `concurrency` parts in flight, aborted
//! on any failure or Ctrl-C so no partial object becomes visible. Downloads: ranged GETs in
//! parallel for large files, written into a temporary file next to the destination, checked
//! for size, then renamed into place.

use std::path::{Path as LocalPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::stream::{self, FuturesUnordered, StreamExt, TryStreamExt};
use md5::Digest;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, ObjectStore, PutMultipartOptions, PutOptions,
};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{Options, Progress};
use crate::error::{CoreError, CoreResult};
use crate::runtime::Cancel;

pub struct Upload {
    pub local: PathBuf,
    pub key: String,
    /// `Content-Type` to store (MLflow guesses it from the file name).
    pub content_type: Option<String>,
    /// `Content-Encoding` to store (MLflow's S3 repository sets `gzip` for `.gz` files).
    pub content_encoding: Option<String>,
}

fn put_options(f: &Upload) -> PutMultipartOptions {
    let mut attributes = Attributes::new();
    if let Some(content_type) = &f.content_type {
        attributes.insert(Attribute::ContentType, content_type.clone().into());
    }
    if let Some(encoding) = &f.content_encoding {
        attributes.insert(Attribute::ContentEncoding, encoding.clone().into());
    }
    PutMultipartOptions {
        attributes,
        ..Default::default()
    }
}

pub struct Download {
    pub key: String,
    pub local: PathBuf,
    /// The object's size when a listing already gave it.
    pub size: Option<u64>,
    /// The object's ETag when a listing gave it (checked when it is the content's MD5).
    pub etag: Option<String>,
}

/// The MD5 an ETag states, when it states one: S3 ETags of single-part uploads are the hex
/// MD5 of the content; multipart ETags (`<md5>-<parts>`) and others are not checksums.
pub(crate) fn etag_md5(etag: &str) -> Option<[u8; 16]> {
    let hex = etag.trim_matches('"');
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn storage(what: &str, key: &str, e: object_store::Error) -> CoreError {
    match e {
        object_store::Error::NotFound { .. } if what.starts_with("upload") => {
            CoreError::NotFound(format!("{what} {key}: the bucket does not exist"))
        }
        object_store::Error::NotFound { .. } => {
            CoreError::NotFound(format!("{what} {key}: no such object"))
        }
        e => CoreError::Storage(format!("{what} {key} failed: {e}")),
    }
}

fn io(path: &LocalPath, e: std::io::Error) -> CoreError {
    CoreError::Io(format!("{}: {e}", path.display()))
}

fn key_path(key: &str) -> CoreResult<Path> {
    Path::parse(key).map_err(|e| CoreError::Value(format!("invalid object key {key:?}: {e}")))
}

pub async fn upload_all(
    store: &Arc<dyn ObjectStore>,
    files: Vec<Upload>,
    opts: &Options,
    progress: &Progress,
    cancel: &Cancel,
) -> CoreResult<()> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    for f in files {
        let size = tokio::fs::metadata(&f.local)
            .await
            .map_err(|e| io(&f.local, e))?
            .len();
        if size >= opts.multipart_threshold {
            large.push(f);
        } else {
            small.push((f, size));
        }
    }
    let budget = ByteBudget::new(opts);
    stream::iter(small)
        .map(|(f, size)| upload_small(store, f, size, &budget, progress, cancel))
        .buffer_unordered(opts.file_concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    for f in large {
        upload_large(store, f, opts, progress, cancel).await?;
    }
    Ok(())
}

/// Bytes whole small files may hold at once (in KiB permits): many requests in flight, but
/// never more memory than the options allow.
struct ByteBudget {
    permits: Semaphore,
    total: u32,
}

impl ByteBudget {
    fn new(opts: &Options) -> Self {
        let total = (opts.memory_budget() >> 10).clamp(1, u32::MAX as u64) as u32;
        ByteBudget {
            permits: Semaphore::new(total as usize),
            total,
        }
    }

    async fn hold(&self, bytes: u64) -> SemaphorePermit<'_> {
        let kib = (bytes.div_ceil(1024)).clamp(1, self.total as u64) as u32;
        self.permits
            .acquire_many(kib)
            .await
            .expect("the budget semaphore is never closed")
    }
}

async fn upload_small(
    store: &Arc<dyn ObjectStore>,
    f: Upload,
    size: u64,
    budget: &ByteBudget,
    progress: &Progress,
    cancel: &Cancel,
) -> CoreResult<()> {
    cancel.check()?;
    let _held = budget.hold(size).await;
    let data = tokio::fs::read(&f.local)
        .await
        .map_err(|e| io(&f.local, e))?;
    let len = data.len() as u64;
    let options = PutOptions {
        attributes: put_options(&f).attributes,
        ..Default::default()
    };
    store
        .put_opts(&key_path(&f.key)?, data.into(), options)
        .await
        .map_err(|e| storage("upload of", &f.key, e))?;
    progress.add_bytes(len);
    progress.file_done();
    Ok(())
}

/// Part buffers of one multipart upload, reused: at most `concurrency` exist (the parts in
/// flight, one of them possibly still being read), so memory stays at what the options state
/// even where the allocator would keep freed buffers of this size.
struct PartPool {
    free: Mutex<Vec<Vec<u8>>>,
    part_size: usize,
}

/// A filled part; its buffer goes back to the pool when the request no longer needs it.
struct PooledPart {
    buf: Vec<u8>,
    pool: Arc<PartPool>,
}

impl AsRef<[u8]> for PooledPart {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for PooledPart {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.pool.free.lock().unwrap().push(buf);
    }
}

impl PartPool {
    fn take(&self) -> Vec<u8> {
        self.free
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.part_size))
    }
}

/// Read up to `part_size` bytes at `offset` into `buf`, on the blocking pool.
async fn read_part(
    file: &Arc<std::fs::File>,
    path: &LocalPath,
    mut buf: Vec<u8>,
    offset: u64,
    part_size: usize,
) -> CoreResult<Vec<u8>> {
    let file = Arc::clone(file);
    let read = tokio::task::spawn_blocking(move || {
        buf.resize(part_size, 0);
        let mut filled = 0;
        while filled < part_size {
            match read_at(&file, &mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    })
    .await
    .map_err(|e| CoreError::Io(format!("{}: read task failed: {e}", path.display())))?;
    read.map_err(|e| io(path, e))
}

async fn upload_large(
    store: &Arc<dyn ObjectStore>,
    f: Upload,
    opts: &Options,
    progress: &Progress,
    cancel: &Cancel,
) -> CoreResult<()> {
    let location = key_path(&f.key)?;
    let file = Arc::new(std::fs::File::open(&f.local).map_err(|e| io(&f.local, e))?);
    let mut upload = store
        .put_multipart_opts(&location, put_options(&f))
        .await
        .map_err(|e| storage("multipart upload of", &f.key, e))?;
    let pool = Arc::new(PartPool {
        free: Mutex::new(Vec::new()),
        part_size: opts.part_size,
    });
    let concurrency = opts.concurrency.max(1);
    let mut in_flight: FuturesUnordered<object_store::UploadPart> = FuturesUnordered::new();
    let outcome: CoreResult<()> = async {
        let mut offset = 0u64;
        loop {
            cancel.check()?;
            // A part is read only once one of the `concurrency` slots is free, so at most
            // `concurrency` buffers exist: under the stated budget with room for the rest.
            while in_flight.len() >= concurrency {
                if let Some(done) = in_flight.next().await {
                    done.map_err(|e| storage("multipart upload of", &f.key, e))?;
                }
            }
            let buf = read_part(&file, &f.local, pool.take(), offset, opts.part_size).await?;
            let filled = buf.len();
            if filled == 0 {
                break;
            }
            let part = Bytes::from_owner(PooledPart {
                buf,
                pool: Arc::clone(&pool),
            });
            in_flight.push(upload.put_part(part.into()));
            progress.add_bytes(filled as u64);
            offset += filled as u64;
            if filled < opts.part_size {
                break;
            }
        }
        while let Some(done) = in_flight.next().await {
            done.map_err(|e| storage("multipart upload of", &f.key, e))?;
        }
        Ok(())
    }
    .await;
    drop(in_flight);
    match outcome {
        Ok(()) => {
            upload
                .complete()
                .await
                .map_err(|e| storage("multipart upload of", &f.key, e))?;
            progress.file_done();
            Ok(())
        }
        Err(e) => {
            // Best effort: the upload failed already; its parts must not linger.
            let _ = upload.abort().await;
            Err(e)
        }
    }
}

/// A temporary name next to `dst`, so the final rename never crosses file systems; unique
/// per process and call, so concurrent writers of one destination never share it.
pub(crate) fn partial_path(dst: &LocalPath) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dst.with_file_name(format!(".{name}.oxide-partial-{}-{n}", std::process::id()))
}

pub async fn download_all(
    store: &Arc<dyn ObjectStore>,
    files: Vec<Download>,
    opts: &Options,
    progress: &Progress,
    cancel: &Cancel,
) -> CoreResult<()> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    for f in files {
        match f.size {
            Some(size) if size < opts.multipart_threshold => small.push(f),
            _ => large.push(f),
        }
    }
    let budget = ByteBudget::new(opts);
    stream::iter(small)
        .map(|f| {
            let budget = &budget;
            async move {
                let _held = budget.hold(f.size.unwrap_or(0)).await;
                download_one(store, f, opts, 1, progress, cancel).await
            }
        })
        .buffer_unordered(opts.file_concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    for f in large {
        download_one(store, f, opts, opts.concurrency.max(1), progress, cancel).await?;
    }
    Ok(())
}

async fn download_one(
    store: &Arc<dyn ObjectStore>,
    f: Download,
    opts: &Options,
    parallel: usize,
    progress: &Progress,
    cancel: &Cancel,
) -> CoreResult<()> {
    cancel.check()?;
    let location = key_path(&f.key)?;
    let (size, etag) = match f.size {
        Some(size) => (size, f.etag.clone()),
        None => {
            let meta = store
                .head(&location)
                .await
                .map_err(|e| storage("download of", &f.key, e))?;
            (meta.size, meta.e_tag)
        }
    };
    if let Some(parent) = f.local.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| io(parent, e))?;
    }
    let partial = Partial::new(&f.local);
    let expected_md5 = etag.as_deref().and_then(etag_md5);
    fetch(
        store,
        &location,
        &f.key,
        &partial.path,
        (size, expected_md5),
        opts,
        parallel,
        progress,
        cancel,
    )
    .await?;
    partial.commit(&f.local)?;
    progress.file_done();
    Ok(())
}

/// A temporary file that is removed unless committed — also when its download is dropped
/// mid-way because another file of the same call failed.
pub(crate) struct Partial {
    pub path: PathBuf,
    committed: bool,
}

impl Partial {
    pub fn new(dst: &LocalPath) -> Self {
        Partial {
            path: partial_path(dst),
            committed: false,
        }
    }

    /// Rename into place.
    pub fn commit(mut self, dst: &LocalPath) -> CoreResult<()> {
        std::fs::rename(&self.path, dst).map_err(|e| io(dst, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[allow(clippy::too_many_arguments)] // one download's whole context, passed once
async fn fetch(
    store: &Arc<dyn ObjectStore>,
    location: &Path,
    key: &str,
    partial: &LocalPath,
    (size, expected_md5): (u64, Option<[u8; 16]>),
    opts: &Options,
    parallel: usize,
    progress: &Progress,
    cancel: &Cancel,
) -> CoreResult<()> {
    let file = std::fs::File::create(partial).map_err(|e| io(partial, e))?;
    file.set_len(size).map_err(|e| io(partial, e))?;
    let part = opts.part_size.max(1) as u64;
    let ranges: Vec<std::ops::Range<u64>> = (0..size.div_ceil(part))
        .map(|i| i * part..((i + 1) * part).min(size))
        .collect();
    let file = &file;
    let whole = ranges.len() == 1;
    let digests: Vec<Option<[u8; 16]>> = stream::iter(ranges)
        .map(|range| async move {
            cancel.check()?;
            // Streamed to the file as it arrives: memory per range is one network chunk,
            // not the range, so many ranges in flight cost next to nothing.
            let options = GetOptions {
                range: Some(range.clone().into()),
                ..Default::default()
            };
            let mut body = store
                .get_opts(location, options)
                .await
                .map_err(|e| storage("download of", key, e))?
                .into_stream();
            let mut md5 = whole.then(md5::Md5::new);
            let mut at = range.start;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| storage("download of", key, e))?;
                if at + chunk.len() as u64 > range.end {
                    break;
                }
                write_at(file, &chunk, at).map_err(|e| io(partial, e))?;
                if let Some(md5) = md5.as_mut() {
                    md5.update(&chunk);
                }
                at += chunk.len() as u64;
                progress.add_bytes(chunk.len() as u64);
                cancel.check()?;
            }
            if at != range.end {
                return Err(CoreError::Storage(format!(
                    "download of {key}: expected {} bytes at offset {}, got {}",
                    range.end - range.start,
                    range.start,
                    at - range.start
                )));
            }
            Ok(md5.map(|m| m.finalize().into()))
        })
        .buffer_unordered(parallel)
        .try_collect()
        .await?;
    let written = file.metadata().map_err(|e| io(partial, e))?.len();
    if written != size {
        return Err(CoreError::Storage(format!(
            "download of {key}: {written} bytes written, the object has {size}"
        )));
    }
    // Checked for objects fetched in one piece (single-part uploads, whose ETag is an MD5),
    // hashed as they arrive; hashing a file fetched in parallel ranges would mean reading it
    // again.
    if let (Some(expected), [Some(digest)]) = (expected_md5, digests.as_slice()) {
        if *digest != expected {
            return Err(CoreError::Storage(format!(
                "download of {key}: MD5 of the received bytes does not match the object's ETag"
            )));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    file.read_at(buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, offset)
}

#[cfg(unix)]
fn write_at(file: &std::fs::File, data: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(data, offset)
}

#[cfg(windows)]
fn write_at(file: &std::fs::File, mut data: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !data.is_empty() {
        let n = file.seek_write(data, offset)?;
        data = &data[n..];
        offset += n as u64;
    }
    Ok(())
}

/// Objects directly under `prefix` (key, size) and the "directories" below it.
pub async fn list(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
) -> CoreResult<(Vec<(String, u64)>, Vec<String>)> {
    let location = if prefix.is_empty() {
        None
    } else {
        Some(key_path(prefix)?)
    };
    let listing = store
        .list_with_delimiter(location.as_ref())
        .await
        .map_err(|e| storage("listing of", prefix, e))?;
    let files = listing
        .objects
        .into_iter()
        .map(|o| (o.location.to_string(), o.size))
        .collect();
    let dirs = listing
        .common_prefixes
        .into_iter()
        .map(|p| p.to_string())
        .collect();
    Ok((files, dirs))
}

/// Every object under `prefix` (key, size), in one paginated listing.
pub async fn list_all(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
) -> CoreResult<Vec<(String, u64, Option<String>)>> {
    let location = if prefix.is_empty() {
        None
    } else {
        Some(key_path(prefix)?)
    };
    store
        .list(location.as_ref())
        .map_ok(|o| (o.location.to_string(), o.size, o.e_tag))
        .try_collect()
        .await
        .map_err(|e| storage("listing of", prefix, e))
}

/// Delete the object named `prefix` and every object under `prefix/` (MLflow's rule);
/// returns how many were deleted.
pub async fn delete_prefix(store: &Arc<dyn ObjectStore>, prefix: &str) -> CoreResult<u64> {
    let location = if prefix.is_empty() {
        None
    } else {
        Some(key_path(prefix)?)
    };
    let mut keys: Vec<Path> = store
        .list(location.as_ref())
        .map_ok(|o| o.location)
        .try_collect()
        .await
        .map_err(|e| storage("listing of", prefix, e))?;
    if let Some(exact) = &location {
        match store.head(exact).await {
            Ok(meta) => keys.push(meta.location),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(storage("deletion of", prefix, e)),
        }
    }
    let count = keys.len() as u64;
    store
        .delete_stream(stream::iter(keys.into_iter().map(Ok)).boxed())
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| storage("deletion under", prefix, e))?;
    Ok(count)
}
