"""Do the probabilities mean what they say? Calibration of ``forecast`` and coverage of the
precision-driven run's and ``roi``'s intervals, by repeating small experiments with other
root seeds against a truth from a long run with a seed of its own.

The companion of tests/test_coverage_intervals.py (summary, compare, Kim-Nelson), with the
same verdicts: E experiments give a binomial sd √(p(1 − p)/E) around the level p an interval
or probability claims, and a test fails beyond Z = 3 of them. Seeds are fixed, so each test is
deterministic; PMO_SIM_FULL=1 runs more experiments and longer truths. Measured levels are
printed (pytest -s).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from coverage_models import queue, true_npv
from strategies import FULL

import pmo_sim
from pmo_sim.analysis.forecast import forecast
from pmo_sim.analysis.roi import analyse_roi
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.experiment.roi import build_question
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario_text
from pmo_sim.scenario.models import Scenario

Z = 3.0


def tables(sc: Scenario, seed: int, replications: int, policies: list[str] | None = None,
           sampler: Sampler | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Results.replications and Results.projects of replications 0..n-1 of root ``seed``."""
    sampler = sampler or Sampler(sc)
    reps: list[dict[str, object]] = []
    projects: dict[str, list[object]] = {}
    for r in range(replications):
        for rec in run_replication(sc, r, seed, policies, sampler=sampler):
            reps.append({"policy": rec.policy, "replication": r, **rec.kpis})
            rows = len(next(iter(rec.projects.values())))
            for key, values in (("policy", [rec.policy] * rows), ("replication", [r] * rows),
                                *rec.projects.items()):
                projects.setdefault(key, []).extend(values)
    return pd.DataFrame(reps), pd.DataFrame(projects)


def report(what: str, value: float, count: int) -> None:
    print(f"\n{what}: {value:.3f} ± {math.sqrt(value * (1 - value) / count):.3f} (of {count})")


def within(what: str, value: float, level: float, count: int) -> None:
    sd = math.sqrt(level * (1 - level) / count)
    report(what, value, count)
    assert abs(value - level) <= Z * sd, f"{what}: {value:.3f}, expected {level:.3f} ± {Z * sd:.3f}"


# --------------------------------------------------------------------------- forecast

# Six explicit projects share two people; their due dates make on-time chances from low to
# high, so that calibration is checked across the scale.
FORECAST_YAML = """\
name: forecast-calibration
horizon: 150
resources:
  dev: {headcount: 2}
projects:
""" + "".join(
    f"""  - name: p{i}
    arrival: {arrival}
    due: {due}
    tasks:
      - {{name: build, skill: dev, effort: {{dist: triangular, low: 4, mode: 8, high: 20}}}}
      - {{name: test, skill: dev, effort: {{dist: exponential, mean: 4}}, after: [build]}}
"""
    for i, (arrival, due) in enumerate([(0, 11), (0, 20), (3, 19), (6, 30), (9, 35), (12, 45)]))

FORECAST_EXPERIMENTS = 500 if FULL else 100
FORECAST_REPLICATIONS = 20  # per forecast: P80 is then the 16th of 20 finish days
TRUTH_REPLICATIONS = 20_000 if FULL else 1_000


@pytest.fixture(scope="module")
def forecast_runs() -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    sc = load_scenario_text(FORECAST_YAML)
    sampler = Sampler(sc)
    _, truth = tables(sc, 4242, TRUTH_REPLICATIONS, sampler=sampler)
    forecasts = [forecast(tables(sc, 30_000 + e, FORECAST_REPLICATIONS, sampler=sampler)[1],
                          horizon=float(sc.horizon)) for e in range(FORECAST_EXPERIMENTS)]
    return truth, forecasts


def on_time(projects: pd.DataFrame) -> pd.Series:
    """Per project, the share of futures where it completed by its due day (computed here
    from the raw table, not by forecast)."""
    done = (projects["status"] == "completed") & (projects["finish"] <= projects["due_date"])
    return done.groupby(projects["project"]).mean()


def test_p_on_time_is_calibrated(forecast_runs: tuple[pd.DataFrame, list[pd.DataFrame]]) -> None:
    """Among the forecasts that gave a project P(on time) ≈ p, about a share p of fresh futures
    (another seed, many replications) land on time: per project (forecast's mean against the
    truth), and pooled by bins of the forecast probability (a reliability table, printed)."""
    truth, forecasts = forecast_runs
    p_true = on_time(truth)
    assert p_true.min() < 0.4 and p_true.max() > 0.85  # chances across the scale
    rows = pd.concat(forecasts, ignore_index=True)
    rows = rows[rows["kind"] == "project"]
    rows = rows.assign(truth=rows["name"].map(p_true))
    e = len(forecasts)
    for name, g in rows.groupby("name"):
        p = float(p_true[name])
        # each forecast is a share of 20 Bernoulli(p) futures; their mean over e forecasts
        sd = math.sqrt(p * (1 - p) / (FORECAST_REPLICATIONS * e) + p * (1 - p) / TRUTH_REPLICATIONS)
        print(f"\n{name}: forecast P(on time) {g['p_on_time'].mean():.3f}, fresh futures {p:.3f}")
        assert abs(g["p_on_time"].mean() - p) <= Z * sd, name
    bins = pd.cut(rows["p_on_time"], [0, 0.2, 0.4, 0.6, 0.7, 0.9, 1.0], include_lowest=True)
    print("\nreliability: forecast bin, mean forecast, on-time share of fresh futures, forecasts")
    for b, g in rows.groupby(bins, observed=True):
        print(f"  {b}: {g['p_on_time'].mean():.3f} {g['truth'].mean():.3f} {len(g)}")
    near = rows[(rows["p_on_time"] >= 0.7) & (rows["p_on_time"] <= 0.9)]
    # The bin selects forecasts by their own noise (sd ~0.09 at 20 futures), so the truth
    # regresses towards the projects' average: allow that besides the sampling error.
    assert abs(near["truth"].mean() - near["p_on_time"].mean()) <= 0.05, (
        near["truth"].mean(), near["p_on_time"].mean())


def test_finish_percentiles_hold_their_share_of_fresh_futures(
        forecast_runs: tuple[pd.DataFrame, list[pd.DataFrame]]) -> None:
    """A fresh future finishes by a forecast's Pq with probability ⌈q n⌉/(n + 1) on average
    (Pq is the ⌈q n⌉-th of n finish days): 0.762 for P80 of 20 replications, 0.792 of 100.
    P10, P50, P80 and P90 are read as such: checked on average over projects and forecasts."""
    truth, forecasts = forecast_runs
    finish = {str(k): np.sort(np.where(g["status"] == "completed", g["finish"], np.inf))
              for k, g in truth.groupby("project")}
    rows = pd.concat(forecasts, ignore_index=True)
    rows = rows[rows["kind"] == "project"]
    n = FORECAST_REPLICATIONS
    for q in (10, 50, 80, 90):
        held = [np.searchsorted(finish[str(name)], day, side="right") / len(finish[str(name)])
                for name, day in zip(rows["name"], rows[f"p{q}"], strict=True)]
        expected = math.ceil(q * n / 100) / (n + 1)
        # one forecast's share is Beta(k, n + 1 - k): variance p (1 - p) / (n + 2), about the
        # binomial one of n futures; the projects of one experiment share its futures, so
        # count experiments (the correlated worst case), not rows
        within(f"share of fresh futures finishing by P{q}", float(np.mean(held)), expected,
               len(forecasts) * n)


# --------------------------------------------------------------------------- roi

ROI_YAML = """\
name: roi-coverage
horizon: 60
resources:
  dev: {headcount: 3, day_rate: 400}
intake:
  arrivals: {dist: exponential, mean: 4}
  templates:
    - name: job
      value_per_day: {dist: uniform, low: 100, high: 300}
      tasks:
        - {name: work, skill: dev, effort: {dist: triangular, low: 5, mode: 10, high: 20}}
policies:
  upskill:
    training_manager:
      programmes:
        - {name: course, skill: dev, trainees: 2, start: 5, duration_days: 3,
           cost_per_trainee: 3000, productivity_gain: 0.3}
"""
ROI_EXPERIMENTS = 1000 if FULL else 100
ROI_REPLICATIONS = 10


def test_roi_interval_covers_the_expected_roi() -> None:
    """roi's 95% interval of the ROI (the mean over replications of each one's ROI) covers
    E[ROI] — from a long run with another seed — in about 95% of experiments."""
    q, sc = build_question(load_scenario_text(ROI_YAML), "upskill", programme="course")
    sampler = Sampler(sc)
    pair = [q.policy, q.baseline]
    long = analyse_roi(*tables(sc, 777, TRUTH_REPLICATIONS // 2, pair, sampler), q)
    truth = float(long.table["roi_pct"].mean())
    hits = 0
    for e in range(ROI_EXPERIMENTS):
        doc = analyse_roi(*tables(sc, 40_000 + e, ROI_REPLICATIONS, pair, sampler), q).document
        hits += doc["roi_pct_ci_low"] <= truth <= doc["roi_pct_ci_high"]
    print(f"\nE[ROI] ~ {truth:.1f}% (sd of one replication's {long.table['roi_pct'].std():.1f})")
    within("coverage of roi's 95% interval", hits / ROI_EXPERIMENTS, 0.95, ROI_EXPERIMENTS)



# --------------------------------------------------------------------------- precision

PRECISION_EXPERIMENTS = 1000 if FULL else 200
REL = 0.15  # npv sd / mean is about 0.19: about 7 replications would do, 12 at -n 2


def precision_scenario() -> Scenario:
    """An M/M/1 started empty whose projects earn 1 a day from their finish: E[npv] is exact
    (tests/coverage_models.py: V (LAM H²/2 − H E[avg_in_system])) and one
    replication's npv is nearly normal, so a t interval of a fixed n covers 95%."""
    return queue().model_copy(update={"policies": {"fifo": queue().policies["fifo"]}})


@pytest.mark.parametrize("first", [2, 10])
def test_a_precision_run_s_interval_covers_the_true_mean(first: int) -> None:
    """A precision-driven run (``-n FIRST --precision 0.15 --metric npv``) stops when its own
    interval looks narrow enough; stopping on a half-width estimated from few values favours
    the runs whose values happen to agree, whose intervals are too narrow. Its final 95%
    interval must still cover E[npv] in about 95% of runs. The target is judged from 10
    replications on: from 2 (``-n 2``), judging at 2 stopped 4% of runs there with
    intervals that mostly missed, and covered 0.897 ± 0.015 (400 runs)."""
    sc, truth = precision_scenario(), true_npv("fifo")
    hits, sizes = 0, []
    for e in range(PRECISION_EXPERIMENTS):
        res = pmo_sim.run_experiment(sc, replications=first, seed=60_000 + e, jobs=1,
                                     precision=REL, metric="npv")
        row = res.summary(["npv"]).iloc[0]
        hits += bool(row["ci_low"] <= truth <= row["ci_high"])
        sizes.append(int(row["n"]))
    print(f"\n-n {first}: replications used {np.mean(sizes):.1f} on average, {min(sizes)} at least")
    within(f"coverage of a precision run's 95% interval (-n {first})", hits / PRECISION_EXPERIMENTS,
           0.95, PRECISION_EXPERIMENTS)


def test_a_precision_target_is_judged_from_ten_replications_on() -> None:
    """A KPI that is the same in every replication has a half-width of 0 from two replications
    on: -n 2 met its target at 2 (before). Judged from 10 on, it stops at the first batch past
    them, 12; capped below 10 (--max-replications 5), at the cap, met."""
    sc = queue()
    runs = {cap: pmo_sim.run_experiment(sc, replications=2, seed=1, jobs=1, precision=0.01,
                                        metric="pmo_cost",
                                        policies=["priority"], max_replications=cap)
            for cap in (20, 5)}
    assert runs[20].replications["replication"].nunique() == 12
    assert runs[5].replications["replication"].nunique() == 5
    for res in runs.values():
        assert res.manifest["precision"]["target_met"] is True
