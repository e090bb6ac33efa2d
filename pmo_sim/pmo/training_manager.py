"""The training manager: programmes that take people off work and make them better at it.

At a programme's ``start`` (and every ``repeat_every`` days after), ``trainees`` people of the
pool ``skill`` are chosen — a whole number, or a fraction of the pool's headcount — those not
yet through this programme first, then by slot. Each stops project work for
``duration_days`` once their current task is done (no preemption); afterwards their
productivity rises by ``productivity_gain`` over ``ramp_days``, their attrition rate falls by
``retention_gain``, and with ``cross_skill: POOL`` they can also work in POOL.

``gap_driven`` is the reactive variant: every review period the manager looks at the mean wait
of the tasks each pool started since the last review, and runs the named programme for any pool
whose wait exceeds ``threshold_days`` (one run per pool at a time).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.state import INF, Person, PoolState, Ramp
from pmo_sim.scenario.models import Programme

if TYPE_CHECKING:
    from pmo_sim.engine.world import World

REVIEW_EVERY_DAYS = 20.0  # the gap-driven manager's review period (about a working month)


def start(world: World) -> None:
    tm = world.policy.training_manager
    if tm is None:
        return
    for prog in tm.programmes:
        world.env.process(_programme(world, prog, world.pool_by_name[prog.skill]))
    if tm.gap_driven is not None:
        world.env.process(_gap_reviews(world))


def _programme(world: World, prog: Programme, pool: PoolState,
               once: bool = False) -> Generator[Any, Any, None]:
    env = world.env
    at = prog.start if not once else env.now
    while at < world.t1:
        if at > env.now:
            yield env.timeout(at - env.now)
        run_cohort(world, prog, pool)
        if once or prog.repeat_every is None:
            return
        at += prog.repeat_every


def run_cohort(world: World, prog: Programme, pool: PoolState) -> int:
    """Enrol one cohort now; returns how many people were enrolled."""
    now = world.env.now
    staff = [p for p in pool.people if p.employed_to == INF and p.training is None]
    size = int(prog.trainees) if prog.trainees >= 1 else max(1, math.floor(prog.trainees * len(staff) + 0.5))
    staff.sort(key=lambda p: (prog.name in p.trained, p.slot, p.occupant))
    cohort = staff[:size]
    for person in cohort:
        person.training = prog
        if person.task is None:  # free now: off to training at once
            for p in person.pools:
                p.idle.remove(person)
            begin(world, person)
    if world.t0 <= now:
        world.training_cost += prog.cost_per_trainee * len(cohort)
    world.training_pv += prog.cost_per_trainee * len(cohort) * math.exp(-world.delta * now)
    return len(cohort)


def begin(world: World, person: Person) -> None:
    """The person (now free) spends the programme's days in training."""
    prog: Programme = person.training
    person.training_since = world.env.now
    world.env.timeout(prog.duration_days).callbacks.append(lambda _e: _end(world, person))


def _end(world: World, person: Person) -> None:
    now = world.env.now
    prog: Programme = person.training
    a, b = max(person.training_since, world.t0), min(now, world.t1)
    if b > a:
        person.pool.training_days += b - a
    person.training = None
    person.training_since = math.nan
    person.trained.add(prog.name)
    if prog.productivity_gain > 0:
        gain = 1 + prog.productivity_gain
        person.ramps.append(Ramp(now, now + prog.ramp_days, 1.0, gain) if prog.ramp_days > 0
                            else Ramp(now, now, gain, gain))
    if prog.retention_gain > 0:
        world.change_attrition(person, 1 - prog.retention_gain)
    if prog.cross_skill is not None:
        other = world.pool_by_name[prog.cross_skill]
        if other not in person.pools:
            person.pools.append(other)
    world.release(person)
    world.dispatch_all()


def close_open_spells(world: World, person: Person) -> None:
    """At the horizon: account training still under way."""
    if person.training is not None and person.training_since == person.training_since:
        a, b = max(person.training_since, world.t0), world.t1
        if b > a:
            person.pool.training_days += b - a


def _gap_reviews(world: World) -> Generator[Any, Any, None]:
    tm = world.policy.training_manager
    assert tm is not None and tm.gap_driven is not None
    gap = tm.gap_driven
    prog = next(p for p in tm.programmes if p.name == gap.programme)
    busy_until: dict[int, float] = {}
    env = world.env
    while True:
        yield env.timeout(REVIEW_EVERY_DAYS)
        for pool in world.pools:
            if pool.review_wait_n and busy_until.get(pool.index, -INF) <= env.now:
                mean_wait = pool.review_wait_sum / pool.review_wait_n
                if mean_wait > gap.threshold_days:
                    run_cohort(world, prog.model_copy(update={"skill": pool.name}), pool)
                    busy_until[pool.index] = env.now + prog.duration_days + prog.ramp_days
            pool.review_wait_sum, pool.review_wait_n = 0.0, 0
