"""The results folder: atomic chunks, manifest, refusals, resume and corrupt-chunk recovery."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_experiment import TINY_YAML, assert_same_tables, write_tiny

from pmo_sim.errors import UsageError
from pmo_sim.experiment import Results, RunInterrupted, load_results, run_experiment
from pmo_sim.experiment.manifest import ChunkRecord, resume_command, scenario_sha256
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

N, SEED = 10, 5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(write_tiny(tmp_path_factory.mktemp("sc")), None)


@pytest.fixture(scope="module")
def uninterrupted(tiny: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return run_experiment(tiny, replications=N, seed=SEED, jobs=1,
                          out=tmp_path_factory.mktemp("runs") / "full")


def interrupted_run(tiny: Scenario, out: Path, chunks: int = 2) -> RunInterrupted:
    """A run stopped (as by Ctrl+C) after ``chunks`` chunks of 2 replications."""
    with pytest.raises(RunInterrupted) as info:
        run_experiment(tiny, replications=N, seed=SEED, jobs=1, chunk_size=2, out=out,
                       command=f"pmo-sim run tiny.yaml -n {N} --out {out}",
                       seams=Seams(stop_after_chunks=chunks))
    return info.value


def test_the_resume_hint_of_a_copied_folder_names_the_copy(tiny: Scenario, tmp_path: Path) -> None:
    # before: the hint repeated the manifest's command line, whose --out is the folder the
    # run was started in, so a folder copied elsewhere was "continued" in the original
    import shutil

    from click.testing import CliRunner

    from pmo_sim.cli import main

    original = tmp_path / "original"
    interrupted_run(tiny, original, chunks=1)
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(original, copy)
    with pytest.raises(RunInterrupted) as info:
        run_experiment(tiny, replications=N, seed=SEED, jobs=1, chunk_size=2, out=copy, resume=True,
                       seams=Seams(stop_after_chunks=1))
    expected = f"pmo-sim run tiny.yaml -n {N} --out {copy} --resume"
    assert info.value.resume_command == expected
    assert str(original) not in str(info.value)
    result = CliRunner().invoke(main, ["report", str(copy), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    warning = page[page.index("Partial run:"):].split("<", 1)[0]
    assert warning.endswith(f"Continue it with: {expected}")  # the provenance keeps the command run
    assert resume_command(f"pmo-sim run a.yaml --out={original} --force", copy) == \
        f"pmo-sim run a.yaml --out {copy} --resume"


@pytest.mark.parametrize("recorded", [
    "rm -rf data #", "sh -c 'curl x | sh'", "pmo-sim run a.yaml --set 'name=\x1b]0;owned\x07'",
    "pmo-sim  report x", "pmo-sim run 'unterminated"])
def test_the_resume_hint_of_an_edited_command_names_only_pmo_sim_run(recorded: str) -> None:
    # a manifest travels and is read as untrusted: the hint printed for the user to paste
    # must not be another program, nor carry terminal control sequences
    assert resume_command(recorded, "out dir") == "pmo-sim run SCENARIO --out 'out dir' --resume"


def test_complete_folder_layout(uninterrupted: Results, tiny: Scenario) -> None:
    folder = uninterrupted.path
    assert folder is not None
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json", "pools.parquet", "projects.parquet", "replications.parquet",
        "scenario.yaml", "summary.csv"]
    m = json.loads((folder / "manifest.json").read_text())
    assert m["status"] == "complete" and m["finished"] and m["started"]
    assert (m["scenario"], m["seed"], m["replications"], m["policies"]) == ("tiny", SEED, N,
                                                                             ["base", "focused"])
    assert m["scenario_sha256"] == scenario_sha256(tiny)
    assert m["pmo_sim_version"] and m["chunk_size"] >= 1
    assert sum(c["stop"] - c["start"] for c in m["chunks"]) == N
    assert load_scenario(folder / "scenario.yaml", None) == tiny
    assert_same_tables(load_results(folder), uninterrupted)


def test_interrupted_run_keeps_finished_chunks_and_resumes(
        tiny: Scenario, tmp_path: Path, uninterrupted: Results) -> None:
    out = tmp_path / "r"
    exc = interrupted_run(tiny, out)
    assert (exc.done, exc.total) == (4, N)
    assert exc.resume_command.endswith(f"--out {out} --resume")
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "partial" and len(m["chunks"]) == 2
    assert len(list((out / "chunks").glob("*.parquet"))) == 6
    assert not (out / "replications.parquet").exists()
    partial = load_results(out)
    assert partial.manifest["status"] == "partial"
    assert sorted(partial.replications["replication"].unique()) == [0, 1, 2, 3]
    # a resume may use another job count and chunking: same tables
    resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=2, out=out, resume=True)
    assert resumed.manifest["status"] == "complete" and resumed.manifest["resumed"]
    assert_same_tables(resumed, uninterrupted)
    assert_same_tables(load_results(out), uninterrupted)
    # resuming a complete run just returns it
    assert_same_tables(run_experiment(tiny, replications=N, seed=SEED, out=out, resume=True),
                       uninterrupted)


def test_the_manifest_lists_each_chunk_file_with_its_rows_and_checksum(
        tiny: Scenario, tmp_path: Path) -> None:
    # the run keeps compact records of its chunks; the entries are built from them to be written
    out = tmp_path / "r"
    interrupted_run(tiny, out)
    m = json.loads((out / "manifest.json").read_text())
    assert [(c["start"], c["stop"]) for c in m["chunks"]] == [(0, 2), (2, 4)]
    for entry in m["chunks"]:
        assert ChunkRecord.from_entry(entry).entry() == entry
        assert list(entry["files"]) == ["replications", "projects", "pools"]
        for table, info in entry["files"].items():
            assert info["file"] == f"chunks/{entry['start']:07d}-{entry['stop']:07d}.{table}.parquet"
            data = (out / info["file"]).read_bytes()
            assert info["sha256"] == hashlib.sha256(data).hexdigest()
            assert info["rows"] == pq.ParquetFile(out / info["file"]).metadata.num_rows > 0


def test_corrupt_and_stray_files_are_handled_on_resume(
        tiny: Scenario, tmp_path: Path, uninterrupted: Results,
        caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=3)
    victim = sorted((out / "chunks").glob("*.projects.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:50])  # truncated
    stray = out / "chunks" / "0000008-0000010.pools.parquet"  # written, never listed
    stray.write_bytes(b"garbage")
    (out / ".manifest.json.123.tmp").write_text("{")
    with caplog.at_level(logging.WARNING, logger="pmo_sim"):
        resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert any("corrupt" in r.getMessage() and "recomputing" in r.getMessage()
               for r in caplog.records)
    assert_same_tables(resumed, uninterrupted)
    assert not (out / ".manifest.json.123.tmp").exists()


def test_partial_load_skips_a_corrupt_chunk(tiny: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=2)
    first = sorted((out / "chunks").glob("*.replications.parquet"))[0]
    first.write_bytes(b"not parquet")
    partial = load_results(out)
    assert sorted(partial.replications["replication"].unique()) == [2, 3]


@pytest.mark.parametrize(("change", "message"), [
    ({"seed": SEED + 1}, "seed differs"),
    ({"policies": ["focused"]}, "policies differ"),
    ({"replications": N + 1}, "replications differ"),
    ({"scenario_text": TINY_YAML.replace("headcount: 4", "headcount: 5")}, "scenario differs"),
])
def test_resume_with_other_settings_is_refused(tiny: Scenario, tmp_path: Path, change: dict,
                                               message: str) -> None:
    out = tmp_path / "r"
    interrupted_run(tiny, out)
    before = (out / "manifest.json").read_text()
    text = change.pop("scenario_text", None)
    scenario = load_scenario(write_tiny(tmp_path, text), None) if text else tiny
    kwargs = {"replications": N, "seed": SEED, "jobs": 1, **change}
    with pytest.raises(UsageError, match=message):
        run_experiment(scenario, out=out, resume=True, **kwargs)
    assert (out / "manifest.json").read_text() == before


def test_existing_folder_needs_resume_or_force(tiny: Scenario, tmp_path: Path,
                                               uninterrupted: Results) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="--resume.*--force"):
        run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out)
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, force=True)
    assert_same_tables(res, uninterrupted)
    assert (out / "notes.txt").read_text() == "mine"  # --force removes only pmo-sim's files
    with pytest.raises(UsageError, match="nothing to resume"):
        run_experiment(tiny, replications=N, seed=SEED, out=tmp_path / "new", resume=True)


def test_not_a_results_folder_is_refused(tmp_path: Path, uninterrupted: Results) -> None:
    with pytest.raises(UsageError, match="manifest.json is missing"):
        load_results(tmp_path)
    with pytest.raises(UsageError, match="no such folder"):
        load_results(tmp_path / "absent")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(UsageError, match="unreadable"):
        load_results(tmp_path)
    (tmp_path / "manifest.json").write_text('{"hello": 1}')
    with pytest.raises(UsageError, match="lacks"):
        load_results(tmp_path)
    copy = tmp_path / "copy"
    assert uninterrupted.path is not None
    uninterrupted.save(copy)
    (copy / "projects.parquet").unlink()
    with pytest.raises(UsageError, match="projects.parquet missing"):
        load_results(copy)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unwritable_folder_is_a_clear_error(tiny: Scenario, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(UsageError, match="cannot write the results folder"):
            run_experiment(tiny, replications=2, jobs=1, out=locked / "r")
    finally:
        locked.chmod(0o700)


def test_full_disk_fails_clearly_and_keeps_what_finished(tiny_disk: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    from pmo_sim.experiment import load_results

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    pmo_sim = str(Path(sys.executable).with_name("pmo-sim"))
    out = tiny_disk / "r"
    args = [pmo_sim, "run", str(scenario), "-n", "60", "-j", "1", "--chunk-size", "5", "--seed", "3"]
    res = subprocess.run([*args, "--out", str(out), "--quiet"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 1, res.stderr
    assert "No space left on device" in res.stderr and "--resume" in res.stderr
    assert "Traceback" not in res.stderr
    kept = load_results(out)
    assert kept.manifest["status"] == "partial" and len(kept.replications) > 0
    # The chunk that found the disk full left no file, and the manifest (rewritten in the
    # room that made) lists what the message says is kept.
    listed = {info["file"] for c in kept.manifest["chunks"] for info in c["files"].values()}
    assert {f"chunks/{p.name}" for p in (out / "chunks").iterdir()} == listed
    done = sum(c["stop"] - c["start"] for c in kept.manifest["chunks"])
    assert f"{done} of 60 replications are kept" in res.stderr
    # Move the folder to a disk with room: resume finishes it, equal to an uninterrupted run.
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    res = subprocess.run([*args, "--out", str(moved), "--resume", "--quiet"], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    fresh = tmp_path / "fresh"
    res = subprocess.run([*args, "--out", str(fresh), "--quiet"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(load_results(moved).replications, load_results(fresh).replications)


def test_manifest_is_rewritten_about_once_a_second_not_per_chunk(
        tiny: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Rewriting the manifest (whose size grows with the chunks) after every chunk made a run of
    # thousands of chunks quadratic; it is rewritten at most about once a second, and at the end.
    import time

    from pmo_sim.experiment.store import ResultsFolder

    writes: list[float] = []
    original = ResultsFolder.write_manifest

    def counting(self: ResultsFolder, final: bool = False) -> None:
        writes.append(time.monotonic())
        original(self, final)

    monkeypatch.setattr(ResultsFolder, "write_manifest", counting)
    began = time.monotonic()
    run_experiment(tiny, replications=120, seed=SEED, jobs=1, chunk_size=1, out=tmp_path / "r")
    elapsed = time.monotonic() - began
    assert len(writes) <= elapsed + 3  # create, about one per second, the final one
    assert len(writes) < 60  # 120 chunks


def test_chunks_the_manifest_does_not_list_yet_are_recomputed(
        tiny: Scenario, tmp_path: Path, uninterrupted: Results) -> None:
    # A run killed between two manifest rewrites leaves chunk files the manifest does not
    # list: on resume they are strays, removed and recomputed.
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=3)
    m = json.loads((out / "manifest.json").read_text())
    m["chunks"] = m["chunks"][:1]  # as if killed before the last two rewrites
    (out / "manifest.json").write_text(json.dumps(m))
    resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert_same_tables(resumed, uninterrupted)


@pytest.mark.parametrize("meta", [10**9, 0])
def test_a_long_table_is_written_in_row_groups_sized_by_its_length(
        tiny: Scenario, uninterrupted: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        meta: int) -> None:
    """Row groups grow with the table, as the square root of its bytes times the writer's
    metadata per group (held until it closes the file); the rows are the same whatever the
    grouping."""
    import pyarrow.parquet as pq

    from pmo_sim.experiment import tablefile

    monkeypatch.setattr(tablefile, "ROW_GROUP_BYTES", 256)  # tiny groups, many of them by default
    monkeypatch.setattr(tablefile, "META_BYTES_PER_COLUMN", meta)
    out = tmp_path / "run"
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, chunk_size=2)
    assert_same_tables(load_results(out), uninterrupted)
    written = pq.ParquetFile(out / "projects.parquet").metadata.num_row_groups
    chunk_slices = -(-N // 2) * len(res.policies)  # one slice per chunk and policy
    if meta:
        assert written == 1  # metadata so dear that one group is best
    else:
        assert written == chunk_slices  # each slice is over 256 bytes: a group of its own


def test_row_groups_make_the_least_buffer_and_metadata() -> None:
    from pmo_sim.experiment.tablefile import META_BYTES_PER_COLUMN, ROW_GROUP_BYTES, row_group_bytes

    def held(table: float, group: float) -> float:  # a group's buffer, every group's metadata
        return group + table / group * 25 * META_BYTES_PER_COLUMN

    assert row_group_bytes(1e6, 25) == ROW_GROUP_BYTES  # a short table: the floor
    for table in (2.6e9, 2.6e10, 2.6e11):  # projects: 100,000 replications of the reference, ...
        best = row_group_bytes(table, 25)
        assert held(table, best) <= min(held(table, best * 0.8), held(table, best * 1.25))
    assert row_group_bytes(2.6e11, 25) == pytest.approx(10 * row_group_bytes(2.6e9, 25), rel=1e-6)
    assert 20 * 2**20 < row_group_bytes(2.6e10, 25) < 25 * 2**20  # 1,000,000 replications: ~23 MB


@pytest.mark.parametrize(("group_bytes", "reads_per_chunk"), [(2 * 2**20, 1), (256, 2)])
def test_a_small_table_is_assembled_reading_each_chunk_once(
        tiny: Scenario, uninterrupted: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        group_bytes: int, reads_per_chunk: int) -> None:
    """A table no larger than a row group's buffer is read chunk by chunk once and held; a
    larger one is read once per policy (here: two), the chunk read to estimate its size
    included; the rows are the same either way."""
    from pmo_sim.experiment import store, tablefile

    reads: list[tuple[int, str]] = []
    original = store.ResultsFolder.read_chunk

    def counted(self: store.ResultsFolder, start: int, table: str, columns: object = None) -> object:
        reads.append((start, table))
        return original(self, start, table, columns)  # type: ignore[arg-type]

    monkeypatch.setattr(tablefile, "ROW_GROUP_BYTES", group_bytes)
    monkeypatch.setattr(store.ResultsFolder, "read_chunk", counted)
    out = tmp_path / "run"
    run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, chunk_size=2)
    assert_same_tables(load_results(out), uninterrupted)
    chunks = -(-N // 2)
    for table in ("replications", "projects", "pools"):
        assert sum(t == table for _, t in reads) == chunks * reads_per_chunk, table


def test_text_and_integers_are_dictionary_encoded_and_tables_zstd_compressed(
        uninterrupted: Results) -> None:
    """Arrow builds a dictionary of a float column until it gives up on it (most of the time
    of writing a long table): floats are written plain, text and integers with a dictionary
    (flags have none in Parquet)."""
    import pyarrow.parquet as pq

    from pmo_sim.schema import STORED_TABLES

    assert uninterrupted.path is not None
    for table in ("replications", "projects", "pools"):
        meta = pq.ParquetFile(uninterrupted.path / f"{table}.parquet").metadata
        kinds = {c.name: c.dtype for c in STORED_TABLES[table].all_columns}
        group = meta.row_group(0)
        for i in range(group.num_columns):
            column = group.column(i)
            assert column.compression == "ZSTD"
            dictionary = any("DICT" in e for e in column.encodings)
            want = kinds[column.path_in_schema] in ("string", "int")
            assert dictionary == want, (table, column.path_in_schema)


def test_a_chunk_copied_over_another_with_its_checksum_edited_is_recomputed(
        tiny: Scenario, uninterrupted: Results, tmp_path: Path) -> None:
    # before: the copy passed the checksum and row checks, the resume finished "complete" with
    # replications 4-5 twice and 2-3 never, and every reader then refused the folder
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=3)
    manifest = json.loads((out / "manifest.json").read_text())
    first, second = manifest["chunks"][1], manifest["chunks"][2]
    for table, info in first["files"].items():
        source = out / second["files"][table]["file"]
        (out / info["file"]).write_bytes(source.read_bytes())
        info["sha256"], info["rows"] = second["files"][table]["sha256"], second["files"][table]["rows"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    partial = load_results(out)  # the copy is skipped, not read as replications 2-3
    assert sorted(partial.replications["replication"].unique()) == [0, 1, 4, 5]
    resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert_same_tables(resumed, uninterrupted)


@pytest.mark.parametrize("table", ["replications", "projects"])
def test_a_chunk_edited_to_another_policy_with_its_checksum_edited_is_recomputed(
        tiny: Scenario, uninterrupted: Results, tmp_path: Path, table: str,
        caplog: pytest.LogCaptureFixture) -> None:
    # before: the chunk passed every check, a resume consolidated the tables without its rows
    # (filtered out by policy) into a folder marked complete, and deleted the chunk files
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=3)
    manifest = json.loads((out / "manifest.json").read_text())
    info = manifest["chunks"][1]["files"][table]
    data = pq.read_table(out / info["file"])
    column = data.schema.get_field_index("policy")
    data = data.set_column(column, "policy", pa.array(["zz"] * data.num_rows))
    pq.write_table(data, out / info["file"])
    info["sha256"] = hashlib.sha256((out / info["file"]).read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING):
        partial = load_results(out)
        assert sorted(partial.replications["replication"].unique()) == [0, 1, 4, 5]
    assert "holds rows of policies the manifest does not list (zz)" in caplog.text
    resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert_same_tables(resumed, uninterrupted)


@pytest.mark.parametrize(("table", "column", "value", "why"), [
    ("projects", "status", "weird", "column status holds 'weird', which pmo-sim never writes there"),
    ("replications", "npv", float("nan"), "column npv holds no number (NaN or empty) in 1 of 4 rows"),
])
def test_a_chunk_edited_to_a_value_no_run_writes_is_named_and_recomputed(
        tiny: Scenario, uninterrupted: Results, tmp_path: Path, table: str, column: str,
        value: object, why: str, caplog: pytest.LogCaptureFixture) -> None:
    # before: the chunk passed every check at the resume's start; the resume ran, then failed
    # assembling the tables with "the results folder ... was changed during the run", exit 1
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=3)
    manifest = json.loads((out / "manifest.json").read_text())
    info = manifest["chunks"][1]["files"][table]
    data = pq.read_table(out / info["file"])
    index = data.schema.get_field_index(column)
    cells = data.column(column).to_pylist()
    cells[0] = value
    data = data.set_column(index, column, pa.array(cells, type=data.schema.field(index).type))
    pq.write_table(data, out / info["file"])
    info["sha256"] = hashlib.sha256((out / info["file"]).read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING):
        partial = load_results(out)  # left out, as a chunk of another policy is
        assert sorted(partial.replications["replication"].unique()) == [0, 1, 4, 5]
        resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert f"chunk 2-3 ({info['file']}) was edited: {why}" in caplog.text
    assert "recomputing it" in caplog.text
    assert_same_tables(resumed, uninterrupted)


@pytest.mark.parametrize("what", ["folder", "pipe"])
def test_a_folder_or_pipe_in_a_chunk_files_place_is_refused(tiny: Scenario, tmp_path: Path,
                                                              what: str) -> None:
    # before: a pipe made every reader wait forever; a folder failed the resume with exit 1
    out = tmp_path / "r"
    interrupted_run(tiny, out, chunks=2)
    chunk = sorted((out / "chunks").glob("*.projects.parquet"))[0]
    chunk.unlink()
    chunk.mkdir() if what == "folder" else os.mkfifo(chunk)
    with pytest.raises(UsageError, match="is not a file"):
        load_results(out)
    with pytest.raises(UsageError, match="remove it, then read or resume again"):
        run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)


def test_a_folder_a_run_is_writing_is_refused_to_another(tmp_path: Path, tiny: Scenario) -> None:
    # a --resume (or --force) started in a folder a run is still writing cleared that run's
    # unlisted chunk files and overwrote its manifest: the first then failed with "No such
    # file or directory", or listed files that were gone
    import os

    from pmo_sim.files import lock_folder

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(tiny, replications=N, seed=SEED, jobs=1, chunk_size=2, out=out,
                       seams=Seams(stop_after_chunks=1))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = lock_folder(out)  # another process's run, as flock sees it
    assert other is not None
    try:
        for how in ({"resume": True}, {"force": True}):
            with pytest.raises(UsageError, match="is in use by another pmo-sim run"):
                run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, **how)
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    finally:
        os.close(other)
    # released by every run when it returns, however: the same process goes on with it
    with pytest.raises(KeyboardInterrupt):
        run_experiment(tiny, replications=N, seed=SEED, jobs=1, chunk_size=2, out=out,
                       resume=True, seams=Seams(stop_after_chunks=1))
    assert len(run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
               .replications) == N * len(tiny.policy_names)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_run_that_makes_a_new_folder_another_just_made_is_refused(
        tmp_path: Path, tiny: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two runs given the same new --out at the same instant, the second between the first's
    # making the folder and its claiming it (a seam, to be deterministic): before, the first
    # had found the folder absent, and wrote its scenario and manifest over the second's
    # complete results, then ran into them.
    from click.testing import CliRunner

    from pmo_sim.cli import main
    from pmo_sim.experiment import store

    scenario_file = write_tiny(tmp_path)
    out = tmp_path / "new" / "run"
    original = store.create_folder
    other: list[Results] = []
    calls: list[Path] = []

    def and_meanwhile(path: Path) -> Path:
        made = original(path)
        calls.append(path)
        if len(calls) == 1:  # the other run, whole, before this one goes on
            other.append(run_experiment(tiny, replications=N, seed=SEED + 1, jobs=1, out=out))
        return made

    monkeypatch.setattr(store, "create_folder", and_meanwhile)
    result = CliRunner().invoke(main, ["run", str(scenario_file), "-n", str(N), "--seed", str(SEED),
                                       "-j", "1", "--out", str(out), "--quiet"])
    assert other, "the seam was not reached"
    assert result.exit_code == 2, result.output
    assert result.output == (f"error: results folder {out} already exists and is not empty; use "
                             f"--resume to continue the run in it, --force to overwrite it, or "
                             f"another --out\n")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == SEED + 1
    assert_same_tables(load_results(out), other[0])


def test_of_two_runs_making_the_same_folder_at_once_one_writes_it(
        tmp_path: Path, tiny: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    # Both have made the folder (a barrier holds each there until the other has too) before
    # either claims it: the first to claim it writes it; the other is refused, in use, and
    # writes nothing (before, each wrote its manifest, one over the other's).
    import threading

    from pmo_sim.experiment import store
    from pmo_sim.experiment.store import ResultsFolder

    out = tmp_path / "run"
    original = store.create_folder
    both_made = threading.Barrier(2, timeout=30)

    def together(path: Path) -> Path:
        made = original(path)
        both_made.wait()
        return made

    monkeypatch.setattr(store, "create_folder", together)
    won: list[ResultsFolder] = []
    refused: list[str] = []

    def create(who: str) -> None:
        try:
            won.append(ResultsFolder.create(out, {"seed": SEED, "who": who, "chunks": []},
                                            f"name: {who}\n"))
        except UsageError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=create, args=(who,)) for who in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert len(won) == 1 and refused == [f"{out} is in use by another pmo-sim run; wait for it "
                                             f"to end (or stop it), or give another --out"]
        who = won[0].manifest["who"]
        assert json.loads((out / "manifest.json").read_text())["who"] == who
        assert (out / "scenario.yaml").read_text() == f"name: {who}\n"
        assert sorted(_snapshot(out)) == ["manifest.json", "scenario.yaml"]
    finally:
        for folder in won:
            folder.release()


def test_two_runs_started_together_into_a_new_folder(tmp_path: Path) -> None:
    # No seam: two processes, the same new --out. However they interleave (together at the
    # folder's making, one while the other runs, one after the other), exactly one writes
    # the folder and the other is refused, exit 2, with the folder left as the first wrote it.
    import subprocess
    import sys

    scenario_file = write_tiny(tmp_path)
    out = tmp_path / "together"
    pmo_sim = str(Path(sys.executable).with_name("pmo-sim"))
    args = [pmo_sim, "run", str(scenario_file), "-n", str(N), "-j", "1", "--out", str(out),
            "--quiet", "--format", "csv"]
    procs = [subprocess.Popen([*args, "--seed", str(seed)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    done = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        p.communicate()
    assert sorted(code for code, _ in done) == [0, 2], done
    winner = 1 if done[0][0] == 0 else 2
    refusal = next(err for code, err in done if code == 2)
    assert ("is in use by another pmo-sim run" in refusal
            or "already exists and is not empty" in refusal), refusal
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == winner
    assert len(load_results(out).replications) == N * 2


def test_the_default_cap_of_a_precision_run_is_within_what_a_run_may_have(
        tmp_path: Path, tiny: Scenario) -> None:
    # before: -n 1,000,001 --precision wrote max_replications 10,000,010 into the manifest,
    # and the run's own resume (or compare) refused it: "Input should be less than or equal
    # to 10000000"
    from pmo_sim.experiment.spec import MAX_REPLICATIONS
    from pmo_sim.experiment.store import ResultsFolder

    out = tmp_path / "long"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(tiny, replications=MAX_REPLICATIONS // 10 + 1, seed=SEED, jobs=1,
                       chunk_size=2, out=out, precision=0.1, seams=Seams(stop_after_chunks=1))
    folder = ResultsFolder.open(out)  # checked as a resume reads it
    assert folder.manifest["precision"]["max_replications"] == MAX_REPLICATIONS


def test_a_partial_folder_whose_scenario_file_was_deleted_resumes_and_writes_it_again(
        tiny: Scenario, uninterrupted: Results, tmp_path: Path) -> None:
    # before: the resume computed every replication, then failed (exit 1) saying the folder
    # "was changed during the run: scenario.yaml was removed" — it had been, before the run
    out = tmp_path / "run"
    interrupted_run(tiny, out)
    written = (out / "scenario.yaml").read_bytes()
    (out / "scenario.yaml").unlink()
    resumed = run_experiment(tiny, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert (out / "scenario.yaml").read_bytes() == written  # the file the run first wrote
    assert_same_tables(resumed, uninterrupted)
    assert load_results(out).replications.equals(resumed.replications)
