"""No command's output replaces a results folder's own files (SPEC 9), even with ``--force``:
its manifest, scenario, summary and tables, and nothing is written into its ``chunks/`` —
whichever results folder the path is in, not only the one a command reads. Before, ``pmo-sim
report R --out R/manifest.json --force`` replaced R's manifest with the report. A new file in
a results folder (the report's default ``R/report.html``) is still written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import run_experiment
from pmo_sim.experiment.manifest import chunk_file_name
from pmo_sim.experiment.store import OWN_FILES
from pmo_sim.scenario.loader import load_scenario

SCENARIOS = Path(__file__).parents[1] / "scenarios"
OWN = "an output written there would destroy the results, with or without --force; give another path"
IN_CHUNKS = "chunks/, which only its run writes; give another path"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two complete results folders (``read`` and ``other``) of a tiny scenario."""
    base = tmp_path_factory.mktemp("own")
    scenario = write_tiny(base)
    for name in ("read", "other"):
        run_experiment(load_scenario(scenario), replications=2, seed=1, jobs=1, out=base / name)
        (base / name / "chunks").mkdir()  # as a partial run has it
    return {"scenario": scenario, "read": base / "read", "other": base / "other"}


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


COMMANDS = {
    "report": lambda f, t: ["report", str(f["read"]), "--out", str(t), "--force"],
    "export xlsx": lambda f, t: ["export", str(f["read"]), "--xlsx", str(t), "--force"],
    "export ema": lambda f, t: ["export", str(f["read"]), "--ema", str(t.parent), "--force"],
    "fit": lambda f, t: ["fit", str(SCENARIOS / "history" / "tasks.csv"), "--out", str(t),
                         "--force"],
    "fit figures": lambda f, t: ["fit", str(SCENARIOS / "history" / "tasks.csv"), "--out",
                                 str(f["read"].parent / "fragment.yaml"), "--figures",
                                 str(t.parent), "--force"],
    "import": lambda f, t: ["import", "psplib", str(next((Path(__file__).parent / "data" / "psplib"
                                                          / "j30").glob("*.sm"))),
                            "--out", str(t), "--force"],
    "schema": lambda f, t: ["schema", "--out", str(t), "--force"],
    "sweep": lambda f, t: ["sweep", str(f["scenario"]), "--vary", "resources.dev.headcount=1,2",
                           "-n", "2", "-j", "1", "--out", str(t.parent), "--force", "--quiet"],
    "trace": lambda f, t: ["trace", str(f["scenario"]), "--policy", "base", "--replication", "0",
                           "--out", str(t.parent), "--force"],
    "run": lambda f, t: ["run", str(f["scenario"]), "-n", "2", "-j", "1", "--out", str(t),
                         "--force", "--quiet"],
}
#: A target of each kind, in the folder read (``report``, ``export``) or in another one.
TARGETS = {
    "report": ("read", "manifest.json"), "export xlsx": ("other", "chunks/x.xlsx"),
    "export ema": ("read", "chunks/experiments.csv"), "fit": ("other", "scenario.yaml"),
    "fit figures": ("other", "chunks/effort-dev.png"), "import": ("read", "scenario.yaml"),
    "schema": ("other", "summary.csv"), "sweep": ("other", "chunks/sweep.csv"),
    "trace": ("read", "chunks/trace-base-r0.csv"), "run": ("other", "chunks"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_output_replaces_a_results_folders_own_files(folders: dict[str, Path],
                                                         command: str) -> None:
    which, name = TARGETS[command]
    target = folders[which] / name
    before = {k: _snapshot(folders[k]) for k in ("read", "other")}
    result = CliRunner().invoke(main, COMMANDS[command](folders, target))
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert str(folders[which] / name.split("/")[0]) in result.output
    assert (IN_CHUNKS if "/" in name else OWN) in result.output
    assert {k: _snapshot(folders[k]) for k in ("read", "other")} == before
    assert not (folders["read"].parent / "fragment.yaml").exists()  # refused before any work


def test_the_messages(folders: dict[str, Path]) -> None:
    read = folders["read"]
    result = CliRunner().invoke(main, ["report", str(read), "--out", str(read / "manifest.json")])
    # not "already exists; use --force": --force would be refused too
    assert result.exit_code == 2
    assert result.output == (f"error: {read}/manifest.json: is the results folder {read}'s own "
                             f"manifest.json: {OWN}\n")
    result = CliRunner().invoke(main, ["report", str(read), "--out", str(read / "chunks" / "r.html")])
    assert result.exit_code == 2
    assert result.output == (f"error: {read}/chunks/r.html: lies in the results folder "
                             f"{read.resolve()}'s {IN_CHUNKS}\n")


def test_a_new_file_in_a_results_folder_is_still_written(folders: dict[str, Path]) -> None:
    read = folders["read"]
    result = CliRunner().invoke(main, ["report", str(read)])
    assert result.exit_code == 0, result.output
    assert (read / "report.html").is_file()
    result = CliRunner().invoke(main, ["report", str(read), "--force"])  # and replaced
    assert result.exit_code == 0, result.output
    (read / "report.html").unlink()


def test_every_file_a_run_owns_is_refused(folders: dict[str, Path]) -> None:
    # the files --force clears (store.OWN_FILES) and the chunk files: one list, one rule
    from pmo_sim.files import refuse_results_file

    for name in (*OWN_FILES, "chunks", chunk_file_name(0, 2, "projects")):
        with pytest.raises(PermissionError):
            refuse_results_file(folders["other"] / name)
    refuse_results_file(folders["other"] / "report.html")
    refuse_results_file(folders["other"].parent / "manifest.json")  # not a results folder


def test_run_out_a_link_to_a_results_folders_chunks_is_refused(folders: dict[str, Path],
                                                                tmp_path: Path) -> None:
    # before: the link was not followed, and --force wrote a whole results folder (manifest,
    # scenario, tables) into the partial folder's chunks/
    other = folders["other"]
    before = _snapshot(other)
    link = tmp_path / "link"
    link.symlink_to(other / "chunks")
    result = CliRunner().invoke(main, COMMANDS["run"](folders, link))
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.output == (f"error: {link}: is a link to the results folder {other.resolve()}'s "
                             f"own chunks: {OWN}\n")
    deeper = tmp_path / "deeper"
    deeper.symlink_to(other / "chunks" / "sub")
    result = CliRunner().invoke(main, COMMANDS["run"](folders, deeper))
    assert result.exit_code == 2, (result.output, result.exception)
    assert IN_CHUNKS in result.output
    assert _snapshot(other) == before
    assert not (other / "chunks" / "sub").exists()
