"""The mutable state of one replication: people, pools, tasks and projects.

These are plain slotted objects (no SimPy inside): the :class:`~pmo_sim.engine.world.World`
moves them through their life cycles, the PMO roles read and steer them through the world's
methods, and the records read them at the end.

Times a thing has not reached yet are ``None`` (a task that has not started has
``start is None``); the records turn them into NaN, as SPEC 7.2 asks.

People are individuals. A person's productivity multiplier is
``base × gain × Π ramps(t) × Π pool-wide ramps(t)``: ``base`` is the pool's productivity,
``gain`` the settled product of permanent changes (training), each ramp a linear move of a
multiplier between two days (a new hire's ramp-up, a training's gain coming in), and the
pool-wide ramps apply to everyone in the pool (technology J-curves). A personal ramp that has
ended is folded into ``gain``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pmo_sim.sampling import ProjectPlan

INF = math.inf


class Ramp:
    """A multiplier: ``m0`` before day ``t0``, linear from ``m0`` to ``m1`` over [t0, t1],
    ``m1`` from ``t1`` on."""

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
    """One individual: employment, attrition hazard, productivity, what they are doing."""

    __slots__ = (
        "label", "pool", "pools", "slot", "occupant", "base", "gain", "ramps",
        "task", "last_project", "employed_from", "employed_to", "busy_since",
        "hazard_budget", "hazard_rate", "hazard_used", "hazard_t", "quit_version", "quit_pending",
        "claim", "away_since",
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
        self.busy_since = 0.0  # meaningful while ``task`` is set
        # Attrition: the person leaves when the hazard used reaches the pre-drawn budget.
        self.hazard_budget = hazard_budget
        self.hazard_rate = 0.0
        self.hazard_used = 0.0
        self.hazard_t = employed_from
        self.quit_version = 0
        self.quit_pending = False
        # A role's claim on the person once their task is done (e.g. a training place).
        self.claim: Callable[[Person], None] | None = None
        # Off project work (e.g. in training) since this day; None while at work.
        self.away_since: float | None = None

    @property
    def employed(self) -> bool:
        return self.employed_to == INF

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
    """A pool of people: who is employed, who is free, which tasks wait, time accounts."""

    __slots__ = (
        "index", "name", "day_rate", "productivity", "people", "idle", "ready", "ready_sorted", "tech",
        "busy_days", "away_days", "employed_days", "wait_sum", "wait_n", "tasks_started",
    )

    def __init__(self, index: int, name: str, day_rate: float, productivity: float):
        self.index = index
        self.name = name
        self.day_rate = day_rate
        self.productivity = productivity
        self.people: list[Person] = []  # everyone ever employed in the pool
        self.idle: list[Person] = []  # free to be assigned, longest idle first
        self.ready: list[TaskState] = []  # ready tasks waiting for a crew (the resource manager's queue)
        self.ready_sorted = True  # under a static rule: no task joined since the last sort
        self.tech: list[Ramp] = []  # pool-wide multipliers (technology J-curves)
        self.busy_days = 0.0
        self.away_days = 0.0  # off project work (training) within the window
        self.employed_days = 0.0
        self.wait_sum = 0.0
        self.wait_n = 0
        self.tasks_started = 0


class TaskState:
    """A task of a project: waiting for predecessors, ready, running, finished."""

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
        self.ready_time = 0.0  # meaningful once ready
        self.start: float | None = None
        self.finish: float | None = None
        self.crew: list[Person] = []
        self.rate = 0.0
        self.work_start = 0.0  # start + set-up
        self.pause_mark = 0.0  # the project's pause_total when the task started
        self.pause_honoured = 0.0  # pause time already added to the task's finish
        # Tie-break of every rule: (project arrival, ready time, project index, task index).
        self.fifo_key: tuple[float, float, int, int] = (0.0, 0.0, 0, 0)
        self.rank: tuple[float, ...] = ()  # under a static rule: (rule key, *fifo_key)

    @property
    def started(self) -> bool:
        return self.start is not None

    @property
    def finished(self) -> bool:
        return self.finish is not None

    def remaining(self, now: float) -> float:
        """Effort still to do (running tasks: linear progress, pauses left out)."""
        if self.start is None:
            return self.effort
        if self.finish is not None:
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
        "changes", "cost", "effort_planned", "effort_estimate", "_cp_cache",
    )

    def __init__(self, plan: ProjectPlan, counted: bool):
        self.plan = plan
        self.index: int = plan.index
        self.name: str = plan.name
        self.template: str = plan.template
        self.arrival: float = plan.arrival
        due = plan.due_date
        self.due_date: float = INF if math.isnan(due) else due
        self.priority: float = plan.priority
        self.value_per_day: float = plan.value_per_day
        self.completion_value: float = plan.completion_value
        self.budget: float = plan.budget
        self.counted = counted
        self.tasks: list[TaskState] = []
        self.order: list[int] = list(plan.network.order)  # rework tasks are appended
        self.unfinished = 0
        self.running: list[TaskState] = []
        self.admitted: float | None = None
        self.start: float | None = None
        self.finish: float | None = None
        self.status = "backlog"
        self.paused_until = -INF
        self.pause_total = 0.0
        self.rework = 0.0
        self.changes = 0
        self.cost = 0.0
        self.effort_planned = 0.0
        self.effort_estimate: float = plan.network.estimate
        self._cp_cache: tuple[float, float] = (math.nan, 0.0)

    @property
    def closed(self) -> bool:
        return self.status == "completed" or self.status == "cancelled"

    @property
    def started(self) -> bool:
        return self.start is not None

    def remaining_effort(self, now: float) -> float:
        return sum(t.remaining(now) for t in self.tasks if t.finish is None)

    def remaining_critical_path(self, now: float) -> float:
        """Longest chain of remaining work, in days at the crews' base productivity."""
        if self._cp_cache[0] == now:
            return self._cp_cache[1]
        tasks = self.tasks
        tail = [0.0] * len(tasks)
        best = 0.0
        for i in reversed(self.order):
            t = tasks[i]
            if t.finish is not None:
                continue
            after = max((tail[s] for s in t.succs), default=0.0)
            tail[i] = t.remaining(now) / (t.people * t.pool.productivity) + after
            best = max(best, tail[i])
        self._cp_cache = (now, best)
        return best
