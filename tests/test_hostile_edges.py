"""Edges a hostile-input probe found (stop 25): each must end in exit 2 with a message, never
a traceback, and no file outside the output folder may change.

- an indifference zone whose square is not a float (``--delta inf``, ``1e308``, ``1e-320``);
- KPI values that are infinite, or so large that their sums overflow, in an edited
  ``replications.parquet``;
- a ``manifest.json`` holding an integer of thousands of digits (Python's conversion limit);
- outputs of ``trace``, ``sweep``, ``sensitivity``, ``frontier`` and ``schema --out`` whose
  names are symbolic links to files elsewhere: the link is replaced, the file it points to
  is left alone.

And (stop 26): options that are not finite numbers (``--precision inf``, ``--max-events
nan``); staffing changes that take a pool beyond the headcount limit; budgets beyond a
quadrillion; a manifest of another format or a newer format version, read or resumed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import run_experiment
from pmo_sim.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("edges")
    out = base / "run"
    run_experiment(load_scenario(write_tiny(base), None), replications=6, seed=3, jobs=1, out=out)
    return out


def edited_copy(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished run's folder, for a test to edit."""
    folder = tmp_path / "edited"
    shutil.copytree(finished, folder)
    return folder


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("delta,message", [
    ("inf", "Invalid value for '--delta': 'inf' is not a finite number"),
    ("1e308", "indifference zone delta must be positive, between"),
    ("1e-320", "indifference zone delta must be positive, between"),
])
def test_an_indifference_zone_without_a_square_is_refused(finished: Path, delta: str, message: str) -> None:
    code, output = invoke("compare", str(finished), "--delta", delta)
    assert code == 2
    assert message in output and "Traceback" not in output


@pytest.mark.parametrize("value,rows", [(float("inf"), 1), (-float("inf"), 1), (1e308, None)])
def test_kpis_whose_sums_overflow_are_refused_by_compare(finished: Path, tmp_path: Path,
                                                          value: float, rows: int | None) -> None:
    # one infinite value, or every value finite and their sum not
    folder = edited_copy(finished, tmp_path)
    path = folder / "replications.parquet"
    table = pq.read_table(path)
    npv = table.column("npv").to_pylist()
    npv[:rows] = [value] * len(npv[:rows])
    i = table.schema.get_field_index("npv")
    pq.write_table(table.set_column(i, "npv", pa.array(npv, pa.float64())), path)
    for command in (["compare"], ["report", "--out", str(tmp_path / "r.html")],
                    ["export", "--xlsx", str(tmp_path / "b.xlsx")]):
        with warnings.catch_warnings():  # and no numpy warnings on stderr before the message
            warnings.simplefilter("error", RuntimeWarning)
            code, output = invoke(command[0], str(folder), *command[1:])
        assert code == 2, output
        assert "metric 'npv' has infinite values, or values beyond" in output
        assert "Traceback" not in output


def test_a_manifest_with_an_integer_of_thousands_of_digits_is_refused(finished: Path,
                                                                      tmp_path: Path) -> None:
    folder = edited_copy(finished, tmp_path)
    manifest = folder / "manifest.json"
    text = manifest.read_text()
    data = json.loads(text)
    manifest.write_text(text.replace(f'"seed": {data["seed"]}', '"seed": 1' + "0" * 5000, 1))
    code, output = invoke("compare", str(folder))
    assert code == 2
    assert "manifest.json holds a number pmo-sim never writes" in output


def test_trace_replaces_a_symbolic_link_in_its_place(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path)
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n")
    out = tmp_path / "traces"
    out.mkdir()
    link = out / "trace-base-r0.csv"
    link.symlink_to(victim)
    args = ("trace", str(scenario), "--policy", "base", "--replication", "0", "--out", str(out))
    code, output = invoke(*args)
    assert code == 2 and f"{link} already exists; use --force to overwrite it" in output
    assert link.is_symlink() and victim.read_text() == "precious\n"
    code, output = invoke(*args, "--force")
    assert code == 0, output
    assert victim.read_text() == "precious\n"  # nothing written through the link
    assert not link.is_symlink() and link.read_text().startswith("project,")


def test_schema_out_replaces_a_symbolic_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("precious\n")
    link = tmp_path / "schema.json"
    link.symlink_to(victim)
    code, output = invoke("schema", "--out", str(link))
    assert code == 2 and "already exists" in output and link.is_symlink()
    code, output = invoke("schema", "--out", str(link), "--force")
    assert code == 0, output
    assert victim.read_text() == "precious\n"
    assert not link.is_symlink() and json.loads(link.read_text())["title"]


def test_a_full_disk_while_the_tables_are_written_keeps_every_finished_chunk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finished: Path) -> None:
    # 6 replications in one quick run: the manifest on disk was never rewritten since it
    # began (at most once a second), so it listed no chunk when consolidation failed
    from pmo_sim.experiment.store import ResultsFolder, StoreError

    scenario = load_scenario(write_tiny(tmp_path), None)
    out = tmp_path / "run"
    original = ResultsFolder.write_table

    def full(self: ResultsFolder, table: str, policies: list[str], sized: object = None) -> None:
        raise StoreError(f"cannot write {self.path / table}.parquet: No space left on device")

    monkeypatch.setattr(ResultsFolder, "write_table", full)
    with pytest.raises(StoreError, match=r"6 of 6 replications are kept in .*continue with: .*--resume"):
        run_experiment(scenario, replications=6, seed=3, jobs=1, out=out,
                       command=f"pmo-sim run tiny.yaml -n 6 --seed 3 --out {out}")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial"
    assert sum(c["stop"] - c["start"] for c in manifest["chunks"]) == 6
    monkeypatch.setattr(ResultsFolder, "write_table", original)
    resumed = run_experiment(scenario, replications=6, seed=3, jobs=1, out=out, resume=True)
    expected = pq.read_table(finished / "replications.parquet").to_pandas()
    assert resumed.replications.equals(expected)


def test_a_folder_deleted_while_chunks_are_written_keeps_nothing_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # before: "cannot write to the results folder DIR: No such file or directory; 0 of 6
    # replications are kept in DIR; continue with: ... --resume", of a folder that was gone
    from pmo_sim.experiment.store import ResultsFolder

    scenario = write_tiny(tmp_path)
    out = tmp_path / "run"
    original = ResultsFolder.add_chunk
    calls: list[int] = []

    def deleted(self: ResultsFolder, *args: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            shutil.rmtree(self.path)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ResultsFolder, "add_chunk", deleted)
    code, output = invoke("run", str(scenario), "-n", "6", "--seed", "3", "-j", "1", "--chunk-size",
                          "2", "--out", str(out), "--quiet")
    assert code == 1
    assert output == (f"error: the results folder {out} disappeared during the run (deleted or "
                      f"moved): nothing of the run is kept in {out}; run it again\n")


def test_a_chunk_deleted_before_a_precision_check_reads_it_is_a_failure_of_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # before: exit 2, the deleted chunk file named as if it were bad input
    from pmo_sim.experiment import store
    from pmo_sim.experiment.store import ResultsFolder

    # the chunks read back from their files, as a long run does (a short one reads the
    # chunks it kept in memory, whatever became of their files)
    monkeypatch.setattr(store, "KEEP_BYTES", 0)
    scenario = write_tiny(tmp_path)
    out = tmp_path / "run"
    original = ResultsFolder.add_chunk

    def deleting(self: ResultsFolder, start: int, *args: object) -> None:
        original(self, start, *args)  # type: ignore[arg-type]
        if start == 2:
            (self.path / "chunks" / "0000000-0000002.replications.parquet").unlink()

    monkeypatch.setattr(ResultsFolder, "add_chunk", deleting)
    code, output = invoke("run", str(scenario), "-n", "4", "--seed", "3", "-j", "1", "--chunk-size",
                          "2", "--out", str(out), "--quiet", "--precision", "0.001")
    assert code == 1, output
    assert output.startswith(f"error: the results folder {out} was changed during the run: "
                             f"{out}/chunks/0000000-0000002.replications.parquet is unreadable")
    assert "Traceback" not in output and output.count("\n") == 1
    assert f"replications are kept in {out}; continue with: " in output


def test_read_bounded_stops_at_its_limit_whatever_the_file(tmp_path: Path) -> None:
    from pmo_sim.files import FileRefused, read_bounded

    with pytest.raises(FileRefused, match="larger than 1,024 bytes"):
        read_bounded("/dev/zero", 1024)  # a device that never ends: read up to the limit
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2049)
    with pytest.raises(FileRefused, match="larger than 2,048 bytes"):
        read_bounded(big, 2048)
    assert read_bounded(big, 2049) == b"x" * 2049
    r, w = os.pipe()  # a pipe is read like a file (a shell's <(...))
    os.write(w, b"project,task\n")
    os.close(w)
    try:
        assert read_bounded(f"/dev/fd/{r}", 100) == b"project,task\n"
    finally:
        os.close(r)


def test_fit_and_import_refuse_a_device_at_their_limits(tmp_path: Path) -> None:
    link = tmp_path / "zero.sm"
    link.symlink_to("/dev/zero")
    code, output = invoke("fit", "/dev/zero", "--out", str(tmp_path / "f.yaml"))
    assert code == 2 and "/dev/zero: larger than 64 MiB: not a history CSV" in output
    code, output = invoke("import", "psplib", str(link))
    assert code == 2 and "larger than 10 MB: not an instance file" in output
    assert "Traceback" not in output


def write_history(folder: Path, actual: Callable[[int, int], str], projects: int, tasks: int) -> Path:
    """A history CSV of ``projects`` x ``tasks`` developer tasks estimated at 3.5 days, task
    ``t`` of project ``p`` taking ``actual(p, t)``."""
    rows = ["project,task,skill,estimate,actual,start,finish"]
    rows += [f"P{p},t{t},dev,3.5,{actual(p, t)},2024-01-{10 + p:02d},2024-01-{20 + p:02d}"
             for p in range(projects) for t in range(tasks)]
    history = folder / "history.csv"
    history.write_text("\n".join(rows) + "\n")
    return history


def test_fit_refuses_efforts_no_task_has(tmp_path: Path) -> None:
    history = write_history(tmp_path, lambda p, t: "1e308", projects=4, tasks=3)
    code, output = invoke("fit", str(history), "--out", str(tmp_path / "f.yaml"))
    assert code == 2
    assert "history.csv:2:" in output and "is more than 1e+06 person-days" in output
    assert not (tmp_path / "f.yaml").exists()


@pytest.mark.parametrize("where", ["scenario.yaml", "chunks/tiny.yaml"])
def test_run_force_never_clears_the_scenario_file_it_runs(tmp_path: Path, where: str) -> None:
    out = tmp_path / "out"
    scenario = out / where
    scenario.parent.mkdir(parents=True)
    text = write_tiny(tmp_path).read_text() + "# the user's own comment\n"
    scenario.write_text(text)
    code, output = invoke("run", str(scenario), "-n", "2", "-q", "--out", str(out), "--force")
    assert code == 2
    assert "--force would replace or delete the scenario file" in output
    assert scenario.read_text() == text


# --------------------------------------------------------------------------- stop 26


@pytest.mark.parametrize("args,option", [
    (("run", "--precision", "inf", "--metric", "npv"), "--precision"),
    (("run", "--precision", "nan", "--metric", "npv"), "--precision"),
    (("run", "--max-events", "inf"), "--max-events"),
    (("run", "--max-events", "nan"), "--max-events"),
    (("validate", "--max-events", "-inf"), "--max-events"),
])
def test_options_that_are_not_finite_numbers_are_refused(tmp_path: Path, args: tuple[str, ...],
                                                         option: str) -> None:
    # before: inf met every precision target at once; nan and inf --max-events failed every
    # replication with a conversion error
    scenario = write_tiny(tmp_path)
    code, output = invoke(args[0], str(scenario), *args[1:], "-n", "2", "--out", str(tmp_path / "o")) \
        if args[0] == "run" else invoke(args[0], str(scenario), *args[1:])
    assert code == 2
    assert f"Invalid value for '{option}'" in output
    assert not (tmp_path / "o").exists()


def test_a_delta_that_is_not_a_number_is_refused(finished: Path) -> None:
    code, output = invoke("compare", str(finished), "--delta", "nan")
    assert code == 2 and "'nan' is not a finite number" in output


STAFFED = """\
name: staffed
horizon: 100
resources:
  dev: {headcount: 4, day_rate: 500}
projects:
  - name: a
    tasks:
      - {name: t, skill: dev, effort: 5}
pmo:
  resource_manager:
    staffing:
"""


@pytest.mark.parametrize("changes,message", [
    (["{day: 1, pool: dev, change: 100001}"], "staffing.0.change: must be at most 100000"),
    (["{day: 1, pool: dev, change: -100001}"], "staffing.0.change: must be at least -100000"),
    # each change within bounds, their sum not: refused at the change that crosses (in day order)
    (["{day: 5, pool: dev, change: 60000}", "{day: 2, pool: dev, change: 60000}"],
     "staffing.0.change: would take pool 'dev' above 100,000 people (it has 60,004 on day 5"),
])
def test_staffing_changes_never_take_a_pool_beyond_the_headcount_limit(
        tmp_path: Path, changes: list[str], message: str) -> None:
    # before: three changes of 100,000 people each simulated for minutes a replication
    path = tmp_path / "staffed.yaml"
    path.write_text(STAFFED + "".join(f"      - {c}\n" for c in changes))
    code, output = invoke("validate", str(path))
    assert code == 2 and message in output and "Traceback" not in output


@pytest.mark.parametrize("amount,where", [("1e300", "budget.per_year.0"),
                                          ("[1e5, 2e16]", "budget.per_year.1")])
def test_a_budget_beyond_a_quadrillion_is_refused(amount: str, where: str) -> None:
    strategy = Path(__file__).resolve().parents[1] / "scenarios" / "strategy.yaml"
    code, output = invoke("validate", str(strategy), "--set", f"budget.per_year={amount}")
    assert code == 2 and f"{where}: must be at most 1e+15" in output


@pytest.mark.parametrize("edit,message", [
    (('"format": "pmo-sim-results"', '"format": "someone-elses"'),
     "is not a pmo-sim results folder: its manifest.json says it holds 'someone-elses'"),
    (('"format_version": 1', '"format_version": 2'),
     "its results are in format version 2; this pmo-sim (0.1.0) reads version 1 (a newer pmo-sim"),
    (('"format_version": 1', '"format_version": 0'), "its results are in format version 0"),
])
def test_a_manifest_of_another_format_or_a_newer_version_is_refused(
        finished: Path, tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    # by every reader and by a resume, which would otherwise add chunks to a layout it
    # does not know
    folder = edited_copy(finished, tmp_path)
    manifest = folder / "manifest.json"
    text = manifest.read_text()
    assert edit[0] in text
    manifest.write_text(text.replace(edit[0], edit[1]))
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    code, output = invoke("compare", str(folder))
    assert code == 2 and message in output
    scenario = write_tiny(tmp_path)
    code, output = invoke("run", str(scenario), "-n", "8", "--seed", "3", "-j", "1", "--out", str(folder),
                          "--resume")
    assert code == 2 and message in output
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("command", ["validate", "fit"])
def test_a_named_pipe_nothing_comes_through_is_given_up_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          command: str) -> None:
    # before: opening it waited for a writer forever
    from pmo_sim import files

    monkeypatch.setattr(files, "PIPE_IDLE_S", 0.3)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    args = [command, str(pipe)] + (["--out", str(tmp_path / "f.yaml")] if command == "fit" else [])
    code, output = invoke(*args)
    assert code == 2
    assert f"{pipe}" in output and "a pipe nothing came through for 0.3 s" in output


def test_a_named_pipe_a_program_writes_to_is_read(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    text = write_tiny(tmp_path).read_text()

    def writer() -> None:
        time.sleep(0.2)  # the reader waits for it
        with open(pipe, "w") as fh:
            fh.write(text[:100])
            time.sleep(0.1)
            fh.write(text[100:])

    thread = threading.Thread(target=writer)
    thread.start()
    code, output = invoke("validate", str(pipe))
    thread.join()
    assert code == 0 and output.startswith("ok"), output


HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history" / "tasks.csv"
PSPLIB = Path(__file__).resolve().parent / "data" / "psplib" / "j30" / "j301_1.sm"


def fill(disk: Path) -> Path:
    """Fill ``disk`` up with one file, which is returned."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh, pytest.raises(OSError):
        while True:
            fh.write(b"\0" * 4096)
    return filler


@pytest.mark.parametrize("args", [
    ("export", "{run}", "--xlsx", "{disk}/book.xlsx"),
    ("export", "{run}", "--ema", "{disk}/ema"),
    ("report", "{run}", "--out", "{disk}/report.html"),
    ("schema", "--out", "{disk}/schema.json"),
    ("new", "starter", "--dir", "{disk}"),
    ("fit", "{history}", "--out", "{disk}/fitted.yaml"),
    ("import", "psplib", "{psplib}", "--out", "{disk}/imported.yaml"),
    ("trace", "{scenario}", "--policy", "base", "--replication", "0", "--out", "{disk}/trace"),
    ("sweep", "{scenario}", "--vary", "resources.dev.headcount=2,3", "-n", "2", "-j", "1", "--out",
     "{disk}/sweep"),
    ("run", "{scenario}", "-n", "2", "-j", "1", "--out", "{disk}/run"),
    ("roi", "{scenario}", "--policy", "focused", "--against", "base", "-n", "2", "-j", "1", "--out",
     "{disk}/roi"),
])
def test_a_full_disk_is_a_failure_of_the_machine_and_leaves_no_file(
        finished: Path, tiny_disk: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    # before: export --xlsx ended in openpyxl's zip file failing again in its finaliser, a
    # traceback after the message; new left an empty starter scenario; and every command but
    # run's chunks exited 2, which SPEC 6 keeps for bad input: a full disk is exit 1
    import subprocess
    import sys

    filler = fill(tiny_disk)
    values = {"run": finished, "disk": tiny_disk, "history": HISTORY, "psplib": PSPLIB,
              "scenario": write_tiny(tmp_path)}
    pmo_sim = str(Path(sys.executable).with_name("pmo-sim"))
    done = subprocess.run([pmo_sim, *(a.format(**values) for a in args)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and f"{tiny_disk}/" in done.stderr  # the file named
    assert "No space left on device" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    left = [p for p in tiny_disk.rglob("*") if p != filler]
    assert left == []


@pytest.mark.parametrize("command", [("forecast", "{run}", "--format", "csv"), ("schema",),
                                     ("validate", "{scenario}", "--format", "json")])
def test_standard_output_on_a_full_disk_is_named_and_a_failure(
        finished: Path, tiny_disk: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
    # before: "error: No space left on device", exit 2
    import subprocess
    import sys

    fill(tiny_disk)
    pmo_sim = str(Path(sys.executable).with_name("pmo-sim"))
    values = {"run": finished, "scenario": write_tiny(tmp_path)}
    with open(tiny_disk / "out.txt", "w") as stdout:
        done = subprocess.run([pmo_sim, *(a.format(**values) for a in command)], stdout=stdout,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"error: cannot write standard output ({tiny_disk / 'out.txt'}): "
                           "No space left on device\n")


@pytest.mark.parametrize("args,shown", [
    (("report", "{run}", "--out", "{file}/report.html"),
     "{file}/report.html: {file} is a file, not a folder"),
    (("fit", "{history}", "--out", "{file}/sub/fitted.yaml"), "{file} is a file, not a folder"),
    (("export", "{run}", "--xlsx", "{file}/book.xlsx"), "{file}/book.xlsx: {file} is a file, not a folder"),
    (("run", "{scenario}", "-n", "1", "--out", "{file}/run"),
     "cannot write the results folder {file}/run: {file} is a file, not a folder"),
])
def test_a_file_where_a_folder_should_be_is_named(finished: Path, tmp_path: Path,
                                                  args: tuple[str, ...], shown: str) -> None:
    # before: "File exists" (report, export, fit) or "Not a directory"
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    root = Path(__file__).resolve().parents[1]
    values = {"run": finished, "file": file, "history": root / "scenarios" / "history" / "tasks.csv",
              "scenario": write_tiny(tmp_path)}
    code, output = invoke(*(a.format(**values) for a in args))
    assert code == 2 and shown.format(**values) in output
    assert file.read_text() == "mine\n"


def test_a_scenario_file_replaced_in_a_results_folder_is_not_trusted(finished: Path,
                                                                     tmp_path: Path) -> None:
    # before: the forecast, report and workbook put the other scenario's projects, due dates,
    # description and money on these results
    folder = edited_copy(finished, tmp_path)
    scenario = folder / "scenario.yaml"
    text = scenario.read_text()
    assert "due: 40" in text
    assert "\ndescription: " in text
    text = text.replace("due: 40", "due: 400").replace("\ndescription: ", "\ndescription: SWAPPED ")
    scenario.write_text(text)
    refused = f"{scenario} is not the scenario these results came from"
    code, output = invoke("forecast", str(folder))
    assert code == 2 and refused in output
    # the report and the workbook do without it, as without a scenario that no longer loads
    code, output = invoke("report", str(folder), "--out", str(tmp_path / "r.html"))
    assert code == 0, output
    assert "SWAPPED" not in (tmp_path / "r.html").read_text()
    result = CliRunner().invoke(main, ["export", str(folder), "--xlsx", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 0 and refused in result.output


def test_a_scenario_file_only_reformatted_is_the_same_scenario(finished: Path, tmp_path: Path) -> None:
    # the fingerprint is of the resolved scenario, not of its YAML layout
    folder = edited_copy(finished, tmp_path)
    scenario = folder / "scenario.yaml"
    scenario.write_text("# read by a colleague\n" + scenario.read_text() + "\n# the end\n")
    code, output = invoke("forecast", str(folder))
    assert code == 0, output


def test_running_out_of_memory_is_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # before: a MemoryError traceback
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr("pmo_sim.cli.scenario_cmds.load_scenario", exhausted)
    code, output = invoke("validate", str(write_tiny(tmp_path)))
    assert code == 1
    assert output.startswith("error: out of memory: this machine has less free memory")


@pytest.mark.parametrize("out", ["/", "~"])
def test_the_root_or_home_folder_is_never_a_results_folder(tmp_path: Path, out: str) -> None:
    # before: run --out / --force wrote manifest.json, scenario.yaml and the tables into /
    folder = Path(out).expanduser()
    before = sorted(p.name for p in folder.iterdir())
    code, output = invoke("run", str(write_tiny(tmp_path)), "-n", "1", "-j", "1", "--out", str(folder),
                          "--force")
    assert code == 2 and "is the file system's root or your home folder" in output
    assert sorted(p.name for p in folder.iterdir()) == before


BIG_VALUE = """\
name: big
horizon: 100
resources: {dev: {headcount: 2, day_rate: 100}}
projects: [{name: A, value_per_day: 3e14, tasks: [{name: t1, skill: dev, effort: 8}]}]
"""


def test_a_report_of_kpis_the_same_in_every_replication_at_1e16(tmp_path: Path) -> None:
    # a valid scenario (every number within 1e15) whose NPV is ~3e16 in every replication:
    # numpy's histogram had no range to bin it in ("Too many bins for data range")
    scenario = tmp_path / "big.yaml"
    scenario.write_text(BIG_VALUE)
    out = tmp_path / "run"
    run_experiment(load_scenario(scenario, None), replications=2, seed=0, jobs=1, out=out)
    code, output = invoke("report", str(out))
    assert code == 0, output
    assert (out / "report.html").stat().st_size > 10_000


@pytest.mark.parametrize("address", ["zzz://", "tcp://", "tcp://[::1", "inproc://x", "ucx://127.0.0.1:1",
                                     "host:0", "tcp://host:port"])
def test_a_malformed_scheduler_address_is_refused_before_the_folder(tmp_path: Path, address: str) -> None:
    # before: Dask's own ValueError or TypeError traceback, and a results folder left behind
    out = tmp_path / "run"
    code, output = invoke("run", str(write_tiny(tmp_path)), "-n", "2", "--out", str(out),
                          "--backend", "dask", "--scheduler", address)
    assert code == 2 and "--scheduler must be a Dask scheduler's address" in output
    assert not out.exists()


@pytest.mark.parametrize("currency", ["E\x01R", "\x1b[2J", "EUR\n"])
def test_a_currency_with_control_characters_is_refused(tmp_path: Path, currency: str) -> None:
    # before: accepted; the workbook then failed with openpyxl's IllegalCharacterError, and an
    # escape sequence acted on the terminal in run's summary
    code, output = invoke("validate", str(write_tiny(tmp_path)), "--set", f"currency={json.dumps(currency)}")
    assert code == 2 and "currency: must be printable" in output


def test_a_workbook_of_names_with_control_characters_keeps_the_rest(finished: Path, tmp_path: Path) -> None:
    # names pmo-sim writes have none; an edited projects table may (before: a traceback)
    folder = edited_copy(finished, tmp_path)
    path = folder / "projects.parquet"
    table = pq.read_table(path)
    names = [f"\x00{n}\x1b" for n in table.column("project").to_pylist()]
    i = table.schema.get_field_index("project")
    pq.write_table(table.set_column(i, "project", pa.array(names, pa.string())), path)
    code, output = invoke("export", str(folder), "--xlsx", str(tmp_path / "book.xlsx"))
    assert code == 0, output
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "book.xlsx")["projects"]
    shown = {str(row[2]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[2]}
    assert shown and all(n.startswith("\ufffd") and n.endswith("\ufffd") for n in shown), shown


@pytest.mark.parametrize("args", [
    ("export", "{run}", "--ema", ""), ("export", "{run}", "--xlsx", " "), ("report", "{run}", "--out", ""),
    ("run", "{scenario}", "-n", "1", "--out", ""), ("trace", "{scenario}", "--policy", "base",
                                                      "--replication", "0", "--out", ""),
    ("schema", "--out", ""), ("new", "x", "--dir", ""),
])
def test_an_empty_output_path_is_refused(finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         args: tuple[str, ...]) -> None:
    # before: --ema '' wrote into the current folder, --out '' was taken for it or ignored
    scenario = write_tiny(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, output = invoke(*(a.format(run=finished, scenario=scenario) for a in args))
    assert code == 2 and "must not be empty: give a path" in output
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("skill,message", [("d\x01ev", "a name must not contain control characters"),
                                           ("x" * 300, "a name may have at most 200 characters")])
def test_a_history_skill_that_is_no_pool_name_is_refused_at_its_line(tmp_path: Path, skill: str,
                                                                    message: str) -> None:
    # the skill becomes a pool's name in the fragment (before: a fragment that did not
    # validate, or a figure whose file name was too long)
    rows = [f"p{i},t,{skill},5,{5 + i % 3},2024-01-02,2024-01-09" for i in range(30)]
    history = tmp_path / "h.csv"
    history.write_text("project,task,skill,estimate,actual,start,finish\n" + "\n".join(rows) + "\n")
    code, output = invoke("fit", str(history), "--out", str(tmp_path / "f.yaml"))
    assert code == 2 and f"{history}:2:6: skill: is not a valid pool name: {message}" in output
    assert not (tmp_path / "f.yaml").exists()


def test_figures_of_a_long_skill_in_another_script_have_file_names_that_fit(tmp_path: Path) -> None:
    skill = "я" * 200  # 400 bytes in UTF-8: a valid name, too long for a file name as it is
    rows = [f"p{i},t,{skill},5,{5 + i % 3},2024-01-02,2024-01-09" for i in range(30)]
    history = tmp_path / "h.csv"
    history.write_text("project,task,skill,estimate,actual,start,finish\n" + "\n".join(rows) + "\n")
    code, output = invoke("fit", str(history), "--out", str(tmp_path / "f.yaml"), "--figures",
                          str(tmp_path / "figs"))
    assert code == 0, output
    names = [p.name for p in (tmp_path / "figs").iterdir()]
    assert names and all(len(n.encode()) <= 120 for n in names)


@pytest.mark.parametrize("text,where,what", [
    ("null: x\n", ":4:1:", "not null; quote it if it is a name (got 'null')"),
    ("policies: {1: {}, true: {}}\n", ":4:19: policies:", "not true or false; quote it if it is a name"),
    ("policies:\n  ~: {}\n", ":5:3: policies:", "not null"),
])
def test_a_key_yaml_reads_as_null_or_true_is_named_at_the_key(tmp_path: Path, text: str, where: str,
                                                              what: str) -> None:
    # before: "None: keys should be strings" at line 1, or "policies.True: duplicate key"
    path = tmp_path / "keys.yaml"
    path.write_text("name: x\nhorizon: 10\nresources: {dev: {headcount: 1, day_rate: 1}}\n" + text)
    code, output = invoke("validate", str(path))
    assert code == 2
    assert f"{path}{where} a mapping key must be text or a number, {what}" in output


@pytest.mark.parametrize("table,column", [("projects", "finish"), ("projects", "arrival"),
                                          ("replications", "mean_cycle_time")])
def test_an_infinite_day_in_an_edited_table_is_refused(finished: Path, tmp_path: Path, table: str,
                                                       column: str) -> None:
    # before: the report's amounts came out undefined, with numpy's warnings on stderr
    from pmo_sim.schema import STORED_TABLES

    folder = edited_copy(finished, tmp_path)
    path = folder / f"{table}.parquet"
    data = pq.read_table(path)
    values = data.column(column).to_pylist()
    values[0] = float("inf")
    i = data.schema.get_field_index(column)
    pq.write_table(data.set_column(i, column, pa.array(values, pa.float64())), path)
    days = any(c.name == column and c.unit == "day" for c in STORED_TABLES[table].all_columns)
    code, output = invoke("report", str(folder), "--out", str(tmp_path / "r.html"))
    if days:
        assert code == 2 and f"column {column} holds an infinite day" in output
    else:  # not a time: other checks apply (a KPI's infinite values are refused by compare)
        assert "holds an infinite day" not in output


@pytest.mark.parametrize("text,where", [("1: x\n", ":4:1: 1:"),
                                        ("policies: {p: {resource_manager: {5: 1}}}\n",
                                         ":4:35: policies.p.resource_manager.5:")])
def test_a_number_where_field_names_go_is_named_as_the_key(tmp_path: Path, text: str, where: str) -> None:
    # before: "1: keys should be strings (got 'x')", the value shown instead of the key
    path = tmp_path / "keys.yaml"
    path.write_text("name: x\nhorizon: 10\nresources: {dev: {headcount: 1, day_rate: 1}}\n" + text)
    code, output = invoke("validate", str(path))
    assert code == 2
    assert f"{path}{where} a key here must be text (a field name), not a number (got " in output


# --------------------------------------------------------------------------- stop 27


def _exhausting_replicate(scenario: object, replication: int, seed: int, policies: list[str]) -> list:
    from pmo_sim.experiment.replicate import run_replication

    if replication == 3:
        bytearray(1 << 50)  # a petabyte: the allocator refuses it, as it does when memory runs out
    return run_replication(scenario, replication, seed, policies)  # type: ignore[arg-type]


def test_running_out_of_memory_in_a_run_keeps_what_is_finished(tmp_path: Path, finished: Path) -> None:
    # before: a MemoryError in a replication was a failed replication, whose policy was
    # looked for by running it again; the message named no folder to resume
    from pmo_sim.errors import WorkerLost
    from pmo_sim.experiment.spec import Seams

    scenario = load_scenario(write_tiny(tmp_path), None)
    out = tmp_path / "run"
    with pytest.raises(WorkerLost, match=r"^out of memory while running replications \(this machine "
                       r"has less free memory than a replication of this scenario needs.*; 3 of 6 "
                       r"replications are kept in .*; continue with: .*--resume"):
        run_experiment(scenario, replications=6, seed=3, jobs=1, chunk_size=1, out=out,
                       seams=Seams(replicate=_exhausting_replicate), command="pmo-sim run tiny.yaml")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial" and "failure" not in manifest
    assert [c["start"] for c in manifest["chunks"]] == [0, 1, 2]
    resumed = run_experiment(scenario, replications=6, seed=3, jobs=1, out=out, resume=True)
    assert resumed.replications.equals(pq.read_table(finished / "replications.parquet").to_pandas())


def _pools(n: int, headcount: int) -> str:
    return "".join(f"  p{i}: {{headcount: {headcount}, day_rate: 100}}\n" for i in range(n))


CROWDED = "name: crowded\nhorizon: 100\nresources:\n{pools}" + """\
projects:
  - name: a
    tasks:
      - {{name: t, skill: p0, effort: 5}}
{policies}"""


@pytest.mark.parametrize("pools,policies,where,most,got", [
    # 100 pools of 100,000 people: before, `validate` said ok and a replication needed ~5 GB
    (_pools(100, 100_000), "", ":14:20: resources.p10.headcount", "10,000,000", "100000"),
    # a release makes room for a later hire; the hire that passes the limit is named
    (_pools(10, 99_999) + "  q: {headcount: 5, day_rate: 1}\n",
     "policies:\n  a: {}\n  b:\n    resource_manager:\n      staffing: [{day: 1, pool: q, change: -4}, "
     "{day: 4, pool: q, change: 8}, {day: 2, pool: q, change: 10}]\n",
     ":23:105: policies.b.resource_manager.staffing.2.change", "1,000,009", "10"),
    # contractors count as if all were engaged at once; inherited from pmo, located there
    (_pools(10, 99_999),
     "pmo:\n  resource_manager:\n    contractors: [{pool: p1, max: 20, day_rate: 1}]\npolicies:\n  a: {}\n",
     ":20:35: pmo.resource_manager.contractors.0.max", "1,000,010", "20"),
])
def test_all_pools_together_are_limited_at_the_headcount_that_passes(
        tmp_path: Path, pools: str, policies: str, where: str, most: str, got: str) -> None:
    path = tmp_path / "crowded.yaml"
    path.write_text(CROWDED.format(pools=pools, policies=policies))
    code, output = invoke("validate", str(path))
    assert code == 2, output
    assert (f"{path}{where}: all pools together would hold {most} people and units at once (staffing "
            f"changes and contractors included), more than the limit of 1,000,000: a replication holds "
            f"every person in memory (about 0.5 GB and 3.5 s per million); use fewer or smaller pools "
            f"(got {got})") in output
    code, output = invoke("run", str(path), "-n", "1", "--out", str(tmp_path / "run"))
    assert code == 2 and not (tmp_path / "run").exists()


def test_a_million_people_in_all_is_within_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "crowded.yaml"
    path.write_text(CROWDED.format(pools=_pools(10, 100_000), policies=""))
    code, output = invoke("validate", str(path))
    assert code == 0, output


@pytest.mark.parametrize("scale", [1e-300, 1e-320])
def test_fit_of_efforts_near_the_smallest_float_warns_of_nothing(tmp_path: Path,
                                                                 scale: float) -> None:
    # before: scipy's "RuntimeWarning: divide by zero encountered in divide" on stderr: the
    # gamma's scale sd**2 / mean underflowed to 0; then, for efforts near 1e-320 (subnormal
    # numbers), overflow warnings of numpy, scipy and matplotlib and a fragment of
    # "mean: 5.1e-320". Efforts below a millionth of a person-day are no task's record: refused.
    history = write_history(tmp_path, lambda p, t: f"{(1 + t + p) * scale}", projects=6, tasks=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, output = invoke("fit", str(history), "--out", str(tmp_path / "f.yaml"))
    assert code == 2, output
    assert "actual: is less than 1e-06 person-days (not a task's record) (got " in output
    assert not (tmp_path / "f.yaml").exists()


@pytest.mark.parametrize("table,column,value,shown", [
    # before: matplotlib's "No artists with labels found to put in legend" on stderr
    ("replications", "npv", float("nan"), "No data: NPV is missing in every replication."),
    # before: "constrained_layout not applied because axes sizes collapsed to zero": the
    # utilisation axis was labelled in 400-digit numbers
    ("pools", "utilisation", -1e300, "-1e+302%"),
])
def test_a_report_of_edited_tables_warns_of_nothing_and_says_what_it_cannot_show(
        finished: Path, tmp_path: Path, table: str, column: str, value: float, shown: str) -> None:
    folder = edited_copy(finished, tmp_path)
    path = folder / f"{table}.parquet"
    data = pq.read_table(path)
    i = data.schema.get_field_index(column)
    pq.write_table(data.set_column(i, column, pa.array([value] * data.num_rows, pa.float64())), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, output = invoke("report", str(folder), "--out", str(tmp_path / "r.html"))
        if column == "npv":
            # a run always gives an NPV: the edited file is refused when it is read, and the
            # report of results whose NPV is missing (from the API) says so
            assert code == 2 and output == (f"error: {path}: column npv holds no number (NaN or "
                                            f"empty) in {data.num_rows} of {data.num_rows} rows; "
                                            f"pmo-sim always writes a number there: the table was "
                                            f"edited\n")
            from pmo_sim.analysis.report import write_report
            from pmo_sim.experiment import Results, load_results

            res = load_results(finished)
            write_report(Results(res.replications.assign(npv=value), res.projects, res.pools,
                                 res.manifest, None, finished), tmp_path / "r.html")
        else:
            assert code == 0, output
    page = (tmp_path / "r.html").read_text()
    assert shown in page
    if column == "npv":
        assert ("No data: NPV is missing in every replication of every policy; the figure shows "
                "nothing.") in page


BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
STRATEGY = Path(__file__).resolve().parents[1] / "scenarios" / "strategy.yaml"
VARIED = ("--vary", "resources.developers.headcount=5:9", "--vary", "resources.testers.headcount=2:3",
          "--vary", "changes.per_project_per_year=1:5")


@pytest.mark.parametrize("args,message", [
    # before: each of these ran for as long as asked (a day, or weeks), keeping nothing until the end
    (("sensitivity", str(BASELINE), *VARIED, "--method", "morris", "-n", "100000"),
     "error: this morris study would run 40 points x 100,000 replications x 4 policies of about 611 "
     "simulation events each: about 9,770,000,000 events (some 27 hours of one core), more than a "
     "study may make (1,000,000,000; unlike a run, a study keeps nothing until it ends): use fewer "
     "replications (-n), fewer --samples (now 10) or --vary ranges, or fewer --policy"),
    (("sensitivity", str(BASELINE), *VARIED[:2], "--method", "sobol", "-n", "100000"),
     "error: this sobol study would run 192 points x 100,000 replications = 19,200,000 replications, "
     "more than the 10,000,000 a run may have: use fewer replications (-n), fewer --samples (now 64)"),
    (("sensitivity", str(BASELINE), *VARIED, "-n", "2000000"), "error: this tornado study would run 6 "
     "points x 2,000,000 replications = 12,000,000 replications"),
    (("sweep", str(BASELINE), "--vary", "resources.developers.headcount=5:9:5", "-n", "1000000"),
     "error: this sweep would run 5 points x 1,000,000 replications x 4 policies of about 487 "
     "simulation events each"),
    (("frontier", str(STRATEGY), "--budget", "1e6:5e6:5", "-n", "1000000", "--policy", "by_value"),
     # (330 since the estimate counts its risk pairs and goal alignments; 237 before)
     "error: this frontier would run 5 points x 1,000,000 replications x 1 policy of about 330 "
     "simulation events each: about 1,650,000,000 events (some 5 hours of one core)"),
])
def test_a_study_too_large_is_refused_before_its_folder(tmp_path: Path, args: tuple[str, ...],
                                                        message: str) -> None:
    out = tmp_path / "out" / "study"
    code, output = invoke(*args, "--out", str(out))
    assert code == 2, output
    assert message in output
    assert not (tmp_path / "out").exists()


def test_a_study_within_its_budget_runs_and_writes_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "out" / "study"
    code, output = invoke("sweep", str(write_tiny(tmp_path)), "--vary", "resources.dev.headcount=2,3",
                          "-n", "2", "-j", "1", "-q", "--out", str(out))
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep.png"]


@pytest.mark.parametrize("code,exit_code", [(errno.ENOSPC, 1), (errno.EDQUOT, 1), (errno.EIO, 1),
                                            (errno.EACCES, 2), (errno.EROFS, 2), (errno.ENOTDIR, 2)])
def test_a_write_the_machine_failed_is_exit_1_and_a_path_that_cannot_be_used_exit_2(
        code: int, exit_code: int) -> None:
    # (as root, a folder without write permission cannot be made here: the classification itself)
    from pmo_sim.errors import cannot_write

    error = cannot_write("out/x.csv", OSError(code, os.strerror(code)))
    assert error.exit_code == exit_code
    assert str(error) == f"cannot write out/x.csv: {os.strerror(code)}"


@pytest.mark.parametrize("rel", [1e-300, 1e-6])
def test_a_tiny_precision_not_met_says_a_run_cannot_reach_it(rel: float) -> None:
    # --precision 1e-300: squaring half-width / target overflowed after the run (a traceback,
    # exit 1); 1e-6 suggested a --max-replications past the 10,000,000 a run may have
    from types import SimpleNamespace

    from pmo_sim.cli.run_cmds import _precision_outcome

    res = SimpleNamespace(manifest={"replications": 3, "precision": {
        "rel": rel, "metric": "npv", "paired": False, "target_met": False, "half_width_rel": 0.5}})
    outcome = _precision_outcome(res)  # type: ignore[arg-type]
    assert outcome is not None
    text, met = outcome
    assert not met and "--max-replications" not in text.split("needed")[-1]
    assert "more than the 10,000,000 replications a run may have would be needed" in text
    assert "target 0.00%" not in text


def test_runs_started_in_the_same_second_get_folders_of_their_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the default --out is results/<name>-<time to the second>: a second run in that second
    # was refused ("already exists"), and two checking at once both wrote into it
    from datetime import datetime

    from click.testing import CliRunner

    import pmo_sim.cli.run_cmds as run_cmds
    from pmo_sim.cli import main

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Frozen:  # type: ignore[override]
            return cls(2027, 1, 4, 9, 30, 0)

    monkeypatch.chdir(tmp_path)
    write_tiny(tmp_path)
    monkeypatch.setattr(run_cmds, "datetime", Frozen)
    for _ in range(2):
        res = CliRunner().invoke(main, ["run", "tiny.yaml", "-n", "2", "-j", "1", "-q"])
        assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [
        "tiny-20270104-093000", "tiny-20270104-093000-2"]
    refused = CliRunner().invoke(main, ["run", "tiny.yaml", "-n", "2", "--policy", "nope"])
    assert refused.exit_code == 2
    assert len(list((tmp_path / "results").iterdir())) == 2  # a refused run leaves no folder


@pytest.mark.parametrize("name", ["base\u202eenil", "a\u2066b", "\u202ax"])
def test_a_name_with_bidirectional_overrides_is_refused(tmp_path: Path, name: str) -> None:
    # U+202E in a policy name showed "baseline" reversed in tables and reports, and could make
    # one policy's row look like another's
    from pmo_sim.errors import ScenarioError
    from pmo_sim.scenario.loader import load_scenario
    from pmo_sim.scenario.names import name_problem

    assert "bidirectional" in (name_problem(name) or "")
    assert name_problem("été 🚀 x\u200d") is None  # letters, emoji and joiners stay names
    scenario = write_tiny(tmp_path)
    with pytest.raises(ScenarioError, match="bidirectional text controls"):
        load_scenario(scenario, [("policies", json.dumps({name: {}}))])
