"""Native core of mlflow-oxide (Rust). Plain tuples in and out; ``mlflow_oxide.tracking``
turns them into MLflow entities and owns MLflow's contract."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__version__: str
#: Version of the SQLite library the module is linked against; the store only uses the fast
#: path when it equals ``sqlite3.sqlite_version`` (one SQLite copy per process).
SQLITE_VERSION: str
#: Placeholder for the experiment id in default artifact-location templates.
EXPERIMENT_ID_SENTINEL: str

class StoreError(Exception): ...

class Declined(StoreError):
    """The fast path does not cover this call; MLflow's own implementation must serve it."""

class NotFound(StoreError): ...
class InvalidParameter(StoreError): ...
class InvalidState(StoreError): ...
class AlreadyExists(StoreError): ...

class DatabaseBusy(StoreError):
    """SQLite stayed locked past ``busy_timeout_ms``."""

class DatabaseError(StoreError): ...

# (run_id, name, experiment_id, user_id, status, start_time, end_time, lifecycle_stage,
#  artifact_uri)
RunInfoTuple = tuple[
    str, str | None, str, str | None, str | None, int | None, int | None, str | None, str | None
]
# (info, latest metrics (key, value, timestamp, step), params, tags, has_dataset_inputs,
#  model inputs (model ids; get_run only), model outputs (model id, step))
RunTuple = tuple[
    RunInfoTuple,
    list[tuple[str, float, int | None, int]],
    list[tuple[str, str]],
    list[tuple[str, str | None]],
    bool,
    list[str],
    list[tuple[str, int]],
]
# (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time,
#  workspace, tags)
ExperimentTuple = tuple[
    str, str, str | None, str | None, int | None, int | None, str, list[tuple[str, str | None]]
]
# (kind, key, comparator, value) / (kind, key, ascending); see mlflow_oxide._search.
FilterTuple = tuple[str, str, str, Any]
OrderTuple = tuple[str, str, bool]

class SqliteTracking:
    """Tracking hot paths on one SQLite file holding MLflow's schema. Each call is one read
    snapshot or one ``BEGIN IMMEDIATE`` write transaction; the GIL is released meanwhile.
    ``workspace`` restricts a call to that workspace's experiments (None: single tenant).
    Not to be used across ``fork()``: open a new one in the child."""

    def __init__(self, path: str, synchronous: str, busy_timeout_ms: int) -> None: ...
    @property
    def path(self) -> str: ...
    def schema_revision(self) -> str | None: ...
    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Any],
        params: Iterable[Any],
        tags: Iterable[Any],
        workspace: str | None = None,
    ) -> None:
        """Metric/Param/RunTag-like objects (``key``, ``value``, ``timestamp``, ``step``)."""
    def delete_tag(self, run_id: str, key: str, workspace: str | None = None) -> None: ...
    def create_run(
        self,
        run_id: str,
        experiment_id: int,
        user_id: str | None,
        start_time: int | None,
        run_name: str,
        tags: Sequence[tuple[str, str | None]],
        artifact_uri: str,
    ) -> RunTuple: ...
    def update_run_info(
        self,
        run_id: str,
        status: str | None,
        end_time: int | None,
        run_name: str | None,
        workspace: str | None = None,
    ) -> RunInfoTuple: ...
    def get_run(self, run_id: str, workspace: str | None = None) -> RunTuple: ...
    def dataset_inputs(
        self, run_ids: Sequence[str]
    ) -> list[tuple[str, str, str, str, str, str, str | None, str | None, tuple[str, str] | None]]:
        """Rows of MLflow's run-inputs query, in its order: (run_id, dataset_uuid, name,
        digest, source_type, source, schema, profile, input tag (name, value) or None)."""
    def search_runs(
        self,
        experiment_ids: Sequence[int],
        filters: Sequence[FilterTuple],
        order_by: Sequence[OrderTuple],
        stages: Sequence[str],
        limit: int | None,
        offset: int,
        workspace: str | None = None,
    ) -> tuple[list[RunTuple], bool]:
        """Returns (runs, whether any run has dataset inputs)."""
    def get_metric_history(
        self,
        run_id: str,
        key: str,
        limit: int | None,
        offset: int,
        workspace: str | None = None,
    ) -> list[tuple[float, int, int]]: ...
    def get_metric_history_bulk(
        self, run_ids: Sequence[str], key: str, max_results: int, workspace: str | None = None
    ) -> list[tuple[str, float, int, int]]: ...
    def get_metric_history_steps(
        self,
        run_id: str,
        key: str,
        steps: Sequence[int],
        max_results: int,
        workspace: str | None = None,
    ) -> list[tuple[str, float, int, int]]: ...
    def get_max_step_for_metric(
        self, run_id: str, key: str, workspace: str | None = None
    ) -> int: ...
    def sample_metric_history(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
        workspace: str | None = None,
    ) -> list[tuple[str, float, int, int]]: ...
    def get_experiment(
        self, experiment_id: int, workspace: str | None = None
    ) -> ExperimentTuple: ...
    def get_experiment_by_name(
        self, name: str, workspace: str | None = None
    ) -> ExperimentTuple | None: ...
    def resolve_model_version(
        self, name: str, kind: str, value: str, workspace: str | None = None
    ) -> tuple[int, str, str | None] | None:
        """The registered version a ``models:/`` URI names: ``kind`` is ``"version"``,
        ``"alias"`` or ``"stage"`` (``value`` ``"latest"``: newest in any stage). Returns
        ``(version, storage_location or source, run_id)``, or ``None`` when the registry tables
        do not hold it (MLflow's registry store then answers, with its errors)."""
    def run_logged_model(self, run_id: str, name: str) -> tuple[str, str] | None:
        """``(model_id, artifact_location)`` of the model ``name`` logged by ``run_id`` (the one
        ``runs:/<run_id>/<name>`` names in MLflow 3), or ``None``."""
    def logged_model_location(self, model_id: str) -> tuple[str, str | None] | None:
        """``(artifact_location, source_run_id)`` of a logged model, or ``None``."""
    def create_experiment(
        self, name: str, tags: Sequence[tuple[str, str]], location_template: str
    ) -> int: ...
    def search_experiments(
        self,
        filters: Sequence[FilterTuple],
        order_by: Sequence[OrderTuple],
        stages: Sequence[str],
        limit: int,
        offset: int,
        workspace: str | None = None,
    ) -> list[ExperimentTuple]: ...

# --- metric kernels (mlflow_oxide.metrics is the public API; these trust its checks) ---------
# Arrays are borrowed without copying: C-contiguous float64/float32 scores, int64/float64 labels,
# bool masks. They must not be mutated by another thread during a call. Calls over 4M rows
# watch for Ctrl-C and raise KeyboardInterrupt.

FloatArray = np.ndarray  # 1-D float64 or float32
LabelArray = np.ndarray  # 1-D int64 or float64

def unique_labels(columns: Sequence[LabelArray]) -> LabelArray:
    """Sorted unique labels over columns sharing one dtype."""

def confusion_table(
    y_true: LabelArray, y_pred: LabelArray, sample_weight: np.ndarray | None = None
) -> tuple[LabelArray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass: (sorted labels, counts over them, label occurs in y_true, label occurs in
    y_pred)."""

def encode_labels(values: LabelArray, labels: LabelArray) -> np.ndarray:
    """int64 position of each value in the sorted `labels`; ValueError for an unseen value."""

def assert_finite(values: FloatArray) -> None:
    """ValueError naming NaN or infinity if any value is not finite."""

def binary_curve_arrays(
    positive: np.ndarray,
    score: FloatArray,
    sample_weight: np.ndarray | None = None,
    drop: str = "none",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fps, tps, thresholds) per distinct score, descending; drop: "none", "roc" or "pr"."""

def precision_recall_arrays(
    positive: np.ndarray,
    score: FloatArray,
    sample_weight: np.ndarray | None = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """precision_recall_curve's (precision, recall, thresholds) and the total positive weight."""

def binary_ranking(
    positive: np.ndarray, score: FloatArray, sample_weight: np.ndarray | None = None
) -> tuple[float, float, float, float]:
    """(roc_auc, average_precision, positive weight, negative weight) from one sort."""

def one_vs_rest(
    codes: np.ndarray,
    scores: np.ndarray,
    classes: Sequence[int],
    sample_weight: np.ndarray | None = None,
) -> list[tuple[float, float, float, float]]:
    """binary_ranking of each class against the rest (scores: rows x classes, row-major)."""

def one_vs_one(
    codes: np.ndarray, scores: np.ndarray, pairs: Sequence[tuple[int, int]]
) -> list[tuple[float, float]]:
    """Hand & Till: (mean of both AUCs, share of rows in either class) per pair."""

def top_k_hits(codes: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Whether each row's true class is among its k best scores (ties as scikit-learn breaks
    them)."""

def log_loss_sums(
    codes: np.ndarray,
    probs: np.ndarray,
    eps: float,
    rtol: float,
    sample_weight: np.ndarray | None = None,
) -> tuple[float, float, int]:
    """(sum of weighted losses, sum of weights, rows not summing to one within rtol)."""

def regression_loss(
    y_true: FloatArray,
    y_pred: FloatArray,
    kind: str,
    sample_weight: np.ndarray | None = None,
    alpha: float = 0.5,
) -> tuple[float, float]:
    """(sum(w * loss), sum(w)); kind: absolute, squared, absolute_percentage, squared_log,
    pinball."""

def regression_max_error(y_true: FloatArray, y_pred: FloatArray) -> float: ...
def regression_median_absolute_error(y_true: FloatArray, y_pred: FloatArray) -> float: ...
def regression_moments(
    y_true: FloatArray, y_pred: FloatArray, sample_weight: np.ndarray | None = None
) -> tuple[float, float, float, float, float, float]:
    """(sum_w, mean_y, mean_d, ss_res, ss_tot, ss_diff) with d = y - p."""

class ConfusionStateCore:
    def __init__(self) -> None: ...
    def add(
        self,
        labels: Sequence[int | float | str | bool],
        counts: np.ndarray,
        rows: int,
        weighted: bool,
    ) -> None: ...
    def merge(self, other: ConfusionStateCore) -> None: ...
    @property
    def labels(self) -> list[int | float | str | bool]: ...
    @property
    def counts(self) -> np.ndarray: ...
    @property
    def rows(self) -> int: ...
    @property
    def weighted(self) -> bool: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> ConfusionStateCore: ...

class RegressionStateCore:
    def __init__(self) -> None: ...
    def update(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None: ...
    def merge(self, other: RegressionStateCore) -> None: ...
    def as_dict(self) -> dict[str, float | int | None]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> RegressionStateCore: ...

class ScoreStateCore:
    def __init__(
        self, bins: int | None = None, pos_label: int | float | str | bool | None = None
    ) -> None: ...
    @property
    def pos_label(self) -> int | float | str | bool | None: ...
    def update(
        self, positive: np.ndarray, score: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None: ...
    def merge(self, other: ScoreStateCore) -> None: ...
    def ranking(self) -> tuple[float, float, float, float]: ...
    def max_auc_error(self) -> float: ...
    @property
    def bins(self) -> int | None: ...
    @property
    def rows(self) -> int: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> ScoreStateCore: ...

# --- drift kernels (mlflow_oxide.drift is the public API) -----------------------------------

class DriftSample:
    """A column sorted once (raw values, unit or given weights) or a baseline profile's
    sketch (weighted points); every drift statistic takes these."""

    def __len__(self) -> int: ...
    @property
    def weighted(self) -> bool: ...
    @property
    def total(self) -> float:
        """Total weight: the row count of a raw sample."""
    def quantiles(self, qs: list[float]) -> list[float]:
        """np.quantile (linear) for raw samples; inverted CDF for weighted ones."""
    def bin_counts(self, edges: list[float]) -> list[float]:
        """Weight per bin: below edges[0], then [edges[i-1], edges[i]), then >= edges[-1]."""
    def distinct(self, limit: int) -> tuple[list[float], list[float]] | None:
        """Distinct values and their weights, or None when there are more than ``limit``."""

def sort_samples(
    columns: list[FloatArray], weights: list[np.ndarray | None] | None = None
) -> list[DriftSample]:
    """Sort several float64/float32 columns in parallel (GIL released; Ctrl-C stops it).
    NaN/inf and empty columns raise ValueError."""

def ks_extremes_of(a: DriftSample, b: DriftSample) -> tuple[float, float, float, float]:
    """(max(cdf1 - cdf2), where first reached, min(cdf1 - cdf2), where first reached), with
    scipy's tie rule for the location (sorted data1 before sorted data2)."""

def wasserstein_of(u: DriftSample, v: DriftSample) -> float:
    """scipy's 1-D Wasserstein-1 distance (weights included)."""

def anderson_ksamp_of(samples: list[DriftSample], variant: str) -> float:
    """scipy's A2kN for variant "midrank", "right" or "continuous" (raw samples only)."""

def cramervonmises_u_of(x: DriftSample, y: DriftSample) -> float:
    """scipy's U statistic of cramervonmises_2samp (average ranks; raw samples only)."""

class DriftProfileCore:
    """Native half of BaselineProfile: per-column sketches or category counts."""

    def __init__(self) -> None: ...
    def add_numeric(
        self,
        name: str,
        dtype: str,
        rows: int,
        nulls: int,
        sample: DriftSample | None,
        capacity: int,
    ) -> None: ...
    def add_categorical(
        self, name: str, dtype: str, rows: int, nulls: int, labels: list, counts: list[float]
    ) -> None: ...
    def merge(self, other: DriftProfileCore) -> DriftProfileCore: ...
    def columns(self) -> list[tuple[str, str, str, int, int]]:
        """(name, "numeric" | "categorical", dtype, rows, nulls) per column."""
    def sample(self, name: str, means: bool = False) -> DriftSample:
        """Points at block maxima, or at block means (for Wasserstein distances)."""
    def numeric_stats(self, name: str) -> tuple[float, float, float, float, int, int]:
        """(count, mean, std, rank_error, capacity, points)."""
    def categories(self, name: str) -> tuple[list, list[float]]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> DriftProfileCore: ...

# --- artifact transfer (mlflow_oxide.artifacts is the public API) ----------------------------

class StorageError(Exception):
    """An object store request failed after its retries (the message names the object)."""

class ArtifactStore:
    """One artifact root's object store. Every call runs on a tokio runtime with the GIL
    released; Ctrl-C cancels it (multipart uploads aborted, partial downloads removed);
    ``progress(bytes, files)`` is called about every 100 ms."""

    @staticmethod
    def s3(
        bucket: str,
        region: str,
        endpoint: str | None = None,
        ignore_tls: bool = False,
        virtual_hosted: bool = False,
        credentials: Callable[[], tuple[str, str, str | None]] | None = None,
        max_retries: int = 10,
        retry_timeout: float = 180.0,
    ) -> ArtifactStore:
        """``credentials`` returns ``(key_id, secret, token)``; asked again at most once a
        minute. None: unsigned requests."""
    @staticmethod
    def azure(
        account: str,
        container: str,
        endpoint: str | None = None,
        access_key: str | None = None,
        sas: str | None = None,
        credentials: Callable[[], tuple[str, float | None]] | None = None,
        ignore_tls: bool = False,
        max_retries: int = 10,
        retry_timeout: float = 180.0,
    ) -> ArtifactStore:
        """Azure Blob Storage (ADLS Gen2 accounts through their blob endpoint). ``endpoint``:
        the account's blob URL (``https://<account>.blob.core.windows.net`` when None).
        ``credentials`` returns ``(bearer_token, expires_at)`` and wins over ``access_key``,
        which wins over ``sas``; with none of them requests are anonymous."""
    @staticmethod
    def gcs(
        bucket: str,
        emulator: str | None = None,
        credentials: Callable[[], tuple[str, float | None]] | None = None,
        max_retries: int = 10,
        retry_timeout: float = 180.0,
    ) -> ArtifactStore:
        """Google Cloud Storage through its JSON API. ``credentials`` returns
        ``(bearer_token, expires_at)``, asked again shortly before expiry; ``emulator``
        (``STORAGE_EMULATOR_HOST``) takes unauthenticated requests. Uploads above the
        threshold are resumable (part size a multiple of 256 KiB); ``list``/``delete`` of
        prefixes are not offered (MLflow's client lists)."""
    @staticmethod
    def local(root: str) -> ArtifactStore: ...
    def upload(
        self,
        files: list[tuple[str, str, str | None] | tuple[str, str, str | None, str | None]],
        concurrency: int,
        part_size: int,
        multipart_threshold: int,
        progress: Callable[[int, int], None] | None = None,
        file_concurrency: int | None = None,
    ) -> None:
        """``(local_file, key, content_type[, content_encoding])``: files below the threshold
        whole and ``file_concurrency`` (default ``concurrency``) at once, their bytes within
        ``(concurrency + 1) * part_size``; larger ones multipart with ``concurrency`` parts in
        flight from reused buffers."""
    def download(
        self,
        files: list[tuple[str, str, int | None, str | None]],
        concurrency: int,
        part_size: int,
        multipart_threshold: int,
        progress: Callable[[int, int], None] | None = None,
        file_concurrency: int | None = None,
    ) -> None:
        """``(key, local_file, size, etag)``: written to a temporary file beside the
        destination, size-checked (and MD5-checked against a single-part ETag when fetched in
        one piece), renamed; large files in ``concurrency`` parallel ranges."""
    def list(self, prefix: str) -> tuple[list[tuple[str, int]], list[str]]:
        """Objects ``(key, size)`` and directory prefixes directly under ``prefix``."""
    def list_all(self, prefix: str) -> list[tuple[str, int, str | None]]:
        """Every object ``(key, size, etag)`` under ``prefix``, recursively."""
    def delete(self, prefix: str) -> int:
        """Delete every object under ``prefix``; returns how many."""

def copy_files(
    files: list[tuple[str, str]],
    concurrency: int,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Copy local ``(source, destination)`` files, ``concurrency`` at a time, each through the
    kernel's copy path into a temporary name renamed into place, permissions and times kept
    (as ``shutil.copy2``). Ctrl-C stops it between 64 MiB slices; no partial file remains."""

# --- model loader (mlflow_oxide.pyfunc is the public API) --------------------------------------

def parse_mlmodel(text: str) -> tuple[Any, bool, str | None, str | None, bool]:
    """An MLmodel file's YAML as PyYAML's ``safe_load`` gives it, with the loader's facts:
    ``(doc, has_pyfunc, loader_module, data, is_external)``. Raises ``Declined`` for YAML whose
    PyYAML reading is not reproduced (tags, aliases, timestamps, non-decimal ints, non-string
    keys, several documents)."""

def model_cache_ingest(root: str, staged: str) -> tuple[str, list[tuple[str, int, str]]]:
    """Publish the model directory ``staged`` (under ``<root>/tmp``) as a content-addressed
    cache tree; returns ``(tree_id, [(path, size, sha256)])``. Files become read-only blobs
    under ``<root>/objects``; the tree is built aside and renamed into ``<root>/trees``."""

def model_cache_manifest(root: str, tree_id: str) -> list[tuple[str, int, str]] | None:
    """The manifest of a published tree whose files all exist with their sizes, else ``None``."""

def all_zero_or_one(values: np.ndarray) -> bool:
    """Whether every value of a C-contiguous int64 array is 0 or 1 (MLflow's rule for
    converting a long column to float/double)."""
