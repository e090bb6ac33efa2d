"""A replication whose amounts overflow (NaN or infinite KPIs a run always gives a number) is
stopped with a message naming them, exit 1, as a runaway replication is: before, the run
wrote the chunk, then refused its own table as "changed during the run ... the table was
edited", and ``trace`` printed NaN KPIs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import pmo_sim as ps
from pmo_sim.cli import main
from pmo_sim.errors import ReplicationFailed

HEAD = """name: overflow
horizon: 200
resources:
  dev: {headcount: 1, day_rate: 100, productivity: PRODUCTIVITY}
projects:
  - {name: P, value_per_day: 10, tasks: [{name: a, skill: dev, effort: EFFORT}]}
"""
# Thousands of change requests, each adding a million times the remaining effort.
COMPOUNDING = HEAD.replace("PRODUCTIVITY", "1").replace("EFFORT", "5") + (
    "changes: {per_project_per_year: 10000, effort_added: 1000000, disruption: 0}\n")
# A task whose planned duration is effort / productivity = infinity.
NEAR_ZERO = HEAD.replace("PRODUCTIVITY", "1e-300").replace("EFFORT", "1e15")


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overflow.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", [COMPOUNDING, NEAR_ZERO], ids=["compounding", "near-zero"])
def test_an_overflowed_replication_is_a_failure_naming_the_kpis(tmp_path: Path, text: str) -> None:
    sc = ps.load_scenario(_scenario(tmp_path, text))
    with pytest.raises(ReplicationFailed, match=r"replication 0 of policy 'default' \(seed 0\)"
                                                r".*amounts overflowed \(\w+ = (nan|inf)"):
        ps.run_experiment(sc, replications=1, jobs=1)
    with pytest.raises(ReplicationFailed, match="amounts overflowed"):
        ps.simulate(sc)


def test_the_command_line_says_so_with_exit_1(tmp_path: Path) -> None:
    path = _scenario(tmp_path, COMPOUNDING)
    run = CliRunner().invoke(main, ["run", str(path), "-n", "1", "-j", "1", "-q",
                                    "--out", str(tmp_path / "r")])
    assert run.exit_code == 1, run.output
    assert "amounts overflowed (" in run.output and "changed during the run" not in run.output
    trace = CliRunner().invoke(main, ["trace", str(path), "--policy", "default",
                                      "--replication", "0", "--out", str(tmp_path / "t")])
    assert trace.exit_code == 1 and "amounts overflowed (" in trace.output
    assert trace.exception is None or isinstance(trace.exception, SystemExit)
