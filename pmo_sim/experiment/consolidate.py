"""The end of a run: its tables consolidated, the long ones in a process of their own.

Writing a table, the Parquet writer keeps every row group's metadata (~21 KB a group of the
25-column ``projects``) until the file closes, beside one group's buffer; with groups sized
by the square root of the table (:func:`~pmo_sim.experiment.tablefile.row_group_bytes`) the two
together grow as ``2 sqrt(table bytes x metadata a group)``: +20 MB in the parent of 100,000
replications of the benchmarks' reference portfolio (a 2.8 GB ``projects`` table), whatever
the writer's options. pyarrow's writer cannot drop a group's metadata before the file is
closed, so that memory is only the parent's to avoid: a run whose replications ran in worker
processes and has a table large enough for its row groups to grow past the smallest size
(:func:`grows_with_run`) hands its tables and ``summary.csv`` to two processes forked like the
workers, the long tables first, the short ones and the summary beside them. The parent writes
nothing after its run loop, so its memory no longer depends on the run's length, whatever its
C library heap (a short table written in a process whose glibc mapping threshold has moved
cost ~20 MB at 100,000 replications: a library caller's), and the long table is written at the
same time as the rest instead of after it.

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
from pmo_sim.experiment.store import SUMMARY, ResultsFolder, StoreError
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
                 summarise: Summarise, elsewhere: bool) -> None:
    """Consolidate ``tables``, then ``summarise`` the folder once ``replications`` is written.

    ``elsewhere``: the run's replications ran in worker processes. If one of its tables is
    long (:func:`grows_with_run`), every table and the summary are then written by two
    processes of their own, the long tables first, and the parent only waits: what it would
    write after its run loop no longer grows its heap (by ~20 MB at 100,000 replications of the
    reference where glibc's mapping threshold is left to move, as in a library caller's
    process). ``summarise`` is then called in another process: a module's function.
    """
    sizes = {t: store.table_bytes(t) for t in tables}
    far = [t for t in tables if elsewhere and grows_with_run(t, sizes[t][0])]
    if not far:
        for t, sized in sizes.items():
            store.write_table(t, policies, sized)
            sizes[t] = (0.0, None)  # the first chunk is no longer needed
        summarise(store)
        return
    del sizes  # the first chunks read for the estimates: each process reads its own
    near = [t for t in tables if t not in far]
    with _writer(store.path) as submit:
        # Each long table on a process (replications first: the summary waits for it), the
        # short ones and the summary on the other unless they need it.
        futures = {f"{t}.parquet": submit(write_tables_in, store.path, [t], policies)
                   for t in sorted(far, key=lambda t: t != SUMMARISED)}
        files = [f"{t}.parquet" for t in near]
        if SUMMARISED in far:
            if near:
                futures[", ".join(files)] = submit(write_tables_in, store.path, near, policies)
            _wait(futures.pop(f"{SUMMARISED}.parquet"), store, f"{SUMMARISED}.parquet")
            near, files = [], []
        futures[", ".join([*files, SUMMARY])] = submit(write_tables_in, store.path, near, policies,
                                                       summarise)
        for what, fut in futures.items():
            _wait(fut, store, what)


#: What summarises a consolidated folder (``summary.csv``).
Summarise = Callable[[ResultsFolder], None]
Submit = Callable[..., "cf.Future[None]"]


@contextlib.contextmanager
def _writer(folder: Path) -> Iterator[Submit]:
    """A function that runs a function in one of two processes of their own, ended at once
    if the parent fails or is interrupted meanwhile: the temporary files they were writing in
    ``folder`` go with them."""
    pool = cf.ProcessPoolExecutor(max_workers=2, mp_context=mp_context(), initializer=init_worker)
    try:
        yield pool.submit
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


def _wait(future: cf.Future[None], store: ResultsFolder, what: str) -> None:
    """The other process's outcome: its own error (a full disk, named), or its death."""
    try:
        future.result()
    except cf.process.BrokenProcessPool as exc:
        raise StoreError(f"cannot write {what} in {store.path}: the process writing it ended "
                         f"before it was done ({exc})") from exc


def write_tables_in(path: Path, tables: Sequence[str], policies: Sequence[str],
                    summarise: Summarise | None = None) -> None:
    """In another process: consolidate ``tables`` of the folder at ``path`` from the chunk
    files its manifest lists (the parent rewrites it to list every chunk before consolidating;
    read from disk, not sent: at 100,000 replications it lists thousands of chunks), then
    ``summarise`` it."""
    folder = ResultsFolder.open(path)
    for table in tables:
        folder.write_table(table, policies)
    if summarise is not None:
        summarise(folder)
