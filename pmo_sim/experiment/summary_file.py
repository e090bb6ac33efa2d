"""``summary.csv`` of a results folder, computed from its consolidated ``replications.parquet``
a few KPIs at a time with pyarrow and numpy (a run's parent process never imports pandas), so
that its memory does not grow with the run; the same numbers as :meth:`Results.summary
<pmo_sim.experiment.results.Results.summary>` (:mod:`pmo_sim.intervals`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmo_sim.experiment.store import SUMMARY, ResultsFolder
from pmo_sim.experiment.tablefile import read_checked
from pmo_sim.schema import KPI_COLUMNS


def summary_csv(folder: ResultsFolder, cells: int = 250_000) -> str:
    """``summary.csv``'s text (:meth:`Results.summary`) from the consolidated
    ``replications.parquet``: :func:`summary_table` as CSV."""
    from pmo_sim.intervals import SUMMARY_COLUMNS

    return csv_text(summary_table(folder, cells), SUMMARY_COLUMNS)


def write_summary(folder: ResultsFolder) -> None:
    """Write ``summary.csv`` of a consolidated folder (in the parent, or in the process that
    wrote the tables: :func:`pmo_sim.experiment.consolidate.write_tables`)."""
    folder.write_file(SUMMARY, summary_csv(folder))


def summary_table(folder: ResultsFolder, cells: int = 250_000) -> dict[str, NDArray[Any]]:
    """:meth:`Results.summary` of every KPI, as columns, from the consolidated
    ``replications.parquet`` read a few KPIs at a time (about ``cells`` values, at least one
    KPI): a run of any length never holds the whole table in memory to summarise it, and its
    parent process summarises with pyarrow and numpy, never pandas (whose import alone is
    about 40 MB of the parent's memory)."""
    from pmo_sim.experiment import arrays
    from pmo_sim.intervals import SUMMARY_COLUMNS, summary_columns

    path = folder.inside("replications.parquet")
    # The file read (and checked) first: its metadata read alone raised pyarrow's own error
    # (a FileNotFoundError from Results.summary_text() once the folder was deleted).
    policies, codes = arrays.codes(read_checked(path, "replications", ["policy"]).column("policy"))
    step = max(1, cells // max(1, len(codes)))
    # Rows of a policy together, in file order: they already are in a file pmo-sim wrote.
    order = None if bool(np.all(codes[1:] >= codes[:-1])) else np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes if order is None else codes[order], np.arange(len(policies) + 1))
    del codes
    parts: list[dict[str, NDArray[Any]]] = []
    for i in range(0, len(KPI_COLUMNS), step):
        names = list(KPI_COLUMNS[i:i + step])
        table = read_checked(path, "replications", names)
        values = {m: arrays.to_float(table.column(m)) for m in names}
        if order is not None:
            values = {m: v[order] for m, v in values.items()}
        del table
        parts.append(summary_columns(
            [(p, m, values[m][bounds[j]:bounds[j + 1]]) for j, p in enumerate(policies) for m in names]))
    columns = {c: np.concatenate([part[c] for part in parts]) for c in SUMMARY_COLUMNS}
    # policy-major, KPI-minor, as summary() orders a whole table
    rank = {name: i for i, name in enumerate(KPI_COLUMNS)}
    where = {p: i for i, p in enumerate(policies)}
    rows_order = np.lexsort((np.array([rank[m] for m in columns["metric"]], dtype=np.int64),
                             np.array([where[p] for p in columns["policy"]], dtype=np.int64)))
    return {c: v[rows_order] for c, v in columns.items()}


def csv_text(columns: Mapping[str, NDArray[Any]], names: Sequence[str]) -> str:
    """Columns as CSV text, byte for byte as pandas' ``DataFrame.to_csv(index=False)`` writes
    them: the csv module's minimal quoting, ``\n`` line ends, floats as numpy's shortest
    round-trip text (what pandas writes), NaN as an empty field."""
    cells = []
    for name in names:
        v = np.asarray(columns[name])
        if v.dtype.kind == "O":
            # Text as it is: numpy's string dtype (astype(str)) drops trailing NUL characters.
            text = np.array([x if isinstance(x, str) else str(x) for x in v.tolist()], dtype=object)
        else:
            text = v.astype(str).astype(object)
        if v.dtype.kind == "f":
            text[np.isnan(v)] = ""
        cells.append(text)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*cells, strict=True))
    return buf.getvalue()
