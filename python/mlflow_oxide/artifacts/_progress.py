"""A progress bar for long transfers: files and bytes, drawn only on a terminal and when
MLflow's own artifact progress bars are enabled."""

from __future__ import annotations

import sys


def _wanted() -> bool:
    from mlflow.environment_variables import MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR

    return bool(MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR.get()) and sys.stderr.isatty()


class TransferProgress:
    """Callable the native transfer reports ``(bytes, files)`` to every 100 ms."""

    def __init__(self, desc: str, total_bytes: int, total_files: int):
        self.total_files = total_files
        self._bar = None
        if total_bytes and _wanted():
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(
                total=total_bytes, desc=desc, unit="B", unit_scale=True, unit_divisor=1024
            )

    def __call__(self, done_bytes: int, done_files: int) -> None:
        if self._bar is not None:
            self._bar.update(done_bytes - self._bar.n)
            self._bar.set_postfix_str(f"{done_files}/{self.total_files} files", refresh=False)

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
