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
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pmo_sim.errors import PmoSimError, UsageError, cannot_write, folder_not_empty
from pmo_sim.experiment import tablefile
from pmo_sim.experiment.arrays import equal_mask, to_float
from pmo_sim.experiment.manifest import (
    ChunkRecord,
    chunk_file_name,
    claimed,
    manifest_text,
    read_manifest,
)
from pmo_sim.experiment.tablefile import SCHEMAS, empty_table, parquet_bytes, read_checked, writer_options
from pmo_sim.files import (
    CHUNK_DIR,
    MANIFEST,
    SCENARIO,
    SUMMARY,
    check_no_file_in_the_way,
    create_folder,
    is_temporary,
    missing_folders,
    refuse_results_file,
    remove_empty_folders,
    remove_run_files,
    write_atomically,
    write_synced,
)
from pmo_sim.schema import STORED_TABLES

log = logging.getLogger(__name__)

#: Files pmo-sim owns in a results folder (the only ones ``--force`` removes).
OWN_FILES = (MANIFEST, SCENARIO, SUMMARY, *(f"{t}.parquet" for t in STORED_TABLES))
#: The manifest is rewritten after a chunk at most this often (seconds), and at most at 1/20
#: of the run's time (a rewrite taking longer than this / 20 spaces the next ones further).
MANIFEST_EVERY_S = 1.0

#: A run keeps its chunks' tables in memory too, and consolidates from there, while all its
#: tables are expected to fit in this (~600 replications of the reference's three policies):
#: reading the files back (39 reads of ``projects`` after 400 replications) was most of a short
#: run's end. A longer run holds nothing: its parent's memory stays flat in the run's length.
KEEP_BYTES = 16 * 2**20


def _never_results() -> set[Path]:
    """Folders that are never a results folder: the file system's root and the user's home."""
    never = {Path(Path.cwd().anchor or "/").resolve()}
    with contextlib.suppress(RuntimeError, KeyError, OSError):  # no home in this environment
        never.add(Path.home().resolve())
    return never


class StoreError(PmoSimError):
    """Writing the results folder failed mid-run (disk full, permissions changed): exit 1."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_empty_dir(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


# --------------------------------------------------------------------------- chunk stores


class ChunkStore:
    """Finished chunks kept in memory (the API without ``out``); base of :class:`ResultsFolder`.

    ``chunks`` maps a chunk's first replication to its record (its range, and per table its
    rows and, on disk, its file's checksum).
    """

    def __init__(self) -> None:
        self.chunks: dict[int, ChunkRecord] = {}
        self._tables: dict[int, dict[str, pa.Table]] = {}

    def add_chunk(self, start: int, stop: int, tables: Mapping[str, pa.Table]) -> None:
        self.chunks[start] = ChunkRecord(start, stop, tuple(tables),
                                         tuple(data.num_rows for data in tables.values()))
        self._tables[start] = dict(tables)

    def read_chunk(self, start: int, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        data = self._tables[start][table]
        return data.select(list(columns)) if columns else data

    def chunks_done(self) -> list[tuple[int, int]]:
        """The (start, stop) ranges of the finished chunks."""
        return [(c.start, c.stop) for c in self.chunks.values()]

    def count_done(self) -> int:
        """How many replications are finished (chunks never overlap)."""
        return sum(stop - start for start, stop in self.chunks_done())

    def ordered(self) -> list[int]:
        return sorted(self.chunks)

    def assemble(self, table: str, policies: Sequence[str], first: pa.Table | None = None,
                 hold: bool = False) -> Iterator[pa.Table]:
        """The table's rows, chunk by chunk, sorted by (policy order, replication).

        A chunk is read once per policy, so that memory holds one chunk at a time; with
        ``hold``, once, every chunk kept until the table is assembled (a small table: a file's
        reading costs about as much for a few rows as for thousands). ``first`` is the first
        chunk's table when the caller has read it already: it is used, not read again.
        """
        order = self.ordered()
        kept = {order[0]: first} if first is not None and order else {}
        if hold:
            kept = {s: kept[s] if s in kept else self.read_chunk(s, table) for s in order}
        for policy in policies:
            for start in order:
                if hold:
                    data = kept[start]
                else:
                    data = kept.pop(start) if start in kept else self.read_chunk(start, table)
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
        # The records are the run's own copy of its chunk list; ``manifest["chunks"]`` keeps
        # what was read until the run is complete (then the chunks' ranges).
        self.chunks = {int(c["start"]): ChunkRecord.from_entry(c) for c in manifest.get("chunks", [])}
        self._next_manifest = 0.0  # time.monotonic() after which a chunk rewrites the manifest
        #: the replications of the chunks the manifest on disk lists (what a resume keeps)
        self.listed = self.count_done()
        self.lock: int | None = None  # a run's hold on the folder (:func:`claim`)
        self._kept_bytes = 0  # of the chunks' tables kept in memory (``_tables``); -1: none kept

    # ---------------------------------------------------------------- opening

    @classmethod
    def create(cls, path: str | os.PathLike[str], manifest: dict[str, Any], scenario_yaml: str,
               force: bool = False, resumable: bool = True) -> ResultsFolder:
        """A new folder; refuses a non-empty one unless ``force`` (then pmo-sim's files go), and one another
        run holds (:func:`claim`; held until :meth:`release`). Made if missing, claimed, and only then
        checked and written: of two runs making the same ``--out`` at once, the one that claims it writes
        it; the other is refused (in use, or not empty) having written nothing (before, each wrote over the
        other's, unclaimed)."""
        root = Path(path)
        # not another results folder's own file or chunk folder, even through a link
        refuse_results_file(root, into=True)
        try:  # a file, a link to nothing or a loop of links (before: "File exists", a traceback)
            check_no_file_in_the_way(root)
        except OSError as exc:
            raise cannot_write(f"the results folder {root}", exc) from exc
        if root.resolve() in _never_results():
            # a results folder holds pmo-sim's files and --force replaces them: not these
            raise UsageError(f"--out {root} is the file system's root or your home folder; give "
                             f"a folder of its own for the results, e.g. {root / 'results'}")
        missing = missing_folders(root)
        try:
            create_folder(root)
        except OSError as exc:
            remove_empty_folders(missing)
            raise cannot_write(f"the results folder {root}", exc) from exc
        # made by this run or another at the same instant: claimed first
        return claimed(root, lambda: cls._create(root, manifest, scenario_yaml, force, missing, resumable))

    def release(self) -> None:
        """Let another run use the folder (the chunks' tables kept in memory go: the files may
        change from now on)."""
        self.forget_kept()
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

    @classmethod
    def _create(cls, root: Path, manifest: dict[str, Any], scenario_yaml: str,
                force: bool, missing: list[Path], resumable: bool = True) -> ResultsFolder:
        """The folder ``root`` (made, and claimed) checked and written; ``missing``: the
        folders :meth:`create` made, removed again if nothing can be written."""
        if not is_empty_dir(root):
            if not force:
                raise folder_not_empty(root, resumable)
            cls._remove_own_files(root)
        try:
            (root / CHUNK_DIR).mkdir(exist_ok=True)
            folder = cls(root, manifest)
            write_synced(root / SCENARIO, scenario_yaml)
            folder.write_manifest()
        except BaseException as exc:
            # Nothing half made is left (a full disk, or Ctrl+C: a folder without a manifest,
            # which the same command would then refuse to overwrite and --resume to read):
            # what this call made goes.
            with contextlib.suppress(OSError, UsageError):
                cls._remove_own_files(root)
                remove_empty_folders(missing)
            if not isinstance(exc, (OSError, StoreError)):
                raise
            cause = exc if isinstance(exc, OSError) else exc.__cause__
            if isinstance(cause, OSError):
                raise cannot_write(f"the results folder {root}", cause) from exc
            raise
        return folder

    @staticmethod
    def _remove_own_files(root: Path) -> None:
        try:
            remove_run_files(root, OWN_FILES, CHUNK_DIR)
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
        records = [self.chunks[s] for s in self.ordered()]
        if final:
            self.manifest["chunks"] = [{"start": c.start, "stop": c.stop} for c in records]
        try:
            write_synced(self.path / MANIFEST, manifest_text(
                self.manifest, None if final else (c.entry() for c in records)))
        except OSError as exc:  # the previous manifest stays in place (atomic replace)
            raise StoreError(f"cannot write {self.path / MANIFEST}: {exc.strerror or exc}") from exc
        done = time.monotonic()
        self._next_manifest = done + max(MANIFEST_EVERY_S, 20 * (done - began))
        self.listed = self.count_done()

    def add_chunk(self, start: int, stop: int, tables: Mapping[str, pa.Table]) -> None:
        """Write a finished chunk's files, then (at most about once a second) the manifest."""
        files: list[str] = []
        digests: list[bytes] = []
        try:
            for t in tables:
                data = parquet_bytes(tables[t], t)
                name = chunk_file_name(start, stop, t)
                write_synced(self.path / name, data)
                files.append(name)
                digests.append(hashlib.sha256(data).digest())
            self.chunks[start] = ChunkRecord(start, stop, tuple(tables),
                                             tuple(data.num_rows for data in tables.values()),
                                             tuple(digests))
            self._keep(start, stop, tables)
            if time.monotonic() >= self._next_manifest:
                self.write_manifest()
        except OSError as exc:
            # No manifest lists this chunk's files yet: remove those written, so that on a full
            # disk the manifest listing the chunks before it has room to be written.
            for name in files:
                with contextlib.suppress(OSError):
                    (self.path / name).unlink()
            raise StoreError(f"cannot write to the results folder {self.path}: "
                             f"{exc.strerror or exc}") from exc

    def inside(self, name: str) -> Path:
        """``name`` (relative) as a path that resolves inside the folder and is a plain file
        if anything, or a UsageError."""
        candidate = self.path / name
        root = self.path.resolve()
        if candidate.is_symlink() or not candidate.resolve().is_relative_to(root):
            raise UsageError(f"{self.path}: {name} is a link or points outside the results folder; "
                             "refused")
        if candidate.exists() and not candidate.is_file():
            # a folder, or a named pipe (opening one waits for a writer forever), in a chunk's place
            raise UsageError(f"{self.path}: {name} is not a file (a folder, pipe or device where "
                             f"pmo-sim writes a file); remove it, then read or resume again")
        return candidate

    def _keep(self, start: int, stop: int, tables: Mapping[str, pa.Table]) -> None:
        """Keep a new chunk's tables in memory while the run's are expected to fit in
        :data:`KEEP_BYTES` (its target replications at this chunk's bytes a replication)."""
        if self._kept_bytes < 0:
            return
        size = sum(data.nbytes for data in tables.values())
        expected = size / max(1, stop - start) * int(self.manifest.get("replications") or 0)
        if self._kept_bytes + size > KEEP_BYTES or expected > KEEP_BYTES:
            self.forget_kept()
            self._kept_bytes = -1  # a run that outgrows it (a precision target) keeps no more
            return
        self._tables[start] = dict(tables)
        self._kept_bytes += size

    def forget_kept(self) -> None:
        """Let go of the chunks' tables kept in memory (read from their files from now on)."""
        self._tables.clear()
        self._kept_bytes = 0

    def read_chunk(self, start: int, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        kept = self._tables.get(start)
        if kept is not None and table in kept:  # the very table its file was written from
            return super().read_chunk(start, table, columns)
        return read_checked(self.inside(self.chunks[start].file_of(table)), table, columns)

    def table_bytes(self, table: str) -> tuple[float, pa.Table | None]:
        """The consolidated table's size in memory, estimated from its rows and the first
        chunk's bytes per row, and that first chunk (read for the estimate)."""
        order = self.ordered()
        first = self.read_chunk(order[0], table) if order else None
        rows = sum(self.chunks[s].rows_of(table) for s in order)
        width = first.nbytes / first.num_rows if first is not None and first.num_rows else 0.0
        return rows * width, first

    def write_table(self, table: str, policies: Sequence[str],
                    sized: tuple[float, pa.Table | None] | None = None) -> None:
        """Consolidate one table from the chunk files, streaming, atomically. ``sized``:
        :meth:`table_bytes`'s answer when the caller has it already."""
        final = self.path / f"{table}.parquet"
        pool = pa.default_memory_pool()
        # The table's size sizes the row groups, and a table no larger than one group's
        # buffer is read chunk by chunk once and held (the replications table of 400
        # replications in 13 chunks: 13 reads instead of 39), no more memory than a long
        # table's buffer.
        size, first = sized if sized is not None else self.table_bytes(table)
        group = tablefile.row_group_bytes(size, len(SCHEMAS[table]))
        parts = self.assemble(table, policies, first, hold=0.0 < size <= tablefile.ROW_GROUP_BYTES)

        def stream(tmp: Path) -> None:
            with tablefile.native_file(tmp, "wb") as sink, \
                    pq.ParquetWriter(sink, SCHEMAS[table], **writer_options(table)) as writer:
                # Buffer small chunk slices into row groups of a useful size.
                buffered: list[pa.Table] = []
                size = 0
                for part in parts:
                    buffered.append(part)
                    size += part.nbytes
                    if size >= group:
                        writer.write_table(pa.concat_tables(buffered))
                        buffered, size = [], 0
                        pool.release_unused()  # else Arrow's allocator keeps what it freed
                if buffered:
                    writer.write_table(pa.concat_tables(buffered))

        try:
            write_atomically(final, stream, make_folder=False, results_own=True)
        except OSError as exc:
            raise StoreError(f"cannot write {final}: {exc.strerror or exc}") from exc

    def write_file(self, name: str, data: bytes | str) -> None:
        """Write one file of the folder atomically."""
        try:
            write_synced(self.path / name, data)
        except OSError as exc:
            raise StoreError(f"cannot write {self.path / name}: {exc.strerror or exc}") from exc

    # ---------------------------------------------------------------- checking

    def verify_chunks(self, drop: bool) -> list[str]:
        """Check every listed chunk file (:meth:`_check_file`); one message per bad chunk. With
        ``drop`` the bad chunks leave the manifest (their files are deleted) so a resume
        recomputes them; otherwise they are skipped."""
        problems = []
        policies = self.manifest["policies"]
        for start in self.ordered():
            chunk = self.chunks[start]
            for table in chunk.tables:
                why = self._check_file(self.inside(chunk.file_of(table)), chunk, table, policies)
                if why:
                    problems.append(f"chunk {chunk.start}-{chunk.stop - 1} ({chunk.file_of(table)}) {why}")
                    break
            else:
                continue
            del self.chunks[start]
            if drop:
                for table in chunk.tables:
                    with contextlib.suppress(OSError):
                        self.inside(chunk.file_of(table)).unlink()
        if drop and problems:
            self.write_manifest()
        return problems

    @staticmethod
    def _check_file(path: Path, chunk: ChunkRecord, table: str, policies: list[str]) -> str | None:
        """Why a chunk's file of ``table`` is not the one its manifest lists, or None: its
        checksum, columns (a type retyped, its checksum edited to match, failed the resume at
        consolidation), rows, the replications and policies it holds (a file copied from
        another chunk, or edited to another policy's name, would otherwise be taken for this
        one), and its values."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            return f"is unreadable ({exc.strerror or exc})"
        if sha256(data) != chunk.sha256_of(table):
            return "is corrupt (checksum mismatch)"
        try:
            file = pq.ParquetFile(io.BytesIO(data))
            if retyped := tablefile.columns_problem(table, file.schema_arrow):
                return retyped
            rows = file.metadata.num_rows
            key = file.read(columns=tablefile.checked_columns(table, file.schema_arrow))
            held, names = to_float(key.column(1)), set(key.column(0).unique().to_pylist())
            edited = tablefile.value_problem(table, key)  # a word or KPI no run writes
        except (OSError, KeyError, pa.ArrowException) as exc:
            return f"is not a Parquet file of pmo-sim's ({exc})"
        if rows != chunk.rows_of(table):
            return f"has {rows} rows, expected {chunk.rows_of(table)}"
        start, stop = chunk.start, chunk.stop
        if held.size and (held.min() < start or held.max() >= stop):
            return f"holds replications {held.min():.0f}-{held.max():.0f}, not {start}-{stop - 1}"
        if stray := sorted(map(str, names - set(policies))):
            return f"holds rows of policies the manifest does not list ({', '.join(stray[:3])})"
        if edited:
            return f"was edited: {edited}"
        if table == "replications":
            each = np.array_equal(np.unique(held), np.arange(start, stop))
            if not each or rows != (stop - start) * len(policies):
                return f"does not hold replications {start}-{stop - 1} once per policy"
        return None

    def clean_strays(self) -> None:
        """Delete temporary files and chunk files no manifest entry refers to (killed runs)."""
        listed = {c.file_of(t) for c in self.chunks.values() for t in c.tables}
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
