"""The innovation manager: time for improvement work, and the ideas it yields.

Everyone spends ``time_fraction`` of their time on improvement work (their project work goes
that much slower). Ideas arrive as a Poisson process at ``ideas_per_year``; each succeeds with
``success_probability`` and then cuts the effort of every not-yet-started task of the open
projects by ``effort_reduction`` (running tasks keep the duration fixed when they started).
Open is SPEC 4.1's: from arrival until completed or cancelled, admitted or not — a project
waiting in the backlog (or at the dependency gate) has its planned work cut too, as
``projects_open`` counts it; a proposal still waiting for funds is not in the portfolio yet.
Idea times and outcomes come from the replication's innovation stream, so two policies with
the same innovation settings see the same ideas. The function costs ``cost_per_year``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.roles import Accounts, Role, WorldAPI
from pmo_sim.sampling import Source, stream

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO
    from pmo_sim.scenario.policy import InnovationManager as InnovationSpec


#: The statuses of an open project (SPEC 4.1: arrived, not completed or cancelled; the
#: ``backlog`` of one yet to arrive is passed over by its arrival day).
OPEN = ("open", "backlog")


class InnovationManager(Role):
    """Slows project work by the innovation time; applies successful ideas."""

    section = "innovation_manager"

    def __init__(self, scenario: Scenario, policy: PMO):
        assert policy.innovation_manager is not None
        self.spec: InnovationSpec = policy.innovation_manager
        self.days_per_year = scenario.days_per_year

    def attach(self, world: WorldAPI) -> None:
        self.world = world
        inn = self.spec
        world.work_share = 1.0 - inn.time_fraction
        if inn.ideas_per_year <= 0 or inn.success_probability <= 0:
            return
        rng = stream(world.plan.seed, world.plan.replication, Source.INNOVATION)
        n = rng.poisson(inn.ideas_per_year * world.t1 / self.days_per_year)
        times = world.t1 * rng.random(n)
        times.sort()
        successes = times[rng.random(n) < inn.success_probability]
        if len(successes):
            world.env.process(self._ideas(successes.tolist(), inn.effort_reduction))

    def _ideas(self, times: list[float], reduction: float) -> Generator[Any, Any, None]:
        env = self.world.env
        for t in times:
            yield env.timeout(t - env.now)
            now = env.now
            for proj in self.world.projects:  # (in arrival order)
                if proj.arrival > now:
                    break
                if proj.status in OPEN:
                    self.world.scale_pending_effort(proj, 1 - reduction)

    def report(self, acc: Accounts) -> None:
        acc.flow("pmo_cost", self.spec.cost_per_year)
