"""The PMO's levers (SPEC section 5): one section per role, and :class:`PMO`, one policy.

A policy is one setting of these levers; ``policies`` in a scenario deep-merge over ``pmo``.
Each role's section is a small frozen model here, next to the others, so adding a lever is
one field in its role's model (plus the role module in :mod:`pmo_sim.pmo` that acts on it).

Governance also decides what the board does with the world of
:mod:`pmo_sim.scenario.strategy` (SPEC 10.2-10.3): how proposals are funded against the
budget (``funding``, ranked by a rule of :mod:`pmo_sim.rules.funding`) and which named risks
it pays to mitigate (``risk_mitigation``). The budget and the risks themselves are not levers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from pmo_sim.rules.allocation import ALLOCATION_RULES
from pmo_sim.rules.funding import FUNDING_RULES
from pmo_sim.scenario.base import Fraction, Model, Name, NonNeg, Pos
from pmo_sim.scenario.limits import MAX_COUNT, MAX_MAGNITUDE, MAX_PEOPLE


class StaffingChange(Model):
    """A planned capacity change: hires (``change`` > 0) or releases (< 0) of a people pool,
    or units of equipment bought or retired.

    Hires arrive on ``day`` and ramp up as new hires do (``workforce``); released people (and
    retired units) leave once their current task is done.
    """

    day: NonNeg
    pool: Name
    change: int = Field(ge=-MAX_PEOPLE, le=MAX_PEOPLE)

    @field_validator("change")
    @classmethod
    def _not_zero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("must not be 0: a positive number hires, a negative one releases")
        return v


class Contractor(Model):
    """Contractors on demand for a people pool (SPEC 10.5).

    One is requested when a ready task of the pool has waited ``trigger_wait`` days; it arrives
    ``lead_time`` days later, is paid ``day_rate`` only while engaged and is released after
    ``release_idle`` idle days; at most ``max`` are engaged at once.
    """

    pool: Name
    max: int = Field(ge=1, le=100_000)
    lead_time: NonNeg = 0.0
    day_rate: NonNeg
    productivity: Pos = 1.0
    trigger_wait: NonNeg = 0.0
    release_idle: NonNeg = 0.0


class ResourceManager(Model):
    allocation: str = Field("fifo", json_schema_extra={"enum": list(ALLOCATION_RULES)})  # editors complete it
    wip_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    backfill: bool = True
    switch_cost_days: NonNeg = 0.0
    # True: tasks finishing at the same instant are all processed before people are allocated,
    # so the work they free is ranked together (the parallel schedule-generation scheme).
    batch_simultaneous: bool = False
    staffing: list[StaffingChange] = Field(default_factory=list)
    contractors: list[Contractor] = Field(default_factory=list)

    @field_validator("allocation")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        if v not in ALLOCATION_RULES:
            raise ValueError(f"unknown allocation rule, expected one of {', '.join(ALLOCATION_RULES)}")
        return v


class ChangeManager(Model):
    assessment_days: NonNeg = 0.0
    managers: int | None = Field(None, ge=1, le=MAX_PEOPLE)
    rework_reduction: Fraction = 0.0
    disruption_reduction: Fraction = 0.0
    reject_fraction: Fraction = 0.0
    cost_per_year: NonNeg = 0.0


class Programme(Model):
    name: Name
    skill: Name
    trainees: Annotated[float, Field(gt=0, le=MAX_PEOPLE, allow_inf_nan=False)] = 1
    start: NonNeg = 0.0
    duration_days: NonNeg = 0.0
    cost_per_trainee: NonNeg = 0.0
    productivity_gain: NonNeg = 0.0
    ramp_days: NonNeg = 0.0
    retention_gain: Fraction = 0.0
    repeat_every: Pos | None = None
    cross_skill: Name | None = None

    @field_validator("trainees")
    @classmethod
    def _count_or_fraction(cls, v: float) -> float:
        if v >= 1 and v != int(v):
            raise ValueError("trainees must be a whole number of people or a fraction below 1")
        return v


class GapDriven(Model):
    threshold_days: Pos
    programme: Name


class TrainingManager(Model):
    programmes: list[Programme] = Field(default_factory=list)
    gap_driven: GapDriven | None = None


class Adoption(Model):
    name: Name
    day: NonNeg = 0.0
    skills: list[Name] = Field(default_factory=list)
    cost: NonNeg = 0.0
    productivity_gain: NonNeg = 0.0
    dip: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    dip_days: NonNeg = 0.0


class TechnologyManager(Model):
    adoptions: list[Adoption] = Field(default_factory=list)


class InnovationManager(Model):
    time_fraction: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    ideas_per_year: NonNeg = 0.0
    success_probability: Fraction = 0.0
    effort_reduction: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    cost_per_year: NonNeg = 0.0


class StageGate(Model):
    at_progress: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]
    cancel_if_overrun: Annotated[float, Field(ge=1, le=MAX_MAGNITUDE, allow_inf_nan=False)]


class Funding(Model):
    """How proposals are funded against the budget (SPEC 10.2); absent, every project is funded."""

    rule: str = Field("arrival", json_schema_extra={"enum": list(FUNDING_RULES)})
    review_every: NonNeg = 0.0  # 0: each proposal is reviewed when it arrives
    min_score: Fraction = 0.0  # proposals scoring below are rejected at review
    max_wait: NonNeg | None = None  # days a proposal may wait for funds (0: its arrival's review only)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        if v not in FUNDING_RULES:
            raise ValueError(f"unknown funding rule, expected one of {', '.join(FUNDING_RULES)}")
        return v


class Mitigation(Model):
    """Mitigation of one named risk (SPEC 10.3): paid once per applicable project when funded."""

    cost: NonNeg = 0.0
    probability_reduction: Fraction = 0.0  # strikes when u < probability x (1 - this)
    impact_reduction: Fraction = 0.0  # impacts scaled by (1 - this)


class Governance(Model):
    stage_gate: StageGate | None = None
    estimate_spread_reduction: Fraction = 0.0
    cost_per_year: NonNeg = 0.0
    funding: Funding | None = None
    risk_mitigation: dict[Name, Mitigation] = Field(default_factory=dict)  # by risk name


class PMO(Model):
    """One setting of the PMO's levers: a policy."""

    resource_manager: ResourceManager = Field(default_factory=lambda: ResourceManager())
    change_manager: ChangeManager | None = None
    training_manager: TrainingManager | None = None
    technology_manager: TechnologyManager | None = None
    innovation_manager: InnovationManager | None = None
    governance: Governance | None = None
