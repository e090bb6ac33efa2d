"""Ready queues under a project-level rule whose key moves with time (``srpt``, ``wsjf``,
``min_slack``), ranked incrementally.

The rule ranks projects, not tasks: all ready tasks of a project rank alike, so each pool's
queue groups its ready tasks by project. A project's key moves while it has work in progress
(its running tasks' remaining work shrinks as they run): such a *live* project is ranked
afresh at each allocation. A project with nothing running *rests*: under a ``steady`` rule
its key stays put, or moves with ``now`` by the same amount as every other project's
(``min_slack``'s ``- now``), so resting projects keep their order and wait in a heap keyed at
day 0. A resting project's key is taken again only when it may have changed — it just came to
rest, it got another ready task, or its work changed (rework, an idea) — and only when the
pool next has to choose between several projects: an allocation costs O(live projects +
k log n) for the k projects looked at, and nothing when one project waits.

Resting projects wait in one heap per *smallest crew* among their waiting tasks. With
backfill, an allocation looks only at the heaps whose crews fit the free people: a project
all of whose tasks need more people than are free could start nothing, so skipping it starts
the same tasks in the same order, without taking the keys of (in an overloaded portfolio)
dozens of projects waiting for a larger crew. Without backfill the top-ranked project holds
the rest back whether it fits or not, so every heap is looked at.

That machinery pays for itself only when many projects wait in a pool; its bookkeeping (who
is live, who rests, whose key to take again) costs more than it saves when a few do. So a
pool's queue is *plain* while few projects wait in it — every waiting project counts as live
and is ranked afresh, like a hand-written model sorting its ready list — and turns *steady*
when more than :data:`STEADY_ABOVE` wait, back to plain below :data:`PLAIN_BELOW` (the gap
keeps a queue near the threshold from switching at every allocation). Both rank alike (the
incremental ranking decides exactly as ranking afresh), so the switch changes no result.

A steady queue ranks its live projects lazily under a rule whose key falls at a bounded rate
(:data:`~pmo_sim.rules.allocation.LIVE_FALLS`: ``min_slack``): a live project's key, once
taken, bounds it from below until its efforts change (``key - falls * elapsed``, less a margin
for rounding). Every bound falls alike, so their order does not change with time: the live
projects wait in a heap by the origins of their bounds, kept from one allocation to the next
(an entry is made when a project goes live or its efforts change, and replaced when its key is
taken). An allocation takes a key only when a project's bound reaches the top, and a rank comes
out when the least key taken is below every bound left (no other live key can then be below
it). A portfolio of hundreds of open projects keys the few an allocation reaches, in O(k log n),
instead of building a bound or a key for every live one (which ranks them alike: the keys taken
are the rule's own, at the same instant). Measured (``benchmarks/instructions.py``): 640 listed
projects under ``min_slack``, 1.39 x ``fifo`` with every live project keyed, 1.36 with bounds
rebuilt at every allocation, 1.32 with the heap kept; a floor for ``srpt`` and ``wsjf`` (the
effort of the tasks not started) halved their keys there and saved nothing (their keys are
nearly as cheap as a bound), so they rank eagerly.

A rule not registered ``steady`` (a user's own) gets the plain treatment throughout. So does
every rule when tasks are ranked across all pools at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

from pmo_sim.pmo.ranks import Key, Ranked, Resting, bound_origin, tasks_of

if TYPE_CHECKING:
    from pmo_sim.engine.state import PoolState, ProjectState, TaskState
    from pmo_sim.rules.allocation import RestKey, RestPart

# (origin of a bound of its key, arrival, index, stamp, project): a live project's entry
Bounded = tuple[float, float, int, int, "ProjectState"]
Bucket = tuple[int, list[Resting]]  # (smallest crew of the projects in it, their heap)

#: A plain queue turns steady when more projects than this wait in it (measured side by side:
#: plain ranking was faster at the reference size and at 4x, where a pool's queue holds a few
#: projects, steady with the dozens per queue of an overloaded portfolio at 16x).
STEADY_ABOVE = 16
#: A steady queue turns plain again when fewer projects than this wait in it.
PLAIN_BELOW = 8


_EVERYONE = 1 << 62  # no crew is this large: every heap is looked at
_INF = float("inf")


def _crew(bucket: Bucket) -> int:
    return bucket[0]


class DynamicQueue:
    """One pool's ready tasks, grouped by project; its live projects and its resting heaps."""

    __slots__ = ("projects", "live", "unsettled", "stamps", "buckets", "count", "crews", "still",
                 "at_rest", "adaptive", "steady", "falls", "bounds", "lazy", "bounded",
                 "live_stamps", "relive", "index", "where")

    def __init__(self, still: bool = False, at_rest: tuple[RestPart, RestKey] | None = None,
                 adaptive: bool = False, falls: float | None = None,
                 bounds: dict[ProjectState, float] | None = None, index: int = 0,
                 where: dict[ProjectState, set[int]] | None = None) -> None:
        # per project, its ready tasks in fifo order (ready time, then task file order)
        self.projects: dict[ProjectState, list[TaskState]] = {}
        # steady: waiting here, with work in progress (a plain queue counts every waiting
        # project live, and ranks its ``projects``: it keeps no set of them)
        self.live: set[ProjectState] = set()
        self.unsettled: set[ProjectState] = set()  # resting here; key to take before ranking
        self.stamps: dict[ProjectState, int] = {}  # resting here: the stamp of its heap entry
        # Resting projects by the smallest crew among their waiting tasks, a heap per crew
        # size, by crew size; entries whose stamp is not the project's are stale.
        self.buckets: list[Bucket] = []
        self.count = 0
        self.crews: dict[int, int] = {}  # waiting tasks per crew size: fewer free people, no scan
        self.still = still  # a resting project's key does not move with time: its heap key serves
        self.at_rest = at_rest  # else maybe: what stays put of it, and the key from that and now
        self.adaptive = adaptive  # a steady rule: the queue may keep resting projects apart
        self.steady = False  # it does now (else every waiting project is live: plain)
        # Under a rule in LIVE_FALLS, a steady queue ranks live projects lazily: per project,
        # the origin of a bound of its key (bound_origin), shared by every pool's queue.
        self.falls = falls
        self.bounds: dict[ProjectState, float] = {} if bounds is None else bounds
        self.lazy = False  # steady, under such a rule: live projects wait in `bounded`
        # A lazy queue's live projects in a heap by the origins of their bounds (an order that
        # time does not change: every bound falls alike), kept from one allocation to the next;
        # an entry whose stamp is not its project's in `live_stamps` is stale.
        self.bounded: list[Bounded] = []
        self.live_stamps: dict[ProjectState, int] = {}
        self.relive: set[ProjectState] = set()  # live here, its entry to (re)make: new or changed
        # The pool's index, and per project the steady queues it waits in, shared by every
        # pool's queue (DynamicQueues.where): a queue turning steady or plain enters or leaves it.
        self.index = index
        self.where: dict[ProjectState, set[int]] = {} if where is None else where

    def rests(self, proj: ProjectState) -> None:
        self.live.discard(proj)
        self.live_stamps.pop(proj, None)
        self.unsettled.add(proj)

    def _uncount(self, task: TaskState) -> None:
        left = self.crews[task.people] - 1
        if left:
            self.crews[task.people] = left
        else:
            del self.crews[task.people]

    def drop(self, proj: ProjectState) -> None:
        """The project has nothing waiting here any more (all started, or withdrawn)."""
        for task in self.projects.pop(proj):
            self._uncount(task)
        self._forget(proj)

    def _forget(self, proj: ProjectState) -> None:
        if not self.steady:
            return  # a plain queue keeps nothing else of its projects (see _switch)
        self.live.discard(proj)
        self.unsettled.discard(proj)
        self.stamps.pop(proj, None)
        self.live_stamps.pop(proj, None)
        if not self.projects:  # nothing waits: whatever the heaps hold is stale
            self.buckets.clear()
            self.bounded.clear()

    def tasks(self) -> Iterator[TaskState]:
        for waiting in self.projects.values():
            for task in waiting:
                if task.queued:
                    yield task

    def dispatch(self, pool: PoolState, now: float, backfill: bool,
                 start: Callable[[TaskState, PoolState], None], rule: Key) -> None:
        """Start the best-ranked tasks that fit the pool's free people."""
        smallest = min(self.crews)
        if len(pool.idle) < smallest:
            return  # no waiting task fits the free people
        waiting = len(self.projects)
        if waiting == 1:  # one project waits here: nothing to rank
            _offer(list(next(iter(self.projects.values()))), pool, now, backfill, start, smallest)
            return
        if self.adaptive and (waiting > STEADY_ABOVE if not self.steady else waiting < PLAIN_BELOW):
            self._switch()
        if not self.steady:
            self._allocate_plain(pool, now, backfill, start, rule, smallest)
            return
        if self.unsettled:
            self._settle(rule)
        popped: list[tuple[list[Resting], Resting]] = []
        if self.lazy:
            self._allocate_lazily(pool, now, backfill, start, rule, smallest, popped)
        else:
            self._allocate(pool, now, backfill, start, rule, smallest, popped)
        stamps = self.stamps
        for heap, entry in popped:  # resting projects ranked stay, unless they changed
            if stamps.get(entry[4]) == entry[3]:
                heappush(heap, entry)

    def _switch(self) -> None:
        """Plain to steady (the projects with nothing running rest, their keys to take) or
        back (every waiting project live); the heaps start afresh either way, and the queue
        enters or leaves its projects' ``where``."""
        self.steady = not self.steady
        self.lazy = self.steady and self.falls is not None
        self.stamps.clear()
        self.buckets.clear()
        self.bounded.clear()
        self.live_stamps.clear()
        self.relive.clear()
        where, i = self.where, self.index
        if self.steady:
            self.live = {p for p in self.projects if p.running}
            self.unsettled = {p for p in self.projects if not p.running}
            if self.lazy:
                self.relive.update(self.live)
            for p in self.projects:
                pools = where.get(p)
                if pools is None:
                    where[p] = {i}
                else:
                    pools.add(i)
        else:
            self.live = set()
            self.unsettled.clear()
            for p in self.projects:
                pools = where[p]
                pools.discard(i)
                if not pools:
                    del where[p]

    def _settle(self, rule: Key) -> None:
        """Take the keys of the projects that came to rest or changed, each into the heap of
        the smallest crew among its waiting tasks (order-free: heaps)."""
        stamps, projects, at_rest = self.stamps, self.projects, self.at_rest
        for proj in self.unsettled:
            self.count += 1
            stamps[proj] = self.count
            crew = _EVERYONE
            for t in projects[proj]:
                if t.people < crew:
                    crew = t.people
            heap = self._heap_of(crew)
            if len(heap) > 2 * len(stamps) + 32:
                # Stale entries leave a heap when they reach its top; a heap looked at only
                # when many people are free could hoard them: rebuilt, in place, when they
                # outnumber the valid.
                heap[:] = [e for e in heap if stamps.get(e[4]) == e[3]]
                heapify(heap)
            if at_rest is None:
                key, part = rule(proj, 0.0), 0.0
            else:
                part = at_rest[0](proj)
                key = at_rest[1](proj, part, 0.0)
            heappush(heap, (key, proj.arrival, proj.index, self.count, proj, part))
        self.unsettled.clear()

    def _heap_of(self, crew: int) -> list[Resting]:
        """The heap of the projects whose smallest crew is ``crew`` (made, in crew order, when
        first needed; a pool has a few crew sizes, so a scan finds it)."""
        for size, heap in self.buckets:
            if size == crew:
                return heap
        heap = []
        self.buckets.append((crew, heap))
        self.buckets.sort(key=_crew)
        return heap

    def _peek_resting(self, rule: Key, now: float, fits: int) -> tuple[Ranked, list[Resting]] | None:
        """The best valid resting project of the heaps whose crews are at most ``fits``, with
        its key at ``now``, and the heap whose top it is; None when none is left."""
        stamps = self.stamps
        best: Resting | None = None
        best_heap: list[Resting] = []
        for crew, heap in self.buckets:
            if crew > fits:
                break  # buckets come by crew size: the rest do not fit either
            while heap:
                entry = heap[0]
                if stamps.get(entry[4]) == entry[3]:
                    if best is None or entry < best:
                        best, best_heap = entry, heap
                    break
                heappop(heap)  # stale: it went live, changed, or left
        if best is None:
            return None
        proj = best[4]
        if self.still:
            key = best[0]
        elif self.at_rest is not None:
            key = self.at_rest[1](proj, best[5], now)
        else:
            key = rule(proj, now)
        return (key, best[1], best[2], proj), best_heap

    def _allocate(self, pool: PoolState, now: float, backfill: bool,
                  start: Callable[[TaskState, PoolState], None], rule: Key, smallest: int,
                  popped: list[tuple[list[Resting], Resting]]) -> None:
        """Offer the waiting tasks to the pool in rank order, a rank at a time, until the
        allocation is over: projects by (key, arrival, index), live ones ranked afresh and
        merged with the resting ones taken from the heaps as needed; projects that tie on
        (key, arrival) are one rank, their tasks merged by ready time and file order. With
        backfill, resting projects whose every waiting task needs more people than the pool
        has free are passed over. A resting project taken off its heap goes to ``popped``.

        NOTE: a two-way merge written out, and no generator (``heapq.merge``, or a generator
        per source or per allocation, cost more than the rest of an allocation); live projects
        come first on equal keys, as they would from ``heapq.merge(live, resting)``. Entries
        compare as whole tuples: a project's index is unique, so the project itself is never
        compared.
        """
        idle = pool.idle if backfill else None
        if not self.live:
            live: list[Ranked] = []
        elif idle is None:
            live = sorted([(rule(p, now), p.arrival, p.index, p) for p in self.live])
        else:
            # With backfill, a project none of whose waiting tasks here fits the free people
            # starts nothing in this allocation (free people only get fewer): no key.
            free, projects = len(idle), self.projects
            live = sorted([(rule(p, now), p.arrival, p.index, p) for p in self.live
                           if (w := projects[p])[0].people <= free or len(w) > 1 and _fits(w, free)])
        i, n = 0, len(live)
        head = (self._peek_resting(rule, now, _EVERYONE if idle is None else len(idle))
                if self.buckets else None)
        group: list[Ranked] = []
        while True:
            if head is not None and (i == n or head[0] < live[i]):
                entry = head[0]
            elif i < n:
                entry = live[i]
            else:
                break
            if group and entry[:2] != group[0][:2]:
                # the rank is whole: offered before the next project is taken (a full pool
                # ends the allocation, and it would have been taken for nothing)
                if _offer(tasks_of(self.projects, group), pool, now, backfill, start, smallest):
                    return
                group = []
            if head is not None and entry is head[0]:
                heap = head[1]
                popped.append((heap, heappop(heap)))  # the top of its heap: nothing ran since
                head = self._peek_resting(rule, now, _EVERYONE if idle is None else len(idle))
            else:
                i += 1
            group.append(entry)
        if group:
            _offer(tasks_of(self.projects, group), pool, now, backfill, start, smallest)

    def _allocate_plain(self, pool: PoolState, now: float, backfill: bool,
                        start: Callable[[TaskState, PoolState], None], rule: Key, smallest: int
                        ) -> None:
        """:meth:`_allocate` for a plain queue: every waiting project is live, ranked afresh.

        NOTE: the same ranks offered in the same order, written out without the resting heaps
        to merge (a plain queue has none), as a hand-written model sorts its ready list.
        """
        projects = self.projects
        if backfill:  # (as in _allocate: a project none of whose tasks fits gets no key)
            free = len(pool.idle)
            ranked = sorted([(rule(p, now), p.arrival, p.index, p) for p, w in projects.items()
                             if w[0].people <= free or len(w) > 1 and _fits(w, free)])
        else:
            ranked = sorted([(rule(p, now), p.arrival, p.index, p) for p in projects])
        i, n = 0, len(ranked)
        while i < n:
            entry = ranked[i]
            j = i + 1
            if j < n and ranked[j][:2] == entry[:2]:  # projects tied on (key, arrival): one rank
                while j < n and ranked[j][:2] == entry[:2]:
                    j += 1
                tasks = tasks_of(projects, ranked[i:j])
            else:
                tasks = list(projects.get(entry[3], ()))
            if _offer(tasks, pool, now, backfill, start, smallest):
                return
            i = j

    def _allocate_lazily(self, pool: PoolState, now: float, backfill: bool,
                         start: Callable[[TaskState, PoolState], None], rule: Key, smallest: int,
                         popped: list[tuple[list[Resting], Resting]]) -> None:
        """:meth:`_allocate` with the live projects taken from their heap by the bounds of
        their keys: a project's key is taken when its bound comes to the top, into a heap of
        the keys taken, whose top is a rank once no bound is below it (every other live key is
        then at least as large). The projects keyed go back to their heap with the bounds their
        keys give; the others stay where they are, so an allocation costs O(k log n) for the k
        live projects it reaches, not O(n).

        NOTE: the same merge as ``_allocate``, whose live projects are a sorted list; written
        twice so that the plain queues of small portfolios keep the cheaper form.
        """
        idle = pool.idle if backfill else None
        falls, bounds, bounded, stamps = self.falls, self.bounds, self.bounded, self.live_stamps
        assert falls is not None
        if self.relive:
            self._enter_live()
        drop = falls * now
        keyed: list[Ranked] = []  # live projects keyed in this allocation, by key
        back: list[Bounded] = []  # the entries taken off `bounded`, to put back at the end
        head = (self._peek_resting(rule, now, _EVERYONE if idle is None else len(idle))
                if self.buckets else None)
        group: list[Ranked] = []
        while True:
            while bounded:  # take keys while a bound may be below the next rank
                top = bounded[0]
                proj = top[4]
                if stamps.get(proj) != top[3]:
                    heappop(bounded)  # stale: it came to rest, left, or changed
                    continue
                bound = (top[0] - drop, top[1], top[2])
                if (keyed and keyed[0] < bound or head is not None and head[0] < bound
                        or group and bound[:2] > group[0][:2]):
                    break  # the next rank is known, or none left here can tie with the rank
                heappop(bounded)
                origin = bounds.get(proj, -_INF)
                if origin > top[0]:  # another pool's allocation took its key since: use that
                    heappush(bounded, (origin, top[1], top[2], top[3], proj))
                    continue
                if idle is not None:
                    # as in _allocate: with backfill, a project none of whose tasks here fits
                    # the free people starts nothing (free people only get fewer): no key
                    free = len(idle)
                    waiting = self.projects[proj]
                    if waiting[0].people > free and (len(waiting) == 1 or not _fits(waiting, free)):
                        back.append(top)
                        continue
                key = rule(proj, now)
                origin = bound_origin(key, now, falls)
                bounds[proj] = origin
                heappush(keyed, (key, top[1], top[2], proj))
                back.append((origin, top[1], top[2], top[3], proj))
            entry = head[0] if head is not None and (not keyed or head[0] < keyed[0]) else (
                keyed[0] if keyed else None)
            if group and (entry is None or entry[:2] != group[0][:2]):
                if _offer(tasks_of(self.projects, group), pool, now, backfill, start, smallest):
                    break
                group = []
                continue  # the next rank afresh: its keys may not all be taken yet
            if entry is None:
                break
            if head is not None and entry is head[0]:
                heap = head[1]
                popped.append((heap, heappop(heap)))  # the top of its heap: nothing ran since
                head = self._peek_resting(rule, now, _EVERYONE if idle is None else len(idle))
            else:
                heappop(keyed)
            group.append(entry)
        for taken in back:  # unless all its tasks here started (or it changed: a new entry)
            if stamps.get(taken[4]) == taken[3]:
                heappush(bounded, taken)

    def _enter_live(self) -> None:
        """Give the projects that went live here, or whose efforts changed, an entry of their
        own in ``bounded`` (by the bound their keys have now: none after a change); their older
        entries are stale. Stale entries leave the heap when they reach its top; the heap is
        rebuilt when they outnumber the valid ones."""
        stamps, bounds, bounded, live = self.live_stamps, self.bounds, self.bounded, self.live
        for proj in self.relive:
            if proj in live:
                self.count += 1
                stamps[proj] = self.count
                heappush(bounded, (bounds.get(proj, -_INF), proj.arrival, proj.index, self.count, proj))
        self.relive.clear()
        if len(bounded) > 2 * len(stamps) + 32:
            bounded[:] = [e for e in bounded if stamps.get(e[4]) == e[3]]
            heapify(bounded)


def _fits(waiting: list[TaskState], free: int) -> bool:
    """Some waiting task's crew fits ``free`` people."""
    # NOTE: a loop, not any() over a generator: a generator per live project costs more here.
    for task in waiting:  # noqa: SIM110
        if task.people <= free:
            return True
    return False


def _offer(tasks: list[TaskState], pool: PoolState, now: float, backfill: bool,
           start: Callable[[TaskState, PoolState], None], smallest: int) -> bool:
    """Start, in order, the tasks that fit the pool's free people; True when the allocation is
    over (nothing else fits, or a task that does not fit holds the rest back)."""
    free = len(pool.idle)
    for task in tasks:
        if not task.queued or task.project.paused_until > now:
            continue  # a disrupted project starts nothing until it resumes
        if task.people <= free:
            start(task, pool)
            free = len(pool.idle)
            if free < smallest:
                return True  # nothing else fits (smallest crews only grow as tasks start)
        elif not backfill:  # strict order: nobody jumps the top-ranked task
            return True
    return free == 0
