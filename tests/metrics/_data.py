"""Seeded input generators shared by the parity tests (deterministic, cached per process)."""

from __future__ import annotations

from functools import cache

import numpy as np

# Label "kinds": how class values are spelled. Each maps k -> array of k distinct sorted values.
_WORDS = np.array(["ant", "bee", "cat", "dog", "eel", "fox", "gnu"])


def class_values(kind: str, k: int) -> np.ndarray:
    if kind == "int":
        return np.arange(k, dtype=np.int64)
    if kind == "int_signed":
        return np.array([-1, 1]) if k == 2 else np.arange(k, dtype=np.int64) * 3 - 4
    if kind == "str":
        return _WORDS[:k].copy()
    if kind == "object_str":
        return _WORDS[:k].astype(object)
    if kind == "bool":
        assert k == 2
        return np.array([False, True])
    if kind == "float_integral":
        return np.arange(k, dtype=np.float64) * 2.0
    if kind == "float32":
        return np.arange(k, dtype=np.float32)
    if kind == "int8":
        return (np.arange(k) * 2 - 1).astype(np.int8)
    if kind == "int32":
        return (np.arange(k) + 10).astype(np.int32)
    if kind == "uint8":
        return (np.arange(k) * 7).astype(np.uint8)
    raise ValueError(kind)


LABEL_KINDS = [
    "int",
    "int_signed",
    "str",
    "object_str",
    "bool",
    "float_integral",
    "float32",
    "int8",
    "int32",
    "uint8",
]


@cache
def _label_indices(k: int, n: int, seed: int, noise: float):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = t.copy()
    flip = rng.random(n) < noise
    p[flip] = rng.integers(0, k, int(flip.sum()))
    return t, p


def label_pair(kind: str, k: int, n: int, seed: int, noise: float = 0.35):
    """y_true, y_pred spelled as ``kind`` with ~``noise`` of predictions randomized."""
    vals = class_values(kind, k)
    t, p = _label_indices(k, n, seed, noise)
    return vals[t], vals[p]


@cache
def _weights(mode: str, n: int, seed: int):
    rng = np.random.default_rng(seed + 1000)
    if mode == "none":
        return None
    if mode == "float":
        return rng.random(n) * 3 + 0.01
    if mode == "zeros":  # float weights with about a quarter exactly zero
        w = rng.random(n) * 2
        w[rng.random(n) < 0.25] = 0.0
        if n and not w.any():
            w[0] = 1.0
        return w
    if mode == "int":
        w = rng.integers(0, 4, n)
        if n and not w.any():
            w[0] = 1
        return w
    raise ValueError(mode)


WEIGHT_MODES = ["none", "float", "zeros", "int"]


def weights(mode: str, n: int, seed: int):
    w = _weights(mode, n, seed)
    return None if w is None else w.copy()


def scores_binary(y01: np.ndarray, seed: int, ties: str = "none") -> np.ndarray:
    """Scores correlated with a 0/1 truth vector. ties: none | some | heavy | constant."""
    rng = np.random.default_rng(seed + 2000)
    n = len(y01)
    s = rng.normal(size=n) + 0.8 * y01
    s = 1.0 / (1.0 + np.exp(-s))
    if ties == "some":
        s = np.round(s, 2)
    elif ties == "heavy":
        s = np.round(s * 4) / 4
    elif ties == "constant":
        s = np.full(n, 0.5)
    return s


def proba_matrix(t_idx: np.ndarray, k: int, seed: int, ties: bool = False) -> np.ndarray:
    """Rows summing to 1, leaning towards the true class index ``t_idx``."""
    rng = np.random.default_rng(seed + 3000)
    n = len(t_idx)
    p = rng.dirichlet(np.ones(k), size=n)
    p[np.arange(n), t_idx] += 0.5 * rng.random(n)
    if ties:
        p = np.round(p * 4) + 1
    return p / p.sum(axis=1, keepdims=True)
