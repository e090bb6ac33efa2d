"""One replication of the portfolio under one policy: the SimPy world.

The story the engine tells: projects arrive (from the Plan), wait in the backlog until the
resource manager's WIP gate admits them, and release their tasks as precedence allows. A
ready task waits in its pool's queue until the allocation rule gives it a crew of
``people`` individuals; they work on it alone until it finishes, which takes
``setup + effort / (sum of the crew's productivity)`` days plus any pauses (disruptions)
that hit the project meanwhile. Change requests add rework to what is left and pause the
project; the change manager may assess, shrink or reject them first. People leave (after
finishing their current task) and are replaced after a hiring delay by a new hire who ramps up.

Speed is designed in: a task is one SimPy timeout with a callback (no process, no AllOf), a
task's ready state is a predecessor counter, pools dispatch only when people and work meet,
and every random number was drawn up front into the Plan.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from functools import partial
from typing import Any

import simpy

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.engine.state import INF, Person, PoolState, ProjectState, Ramp, TaskState
from pmo_sim.pmo import change_manager, governance, innovation_manager, technology_manager, training_manager
from pmo_sim.rules.allocation import ALLOCATION_RULES, STATIC_RULES
from pmo_sim.sampling import Plan
from pmo_sim.scenario.models import PMO, Scenario


class World:
    """The state and event handlers of one (policy, replication)."""

    def __init__(self, scenario: Scenario, policy_name: str, plan: Plan, trace: bool = False):
        self.scenario = scenario
        self.policy_name = policy_name
        self.policy: PMO = scenario.policies[policy_name]
        self.plan = plan
        self.trace = trace
        self.env = simpy.Environment()
        self.t0, self.t1 = scenario.warmup, scenario.horizon

        rm = self.policy.resource_manager
        self.rule = ALLOCATION_RULES[rm.allocation]
        self.static_rule = rm.allocation in STATIC_RULES
        self.fifo = rm.allocation == "fifo"
        self.backfill = rm.backfill
        self.switch_cost = rm.switch_cost_days
        self.wip_limit = rm.wip_limit
        inn = self.policy.innovation_manager
        self.work_share = 1.0 - (inn.time_fraction if inn else 0.0)
        tm = self.policy.training_manager
        # Crews are simply the longest-idle people unless set-up costs or cross-skilled people
        # make the choice (and the removal from several idle lists) more involved.
        self.simple_crews = self.switch_cost == 0 and not (
            tm and any(p.cross_skill for p in tm.programmes))
        gov = self.policy.governance
        self.stage_gate = gov is not None and gov.stage_gate is not None

        # Levels and their time-integrals over [warmup, horizon] (avg_wip, avg_in_system).
        self.wip = 0
        self.in_system = 0
        self.area_wip = 0.0
        self.area_system = 0.0
        self.level_t = 0.0
        # Counters of what happened (counted projects / within the window).
        self.n_changes = 0
        self.n_rejected = 0
        self.rework_total = 0.0
        self.leavers = 0
        self.hires = 0
        # Spend on levers: nominal within the window, and present value at day 0.
        self.delta = math.log1p(scenario.discount_rate) / scenario.days_per_year
        self.training_cost = self.training_pv = 0.0
        self.technology_cost = self.technology_pv = 0.0

        self.pools = [PoolState(i, name, p.day_rate, p.productivity if p.kind == "people" else 0.0)
                      for i, (name, p) in enumerate(scenario.resources.items())]
        self.pool_by_name = {pool.name: pool for pool in self.pools}
        wf = scenario.workforce
        self.attrition = (wf.attrition_per_year / scenario.days_per_year) if wf else 0.0
        for pool, spec in zip(self.pools, scenario.resources.values(), strict=True):
            for slot in range(spec.headcount if spec.kind == "people" else 0):  # equipment employs nobody
                self._employ(pool, slot, 0, ramp=False)

        spread = self.policy.governance.estimate_spread_reduction if self.policy.governance else 0.0
        self.projects = [self._project_state(p, spread) for p in plan.projects]
        self.backlog: list[ProjectState] = []
        self.cm_desk = change_manager.desk(self)
        self.env.process(self._arrivals())
        training_manager.start(self)
        technology_manager.start(self)
        innovation_manager.start(self)

    # ------------------------------------------------------------------ set-up

    def _project_state(self, plan: Any, spread: float) -> ProjectState:
        proj = ProjectState(plan, counted=plan.arrival >= self.t0)
        net = plan.network
        efforts = plan.efforts
        if spread > 0:
            # Better estimating practice: draws shrink towards the distribution's centre,
            # keeping each draw's rank (common random numbers survive).
            efforts = net.central + (efforts - net.central) * (1 - spread)
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

    def _schedule_quit(self, person: Person) -> None:
        """(Re)schedule the day the person's used hazard reaches their budget."""
        person.quit_version += 1  # any earlier scheduled quit is now stale
        if person.hazard_rate <= 0 or person.quit_pending:
            return  # never leaving, or already leaving when their task or training ends
        days = max(0.0, (person.hazard_budget - person.hazard_used) / person.hazard_rate)
        if self.env.now + days < self.t1:
            self.env.timeout(days).callbacks.append(
                partial(self._quit, person, person.quit_version))

    def change_attrition(self, person: Person, factor: float) -> None:
        """Scale the person's attrition rate from now on (retention), same hazard budget."""
        now = self.env.now
        person.hazard_used += person.hazard_rate * (now - person.hazard_t)
        person.hazard_t = now
        person.hazard_rate *= factor
        self._schedule_quit(person)

    # ------------------------------------------------------------------ levels

    def _level_change(self) -> None:
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
            self._level_change()
            while i < len(projects) and projects[i].arrival <= env.now:
                self.in_system += 1
                self.backlog.append(projects[i])
                i += 1
            self._admit_from_backlog()
            self.dispatch_all()

    def _admit(self, proj: ProjectState) -> None:
        self._level_change()
        self.wip += 1
        proj.admitted = self.env.now
        proj.status = "open"
        for i in proj.order:
            task = proj.tasks[i]
            if task.npred == 0:
                self._make_ready(task)
        if len(proj.plan.change_times):
            change_manager.follow(self, proj)

    def _admit_from_backlog(self) -> None:
        now = self.env.now
        rule = self.rule
        while self.backlog and (self.wip_limit is None or self.wip < self.wip_limit):
            best = min(self.backlog, key=lambda p: (rule(p, now), p.arrival, p.index))
            self.backlog.remove(best)
            self._admit(best)

    def cancel(self, proj: ProjectState) -> None:
        """Stop a project: it starts no more tasks; running ones finish and earn nothing."""
        for pool in self.pools:
            if any(t.project is proj for t in pool.ready):
                pool.ready = [t for t in pool.ready if t.project is not proj]
        self._close(proj, "cancelled")

    def _close(self, proj: ProjectState, status: str) -> None:
        self._level_change()
        self.wip -= 1
        self.in_system -= 1
        proj.status = status
        proj.finish = self.env.now
        self._admit_from_backlog()

    # ------------------------------------------------------------------ tasks

    def _make_ready(self, task: TaskState) -> None:
        task.ready_time = now = self.env.now
        proj = task.project
        task.fifo_key = (proj.arrival, now, proj.index, task.index)
        if self.static_rule:
            # The rank never changes, so a sorted queue stays sorted: sort only after joins.
            task.rank = task.fifo_key if self.fifo else (self.rule(proj, now), *task.fifo_key)
            task.pool.ready_sorted = False
        task.pool.ready.append(task)

    def dispatch_all(self) -> None:
        for pool in self.pools:
            if pool.ready and pool.idle:
                self._dispatch(pool)

    def _dispatch(self, pool: PoolState) -> None:
        """Give the pool's free people to its ready tasks, best-ranked first."""
        now = self.env.now
        ready = pool.ready
        if self.static_rule:
            if not pool.ready_sorted:
                ready.sort(key=_rank)
                pool.ready_sorted = True
        elif len(ready) > 1:
            # A dynamic rule (remaining effort, slack) ranks afresh at every dispatch.
            rule = self.rule
            keys: dict[ProjectState, float] = {}  # one rule evaluation per project per dispatch

            def key(t: TaskState) -> tuple:
                k = keys.get(t.project)
                if k is None:
                    k = keys[t.project] = rule(t.project, now)
                return (k, *t.fifo_key)

            ready.sort(key=key)
        free = len(pool.idle)
        keep: list[TaskState] = []
        for i, task in enumerate(ready):
            if free == 0:
                keep.extend(ready[i:])
                break
            if task.project.paused_until > now:
                keep.append(task)  # a disrupted project starts nothing until it resumes
            elif task.people <= free:
                self._start(task, pool)
                free = len(pool.idle)
            else:
                keep.append(task)
                if not self.backfill:  # strict order: nobody jumps the top-ranked task
                    keep.extend(ready[i + 1:])
                    break
        pool.ready = keep

    def _pick_crew(self, task: TaskState, pool: PoolState) -> list[Person]:
        idle, k = pool.idle, task.people
        if self.switch_cost > 0:
            # Prefer people who need no set-up: fresh, or already on this project.
            proj = task.project
            fits = [p for p in idle if p.last_project is None or p.last_project is proj]
            if len(fits) < k:
                fits += [p for p in idle if not (p.last_project is None or p.last_project is proj)]
            return fits[:k]
        return idle[:k]

    def _start(self, task: TaskState, pool: PoolState) -> None:
        env = self.env
        now = env.now
        proj = task.project
        if self.simple_crews:  # NOTE: inlined for speed: the head of the idle list
            k = task.people
            crew = pool.idle[:k]
            del pool.idle[:k]
        else:
            crew = self._pick_crew(task, pool)
            for person in crew:
                for p in person.pools:
                    p.idle.remove(person)
        rate = 0.0
        for person in crew:
            person.task = task
            person.busy_since = now
            # NOTE: inlined for speed: with no ramp or J-curve under way the multiplier is settled.
            rate += (person.productivity(now) if person.ramps or person.pool.tech
                     else person.base * person.gain)
        setup = 0.0
        if self.switch_cost > 0 and any(p.last_project is not None and p.last_project is not proj
                                        for p in crew):
            setup = self.switch_cost
        rate *= self.work_share
        task.crew, task.rate, task.start = crew, rate, now
        task.work_start = now + setup
        task.pause_mark = proj.pause_total
        wait = now - task.ready_time
        pool.review_wait_sum += wait
        pool.review_wait_n += 1
        if now >= self.t0:
            pool.tasks_started += 1
            pool.wait_sum += wait
            pool.wait_n += 1
        if proj.start != proj.start:
            proj.start = now
        proj.running.append(task)
        env.timeout(setup + task.effort / rate).callbacks.append(partial(self._finish, task))

    def _finish(self, task: TaskState, _event: Any = None) -> None:
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
            # NOTE: _book and release inlined for speed (the hottest handler of the engine).
            since = person.busy_since
            pool = person.pool
            a = since if since > t0 else t0
            b = now if now < t1 else t1
            if b > a:
                pool.busy_days += b - a
            proj.cost += pool.day_rate * (now - since)
            person.task = None
            person.last_project = proj
            if person.quit_pending or person.training is not None or len(person.pools) > 1:
                self.release(person)
            else:
                pool.idle.append(person)
        if self.stage_gate:
            governance.after_task(self, proj)
        tasks = proj.tasks
        for s in task.succs:
            succ = tasks[s]
            succ.npred -= 1
            if succ.npred == 0 and not proj.closed:
                self._make_ready(succ)
        if proj.unfinished == 0 and not proj.closed:
            self._close(proj, "completed")
        self.dispatch_all()

    # ------------------------------------------------------------------ people

    def _book(self, person: Person, until: float) -> None:
        """Account a person's busy spell [busy_since, until] to their pool and project."""
        since = person.busy_since
        a, b = max(since, self.t0), min(until, self.t1)
        if b > a:
            person.pool.busy_days += b - a
        assert person.task is not None
        person.task.project.cost += person.pool.day_rate * (until - since)

    def release(self, person: Person) -> None:
        """A person done with a task or a training: leave, train, or become free."""
        if person.quit_pending:
            self._leave(person)
        elif person.training is not None:
            training_manager.begin(self, person)
        else:
            for p in person.pools:
                p.idle.append(person)

    def _quit(self, person: Person, version: int, _event: Any = None) -> None:
        if version != person.quit_version or person.employed_to < INF:
            return
        if person.task is not None or person.training_since == person.training_since:
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

    def _hire(self, pool: PoolState, slot: int, occupant: int, _event: Any = None) -> None:
        self._employ(pool, slot, occupant, ramp=True)
        if self.env.now >= self.t0:
            self.hires += 1
        self.dispatch_all()

    # ------------------------------------------------------------------ change requests

    def apply_change(self, proj: ProjectState, fraction: float, disruption: float) -> None:
        """Rework proportional to what is left, and a pause of the project's work."""
        now = self.env.now
        if fraction > 0:
            added = fraction * proj.remaining_effort(now)
            if added > 0:
                self._add_rework(proj, added)
        if disruption > 0:
            until = now + disruption
            added_pause = until - max(now, proj.paused_until)
            if added_pause > 0:
                proj.pause_total += added_pause
                proj.paused_until = until
                self.env.timeout(disruption).callbacks.append(lambda _e: self.dispatch_all())

    def _add_rework(self, proj: ProjectState, added: float) -> None:
        proj.rework += added
        if proj.counted:
            self.rework_total += added
        pending = [t for t in proj.tasks if t.start != t.start]
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
        from pmo_sim.engine.kpis import records

        return records(self)

    def processed_events(self) -> int:
        # NOTE: SimPy numbers every scheduled event (Environment._eid); the ones still queued
        # at the horizon were never processed. Reading the counter costs nothing per event.
        scheduled = next(self.env._eid)
        return int(scheduled - 1 - len(self.env._queue))


def _rank(task: TaskState) -> tuple[float, ...]:
    return task.rank
