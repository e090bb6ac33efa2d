"""The resource manager's capacity levers: staffing plans and contractors (SPEC 10.5).

- **Staffing plan** (``resource_manager.staffing``): on ``day``, ``change`` > 0 hires that many
  people into new slots of the pool (they ramp up as new hires do, and may leave by attrition
  and be replaced like anyone); ``change`` < 0 releases that many, the most recently hired
  first (highest slot, then latest occupant); a released person on a task or away leaves when
  it ends, and is not replaced. On an equipment pool the change buys or retires units.
- **Contractors** (``resource_manager.contractors``): when a ready task of the pool has waited
  ``trigger_wait`` days and fewer than ``max`` contractors are engaged or on their way, one is
  requested for it (one request per waiting task); it arrives ``lead_time`` days later, works
  at ``productivity``, is paid ``day_rate`` while engaged (``contractor_cost``), never leaves by
  attrition, and is let go after ``release_idle`` days without work. Idle days are working
  days: calendar down-time (holidays, closures), when nobody may work, does not count, so a
  contractor arriving during a closure is not let go before the work resumes.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import simpy

from pmo_sim.engine.roles import Accounts, WorldAPI

if TYPE_CHECKING:
    from pmo_sim.engine.state import Person, TaskState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import Contractor
    from pmo_sim.scenario.policy import ResourceManager as ResourceManagerSpec


class CapacityLevers:
    """Staffing changes on their days; contractors on demand."""

    def __init__(self, scenario: Scenario, spec: ResourceManagerSpec):
        self.staffing = sorted(spec.staffing, key=lambda c: c.day)
        self.contractors: dict[str, Contractor] = {c.pool: c for c in spec.contractors}
        self.engaged: dict[str, int] = dict.fromkeys(self.contractors, 0)  # engaged or coming
        self.requests = 0

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        self.env = world.env
        for change in self.staffing:
            if change.day < world.t1:
                self.env.timeout(change.day).callbacks.append(
                    partial(self._staff, change.pool, change.change))

    # ------------------------------------------------------------------ staffing

    def _staff(self, pool_name: str, change: int, _event: simpy.Event) -> None:
        world = self.world
        pool = world.pool_by_name[pool_name]
        if change > 0:
            for _ in range(change):
                world.hire(pool)
            return
        staying = [p for p in pool.people if p.employed and p.kind != "contractor" and not p.quit_pending
                   and p.pool is pool]
        staying.sort(key=lambda p: (p.slot, p.occupant), reverse=True)
        for person in staying[:-change]:
            world.dismiss(person)

    # ------------------------------------------------------------------ contractors

    def task_ready(self, task: TaskState) -> None:
        """A waiting task may call for a contractor after the pool's trigger wait."""
        for pool, _ in task.needs:
            spec = self.contractors.get(pool.name)
            if spec is not None:
                self.env.timeout(spec.trigger_wait).callbacks.append(partial(self._check, task, spec))

    def _check(self, task: TaskState, spec: Contractor, _event: simpy.Event) -> None:
        if not task.queued or self.engaged[spec.pool] >= spec.max:
            return  # started, withdrawn, or enough contractors engaged or on their way
        self.engaged[spec.pool] += 1
        self.requests += 1
        if self.env.now + spec.lead_time < self.world.t1:
            self.env.timeout(spec.lead_time).callbacks.append(partial(self._arrive, spec))

    def _arrive(self, spec: Contractor, _event: simpy.Event) -> None:
        pool = self.world.pool_by_name[spec.pool]
        n = sum(1 for p in pool.people if p.kind == "contractor") + 1
        person = self.world.engage(pool, spec.productivity, spec.day_rate, f"{pool.name}-c{n}")
        self._idle_from_now(person, spec)

    def crew_busy(self, task: TaskState) -> None:
        for person in task.crew:
            if person.kind == "contractor":
                person.idle_version += 1  # any pending release is stale

    def crew_free(self, task: TaskState) -> None:
        for person in task.crew:
            if person.kind == "contractor" and person.employed:
                self._idle_from_now(person, self.contractors[person.pool.name])

    def _idle_from_now(self, person: Person, spec: Contractor) -> None:
        person.idle_version += 1
        # ``release_idle`` working days: the down-time on the way (known up front) is waited out.
        now = self.env.now
        down = self.world.down
        delay = spec.release_idle if down is None else down.advance(now, spec.release_idle) - now
        self.env.timeout(delay).callbacks.append(partial(self._let_go, person, person.idle_version))

    def _let_go(self, person: Person, version: int, _event: simpy.Event) -> None:
        if version != person.idle_version or person.task is not None or not person.employed:
            return
        self.world.dismiss(person)
        self.engaged[person.pool.name] -= 1

    def report(self, acc: Accounts) -> None:
        acc.count("contractor_requests", self.requests)
