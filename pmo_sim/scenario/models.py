"""The scenario, as an immutable validated tree (SPEC section 4 and 5).

A :class:`Scenario` is what the world is (resources, projects, the intake pipeline, change
requests, the workforce) plus what the PMO may decide (``pmo`` and the ``policies`` that are
compared). Models are frozen pydantic models with ``extra="forbid"``: an unknown key is an
error, never silently ignored. Cross-references (a task's skill naming a pool, precedence
names, crew sizes, programme names) are checked by :mod:`pmo_sim.scenario.checks`, which
reports every problem with its dotted path.

``policies`` here is already *resolved*: each entry is the full PMO setting obtained by
deep-merging the policy's mapping over ``pmo`` (the loader does the merge, so the location
of every value in the YAML file is kept for error messages).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from pmo_sim.scenario.base import Model, Name, NonNeg, Pos
from pmo_sim.scenario.dists import Fixed, RandomValue, fixed
from pmo_sim.scenario.policy import (
    PMO,
    Adoption,
    ChangeManager,
    GapDriven,
    Governance,
    InnovationManager,
    Programme,
    ResourceManager,
    StageGate,
    TechnologyManager,
    TrainingManager,
)
from pmo_sim.scenario.sensitivity import Sensitivity

# --------------------------------------------------------------------------- the world


class Pool(Model):
    """A skill pool of individual, interchangeable-but-distinct people."""

    headcount: int = Field(ge=1, le=100_000)
    day_rate: NonNeg = 0.0
    productivity: Pos = 1.0


class TaskSpec(Model):
    name: Name
    skill: Name
    effort: RandomValue
    people: int = Field(1, ge=1)
    after: list[Name] = Field(default_factory=list)


class _ProjectFields(Model):
    due: RandomValue | None = None
    priority: RandomValue = Field(default_factory=lambda: fixed(3))
    value_per_day: RandomValue = Field(default_factory=lambda: fixed(0))
    completion_value: RandomValue = Field(default_factory=lambda: fixed(0))
    budget: RandomValue | None = None
    tasks: list[TaskSpec] = Field(min_length=1)


class ProjectSpec(_ProjectFields):
    """An explicit project of the portfolio."""

    name: Name
    arrival: NonNeg = 0.0


class Template(_ProjectFields):
    """A kind of project the intake generates; attributes are drawn per generated project."""

    name: Name
    weight: Pos = 1.0


class Intake(Model):
    arrivals: RandomValue
    count: int | None = Field(None, ge=0)
    templates: list[Template] = Field(min_length=1)


class Changes(Model):
    per_project_per_year: NonNeg
    effort_added: RandomValue = Field(default_factory=lambda: fixed(0))
    disruption: RandomValue = Field(default_factory=lambda: fixed(0))


class Workforce(Model):
    attrition_per_year: NonNeg = 0.0
    hiring_delay: RandomValue = Field(default_factory=lambda: fixed(0))
    new_hire_productivity: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    ramp_up_days: NonNeg = 0.0


# --------------------------------------------------------------------------- the scenario


class Scenario(Model):
    name: Name
    description: str = ""
    horizon: Pos
    warmup: NonNeg = 0.0
    days_per_year: Pos = 250.0
    currency: str = "EUR"
    discount_rate: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = 0.0
    resources: dict[Name, Pool] = Field(min_length=1)
    projects: list[ProjectSpec] = Field(default_factory=list)
    intake: Intake | None = None
    changes: Changes | None = None
    workforce: Workforce | None = None
    pmo: PMO = Field(default_factory=PMO)
    policies: dict[Name, PMO] = Field(default_factory=dict)
    sensitivity: Sensitivity | None = None  # what `pmo-sim sensitivity` varies; no effect on a run

    @model_validator(mode="after")
    def _default_policy(self) -> Scenario:
        if not self.policies:
            # No `policies` section: one policy, named "default", equal to `pmo`.
            object.__setattr__(self, "policies", {"default": self.pmo})
        return self

    @property
    def policy_names(self) -> list[str]:
        return list(self.policies)

    @property
    def pool_names(self) -> list[str]:
        return list(self.resources)


__all__ = [
    "Adoption", "ChangeManager", "Changes", "Fixed", "GapDriven", "Governance", "InnovationManager",
    "Intake", "PMO", "Pool", "Programme", "ProjectSpec", "ResourceManager", "Scenario",
    "StageGate", "TaskSpec", "Template", "TechnologyManager", "TrainingManager", "Workforce",
]
