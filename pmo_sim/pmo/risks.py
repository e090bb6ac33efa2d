"""The risk register at work, and governance's mitigation of it (SPEC 10.3).

Risks are part of the world: every (risk, applicable project) pair has pre-drawn numbers in
the Plan — a strike uniform ``u``, the ``when`` fraction and the unmitigated impacts — the
same for every policy. A policy's ``governance.risk_mitigation`` changes what they do:

- **Whether it strikes.** When ``u < probability × (1 − probability_reduction)``; so a mitigated
  risk strikes in a subset of the replications where the unmitigated one does.
- **When.** Once the project's done effort (the effort of its finished tasks, rework included,
  as the stage gate counts it) first reaches ``when`` × its planned effort. This is checked
  when the project is admitted (a risk with ``when: 0`` strikes then) and each time one of its
  tasks finishes; when its last task finishes, every striking risk not yet triggered strikes
  (its work is all done). So a risk strikes at a task boundary, never in the middle of a task,
  and a project cancelled (or never admitted) before its point is spared.
- **What it does.** Its impacts, each × (1 − ``impact_reduction``): a pause of the project's
  work of ``delay`` days (like a change request's disruption: running tasks stand still), rework
  of ``effort`` × the project's remaining effort, and a one-off ``cost``, charged to the project's
  ``cost`` and to the ``risk_cost`` KPI. A strike at the last task's completion has nothing
  left to pause or rework: only its cost remains.
- **Mitigation cost.** ``cost`` per mitigated risk and applicable project, paid once when the
  project is funded (on arrival, without ``governance.funding``: every project is then funded
  as it arrives, even one the WIP gate never admits), strike or not: ``mitigation_cost``.

The ``risks`` table has a row per (risk, applicable project that arrived before the horizon).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pmo_sim.engine.roles import Accounts, payment

if TYPE_CHECKING:
    from pmo_sim.engine.roles import WorldAPI
    from pmo_sim.engine.state import ProjectState, TaskState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import Mitigation


class _Watch:
    """A project's striking risks not yet triggered: (effort threshold, row), by threshold."""

    __slots__ = ("done", "pending", "next")

    def __init__(self, pending: list[tuple[float, int]]):
        self.done = 0.0
        self.pending = pending
        self.next = 0


class RiskRegister:
    """Triggers a world's risks on the projects they apply to and books what they cost."""

    def __init__(self, scenario: Scenario, mitigation: Mapping[str, Mitigation]):
        plans = [mitigation.get(r.name) for r in scenario.risks]
        self.names = [r.name for r in scenario.risks]
        self.mitigated = [m is not None for m in plans]
        self.mitigation_cost = [m.cost if m is not None else 0.0 for m in plans]
        self.strikes_below = [r.probability * (1 - (m.probability_reduction if m is not None else 0.0))
                              for r, m in zip(scenario.risks, plans, strict=True)]
        self.scale = [1 - (m.impact_reduction if m is not None else 0.0) for m in plans]
        self.watches: dict[int, _Watch] = {}
        # (project index, row) -> (day, delay added, effort added, cost) of each strike
        self.struck: dict[tuple[int, int], tuple[float, float, float, float]] = {}
        self.payments: list[tuple[str, float, float]] = []  # (kpi, amount, day)

    def attach(self, world: WorldAPI) -> None:
        self.world = world

    def charge(self, project: ProjectState) -> None:
        """The project is funded (on arrival, without funding): pay its mitigations."""
        now = self.world.env.now
        for r in project.plan.risk_index.tolist():
            if self.mitigated[r] and self.mitigation_cost[r] > 0:
                self.payments.append(("mitigation_cost", self.mitigation_cost[r], now))

    def follow(self, project: ProjectState) -> None:
        """The project was admitted: watch the risks that strike it."""
        plan = project.plan
        planned = project.effort_planned
        pending = sorted((float(plan.risk_when[k]) * planned, k)
                         for k, r in enumerate(plan.risk_index.tolist())
                         if plan.risk_u[k] < self.strikes_below[r])
        if pending:
            watch = self.watches[project.index] = _Watch(pending)
            self._check(project, watch)

    def task_finished(self, task: TaskState) -> None:
        project = task.project
        watch = self.watches.get(project.index)
        if watch is not None:
            watch.done += task.effort
            self._check(project, watch)

    def _check(self, project: ProjectState, watch: _Watch) -> None:
        if project.closed:
            return
        all_done = project.unfinished == 0
        pending = watch.pending
        while watch.next < len(pending) and (all_done or pending[watch.next][0] <= watch.done):
            self._strike(project, pending[watch.next][1])
            watch.next += 1

    def _strike(self, project: ProjectState, k: int) -> None:
        world, plan = self.world, project.plan
        now = world.env.now
        r = int(plan.risk_index[k])
        scale = self.scale[r]
        # At the last task's completion nothing is left to pause: only the cost remains (a
        # pause there held no work, yet was reported as `delay` and counted as value lost).
        delay = float(plan.risk_delay[k]) * scale if project.unfinished else 0.0
        fraction = float(plan.risk_effort[k]) * scale
        cost = float(plan.risk_cost[k]) * scale
        # What apply_change will add, measured the way it measures it (before it acts).
        added = fraction * project.work_left(now) if fraction > 0 else 0.0
        paused = max(0.0, now + delay - max(now, project.paused_until)) if delay > 0 else 0.0
        if fraction > 0 or delay > 0:
            world.apply_change(project, fraction, delay)
        project.cost += cost
        if cost > 0:
            self.payments.append(("risk_cost", cost, now))
        self.struck[(project.index, k)] = (now, paused, added, cost)

    def report(self, acc: Accounts) -> None:
        world = self.world
        for kpi, amount, day in self.payments:
            acc.pay(kpi, *payment(amount, day, world.t0, world.delta))
        events = 0
        for project in world.projects:
            rows = project.plan.risk_index.tolist()
            n = 0
            for k, r in enumerate(rows):
                hit = self.struck.get((project.index, k))
                day, delay, effort, cost = hit if hit is not None else (float("nan"), 0.0, 0.0, 0.0)
                n += hit is not None
                acc.rows("risks", {"risk": self.names[r], "project": project.name,
                                   "occurred": hit is not None, "day": day, "delay": delay,
                                   "effort_added": effort, "cost": cost, "mitigated": self.mitigated[r]})
            if n:
                acc.per_project("risk_events", project.index, n)
                events += n if project.counted else 0
        acc.count("risk_events", events)
