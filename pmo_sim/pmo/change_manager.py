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
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
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


def follow(world: World, proj: ProjectState) -> None:
    """From admission on, wait for the project's pre-drawn change requests in time order.

    Requests before admission cannot reach it (it has not started). Each request is one
    timeout with a callback that schedules the next (no process per project).
    """
    times = proj.plan.change_times
    _schedule(world, proj, int(np.searchsorted(times, world.env.now)))


def _schedule(world: World, proj: ProjectState, k: int) -> None:
    times = proj.plan.change_times
    if k < len(times) and not proj.closed:
        world.env.timeout(float(times[k]) - world.env.now).callbacks.append(
            partial(_request, world, proj, k))


def _request(world: World, proj: ProjectState, k: int, _event: Any) -> None:
    if proj.closed:
        return
    if proj.start == proj.start:  # only a started project is reached by a request
        proj.changes += 1
        if proj.counted:
            world.n_changes += 1
        cm = world.policy.change_manager
        if cm is None:
            world.apply_change(proj, float(proj.plan.change_fraction[k]),
                               float(proj.plan.change_disruption[k]))
        elif cm.assessment_days > 0 or world.cm_desk is not None:
            world.env.process(_assess(world, cm, proj, k))
        else:
            _decide(world, cm, proj, k)
    _schedule(world, proj, k + 1)


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
