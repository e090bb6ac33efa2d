"""Random quantities of the scenario language.

Anywhere the scenario allows a random quantity, a plain number means a fixed value and a
mapping with a ``dist:`` tag names one of the families below (SPEC section 3). Every family
is a small frozen pydantic model that validates its own parameters and knows how to draw a
*vector* of values from a numpy ``Generator``: the engine never draws scalars in a loop.

``central()`` is the value the spread is measured around (the mode for the three-point
families, the mean otherwise); governance's ``estimate_spread_reduction`` shrinks draws
towards it, which keeps common random numbers intact across policies. ``support()`` is the
closed range every draw falls in, which is what validation checks a bounded quantity against
(a fraction, a non-negative effort).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pmo_sim.scenario.limits import MAX_MAGNITUDE

FloatArray = np.ndarray

MAX_CV = 1_000.0
"""The largest coefficient of variation (sd / mean) of a lognormal or gamma: beyond it the
family degenerates (draws all but zero, or overflowing)."""

MIN_GAMMA_CV = 1e-6
"""The smallest sd / mean of a gamma (its shape is (mean / sd)^2): use `fixed` below it."""

NORMAL_MIN_Z = -3.0
"""A normal redrawn while negative needs mean >= -3 sd: beyond that fewer than 1 draw in 740
is kept, and redrawing would run for ever."""

MAX_PERT_LAMBDA = 1_000.0


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # as base.Model

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        raise NotImplementedError

    def mean(self) -> float:
        raise NotImplementedError

    def central(self) -> float:
        return self.mean()

    def support(self) -> tuple[float, float]:
        """(lowest, highest) value a draw can take; the unbounded families are non-negative."""
        return 0.0, math.inf

    def is_fixed(self) -> bool:
        return False


def _finite(v: float, name: str) -> None:
    """Finite, and within the magnitude every number of a scenario keeps (sums stay finite)."""
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number")
    if abs(v) > MAX_MAGNITUDE:
        raise ValueError(f"{name} must be at most {MAX_MAGNITUDE:g} in size (got {v:g})")


class Fixed(_Dist):
    dist: Literal["fixed"] = "fixed"
    value: float

    @model_validator(mode="after")
    def _check(self) -> Fixed:
        _finite(self.value, "value")
        return self

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        return np.full(size, self.value, dtype=float)

    def mean(self) -> float:
        return self.value

    def support(self) -> tuple[float, float]:
        return self.value, self.value

    def is_fixed(self) -> bool:
        return True


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        _finite(self.low, "low")
        _finite(self.high, "high")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class _ThreePoint(_Dist):
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> _ThreePoint:
        for n in ("low", "mode", "high"):
            _finite(getattr(self, n), n)
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"mode ({self.mode:g}) must lie in [low, high] = [{self.low:g}, {self.high:g}]"
            )
        return self

    def central(self) -> float:
        return self.mode

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Triangular(_ThreePoint):
    dist: Literal["triangular"]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        if self.low == self.high:
            return np.full(size, self.low, dtype=float)
        return rng.triangular(self.low, self.mode, self.high, size)

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


class Pert(_ThreePoint):
    dist: Literal["pert"]
    lambda_: float = Field(4.0, alias="lambda", gt=0, le=MAX_PERT_LAMBDA)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        span = self.high - self.low
        if span == 0:
            return np.full(size, self.low, dtype=float)
        a = 1 + self.lambda_ * (self.mode - self.low) / span
        b = 1 + self.lambda_ * (self.high - self.mode) / span
        return self.low + span * rng.beta(a, b, size)

    def mean(self) -> float:
        return (self.low + self.lambda_ * self.mode + self.high) / (self.lambda_ + 2)


class Normal(_Dist):
    """Normal, redrawn while negative (a truncated normal on [0, inf))."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _check(self) -> Normal:
        _finite(self.mean_, "mean")
        _finite(self.sd, "sd")
        if self.mean_ < 0 and self.sd == 0:
            raise ValueError("a normal with negative mean and sd 0 can never be non-negative")
        if self.sd > 0 and self.mean_ < NORMAL_MIN_Z * self.sd:
            raise ValueError(f"mean must be at least {NORMAL_MIN_Z:g} sd: it is so far below 0 that "
                             "redrawing the negative draws would hardly ever succeed")
        return self

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        x = rng.normal(self.mean_, self.sd, size)
        bad = x < 0
        while bad.any():  # rejection, vectorised: redraw only the negatives
            x[bad] = rng.normal(self.mean_, self.sd, int(bad.sum()))
            bad = x < 0
        return x

    def mean(self) -> float:
        if self.sd == 0:
            return self.mean_
        from scipy.stats import truncnorm

        a = -self.mean_ / self.sd
        return float(truncnorm.mean(a, np.inf, loc=self.mean_, scale=self.sd))


class _MeanSd(_Dist):
    mean_: float = Field(alias="mean", gt=0)
    sd: float = Field(ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _check(self) -> _MeanSd:
        _finite(self.mean_, "mean")
        _finite(self.sd, "sd")
        if self.sd > MAX_CV * self.mean_:
            raise ValueError(f"sd must be at most {MAX_CV:g} times the mean (got sd {self.sd:g}, "
                             f"mean {self.mean_:g}): the distribution would degenerate")
        return self

    def mean(self) -> float:
        return self.mean_


class Lognormal(_MeanSd):
    """Lognormal parameterised by its arithmetic mean and standard deviation."""

    dist: Literal["lognormal"]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        s2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - s2 / 2
        return rng.lognormal(mu, math.sqrt(s2), size)


class Gamma(_MeanSd):
    dist: Literal["gamma"]

    @model_validator(mode="after")
    def _check_sd(self) -> Gamma:
        # sd 0 is the point mass at the mean, as for the normal and the lognormal (SPEC 3
        # refuses sd < 0 only); a positive sd too small for numpy's gamma is refused.
        if 0 < self.sd < MIN_GAMMA_CV * self.mean_:
            raise ValueError(f"sd must be at least {MIN_GAMMA_CV:g} times the mean for a gamma "
                             f"(got sd {self.sd:g}, mean {self.mean_:g}); use a fixed value")
        return self

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        if self.sd == 0:
            return np.full(size, self.mean_, dtype=float)
        shape = (self.mean_ / self.sd) ** 2
        return rng.gamma(shape, self.sd**2 / self.mean_, size)


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _check(self) -> Exponential:
        _finite(self.mean_, "mean")
        return self

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        return rng.exponential(self.mean_, size)

    def mean(self) -> float:
        return self.mean_


class Empirical(_Dist):
    """Resample one of the observed values uniformly (history-driven estimates)."""

    dist: Literal["empirical"]
    values: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        for v in self.values:
            _finite(v, "every value")
        return self

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        return np.asarray(self.values, dtype=float)[rng.integers(0, len(self.values), size)]

    def mean(self) -> float:
        return float(np.mean(self.values))

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def is_fixed(self) -> bool:
        return len(set(self.values)) == 1


class Choice(_Dist):
    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    # Checked field by field, so that a problem is located at `values` or `weights` (a check of
    # the whole model is located at the distribution).
    @field_validator("values")
    @classmethod
    def _check_values(cls, values: list[float]) -> list[float]:
        for v in values:
            _finite(v, "every value")
        return values

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, weights: list[float] | None, info: ValidationInfo) -> list[float] | None:
        if weights is None:
            return weights
        if any((not math.isfinite(w)) or w < 0 or w > MAX_MAGNITUDE for w in weights):
            raise ValueError(f"weights must be non-negative and at most {MAX_MAGNITUDE:g}")
        if sum(weights) <= 0:
            raise ValueError("weights must not all be zero")
        values = info.data.get("values")  # absent when they were refused themselves
        if values is not None and len(weights) != len(values):
            raise ValueError(f"weights has {len(weights)} entries but values has {len(values)}")
        return weights

    def _p(self) -> FloatArray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())

    def mean(self) -> float:
        p = self._p()
        return float(np.mean(self.values) if p is None else np.dot(p, self.values))

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def is_fixed(self) -> bool:
        return len(set(self.values)) == 1


def _number_to_fixed(v: Any) -> Any:
    # A plain number (not a bool) is shorthand for {dist: fixed, value: v}.
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"dist": "fixed", "value": v}
    return v


Distribution = Annotated[
    Union[Fixed, Uniform, Triangular, Pert, Normal, Lognormal, Exponential, Gamma, Empirical, Choice],
    Field(discriminator="dist"),
]
RandomValue = Annotated[Distribution, BeforeValidator(_number_to_fixed)]
"""A plain number or a ``{dist: ...}`` mapping."""

DIST_NAMES = ("fixed", "uniform", "triangular", "pert", "normal", "lognormal", "exponential",
              "gamma", "empirical", "choice")


def fixed(value: float) -> Fixed:
    return Fixed(value=value)
