"""The innovation manager: time for improvement work, and the ideas it yields.

Everyone spends ``time_fraction`` of their time on improvement work (their project work goes
that much slower). Ideas arrive as a Poisson process at ``ideas_per_year``; each succeeds with
``success_probability`` and then cuts the effort of every not-yet-started task of the open
projects by ``effort_reduction`` (running tasks keep the duration fixed when they started).
Idea times and outcomes come from the replication's innovation stream, so two policies with
the same innovation settings see the same ideas.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from pmo_sim.sampling import Source, stream

if TYPE_CHECKING:
    from pmo_sim.engine.world import World


def start(world: World) -> None:
    inn = world.policy.innovation_manager
    if inn is None or inn.ideas_per_year <= 0 or inn.success_probability <= 0:
        return
    rng = stream(world.plan.seed, world.plan.replication, Source.INNOVATION)
    n = rng.poisson(inn.ideas_per_year * world.t1 / world.scenario.days_per_year)
    times = world.t1 * rng.random(n)
    times.sort()
    successes = times[rng.random(n) < inn.success_probability]
    if len(successes):
        world.env.process(_ideas(world, successes.tolist(), inn.effort_reduction))


def _ideas(world: World, times: list[float], reduction: float) -> Generator[Any, Any, None]:
    env = world.env
    for t in times:
        yield env.timeout(t - env.now)
        for proj in world.projects:
            if proj.status == "open":
                for task in proj.tasks:
                    if task.start != task.start:
                        task.effort *= 1 - reduction
