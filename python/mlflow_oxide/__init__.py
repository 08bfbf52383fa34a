"""mlflow-oxide: Rust hot paths for MLflow that keep MLflow's own data layout.

Select the tracking store with ``mlflow.set_tracking_uri("oxide+sqlite:///mlflow.db")``;
the registry follows the tracking URI with no extra setting.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlflow-oxide")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
