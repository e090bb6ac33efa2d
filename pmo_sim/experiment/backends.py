"""Where chunks of replications run: in-process, a local process pool, or Dask.

The unit of work is a *chunk*: a range of consecutive replications, each simulated under
every selected policy on the same random plan (common random numbers, SPEC 4.2). One
replication of a small scenario takes milliseconds, so shipping replications one by one
would spend more time pickling than simulating; a chunk amortises that overhead while still
leaving several chunks per worker for load balancing, progress and resumability (a chunk is
also the unit the results store writes and a resume skips).

:func:`run_chunk` is the one picklable, module-level function every backend runs; what it
runs, and the engine, live in :mod:`pmo_sim.experiment.simulate`, imported only by the
process that simulates (the tasks and results themselves: :mod:`pmo_sim.experiment.work`).

Backends are interchangeable (STYLE 9): each streams :class:`ChunkResult` objects in
completion order while keeping at most about two chunks per worker in flight, so memory
stays flat however many replications are asked for. Completion order is arbitrary; the
store sorts rows by (policy, replication) when it assembles the tables, which is why
results never depend on the backend, the number of jobs or the chunking.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import multiprocessing
import os
import re
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pmo_sim.errors import UsageError, WorkerLost
from pmo_sim.experiment.heap import freeze_start_up, owned_by_program
from pmo_sim.experiment.work import ChunkResult, ChunkTask
from pmo_sim.experiment.workers import OUT_OF_MEMORY_EXIT, mp_context, unguarded_script, worker_count
from pmo_sim.scenario.limits import PERSON_EVENTS, estimate_size

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario

BACKENDS = ("serial", "local", "dask")


# --------------------------------------------------------------------------- the work unit


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Simulate one chunk here: the picklable, module-level function every backend runs.

    The engine is imported on the first call (:func:`pmo_sim.experiment.simulate.simulate_chunk`),
    in the process that simulates: a parent whose chunks run in workers never imports it, and
    the local pool's workers find it already imported by their fork server.
    """
    from pmo_sim.experiment.simulate import simulate_chunk

    return simulate_chunk(task)


def run_chunk_in_worker(task: ChunkTask) -> ChunkResult:
    """:func:`run_chunk` in a local pool's worker process, which ends at once, with
    :data:`~pmo_sim.experiment.workers.OUT_OF_MEMORY_EXIT`, when it runs out of memory.

    A worker out of memory cannot be relied on to do anything more: sending the error back
    pickles it with its traceback, and printing it needs memory too. Both failed under a low
    ``ulimit -v`` (the worker printed "SystemError: error return without exception set"
    tracebacks from multiprocessing's internals). Exiting needs nothing; the parent finds the
    pool broken and reads this exit status from the dead worker
    (:meth:`LocalBackend._why_lost`).
    """
    try:
        return run_chunk(task)
    except MemoryError:
        os._exit(OUT_OF_MEMORY_EXIT)


def chunk_ranges(replications: Iterable[int], size: int) -> list[tuple[int, int]]:
    """Split replication indices into ranges of consecutive indices, at most ``size`` long."""
    out: list[tuple[int, int]] = []
    for r in sorted(set(replications)):
        if out and out[-1][1] == r and r - out[-1][0] < size:
            out[-1] = (out[-1][0], r + 1)
        else:
            out.append((r, r + 1))
    return out


#: The last ranges of a run with several workers shrink down to 1/SHORTEST of the size. With
#: a quarter (13 of 50 reference replications, ~0.25 s), the worker that ended first waited
#: 0.11-0.12 s on average for the other, up to 0.24 s; with a sixteenth (4 replications), 0.03-0.04 s,
#: at most 0.06 s, for four more chunks (the parent stored chunks for 0.17-0.20 s of CPU against
#: 0.16-0.18 s; benchmarks/idle.py, 2 x 3 runs each, alternated).
SHORTEST = 16


def missing_ranges(done: Iterable[tuple[int, int]], target: int, size: int, workers: int = 1
                   ) -> Iterator[tuple[int, int]]:
    """The ranges of replications 0..target-1 not covered by the ``done`` ranges, lazily, in
    order, at most ``size`` long (memory does not grow with ``target``).

    For several ``workers`` the last ranges shrink, down to :data:`SHORTEST` of ``size``
    (guided self-scheduling): a range is at most half of what is left per worker, so that the
    workers run out of work together. With equal ranges, a worker that drew the last one, or
    ran slower on a shared machine, kept the other idle for up to a range's time at the end of
    every run (400 reference replications on two workers: 0.5 s on average, up to 1.4 s, of a
    10 s run loop; benchmarks/idle.py).
    """
    spans = sorted(done)
    left = target - sum(max(0, min(stop, target) - start) for start, stop in spans if start < target)
    least = -(-size // SHORTEST) if workers > 1 else size
    at = 0
    for start, stop in [*spans, (target, target)]:
        end = min(start, target)
        while at < end:
            step = min(size, max(least, -(-left // (2 * workers))), end - at)
            yield at, at + step
            at += step
            left -= step
        at = max(at, stop)
        if at >= target:
            return


#: At most this much work in a chunk, in expected model events of every policy of a
#: replication (about 1.5 s of one core at ~100,000 events per second)...
CHUNK_EVENTS = 150_000
#: ...and at most this many table rows (every table, every policy; about 2 MB as Arrow, what
#: 50 replications of the benchmark's reference portfolio write), so that what a worker sends
#: and the parent holds per chunk stays bounded however large the portfolio.
CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class Load:
    """What one replication of every selected policy is expected to cost (:func:`load_of`)."""

    events: float
    rows: float


def load_of(scenarios: Sequence[Scenario], policies: int) -> Load:
    """The expected load of one replication of ``policies`` policies of the largest scenario,
    from the loader's size estimate (:func:`~pmo_sim.scenario.limits.estimate_size`: its
    events are those of the scenario's busiest policy, plus the set-up of its people, its
    projects the expected arrivals);
    every replication writes a KPI row and a row per project and per pool."""
    sizes = [(estimate_size(sc), len(sc.resources)) for sc in scenarios]
    events = max((e.events + PERSON_EVENTS * e.people for e, _ in sizes), default=0.0)
    rows = max((1 + e.projects + pools for e, pools in sizes), default=0.0)
    return Load(events=policies * events, rows=policies * rows)


def auto_chunk_size(replications: int, workers: int, load: Load | None = None, cap: int = 50) -> int:
    """About four chunks per worker (load balance, fine-grained resume), each at most
    :data:`CHUNK_EVENTS` of work and :data:`CHUNK_ROWS` rows for ``load`` (without one, at
    most ``cap`` replications).

    The events bound lets a cheap scenario run in a few large chunks (at 50 replications a
    chunk, 30,000 replications of a one-task portfolio spent half as long writing and merging
    600 chunks as simulating them); the rows bound keeps a chunk of a portfolio of thousands of
    projects to a few replications. Neither changes a table: only how the work is split.
    """
    if load is not None:
        fits = min(CHUNK_EVENTS / load.events if load.events > 0 else math.inf,
                   CHUNK_ROWS / load.rows if load.rows > 0 else math.inf)
        cap = int(min(fits, replications))
    return max(1, min(cap, -(-replications // (max(1, workers) * 4))))


def work_split(scenario: Scenario, policies: int, replications: int, workers: int,
               chunk_size: int | None) -> tuple[int, int]:
    """How a run cuts its replications (:func:`missing_ranges`' ``size`` and ``workers``): a
    chunk size of the user's own, kept to the end; else an automatic one
    (:func:`auto_chunk_size`), whose last ranges shrink for the ``workers`` to finish
    together. Only speed and checkpoints depend on it, never the tables."""
    if chunk_size:
        return chunk_size, 1
    return auto_chunk_size(replications, workers, load_of([scenario], policies)), workers


def in_flight(workers: int) -> int:
    """How many chunks a backend of ``workers`` keeps submitted: two per worker, so that
    each has its next chunk at hand when one ends, and memory stays bounded."""
    return 2 * max(1, workers)


# --------------------------------------------------------------------------- backends


class Backend(ABC):
    """Runs chunks somewhere; a context manager owning its workers."""

    workers: int = 1

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(abort=exc is not None)

    def close(self, abort: bool = False) -> None:  # noqa: B027 - optional hook
        """Release the workers; ``abort`` drops queued and running work at once."""

    @abstractmethod
    def stream(self, tasks: Iterable[ChunkTask], started: Callable[[], object] | None = None,
               pending: set[Any] | None = None) -> Iterator[ChunkResult]:
        """Results in completion order, at most ~2 chunks per worker in flight
        (:func:`in_flight`); ``started`` is called once the first chunks are in the workers'
        hands (not by a backend that runs them in this process). ``pending``: chunks already
        submitted to this backend (a head start's, :mod:`pmo_sim.experiment.headstart`),
        streamed before ``tasks``."""


class SerialBackend(Backend):
    """In this process, one chunk after the other (``jobs=1``, debugging, profiling)."""

    def stream(self, tasks: Iterable[ChunkTask], started: Callable[[], object] | None = None,
               pending: set[Any] | None = None) -> Iterator[ChunkResult]:
        if owned_by_program():  # never a library caller's process (a notebook lives on)
            freeze_with_engine()
        for task in tasks:
            yield run_chunk(task)


class _FutureBackend(Backend):
    """Bounded waves over an executor with futures: submit, wait for the first, refill."""

    def stream(self, tasks: Iterable[ChunkTask], started: Callable[[], object] | None = None,
               pending: set[Any] | None = None) -> Iterator[ChunkResult]:
        todo = iter(tasks)
        pending = set(pending or ())
        limit = in_flight(self.workers)
        try:
            while True:
                while len(pending) < limit and (task := next(todo, None)) is not None:
                    pending.add(self._submit(task))
                if not pending:
                    return
                if started is not None:
                    started()
                    started = None
                done, pending = self._wait_first(pending)
                for fut in done:
                    yield fut.result()
        except Exception as exc:
            # A dead worker breaks the pool: whichever call notices (submit or result), say so.
            if isinstance(exc, MemoryError):  # raised in a worker (Dask) and sent back
                raise WorkerLost(OUT_OF_MEMORY) from exc
            if self._worker_lost(exc):
                raise WorkerLost(self._why_lost() or f"a worker process died while running "
                                 f"replications ({type(exc).__name__}: {exc})") from exc
            raise
        finally:
            if pending:  # interrupted or a consumer stopped early: drop the rest now
                self._cancel(pending)

    def submit(self, task: ChunkTask) -> Any:
        """Hand one chunk to the workers now; its future (streamed by :meth:`stream` when
        given as ``pending``)."""
        return self._submit(task)

    @abstractmethod
    def _submit(self, task: ChunkTask) -> Any: ...

    @abstractmethod
    def _wait_first(self, pending: set[Any]) -> tuple[set[Any], set[Any]]: ...

    @abstractmethod
    def _cancel(self, pending: set[Any]) -> None: ...

    def _worker_lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` means a worker process died (rather than the work failing)."""
        return isinstance(exc, cf.process.BrokenProcessPool) or type(exc).__name__ == "KilledWorker"

    def _why_lost(self) -> str | None:
        """Why the worker died, when the backend can tell (None: it cannot)."""
        return None


#: What a run that lost a worker to a lack of memory says (the runner adds what is kept).
OUT_OF_MEMORY = ("a worker ran out of memory while running replications (each worker holds "
                 "one replication at a time: try fewer --jobs, or a smaller scenario)")


def init_worker() -> None:
    """Set up a worker process of the parent's own (a pool's, or the one writing a long
    table at the end of a run)."""
    # Ctrl+C reaches the whole process group; the parent decides what to keep, so workers
    # must not die mid-message and break the pool before it can cancel cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # If the parent is killed outright (SIGKILL, OOM) nobody tells the pool's workers, which
    # would wait for work forever: each worker watches its parent and leaves with it. Where
    # memory is too short even for a thread's stack, the worker goes without the watch (a
    # failing initializer breaks the pool with a traceback on stderr); its first chunk will
    # then most likely end it with OUT_OF_MEMORY_EXIT.
    with contextlib.suppress(RuntimeError):  # "can't start new thread"
        threading.Thread(target=_exit_with_parent, daemon=True).start()
    # From here on the worker only simulates, and it ends with its pool: the engine it was
    # forked with is never traversed by the collector again (pmo_sim.experiment.heap).
    freeze_start_up()


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()  # returns once the parent's end of the sentinel pipe is closed
        os._exit(1)


class LocalBackend(_FutureBackend):
    """A :class:`concurrent.futures.ProcessPoolExecutor` of ``jobs`` worker processes."""

    def __init__(self, jobs: int):
        self.workers = jobs
        self._pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp_context(),
                                            initializer=init_worker)

    def _submit(self, task: ChunkTask) -> cf.Future[ChunkResult]:
        return self._pool.submit(run_chunk_in_worker, task)

    def _wait_first(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        done, rest = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return set(done), set(rest)

    def _cancel(self, pending: set[Any]) -> None:
        for fut in pending:
            fut.cancel()

    def _why_lost(self) -> str | None:
        # The broken pool has ended its other workers (SIGTERM); the one that died first
        # says why by its exit status. The pool's manager thread joins them too: wait for it
        # first, for a fork server's child gives its status once, on its sentinel pipe — read
        # by two threads at once, one of them got it and the other EOF, which multiprocessing
        # takes for status 255 (the run then said "a worker process died", not why).
        manager = getattr(self._pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=5)
        codes = set()
        for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
            proc.join(timeout=5)
            codes.add(proc.exitcode)
        if OUT_OF_MEMORY_EXIT in codes:
            return OUT_OF_MEMORY
        if 1 in codes and codes <= {1, -signal.SIGTERM}:  # ended on an error, the others stopped
            return unguarded_script()
        if -signal.SIGKILL in codes:
            return ("a worker process died while running replications (killed by SIGKILL: the "
                    "system does that when memory runs out, or another program did)")
        return None

    def close(self, abort: bool = False) -> None:
        if not abort:
            self._pool.shutdown(wait=True)
            return
        processes = list(getattr(self._pool, "_processes", {}).values())
        results = getattr(self._pool, "_result_queue", None)  # shutdown forgets it
        self._pool.shutdown(wait=False, cancel_futures=True)
        # NOTE: ProcessPoolExecutor (before 3.14's terminate_workers) cannot stop running
        # work; an interrupted run must not wait for in-flight chunks, so end the workers.
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
        # A worker ended while sending its result leaves the pool's manager thread reading the
        # rest of the message forever (this process holds the pipe's other end): the process
        # then hung at exit, joining that thread, after "interrupted" (1 in ~100 runs of
        # `run -j 2` sent SIGINT or SIGTERM). With this end closed the read ends (EOF), and
        # the thread with it.
        with contextlib.suppress(AttributeError, OSError):
            results._writer.close()  # type: ignore[union-attr]


def freeze_with_engine() -> None:
    """The engine imported, then what this process made so far frozen for the collector
    (:mod:`pmo_sim.experiment.heap`), as a local pool's worker is once forked from the fork
    server that preloaded the engine: for a process that only simulates from now on and ends
    with the run — the ``pmo-sim`` program's serial run, a worker of a Dask LocalCluster the run
    started (a Dask worker's start-up heap, distributed's included, is larger still: its full
    collections made Dask runs ~10% slower than local ones)."""
    from pmo_sim.experiment import simulate  # noqa: F401

    freeze_start_up()


class DaskBackend(_FutureBackend):
    """Dask distributed: a LocalCluster of ``jobs`` processes, or the scheduler at ``address``."""

    def __init__(self, jobs: int, address: str | None = None):
        try:
            import logging

            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise UsageError("--backend dask needs Dask: pip install 'pmo-sim[dask]'") from exc
        self._cluster: Any = None
        try:
            if address:
                self._client = Client(address, timeout="10s")
            else:
                self._cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
                # Its workers are this run's own, and end with it: prepared as a local pool's
                # are (a cluster at an address is someone else's: its workers are left alone).
                self._client.run(freeze_with_engine)
        except (OSError, ValueError, TypeError) as exc:  # unreachable, or an address Dask refuses
            raise UsageError(f"cannot reach the Dask scheduler {address!r}: {exc}") from exc
        except MemoryError as exc:
            if not address:
                raise
            # Another server's greeting (an SSH banner) read as the length of a Dask message:
            # distributed tried to allocate exabytes (before: "out of memory", exit 1).
            raise UsageError(f"cannot reach the Dask scheduler {address!r}: something answers there, "
                             "but not as a Dask scheduler does (its first bytes read as a message "
                             "larger than memory); check the host and port (a scheduler listens on "
                             "8786 unless told otherwise)") from exc
        n = len(self._client.scheduler_info().get("workers", {}))
        self.workers = max(1, n or jobs)

    def _submit(self, task: ChunkTask) -> Any:
        # pure=False: identical tasks (e.g. a recomputed chunk) must run, not be deduplicated
        return self._client.submit(run_chunk, task, pure=False)

    def _wait_first(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        done, rest = wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done), set(rest)

    def _cancel(self, pending: set[Any]) -> None:
        self._client.cancel(list(pending))

    def close(self, abort: bool = False) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def max_jobs() -> int:
    """The most worker processes a run may start on this machine: 4 per CPU, at least 8."""
    return max(8, 4 * (os.cpu_count() or 1))


def check_backend(name: str, jobs: int | None = None, scheduler: str | None = None) -> None:
    """Refuse bad backend options up front (before a results folder is created)."""
    if name not in BACKENDS:
        raise UsageError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (got {jobs})")
    limit = max_jobs()
    if jobs is not None and jobs > limit and name != "serial" and not scheduler:
        # Each worker is a process of ~100 MB started on this machine: -j 100000 would start
        # thousands before anything said so. More workers than CPUs add no speed.
        raise UsageError(f"--jobs {jobs} is more than this machine can use: at most {limit} "
                         f"(4 per CPU, {os.cpu_count() or 1} CPUs); each worker is a process")
    if scheduler is not None and name != "dask":
        raise UsageError("--scheduler needs --backend dask")
    if scheduler is not None and not _SCHEDULER.fullmatch(scheduler):  # '' too: not "no scheduler"
        raise UsageError(f"--scheduler must be a Dask scheduler's address, such as "
                         f"tcp://HOST:8786 (tcp, tls, ws or wss; got {scheduler!r})")


#: A scheduler's address as Dask's clients take it: [scheme://]host:port, the host a name, an
#: IPv4 address or a bracketed IPv6 one. Checked before a results folder is created: Dask
#: itself failed on a malformed one with a traceback (an unknown scheme, no port).
_SCHEDULER = re.compile(r"(?:(?:tcp|tls|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):"
                        r"(?:[1-9][0-9]{0,4})")


def make_backend(name: str, jobs: int | None = None, scheduler: str | None = None) -> Backend:
    """The backend called ``name`` (``serial``, ``local`` or ``dask``) with ``jobs`` workers.

    ``local`` with one job runs in-process (a pool of one only adds start-up time); the
    results are the same either way.
    """
    check_backend(name, jobs, scheduler)
    n = worker_count(jobs)
    if name == "dask":
        return DaskBackend(n, scheduler)
    if name == "serial" or n == 1:
        return SerialBackend()
    return LocalBackend(n)
