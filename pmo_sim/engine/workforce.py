"""People in the world: employment, attrition and hiring, time away, and capacity changes.

A mixin of :class:`~pmo_sim.engine.world.World` (it uses the world's clock, pools and plan),
kept apart because the rules of people's lives are a story of their own:

- **Attrition.** A person leaves when their cumulative attrition hazard reaches a pre-drawn
  exponential budget (so retention delays the *same* leaver rather than drawing a new one).
  A leaver finishes the task in hand (or their time away) first; their slot is filled again
  after the Plan's hiring delay by a new hire who ramps up from ``new_hire_productivity``.
- **Claims and time away.** A role may claim a person (a training place): they are handed
  over when free. Time away is accounted per pool (``training_days``), and people are paid.
- **Capacity changes.** A staffing plan hires into new slots (people ramp up like new hires;
  equipment units arrive ready) or releases someone after their current task, without
  replacement; contractors are engaged and let go by the resource manager, paid their own day
  rate, and never leave by attrition.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import simpy

from pmo_sim.engine.clock import Clock, Downtime
from pmo_sim.engine.state import INF, Person, PoolState, Ramp

if TYPE_CHECKING:
    from pmo_sim.engine.roles import Allocator
    from pmo_sim.sampling import Plan
    from pmo_sim.scenario.models import Scenario


class Workforce:
    """The people half of the world (mixed into World)."""

    __slots__ = ("leavers", "hires")  # (the world's other slots are World's)

    env: Clock
    scenario: Scenario
    plan: Plan
    t0: float
    t1: float
    attrition: float
    leavers: int
    hires: int
    pools: list[PoolState]
    allocator: Allocator
    down: Downtime | None

    def open_days(self, a: float, b: float) -> float:
        """Days of [a, b] outside calendar down-time (when nobody works nor is available)."""
        return b - a if self.down is None else self.down.open_between(a, b)

    def request_dispatch(self) -> None:  # provided by World
        raise NotImplementedError

    def touch(self, pool: PoolState) -> None:  # provided by World
        raise NotImplementedError

    # ------------------------------------------------------------------ employment

    def _employ(self, pool: PoolState, slot: int, occupant: int, ramp: bool) -> Person:
        now = self.env.now
        people = pool.kind == "people"
        budget, _ = (self.plan.occupant_draws(self.scenario, pool.index, slot, occupant)
                     if people and self.attrition > 0 else (INF, 0.0))
        label = f"{pool.name}-{slot + 1}" + (f".{occupant}" if occupant else "")
        person = Person(label, pool, slot, occupant, pool.productivity, now, budget)
        wf = self.scenario.workforce
        if ramp and people and wf is not None and wf.ramp_up_days > 0 and wf.new_hire_productivity < 1:
            person.ramps.append(Ramp(now, now + wf.ramp_up_days, wf.new_hire_productivity, 1.0))
        pool.people.append(person)
        pool.idle.append(person)
        if people and self.attrition > 0:
            person.hazard_rate = self.attrition
            self._schedule_quit(person)
        return person

    def hire(self, pool: PoolState) -> Person:
        """A new person (or equipment unit) in a new slot of the pool, from now on."""
        slot = pool.slots
        pool.slots += 1
        person = self._employ(pool, slot, 0, ramp=True)
        self.touch(pool)
        self.request_dispatch()
        return person

    def dismiss(self, person: Person) -> None:
        """The person leaves for good (not replaced): now if free, else after their task."""
        person.replace = False
        if person.task is not None or person.away_since is not None or person.claim is not None:
            person.quit_pending = person.handover = True
            person.quit_version += 1
            return
        for p in person.pools:
            p.idle.remove(person)
        self._leave(person)

    def engage(self, pool: PoolState, productivity: float, day_rate: float, label: str) -> Person:
        """A contractor joins the pool, free for work now; paid ``day_rate`` while engaged."""
        person = Person(label, pool, -1, 0, productivity, self.env.now, INF)
        person.kind, person.day_rate, person.fte, person.replace = "contractor", day_rate, 1.0, False
        person.rates_changed()
        pool.people.append(person)
        pool.idle.append(person)
        self.touch(pool)
        self.request_dispatch()
        return person

    # ------------------------------------------------------------------ attrition

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
            # works out their notice: leaves when the task (or time away) ends
            person.quit_pending = person.handover = True
        else:
            for p in person.pools:
                p.idle.remove(person)
            self._leave(person)

    def _leave(self, person: Person) -> None:
        now = self.env.now
        person.employed_to = now
        if not person.replace:
            return  # released by a staffing plan, or a contractor: nobody follows
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
        self.touch(pool)
        self.request_dispatch()

    # ------------------------------------------------------------------ claims and time away

    def book_busy(self, person: Person, until: float) -> None:
        """Account a person's busy spell [start of their task, until] to their pool and project."""
        task = person.task
        assert task is not None and task.start is not None
        since = task.start
        a, b = max(since, self.t0), min(until, self.t1)
        if b > a:
            person.pool.busy_days += self.open_days(a, b) * person.fte
        task.project.cost += person.cost_rate * (until - since)

    def claim(self, person: Person, on_free: Callable[[Person], None]) -> None:
        person.claim = on_free
        person.handover = True
        if person.task is None:  # free now: taken off the idle lists at once
            for p in person.pools:
                p.idle.remove(person)
            self._serve_claim(person)

    def _serve_claim(self, person: Person) -> None:
        on_free, person.claim = person.claim, None
        person.handover = person.quit_pending or len(person.pools) > 1
        assert on_free is not None
        on_free(person)

    def send_away(self, person: Person) -> None:
        person.away_since = self.env.now

    def close_away(self, person: Person, until: float) -> None:
        """Account the person's time away [away_since, until] (clipped to the window), in
        person-days × fte like their busy and available time, so the three still add up."""
        if person.away_since is None:
            return
        a, b = max(person.away_since, self.t0), min(until, self.t1)
        if b > a:
            person.pool.away_days += self.open_days(a, b) * person.fte
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
                self.touch(p)

    def add_ramp(self, person: Person, ramp: Ramp) -> None:
        person.ramps.append(ramp)

    def add_pool_ramp(self, pool: PoolState, ramp: Ramp) -> None:
        pool.tech.append(ramp)

    def add_skill(self, person: Person, pool: PoolState) -> None:
        if pool not in person.pools:
            person.pools.append(pool)
            person.handover = True
