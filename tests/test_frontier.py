"""The efficient frontier (``pmo-sim frontier``): the metric against the yearly budget.

A deterministic portfolio makes the frontier arithmetic: three one-person projects arrive on
day 0 with fixed efforts and explicit estimates, and each budget funds a known set of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError, UsageError
from pmo_sim.experiment.frontier import FRONTIER_COLUMNS, frontier, parse_budgets

# Three projects on day 0, one developer each (three developers), horizon 100, no discounting.
#   A: 10 days, value 10/day -> 900 if funded;  B: 20 days, 20/day -> 1600;  C: 40 days, 5/day -> 300
# by value_per_cost (value/day / cost): A 10/10 = 1, B 20/40 = 0.5, C 5/80 = 0.0625.
#   budget  0: nothing                      ->    0
#   budget 50: A (10), B (40): 50           -> 2500
#   budget 90: A, B, then C (80) no: 50     -> 2500  (money is left, no project fits it)
#   budget 130: all three                   -> 2800
BOARD = """\
name: frontier
horizon: 100
discount_rate: 0
resources:
  dev: {headcount: 3, day_rate: 1}
strategy:
  goals: {growth: {weight: 1}}
budget: {per_year: 50}
projects:
  - {name: A, value_per_day: 10, cost_estimate: 10, alignment: {growth: 1},
     tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, value_per_day: 20, cost_estimate: 40, alignment: {growth: 0.5},
     tasks: [{name: b, skill: dev, effort: 20}]}
  - {name: C, value_per_day: 5, cost_estimate: 80, alignment: {growth: 1},
     tasks: [{name: c, skill: dev, effort: 40}]}
policies:
  everything: {}
  by_value:
    governance: {funding: {rule: value_per_cost}}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "frontier.yaml"
    path.write_text(BOARD)
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_budgets_are_evenly_spaced_amounts() -> None:
    assert parse_budgets("1e6:2e6:3") == [1e6, 1.5e6, 2e6]
    assert parse_budgets("0:0.3:4") == [0.0, 0.1, 0.2, 0.3]
    assert parse_budgets("5:5:1") == [5.0]


@pytest.mark.parametrize("text", ["1:2", "a:b:3", "2:1:3", "-1:2:3", "1:2:0", "1:2:1", "1:inf:2",
                                  "1:2:100000"])
def test_bad_budgets_are_located_at_the_option(text: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_budgets(text)
    assert str(err.value.problems[0]).startswith("--budget")


def test_the_frontier_is_the_greedy_value_at_each_budget(scenario: Path) -> None:
    table = frontier(scenario, [0, 50, 90, 130], metric="value_delivered", replications=2, jobs=1)
    assert list(table.columns) == list(FRONTIER_COLUMNS)
    rule = table[table["policy"] == "by_value"]
    assert rule["mean"].tolist() == [0, 2500, 2500, 2800]
    assert (rule["ci_low"] == rule["mean"]).all() and (rule["n"] == 2).all()
    assert set(rule["funding"]) == {"value_per_cost"}
    reference = table[table["policy"] == "everything"]
    assert reference["mean"].tolist() == [2800] * 4 and set(reference["funding"]) == {"fund all"}


def test_the_frontier_needs_a_policy_that_funds(scenario: Path) -> None:
    with pytest.raises(UsageError, match="no policy funds"):
        frontier(scenario, [10, 20], policies=["everything"], replications=1, jobs=1)
    with pytest.raises(UsageError, match="do not also --set"):
        frontier(scenario, [10, 20], sets={"budget.per_year": 5}, replications=1, jobs=1)


def test_frontier_command_writes_csv_figure_and_json(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("frontier", str(scenario), "--budget", "0:130:3", "-n", "2", "-j", "1",
                    "--metric", "value_delivered", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["metric"] == "value_delivered" and doc["results"] == str(out)
    assert [(r["budget"], r["policy"], r["mean"]) for r in doc["rows"] if r["policy"] == "by_value"] == [
        (0.0, "by_value", 0.0), (65.0, "by_value", 2500.0), (130.0, "by_value", 2800.0)]
    assert (out / "frontier.csv").read_text().splitlines()[0] == ",".join(FRONTIER_COLUMNS)
    assert (out / "frontier.png").stat().st_size > 10_000


def test_frontier_command_prints_a_table(scenario: Path, tmp_path: Path) -> None:
    result = invoke("frontier", str(scenario), "--budget", "0:130:2", "-n", "1", "-j", "1",
                    "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "Strategic value against the yearly budget" in result.output
    assert "EUR 130" in result.output and "frontier.png" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--budget", "1:x:3"], "--budget"),
    (["--budget", "1:2:3", "--metric", "cost"], "Invalid value for '--metric'"),
    (["--budget", "1:2:3", "--policy", "nobody"], "unknown policy"),
])
def test_frontier_command_refuses_bad_options_with_exit_2(scenario: Path, tmp_path: Path,
                                                          args: list[str], message: str) -> None:
    result = invoke("frontier", str(scenario), *args, "-n", "1", "-j", "1", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and message in result.output
