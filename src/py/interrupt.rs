//! Long kernels run with the GIL released on the rayon pool while the calling thread keeps
//! checking for Ctrl-C, so `KeyboardInterrupt` stops a 10M-row computation within ~50 ms.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::CoreResult;
use crate::runtime::{self, Cancel};

/// Below this many rows a call finishes faster than a thread can be started for watching it.
const WATCH_FROM_ROWS: usize = 1 << 22;

pub fn run<T: Send>(
    py: Python<'_>,
    rows: usize,
    work: impl FnOnce(&Cancel) -> CoreResult<T> + Send,
) -> PyResult<T> {
    let cancel = Cancel::default();
    if rows < WATCH_FROM_ROWS {
        return Ok(py.detach(|| runtime::install(|| work(&cancel)))?);
    }
    py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = channel();
            let cancel = &cancel;
            scope.spawn(move || {
                let _ = done.send(runtime::install(|| work(cancel)));
            });
            loop {
                match finished.recv_timeout(Duration::from_millis(50)) {
                    Ok(result) => return result.map_err(PyErr::from),
                    Err(RecvTimeoutError::Timeout) => {
                        if let Err(signal) = Python::attach(|py| py.check_signals()) {
                            cancel.cancel();
                            let _ = finished.recv();
                            return Err(signal);
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(pyo3::exceptions::PyRuntimeError::new_err(
                            "metric worker thread panicked",
                        ))
                    }
                }
            }
        })
    })
}
