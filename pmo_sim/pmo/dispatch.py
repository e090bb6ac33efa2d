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
    """Ready tasks of one pool under a rule that moves with time, grouped by project.

    A project with nothing running keeps its place among the others like it: its key does not
    move (srpt, wsjf), or moves like everyone's (min_slack's ``- now``). Those *resting*
    projects wait in a heap by their key at day 0; only the *live* ones (with a task running
    somewhere, whose remaining work shrinks as it runs) are ranked afresh at each allocation.
    So an allocation costs O(live projects + k log n), not O(every waiting project).
    """

    __slots__ = ("projects", "live", "heap")

    def __init__(self) -> None:
        # per project, its ready tasks in fifo order (ready time, then task file order)
        self.projects: dict[ProjectState, list[TaskState]] = {}
        self.live: set[ProjectState] = set()
        # resting projects: (key at day 0, arrival, index, stamp, project); stale entries skipped
        self.heap: list[tuple[float, float, int, int, ProjectState]] = []

    @property
    def size(self) -> int:
        """Projects with waiting tasks (0: nothing to allocate)."""
        return len(self.projects)

    def add(self, task: TaskState) -> bool:
        """Queue the task; True if its project was not waiting in this pool before."""
        waiting = self.projects.get(task.project)
        if waiting is None:
            self.projects[task.project] = [task]
            return True
        if waiting[-1].fifo_key > task.fifo_key:
            insort(waiting, task, key=_fifo_key)  # ready at the same instant, out of file order
        else:
            waiting.append(task)
        return False

    def rest(self, proj: ProjectState, key: float, stamp: int) -> None:
        self.live.discard(proj)
        heappush(self.heap, (key, proj.arrival, proj.index, stamp, proj))

    def drop(self, proj: ProjectState) -> None:
        self.projects.pop(proj, None)
        self.live.discard(proj)

    def tasks(self) -> Iterator[TaskState]:
        for waiting in self.projects.values():
            for task in waiting:
                if task.queued:
                    yield task

    def _resting(self, rule: Key, now: float, stamps: dict[ProjectState, int],
                 popped: list[tuple[float, float, int, int, ProjectState]]
                 ) -> Iterator[tuple[float, float, int, ProjectState]]:
        """Resting projects in key order, their keys at ``now`` (entries popped are kept)."""
        heap = self.heap
        while heap:
            entry = heappop(heap)
            proj = entry[4]
            if entry[3] != stamps.get(proj, 0) or proj.running or proj not in self.projects:
                continue  # stale: the project went live, changed, or has nothing waiting here
            popped.append(entry)
            yield rule(proj, now), proj.arrival, proj.index, proj

    def ranked(self, rule: Key, now: float, stamps: dict[ProjectState, int],
               popped: list[tuple[float, float, int, int, ProjectState]]) -> Iterator[TaskState]:
        """The waiting tasks in rank order: projects by (key, arrival, index), and projects that
        tie on (key, arrival) merged by their tasks' ready time and file order."""
        live = sorted(((rule(p, now), p.arrival, p.index, p) for p in self.live), key=_first3)
        keyed = merge(live, self._resting(rule, now, stamps, popped), key=_first3)
        group: list[tuple[float, float, int, ProjectState]] = []
        for entry in keyed:
            if group and entry[:2] != group[0][:2]:
                yield from self._tasks_of(group)
                group = []
            group.append(entry)
        if group:
            yield from self._tasks_of(group)

    def _tasks_of(self, group: list[tuple[float, float, int, ProjectState]]) -> Iterator[TaskState]:
        if len(group) == 1:
            yield from list(self.projects.get(group[0][3], ()))
        else:  # equal keys and arrivals: fifo across the projects of the group
            yield from list(merge(*(self.projects.get(e[3], []) for e in group), key=_fifo_key))

    def dispatch(self, pool: PoolState, now: float, backfill: bool,
                 start: Callable[[TaskState, PoolState], None], rule: Key,
                 stamps: dict[ProjectState, int]) -> None:
        free = len(pool.idle)
        popped: list[tuple[float, float, int, int, ProjectState]] = []
        for task in self.ranked(rule, now, stamps, popped):
            if free == 0:
                break
            if not task.queued or task.project.paused_until > now:
                continue  # a disrupted project starts nothing until it resumes
            if task.people <= free:
                start(task, pool)
                free = len(pool.idle)
            elif not backfill:  # strict order: nobody jumps the top-ranked task
                break
        for entry in popped:  # resting projects looked at stay in the heap, unless they changed
            proj = entry[4]
            if not proj.running and proj in self.projects and entry[3] == stamps.get(proj, 0):
                heappush(self.heap, entry)


def _first3(entry: tuple[float, float, int, ProjectState]) -> tuple[float, float, int]:
    return entry[0], entry[1], entry[2]


class DynamicQueues:
    """Every pool's queue under a dynamic project-level rule, and which projects rest or live.

    The resource manager tells it when a task joins, starts or is withdrawn, when a project's
    last running task ends and when a project's work changes (rework, an idea). A project whose
    key may have changed while resting is *unsettled*; its key is taken again at the next
    allocation, once the instant's completions have made their successors ready (the key of
    ``min_slack`` looks at the ready tasks). Under a rule that is not ``steady``, or when tasks
    are ranked across all pools at once, every project counts as live: ranked afresh each time.
    """

    def __init__(self, pools: int, rule: Key, steady: bool):
        self.queues = [DynamicQueue() for _ in range(pools)]
        self.rule = rule
        self.steady = steady
        self.where: dict[ProjectState, set[int]] = {}  # pools where a project has waiting tasks
        self.stamps: dict[ProjectState, int] = {}  # bumped whenever a resting key goes stale
        self.unsettled: set[ProjectState] = set()

    def push(self, task: TaskState, pool: int) -> None:
        proj = task.project
        queue = self.queues[pool]
        if queue.add(task):
            self.where.setdefault(proj, set()).add(pool)
            if proj.running or not self.steady:
                queue.live.add(proj)
            else:
                self.unsettled.add(proj)
        elif self.steady and not proj.running:
            self.unsettled.add(proj)  # one more ready task: min_slack's chain may be longer

    def started(self, task: TaskState) -> None:
        """A task of the project started: it lives (its key moves), and leaves its queues."""
        proj = task.project
        if self.steady and len(proj.running) == 1:
            self.stamps[proj] = self.stamps.get(proj, 0) + 1
            self.unsettled.discard(proj)
            for i in self.where.get(proj, ()):
                self.queues[i].live.add(proj)
        for pool, _ in task.needs:
            queue = self.queues[pool.index]
            waiting = queue.projects.get(proj)
            if waiting is not None:
                waiting.remove(task)
                if not waiting:
                    queue.drop(proj)
                    self.where[proj].discard(pool.index)

    def changed(self, proj: ProjectState) -> None:
        """The project's last running task ended, or its remaining work changed."""
        if self.steady and not proj.running and proj in self.where:
            self.unsettled.add(proj)

    def settle(self) -> None:
        """Rank again the projects whose resting key may have changed (in a fixed order)."""
        if not self.unsettled:
            return
        rule, stamps = self.rule, self.stamps
        for proj in sorted(self.unsettled, key=_by_index):
            if proj.running or proj not in self.where:
                continue  # live again, or withdrawn
            stamp = stamps[proj] = stamps.get(proj, 0) + 1
            key = rule(proj, 0.0)
            for i in self.where[proj]:
                self.queues[i].rest(proj, key, stamp)
        self.unsettled.clear()

    def withdraw(self, proj: ProjectState) -> None:
        for i in self.where.pop(proj, ()):
            self.queues[i].drop(proj)
        self.stamps.pop(proj, None)
        self.unsettled.discard(proj)

    def dispatch(self, pool: PoolState, now: float, backfill: bool,
                 start: Callable[[TaskState, PoolState], None]) -> None:
        self.queues[pool.index].dispatch(pool, now, backfill, start, self.rule, self.stamps)


def _by_index(proj: ProjectState) -> int:
    return proj.index


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
