"""The resource manager's ready queues and how free people are given to ready tasks.

Three ways to look at the same rule — "free capacity goes to the best-ranked task whose needs
can all be met now; a task of a paused project waits; with ``backfill`` a lower-ranked task may
use capacity the top-ranked one cannot yet use" — each fast where it applies:

- :class:`StaticQueue`: rules whose key never changes for a task (``fifo``, ``priority``,
  ``edd``, ``lst``, ``lft``). One heap per crew size, so the best task that fits the free
  people is found in O(log n) without looking at the tasks that do not fit.
- :class:`~pmo_sim.pmo.dynamic_queue.DynamicQueue`: project-level rules whose key moves with
  time (``srpt``, ``wsjf``, ``min_slack``). Ready tasks are grouped by project; projects with
  nothing running wait in a heap by their key, and only those with work in progress are ranked
  afresh at each allocation (:mod:`pmo_sim.pmo.dynamic_queue`).
- when some task needs several pools at once (or equipment), the ready tasks of every pool
  are ranked together and each is started if *all* its needs can be met, so no pool's queue
  can starve a better-ranked task of another pool: :class:`NeedsQueue` under a static rule
  (a heap per kind of needs), :class:`~pmo_sim.pmo.dynamic_needs.DynamicNeedsQueue` under a
  project-level one; :func:`dispatch_global` offers a ranked list in turn, the plain way
  (every ready task sorted at each allocation) that both are held to.

Ties fall back to ``fifo`` (project arrival, task ready time, project and task file order),
which every rank ends with.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmo_sim.engine.state import Person, PoolState, TaskState

Entry = tuple[tuple[float, ...], "TaskState"]


def _entry_rank(entry: Entry) -> tuple[float, ...]:
    return entry[0]


# --------------------------------------------------------------------------- static rules

#: A static queue keeps its tasks in heaps (by crew size) once more than this many wait in it.
HEAPS_ABOVE = 24
#: ... and in one list by rank again once fewer than this do.
LIST_BELOW = 8


rank_of = attrgetter("rank")  # a task's rank (the key of a static queue's list)

class StaticQueue:
    """Ready tasks of one pool under a static rule.

    While few tasks wait, they are one list by rank, offered in turn to the free people, the
    way a hand-written model does it (its bookkeeping is the cheapest when an allocation looks
    at a task or two). When many wait, the list becomes a heap of (rank, task) per crew size,
    so that the best task that fits the free people is found in O(log n) without looking at
    the tasks that do not fit; below :data:`LIST_BELOW` it is one list again. Both start the
    same tasks in the same order (free people only get fewer while an allocation goes on, so
    a task passed over for its crew size could not start later in it either).
    """

    __slots__ = ("ready", "heaps", "buckets", "by_size", "size")

    def __init__(self) -> None:
        self.ready: list[TaskState] = []  # by rank, while the queue is a list
        self.heaps = False  # the tasks are in the heaps, not the list
        self.buckets: list[tuple[int, list[Entry]]] = []  # (crew size, heap), by crew size
        self.by_size: dict[int, list[Entry]] = {}
        self.size = 0  # entries in the heaps (some may have started through another pool)

    def push(self, task: TaskState, units: int) -> None:
        if not self.heaps:
            ready = self.ready
            insort(ready, task, key=rank_of)
            if len(ready) > HEAPS_ABOVE:
                self._to_heaps()
            return
        heap = self.by_size.get(units)
        if heap is None:
            heap = self.by_size[units] = []
            self.buckets.append((units, heap))
            self.buckets.sort(key=lambda b: b[0])
        heappush(heap, (task.rank, task))
        self.size += 1

    def _to_heaps(self) -> None:
        ready, self.ready = self.ready, []
        self.heaps = True
        for task in ready:  # (a one-pool queue: a task holds ``people`` units of the pool)
            if task.queued:
                self.push(task, task.people)

    def _to_list(self) -> None:
        entries = [entry for _, heap in self.buckets for entry in heap if entry[1].queued]
        entries.sort(key=_entry_rank)
        self.ready = [task for _, task in entries]
        self.heaps = False
        self.buckets.clear()
        self.by_size.clear()
        self.size = 0

    def tasks(self) -> Iterator[TaskState]:
        if not self.heaps:
            yield from (task for task in self.ready if task.queued)
            return
        for _, heap in self.buckets:
            for _, task in heap:
                if task.queued:
                    yield task

    def dispatch(self, pool: PoolState, now: float, backfill: bool,
                 start: Callable[[TaskState, PoolState], None]) -> None:
        """Start the pool's best-ranked tasks that fit its free people (one-pool tasks)."""
        if self.heaps:
            if self.size >= LIST_BELOW:
                self._dispatch_heaps(pool, now, backfill, start)
                return
            self._to_list()
        ready = self.ready
        idle = pool.idle
        free = len(idle)
        i, n = 0, len(ready)
        while i < n:
            task = ready[i]
            if task.people > free:
                if not backfill and task.queued and task.project.paused_until <= now:
                    return  # nobody jumps the top-ranked task waiting for its crew
                i += 1
            elif task.project.paused_until > now:
                i += 1  # waits for the pause to end
            else:
                del ready[i]  # (before the start, which may look at the queue)
                if task.queued:  # (else withdrawn)
                    start(task, pool)
                    free = len(idle)
                    if not free:
                        return
                n = len(ready)

    def _dispatch_heaps(self, pool: PoolState, now: float, backfill: bool,
                        start: Callable[[TaskState, PoolState], None]) -> None:
        idle = pool.idle
        skipped: list[tuple[list[Entry], Entry]] | None = None  # made when first needed (hot path)
        while idle:
            free = len(idle)
            best: Entry | None = None
            best_heap: list[Entry] | None = None
            best_units = 0
            for units, heap in self.buckets:
                if backfill and units > free:
                    break  # buckets come by crew size: the rest do not fit either
                while heap and not heap[0][1].queued:
                    heappop(heap)  # started through another pool, or withdrawn
                    self.size -= 1
                if heap and (best is None or heap[0][0] < best[0]):
                    best, best_heap, best_units = heap[0], heap, units
            if best is None or best_heap is None:
                break
            task = best[1]
            if task.project.paused_until > now:
                if skipped is None:
                    skipped = []
                skipped.append((best_heap, heappop(best_heap)))  # waits for the pause to end
                continue
            if best_units > free:
                break  # no backfill: nobody jumps the top-ranked task waiting for its crew
            heappop(best_heap)
            self.size -= 1
            start(task, pool)
        if skipped is not None:
            for heap, entry in skipped:
                heappush(heap, entry)


# --------------------------------------------------------------------------- several pools


Needs = tuple[tuple["PoolState", int], ...]


class Kinds:
    """Kinds of needs: tasks holding the same pools and units are one kind, numbered as first
    seen. A task's needs tuple is shared by its network's tasks (and its rework), so it is
    looked up by id once seen; the tuples are held, so that no id is reused meanwhile."""

    __slots__ = ("needs", "_by_needs", "_by_id", "_held")

    def __init__(self) -> None:
        self.needs: list[Needs] = []  # per kind
        self._by_needs: dict[Needs, int] = {}
        self._by_id: dict[int, int] = {}
        self._held: list[Needs] = []

    def of(self, needs: Needs) -> int:
        kind = self._by_id.get(id(needs))
        if kind is None:
            kind = self._by_needs.get(needs)
            if kind is None:
                kind = self._by_needs[needs] = len(self.needs)
                self.needs.append(needs)
            self._by_id[id(needs)] = kind
            self._held.append(needs)
        return kind


class NeedsQueue:
    """Ready tasks of every pool under a static rule when some task holds several pools at
    once: a heap of (rank, task) per *needs* (the pools and units a task holds), by rank.

    It starts the same tasks in the same order as ranking every ready task of every pool
    together and offering them in turn (:func:`dispatch_global`, the plain way the tests hold
    it to), in O(kinds of needs + log n) per task started instead of O(n log n) per allocation: while
    an allocation goes on, free capacity only shrinks, so once one of a kind's pools lacks the
    units it needs (with backfill), or is held back by a better-ranked task that could not
    start (without), no task of that kind can start until the allocation is over, and the
    kind is passed over as a whole for the rest of the allocation. A portfolio usually has a
    few kinds of needs, however many tasks; an imported PSPLIB one can have nearly a kind per
    task, so only the kinds with tasks waiting are looked at.
    """

    __slots__ = ("kinds", "heaps", "waiting")

    def __init__(self) -> None:
        self.kinds = Kinds()
        self.heaps: list[list[Entry]] = []  # per kind
        # The kinds with tasks in their heap (an ordered set): an allocation looks at these
        # only, so that a portfolio where nearly every task holds its own mix (an imported
        # PSPLIB one) pays for the kinds waiting, not for every kind it ever had.
        self.waiting: dict[int, None] = {}

    def push(self, task: TaskState) -> None:
        kind = self.kinds.of(task.needs)
        if kind == len(self.heaps):
            self.heaps.append([])
        heappush(self.heaps[kind], (task.rank, task))
        self.waiting[kind] = None

    def dispatch(self, now: float, backfill: bool, start: Callable[[TaskState], bool]) -> None:
        """Start, best rank first, the tasks whose needs can all be met now; without backfill
        a task that cannot start holds back the pools it needs from every lower-ranked task."""
        blocked: set[int] = set()
        held: list[tuple[list[Entry], Entry]] = []  # passed over in this allocation, put back after
        waiting = [(kind, self.kinds.needs[kind], self.heaps[kind]) for kind in self.waiting]
        looking = waiting  # the kinds that may still start a task in this allocation
        while looking:
            best: Entry | None = None
            best_heap: list[Entry] = []
            best_needs: Needs = ()
            still = []
            for item in looking:
                _, needs, heap = item
                while heap and not heap[0][1].queued:
                    heappop(heap)  # withdrawn
                if not heap:
                    continue
                # Can a task of these needs still start in this allocation? With backfill, not
                # once one of its pools has fewer units free than it needs; without, not once
                # a better-ranked task waiting for one of its pools holds it back (blocked).
                # Free capacity only shrinks and blocked only grows while an allocation goes
                # on: once not, not until it is over. NOTE: written out here and in
                # dynamic_needs.py (per waiting kind and task started; dozens of kinds wait in
                # a portfolio of many pools and rigs: a call and a generator doubled the cost).
                can = True
                if backfill:
                    for pool, units in needs:
                        if len(pool.idle) < units:
                            can = False
                            break
                elif blocked:
                    for pool, _ in needs:
                        if pool.index in blocked:
                            can = False
                            break
                if not can:
                    continue  # out of this allocation
                still.append(item)
                if best is None or heap[0][0] < best[0]:
                    best, best_heap, best_needs = heap[0], heap, needs
            looking = still
            if best is None:
                break
            heappop(best_heap)
            task = best[1]
            if task.project.paused_until > now:
                held.append((best_heap, best))  # a disrupted project starts nothing
            elif not start(task):
                # Enough units but not enough distinct people (someone free in several of
                # the pools counts once), or, without backfill, the best-ranked task waits.
                held.append((best_heap, best))
                if not backfill:
                    blocked.update(pool.index for pool, _ in best_needs)
        for heap, entry in held:
            heappush(heap, entry)
        for kind, _, heap in waiting:
            if not heap:
                del self.waiting[kind]


def take(task: TaskState, switch_cost: float) -> list[Person] | None:
    """The people and units to start ``task`` with, taken off every idle list; None if its
    needs cannot all be met now (a cross-skilled person counts once).

    From each pool, in the order of its needs, the longest idle not already chosen (with a
    switching cost, those fresh or already on the project first): O(units) per pool, not
    O(idle), unless switching costs make the whole idle list worth looking at.
    """
    needs = task.needs
    if any(len(pool.idle) < units for pool, units in needs):
        return None
    chosen: list[Person] = []
    taken: set[int] = set()
    for pool, units in needs:
        if switch_cost > 0 and pool.kind == "people":
            free = _fresh_first(pool.idle, taken, units, task.project)
        else:  # the longest idle not chosen already
            free = []
            for p in pool.idle:
                if id(p) not in taken:
                    free.append(p)
                    if len(free) == units:
                        break
        if len(free) < units:
            return None
        chosen += free[:units]
        taken.update(id(p) for p in free[:units])
    for person in chosen:
        for home in person.pools:
            home.idle.remove(person)
    return chosen


def _fresh_first(idle: list[Person], taken: set[int], units: int, proj: object) -> list[Person]:
    """Up to ``units`` of ``idle`` not taken, those fresh or already on ``proj`` first, each
    group in idle order (the scan stops once ``units`` fresh are found)."""
    fresh: list[Person] = []
    others: list[Person] = []
    for p in idle:
        if id(p) in taken:
            continue
        if p.last_project is None or p.last_project is proj:
            fresh.append(p)
            if len(fresh) == units:
                return fresh
        elif len(others) < units:
            others.append(p)
    return (fresh + others)[:units]


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
