"""A project's work changing while it runs: rework, pauses, and efforts scaled.

A mixin of :class:`~pmo_sim.engine.world.World` (it uses the world's clock and allocator),
kept apart because what a change does to a project is a story of its own:

- **Rework.** A change adds ``fraction`` × the project's remaining effort (summed task by task,
  in file order; fixed-``duration`` tasks have none). It is spread pro rata over the effort
  tasks not started yet; if every effort task left is running, it becomes a new task after
  the running ones, for the kind of crew that has the most left to do.
- **Pauses.** A change's ``disruption`` pauses the project's work that long: nothing of it
  starts, and running tasks finish later by the pause time they lived through (the world's
  task completion checks it); when the pause ends the project's waiting tasks may start.
- **Efforts scaled.** A role may scale the effort of the tasks not started yet (an idea that
  makes the work smaller): of an admitted project, its tasks not started; of a project not
  admitted yet, every task's planned effort.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_sim.engine.state import ProjectState, TaskState

if TYPE_CHECKING:
    from pmo_sim.engine.clock import Clock
    from pmo_sim.engine.roles import Allocator


class Rework:
    """Changes to a project's work (mixed into World)."""

    __slots__ = ()  # (the world's are World's)

    env: Clock
    allocator: Allocator
    rework_total: float

    def resume(self, project: ProjectState) -> None:  # provided by World
        raise NotImplementedError

    def scale_pending_effort(self, project: ProjectState, factor: float) -> None:
        """Scale the effort of the tasks not yet started; a fixed-``duration`` task has no
        effort (SPEC 10.4: it takes that long whatever the crew) and keeps its days."""
        project.efforts_changed()
        if project.admitted is None:
            # Not admitted yet (backlog, dependency gate): no task states; the efforts its
            # tasks will be built with are scaled, and the backlog ranks it again.
            efforts = project.efforts
            fixed = project.plan.network.is_duration
            for i, effort in enumerate(efforts):
                if not fixed[i]:
                    efforts[i] = effort * factor
            project.pending_effort = sum(efforts)
            self.allocator.project_changed(project)
            return
        pending = 0.0
        for task in project.tasks:
            if task.start is None:
                if not task.is_duration:
                    task.effort *= factor
                pending += task.effort
        if project.tasks:
            project.pending_effort = pending
        self.allocator.project_changed(project)

    def apply_change(self, project: ProjectState, fraction: float, disruption: float) -> None:
        now = self.env.now
        if fraction > 0:
            added = fraction * project.work_left(now)
            if added > 0:
                self._add_rework(project, added)
                self.allocator.project_changed(project)
        if disruption > 0:
            until = now + disruption
            added_pause = until - max(now, project.paused_until)
            if added_pause > 0:
                down = project.down
                # With a calendar, the working time the pause takes: its days inside down-time
                # stand still anyway, and are not lost twice by the tasks running through them.
                project.pause_total += (added_pause if down is None
                                        else down.open_between(until - added_pause, until))
                project.paused_until = until
                self.env.timeout(disruption).callbacks.append(lambda _e: self.resume(project))

    def _add_rework(self, proj: ProjectState, added: float) -> None:
        proj.efforts_changed()
        proj.rework += added
        if proj.counted:
            self.rework_total += added  # type: ignore[misc]  # (a slot of World)
        pending = [t for t in proj.tasks if t.start is None]
        # Rework is effort: it goes to tasks done by people, never to a fixed duration.
        base = sum(t.effort for t in pending if not t.is_duration)
        if base > 0:
            for t in pending:  # spread over the work not yet started, pro rata
                if not t.is_duration:
                    t.effort += added * t.effort / base
            proj.pending_effort = sum(t.effort for t in pending)
            return
        # Everything left is running: rework becomes a new task after the running ones,
        # for the kind of crew that has the most left to do.
        now = self.env.now
        lead = max((t for t in proj.running if not t.is_duration), key=lambda t: t.remaining(now))
        index = len(proj.tasks)
        task = TaskState(proj, added, (index, f"rework-{index + 1}", lead.pool, lead.people, (), lead.needs,
                                       lead.is_duration, lead.speed), len(proj.running))
        for t in proj.running:
            t.succs = (*t.succs, index)
        proj.tasks.append(task)
        proj.order.append(index)
        proj.unfinished += 1
        proj.pending_effort += added
