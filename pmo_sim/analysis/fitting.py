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

**Arrival gaps from dates.** A history dates work to the day, so an arrival is known only by
its working day, and the gaps are whole-day differences D >= 0 (0: two projects arrived on
the same day). Fitting a continuous family to D itself would mistake that rounding for the
shape of the gaps (an exponential's many short gaps become zeros and ones). Instead the gap G
behind D is fitted: with both arrivals at uniform positions within their days,
P(D = k) = integral of f(g) max(0, 1 - |g - k|) dg (:func:`day_pmf`), which is maximised
numerically for each family; E[D] = E[G], so the mean is not biased by the rounding. The KS
test compares the step CDFs of D and of the model; it is conservative for steps.

Pure functions of numpy arrays: no I/O, no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

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
        # sd * (sd / mean), not sd**2 / mean: efforts of 1e-300 person-days (a history is
        # input as found) made sd**2 underflow to a scale of 0, and scipy divide by it.
        return stats.gamma(a=(mean / sd) ** 2, scale=sd * (sd / mean))
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
    return _choose(x, lambda: tuple(fit_candidate(f, x) for f in families))


def fit_effort(values: Sequence[float] | np.ndarray) -> Fit:
    """An effort or an estimate-error ratio: lognormal or gamma by AIC, else empirical."""
    return fit_sample(values, EFFORT_FAMILIES)


def _choose(values: np.ndarray, fit_all: Callable[[], tuple[Candidate | None, ...]]) -> Fit:
    """The selection rule of the module docstring; ``fit_all`` fits the candidates if needed."""
    n = len(values)
    few = (f"few rows (n < {FEW_ROWS})",) if n < FEW_ROWS else ()
    if n < MIN_PARAMETRIC_ROWS:
        return _empirical(values, (), (f"empirical: fewer than {MIN_PARAMETRIC_ROWS} rows", *few))
    if np.ptp(values) == 0:
        return _empirical(values, (), ("empirical: all values equal", *few))
    candidates = tuple(c for c in fit_all() if c is not None)
    passing = [c for c in candidates if c.passes]
    if not passing:
        return _empirical(values, candidates, (f"empirical: no family passes KS at {KS_ALPHA:.0%}", *few))
    best = min(passing, key=lambda c: c.aic)
    params = {"mean": best.mean} if best.family == "exponential" else {"mean": best.mean, "sd": best.sd}
    return Fit(best.family, params, n, best.aic, best.ks_pvalue, candidates, few)


def _empirical(x: np.ndarray, candidates: tuple[Candidate, ...], flags: tuple[str, ...]) -> Fit:
    values = sorted(float(v) for v in x)
    return Fit("empirical", {"values": values}, len(x), math.nan, math.nan, candidates, flags)


# --------------------------------------------------------------------------- arrivals by the day


def _gap_cdfs(family: str, mean: float, sd: float) -> tuple[Callable[[np.ndarray], np.ndarray], ...]:
    """The CDF of the gap, and of its size-biased law (density g f(g) / mean): the mean times
    the latter is the partial expectation of the gap below x. Straight from scipy.special:
    the likelihood below evaluates them hundreds of times."""
    if family == "lognormal":
        s = math.sqrt(math.log1p((sd / mean) ** 2))
        mu = math.log(mean) - s * s / 2

        def lognormal(shift: float) -> Callable[[np.ndarray], np.ndarray]:
            def cdf(x: np.ndarray) -> np.ndarray:
                with np.errstate(divide="ignore"):
                    return np.asarray(special.ndtr((np.log(np.maximum(x, 0.0)) - mu - shift) / s))
            return cdf

        return lognormal(0.0), lognormal(s * s)
    shape, scale = (1.0, mean) if family == "exponential" else ((mean / sd) ** 2, sd**2 / mean)

    def gamma(a: float) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: np.asarray(special.gammainc(a, np.maximum(x, 0.0) / scale))

    return gamma(shape), gamma(shape + 1)


def day_pmf(family: str, mean: float, sd: float, k: np.ndarray) -> np.ndarray:
    """P(D = k): the whole-day difference of two arrivals ``G`` apart (G of this family), each
    at a uniform position in its day: the hat-weighted integral of G's density around k."""
    cdf, biased = _gap_cdfs(family, mean, sd)
    k = np.asarray(k, dtype=float)
    rising = mean * (biased(k) - biased(k - 1)) - (k - 1) * (cdf(k) - cdf(k - 1))
    falling = (k + 1) * (cdf(k + 1) - cdf(k)) - mean * (biased(k + 1) - biased(k))
    return np.clip(rising + falling, 1e-300, 1.0)


def fit_day_candidate(family: str, days: np.ndarray) -> Candidate | None:
    """``family`` for the gaps behind whole-day differences ``days``, by maximum likelihood
    of :func:`day_pmf`; the KS p-value compares the step CDFs (conservative for steps)."""
    values, counts = np.unique(days, return_counts=True)
    n = int(counts.sum())
    mean0 = float(np.dot(values, counts)) / n  # E[D] = E[G]: the day positions cancel out
    # Var D = Var G + 1/6 (the difference of two uniform positions); keep a positive start.
    sd0 = math.sqrt(max(float(np.dot((values - mean0) ** 2, counts)) / n - 1 / 6, 0.01 * mean0**2))

    def nll(theta: np.ndarray) -> float:
        mean = math.exp(theta[0])
        sd = mean if family == "exponential" else math.exp(theta[1])
        return -float(np.dot(counts, np.log(day_pmf(family, mean, sd, values))))

    start = [math.log(mean0)] if family == "exponential" else [math.log(mean0), math.log(sd0)]
    result = optimize.minimize(nll, np.array(start), method="Nelder-Mead",
                               options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
    mean = math.exp(result.x[0])
    sd = mean if family == "exponential" else math.exp(result.x[1])
    if not (result.success and math.isfinite(result.fun) and math.isfinite(sd)):
        return None
    grid = np.arange(int(values.max()) + 1)
    model = np.cumsum(day_pmf(family, mean, sd, grid))
    observed = np.cumsum(np.bincount(days.astype(int), minlength=len(grid))) / n
    statistic = float(np.max(np.abs(observed - model)))
    return Candidate(family, mean, sd, 2 * _PARAMETERS[family] + 2 * float(result.fun),
                     float(stats.kstwo.sf(statistic, n)))


def fit_arrival_days(days: Sequence[int] | np.ndarray) -> Fit | None:
    """The gaps between arrivals known only by their (working) day numbers ``days``.

    Gaps are whole-day differences D >= 0; each family is fitted to the continuous gap G
    behind them (:func:`fit_day_candidate`) and chosen like any other fit. The empirical
    fallback resamples the day differences. None when there is no gap to fit: fewer than two
    arrivals, or all on one day.
    """
    d = np.diff(np.sort(np.asarray(days, dtype=float)))
    if len(d) == 0 or not d.any():
        return None
    return _choose(d, lambda: tuple(fit_day_candidate(f, d) for f in GAP_FAMILIES))
