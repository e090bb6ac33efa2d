"""Governance: the funding board, risk mitigation, stage gates and estimating practice.

- **Funding** (``funding``, SPEC 10.2; :mod:`pmo_sim.pmo.funding`): arriving projects are
  proposals, funded at reviews against the budget in the order of a funding rule, or rejected.
  Without it every project is funded on arrival and the budget is only reported
  (``budget_committed`` against ``budget_released``).
- **Risks** (SPEC 10.3; :mod:`pmo_sim.pmo.risks`): the scenario's risk register strikes the
  projects it applies to; ``risk_mitigation`` lowers the chance and the impacts of named risks
  at a cost per applicable project. The register is part of the world, so governance is present
  whenever the scenario has risks (or a budget to report), with or without a policy section.
- **Stage gate.** A project's estimate is the sum of its tasks' central values (the modes of
  three-point estimates). When the effort finished on a project first reaches ``at_progress``
  × estimate, the gate looks at the forecast — the project's current total effort, sampled
  effort plus rework — and cancels the project (``cancel_reason: stage_gate``) if the forecast
  exceeds estimate × ``cancel_if_overrun``. A fixed-``duration`` task counts its days in the
  estimate as in the finished and forecast effort (as in ``effort_planned``; README, "Capacity
  and calendars"). A gate first reached by the project's last task
  finds it completed, and lets it be. A cancelled project starts no more tasks; tasks
  already running finish (no preemption) and earn nothing. When a task's completion both
  triggers a risk and reaches the gate, the risk strikes first and the gate sees its rework.
- **Estimating practice.** ``estimate_spread_reduction`` applies when the projects are built:
  each effort draw moves towards its distribution's centre by that fraction, keeping its rank,
  so common random numbers survive.

The governance function costs ``cost_per_year``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pmo_sim.engine.roles import Accounts, Role, WorldAPI
from pmo_sim.pmo.funding import FundingBoard, release_days
from pmo_sim.pmo.risks import RiskRegister
from pmo_sim.scenario.policy import Governance as GovernanceSpec

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState, TaskState
    from pmo_sim.sampling import ProjectPlan
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO


class Governance(Role):
    """Funding, risks, stage gates and estimating practice; the governance function's cost."""

    section = "governance"

    @classmethod
    def wanted(cls, scenario: Scenario, policy: PMO) -> bool:
        return policy.governance is not None or scenario.budget is not None or bool(scenario.risks)

    def __init__(self, scenario: Scenario, policy: PMO):
        self.scenario = scenario
        self.spec: GovernanceSpec = policy.governance or GovernanceSpec()
        self.gate = self.spec.stage_gate
        self.passed: set[int] = set()  # projects (by index) through the gate
        self.risks = RiskRegister(scenario, self.spec.risk_mitigation) if scenario.risks else None
        self.board = (FundingBoard(scenario, self.spec.funding, self._funded)
                      if self.spec.funding is not None else None)
        idle = set()
        if self.board is None:
            idle.add("on_close")
            if self.risks is None:
                idle.add("on_arrival")
        if self.risks is None:
            idle.add("on_admit")
        if self.gate is None and self.risks is None:
            idle.add("on_task_finish")
        if self.spec.estimate_spread_reduction <= 0:
            idle.add("plan_efforts")
        self.idle_hooks = frozenset(idle)

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        if self.risks is not None:
            self.risks.attach(world)
        if self.board is not None:
            self.board.attach(world, self)

    def plan_efforts(self, plan: ProjectPlan, efforts: np.ndarray) -> np.ndarray:
        central = plan.network.central
        return central + (efforts - central) * (1 - self.spec.estimate_spread_reduction)

    def on_arrival(self, project: ProjectState) -> bool:
        if self.board is not None:
            return self.board.hold(project)
        # Without a funding board every project is funded on arrival (SPEC 10.2), so its
        # mitigations are paid now, whether or not the WIP gate ever admits it; one whose
        # dependency already failed is cancelled on arrival, unfunded, and pays nothing.
        assert self.risks is not None  # idle without a board and without risks
        if not project.dependency_failed(self.world.projects):
            self.risks.charge(project)
        return True

    def _funded(self, project: ProjectState) -> None:
        if self.risks is not None:
            self.risks.charge(project)

    def on_admit(self, project: ProjectState) -> None:
        assert self.risks is not None  # idle without a risk register
        self.risks.follow(project)

    def on_task_finish(self, task: TaskState) -> None:
        """Risks reached by the finished work strike; then the stage gate looks."""
        if self.risks is not None:
            self.risks.task_finished(task)
        proj = task.project
        gate = self.gate
        # A project whose last task just finished is completed (SPEC 4.1): nothing left to stop.
        if gate is None or proj.index in self.passed or proj.closed or proj.unfinished == 0:
            return
        done = sum(t.effort for t in proj.tasks if t.finish is not None)
        if done < gate.at_progress * proj.effort_estimate:
            return
        self.passed.add(proj.index)
        forecast = sum(t.effort for t in proj.tasks)
        if forecast > gate.cancel_if_overrun * proj.effort_estimate:
            self.world.cancel(proj, "stage_gate")

    def on_close(self, project: ProjectState) -> None:
        assert self.board is not None  # idle without a funding board
        self.board.drop(project)

    def report(self, acc: Accounts) -> None:
        acc.flow("pmo_cost", self.spec.cost_per_year)
        sc = self.scenario
        released = sum(amount for _, amount in release_days(sc.budget, sc.days_per_year, self.world.t1))
        acc.count("budget_released", released)
        if self.board is not None:
            self.board.report(acc)
        if self.risks is not None:
            self.risks.report(acc)
