"""The mutable state of one replication: people, pools, tasks and projects.

These are plain slotted objects (no SimPy inside): the :class:`~pmo_sim.engine.world.World`
moves them through their life cycles and the KPI code reads them at the end.

People are individuals. A person's productivity multiplier is
``base × gain × Π ramps(t)``: ``base`` is the pool's productivity, ``gain`` the settled product
of permanent changes (training, technology), and each ramp a linear move of a multiplier
between two days (a new hire's ramp-up, a training's gain coming in, a technology J-curve
dip). A ramp that has ended is folded into ``gain``.
"""

from __future__ import annotations

import math
from typing import Any

INF = math.inf
NAN = math.nan


class Ramp:
    """A multiplier moving linearly from ``m0`` at day ``t0`` to ``m1`` at day ``t1``."""

    __slots__ = ("t0", "t1", "m0", "m1")

    def __init__(self, t0: float, t1: float, m0: float, m1: float):
        self.t0, self.t1, self.m0, self.m1 = t0, t1, m0, m1

    def at(self, t: float) -> float:
        if t <= self.t0:
            return self.m0
        if t >= self.t1:
            return self.m1
        return self.m0 + (self.m1 - self.m0) * (t - self.t0) / (self.t1 - self.t0)


class Person:
    __slots__ = (
        "label", "pool", "pools", "slot", "occupant", "base", "gain", "ramps",
        "task", "last_project", "employed_from", "employed_to", "busy_since",
        "hazard_budget", "hazard_rate", "hazard_used", "hazard_t", "quit_version", "quit_pending",
        "training", "training_since", "trained",
    )

    def __init__(self, label: str, pool: PoolState, slot: int, occupant: int, base: float,
                 employed_from: float, hazard_budget: float):
        self.label = label
        self.pool = pool
        self.pools: list[PoolState] = [pool]  # pools this person can work in
        self.slot = slot
        self.occupant = occupant
        self.base = base
        self.gain = 1.0
        self.ramps: list[Ramp] = []
        self.task: TaskState | None = None
        self.last_project: ProjectState | None = None
        self.employed_from = employed_from
        self.employed_to = INF
        self.busy_since = NAN
        # Attrition: the person leaves when the hazard used reaches the pre-drawn budget.
        self.hazard_budget = hazard_budget
        self.hazard_rate = 0.0
        self.hazard_used = 0.0
        self.hazard_t = employed_from
        self.quit_version = 0
        self.quit_pending = False
        # Training: the programme waiting for this person to finish their task, or running.
        self.training: Any = None
        self.training_since = NAN
        self.trained: set[str] = set()

    def productivity(self, now: float) -> float:
        p = self.base * self.gain
        if self.ramps:
            for r in [r for r in self.ramps if now >= r.t1]:
                self.gain *= r.m1
                self.ramps.remove(r)
            p = self.base * self.gain
            for r in self.ramps:
                p *= r.at(now)
        for r in self.pool.tech:
            p *= r.at(now)
        return p


class PoolState:
    __slots__ = (
        "index", "name", "day_rate", "productivity", "people", "idle", "ready", "ready_sorted", "tech",
        "busy_days", "training_days", "employed_days", "wait_sum", "wait_n", "tasks_started",
        "review_wait_sum", "review_wait_n",
    )

    def __init__(self, index: int, name: str, day_rate: float, productivity: float):
        self.index = index
        self.name = name
        self.day_rate = day_rate
        self.productivity = productivity
        self.people: list[Person] = []  # everyone ever employed in the pool
        self.idle: list[Person] = []  # free to be assigned, longest idle first
        self.ready: list[TaskState] = []  # ready tasks waiting for a crew
        self.ready_sorted = True  # under a static rule: no task joined since the last sort
        self.tech: list[Ramp] = []  # technology J-curves, applying to everyone in the pool
        self.busy_days = 0.0
        self.training_days = 0.0
        self.employed_days = 0.0
        self.wait_sum = 0.0
        self.wait_n = 0
        self.tasks_started = 0
        self.review_wait_sum = 0.0  # waits since the training manager's last review
        self.review_wait_n = 0


class TaskState:
    __slots__ = (
        "project", "index", "name", "pool", "effort", "people", "succs", "npred", "ready_time",
        "start", "finish", "crew", "rate", "work_start", "pause_mark", "pause_honoured", "fifo_key", "rank",
    )

    def __init__(self, project: ProjectState, index: int, name: str, pool: PoolState,
                 effort: float, people: int, succs: tuple[int, ...], npred: int):
        self.project = project
        self.index = index
        self.name = name
        self.pool = pool
        self.effort = effort
        self.people = people
        self.succs = succs
        self.npred = npred
        self.ready_time = NAN
        self.start = NAN
        self.finish = NAN
        self.crew: list[Person] = []
        self.rate = 0.0
        self.work_start = NAN
        self.pause_mark = 0.0  # the project's pause_total when the task started
        self.pause_honoured = 0.0  # pause time already added to the task's finish
        # Tie-break of every rule: (project arrival, ready time, project index, task index).
        self.fifo_key: tuple[float, float, int, int] = (0.0, 0.0, 0, 0)
        self.rank: tuple[float, ...] = ()  # under a static rule: (rule key, *fifo_key)

    def remaining(self, now: float) -> float:
        """Effort still to do (running tasks: linear progress, pauses left out)."""
        if self.start != self.start:
            return self.effort
        if self.finish == self.finish:
            return 0.0
        proj = self.project
        # Only the part of the pauses since the start that has already elapsed held work up.
        paused = (proj.pause_total - self.pause_mark) - max(0.0, proj.paused_until - now)
        done = self.rate * max(0.0, now - self.work_start - paused)
        return max(0.0, self.effort - done)


class ProjectState:
    """A project as it moves through backlog → admitted → started → completed/cancelled."""

    __slots__ = (
        "plan", "index", "name", "template", "arrival", "due_date", "priority", "value_per_day",
        "completion_value", "budget", "counted", "tasks", "order", "unfinished", "running",
        "admitted", "start", "finish", "status", "paused_until", "pause_total", "rework",
        "changes", "cost", "effort_planned", "effort_estimate", "gate_passed", "_cp_cache",
    )

    def __init__(self, plan: Any, counted: bool):
        self.plan = plan
        self.index: int = plan.index
        self.name: str = plan.name
        self.template: str = plan.template
        self.arrival: float = plan.arrival
        due = plan.due_date
        self.due_date: float = INF if due != due else due
        self.priority: float = plan.priority
        self.value_per_day: float = plan.value_per_day
        self.completion_value: float = plan.completion_value
        self.budget: float = plan.budget
        self.counted = counted
        self.tasks: list[TaskState] = []
        self.order: list[int] = list(plan.network.order)  # rework tasks are appended
        self.unfinished = 0
        self.running: list[TaskState] = []
        self.admitted = NAN
        self.start = NAN
        self.finish = NAN
        self.status = "backlog"
        self.paused_until = -INF
        self.pause_total = 0.0
        self.rework = 0.0
        self.changes = 0
        self.cost = 0.0
        self.effort_planned = 0.0
        self.effort_estimate: float = plan.network.estimate
        self.gate_passed = False
        self._cp_cache: tuple[float, float] = (NAN, 0.0)

    @property
    def closed(self) -> bool:
        return self.status == "completed" or self.status == "cancelled"

    def remaining_effort(self, now: float) -> float:
        return sum(t.remaining(now) for t in self.tasks if t.finish != t.finish)

    def remaining_critical_path(self, now: float) -> float:
        """Longest chain of remaining work, in days at the crews' base productivity."""
        if self._cp_cache[0] == now:
            return self._cp_cache[1]
        tasks = self.tasks
        tail = [0.0] * len(tasks)
        best = 0.0
        for i in reversed(self.order):
            t = tasks[i]
            if t.finish == t.finish:
                continue
            after = max((tail[s] for s in t.succs), default=0.0)
            tail[i] = t.remaining(now) / (t.people * t.pool.productivity) + after
            best = max(best, tail[i])
        self._cp_cache = (now, best)
        return best
