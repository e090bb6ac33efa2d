"""Per-policy summaries, half-widths and the KPI registry, against hand-computed answers and scipy."""

from __future__ import annotations

import math
import typing

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pmo_sim.analysis import (
    HEADLINE_METRICS,
    METRICS,
    half_width,
    metric_info,
    paired_half_width,
    precision_reached,
    relative_half_width,
    relative_half_widths,
    sense,
    summary,
)
from pmo_sim.errors import UsageError
from pmo_sim.schema import KPI_COLUMNS, Unit

COLUMNS = ["policy", "metric", "mean", "sd", "ci_low", "ci_high", "p10", "p50", "p90", "n"]


@pytest.fixture
def small() -> pd.DataFrame:
    # "focused" appears first on purpose: policies keep their first-appearance order.
    return pd.DataFrame({
        "policy": ["focused", "base", "focused", "base", "focused", "base", "focused", "base"],
        "replication": [0, 0, 1, 1, 2, 2, 3, 3],
        "seed": [7] * 8,
        "npv": [1.0, 10.0, 2.0, np.nan, 3.0, 14.0, 4.0, np.nan],
        "mean_cycle_time": [5.0, np.nan, np.nan, np.nan, np.nan, 3.0, np.nan, np.nan],
        "on_time_rate": [0.5] * 8,
    })


def row(df: pd.DataFrame, policy: str, metric: str) -> pd.Series:
    sel = df[(df.policy == policy) & (df.metric == metric)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_summary_hand_computed(small: pd.DataFrame) -> None:
    s = summary(small)
    assert list(s.columns) == COLUMNS
    # policies in first-appearance order, metrics in KPI order (not column order)
    assert list(s.policy.unique()) == ["focused", "base"]
    assert list(s.metric.unique()) == ["on_time_rate", "mean_cycle_time", "npv"]
    assert len(s) == 6

    r = row(s, "focused", "npv")  # 1, 2, 3, 4
    assert r["n"] == 4
    assert r["mean"] == pytest.approx(2.5)
    assert r["sd"] == pytest.approx(math.sqrt(5 / 3))
    lo, hi = sps.t.interval(0.95, 3, loc=2.5, scale=math.sqrt(5 / 3) / 2)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.4457, 4.5543), abs=1e-4)  # t(.975,3)=3.1824
    assert (r["p10"], r["p50"], r["p90"]) == pytest.approx((1.3, 2.5, 3.7))

    r = row(s, "base", "npv")  # 10, NaN, 14, NaN: NaNs dropped
    assert r["n"] == 2
    assert r["mean"] == pytest.approx(12.0)
    assert r["sd"] == pytest.approx(math.sqrt(8))
    lo, hi = sps.t.interval(0.95, 1, loc=12, scale=2.0)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))

    r = row(s, "base", "on_time_rate")  # constant: zero-width interval
    assert (r["sd"], r["ci_low"], r["ci_high"]) == pytest.approx((0.0, 0.5, 0.5))


def test_summary_single_value_and_empty(small: pd.DataFrame) -> None:
    s = summary(small, metrics=["mean_cycle_time"])
    r = row(s, "focused", "mean_cycle_time")
    assert r["n"] == 1 and r["mean"] == 5.0
    assert np.isnan(r["sd"]) and np.isnan(r["ci_low"]) and np.isnan(r["ci_high"])
    assert (r["p10"], r["p50"], r["p90"]) == (5.0, 5.0, 5.0)

    only = small[small.replication == 1]  # base has npv NaN there
    r = row(summary(only, ["npv"]), "base", "npv")
    assert r["n"] == 0 and np.isnan(r["mean"]) and np.isnan(r["p50"])


def test_summary_metric_selection_and_confidence(small: pd.DataFrame) -> None:
    s = summary(small, metrics=["npv", "on_time_rate"], confidence=0.9)
    assert list(s.metric) == ["npv", "on_time_rate"] * 2  # explicit order is kept
    r = row(s, "focused", "npv")
    lo, hi = sps.t.interval(0.9, 3, loc=2.5, scale=math.sqrt(5 / 3) / 2)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))
    assert s.n.dtype == np.int64
    listed = "unknown metric 'nvp'.*available: on_time_rate, mean_cycle_time, npv"
    with pytest.raises(UsageError, match=listed):
        summary(small, ["nvp"])
    with pytest.raises(UsageError, match="confidence"):
        summary(small, confidence=95)


def test_summary_matches_pandas_on_random_data() -> None:
    rng = np.random.default_rng(3)
    n = 57
    df = pd.DataFrame({
        "policy": np.repeat(["a", "b", "c"], n),
        "replication": np.tile(np.arange(n), 3),
        "npv": rng.normal(100, 20, 3 * n),
        "projects_completed": rng.poisson(12, 3 * n),
    })
    df.loc[rng.choice(3 * n, 20, replace=False), "npv"] = np.nan
    s = summary(df, ["npv", "projects_completed"])
    for (p, m), r in s.set_index(["policy", "metric"]).iterrows():
        x = df.loc[df.policy == p, m].dropna().to_numpy(float)
        assert r["n"] == x.size
        assert r["mean"] == pytest.approx(x.mean())
        assert r["sd"] == pytest.approx(x.std(ddof=1))
        lo, hi = sps.t.interval(0.95, x.size - 1, loc=x.mean(), scale=sps.sem(x))
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))
        assert r["p90"] == pytest.approx(np.quantile(x, 0.9))


def test_half_widths() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    lo, hi = sps.t.interval(0.95, 3, loc=2.5, scale=sps.sem(x[:4]))
    assert half_width(x) == pytest.approx((hi - lo) / 2)
    assert relative_half_width(x) == pytest.approx((hi - lo) / 2 / 2.5)
    assert np.isnan(half_width([3.0])) and np.isnan(relative_half_width([np.nan, 1.0]))
    assert relative_half_width([2.0, 2.0, 2.0]) == 0.0
    assert relative_half_width([-1.0, 1.0]) == math.inf
    y = np.array([0.5, 2.5, 2.0, 3.0, 7.0])
    assert paired_half_width(x, y) == pytest.approx(half_width((x - y)[:4]))
    with pytest.raises(ValueError):
        paired_half_width([1.0, 2.0], [1.0])


def test_precision_reached() -> None:
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"policy": np.repeat(["a", "b"], n), "replication": np.tile(np.arange(n), 2),
                       "npv": np.r_[rng.normal(100, 10, n), rng.normal(50, 10, n)]})
    rel = relative_half_widths(df, "npv")
    assert list(rel.index) == ["a", "b"]
    # expected relative half-widths ≈ 1.966 · 10/√400 / mean ≈ 0.0098 and 0.0197
    assert rel["a"] == pytest.approx(0.0098, rel=0.15) and rel["b"] == pytest.approx(0.0197, rel=0.15)
    assert precision_reached(df, "npv", 0.025)
    assert not precision_reached(df, "npv", 0.015)  # 'b' is not precise enough yet
    assert not precision_reached(df.iloc[[0, n]], "npv", 0.5)  # one value each: unknown
    with pytest.raises(UsageError):
        precision_reached(df, "npv", 0.0)


def test_metric_registry() -> None:
    assert tuple(METRICS) == KPI_COLUMNS
    assert set(HEADLINE_METRICS) <= set(KPI_COLUMNS)
    for m in ("npv", "value_delivered", "projects_completed", "throughput_per_year", "on_time_rate"):
        assert sense(m) == "higher"
    for m in ("mean_cycle_time", "mean_wait", "mean_delay", "labour_cost", "training_cost",
              "technology_cost", "pmo_cost", "total_cost", "rework_effort", "projects_cancelled"):
        assert sense(m) == "lower"
    for m in ("avg_wip", "utilisation", "events", "changes", "leavers", "hires"):
        assert sense(m) == "neutral"
    # Every KPI has a unit of the schema's vocabulary (durations in days, effort in person-days).
    assert {i.unit for i in METRICS.values()} <= set(typing.get_args(Unit)) - {""}
    assert metric_info("mean_cycle_time").unit == "days"
    assert metric_info("rework_effort").unit == "person-days"
    assert metric_info("npv").unit == "money" and metric_info("on_time_rate").unit == "rate"
    assert metric_info("my_column").sense == "neutral"
