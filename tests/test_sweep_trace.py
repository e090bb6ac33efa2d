"""``pmo-sim sweep`` and ``pmo-sim trace`` on the tiny scenario of test_experiment: outputs, CRN,
and refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from test_experiment import write_tiny

import pmo_sim
from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.experiment.sweep import load_variants, parse_vary, sweep


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Two pools (dev 4, ana 2), ten projects with change requests; policies base, focused."""
    return write_tiny(tmp_path)


# --------------------------------------------------------------------------- --vary


@pytest.mark.parametrize("text, expected", [
    ("resources.dev.headcount=2,3,4", ("resources.dev.headcount", [2, 3, 4])),
    ("a.b=2:6:3", ("a.b", [2, 4, 6])),
    ("a.b=0:1:3", ("a.b", [0.0, 0.5, 1.0])),
    ("a.b=0.1:0.3:3", ("a.b", [0.1, 0.2, 0.3])),
    ("pmo.resource_manager.allocation=fifo, wsjf", ("pmo.resource_manager.allocation",
                                                     ["fifo", "wsjf"])),
])
def test_parse_vary(text: str, expected: tuple[str, list[object]]) -> None:
    assert parse_vary(text) == expected


@pytest.mark.parametrize("text", ["headcount", "a.b=", "a=1:x:3", "a=1:2:0", "a=[1, 2]"])
def test_parse_vary_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ScenarioError, match="--vary"):
        parse_vary(text)


def test_integer_fields_get_rounded_values(small: Path) -> None:
    path, values = parse_vary("resources.dev.headcount=2:3:3")  # 2, 2.5, 3
    assert [v for v, _ in load_variants(small, path, values)] == [2, 3]


# --------------------------------------------------------------------------- sweep


def test_sweep_rows_for_every_value_and_policy(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "sw"
    result = invoke("sweep", str(small), "--vary", "resources.dev.headcount=2,3,4", "-n", "3",
                    "-j", "1", "--metric", "mean_cycle_time", "--out", str(out), "--format", "csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == ["parameter", "value", "policy", "metric", "mean", "ci_low",
                                   "ci_high", "n"]
    assert list(table["value"]) == [2, 2, 3, 3, 4, 4]
    assert list(table["policy"]) == ["base", "focused"] * 3
    assert (table["n"] == 3).all() and (table["metric"] == "mean_cycle_time").all()
    assert (out / "sweep.png").stat().st_size > 0
    # More developers never slow the portfolio down in this model.
    base = table[table["policy"] == "base"]["mean"].to_numpy()
    assert base[0] >= base[-1]


def test_sweep_is_crn_and_independent_of_jobs(small: Path) -> None:
    kwargs = dict(metric="npv", replications=4, seed=5, policies=["focused"])
    one = sweep(small, "resources.dev.headcount", [2, 3], jobs=1, **kwargs)  # type: ignore[arg-type]
    two = sweep(small, "resources.dev.headcount", [2, 3], jobs=2, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(one, two)
    # The point at headcount 3 is exactly a plain run with --set headcount=3 and the same seed.
    sc = pmo_sim.load_scenario(small, {"resources.dev.headcount": 3})
    plain = pmo_sim.run_experiment(sc, replications=4, seed=5, jobs=1, policies=["focused"])
    assert one["mean"].iloc[1] == pytest.approx(plain.replications["npv"].mean(), rel=1e-12)


@pytest.mark.parametrize("vary, named", [
    ("resources.devs.headcount=2,3", "resources.devs.headcount"),
    ("resources.dev.headcount=2,lots", "resources.dev.headcount"),
])
def test_sweep_bad_vary_is_exit_2_naming_it(small: Path, vary: str, named: str) -> None:
    result = invoke("sweep", str(small), "--vary", vary, "-n", "2", "-j", "1")
    assert result.exit_code == 2
    assert "--vary" in result.output and named in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_sweep_unknown_metric_is_exit_2(small: Path) -> None:
    result = invoke("sweep", str(small), "--vary", "resources.dev.headcount=2", "--metric", "nvp")
    assert result.exit_code == 2 and "unknown metric 'nvp'" in result.output


# --------------------------------------------------------------------------- trace


def test_trace_writes_the_task_log_and_a_gantt_chart(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "tr"
    result = invoke("trace", str(small), "--policy", "focused", "--replication", "2", "--seed", "4",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Value delivered" in result.output
    log = pd.read_csv(out / "trace-focused-r2.csv")
    one = pmo_sim.simulate(pmo_sim.load_scenario(small), policy="focused", seed=4, replication=2)
    assert len(log) > 0
    pd.testing.assert_frame_equal(log, one.tasks, check_dtype=False)
    assert (out / "trace-focused-r2.png").stat().st_size > 1000


def test_trace_csv_on_stdout(small: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["trace", str(small), "--policy", "base", "--replication",
                                       "0", "--out", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "project,task,pool,ready,start,finish,effort,crew,people"


def test_trace_unknown_policy_is_exit_2(small: Path, tmp_path: Path) -> None:
    result = invoke("trace", str(small), "--policy", "nope", "--replication", "0",
                    "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown policy 'nope'" in result.output and "base, focused" in result.output
