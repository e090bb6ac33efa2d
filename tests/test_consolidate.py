"""The end of a run: long tables written in a process of their own (pmo_sim.experiment.consolidate).

The routing is forced here (every table counts as long), so tiny runs take the path a run of
10,000 replications takes: the parent must not write those tables itself, the files must be
the bytes the parent would have written, ``summary.csv`` must wait for ``replications``, and
the other process's failure must reach the caller as the parent's own would.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_experiment import write_tiny

from pmo_sim.experiment import consolidate, run_experiment
from pmo_sim.experiment.spec import Seams
from pmo_sim.experiment.store import ResultsFolder, StoreError
from pmo_sim.scenario.loader import load_scenario

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference.yaml"
FILES = ("replications.parquet", "projects.parquet", "pools.parquet", "summary.csv")


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


def written_by_parent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables this process writes itself, in order, from now on."""
    calls: list[str] = []
    original = ResultsFolder.write_table

    def recorded(self: ResultsFolder, table: str, *args: object) -> None:
        calls.append(table)
        original(self, table, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ResultsFolder, "write_table", recorded)
    return calls


@pytest.mark.parametrize("long_tables", [{"projects"}, {"replications"},
                                         {"projects", "replications", "pools"}])
def test_long_tables_are_written_elsewhere_to_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, long_tables: set[str]) -> None:
    scenario = load_scenario(write_tiny(tmp_path), None)
    run_experiment(scenario, replications=12, seed=5, jobs=2, out=tmp_path / "here", chunk_size=3)
    calls = written_by_parent(monkeypatch)
    monkeypatch.setattr(consolidate, "grows_with_run", lambda table, size: table in long_tables)
    res = run_experiment(scenario, replications=12, seed=5, jobs=2, out=tmp_path / "there",
                         chunk_size=3)
    # the parent wrote nothing: the long tables, then the others and the summary, came from
    # the two processes of their own
    assert calls == []
    assert digests(tmp_path / "there") == digests(tmp_path / "here")
    assert len(res.replications) == 2 * 12
    manifest = json.loads((tmp_path / "there" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and not (tmp_path / "there" / "chunks").exists()


def test_a_run_in_one_process_writes_every_table_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario(write_tiny(tmp_path), None)
    calls = written_by_parent(monkeypatch)
    monkeypatch.setattr(consolidate, "grows_with_run", lambda table, size: True)
    run_experiment(scenario, replications=4, seed=5, jobs=1, out=tmp_path / "run")
    assert sorted(calls) == ["pools", "projects", "replications"]


def test_a_failure_in_the_other_process_keeps_the_chunks_and_says_how_to_go_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario(write_tiny(tmp_path), None)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(scenario, replications=8, seed=5, jobs=2, out=out, chunk_size=2,
                       seams=Seams(stop_after_chunks=4))
    blocked: list[bool] = []

    def in_the_way(table: str, size: int) -> bool:
        # something in projects.parquet's place that no rename can replace: a folder with a
        # file, made once the first resume has begun (it refuses one there before it runs)
        if table == "projects" and not blocked:
            blocked.append(True)
            (out / "projects.parquet").mkdir(exist_ok=True)
            (out / "projects.parquet" / "keep.txt").write_text("mine\n")
        return table == "projects"

    monkeypatch.setattr(consolidate, "grows_with_run", in_the_way)
    with pytest.raises(StoreError, match=r"cannot write .*projects\.parquet.*8 of 8 replications "
                                         r"are kept in .*continue with"):
        run_experiment(scenario, replications=8, seed=5, jobs=2, out=out, resume=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial"
    assert sum(c["stop"] - c["start"] for c in manifest["chunks"]) == 8
    assert (out / "projects.parquet" / "keep.txt").read_text() == "mine\n"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp.parquet")]
    (out / "projects.parquet" / "keep.txt").unlink()
    (out / "projects.parquet").rmdir()
    done = run_experiment(scenario, replications=8, seed=5, jobs=2, out=out, resume=True)
    assert len(done.replications) == 2 * 8


def test_the_other_process_dying_is_a_store_error_naming_the_table(tmp_path: Path) -> None:
    folder = ResultsFolder(tmp_path, {"chunks": []})
    future: cf.Future[None] = cf.Future()
    future.set_exception(cf.process.BrokenProcessPool("terminated abruptly"))
    with pytest.raises(StoreError, match=r"cannot write projects\.parquet in .*: the process "
                                         r"writing it ended before it was done"):
        consolidate._wait(future, folder, "projects.parquet")


def test_long_means_row_groups_past_the_smallest() -> None:
    from pmo_sim.experiment.tablefile import ROW_GROUP_BYTES, SCHEMAS, row_group_bytes

    # the reference portfolio's projects table: ~28 KB a replication
    assert not consolidate.grows_with_run("projects", 1_000 * 28e3)
    assert consolidate.grows_with_run("projects", 10_000 * 28e3)
    for size in (1e6, 1e8, 1e9, 1e10):
        assert consolidate.grows_with_run("pools", size) == (
            row_group_bytes(size, len(SCHEMAS["pools"])) > ROW_GROUP_BYTES)


def test_a_relative_folder_is_found_after_the_caller_changed_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the fork server (started by this first run, if not before) stays in the folder it
    # started in; the process it forks for the long tables must still find a relative --out
    # (multiprocessing moves each new process to its parent's current folder)
    scenario = load_scenario(write_tiny(tmp_path), None)
    run_experiment(scenario, replications=4, seed=5, jobs=2, out=tmp_path / "first")
    elsewhere = tmp_path / "notebook"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(consolidate, "grows_with_run", lambda table, size: table == "projects")
    run_experiment(scenario, replications=4, seed=5, jobs=2, out=Path("run"))
    assert (elsewhere / "run" / "projects.parquet").is_file()
    assert json.loads((elsewhere / "run" / "manifest.json").read_text())["status"] == "complete"


def test_an_interruption_while_the_other_process_writes_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl+C while the long table is being written elsewhere: the other process is ended,
    # and the half-written table it leaves (a temporary file under its process id) goes too;
    # the message says what is kept and how to go on (before: a bare "interrupted", and a
    # .projects.<pid>.<random>.tmp.parquet left in the folder until a resume)
    import multiprocessing

    from pmo_sim.experiment.kept import RunInterrupted

    scenario = load_scenario(write_tiny(tmp_path), None)
    out = tmp_path / "run"
    monkeypatch.setattr(consolidate, "grows_with_run", lambda table, size: table == "projects")
    original = consolidate._wait

    def interrupted(future: object, store: ResultsFolder, what: str) -> None:
        for proc in multiprocessing.active_children():  # the processes writing the tables
            (store.path / f".projects.{proc.pid}.0123abcd.tmp.parquet").write_bytes(b"PAR1")
        raise KeyboardInterrupt

    monkeypatch.setattr(consolidate, "_wait", interrupted)
    with pytest.raises(RunInterrupted, match=r"8 of 8 replications are finished and kept in "
                                             r"(.|\n)*resume=True"):
        run_experiment(scenario, replications=8, seed=5, jobs=2, out=out, chunk_size=2)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp.parquet")]
    monkeypatch.setattr(consolidate, "_wait", original)
    done = run_experiment(scenario, replications=8, seed=5, jobs=2, out=out, resume=True)
    assert len(done.replications) == 2 * 8


def reads_of_chunk_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The chunk files this process reads from now on (their names)."""
    from pmo_sim.experiment import store

    names: list[str] = []
    original = store.read_checked

    def recorded(path: Path, *args: object, **kwargs: object) -> object:
        names.append(path.name)
        return original(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "read_checked", recorded)
    return names


def chunk_ranges(names: list[str]) -> set[tuple[int, int]]:
    """The (start, stop) of the chunk files named (``0000003-0000006.projects.parquet``)."""
    return {(int(a), int(b)) for a, b in (name.split(".")[0].split("-") for name in names)}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_short_run_consolidates_from_memory_to_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    # The chunks' tables are kept in memory (store.KEEP_BYTES) and the consolidated files are
    # written from them, byte for byte the files written from the chunk files: times not
    # reached (NaN), text columns, several chunks and policies (the reference portfolio).
    from pmo_sim.experiment import store

    scenario = load_scenario(REFERENCE, None)
    reads = reads_of_chunk_files(monkeypatch)
    run_experiment(scenario, replications=12, seed=3, jobs=jobs, out=tmp_path / "kept", chunk_size=3)
    assert reads == []  # nothing read back, not even for the tables' sizes
    monkeypatch.setattr(store, "KEEP_BYTES", 0)
    run_experiment(scenario, replications=12, seed=3, jobs=jobs, out=tmp_path / "read", chunk_size=3)
    assert len(reads) >= 3 * 4  # every table of every chunk read back
    assert digests(tmp_path / "kept") == digests(tmp_path / "read")


def test_a_run_that_outgrows_what_is_kept_and_a_resume_read_the_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmo_sim.experiment import store

    scenario = load_scenario(REFERENCE, None)
    run_experiment(scenario, replications=12, seed=3, jobs=1, out=tmp_path / "whole", chunk_size=3)
    kept: list[ResultsFolder] = []
    original = ResultsFolder._keep

    def keep(self: ResultsFolder, *args: object) -> None:
        kept.append(self)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ResultsFolder, "_keep", keep)
    # interrupted after two chunks, then resumed: the first chunks come from their files, the
    # others from memory
    with pytest.raises(KeyboardInterrupt):
        run_experiment(scenario, replications=12, seed=3, jobs=1, out=tmp_path / "resumed",
                       chunk_size=3, seams=Seams(stop_after_chunks=2))
    reads = reads_of_chunk_files(monkeypatch)
    run_experiment(scenario, replications=12, seed=3, jobs=1, out=tmp_path / "resumed", resume=True)
    assert chunk_ranges(reads) == {(0, 3), (3, 6)}
    assert digests(tmp_path / "resumed") == digests(tmp_path / "whole")
    assert kept and all(folder._tables == {} for folder in kept)  # nothing held after a run,
    # interrupted or not
    # A run that outgrows KEEP_BYTES halfway (a precision target out of reach takes it from 6
    # to 12 replications; 9 replications' tables fit) lets go of what it kept, and reads the
    # chunk files from then on.
    per_replication = sum(pq.read_table(tmp_path / "whole" / f"{t}.parquet").nbytes
                          for t in ("replications", "projects", "pools")) / 12
    monkeypatch.setattr(store, "KEEP_BYTES", int(9 * per_replication))
    del reads[:]
    run_experiment(scenario, replications=6, seed=3, jobs=1, out=tmp_path / "outgrown", chunk_size=3,
                   precision=1e-9, max_replications=12)
    assert chunk_ranges(reads) >= {(6, 9), (9, 12)}
    assert digests(tmp_path / "outgrown") == digests(tmp_path / "whole")


def _hostile_at_the_tables(monkeypatch: pytest.MonkeyPatch, act: str, jobs: int) -> None:
    """Someone acts on the run's folder as this process starts consolidating its tables (one
    job), or hands them to processes of their own (two, a long table). The chunks are read
    back from their files (store.KEEP_BYTES 0: a long run's way), unless ``act`` is of a
    short run (``emptied, short``: its tables written from the chunks it kept in memory,
    whatever became of their files)."""
    import os
    import shutil

    from pmo_sim.experiment import store

    def act_on(path: Path) -> None:
        if act == "deleted":
            shutil.rmtree(path)
        elif act == "moved":
            os.rename(path, path.with_name("elsewhere"))
        elif act.startswith("emptied"):
            shutil.rmtree(path)
            path.mkdir()
        elif act == "a chunk deleted":
            (path / "chunks" / "0000002-0000004.replications.parquet").unlink()

    if act != "emptied, short":
        monkeypatch.setattr(store, "KEEP_BYTES", 0)
    if jobs > 1:
        writer = consolidate._writer

        @contextlib.contextmanager
        def hostile_writer(folder: Path) -> Iterator[object]:
            act_on(folder)
            with writer(folder) as submit:
                yield submit

        monkeypatch.setattr(consolidate, "_writer", hostile_writer)
        return
    original = ResultsFolder.table_bytes
    done: list[bool] = []

    def hostile(self: ResultsFolder, table: str) -> object:
        if not done:
            done.append(True)
            act_on(self.path)
        return original(self, table)

    monkeypatch.setattr(ResultsFolder, "table_bytes", hostile)


@pytest.mark.parametrize("act, jobs", [("deleted", 1), ("deleted", 2), ("moved", 1), ("emptied", 1),
                                       ("emptied, short", 1), ("a chunk deleted", 1)])
def test_a_folder_changed_while_the_tables_are_written_is_a_failure_of_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, act: str, jobs: int) -> None:
    # before: exit 2 naming a chunk file as bad input ("... is unreadable: [Errno 2] ..."), or
    # exit 1 saying "6 of 6 replications are kept in DIR; continue with: ... --resume" of a
    # folder that no longer existed
    from click.testing import CliRunner

    from pmo_sim.cli import main

    scenario = write_tiny(tmp_path)
    out = tmp_path / "run"
    if jobs > 1:  # the long table in a process of its own, which finds no folder either
        monkeypatch.setattr(consolidate, "grows_with_run", lambda table, size: table == "projects")
    _hostile_at_the_tables(monkeypatch, act, jobs)
    args = ["run", str(scenario), "-n", "6", "--seed", "3", "-j", str(jobs), "--chunk-size", "2",
            "--out", str(out), "--quiet", "--format", "csv"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1, result.output
    if act in ("deleted", "moved"):
        assert result.output == (f"error: the results folder {out} disappeared during the run "
                                 f"(deleted or moved): nothing of the run is kept in {out}; run it "
                                 f"again\n")
    elif act.startswith("emptied"):
        # before, a short run (its chunks kept in memory) completed into the emptied folder
        assert result.output.startswith(f"error: the results folder {out} was changed during the "
                                        f"run: its manifest.json was removed or replaced (")
        assert not (out / "manifest.json").exists()
        assert result.output.endswith(f"nothing of the run is kept in {out}; run it again (with "
                                      f"--force, or another --out)\n")
    else:
        assert result.output.startswith(f"error: the results folder {out} was changed during the "
                                        f"run: {out}/chunks/0000002-0000004.replications.parquet "
                                        f"is unreadable")
        assert f"; 4 of 6 replications are kept in {out}; continue with: " in result.output
        monkeypatch.undo()  # nobody acts on the resume
        resumed = CliRunner().invoke(main, [*args, "--resume"])
        assert resumed.exit_code == 0, resumed.output
        assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    if act == "moved":  # what was moved is the run's folder as it was: resumable where it is
        manifest = json.loads((tmp_path / "elsewhere" / "manifest.json").read_text())
        assert manifest["status"] == "partial"



def test_a_short_run_writes_its_tables_from_memory_whatever_became_of_its_chunk_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario(write_tiny(tmp_path), None)
    run_experiment(scenario, replications=6, seed=3, jobs=1, out=tmp_path / "whole", chunk_size=2)
    original = ResultsFolder.table_bytes

    def chunk_deleted(self: ResultsFolder, table: str) -> object:
        (self.path / "chunks" / f"0000002-0000004.{table}.parquet").unlink(missing_ok=True)
        return original(self, table)

    monkeypatch.setattr(ResultsFolder, "table_bytes", chunk_deleted)
    run_experiment(scenario, replications=6, seed=3, jobs=1, out=tmp_path / "run", chunk_size=2)
    assert digests(tmp_path / "run") == digests(tmp_path / "whole")
