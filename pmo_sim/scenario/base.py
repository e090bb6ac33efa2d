"""Shared building blocks of the scenario models: the frozen, strict base, number and name types.

Every number is bounded (:data:`~pmo_sim.scenario.limits.MAX_MAGNITUDE`), so sums, costs and
draws stay finite, and every name is checked by :func:`pmo_sim.scenario.names.check_name`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pmo_sim.scenario.limits import MAX_MAGNITUDE
from pmo_sim.scenario.names import check_name

NonNeg = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1), AfterValidator(check_name)]


class Model(BaseModel):
    """A scenario's part: closed (unknown keys refused) and frozen.

    ``defer_build``: pydantic builds a model's validator when it first validates, not when
    the class is defined. A run's worker processes only unpickle and read scenarios, never
    validate them, so the fork server they come from no longer builds every scenario model's
    validator (~0.1 s of its start, which a parallel run waits for); a process that loads a
    scenario builds those it uses, once, on its first load.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)
