"""Serving a call natively, or by scikit-learn when the native path declines it.

The native path takes only input it fully understands. Anything else (multilabel indicator
matrices, pandas extension dtypes, invalid input, ...) goes to scikit-learn's own function with
the caller's original arguments, so scikit-learn's result or error is what the caller gets.
`fallbacks()` counts those hand-offs; the test suite checks ordinary calls never need one."""

from __future__ import annotations

import functools
from collections import Counter

from mlflow_oxide.metrics._inputs import Decline

_COUNTS: Counter[str] = Counter()


def fallbacks() -> dict[str, int]:
    """How many calls of each metric scikit-learn served in this process."""
    return dict(_COUNTS)


def reset_fallbacks() -> None:
    _COUNTS.clear()


def native_or_sklearn(name: str):
    """Decorate a native implementation `impl(*args, **kwargs)` of `sklearn.metrics.<name>`."""

    def decorate(impl):
        @functools.wraps(impl)
        def metric(*args, **kwargs):
            try:
                return impl(*args, **kwargs)
            except (Decline, ValueError, TypeError):
                # ValueError/TypeError here means the input is invalid or unusual; scikit-learn
                # raises the canonical error (or handles a case we declined).
                _COUNTS[name] += 1
                from sklearn import metrics

                return getattr(metrics, name)(*args, **kwargs)

        metric.__doc__ = f"Same arguments and result as ``sklearn.metrics.{name}``."
        return metric

    return decorate
