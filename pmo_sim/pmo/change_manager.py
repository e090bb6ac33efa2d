"""The change manager: what happens to the scenario's change requests.

A change request (drawn in the Plan, the same for every policy) reaches a project only while
it is started and open. Without a change manager it applies at once: rework of
``effort_added`` × the project's remaining effort, and a pause of ``disruption`` days. With
one, it first queues for impact assessment (``managers`` assessors in parallel, each taking
``assessment_days``); it may then be rejected (``reject_fraction``, decided by the request's
own pre-drawn uniform, so a stricter policy rejects a superset of what a laxer one rejects),
and what is accepted applies with ``rework_reduction`` and ``disruption_reduction``. The
function costs ``cost_per_year``.

The role is present whenever the scenario has change requests or the policy a change manager;
"no change manager" is its null setting (requests apply as drawn).
"""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from pmo_sim.engine.roles import Accounts, Role, WorldAPI

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO
    from pmo_sim.scenario.policy import ChangeManager as ChangeManagerSpec


class ChangeManager(Role):
    """Follows each admitted project's change requests; assesses, filters and applies them."""

    section = "change_manager"

    @classmethod
    def wanted(cls, scenario: Scenario, policy: PMO) -> bool:
        return policy.change_manager is not None or (
            scenario.changes is not None and scenario.changes.per_project_per_year > 0)

    def __init__(self, scenario: Scenario, policy: PMO):
        self.spec: ChangeManagerSpec | None = policy.change_manager
        self.requests = 0  # that reached a started counted project
        self.rejected = 0

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        self.env = world.env
        cm = self.spec
        # The assessors as a SimPy resource, when their number is limited.
        self.desk = (simpy.Resource(world.env, capacity=cm.managers)
                     if cm is not None and cm.managers is not None else None)

    def on_admit(self, project: ProjectState) -> None:
        """From admission on, wait for the project's pre-drawn requests in time order.

        Requests before admission cannot reach it (it has not started). Each request is one
        timeout with a callback that schedules the next (no process per project).
        """
        times = project.plan.change_times
        if len(times):
            self._schedule(project, int(np.searchsorted(times, self.env.now)))

    def _schedule(self, proj: ProjectState, k: int) -> None:
        times = proj.plan.change_times
        if k < len(times) and not proj.closed:
            self.env.timeout(float(times[k]) - self.env.now).callbacks.append(
                partial(self._request, proj, k))

    def _request(self, proj: ProjectState, k: int, _event: simpy.Event) -> None:
        if proj.closed:
            return
        if proj.start is not None:  # only a started project is reached by a request
            proj.changes += 1
            if proj.counted:
                self.requests += 1
            cm = self.spec
            if cm is None:
                self.world.apply_change(proj, float(proj.plan.change_fraction[k]),
                                        float(proj.plan.change_disruption[k]))
            elif cm.assessment_days > 0 or self.desk is not None:
                self.env.process(self._assess(cm, proj, k))
            else:
                self._decide(cm, proj, k)
        self._schedule(proj, k + 1)

    def _assess(self, cm: ChangeManagerSpec, proj: ProjectState, k: int) -> Generator[Any, Any, None]:
        if self.desk is not None:
            with self.desk.request() as req:
                yield req
                yield self.env.timeout(cm.assessment_days)
        else:
            yield self.env.timeout(cm.assessment_days)
        self._decide(cm, proj, k)

    def _decide(self, cm: ChangeManagerSpec, proj: ProjectState, k: int) -> None:
        plan = proj.plan
        if plan.change_u[k] < cm.reject_fraction:
            if proj.counted:
                self.rejected += 1
            return
        if proj.closed:
            return
        self.world.apply_change(proj,
                                float(plan.change_fraction[k]) * (1 - cm.rework_reduction),
                                float(plan.change_disruption[k]) * (1 - cm.disruption_reduction))

    def report(self, acc: Accounts) -> None:
        acc.count("changes", self.requests)
        acc.count("changes_rejected", self.rejected)
        if self.spec is not None:
            acc.flow("pmo_cost", self.spec.cost_per_year)
