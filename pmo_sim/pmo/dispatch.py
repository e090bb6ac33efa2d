"""The resource manager's ready queues and how free people are given to ready tasks.

Three ways to look at the same rule — "free capacity goes to the best-ranked task whose needs
can all be met now; a task of a paused project waits; with ``backfill`` a lower-ranked task may
use capacity the top-ranked one cannot yet use" — each fast where it applies:

- :class:`StaticQueue`: rules whose key never changes for a task (``fifo``, ``priority``,
  ``edd``, ``lst``, ``lft``). One heap per crew size, so the best task that fits the free
  people is found in O(log n) without looking at the tasks that do not fit.
- :class:`DynamicQueue`: project-level rules whose key moves with time (``srpt``, ``wsjf``,
  ``min_slack``). Ready tasks are grouped by project and the rule is evaluated once per
  waiting project at each allocation (in O(1) or O(running tasks), from the projects' running
  sums), then projects are visited in key order.
- :func:`dispatch_global`: when some task needs several pools at once (or equipment), the
  ready tasks of every pool are ranked together and each is started if *all* its needs can be
  met, so no pool's queue can starve a better-ranked task of another pool.

Ties fall back to ``fifo`` (project arrival, task ready time, project and task file order),
which every rank ends with.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterator
from heapq import heappop, heappush, merge
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmo_sim.engine.state import Person, PoolState, ProjectState, TaskState

Key = Callable[["ProjectState", float], float]


Entry = tuple[tuple[float, ...], "TaskState"]


def _fifo_key(task: TaskState) -> tuple[float, float, int, int]:
    return task.fifo_key


# --------------------------------------------------------------------------- static rules


class StaticQueue:
    """Ready tasks of one pool under a static rule: a heap of (rank, task) per crew size."""

    __slots__ = ("buckets", "by_size", "size")

    def __init__(self) -> None:
        self.buckets: list[tuple[int, list[Entry]]] = []  # (crew size, heap), by crew size
        self.by_size: dict[int, list[Entry]] = {}
        self.size = 0  # entries in the heaps (some may have started through another pool)

    def push(self, task: TaskState, units: int) -> None:
        heap = self.by_size.get(units)
        if heap is None:
            heap = self.by_size[units] = []
            self.buckets.append((units, heap))
            self.buckets.sort(key=lambda b: b[0])
        heappush(heap, (task.rank, task))
        self.size += 1

    def tasks(self) -> Iterator[TaskState]:
        for _, heap in self.buckets:
            for _, task in heap:
                if task.queued:
                    yield task

    def dispatch(self, pool: PoolState, now: float, backfill: bool,
                 start: Callable[[TaskState, PoolState], None]) -> None:
        """Start the pool's best-ranked tasks that fit its free people (one-pool tasks)."""
        idle = pool.idle
        skipped: list[tuple[list[Entry], Entry]] = []
        while idle:
            free = len(idle)
            best: Entry | None = None
            best_heap: list[Entry] = []
            best_units = 0
            for units, heap in self.buckets:
                if backfill and units > free:
                    break  # buckets come by crew size: the rest do not fit either
                while heap and not heap[0][1].queued:
                    heappop(heap)  # started through another pool, or withdrawn
                    self.size -= 1
                if heap and (best is None or heap[0][0] < best[0]):
                    best, best_heap, best_units = heap[0], heap, units
            if best is None:
                break
            task = best[1]
            if task.project.paused_until > now:
                skipped.append((best_heap, heappop(best_heap)))  # waits for the pause to end
                continue
            if best_units > free:
                break  # no backfill: nobody jumps the top-ranked task waiting for its crew
            heappop(best_heap)
            self.size -= 1
            start(task, pool)
        for heap, entry in skipped:
            heappush(heap, entry)


# --------------------------------------------------------------------------- dynamic rules


class DynamicQueue:
    """Ready tasks of one pool under a rule that moves with time, grouped by project."""

    __slots__ = ("projects",)

    def __init__(self) -> None:
        # per project, its ready tasks in fifo order (ready time, then task file order)
        self.projects: dict[ProjectState, list[TaskState]] = {}

    @property
    def size(self) -> int:
        """Projects with waiting tasks (0: nothing to allocate)."""
        return len(self.projects)

    def push(self, task: TaskState, units: int) -> None:
        waiting = self.projects.setdefault(task.project, [])
        if waiting and waiting[-1].fifo_key > task.fifo_key:
            insort(waiting, task, key=_fifo_key)  # ready at the same instant, out of file order
        else:
            waiting.append(task)

    def tasks(self) -> Iterator[TaskState]:
        for waiting in self.projects.values():
            for task in waiting:
                if task.queued:
                    yield task

    def ranked(self, rule: Key, now: float) -> Iterator[TaskState]:
        """The waiting tasks in rank order: projects by (key, arrival, index), and projects that
        tie on (key, arrival) merged by their tasks' ready time and file order."""
        keyed = []
        for proj, waiting in list(self.projects.items()):
            waiting[:] = [t for t in waiting if t.queued]
            if waiting:
                keyed.append((rule(proj, now), proj.arrival, proj.index, proj))
            else:
                del self.projects[proj]
        keyed.sort(key=lambda e: e[:3])
        i = 0
        while i < len(keyed):
            j = i + 1
            while j < len(keyed) and keyed[j][:2] == keyed[i][:2]:
                j += 1
            if j == i + 1:
                yield from list(self.projects[keyed[i][3]])
            else:  # equal keys and arrivals: fifo across the projects of the group
                yield from list(merge(*(self.projects[e[3]] for e in keyed[i:j]), key=_fifo_key))
            i = j

    def dispatch(self, pool: PoolState, now: float, backfill: bool,
                 start: Callable[[TaskState, PoolState], None], rule: Key) -> None:
        free = len(pool.idle)
        for task in self.ranked(rule, now):
            if free == 0:
                return
            if not task.queued or task.project.paused_until > now:
                continue  # a disrupted project starts nothing until it resumes
            if task.people <= free:
                start(task, pool)
                self.projects[task.project].remove(task)
                free = len(pool.idle)
            elif not backfill:  # strict order: nobody jumps the top-ranked task
                return


# --------------------------------------------------------------------------- several pools


def take(task: TaskState, switch_cost: float) -> list[Person] | None:
    """The people and units to start ``task`` with, taken off every idle list; None if its
    needs cannot all be met now (a cross-skilled person counts once)."""
    needs = task.needs
    if any(len(pool.idle) < units for pool, units in needs):
        return None
    chosen: list[Person] = []
    taken: set[int] = set()
    for pool, units in needs:
        free = [p for p in pool.idle if id(p) not in taken]
        if switch_cost > 0 and pool.kind == "people":
            proj = task.project
            fresh = [p for p in free if p.last_project is None or p.last_project is proj]
            free = fresh + [p for p in free if not (p.last_project is None or p.last_project is proj)]
        if len(free) < units:
            return None
        chosen += free[:units]
        taken.update(id(p) for p in free[:units])
    for person in chosen:
        for p in person.pools:
            p.idle.remove(person)
    return chosen


def dispatch_global(tasks: list[TaskState], now: float, backfill: bool,
                    start: Callable[[TaskState], bool]) -> None:
    """Start ranked ``tasks`` whose needs can all be met; without backfill a task that cannot
    start holds back the pools it needs from every lower-ranked task."""
    blocked: set[int] = set()
    for task in tasks:
        if not task.queued or task.project.paused_until > now:
            continue
        pools = [pool.index for pool, _ in task.needs]
        if blocked.intersection(pools):
            continue
        if not start(task) and not backfill:
            blocked.update(pools)
