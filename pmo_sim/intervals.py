"""Student-t intervals and percentiles of Monte Carlo KPIs, from plain arrays.

The numbers of :mod:`pmo_sim.analysis.stats` (see its docstring for the model: every
replication of a policy is an i.i.d. draw, the t interval of the mean, empirical percentiles)
computed on numpy arrays alone, with no pandas: a run writes ``summary.csv`` from its Parquet
tables with these functions (:func:`pmo_sim.experiment.summary_file.summary_csv`), and
``Results.summary()`` computes the same rows from a DataFrame with the same functions, so the
file and the method agree to the last bit, and a run's parent process never imports pandas.
The t quantiles are computed here too (:func:`student_t_quantile`), so it imports no scipy
either.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pmo_sim.errors import UsageError

SUMMARY_COLUMNS = ("policy", "metric", "mean", "sd", "ci_low", "ci_high", "p10", "p50", "p90", "n")
PERCENTILES = (0.1, 0.5, 0.9)


def check_confidence(confidence: float, name: str = "confidence") -> float:
    """``confidence`` (or another level ``name``, such as an alpha) as a float in (0, 1): a
    :class:`TypeError` if it is not a number (text failed in ``float()`` or a comparison), a
    :class:`UsageError` if it is outside."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise TypeError(f"{name} must be a number, not {type(confidence).__name__} ({confidence!r})")
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise UsageError(f"{name} must be between 0 and 1 exclusive (got {confidence})")
    return c


def finite(values: ArrayLike) -> NDArray[np.float64]:
    """The values as a flat float array with the NaNs (KPIs undefined in a replication) left out."""
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def t_quantile(confidence: float, n: ArrayLike) -> NDArray[np.float64]:
    """Two-sided Student-t critical value t_{(1+c)/2, n−1}; NaN where n < 2.

    Computed by :func:`student_t_quantile` (numpy and :mod:`math` alone), not scipy: a run's
    parent summarises its replications with this, and scipy's special functions would add
    ~20 MB and ~0.2 s of imports to it for one number per sample size.
    """
    p = (1.0 + check_confidence(confidence)) / 2.0
    dof = np.asarray(n, dtype=float) - 1.0
    out = np.full(dof.shape, np.nan)
    ok = dof >= 1
    for d in np.unique(dof[ok]):
        out[dof == d] = student_t_quantile(p, float(d))
    return out


#: Degrees of freedom from which :func:`student_t_quantile` uses the Cornish–Fisher
#: expansion alone, for p up to 0.995: its first neglected term, O(z¹¹/dof⁵), is below
#: 1e-14 relative there, where the series would need ever more terms. Further out in the
#: tail the threshold grows as z^2.2 (the series' tail is short there).
EXPANSION_FROM = 1000


@functools.lru_cache(maxsize=4096)  # a pure function, asked again for every CI of n values
def student_t_quantile(p: float, dof: float) -> float:
    """The ``p`` quantile (``0.5 <= p < 1``) of Student's t with integral ``dof >= 1``.

    Below :data:`EXPANSION_FROM` degrees of freedom: the closed form of P(|T| <= t) for
    integral degrees of freedom (Abramowitz & Stegun 26.7.3–4, a finite series in
    θ = atan(t/√dof)), solved for θ by safeguarded Newton steps — for p above 0.9 in its
    complementary form, the series' tail (so a tail probability of 1e-9 keeps its digits).
    From there on, the Cornish–Fisher expansion in 1/dof around the normal quantile
    (A&S 26.7.5). Within about 1e-14 relative of the exact quantile for the usual
    confidences (``tests/test_intervals.py``, against mpmath at 40 digits).
    """
    if not (0.5 <= p < 1.0 and dof >= 1 and float(dof).is_integer()):
        raise ValueError(f"student_t_quantile needs 0.5 <= p < 1 and integral dof >= 1 "
                         f"(got p={p}, dof={dof})")
    if p == 0.5:  # the median (a confidence below 2e-16 rounds p to it)
        return 0.0
    nu = int(dof)
    if nu == 1:  # Cauchy: tan(π(p − ½)), near p = 1 as 1/tan(π(1 − p)) (both differences exact)
        return math.tan(math.pi * (p - 0.5)) if p <= 0.75 else 1.0 / math.tan(math.pi * (1.0 - p))
    z = NormalDist().inv_cdf(p)
    guess = _cornish_fisher(z, nu)
    if nu >= EXPANSION_FROM * max(1.0, (z / 2.6) ** 2.2):
        return guess
    series = _Series(nu)
    # d P(|T| <= t) / dθ = slope · cos(θ)^(dof−1): twice the t density times dt/dθ
    slope = 2.0 / math.sqrt(math.pi) * math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2))
    theta = math.atan(guess / math.sqrt(nu))
    if p <= 0.9:
        x = _solve(lambda th: series.inside(th) - (2.0 * p - 1.0),
                   lambda th: slope * math.cos(th) ** (nu - 1), theta)
        return math.sqrt(nu) * math.tan(x)
    # Far out, in φ = π/2 − θ (t = √dof / tan φ keeps its digits as φ → 0) and the tail's
    # probability 2(1 − p) (exact), which the complementary series computes to its digits.
    x = _solve(lambda phi: series.outside(math.cos(phi), math.sin(phi)) - 2.0 * (1.0 - p),
               lambda phi: slope * math.sin(phi) ** (nu - 1), math.pi / 2.0 - theta)
    return math.sqrt(nu) / math.tan(x)


def _solve(gap: Callable[[float], float], derivative: Callable[[float], float], x: float) -> float:
    """The root in (0, π/2) of ``gap``, increasing, from ``x``: Newton steps, bisecting when
    a step leaves the bracket, until a step moves ``x`` by less than an ulp or so."""
    lo, hi = 0.0, math.pi / 2.0
    for _ in range(200):
        g = gap(x)
        if g == 0:
            return x
        if g < 0:
            lo = x
        else:
            hi = x
        d = derivative(x)
        new = x - g / d if d > 0 else math.nan
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - x) <= 2e-16 * x:
            return new
        x = new
    return x


class _Series:
    """P(|T| <= √nu·tan θ) for integral ``nu`` >= 2 and its complement, as A&S 26.7.3 (odd
    ``nu``) and 26.7.4 (even) write it: with c = cos²θ,

    - even: sin θ · Σ_{k<m} b_k c^k, m = nu/2, b_k = Π_{j<=k} (2j−1)/(2j);
    - odd: (2/π) (θ + sin θ cos θ · Σ_{k<m} a_k c^k), m = (nu−1)/2, a_k = Π_{j<=k} 2j/(2j+1).

    The same sums to infinity make exactly 1 (Σ b_k c^k = 1/sin θ, Σ a_k c^k =
    (π/2 − θ)/(sin θ cos θ)), so the complement is the same expression over k >= m.
    """

    def __init__(self, nu: int):
        self.odd = bool(nu % 2)
        self.m = (nu - 1) // 2 if self.odd else nu // 2
        self.ratios = self._ratios(1, self.m)  # of the coefficients, k = 1 .. m−1
        self.lead = float(np.prod(self._ratios(1, self.m + 1)))  # b_m or a_m

    def _ratios(self, first: int, stop: int) -> NDArray[np.float64]:
        k = np.arange(first, stop, dtype=float)
        return 2 * k / (2 * k + 1) if self.odd else (2 * k - 1) / (2 * k)

    def inside(self, theta: float) -> float:
        """P(|T| <= t)."""
        sin, cos = math.sin(theta), math.cos(theta)
        total = float(np.cumprod(np.concatenate(([1.0], self.ratios * (cos * cos)))).sum())
        if self.odd:
            return 2.0 / math.pi * (theta + sin * cos * total)
        return sin * total

    def outside(self, sin: float, cos: float) -> float:
        """P(|T| > t), given sin θ and cos θ: the terms k >= m, until they no longer count
        (at most a million)."""
        c = cos * cos
        first = self.lead * c ** self.m
        if first == 0.0:
            return 0.0
        count = 1_000_000 if c >= 1.0 else min(1_000_000, int(-40.0 / math.log(c)) + 2)
        ratios = self._ratios(self.m + 1, self.m + count) * c
        total = first * float(np.cumprod(np.concatenate(([1.0], ratios))).sum())
        return (2.0 / math.pi * sin * cos if self.odd else sin) * total


def _cornish_fisher(z: float, nu: float) -> float:
    """The t quantile whose normal quantile is ``z``, by the Cornish–Fisher expansion, to
    1/nu⁴."""
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu


def t_two_sided_p(t: ArrayLike, dof: ArrayLike) -> NDArray[np.float64]:
    """P(|T| >= |t|) for Student's t with ``dof`` degrees of freedom, elementwise: a paired
    t-test's two-sided p-value. NaN where ``t`` is NaN or ``dof`` is not positive."""
    ts, ds = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(dof, dtype=float))
    return np.array([student_t_tail(float(a), float(d)) for a, d in zip(ts.ravel(), ds.ravel(), strict=True)],
                    dtype=float).reshape(ts.shape)


def student_t_tail(t: float, dof: float) -> float:
    """P(|T| > |t|) for Student's t with ``dof`` > 0 degrees of freedom (NaN otherwise).

    The regularized incomplete beta function, P(|T| > t) = I_x(dof/2, 1/2) with
    x = dof/(dof + t²), by its continued fraction (modified Lentz), taken on the side where
    the fraction converges fast: the tail itself when t² > 3·dof/(dof + 2), else one minus
    the centre, I_{1−x}(1/2, dof/2); where x is within 1e-4 of 1 (dof > 10⁴·t²), whose
    rounding the fraction would magnify, the normal tail of t's Cornish–Fisher normal
    equivalent. Within 2e-11 relative of scipy's ``2·stdtr(dof, −t)`` from 0.05 to 10⁸
    degrees of freedom, and exact to rounding for dof 1 and 2 (``tests/test_intervals.py``);
    p-values far below 1e-300 underflow to 0.
    """
    if math.isnan(t) or not dof > 0:
        return math.nan
    t2 = t * t
    if t2 == 0.0:
        return 1.0
    if math.isinf(t2):
        return 0.0
    tail_side = t2 > 3.0 * dof / (dof + 2.0)
    if tail_side and dof > 1e4 * t2:
        # x within 1e-4 of 1: the fraction would lose ~dof/t² ulps to x's rounding; but there
        # t is close to normal: its normal quantile by the Cornish–Fisher expansion (whose
        # terms shrink as (t²/dof)^k), and the normal's tail.
        return math.erfc(_normal_equivalent(abs(t), dof) / math.sqrt(2.0))
    a = dof / 2.0
    log_x, log_y = -math.log1p(t2 / dof), -math.log1p(dof / t2)  # x = dof/(dof+t²), y = 1 − x
    # B(a, 1/2) = √π Γ(a)/Γ(a + 1/2)
    log_beta = 0.5 * math.log(math.pi) - _log_gamma_ratio(a)
    if tail_side:
        return math.exp(a * log_x + 0.5 * log_y - log_beta) * _beta_fraction(a, 0.5, math.exp(log_x)) / a
    centre = math.exp(0.5 * log_y + a * log_x - log_beta) * _beta_fraction(0.5, a, math.exp(log_y)) / 0.5
    return 1.0 - centre


def _normal_equivalent(t: float, dof: float) -> float:
    """The z whose Cornish–Fisher t quantile is ``t`` (the t's normal equivalent), by
    fixed-point steps: each shrinks the error by about z²/dof."""
    z = t
    for _ in range(50):
        step = _cornish_fisher(z, dof) - t
        z -= step
        if abs(step) <= 1e-17 * z:
            break
    return z


def _log_gamma_ratio(a: float) -> float:
    """log Γ(a + 1/2) − log Γ(a), without the cancellation of two large lgammas for large
    ``a`` (its asymptotic series, exact to rounding from a = 20)."""
    if a < 20.0:
        return math.lgamma(a + 0.5) - math.lgamma(a)
    return 0.5 * math.log(a) - 1 / (8 * a) + 1 / (192 * a**3) - 1 / (640 * a**5) + 17 / (14336 * a**7)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' ``betacf``, modified Lentz);
    it converges in O(√max(a, b)) steps for x < (a + 1)/(a + b + 2)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000 + 20 * int(math.sqrt(max(a, b)))):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) <= 2e-16:
            break
    return h


def half_width(values: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width of the t confidence interval of the mean of ``values`` (NaNs dropped).

    NaN with fewer than two values: the precision is unknown, and a NaN never satisfies a
    ``<=`` precision target, so a precision-driven runner keeps adding replications.
    """
    x = finite(values)
    if x.size < 2:
        return float("nan")
    return float(t_quantile(confidence, x.size) * x.std(ddof=1) / np.sqrt(x.size))


def relative_half_width(values: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width divided by |mean|: the REL of ``--precision REL``.

    0 when the values are constant (the mean is known exactly), +inf when the mean is 0 but
    the values vary (no relative precision can be reached), NaN with fewer than two values.
    """
    x = finite(values)
    hw = half_width(x, confidence)
    if np.isnan(hw):
        return float("nan")
    if hw == 0.0:
        return 0.0
    m = abs(float(x.mean()))
    return float("inf") if m == 0.0 else hw / m


def paired_half_width(
    values: ArrayLike, baseline_values: ArrayLike, confidence: float = 0.95
) -> float:
    """Half-width of the paired-t CI of mean(values − baseline_values).

    The two arrays are aligned by position (replication r of both under common random
    numbers); pairs with a NaN on either side are dropped.
    """
    a = np.asarray(values, dtype=float).ravel()
    b = np.asarray(baseline_values, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in length ({a.size} vs {b.size})")
    return half_width(a - b, confidence)


def describe(values: ArrayLike) -> tuple[int, float, float, float, float, float]:
    """n, mean, sd (ddof 1) and p10/p50/p90 (linear interpolation) of the non-NaN values.

    With one value the sd is NaN (there is no spread to estimate); with none, all but n are.
    """
    x = finite(values)
    nan = float("nan")
    if x.size == 0:
        return 0, nan, nan, nan, nan, nan
    sd = float(x.std(ddof=1)) if x.size >= 2 else nan
    q = np.quantile(x, PERCENTILES)
    if np.isnan(q).any():  # an infinite value: numpy's interpolation gave inf − inf
        # between a and b = ±inf (weight > 0) the percentile is that infinity
        q = np.where(np.isnan(q), np.quantile(x, PERCENTILES, method="lower")
                     + np.quantile(x, PERCENTILES, method="higher"), q)
    p10, p50, p90 = (float(v) for v in q)
    return x.size, float(x.mean()), sd, p10, p50, p90


def summary_columns(groups: Sequence[tuple[str, str, NDArray[Any]]],
                    confidence: float = 0.95) -> dict[str, NDArray[Any]]:
    """``summary.csv``'s columns (:data:`SUMMARY_COLUMNS`) for (policy, metric, values) groups,
    one row each, in the order given."""
    check_confidence(confidence)
    # Values near the float range's end (an edited table) give infinite or undefined sums:
    # shown as inf and nan, not as warnings on stderr (a selection on them is refused).
    with np.errstate(over="ignore", invalid="ignore"):
        rows = [describe(values) for _, _, values in groups]
        n = np.array([r[0] for r in rows], dtype=np.int64)
        mean, sd, p10, p50, p90 = (np.array([r[i] for r in rows], dtype=float) for i in range(1, 6))
        hw = t_quantile(confidence, n) * sd / np.sqrt(np.where(n > 0, n, np.nan))
        low, high = mean - hw, mean + hw
    return {
        "policy": np.array([g[0] for g in groups], dtype=object),
        "metric": np.array([g[1] for g in groups], dtype=object),
        "mean": mean, "sd": sd, "ci_low": low, "ci_high": high,
        "p10": p10, "p50": p50, "p90": p90, "n": n,
    }
