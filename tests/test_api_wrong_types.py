"""The Python API refuses arguments of the wrong type before anything runs, with a TypeError
naming the argument (or a UsageError for a negative seed or replication). Before: a path given
for the scenario failed deep inside ("'str' object has no attribute 'policy_names'"),
``replications=2.5`` and ``replications=True`` ran, ``seed=1.5`` failed in every replication
(ReplicationFailed), ``policies="base"`` was read as policies b, a, s, e, and ``simulate``
took ``replication="1"``.

Round 3: a study's (sweep, sensitivity, frontier, roi) options checked as run_experiment's are;
the table functions (summary, compare, select_best, verdict) given a Results, and the Results
functions (forecast, risk_drivers, render_report) given a path, say what to pass instead of an
AttributeError from deep inside; a report's ``metrics="npv"`` is one metric, not n, p, v; text
for select_best's delta and for forecast's ``by`` is a TypeError naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pmo_sim as ps

QUEUE = Path(__file__).parent.parent / "scenarios" / "queue_mmc.yaml"


@pytest.fixture(scope="module")
def sc() -> Any:
    return ps.load_scenario(QUEUE)


@pytest.mark.parametrize(("options", "says"), [
    ({"replications": 2.5}, "replications must be an integer, not float (2.5)"),
    ({"replications": True}, "replications must be an integer, not bool (True)"),
    ({"replications": "2"}, "replications must be an integer, not str ('2')"),
    ({"seed": 1.5}, "seed must be an integer, not float (1.5)"),
    ({"jobs": "2"}, "jobs must be an integer, not str ('2')"),
    ({"chunk_size": 0.5}, "chunk_size must be an integer, not float (0.5)"),
    ({"policies": "fifo"}, "policies must be a list of policy names, not a str ('fifo')"),
])
def test_run_experiment_refuses_wrong_types(sc: Any, options: dict[str, Any], says: str) -> None:
    with pytest.raises(TypeError, match=says.replace("(", r"\(").replace(")", r"\)")):
        ps.run_experiment(sc, **{"replications": 1, "jobs": 1, **options})


def test_run_experiment_refuses_a_path_for_the_scenario() -> None:
    with pytest.raises(TypeError, match=r"scenario must be a Scenario \(load it first"):
        ps.run_experiment(str(QUEUE), replications=1, jobs=1)


def test_numpy_integers_are_integers(sc: Any) -> None:
    res = ps.run_experiment(sc, replications=np.int64(1), seed=np.int64(0), jobs=1)
    assert len(res.replications) == 2


@pytest.mark.parametrize(("options", "error", "says"), [
    ({"replication": "1"}, TypeError, "replication must be an integer, not str"),
    ({"replication": 1.5}, TypeError, "replication must be an integer, not float"),
    ({"seed": "1"}, TypeError, "seed must be an integer, not str"),
    ({"policy": 1}, TypeError, "policy must be a policy's name, not int"),
    ({"replication": -1}, ps.UsageError, "must be non-negative integers"),
])
def test_simulate_refuses_wrong_types(sc: Any, options: dict[str, Any], error: type,
                                      says: str) -> None:
    with pytest.raises(error, match=says):
        ps.simulate(sc, **options)
    with pytest.raises(TypeError, match="scenario must be a Scenario, not dict"):
        ps.simulate({"name": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(("max_events", "error", "says"), [
    ("5", TypeError, "max_events must be a number or None, not str"),
    (float("nan"), ps.UsageError, r"max_events must be a finite number of at least 1, or None .*\(got nan\)"),
    (-1, ps.UsageError, r"\(got -1\)"),
])
def test_load_scenario_refuses_a_bad_budget(max_events: Any, error: type, says: str) -> None:
    # before: NaN disabled the check silently, -1 refused every scenario "above the budget of -1"
    with pytest.raises(error, match=says):
        ps.load_scenario(QUEUE, max_events=max_events)


def test_a_study_refuses_text_for_its_values(sc: Any) -> None:
    # before: list("8") and ("1", ":") were varied: "horizon: must be greater than 0 (got 0)"
    with pytest.raises(TypeError, match=r"the values of 'horizon' must be a list, not str \('100'\)"):
        ps.sweep(sc, {"horizon": "100"}, replications=1, jobs=1)
    with pytest.raises(TypeError, match=r"the range of 'horizon' must be a pair \(low, high\), not str"):
        ps.sensitivity(sc, {"horizon": "1:2"}, metric="npv", replications=1, jobs=1)


# --------------------------------------------------------------------------- round 3


@pytest.fixture(scope="module")
def res(sc: Any) -> Any:
    return ps.run_experiment(sc, replications=3, seed=0, jobs=1)


@pytest.mark.parametrize(("options", "says"), [
    # before: "'<=' not supported between instances of 'int' and 'str'" from batch.check_options
    ({"replications": "2"}, r"replications must be an integer, not str \('2'\)"),
    ({"seed": 1.5}, r"seed must be an integer, not float \(1.5\)"),
    # before: run as the policies b, a, s, e
    ({"policies": "base"}, r"policies must be a list of policy names, not a str"),
])
def test_a_study_refuses_wrong_types_of_its_options(sc: Any, options: dict[str, Any], says: str) -> None:
    options = {"replications": 1, "jobs": 1, **options}
    with pytest.raises(TypeError, match=says):
        ps.sweep(sc, {"horizon": [1000, 1200]}, **options)


@pytest.mark.parametrize("function", ["summary", "compare", "select_best", "verdict"])
def test_the_table_functions_given_results_say_which_table(res: Any, function: str) -> None:
    # before: AttributeError: 'Results' object has no attribute 'columns'
    args = (res, "fifo") if function == "compare" else (res, "npv") if function == "select_best" else (res,)
    with pytest.raises(TypeError, match=r"replications must be a pandas DataFrame, one row per "
                                        r"\(policy, replication\), not Results: pass "
                                        r"results.replications"):
        getattr(ps, function)(*args)


@pytest.mark.parametrize("function", ["forecast", "risk_drivers", "render_report"])
def test_the_results_functions_given_a_path_say_to_load_it(function: str) -> None:
    # before: AttributeError: 'str' object has no attribute 'scenario' (or 'manifest')
    with pytest.raises(TypeError, match=r"results must be a Results \(open the folder first: "
                                        r"pmo_sim.load_results\(path\)\), not str"):
        getattr(ps, function)("results/x")


def test_a_report_of_one_metric_named_as_text_is_that_metric(res: Any) -> None:
    # before: "unknown metrics 'n', 'p', 'v'"
    assert "<h2>NPV: the range of outcomes" in ps.render_report(res, metrics="npv")


@pytest.mark.parametrize(("call", "says"), [
    # before: "'<=' not supported between instances of 'float' and 'str'"
    (lambda r: r.select_best(delta="x"), r"delta must be a number, not str \('x'\)"),
    # before: True was read as day 1; [1] failed in float()
    (lambda r: r.forecast(by=True), r"by must be a day number, a date or its text .*, not bool"),
    (lambda r: r.forecast(by=[1]), r"by must be a day number, a date or its text .*, not list"),
])
def test_numbers_of_the_analyses_are_numbers(res: Any, call: Any, says: str) -> None:
    with pytest.raises(TypeError, match=says):
        call(res)


def test_a_forecast_of_one_name_given_as_text_is_that_name(res: Any) -> None:
    # before: "unknown template 'a'" (the letters of the name, one by one)
    rows = res.forecast(templates="job")
    assert set(rows["name"]) == {"job"} and set(rows["kind"]) == {"template"}
