//! Binding of artifact transfer: one `ArtifactStore` per artifact root. Every call runs on
//! the tokio runtime while the calling thread, GIL released, reports progress and watches for
//! Ctrl-C (which cancels the transfer: multipart uploads are aborted, partial files removed).

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AwsCredential;
use object_store::azure::AzureCredential;
use object_store::ObjectStore;
use pyo3::prelude::*;

use super::credentials::PythonCredentials;
use crate::core::artifacts::gcs::GcsToken;
use crate::core::artifacts::local_copy::{self, Copy};
use crate::core::artifacts::store::{self, AzureConfig, GcsConfig, S3Config};
use crate::core::artifacts::transfer::{self, Download, Upload};
use crate::core::artifacts::{Options, Progress};
use crate::error::CoreResult;
use crate::runtime::{self, Cancel};

/// `(local_file, key, content_type[, content_encoding])`.
struct UploadSpec(Upload);

impl<'a, 'py> FromPyObject<'a, 'py> for UploadSpec {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let tuple = ob.cast::<pyo3::types::PyTuple>()?;
        let content_encoding = match tuple.len() {
            3 => None,
            4 => tuple.get_item(3)?.extract()?,
            n => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "an upload is (local_file, key, content_type[, content_encoding]), got {n} items"
            )))
            }
        };
        Ok(UploadSpec(Upload {
            local: tuple.get_item(0)?.extract()?,
            key: tuple.get_item(1)?.extract()?,
            content_type: tuple.get_item(2)?.extract()?,
            content_encoding,
        }))
    }
}

/// Objects `(key, size)` and directory prefixes directly under a prefix.
type Listing = (Vec<(String, u64)>, Vec<String>);

#[pyclass(name = "ArtifactStore", module = "mlflow_oxide._native", frozen)]
pub struct PyArtifactStore {
    store: Arc<dyn ObjectStore>,
}

fn options(
    concurrency: usize,
    file_concurrency: Option<usize>,
    part_size: usize,
    multipart_threshold: u64,
) -> Options {
    Options {
        concurrency: concurrency.max(1),
        file_concurrency: file_concurrency.unwrap_or(concurrency).max(1),
        part_size: part_size.max(1),
        multipart_threshold,
    }
}

/// Run `work` on the I/O runtime; meanwhile report `(bytes, files)` to `progress` every
/// 100 ms and turn Ctrl-C into cancellation.
fn run<T, F>(
    py: Python<'_>,
    progress: Option<&Py<PyAny>>,
    work: impl FnOnce(Arc<Progress>, Arc<Cancel>) -> F,
) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    let counters = Arc::new(Progress::default());
    let cancel = Arc::new(Cancel::default());
    let future = work(Arc::clone(&counters), Arc::clone(&cancel));
    let (done, finished) = channel();
    runtime::io().spawn(async move {
        let _ = done.send(future.await);
    });
    let watched = Arc::clone(&counters);
    let outcome = py.detach(move || loop {
        match finished.recv_timeout(Duration::from_millis(100)) {
            Ok(result) => return Ok(result),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(signal) = Python::attach(|py| {
                    py.check_signals()?;
                    report(py, progress, &watched)
                }) {
                    cancel.cancel();
                    let _ = finished.recv();
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "artifact transfer task panicked",
                ))
            }
        }
    })?;
    report(py, progress, &counters)?;
    Ok(outcome?)
}

fn report(py: Python<'_>, progress: Option<&Py<PyAny>>, counters: &Progress) -> PyResult<()> {
    if let Some(callback) = progress {
        callback.call1(
            py,
            (
                counters.bytes.load(Ordering::Relaxed),
                counters.files.load(Ordering::Relaxed),
            ),
        )?;
    }
    Ok(())
}

#[pymethods]
impl PyArtifactStore {
    #[staticmethod]
    #[pyo3(signature = (bucket, region, endpoint=None, ignore_tls=false, virtual_hosted=false,
                        credentials=None, max_retries=10, retry_timeout=180.0))]
    #[allow(clippy::too_many_arguments)] // mirrors MLflow's S3 settings one by one
    fn s3(
        bucket: String,
        region: String,
        endpoint: Option<String>,
        ignore_tls: bool,
        virtual_hosted: bool,
        credentials: Option<Py<PyAny>>,
        max_retries: usize,
        retry_timeout: f64,
    ) -> PyResult<Self> {
        let config = S3Config {
            bucket,
            region,
            endpoint,
            ignore_tls,
            virtual_hosted,
            unsigned: credentials.is_none(),
            max_retries,
            retry_timeout: Duration::from_secs_f64(retry_timeout.max(0.0)),
        };
        let provider = credentials.map(PythonCredentials::<AwsCredential>::provider);
        Ok(PyArtifactStore {
            store: store::s3(&config, provider)?,
        })
    }

    /// Azure Blob Storage (and ADLS Gen2 accounts through their blob endpoint). `credentials`
    /// is a callable returning `(bearer_token, expires_at | None)`; it wins over `access_key`,
    /// which wins over `sas`; with none of them requests are anonymous.
    #[staticmethod]
    #[pyo3(signature = (account, container, endpoint=None, access_key=None, sas=None,
                        credentials=None, ignore_tls=false, max_retries=10, retry_timeout=180.0))]
    #[allow(clippy::too_many_arguments)] // mirrors MLflow's Azure settings one by one
    fn azure(
        account: String,
        container: String,
        endpoint: Option<String>,
        access_key: Option<String>,
        sas: Option<String>,
        credentials: Option<Py<PyAny>>,
        ignore_tls: bool,
        max_retries: usize,
        retry_timeout: f64,
    ) -> PyResult<Self> {
        let config = AzureConfig {
            account,
            container,
            endpoint,
            access_key,
            sas,
            ignore_tls,
            max_retries,
            retry_timeout: Duration::from_secs_f64(retry_timeout.max(0.0)),
        };
        let provider = credentials.map(PythonCredentials::<AzureCredential>::provider);
        Ok(PyArtifactStore {
            store: store::azure(&config, provider)?,
        })
    }

    /// Google Cloud Storage. `credentials` is a callable returning `(bearer_token,
    /// expires_at | None)`; `emulator` (`STORAGE_EMULATOR_HOST`) takes unauthenticated requests.
    #[staticmethod]
    #[pyo3(signature = (bucket, emulator=None, credentials=None, max_retries=10, retry_timeout=180.0))]
    fn gcs(
        bucket: String,
        emulator: Option<String>,
        credentials: Option<Py<PyAny>>,
        max_retries: usize,
        retry_timeout: f64,
    ) -> PyResult<Self> {
        let config = GcsConfig {
            bucket,
            emulator,
            max_retries,
            retry_timeout: Duration::from_secs_f64(retry_timeout.max(0.0)),
        };
        let provider = credentials.map(PythonCredentials::<GcsToken>::provider);
        Ok(PyArtifactStore {
            store: store::gcs(&config, provider)?,
        })
    }

    #[staticmethod]
    fn local(root: String) -> PyResult<Self> {
        Ok(PyArtifactStore {
            store: store::local(&root)?,
        })
    }

    /// Upload `(local_file, key, content_type | None[, content_encoding | None])` tuples.
    #[pyo3(signature = (files, concurrency, part_size, multipart_threshold, progress=None,
                        file_concurrency=None))]
    #[allow(clippy::too_many_arguments)] // the transfer options one by one
    fn upload(
        &self,
        py: Python<'_>,
        files: Vec<UploadSpec>,
        concurrency: usize,
        part_size: usize,
        multipart_threshold: u64,
        progress: Option<Py<PyAny>>,
        file_concurrency: Option<usize>,
    ) -> PyResult<()> {
        let store = Arc::clone(&self.store);
        let opts = options(
            concurrency,
            file_concurrency,
            part_size,
            multipart_threshold,
        );
        let files = files.into_iter().map(|spec| spec.0).collect();
        run(py, progress.as_ref(), move |counters, cancel| async move {
            transfer::upload_all(&store, files, &opts, &counters, &cancel).await
        })
    }

    /// Download `(key, local_file, size | None, etag | None)`.
    #[pyo3(signature = (files, concurrency, part_size, multipart_threshold, progress=None,
                        file_concurrency=None))]
    #[allow(clippy::too_many_arguments)] // the transfer options one by one
    fn download(
        &self,
        py: Python<'_>,
        files: Vec<(String, PathBuf, Option<u64>, Option<String>)>,
        concurrency: usize,
        part_size: usize,
        multipart_threshold: u64,
        progress: Option<Py<PyAny>>,
        file_concurrency: Option<usize>,
    ) -> PyResult<()> {
        let store = Arc::clone(&self.store);
        let opts = options(
            concurrency,
            file_concurrency,
            part_size,
            multipart_threshold,
        );
        let files = files
            .into_iter()
            .map(|(key, local, size, etag)| Download {
                key,
                local,
                size,
                etag,
            })
            .collect();
        run(py, progress.as_ref(), move |counters, cancel| async move {
            transfer::download_all(&store, files, &opts, &counters, &cancel).await
        })
    }

    /// `([(key, size)], [directory prefix])` directly under `prefix`.
    fn list(&self, py: Python<'_>, prefix: String) -> PyResult<Listing> {
        let store = Arc::clone(&self.store);
        run(py, None, move |_, _| async move {
            transfer::list(&store, &prefix).await
        })
    }

    /// Every `(key, size, etag)` under `prefix`, recursively.
    fn list_all(
        &self,
        py: Python<'_>,
        prefix: String,
    ) -> PyResult<Vec<(String, u64, Option<String>)>> {
        let store = Arc::clone(&self.store);
        run(py, None, move |_, _| async move {
            transfer::list_all(&store, &prefix).await
        })
    }

    /// Delete every object under `prefix`; returns the count.
    fn delete(&self, py: Python<'_>, prefix: String) -> PyResult<u64> {
        let store = Arc::clone(&self.store);
        run(py, None, move |_, _| async move {
            transfer::delete_prefix(&store, &prefix).await
        })
    }
}

/// Copy `(source, destination)` files between local paths, `concurrency` at a time, each
/// written to a temporary name and renamed into place, with permissions and times kept (as
/// `shutil.copy2`).
#[pyfunction]
#[pyo3(signature = (files, concurrency, progress=None))]
fn copy_files(
    py: Python<'_>,
    files: Vec<(PathBuf, PathBuf)>,
    concurrency: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<()> {
    let files = files
        .into_iter()
        .map(|(source, destination)| Copy {
            source,
            destination,
        })
        .collect();
    run(py, progress.as_ref(), move |counters, cancel| async move {
        local_copy::copy_all(files, concurrency.max(1), &counters, &cancel).await
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyArtifactStore>()?;
    m.add_function(wrap_pyfunction!(copy_files, m)?)
}
