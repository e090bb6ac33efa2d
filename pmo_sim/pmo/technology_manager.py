"""The technology manager: tool adoptions as J-curves.

On an adoption's ``day``, everyone in its ``skills`` pools (all pools when empty), new hires
included, loses ``dip`` of their productivity, then recovers linearly over ``dip_days`` to
``1 + productivity_gain`` times what they had: the classic J-curve of a new tool. Before the
adoption day the tool changes nothing. Its ``cost`` is paid on that day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_sim.engine.roles import Accounts, Role, WorldAPI, payment
from pmo_sim.engine.state import PoolRamp

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO
    from pmo_sim.scenario.policy import TechnologyManager as TechnologySpec


class TechnologyManager(Role):
    """Adopts the policy's tools on their days; pays for them."""

    section = "technology_manager"

    def __init__(self, scenario: Scenario, policy: PMO):
        assert policy.technology_manager is not None
        self.spec: TechnologySpec = policy.technology_manager
        self.cost = self.cost_pv = 0.0

    def attach(self, world: WorldAPI) -> None:
        for ad in self.spec.adoptions:
            if ad.day >= world.t1:
                continue
            pools = [world.pool_by_name[s] for s in ad.skills] if ad.skills else world.pools
            for pool in pools:
                world.add_pool_ramp(pool, PoolRamp(ad.day, ad.day + ad.dip_days, 1 - ad.dip,
                                                   1 + ad.productivity_gain))
            nominal, present = payment(ad.cost, ad.day, world.t0, world.delta)
            self.cost += nominal
            self.cost_pv += present

    def report(self, acc: Accounts) -> None:
        acc.pay("technology_cost", self.cost, self.cost_pv)
