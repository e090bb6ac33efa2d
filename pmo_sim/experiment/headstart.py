"""A run's first chunks, handed to its workers before the run itself is set up.

``pmo-sim run -j 2`` starts the workers' fork server first thing (:mod:`pmo_sim.__main__`);
it is ready about when the command line has imported the scenario loader and read the
scenario (~0.5 s). The parent then still imports what stores results (pyarrow, the results
folder's code: ~0.2 s of one core) and makes the folder before its first chunk goes out, and
the workers, forked only then, wait. A :class:`HeadStart` submits, on a thread, the chunks the
run will submit first, as soon as the scenario is read; the parent imports and makes the
folder while they run. :func:`~pmo_sim.experiment.runner.run_experiment` then *adopts* them if
they are exactly the tasks it would submit first (compared field by field: scenario, seed,
range, policies, event cap), and the pool they run on becomes the run's; otherwise (a
resumed run, another split) it ends them and starts as usual.

Nothing else changes: the same tasks run, and the tables are assembled in replication order
whatever the order chunks finish in. A run refused later (a results folder in the way, an
unknown policy) or interrupted meanwhile ends the head start's workers at once
(:meth:`HeadStart.discard`), as an interrupted run ends its own.

This module imports nothing that stores results, nor the engine: it is imported by the
command line before either.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pmo_sim.errors import UsageError
from pmo_sim.experiment.backends import (
    LocalBackend,
    check_backend,
    in_flight,
    missing_ranges,
    work_split,
)
from pmo_sim.experiment.work import ChunkTask, chosen_policies
from pmo_sim.experiment.workers import runs_elsewhere, worker_count

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario

#: How long :meth:`HeadStart.discard` waits for the submitting thread (it waits for the fork
#: server, which answers within a second on any machine that can run a pool at all).
_JOIN_S = 10.0


@dataclass
class Adopted:
    """What a run takes over from a head start: its pool, the chunks in flight, and the
    run's own tasks after those."""

    backend: LocalBackend
    pending: set[Any]
    rest: Iterator[ChunkTask]


class HeadStart:
    """The first wave of a fresh run's chunks, submitted to a local pool on a thread
    (:func:`head_start` builds one when the run will use a local pool).

    A context manager: its workers end when the ``with`` block ends unless a run took them
    over (``with head_start(...) as early: run_experiment(..., head_start=early)``), as when
    the run is refused before it starts.
    """

    def __init__(self, tasks: Sequence[ChunkTask], workers: int):
        self._tasks = list(tasks)
        self._workers = workers
        self._lock = threading.Lock()
        self._backend: LocalBackend | None = None
        self._pending: set[Any] = set()
        self._done = False  # adopted or discarded: a late submitter ends its own pool
        self._thread = threading.Thread(target=self._submit, name="pmo-sim-head-start", daemon=True)
        self._thread.start()

    def _submit(self) -> None:
        try:
            backend = LocalBackend(self._workers)
        except Exception:  # the run makes its own pool and meets (and reports) the problem
            return
        try:
            pending = {backend.submit(task) for task in self._tasks}
        except Exception:  # a broken pool: the run's own start reports it
            backend.close(abort=True)
            return
        with self._lock:  # published, unless discarded meanwhile: then ended here
            if not self._done:
                self._backend, self._pending = backend, pending
                return
        backend.close(abort=True)

    def adopt(self, tasks: Iterator[ChunkTask]) -> Adopted | Iterator[ChunkTask]:
        """The head start's pool and chunks if ``tasks`` (the run's, in order) begin with
        exactly its tasks; else ``tasks`` unchanged, and the head start is discarded."""
        self._thread.join()
        backend, pending = self._take()
        first = list(itertools.islice(tasks, len(self._tasks)))
        if backend is not None and first == self._tasks and len(pending) == len(first):
            return Adopted(backend, pending, tasks)
        if backend is not None:
            backend.close(abort=True)
        return itertools.chain(first, tasks)

    def _take(self) -> tuple[LocalBackend | None, set[Any]]:
        """The pool and its chunks, now no longer the head start's (a later submitter ends
        its own)."""
        with self._lock:
            self._done = True
            backend, pending, self._backend, self._pending = self._backend, self._pending, None, set()
        return backend, pending

    def discard(self) -> None:
        """End the head start's workers at once unless a run adopted them (idempotent)."""
        self._thread.join(_JOIN_S)
        backend, _ = self._take()
        if backend is not None:
            backend.close(abort=True)

    def __enter__(self) -> HeadStart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def head_start(scenario: Scenario, *, replications: int, seed: int, policies: Sequence[str],
               jobs: int | None, backend: str = "local", chunk_size: int | None = None,
               max_events: float | None) -> HeadStart | None:
    """A head start for a fresh run of these options (those of
    :func:`~pmo_sim.experiment.runner.run_experiment`), or None when the run will not use a
    local pool, or names a policy the scenario does not have (the run refuses it)."""
    if backend != "local" or not runs_elsewhere(backend, jobs):
        return None
    try:
        # The run checks --jobs only once its head start is out: -j 40 started some twenty
        # worker processes here before "--jobs 40 is more than this machine can use" (the
        # very thing the limit prevents), and -j 2**62 or more was a traceback from islice.
        check_backend(backend, jobs)
    except UsageError:
        return None  # the run refuses them, and says why
    try:
        chosen = tuple(chosen_policies(scenario, policies))  # as the run chooses them
    except UsageError:
        return None  # the run refuses them, and says why
    workers = worker_count(jobs)
    ranges = missing_ranges((), replications, *work_split(scenario, len(chosen), replications,
                                                          workers, chunk_size))
    tasks = [ChunkTask(scenario, seed, start, stop, chosen, None, max_events)
             for start, stop in itertools.islice(ranges, in_flight(workers))]
    return HeadStart(tasks, workers)
