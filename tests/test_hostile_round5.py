"""Edges a fifth hostile-input probe (results folders edited by hand) found: each must end in
exit 2, or a warning and a correct answer, never a traceback or a misleading exit code.

- a partial folder's chunk with a column of the wrong type (``replication`` as text), its
  checksum and row count edited to match: ``run --resume`` computed every replication left,
  then failed at consolidation with exit 1, "the results folder ... was changed during the
  run" (it was not: it was edited before); a resume's check of its chunks now checks their
  column types too, so such a chunk is left out (with a warning) and computed again, as an
  edited value already was;
- ``forecast`` of a partial folder without a finished replication (its chunks deleted, or
  every one left out): exit 0, "Nothing to forecast: these results hold no projects." (an
  empty table in json and csv), where report, export and compare say there is no finished
  replication; ``Results.forecast()`` returned an empty table;
- ``run --resume`` of a partial folder with a folder where the run writes ``summary.csv``
  or a consolidated table: every replication left was computed, then exit 1, "cannot write
  ...: Is a directory", and a "continue with" command that failed the same way; it is now
  refused before the run starts (exit 2), its chunks kept;
- a complete folder's risks table with a strike added (a row that occurred duplicated) or
  removed: report and export said exit 0, the risk drivers counting a strike the run never
  had; the strikes per replication are now checked against the projects' ``risk_events``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_experiment import write_tiny
from test_hostile_round3 import invoke

from pmo_sim.errors import UsageError
from pmo_sim.experiment import load_results, run_experiment
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario


def _partial(tmp_path: Path) -> tuple[Path, Path]:
    scenario_file = write_tiny(tmp_path)
    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(load_scenario(scenario_file, None), replications=6, seed=3, jobs=1,
                       chunk_size=2, out=out, command="x", seams=Seams(stop_after_chunks=2))
    return scenario_file, out


def _retype_first_chunk(out: Path, table: str) -> Path:
    """The first chunk of ``table`` with its replication column as text, its checksum and row
    count in the manifest edited to match (so only its column type tells the edit)."""
    path = sorted((out / "chunks").glob(f"*.{table}.parquet"))[0]
    t = pq.read_table(path)
    i = t.schema.get_field_index("replication")
    pq.write_table(t.set_column(i, "replication", pa.array([str(v) for v in t.column(i).to_pylist()])),
                   path)
    manifest = json.loads((out / "manifest.json").read_text())
    for chunk in manifest["chunks"]:
        info = chunk["files"][table]
        if info["file"] == f"chunks/{path.name}":
            info["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    return path


@pytest.mark.parametrize("table", ["replications", "projects", "pools"])
def test_a_chunk_of_a_column_retyped_is_left_out_and_computed_again(tmp_path: Path, table: str) -> None:
    scenario_file, out = _partial(tmp_path)
    path = _retype_first_chunk(out, table)
    code, text = invoke("compare", str(out), "--format", "json")
    assert code == 0, text
    assert (f"warning: chunk 0-1 ({path.relative_to(out)}) is not a pmo-sim {table} table: it "
            "has columns of the wrong type: replication (string, expected int); left out") in text
    # before: exit 1, "the results folder ... was changed during the run"
    code, text = invoke("run", str(scenario_file), "--seed", "3", "-n", "6", "-j", "1", "--out", str(out),
                        "--resume", "--quiet", "--format", "csv")
    assert code == 0, text
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    code, text = invoke("compare", str(out), "--format", "json")
    assert code == 0 and "warning:" not in text, text


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_forecast_of_no_finished_replication_says_so(tmp_path: Path, fmt: str) -> None:
    _, out = _partial(tmp_path)
    for chunk in (out / "chunks").iterdir():
        chunk.unlink()
    code, text = invoke("forecast", str(out), "--format", fmt)
    assert code == 2, text
    assert "error: these results have no finished replication: nothing to forecast" in text
    with pytest.raises(UsageError, match="no finished replication: nothing to forecast"):
        load_results(out).forecast()


@pytest.mark.parametrize("name", ["summary.csv", "replications.parquet", "pools.parquet"])
def test_a_resume_into_a_folder_with_a_folder_where_it_writes_a_file_is_refused_first(
        tmp_path: Path, name: str) -> None:
    scenario_file, out = _partial(tmp_path)
    (out / name).mkdir()
    before = {p.name: p.read_bytes() for p in [out / "manifest.json", *(out / "chunks").iterdir()]}
    code, text = invoke("run", str(scenario_file), "--seed", "3", "-n", "6", "-j", "1", "--out", str(out),
                        "--resume", "--quiet", "--format", "csv")
    assert code == 2, text
    assert (f"error: {out}: {name} is not a file (a folder, pipe or device where pmo-sim writes a "
            "file); remove it, then read or resume again") in text
    assert {p.name: p.read_bytes() for p in [out / "manifest.json", *(out / "chunks").iterdir()]} == before
    (out / name).rmdir()
    code, text = invoke("run", str(scenario_file), "--seed", "3", "-n", "6", "-j", "1", "--out", str(out),
                        "--resume", "--quiet", "--format", "csv")
    assert code == 0, text


@pytest.fixture(scope="module")
def risky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("risky") / "run"
    run_experiment(load_scenario(Path(__file__).parent.parent / "scenarios" / "strategy.yaml", None),
                   replications=2, seed=0, jobs=1, out=out)
    return out


@pytest.mark.parametrize("edit", ["strike added", "strike removed"])
@pytest.mark.parametrize("command", ["report", "export"])
def test_a_risks_table_of_strikes_the_run_never_had_is_refused(risky: Path, tmp_path: Path,
                                                               edit: str, command: str) -> None:
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(risky, folder)
    path = folder / "risks.parquet"
    t = pq.read_table(path)
    struck = [i for i, hit in enumerate(t.column("occurred").to_pylist()) if hit]
    row = t.slice(struck[0], 1)
    if edit == "strike added":
        t = pa.concat_tables([t, row])
    else:
        t = pa.concat_tables([t.slice(0, struck[0]), t.slice(struck[0] + 1)])
    pq.write_table(t, path)
    policy, replication = row.column("policy")[0].as_py(), row.column("replication")[0].as_py()
    args = {"report": ["--out", str(tmp_path / "r.html")], "export": ["--xlsx", str(tmp_path / "x.xlsx")]}
    code, text = invoke(command, str(folder), *args[command])
    assert code == 2, text
    assert (f"{path} does not match the run: policy {policy!r}, replication {replication} has") in text
    assert "risk_events in projects.parquet" in text
    with pytest.raises(UsageError, match="does not match the run"):
        load_results(folder).risk_drivers()
