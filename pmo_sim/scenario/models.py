"""The scenario, as an immutable validated tree (SPEC section 4 and 5).

A :class:`Scenario` is what the world is (resources, projects, the intake pipeline, change
requests, the workforce, the calendar, and the strategy, budget and risk register of
:mod:`pmo_sim.scenario.strategy`) plus what the PMO may decide (``pmo`` and the
``policies`` that are compared); pools and the calendar are defined in
:mod:`pmo_sim.scenario.capacity`. Models are frozen pydantic models with ``extra="forbid"``:
an unknown key is an error, never silently ignored. Cross-references (a task's skill naming a
pool, precedence names, crew sizes, programme names) are checked by
:mod:`pmo_sim.scenario.checks`, which reports every problem with its dotted path.

``estimate_error`` maps a pool to the distribution of the ratio actual / estimated effort of
its tasks (as ``pmo-sim fit`` measures it from a history): every task of that skill, in explicit
and generated projects, takes its sampled effort times one draw of the ratio. The task's written
effort stays its *estimate* (what governance's stage gate compares against).

``policies`` here is already *resolved*: each entry is the full PMO setting obtained by
deep-merging the policy's mapping over ``pmo`` (the loader does the merge, so the location
of every value in the YAML file is kept for error messages).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from pmo_sim.scenario.base import Model, Name, NonNeg, Pos
from pmo_sim.scenario.capacity import AnyPool, Calendar, Closure, EquipmentPool, Pool
from pmo_sim.scenario.dists import Fixed, RandomValue, _Dist, fixed
from pmo_sim.scenario.limits import MAX_INTAKE_COUNT, MAX_MAGNITUDE, MAX_PEOPLE, MAX_PROJECTS, MAX_TASKS
from pmo_sim.scenario.names import check_label
from pmo_sim.scenario.policy import (
    PMO,
    Adoption,
    ChangeManager,
    Contractor,
    Funding,
    GapDriven,
    Governance,
    InnovationManager,
    Mitigation,
    Programme,
    ResourceManager,
    StaffingChange,
    StageGate,
    TechnologyManager,
    TrainingManager,
)
from pmo_sim.scenario.sensitivity import Sensitivity
from pmo_sim.scenario.strategy import (
    AppliesTo,
    Budget,
    Goal,
    Impact,
    ProjectAlignment,
    Risk,
    Strategy,
    TemplateAlignment,
)

# --------------------------------------------------------------------------- the world


class TaskSpec(Model):
    """A task: who it needs (``skill`` + ``people``, or ``needs``) and how much work it is.

    ``effort`` (person-days, done at the crew's productivity) or ``duration`` (days, whatever
    the crew); which combinations are valid is checked in :mod:`pmo_sim.scenario.checks`.
    """

    name: Name
    skill: Name | None = None
    people: int | None = Field(None, ge=1, le=MAX_PEOPLE)
    needs: dict[Name, Annotated[int, Field(ge=1, le=MAX_PEOPLE)]] | None = Field(None, min_length=1)
    effort: RandomValue | None = None
    duration: RandomValue | None = None
    after: list[Name] = Field(default_factory=list, max_length=MAX_TASKS)

    @property
    def amount(self) -> _Dist:
        """What is drawn for the task: its effort, or its duration for a fixed-duration task."""
        drawn = self.effort if self.effort is not None else self.duration
        assert drawn is not None, "validated scenarios give a task effort or duration"
        return drawn

    def units(self) -> dict[str, int]:
        """Pool -> units held while the task runs (``skill`` + ``people`` is one entry)."""
        if self.needs is not None:
            return dict(self.needs)
        if self.skill is not None:
            return {self.skill: self.people or 1}
        return {}


class _ProjectFields(Model):
    due: RandomValue | None = None
    priority: RandomValue = Field(default_factory=lambda: fixed(3))
    value_per_day: RandomValue = Field(default_factory=lambda: fixed(0))
    completion_value: RandomValue = Field(default_factory=lambda: fixed(0))
    budget: RandomValue | None = None
    # None: sum over tasks of central effort x the pool's day rate (see pmo_sim.sampling).
    cost_estimate: NonNeg | None = None
    depends_on: list[Name] = Field(default_factory=list)  # explicit projects completed first
    tasks: list[TaskSpec] = Field(min_length=1, max_length=MAX_TASKS)


class ProjectSpec(_ProjectFields):
    """An explicit project of the portfolio."""

    name: Name
    arrival: NonNeg = 0.0
    alignment: ProjectAlignment = Field(default_factory=dict)


class Template(_ProjectFields):
    """A kind of project the intake generates; attributes are drawn per generated project."""

    name: Name
    weight: Pos = 1.0
    alignment: TemplateAlignment = Field(default_factory=dict)


class Intake(Model):
    arrivals: RandomValue
    count: int | None = Field(None, ge=0, le=MAX_INTAKE_COUNT)
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

DISCOUNT_RATE = ("`npv` treats `discount_rate` as an effective annual rate (continuous discounting at "
                 "ln(1 + r) / days_per_year per day)")


class Scenario(Model):
    name: Name
    description: str = ""
    horizon: Pos
    warmup: NonNeg = 0.0
    # at least one working day a year: below, an annual rate's daily share and the years of
    # the window overflow (a cost of 0 x inf years was NaN, and the run refused its own tables)
    days_per_year: Annotated[float, Field(ge=1, le=MAX_MAGNITUDE, allow_inf_nan=False)] = 250.0
    currency: Annotated[str, Field(max_length=20), AfterValidator(check_label)] = "EUR"
    discount_rate: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False,
                                          description=DISCOUNT_RATE)] = 0.0
    resources: dict[Name, AnyPool] = Field(min_length=1)
    projects: list[ProjectSpec] = Field(default_factory=list, max_length=MAX_PROJECTS)
    intake: Intake | None = None
    changes: Changes | None = None
    workforce: Workforce | None = None
    estimate_error: dict[Name, RandomValue] = Field(default_factory=dict)
    calendar: Calendar | None = None
    strategy: Strategy | None = None
    budget: Budget | None = None
    risks: list[Risk] = Field(default_factory=list)
    sensitivity: Sensitivity | None = None  # what `pmo-sim sensitivity` varies; no effect on a run
    pmo: PMO = Field(default_factory=PMO)
    policies: dict[Name, PMO] = Field(default_factory=dict)

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
    "Adoption", "AnyPool", "AppliesTo", "Budget", "Calendar", "ChangeManager", "Changes", "Closure",
    "Contractor", "EquipmentPool", "Fixed", "Funding", "GapDriven", "Goal", "Governance", "Impact",
    "InnovationManager", "Intake", "Mitigation", "PMO", "Pool", "Programme", "ProjectSpec",
    "ResourceManager", "Risk", "Scenario", "StaffingChange", "StageGate", "Strategy", "TaskSpec",
    "Template", "TechnologyManager", "TrainingManager", "Workforce",
]
