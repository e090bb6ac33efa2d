"""A project's task network as a plan: planned durations and the critical path method (CPM).

The activity-level allocation rules ``lst`` and ``lft`` (SPEC 10.5) rank a ready task by its
latest start or latest finish within its project. Those come from the textbook CPM on the
*planned* task durations:

* a fixed-duration task is planned at its ``duration``'s central value;
* an effort task at its central effort / Σ over the people pools it needs of
  (units × base productivity × fte) — the crew's nominal speed, before training, technology or
  ramp-up change it. Equipment adds no speed.

(The central value is the mode of a three-point distribution and the mean otherwise, as for
estimates elsewhere.) The forward pass gives each task's earliest start and finish, the
critical path length is the latest earliest finish, and the backward pass from the project's
deadline gives the latest finish and start. The deadline is the project's due date (an offset
from its arrival) or, without one, the critical path length itself. All times are offsets
from the project's arrival; a task with no successor has the deadline as its latest finish.

Everything here is pure and works on task indices (``preds[i]`` are the indices of the tasks
task ``i`` comes after), so the same functions serve validation, the sampler and the engine.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from pmo_sim.scenario.capacity import EquipmentPool, Pool
from pmo_sim.scenario.models import TaskSpec

Pools = Mapping[str, Union[Pool, EquipmentPool]]


@dataclass(frozen=True)
class CriticalPath:
    """CPM times of each task (file order), as offsets from the project's arrival."""

    earliest_start: tuple[float, ...]
    earliest_finish: tuple[float, ...]
    latest_start: tuple[float, ...]
    latest_finish: tuple[float, ...]
    length: float  # the critical path length: the earliest the project can finish
    deadline: float  # what the backward pass started from: the due offset, else ``length``


class PrecedenceCycle(ValueError):
    """The tasks can not be ordered: ``blocked`` are those on or after a cycle (indices)."""

    def __init__(self, blocked: tuple[int, ...]):
        super().__init__("precedence cycle")
        self.blocked = blocked


def topological_order(preds: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """Task indices so that every task comes after its predecessors (lowest index first).

    Raises :class:`PrecedenceCycle` on a cycle (validation reports cycles with their names).
    """
    succs: list[list[int]] = [[] for _ in preds]
    for i, before in enumerate(preds):
        for p in before:
            succs[p].append(i)
    indeg = [len(before) for before in preds]
    order: list[int] = []
    frontier = [i for i, d in enumerate(indeg) if d == 0]  # a heap: always the lowest index next
    while frontier:
        i = heapq.heappop(frontier)
        order.append(i)
        for s in succs[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(frontier, s)
    if len(order) != len(preds):
        placed = set(order)
        raise PrecedenceCycle(tuple(i for i in range(len(preds)) if i not in placed))
    return tuple(order)


def cpm(preds: Sequence[Sequence[int]], planned: Sequence[float], due: float | None = None, *,
        order: Sequence[int] | None = None,
        succs: Sequence[Sequence[int]] | None = None) -> CriticalPath:
    """Earliest and latest start and finish of every task, and the critical path length.

    ``planned[i]`` is task ``i``'s planned duration; ``due`` the project's due date as an
    offset from its arrival (``None``: the deadline is the critical path length). A due date
    shorter than the critical path gives negative slack, which is kept: it ranks such a
    project's tasks first, as it should. A compiled network passes its topological ``order``
    and successor lists, so that they are not derived again for every project.
    """
    n = len(preds)
    if order is None:
        order = topological_order(preds)
    es = [0.0] * n
    ef = [0.0] * n
    for i in order:
        start = 0.0
        for p in preds[i]:
            if ef[p] > start:
                start = ef[p]
        es[i] = start
        ef[i] = start + planned[i]
    length = max(ef, default=0.0)
    deadline = length if due is None else due
    if succs is None:
        after: list[list[int]] = [[] for _ in range(n)]
        for i, before in enumerate(preds):
            for p in before:
                after[p].append(i)
        succs = after
    ls = [0.0] * n
    lf = [0.0] * n
    for i in reversed(order):
        finish = deadline
        for s in succs[i]:
            if ls[s] < finish:
                finish = ls[s]
        lf[i] = finish
        ls[i] = finish - planned[i]
    return CriticalPath(tuple(es), tuple(ef), tuple(ls), tuple(lf), length, deadline)


def latest_times(preds: Sequence[Sequence[int]], planned: Sequence[float], dues: Sequence[float],
                 *, order: Sequence[int], succs: Sequence[Sequence[int]]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The latest starts and finishes (``[task, project]``) and the deadlines of many projects
    of one network at once (``dues[k]``: project k's due offset, NaN for none).

    The backward pass of :func:`cpm` run over a vector of deadlines, with the same operations
    in the same order, so column k is exactly what :func:`cpm` gives project k: a backlog of
    thousands of proposals of a few templates is planned in a few array passes.
    """
    n = len(preds)
    given = np.asarray(dues, dtype=float)
    length = cpm(preds, planned, None, order=order, succs=succs).length
    deadline = np.where(np.isnan(given), length, given)
    ls = np.empty((n, len(given)))
    lf = np.empty((n, len(given)))
    for i in reversed(order):
        finish = deadline
        for s in succs[i]:
            finish = np.minimum(finish, ls[s])
        lf[i] = finish
        ls[i] = finish - planned[i]
    return ls, lf, deadline


def planned_duration(task: TaskSpec, pools: Pools) -> float:
    """The task's planned duration in days (see the module docstring)."""
    if task.duration is not None:
        return task.duration.central()
    assert task.effort is not None, "validated scenarios give a task effort or duration"
    speed = sum(units * pool.productivity * pool.fte for name, units in task.units().items()
                if isinstance(pool := pools[name], Pool))
    if speed <= 0:
        raise ValueError(f"task {task.name!r}: an effort task needs at least one people pool")
    return task.effort.central() / speed


def planned_durations(tasks: Sequence[TaskSpec], pools: Pools) -> tuple[float, ...]:
    """:func:`planned_duration` of each task, in file order."""
    return tuple(planned_duration(t, pools) for t in tasks)


__all__ = ["CriticalPath", "PrecedenceCycle", "cpm", "planned_duration", "planned_durations",
           "topological_order"]
