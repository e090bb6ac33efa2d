"""Distributions fitted to observed samples: calibration from history (SPEC 10.7).

A sample of positive numbers (the actual efforts of one skill's tasks, their ratios actual /
estimate, the gaps between project arrivals) is fitted by maximum likelihood with each
candidate family, location fixed at 0:

* **lognormal**: closed form on the logarithms (mu = mean of log x, sigma^2 = their variance
  with divisor n);
* **gamma**: :func:`scipy.stats.gamma.fit` with ``floc=0``;
* **exponential** (arrival gaps only): the mean.

Each candidate gets its Akaike information criterion, AIC = 2k - 2 log L (k = 2, or 1 for the
exponential), and the p-value of a Kolmogorov-Smirnov test of the sample against the fitted
distribution. The parameters are estimated from the same sample, so that p-value is
conservative (too high; Lilliefors): a family it rejects fits badly indeed.

**Choice.** The family with the lowest AIC among those whose KS p-value is at least
:data:`KS_ALPHA` (5%). The **empirical** distribution (resample the observed values) is chosen
instead when

* there are fewer than :data:`MIN_PARAMETRIC_ROWS` (5) values: no family is fitted at all;
* all values are equal (no spread to fit);
* no family passes the KS test.

A fit of fewer than :data:`FEW_ROWS` (30) values is still made, but flagged: its parameters
are uncertain. Parameters are reported as the scenario language takes them (SPEC 3): the
ARITHMETIC mean and sd for lognormal and gamma (never mu and sigma of the logarithms), the
mean for the exponential, the sorted ``values`` for empirical.

**Arrival gaps from dates.** A history dates work to the day, so arrivals are known only to
the working day and several projects may start on the same day. :func:`arrival_gaps` places
the i-th of k arrivals of a working day at ``day + i / (k + 1)`` (the expected positions of k
uniform points in the day, which is where a Poisson process puts them given the count) before
taking differences, so gaps are positive and their mean is that of the day differences. When
arrivals are only a few days apart the gaps are lumpy (mostly whole days) and the KS test can
reject a family that is right; the fit then falls back to the empirical gaps.

Pure functions of numpy arrays: no I/O, no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

EFFORT_FAMILIES = ("lognormal", "gamma")
"""Candidates for efforts and estimate-error ratios."""
GAP_FAMILIES = ("exponential", "gamma", "lognormal")
"""Candidates for the gaps between project arrivals (exponential: a Poisson process)."""

MIN_PARAMETRIC_ROWS = 5
"""Below this many values no family is fitted: the fit is empirical."""
FEW_ROWS = 30
"""Below this many values a fit is flagged as uncertain (still fitted)."""
KS_ALPHA = 0.05
"""A family passes when its KS p-value is at least this."""

_PARAMETERS = {"exponential": 1, "gamma": 2, "lognormal": 2}


def frozen_distribution(family: str, mean: float, sd: float) -> Any:
    """The scipy distribution of a family with this arithmetic mean and sd (SPEC 3 mapping)."""
    if family == "lognormal":
        s2 = math.log1p((sd / mean) ** 2)
        return stats.lognorm(s=math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))
    if family == "gamma":
        return stats.gamma(a=(mean / sd) ** 2, scale=sd**2 / mean)
    if family == "exponential":
        return stats.expon(scale=mean)
    raise ValueError(f"unknown family {family!r}")


@dataclass(frozen=True)
class Candidate:
    """One family fitted by maximum likelihood, with its AIC and KS p-value."""

    family: str
    mean: float
    sd: float
    aic: float
    ks_pvalue: float

    def frozen(self) -> Any:
        return frozen_distribution(self.family, self.mean, self.sd)

    @property
    def passes(self) -> bool:
        return self.ks_pvalue >= KS_ALPHA


@dataclass(frozen=True)
class Fit:
    """The chosen distribution of a sample, in the scenario language's parameters.

    ``aic`` and ``ks_pvalue`` are those of the chosen family (NaN for empirical);
    ``candidates`` holds every family fitted, in the order tried; ``flags`` says why a fit is
    empirical or uncertain (empty when neither).
    """

    family: str
    params: dict[str, Any]
    n: int
    aic: float
    ks_pvalue: float
    candidates: tuple[Candidate, ...] = ()
    flags: tuple[str, ...] = field(default_factory=tuple)

    def as_distribution(self) -> dict[str, Any]:
        """The SPEC 3 mapping, e.g. ``{"dist": "gamma", "mean": 12.0, "sd": 5.0}``."""
        return {"dist": self.family, **self.params}

    @property
    def mean(self) -> float:
        if self.family == "empirical":
            return float(np.mean(self.params["values"]))
        return float(self.params["mean"])

    @property
    def sd(self) -> float:
        """The sd of the fitted distribution (empirical: of resampling the values, divisor n)."""
        if self.family == "empirical":
            return float(np.std(self.params["values"]))
        return float(self.params.get("sd", self.params["mean"]))  # exponential: sd = mean

    def best_parametric(self) -> Candidate | None:
        """The candidate of lowest AIC, passing or not (what an empirical fit is compared to)."""
        return min(self.candidates, key=lambda c: c.aic, default=None)


def fit_candidate(family: str, x: np.ndarray) -> Candidate | None:
    """``family`` fitted to ``x`` by maximum likelihood; None if the fit does not converge."""
    if family == "lognormal":
        logs = np.log(x)
        s2 = float(logs.var())
        mean = math.exp(float(logs.mean()) + s2 / 2)
        sd = mean * math.sqrt(math.expm1(s2))
    elif family == "gamma":
        try:
            shape, _, scale = stats.gamma.fit(x, floc=0)
        except (RuntimeError, ValueError, FloatingPointError):  # scipy's FitError is a RuntimeError
            return None
        mean, sd = shape * scale, math.sqrt(shape) * scale
    elif family == "exponential":
        mean = sd = float(x.mean())
    else:
        raise ValueError(f"unknown family {family!r}")
    if not (math.isfinite(mean) and math.isfinite(sd) and mean > 0 and sd > 0):
        return None
    dist = frozen_distribution(family, mean, sd)
    loglik = float(np.sum(dist.logpdf(x)))
    if not math.isfinite(loglik):
        return None
    aic = 2 * _PARAMETERS[family] - 2 * loglik
    return Candidate(family, mean, sd, aic, float(stats.kstest(x, dist.cdf).pvalue))


def fit_sample(values: Sequence[float] | np.ndarray, families: Sequence[str] = EFFORT_FAMILIES) -> Fit:
    """Fit ``families`` to positive ``values`` and choose one (see the module docstring)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("a fit needs at least one value, all finite and greater than 0")
    n = len(x)
    few = (f"few rows (n < {FEW_ROWS})",) if n < FEW_ROWS else ()
    if n < MIN_PARAMETRIC_ROWS:
        return _empirical(x, (), (f"empirical: fewer than {MIN_PARAMETRIC_ROWS} rows", *few))
    if np.ptp(x) == 0:
        return _empirical(x, (), ("empirical: all values equal", *few))
    candidates = tuple(c for c in (fit_candidate(f, x) for f in families) if c is not None)
    passing = [c for c in candidates if c.passes]
    if not passing:
        return _empirical(x, candidates, (f"empirical: no family passes KS at {KS_ALPHA:.0%}", *few))
    best = min(passing, key=lambda c: c.aic)
    params = {"mean": best.mean} if best.family == "exponential" else {"mean": best.mean, "sd": best.sd}
    return Fit(best.family, params, n, best.aic, best.ks_pvalue, candidates, few)


def fit_effort(values: Sequence[float] | np.ndarray) -> Fit:
    """An effort or an estimate-error ratio: lognormal or gamma by AIC, else empirical."""
    return fit_sample(values, EFFORT_FAMILIES)


def fit_gaps(gaps: Sequence[float] | np.ndarray) -> Fit:
    """Gaps between arrivals: exponential, gamma or lognormal by AIC, else empirical."""
    return fit_sample(gaps, GAP_FAMILIES)


def _empirical(x: np.ndarray, candidates: tuple[Candidate, ...], flags: tuple[str, ...]) -> Fit:
    values = sorted(float(v) for v in x)
    return Fit("empirical", {"values": values}, len(x), math.nan, math.nan, candidates, flags)


def arrival_gaps(days: Sequence[int] | np.ndarray) -> np.ndarray:
    """Gaps between arrivals known only to the (working) day, as positive numbers of days.

    ``days`` are the arrivals' working-day numbers, in any order. The i-th (1-based) of the k
    arrivals of one day is placed at ``day + i / (k + 1)`` before differencing, so same-day
    arrivals are ``1 / (k + 1)`` apart and the gaps sum to the span between the first and
    the last arrival's positions.
    """
    d = np.sort(np.asarray(days, dtype=float))
    if len(d) < 2:
        return np.empty(0)
    _, first, counts = np.unique(d, return_index=True, return_counts=True)
    rank = np.arange(len(d)) - np.repeat(first, counts) + 1  # i within its day, from 1
    return np.diff(d + rank / np.repeat(counts + 1, counts))
