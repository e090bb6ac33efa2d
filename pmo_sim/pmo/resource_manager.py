"""The resource manager: who gets admitted, who works on what, and how capacity changes.

It is the world's allocator (:class:`~pmo_sim.engine.roles.Allocator`):

- **Admission and the WIP gate** (:mod:`pmo_sim.pmo.backlog`). Projects that arrive (and
  that no other role holds) wait in the backlog; while fewer than ``wip_limit`` projects are
  open, the backlog project ranked first by the allocation rule is admitted (ties: earliest
  arrival, then file order). Under a
  task-level rule (``lst``, ``lft``) a project ranks by its earliest CPM latest start (finish).
- **Dispatch** (:mod:`pmo_sim.pmo.dispatch`). Free capacity goes to the best-ranked ready task
  whose needs can all be met at once (:mod:`pmo_sim.rules.allocation`; ties: project arrival,
  task ready time, project and task file order). A disrupted (paused) project starts nothing;
  in calendar down-time nothing starts. Only the pools an event touched are looked at.
- **Backfill** (default on): a lower-ranked task may take capacity the top-ranked task cannot
  yet use; with ``backfill: false`` nothing jumps a top-ranked task still waiting for its crew.
- **Crews** are the longest-idle people; with ``switch_cost_days`` people already on the
  task's project (or fresh) are preferred, and a crew in which someone comes from another
  project pays that set-up time before work starts.
- **Staffing plans and contractors** (:mod:`pmo_sim.pmo.capacity_levers`).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pmo_sim.engine.roles import Accounts, Allocator, WorldAPI
from pmo_sim.pmo import dispatch as dispatch_module
from pmo_sim.pmo.backlog import Backlog
from pmo_sim.pmo.capacity_levers import CapacityLevers
from pmo_sim.pmo.dispatch import NeedsQueue, StaticQueue, dispatch_global, rank_of, take
from pmo_sim.pmo.dynamic_needs import DynamicNeedsQueue
from pmo_sim.pmo.dynamic_queue import DynamicQueue
from pmo_sim.pmo.dynamic_queues import DynamicQueues
from pmo_sim.pmo.latest import LatestTimes
from pmo_sim.pmo.ranks import fifo_key
from pmo_sim.rules.allocation import (
    ALLOCATION_RULES,
    LIVE_FALLS,
    LIVE_RATES,
    RESTING_FORMS,
    STATIC_RULES,
    STEADY_RULES,
    STILL_RULES,
    TASK_RULES,
)

if TYPE_CHECKING:
    from pmo_sim.engine.state import Person, PoolState, ProjectState, TaskState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO


#: When some task holds several pools, ready tasks wait in a
#: :class:`~pmo_sim.pmo.dispatch.NeedsQueue` (static rules) or a
#: :class:`~pmo_sim.pmo.dynamic_needs.DynamicNeedsQueue` (project-level rules); False sorts
#: every ready task at each allocation instead, the plain way the tests compare them with
#: (the same starts, in O(n log n) per allocation).
NEEDS_QUEUE = True


class ResourceManager(Allocator):
    """Backlog, WIP gate, ready queues, crews, switching costs and capacity levers."""

    section = "resource_manager"

    def __init__(self, scenario: Scenario, policy: PMO):
        rm = policy.resource_manager
        self.rule = ALLOCATION_RULES[rm.allocation]
        self.static_rule = rm.allocation in STATIC_RULES
        self.still_rule = rm.allocation in STILL_RULES
        self.resting_form = RESTING_FORMS.get(rm.allocation)
        self.live_falls = LIVE_FALLS.get(rm.allocation)
        self.live_rate = LIVE_RATES.get(rm.allocation)
        self.task_rule = rm.allocation in TASK_RULES
        self.steady_rule = rm.allocation in STEADY_RULES
        self.fifo = rm.allocation == "fifo"
        self.latest_start = rm.allocation == "lst"
        self.backfill = rm.backfill
        self.batch_simultaneous = rm.batch_simultaneous
        self.switch_cost = rm.switch_cost_days
        self.wip_limit = rm.wip_limit
        self.backlog = Backlog(self._task_rule_project_key if self.task_rule else self.rule,
                               ordered=self.static_rule or self.task_rule or self.steady_rule)
        self.global_mode = _several_pools(scenario)
        self.levers = CapacityLevers(scenario, rm) if (rm.staffing or rm.contractors) else None
        contractors = self.levers is not None and bool(rm.contractors)
        idle = set() if contractors else {"on_task_start"}
        if not contractors and self.static_rule:
            idle.add("on_task_finish")  # a dynamic rule re-ranks a project whose tasks all ended
        self.idle_hooks = frozenset(idle)
        if self.levers is None and not self.static_rule:
            # NOTE: on_task_finish without the capacity levers' branch, bound once (hot path:
            # every task finishing under a dynamic rule calls it).
            self.on_task_finish = self._ranked_task_finish  # type: ignore[method-assign]
        self._latest: LatestTimes | None = None  # lst/lft: every project's CPM, when first needed

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        self.env = world.env
        self.pools = world.pools
        # One queue per pool; under a static rule the same queues typed as such (hot path).
        self.static_queues: list[StaticQueue] = (
            [StaticQueue() for _ in world.pools] if self.static_rule else [])
        # When some task holds several pools, every pool's ready tasks are ranked together:
        # in a NeedsQueue (static rules) or a DynamicNeedsQueue; NEEDS_QUEUE False ranks them
        # all afresh at each allocation instead, through per-pool queues (the tests' reference).
        together = self.global_mode and NEEDS_QUEUE
        steady = self.steady_rule and not self.global_mode
        self.dynamic = (None if self.static_rule or together
                        else DynamicQueues(len(world.pools), steady, still=steady and self.still_rule,
                                           at_rest=self.resting_form if steady else None,
                                           falls=self.live_falls if steady else None))
        self.queues: list[StaticQueue | DynamicQueue] = (
            list(self.static_queues) if self.dynamic is None else list(self.dynamic.queues))
        self.needs_queue: NeedsQueue | DynamicNeedsQueue | None = None
        if together:
            self.needs_queue = (NeedsQueue() if self.static_rule else DynamicNeedsQueue(
                self.steady_rule, still=self.steady_rule and self.still_rule,
                at_rest=self.resting_form if self.steady_rule else None, falls=self.live_falls,
                live_rate=self.live_rate))
        # what is told of tasks started, projects changed or withdrawn (dynamic rules)
        self.ranking: DynamicQueues | DynamicNeedsQueue | None = (
            self.needs_queue if isinstance(self.needs_queue, DynamicNeedsQueue) else self.dynamic)
        self.waiting_free: list[TaskState] = []  # tasks that need nothing, held by a pause
        if self.levers is not None:
            self.levers.attach(world)
        if not self.global_mode:
            # NOTE: when every task holds one pool (its skill), task_ready and dispatch are
            # the forms below, bound once, without the branches for the other cases (hot path).
            self.dispatch = (  # type: ignore[method-assign]
                self._dispatch_one_pool if self.dynamic is None else self._dispatch_ranked_one_pool)
            self.start_one = self.start  # bound once: handed to every allocation (hot path)
            if self.levers is None and not self.task_rule:
                self.task_ready = self._task_ready_one_pool  # type: ignore[method-assign]

    # ------------------------------------------------------------------ admission

    def enqueue(self, projects: Sequence[ProjectState]) -> None:
        for project in projects:
            self.backlog.add(project)
        self._admit_from_backlog()

    def project_closed(self) -> None:
        self._admit_from_backlog()

    def _admit_from_backlog(self) -> None:
        now = self.env.now
        world = self.world
        while self.backlog and (self.wip_limit is None or world.wip < self.wip_limit):
            world.admit(self.backlog.pop(now))

    def _task_rule_project_key(self, project: ProjectState, now: float) -> float:
        """Under ``lst``/``lft`` a project waits in the backlog by the earliest latest start
        (finish) of its tasks."""
        return self._latest_times().keys[project.index]

    def _cpm(self, project: ProjectState) -> tuple[list[float], list[float], float]:
        """The project's CPM latest starts and finishes (absolute days) and deadline."""
        return self._latest_times().of(project)

    def _latest_times(self) -> LatestTimes:
        if self._latest is None:
            self._latest = LatestTimes(self.world.projects, self.latest_start)
        return self._latest

    # ------------------------------------------------------------------ queues

    def task_ready(self, task: TaskState) -> None:
        proj = task.project
        task.fifo_key = (proj.arrival, task.ready_time, proj.index, task.index)
        if self.static_rule:
            if self.task_rule:
                ls, lf, deadline = self._cpm(proj)
                inside = task.index < len(ls)  # rework tasks come after the plan: its deadline
                task.latest_start = ls[task.index] if inside else deadline
                task.latest_finish = lf[task.index] if inside else deadline
                task.rank = (self.rule(task, task.ready_time), *task.fifo_key)
            else:
                # The rank never changes, so a queue never needs re-sorting.
                task.rank = task.fifo_key if self.fifo else (self.rule(proj, task.ready_time), *task.fifo_key)
        if not task.needs:
            self.waiting_free.append(task)  # needs nothing: starts at the next allocation
            return
        task.queued = True
        world = self.world
        touched = world.touched
        if self.needs_queue is not None:
            self.needs_queue.push(task)
            for pool, _ in task.needs:
                world.touch(pool)
            if self.levers is not None:
                self.levers.task_ready(task)
            return
        for pool, units in task.needs:
            i = pool.index
            if self.static_rule:
                self.static_queues[i].push(task, units)
            else:
                self.dynamic.push(task, i)  # type: ignore[union-attr]
            if not touched[i]:  # NOTE: world.touch() inlined for speed
                touched[i] = True
                world.touched_pools.append(i)
        if self.levers is not None:
            self.levers.task_ready(task)

    def _task_ready_one_pool(self, task: TaskState) -> None:
        """:meth:`task_ready` when every task holds one pool, its skill (no task-level rule, no
        capacity levers), under a static or a dynamic rule."""
        proj = task.project
        task.fifo_key = key = (proj.arrival, task.ready_time, proj.index, task.index)
        task.queued = True
        i = task.pool.index  # type: ignore[union-attr]  # (its one need)
        dynamic = self.dynamic
        if dynamic is None:
            # The rank never changes, so a queue never needs re-sorting.
            task.rank = key if self.fifo else (self.rule(proj, task.ready_time), *key)
            queue = self.static_queues[i]
            if queue.heaps:
                queue.push(task, task.people)
            else:  # NOTE: StaticQueue.push inlined for speed (the queue is one list by rank)
                ready = queue.ready
                insort(ready, task, key=rank_of)
                if len(ready) > dispatch_module.HEAPS_ABOVE:
                    queue._to_heaps()
        elif dynamic.queues[i].steady or dynamic.where:
            dynamic.push(task, i)
        else:
            # NOTE: DynamicQueues.push written out for a plain queue while no queue is steady
            # (the reference's case): the task joins its project's list, in fifo order.
            ranked = dynamic.queues[i]
            crews = ranked.crews
            people = task.people
            crews[people] = crews.get(people, 0) + 1
            waiting = ranked.projects.get(proj)
            if waiting is None:
                ranked.projects[proj] = [task]
            elif waiting[-1].fifo_key > key:
                insort(waiting, task, key=fifo_key)  # ready at the same instant, out of file order
            else:
                waiting.append(task)
        world = self.world
        touched = world.touched
        if not touched[i]:  # NOTE: world.touch() inlined for speed
            touched[i] = True
            world.touched_pools.append(i)

    def withdraw(self, project: ProjectState) -> None:
        self.backlog.remove(project)
        if self.ranking is not None:
            self.ranking.withdraw(project)
        for task in project.tasks:
            task.queued = False
        self.waiting_free = [t for t in self.waiting_free if t.project is not project]

    def project_resumed(self, project: ProjectState) -> None:
        for task in project.tasks:
            if task.queued:
                for pool, _ in task.needs:
                    self.world.touch(pool)

    # ------------------------------------------------------------------ dispatch

    def dispatch(self) -> None:
        if not self.global_mode:  # (bound in this method's place at attach: hot path)
            (self._dispatch_one_pool if self.dynamic is None else self._dispatch_ranked_one_pool)()
            return
        world = self.world
        if world.closed:
            return
        if self.waiting_free:
            self._start_free_tasks()
        touched = world.touched_pools
        if not touched:
            return
        world.touched_pools = []
        flags = world.touched
        for i in touched:
            flags[i] = False
        if isinstance(self.needs_queue, NeedsQueue):
            self.needs_queue.dispatch(self.env._now, self.backfill, self._start_all_needs)
        elif self.needs_queue is not None:
            self.needs_queue.dispatch(self.env._now, self.backfill, self._start_all_needs,
                                      self.rule)
        else:
            self._dispatch_all_pools()

    def _dispatch_one_pool(self) -> None:
        """:meth:`dispatch` under a static rule when every task holds one pool, its skill (none
        needs nothing, so none waits in ``waiting_free``).

        NOTE: the loop over the touched pools written out for one pool, the usual case (a task
        finishing frees one pool's people and readies tasks of the same pool or one other).
        """
        world = self.world
        touched = world.touched_pools
        if not touched or world.closed:
            return
        world.touched_pools = []
        flags, pools, static = world.touched, self.pools, self.static_queues
        if len(touched) == 1:
            i = touched[0]
            flags[i] = False
            pool, queue = pools[i], static[i]
            if pool.idle and (queue.ready or queue.size):  # (a list, or heaps: see StaticQueue)
                queue.dispatch(pool, self.env._now, self.backfill, self.start_one)
            return
        touched.sort()
        for i in touched:
            flags[i] = False
        now = self.env._now  # NOTE: SimPy's ``now`` property, without the call
        for i in touched:
            pool, queue = pools[i], static[i]
            if pool.idle and (queue.ready or queue.size):
                queue.dispatch(pool, now, self.backfill, self.start_one)

    def _dispatch_ranked_one_pool(self) -> None:
        """:meth:`_dispatch_one_pool` under a dynamic rule (NOTE: the same, written out with
        the dynamic queues)."""
        world = self.world
        touched = world.touched_pools
        if not touched or world.closed:
            return
        world.touched_pools = []
        flags, pools = world.touched, self.pools
        dynamic = self.dynamic.queues  # type: ignore[union-attr]  # (bound so: not None)
        if len(touched) == 1:
            i = touched[0]
            flags[i] = False
            pool, ranked = pools[i], dynamic[i]
            if pool.idle and ranked.projects:  # NOTE: not the size property (hot path)
                ranked.dispatch(pool, self.env._now, self.backfill, self.start_one, self.rule)
            return
        touched.sort()
        for i in touched:
            flags[i] = False
        now = self.env._now
        for i in touched:
            pool, ranked = pools[i], dynamic[i]
            if pool.idle and ranked.projects:
                ranked.dispatch(pool, now, self.backfill, self.start_one, self.rule)

    def _dispatch_all_pools(self) -> None:
        now = self.env.now
        seen: dict[int, TaskState] = {}
        for queue in self.queues:
            for task in queue.tasks():
                seen[id(task)] = task
        tasks = list(seen.values())
        if self.static_rule:
            tasks.sort(key=lambda t: t.rank)
        else:
            keys = {t.project: self.rule(t.project, now) for t in tasks}
            tasks.sort(key=lambda t: (keys[t.project], *t.fifo_key))
        dispatch_global(tasks, now, self.backfill, self._start_all_needs)

    def _start_free_tasks(self) -> None:
        now = self.env.now
        waiting, self.waiting_free = self.waiting_free, []
        for task in waiting:
            if task.project.paused_until > now:
                self.waiting_free.append(task)
            else:
                self.world.start_task(task, [], 0.0)
                if self.ranking is not None:
                    self.ranking.started(task)

    def start(self, task: TaskState, pool: PoolState) -> None:
        """Start a one-pool task with the pool's longest-idle people (or the cheapest set-up)."""
        task.queued = False
        if not self.switch_cost:  # NOTE: inlined for speed: the head of the idle list
            k = task.people
            crew = pool.idle[:k]
            del pool.idle[:k]
            for person in crew:
                # Cross-skilled people are free in their other pools too; they are among those
                # with a handover (the flag a finishing task reads, cheaper than len(pools) > 1).
                if person.handover:
                    for p in person.pools:
                        if p is not pool:
                            p.idle.remove(person)
            self.world.start_task(task, crew, 0.0)
        else:
            taken = take(task, self.switch_cost)
            assert taken is not None, "the queue only starts tasks whose crew is free"
            self._start_switching(task, taken)
        dynamic = self.dynamic
        if dynamic is not None:
            queue = dynamic.queues[pool.index]
            proj = task.project
            if queue.steady or proj in dynamic.where:
                dynamic.started(task)
                return
            # NOTE: DynamicQueues.started written out for a task of one pool in a plain queue,
            # while no steady queue holds its project: it leaves its project's list, and the
            # crew count.
            waiting = queue.projects[proj]
            waiting.remove(task)
            crews, people = queue.crews, task.people
            left = crews[people] - 1
            if left:
                crews[people] = left
            else:
                del crews[people]
            if not waiting:
                del queue.projects[proj]  # its last waiting task here started

    def _start_all_needs(self, task: TaskState) -> bool:
        crew = take(task, self.switch_cost)
        if crew is None:
            return False
        task.queued = False
        if self.switch_cost:
            self._start_switching(task, crew)
        else:
            self.world.start_task(task, crew, 0.0)
        if self.ranking is not None:
            self.ranking.started(task)
        return True

    def _start_switching(self, task: TaskState, crew: list[Person]) -> None:
        """Start ``task`` where switching projects costs set-up: paid by a crew of which some
        member's latest task was another project's; the crew's latest project is this one now
        (``Person.last_project``, kept only here: nothing else asks)."""
        self.world.start_task(task, crew, self._setup(task, crew))
        proj = task.project
        for person in crew:
            person.last_project = proj

    def _setup(self, task: TaskState, crew: list) -> float:
        proj = task.project
        if self.switch_cost > 0 and any(p.last_project is not None and p.last_project is not proj
                                        for p in crew if p.kind != "equipment"):
            return self.switch_cost
        return 0.0

    # ------------------------------------------------------------------ contractors

    def on_task_start(self, task: TaskState) -> None:
        assert self.levers is not None
        self.levers.crew_busy(task)

    def on_task_finish(self, task: TaskState) -> None:
        if self.levers is not None:
            self.levers.crew_free(task)
        if self.ranking is not None and not task.project.running:
            self.ranking.changed(task.project)  # nothing else runs: its key stops moving

    def _ranked_task_finish(self, task: TaskState) -> None:
        """:meth:`on_task_finish` under a dynamic rule without capacity levers."""
        proj = task.project
        if not proj.running:
            self.ranking.changed(proj)  # type: ignore[union-attr]  # (a dynamic rule ranks)

    def project_changed(self, project: ProjectState) -> None:
        self.backlog.changed(project)
        if self.ranking is not None:
            self.ranking.changed(project)

    def report(self, acc: Accounts) -> None:
        if self.levers is not None:
            self.levers.report(acc)


def _several_pools(scenario: Scenario) -> bool:
    """Does some task hold several pools at once, or equipment, or nothing at all?"""
    tasks = [t for p in scenario.projects for t in p.tasks]
    if scenario.intake is not None:
        tasks += [t for tpl in scenario.intake.templates for t in tpl.tasks]
    return any(t.needs is not None or t.skill is None for t in tasks)
