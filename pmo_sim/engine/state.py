"""The mutable state of one replication: people, pools, tasks and projects.

These are plain slotted objects (no SimPy inside): the :class:`~pmo_sim.engine.world.World`
moves them through their life cycles, the PMO roles read and steer them through the world's
methods, and the records read them at the end.

Times a thing has not reached yet are ``None`` (a task that has not started has
``start is None``); the records turn them into NaN, as SPEC 7.2 asks.

People are individuals; so are the units of an equipment pool (a test environment is held by
a task like a person is, but has no productivity, attrition or training). A person's
productivity multiplier is ``base × gain × Π ramps(t) × Π pool-wide ramps(t)``: ``base`` is
the pool's productivity, ``gain`` the settled product of permanent changes (training), each
ramp a linear move of a multiplier between two days (a new hire's ramp-up, a training's gain
coming in), and the pool-wide ramps apply to everyone in the pool (technology J-curves). A
personal ramp that has ended is folded into ``gain``. A part-time person (``fte`` < 1) works
that share of each day on projects: their speed and their project time scale by ``fte``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pmo_sim.engine.paths import PlannedPaths, plan_critical_path
from pmo_sim.sampling import ProjectPlan

if TYPE_CHECKING:
    from pmo_sim.engine.clock import Downtime

INF = math.inf
#: The statuses of a project that closed without completing: its dependents cannot go ahead.
FAILED = ("cancelled", "rejected")

#: What a task is before it runs: (index, name, pool, people, successors, needs, duration?, speed).
TaskShape = tuple[int, str, "PoolState | None", int, tuple[int, ...],
                  tuple[tuple["PoolState", int], ...], bool, float]


class Ramp:
    """A multiplier: ``m0`` before day ``t0``, linear from ``m0`` to ``m1`` over [t0, t1],
    ``m1`` from ``t1`` on."""

    __slots__ = ("t0", "t1", "m0", "m1")

    def __init__(self, t0: float, t1: float, m0: float, m1: float):
        self.t0, self.t1, self.m0, self.m1 = t0, t1, m0, m1

    def at(self, t: float) -> float:
        if t >= self.t1:  # first: a change with no ramp (t0 == t1) has happened on its day
            return self.m1
        if t <= self.t0:
            return self.m0
        return self.m0 + (self.m1 - self.m0) * (t - self.t0) / (self.t1 - self.t0)


class PoolRamp(Ramp):
    """A pool-wide change from day ``t0`` on (a tool adoption): 1 before it, then a ramp."""

    __slots__ = ()

    def at(self, t: float) -> float:
        return 1.0 if t < self.t0 else Ramp.at(self, t)


class Person:
    """One individual (or one equipment unit): employment, attrition, productivity, work."""

    __slots__ = (
        "label", "pool", "pools", "slot", "occupant", "base", "fte", "day_rate", "kind", "gain",
        "speed", "cost_rate", "ramps", "task", "last_project", "employed_from", "employed_to",
        "hazard_budget", "hazard_rate", "hazard_used", "hazard_t", "quit_version", "quit_pending",
        "replace", "claim", "away_since", "idle_version", "handover",
    )

    def __init__(self, label: str, pool: PoolState, slot: int, occupant: int, base: float,
                 employed_from: float, hazard_budget: float):
        self.label = label
        self.pool = pool
        self.pools: list[PoolState] = [pool]  # pools this person can work in
        self.slot = slot
        self.occupant = occupant
        self.base = base
        self.fte = pool.fte  # share of each day on project work
        self.day_rate = pool.day_rate
        self.kind = pool.kind  # "people", "equipment" or "contractor"
        self.gain = 1.0
        self.ramps: list[Ramp] = []
        self.rates_changed()
        # The task the person works on (busy since its start), and the project of the latest
        # task started, which the resource manager keeps where switching projects costs set-up.
        self.task: TaskState | None = None
        self.last_project: ProjectState | None = None
        self.employed_from = employed_from
        self.employed_to = INF
        # Attrition: the person leaves when the hazard used reaches the pre-drawn budget.
        self.hazard_budget = hazard_budget
        self.hazard_rate = 0.0
        self.hazard_used = 0.0
        self.hazard_t = employed_from
        self.quit_version = 0
        self.quit_pending = False
        self.replace = True  # a leaver's slot is filled again after the hiring delay
        # A role's claim on the person once their task is done (e.g. a training place).
        self.claim: Callable[[Person], None] | None = None
        # Off project work (e.g. in training) since this day; None while at work.
        self.away_since: float | None = None
        self.idle_version = 0  # bumped whenever the person starts work (contractor release)
        # Free again after a task, the person needs more than going back to the idle list:
        # leaving, a claim, or several pools (quit_pending, claim, len(pools) > 1).
        self.handover = False

    @property
    def employed(self) -> bool:
        return self.employed_to == INF

    def rates_changed(self) -> None:
        """Take the person's settled speed and day cost again after ``base``, ``gain``, ``fte``
        or ``day_rate`` changed.

        NOTE: kept for the hot path (every task start and finish, per crew member): ``speed``
        is ``base × gain × fte``, the project work per day while no ramp is under way, and
        ``cost_rate`` is ``day_rate × fte``, multiplied in the order the formulas they stand
        for multiply, so the same floats.
        """
        self.speed = self.base * self.gain * self.fte
        self.cost_rate = self.day_rate * self.fte

    def productivity(self, now: float) -> float:
        p = self.base * self.gain
        if self.ramps:
            ended = [r for r in self.ramps if now >= r.t1]
            if ended:
                for r in ended:
                    self.gain *= r.m1
                    self.ramps.remove(r)
                self.rates_changed()
            p = self.base * self.gain
            for r in self.ramps:
                p *= r.at(now)
        for r in self.pool.tech:
            p *= r.at(now)
        return p


class PoolState:
    """A pool: who is employed (or which units exist), who is free, and time accounts."""

    __slots__ = (
        "index", "name", "kind", "day_rate", "productivity", "fte", "speed", "people", "idle",
        "tech", "slots", "busy_days", "away_days", "employed_days", "available_days", "wait_sum",
        "tasks_started",
    )

    def __init__(self, index: int, name: str, day_rate: float, productivity: float,
                 kind: str = "people", fte: float = 1.0, slots: int = 0):
        self.index = index
        self.name = name
        self.kind = kind  # "people" or "equipment"
        self.day_rate = day_rate
        self.productivity = productivity
        self.fte = fte
        self.speed = productivity * fte  # one person's nominal speed (equipment: 0)
        self.people: list[Person] = []  # everyone (every unit) ever in the pool
        self.idle: list[Person] = []  # free to be assigned, longest idle first
        self.tech: list[Ramp] = []  # pool-wide multipliers (technology J-curves)
        self.slots = slots  # slots in use: the next hire takes slot ``slots``
        self.busy_days = 0.0  # person-days (unit-days) held by tasks, x fte, in the window
        self.away_days = 0.0  # off project work (training) within the window
        self.employed_days = 0.0
        self.available_days = 0.0  # employed days x fte: time for project work
        self.wait_sum = 0.0  # days waited by the tasks started in the window
        self.tasks_started = 0  # in the window (their mean wait: wait_sum / tasks_started)


class TaskState:
    """A task of a project: waiting for predecessors, ready, running, finished."""

    __slots__ = (
        "project", "index", "name", "pool", "effort", "people", "needs", "is_duration", "speed",
        "succs", "npred", "ready_time", "start", "finish", "crew", "rate", "work_start",
        "pause_mark", "pause_honoured", "fifo_key", "rank", "latest_start", "latest_finish",
        "queued", "kind",
    )

    def __init__(self, project: ProjectState, effort: float, shape: TaskShape, npred: int):
        self.project = project
        self.effort = effort  # person-days, or days for a fixed-duration task
        # index, name, skill (first people pool; None if it needs no people), crew size, the
        # successors' indices, everything held while it runs (people and equipment: (pool,
        # units)), fixed duration or not, and the crew's nominal speed (person-days per day;
        # 1 for a duration) for critical paths.
        (self.index, self.name, self.pool, self.people, self.succs, self.needs, self.is_duration,
         self.speed) = shape
        self.npred = npred
        self.ready_time = 0.0  # meaningful once ready
        self.start: float | None = None
        self.finish: float | None = None
        self.crew: Sequence[Person] = ()  # (a list once started; no list made per task before)
        self.pause_honoured = 0.0  # pause time already added to the task's finish
        self.queued = False  # in the allocator's ready queues
        # NOTE: set when they first mean something, not here (a project's tasks are built at
        # its admission, hot path): once ready, ``fifo_key`` — the tie-break of every rule,
        # (project arrival, ready time, project index, task index) —, under a static rule
        # ``rank`` — (rule key, *fifo_key) —, under a task-level rule ``latest_start`` and
        # ``latest_finish`` (CPM, absolute); once started, ``rate`` (the crew's speed),
        # ``work_start`` (start + set-up) and ``pause_mark`` (the project's pause_total then);
        # in a queue of kinds of needs (pmo.dynamic_needs), ``kind``: the number of its needs.
        self.fifo_key: tuple[float, float, int, int]
        self.rank: tuple[float, ...]
        self.latest_start: float
        self.latest_finish: float
        self.rate: float
        self.work_start: float
        self.pause_mark: float
        self.kind: int

    @property
    def started(self) -> bool:
        return self.start is not None

    @property
    def finished(self) -> bool:
        return self.finish is not None

    def remaining(self, now: float) -> float:
        """Work still to do: effort (or days, for a fixed duration) less linear progress."""
        if self.start is None:
            return self.effort
        if self.finish is not None:
            return 0.0
        proj = self.project
        down = proj.down
        if down is not None:
            worked = proj.worked_in_calendar(self, now)
        else:
            # Only the part of the pauses since the start that has already elapsed held work up.
            paused = (proj.pause_total - self.pause_mark) - max(0.0, proj.paused_until - now)
            worked = max(0.0, now - self.work_start - paused)
        return max(0.0, self.effort - (worked if self.is_duration else self.rate * worked))


class ProjectState:
    """A project as it moves through backlog → admitted → started → completed/cancelled."""

    __slots__ = (
        "plan", "index", "name", "template", "arrival", "due_date", "priority", "value_per_day",
        "completion_value", "budget", "counted", "efforts", "tasks", "order", "unfinished", "running",
        "admitted", "start", "finish", "status", "closed", "cancel_reason", "funded", "paused_until",
        "pause_total", "rework", "changes", "cost", "effort_planned", "effort_estimate",
        "pending_effort", "ready_tasks", "_tails", "_after", "_plan_cp", "paths", "down",
    )

    def __init__(self, plan: ProjectPlan, counted: bool, efforts: list[float]):
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
        self.efforts = efforts  # per task, file order (estimating practice applied)
        self.tasks: list[TaskState] = []  # built when the project is admitted
        self.order: list[int] = list(plan.network.order)  # rework tasks are appended
        self.unfinished = len(efforts)
        self.running: list[TaskState] = []
        self.admitted: float | None = None
        self.start: float | None = None
        self.finish: float | None = None
        self.status = "backlog"
        self.closed = False  # completed, cancelled or rejected (kept with ``status`` by the world)
        self.cancel_reason = ""
        self.funded: float | None = None
        self.paused_until = -INF
        self.pause_total = 0.0
        self.rework = 0.0
        self.changes = 0
        self.cost = 0.0
        self.effort_planned = sum(efforts)
        self.effort_estimate: float = plan.network.estimate
        self.pending_effort = self.effort_planned  # work of the tasks not yet started
        self.ready_tasks: list[TaskState] = []  # ready and not started (the frontier, with running)
        self._tails: list[float] | None = None  # per unstarted task: longest chain from it, in days
        self._after: list[float] = []  # per task: longest chain after it, in days
        self._plan_cp: float | None = None  # before admission: the plan's critical path
        self.paths: PlannedPaths | None = None  # the world's batch of planned critical paths
        # The calendar's down-time (None: none). With it, ``pause_total`` counts the working
        # time pauses took (a pause's days inside a closure are the closure's, not lost twice).
        self.down: Downtime | None = None

    @property
    def started(self) -> bool:
        return self.start is not None

    def dependency_failed(self, projects: Sequence[ProjectState]) -> bool:
        """Whether a project this one depends on was cancelled or rejected: it can never go
        ahead (the dependency rules cancel it), so it is neither funded nor held."""
        return any(projects[d].status in FAILED for d in self.plan.depends_on)

    def worked_in_calendar(self, t: TaskState, now: float) -> float:
        """Days the running task ``t`` has worked by ``now``, with calendar down-time: the working
        time since its work started, less the pauses' working time that has elapsed."""
        down = self.down
        assert down is not None
        held = down.open_between(now, self.paused_until) if self.paused_until > now else 0.0
        since = down.open_between(t.work_start, now) if now > t.work_start else 0.0
        return max(0.0, since - ((self.pause_total - t.pause_mark) - held))

    def remaining_effort(self, now: float) -> float:
        """Work not done yet: the tasks not started, and what is left of the running ones.

        Kept as running sums (O(running tasks)), for the allocation rules that rank by it at
        every dispatch; :meth:`work_left` adds what is left task by task, but only of the
        tasks done by people (a fixed-``duration`` task's days are no effort to redo).
        """
        running = self.running
        if not running:
            return self.pending_effort
        if self.down is not None:  # with a calendar: left to right, as task by task
            left_in_calendar = 0.0
            for r in self._left_in_calendar(now):
                left_in_calendar += r
            return self.pending_effort + left_in_calendar
        # NOTE: TaskState.remaining inlined for a running task (started, not finished), with
        # the same operations in the same order, so the same number: a live project is keyed
        # by this at every allocation. ``x if x > 0.0 else 0.0`` is ``max(0.0, x)``.
        # tests/test_live_keys.py holds both copies equal to the method.
        held = self.paused_until - now
        held = held if held > 0.0 else 0.0
        total = self.pause_total
        left = 0.0
        for t in running:
            worked = now - t.work_start - ((total - t.pause_mark) - held)
            worked = worked if worked > 0.0 else 0.0
            r = t.effort - (worked if t.is_duration else t.rate * worked)
            left += r if r > 0.0 else 0.0
        return self.pending_effort + left

    def _left_in_calendar(self, now: float) -> list[float]:
        """Per running task, what is left (``TaskState.remaining``) with calendar down-time.

        NOTE: ``worked_in_calendar`` and ``TaskState.remaining`` inlined for a running task,
        with the same operations in the same order, so the same numbers (what the pauses held
        and the down-time before ``now`` taken once for all the project's running tasks, not
        once per task: ``open_between`` written out); tests/test_live_keys.py holds
        the keys computed from it equal to the methods'.
        """
        down = self.down
        assert down is not None
        held = down.open_between(now, self.paused_until) if self.paused_until > now else 0.0
        down_now = down.down_until(now)
        total = self.pause_total
        lefts = []
        for t in self.running:
            work_start = t.work_start
            since = (now - work_start) - (down_now - down.down_until(work_start)) if now > work_start else 0.0
            worked = since - ((total - t.pause_mark) - held)
            worked = worked if worked > 0.0 else 0.0
            r = t.effort - (worked if t.is_duration else t.rate * worked)
            lefts.append(r if r > 0.0 else 0.0)
        return lefts

    def work_left(self, now: float) -> float:
        """The remaining effort summed task by task, in file order: what rework is a share of.

        Person-days only: a fixed-``duration`` task (a vendor's delivery) has no effort to
        redo, so its days are not part of it."""
        if not self.tasks:
            return self.pending_effort
        # (a task not started has its effort left: no call, the same terms in the same order)
        return sum([t.effort if t.start is None else t.remaining(now) for t in self.tasks
                    if t.finish is None and not t.is_duration])

    def remaining_critical_path(self, now: float) -> float:
        """Longest chain of remaining work, in days at the crews' nominal speed.

        The longest chain starts at a task of the frontier (running, or ready), since a task's
        chain is never shorter than its successor's; the chains from tasks not started
        (``_tails``) change only when efforts do (rework, ideas), so only the frontier is
        looked at: O(frontier), not O(tasks).
        """
        if self.tasks:
            tails = self._tails if self._tails is not None else self._chains()
            after = self._after
            best = 0.0
            if self.running and self.down is not None:
                # NOTE: _left_in_calendar inlined (the same operations in the same order, so the
                # same numbers; no list per key: min_slack keys a live project by this at most
                # allocations of a portfolio with a calendar); tests/test_live_keys.py.
                down = self.down
                held = down.open_between(now, self.paused_until) if self.paused_until > now else 0.0
                down_now = down.down_until(now)
                total = self.pause_total
                for t in self.running:
                    ws = t.work_start
                    since = (now - ws) - (down_now - down.down_until(ws)) if now > ws else 0.0
                    worked = since - ((total - t.pause_mark) - held)
                    worked = worked if worked > 0.0 else 0.0
                    r = t.effort - (worked if t.is_duration else t.rate * worked)
                    x = (r if r > 0.0 else 0.0) / t.speed + after[t.index]
                    if x > best:
                        best = x
            elif self.running:
                # NOTE: TaskState.remaining inlined, as in remaining_effort.
                held = self.paused_until - now
                held = held if held > 0.0 else 0.0
                total = self.pause_total
                for t in self.running:
                    worked = now - t.work_start - ((total - t.pause_mark) - held)
                    worked = worked if worked > 0.0 else 0.0
                    r = t.effort - (worked if t.is_duration else t.rate * worked)
                    x = (r if r > 0.0 else 0.0) / t.speed + after[t.index]
                    if x > best:
                        best = x
            for t in self.ready_tasks:
                x = tails[t.index]
                if x > best:
                    best = x
            return best
        if self._plan_cp is None:  # not admitted yet: the plan's network at its efforts
            if self.paths is not None:
                return self.paths.of(self)
            self._plan_cp = plan_critical_path(self)
        return self._plan_cp

    def _chains(self) -> list[float]:
        """Per task not started: its effort in days plus the longest chain after it (``_tails``);
        per task not finished, the longest chain after it (``_after``: for a running task, its
        successors' chains, none of which has started). A finished task's are 0 and never read
        (its predecessors are finished too): it is passed over, so that rework or an idea late
        in a long project re-walks what is left of it, not all of it."""
        tasks = self.tasks
        tails = [0.0] * len(tasks)
        after = [0.0] * len(tasks)
        tail_of = tails.__getitem__
        for i in reversed(self.order):
            t = tasks[i]
            if t.finish is not None:
                continue
            # the longest chain after it: a chain is never negative, so the max of its
            # successors' (a fan's root has dozens: max over map, not a loop) or none
            succs = t.succs
            longest = tails[succs[0]] if len(succs) == 1 else max(map(tail_of, succs)) if succs else 0.0
            after[i] = longest
            if t.start is None:
                tails[i] = t.effort / t.speed + longest
        self._tails, self._after = tails, after
        return tails

    def efforts_changed(self) -> None:
        """Rework or an idea changed efforts: the chains are recomputed when next needed."""
        self._tails = None
        self._plan_cp = None
