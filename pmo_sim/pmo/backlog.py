"""The resource manager's backlog: projects waiting for the WIP gate, best-ranked first.

While fewer than ``wip_limit`` projects are open, the backlog project ranked first by the
allocation rule is admitted — ties go to the earliest arrival, then file order. A project in
the backlog has no task running, so under every built-in rule its key does not move, or moves
with ``now`` alike for all (``min_slack``): the backlog is a heap keyed at day 0, and a
project's key is taken again only when its work changes (an idea cuts its planned effort).
Admission then costs O(log n), not a pass over the whole backlog. A rule that promises
neither (a user's dynamic rule not registered ``steady``) is looked up by a plain scan.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState

Key = Callable[["ProjectState", float], float]


class Backlog:
    """Projects waiting to be admitted, in the order the rule admits them."""

    def __init__(self, key: Key, ordered: bool):
        self.key = key
        self.ordered = ordered  # keys stay in order while projects wait: a heap serves
        self.stamps: dict[ProjectState, int] = {}  # members -> their live heap entry's stamp
        self.count = 0
        self.heap: list[tuple[float, float, int, int, ProjectState]] = []

    def __len__(self) -> int:
        return len(self.stamps)

    def __contains__(self, project: object) -> bool:
        return project in self.stamps

    def add(self, project: ProjectState) -> None:
        self.count += 1
        stamp = self.stamps[project] = self.count
        if self.ordered:
            heappush(self.heap, (self.key(project, 0.0), project.arrival, project.index, stamp,
                                 project))

    def changed(self, project: ProjectState) -> None:
        """The project's planned work changed while it waited: rank it again."""
        if project in self.stamps:
            self.add(project)

    def remove(self, project: ProjectState) -> None:
        self.stamps.pop(project, None)  # its heap entries are skipped as stale

    def pop(self, now: float) -> ProjectState:
        """The best-ranked waiting project, taken out of the backlog."""
        if self.ordered:
            heap, stamps = self.heap, self.stamps
            while True:
                _, _, _, stamp, project = heappop(heap)
                if stamps.get(project) == stamp:
                    break
        else:
            key = self.key
            project = min(self.stamps, key=lambda p: (key(p, now), p.arrival, p.index))
        del self.stamps[project]
        return project
