"""The paths the commands print (``report``, ``export``, ``fit``, ``trace``, ``sweep``,
``sensitivity``, ``schema``, ``new``) are escaped for the terminal, as names
are everywhere else: an output path holding a line break or an escape sequence stays one line
and acts on no terminal. Before, ``report --out $'/tmp/a\\nb.html'`` printed two lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import run_experiment
from pmo_sim.scenario.loader import load_scenario

HISTORY = Path(__file__).parents[1] / "scenarios" / "history" / "tasks.csv"
ODD = "a\nb\x1b[2J"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("inputs")
    run_experiment(load_scenario(write_tiny(base)), replications=2, seed=1, jobs=1, out=base / "r")
    return base / "r"


COMMANDS = {
    "report": lambda r, t: ["report", str(r), "--out", str(t / f"{ODD}.html")],
    "export --xlsx": lambda r, t: ["export", str(r), "--xlsx", str(t / f"{ODD}.xlsx")],
    "export --ema": lambda r, t: ["export", str(r), "--ema", str(t / ODD)],
    "fit": lambda r, t: ["fit", str(HISTORY), "--out", str(t / f"{ODD}.yaml")],
    "trace": lambda r, t: ["trace", str(r / "scenario.yaml"), "--policy", "base", "--replication", "0",
                           "--out", str(t / ODD)],
    "sweep": lambda r, t: ["sweep", str(r / "scenario.yaml"), "--vary", "resources.dev.headcount=3,4",
                           "-n", "2", "--policy", "base", "--out", str(t / ODD)],
    "sensitivity": lambda r, t: ["sensitivity", str(r / "scenario.yaml"), "--vary",
                                 "resources.dev.headcount=3:4", "-n", "2", "--policy", "base",
                                 "--out", str(t / ODD)],
    "schema": lambda r, t: ["schema", "--out", str(t / f"{ODD}.json")],
    "new": lambda r, t: ["new", "starter", "--dir", str(t / ODD)],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_path_with_control_characters_is_printed_escaped(
        command: str, results: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(main, COMMANDS[command](results, tmp_path))
    assert out.exit_code == 0, out.output
    shown = out.stdout + out.stderr  # (schema says where it wrote on stderr: stdout is for the schema)
    assert "a\\nb\\x1b[2J" in shown
    assert "\x1b" not in shown and not any(line.startswith("b") for line in shown.splitlines())
    assert any(ODD in p.name for p in tmp_path.iterdir())  # the file itself has the name asked for
