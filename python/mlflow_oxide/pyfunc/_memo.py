"""Loaded models kept in memory, as pickles, keyed by the content they were loaded from.

Deserializing is most of a warm load (skops decodes a 100-tree forest in 55-65 ms). A model
loaded once from a given content (a cache tree id, or a local directory's file sizes, times
and inodes) is pickled into memory; loading the same content again unpickles a fresh,
independent copy (no object is shared between the models handed out). Only flavors whose
loader does nothing but deserialize files are kept: the pickle is made by this process from
the object the flavor itself loaded, and it never leaves the process.

``MLFLOW_OXIDE_MODEL_MEMORY_CACHE_MB`` bounds the memory (default 512; 0 turns it off).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections import OrderedDict

# Loader modules whose `_load_pyfunc` only deserializes the model files.
_PURE_LOADERS = frozenset({"mlflow.sklearn", "mlflow.xgboost", "mlflow.lightgbm"})

_lock = threading.Lock()
_entries: OrderedDict[tuple, bytes] = OrderedDict()
_size = 0


def _budget() -> int:
    try:
        return int(float(os.environ.get("MLFLOW_OXIDE_MODEL_MEMORY_CACHE_MB", "512")) * 2**20)
    except ValueError:
        return 512 * 2**20


# Written into the model directory by MLflow's registry downloads; not part of the model.
_NOT_CONTENT = frozenset({"registered_model_meta"})


def directory_identity(path: str) -> str:
    """Paths, sizes, modification times and inodes of every file under ``path``."""
    digest = hashlib.sha256()
    for here, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name in _NOT_CONTENT and here == path:
                continue
            full = os.path.join(here, name)
            st = os.stat(full)
            digest.update(f"{full}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return digest.hexdigest()


def key(loader_module: str, content_id: str, data_path: str, model_config) -> tuple | None:
    if loader_module not in _PURE_LOADERS or model_config or _budget() <= 0:
        return None
    return (loader_module, content_id, data_path)


def get(entry_key: tuple | None):
    if entry_key is None:
        return None
    with _lock:
        blob = _entries.get(entry_key)
        if blob is None:
            return None
        _entries.move_to_end(entry_key)
    return pickle.loads(blob)


def put(entry_key: tuple | None, model_impl) -> None:
    global _size
    if entry_key is None:
        return
    try:
        blob = pickle.dumps(model_impl, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return  # not picklable: this model is simply loaded every time
    budget = _budget()
    if len(blob) > budget:
        return
    with _lock:
        old = _entries.pop(entry_key, None)
        if old is not None:
            _size -= len(old)
        _entries[entry_key] = blob
        _size += len(blob)
        while _size > budget:
            _, evicted = _entries.popitem(last=False)
            _size -= len(evicted)


def clear() -> None:
    global _size
    with _lock:
        _entries.clear()
        _size = 0
