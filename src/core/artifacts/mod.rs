//! Artifact transfer through `object_store`: the object layout is MLflow's (the caller passes
//! full object keys); this module owns moving bytes — many files at once, multipart uploads
//! and ranged parallel downloads, bounded memory, retries, atomic local writes.

pub mod gcs;
pub mod local_copy;
pub mod store;
pub mod transfer;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};

/// How a transfer moves bytes. Memory in flight is at most [`Options::memory_budget`] per call.
#[derive(Clone, Debug)]
pub struct Options {
    /// Parts of one large file transferred at once.
    pub concurrency: usize,
    /// Small files transferred at once (requests are latency-bound, so many more than parts;
    /// the bytes they hold still fit the memory budget).
    pub file_concurrency: usize,
    /// Bytes per multipart part / per ranged GET.
    pub part_size: usize,
    /// Files at least this large go multipart / ranged.
    pub multipart_threshold: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 16,
            file_concurrency: 64,
            part_size: 16 << 20,
            multipart_threshold: 64 << 20,
        }
    }
}

impl Options {
    /// Bytes held at once: the parts in flight plus the one being read.
    pub fn memory_budget(&self) -> u64 {
        (self.concurrency.max(1) as u64 + 1) * self.part_size.max(1) as u64
    }
}

/// Counters a watching thread reads to draw progress.
#[derive(Default, Debug)]
pub struct Progress {
    pub bytes: AtomicU64,
    pub files: AtomicU64,
}

impl Progress {
    pub fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    pub fn file_done(&self) {
        self.files.fetch_add(1, Ordering::Relaxed);
    }
}
