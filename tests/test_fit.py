"""Calibration from history (``pmo-sim fit``) and the ``estimate_error`` it feeds.

- The fits recover known distributions: means and sds within a few percent on large
  samples, the right family most of the time over seeds, arrival gaps through their
  whole-day rounding; the selection rules (too few rows, no spread, KS rejection).
- The fragment ``fit`` writes is directly usable: pasted into a scenario it loads, and the
  bundled calibrated scenario holds what a fresh fit of the bundled history says.
- ``estimate_error`` multiplies efforts exactly as documented, on its own stream, and a
  scenario without it gives the same numbers as before.
- The command end to end on the bundled history.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter
from ruamel.yaml import YAML
from strategies import make_scenario, project, task, task_log

from pmo_sim.analysis.fitting import (
    FEW_ROWS,
    day_pmf,
    fit_arrival_days,
    fit_effort,
    frozen_distribution,
)
from pmo_sim.cli import main
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.io.calibration import figure_paths, fit_history, fragment_yaml
from pmo_sim.io.history import history_from_text, read_history
from pmo_sim.sampling import Sampler, Source, stream
from pmo_sim.scenario.dists import RandomValue
from pmo_sim.scenario.loader import load_scenario, load_scenario_text

HISTORY = Path(__file__).parents[1] / "scenarios" / "history"
DIST = TypeAdapter(RandomValue)
TRUTH = [("lognormal", 10.0, 6.0), ("gamma", 20.0, 10.0), ("lognormal", 1.2, 0.45),
         ("gamma", 1.35, 0.4)]


def _sample(family: str, mean: float, sd: float, n: int, seed: int) -> np.ndarray:
    return frozen_distribution(family, mean, sd).rvs(n, random_state=np.random.default_rng(seed))


# --------------------------------------------------------------------------- fitting


@pytest.mark.parametrize(("family", "mean", "sd"), TRUTH)
def test_large_samples_recover_mean_and_sd_within_three_percent(family: str, mean: float,
                                                                  sd: float) -> None:
    for seed in range(5):
        fit = fit_effort(_sample(family, mean, sd, 4000, seed))
        assert fit.family == family
        assert fit.mean == pytest.approx(mean, rel=0.03)
        assert fit.sd == pytest.approx(sd, rel=0.03)


@pytest.mark.parametrize(("family", "mean", "sd"), TRUTH)
def test_the_right_family_is_picked_most_of_the_time(family: str, mean: float, sd: float) -> None:
    picks = [fit_effort(_sample(family, mean, sd, 300, 100 + s)).family for s in range(20)]
    assert picks.count(family) >= 15, picks


def test_parameters_are_arithmetic_mean_and_sd_as_the_scenario_samples_them() -> None:
    x = _sample("lognormal", 8.0, 5.0, 2000, 1)
    fit = fit_effort(x)
    dist = DIST.validate_python(fit.as_distribution())  # the scenario language accepts it
    assert fit.as_distribution() == {"dist": "lognormal", "mean": fit.mean, "sd": fit.sd}
    # MLE on the logarithms: the arithmetic mean is exp(mu + s^2 / 2), not the mean of x.
    logs = np.log(x)
    assert fit.mean == pytest.approx(math.exp(logs.mean() + logs.var() / 2), rel=1e-12)
    draws = dist.sample(np.random.default_rng(0), 400_000)
    assert draws.mean() == pytest.approx(fit.mean, rel=0.01)
    assert draws.std() == pytest.approx(fit.sd, rel=0.03)
    frozen = frozen_distribution("gamma", 6.0, 3.0)
    assert (frozen.mean(), frozen.std()) == pytest.approx((6.0, 3.0), rel=1e-12)


def test_few_rows_are_empirical_or_flagged() -> None:
    tiny = fit_effort([3.0, 1.0, 2.0])
    assert tiny.family == "empirical" and tiny.params == {"values": [1.0, 2.0, 3.0]}
    assert math.isnan(tiny.aic) and math.isnan(tiny.ks_pvalue) and tiny.candidates == ()
    assert tiny.flags == ("empirical: fewer than 5 rows", f"few rows (n < {FEW_ROWS})")
    assert (tiny.mean, tiny.sd) == pytest.approx((2.0, math.sqrt(2 / 3)))
    some = fit_effort(_sample("gamma", 6.0, 3.0, 20, 3))
    assert some.family in ("gamma", "lognormal") and some.flags == (f"few rows (n < {FEW_ROWS})",)
    assert fit_effort([4.0] * 10).flags == ("empirical: all values equal", "few rows (n < 30)")
    assert fit_effort(_sample("gamma", 6.0, 3.0, 30, 3)).flags == ()


def test_a_sample_no_family_fits_is_empirical_with_the_rejected_candidates() -> None:
    rng = np.random.default_rng(0)
    bimodal = np.concatenate([rng.normal(5, 0.3, 300), rng.normal(20, 0.5, 300)])
    fit = fit_effort(bimodal)
    assert fit.family == "empirical" and fit.flags == ("empirical: no family passes KS at 5%",)
    assert [c.family for c in fit.candidates] == ["lognormal", "gamma"]
    assert all(c.ks_pvalue < 0.05 for c in fit.candidates)
    assert fit.best_parametric() == min(fit.candidates, key=lambda c: c.aic)
    with pytest.raises(ValueError):
        fit_effort([1.0, 0.0, 2.0])


# --------------------------------------------------------------------------- arrivals by the day


@pytest.mark.parametrize(("family", "mean", "sd"), [("exponential", 3.0, 3.0), ("gamma", 6.0, 3.0),
                                                    ("lognormal", 5.0, 4.0)])
def test_day_differences_follow_the_hat_weighted_gap_law(family: str, mean: float, sd: float) -> None:
    k = np.arange(5000)  # the lognormal's tail is long
    assert day_pmf(family, mean, sd, k).sum() == pytest.approx(1.0, abs=1e-9)
    gaps = _sample(family, mean, sd, 200_000, 7)
    days = np.diff(np.floor(np.cumsum(gaps)))
    observed = np.bincount(days.astype(int), minlength=12)[:12] / len(days)
    assert observed == pytest.approx(day_pmf(family, mean, sd, k[:12]), abs=0.004)


def test_poisson_arrivals_known_to_the_day_are_found_exponential() -> None:
    fits = []
    for seed in range(20):
        arrivals = np.cumsum(np.random.default_rng(seed).exponential(7.0, 100))
        fit = fit_arrival_days(np.floor(arrivals))
        assert fit is not None
        fits.append(fit)
    assert sum(f.family == "exponential" for f in fits) >= 15
    assert np.mean([f.mean for f in fits]) == pytest.approx(7.0, rel=0.03)
    assert all(f.mean == pytest.approx(7.0, rel=0.25) for f in fits)


def test_no_gap_means_no_arrival_fit() -> None:
    assert fit_arrival_days([5]) is None
    assert fit_arrival_days([3, 3, 3]) is None
    few = fit_arrival_days([0, 0, 2, 9])
    assert few is not None and few.family == "empirical" and few.params == {"values": [0.0, 2.0, 7.0]}


# --------------------------------------------------------------------------- the fragment


def _fragment() -> str:
    return fragment_yaml(fit_history(read_history(HISTORY / "tasks.csv")))


BASE = """\
name: pasted
horizon: 300
resources:
  analysts: {headcount: 2}
  architects: {headcount: 1}
  developers: {headcount: 5}
  testers: {headcount: 2}
intake:
ARRIVALS
  templates:
    - name: feature
      tasks:
        - {name: spec, skill: analysts, effort: 5}
        - {name: build, skill: developers, effort: EFFORT, after: [spec]}
"""


def test_the_fragment_pasted_into_a_scenario_loads_and_means_what_it_says() -> None:
    text = _fragment()
    fragment = YAML(typ="safe").load(text)
    assert set(fragment) == {"intake", "estimate_error"}
    # Paste as documented: the arrivals line into the intake, estimate_error as it is, and
    # one of the commented effort lines as a task's effort.
    arrivals = next(line for line in text.splitlines() if line.startswith("  arrivals:"))
    block = text[text.index("estimate_error:"):text.index("\n\n", text.index("estimate_error:"))]
    effort = re.search(r"^# developers: (\{.*\})$", text, re.MULTILINE)
    assert effort is not None
    scenario = load_scenario_text(BASE.replace("ARRIVALS", arrivals).replace("EFFORT", effort[1])
                                  + block + "\n", "pasted.yaml")
    assert scenario.intake is not None
    assert scenario.intake.arrivals.model_dump(by_alias=True) == fragment["intake"]["arrivals"]
    assert {k: v.model_dump(by_alias=True) for k, v in scenario.estimate_error.items()} == \
        fragment["estimate_error"]
    assert scenario.intake.templates[0].tasks[1].effort.mean() == pytest.approx(20.74, rel=1e-3)


def test_the_bundled_calibrated_scenario_holds_what_the_fit_says() -> None:
    fragment = YAML(typ="safe").load(_fragment())
    scenario = load_scenario(HISTORY / "calibrated.yaml")
    assert scenario.intake is not None
    assert scenario.intake.arrivals.model_dump(by_alias=True) == fragment["intake"]["arrivals"]
    assert {k: v.model_dump(by_alias=True) for k, v in scenario.estimate_error.items()} == \
        fragment["estimate_error"]
    rec = run_replication(scenario, 0, 0, scenario.policy_names)
    assert all(r.kpis["projects_completed"] > 0 for r in rec)


def test_a_history_of_one_project_has_no_arrivals_in_its_fragment() -> None:
    rows = "".join(f"P1,t{i},dev,{i + 1},{i + 2},2024-01-0{1 + i % 5},2024-01-09\n" for i in range(6))
    fitted = fit_history(history_from_text("project,task,skill,estimate,actual,start,finish\n" + rows))
    assert fitted.arrivals is None and fitted.projects == 1
    text = fragment_yaml(fitted)
    assert "intake" not in YAML(typ="safe").load(text)
    assert "# intake.arrivals: not fitted" in text


def test_figure_names_are_safe_and_distinct(tmp_path: Path) -> None:
    rows = "".join(f"P{i},t,{skill},1,{1 + i},2024-01-0{1 + i},2024-01-09\n"
                   for skill in ("../up", "a/b", "a_b") for i in range(3))
    fitted = fit_history(history_from_text("project,task,skill,estimate,actual,start,finish\n" + rows))
    paths = figure_paths(fitted, tmp_path)
    assert [p.name for p in paths] == [
        "effort-up.png", "ratio-up.png", "effort-a_b.png", "ratio-a_b.png", "effort-a_b-2.png",
        "ratio-a_b-2.png", "arrivals.png"]
    assert all(p.parent == tmp_path for p in paths)


# --------------------------------------------------------------------------- estimate_error


def test_a_fixed_ratio_multiplies_the_effort_of_its_pool_only() -> None:
    tasks = (task("spec", 4, skill="qa"), task("build", 10, after=["spec"]))
    plain = make_scenario([project("A", *tasks)], resources={"dev": 1, "qa": 1})
    inflated = make_scenario([project("A", *tasks)], resources={"dev": 1, "qa": 1},
                             estimate_error={"dev": 1.5})
    assert task_log(plain) == [("A", "spec", 0, 4, "qa-1"), ("A", "build", 4, 14, "dev-1")]
    assert task_log(inflated) == [("A", "spec", 0, 4, "qa-1"), ("A", "build", 4, 19, "dev-1")]
    # The estimate stays the written effort: the ratio makes the work overrun its plan.
    plan = Sampler(inflated).plan(0, 0).projects[0]
    assert plan.network.estimate == 14 and plan.efforts.tolist() == [4, 15]


def test_generated_projects_draw_their_ratios_per_template_on_their_own_stream() -> None:
    template = {"name": "t", "tasks": [task("a", 4), task("b", 3, skill="qa")]}
    intake = {"arrivals": 5, "count": 6, "templates": [template]}
    ratio = {"dist": "lognormal", "mean": 1.2, "sd": 0.3}
    plain = make_scenario(resources={"dev": 1, "qa": 1}, intake=intake)
    inflated = make_scenario(resources={"dev": 1, "qa": 1}, intake=intake, estimate_error={"dev": ratio})
    before, after = Sampler(plain).plan(3, 2), Sampler(inflated).plan(3, 2)
    assert [p.arrival for p in before.projects] == [p.arrival for p in after.projects]
    expected = DIST.validate_python(ratio).sample(stream(3, 2, Source.ESTIMATE_ERROR, 1, 0), 6)
    assert [p.efforts[0] for p in after.projects] == pytest.approx(4 * expected, rel=1e-12)
    assert [p.efforts[1] for p in after.projects] == [3.0] * 6


def test_an_explicit_projects_ratios_do_not_depend_on_the_rest_of_the_portfolio() -> None:
    ratio = {"dist": "gamma", "mean": 1.3, "sd": 0.4}
    first = project("A", task("x", {"dist": "uniform", "low": 5, "high": 9}))
    alone = make_scenario([first], estimate_error={"dev": ratio})
    crowded = make_scenario([project("Z", task("y", 2), arrival=1), first], estimate_error={"dev": ratio})
    a = next(p for p in Sampler(alone).plan(1, 0).projects if p.name == "A")
    b = next(p for p in Sampler(crowded).plan(1, 0).projects if p.name == "A")
    assert a.efforts[0] != b.efforts[0]  # A's draws are keyed by its index in the file...
    moved = make_scenario([first, project("Z", task("y", 2), arrival=1)], estimate_error={"dev": ratio})
    c = next(p for p in Sampler(moved).plan(1, 0).projects if p.name == "A")
    assert a.efforts[0] == c.efforts[0]  # ...so a project added after it changes nothing


def test_a_scenario_without_a_ratio_for_its_tasks_gives_the_same_numbers() -> None:
    projects = [project("A", task("a", {"dist": "triangular", "low": 2, "mode": 4, "high": 9}))]
    intake = {"arrivals": {"dist": "exponential", "mean": 4}, "templates": [
        {"name": "t", "tasks": [task("b", {"dist": "pert", "low": 1, "mode": 3, "high": 8})]}]}
    plain = make_scenario(projects, resources={"dev": 2, "qa": 1}, intake=intake, horizon=100)
    unused = make_scenario(projects, resources={"dev": 2, "qa": 1}, intake=intake, horizon=100,
                           estimate_error={"qa": 3.0})  # a pool without tasks: nothing drawn
    for seed in range(3):
        x, y = Sampler(plain).plan(seed, 1).projects, Sampler(unused).plan(seed, 1).projects
        assert [(p.name, p.arrival, p.efforts.tolist()) for p in x] == \
            [(p.name, p.arrival, p.efforts.tolist()) for p in y]
        assert run_replication(plain, 1, seed, ["default"])[0].kpis == \
            run_replication(unused, 1, seed, ["default"])[0].kpis


# --------------------------------------------------------------------------- the command


def _fit(*args: str) -> Any:
    return CliRunner().invoke(main, ["fit", *args])


def test_the_command_end_to_end_on_the_bundled_history(tmp_path: Path) -> None:
    out = tmp_path / "fitted.yaml"
    result = _fit(str(HISTORY / "tasks.csv"), "--out", str(out))
    assert result.exit_code == 0, result.output
    for skill, family in [("analysts", "lognormal"), ("developers", "gamma"), ("testers", "gamma")]:
        assert re.search(rf"{skill}[ │]+effort[ │]+{family} ", result.output)
    assert re.search(r"architects .* few rows \(n < 30\)", result.output)
    assert re.search(r"arrival gaps[ │]+exponential ", result.output)
    assert f"fragment: {out}" in result.output
    figures = sorted(p.name for p in (tmp_path / "fitted-figures").iterdir())
    assert len(figures) == 9 and "arrivals.png" in figures and "ratio-testers.png" in figures
    assert out.read_text() == _fragment()
    refused = _fit(str(HISTORY / "tasks.csv"), "--out", str(out))
    assert refused.exit_code == 2 and "exists; use --force" in refused.output
    again = _fit(str(HISTORY / "tasks.csv"), "--out", str(out), "--force", "--format", "json",
                 "--figures", str(tmp_path / "figs"))
    assert again.exit_code == 0, again.output
    doc = json.loads(again.stdout)
    assert (doc["tasks"], doc["projects"], len(doc["fits"]), len(doc["figures"])) == (1377, 68, 9, 9)
    developers = next(f for f in doc["fits"] if f["skill"] == "developers" and f["quantity"] == "effort")
    assert developers["family"] == "gamma" and developers["mean"] == pytest.approx(20, rel=0.05)
    assert developers["sd"] == pytest.approx(10, rel=0.05)
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == figures


def test_existing_figures_are_kept_without_force(tmp_path: Path) -> None:
    (tmp_path / "f-figures").mkdir()
    (tmp_path / "f-figures" / "arrivals.png").write_bytes(b"keep")
    result = _fit(str(HISTORY / "tasks.csv"), "--out", str(tmp_path / "f.yaml"))
    assert result.exit_code == 2 and "arrivals.png exists" in result.output
    assert not (tmp_path / "f.yaml").exists()
    assert (tmp_path / "f-figures" / "arrivals.png").read_bytes() == b"keep"
