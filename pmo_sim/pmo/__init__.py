"""The PMO's roles: one module per role, each a plug-in behind the role contract.

:data:`ROLES` lists the role classes in the order the world calls them; :func:`roles_for`
builds the roles one policy needs (a role whose policy section is absent, and which has
nothing to do without it, is left out). The contract the engine offers and expects is in
:mod:`pmo_sim.engine.roles`; ``docs/architecture.md`` says how to add a lever or a role.
"""

from __future__ import annotations

from pmo_sim.engine.roles import Role
from pmo_sim.pmo.change_manager import ChangeManager
from pmo_sim.pmo.dependencies import Dependencies
from pmo_sim.pmo.governance import Governance
from pmo_sim.pmo.innovation_manager import InnovationManager
from pmo_sim.pmo.resource_manager import ResourceManager
from pmo_sim.pmo.technology_manager import TechnologyManager
from pmo_sim.pmo.training_manager import TrainingManager
from pmo_sim.scenario.models import Scenario

#: The roles, in the order their hooks are called (the resource manager allocates). An arriving
#: project meets governance's funding board first, then the dependency gate, then the resource
#: manager's backlog (the allocator is not asked on arrival: it takes what the others let go on).
ROLES: tuple[type[Role], ...] = (
    ResourceManager, ChangeManager, TrainingManager, TechnologyManager, InnovationManager, Governance,
    Dependencies,
)


def roles_for(scenario: Scenario, policy_name: str) -> list[Role]:
    """Fresh role instances for one (policy, replication)."""
    policy = scenario.policies[policy_name]
    return [cls(scenario, policy) for cls in ROLES if cls.wanted(scenario, policy)]


__all__ = ["ROLES", "ChangeManager", "Dependencies", "Governance", "InnovationManager", "ResourceManager",
           "TechnologyManager", "TrainingManager", "roles_for"]
