"""The yardstick: a hand-written, tuned plain-SimPy model of the reference portfolio.

It simulates ONE policy — ``fifo`` allocation, no WIP limit, backfill, no switch cost, no
change manager, no training/technology/innovation/governance — with the same rules as
pmo-sim's engine (``pmo_sim/engine/world.py``), on the same pre-drawn
:class:`~pmo_sim.sampling.Plan`, so that both produce the same KPIs and their CPU times can
be compared: the ratio is the price pmo-sim pays for its generality.

The rules, restated:

* Projects arrive at their Plan arrival times and are admitted at once; tasks whose
  predecessors are all finished are *ready* and queue in their skill pool.
* A pool gives its idle people (longest idle first) to its ready tasks in FIFO order —
  (project arrival, task ready time, project index, task index) — each task taking a crew
  of exactly ``people`` individuals; a task whose crew cannot be completed is skipped
  (backfill), and so is a task of a project paused by a disruption.
* A task's duration is fixed at its start: ``effort / Σ crew productivity``; a new hire's
  productivity rises linearly from ``new_hire_productivity`` to 1 over ``ramp_up_days``.
* A change request reaches a project only while it is started and open: it adds rework of
  ``fraction × remaining effort`` pro rata to the tasks not yet started (or, if every
  remaining task is running, as a new task after them) and pauses the project's work for
  ``disruption`` days; running tasks are extended by the pause time they lived through.
* People leave at ``hazard budget / daily attrition rate`` after being hired (finishing a
  running task first) and are replaced after the Plan's hiring delay.

How it is written for speed (the way an expert writes SimPy by hand): arrivals are one
generator process; every task, change request, pause end, leaver and hire is one bare
``Timeout`` with a callback (no process per task, no AllOf/AnyOf, no Resource, since a SimPy
Resource cannot hand out an all-or-nothing crew of k individuals with backfill); each pool
keeps its ready queue sorted by insertion (``bisect.insort``) instead of re-sorting it at
every dispatch, and only pools whose people or ready tasks changed are dispatched; the Plan's
numpy arrays are turned into Python floats once, up front.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Generator
from functools import partial
from operator import attrgetter
from typing import Any

import simpy

from pmo_sim.sampling import Plan, ProjectPlan
from pmo_sim.scenario.models import Scenario

INF = math.inf
NAN = math.nan

#: The KPIs the yardstick computes, with pmo-sim's names (SPEC 7.1).
YARDSTICK_KPIS = (
    "projects_arrived", "projects_completed", "mean_cycle_time", "mean_wait", "avg_wip",
    "utilisation", "rework_effort", "changes", "leavers", "hires", "events",
)


class Pool:
    __slots__ = ("index", "base", "idle", "ready", "people", "busy_days")

    def __init__(self, index: int, base: float):
        self.index = index
        self.base = base
        self.idle: list[Person] = []
        self.ready: list[Task] = []  # sorted by Task.key
        self.people: list[Person] = []  # everyone ever employed here, in hiring order
        self.busy_days = 0.0


class Person:
    __slots__ = ("pool", "slot", "occupant", "hired", "ramp_end", "busy_since", "busy",
                 "leaving", "left")

    def __init__(self, pool: Pool, slot: int, occupant: int, hired: float, ramp_end: float):
        self.pool = pool
        self.slot = slot
        self.occupant = occupant
        self.hired = hired
        self.ramp_end = ramp_end  # == hired when there is no ramp-up
        self.busy_since = NAN
        self.busy = False
        self.leaving = False
        self.left = INF


class Task:
    __slots__ = ("proj", "index", "pool", "effort", "people", "succs", "npred", "key",
                 "started", "finished", "rate", "work_start", "pause_mark", "pause_honoured", "crew")

    def __init__(self, proj: Project, index: int, pool: Pool, effort: float, people: int,
                 succs: list[int], npred: int):
        self.proj = proj
        self.index = index
        self.pool = pool
        self.effort = effort
        self.people = people
        self.succs = succs
        self.npred = npred
        self.key: tuple[float, float, int, int] = (0.0, 0.0, 0, 0)
        self.started = False
        self.finished = False
        self.rate = 0.0
        self.work_start = 0.0
        self.pause_mark = 0.0
        self.pause_honoured = 0.0
        self.crew: list[Person] = []

    def remaining(self, now: float) -> float:
        if not self.started:
            return self.effort
        if self.finished:
            return 0.0
        proj = self.proj
        paused = (proj.pause_total - self.pause_mark) - max(0.0, proj.paused_until - now)
        return max(0.0, self.effort - self.rate * max(0.0, now - self.work_start - paused))


class Project:
    __slots__ = ("index", "arrival", "tasks", "order", "running", "unfinished", "start",
                 "finish", "paused_until", "pause_total", "changes", "change_times",
                 "change_fraction", "change_disruption")

    def __init__(self, plan: ProjectPlan, pools: list[Pool]):
        net = plan.network
        self.index = plan.index
        self.arrival = plan.arrival
        self.tasks = [Task(self, i, pools[net.pools[i]], e, net.people[i], list(net.succs[i]),
                           len(net.preds[i]))
                      for i, e in enumerate(plan.efforts.tolist())]
        self.order = net.order
        self.running: list[Task] = []
        self.unfinished = len(self.tasks)
        self.start = NAN
        self.finish = NAN
        self.paused_until = -INF
        self.pause_total = 0.0
        self.changes = 0
        self.change_times: list[float] = plan.change_times.tolist()
        self.change_fraction: list[float] = plan.change_fraction.tolist()
        self.change_disruption: list[float] = plan.change_disruption.tolist()


_task_key = attrgetter("key")


class Yardstick:
    """One replication of the fifo policy on ``plan``; :meth:`run` returns its KPIs.

    Subclasses change the rule (``benchmarks/yardstick_wsjf.py``) through ``project_type``,
    :meth:`_make_ready`, :meth:`_dispatch` and :meth:`_completed`.
    """

    project_type: type[Project] = Project

    def __init__(self, scenario: Scenario, plan: Plan):
        self.scenario = scenario
        self.plan = plan
        self.env = env = simpy.Environment()
        self.t0, self.t1 = scenario.warmup, scenario.horizon
        wf = scenario.workforce
        self.attrition = wf.attrition_per_year / scenario.days_per_year if wf else 0.0
        ramps = wf is not None and wf.ramp_up_days > 0 and wf.new_hire_productivity < 1
        self.ramp_days = wf.ramp_up_days if wf is not None and ramps else 0.0
        self.m0 = wf.new_hire_productivity if wf is not None else 1.0
        self.wip = 0
        self.area_wip = 0.0
        self.level_t = 0.0
        self.rework = 0.0
        self.n_changes = 0
        self.leavers = 0
        self.hires = 0
        self.pools = [Pool(i, p.productivity) for i, p in enumerate(scenario.resources.values())]
        for pool, spec in zip(self.pools, scenario.resources.values(), strict=True):
            for slot in range(spec.headcount):
                self._employ(pool, slot, 0)
        self.projects = [self.project_type(p, self.pools) for p in plan.projects]
        env.process(self._arrivals())

    # ------------------------------------------------------------------ projects

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for proj in self.projects:
            if proj.arrival > env.now:
                yield env.timeout(proj.arrival - env.now)
            self._level()
            self.wip += 1
            touched: list[Pool] = []
            for i in proj.order:
                task = proj.tasks[i]
                if task.npred == 0:
                    self._make_ready(task, touched)
            if proj.change_times:
                self._change_at(proj, 0)
            self._dispatch_pools(touched)

    def _level(self) -> None:
        now = self.env.now
        a = min(max(self.level_t, self.t0), self.t1)
        b = min(max(now, self.t0), self.t1)
        if b > a:
            self.area_wip += self.wip * (b - a)
        self.level_t = now

    # ------------------------------------------------------------------ tasks

    def _make_ready(self, task: Task, touched: list[Pool]) -> None:
        now = self.env.now
        proj = task.proj
        task.key = (proj.arrival, now, proj.index, task.index)
        pool = task.pool
        insort(pool.ready, task, key=_task_key)
        if pool not in touched:
            touched.append(pool)

    def _dispatch_pools(self, pools: list[Pool]) -> None:
        for pool in pools:
            if pool.ready and pool.idle:
                self._dispatch(pool)

    def _dispatch(self, pool: Pool) -> None:
        now = self.env.now
        free = len(pool.idle)
        ready = pool.ready
        keep: list[Task] = []
        for i, task in enumerate(ready):
            if task.people > free or task.proj.paused_until > now:
                keep.append(task)
                continue
            self._start(task, pool, now)
            free -= task.people
            if free == 0:
                keep.extend(ready[i + 1:])
                break
        pool.ready = keep

    def _start(self, task: Task, pool: Pool, now: float) -> None:
        k = task.people
        idle = pool.idle
        crew = idle[:k]
        del idle[:k]
        rate = 0.0
        for person in crew:
            person.busy = True
            person.busy_since = now
            if now < person.ramp_end:  # new hire still ramping up (same float steps as pmo-sim)
                hired = person.hired
                ramp = self.m0 if now <= hired else (
                    self.m0 + (1.0 - self.m0) * (now - hired) / (person.ramp_end - hired))
                rate += pool.base * ramp
            else:
                rate += pool.base
        proj = task.proj
        task.crew = crew
        task.rate = rate
        task.started = True
        task.work_start = now
        task.pause_mark = proj.pause_total
        if proj.start != proj.start:
            proj.start = now
        proj.running.append(task)
        self.env.timeout(task.effort / rate).callbacks.append(partial(self._finish, task))

    def _finish(self, task: Task, _event: object) -> None:
        proj = task.proj
        extra = proj.pause_total - task.pause_mark - task.pause_honoured
        if extra > 0:  # the project was paused meanwhile: the crew stood by that long
            task.pause_honoured += extra
            self.env.timeout(extra).callbacks.append(partial(self._finish, task))
            return
        now = self.env.now
        task.finished = True
        proj.running.remove(task)
        proj.unfinished -= 1
        pool = task.pool
        t0, t1 = self.t0, self.t1
        freed = False
        for person in task.crew:
            a, b = max(person.busy_since, t0), min(now, t1)
            if b > a:
                pool.busy_days += b - a
            person.busy = False
            if person.leaving:
                self._leave(person)
            else:
                pool.idle.append(person)
                freed = True
        touched = [pool] if freed else []
        tasks = proj.tasks
        for s in task.succs:
            succ = tasks[s]
            succ.npred -= 1
            if succ.npred == 0:
                self._make_ready(succ, touched)
        if proj.unfinished == 0:
            self._completed(proj, now, touched)
        self._dispatch_pools(touched)

    def _completed(self, proj: Project, now: float, touched: list[Pool]) -> None:
        self._level()
        self.wip -= 1
        proj.finish = now

    # ------------------------------------------------------------------ change requests

    def _change_at(self, proj: Project, k: int) -> None:
        """Request ``k`` of the project: now if its time has come, else a timeout to it."""
        delay = proj.change_times[k] - self.env.now
        if delay > 0:
            self.env.timeout(delay).callbacks.append(partial(self._change, proj, k))
        else:
            self._change(proj, k, None)

    def _change(self, proj: Project, k: int, _event: object) -> None:
        if proj.unfinished == 0:
            return  # closed: no more requests reach it
        if proj.start == proj.start:  # started: the request reaches it
            proj.changes += 1
            if proj.arrival >= self.t0:
                self.n_changes += 1
            self._apply_change(proj, proj.change_fraction[k], proj.change_disruption[k])
        if k + 1 < len(proj.change_times):
            self._change_at(proj, k + 1)

    def _apply_change(self, proj: Project, fraction: float, disruption: float) -> None:
        now = self.env.now
        if fraction > 0:
            added = fraction * sum(t.remaining(now) for t in proj.tasks if not t.finished)
            if added > 0:
                self._add_rework(proj, added, now)
        if disruption > 0:
            until = now + disruption
            added_pause = until - max(now, proj.paused_until)
            if added_pause > 0:
                proj.pause_total += added_pause
                proj.paused_until = until
                self.env.timeout(disruption).callbacks.append(self._pause_over)

    def _pause_over(self, _event: object) -> None:
        self._dispatch_pools(self.pools)

    def _add_rework(self, proj: Project, added: float, now: float) -> None:
        if proj.arrival >= self.t0:
            self.rework += added
        pending = [t for t in proj.tasks if not t.started]
        base = sum(t.effort for t in pending)
        if base > 0:
            for t in pending:
                t.effort += added * t.effort / base
            return
        lead = max(proj.running, key=lambda t: t.remaining(now))
        index = len(proj.tasks)
        proj.tasks.append(Task(proj, index, lead.pool, added, lead.people, [], len(proj.running)))
        for t in proj.running:
            t.succs.append(index)
        proj.unfinished += 1

    # ------------------------------------------------------------------ people

    def _employ(self, pool: Pool, slot: int, occupant: int) -> None:
        now = self.env.now
        ramp_end = now + self.ramp_days if occupant else now
        person = Person(pool, slot, occupant, now, ramp_end)
        pool.people.append(person)
        pool.idle.append(person)
        if self.attrition > 0:
            budget, _ = self.plan.occupant_draws(self.scenario, pool.index, slot, occupant)
            leave_at = budget / self.attrition
            if now + leave_at < self.t1:
                self.env.timeout(leave_at).callbacks.append(partial(self._quit, person))

    def _quit(self, person: Person, _event: object) -> None:
        if person.busy:
            person.leaving = True  # leaves when the running task ends
        else:
            person.pool.idle.remove(person)
            self._leave(person)

    def _leave(self, person: Person) -> None:
        now = self.env.now
        person.left = now
        if now >= self.t0:
            self.leavers += 1
        _, delay = self.plan.occupant_draws(self.scenario, person.pool.index, person.slot,
                                            person.occupant)
        if now + delay < self.t1:
            self.env.timeout(delay).callbacks.append(
                partial(self._hire, person.pool, person.slot, person.occupant + 1))

    def _hire(self, pool: Pool, slot: int, occupant: int, _event: object) -> None:
        self._employ(pool, slot, occupant)
        if self.env.now >= self.t0:
            self.hires += 1
        self._dispatch_pools([pool])

    # ------------------------------------------------------------------ run

    def run(self) -> dict[str, float]:
        env = self.env
        env.run(until=self.t1)
        t0, t1 = self.t0, self.t1
        self._level()
        busy = employed = 0.0
        for pool in self.pools:
            employed_pool = 0.0
            for person in pool.people:
                if person.busy:
                    a, b = max(person.busy_since, t0), t1
                    if b > a:
                        pool.busy_days += b - a
                a, b = max(person.hired, t0), min(person.left, t1)
                if b > a:
                    employed_pool += b - a
            busy += pool.busy_days
            employed += employed_pool
        counted = [p for p in self.projects if p.arrival >= t0 and p.arrival <= t1]
        done = [p for p in counted if p.unfinished == 0]
        started = [p for p in counted if p.start == p.start]
        scheduled = next(env._eid) - 1  # type: ignore[attr-defined]
        return {
            "projects_arrived": len(counted),
            "projects_completed": len(done),
            "mean_cycle_time": _mean([p.finish - p.arrival for p in done]),
            "mean_wait": _mean([p.start - p.arrival for p in started]),
            "avg_wip": self.area_wip / (t1 - t0),
            "utilisation": busy / employed if employed else NAN,
            "rework_effort": self.rework,
            "changes": self.n_changes,
            "leavers": self.leavers,
            "hires": self.hires,
            "events": scheduled - len(env._queue),  # type: ignore[attr-defined]
        }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


def simulate(scenario: Scenario, plan: Plan) -> dict[str, float]:
    """The fifo KPIs of one replication's Plan."""
    return Yardstick(scenario, plan).run()
