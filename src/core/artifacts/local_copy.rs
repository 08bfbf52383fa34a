//! Copying files between local directories (artifact roots on a local or mounted disk): many
//! at once on tokio's blocking pool, each through the kernel's copy path (`copy_file_range`
//! via `std::io::copy`) in slices so Ctrl-C stops even a huge file, into a temporary name that
//! is renamed into place, with permissions and times kept as `shutil.copy2` keeps them.

use std::fs::{File, FileTimes};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::transfer::Partial;
use super::Progress;
use crate::error::{CoreError, CoreResult};
use crate::runtime::Cancel;

pub struct Copy {
    pub source: PathBuf,
    pub destination: PathBuf,
}

/// Bytes copied between two Ctrl-C checks.
const SLICE: u64 = 64 << 20;

fn io(path: &std::path::Path, e: std::io::Error) -> CoreError {
    CoreError::Io(format!("{}: {e}", path.display()))
}

/// Copy every file; on the first failure (or Ctrl-C) the others stop at their next slice, and
/// the call returns only once every copy has stopped and removed its temporary file.
pub async fn copy_all(
    files: Vec<Copy>,
    concurrency: usize,
    progress: &Arc<Progress>,
    cancel: &Arc<Cancel>,
) -> CoreResult<()> {
    let outcomes: Vec<CoreResult<()>> = stream::iter(files)
        .map(|f| {
            let progress = Arc::clone(progress);
            let cancel = Arc::clone(cancel);
            async move {
                let outcome = tokio::task::spawn_blocking({
                    let cancel = Arc::clone(&cancel);
                    move || copy_one(&f, &progress, &cancel)
                })
                .await
                .map_err(|e| CoreError::Io(format!("copy task failed: {e}")))
                .and_then(|r| r);
                if outcome.is_err() {
                    cancel.cancel();
                }
                outcome
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    // The first real failure, not the cancellations it caused.
    let mut first = None;
    for outcome in outcomes {
        match outcome {
            Ok(()) => {}
            Err(CoreError::Cancelled) => {
                first.get_or_insert(CoreError::Cancelled);
            }
            Err(e) => {
                if matches!(first, None | Some(CoreError::Cancelled)) {
                    first = Some(e);
                }
            }
        }
    }
    first.map_or(Ok(()), Err)
}

fn copy_one(f: &Copy, progress: &Progress, cancel: &Cancel) -> CoreResult<()> {
    cancel.check()?;
    // Opening a FIFO would block until a writer comes; only regular files are copied.
    let kind = std::fs::metadata(&f.source).map_err(|e| io(&f.source, e))?;
    if !kind.is_file() {
        return Err(CoreError::Io(format!(
            "{}: not a regular file",
            f.source.display()
        )));
    }
    let mut source = File::open(&f.source).map_err(|e| io(&f.source, e))?;
    let meta = source.metadata().map_err(|e| io(&f.source, e))?;
    if let Some(parent) = f.destination.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let partial = Partial::new(&f.destination);
    let outcome = (|| {
        let mut out = File::create(&partial.path).map_err(|e| io(&partial.path, e))?;
        loop {
            cancel.check()?;
            let n = std::io::copy(&mut (&mut source).take(SLICE), &mut out)
                .map_err(|e| io(&f.source, e))?;
            progress.add_bytes(n);
            if n < SLICE {
                break;
            }
        }
        let mut times = FileTimes::new();
        if let Ok(accessed) = meta.accessed() {
            times = times.set_accessed(accessed);
        }
        if let Ok(modified) = meta.modified() {
            times = times.set_modified(modified);
        }
        out.set_times(times).map_err(|e| io(&partial.path, e))?;
        out.set_permissions(meta.permissions())
            .map_err(|e| io(&partial.path, e))
    })();
    outcome?;
    partial.commit(&f.destination)?;
    progress.file_done();
    Ok(())
}
