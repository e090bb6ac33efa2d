"""The end of a run: its tables consolidated, the long ones in a process of their own.

Writing a table, the Parquet writer keeps every row group's metadata (~21 KB a group of the
25-column ``projects``) until the file closes, beside one group's buffer; with groups sized
by the square root of the table (:func:`~pmo_sim.experiment.tablefile.row_group_bytes`) the two
together grow as ``2 sqrt(table bytes x metadata a group)``: +20 MB in the parent of 100,000
replications of the benchmarks' reference portfolio (a 2.8 GB ``projects`` table), whatever
the writer's options. pyarrow's writer cannot drop a group's metadata before the file is
closed, so that memory is only the parent's to avoid: a run whose replications ran in worker
processes hands every table large enough for its row groups to grow past the smallest size
(:func:`grows_with_run`) to a fresh process forked like the workers, while the parent writes
the short tables and ``summary.csv`` beside it. The parent's memory then no longer depends on
the run's length (a short table costs it one ~2 MB group and less metadata), and the long
table is written at the same time as the rest instead of after it.

An in-process run (one job, ``serial``) writes every table itself: its parent simulated, so
its memory was never the orchestrator's alone, and a process's start (~0.2 s with pyarrow's
import) is not worth it for the tables of a short run. The tables are the same bytes either
way: the same code writes them, from the same chunk files.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pmo_sim.experiment.backends import init_worker
from pmo_sim.experiment.store import ResultsFolder, StoreError
from pmo_sim.experiment.tablefile import ROW_GROUP_BYTES, SCHEMAS, row_group_bytes
from pmo_sim.experiment.workers import mp_context
from pmo_sim.files import is_temporary

#: The table ``summary.csv`` is computed from (it waits for that table, not the others).
SUMMARISED = "replications"


def grows_with_run(table: str, size: float) -> bool:
    """Whether writing ``table`` (``size`` bytes in memory) holds more than the smallest row
    group's buffer and as much metadata: from ~7,500 replications of the reference
    portfolio's ``projects``, ~190,000 of its ``replications``."""
    return row_group_bytes(size, len(SCHEMAS[table])) > ROW_GROUP_BYTES


def write_tables(store: ResultsFolder, tables: Sequence[str], policies: Sequence[str],
                 summarise: Callable[[], None], elsewhere: bool) -> None:
    """Consolidate ``tables``, then ``summarise`` once ``replications`` is written.

    ``elsewhere``: the run's replications ran in worker processes, so the parent may hand its
    long tables (:func:`grows_with_run`) to a process of their own; it writes the others and
    summarises meanwhile.
    """
    sizes = {t: store.table_bytes(t) for t in tables}
    far = [t for t in tables if elsewhere and grows_with_run(t, sizes[t][0])]
    for t in far:
        del sizes[t]  # its first chunk: the other process reads its own
    with _writer(bool(far), store.path) as submit:
        # The table summary.csv needs first: the parent waits for it before summarising.
        futures = {t: submit(store, t, policies) for t in sorted(far, key=lambda t: t != SUMMARISED)}
        for t, sized in sizes.items():
            store.write_table(t, policies, sized)
            sizes[t] = (0.0, None)  # the first chunk is no longer needed
        if SUMMARISED in futures:
            _wait(futures.pop(SUMMARISED), store, SUMMARISED)
        summarise()
        for t, fut in futures.items():
            _wait(fut, store, t)


Submit = Callable[[ResultsFolder, str, Sequence[str]], "cf.Future[None]"]


@contextlib.contextmanager
def _writer(needed: bool, folder: Path) -> Iterator[Submit]:
    """A function that writes a table in a process of its own (one process, tables in the
    order submitted), ended at once if the parent fails or is interrupted meanwhile: the
    temporary file it was writing in ``folder`` goes with it."""
    if not needed:
        yield _refuse
        return
    pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=mp_context(), initializer=init_worker)

    def submit(store: ResultsFolder, table: str, policies: Sequence[str]) -> cf.Future[None]:
        return pool.submit(write_table_in, store.path, table, list(policies))

    try:
        yield submit
    except BaseException:
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
            proc.join(timeout=5)
            _remove_temporary_files(folder, proc.pid)
        raise
    pool.shutdown(wait=True)


def _remove_temporary_files(folder: Path, pid: int | None) -> None:
    """The half-written tables of the process ``pid`` (terminated, it could not remove them:
    before, an interrupted consolidation left a ``.projects.<pid>.<random>.tmp.parquet``)."""
    with contextlib.suppress(OSError):
        for p in folder.glob(f".*.{pid}.*"):
            if is_temporary(p.name) and (p.is_file() or p.is_symlink()):
                p.unlink(missing_ok=True)


def _refuse(store: ResultsFolder, table: str, policies: Sequence[str]) -> cf.Future[None]:
    raise AssertionError("no table is written elsewhere in this run")  # pragma: no cover


def _wait(future: cf.Future[None], store: ResultsFolder, table: str) -> None:
    """The other process's outcome: its own error (a full disk, named), or its death."""
    try:
        future.result()
    except cf.process.BrokenProcessPool as exc:
        raise StoreError(f"cannot write {store.path / f'{table}.parquet'}: the process writing "
                         f"it ended before it was done ({exc})") from exc


def write_table_in(path: Path, table: str, policies: list[str]) -> None:
    """In the other process: consolidate ``table`` of the folder at ``path`` from the chunk
    files its manifest lists (the parent rewrites it to list every chunk before consolidating;
    read from disk, not sent: at 100,000 replications it lists thousands of chunks)."""
    ResultsFolder.open(path).write_table(table, policies)
