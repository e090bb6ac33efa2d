"""``days_per_year`` is at least 1: below, an annual rate's daily share and the window's
years overflow, and a run wrote NaN into KPIs it always fills (a cost of 0 x inf years),
then refused its own tables ("the results folder was changed during the run", exit 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main


def test_fewer_than_one_working_day_a_year_is_refused(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path)
    for value in ("1e-310", "0.5"):
        result = CliRunner().invoke(main, ["validate", str(scenario), "--set",
                                           f"days_per_year={value}"])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"--set:1:1: days_per_year: must be at least 1 (got {value})")
        out = tmp_path / f"run-{value}"
        result = CliRunner().invoke(main, ["run", str(scenario), "-n", "2", "-j", "1", "--quiet",
                                           "--out", str(out), "--set", f"days_per_year={value}"])
        assert result.exit_code == 2, result.output
        assert not out.exists()


def test_one_working_day_a_year_runs_and_its_results_are_read(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(scenario), "-n", "2", "-j", "1", "--quiet",
                                       "--out", str(out), "--set", "days_per_year=1",
                                       "--set", "discount_rate=10"])
    assert result.exit_code == 0, result.output
    kpis = pd.read_parquet(out / "replications.parquet")
    assert kpis[["total_cost", "npv", "labour_cost", "pmo_cost"]].notna().all().all()
    assert CliRunner().invoke(main, ["compare", str(out)]).exit_code == 0
