"""The training manager: programmes that take people off work and make them better at it.

At a programme's ``start`` (and every ``repeat_every`` days after), ``trainees`` people of the
pool ``skill`` are chosen — a whole number, or a fraction of the pool's headcount (the people
it employs, contractors aside; rounded half up, at least one) — among those not enrolled in a
programme already and not serving notice (released, or resigned, and leaving when their task
ends), those not yet through this programme first, then by slot. Each stops project work for
``duration_days`` once their current task is done (no preemption; working days: a course
stands still in calendar down-time, as a task does); afterwards their
productivity rises by ``productivity_gain`` over ``ramp_days``, their attrition rate falls by
``retention_gain``, and with ``cross_skill: POOL`` they can also work in POOL. Trainees are
paid while away; ``cost_per_trainee`` is paid at enrolment.

``gap_driven`` is the reactive variant: every review period the manager looks at the mean wait
of the tasks each pool started since the last review, and runs the named programme for any pool
whose wait exceeds ``threshold_days`` (one run per pool at a time).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from functools import partial
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.roles import Accounts, Role, WorldAPI, payment
from pmo_sim.engine.state import INF, Person, PoolState, Ramp, TaskState

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO, Programme
    from pmo_sim.scenario.policy import TrainingManager as TrainingSpec

REVIEW_EVERY_DAYS = 20.0  # the gap-driven manager's review period (about a working month)


class TrainingManager(Role):
    """Runs the policy's programmes (scheduled and gap-driven); pays for them."""

    section = "training_manager"

    def __init__(self, scenario: Scenario, policy: PMO):
        assert policy.training_manager is not None
        self.spec: TrainingSpec = policy.training_manager
        self.enrolled: dict[Person, Programme] = {}  # from enrolment until back at work
        self.trained: dict[Person, set[str]] = {}
        self.cost = self.cost_pv = 0.0
        # Waits of the tasks each pool started since the last gap review (pool index -> sum, n).
        self.review_waits: dict[int, list[float]] = {}
        if self.spec.gap_driven is None:
            self.idle_hooks = frozenset({"on_task_start"})  # waits only matter to gap reviews

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        self.env = world.env
        for prog in self.spec.programmes:
            self.env.process(self._programme(prog, world.pool_by_name[prog.skill]))
        if self.spec.gap_driven is not None:
            self.env.process(self._gap_reviews())

    # ------------------------------------------------------------------ programmes

    def _programme(self, prog: Programme, pool: PoolState) -> Generator[Any, Any, None]:
        env = self.env
        at = prog.start
        while at < self.world.t1:
            if at > env.now:
                yield env.timeout(at - env.now)
            self.run_cohort(prog, pool)
            if prog.repeat_every is None:
                return
            at += prog.repeat_every

    def run_cohort(self, prog: Programme, pool: PoolState) -> int:
        """Enrol one cohort now; returns how many people were enrolled."""
        now = self.env.now
        employed = [p for p in pool.people if p.employed_to == INF and p.kind == "people"]
        # A fraction is of the pool's headcount (SPEC 5), whoever of it is already enrolled
        # elsewhere: a cohort's size does not depend on another programme running.
        size = (int(prog.trainees) if prog.trainees >= 1
                else max(1, math.floor(prog.trainees * len(employed) + 0.5)))
        # Not those serving notice (a staffing release or a resignation, leaving when their
        # task ends): they would be paid for and never trained, and the cohort one short.
        staff = [p for p in employed if p not in self.enrolled and not p.quit_pending]
        staff.sort(key=lambda p: (prog.name in self.trained.get(p, ()), p.slot, p.occupant))
        cohort = staff[:size]
        for person in cohort:
            self.enrolled[person] = prog
            self.world.claim(person, partial(self._begin, prog))
        nominal, present = payment(prog.cost_per_trainee * len(cohort), now, self.world.t0,
                                   self.world.delta)
        self.cost += nominal
        self.cost_pv += present
        return len(cohort)

    def _begin(self, prog: Programme, person: Person) -> None:
        """The person (now free) spends the programme's days in training: working days, so a
        course stands still in calendar down-time as a task does (SPEC 10.4)."""
        self.world.send_away(person)
        self.env.timeout(self._course_days(self.env.now, prog)).callbacks.append(
            lambda _e: self._end(prog, person))

    def _course_days(self, now: float, prog: Programme) -> float:
        """How long a course begun at ``now`` lasts: ``duration_days`` working days (a course
        of no days is over at once, even in down-time: there is nothing to hold back)."""
        down = self.world.down
        if down is None or prog.duration_days <= 0:
            return prog.duration_days
        return down.advance(now, prog.duration_days) - now

    def _end(self, prog: Programme, person: Person) -> None:
        world = self.world
        now = self.env.now
        del self.enrolled[person]
        self.trained.setdefault(person, set()).add(prog.name)
        if prog.productivity_gain > 0:
            gain = 1 + prog.productivity_gain
            world.add_ramp(person, Ramp(now, now + prog.ramp_days, 1.0, gain) if prog.ramp_days > 0
                           else Ramp(now, now, gain, gain))
        if prog.retention_gain > 0:
            world.change_attrition(person, 1 - prog.retention_gain)
        if prog.cross_skill is not None:
            world.add_skill(person, world.pool_by_name[prog.cross_skill])
        world.release(person)
        world.dispatch()

    # ------------------------------------------------------------------ gap-driven training

    def on_task_start(self, task: TaskState) -> None:
        if task.pool is None:
            return  # needs no people: no skill gap to see
        acc = self.review_waits.setdefault(task.pool.index, [0.0, 0])
        acc[0] += task.start - task.ready_time  # type: ignore[operator]
        acc[1] += 1

    def _gap_reviews(self) -> Generator[Any, Any, None]:
        gap = self.spec.gap_driven
        assert gap is not None
        prog = next(p for p in self.spec.programmes if p.name == gap.programme)
        busy_until: dict[int, float] = {}
        env = self.env
        while True:
            yield env.timeout(REVIEW_EVERY_DAYS)
            for pool in self.world.pools:
                total, n = self.review_waits.get(pool.index, (0.0, 0))
                if n and busy_until.get(pool.index, -INF) <= env.now and total / n > gap.threshold_days:
                    self.run_cohort(prog.model_copy(update={"skill": pool.name}), pool)
                    busy_until[pool.index] = env.now + self._course_days(env.now, prog) + prog.ramp_days
            self.review_waits.clear()

    def report(self, acc: Accounts) -> None:
        acc.pay("training_cost", self.cost, self.cost_pv)
