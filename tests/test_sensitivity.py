"""``pmo-sim sensitivity``: tornado, Morris and Sobol on common random numbers.

The scenario has a clear bottleneck (one developer for a stream of valuable projects), a
pool with slack (analysts: more of them only cost money) and an unused pool whose
productivity cannot matter. On common random numbers the inert field gives *exactly* the
same replications at both ends of its range.
"""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from scipy import stats

import pmo_sim
from pmo_sim.analysis.sensitivity import SENSITIVITY_COLUMNS, Factor, check_method
from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError, UsageError
from pmo_sim.experiment.sensitivity import parse_range, sensitivity

SCENARIO = """\
name: sens
horizon: 300
discount_rate: 0.08
resources:
  dev: {headcount: 1, day_rate: 500}
  ana: {headcount: 2, day_rate: 550}
  ops: {headcount: 1, day_rate: 400}
intake:
  arrivals: {dist: exponential, mean: 10}
  count: 20
  templates:
    - name: enh
      value_per_day: {dist: lognormal, mean: 3000, sd: 1000}
      tasks:
        - {name: spec, skill: ana, effort: {dist: triangular, low: 1, mode: 2, high: 4}}
        - {name: build, skill: dev, effort: {dist: pert, low: 10, mode: 15, high: 30}, after: [spec]}
policies:
  base: {}
  wsjf:
    resource_manager: {allocation: wsjf}
"""

DEV, ANA, OPS = "resources.dev.headcount", "resources.ana.headcount", "resources.ops.productivity"
VARY = {DEV: (1, 3), ANA: (2, 3), OPS: (0.5, 2.0)}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "sens.yaml"
    path.write_text(SCENARIO)
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def stat(table: pd.DataFrame, parameter: str, statistic: str, policy: str = "base") -> pd.Series:
    rows = table[(table["parameter"] == parameter) & (table["statistic"] == statistic)
                 & (table["policy"] == policy)]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- tornado


def test_tornado_ranks_the_bottleneck_first_and_an_inert_field_last(scenario: Path) -> None:
    table = sensitivity(scenario, VARY, metric="npv", replications=8, jobs=1)
    assert list(table.columns) == list(SENSITIVITY_COLUMNS)
    assert set(table["policy"]) == {"base", "wsjf"} and (table["method"] == "tornado").all()
    for policy in ("base", "wsjf"):
        effects = table[(table["policy"] == policy) & (table["statistic"] == "effect")]
        assert list(effects["parameter"]) == [DEV, ANA, OPS]  # ranked by |effect|
        assert list(effects["rank"]) == [1, 2, 3]
        dev = stat(table, DEV, "effect", policy)
        assert dev["ci_low"] > 0  # a second developer clearly pays
        inert = stat(table, OPS, "effect", policy)
        # Common random numbers: the same worlds at both ends, so exactly no difference.
        assert (inert["value"], inert["ci_low"], inert["ci_high"]) == (0.0, 0.0, 0.0)
        assert stat(table, OPS, "at_low", policy)["value"] == stat(table, OPS, "at_high", policy)["value"]


def test_tornado_effect_is_the_paired_difference_of_two_plain_runs(scenario: Path) -> None:
    table = sensitivity(scenario, {DEV: (1, 2)}, metric="mean_cycle_time", replications=6, seed=4,
                        jobs=2, policies=["wsjf"])
    runs = [pmo_sim.run_experiment(pmo_sim.load_scenario(scenario, {DEV: h}), replications=6, seed=4,
                                   jobs=1, policies=["wsjf"]).replications["mean_cycle_time"].to_numpy()
            for h in (1, 2)]
    diff = runs[1] - runs[0]
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    effect = stat(table, DEV, "effect", "wsjf")
    assert effect["value"] == pytest.approx(diff.mean(), rel=1e-12)
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx((diff.mean() - half, diff.mean() + half))
    assert effect["n"] == 6 and effect["metric"] == "mean_cycle_time"
    assert stat(table, DEV, "at_low", "wsjf")["value"] == pytest.approx(runs[0].mean())


def test_a_scenario_object_gives_the_same_study(scenario: Path) -> None:
    kwargs = dict(metric="npv", replications=3, jobs=1, policies=["base"])
    from_file = sensitivity(scenario, {DEV: (1, 2)}, **kwargs)  # type: ignore[arg-type]
    from_object = sensitivity(pmo_sim.load_scenario(scenario), {DEV: (1, 2)}, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(from_file, from_object)


# --------------------------------------------------------------------------- Morris and Sobol


def test_sobol_total_index_of_an_inert_field_is_zero(scenario: Path) -> None:
    table = sensitivity(scenario, VARY, metric="npv", method="sobol", samples=16, replications=2,
                        jobs=2, policies=["base"])
    assert set(table["statistic"]) == {"S1", "ST"} and (table["n"] == 16).all()
    assert stat(table, DEV, "ST")["rank"] == 1
    assert stat(table, DEV, "ST")["value"] > 0.5
    inert = stat(table, OPS, "ST")
    assert inert["value"] == 0.0 and inert["rank"] == 3
    assert stat(table, OPS, "S1")["value"] == 0.0


def test_morris_runs_and_ranks(scenario: Path) -> None:
    table = sensitivity(scenario, VARY, metric="npv", method="morris", samples=4, replications=2,
                        jobs=1, policies=["base"], seed=3)
    assert set(table["statistic"]) == {"mu_star", "mu", "sigma"}
    order = table[table["statistic"] == "mu_star"].sort_values("rank")["parameter"].tolist()
    assert order[0] == DEV and order[-1] == OPS
    assert stat(table, OPS, "mu_star")["value"] == 0.0
    dev = stat(table, DEV, "mu_star")
    assert dev["ci_low"] <= dev["value"] <= dev["ci_high"] and dev["n"] == 4
    again = sensitivity(scenario, VARY, metric="npv", method="morris", samples=4, replications=2,
                        jobs=2, policies=["base"], seed=3)
    pd.testing.assert_frame_equal(table, again)  # the design and bootstrap follow the seed


@given(st.floats(min_value=1.5, max_value=5.5, allow_nan=False))
def test_integer_factors_round_into_their_range(x: float) -> None:
    factor = Factor("resources.dev.headcount", 2, 5, integer=True)
    value = factor.value(x)
    assert isinstance(value, int) and 2 <= value <= 5
    assert value == min(5, int(np.floor(x + 0.5)))  # halves up; every whole number gets width 1


def test_sample_sizes_are_checked() -> None:
    assert check_method("morris", None) == 10 and check_method("sobol", None) == 64
    with pytest.raises(UsageError, match="power of 2"):
        check_method("sobol", 100)
    with pytest.raises(UsageError, match="unknown method"):
        check_method("fast", None)


# --------------------------------------------------------------------------- command line


def test_cli_writes_the_table_and_the_figure(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = invoke("sensitivity", str(scenario), "--vary", f"{DEV}=1:3", "--vary", f"{OPS}=0.5:2",
                    "-n", "3", "-j", "1", "--policy", "base", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["method"] == "tornado" and doc["metric"] == "npv" and len(doc["rows"]) == 6
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table.columns) == list(SENSITIVITY_COLUMNS)
    assert (out / "sensitivity.png").stat().st_size > 1000
    again = ("sensitivity", str(scenario), "--vary", f"{DEV}=1:3", "-n", "2", "-j", "1",
             "--method", "sobol", "--samples", "4", "--out", str(out))
    refused = invoke(*again)  # the first study's files are not replaced without --force
    assert refused.exit_code == 2 and "use --force to overwrite them" in refused.output
    assert len(pd.read_csv(out / "sensitivity.csv")) == len(table)
    table_run = invoke(*again, "--force")
    assert table_run.exit_code == 0, table_run.output
    assert "sobol sensitivity of NPV, policy wsjf" in table_run.output


def test_ranges_and_metric_from_the_scenario(scenario: Path, tmp_path: Path) -> None:
    scenario.write_text(SCENARIO + "sensitivity:\n  metric: mean_cycle_time\n  ranges:\n"
                        f"    {DEV}: [1, 2]\n    {OPS}: [1, 3]\n")
    result = invoke("sensitivity", str(scenario), "-n", "2", "-j", "1", "--out", str(tmp_path / "o"),
                    "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["metric"] == "mean_cycle_time"
    assert {r["parameter"] for r in doc["rows"]} == {DEV, OPS}
    # --vary replaces the section's ranges, --metric its metric
    table = sensitivity(scenario, {ANA: (2, 3)}, metric="npv", replications=2, jobs=1)
    assert set(table["parameter"]) == {ANA} and (table["metric"] == "npv").all()


def test_a_bad_range_in_the_scenario_is_located_at_its_line(scenario: Path, tmp_path: Path) -> None:
    scenario.write_text(SCENARIO + "sensitivity:\n  ranges:\n    resources.qa.headcount: [1, 2]\n"
                        f"    {DEV}: [0, 2]\n")
    result = invoke("sensitivity", str(scenario), "-n", "1", "-j", "1", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output
    at = len(SCENARIO.splitlines()) + 3  # the line of the first range
    lines = result.output.splitlines()
    assert f"{scenario}:{at}:5: resources.qa.headcount: no such key" in lines[0]
    assert lines[1].startswith(f"{scenario}:{at + 1}:5: {DEV}: must be at least 1")
    assert lines[2] == "2 problems found."


def test_validate_checks_the_declared_ranges_as_the_study_does(scenario: Path) -> None:
    # Before, `validate` said ok to a range whose path does not exist; only the study refused it.
    at = len(SCENARIO.splitlines()) + 3  # the line of the first range
    scenario.write_text(SCENARIO + "sensitivity:\n  ranges:\n    resources.qa.headcount: [1, 2]\n"
                        "    name: [1, 2]\n" f"    {DEV}: [1.5, 3]\n")
    result = invoke("validate", str(scenario))
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.splitlines()
    assert f"{scenario}:{at}:5: resources.qa.headcount: no such key" in lines[0]
    assert lines[1].startswith(f"{scenario}:{at + 1}:5: name: does not hold a number")
    assert lines[2].startswith(f"{scenario}:{at + 2}:5: {DEV}: holds whole numbers")
    as_json = invoke("validate", str(scenario), "--format", "json")
    assert as_json.exit_code == 2 and len(json.loads(as_json.stdout)["errors"]) == 3
    scenario.write_text(SCENARIO + f"sensitivity:\n  ranges:\n    {DEV}: [1, 3]\n")
    assert invoke("validate", str(scenario)).exit_code == 0
    # with --set, as the study given the same --set (a range over a path also set is refused)
    set_too = invoke("validate", str(scenario), "--set", f"{DEV}=2")
    assert set_too.exit_code == 2 and f"{DEV}: is also given with --set; vary it or set it" in set_too.output


@pytest.mark.parametrize("args, message", [
    (["--vary", f"{DEV}=2"], "expected PATH=LOW:HIGH with two numbers"),
    (["--vary", f"{DEV}=3:1"], "needs a range LOW:HIGH of two numbers with LOW < HIGH"),
    (["--vary", "resources.qa.headcount=1:3"], "--vary: resources.qa.headcount: no such key"),
    (["--vary", "intake.arrivals=5:15"], "holds a distribution; vary one of its parameters, e.g. "
                                         "intake.arrivals.mean"),
    (["--vary", "name=1:2"], "does not hold a number"),
    (["--vary", f"{DEV}=1.5:3"], "holds whole numbers: give whole-number bounds"),
    (["--vary", f"{DEV}=0:3"], f"--vary: {DEV}: must be at least 1"),
    (["--vary", f"{DEV}=1:3", "--vary", f"{DEV}=1:2"], "is varied twice"),
    (["--vary", f"{DEV}=1:3", "--set", f"{DEV}=2"], "is also given with --set"),
    (["--vary", f"{DEV}=1:3", "--method", "sobol", "--samples", "12"], "must be a power of 2"),
    (["--vary", f"{DEV}=1:3", "--metric", "nvp"], "unknown metric 'nvp'"),
    (["--vary", f"{DEV}=1:3", "--policy", "nope"], "unknown policy 'nope'"),
    ([], "nothing to vary"),
])
def test_bad_input_is_exit_2_before_anything_runs(scenario: Path, args: list[str], message: str) -> None:
    result = invoke("sensitivity", str(scenario), *args, "-n", "1", "-j", "1")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_parse_range() -> None:
    assert parse_range("a.b=1:2.5") == ("a.b", (1, 2.5))
    with pytest.raises(ScenarioError, match="--vary"):
        parse_range("a.b=1:x")


@pytest.mark.parametrize("method,samples", [("tornado", 10), ("morris", 3), ("sobol", 4)])
def test_the_design_size_is_known_before_the_design_is_built(method: str, samples: int) -> None:
    from pmo_sim.analysis.sensitivity import Factor
    from pmo_sim.experiment.sensitivity import _points, design_size

    factors = [Factor(path=f"p{i}", low=0.0, high=1.0, integer=False) for i in range(3)]
    points, _ = _points(method, factors, samples, 0)
    assert design_size(method, 3, samples) == len(points)


@pytest.mark.parametrize("method,samples", [("morris", 100_000_000), ("sobol", 2**40)])
def test_a_design_too_large_is_refused_before_it_is_built(scenario: Path, method: str,
                                                          samples: int) -> None:
    # before: 690 MB and 70 s (morris), a MemoryError traceback (sobol) before the refusal
    result = invoke("sensitivity", str(scenario), "--vary", f"{DEV}=1:3", "--method", method,
                    "--samples", str(samples), "-n", "2", "-j", "1")
    assert result.exit_code == 2, result.output
    assert "points; at most 100,000" in result.output
