"""The CPM latest times behind the task-level rules ``lst`` and ``lft``, for a whole world.

A task ranks by its latest start (finish) within its project, from the critical path method
on the planned durations (:mod:`pmo_sim.scenario.network`), backwards from the project's due
date or, without one, from its critical path; a project waits in the backlog by the earliest
of its tasks' latest times. Both come from one backward pass per task network over all the
projects of that network (:func:`~pmo_sim.scenario.network.latest_times`), taken when first
asked for: the same numbers as each project's CPM alone, computed once, not once for the
backlog and again for the ready tasks. A network shared by fewer than
:data:`~pmo_sim.engine.state.BATCH_FROM` projects (a project list has one per project) is
walked project by project instead: numpy's overhead per task would outweigh the batch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from pmo_sim.engine.paths import BATCH_FROM, by_network
from pmo_sim.scenario.network import cpm, latest_times

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState

Times = tuple[list[float], list[float], float]  # latest starts, latest finishes, deadline (days)


class LatestTimes:
    """Latest starts and finishes (absolute days) of every project of a world."""

    __slots__ = ("keys", "_columns", "_times")

    def __init__(self, projects: list[ProjectState], latest_start: bool):
        #: per project index: the backlog key, the earliest latest start (or finish) of its tasks
        self.keys = [math.inf] * len(projects)
        self._columns: dict[int, tuple[np.ndarray, np.ndarray, float, int]] = {}  # its network's arrays
        self._times: dict[int, Times] = {}
        for group in by_network(projects):
            net = group[0].plan.network
            if len(group) < BATCH_FROM:  # (a project list: a network each)
                for p in group:
                    self._alone(p, latest_start)
                continue
            dues = [math.nan if p.due_date == math.inf else p.due_date - p.arrival for p in group]
            ls, lf, deadlines = latest_times(net.preds, net.planned, dues, order=net.order,
                                             succs=net.succs)
            # min(arrival + x) == arrival + min(x): rounding a sum is monotonic in x.
            earliest = (ls if latest_start else lf).min(axis=0).tolist() if len(ls) else None
            for k, p in enumerate(group):
                self._columns[p.index] = (ls, lf, float(deadlines[k]), k)
                if earliest is not None:
                    self.keys[p.index] = p.arrival + earliest[k]

    def _alone(self, project: ProjectState, latest_start: bool) -> None:
        """One project's CPM by itself (the same numbers as its column of a batch)."""
        net, a = project.plan.network, project.arrival
        cp = cpm(net.preds, net.planned, None if project.due_date == math.inf else project.due_date - a,
                 order=net.order, succs=net.succs)
        self._times[project.index] = ([a + x for x in cp.latest_start],
                                      [a + x for x in cp.latest_finish], a + cp.deadline)
        latest = cp.latest_start if latest_start else cp.latest_finish
        if latest:
            self.keys[project.index] = a + min(latest)

    def of(self, project: ProjectState) -> Times:
        """The project's latest starts and finishes per task (file order) and its deadline."""
        hit = self._times.get(project.index)
        if hit is None:
            ls, lf, deadline, k = self._columns[project.index]
            a = project.arrival
            hit = self._times[project.index] = ((a + ls[:, k]).tolist(), (a + lf[:, k]).tolist(),
                                                a + deadline)
        return hit
