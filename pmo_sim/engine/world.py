"""One replication of the portfolio under one policy: the SimPy world.

The story the engine tells: projects arrive (from the Plan), pass the roles that may hold them
(none today: every arriving project goes on), and join the allocator's backlog until its WIP
gate admits them; then they release their tasks as precedence allows. A ready task waits in
its pool's queue until the allocator gives it a crew of ``people`` individuals; they work on it
alone until it finishes, which takes ``setup + effort / (sum of the crew's productivity)``
days plus any pauses (disruptions) that hit the project meanwhile. Rework is added to what is
left and pauses stop a project's work. People leave (after finishing their current task) and
are replaced after a hiring delay by a new hire who ramps up.

The engine owns time, people, pools and the task life cycle. What the PMO decides comes from
the roles (:mod:`pmo_sim.engine.roles` states the contract): the engine calls their hooks and
offers them the methods of :class:`~pmo_sim.engine.roles.WorldAPI`; it names none of them.

Speed is designed in: a task is one SimPy timeout with a callback (no process, no AllOf), a
task's ready state is a predecessor counter, hooks are called only on roles that override
them, and every random number was drawn up front into the Plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from functools import partial
from typing import Any

import numpy as np
import simpy

from pmo_sim.engine.records import ReplicationRecords, build_records
from pmo_sim.engine.roles import Allocator, Role, overrides, subscribers
from pmo_sim.engine.state import INF, Person, PoolState, ProjectState, Ramp, TaskState
from pmo_sim.sampling import Plan, ProjectPlan
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.policy import PMO


class World:
    """The state and event handlers of one (policy, replication)."""

    def __init__(self, scenario: Scenario, policy_name: str, plan: Plan, roles: Sequence[Role],
                 trace: bool = False):
        self.scenario = scenario
        self.policy_name = policy_name
        self.policy: PMO = scenario.policies[policy_name]
        self.plan = plan
        self.trace = trace
        self.env = simpy.Environment()
        self.t0, self.t1 = scenario.warmup, scenario.horizon
        self.delta = math.log1p(scenario.discount_rate) / scenario.days_per_year
        self.work_share = 1.0

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

        self.pools = [PoolState(i, name, p.day_rate, p.productivity if p.kind == "people" else 0.0)
                      for i, (name, p) in enumerate(scenario.resources.items())]
        self.pool_by_name = {pool.name: pool for pool in self.pools}
        wf = scenario.workforce
        self.attrition = (wf.attrition_per_year / scenario.days_per_year) if wf else 0.0
        for pool, spec in zip(self.pools, scenario.resources.values(), strict=True):
            for slot in range(spec.headcount if spec.kind == "people" else 0):  # equipment employs nobody
                self._employ(pool, slot, 0, ramp=False)

        self.projects = [self._project_state(p) for p in plan.projects]
        self.env.process(self._arrivals())
        for role in self.roles:
            role.attach(self)

    # ------------------------------------------------------------------ set-up

    def _project_state(self, plan: ProjectPlan) -> ProjectState:
        proj = ProjectState(plan, counted=plan.arrival >= self.t0)
        net = plan.network
        efforts: np.ndarray = plan.efforts
        for hook in self._plan_efforts:
            efforts = hook(plan, efforts)  # type: ignore[assignment]
        values = efforts.tolist()
        pools, names, where, people, succs, npreds = (self.pools, net.names, net.pools, net.people,
                                                      net.succs, net.npreds)
        proj.tasks = [TaskState(proj, i, names[i], pools[where[i]], e, people[i], succs[i], npreds[i])
                      for i, e in enumerate(values)]
        proj.unfinished = len(values)
        proj.effort_planned = sum(values)
        return proj

    def _employ(self, pool: PoolState, slot: int, occupant: int, ramp: bool) -> Person:
        now = self.env.now
        budget, _ = (self.plan.occupant_draws(self.scenario, pool.index, slot, occupant)
                     if self.attrition > 0 else (INF, 0.0))
        label = f"{pool.name}-{slot + 1}" + (f".{occupant}" if occupant else "")
        person = Person(label, pool, slot, occupant, pool.productivity, now, budget)
        wf = self.scenario.workforce
        if ramp and wf is not None and wf.ramp_up_days > 0 and wf.new_hire_productivity < 1:
            person.ramps.append(Ramp(now, now + wf.ramp_up_days, wf.new_hire_productivity, 1.0))
        pool.people.append(person)
        pool.idle.append(person)
        if self.attrition > 0:
            person.hazard_rate = self.attrition
            self._schedule_quit(person)
        return person

    # ------------------------------------------------------------------ levels

    def level_change(self) -> None:
        """Bring the time-integrals of WIP and projects in system up to now."""
        now = self.env.now
        a = min(max(self.level_t, self.t0), self.t1)
        b = min(max(now, self.t0), self.t1)
        if b > a:
            self.area_wip += self.wip * (b - a)
            self.area_system += self.in_system * (b - a)
        self.level_t = now

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
            self.allocator.enqueue([p for p in arrived if self._passes(p, self._arrival_roles)])
            self.allocator.dispatch()

    def _passes(self, proj: ProjectState, roles: Sequence[Role]) -> bool:
        """Ask the roles in order whether the arriving project goes on; the first that holds wins."""
        return all(role.on_arrival(proj) for role in roles)

    def pass_on(self, project: ProjectState, holder: Role) -> None:
        later = self._arrival_roles[self._arrival_roles.index(holder) + 1:]
        if self._passes(project, later):
            self.allocator.enqueue([project])
            self.allocator.dispatch()

    def admit(self, project: ProjectState) -> None:
        self.level_change()
        self.wip += 1
        project.admitted = self.env.now
        project.status = "open"
        for i in project.order:
            task = project.tasks[i]
            if task.npred == 0:
                self.make_ready(task)
        for hook in self._on_admit:
            hook(project)

    def cancel(self, project: ProjectState) -> None:
        self.allocator.withdraw(project)
        self._close(project, "cancelled")

    def _close(self, proj: ProjectState, status: str) -> None:
        self.level_change()
        self.wip -= 1
        self.in_system -= 1
        proj.status = status
        proj.finish = self.env.now
        for hook in self._on_close:
            hook(proj)
        self.allocator.project_closed()

    # ------------------------------------------------------------------ tasks

    def make_ready(self, task: TaskState) -> None:
        task.ready_time = self.env.now
        self.allocator.task_ready(task)

    def dispatch(self) -> None:
        self.allocator.dispatch()

    def start_task(self, task: TaskState, crew: list[Person], setup: float) -> None:
        env = self.env
        now = env.now
        proj = task.project
        rate = 0.0
        for person in crew:
            person.task = task
            person.busy_since = now
            # NOTE: inlined for speed: with no ramp or J-curve under way the multiplier is settled.
            rate += (person.productivity(now) if person.ramps or person.pool.tech
                     else person.base * person.gain)
        rate *= self.work_share
        task.crew, task.rate, task.start = crew, rate, now
        task.work_start = now + setup
        task.pause_mark = proj.pause_total
        pool = task.pool
        if now >= self.t0:
            pool.tasks_started += 1
            pool.wait_sum += now - task.ready_time
            pool.wait_n += 1
        if proj.start is None:
            proj.start = now
        proj.running.append(task)
        env.timeout(setup + task.effort / rate).callbacks.append(partial(self._finish, task))
        for hook in self._on_task_start:
            hook(task)

    def _finish(self, task: TaskState, _event: simpy.Event | None = None) -> None:
        proj = task.project
        extra = proj.pause_total - task.pause_mark - task.pause_honoured
        if extra > 0:
            # The project was paused while this task ran: its crew stood by that long.
            task.pause_honoured += extra
            self.env.timeout(extra).callbacks.append(partial(self._finish, task))
            return
        now = self.env.now
        task.finish = now
        proj.running.remove(task)
        proj.unfinished -= 1
        t0, t1 = self.t0, self.t1
        for person in task.crew:
            # NOTE: book_busy and release inlined for speed (the hottest handler of the engine).
            since = person.busy_since
            pool = person.pool
            a = since if since > t0 else t0
            b = now if now < t1 else t1
            if b > a:
                pool.busy_days += b - a
            proj.cost += pool.day_rate * (now - since)
            person.task = None
            person.last_project = proj
            if person.quit_pending or person.claim is not None or len(person.pools) > 1:
                self.release(person)
            else:
                pool.idle.append(person)
        for hook in self._on_task_finish:
            hook(task)
        tasks = proj.tasks
        for s in task.succs:
            succ = tasks[s]
            succ.npred -= 1
            if succ.npred == 0 and not proj.closed:
                succ.ready_time = now  # NOTE: make_ready inlined for speed
                self.allocator.task_ready(succ)
        if proj.unfinished == 0 and not proj.closed:
            self._close(proj, "completed")
        self.allocator.dispatch()

    def scale_pending_effort(self, project: ProjectState, factor: float) -> None:
        for task in project.tasks:
            if task.start is None:
                task.effort *= factor

    # ------------------------------------------------------------------ people

    def book_busy(self, person: Person, until: float) -> None:
        """Account a person's busy spell [busy_since, until] to their pool and project."""
        since = person.busy_since
        a, b = max(since, self.t0), min(until, self.t1)
        if b > a:
            person.pool.busy_days += b - a
        assert person.task is not None
        person.task.project.cost += person.pool.day_rate * (until - since)

    def claim(self, person: Person, on_free: Callable[[Person], None]) -> None:
        person.claim = on_free
        if person.task is None:  # free now: taken off the idle lists at once
            for p in person.pools:
                p.idle.remove(person)
            self._serve_claim(person)

    def _serve_claim(self, person: Person) -> None:
        on_free, person.claim = person.claim, None
        assert on_free is not None
        on_free(person)

    def send_away(self, person: Person) -> None:
        person.away_since = self.env.now

    def close_away(self, person: Person, until: float) -> None:
        """Account the person's time away [away_since, until] (clipped to the window)."""
        if person.away_since is None:
            return
        a, b = max(person.away_since, self.t0), min(until, self.t1)
        if b > a:
            person.pool.away_days += b - a
        person.away_since = None

    def release(self, person: Person) -> None:
        self.close_away(person, self.env.now)
        if person.quit_pending:
            self._leave(person)
        elif person.claim is not None:
            self._serve_claim(person)
        else:
            for p in person.pools:
                p.idle.append(person)

    def add_ramp(self, person: Person, ramp: Ramp) -> None:
        person.ramps.append(ramp)

    def add_pool_ramp(self, pool: PoolState, ramp: Ramp) -> None:
        pool.tech.append(ramp)

    def add_skill(self, person: Person, pool: PoolState) -> None:
        if pool not in person.pools:
            person.pools.append(pool)

    def _schedule_quit(self, person: Person) -> None:
        """(Re)schedule the day the person's used hazard reaches their budget."""
        person.quit_version += 1  # any earlier scheduled quit is now stale
        if person.hazard_rate <= 0 or person.quit_pending:
            return  # never leaving, or already leaving when their task or time away ends
        days = max(0.0, (person.hazard_budget - person.hazard_used) / person.hazard_rate)
        if self.env.now + days < self.t1:
            self.env.timeout(days).callbacks.append(
                partial(self._quit, person, person.quit_version))

    def change_attrition(self, person: Person, factor: float) -> None:
        now = self.env.now
        person.hazard_used += person.hazard_rate * (now - person.hazard_t)
        person.hazard_t = now
        person.hazard_rate *= factor
        self._schedule_quit(person)

    def _quit(self, person: Person, version: int, _event: simpy.Event | None = None) -> None:
        if version != person.quit_version or not person.employed:
            return
        if person.task is not None or person.away_since is not None:
            person.quit_pending = True  # works out their notice: leaves when the task ends
        else:
            for p in person.pools:
                p.idle.remove(person)
            self._leave(person)

    def _leave(self, person: Person) -> None:
        now = self.env.now
        person.employed_to = now
        if now >= self.t0:
            self.leavers += 1
        _, delay = self.plan.occupant_draws(self.scenario, person.pool.index, person.slot,
                                            person.occupant)
        if now + delay < self.t1:
            self.env.timeout(delay).callbacks.append(
                partial(self._hire, person.pool, person.slot, person.occupant + 1))

    def _hire(self, pool: PoolState, slot: int, occupant: int, _event: simpy.Event | None = None) -> None:
        self._employ(pool, slot, occupant, ramp=True)
        if self.env.now >= self.t0:
            self.hires += 1
        self.allocator.dispatch()

    # ------------------------------------------------------------------ changes and rework

    def apply_change(self, project: ProjectState, fraction: float, disruption: float) -> None:
        now = self.env.now
        if fraction > 0:
            added = fraction * project.remaining_effort(now)
            if added > 0:
                self._add_rework(project, added)
        if disruption > 0:
            until = now + disruption
            added_pause = until - max(now, project.paused_until)
            if added_pause > 0:
                project.pause_total += added_pause
                project.paused_until = until
                self.env.timeout(disruption).callbacks.append(lambda _e: self.allocator.dispatch())

    def _add_rework(self, proj: ProjectState, added: float) -> None:
        proj.rework += added
        if proj.counted:
            self.rework_total += added
        pending = [t for t in proj.tasks if t.start is None]
        base = sum(t.effort for t in pending)
        if base > 0:
            for t in pending:  # spread over the work not yet started, pro rata
                t.effort += added * t.effort / base
            return
        # Everything left is running: rework becomes a new task after the running ones,
        # for the kind of crew that has the most left to do.
        now = self.env.now
        lead = max(proj.running, key=lambda t: t.remaining(now))
        index = len(proj.tasks)
        task = TaskState(proj, index, f"rework-{index + 1}", lead.pool, added, lead.people, (),
                         len(proj.running))
        for t in proj.running:
            t.succs = (*t.succs, index)
        proj.tasks.append(task)
        proj.order.append(index)
        proj.unfinished += 1

    # ------------------------------------------------------------------ run

    def run(self) -> ReplicationRecords:
        self.env.run(until=self.t1)
        self.level_change()
        return build_records(self)

    def processed_events(self) -> int:
        # NOTE: SimPy numbers every scheduled event (Environment._eid); the ones still queued
        # at the horizon were never processed. Reading the counter costs nothing per event.
        scheduled = next(self.env._eid)
        return int(scheduled - 1 - len(self.env._queue))
