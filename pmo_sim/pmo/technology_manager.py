"""The technology manager: tool adoptions as J-curves.

On an adoption's ``day``, everyone in its ``skills`` pools (all pools when empty), new hires
included, loses ``dip`` of their productivity, then recovers linearly over ``dip_days`` to
``1 + productivity_gain`` times what they had: the classic J-curve of a new tool. Its ``cost``
is paid on that day.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pmo_sim.engine.state import Ramp

if TYPE_CHECKING:
    from pmo_sim.engine.world import World


def start(world: World) -> None:
    tech = world.policy.technology_manager
    if tech is None:
        return
    for ad in tech.adoptions:
        if ad.day >= world.t1:
            continue
        pools = [world.pool_by_name[s] for s in ad.skills] if ad.skills else world.pools
        end = ad.day + ad.dip_days
        for pool in pools:
            pool.tech.append(Ramp(ad.day, end, 1 - ad.dip, 1 + ad.productivity_gain))
        if ad.day >= world.t0:
            world.technology_cost += ad.cost
        world.technology_pv += ad.cost * math.exp(-world.delta * ad.day)
