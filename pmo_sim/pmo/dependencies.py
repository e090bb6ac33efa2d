"""The dependency gate: a project is admitted only after the projects it depends on (SPEC 10.1).

Dependencies (``depends_on``) are structure of the portfolio, not a lever, so this role is
present in every world whose scenario has them, whatever the policy. It comes after the
funding board in the calling order: a funded project (every project, without funding) reaches
the gate, which holds it until all its dependencies are completed and then lets it go on to
the resource manager's backlog and WIP gate.

- A dependency that is **cancelled** (stage gate, or its own dependency) or **rejected** (by
  the funding board) cancels the projects waiting for it, with ``cancel_reason: dependency``,
  wherever they wait — at this gate, or still a proposal before the board; their own
  dependents follow in turn (a cascade). A project arriving after one of its dependencies
  failed is cancelled on arrival.
- A **blocked** project — one whose dependency arrives only at or after the horizon, so is not
  in the simulated portfolio — is never admitted: it waits at the gate, and ends the run with
  status ``backlog`` (funded, not admitted), unless one of its other dependencies fails.

Statuses are the world's (``completed``, ``cancelled``, ``rejected``, ``proposal``...): the role
reads them and owns only the list of projects it holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_sim.engine.roles import Role, WorldAPI

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO


class Dependencies(Role):
    """Holds projects until their dependencies complete; cancels them when one fails."""

    @classmethod
    def wanted(cls, scenario: Scenario, policy: PMO) -> bool:
        templates = scenario.intake.templates if scenario.intake else []
        return any(spec.depends_on for spec in [*scenario.projects, *templates])

    def __init__(self, scenario: Scenario, policy: PMO):
        # project index -> indices of the dependencies it still waits for
        self.waiting: dict[int, set[int]] = {}

    def attach(self, world: WorldAPI) -> None:
        self.world = world

    def on_arrival(self, project: ProjectState) -> bool:
        plan = project.plan
        if not plan.depends_on and not plan.blocked:
            return True
        if project.dependency_failed(self.world.projects):
            self.world.cancel(project, "dependency")
            return False
        deps = [self.world.projects[d] for d in plan.depends_on]
        pending = {d.index for d in deps if d.status != "completed"}
        if not pending and not plan.blocked:
            return True
        self.waiting[project.index] = pending
        return False

    def on_close(self, project: ProjectState) -> None:
        self.waiting.pop(project.index, None)
        world = self.world
        freed = []  # passed on together: the WIP gate's rule says who is admitted first
        for d in project.plan.dependents:
            dependent = world.projects[d]
            pending = self.waiting.get(d)
            if project.status == "completed":
                if pending is not None:
                    pending.discard(project.index)
                    if not pending and not dependent.plan.blocked:
                        del self.waiting[d]
                        freed.append(dependent)
            elif pending is not None or dependent.status == "proposal":
                # Waiting here or before the board; one yet to arrive is cancelled on arrival.
                world.cancel(dependent, "dependency")
        if freed:
            world.pass_on(freed, self)
