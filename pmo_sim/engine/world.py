"""One replication of the portfolio under one policy: the SimPy world.

The story the engine tells: projects arrive (from the Plan), pass the roles that may hold them
(funding, dependencies), and join the allocator's backlog until its WIP gate admits them;
then they release their tasks as precedence allows. A ready task waits until the allocator
gives it what it needs at once — a crew of people, equipment units, or both — and holds them
until it finishes, which takes ``setup + effort / (sum of the crew's productivity × fte)`` days
(or its fixed ``duration``) plus any pauses (disruptions) that hit its project meanwhile and
any down-time of the calendar (holidays, closures), during which nothing progresses or starts.
Rework is added to what is left and pauses stop a project's work. People leave, and are
replaced; staffing plans and contractors change capacity (:mod:`pmo_sim.engine.workforce`).
What a change request does to a project's work is in :mod:`pmo_sim.engine.rework`.

The engine owns time, people, pools and the task life cycle. What the PMO decides comes from
the roles (:mod:`pmo_sim.engine.roles` states the contract): the engine calls their hooks and
offers them the methods of :class:`~pmo_sim.engine.roles.WorldAPI`; it names none of them.

**Simultaneous completions.** By default each completion allocates what it frees at once, in
the order the clock processes completions that fall at the same instant. With the resource
manager's ``batch_simultaneous``, allocation waits for the last completion and arrival of an
instant, so the work they release is ranked together (the parallel schedule-generation scheme
of the scheduling literature; imported PSPLIB/MPSPLIB instances use it).

Speed is designed in: a task's completion is one entry of the clock's queue, the task itself
(:class:`~pmo_sim.engine.clock.Clock`: no process, no AllOf, not even an event), a task's ready
state is a predecessor counter, task objects are built only when a project is admitted, hooks
are called only on roles that override them, the allocator looks only at the pools an event
touched, and every random number was drawn up front into the Plan."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from functools import partial
from heapq import heappush
from typing import Any

import numpy as np
import simpy
from simpy.core import NORMAL

from pmo_sim.engine.clock import Clock, Downtime, run_until
from pmo_sim.engine.paths import PlannedPaths
from pmo_sim.engine.records import ReplicationRecords, RunawayReplication, build_records
from pmo_sim.engine.rework import Rework
from pmo_sim.engine.roles import Allocator, Role, overrides, subscribers
from pmo_sim.engine.state import Person, PoolState, ProjectState, TaskShape, TaskState
from pmo_sim.engine.workforce import Workforce
from pmo_sim.sampling import Plan, ProjectPlan
from pmo_sim.scenario.calendar import downtime
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.policy import PMO

#: Slices of the horizon after which a capped replication counts its events.
CAP_SLICES = 8


class World(Workforce, Rework):
    """The state and event handlers of one (policy, replication)."""

    # NOTE: slots, not an instance dict (hot path). A world has more attributes than CPython
    # 3.11 keeps in a dict shared by a class's instances (30), so each world's dict would be
    # its own, and the interpreter could not specialise a call of a world's method for more
    # than one world: every ``self.method()``, every replication, was looked up the generic
    # way. A slot is read at a fixed offset. (A role keeps its own state, not the world's.)
    __slots__ = (
        "scenario", "policy_name", "policy", "plan", "trace", "event_cap", "_uncounted", "env",
        "t0", "t1", "delta", "work_share", "roles", "allocator", "_arrival_roles",
        "_plan_efforts", "_on_admit", "_on_task_start", "_on_task_finish", "_on_close", "wip",
        "in_system", "area_wip", "area_system", "level_t", "rework_total",
        "pools", "pool_by_name", "attrition", "_shapes", "one_pool", "touched", "touched_pools",
        "projects", "down", "closed", "batch", "_finishing", "_arriving", "_plain_start",
        "_task_ready", "_allocate",
    )

    def __init__(self, scenario: Scenario, policy_name: str, plan: Plan, roles: Sequence[Role],
                 trace: bool = False, event_cap: int | None = None):
        self.scenario = scenario
        self.policy_name = policy_name
        self.policy: PMO = scenario.policies[policy_name]
        self.plan = plan
        self.trace = trace
        self.event_cap = event_cap  # a runaway replication is stopped past this many events
        self._uncounted = 0  # scheduled events that are not the model's (see processed_events)
        self.env = Clock()
        self.t0, self.t1 = scenario.warmup, scenario.horizon
        self.delta = math.log1p(scenario.discount_rate) / scenario.days_per_year
        self.work_share = 1.0
        self._attach_roles(roles)

        # Levels and their time-integrals over [warmup, horizon] (avg_wip, avg_in_system).
        self.wip = 0
        self.in_system = 0
        self.area_wip = 0.0
        self.area_system = 0.0
        self.level_t = 0.0
        # Counters of what happened (counted projects / within the window).
        self.rework_total = 0.0
        self.leavers = 0
        self.hires = 0

        self.pools = [PoolState(i, name, p.day_rate, p.productivity if p.kind == "people" else 0.0,
                                p.kind, p.fte if p.kind == "people" else 1.0, p.capacity)
                      for i, (name, p) in enumerate(scenario.resources.items())]
        self.pool_by_name = {pool.name: pool for pool in self.pools}
        wf = scenario.workforce
        self.attrition = (wf.attrition_per_year / scenario.days_per_year) if wf else 0.0
        for pool in self.pools:
            for slot in range(pool.slots):
                self._employ(pool, slot, 0, ramp=False)

        self._shapes: dict[int, list[TaskShape]] = {}
        # Every task holds one pool, its ``pool`` (the usual case): what a start and a finish
        # account per pool held goes to that pool, without a loop over ``needs`` (hot path).
        self.one_pool = all(p.network.single for p in plan.projects)
        self.touched: list[bool] = [False] * len(self.pools)  # pools to look at when allocating
        self.touched_pools: list[int] = []
        self.projects = [self._project_state(p) for p in plan.projects]
        paths = PlannedPaths(self.projects)
        intervals = downtime(scenario)
        self.down = Downtime(intervals) if intervals else None
        for project in self.projects:
            project.paths, project.down = paths, self.down
        self.closed = False  # in calendar down-time: nothing starts
        self.batch = bool(getattr(self.allocator, "batch_simultaneous", False))  # completions per instant:
        self._finishing: dict[float, int] = {}  # the last one allocates (unless projects arrive then)
        self._arriving = math.inf  # next arrivals' instant, summed as their timeout is (_arrivals)
        # A task's completion is the clock's direct entry of the task itself (Clock: no event).
        self.env.direct_class, self.env.direct_handler = TaskState, (
            self._finish_batched if self.batch else self._finish)
        if self.down is not None and self.down.inside(0.0):
            self.closed = True
        self.env.process(self._arrivals())
        for a, b in intervals:
            self.env.timeout(a).callbacks.append(partial(self._close_down, b))
        # A start needs no more than its completion scheduled: no calendar, no batching, no
        # role told of it (start_task's common case, one test instead of three).
        self._plain_start = self.down is None and not self.batch and not self._on_task_start
        self._bind_allocator()
        for role in self.roles:
            role.attach(self)
            if role is self.allocator:
                self._bind_allocator()

    def _bind_allocator(self) -> None:
        """Read the allocator's ``task_ready`` and ``dispatch`` (again once it is attached: it may
        bind forms of its own in their place).

        NOTE: called through these attributes (hot path): an instance attribute that shadows a
        method, as a form bound at attach does, is looked up the slow, generic way at each
        call (CPython 3.11 does not specialise it). For the same reason they are read into a
        local, then called (``allocate = self._allocate; allocate()``): ``self._allocate()`` is
        a method lookup, which 3.11 does not specialise for an instance attribute either.
        """
        self._task_ready = self.allocator.task_ready
        self._allocate = self.allocator.dispatch

    def _attach_roles(self, roles: Sequence[Role]) -> None:
        self.roles = list(roles)
        allocators = [r for r in self.roles if isinstance(r, Allocator)]
        if len(allocators) != 1:
            raise ValueError(f"a world needs exactly one allocating role (got {len(allocators)})")
        self.allocator: Allocator = allocators[0]
        self._arrival_roles = [r for r in self.roles if overrides(r, "on_arrival")]
        self._plan_efforts = subscribers(self.roles, "plan_efforts")
        self._on_admit = subscribers(self.roles, "on_admit")
        self._on_task_start = subscribers(self.roles, "on_task_start")
        self._on_task_finish = subscribers(self.roles, "on_task_finish")
        self._on_close = subscribers(self.roles, "on_close")

    # ------------------------------------------------------------------ set-up

    def _project_state(self, plan: ProjectPlan) -> ProjectState:
        efforts: np.ndarray = plan.efforts
        for hook in self._plan_efforts:
            efforts = hook(plan, efforts)  # type: ignore[assignment]
        return ProjectState(plan, plan.arrival >= self.t0, efforts.tolist())

    def _build_tasks(self, proj: ProjectState) -> None:
        """The project's task states, built when it is admitted (most of a long backlog never is)."""
        net = proj.plan.network
        shapes = self._shapes.get(id(net))
        if shapes is None:  # per network: what each task is in this world (see TaskShape)
            pools = self.pools
            shapes = self._shapes[id(net)] = [
                (i, net.names[i], pools[k] if k >= 0 else None, net.people[i], net.succs[i],
                 tuple((pools[p], u) for p, u in net.needs[i]), net.is_duration[i],
                 net.chain_speeds[i])
                for i, k in enumerate(net.pools)]
        proj.tasks = [TaskState(proj, e, shape, n)
                      for e, shape, n in zip(proj.efforts, shapes, net.npreds, strict=True)]

    # ------------------------------------------------------------------ levels

    def level_change(self) -> None:
        """Bring the time-integrals of WIP and projects in system up to now."""
        now = self.env._now  # NOTE: SimPy's ``now`` property, read without the call
        a = min(max(self.level_t, self.t0), self.t1)
        b = min(max(now, self.t0), self.t1)
        if b > a:
            self.area_wip += self.wip * (b - a)
            self.area_system += self.in_system * (b - a)
        self.level_t = now

    # ------------------------------------------------------------------ allocation requests

    def request_dispatch(self) -> None:
        """Allocate now, or, if more task completions are due at this instant, after the last."""
        if self.batch and self._finishing.get(self.env.now):
            return  # the last completion of this instant will allocate
        allocate = self._allocate
        allocate()

    def dispatch(self) -> None:
        self.request_dispatch()

    def _close_down(self, until: float, _event: simpy.Event) -> None:
        """Calendar down-time begins: nothing starts until ``until``."""
        self.closed = True
        self.env.timeout(until - self.env.now).callbacks.append(self._open_up)

    def _open_up(self, _event: simpy.Event) -> None:
        if self.down is not None and self.down.inside(self.env.now):
            return  # a later interval (touching this one) keeps it closed
        self.closed = False
        for pool in self.pools:
            self.touch(pool)
        self.request_dispatch()

    # ------------------------------------------------------------------ projects

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        projects = self.projects  # sorted by arrival in the Plan
        i = 0
        while i < len(projects):
            if projects[i].arrival > env.now:
                yield env.timeout(projects[i].arrival - env.now)
            # Everything arriving at this instant joins the backlog together, so that the
            # allocation rule (not file order) decides who is admitted and served first.
            self.level_change()
            arrived = []
            while i < len(projects) and projects[i].arrival <= env.now:
                self.in_system += 1
                arrived.append(projects[i])
                i += 1
            self._arriving = env.now + (projects[i].arrival - env.now) if i < len(projects) else math.inf
            self.allocator.enqueue([p for p in arrived if self._passes(p, self._arrival_roles)])
            self.request_dispatch()

    def _passes(self, proj: ProjectState, roles: Sequence[Role]) -> bool:
        """Ask the roles in order whether the arriving project goes on; the first that holds wins."""
        return all(role.on_arrival(proj) for role in roles)

    def pass_on(self, projects: Sequence[ProjectState], holder: Role) -> None:
        later = self._arrival_roles[self._arrival_roles.index(holder) + 1:]
        if going := [p for p in projects if self._passes(p, later)]:  # together, as arrivals are
            self.allocator.enqueue(going)
            self.request_dispatch()

    def admit(self, project: ProjectState) -> None:
        self.level_change()
        self.wip += 1
        project.admitted = self.env._now
        project.status = "open"
        self._build_tasks(project)
        for i in project.order:
            task = project.tasks[i]
            if task.npred == 0:
                self.make_ready(task)
        for hook in self._on_admit:
            hook(project)

    def cancel(self, project: ProjectState, reason: str = "") -> None:
        """Stop a project wherever it is: it starts nothing more and earns nothing."""
        if project.closed:
            return
        project.cancel_reason = reason
        self.allocator.withdraw(project)
        self._close(project, "cancelled")

    def reject(self, project: ProjectState) -> None:
        """A proposal that will not be funded leaves the portfolio."""
        if not project.closed:
            self._close(project, "rejected")

    def _close(self, proj: ProjectState, status: str) -> None:
        self.level_change()
        if proj.admitted is not None:
            self.wip -= 1
        self.in_system -= 1
        proj.status = status
        proj.closed = True
        proj.finish = self.env.now
        for hook in self._on_close:
            hook(proj)
        self.allocator.project_closed()

    def resume(self, project: ProjectState) -> None:
        """A project's pause ended: its waiting tasks may start."""
        self.allocator.project_resumed(project)
        self.request_dispatch()

    # ------------------------------------------------------------------ tasks

    def make_ready(self, task: TaskState) -> None:
        task.ready_time = self.env.now
        task.project.ready_tasks.append(task)
        task_ready = self._task_ready
        task_ready(task)

    def start_task(self, task: TaskState, crew: list[Person], setup: float) -> None:
        env = self.env
        now = env._now  # NOTE: SimPy's ``now`` property, read without the call (hot path)
        proj = task.project
        rate = 0.0
        for person in crew:
            person.task = task
            # NOTE: inlined for speed: with no ramp or J-curve under way the multiplier is
            # settled, and ``speed`` is productivity × fte (Person.rates_changed).
            rate += (person.productivity(now) * person.fte if person.ramps or person.pool.tech
                     else person.speed)
        rate *= self.work_share
        task.crew, task.rate, task.start = crew, rate, now
        task.work_start = now + setup if self.down is None or not setup else self.down.advance(now, setup)
        task.pause_mark = proj.pause_total
        if now >= self.t0:
            wait = now - task.ready_time
            if self.one_pool:
                pool = task.pool
                pool.tasks_started += 1  # type: ignore[union-attr]  # (one_pool: a pool)
                pool.wait_sum += wait  # type: ignore[union-attr]
            else:
                for pool, _ in task.needs:
                    pool.tasks_started += 1  # (the waits summed: the mean wait's count)
                    pool.wait_sum += wait
        if proj.start is None:
            proj.start = now
        proj.pending_effort -= task.effort
        proj.ready_tasks.remove(task)
        proj.running.append(task)
        delay = setup + (task.effort if task.is_duration else task.effort / rate)
        if self._plain_start:  # NOTE: Clock.schedule_direct inlined for speed (hot path)
            heappush(env._queue, (now + delay, NORMAL, next(env._eid), task))  # type: ignore[misc]
            return
        if self.down is not None:
            delay = self.down.advance(now, delay) - now
        self._schedule_finish(task, delay)
        for hook in self._on_task_start:
            hook(task)

    def _schedule_finish(self, task: TaskState, delay: float) -> None:
        if self.batch:
            at = self.env.now + delay
            self._finishing[at] = self._finishing.get(at, 0) + 1
        self.env.schedule_direct(task, delay)

    def _finish_batched(self, task: TaskState) -> None:
        """:meth:`_finish` with batching: the last completion of an instant allocates (if none arrive)."""
        now = self.env._now
        left = self._finishing[now] - 1
        if left:
            self._finishing[now] = left
        else:
            del self._finishing[now]
        self._finish(task, not left and self._arriving != now)

    def _finish(self, task: TaskState, last: bool = True) -> None:
        """A task's time is up: it is done, unless its project was paused while it ran.

        ``last``: the last completion of this instant (always, without batching), which
        allocates what it freed.
        """
        now = self.env._now  # NOTE: SimPy's ``now`` property, read without the call (hot path)
        proj = task.project
        extra = proj.pause_total - task.pause_mark - task.pause_honoured
        if extra > 0.0:
            # The project was paused while this task ran: its crew stood by that long.
            task.pause_honoured += extra
            self._schedule_finish(task, extra if self.down is None else self.down.advance(now, extra) - now)
            if last and self.batch:
                allocate = self._allocate
                allocate()  # what other completions of the instant freed
            return
        task.finish = now
        proj.running.remove(task)
        proj.unfinished -= 1
        # The crew's busy spells: from the task's start to now, and that clipped to the window
        # (the same for every member: computed once; ``b - a > 0`` exactly when ``b > a``).
        since: float = task.start  # type: ignore[assignment]  # (started)
        spell = now - since
        t0, t1 = self.t0, self.t1
        busy = (now if now < t1 else t1) - (since if since > t0 else t0)
        if busy > 0.0 and self.down is not None:  # down-time is neither work nor availability
            busy = self.down.open_between(since if since > t0 else t0, now if now < t1 else t1)
        for person in task.crew:
            # NOTE: book_busy and release inlined for speed (the hottest handler of the engine).
            pool = person.pool
            if busy > 0.0:
                pool.busy_days += busy * person.fte
            proj.cost += person.cost_rate * spell
            person.task = None
            if person.handover:  # leaving, claimed, or free in several pools
                self.release(person)
            else:
                pool.idle.append(person)
        touched = self.touched
        if self.one_pool:  # NOTE: touch() inlined for speed
            i = task.pool.index  # type: ignore[union-attr]  # (one_pool: a pool)
            if not touched[i]:
                touched[i] = True
                self.touched_pools.append(i)
        else:
            for pool, _ in task.needs:
                i = pool.index
                if not touched[i]:
                    touched[i] = True
                    self.touched_pools.append(i)
        for hook in self._on_task_finish:
            hook(task)
        tasks = proj.tasks
        task_ready = self._task_ready
        for s in task.succs:
            succ = tasks[s]
            succ.npred -= 1
            if succ.npred == 0 and not proj.closed:
                succ.ready_time = now  # NOTE: make_ready inlined for speed
                proj.ready_tasks.append(succ)
                task_ready(succ)
        if proj.unfinished == 0 and not proj.closed:
            self._close(proj, "completed")
        if last:
            allocate = self._allocate
            allocate()

    def touch(self, pool: PoolState) -> None:
        """The pool has something new to allocate (capacity freed, or a task joined its queue)."""
        if not self.touched[pool.index]:
            self.touched[pool.index] = True
            self.touched_pools.append(pool.index)

    # ------------------------------------------------------------------ run

    def run(self) -> ReplicationRecords:
        if self.event_cap is None:
            run_until(self.env, self.t1)
        else:
            self._run_capped(self.event_cap)
        self.level_change()
        return build_records(self)

    def _run_capped(self, cap: int) -> None:
        """Run to the horizon in slices, stopping a replication that runs away.

        After each of ``CAP_SLICES`` equal slices of the horizon the events processed so far
        are counted; past ``cap`` the replication stops with :class:`RunawayReplication`
        (nothing a valid scenario expects: the loader refuses scenarios whose expected size is
        over the budget, and the cap is a multiple of it).
        """
        for k in range(1, CAP_SLICES + 1):
            run_until(self.env, self.t1 * k / CAP_SLICES)
            if k < CAP_SLICES:
                # SimPy's run(until=...) schedules two events of its own (the time to stop,
                # and the stop); the next slice processes both.
                self._uncounted += 2
                done = self.processed_events()
                self._uncounted += 1  # the id the count itself used
                if done > cap:
                    raise RunawayReplication(
                        f"the replication ran past {cap:,} simulation events by day "
                        f"{self.env.now:g} of {self.t1:g} (raise the budget with --max-events "
                        f"if this size is meant)")

    def dispose(self) -> None:
        """Break the world's reference cycles once its records are built; the world and its
        roles are unusable afterwards.

        A world is a web of cycles (projects and their tasks, pools and their people, the roles
        and the world, a role and the methods it binds to itself, the event queue and the
        handlers and processes it holds). Left as it is, only the cyclic garbage collector can
        free it, traversing every object of the replication once more (a twentieth of a
        replication's CPU at the reference size; under a dynamic rule the queues' entries too).
        With the cycles cut, reference counting frees it the moment it is dropped."""
        self.env._queue.clear()
        for project in self.projects:
            project.tasks, project.running, project.ready_tasks, project.paths = [], [], [], None
        for pool in self.pools:
            pool.people, pool.idle = [], []
        for role in self.roles:
            role.dispose()
        for name in (*World.__slots__, *Workforce.__slots__):
            if hasattr(self, name):
                delattr(self, name)

    def processed_events(self) -> int:
        # NOTE: SimPy numbers every scheduled event (Environment._eid); the ones still queued
        # at the horizon were never processed. Reading the counter costs nothing per event.
        # The horizon's own stop event, and any slice stops and counts, are not the model's.
        scheduled = next(self.env._eid)
        return int(scheduled - 1 - len(self.env._queue)) - self._uncounted
