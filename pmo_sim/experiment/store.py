"""The results folder (SPEC 7): chunk files, a manifest, consolidated tables, atomically.

Layout of a folder ``DIR``::

    manifest.json          provenance, status (partial/complete) and the list of chunks
    scenario.yaml          the resolved scenario (overrides applied)
    chunks/                one Parquet file per (chunk, table), written as chunks finish
    replications.parquet   consolidated tables, written once every chunk is in
    projects.parquet
    pools.parquet
    goals.parquet          only when the scenario has a strategy (SPEC 10.8)
    risks.parquet          only when the scenario has a risk register
    summary.csv

The manifest lists the tables of the run (``tables``); every chunk has a file per table.

Why chunks on disk: a long run is only as safe as its last checkpoint. Each finished chunk is
written at once, and the manifest (which lists the chunks with their SHA-256 and row counts)
is rewritten after it — at most about once a second (:data:`MANIFEST_EVERY_S`, longer if a
rewrite itself is slow: its size grows with the chunks, and rewriting it after every one of
thousands of chunks made long runs quadratic), and always at the end, on interruption and on
failure. Both go through a temporary file in the same folder and :func:`os.replace`, so no
file ever exists half-written under its final name and a run killed at any instant (even by
SIGKILL) leaves a consistent folder that ``--resume`` continues: a chunk file the manifest
does not list yet is a stray, removed and recomputed (at most the last second of work). A
chunk file whose checksum does not match the manifest is reported and recomputed;
replications are deterministic, so the recomputed rows are the rows that were lost.

Assembly streams: the consolidated tables are written chunk by chunk with a Parquet writer,
policy by policy and chunks in replication order, so rows come out sorted by (policy order,
replication) whatever the completion order, and memory holds one chunk at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pmo_sim.errors import PmoSimError, UsageError
from pmo_sim.experiment.arrays import equal_mask, to_arrow_array
from pmo_sim.experiment.columns import packed
from pmo_sim.experiment.manifest import CHUNK_DIR, MANIFEST, chunk_file_name, read_manifest
from pmo_sim.files import is_temporary, write_atomically
from pmo_sim.schema import STORED_TABLES, Dtype

log = logging.getLogger(__name__)

SCENARIO = "scenario.yaml"
SUMMARY = "summary.csv"
FORMAT = "pmo-sim-results"
FORMAT_VERSION = 1
#: Files pmo-sim owns in a results folder (the only ones ``--force`` removes).
OWN_FILES = (MANIFEST, SCENARIO, SUMMARY, *(f"{t}.parquet" for t in STORED_TABLES))
#: The manifest is rewritten after a chunk at most this often (seconds), and at most at 1/20
#: of the run's time (a rewrite taking longer than this / 20 spaces the next ones further).
MANIFEST_EVERY_S = 1.0

#: Consolidation writes a row group once this much data is buffered, or more for a table so
#: long that it would have more than ``MAX_ROW_GROUPS`` row groups: the Parquet writer holds
#: each row group's metadata until the file is closed (~26 KB for a 25-column table, live, and
#: as much again while the footer is written), which at 2 MB per group was ~50 MB of a
#: 100,000-replication run's parent. The buffer and the metadata are then about equal, the
#: least their sum can be.
ROW_GROUP_BYTES = 2 * 2**20
MAX_ROW_GROUPS = 256


class StoreError(PmoSimError):
    """Writing the results folder failed mid-run (disk full, permissions changed): exit 1."""


_ARROW: dict[Dtype, pa.DataType] = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(),
                                    "bool": pa.bool_()}

#: Explicit schemas from :mod:`pmo_sim.schema`: every chunk has the same column types (a chunk
#: where a column happens to be all missing must not become a ``null`` column that cannot be
#: concatenated).
SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema([(c.name, _ARROW[c.dtype]) for c in table.all_columns])
    for name, table in STORED_TABLES.items()
}


def to_arrow(table: str, columns: Mapping[str, Any]) -> pa.Table:
    """Columnar records of ``table`` (lists, or a chunk's packed arrays) as an Arrow table with
    the table's fixed schema; float ``None`` -> NaN ("times not reached are NaN", SPEC 7.2,
    not Arrow nulls), text ``None`` -> ""."""
    typed = packed(table, columns)  # a no-op on a chunk's columns, which come packed
    arrays = [to_arrow_array(typed[col.name], col.dtype) for col in STORED_TABLES[table].all_columns]
    return pa.Table.from_arrays(arrays, schema=SCHEMAS[table])


_KINDS: dict[Dtype, Callable[[pa.DataType], bool]] = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "int": pa.types.is_integer,
    "float": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "bool": pa.types.is_boolean,
}


def read_checked(path: Path, table: str, columns: Sequence[str] | None = None) -> pa.Table:
    """A table file of a results folder, checked against the results schema first.

    Every column of :mod:`pmo_sim.schema` must be there with a compatible type: a file that
    lacks one (edited, or from elsewhere) is refused with a :class:`UsageError` naming the file
    and the columns, never filled in silently. Extra columns are ignored.
    """
    names = list(columns) if columns else list(STORED_TABLES[table].column_names)
    try:
        # One file, opened once, read directly, on this thread, without pre-buffering:
        # pq.read_table goes through the datasets layer, whose I/O threads keep native memory
        # of about the size of what they read (a 100,000-replication run grew by ~100 MB
        # consolidating and summarising); this way the parent's memory stays flat over any
        # number of reads.
        with pq.ParquetFile(path, pre_buffer=False) as file:
            _check_columns(path, table, file.schema_arrow)
            data = file.read(columns=names, use_threads=False)
        return data.cast(pa.schema([SCHEMAS[table].field(n) for n in names]))
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{path} is unreadable: {exc}") from exc


def _check_columns(path: Path, table: str, found: pa.Schema) -> None:
    """Refuse a file without every column of the table, each of a compatible type."""
    if found.equals(SCHEMAS[table]):
        return  # as pmo-sim writes it (every chunk and table file of its own runs)
    want = STORED_TABLES[table]
    missing = [c.name for c in want.all_columns if c.name not in found.names]
    wrong = [f"{c.name} ({found.field(c.name).type}, expected {c.dtype})" for c in want.all_columns
             if c.name in found.names and not _KINDS[c.dtype](found.field(c.name).type)]
    if missing or wrong:
        what = (f"lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}" if missing
                else "") + ("; " if missing and wrong else "") + (
                f"has columns of the wrong type: {', '.join(wrong)}" if wrong else "")
        raise UsageError(f"{path} is not a pmo-sim {table} table: it {what}")


def empty_table(table: str) -> pa.Table:
    return SCHEMAS[table].empty_table()


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` whole or not at all, synced to disk (a checkpoint must
    survive a crash of the machine, not only of the process)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data

    def synced(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())

    write_atomically(path, synced, make_folder=False)


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """Readable JSON, one line per chunk: the manifest is rewritten after every chunk, and
    fully indented JSON goes through Python's slow encoder."""
    head = json.dumps({k: v for k, v in manifest.items() if k != "chunks"}, indent=2)
    chunks = ",\n    ".join(json.dumps(c, separators=(",", ":")) for c in manifest.get("chunks", []))
    body = f'[\n    {chunks}\n  ]' if chunks else "[]"
    return f'{head[:-2]},\n  "chunks": {body}\n}}\n'


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_empty_dir(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


# --------------------------------------------------------------------------- chunk stores


class ChunkStore:
    """Finished chunks kept in memory (the API without ``out``); base of :class:`ResultsFolder`.

    ``chunks`` maps a chunk's first replication to its manifest entry
    ``{"start", "stop", "files": {table: {"file", "sha256", "rows"}}}``.
    """

    def __init__(self) -> None:
        self.chunks: dict[int, dict[str, Any]] = {}
        self._tables: dict[int, dict[str, pa.Table]] = {}

    def add_chunk(self, start: int, stop: int, tables: Mapping[str, pa.Table]) -> None:
        self.chunks[start] = {"start": start, "stop": stop,
                              "files": {t: {"rows": data.num_rows} for t, data in tables.items()}}
        self._tables[start] = dict(tables)

    def read_chunk(self, start: int, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        data = self._tables[start][table]
        return data.select(list(columns)) if columns else data

    def chunks_done(self) -> list[tuple[int, int]]:
        """The (start, stop) ranges of the finished chunks."""
        return [(int(c["start"]), int(c["stop"])) for c in self.chunks.values()]

    def count_done(self) -> int:
        """How many replications are finished (chunks never overlap)."""
        return sum(stop - start for start, stop in self.chunks_done())

    def ordered(self) -> list[int]:
        return sorted(self.chunks)

    def assemble(self, table: str, policies: Sequence[str]) -> Iterator[pa.Table]:
        """The table's rows, chunk by chunk, sorted by (policy order, replication)."""
        for policy in policies:
            for start in self.ordered():
                data = self.read_chunk(start, table)
                yield data.filter(equal_mask(data["policy"], policy))

    def table(self, table: str, policies: Sequence[str]) -> pa.Table:
        parts = list(self.assemble(table, policies))
        return pa.concat_tables(parts) if parts else empty_table(table)


class ResultsFolder(ChunkStore):
    """A results folder on disk; see the module docstring for the layout and guarantees."""

    def __init__(self, path: str | os.PathLike[str], manifest: dict[str, Any]):
        super().__init__()
        self.path = Path(path)
        self.manifest = manifest
        self.chunks = {int(c["start"]): c for c in manifest.get("chunks", [])}
        self._next_manifest = 0.0  # time.monotonic() after which a chunk rewrites the manifest

    # ---------------------------------------------------------------- opening

    @classmethod
    def create(cls, path: str | os.PathLike[str], manifest: dict[str, Any], scenario_yaml: str,
               force: bool = False) -> ResultsFolder:
        """A new folder; refuses a non-empty one unless ``force`` (then pmo-sim's files go)."""
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise UsageError(f"--out {root} exists and is not a folder")
        if not is_empty_dir(root):
            if not force:
                raise UsageError(
                    f"results folder {root} already exists and is not empty; use --resume to "
                    f"continue the run in it, --force to overwrite it, or another --out")
            cls._remove_own_files(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / CHUNK_DIR).mkdir(exist_ok=True)
            folder = cls(root, manifest)
            atomic_write(root / SCENARIO, scenario_yaml)
            folder.write_manifest()
        except OSError as exc:
            raise UsageError(f"cannot write the results folder {root}: {exc.strerror or exc}") from exc
        return folder

    @staticmethod
    def _remove_own_files(root: Path) -> None:
        try:
            for name in OWN_FILES:
                (root / name).unlink(missing_ok=True)
            chunk_dir = root / CHUNK_DIR
            if chunk_dir.is_symlink():
                chunk_dir.unlink()  # the link goes, never what it points to
            elif chunk_dir.exists():
                shutil.rmtree(chunk_dir)
        except OSError as exc:
            raise UsageError(f"--force cannot clear {root}: {exc.strerror or exc}") from exc

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ResultsFolder:
        """An existing results folder, or a :class:`UsageError` saying why it is not one.

        The manifest is checked before it is trusted (:mod:`pmo_sim.experiment.manifest`): a
        folder whose manifest names files outside the folder, or is malformed, is refused.
        """
        root = Path(path)
        if not root.is_dir():
            raise UsageError(f"{root} is not a results folder: no such folder")
        chunk_dir = root / CHUNK_DIR
        if chunk_dir.is_symlink() or (chunk_dir.exists() and not chunk_dir.is_dir()):
            raise UsageError(f"{root} is not a results folder pmo-sim wrote: {CHUNK_DIR} is not a "
                             f"plain folder")
        return cls(root, read_manifest(root))

    # ---------------------------------------------------------------- writing

    def write_manifest(self, final: bool = False) -> None:
        """Rewrite manifest.json atomically; ``final`` keeps only the chunk ranges (the
        chunk files go once the consolidated tables are written)."""
        began = time.monotonic()
        entries = [self.chunks[s] for s in self.ordered()]
        self.manifest["chunks"] = ([{"start": c["start"], "stop": c["stop"]} for c in entries]
                                   if final else entries)
        try:
            atomic_write(self.path / MANIFEST, manifest_text(self.manifest))
        except OSError as exc:  # the previous manifest stays in place (atomic replace)
            raise StoreError(f"cannot write {self.path / MANIFEST}: {exc.strerror or exc}") from exc
        done = time.monotonic()
        self._next_manifest = done + max(MANIFEST_EVERY_S, 20 * (done - began))


    def add_chunk(self, start: int, stop: int, tables: Mapping[str, pa.Table]) -> None:
        """Write a finished chunk's files, then (at most about once a second) the manifest."""
        files = {}
        try:
            for t in tables:
                data = parquet_bytes(tables[t])
                name = chunk_file_name(start, stop, t)
                atomic_write(self.path / name, data)
                files[t] = {"file": name, "sha256": sha256(data), "rows": tables[t].num_rows}
            self.chunks[start] = {"start": start, "stop": stop, "files": files}
            if time.monotonic() >= self._next_manifest:
                self.write_manifest()
        except OSError as exc:
            raise StoreError(f"cannot write to the results folder {self.path}: "
                             f"{exc.strerror or exc}") from exc

    def inside(self, name: str) -> Path:
        """``name`` (relative) as a path that resolves inside the folder, or a UsageError."""
        candidate = self.path / name
        root = self.path.resolve()
        if candidate.is_symlink() or not candidate.resolve().is_relative_to(root):
            raise UsageError(f"{self.path}: {name} is a link or points outside the results folder; "
                             "refused")
        return candidate

    def read_chunk(self, start: int, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        entry = self.chunks[start]["files"][table]
        return read_checked(self.inside(entry["file"]), table, columns)

    def write_table(self, table: str, policies: Sequence[str]) -> None:
        """Consolidate one table from the chunk files, streaming, atomically."""
        final = self.path / f"{table}.parquet"
        pool = pa.default_memory_pool()
        rows = sum(int(self.chunks[s]["files"][table]["rows"]) for s in self.ordered())

        def stream(tmp: Path) -> None:
            with pq.ParquetWriter(tmp, SCHEMAS[table]) as writer:
                # Buffer small chunk slices into row groups of a useful size.
                buffered: list[pa.Table] = []
                size = 0
                group: int | None = None  # bytes per row group, from the first rows' width
                for part in self.assemble(table, policies):
                    if group is None and part.num_rows:
                        group = max(ROW_GROUP_BYTES,
                                    int(rows * part.nbytes / part.num_rows / MAX_ROW_GROUPS))
                    buffered.append(part)
                    size += part.nbytes
                    if size >= (group or ROW_GROUP_BYTES):
                        writer.write_table(pa.concat_tables(buffered))
                        buffered, size = [], 0
                        pool.release_unused()  # else Arrow's allocator keeps what it freed
                if buffered:
                    writer.write_table(pa.concat_tables(buffered))

        try:
            write_atomically(final, stream, make_folder=False)
        except OSError as exc:
            raise StoreError(f"cannot write {final}: {exc.strerror or exc}") from exc

    def write_file(self, name: str, data: bytes | str) -> None:
        """Write one file of the folder atomically."""
        try:
            atomic_write(self.path / name, data)
        except OSError as exc:
            raise StoreError(f"cannot write {self.path / name}: {exc.strerror or exc}") from exc

    # ---------------------------------------------------------------- checking

    def verify_chunks(self, drop: bool) -> list[str]:
        """Check every listed chunk file against its checksum and row count.

        Returns one message per bad chunk. With ``drop`` the bad chunks leave the manifest
        (their files are deleted) so a resume recomputes them; otherwise they are skipped.
        """
        problems = []
        for start in self.ordered():
            entry = self.chunks[start]
            for info in entry["files"].values():
                why = self._check_file(self.inside(info["file"]), info)
                if why:
                    problems.append(f"chunk {entry['start']}-{entry['stop'] - 1} "
                                    f"({info['file']}) {why}")
                    break
            else:
                continue
            del self.chunks[start]
            if drop:
                for info in entry["files"].values():
                    with contextlib.suppress(OSError):
                        self.inside(info["file"]).unlink()
        if drop and problems:
            self.write_manifest()
        return problems

    @staticmethod
    def _check_file(path: Path, info: Mapping[str, Any]) -> str | None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return f"is unreadable ({exc.strerror or exc})"
        if sha256(data) != info.get("sha256"):
            return "is corrupt (checksum mismatch)"
        try:
            rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        except (OSError, pa.ArrowException) as exc:
            return f"is not a Parquet file ({exc})"
        return None if rows == info.get("rows") else f"has {rows} rows, expected {info.get('rows')}"

    def clean_strays(self) -> None:
        """Delete temporary files and chunk files no manifest entry refers to (killed runs)."""
        listed = {info["file"] for c in self.chunks.values() for info in c["files"].values()}
        chunk_dir = self.path / CHUNK_DIR
        if chunk_dir.is_symlink():  # never follow a link out of the folder (open() refuses it too)
            raise UsageError(f"{self.path}: {CHUNK_DIR} is a link; refused")
        chunk_dir.mkdir(exist_ok=True)
        for p in [*chunk_dir.iterdir(), *self.path.glob(".*")]:
            rel = f"{CHUNK_DIR}/{p.name}" if p.parent == chunk_dir else p.name
            # Only pmo-sim's own kinds of file: Parquet chunks and its temporary files.
            ours = (p.parent == chunk_dir and p.name.endswith(".parquet")) or is_temporary(p.name)
            if rel not in listed and ours and (p.is_symlink() or p.is_file()):
                with contextlib.suppress(OSError):
                    p.unlink()

    def tables_present(self) -> list[str]:
        return [t for t in STORED_TABLES if (self.path / f"{t}.parquet").is_file()]
