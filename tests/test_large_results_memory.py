"""``report``, ``export`` and ``forecast`` of a results folder read only the project columns
they use (the export's projects sheet: only the rows of the replications it keeps, a batch at
a time), and the forecast groups projects by integer codes, so their memory grows with the
projects table by a fraction of what it did. Before, each read the whole ``projects`` table
(25 columns): the forecast allocated ~700 bytes a project row, now ~220 (at a million rows:
peak RSS 754 MB, now 336; report 792 -> 459, export 762 -> 345). Their output is the same as
from the results in memory. (Measured on the forecast only: the report's and the export's
figures and workbook cells take minutes under tracemalloc.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import pmo_sim as ps
from pmo_sim.experiment.tablefile import writer_options
from pmo_sim.io.excel import write_workbook

SCENARIOS = Path(__file__).parents[1] / "scenarios"
#: Most memory the forecast may allocate per project row of the folder (measured: ~220 bytes;
#: reading the whole table, ~700).
BYTES_PER_ROW = 400


def tiled(source: Path, target: Path, copies: int) -> Path:
    """A complete results folder of ``copies`` times the replications of ``source`` (each copy's
    replications numbered after the last), written as a run writes its tables."""
    shutil.copytree(source, target)
    manifest = json.loads((source / "manifest.json").read_text())
    n = manifest["replications"]
    rank = {p: i for i, p in enumerate(manifest["policies"])}
    for name in ["replications", "projects", "pools"]:
        table = pq.read_table(source / f"{name}.parquet")
        at = table.schema.get_field_index("replication")
        big = pa.concat_tables([table.set_column(at, "replication", pc.add(table["replication"], n * c))
                                for c in range(copies)])
        order = pa.array([rank[p] for p in big["policy"].to_pylist()])
        big = big.append_column("_rank", order).sort_by([("_rank", "ascending"),
                                                         ("replication", "ascending")]).drop(["_rank"])
        pq.write_table(big, target / f"{name}.parquet", row_group_size=2**16, **writer_options(name))
    manifest.update(replications=n * copies, requested_replications=n * copies,
                    chunks=[{"start": 0, "stop": n * copies}])
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    base = tmp_path_factory.mktemp("large")
    ps.run_experiment(ps.load_scenario(SCENARIOS / "baseline.yaml"), replications=4, jobs=1,
                      out=base / "r")
    small, large = tiled(base / "r", base / "small", 1), tiled(base / "r", base / "large", 60)
    rows = pq.read_metadata(large / "projects.parquet").num_rows - pq.read_metadata(
        small / "projects.parquet").num_rows
    return small, large, rows


def _peak_mb(args: list[str]) -> float:
    """Peak memory (MB) a process running ``pmo-sim ARGS`` allocates once its modules are
    imported: Python's and numpy's (tracemalloc) and Arrow's (its memory pool's peak), so that
    what the imports take and give back does not hide what the command holds."""
    code = ("import resource, sys, tracemalloc, pandas, pyarrow, matplotlib.figure\n"
            "from pmo_sim.cli import main\n"
            "import pmo_sim.analysis.report, pmo_sim.io.excel, pmo_sim.analysis.forecast\n"
            "tracemalloc.start()\n"
            "try: main(sys.argv[1:])\nexcept SystemExit as e: assert not e.code, e.code\n"
            "print(tracemalloc.get_traced_memory()[1] + pyarrow.default_memory_pool().max_memory())")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True, timeout=600)
    return int(done.stdout.splitlines()[-1]) / 2**20


@pytest.mark.slow
def test_forecast_memory_grows_by_a_fraction_of_the_projects_table(
        folders: tuple[Path, Path, int]) -> None:
    small, large, rows = folders
    grown = _peak_mb(["forecast", str(large), "--format", "csv"]) - _peak_mb(
        ["forecast", str(small), "--format", "csv"])
    assert grown * 2**20 / rows < BYTES_PER_ROW, f"{grown:.0f} MB more for {rows:,} more project rows"


def test_a_folder_gives_what_the_same_results_in_memory_give(folders: tuple[Path, Path, int],
                                                             tmp_path: Path) -> None:
    folder = folders[0]
    on_disk = ps.load_results(folder)
    in_memory = ps.Results(on_disk.replications, on_disk.projects, on_disk.pools,
                           on_disk.manifest, on_disk.scenario)
    pd.testing.assert_frame_equal(on_disk.forecast(), in_memory.forecast())
    view = ps.load_results(folder).with_projects(["status"], replications=[1, 3]).projects
    assert list(view.columns) == ["policy", "replication", "counted", "status"]
    expected = in_memory.projects[in_memory.projects["replication"].isin([1, 3])]
    pd.testing.assert_frame_equal(view.reset_index(drop=True),
                                  expected[list(view.columns)].reset_index(drop=True))
    for results, name in ((on_disk, "disk.xlsx"), (in_memory, "memory.xlsx")):
        write_workbook(results, tmp_path / name, project_rows=1000)
    disk, memory = (pd.read_excel(tmp_path / n, sheet_name=None) for n in ("disk.xlsx", "memory.xlsx"))
    assert list(disk) == list(memory)
    for sheet in set(disk) - {"about"}:  # (which names the folder the results are read from)
        pd.testing.assert_frame_equal(disk[sheet], memory[sheet])
