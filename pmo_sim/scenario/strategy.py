"""Strategy, budget and the risk register: the world a funding board works in (SPEC 10.1–10.3).

These sections describe what the organisation wants and what can go wrong, so they belong to
the scenario and are shared by every policy; what the PMO *decides* about them (how to rank
proposals, which risks to mitigate) is in :mod:`pmo_sim.scenario.policy`.

* ``strategy.goals`` are weighted goals. Each project or template says how far it serves each
  goal (``alignment``, 0..1, missing goals 0); its **score** is the weight-normalised sum, in
  [0, 1]. Templates may give alignment as distributions, drawn per generated project.
* ``budget`` is money released at the start of each budget year (``days_per_year`` long).
  ``per_year`` is one amount for every year or a list, one per year, the last one repeating:
  ``[4e6, 4e6, 2.5e6]`` is a cut in the third year. A budget cut is part of the world every
  policy faces, not a lever, so it lives here rather than in a policy; compare budgets with
  ``--set budget.per_year=...`` or ``sweep``.
* ``risks`` is the risk register: named threats that strike an applicable project once, with
  ``probability``, at a fraction ``when`` of its planned effort done, with impacts (a pause,
  rework as a fraction of the remaining effort, a one-off cost).

Cross-references (goal names, dependency and risk targets, cycles, ranges of distributions)
are checked by :mod:`pmo_sim.scenario.checks_strategy`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from pmo_sim.scenario.base import Fraction, Model, Name, NonNeg
from pmo_sim.scenario.dists import RandomValue, Uniform, fixed
from pmo_sim.scenario.limits import MAX_MAGNITUDE

Finite = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]


def _number_only(v: Any) -> Any:
    if isinstance(v, dict):
        raise ValueError("an explicit project's alignment is a number in [0, 1]; "
                         "distributions are allowed in templates only")
    return v


ProjectAlignment = dict[Name, Annotated[Finite, BeforeValidator(_number_only)]]
"""An explicit project's alignment: goal -> number (range checked with the cross-references)."""
TemplateAlignment = dict[Name, RandomValue]
"""A template's alignment: goal -> number or distribution, drawn per generated project."""


class Goal(Model):
    """A strategic goal. Weights are normalised to sum to 1; a weight of 0 tracks a goal
    (alignment, goal results) without counting it in the score."""

    weight: NonNeg = 1.0


class Strategy(Model):
    goals: dict[Name, Goal] = Field(min_length=1)

    def weights(self) -> list[float]:
        """The goals' normalised weights, in ``goals`` order (validation refuses all-zero weights)."""
        total = sum(g.weight for g in self.goals.values())
        return [g.weight / total for g in self.goals.values()]


def _amounts(v: Any) -> Any:
    # One amount is shorthand for the same amount every year.
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [v]
    if isinstance(v, list):
        return v
    raise ValueError("expected an amount per year, or a list of amounts, one per budget year")


# Editors validate against the JSON Schema: it must accept the one-amount shorthand too.
_AMOUNTS_SCHEMA = {"anyOf": [{"type": "number", "minimum": 0},
                             {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1}]}


class Budget(Model):
    per_year: Annotated[list[Finite], BeforeValidator(_amounts), Field(min_length=1),
                        WithJsonSchema(_AMOUNTS_SCHEMA)]
    carry_over: bool = True

    def release(self, year: int) -> float:
        """The funds released at the start of budget year ``year`` (0-based); the last amount repeats."""
        return self.per_year[min(year, len(self.per_year) - 1)]


class AppliesTo(Model):
    """The projects a risk threatens: generated ones by template, explicit ones by name."""

    templates: list[Name] = Field(default_factory=list)
    projects: list[Name] = Field(default_factory=list)


class Impact(Model):
    delay: RandomValue = Field(default_factory=lambda: fixed(0))  # days the project's work pauses
    effort: RandomValue = Field(default_factory=lambda: fixed(0))  # fraction of the remaining effort added
    cost: RandomValue = Field(default_factory=lambda: fixed(0))  # one-off cost charged to the project


class Risk(Model):
    name: Name
    applies_to: AppliesTo | None = None  # omitted: every project
    probability: Fraction
    # Without `when`, a strike is equally likely at any point of the work.
    when: RandomValue = Field(default_factory=lambda: Uniform(dist="uniform", low=0.0, high=1.0))
    impact: Impact = Field(default_factory=Impact)
