"""``BaselineProfile``: serialization, merging, and the error bounds of a drift report against a
profile instead of the raw reference table.

Bounds (``eps = profile.rank_error(column)``), checked on 200k-row references at capacities 64,
256 and 2048, built from one table and merged from 7 partitions (2 of them empty, the others
cut from the table sorted by one column, so partitions hold different ranges):

* KS statistic: within ``eps`` of the raw one (the sketch CDF is within ``eps`` of the data's);
* normalized Wasserstein: within ``eps * (max - min) / max(std, 0.001)`` (the CDFs agree outside
  the exact [min, max] and differ by at most ``eps`` inside; triangle inequality);
* binned divergences (psi, jensenshannon, hellinger on 10 reference-quantile bins): within
  ``BINNED_TOLERANCE * eps`` with ``BINNED_TOLERANCE = 10`` (= bins). Each edge of the sketch's
  bins sits within ``eps`` in rank of the exact edge, so every reference and current share moves
  by O(eps), and near shares of 1/bins the three measures change by at most about one unit per
  unit of total share movement. Measured on this file's data (reference seeds 0-4, shifts 0,
  0.05 and 0.3 sd, every capacity and build): the largest |difference| / eps was 2.5 for psi and
  1.7 for jensenshannon and hellinger (and 0.99 of the KS bound, 0.69 of the Wasserstein one),
  so the tolerance leaves a margin of 4x or more;
* categorical columns, and numeric columns with at most ``capacity`` distinct values (kept
  exactly, ``rank_error == 0``): every statistic equal to the raw one.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from mlflow_oxide.drift import TESTS, BaselineProfile, drift_report

from tests.spark import local_spark

from .test_log_drift import tracking  # noqa: F401 - the sqlite tracking fixture

N_ROWS = 200_000
N_CURRENT = 20_000
CAPACITIES = [64, 256, 2048]
BUILDS = ["single", "merged7"]
BINS = 10
BINNED_TOLERANCE = 10
CONTINUOUS = ["normal", "expo", "logn", "mix", "nully"]
PROFILE_TESTS = [t for t in TESTS if t not in ("anderson", "cramer_von_mises")]


def reference_frame(seed: int = 0, n: int = N_ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nully = rng.normal(2.0, 3.0, n)
    nully[rng.random(n) < 0.2] = np.nan
    cat = pd.Series(rng.choice([f"c{i:02d}" for i in range(30)], n), dtype="str")
    cat[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "normal": rng.normal(size=n),
            "expo": rng.exponential(size=n),
            "logn": rng.lognormal(0.0, 1.5, n),
            "mix": np.where(rng.random(n) < 0.3, rng.normal(-5, 0.5, n), rng.normal(3, 2, n)),
            "nully": nully,
            "few": rng.integers(0, 40, n) * 0.25,  # 40 values: exact at every capacity
            "ints": rng.integers(0, 2000, n),  # 2000 values: exact at capacity 2048 only
            "cat": cat,
            "flag": rng.random(n) < 0.3,
        }
    )


def current_frame(shift: float, seed: int = 1, n: int = N_CURRENT) -> pd.DataFrame:
    rng = np.random.default_rng([seed, int(shift * 100)])
    nully = rng.normal(2.0 + shift, 3.0, n)
    nully[rng.random(n) < 0.1] = np.nan
    p = np.full(30, 1 / 30)
    p[:5] += shift / 5
    p /= p.sum()
    return pd.DataFrame(
        {
            "normal": rng.normal(shift, 1.0, n),
            "expo": rng.exponential(1.0 + shift, n),
            "logn": rng.lognormal(shift, 1.5, n),
            "mix": np.where(
                rng.random(n) < 0.3 + shift / 3, rng.normal(-5, 0.5, n), rng.normal(3, 2, n)
            ),
            "nully": nully,
            "few": rng.integers(0, 41, n) * 0.25,
            "ints": rng.integers(0, 2000 + int(shift * 1000), n),
            "cat": rng.choice([f"c{i:02d}" for i in range(30)], n, p=p),
            "flag": rng.random(n) < 0.3 + shift,
        }
    )


def partitions(df: pd.DataFrame) -> list[pd.DataFrame]:
    """7 partitions, 2 empty, cut from the table sorted by ``expo``."""
    ordered = df.sort_values("expo", kind="stable").reset_index(drop=True)
    n = len(df)
    cuts = [0, 0, n // 20, n * 3 // 10, n * 3 // 10, n * 11 // 20, n * 17 // 20, n]
    return [ordered.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


@pytest.fixture(scope="module")
def reference():
    return reference_frame()


@pytest.fixture(scope="module")
def currents():
    return {shift: current_frame(shift) for shift in (0.05, 0.3)}


@pytest.fixture(scope="module")
def profiles(reference):
    parts = partitions(reference)
    assert sum(len(p) for p in parts) == len(reference) and sum(len(p) == 0 for p in parts) == 2
    out = {}
    for capacity in CAPACITIES:
        out[capacity, "single"] = BaselineProfile.from_table(reference, capacity=capacity)
        out[capacity, "merged7"] = BaselineProfile.from_batches(parts, capacity=capacity)
    return out


@pytest.fixture(scope="module")
def raw_reports(reference, currents):
    cache = {}

    def get(test: str, shift: float):
        if (test, shift) not in cache:
            cache[test, shift] = drift_report(reference, currents[shift], tests=test)
        return cache[test, shift]

    return get


CASES = [(c, b) for c in CAPACITIES for b in BUILDS]
CASE_IDS = [f"{c}-{b}" for c, b in CASES]


def _spread(reference: pd.DataFrame, column: str) -> float:
    values = reference[column].dropna().to_numpy()
    return (values.max() - values.min()) / max(float(np.std(values)), 0.001)


@pytest.mark.parametrize(("capacity", "build"), CASES, ids=CASE_IDS)
def test_error_bounds_against_raw_reference(
    profiles, raw_reports, reference, currents, capacity, build
):
    profile = profiles[capacity, build]
    problems = []
    for shift, current in currents.items():
        for test in ("ks", "wasserstein", "psi", "jensenshannon", "hellinger"):
            got = drift_report(profile, current, tests=test)
            raw = raw_reports(test, shift)
            assert got.reference_is_profile and not raw.reference_is_profile
            for column in CONTINUOUS:
                eps = profile.rank_error(column)
                assert 0 < eps < 1, (column, eps)
                g, r = got[column], raw[column]
                assert g.ok and r.ok and g.test == r.test == test, (g.status, r.status)
                if test == "ks":
                    bound = eps
                elif test == "wasserstein":
                    bound = eps * _spread(reference, column)
                else:
                    bound = BINNED_TOLERANCE * eps
                diff = abs(g.statistic - r.statistic)
                if diff > bound + 1e-12:
                    problems.append(
                        f"shift {shift} {test} {column}: profile {g.statistic!r} raw "
                        f"{r.statistic!r}, |diff| {diff:.3g} > bound {bound:.3g} (eps {eps:.3g})"
                    )
                # the null shares and row counts are exact
                assert g.reference_null_share == r.reference_null_share
                assert g.reference_rows == r.reference_rows == N_ROWS
    assert not problems, "\n".join(problems)


def _exact_columns(reference: pd.DataFrame, capacity: int) -> list[str]:
    numeric = [c for c in ("few", "ints") if reference[c].nunique() <= capacity]
    return [*numeric, "cat", "flag"]


def _same(got, raw) -> list[str]:
    """Fields that differ. Floats may differ in the last bits only (relative 1e-12): category
    shares are summed in the order the categories were first seen, which a merge changes."""
    out = []
    for f in ("status", "kind", "test", "threshold", "drifted"):
        if getattr(got, f) != getattr(raw, f):
            out.append(f)
    for f in ("score", "statistic", "p_value"):
        a, b = getattr(got, f), getattr(raw, f)
        if (a is None) != (b is None) or (
            a is not None and not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
        ):
            out.append(f)
    if sorted(map(str, got.new_categories)) != sorted(map(str, raw.new_categories)):
        out.append("new_categories")
    if sorted(map(str, got.missing_categories)) != sorted(map(str, raw.missing_categories)):
        out.append("missing_categories")
    return out


@pytest.mark.parametrize(("capacity", "build"), CASES, ids=CASE_IDS)
def test_exact_columns_equal_raw(profiles, raw_reports, reference, currents, capacity, build):
    profile = profiles[capacity, build]
    exact = _exact_columns(reference, capacity)
    assert ("ints" in exact) is (capacity >= 2000)
    for column in ("few", "ints"):
        assert (profile.rank_error(column) == 0) is (column in exact), column
    problems = []
    for shift, current in currents.items():
        for test in ["auto", *PROFILE_TESTS]:
            got = drift_report(profile, current, columns=exact, tests=test)
            raw = raw_reports(test, shift)
            for column in exact:
                differ = _same(got[column], raw[column])
                if differ:
                    problems.append(
                        f"shift {shift} {test} {column}: "
                        + ", ".join(
                            f"{f} {getattr(got[column], f, None)!r} vs raw "
                            f"{getattr(raw[column], f, None)!r}"
                            for f in differ
                        )
                    )
    assert not problems, "\n".join(problems[:20])


def test_exact_column_with_a_small_reference_equals_raw():
    """Kept exactly means every statistic equals the raw one, also when the reference is small
    enough for scipy's exact KS p-value (both sizes <= 10000)."""
    rng = np.random.default_rng(4)
    reference = pd.DataFrame(
        {"k": rng.integers(0, 20, 2000) * 1.0, "s": rng.choice(list("ab"), 2000)}
    )
    current = pd.DataFrame(
        {"k": rng.integers(0, 21, 1000) * 1.0, "s": rng.choice(list("abc"), 1000)}
    )
    profile = BaselineProfile.from_table(reference, capacity=64)
    assert profile.rank_error("k") == 0
    problems = []
    for test in ["auto", *PROFILE_TESTS]:
        got, raw = (
            drift_report(profile, current, tests=test),
            drift_report(reference, current, tests=test),
        )
        for column in ("k", "s"):
            differ = _same(got[column], raw[column])
            if differ:
                problems.append(
                    f"{test} {column}: "
                    + ", ".join(
                        f"{f} {getattr(got[column], f)!r} vs raw {getattr(raw[column], f)!r}"
                        for f in differ
                    )
                )
    assert not problems, "\n".join(problems)


def test_rank_error_shrinks_with_capacity(profiles, reference):
    for build in BUILDS:
        for column in CONTINUOUS:
            errors = [profiles[c, build].rank_error(column) for c in CAPACITIES]
            assert errors[0] > errors[1] > errors[2] > 0, (build, column, errors)
    for capacity in CAPACITIES:
        single, merged = profiles[capacity, "single"], profiles[capacity, "merged7"]
        for column in CONTINUOUS:
            # about 1 / (capacity - 3) for one build; merging adds to it
            assert single.rank_error(column) <= 2.0 / capacity, column
            assert merged.rank_error(column) >= single.rank_error(column)
            stats = single.numeric_stats(column)
            assert stats["capacity"] == capacity and stats["points"] <= capacity
            assert stats["rank_error"] == single.rank_error(column)


def test_profile_summaries_are_exact(profiles, reference):
    for (capacity, build), profile in profiles.items():
        assert profile.columns == list(reference.columns)
        for column in reference.columns:
            assert profile.rows(column) == N_ROWS
            assert profile.nulls(column) == reference[column].isna().sum(), column
        for column in [*CONTINUOUS, "few", "ints"]:
            assert profile.kind(column) == "numeric"
            values = reference[column].dropna().to_numpy(dtype=float)
            stats = profile.numeric_stats(column)
            assert stats["count"] == len(values)
            assert math.isclose(stats["mean"], values.mean(), rel_tol=1e-12, abs_tol=1e-12)
            assert math.isclose(stats["std"], values.std(), rel_tol=1e-12), (build, column)
            lo, hi = profile.sample(column).quantiles([0.0, 1.0])
            assert (lo, hi) == (values.min(), values.max()), (capacity, build, column)
        for column in ("cat", "flag"):
            assert profile.kind(column) == "categorical"
            labels, counts = profile.category_counts(column)
            expected = reference[column].value_counts(dropna=True)
            assert dict(zip(labels, counts.tolist(), strict=True)) == {
                (k.item() if isinstance(k, np.generic) else k): float(v)
                for k, v in expected.items()
            }


def test_rank_tests_need_raw_reference(profiles, currents):
    profile = profiles[256, "single"]
    current = currents[0.05]
    for test in ("anderson", "cramer_von_mises"):
        report = drift_report(profile, current, tests=test, columns=["normal", "few", "cat"])
        for column in ("normal", "few"):
            c = report[column]
            assert not c.ok and c.test == test and c.score is None and c.drifted is None
            assert "baseline profile" in c.status, c.status
        assert report["cat"].status == f"test {test!r} needs a numeric column"
        assert report.tested == []


# --------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------


def small(seed=0, n=500) -> pd.DataFrame:
    return reference_frame(seed, n)


def test_merge_equals_whole_for_exact_columns():
    a, b = small(1), small(2)
    merged = BaselineProfile.from_table(a).merge(BaselineProfile.from_table(b))
    whole = BaselineProfile.from_table(pd.concat([a, b], ignore_index=True))
    current = current_frame(0.3, n=400)
    for column in whole.columns:
        assert merged.rows(column) == whole.rows(column) == 1000
        assert merged.nulls(column) == whole.nulls(column)
    # 1000 values < capacity 2048: everything exact, so the reports agree exactly
    assert all(merged.rank_error(c) == 0 for c in CONTINUOUS)
    for test in ["auto", *PROFILE_TESTS]:
        got, want = (
            drift_report(merged, current, tests=test),
            drift_report(whole, current, tests=test),
        )
        for column in whole.columns:
            assert not _same(got[column], want[column]), (test, column)


def test_merge_all_and_errors():
    a, b = small(1), small(2)
    pa_, pb = BaselineProfile.from_table(a), BaselineProfile.from_table(b)
    with pytest.raises(ValueError):
        BaselineProfile.merge_all([])
    assert BaselineProfile.merge_all([pa_]).to_bytes() == pa_.to_bytes()
    with pytest.raises(ValueError):
        pa_.merge(BaselineProfile.from_table(b, columns=["normal", "cat"]))
    with pytest.raises(ValueError):
        pa_.merge(BaselineProfile.from_table(b.rename(columns={"normal": "other"})))
    # numeric in one, categorical in the other
    with pytest.raises(ValueError):
        pa_.merge(BaselineProfile.from_table(b, categorical=["few"]))
    with pytest.raises(ValueError):
        pa_.merge(BaselineProfile.from_table(b.assign(normal=b["normal"].astype(str))))
    with pytest.raises(TypeError):
        pa_.merge(b)
    # merging does not change its operands
    before = pa_.to_bytes()
    pa_.merge(pb)
    assert pa_.to_bytes() == before


def test_from_table_arguments():
    df = small()
    profile = BaselineProfile.from_table(df, columns=["few", "cat"], categorical=["few"])
    assert profile.columns == ["few", "cat"]
    assert profile.kind("few") == "categorical"
    with pytest.raises(ValueError):
        BaselineProfile.from_table(df, columns=["nope"])
    with pytest.raises(TypeError):
        BaselineProfile.from_table(df, capacity=2.5)
    with pytest.raises(KeyError):
        profile.rows("nope")
    # a report against a profile with a column the current lacks, or the other way round
    current = current_frame(0.0, n=100)
    with pytest.raises(ValueError):
        drift_report(profile, current, columns=["normal"])
    report = drift_report(profile, current)
    assert [c.column for c in report] == ["few", "cat"]
    assert report["few"].status.startswith("type mismatch")  # numeric in current
    report = drift_report(profile, current, categorical=["few"])
    assert report["few"].ok and report["few"].kind == "categorical"
    raw = drift_report(df, current, categorical=["few"], columns=["few", "cat"])
    assert not _same(report["few"], raw["few"]) and not _same(report["cat"], raw["cat"])


# --------------------------------------------------------------------------------------------
# Serialization
# --------------------------------------------------------------------------------------------


def _equal_profiles(a: BaselineProfile, b: BaselineProfile):
    assert a.columns == b.columns
    for column in a.columns:
        assert (a.kind(column), a.dtype(column), a.rows(column), a.nulls(column)) == (
            b.kind(column),
            b.dtype(column),
            b.rows(column),
            b.nulls(column),
        )
        if a.kind(column) == "numeric":
            assert a.numeric_stats(column) == b.numeric_stats(column)
        else:
            la, ca = a.category_counts(column)
            lb, cb = b.category_counts(column)
            assert la == lb and ca.tolist() == cb.tolist()


def test_bytes_and_file_round_trip(profiles, currents, tmp_path):
    profile = profiles[64, "merged7"]
    data = profile.to_bytes()
    assert isinstance(data, bytes)
    back = BaselineProfile.from_bytes(data)
    assert back.to_bytes() == data
    _equal_profiles(back, profile)
    assert BaselineProfile.from_bytes(bytearray(data)).to_bytes() == data
    path = tmp_path / "profile.msgpack"
    profile.save(path)
    assert path.read_bytes() == data
    loaded = BaselineProfile.load(str(path))
    _equal_profiles(loaded, profile)
    assert [p.name for p in tmp_path.iterdir()] == ["profile.msgpack"]  # no temporary left
    current = currents[0.3]
    a, b = drift_report(profile, current), drift_report(loaded, current)
    for column in profile.columns:
        assert not _same(a[column], b[column]), column
    assert "BaselineProfile" in repr(profile)


def test_corrupt_bytes():
    data = BaselineProfile.from_table(small()).to_bytes()
    for bad in (
        b"",
        b"\x00",
        b"not a profile",
        data[:1],
        data[:16],
        data[: len(data) // 2],
        data[:-1],
    ):
        with pytest.raises(ValueError, match="drift_profile") as err:
            BaselineProfile.from_bytes(bad)
        assert str(err.value), bad[:10]


def test_metric_state_bytes_are_refused():
    from mlflow_oxide.metrics import ConfusionMatrixState, RegressionState

    regression = RegressionState().update(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    confusion = ConfusionMatrixState().update(np.array([0, 1]), np.array([1, 1]))
    for state, name in ((regression, "regression"), (confusion, "confusion")):
        with pytest.raises(ValueError, match="drift_profile") as err:
            BaselineProfile.from_bytes(state.to_bytes())
        assert name in str(err.value), str(err.value)
    # and the other way round
    with pytest.raises(ValueError):
        RegressionState.from_bytes(BaselineProfile.from_table(small()).to_bytes())


def test_log_and_load_logged(tracking):  # noqa: F811
    import mlflow

    profile = BaselineProfile.from_table(small(), capacity=64)
    with mlflow.start_run() as run:
        uri = profile.log()
    assert uri == f"runs:/{run.info.run_id}/drift_baseline/baseline_profile.msgpack"
    loaded = BaselineProfile.load_logged(uri)
    assert loaded.to_bytes() == profile.to_bytes()
    _equal_profiles(loaded, profile)
    # to a given run, outside any active run, under another path
    uri = profile.log(artifact_path="baselines/v2", run_id=run.info.run_id)
    assert uri == f"runs:/{run.info.run_id}/baselines/v2/baseline_profile.msgpack"
    assert BaselineProfile.load_logged(uri).to_bytes() == profile.to_bytes()
    assert mlflow.active_run() is None


# --------------------------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------------------------

SPARK_ROWS = 30_000


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")

    with local_spark(
        "mlflow-oxide-drift-profile",
        {
            "spark.sql.execution.arrow.maxRecordsPerBatch": "4000",
            "spark.sql.shuffle.partitions": "5",
        },
    ) as session:
        yield session


def test_from_spark_matches_local_profile(spark):
    data = reference_frame(7, SPARK_ROWS).drop(columns=["ints"])
    current = current_frame(0.05, n=5000).drop(columns=["ints"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark's pandas-version warnings
        # 5 partitions, rows in 3 of them (the others are empty), several batches each
        sdf = spark.createDataFrame(data.assign(part=np.arange(SPARK_ROWS) % 3)).repartition(
            5, "part"
        )
        capacity = 256
        got = BaselineProfile.from_spark(sdf, columns=list(data.columns), capacity=capacity)
    local = BaselineProfile.from_table(data, capacity=capacity)
    assert got.columns == local.columns == list(data.columns)
    for column in data.columns:
        assert got.kind(column) == local.kind(column), column
        assert got.rows(column) == local.rows(column) == SPARK_ROWS
        assert got.nulls(column) == local.nulls(column), column
        if got.kind(column) == "numeric":
            g, w = got.numeric_stats(column), local.numeric_stats(column)
            assert g["count"] == w["count"]
            assert math.isclose(g["mean"], w["mean"], rel_tol=1e-12, abs_tol=1e-12)
            assert math.isclose(g["std"], w["std"], rel_tol=1e-12)
            assert got.sample(column).quantiles([0.0, 1.0]) == local.sample(column).quantiles(
                [0.0, 1.0]
            )
            assert (got.rank_error(column) == 0) is (local.rank_error(column) == 0)
        else:
            gl, gc = got.category_counts(column)
            ll, lc = local.category_counts(column)
            assert dict(zip(gl, gc.tolist(), strict=True)) == dict(
                zip(ll, lc.tolist(), strict=True)
            ), column
    # reports: exact columns equal, sketched ones within the spark profile's own bounds
    for test in ("auto", "ks", "wasserstein", "psi", "jensenshannon", "chisquare"):
        a = drift_report(got, current, tests=test)
        b = drift_report(local, current, tests=test)
        raw = drift_report(data, current, tests=test)
        for column in data.columns:
            if got.kind(column) == "categorical" or got.rank_error(column) == 0:
                assert not _same(a[column], b[column]), (test, column)
                continue
            if not raw[column].ok:
                assert a[column].status == raw[column].status
                continue
            eps = got.rank_error(column)
            bound = {"ks": eps, "wasserstein": eps * _spread(data, column)}.get(
                a[column].test, BINNED_TOLERANCE * eps
            )
            assert abs(a[column].statistic - raw[column].statistic) <= bound + 1e-12, (test, column)
