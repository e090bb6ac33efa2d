"""Tampered results folders: a fuzzer that edits manifests and tables before `compare`,
`report` and `run --resume`.

Every tampering must end in exit code 0 (a correct answer: the edit was harmless) or 2 (a
clear refusal), never a traceback, and nothing outside the results folder may be read,
written or deleted: a sentinel folder beside it (which tampered manifests point at with
``../`` and absolute paths, and symbolic links lead to) is checked byte for byte after each
example.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import run_experiment
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario

N, SEED = 6, 3

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A complete and a partial results folder of a tiny scenario, and the scenario file."""
    base = tmp_path_factory.mktemp("pristine")
    scenario_file = write_tiny(base)
    sc = load_scenario(scenario_file, None)
    complete = base / "complete"
    run_experiment(sc, replications=N, seed=SEED, jobs=1, chunk_size=2, out=complete)
    partial = base / "partial"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(sc, replications=N, seed=SEED, jobs=1, chunk_size=2, out=partial,
                       command=f"pmo-sim run {scenario_file} -n {N} --seed {SEED} --out {partial}",
                       seams=Seams(stop_after_chunks=2))
    return {"complete": complete, "partial": partial, "scenario": scenario_file}


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


# --------------------------------------------------------------------------- tamperings

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(["../../sentinel/keep.txt", "/etc/passwd", "", "\x00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
MANIFEST_KEYS = ["scenario_sha256", "seed", "replications", "requested_replications", "policies",
                 "status", "chunks", "chunk_size", "command", "precision", "format", "tables"]


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def _write_manifest(folder: Path, data: Any) -> None:
    (folder / "manifest.json").write_text(json.dumps(data))


def set_field(key: str, value: Any) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        m = _manifest(folder)
        m[key] = value
        _write_manifest(folder, m)
    return edit


def drop_field(key: str) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        m = _manifest(folder)
        m.pop(key, None)
        _write_manifest(folder, m)
    return edit


def chunk_path(kind: str, index: int) -> Callable[[Path, Path], None]:
    """Point a chunk's file at the sentinel, relatively or absolutely (or delete its files list)."""
    def edit(folder: Path, outside: Path) -> None:
        m = _manifest(folder)
        if not m.get("chunks"):
            return
        chunk = m["chunks"][index % len(m["chunks"])]
        target = {"relative": "../sentinel/keep.txt", "absolute": str(outside / "keep.txt"),
                  "dotdot": "chunks/../../sentinel/keep.txt"}[kind]
        files = chunk.setdefault("files", {"replications": {"rows": 1, "sha256": "0" * 64}})
        for info in files.values():
            info["file"] = target
        _write_manifest(folder, m)
    return edit


def deep_json(folder: Path, outside: Path) -> None:
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)


def truncate(name: str, keep: float) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        p = folder / name
        if p.exists():
            data = p.read_bytes()
            p.write_bytes(data[: int(len(data) * keep)])
    return edit


def garbage(name: str) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        (folder / name).write_bytes(b"\xff\xfe not what it should be \x00" * 10)
    return edit


def delete(name: str) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        (folder / name).unlink(missing_ok=True)
    return edit


def drop_column(table: str, column: str) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        for p in [folder / f"{table}.parquet", *sorted((folder / "chunks").glob(f"*.{table}.parquet"))]:
            if p.exists() and column in pq.read_schema(p).names:
                pq.write_table(pq.read_table(p).drop_columns([column]), p)
    return edit


def rename_policy(table: str) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        p = folder / f"{table}.parquet"
        if p.exists():
            t = pq.read_table(p)
            policy = pa.array(["intruder"] * t.num_rows)
            pq.write_table(t.set_column(t.schema.get_field_index("policy"), "policy", policy), p)
    return edit


def link_chunks_outside(folder: Path, outside: Path) -> None:
    chunks = folder / "chunks"
    if chunks.exists():
        shutil.rmtree(chunks)
    chunks.symlink_to(outside, target_is_directory=True)


def link_table_outside(folder: Path, outside: Path) -> None:
    p = folder / "replications.parquet"
    p.unlink(missing_ok=True)
    p.symlink_to(outside / "keep.txt")


TAMPERINGS = st.one_of(
    st.builds(set_field, st.sampled_from(MANIFEST_KEYS), JSON_VALUES),
    st.builds(set_field, st.just("policies"), st.sampled_from([[], "base", 3, [""], ["base", "base"],
                                                               ["base"], ["x\x00y"], [1, 2]])),
    st.builds(set_field, st.just("status"), st.sampled_from(["done", "complete", "partial", None])),
    st.builds(set_field, st.just("replications"), st.sampled_from([0, -1, 10**12, True, 2.5, N + 4, 1])),
    st.builds(drop_field, st.sampled_from(MANIFEST_KEYS)),
    st.builds(chunk_path, st.sampled_from(["relative", "absolute", "dotdot"]), st.integers(0, 5)),
    st.just(deep_json),
    st.builds(truncate, st.sampled_from(["manifest.json", "replications.parquet", "projects.parquet",
                                         "pools.parquet", "scenario.yaml"]), st.floats(0, 0.95)),
    st.builds(garbage, st.sampled_from(["manifest.json", "replications.parquet", "scenario.yaml"])),
    st.builds(delete, st.sampled_from(["manifest.json", "replications.parquet", "scenario.yaml",
                                       "projects.parquet"])),
    st.builds(drop_column, st.sampled_from(["replications", "projects", "pools"]),
              st.sampled_from(["npv", "policy", "replication", "status", "finish", "utilisation"])),
    st.builds(rename_policy, st.sampled_from(["replications", "projects"])),
    st.just(link_chunks_outside),
    st.just(link_table_outside),
)

SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_N", 120 if FULL else 25)), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _sandbox(tmp_path: Path, pristine: dict[str, Path], which: str) -> tuple[Path, Path]:
    """A fresh copy of a pristine folder, with a sentinel folder beside it."""
    root = tmp_path / f"box-{len(list(tmp_path.iterdir()))}"
    outside = root / "sentinel"
    outside.mkdir(parents=True)
    (outside / "keep.txt").write_text("must survive")
    (outside / "0000000-0000002.replications.parquet").write_text("not yours")
    folder = root / "results"
    shutil.copytree(pristine[which], folder)
    return folder, outside


def _check(result: Any, outside_before: dict[str, str], outside: Path) -> None:
    out = result.output
    assert result.exit_code in (0, 2), (result.exit_code, out, result.exception)
    assert "Traceback" not in out, out
    if result.exit_code == 2:
        assert out.strip(), "a refusal must say why"
    assert _snapshot(outside) == outside_before
    assert (outside / "keep.txt").read_text() == "must survive"


@SETTINGS
@given(tamper=TAMPERINGS, which=st.sampled_from(["complete", "partial"]),
       command=st.sampled_from(["compare", "compare-json", "resume"]))
def test_tampered_folders_are_refused_or_answered(tmp_path: Path, pristine: dict[str, Path],
                                                  tamper: Callable[[Path, Path], None], which: str,
                                                  command: str) -> None:
    folder, outside = _sandbox(tmp_path, pristine, which)
    tamper(folder, outside)
    before = _snapshot(outside)
    args = {"compare": ["compare", str(folder)],
            "compare-json": ["compare", str(folder), "--format", "json"],
            "resume": ["run", str(pristine["scenario"]), "-n", str(N), "--seed", str(SEED), "-j", "1",
                       "--out", str(folder), "--resume", "--quiet"]}[command]
    result = CliRunner().invoke(main, args, catch_exceptions=True)
    _check(result, before, outside)


@settings(max_examples=30 if FULL else 6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tamper=TAMPERINGS)
def test_tampered_folders_and_the_report(tmp_path: Path, pristine: dict[str, Path],
                                         tamper: Callable[[Path, Path], None]) -> None:
    folder, outside = _sandbox(tmp_path, pristine, "complete")
    tamper(folder, outside)
    before = _snapshot(outside)
    result = CliRunner().invoke(main, ["report", str(folder), "--force"], catch_exceptions=True)
    _check(result, before, outside)


@pytest.mark.parametrize("tamper, message", [
    (chunk_path("relative", 0), "not the chunk's own file"),
    (chunk_path("absolute", 0), "not the chunk's own file"),
    (deep_json, "nested more than"),
    (set_field("policies", 7), "policies"),
    (set_field("policies", []), "policies"),
    (set_field("policies", ["base", "focused\u202e"]), "must not contain bidirectional text controls"),
    (set_field("policies", ["base", "foc\x1bused"]), "must not contain control characters"),
    (set_field("status", "done"), "status"),
    (drop_column("replications", "npv"), "lacks the column npv"),
    (rename_policy("replications"), "does not list (intruder)"),
    (rename_policy("projects"), "projects.parquet does not match the manifest"),
    (link_chunks_outside, "not a plain folder"),
])
def test_each_tampering_is_named(tmp_path: Path, pristine: dict[str, Path],
                                 tamper: Callable[[Path, Path], None], message: str) -> None:
    which = "partial" if tamper.__name__ == "edit" and "chunk" in message else "complete"
    folder, outside = _sandbox(tmp_path, pristine, "partial" if "chunk" in message else which)
    tamper(folder, outside)
    # the report reads every table; compare only the replications
    command = "report" if message.startswith("projects.parquet") else "compare"
    result = CliRunner().invoke(main, [command, str(folder)])
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_resume_never_deletes_what_a_manifest_points_at(tmp_path: Path, pristine: dict[str, Path]) -> None:
    """The original defect: a chunk `file` of `../../x` was reported corrupt and deleted."""
    folder, outside = _sandbox(tmp_path, pristine, "partial")
    chunk_path("relative", 0)(folder, outside)
    result = CliRunner().invoke(main, ["run", str(pristine["scenario"]), "-n", str(N), "--seed",
                                       str(SEED), "-j", "1", "--out", str(folder), "--resume"])
    assert result.exit_code == 2 and "not the chunk's own file" in result.output
    assert (outside / "keep.txt").read_text() == "must survive"


def chunk_digest(value: str | None) -> Callable[[Path, Path], None]:
    """The second chunk's checksum of its projects file set to ``value`` (None: removed)."""
    def edit(folder: Path, outside: Path) -> None:
        m = _manifest(folder)
        info = m["chunks"][1]["files"]["projects"]
        if value is None:
            del info["sha256"]
        else:
            info["sha256"] = info["sha256"].upper() if value == "UPPER" else value
        _write_manifest(folder, m)
    return edit


RULE = re.escape("must be 64 lowercase hexadecimal digits (0-9, a-f), the SHA-256 pmo-sim wrote")


@pytest.mark.parametrize("tamper, expected", [
    # before: "chunks.1.files.projects.sha256: String should match pattern '^[0-9a-f]{64}$'"
    (chunk_digest("UPPER"), rf"chunks\[1\] \(2-4\): files\.projects\.sha256 {RULE} \(got '[0-9A-F]{{64}}'\)"),
    (chunk_digest("abc"), rf"chunks\[1\] \(2-4\): files\.projects\.sha256 {RULE} \(got 'abc'\)"),
    # before: "...sha256: Field required (got {'file': 'chunks/0000002-0000004.projects.parquet', '...)"
    (chunk_digest(None), rf"chunks\[1\] \(2-4\): files\.projects\.sha256 is missing; it {RULE}$"),
    (set_field("scenario_sha256", "F" * 64), rf"scenario_sha256 {RULE} \(got 'F{{64}}'\)"),
    (set_field("scenario_sha256", "x" * 5000),
     rf"scenario_sha256 {RULE} \(got 'x{{64}}'\.\.\. \(5,000 characters\)\)"),
    (set_field("scenario_sha256", 5), rf"scenario_sha256 {RULE} \(got 5\)"),
])
def test_a_bad_checksum_is_said_in_pmo_sims_words(tmp_path: Path, pristine: dict[str, Path],
                                                  tamper: Callable[[Path, Path], None],
                                                  expected: str) -> None:
    folder, outside = _sandbox(tmp_path, pristine, "partial")
    tamper(folder, outside)
    for args in (["compare", str(folder)],
                 ["run", str(pristine["scenario"]), "-n", str(N), "--seed", str(SEED), "-j", "1",
                  "--out", str(folder), "--resume", "--quiet"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        line = result.output.strip()
        assert "\n" not in line and "should match pattern" not in line, line
        assert re.fullmatch(rf"error: {re.escape(str(folder))}/manifest\.json: {expected}", line), line


@pytest.mark.parametrize("replications, expected", [
    # before: a resume ran to 10 replications (4 more than asked), and to 4 (2 fewer)
    (N + 4, f"replications must equal requested_replications ({N}) in a run without a precision "
            f"target: only --precision adds replications (got {N + 4})"),
    (N - 2, f"replications must be at least requested_replications ({N}): a run never ends "
            f"short of what was asked (got {N - 2})"),
])
def test_replications_edited_away_from_what_was_asked_are_refused(
        tmp_path: Path, pristine: dict[str, Path], replications: int, expected: str) -> None:
    for which in ("partial", "complete"):
        folder, outside = _sandbox(tmp_path, pristine, which)
        m = _manifest(folder)
        m["replications"] = replications
        m["chunks"] = [c for c in m["chunks"] if c["stop"] <= replications]
        _write_manifest(folder, m)
        before = _snapshot(folder)
        for args in (["compare", str(folder)],
                     ["run", str(pristine["scenario"]), "--seed", str(SEED), "-j", "1",
                      "--out", str(folder), "--resume", "--quiet"]):
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 2, result.output
            assert result.output == f"error: {folder}/manifest.json: {expected}\n"
        assert _snapshot(folder) == before  # nothing resumed, nothing written


def test_a_precision_run_that_added_replications_is_read_and_resumed(tmp_path: Path) -> None:
    # the one way replications exceeds requested_replications: a --precision run adding some
    scenario_file = write_tiny(tmp_path)
    sc = load_scenario(scenario_file, None)
    out = tmp_path / "grown"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(sc, replications=4, seed=SEED, jobs=1, chunk_size=2, out=out,
                       precision=1e-6, max_replications=30, seams=Seams(stop_after_chunks=4))
    m = _manifest(out)
    assert m["requested_replications"] == 4 and m["replications"] > 4 and m["status"] == "partial"
    result = CliRunner().invoke(main, ["run", str(scenario_file), "--seed", str(SEED), "-j", "1",
                                       "--out", str(out), "--resume", "--quiet", "--format", "csv",
                                       "--precision", "1e-6", "--max-replications", "30"])
    assert result.exit_code == 3, result.output  # the (unreachable) target not met, within 30
    assert _manifest(out)["replications"] == 30
    assert CliRunner().invoke(main, ["compare", str(out)]).exit_code == 0


@pytest.mark.parametrize("put", ["folder", "pipe", "link to a device", "broken link"])
def test_something_else_in_a_tables_place_is_named_not_called_missing(
        tmp_path: Path, pristine: dict[str, Path], put: str) -> None:
    # before: "projects.parquet missing", of a folder, pipe or link the user could see there
    folder, outside = _sandbox(tmp_path, pristine, "complete")
    table = folder / "projects.parquet"
    table.unlink()
    if put == "folder":
        table.mkdir()
    elif put == "pipe":
        os.mkfifo(table)
    elif put == "link to a device":
        table.symlink_to("/dev/zero")
    else:
        table.symlink_to(outside / "gone.parquet")
    for command in ("compare", "report", "forecast"):
        result = CliRunner().invoke(main, [command, str(folder)])
        assert result.exit_code == 2, result.output
        assert result.output == (f"error: {folder} is not a complete results folder: projects.parquet "
                                 f"is not a file (a folder, pipe, device or a link to one)\n")
