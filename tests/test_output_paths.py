"""Every command that writes names a path that cannot be written, with exit code 2 and no
traceback, before it does the work: its output folder or file lies under a regular file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import run_experiment
from pmo_sim.files import is_temporary, write_atomically
from pmo_sim.scenario.loader import load_scenario

SCENARIOS = Path(__file__).parents[1] / "scenarios"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("inputs")
    scenario = write_tiny(base)
    run_experiment(load_scenario(scenario), replications=2, seed=1, jobs=1, out=base / "results")
    blocker = base / "a-file"
    blocker.write_text("not a folder")
    return {"scenario": scenario, "results": base / "results", "blocked": blocker / "x"}


COMMANDS = {
    "trace": lambda i: ["trace", str(i["scenario"]), "--policy", "base", "--replication", "0",
                        "--out", str(i["blocked"])],
    "sweep": lambda i: ["sweep", str(i["scenario"]), "--vary", "resources.dev.headcount=1,2", "-n",
                        "2", "-j", "1", "--out", str(i["blocked"])],
    "sensitivity": lambda i: ["sensitivity", str(i["scenario"]), "--vary",
                              "resources.dev.headcount=1:2", "-n", "2", "-j", "1", "--out",
                              str(i["blocked"])],
    "frontier": lambda i: ["frontier", str(SCENARIOS / "strategy.yaml"), "--budget", "1e6:2e6:2",
                           "-n", "2", "-j", "1", "--out", str(i["blocked"])],
    "roi": lambda i: ["roi", str(i["scenario"]), "--policy", "focused", "--against", "base", "-n",
                      "2", "-j", "1", "--out", str(i["blocked"])],
    "run": lambda i: ["run", str(i["scenario"]), "-n", "2", "-j", "1", "--out", str(i["blocked"])],
    "fit": lambda i: ["fit", str(SCENARIOS / "history" / "tasks.csv"), "--out",
                      str(i["blocked"] / "fragment.yaml")],
    "report": lambda i: ["report", str(i["results"]), "--out", str(i["blocked"] / "r.html")],
    "export xlsx": lambda i: ["export", str(i["results"]), "--xlsx", str(i["blocked"] / "r.xlsx")],
    "export ema": lambda i: ["export", str(i["results"]), "--ema", str(i["blocked"])],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_path_that_cannot_be_written_is_refused_without_a_traceback(
        inputs: dict[str, Path], command: str) -> None:
    result = CliRunner().invoke(main, COMMANDS[command](inputs))
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and "Exception ignored" not in result.output
    assert str(inputs["blocked"]) in result.output
    assert f"{inputs['blocked'].parent} is a file, not a folder" in result.output
    assert not inputs["blocked"].exists()


def test_an_atomic_write_leaves_the_old_file_or_the_new_one_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.txt"
    seen: list[Path] = []
    write_atomically(target, lambda tmp: (seen.append(tmp), tmp.write_text("one")))
    assert target.read_text() == "one"
    # beside the target, recognisably temporary, with its extension (matplotlib reads it)
    assert seen[0].parent == target.parent and is_temporary(seen[0].name) and seen[0].suffix == ".txt"

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as caught:
        write_atomically(target, half_then_fail)
    assert caught.value.filename == str(target)  # the file asked for, not the temporary one
    assert target.read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_a_pipe_or_device_in_an_outputs_place_is_refused_not_replaced(tmp_path: Path) -> None:
    # before: the rename replaced the node itself; `pmo-sim report --out /dev/null --force`,
    # run as root, replaced the system's /dev/null with the report (a pipe stands in here)
    import os

    pipe = tmp_path / "report.html"
    os.mkfifo(pipe)
    with pytest.raises(FileExistsError) as caught:
        write_atomically(pipe, lambda tmp: tmp.write_text("report"))
    assert caught.value.filename == str(pipe)
    out = tmp_path / "run"
    run_experiment(load_scenario(write_tiny(tmp_path), None), replications=2, seed=1, jobs=1, out=out)
    result = CliRunner().invoke(main, ["report", str(out), "--out", str(pipe), "--force"])
    assert result.exit_code == 2, result.output
    assert result.output == (f"error: {pipe}: exists and is not a file (a device, pipe or socket); "
                             f"pmo-sim writes only files: give another path\n")
    assert pipe.is_fifo() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
