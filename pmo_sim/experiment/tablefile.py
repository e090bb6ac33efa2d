"""The Parquet files of the results tables: their schemas, how they are written and how they
are read back, checked. Chunk files and consolidated tables are written alike
(:func:`writer_options`)."""

from __future__ import annotations

import io
import math
import numbers
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pmo_sim.errors import UsageError, listed
from pmo_sim.experiment.arrays import to_arrow_array, to_float
from pmo_sim.experiment.columns import packed
from pmo_sim.schema import NUMBER_KPIS, STORED_TABLES, Dtype

_ARROW: dict[Dtype, pa.DataType] = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(),
                                    "bool": pa.bool_()}

#: Explicit schemas from :mod:`pmo_sim.schema`: every chunk has the same column types (a chunk
#: where a column happens to be all missing must not become a ``null`` column that cannot be
#: concatenated).
SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema([(c.name, _ARROW[c.dtype]) for c in table.all_columns])
    for name, table in STORED_TABLES.items()
}

def native_file(path: str | os.PathLike[str], mode: str = "rb") -> pa.NativeFile:
    """``path`` opened for pyarrow by its file-system bytes. Given a path as text, pyarrow
    encodes it as strict UTF-8: a folder whose name holds a byte that is not UTF-8 (``bad\\xff``,
    which Python reads as a lone surrogate) was a UnicodeEncodeError traceback in every
    reader, and at the end of a run, after its chunks were written."""
    return pa.OSFile(os.fsencode(path), mode)


#: The columns written with dictionary encoding: text and integers, whose values repeat
#: (policies, projects, replications, statuses); Parquet has no dictionary for flags. Not the
#: floats, whose values mostly do not: Arrow would build a dictionary of each float column
#: until it gave up on it, two thirds of the time of writing ``projects`` (48,000 rows:
#: 64 ms with pyarrow's defaults, 29 ms so).
_DICTIONARY = {name: [c.name for c in table.all_columns if c.dtype in ("string", "int")]
               for name, table in STORED_TABLES.items()}


#: Consolidation writes a row group once this much data is buffered, or more for a long
#: table (:func:`row_group_bytes`).
ROW_GROUP_BYTES = 2 * 2**20
#: What the Parquet writer holds per row group and column until the file is closed: its
#: metadata (20.8 KB a group of a 25-column table, measured with pyarrow 26).
META_BYTES_PER_COLUMN = 840


def row_group_bytes(table_bytes: float, columns: int) -> int:
    """The data buffered per row group when consolidating a table of ``table_bytes``.

    A long table's parent holds one group's buffer and every group's metadata: ``B + (T / B)
    m`` for groups of ``B`` bytes of a ``T``-byte table, ``m`` of metadata a group; least at
    ``B = sqrt(T m)``, where the two are equal and grow as the square root of the run's
    length. (A fixed number of groups, 256 before, made the buffer grow with the run: ~10 MB
    at 100,000 replications of the reference portfolio and ~100 MB at 1,000,000, where this
    gives 7 MB and 23 MB; a fixed size, 2 MB before that, made the metadata grow with it:
    ~50 MB at 100,000.)
    """
    return int(max(ROW_GROUP_BYTES, math.sqrt(table_bytes * columns * META_BYTES_PER_COLUMN)))


def writer_options(table: str) -> dict[str, Any]:
    """The Parquet writer's options for ``table``: dictionary encoding where values repeat,
    zstd at its fastest level (with the plain floats, files within a few per cent of the size
    pyarrow's defaults give, written 2.2 times as fast)."""
    return {"use_dictionary": _DICTIONARY[table], "compression": "zstd", "compression_level": 1}


def to_arrow(table: str, columns: Mapping[str, Any]) -> pa.Table:
    """Columnar records of ``table`` (lists, or a chunk's packed arrays) as an Arrow table with
    the table's fixed schema; float ``None`` -> NaN ("times not reached are NaN", SPEC 7.2,
    not Arrow nulls), text ``None`` -> ""."""
    typed = packed(table, columns)  # a no-op on a chunk's columns, which come packed
    arrays = [to_arrow_array(typed[col.name], col.dtype) for col in STORED_TABLES[table].all_columns]
    return pa.Table.from_arrays(arrays, schema=SCHEMAS[table])


def empty_table(table: str) -> pa.Table:
    return SCHEMAS[table].empty_table()


def parquet_bytes(table: pa.Table, name: str) -> bytes:
    """``table`` (of the results table ``name``) as a Parquet file's bytes."""
    buf = io.BytesIO()
    pq.write_table(table, buf, **writer_options(name))
    return buf.getvalue()


_KINDS: dict[Dtype, Callable[[pa.DataType], bool]] = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "int": pa.types.is_integer,
    "float": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "bool": pa.types.is_boolean,
}


def check_selection(table: str, columns: object, replications: object) -> None:
    """Refuse a Python caller's ``columns`` (a list of ``table``'s column names, or None) and
    ``replications`` (integers, or None) before a read: an unknown column failed with pyarrow's
    KeyError, one name its letters' ("Column f does not exist"), and a replication of text or
    True was "projects.parquet is unreadable", as if the file were damaged."""
    for name, value, kind in (("columns", columns, str),
                              ("replications", replications, numbers.Integral)):
        if value is None:
            continue
        if isinstance(value, str) or not isinstance(value, Collection):
            raise TypeError(f"{name} must be a list of {'names' if kind is str else 'integers'}, "
                            f"not {type(value).__name__} ({value!r})")
        odd = [v for v in value if isinstance(v, bool) or not isinstance(v, kind)]
        if odd:
            raise TypeError(f"{name} must hold {'names' if kind is str else 'integers'}, not "
                            f"{type(odd[0]).__name__} ({odd[0]!r})")
    known = STORED_TABLES[table].column_names
    unknown = [c for c in columns if c not in known] if isinstance(columns, Collection) else []
    if unknown:
        raise UsageError(f"unknown {table} column {', '.join(map(repr, unknown))}; it has: "
                         f"{listed(list(known))}")


def read_checked(path: Path, table: str, columns: Sequence[str] | None = None,
                 replications: Collection[int] | None = None) -> pa.Table:
    """A table file of a results folder, checked against the results schema first.

    Every column of :mod:`pmo_sim.schema` must be there with a compatible type: a file that
    lacks one (edited, or from elsewhere) is refused with a :class:`UsageError` naming the file
    and the columns, never filled in silently. Extra columns are ignored. ``replications``
    keeps the rows of those replications only (:func:`_rows_of`).
    """
    names = list(columns) if columns else list(STORED_TABLES[table].column_names)
    try:
        # One file, opened once, read directly, on this thread, without pre-buffering:
        # pq.read_table goes through the datasets layer, whose I/O threads keep native memory
        # of about the size of what they read (a 100,000-replication run grew by ~100 MB
        # consolidating and summarising); this way the parent's memory stays flat over any
        # number of reads.
        with native_file(path) as source, pq.ParquetFile(source, pre_buffer=False) as file:
            _check_columns(path, table, file.schema_arrow)
            data = (file.read(columns=names, use_threads=False) if replications is None
                    else _rows_of(file, names, replications))
        data = data.cast(pa.schema([SCHEMAS[table].field(n) for n in names]))
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{path} is unreadable: {exc}") from exc
    _check_days(path, table, data)
    _check_numbers(path, table, data)
    _check_words(path, table, data)
    return data


def _rows_of(file: pq.ParquetFile, names: list[str], replications: Collection[int]) -> pa.Table:
    """The rows of ``replications`` of ``file``, read a batch at a time and filtered: memory
    holds the rows kept and one batch, not the whole table (the projects sheet of an export
    keeps a few replications of a million rows)."""
    read = list(dict.fromkeys([*names, "replication"]))
    wanted = pa.array(sorted(replications), pa.int64()).cast(file.schema_arrow.field("replication").type)
    kept = [batch.filter(pc.is_in(batch.column("replication"), value_set=wanted))
            for batch in file.iter_batches(columns=read, use_threads=False)]
    return pa.Table.from_batches(kept, pa.schema([file.schema_arrow.field(n) for n in read])).select(names)


#: Per table, its columns of days (times): finite or NaN ("times not reached are NaN").
_DAYS = {name: {c.name for c in table.all_columns if c.dtype == "float" and c.unit == "day"}
         for name, table in STORED_TABLES.items()}


def _check_days(path: Path, table: str, data: pa.Table) -> None:
    """Refuse an infinite or negative time: pmo-sim never writes one (days count from day 0),
    and an edited table's would make the amounts, forecasts and figures computed from it
    undefined or absurd (a finish on day -1e12 was forecast as a P50 of -1,000,000,000,000)."""
    for name in sorted(_DAYS[table].intersection(data.column_names)):
        days = to_float(data.column(name))  # (to_numpy would import pandas)
        if np.isinf(days).any():
            raise UsageError(f"{path}: column {name} holds an infinite day; pmo-sim writes a "
                             f"time as a finite day, or NaN when it was not reached")
        if (days < 0).any():
            raise UsageError(f"{path}: column {name} holds a negative day ({np.nanmin(days):g}); "
                             f"pmo-sim counts days from day 0: the table was edited")


#: Per table, its text columns of a few words (:attr:`~pmo_sim.schema.Column.values`).
_WORDS = {name: {c.name: c.values for c in table.all_columns if c.values}
          for name, table in STORED_TABLES.items()}


def _check_words(path: Path, table: str, data: pa.Table) -> None:
    """Refuse a status, cancel reason or pool kind pmo-sim never writes: read as none of its
    words, an edited ``weird`` status made every forecast percentile "> horizon"."""
    if why := _word_problem(table, data):
        raise UsageError(f"{path}: {why}: the table was edited")


def _word_problem(table: str, data: pa.Table) -> str | None:
    for name, words in _WORDS[table].items():
        if name not in data.column_names:
            continue
        found = set(pc.unique(data.column(name)).to_pylist())
        wrong = sorted((w for w in found - set(words) if w is not None), key=str)
        if wrong or None in found:
            shown = ", ".join(repr(w) for w in wrong[:3]) or "an empty cell"
            return (f"column {name} holds {shown}, which pmo-sim never writes there (it writes "
                    f"{', '.join(repr(w) for w in words)})")
    return None


#: Per table, its KPI columns a run always gives a number (:data:`~pmo_sim.schema.NUMBER_KPIS`).
_NUMBERS = {"replications": set(NUMBER_KPIS)}


def _check_numbers(path: Path, table: str, data: pa.Table) -> None:
    """Refuse NaN (or an empty cell) in a KPI a run always gives a number: the table was
    edited (before, an ``npv`` of NaN in every row made ``compare`` ask for more replications)."""
    if why := _number_problem(table, data):
        raise UsageError(f"{path}: {why}: the table was edited")


def _number_problem(table: str, data: pa.Table) -> str | None:
    for name in sorted(_NUMBERS.get(table, set()).intersection(data.column_names)):
        missing = int(np.isnan(to_float(data.column(name))).sum())
        if missing:
            return (f"column {name} holds no number (NaN or empty) in {missing} of "
                    f"{data.num_rows} rows; pmo-sim always writes a number there")
    return None


def check_rest(path: Path, table: str, read: Sequence[str]) -> None:
    """Check the values of the columns of ``table`` a reader of only ``read`` leaves out (its
    days, words and KPIs, as :func:`read_checked` does), a batch at a time: an edited table is
    refused as when every column is read, without every column in memory."""
    rest = sorted((_DAYS[table] | set(_WORDS[table]) | _NUMBERS.get(table, set())) - set(read))
    if not rest:
        return
    try:
        with native_file(path) as source, pq.ParquetFile(source, pre_buffer=False) as file:
            for batch in file.iter_batches(columns=rest, use_threads=False):
                data = pa.Table.from_batches([batch]).cast(pa.schema([SCHEMAS[table].field(n) for n in rest]))
                _check_days(path, table, data)
                _check_numbers(path, table, data)
                _check_words(path, table, data)
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{path} is unreadable: {exc}") from exc


def checked_columns(table: str, schema: pa.Schema) -> list[str]:
    """The columns of a chunk of ``table`` (its file's ``schema``) a resume reads to check it:
    policy and replication, then those :func:`value_problem` checks (its text columns of a few
    words, the KPIs a run always gives a number), not its many others."""
    values = [n for n in schema.names if n in _WORDS[table] or n in _NUMBERS.get(table, set())]
    return ["policy", "replication", *values]


def value_problem(table: str, data: pa.Table) -> str | None:
    """Why ``data`` holds a value pmo-sim never writes, or None: a word outside its column's
    :attr:`~pmo_sim.schema.Column.values`, or no number in a KPI a run always gives one. The
    checks :func:`read_checked` makes, for a chunk's few columns checked at a resume's start
    (:meth:`~pmo_sim.experiment.store.ResultsFolder.verify_chunks`)."""
    return _word_problem(table, data) or _number_problem(table, data)


def _check_columns(path: Path, table: str, found: pa.Schema) -> None:
    """Refuse a file without every column of the table, each of a compatible type."""
    if problem := columns_problem(table, found):
        raise UsageError(f"{path} {problem}")


def columns_problem(table: str, found: pa.Schema) -> str | None:
    """Why a file of schema ``found`` is not one of ``table`` (a column missing, or of a type
    no pmo-sim table of it has), or None: what :func:`read_checked` refuses, and a resume's
    check of a chunk (:meth:`~pmo_sim.experiment.store.ResultsFolder.verify_chunks`) leaves out."""
    if found.equals(SCHEMAS[table]):
        return None  # as pmo-sim writes it (every chunk and table file of its own runs)
    want = STORED_TABLES[table]
    missing = [c.name for c in want.all_columns if c.name not in found.names]
    wrong = [f"{c.name} ({found.field(c.name).type}, expected {c.dtype})" for c in want.all_columns
             if c.name in found.names and not _KINDS[c.dtype](found.field(c.name).type)]
    if not (missing or wrong):
        return None
    what = (f"lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}" if missing
            else "") + ("; " if missing and wrong else "") + (
            f"has columns of the wrong type: {', '.join(wrong)}" if wrong else "")
    return f"is not a pmo-sim {table} table: it {what}"
