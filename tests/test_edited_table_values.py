"""A results table's values pmo-sim never writes are refused where the table is read, naming
the file, the column and the value: a status, cancel reason or pool kind outside its words,
and a negative day. Before, a ``weird`` status made every forecast percentile "> horizon" and
a finish on day -1e12 was forecast as a P50 of -1,000,000,000,000 (exit 0)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import pmo_sim as ps
from pmo_sim.cli import main


@pytest.fixture
def folder(tiny_results: Path) -> Path:
    return tiny_results


def _edit(folder: Path, table: str, column: str, value: object) -> None:
    data = pq.read_table(folder / f"{table}.parquet")
    i = data.schema.get_field_index(column)
    data = data.set_column(i, column, pa.array([value] * data.num_rows, data.schema.field(i).type))
    pq.write_table(data, folder / f"{table}.parquet")


@pytest.mark.parametrize(("table", "column", "value", "says"), [
    ("projects", "status", "weird", "column status holds 'weird', which pmo-sim never writes there"),
    ("projects", "cancel_reason", "budget", "column cancel_reason holds 'budget'"),
    ("projects", "status", None, "column status holds an empty cell"),
    ("pools", "kind", "robots", "column kind holds 'robots'"),
    ("projects", "finish", -1e12, "column finish holds a negative day (-1e+12)"),
])
def test_a_value_pmo_sim_never_writes_is_refused(folder: Path, table: str, column: str,
                                                 value: object, says: str) -> None:
    _edit(folder, table, column, value)
    with pytest.raises(ps.UsageError, match=re.escape(f".parquet: {says}")):
        getattr(ps.load_results(folder), table)
    out = CliRunner().invoke(main, ["report", str(folder), "--out", str(folder.parent / "r.html")])
    assert out.exit_code == 2 and says in out.output, out.output


def test_a_replications_table_of_more_rows_is_refused_by_its_footer(folder: Path) -> None:
    # A small file can hold millions of rows of one repeated value (1.7 MB made 10,000,000, and
    # compare grew to 680 MB before refusing them): counted in the Parquet footer, unread.
    data = pq.read_table(folder / "replications.parquet")
    many = pa.concat_tables([data] * 50_000)
    pq.write_table(many, folder / "replications.parquet", compression="zstd")
    with pytest.raises(ps.UsageError, match=re.escape(
            "replications.parquet does not match the manifest: it has 100,000 rows, expected 2 "
            "(1 policy x 2 replications)")):
        ps.load_results(folder)


def test_a_projects_table_of_more_rows_than_a_run_can_make_is_refused_by_its_footer(
        folder: Path) -> None:
    data = pq.read_table(folder / "projects.parquet")
    pq.write_table(pa.concat_tables([data] * 75_000), folder / "projects.parquet", compression="zstd")
    with pytest.raises(ps.UsageError, match=re.escape(
            "projects.parquet does not match the manifest: it has 150,000 rows, more than 1 policy "
            "x 2 replications can make (at most 70,000 projects each)")):
        ps.load_results(folder).projects  # noqa: B018
