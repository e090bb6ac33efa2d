"""The change manager: what happens to the scenario's change requests.

A change request (drawn in the Plan, the same for every policy) reaches a project only while
it is started and open. Without a change manager it applies at once: rework of
``effort_added`` × the project's remaining effort, and a pause of ``disruption`` days. With
one, it first queues for impact assessment (``managers`` assessors in parallel, each taking
``assessment_days``); it may then be rejected (``reject_fraction``, decided by the request's
own pre-drawn uniform, so a stricter policy rejects a superset of what a laxer one rejects),
and what is accepted applies with ``rework_reduction`` and ``disruption_reduction``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from pmo_sim.scenario.models import ChangeManager

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState
    from pmo_sim.engine.world import World


def desk(world: World) -> simpy.Resource | None:
    """The assessors as a SimPy resource, when their number is limited."""
    cm = world.policy.change_manager
    if cm is None or cm.managers is None:
        return None
    return simpy.Resource(world.env, capacity=cm.managers)


def requests(world: World, proj: ProjectState) -> Generator[Any, Any, None]:
    """Process: walk the project's pre-drawn change requests in time order."""
    env = world.env
    cm = world.policy.change_manager
    for k, t in enumerate(proj.plan.change_times):
        if t > env.now:
            yield env.timeout(t - env.now)
        if proj.closed:
            return
        if proj.start != proj.start:
            continue  # not started yet: the request does not reach it
        proj.changes += 1
        if proj.counted:
            world.n_changes += 1
        if cm is None:
            world.apply_change(proj, float(proj.plan.change_fraction[k]),
                               float(proj.plan.change_disruption[k]))
        elif cm.assessment_days > 0 or world.cm_desk is not None:
            env.process(_assess(world, cm, proj, k))
        else:
            _decide(world, cm, proj, k)


def _assess(world: World, cm: ChangeManager, proj: ProjectState, k: int) -> Generator[Any, Any, None]:
    env = world.env
    if world.cm_desk is not None:
        with world.cm_desk.request() as req:
            yield req
            yield env.timeout(cm.assessment_days)
    else:
        yield env.timeout(cm.assessment_days)
    _decide(world, cm, proj, k)


def _decide(world: World, cm: ChangeManager, proj: ProjectState, k: int) -> None:
    plan = proj.plan
    if plan.change_u[k] < cm.reject_fraction:
        if proj.counted:
            world.n_rejected += 1
        return
    if proj.closed:
        return
    world.apply_change(proj,
                       float(plan.change_fraction[k]) * (1 - cm.rework_reduction),
                       float(plan.change_disruption[k]) * (1 - cm.disruption_reduction))
