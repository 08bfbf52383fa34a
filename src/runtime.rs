//! The rayon pool the metric kernels run on: created on first use and re-created in a forked
//! child (the MLflow server and Spark's Python daemon fork workers; a pool inherited through
//! `fork()` has no threads behind it and would hang the first parallel call).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rayon::ThreadPool;

static POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);

/// The pool of this process. A pool built by the parent before a fork is leaked, never joined:
/// its threads do not exist in the child.
pub fn pool() -> Arc<ThreadPool> {
    let pid = std::process::id();
    let mut slot = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, pool)) = slot.as_ref() {
        if *owner == pid {
            return Arc::clone(pool);
        }
    }
    if let Some((_, inherited)) = slot.take() {
        std::mem::forget(inherited);
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("mlflow-oxide-{i}"))
            .build()
            .expect("rayon thread pool"),
    );
    *slot = Some((pid, Arc::clone(&pool)));
    pool
}

/// Run `work` on the pool.
pub fn install<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    pool().install(work)
}

/// Set by the binding layer when Python receives Ctrl-C; kernels poll it between chunks.
#[derive(Default, Debug)]
pub struct Cancel(AtomicBool);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancelled, for `?` in chunk loops.
    pub fn check(&self) -> crate::error::CoreResult<()> {
        if self.is_cancelled() {
            Err(crate::error::CoreError::Cancelled)
        } else {
            Ok(())
        }
    }
}

static IO: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);

/// The tokio runtime artifact transfers run on: created on first use, re-created in a forked
/// child (an inherited runtime has no worker threads behind it; it is leaked, never dropped).
pub fn io() -> Arc<tokio::runtime::Runtime> {
    let pid = std::process::id();
    let mut slot = IO.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return Arc::clone(rt);
        }
    }
    if let Some((_, inherited)) = slot.take() {
        std::mem::forget(inherited);
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .thread_name("mlflow-oxide-io")
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    *slot = Some((pid, Arc::clone(&rt)));
    rt
}
