"""``pmo-sim roi``: paired investment, benefit, ROI and payback, on real runs.

The scenarios are small enough to run a handful of replications in well under a second; the
bundled ``training.yaml`` is the realistic case.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from pmo_sim.analysis.roi import roi_summary, roi_table
from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment.roi import roi
from pmo_sim.scenario.loader import load_scenario, load_scenario_text

TRAINING = str(Path(__file__).parents[1] / "scenarios" / "training.yaml")
SPEC_KEYS = ["policy", "programme", "replications", "investment_mean", "benefit_mean",
             "roi_pct_mean", "roi_pct_ci_low", "roi_pct_ci_high", "bcr_mean", "bcr_ci_low",
             "bcr_ci_high", "p_positive", "payback_day_median"]

# One pool of three, a steady stream of single-task projects. `useless` sends two people on a
# paid course that changes nothing; `free_help` makes them faster at no cost.
COURSES_YAML = """\
name: courses
horizon: 200
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
  useless:
    training_manager:
      programmes:
        - {name: idle-course, skill: dev, trainees: 2, start: 20, duration_days: 15,
           cost_per_trainee: 3000, productivity_gain: 0, retention_gain: 0}
  free_help:
    training_manager:
      programmes:
        - {name: free-boost, skill: dev, trainees: 2, start: 20, duration_days: 0,
           cost_per_trainee: 0, productivity_gain: 0.5}
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def roi_json(*args: str) -> dict[str, object]:
    result = invoke("roi", *args, "--format", "json", "-j", "1")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


@pytest.fixture
def courses(tmp_path: Path) -> Path:
    path = tmp_path / "courses.yaml"
    path.write_text(COURSES_YAML)
    return path


def test_json_has_exactly_the_spec_keys_and_is_reproducible() -> None:
    args = (TRAINING, "--policy", "upskill", "--programme", "dev-course", "-n", "4", "--seed", "3")
    first = roi_json(*args)
    assert list(first) == SPEC_KEYS
    assert first["policy"] == "upskill" and first["programme"] == "dev-course"
    assert first["replications"] == 4
    assert first["investment_mean"] > 0  # type: ignore[operator]
    assert roi_json(*args) == first
    against = roi_json(TRAINING, "--policy", "new_tool", "--against", "no_training", "-n", "3")
    assert list(against) == [k if k != "programme" else "against" for k in SPEC_KEYS]
    assert against["investment_mean"] == pytest.approx(60000.0)  # the tool's cost


def test_a_course_that_only_takes_people_off_work_never_pays(courses: Path) -> None:
    sc = load_scenario(courses)
    doc, table = roi(sc, "useless", programme="idle-course", replications=6, jobs=1)
    assert (table["investment"] == 6000.0).all()
    assert (table["benefit"] <= 0).all()
    assert (table["roi_pct"] <= -100.0).all() and doc["roi_pct_ci_high"] < 0
    assert (table["bcr"] <= 0).all()
    assert doc["p_positive"] == 0.0
    assert np.isnan(doc["payback_day_median"])


def test_a_free_programme_has_nothing_to_return_on(courses: Path) -> None:
    result = invoke("roi", str(courses), "--policy", "free_help", "--programme", "free-boost",
                    "-n", "3", "-j", "1")
    assert result.exit_code == 2
    assert "the two policies spend the same: nothing to return on" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (("--policy", "upskill", "--against", "upskill"), "nothing to compare"),
    (("--policy", "upskill", "--programme", "nope"), "its programmes: dev-course"),
    (("--policy", "no_training", "--programme", "dev-course"), "its programmes: (none)"),
    (("--policy", "nope", "--against", "upskill"), "policies: no_training, upskill"),
    (("--policy", "upskill"), "exactly one of --programme"),
    (("--policy", "no_training", "--against", "new_tool"), "swap the two"),
])
def test_refusals_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = invoke("roi", TRAINING, *args, "-n", "2", "-j", "1")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_removing_a_programme_drops_the_gap_driven_rule_that_runs_it() -> None:
    text = COURSES_YAML.replace("cost_per_trainee: 3000, productivity_gain: 0, retention_gain: 0}",
                                "cost_per_trainee: 3000}\n      gap_driven: {threshold_days: 5, "
                                "programme: idle-course}")
    from pmo_sim.experiment.roi import without_programme

    derived, name = without_programme(load_scenario_text(text), "useless", "idle-course")
    tm = derived.policies[name].training_manager
    assert name == "useless without idle-course"
    assert tm is not None and tm.programmes == [] and tm.gap_driven is None


def _tables(value_a: float, finish_a: float, spend_a: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    kpis = {"training_cost": 0.0, "technology_cost": 0.0, "pmo_cost": 0.0, "labour_cost": 50.0}
    reps = pd.DataFrame([
        {"policy": "a", "replication": 0, **kpis, "training_cost": spend_a, "value_delivered": value_a},
        {"policy": "b", "replication": 0, **kpis, "value_delivered": 0.0},
    ])
    projects = pd.DataFrame([{"policy": "a", "replication": 0, "status": "completed",
                              "finish": finish_a, "value_delivered": value_a, "counted": True}])
    return reps, projects


def test_roi_table_by_hand() -> None:
    # Project worth 100 finishing on day 0 of a 100-day horizon: 1 per day. 30 invested on day 10.
    reps, projects = _tables(value_a=100.0, finish_a=0.0, spend_a=30.0)
    table = roi_table(reps, projects, "a", "b", horizon=100.0, invest_day=10.0)
    row = table.iloc[0]
    assert (row["investment"], row["benefit"]) == (30.0, 100.0)
    assert row["roi_pct"] == pytest.approx(100 * 70 / 30) and row["bcr"] == pytest.approx(100 / 30)
    assert row["payback_day"] == 30.0  # value 1/day from day 0: 30 covered on day 30
    doc = roi_summary(table, "a", against="b")
    assert doc["p_positive"] == 1.0 and doc["payback_day_median"] == 30.0
    # Worth less than the spend: never pays back.
    reps, projects = _tables(value_a=20.0, finish_a=50.0, spend_a=30.0)
    table = roi_table(reps, projects, "a", "b", horizon=100.0)
    assert np.isnan(table["payback_day"].iloc[0])
    with pytest.raises(UsageError, match="spend the same"):
        roi_summary(roi_table(*_tables(10.0, 0.0, 0.0), "a", "b", horizon=100.0), "a", against="b")
