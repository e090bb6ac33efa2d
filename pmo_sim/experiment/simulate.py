"""What a worker runs: the replications of a chunk, into columnar records.

:func:`simulate_chunk` simulates a :class:`~pmo_sim.experiment.work.ChunkTask` (every policy
of each replication on the same random plan, common random numbers, SPEC 4.2) and returns
*compact columnar records* (a numpy array per column), never DataFrames: workers stay light
and the parent builds Arrow tables once. A replication that raises is caught *per
replication*, so the failure is reported with its policy, replication and seed instead of as
an anonymous broken chunk.

The modules of a run's parent (runner, backends, store, results) do not import it, nor the
engine it imports: the local pool's fork server preloads it
(:data:`pmo_sim.experiment.workers.PRELOAD`), and a parent imports it only when it simulates
itself (``jobs=1``, the serial backend). ``tests/test_parent_without_pandas.py`` checks, in a
fresh process, that a parallel run's parent never imports the engine or SimPy.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.records import Columns, ReplicationRecords
from pmo_sim.experiment.columns import packed
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.experiment.work import TABLES, ChunkFailure, ChunkResult, ChunkTask, tables_for
from pmo_sim.sampling import Sampler
from pmo_sim.schema import KPI_COLUMNS, POOLS, PROJECTS, STORED_TABLES

if TYPE_CHECKING:
    from pmo_sim.experiment.spec import Replicate
    from pmo_sim.scenario.models import Scenario


def _default_replicate(scenario: Scenario, max_events: float | None) -> Replicate:
    # One Sampler per chunk: the scenario's task networks are compiled once, not per replication.
    sampler = Sampler(scenario)

    def replicate(sc: Scenario, replication: int, seed: int, policies: Sequence[str]
                  ) -> list[ReplicationRecords]:
        return run_replication(sc, replication, seed, policies, sampler=sampler, max_events=max_events)

    return replicate


def _append(columns: Columns, names: Sequence[str], rows: dict[str, list[Any]], policy: str,
            replication: int) -> None:
    n = len(rows[names[0]]) if names and names[0] in rows else 0
    columns["policy"].extend([policy] * n)
    columns["replication"].extend([replication] * n)
    for name in names:
        values = rows.get(name)
        columns[name].extend(values if values is not None else [None] * n)


def _failing_policy(replicate: Replicate, task: ChunkTask, replication: int) -> str:
    # run_replication runs every policy on one plan, so a raise does not say which policy
    # failed. Replications are deterministic: re-running the policies one at a time finds it.
    for policy in task.policies:
        try:
            replicate(task.scenario, replication, task.seed, [policy])
        except Exception:
            return policy
    return ",".join(task.policies)


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says memory ran out: a :class:`MemoryError`, or the :class:`SystemError`
    "error return without exception set" that CPython raises when memory runs out while it is
    already raising one (a replication under ``ulimit -v`` ended so, in the engine's frames)."""
    return isinstance(exc, MemoryError) or (
        isinstance(exc, SystemError) and "error return without exception set" in str(exc))


def simulate_chunk(task: ChunkTask) -> ChunkResult:
    """Simulate one chunk; returns its columnar records (the function every backend runs)."""
    replicate = task.replicate or _default_replicate(task.scenario, task.max_events)
    names = tables_for(task.scenario)
    tables: dict[str, Columns] = {name: {c: [] for c in STORED_TABLES[name].column_names}
                                  for name in names}
    for r in range(task.start, task.stop):
        exhausted = False
        try:
            records = replicate(task.scenario, r, task.seed, list(task.policies))
            got = [rec.policy for rec in records]
            if got != list(task.policies):
                raise RuntimeError(f"engine returned policies {got}, expected {list(task.policies)}")
        except Exception as exc:
            if not out_of_memory(exc):
                return ChunkResult(task.start, task.stop, failure=ChunkFailure(
                    policy=_failing_policy(replicate, task, r), replication=r, seed=task.seed,
                    cause=f"{type(exc).__name__}: {exc}", details=traceback.format_exc()))
            exhausted = True
        if exhausted:
            # Not this replication's fault, and nothing more can be done here (re-running the
            # policies to find the failing one would run out again): the backend says so. The
            # interrupted replication's objects, kept by the traceback until the except clause
            # ended and in reference cycles since, are freed first.
            gc.collect()
            raise MemoryError("out of memory while simulating a replication")
        for rec in records:
            kpis = tables["replications"]
            kpis["policy"].append(rec.policy)
            kpis["replication"].append(r)
            for name in KPI_COLUMNS:
                kpis[name].append(rec.kpis.get(name))
            _append(tables["projects"], PROJECTS.names, rec.projects, rec.policy, r)
            _append(tables["pools"], POOLS.names, rec.pools, rec.policy, r)
            for name in names[len(TABLES):]:
                _append(tables[name], STORED_TABLES[name].names, rec.extra.get(name, {}), rec.policy, r)
    return ChunkResult(task.start, task.stop, {name: packed(name, cols) for name, cols in tables.items()})
