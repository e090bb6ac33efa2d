"""An unknown policy is named against the known ones as every other unknown name is: the
first eight, then how many in all. Before, ``run --policy nosuch`` of a scenario with hundreds
of policies printed every name on one line, and so did the API's compare, forecast and
simulate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TINY_RUN

import pmo_sim as ps
from pmo_sim.cli import main
from pmo_sim.errors import UsageError

POLICIES = [f"p{i:02d}" for i in range(12)]
SCENARIO = TINY_RUN + "policies:\n" + "".join(f"  {p}: {{}}\n" for p in POLICIES)

LISTED = "p00, p01, p02, p03, p04, p05, p06, p07, ... (12 in all)"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ps.Results]:
    """A scenario file of twelve policies, and a run of it."""
    (path := tmp_path_factory.mktemp("many") / "many.yaml").write_text(SCENARIO)
    return path, ps.run_experiment(ps.load_scenario(path), replications=2, jobs=1)


def test_run_lists_eight_policies_then_how_many(many: tuple[Path, ps.Results], tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["run", str(many[0]), "--policy", "nosuch", "-n", "1",
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
        many: tuple[Path, ps.Results], call: Callable[..., object]) -> None:
    with pytest.raises(UsageError) as error:
        call(ps.load_scenario(many[0]), many[1])
    message = str(error.value)
    assert "'nosuch'" in message and LISTED in message and "p08" not in message
