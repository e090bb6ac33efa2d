"""Critical paths of projects not admitted yet, at their planned efforts: what ``min_slack``
ranks the backlog by, and latest starts (:mod:`pmo_sim.pmo.latest`) are taken from.

A project's path once admitted, over what is left of it, is
:meth:`~pmo_sim.engine.state.ProjectState.remaining_critical_path`; before, it is its plan's
network at its current efforts (they change with rework and ideas): walked project by project,
or, for many projects of one network at once, as arrays over the projects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState


class PlannedPaths:
    """The critical paths of a world's projects at their current efforts before admission
    (what ``min_slack`` keys the backlog by), taken on the first request for every project of
    a network at once.

    A portfolio of thousands of proposals from a few templates is then a few array passes
    instead of a Python loop per proposal; the operations are those of
    :func:`plan_critical_path` in the same order, so the numbers are the same. After that
    first batch, a project whose efforts changed (``efforts_changed``) is recomputed alone.
    """

    __slots__ = ("projects",)

    def __init__(self, projects: list[ProjectState]):
        self.projects: list[ProjectState] | None = projects

    def of(self, proj: ProjectState) -> float:
        if self.projects is not None:
            projects, self.projects = self.projects, None
            for group in by_network(p for p in projects if p._plan_cp is None):
                if len(group) < BATCH_FROM:  # (a project list: a network each)
                    for p in group:
                        p._plan_cp = plan_critical_path(p)
                    continue
                for p, cp in zip(group, plan_critical_paths(group), strict=True):
                    p._plan_cp = cp
        if proj._plan_cp is None:
            proj._plan_cp = plan_critical_path(proj)
        return proj._plan_cp


#: Networks shared by fewer projects than this are walked project by project: numpy's call
#: overhead per task outweighs the loop it saves (measured: ~90 us a batch of a 14-task network
#: against ~7 us a project walked, even at 13; a portfolio handed over as a list has a network
#: per project: 640 of them 70 ms batched, 9 ms walked). The same operations in the same
#: order: the same numbers either way (``tests/test_batched_paths.py``).
BATCH_FROM = 16


def by_network(projects: Iterable[ProjectState]) -> list[list[ProjectState]]:
    """The projects grouped by their plan's task network (a template's, or their own), in
    order of first appearance: what array passes over many projects at once work on."""
    groups: dict[int, list[ProjectState]] = {}
    for p in projects:
        groups.setdefault(id(p.plan.network), []).append(p)
    return list(groups.values())


def plan_critical_paths(group: list[ProjectState]) -> list[float]:
    """:func:`plan_critical_path` of projects of one network, as arrays over the projects."""
    net = group[0].plan.network
    if not net.order:
        return [0.0] * len(group)
    efforts = np.array([p.efforts for p in group], dtype=float).T  # [task, project]
    succs, speeds = net.succs, net.chain_speeds
    tail = np.empty_like(efforts)
    best = np.zeros(len(group))
    for i in reversed(net.order):
        after = np.zeros(len(group))
        for j in succs[i]:
            after = np.maximum(after, tail[j])
        tail[i] = x = efforts[i] / speeds[i] + after
        best = np.maximum(best, x)
    return best.tolist()


def plan_critical_path(proj: ProjectState) -> float:
    net = proj.plan.network
    efforts, succs, speeds = proj.efforts, net.succs, net.chain_speeds
    tail = [0.0] * len(efforts)
    best = 0.0
    for i in reversed(net.order):
        after = 0.0
        for j in succs[i]:
            if tail[j] > after:
                after = tail[j]
        tail[i] = x = efforts[i] / speeds[i] + after
        if x > best:
            best = x
    return best
