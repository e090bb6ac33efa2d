"""ROI: one computation (``analyse_roi``) behind ``pmo-sim roi``, ``pmo_sim.roi`` and the report.

Real runs of small scenarios (a handful of replications in well under a second) and of the
bundled ``training.yaml``; the arithmetic by hand on two-row tables.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import pmo_sim
from pmo_sim.analysis.roi import RoiQuestion, analyse_roi, roi_table
from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment.roi import roi, without_programme
from pmo_sim.scenario.loader import load_scenario, load_scenario_text

TRAINING = str(Path(__file__).parents[1] / "scenarios" / "training.yaml")
SPEC_KEYS = ["policy", "programme", "replications", "investment_mean", "benefit_mean",
             "roi_pct_mean", "roi_pct_ci_low", "roi_pct_ci_high", "bcr_mean", "bcr_ci_low",
             "bcr_ci_high", "p_positive", "payback_day_median"]

# One pool of three, a steady stream of single-task projects. `useless` sends two people on a
# paid course that changes nothing; `paper` pays for a course that takes no time and changes
# nothing (a zero-gain programme); `free_help` makes them faster at no cost.
COURSES_YAML = """\
name: courses
horizon: 200
discount_rate: 0.1
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
  paper:
    training_manager:
      programmes:
        - {name: paper-course, skill: dev, trainees: 2, start: 20, duration_days: 0,
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


def test_json_starts_with_the_spec_keys_and_is_reproducible() -> None:
    args = (TRAINING, "--policy", "upskill", "--programme", "dev-course", "-n", "4", "--seed", "3")
    first = roi_json(*args)
    assert list(first)[:len(SPEC_KEYS)] == SPEC_KEYS
    assert first["policy"] == "upskill" and first["programme"] == "dev-course"
    assert first["replications"] == 4 and first["basis"] == "cash" and first["currency"] == "EUR"
    assert first["investment_mean"] > 0  # type: ignore[operator]
    assert roi_json(*args) == first
    against = roi_json(TRAINING, "--policy", "new_tool", "--against", "no_training", "-n", "3")
    assert list(against)[:len(SPEC_KEYS)] == [k if k != "programme" else "against" for k in SPEC_KEYS]
    assert against["investment_mean"] == pytest.approx(60000.0)  # the tool's cost


@pytest.mark.parametrize("basis", ["cash", "npv"])
def test_cli_and_api_agree_to_the_cent(basis: str, tmp_path: Path) -> None:
    cli = roi_json(TRAINING, "--policy", "upskill", "--programme", "dev-course", "-n", "5",
                   "--seed", "2", "--basis", basis)
    api = pmo_sim.roi(TRAINING, "upskill", programme="dev-course", replications=5, seed=2,
                      basis=basis, jobs=1)
    document = api.to_json()
    for key, value in cli.items():
        if isinstance(value, float):
            assert round(value, 2) == round(document[key], 2), key
        else:
            assert value == document[key], key


def test_out_writes_the_paired_runs_and_the_roi_files(tmp_path: Path) -> None:
    out = tmp_path / "course"
    result = invoke("roi", TRAINING, "--policy", "upskill", "--programme", "dev-course", "-n", "4",
                    "-j", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "pmo-sim report" in result.output
    res = pmo_sim.load_results(out)
    assert res.policies == ["upskill", "upskill without dev-course"] and res.complete
    saved = json.loads((out / "roi.json").read_text())
    assert saved["question"]["programme"] == "dev-course" and saved["question"]["basis"] == "cash"
    table = pd.read_csv(out / "roi.csv")
    again = analyse_roi(res.replications, res.projects, RoiQuestion.from_dict(saved["question"]),
                        res.pools)
    pd.testing.assert_frame_equal(table, again.table, check_dtype=False)
    assert saved["roi_pct_mean"] == pytest.approx(again.document["roi_pct_mean"], abs=1e-9)
    assert (out / "roi.png").stat().st_size > 10_000
    refused = invoke("roi", TRAINING, "--policy", "upskill", "--programme", "dev-course", "-n", "4",
                     "-j", "1", "--out", str(out))
    assert refused.exit_code == 2 and "--force" in refused.output


@pytest.mark.parametrize("basis", ["cash", "npv"])
def test_a_zero_gain_programme_has_a_negative_roi_with_its_whole_interval_below_zero(
        courses: Path, basis: str) -> None:
    doc = roi_json(str(courses), "--policy", "paper", "--programme", "paper-course", "-n", "6",
                   "--basis", basis)
    assert doc["roi_pct_mean"] == pytest.approx(-100.0)
    assert doc["roi_pct_ci_high"] < 0  # type: ignore[operator]
    assert doc["p_positive"] == 0.0 and doc["payback_day_median"] is None
    assert "loses money" in str(doc["verdict"])


def test_a_course_that_only_takes_people_off_work_never_pays(courses: Path) -> None:
    result = roi(load_scenario(courses), "useless", programme="idle-course", replications=6, jobs=1)
    table, doc = result.table, result.document
    assert (table["investment"] == 6000.0).all()
    assert (table["benefit"] <= 0).all()
    assert (table["roi_pct"] <= -100.0).all() and doc["roi_pct_ci_high"] < 0
    assert (table["bcr"] <= 0).all()
    assert doc["p_positive"] == 0.0
    assert np.isnan(doc["payback_day_median"])
    # Two trainees for 15 days: 30 person-days of capacity lost, paid at 400 a day.
    assert table["capacity_lost_days"].to_numpy() == pytest.approx(30.0)
    assert table["capacity_lost"].to_numpy() == pytest.approx(12000.0)


def test_breakdown_adds_up_and_npv_basis_nets_to_the_npv_difference(courses: Path) -> None:
    sc = load_scenario(courses)
    npv = roi(sc, "useless", programme="idle-course", replications=5, jobs=1, basis="npv")
    t = npv.table
    assert (t["value_gained"] + t["labour_difference"]).to_numpy() == pytest.approx(t["benefit"])
    assert (t["training_fees"] + t["other_costs"]).to_numpy() == pytest.approx(t["investment"])
    reps = npv.results.replications.pivot(index="replication", columns="policy", values="npv")
    assert t["net_gain"].to_numpy() == pytest.approx(
        (reps["useless"] - reps["useless without idle-course"]).to_numpy(), rel=1e-12)
    # The fees are paid on day 20, discounted at 10% a year over 250 days a year.
    factor = math.exp(-math.log(1.1) / 250 * 20)
    assert t["investment"].to_numpy() == pytest.approx(6000.0 * factor)
    assert t["roi_pct"].to_numpy() == pytest.approx(100 * t["net_gain"] / t["investment"])
    rows = npv.breakdown.set_index("component")
    assert rows.loc["roi_pct", "mean"] == pytest.approx(npv.document["roi_pct_mean"])


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
    (("--policy", "no_training"), "has no training programme: give --programme NAME or --against"),
    (("--policy", "upskill", "--programme", "dev-course", "--against", "no_training"),
     "exactly one of --programme"),
    (("--policy", "no_training", "--against", "new_tool"), "swap the two"),
    (("--policy", "upskill", "--against", "no_training", "--basis", "irr"), "'irr' is not one of"),
])
def test_refusals_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = invoke("roi", TRAINING, *args, "-n", "2", "-j", "1")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_removing_a_programme_drops_the_gap_driven_rule_that_runs_it() -> None:
    text = COURSES_YAML.replace("cost_per_trainee: 3000, productivity_gain: 0, retention_gain: 0}",
                                "cost_per_trainee: 3000}\n      gap_driven: {threshold_days: 5, "
                                "programme: idle-course}", 1)
    derived, name = without_programme(load_scenario_text(text), "useless", "idle-course")
    tm = derived.policies[name].training_manager
    assert name == "useless without idle-course"
    assert tm is not None and tm.programmes == [] and tm.gap_driven is None


# --------------------------------------------------------------------------- by hand


def _tables(value_a: float, finish_a: float, spend_a: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    kpis = {"training_cost": 0.0, "technology_cost": 0.0, "pmo_cost": 0.0, "labour_cost": 50.0,
            "npv": 0.0}
    reps = pd.DataFrame([
        {"policy": "a", "replication": 0, **kpis, "training_cost": spend_a, "value_delivered": value_a},
        {"policy": "b", "replication": 0, **kpis, "value_delivered": 0.0},
    ])
    projects = pd.DataFrame([{"policy": "a", "replication": 0, "status": "completed",
                              "finish": finish_a, "value_delivered": value_a, "counted": True}])
    return reps, projects


def _question(invest_day: float = 0.0) -> RoiQuestion:
    return RoiQuestion(policy="a", baseline="b", against="b", horizon=100.0, invest_day=invest_day)


def test_roi_table_by_hand() -> None:
    # Project worth 100 finishing on day 0 of a 100-day horizon: 1 per day. 30 invested on day 10.
    reps, projects = _tables(value_a=100.0, finish_a=0.0, spend_a=30.0)
    table, curve, days = roi_table(reps, projects, _question(10.0))
    row = table.iloc[0]
    assert (row["investment"], row["benefit"], row["net_gain"]) == (30.0, 100.0, 70.0)
    assert row["roi_pct"] == pytest.approx(100 * 70 / 30) and row["bcr"] == pytest.approx(100 / 30)
    assert row["payback_day"] == 30.0  # value 1/day from day 0: 30 covered on day 30
    assert curve[0, -1] == pytest.approx(100.0) and days[-1] == 100.0
    doc = analyse_roi(reps, projects, _question(10.0)).document
    assert doc["p_positive"] == 1.0 and doc["payback_day_median"] == 30.0
    # Worth less than the spend: never pays back.
    reps, projects = _tables(value_a=20.0, finish_a=50.0, spend_a=30.0)
    assert np.isnan(roi_table(reps, projects, _question())[0]["payback_day"].iloc[0])
    with pytest.raises(UsageError, match="spend the same"):
        analyse_roi(*_tables(10.0, 0.0, 0.0), _question())


def test_a_positive_roi_always_has_a_payback_day() -> None:
    for basis in ("cash", "npv"):
        t = roi(TRAINING, "upskill", programme="dev-course", replications=4, jobs=1, basis=basis).table
        assert (t["roi_pct"] > 0).any()
        assert ((t["roi_pct"] <= 0) | t["payback_day"].notna()).all()
        paid = t["payback_day"].dropna()
        assert (paid >= 50).all()   # never before the course is paid for (day 50)


def test_a_run_written_to_a_folder_reads_only_the_project_columns_the_roi_uses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the value curves read six columns; a long run's projects table (~25 columns, a row per
    # project and replication) stays on disk but for those (Results.with_projects)
    import pmo_sim.experiment.roi as roi_module
    from pmo_sim.analysis.roi import VALUE_COLUMNS

    seen: list[list[str]] = []

    def spy(replications: pd.DataFrame, projects: pd.DataFrame, *rest: object) -> object:
        seen.append(list(projects.columns))
        return analyse_roi(replications, projects, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(roi_module, "analyse_roi", spy)
    result = roi(TRAINING, "upskill", programme="dev-course", replications=4, seed=1, jobs=1,
                 out=tmp_path / "o")
    assert seen and set(seen[0]) == set(VALUE_COLUMNS)
    full = pmo_sim.load_results(tmp_path / "o")
    again = analyse_roi(full.replications, full.projects, result.question, full.pools)
    pd.testing.assert_frame_equal(result.table, again.table)
