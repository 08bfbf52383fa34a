"""``drift_report``: the per-column choice of test and its result, against Evidently's data drift
preset and against the standalone drift functions, over pandas, polars and pyarrow inputs.

Evidently (0.7.23): its ``DataDriftPreset`` is run through ``Report.run`` on the same frames,
with an explicit ``DataDefinition`` (numeric dtypes numerical, everything else categorical: the
kinds our report uses; Evidently's own inference would make integer columns with at most 10
values categorical, which is a type-inference difference, not a test-choice one). Per column it
gives the chosen test (``ValueDrift.method``), the score and the drift verdict (the column's
test status), and the dataset verdict (the ``DriftedColumnsCount`` share test). What must agree:

* the test chosen for every column (by kind, distinct values over both sides, and non-null
  reference size <= 1000 or not);
* ``ks`` (p-value), ``wasserstein`` (normalized) and ``z`` (p-value): score within 1e-9 and the
  same verdict;
* ``jensenshannon`` on categorical columns: score within 1e-9 and the same verdict. Evidently
  takes the shares of every category over the union of both sides (``get_binned_data`` without
  zero filling), which is what ``categorical_drift`` does;
* ``jensenshannon`` on numeric columns with at most 5 values (Evidently's choice for them when
  the reference has more than 1000 rows): Evidently bins such a column by value (a reference
  with at most 20 distinct values is binned by value); the report must then give Evidently's
  score and verdict too (``test_evidently_jensenshannon_on_low_cardinality_numeric``);
* ``chisquare``: the choice only. Evidently runs ``scipy.stats.chisquare`` with expected
  frequencies scaled from the reference, ours ``scipy.stats.chi2_contingency`` on the 2 x k
  table (our issue's specification), so the p-values differ by definition;
* the dataset verdict at ``drift_share=0.5``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import scipy.stats
from mlflow_oxide import drift as ox
from mlflow_oxide.drift import TESTS, drift_report

SCORE_TOL = 1e-9
FIELDS = [
    "column",
    "kind",
    "test",
    "score",
    "statistic",
    "p_value",
    "threshold",
    "drifted",
    "status",
    "reference_rows",
    "current_rows",
    "reference_null_share",
    "current_null_share",
    "new_categories",
    "missing_categories",
]


def close(a, b, tol=SCORE_TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=1e-12)


# --------------------------------------------------------------------------------------------
# Evidently
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evidently():
    """Evidently's Report, preset and data definition; the name map of its stat tests."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")  # Evidently's telemetry
        import pandas.core.dtypes.common as common

        if not hasattr(common, "infer_dtype_from_object"):
            # evidently 0.7.23 imports this helper (gone in pandas 3) at import time, for a
            # data-integrity test never run here.
            mp.setattr(common, "infer_dtype_from_object", lambda x: x, raising=False)
        ev = pytest.importorskip("evidently")
        from evidently.legacy.calculations import stattests
        from evidently.presets import DataDriftPreset

        assert ev.__version__ == "0.7.23", ev.__version__
        names = {
            t.display_name: t.name
            for t in (
                stattests.ks_stat_test,
                stattests.chi_stat_test,
                stattests.z_stat_test,
                stattests.wasserstein_stat_test,
                stattests.jensenshannon_stat_test,
            )
        }
        # Evidently's names are ours: ks, chisquare, z, wasserstein, jensenshannon
        assert set(names.values()) <= set(TESTS)

        def run(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
            numeric = [c for c in reference.columns if reference[c].dtype.kind in "iuf"]
            definition = ev.DataDefinition(
                numerical_columns=numeric,
                categorical_columns=[c for c in reference.columns if c not in numeric],
            )
            snapshot = ev.Report([DataDriftPreset(drift_share=0.5)], include_tests=True).run(
                ev.Dataset.from_pandas(current, data_definition=definition),
                ev.Dataset.from_pandas(reference, data_definition=definition),
            )
            out = {"columns": {}}
            data = snapshot.dict()
            for metric in data["metrics"]:
                config = metric["config"]
                if config["type"].endswith(":ValueDrift"):
                    out["columns"][config["column"]] = {
                        "test": names.get(config["method"], config["method"]),
                        "score": float(metric["value"]),
                        "threshold": config["threshold"],
                    }
                elif config["type"].endswith(":DriftedColumnsCount"):
                    out["drifted_count"] = metric["value"]["count"]
                    out["drifted_share"] = metric["value"]["share"]
            for test in data["tests"]:
                params = test["metric_config"]["params"]
                failed = getattr(test["status"], "value", test["status"]) == "FAIL"
                if params["type"].endswith(":ValueDrift"):
                    out["columns"][params["column"]]["drifted"] = failed
                elif params["type"].endswith(":DriftedColumnsCount"):
                    out["dataset_drift"] = failed  # the test is "share < drift_share"
            assert set(out["columns"]) == set(reference.columns)
            return out

        yield run


def parity_frames(n_ref: int, scenario: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames. Low-cardinality numeric columns keep their distribution
    in both scenarios (their jensenshannon is compared in its own test)."""
    rng = np.random.default_rng([seed, n_ref, ["stable", "drifted"].index(scenario)])
    n_cur = n_ref * 2 // 3 + 7
    d = scenario == "drifted"

    def frame(n: int, current: bool) -> pd.DataFrame:
        shift = current and d
        with_nulls = rng.normal(0.4 if shift else 0.0, 1.0, n)
        with_nulls[rng.random(n) < 0.1] = np.nan
        colors = rng.choice(["red", "green", "blue", "grey"], n, p=[0.4, 0.3, 0.2, 0.1])
        if shift:
            colors = rng.choice(["red", "green", "blue", "grey", "pink"], n)
        colors = pd.Series(colors, dtype="str")
        colors[rng.random(n) < 0.05] = None
        return pd.DataFrame(
            {
                "normal": rng.normal(0.0, 1.0, n),
                "shifted": rng.normal(0.5 if current else 0.0, 1.2 if current else 1.0, n),
                "heavy": rng.lognormal(0.3 if shift else 0.0, 1.0, n),
                "few_values": rng.choice([0.5, 1.5, 2.5, 3.5], n),
                "five_values": rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0], n),
                "binary_float": rng.choice([0.0, 1.0], n, p=[0.7, 0.3]),
                "int_tiny": rng.integers(0, 3, n),
                "int_low": rng.integers(0, 9 + shift, n),
                "int_wide": rng.integers(-50, 50 + 30 * shift, n),
                "with_nulls": with_nulls,
                "color": colors,
                "city": rng.choice(["oslo", "rome", "lima"], n, p=[0.2, 0.3, 0.5]),
                "pair": rng.choice(
                    ["yes", "no"], n, p=[0.55 if shift else 0.3, 0.45 if shift else 0.7]
                ),
                "flag": rng.random(n) < (0.6 if shift else 0.4),
            }
        )

    return frame(n_ref, False), frame(n_cur, True)


PARITY_CASES = [(n, s) for n in (300, 3000) for s in ("stable", "drifted")]


@pytest.mark.parametrize(
    ("n_ref", "scenario"), PARITY_CASES, ids=[f"{n}-{s}" for n, s in PARITY_CASES]
)
def test_evidently_parity(evidently, n_ref, scenario):
    reference, current = parity_frames(n_ref, scenario)
    expected = evidently(reference, current)
    ours = drift_report(reference, current, drift_share=0.5)
    problems = []
    for name, ev in expected["columns"].items():
        got = ours[name]
        assert got.ok, (name, got.status)
        if got.test != ev["test"]:
            problems.append(f"{name}: test {got.test!r}, Evidently {ev['test']!r}")
            continue
        if got.threshold != ev["threshold"]:
            problems.append(f"{name}: threshold {got.threshold}, Evidently {ev['threshold']}")
        if got.test == "chisquare":
            continue  # chi2_contingency vs Evidently's scaled chisquare: the choice only
        by_value = got.test == "jensenshannon" and got.kind == "numeric"
        # (by-value binning on Evidently's side, compared in test_evidently_jensenshannon_on_
        # low_cardinality_numeric; these columns do not drift here, so the verdicts agree)
        if not by_value and not close(got.score, ev["score"]):
            problems.append(f"{name} ({got.test}): score {got.score!r}, Evidently {ev['score']!r}")
        if got.drifted != ev["drifted"]:
            problems.append(
                f"{name} ({got.test}): drifted {got.drifted}, Evidently {ev['drifted']}"
            )
    if ours.dataset_drift != expected["dataset_drift"]:
        problems.append(
            f"dataset drift {ours.dataset_drift} (share {ours.drifted_share}), Evidently "
            f"{expected['dataset_drift']} (share {expected['drifted_share']})"
        )
    assert not problems, "\n".join(problems)
    # the expected choices, so that the frames keep covering every branch
    chosen = {c.column: c.test for c in ours}
    if n_ref <= 1000:
        assert chosen["normal"] == chosen["int_low"] == "ks"
        assert chosen["few_values"] == chosen["five_values"] == chosen["color"] == "chisquare"
        assert chosen["binary_float"] == chosen["pair"] == chosen["flag"] == "z"
    else:
        assert chosen["normal"] == chosen["int_low"] == chosen["heavy"] == "wasserstein"
        assert {chosen[c] for c in ("few_values", "binary_float", "color", "flag")} == {
            "jensenshannon"
        }
    assert ours.dataset_drift is (scenario == "drifted")


def test_evidently_reference_size_boundary(evidently):
    """<= 1000 non-null reference values: small-sample tests; nulls do not count."""
    rng = np.random.default_rng(11)
    reference = pd.DataFrame(
        {
            "exactly_1000": np.r_[rng.normal(size=1000), np.nan],
            "rows_1001": rng.normal(size=1001),
            "cat_1000": pd.Series(np.r_[rng.choice(["a", "b", "c"], 1000), None], dtype="str"),
            "cat_1001": rng.choice(["a", "b", "c"], 1001),
        }
    )
    current = pd.DataFrame(
        {
            "exactly_1000": rng.normal(0.1, 1.0, 500),
            "rows_1001": rng.normal(0.1, 1.0, 500),
            "cat_1000": rng.choice(["a", "b", "c"], 500),
            "cat_1001": rng.choice(["a", "b", "c"], 500),
        }
    )
    expected = evidently(reference, current)
    ours = drift_report(reference, current)
    assert {c.column: c.test for c in ours} == {
        name: ev["test"] for name, ev in expected["columns"].items()
    }
    assert [c.test for c in ours] == ["ks", "wasserstein", "chisquare", "jensenshannon"]
    for name in ("exactly_1000", "rows_1001", "cat_1001"):
        assert close(ours[name].score, expected["columns"][name]["score"]), name


def test_evidently_jensenshannon_on_low_cardinality_numeric(evidently):
    """A numeric column with at most 5 values and a reference of more than 1000 rows: both
    choose jensenshannon, and Evidently computes it on the shares of each value (its
    ``get_binned_data`` bins by value when the reference has at most 20 distinct values).
    Reference-quantile bins would merge values (and a 0/1 column would fall into one bin:
    distance 0 whatever the shares)."""
    rng = np.random.default_rng(5)
    n = 3000
    reference = pd.DataFrame(
        {
            "binary": (rng.random(n) < 0.1).astype(np.int64),
            "binary_float": rng.choice([0.0, 1.0], n, p=[0.7, 0.3]),
            "five_values": rng.choice([0.5, 1.5, 2.5, 3.5, 4.5], n),
            "three_values": rng.choice([1, 2, 3], n, p=[0.2, 0.3, 0.5]),
        }
    )
    current = pd.DataFrame(
        {
            "binary": (rng.random(n) < 0.9).astype(np.int64),
            "binary_float": rng.choice([0.0, 1.0], n, p=[0.6, 0.4]),
            "five_values": rng.choice([0.5, 1.5, 2.5, 3.5, 4.5], n, p=[0.3, 0.2, 0.2, 0.2, 0.1]),
            "three_values": rng.choice([1, 2, 3], n, p=[0.5, 0.3, 0.2]),
        }
    )
    expected = evidently(reference, current)
    ours = drift_report(reference, current)
    problems = []
    for name, ev in expected["columns"].items():
        got = ours[name]
        assert got.test == ev["test"] == "jensenshannon", name
        if not close(got.score, ev["score"]) or got.drifted != ev["drifted"]:
            problems.append(
                f"{name}: jensenshannon {got.score!r} (drifted {got.drifted}), Evidently "
                f"{ev['score']!r} (drifted {ev['drifted']})"
            )
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Inputs and output formats
# --------------------------------------------------------------------------------------------


def mixed_frames(seed: int = 0, n_ref: int = 400, n_cur: int = 300):
    """Numeric (with NaN), integer, string (with None), boolean columns."""
    rng = np.random.default_rng(seed)

    def frame(n, shift):
        x = rng.normal(shift, 1.0, n)
        x[rng.random(n) < 0.1] = np.nan
        s = pd.Series(rng.choice(["a", "b", "c", "d"][: 3 + (shift > 0)], n), dtype="str")
        s[rng.random(n) < 0.08] = None
        return pd.DataFrame(
            {
                "x": x,
                "y": rng.exponential(1.0 + shift, n),
                "k": rng.integers(0, 12, n),
                "s": s,
                "b": rng.random(n) < 0.3 + shift / 3,
            }
        )

    return frame(n_ref, 0.0), frame(n_cur, 0.3)


def as_container(df: pd.DataFrame, kind: str):
    if kind == "pandas":
        return df
    if kind == "polars":
        return pl.from_pandas(df)
    if kind == "pyarrow":
        return pa.Table.from_pandas(df, preserve_index=False)
    if kind == "recordbatch":
        return pa.RecordBatch.from_pandas(df, preserve_index=False)
    raise AssertionError(kind)


def comparable(report) -> list[dict]:
    out = []
    for r in report.to_records():
        r = dict(r)
        r["new_categories"] = sorted(map(str, r["new_categories"]))
        r["missing_categories"] = sorted(map(str, r["missing_categories"]))
        out.append(r)
    return out


def assert_same_records(got: list[dict], expected: list[dict], rtol: float = 1e-12):
    assert [r["column"] for r in got] == [r["column"] for r in expected]
    for g, e in zip(got, expected, strict=True):
        for key in FIELDS:
            a, b = g[key], e[key]
            if isinstance(b, float) and a is not None:
                assert math.isclose(a, b, rel_tol=rtol, abs_tol=1e-15), (g["column"], key, a, b)
            else:
                assert a == b, (g["column"], key, a, b)


@pytest.mark.parametrize("tests", ["auto", "psi", "jensenshannon", "tvd", "chisquare", "z"])
@pytest.mark.parametrize("kind", ["polars", "pyarrow", "recordbatch"])
def test_containers_give_identical_reports(kind, tests):
    reference, current = mixed_frames()
    expected = comparable(drift_report(reference, current, tests=tests))
    got = comparable(
        drift_report(as_container(reference, kind), as_container(current, kind), tests=tests)
    )
    assert_same_records(got, expected)
    mixed = comparable(drift_report(as_container(reference, kind), current, tests=tests))
    assert_same_records(mixed, expected)


def test_to_pandas_and_to_arrow():
    reference, current = mixed_frames()
    reference["only_ref"] = 1.0
    current["x"] = current["x"].astype(str)  # a type mismatch row
    report = drift_report(reference, current)
    records = report.to_records()
    assert [r["column"] for r in records] == ["x", "y", "k", "s", "b"]

    frame = report.to_pandas()
    assert list(frame.columns) == FIELDS
    assert len(frame) == len(report) == 5
    assert frame["column"].tolist() == ["x", "y", "k", "s", "b"]
    for i, c in enumerate(report):
        row = frame.iloc[i]
        assert row["status"] == c.status
        assert row["test"] == c.test or (c.test is None and pd.isna(row["test"]))
        if c.ok:
            assert row["score"] == c.score and bool(row["drifted"]) == c.drifted
        else:
            assert pd.isna(row["score"])

    table = report.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == FIELDS
    assert table.num_rows == 5
    assert pa.types.is_list(table.schema.field("new_categories").type)
    assert table.column("column").to_pylist() == ["x", "y", "k", "s", "b"]
    assert table.column("score").to_pylist() == [c.score for c in report]
    assert table.column("drifted").to_pylist() == [c.drifted for c in report]
    assert table.column("reference_null_share").to_pylist() == [
        c.reference_null_share for c in report
    ]
    s = report["s"]
    assert table.column("new_categories").to_pylist()[3] == [str(v) for v in s.new_categories]
    assert s.new_categories == ["d"]
    assert report["x"].status.startswith("type mismatch")
    assert "<table" in report._repr_html_()


def test_columns_subset_and_order():
    reference, current = mixed_frames()
    report = drift_report(reference, current, columns=["s", "x"])
    assert [c.column for c in report] == ["s", "x"]
    full = drift_report(reference, current)
    assert_same_records(comparable(report), [comparable(full)[3], comparable(full)[0]])


def test_non_string_pandas_labels():
    """Pandas column labels are matched by their str()."""
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({0: rng.normal(size=200), 1: rng.normal(size=200)})
    current = pd.DataFrame({0: rng.normal(size=150), 1: rng.normal(1, 1, size=150)})
    report = drift_report(reference, current, columns=["1"])
    assert [c.column for c in report] == ["1"]
    assert close(report["1"].p_value, ox.ks_2samp(reference[1], current[1]).pvalue)


# --------------------------------------------------------------------------------------------
# Each statistic equals the standalone function
# --------------------------------------------------------------------------------------------


def numeric_pair(seed=3, n_ref=600, n_cur=450):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=n_ref)
    c = rng.normal(0.2, 1.1, size=n_cur)
    r[rng.random(n_ref) < 0.07] = np.nan
    c[rng.random(n_cur) < 0.15] = np.nan
    return r, c


def categorical_pair(seed=4, n_ref=600, n_cur=450):
    rng = np.random.default_rng(seed)
    r = pd.Series(rng.choice(["u", "v", "w", "x"], n_ref, p=[0.4, 0.3, 0.2, 0.1]), dtype="str")
    c = pd.Series(rng.choice(["u", "v", "w", "y"], n_cur, p=[0.3, 0.3, 0.3, 0.1]), dtype="str")
    r[rng.random(n_ref) < 0.05] = None
    c[rng.random(n_cur) < 0.1] = None
    return r, c


def _filled(p):
    return np.where(p == 0, 1e-4, p)


def expected_numeric(test: str, r: np.ndarray, c: np.ndarray, bins: int = 10):
    """(statistic, p_value) of ``test`` from the standalone functions on the non-null values."""
    r, c = r[~np.isnan(r)], c[~np.isnan(c)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if test == "ks":
            res = ox.ks_2samp(r, c)
            return float(res.statistic), float(res.pvalue)
        if test == "anderson":
            res = ox.anderson_ksamp([r, c], variant="midrank")
            return float(res.statistic), float(res.pvalue)
        if test == "cramer_von_mises":
            res = ox.cramervonmises_2samp(r, c)
            return float(res.statistic), float(res.pvalue)
    if test == "wasserstein":
        return ox.wasserstein_normalized(r, c), None
    if test in ("psi", "jensenshannon", "kl_div", "hellinger"):
        fn = {
            "psi": ox.psi,
            "jensenshannon": ox.jensenshannon,
            "kl_div": ox.kl_divergence,
            "hellinger": ox.hellinger,
        }[test]
        return fn(r, c, bins=bins), None
    if test in ("tvd", "linf"):
        _, rs, cs = ox.quantile_bins(r, c, bins=bins)
        d = np.abs(rs - cs)
        return float(d.sum() / 2 if test == "tvd" else d.max()), None
    return expected_categorical(test, r, c)


def expected_categorical(test: str, r, c):
    cd = ox.categorical_drift(r, c)
    rs, cs = cd.reference_share, cd.current_share
    return {
        "chisquare": (cd.chi2_statistic, cd.chi2_pvalue),
        "z": (None, cd.z_pvalue),
        "psi": (cd.psi, None),
        "jensenshannon": (cd.jensenshannon, None),
        "tvd": (cd.total_variation, None),
        "linf": (cd.linf, None),
        "kl_div": (float(scipy.stats.entropy(_filled(rs), _filled(cs))), None),
        "hellinger": (float(np.sqrt(np.sum((np.sqrt(rs) - np.sqrt(cs)) ** 2) / 2)), None),
    }[test]


def assert_result(got, test, expected):
    statistic, p_value = expected
    assert got.ok, got.status
    assert got.test == test
    if statistic is None:
        assert got.statistic is None
    else:
        assert close(got.statistic, statistic, 1e-12), (test, got.statistic, statistic)
    if p_value is None:
        assert got.p_value is None
    else:
        assert close(got.p_value, p_value, 1e-12), (test, got.p_value, p_value)
    by_p_value = TESTS[test][1] == "p_value"
    assert got.score == (got.p_value if by_p_value else got.statistic)
    assert got.threshold == TESTS[test][2]
    assert got.drifted == (got.score < got.threshold if by_p_value else got.score >= got.threshold)


@pytest.mark.parametrize("test", list(TESTS))
def test_every_test_on_a_numeric_column(test):
    r, c = numeric_pair()
    report = drift_report(pd.DataFrame({"x": r}), pd.DataFrame({"x": c}), tests=test)
    got = report["x"]
    assert got.kind == "numeric"
    assert got.reference_null_share == np.isnan(r).mean()
    assert got.current_null_share == np.isnan(c).mean()
    if test in ("chisquare", "z"):
        # categorical tests on a numeric column: its distinct values are the categories
        r, c = r[~np.isnan(r)], c[~np.isnan(c)]
        assert_result(got, test, expected_categorical(test, r, c))
        # ... up to 1000 of them per side; beyond, a per-column status
        rng = np.random.default_rng(0)
        wide = drift_report(
            pd.DataFrame({"x": rng.normal(size=1001)}),
            pd.DataFrame({"x": rng.normal(size=50)}),
            tests=test,
        )["x"]
        assert not wide.ok and "1000" in wide.status, wide.status
        assert wide.test == test and wide.score is None and wide.drifted is None
        return
    assert_result(got, test, expected_numeric(test, r, c))


@pytest.mark.parametrize("test", list(TESTS))
def test_every_test_on_a_categorical_column(test):
    r, c = categorical_pair()
    report = drift_report(
        pd.DataFrame({"s": r, "x": np.arange(len(r), dtype=float)}),
        pd.DataFrame({"s": c, "x": np.arange(len(c), dtype=float)}),
        tests=test,
    )
    got = report["s"]
    assert got.kind == "categorical"
    if TESTS[test][0] == "numeric":
        assert not got.ok
        assert got.status == f"test {test!r} needs a numeric column"
        assert got.test == test and got.score is None and got.drifted is None
        assert got.reference_null_share == pytest.approx(r.isna().mean())
        return
    assert_result(got, test, expected_categorical(test, r.dropna(), c.dropna()))
    assert got.new_categories == ["y"] and got.missing_categories == ["x"]
    assert got.reference_null_share == pytest.approx(r.isna().mean())
    assert got.current_null_share == pytest.approx(c.isna().mean())


def test_tests_as_a_per_column_dict():
    reference, current = mixed_frames()
    report = drift_report(reference, current, tests={"x": "hellinger", "s": "linf", "b": "psi"})
    auto = drift_report(reference, current)
    assert [c.test for c in report] == ["hellinger", auto["y"].test, auto["k"].test, "linf", "psi"]
    for name in ("y", "k"):
        assert report[name].score == auto[name].score
    x = reference["x"].to_numpy(), current["x"].to_numpy()
    assert close(report["x"].score, expected_numeric("hellinger", *x)[0], 1e-12)
    assert close(report["s"].score, ox.linf_distance(reference["s"], current["s"]), 1e-12)
    assert close(report["b"].score, ox.categorical_psi(reference["b"], current["b"]), 1e-12)
    # numeric-only test on one categorical column: a per-column status, the rest tested
    report = drift_report(reference, current, tests={"s": "anderson", "x": "cramer_von_mises"})
    assert not report["s"].ok and report["s"].status == "test 'anderson' needs a numeric column"
    assert report["x"].ok and report["x"].test == "cramer_von_mises"
    assert len(report.tested) == 4


def test_thresholds_by_column_and_by_test():
    reference, current = mixed_frames()
    base = drift_report(reference, current, tests={"x": "psi", "y": "psi", "k": "ks"})
    report = drift_report(
        reference,
        current,
        tests={"x": "psi", "y": "psi", "k": "ks"},
        thresholds={"x": 1e-9, "psi": 1e9, "ks": 1.0, "chisquare": 0.0},
    )
    assert report["x"].threshold == 1e-9 and report["x"].drifted is True  # column wins
    assert report["y"].threshold == 1e9 and report["y"].drifted is False
    assert report["k"].threshold == 1.0 and report["k"].drifted is (report["k"].score < 1.0)
    assert report["s"].test == "chisquare" and report["s"].threshold == 0.0
    assert report["s"].drifted is False  # a p-value is never below 0
    assert report["b"].threshold == TESTS["z"][2]
    for c in report:
        assert c.score == base[c.column].score
    # an integer threshold, and threshold 0 for a distance: always drifted
    report = drift_report(reference, current, tests="tvd", thresholds={"tvd": 0})
    assert all(c.drifted for c in report) and report.dataset_drift
    for bad in (-0.1, "0.1", True, None):
        with pytest.raises(ValueError, match="threshold"):
            drift_report(reference, current, thresholds={"x": bad})


def test_categorical_forcing():
    reference, current = mixed_frames()
    report = drift_report(reference, current, categorical=["k", "x"])
    k = report["k"]
    assert k.kind == "categorical" and k.test == "chisquare"
    expected = ox.categorical_drift(reference["k"], current["k"])
    assert close(k.p_value, expected.chi2_pvalue, 1e-12)
    assert close(k.statistic, expected.chi2_statistic, 1e-12)
    # floats as categories, NaN left out as null
    x = report["x"]
    assert x.kind == "categorical"
    assert x.reference_null_share == pytest.approx(reference["x"].isna().mean())
    assert x.new_categories and x.missing_categories  # continuous values: all distinct
    # and with a test that applies to categories only on the forced column
    report = drift_report(reference, current, categorical=["k"], tests={"k": "z"})
    assert close(report["k"].p_value, expected.z_pvalue, 1e-12)
    # forcing is not a column selection
    with pytest.raises(ValueError):
        drift_report(reference, current, columns=["nope"], categorical=["k"])


@pytest.mark.parametrize("bins", [1, 3, 10, 25])
def test_bins(bins):
    r, c = numeric_pair(seed=8)
    for test in ("psi", "jensenshannon", "kl_div", "hellinger", "tvd"):
        report = drift_report(pd.DataFrame({"x": r}), pd.DataFrame({"x": c}), tests=test, bins=bins)
        assert close(report["x"].score, expected_numeric(test, r, c, bins=bins)[0], 1e-12), test
    if bins == 1:
        assert report["x"].score == 0.0  # one bin: nothing to compare


def test_bad_bins():
    r, c = numeric_pair()
    for bins in (0, -1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="bins"):
            drift_report(pd.DataFrame({"x": r}), pd.DataFrame({"x": c}), bins=bins)


@pytest.mark.parametrize("test", ["auto", *TESTS])
def test_row_order_does_not_matter(test):
    """A report is a function of the two samples, not of the order of their rows (Evidently's
    z-test, for one, takes the first category in sorted order)."""
    reference, current = mixed_frames(seed=12)
    # rows sorted by the string column one way, then shuffled and sorted the other way
    ascending = reference.sort_values("s", kind="stable")
    rng = np.random.default_rng(0)
    descending = reference.iloc[rng.permutation(len(reference))].sort_values(
        "s", ascending=False, kind="stable"
    )
    report = drift_report(ascending, current, tests=test)
    shuffled = drift_report(descending, current.iloc[rng.permutation(len(current))], tests=test)
    problems = []
    for c in report:
        s = shuffled[c.column]
        for field in ("status", "test", "drifted", "score", "statistic", "p_value"):
            a, b = getattr(c, field), getattr(s, field)
            if isinstance(a, float) and isinstance(b, float):
                if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300):
                    problems.append(f"{c.column} {field}: {a!r} vs shuffled {b!r}")
            elif a != b:
                problems.append(f"{c.column} {field}: {a!r} vs shuffled {b!r}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Nulls
# --------------------------------------------------------------------------------------------


def test_nulls_reported_per_side_and_left_out():
    reference, current = mixed_frames(seed=6)
    report = drift_report(reference, current, tests="auto")
    for name in reference.columns:
        c = report[name]
        assert c.reference_rows == len(reference) and c.current_rows == len(current)
        assert c.reference_null_share == pytest.approx(reference[name].isna().mean())
        assert c.current_null_share == pytest.approx(current[name].isna().mean())
        # the same test on the non-null values only gives the same result
        alone = drift_report(
            reference[[name]].dropna(), current[[name]].dropna(), tests={name: c.test}
        )[name]
        assert alone.reference_null_share == alone.current_null_share == 0.0
        for field in ("test", "score", "statistic", "p_value", "drifted"):
            assert getattr(alone, field) == getattr(c, field), (name, field)
    assert report["x"].reference_null_share > 0 and report["s"].current_null_share > 0


@pytest.mark.parametrize("container", ["pandas-nullable", "polars", "pyarrow"])
def test_null_kinds(container):
    """pd.NA in nullable dtypes, polars and Arrow nulls (and NaN next to them) are nulls."""
    rng = np.random.default_rng(9)
    n = 500
    mask_r, mask_c = rng.random(n) < 0.2, rng.random(n) < 0.3
    x_r, x_c = rng.normal(size=n), rng.normal(0.3, 1, size=n)
    i_r, i_c = rng.integers(0, 50, n), rng.integers(0, 55, n)
    s_r, s_c = rng.choice(["p", "q", "r"], n), rng.choice(["p", "q"], n)
    plain = (
        pd.DataFrame({"x": x_r[~mask_r], "i": i_r[~mask_r], "s": s_r[~mask_r]}),
        pd.DataFrame({"x": x_c[~mask_c], "i": i_c[~mask_c], "s": s_c[~mask_c]}),
    )

    def with_nulls(x, i, s, mask):
        if container == "pandas-nullable":
            return pd.DataFrame(
                {
                    "x": pd.array(np.where(mask, None, x).tolist(), dtype="Float64"),
                    "i": pd.array(np.where(mask, None, i).tolist(), dtype="Int64"),
                    "s": pd.array(np.where(mask, None, s).tolist(), dtype="string"),
                }
            )
        data = {
            "x": [None if m else float(v) for v, m in zip(x, mask, strict=True)],
            "i": [None if m else int(v) for v, m in zip(i, mask, strict=True)],
            "s": [None if m else str(v) for v, m in zip(s, mask, strict=True)],
        }
        if container == "polars":
            return pl.DataFrame(data, schema={"x": pl.Float64, "i": pl.Int64, "s": pl.String})
        return pa.table(data)

    report = drift_report(with_nulls(x_r, i_r, s_r, mask_r), with_nulls(x_c, i_c, s_c, mask_c))
    expected = drift_report(*plain)
    for name in ("x", "i", "s"):
        got, exp = report[name], expected[name]
        assert got.ok, got.status
        assert got.reference_null_share == pytest.approx(mask_r.mean())
        assert got.current_null_share == pytest.approx(mask_c.mean())
        assert (got.kind, got.test, got.drifted) == (exp.kind, exp.test, exp.drifted)
        assert close(got.score, exp.score, 1e-12), name


# --------------------------------------------------------------------------------------------
# Bad input and untestable columns
# --------------------------------------------------------------------------------------------


def test_no_common_columns():
    with pytest.raises(ValueError, match="no columns in common"):
        drift_report(pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"b": [1.0, 2.0]}))


def test_unknown_columns():
    reference, current = mixed_frames()
    current = current.drop(columns=["y"])
    with pytest.raises(ValueError, match="nope"):
        drift_report(reference, current, columns=["x", "nope"])
    with pytest.raises(ValueError, match="'y'"):
        drift_report(reference, current, columns=["y"])  # only in the reference
    with pytest.raises(ValueError):
        drift_report(reference, current, columns=[])
    # without columns=, the columns of only one side are left out
    assert [c.column for c in drift_report(reference, current)] == ["x", "k", "s", "b"]


def test_unknown_test_names():
    reference, current = mixed_frames()
    with pytest.raises(ValueError, match="kolmogorov"):
        drift_report(reference, current, tests="kolmogorov")
    with pytest.raises(ValueError, match="kolmogorov"):
        drift_report(reference, current, tests={"x": "kolmogorov"})
    with pytest.raises(ValueError, match="nope"):
        drift_report(reference, current, tests={"nope": "ks"})
    with pytest.raises(TypeError):
        drift_report(reference, current, tests=["ks"])


def test_bad_drift_share():
    reference, current = mixed_frames()
    for share in (-0.1, 1.5):
        with pytest.raises(ValueError, match="drift_share"):
            drift_report(reference, current, drift_share=share)


def test_type_mismatch_and_drift_share_of_tested_columns():
    rng = np.random.default_rng(2)
    reference = pd.DataFrame(
        {
            "mismatch": rng.normal(size=300),
            "drifting": rng.normal(size=300),
            "stable": rng.normal(size=300),
            "empty_ref": np.full(300, np.nan),
        }
    )
    current = pd.DataFrame(
        {
            "mismatch": rng.choice(["a", "b"], 200),
            "drifting": rng.normal(3.0, 1.0, size=200),
            "stable": rng.normal(size=200),
            "empty_ref": rng.normal(size=200),
        }
    )
    report = drift_report(reference, current)
    m = report["mismatch"]
    assert m.status.startswith("type mismatch"), m.status
    assert "numeric" in m.status and "categorical" in m.status
    assert (m.kind, m.test, m.score, m.drifted, m.threshold) == (None, None, None, None, None)
    assert report["empty_ref"].status.startswith("empty"), report["empty_ref"].status
    assert "reference" in report["empty_ref"].status
    assert report["empty_ref"].reference_null_share == 1.0
    assert [c.column for c in report.tested] == ["drifting", "stable"]
    assert report.drifted_columns == ["drifting"]
    assert report.drifted_share == 0.5  # 1 of the 2 tested columns, not 1 of 4
    assert report.dataset_drift is True  # >= drift_share
    assert drift_report(reference, current, drift_share=0.51).dataset_drift is False
    summary = report.summary()
    assert summary == {
        "columns": 4,
        "tested": 2,
        "drifted": 1,
        "drifted_share": 0.5,
        "drift_share": 0.5,
        "dataset_drift": True,
    }
    # the other way round too (string in reference, numbers in current)
    flipped = drift_report(current[["mismatch"]], reference[["mismatch"]])
    assert flipped["mismatch"].status.startswith("type mismatch")
    assert flipped.tested == [] and flipped.dataset_drift is False and flipped.drifted_share == 0


def test_all_null_current_column():
    reference, current = mixed_frames()
    current["x"] = np.nan
    current["s"] = pd.Series([None] * len(current), dtype="str")
    report = drift_report(reference, current)
    for name in ("x", "s"):
        assert report[name].status.startswith("empty"), report[name].status
        assert "current" in report[name].status
        assert report[name].current_null_share == 1.0
        assert report[name].score is None and report[name].drifted is None
    assert len(report.tested) == 3


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
def test_empty_current_table(kind):
    reference, current = mixed_frames()
    empty = as_container(current.iloc[:0], kind)
    report = drift_report(reference, empty)
    assert len(report) == 5
    for c in report:
        assert c.status.startswith("empty"), (c.column, c.status)
        assert c.current_rows == 0 and c.current_null_share == 0.0
    assert report.tested == [] and report.dataset_drift is False
    assert report.to_pandas()["status"].str.startswith("empty").all()
    # an empty reference too
    report = drift_report(as_container(reference.iloc[:0], kind), as_container(current, kind))
    assert all(c.status.startswith("empty") for c in report)


def test_infinite_values_are_a_column_status():
    reference, current = mixed_frames()
    current.loc[3, "y"] = np.inf
    report = drift_report(reference, current)
    assert not report["y"].ok
    assert "infinite" in report["y"].status
    assert report["x"].ok


@pytest.mark.parametrize(
    "bad", [[1.0, 2.0], np.zeros((3, 2)), {"x": [1.0, 2.0]}, pd.Series([1.0, 2.0]), None]
)
def test_non_table_input(bad):
    table = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(TypeError):
        drift_report(bad, table)
    with pytest.raises(TypeError):
        drift_report(table, bad)
