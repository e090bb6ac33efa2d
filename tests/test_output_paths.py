"""Every command that writes names a path that cannot be written, with exit code 2 and no
traceback, before it does the work: its output folder or file lies under a regular file."""

from __future__ import annotations

import os
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


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("where", ["nowhere", "itself"])
def test_an_output_folder_under_a_link_to_nothing_is_refused_saying_so(
        inputs: dict[str, Path], tmp_path: Path, command: str, where: str) -> None:
    # before: "cannot write the results folder L: File exists" for a link to a missing
    # folder, and a traceback (RuntimeError: Symlink loop) for a link to itself
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone" if where == "nowhere" else link)
    args = COMMANDS[command]({**inputs, "blocked": link / "x"})
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and "File exists" not in result.output
    said = f"{link} is a symbolic link to {tmp_path / 'gone' if where == 'nowhere' else link}, " + (
        "which leads to nothing that exists; create the folder it names, remove the link, or give "
        "another path" if where == "nowhere" else "which leads back to itself (a loop of links), "
        "remove the link, or give another path")
    assert said in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"] and link.is_symlink()


@pytest.mark.parametrize("target", ["run", "nowhere", "itself"])
def test_run_out_a_link_to_nothing_is_refused_saying_so(inputs: dict[str, Path], tmp_path: Path,
                                                        target: str) -> None:
    link = tmp_path / "out"
    link.symlink_to({"run": tmp_path / "gone", "nowhere": tmp_path / "gone" / "deeper",
                     "itself": link}[target])
    result = CliRunner().invoke(main, ["run", str(inputs["scenario"]), "-n", "2", "-j", "1",
                                       "--out", str(link), "--quiet"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.output.startswith(f"error: cannot write the results folder {link}: "), result.output
    assert f"{link} is a symbolic link to {os.readlink(link)}, which lea" in result.output
    assert ("(a loop of links)" if target == "itself" else "to nothing that exists; create the "
            "folder it names") in result.output, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and link.is_symlink()


FILE_OUTPUTS = {
    "report": lambda i, out: ["report", str(i["results"]), "--out", str(out)],
    "export xlsx": lambda i, out: ["export", str(i["results"]), "--xlsx", str(out)],
    "fit": lambda i, out: ["fit", str(SCENARIOS / "history" / "tasks.csv"), "--out", str(out)],
}


@pytest.mark.parametrize("command", list(FILE_OUTPUTS))
def test_an_output_file_that_is_a_link_to_nothing_is_kept_without_force(
        inputs: dict[str, Path], tmp_path: Path, command: str) -> None:
    # before: report, export --xlsx and fit replaced such a link with their file, unasked
    link = tmp_path / "out.xlsx"
    link.symlink_to(tmp_path / "gone.xlsx")
    result = CliRunner().invoke(main, FILE_OUTPUTS[command](inputs, link))
    assert result.exit_code == 2, (result.output, result.exception)
    assert f"{link} already exists; use --force to overwrite it" in result.output \
        or f"{link} exists; use --force to overwrite it" in result.output, result.output
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "gone.xlsx")
    result = CliRunner().invoke(main, [*FILE_OUTPUTS[command](inputs, link), "--force"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert link.is_file() and not link.is_symlink()
