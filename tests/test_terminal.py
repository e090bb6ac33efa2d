"""The terminal: output that fits 80 columns, progress bars, and the --precision exit code.

Commands run through Click's CliRunner with ``COLUMNS=80`` (what rich reads for the width of a
console that is not a terminal), on the tiny scenario of test_experiment; the table helper is
also checked against a rich Console of width 80 directly.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len
from rich.console import Console
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.cli.output import Col, print_table, progress_bar
from pmo_sim.cli.run_cmds import EXIT_PRECISION_NOT_MET

TRAINING = str(Path(__file__).parents[1] / "scenarios" / "training.yaml")


def invoke(*args: str, columns: int = 80) -> Result:
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(main, list(args))


def too_long(text: str, width: int = 80) -> list[str]:
    return [line for line in text.splitlines() if cell_len(line) > width]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a temporary folder, so results paths are short and relative, as usual."""
    monkeypatch.chdir(tmp_path)
    write_tiny(tmp_path)
    return tmp_path


def test_run_compare_and_roi_fit_80_columns(here: Path) -> None:
    run = invoke("run", "tiny.yaml", "-n", "6", "-j", "1", "--out", "r")
    assert run.exit_code == 0, run.output
    assert not too_long(run.stdout), too_long(run.stdout)
    assert "not shown at 80 columns" in run.stdout            # it dropped columns, not wrapped
    for args in (("compare", "r"), ("compare", "r", "--verbose")):
        res = invoke(*args)
        assert res.exit_code == 0 and not too_long(res.stdout), too_long(res.stdout)
    roi = invoke("roi", TRAINING, "--policy", "upskill", "--programme", "dev-course", "-n", "3",
                 "-j", "1", "--out", "course")
    assert roi.exit_code == 0, roi.output
    assert not too_long(roi.stdout), too_long(roi.stdout)
    wide = invoke("run", "tiny.yaml", "-n", "6", "-j", "1", "--out", "r2", columns=200)
    assert "not shown" not in wide.stdout                     # room for every column


def test_tables_drop_the_least_important_columns_first() -> None:
    buffer = io.StringIO()
    narrow = Console(file=buffer, width=80)
    columns = [Col("policy", "left")] + [Col(f"KPI number {i}\n(EUR)", priority=i) for i in range(9)]
    rows = [["a_rather_long_policy_name", *[f"{i}.23M ±45k ✓" for i in range(9)]]]
    dropped = print_table("A table", columns, rows, out=narrow)
    text = buffer.getvalue()
    assert not too_long(text) and dropped
    assert dropped == [f"KPI number {i} (EUR)" for i in range(9 - len(dropped), 9)]
    assert "KPI number 0" in text and "a_rather_long_policy_name" in text
    assert print_table("A table", columns, rows, out=Console(file=io.StringIO(), width=400)) == []


def test_progress_bar_shows_the_half_width_against_the_target() -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, width=120)
    with progress_bar(True, out=terminal) as view:
        assert view is not None
        view.update(40, 100)
        view.precision(0.031, 0.01, "npv")
        view._bar.refresh()
    assert "40/100" in buffer.getvalue() and "npv half-width 3.10% (target 1.00%)" in buffer.getvalue()
    with progress_bar(False) as nothing:
        assert nothing is None


def test_precision_not_met_exits_3_with_what_was_reached(here: Path) -> None:
    res = invoke("run", "tiny.yaml", "-n", "4", "-j", "1", "--out", "p", "--precision", "0.05",
                 "--max-replications", "6")
    assert res.exit_code == EXIT_PRECISION_NOT_MET == 3, res.output
    manifest = json.loads((here / "p" / "manifest.json").read_text())
    spec = manifest["precision"]
    assert spec["target_met"] is False and manifest["replications"] == 6
    needed = math.ceil((spec["half_width_rel"] / 0.05) ** 2 * 6)
    words = " ".join(res.stdout.split())
    assert "precision target NOT met: after 6 replications" in words
    assert f"{spec['half_width_rel']:.2%}" in words and f"about {needed:,} replications" in words
    assert "Traceback" not in res.output
    as_json = invoke("run", "tiny.yaml", "-n", "4", "-j", "1", "--out", "p", "--resume",
                     "--precision", "0.05", "--max-replications", "6", "--format", "json")
    assert as_json.exit_code == 3 and "NOT met" in as_json.stderr
    assert json.loads(as_json.stdout)["precision"]["target_met"] is False


def test_precision_met_exits_0(here: Path) -> None:
    res = invoke("run", "tiny.yaml", "-n", "4", "-j", "1", "--out", "q", "--precision", "10")
    assert res.exit_code == 0, res.output
    assert "precision target met" in " ".join(res.stdout.split())


def test_a_neutral_decision_metric_runs_without_a_verdict(here: Path) -> None:
    res = invoke("run", "tiny.yaml", "-n", "4", "-j", "1", "--out", "u", "--metric", "utilisation")
    assert res.exit_code == 0, res.output
    assert "No verdict: the decision metric is neutral" in res.stdout
    doc = json.loads(invoke("compare", "u", "--format", "json").stdout)
    assert doc["verdict"] and doc["best"]["metric"] == "npv"
    refused = invoke("compare", "u", "--metric", "utilisation")
    assert refused.exit_code == 2 and "neutral" in refused.output
