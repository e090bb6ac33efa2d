"""The paths ``report``, ``export`` and ``fit`` print are escaped for the terminal, as names
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
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_path_with_control_characters_is_printed_escaped(
        command: str, results: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(main, COMMANDS[command](results, tmp_path))
    assert out.exit_code == 0, out.output
    assert "a\\nb\\x1b[2J" in out.stdout
    assert "\x1b" not in out.stdout and not any(line.startswith("b") for line in out.stdout.splitlines())
    assert any(ODD in p.name for p in tmp_path.iterdir())  # the file itself has the name asked for
