"""One allocation of a :class:`~pmo_sim.pmo.dynamic_needs.DynamicNeedsQueue`: its live projects
ranked afresh (or lazily, by the bounds of their keys), merged with the resting ones taken from
the heaps of the kinds that can still start, a rank offered at a time until no kind can start.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

from pmo_sim.pmo.ranks import Key, Ranked, Resting, bound_origin, tasks_of

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState, TaskState
    from pmo_sim.pmo.dynamic_needs import DynamicNeedsQueue

_NO_BOUND = float("-inf")  # a live project not keyed since its efforts changed


class Allocation:
    """One allocation: live projects ranked afresh, merged with the resting ones taken from
    the heaps of the kinds that can still start (a two-way merge, as in
    :meth:`~pmo_sim.pmo.dynamic_queue.DynamicQueue._allocate`); projects that tie on (key,
    arrival) are one rank, their tasks merged by ready time and file order."""

    def __init__(self, queue: DynamicNeedsQueue, now: float, backfill: bool,
                 start: Callable[[TaskState], bool], rule: Key):
        self.queue, self.now, self.backfill, self.start, self.rule = queue, now, backfill, start, rule
        self.blocked: set[int] = set()  # pools held back (without backfill)
        # The kinds with ready tasks that may still start (the queue's ``open``, filled by
        # ``dispatch``; a kind whose last ready task starts leaves it): a kind found unable to
        # start leaves it for the rest of the allocation; none left, the allocation is over
        # (what it may offer was fixed when it began: live projects ranked, resting in heaps).
        self.alive = queue.open
        # The open kinds found able to start since the last start was tried: free capacity and
        # what is held back change only then, so until the next one they need no new look.
        self.ok: set[int] = set()
        self.popped: list[tuple[list[Resting], Resting]] = []
        self.seen: set[ProjectState] = set()  # resting projects already offered
        # the heaps to look at: kinds with resting projects that may still start
        self.looking: list[tuple[int, list[Resting]]] = []

    def can_start(self, kind: int) -> bool:
        """Can a task of this open kind still start in this allocation? (Once not, never again:
        it leaves ``alive``.) Callers test ``kind in self.ok`` (the answer since the last start
        was tried) and ``kind in self.alive`` first, and call only when the first is false and
        the second true."""
        # NOTE: the kind-open check of dispatch.NeedsQueue (per kind and live task, every allocation)
        if self.backfill:
            for pool, units in self.queue.kinds.needs[kind]:
                if len(pool.idle) < units:
                    self.alive.discard(kind)
                    return False
        elif self.blocked:
            for pool, _ in self.queue.kinds.needs[kind]:
                if pool.index in self.blocked:
                    self.alive.discard(kind)
                    return False
        self.ok.add(kind)
        return True

    def startable(self, proj: ProjectState) -> bool:
        """Can one of the project's ready tasks still start, by its kind?"""
        ok, alive, can_start = self.ok, self.alive, self.can_start
        for kind in self.queue.ready_kinds.get(proj, ()):  # noqa: SIM110  (any() and a generator: slower)
            if kind in ok or kind in alive and can_start(kind):
                return True
        return False

    def run(self) -> None:
        queue, rule, now = self.queue, self.rule, self.now
        alive = self.alive
        # a live project none of whose ready tasks is of a kind that can start starts nothing:
        # only the live projects of the open kinds are ranked; resting projects are looked for
        # in the heaps of the open kinds only
        startable: set[ProjectState] = set()
        live_of_kind, resting, heaps = queue.live_of_kind, queue.resting, queue.heaps
        looking = self.looking
        for kind in alive:
            startable |= live_of_kind[kind]
            if kind in resting:
                heap = heaps[kind]
                if heap:
                    looking.append((kind, heap))
                else:
                    del resting[kind]
        self.ok.update(alive)  # each was found able to start just now
        # a disrupted project starts nothing until it resumes (_offer passes it over): not
        # ranked (here and in _run_lazily); its tasks can keep a kind open to the allocation's
        # end, so under a lazy rule every other live project would be keyed (a portfolio with
        # change requests)
        if queue.lazy:
            self._run_lazily(startable)
            return
        live = sorted([(rule(p, now), p.arrival, p.index, p) for p in startable if p.paused_until <= now])
        i, n = 0, len(live)
        head = self._peek_resting()
        group: list[Ranked] = []
        while alive:
            if head is not None and (i == n or head[0] < live[i]):
                entry, from_heap = head[0], True
            elif i < n:
                entry, from_heap = live[i], False
            else:
                break
            if group and entry[:2] != group[0][:2]:
                head, group = self._offer_rank(group, head), []
                continue
            if from_heap:
                head = self._take_resting(head)
            else:
                i += 1
            group.append(entry)
        if group:
            self._offer(group)
        self._restore()

    def _offer_rank(self, group: list[Ranked], head: tuple[Ranked, list[Resting]] | None
                    ) -> tuple[Ranked, list[Resting]] | None:
        """Offer a whole rank (every project of it taken, the next one not yet: a start can
        end the allocation, and the next project would then have been taken, or keyed, for
        nothing); the best resting project to look at next."""
        if self._offer(group) and head is not None:
            return self._peek_resting()  # the best resting may be of a kind now out
        return head

    def _take_resting(self, head: tuple[Ranked, list[Resting]] | None
                      ) -> tuple[Ranked, list[Resting]] | None:
        """Take the best resting project (``head``) off the top of its heap into the rank;
        the next best."""
        assert head is not None
        heap = head[1]
        self.popped.append((heap, heappop(heap)))
        self.seen.add(head[0][3])
        return self._peek_resting()

    def _restore(self) -> None:
        stamps = self.queue.stamps
        for heap, rested in self.popped:  # resting projects offered stay, unless they changed
            if stamps.get(rested[4]) == rested[3]:
                heappush(heap, rested)

    def _run_lazily(self, startable: set[ProjectState]) -> None:
        """:meth:`run` with the live projects keyed lazily: in a heap by the bounds of their
        keys now, a key taken when its bound comes to the top, into a heap of the keys taken,
        whose top is the next live rank once no bound left is below it (every other live key
        is then at least as large): the live ranks come out in the order ``run`` sorts them.

        NOTE: ``run``'s merge written again over the two heaps (a generator per allocation
        costs more than it saves); entries compare as whole tuples on (key or bound, arrival,
        index): an index is unique, so a project itself is never compared.
        """
        queue, rule, now = self.queue, self.rule, self.now
        falls, bounds, rates, live = queue.falls, queue.bounds, queue.rates, queue.live_rate
        startable_now = self.startable
        # (as in run: a disrupted project is not ranked)
        if falls is not None:  # every bound falls alike
            drop = falls * now
            bounded = [(bounds.get(p, _NO_BOUND) - drop, p.arrival, p.index, p) for p in startable
                       if p.paused_until <= now]
        else:  # each at its project's own rate: a bound of what the key is made from, and the
            # least key it allows
            assert live is not None
            floor = live.floor
            bounded = [(floor(p, bounds[p] - rates[p] * now) if p in bounds else _NO_BOUND, p.arrival,
                        p.index, p) for p in startable if p.paused_until <= now]
        heapify(bounded)
        keyed: list[Ranked] = []
        head = self._peek_resting()
        group: list[Ranked] = []
        alive = self.alive
        rank: Ranked | None = None  # the first project of the rank being formed
        while alive:
            while bounded:  # key live projects while a bound may be below the next rank
                # (whole entries compared: an index is unique, so no project is compared)
                bound = bounded[0]
                if (keyed and keyed[0] < bound or head is not None and head[0] < bound
                        or rank is not None and (bound[0] > rank[0] or bound[0] == rank[0]
                                                 and bound[1] > rank[1])):
                    break  # the next rank is known, or none left can tie with the rank
                proj = heappop(bounded)[3]
                if not startable_now(proj):
                    continue  # every kind of its ready tasks is out: it would start nothing
                if live is None:
                    key = rule(proj, now)
                    bounds[proj] = bound_origin(key, now, falls)  # type: ignore[arg-type]
                else:  # (the rule's key, from the quantity it bounds)
                    quantity = live.quantity(proj, now)
                    key = live.key(proj, quantity)
                    rate = rates[proj] = live.falls(proj)
                    bounds[proj] = bound_origin(quantity, now, rate)
                heappush(keyed, (key, proj.arrival, proj.index, proj))
            entry = head[0] if head is not None and (not keyed or head[0] < keyed[0]) else (
                keyed[0] if keyed else None)
            if rank is not None and (entry is None or entry[0] != rank[0] or entry[1] != rank[1]):
                head, group, rank = self._offer_rank(group, head), [], None
                continue  # the next rank afresh: its keys may not all be taken yet
            if entry is None:
                break
            if head is not None and entry is head[0]:
                head = self._take_resting(head)
            else:
                heappop(keyed)
            group.append(entry)
            if rank is None:
                rank = entry
        if group:
            self._offer(group)
        self._restore()

    def _peek_resting(self) -> tuple[Ranked, list[Resting]] | None:
        """The best resting project not yet offered, over the heaps of the kinds that can
        still start, with its key now, and the heap whose top it is."""
        queue = self.queue
        stamps = queue.stamps
        best: Resting | None = None
        best_heap: list[Resting] = []
        ok, alive, can_start = self.ok, self.alive, self.can_start
        pruned = False
        for kind, heap in self.looking:
            if not heap or not (kind in ok or kind in alive and can_start(kind)):
                pruned = True
                continue
            while heap:
                entry = heap[0]
                if stamps.get(entry[4]) != entry[3]:
                    heappop(heap)  # stale: it went live, changed, or left
                elif entry[4] in self.seen:
                    self.popped.append((heap, heappop(heap)))  # offered from another kind's heap
                else:
                    if best is None or entry < best:
                        best, best_heap = entry, heap
                    break
        if pruned:  # kinds out of this allocation, or with nobody resting, are not looked at again
            self.looking = [(k, h) for k, h in self.looking if h and k in alive]
        if best is None:
            return None
        proj = best[4]
        if queue.still:
            key = best[0]
        elif queue.at_rest is not None:
            key = queue.at_rest[1](proj, best[5], self.now)
        else:
            key = self.rule(proj, self.now)
        return (key, best[1], best[2], proj), best_heap

    def _offer(self, group: list[Ranked]) -> bool:
        """Offer the tasks of a rank's projects; True if one started.

        A start takes people (maybe from other pools too: a cross-skilled person is taken off
        every idle list) and may leave open kinds unable to start: each is looked at again at
        once, so that an allocation whose open kinds are all out ends there, instead of taking
        the next ranks from the heaps and finding their kinds out one by one."""
        # A project none of whose ready kinds can still start is passed over without looking
        # at its tasks: in a portfolio of wide networks and many pools most offers were of
        # projects whose every kind had died earlier in the allocation, task by task.
        startable = self.startable
        if len(group) == 1:  # (nearly always: projects seldom tie on key and arrival)
            if not startable(group[0][3]):
                return False
        else:
            group = [e for e in group if startable(e[3])]
            if not group:
                return False
        now, ok, can_start, alive = self.now, self.ok, self.can_start, self.alive
        started = False
        for task in tasks_of(self.queue.projects, group):
            if not task.queued or task.project.paused_until > now:
                continue  # a disrupted project starts nothing until it resumes
            kind = task.kind
            if not (kind in ok or kind in alive and can_start(kind)):
                continue
            ok.clear()  # what is free (or held back) may change: every kind is looked at again
            if self.start(task):
                started = True
                if self.backfill:  # NOTE: can_start written out (each open kind, at every start)
                    needs = self.queue.kinds.needs
                    for other in list(alive):
                        for pool, units in needs[other]:
                            if len(pool.idle) < units:
                                alive.discard(other)
                                break
                        else:
                            ok.add(other)
                else:
                    for other in list(alive):
                        can_start(other)
                if not alive:
                    break  # no kind can start any more: the allocation is over
            elif not self.backfill:
                # the best-ranked task of these pools waits for them: nobody jumps it
                self.blocked.update(pool.index for pool, _ in task.needs)
                alive.discard(kind)
        return started
