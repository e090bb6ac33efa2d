"""Governance: stage gates that stop runaway projects, and better estimating practice.

A project's estimate is the sum of its tasks' central values (the modes of three-point
estimates). When the effort finished on a project first reaches ``at_progress`` × estimate,
the gate looks at the forecast — the project's current total effort, sampled effort plus
rework — and cancels the project if the forecast exceeds estimate × ``cancel_if_overrun``. A
cancelled project starts no more tasks; tasks already running finish (no preemption) and earn
nothing.

``estimate_spread_reduction`` (standardised practice) applies when the projects are built:
each effort draw moves towards its distribution's centre by that fraction, keeping its rank,
so common random numbers survive. The function costs ``cost_per_year``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pmo_sim.engine.roles import Accounts, Role, WorldAPI

if TYPE_CHECKING:
    from pmo_sim.engine.state import TaskState
    from pmo_sim.sampling import ProjectPlan
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO
    from pmo_sim.scenario.policy import Governance as GovernanceSpec


class Governance(Role):
    """Stage gates and estimating practice; the governance function's cost."""

    section = "governance"

    def __init__(self, scenario: Scenario, policy: PMO):
        assert policy.governance is not None
        self.spec: GovernanceSpec = policy.governance
        self.gate = self.spec.stage_gate
        self.passed: set[int] = set()  # projects (by index) through the gate
        idle = set()
        if self.gate is None:
            idle.add("on_task_finish")
        if self.spec.estimate_spread_reduction <= 0:
            idle.add("plan_efforts")
        self.idle_hooks = frozenset(idle)

    def attach(self, world: WorldAPI) -> None:
        self.world = world

    def plan_efforts(self, plan: ProjectPlan, efforts: np.ndarray) -> np.ndarray:
        central = plan.network.central
        return central + (efforts - central) * (1 - self.spec.estimate_spread_reduction)

    def on_task_finish(self, task: TaskState) -> None:
        """Pass the gate, or cancel, when a task of an open project finishes."""
        proj = task.project
        gate = self.gate
        if gate is None or proj.index in self.passed or proj.closed:
            return
        done = sum(t.effort for t in proj.tasks if t.finish is not None)
        if done < gate.at_progress * proj.effort_estimate:
            return
        self.passed.add(proj.index)
        forecast = sum(t.effort for t in proj.tasks)
        if forecast > gate.cancel_if_overrun * proj.effort_estimate:
            self.world.cancel(proj)

    def report(self, acc: Accounts) -> None:
        acc.flow("pmo_cost", self.spec.cost_per_year)
