"""Ready tasks under a dynamic project-level rule (``srpt``, ``wsjf``, ``min_slack``) when some
task holds several pools at once, ranked incrementally.

The plain way ranks every ready task of every pool together at each allocation, by its
project's key at that instant and then ``fifo``, and offers them in turn
(:func:`~pmo_sim.pmo.dispatch.dispatch_global`): O(n log n) per allocation, n the ready tasks
of the whole portfolio. This queue starts the same tasks in the same order by combining the
two ideas of :mod:`pmo_sim.pmo.dynamic_queue` and :class:`~pmo_sim.pmo.dispatch.NeedsQueue`:

- projects, not tasks, are ranked, and only those with work in progress (*live*) afresh at
  each allocation; a project with nothing running *rests* in a heap by its key, which under a
  ``steady`` rule stays put (or moves with ``now`` alike for all) until it is taken again
  (it came to rest, got another ready task, or its work changed);
- tasks come in *kinds*, by what they hold (their ``needs``); a resting project waits in the
  heap of every kind among its ready tasks; while an allocation goes on free capacity only
  shrinks, so once one of a kind's pools lacks the units the kind needs (with backfill), or
  is held back by a better-ranked task that could not start (without), the kind's heap is no
  longer looked at. A resting project is taken off the first heap that offers it; its other
  entries are passed over in that allocation.

Live projects are indexed by the kinds among their ready tasks, so an allocation ranks only
those with a ready task of a kind that can start now: in a portfolio of many pools (or many
mixes of them) most live projects wait for pools that are busy, and scanning them all at
every allocation made it O(live projects x their ready tasks), superlinear in the
portfolio's size. An allocation now costs O(kinds waiting + l log l + k log n) for the l
live projects that can start something and the k resting projects looked at.
Under a rule whose live key falls at a bounded rate (``min_slack``,
:data:`~pmo_sim.rules.allocation.LIVE_FALLS`) those live projects are keyed lazily, as a
pool's steady queue does (:mod:`pmo_sim.pmo.dynamic_queue`): by the bounds their last keys
give, in a heap, a key taken only when a bound reaches the top; an allocation that starts one
task keys a few projects, not every live one that could start (``min_slack``'s key walks the
project's frontier: the most costly of the rules).
Under ``srpt`` and ``wsjf`` (:data:`~pmo_sim.rules.allocation.LIVE_RATES`) the same, each
bound falling at its project's own rate: a running task's remaining work falls by at most its
crew's rate a day, so the remaining effort by at most their sum (taken with the key), until a
task of it starts (its rate is added: :meth:`started`) or its efforts change; ``wsjf``'s key is
bounded through it. In a portfolio of many people, where most live projects could start
something at most allocations, keying them all (the remaining work of every running task,
through the calendar) was most of what these rules cost beyond ``fifo``.
A rule not registered ``steady`` (a user's own) ranks every waiting project afresh.

An allocation's constant matters as much (it runs at nearly every task's end): the kinds that
can start are found once, when it begins (with backfill, only those of the pools with someone
free are looked at); a kind found able to start is not looked at again until a start is
tried; a kind out of the allocation is one set lookup away; a start looks again at every open
kind at once, so that the allocation ends as soon as none is left (before, the next ranks
were taken from the heaps and each kind found out one by one). An allocation is an
:class:`~pmo_sim.pmo.needs_allocation.Allocation`; it offers a rank as soon as it is whole
(:mod:`pmo_sim.pmo.ranks`).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappush
from typing import TYPE_CHECKING

from pmo_sim.pmo.dispatch import Kinds
from pmo_sim.pmo.needs_allocation import Allocation
from pmo_sim.pmo.ranks import Key, Resting, origin_after_start
from pmo_sim.rules.allocation import start_falls

if TYPE_CHECKING:
    from pmo_sim.engine.state import PoolState, ProjectState, TaskState
    from pmo_sim.rules.allocation import LiveRate, RestKey, RestPart


class DynamicNeedsQueue:
    """Every ready task of the portfolio, grouped by project; live projects and, per kind of
    needs, a heap of the resting ones."""

    def __init__(self, steady: bool, still: bool = False,
                 at_rest: tuple[RestPart, RestKey] | None = None, falls: float | None = None,
                 live_rate: LiveRate | None = None):
        self.steady = steady  # resting projects keep their order: they wait in heaps
        # Under a rule in LIVE_FALLS or LIVE_RATES (steady), live projects are keyed lazily: per
        # project, the origin of a bound (ranks.bound_origin) of its key, or of the quantity its
        # key is a function of (LiveRate), until its efforts change; the bound falls at
        # ``falls`` a day, or at the project's own rate (``rates``: ``live_rate.falls`` when it
        # was keyed, plus the rate of each task started since).
        self.falls = falls if steady else None
        self.live_rate = live_rate if steady else None
        self.lazy = self.falls is not None or self.live_rate is not None
        self.bounds: dict[ProjectState, float] = {}
        self.rates: dict[ProjectState, float] = {}
        self.still = still  # a resting project's key does not move with time: its heap key serves
        self.at_rest = at_rest  # else maybe: what stays put of it, and the key from that and now
        self.projects: dict[ProjectState, list[TaskState]] = {}  # ready tasks, fifo order
        self.live: set[ProjectState] = set()  # waiting, with work in progress (all, if not steady)
        # per waiting project, how many of its ready tasks are of each kind; and per kind, the
        # live projects with a ready task of it (what an allocation ranks, kinds that can start)
        self.ready_kinds: dict[ProjectState, dict[int, int]] = {}
        self.live_of_kind: list[set[ProjectState]] = []
        self.unsettled: set[ProjectState] = set()  # resting; key to take before ranking
        self.stamps: dict[ProjectState, int] = {}  # resting: the stamp of its heap entries
        self.count = 0
        self.kinds = Kinds()
        self.heaps: list[list[Resting]] = []  # per kind; entries whose stamp is not current are stale
        # Kinds with ready tasks (how many) and kinds with resting projects in their heap: an
        # allocation looks at these only, so a portfolio where nearly every task holds its
        # own mix (an imported PSPLIB one) pays for the kinds waiting, not every kind it had.
        self.present: dict[int, int] = {}
        self.resting: dict[int, None] = {}
        # during an allocation, the kinds with ready tasks that may still start (Allocation.alive)
        self.open: set[int] = set()
        # per pool (by index) that is the first need of a kind with ready tasks: the pool and
        # those kinds; with backfill a kind can start only if its first pool has someone free,
        # so an allocation of an overloaded portfolio (most pools busy) checks the waiting kinds
        # of the few pools with any (all of a pool's kinds, waiting or not, were looked at: in
        # a portfolio of many pools and mixes, five in six of them had no ready task)
        self.first_pools: dict[int, tuple[PoolState, dict[int, None]]] = {}

    # ------------------------------------------------------------------ what the manager tells it

    def push(self, task: TaskState) -> None:
        """A task is ready and waits for all its needs."""
        kind = task.kind = self.kinds.of(task.needs)
        if kind == len(self.heaps):
            self.heaps.append([])
            self.live_of_kind.append(set())
        waiting_of_kind = self.present.get(kind, 0)
        self.present[kind] = waiting_of_kind + 1
        if not waiting_of_kind:
            first = task.needs[0][0]
            of_pool = self.first_pools.get(first.index)
            if of_pool is None:
                self.first_pools[first.index] = (first, {kind: None})
            else:
                of_pool[1][kind] = None
        proj = task.project
        waiting = self.projects.get(proj)
        if waiting is None:
            self.projects[proj] = [task]
            self.ready_kinds[proj] = {kind: 1}
        else:
            if waiting[-1].fifo_key > task.fifo_key:
                waiting.insert(next(i for i, t in enumerate(waiting) if t.fifo_key > task.fifo_key), task)
            else:
                waiting.append(task)
            counts = self.ready_kinds[proj]
            counts[kind] = counts.get(kind, 0) + 1
        if proj in self.live:  # its new kind is one of its live kinds
            self.live_of_kind[kind].add(proj)
        if proj.running or not self.steady:
            self._go_live(proj)
        else:  # at rest, one more ready task (maybe of another kind): its key is taken again
            self.unsettled.add(proj)

    def started(self, task: TaskState) -> None:
        """A task started (one needing nothing never waited here): its project is live."""
        proj = task.project
        if self.live_rate is not None and proj in self.bounds:  # its key falls faster from now
            falls = start_falls(task)
            self.bounds[proj] = origin_after_start(self.bounds[proj], task.start, falls)  # type: ignore[arg-type]
            self.rates[proj] += falls
        waiting = self.projects.get(proj)
        if waiting is None:
            return
        if task.needs:
            waiting.remove(task)
            kind = self._gone(task)
            counts = self.ready_kinds[proj]
            left = counts[kind] - 1
            if left:
                counts[kind] = left
            else:
                del counts[kind]
                self.live_of_kind[kind].discard(proj)
        if not waiting:
            self._forget(proj)
        elif self.steady:
            self._go_live(proj)
            self.unsettled.discard(proj)
            self.stamps.pop(proj, None)

    def changed(self, proj: ProjectState) -> None:
        """The project's last running task ended, or its remaining work changed."""
        if self.bounds:
            self.bounds.pop(proj, None)  # efforts may have changed: its key may have fallen
        if self.steady and not proj.running and proj in self.projects:
            self._leave_live(proj)
            self.unsettled.add(proj)

    def withdraw(self, proj: ProjectState) -> None:
        waiting = self.projects.pop(proj, None)
        if waiting is not None:
            for task in waiting:
                self._gone(task)
            self._forget(proj)

    def _go_live(self, proj: ProjectState) -> None:
        if proj not in self.live:
            self.live.add(proj)
            live_of_kind = self.live_of_kind
            for kind in self.ready_kinds[proj]:
                live_of_kind[kind].add(proj)

    def _leave_live(self, proj: ProjectState) -> None:
        if proj in self.live:
            self.live.discard(proj)
            live_of_kind = self.live_of_kind
            for kind in self.ready_kinds[proj]:
                live_of_kind[kind].discard(proj)

    def _gone(self, task: TaskState) -> int:
        """A ready task left (started or withdrawn): one fewer of its kind waits."""
        kind = task.kind
        left = self.present[kind] - 1
        if left:
            self.present[kind] = left
        else:
            del self.present[kind]
            self.open.discard(kind)  # none of its tasks is left to start
            first = task.needs[0][0].index
            of_pool = self.first_pools[first][1]
            del of_pool[kind]
            if not of_pool:
                del self.first_pools[first]
        return kind

    def _forget(self, proj: ProjectState) -> None:
        if proj in self.ready_kinds:
            self._leave_live(proj)
            del self.ready_kinds[proj]
        self.projects.pop(proj, None)
        self.unsettled.discard(proj)
        self.stamps.pop(proj, None)
        self.bounds.pop(proj, None)
        self.rates.pop(proj, None)
        if not self.projects:  # nothing waits: whatever the heaps hold is stale
            for kind in self.resting:
                self.heaps[kind].clear()
            self.resting.clear()

    def _settle(self, rule: Key) -> None:
        """Take the keys of the projects that came to rest or changed, each into the heap of
        every kind among its ready tasks."""
        stamps, at_rest, ready_kinds = self.stamps, self.at_rest, self.ready_kinds
        heaps, resting, count = self.heaps, self.resting, self.count
        for proj in self.unsettled:
            count += 1
            stamps[proj] = count
            if at_rest is None:
                key, part = rule(proj, 0.0), 0.0
            else:
                part = at_rest[0](proj)
                key = at_rest[1](proj, part, 0.0)
            entry = (key, proj.arrival, proj.index, count, proj, part)
            for kind in ready_kinds[proj]:
                heap = heaps[kind]
                if len(heap) > 2 * len(stamps) + 32:  # stale entries outnumber the valid
                    heap[:] = [e for e in heap if stamps.get(e[4]) == e[3]]
                    heapify(heap)
                heappush(heap, entry)
                resting[kind] = None
        self.count = count
        self.unsettled.clear()

    # ------------------------------------------------------------------ allocation

    def dispatch(self, now: float, backfill: bool, start: Callable[[TaskState], bool], rule: Key) -> None:
        """Start, best rank first, the tasks whose needs can all be met now; without backfill
        a task that cannot start holds back the pools it needs from every lower-ranked task."""
        if not self.projects:
            return
        needs, present, alive = self.kinds.needs, self.present, self.open
        alive.clear()
        # NOTE: the kind-open check of dispatch.NeedsQueue written out (per waiting kind, at
        # every allocation). With backfill, only a kind whose first pool has someone free may
        # start: in an overloaded portfolio (most pools busy) the kinds of the few pools with
        # any are looked at, and those that can start are the allocation's open kinds.
        if backfill:
            for pool, kinds in self.first_pools.values():
                if pool.idle:
                    for kind in kinds:
                        for need, units in needs[kind]:
                            if len(need.idle) < units:
                                break
                        else:
                            alive.add(kind)
            if not alive:
                return  # no kind waiting has what it needs free: nothing can start
        else:
            for kind in present:
                for need, units in needs[kind]:
                    if len(need.idle) < units:
                        break
                else:
                    break  # this kind has what it needs free
            else:
                return
            alive.update(present)  # nothing is held back yet
        if self.unsettled:
            self._settle(rule)
        Allocation(self, now, backfill, start, rule).run()
