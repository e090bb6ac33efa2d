"""The resource manager: who gets admitted, and who works on what.

It is the world's allocator (:class:`~pmo_sim.engine.roles.Allocator`):

- **Admission and the WIP gate.** Projects that arrive (and that no other role holds) wait in
  the backlog; while fewer than ``wip_limit`` projects are open, the backlog project ranked
  first by the allocation rule is admitted (ties: earliest arrival, then file order).
- **Dispatch.** Each pool keeps its ready tasks in a queue. When people become free or work
  becomes ready, the queue is ranked by the rule (:mod:`pmo_sim.rules.allocation`; ties:
  project arrival, task ready time, project and task file order) and free people go to the
  best-ranked task whose whole crew is free. A disrupted (paused) project starts nothing.
- **Backfill** (default on): a lower-ranked task may take free people the top-ranked task
  cannot yet use; with ``backfill: false`` nothing jumps a waiting top-ranked task.
- **Crews** are the longest-idle people; with ``switch_cost_days`` people already on the
  task's project (or fresh) are preferred, and a crew in which someone comes from another
  project pays that set-up time before work starts.

Static rules (``fifo``, ``priority``, ``edd``) rank by what never changes, so a queue is sorted
only after tasks joined it; dynamic rules (remaining effort, slack) rank afresh at dispatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pmo_sim.engine.roles import Allocator, WorldAPI
from pmo_sim.rules.allocation import ALLOCATION_RULES, STATIC_RULES

if TYPE_CHECKING:
    from pmo_sim.engine.state import Person, PoolState, ProjectState, TaskState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO


class ResourceManager(Allocator):
    """Backlog, WIP gate, ready queues, crews and switching costs (one per world)."""

    section = "resource_manager"

    def __init__(self, scenario: Scenario, policy: PMO):
        rm = policy.resource_manager
        self.rule = ALLOCATION_RULES[rm.allocation]
        self.static_rule = rm.allocation in STATIC_RULES
        self.fifo = rm.allocation == "fifo"
        self.backfill = rm.backfill
        self.switch_cost = rm.switch_cost_days
        self.wip_limit = rm.wip_limit
        self.backlog: list[ProjectState] = []

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        self.env = world.env
        self.pools = world.pools

    # ------------------------------------------------------------------ admission

    def enqueue(self, projects: Sequence[ProjectState]) -> None:
        self.backlog.extend(projects)
        self._admit_from_backlog()

    def project_closed(self) -> None:
        self._admit_from_backlog()

    def _admit_from_backlog(self) -> None:
        now = self.env.now
        rule = self.rule
        world = self.world
        while self.backlog and (self.wip_limit is None or world.wip < self.wip_limit):
            best = min(self.backlog, key=lambda p: (rule(p, now), p.arrival, p.index))
            self.backlog.remove(best)
            world.admit(best)

    # ------------------------------------------------------------------ queues

    def task_ready(self, task: TaskState) -> None:
        proj = task.project
        task.fifo_key = (proj.arrival, task.ready_time, proj.index, task.index)
        if self.static_rule:
            # The rank never changes, so a sorted queue stays sorted: sort only after joins.
            task.rank = task.fifo_key if self.fifo else (self.rule(proj, task.ready_time), *task.fifo_key)
            task.pool.ready_sorted = False
        task.pool.ready.append(task)

    def withdraw(self, project: ProjectState) -> None:
        for pool in self.pools:
            if any(t.project is project for t in pool.ready):
                pool.ready = [t for t in pool.ready if t.project is not project]

    # ------------------------------------------------------------------ dispatch

    def dispatch(self) -> None:
        for pool in self.pools:
            if pool.ready and pool.idle:
                self._dispatch(pool)

    def _rank_dynamic(self, ready: list[TaskState]) -> None:
        """A dynamic rule (remaining effort, slack) ranks afresh at every dispatch."""
        if len(ready) > 1:
            now = self.env.now
            rule = self.rule
            keys: dict[ProjectState, float] = {}  # one rule evaluation per project per dispatch

            def key(t: TaskState) -> tuple[float, ...]:
                k = keys.get(t.project)
                if k is None:
                    k = keys[t.project] = rule(t.project, now)
                return (k, *t.fifo_key)

            ready.sort(key=key)

    def _dispatch(self, pool: PoolState) -> None:
        """Give the pool's free people to its ready tasks, best-ranked first."""
        ready = pool.ready
        if not self.static_rule:
            self._rank_dynamic(ready)
        elif not pool.ready_sorted:  # NOTE: inlined for speed (static rules: sort after joins)
            ready.sort(key=_rank)
            pool.ready_sorted = True
        now = self.env.now
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
        """With switching costs: people who need no set-up (fresh, or already on the task's
        project) first, then the longest idle; taken off every idle list they are on."""
        idle, k, proj = pool.idle, task.people, task.project
        fits = [p for p in idle if p.last_project is None or p.last_project is proj]
        if len(fits) < k:
            fits += [p for p in idle if not (p.last_project is None or p.last_project is proj)]
        crew = fits[:k]
        for person in crew:
            for p in person.pools:
                p.idle.remove(person)
        return crew

    def _start(self, task: TaskState, pool: PoolState) -> None:
        if self.switch_cost == 0:  # NOTE: inlined for speed: the head of the idle list
            k = task.people
            crew = pool.idle[:k]
            del pool.idle[:k]
            for person in crew:
                if len(person.pools) > 1:  # cross-skilled: free in the other pools too
                    for p in person.pools:
                        if p is not pool:
                            p.idle.remove(person)
            self.world.start_task(task, crew, 0.0)
            return
        crew = self._pick_crew(task, pool)
        proj = task.project
        setup = 0.0
        if any(p.last_project is not None and p.last_project is not proj for p in crew):
            setup = self.switch_cost
        self.world.start_task(task, crew, setup)


def _rank(task: TaskState) -> tuple[float, ...]:
    return task.rank
