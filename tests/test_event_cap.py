"""The runtime event cap: a runaway replication is stopped with a clear message, and the cap
changes nothing for a replication within it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import pmo_sim as ps
from pmo_sim.cli import main
from pmo_sim.errors import ReplicationFailed
from pmo_sim.experiment.replicate import run_replication

BASELINE = Path(__file__).parent.parent / "scenarios" / "baseline.yaml"


def test_the_cap_changes_nothing_within_it() -> None:
    sc = ps.load_scenario(BASELINE)
    capped = run_replication(sc, 3, 5)  # the default budget
    free = run_replication(sc, 3, 5, max_events=None)
    for a, b in zip(capped, free, strict=True):
        assert a.kpis == pytest.approx(b.kpis, nan_ok=True)
        assert a.kpis["events"] == b.kpis["events"]


def test_a_runaway_replication_is_stopped_naming_policy_replication_and_seed() -> None:
    sc = ps.load_scenario(BASELINE)
    with pytest.raises(ReplicationFailed) as info:
        ps.run_experiment(sc, replications=2, seed=4, jobs=1, max_events=100, policies=["baseline"])
    message = str(info.value)
    assert "replication 0 of policy 'baseline' (seed 4)" in message
    assert "ran past 200 simulation events" in message and "--max-events" in message


def test_the_command_line_refuses_a_scenario_over_budget_and_stops_a_runaway(tmp_path: Path) -> None:
    over = CliRunner().invoke(main, ["run", str(BASELINE), "-n", "1", "--max-events", "100",
                                     "--out", str(tmp_path / "a")])
    assert over.exit_code == 2 and "above the budget of 100" in over.output
    assert not (tmp_path / "a").exists()
