"""The simulation engine: one replication of a scenario under one policy.

:class:`World` runs one (policy, replication) on a Plan drawn by :mod:`pmo_sim.sampling`,
with the PMO roles it is given (:mod:`pmo_sim.engine.roles` states the contract). The engine
knows nothing of files, pandas, Click or plots, and no PMO role by name; it returns flat
:class:`~pmo_sim.engine.records.ReplicationRecords`.
"""

from __future__ import annotations

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.engine.roles import Accounts, Allocator, Role, WorldAPI
from pmo_sim.engine.world import World

__all__ = ["Accounts", "Allocator", "ReplicationRecords", "Role", "World", "WorldAPI"]
