"""What the dynamic queues share (:mod:`~pmo_sim.pmo.dynamic_queue`, a pool's ready tasks;
:mod:`~pmo_sim.pmo.dynamic_needs`, tasks holding several pools): projects come out ranked by
(key, arrival, index); a live key that falls at a bounded rate is bounded from below between
the times it is taken; the tasks of a rank are offered in ready-time and file order.

Projects that tie on (key, arrival) are one rank, so a rank is whole only once the next
project out differs from it. Both queues offer a rank as soon as it is known to be whole,
before the next project is taken off its heap or keyed: a start can end the allocation, and
the next project would then have been taken, or keyed, for nothing (once an allocation; in
an overloaded portfolio most allocations start a task or two). A lazily keyed project is
keyed only while its bound may be below the rank looked for: not when the best resting
project, or a key already taken, is below it, nor when it cannot tie with the rank being
formed (``tests/test_lazy_live_keys.py`` holds every key an allocation ended by a start
takes to that).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import merge
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState, TaskState

Key = Callable[["ProjectState", float], float]
Ranked = tuple[float, float, int, "ProjectState"]  # (key, arrival, index, project)
# (key at day 0, arrival, index, stamp, project, the part of its key that stays put at rest)
Resting = tuple[float, float, int, int, "ProjectState", float]

_INF = float("inf")
#: A bound's margin, relative to the magnitudes in the key (the key's own rounding is ~1e-15).
_MARGIN = 1e-9


def fifo_key(task: TaskState) -> tuple[float, float, int, int]:
    return task.fifo_key


def bound_origin(key: float, now: float, falls: float) -> float:
    """``c`` such that ``c - falls * t`` is at most the key at any later ``t`` (efforts
    unchanged), for a key taken at ``now``; an infinite key stays what it is. A bound beyond
    a float's range (a crew of absurd speed) is none: -inf, the project keyed every time."""
    if -_INF < key < _INF:
        return _finite(key + falls * now - _MARGIN * (abs(key) + falls * (now + 1.0) + 1.0))
    return key


def origin_after_start(origin: float, now: float, falls: float) -> float:
    """The origin of a bound kept through a start at ``now`` of a task whose work falls by at
    most ``falls`` a day: the key is the same at that instant, then falls faster (the bound's
    rate grows by ``falls``; so that it stays put now, its origin grows by ``falls * now``)."""
    if -_INF < origin < _INF:
        return _finite(origin + falls * now - _MARGIN * (falls * (now + 1.0) + 1.0))
    return origin


def _finite(origin: float) -> float:
    return origin if -_INF < origin < _INF else -_INF  # (NaN too: inf - inf)


def tasks_of(projects: dict[ProjectState, list[TaskState]],
             group: list[Ranked]) -> list[TaskState]:
    """The waiting tasks of a rank's projects, in the order they are offered (a copy: tasks
    leave the queue as they start)."""
    if len(group) == 1:
        return list(projects.get(group[0][3], ()))
    # equal keys and arrivals: fifo across the projects of the group
    return list(merge(*(projects.get(e[3], []) for e in group), key=fifo_key))
