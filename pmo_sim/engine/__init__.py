"""The simulation engine: one replication of a scenario under one or more policies.

:func:`run_replication` is the one picklable function the experiment layer calls. It draws
the replication's Plan once and runs every requested policy on it, so that all policies of a
replication see the same world (common random numbers). The engine knows nothing of files,
pandas, Click or plots; it returns flat :class:`~pmo_sim.engine.records.ReplicationRecords`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.engine.world import World
from pmo_sim.errors import UsageError
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.models import Scenario

_SAMPLERS: OrderedDict[int, tuple[Scenario, Sampler]] = OrderedDict()


def sampler_for(scenario: Scenario) -> Sampler:
    """The scenario's Sampler, compiled once and reused across replications."""
    key = id(scenario)
    hit = _SAMPLERS.get(key)
    if hit is not None and hit[0] is scenario:
        _SAMPLERS.move_to_end(key)
        return hit[1]
    sampler = Sampler(scenario)
    _SAMPLERS[key] = (scenario, sampler)
    while len(_SAMPLERS) > 8:
        _SAMPLERS.popitem(last=False)
    return sampler


def run_replication(scenario: Scenario, replication: int, seed: int,
                    policies: Sequence[str] | None = None, trace: bool = False
                    ) -> list[ReplicationRecords]:
    """Simulate replication ``replication`` of every requested policy on one shared Plan."""
    names = list(scenario.policies) if policies is None else list(policies)
    unknown = [n for n in names if n not in scenario.policies]
    if unknown:
        raise UsageError(f"unknown policy {unknown[0]!r}; the scenario has: "
                         + ", ".join(scenario.policies))
    plan = sampler_for(scenario).plan(seed, replication)
    return [World(scenario, name, plan, trace=trace).run() for name in names]


__all__ = ["ReplicationRecords", "World", "run_replication"]
