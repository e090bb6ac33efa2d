"""An unknown policy is named against the known ones as every other unknown name is: the
first eight, then how many in all. Before, ``run --policy nosuch`` of a scenario with hundreds
of policies printed every name on one line, and so did the API's compare, forecast and
simulate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import pmo_sim as ps
from pmo_sim.cli import main
from pmo_sim.errors import UsageError

POLICIES = [f"p{i:02d}" for i in range(12)]
SCENARIO = """name: many
horizon: 60
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: P, value_per_day: 10, tasks: [{name: a, skill: dev, effort: 5}]}
policies:
""" + "".join(f"  {p}: {{}}\n" for p in POLICIES)

LISTED = "p00, p01, p02, p03, p04, p05, p06, p07, ... (12 in all)"


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("many") / "many.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def results(scenario_file: Path) -> ps.Results:
    return ps.run_experiment(ps.load_scenario(scenario_file), replications=2, jobs=1)


def test_run_lists_eight_policies_then_how_many(scenario_file: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["run", str(scenario_file), "--policy", "nosuch", "-n", "1",
                                    "--out", str(tmp_path / "r")])
    assert out.exit_code == 2, out.output
    assert f"unknown policy 'nosuch'; the scenario has: {LISTED}" in out.output
    assert "p08" not in out.output and "Traceback" not in out.output


@pytest.mark.parametrize("call", [
    lambda sc, res: ps.run_experiment(sc, replications=1, policies=["nosuch"], jobs=1),
    lambda sc, res: ps.simulate(sc, policy="nosuch", seed=0, replication=0),
    lambda sc, res: res.compare(baseline="nosuch"),
    lambda sc, res: res.forecast(policy="nosuch"),
])
def test_the_api_lists_eight_policies_then_how_many(
        scenario_file: Path, results: ps.Results, call: Callable[..., object]) -> None:
    with pytest.raises(UsageError) as error:
        call(ps.load_scenario(scenario_file), results)
    message = str(error.value)
    assert "'nosuch'" in message and LISTED in message and "p08" not in message
