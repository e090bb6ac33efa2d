"""Every pool's ready queue under a dynamic project-level rule (``srpt``, ``wsjf``,
``min_slack``), and where each project waits: what the resource manager tells of tasks that
join, start or are withdrawn and of projects whose work changes, routed to the pools'
:class:`~pmo_sim.pmo.dynamic_queue.DynamicQueue` (whose docstring explains the ranking)."""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING

from pmo_sim.pmo.dynamic_queue import DynamicQueue, fifo_key

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState, TaskState
    from pmo_sim.rules.allocation import RestKey, RestPart


class DynamicQueues:
    """Every pool's queue under a dynamic project-level rule, and where each project waits.

    The resource manager tells it when a task joins, starts or is withdrawn, when a project's
    last running task ends and when a project's work changes otherwise (rework, an idea).
    """

    def __init__(self, pools: int, steady: bool, still: bool = False,
                 at_rest: tuple[RestPart, RestKey] | None = None, falls: float | None = None):
        #: per project, the origin of a bound of its key (DynamicQueue.bounds), until its
        #: efforts change
        self.bounds: dict[ProjectState, float] = {}
        self.queues = [DynamicQueue(still, at_rest, adaptive=steady, falls=falls if steady else None,
                                    bounds=self.bounds) for _ in range(pools)]
        self.steady = steady  # resting projects keep their order (queues may keep them apart)
        self.where: dict[ProjectState, set[int]] = {}  # pools where a project has waiting tasks

    def push(self, task: TaskState, pool: int) -> None:
        """A task is ready and waits in the pool (NOTE: ``DynamicQueue.add`` written out)."""
        proj = task.project
        queue = self.queues[pool]
        crews = queue.crews
        crews[task.people] = crews.get(task.people, 0) + 1
        waiting = queue.projects.get(proj)
        if waiting is not None:
            if waiting[-1].fifo_key > task.fifo_key:
                insort(waiting, task, key=fifo_key)  # ready at the same instant, out of file order
            else:
                waiting.append(task)
            if proj.running or not self.steady:
                return
        else:
            queue.projects[proj] = [task]
            where = self.where.get(proj)
            if where is None:
                where = self.where[proj] = set()
            where.add(pool)
            if proj.running or not self.steady:
                queue.live.add(proj)
                if queue.lazy:
                    queue.relive.add(proj)
                return
            if not queue.steady:  # a plain queue ranks it afresh; the steady ones take its key again
                queue.live.add(proj)
        # At rest, one more ready task: its key is taken again (min_slack's chain may be longer).
        queues = self.queues
        for i in self.where[proj]:
            if queues[i].steady:
                queues[i].unsettled.add(proj)

    def started(self, task: TaskState) -> None:
        """A task started: its project is live (if it was not), and the task leaves its queues.

        NOTE: written out, the queue's part included (once per task started); ``drop`` does
        the same for a project withdrawn.
        """
        proj = task.project
        queues = self.queues
        where = self.where.get(proj)
        if where is None:
            return  # it waited in no pool (a task that needs nothing)
        if self.steady and len(proj.running) == 1:
            for i in where:
                queue = queues[i]
                if queue.steady:  # (a plain queue counts every waiting project live)
                    queue.live.add(proj)
                    queue.unsettled.discard(proj)
                    queue.stamps.pop(proj, None)
                    if queue.lazy:
                        queue.relive.add(proj)
        people = task.people
        for pool, _ in task.needs:
            i = pool.index
            queue = queues[i]
            waiting = queue.projects.get(proj)
            if waiting is None:
                continue
            waiting.remove(task)
            crews = queue.crews
            left = crews[people] - 1
            if left:
                crews[people] = left
            else:
                del crews[people]
            if waiting:
                continue
            del queue.projects[proj]  # its last waiting task here started
            where.discard(i)
            queue._forget(proj)

    def changed(self, proj: ProjectState) -> None:
        """The project's last running task ended, or its remaining work changed."""
        self.bounds.pop(proj, None)  # efforts may have changed: its key may have fallen
        if not self.steady:
            return
        queues = self.queues
        for i in self.where.get(proj, ()):
            queue = queues[i]
            if not queue.steady:
                continue
            if not proj.running:
                queue.rests(proj)
            elif queue.lazy and proj in queue.live:
                queue.relive.add(proj)  # its entry's bound may be above its key now

    def withdraw(self, proj: ProjectState) -> None:
        self.bounds.pop(proj, None)
        for i in self.where.pop(proj, ()):
            self.queues[i].drop(proj)
