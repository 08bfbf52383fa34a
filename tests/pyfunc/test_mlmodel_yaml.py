"""``MLmodel`` files as people write them by hand: YAML 1.1 quirks (yes/no/on/off, octal and
sexagesimal numbers, timestamps), anchors, aliases and merge keys, explicit tags, int keys,
``!!python`` tags, odd encodings and broken documents.

For each file the loaded ``model.metadata`` of ours must equal, value types included, what
``mlflow.models.Model.load`` and ``mlflow.pyfunc.load_model`` give; where stock fails, ours must
fail with the same exception type and message."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.pyfunc.conftest import (
    load_ours,
    load_stock,
    outcome,
    typed,
)


def _with_metadata(block: str):
    return lambda text: text + "metadata:\n" + block


def _set_top(key: str, value: str):
    def edit(text: str) -> str:
        pattern = re.compile(rf"^{key}:.*$", re.M)
        line = f"{key}: {value}"
        return pattern.sub(line, text) if pattern.search(text) else text + line + "\n"

    return edit


MARKER_NAME = "python-tag-ran"

CASES = {
    "plain": lambda text: text,
    "bool-words": _with_metadata(
        "  approved: yes\n  legacy: no\n  flag: on\n  other: off\n  upper: YES\n"
        "  title: True\n  lower: false\n  y: y\n  n: n\n  quoted: 'yes'\n"
    ),
    "timestamps": _with_metadata(
        "  trained: 2024-01-02\n  stamp: 2024-01-02 03:04:05\n"
        "  frac: 2024-01-02 03:04:05.123456\n  tz: 2024-01-02T03:04:05+02:00\n"
        "  zulu: 2024-01-02T03:04:05Z\n  spaced: 2001-12-14 21:59:43.10 -5\n"
    ),
    "utc-time-unquoted": _set_top("utc_time_created", "2024-01-02 03:04:05.123456"),
    "utc-time-with-zone": _set_top("utc_time_created", "2024-01-02T03:04:05+02:00"),
    "utc-time-date": _set_top("utc_time_created", "2024-01-02"),
    "anchors-and-merge": lambda text: (
        text
        + "owners: &owners\n  team: oxide\n  tier: 1\n"
        + "metadata:\n  <<: *owners\n  tier: 2\n  copy: *owners\n  list: &l [1, 2]\n  again: *l\n"
    ),
    "flavor-alias": lambda text: (
        text.replace("  python_function:\n", "  python_function: &pf\n") + "pyfunc_copy: *pf\n"
    ),
    "int-and-odd-keys": _with_metadata(
        "  1: one\n  2.5: two\n  null: three\n  true: four\n  2024-01-02: five\n  ~: six\n"
    ),
    "unhashable-key": _with_metadata("  [a, b]: seven\n"),
    "yaml11-numbers": _with_metadata(
        "  octal: 017\n  octal_o: 0o17\n  hex: 0x1F\n  binary: 0b101\n  under: 1_000\n"
        "  sexagesimal: 1:30\n  sexa_float: 1:30.5\n  sci: 1e3\n  sci_dot: 1.0e+3\n"
        "  inf: .inf\n  ninf: -.Inf\n  nan: .NaN\n  tilde: ~\n  empty:\n  plus: +12\n"
        "  neg_zero: -0\n  trailing_dot: 0.\n  leading_dot: .5\n  under_float: 1_000.5\n"
        "  eight: 08\n  nine_float: 09.5\n  version_like: 1.10\n"
    ),
    "explicit-tags": _with_metadata(
        "  s: !!str 123\n  f: !!float 1\n  i: !!int '7'\n  b: !!binary aGVsbG8=\n"
        "  st: !!set {a, b}\n  om: !!omap [a: 1, b: 2]\n  pairs: !!pairs [a: 1, a: 2]\n"
        "  ts: !!timestamp 2024-01-01\n  nl: !!null ''\n  bl: !!bool 'yes'\n"
        "  m: !!map {k: v}\n  sq: !!seq [1]\n"
    ),
    "python-tuple-tag": _with_metadata("  t: !!python/tuple [1, 2]\n"),
    "python-apply-tag": _with_metadata("  x: !!python/object/apply:os.system ['touch {marker}']\n"),
    "python-name-tag": _with_metadata("  n: !!python/name:os.system\n"),
    "local-tag": _with_metadata("  c: !custom 5\n"),
    "block-scalars": _with_metadata(
        "  literal: |\n    line one\n    line two\n  folded: >-\n    folded one\n    folded two\n"
        "  keep: |+\n    kept\n\n  escapes: \"caf\\u00e9\\t\\x41\\n\"\n  single: 'it''s'\n"
    ),
    "duplicate-keys": lambda text: text + "metadata:\n  a: 1\n  a: 2\nmetadata:\n  b: 3\n",
    "document-markers-and-comments": lambda text: (
        "%YAML 1.1\n# a comment\n---\n"
        + text.replace("flavors:\n", "flavors: # the flavors\n")
        + "...\n"
    ),
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "byte-order-mark": lambda text: "\ufeff" + text,
    "top-level-oddities": lambda text: (
        _set_top("mlflow_version", "3.10")(_set_top("model_size_bytes", "1_000")(text))
        + "approved: yes\nrun_id: 0123\n"
    ),
    "json-document": lambda text: json.dumps(yaml.safe_load(text)),
    "flow-mapping-document": lambda text: yaml.safe_dump(
        yaml.safe_load(text), default_flow_style=True, width=1 << 20
    ),
    "signature-anchor": lambda text: (
        text.replace("  params: null", "  params: &none null") + "also_none: *none\n"
    ),
    "unicode": _with_metadata('  名前: モデル\n  emoji: "\\U0001F680"\n  ümlaut: ä\n'),
    "deep-nesting": _with_metadata("  a: {b: {c: {d: {e: [1, [2, [3, {f: g}]]]}}}}\n"),
    "invalid-syntax": _with_metadata("  broken: [1, 2\n"),
    "tab-indentation": lambda text: text + "metadata:\n\ta: 1\n",
    "multi-document": lambda text: text + "---\nother: document\n",
    "int-top-level-key": lambda text: text + "1: one\n",
    "empty-file": lambda text: "",
    "list-document": lambda text: "- a\n- b\n",
    "scalar-document": lambda text: "just a string\n",
    "undefined-alias": _with_metadata("  a: *nowhere\n"),
}


def _model_dir(saved, tmp_path: Path, case: str) -> Path:
    target = tmp_path / "model"
    shutil.copytree(saved["lr"], target)
    text = (target / "MLmodel").read_text()
    marker = tmp_path / MARKER_NAME
    new = CASES[case](text).replace("{marker}", str(marker))
    (target / "MLmodel").write_text(new, encoding="utf-8", newline="")
    return target


def _meta_facts(meta) -> dict:
    attrs = {k: v for k, v in vars(meta).items() if k != "signature"}
    return {
        "to_dict": typed(meta.to_dict()),
        "attributes": typed(attrs),
        "signature": typed(meta.signature.to_dict()) if meta.signature is not None else None,
    }


@pytest.mark.parametrize("case", list(CASES))
def test_mlmodel_parity(saved, fitted, tmp_path, case):
    from mlflow.models import Model

    model_dir = _model_dir(saved, tmp_path, case)
    reference = outcome(Model.load, str(model_dir))
    stock = outcome(load_stock, str(model_dir))
    ours = outcome(load_ours, str(model_dir))
    assert not (tmp_path / MARKER_NAME).exists(), "a !!python tag was executed"

    assert ours[0] == stock[0], f"ours: {ours}\nstock: {stock}"
    if stock[0] == "error":
        assert ours[1] == stock[1]
        return
    assert reference[0] == "ok", reference
    expected = _meta_facts(reference[1])
    assert _meta_facts(stock[1].metadata) == expected  # the scenario itself is consistent
    assert _meta_facts(ours[1].metadata) == expected
    X = fitted.X.iloc[:10]
    np.testing.assert_array_equal(ours[1].predict(X), stock[1].predict(X))


def test_oddities_are_really_odd(saved, tmp_path):
    """The YAML 1.1 cases above exercise what they claim (guards the scenarios, not ours)."""
    model_dir = _model_dir(saved, tmp_path, "bool-words")
    meta = yaml.safe_load((model_dir / "MLmodel").read_text())["metadata"]
    assert meta["approved"] is True and meta["other"] is False and meta["y"] == "y"
    shutil.rmtree(model_dir)
    model_dir = _model_dir(saved, tmp_path, "yaml11-numbers")
    meta = yaml.safe_load((model_dir / "MLmodel").read_text())["metadata"]
    assert meta["octal"] == 15 and meta["sexagesimal"] == 90 and meta["sci"] == "1e3"


def test_ordinary_mlmodel_is_parsed_natively(saved):
    """Files MLflow writes itself are read by the native parser, not handed to PyYAML."""
    from mlflow_oxide import _native

    for kind in ("lr", "rf", "custom", "nosig", "deps"):
        text = (saved[kind] / "MLmodel").read_text()
        _native.parse_mlmodel(text)  # raises _native.Declined when it hands over to PyYAML
