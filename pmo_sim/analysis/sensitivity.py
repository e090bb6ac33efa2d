"""Which inputs matter: tornado effects on common random numbers, Morris screening, Sobol indices.

A sensitivity study varies k scenario fields (*factors*), each over a range [low, high], and
watches one KPI. Every design point runs replications 0..n-1 from the same root seed, so
replication r is the same random world at every point (common random numbers): the
differences between points are the factors' effects, not sampling noise. These functions are
the arithmetic on the results (pure, on arrays and DataFrames); the study that runs the
points is :mod:`pmo_sim.experiment.sensitivity`.

**Tornado** (one factor at a time). Factor i is set to its low and then its high value, the
others stay at their scenario values. Per replication r, the effect is
D_r = Y_r(high) − Y_r(low), a paired difference: the shared noise cancels, and the 95%
interval is the paired t interval D̄ ± t_{0.975, n−1} s_D/√n. A factor without effect gives
D_r = 0 in every replication, so its effect and its interval are exactly 0. Factors are
ranked by |D̄|. The rows also give the mean KPI at the low and at the high value.

**Morris** elementary effects (Morris 1991; μ* of Campolongo, Cariboni and Saltelli 2007):
r trajectories (``samples``, SALib's design) on a 4-level grid of the unit hypercube; along a
trajectory each factor moves once by Δ = 2/3 of its range, and its elementary effect is the
change of the KPI divided by the change of the factor as a share of its range, i.e. in KPI
units per full range. μ* (mean |EE|) measures influence, with the 95% t interval of the mean
of the |EE| (independent across trajectories); SALib's normal bootstrap (± z₀.₉₇₅ × the sd of
1000 resampled means) covered E|EE| 0.89 of the time at the default 10 trajectories and 0.92
at 20, the t interval 0.93–0.94 (tests/test_statistics_round2.py), and with one effect it gave
a zero-width interval where the t interval gives none. σ (sd of EE) measures
non-linearity or interaction; μ (mean EE) gives the direction. Factors are ranked by μ*.
The effects are computed here from the values each point *ran*, not by SALib's analysis,
which divides by the sampled step: for a whole-number field (below) a sampled step of 2/3
of the widened range can run 1 → 3, 2 → 3 or 3 → 3, and SALib's effects were then 1.5×,
0.75× and 0× the true one. A step that leaves the field's value unchanged gives no
elementary effect (it is left out; ``n`` counts the effects of each factor).

**Sobol** indices (Sobol 2001; Saltelli 2002 and 2010 estimators), through SALib: N
(``samples``, a power of 2) base points of a scrambled Sobol sequence and the N·k
"radial" points, N·(k + 2) in all. S1 is the share of the KPI's variance that factor i
explains alone, ST the share it explains with all its interactions (1 − ST is what is left
if it were fixed); both with bootstrap 95% intervals. An inert factor has ST = 0: with
common random numbers its points give exactly the same output. Factors are ranked by ST.

For Morris and Sobol the KPI at a design point is its mean over the n replications (NaNs of
undefined KPIs left out). **Integer fields** (headcounts, crew sizes) are sampled on
[low − ½, high + ½] and rounded half up, clipped to [low, high], so that every whole number
in the range gets an equal share of the Sobol samples; Morris divides by the rounded values'
change, Sobol's analysis reads only the KPI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pmo_sim.analysis.stats import half_width
from pmo_sim.errors import UsageError

METHODS = ("tornado", "morris", "sobol")
#: The tidy table of a study: one row per (policy, parameter, statistic).
SENSITIVITY_COLUMNS = ("method", "policy", "metric", "parameter", "low", "high", "statistic",
                       "value", "ci_low", "ci_high", "n", "rank")
#: The statistic each method ranks factors by (largest absolute value first).
RANKED_BY = {"tornado": "effect", "morris": "mu_star", "sobol": "ST"}
#: Default number of Morris trajectories / Sobol base samples.
DEFAULT_SAMPLES = {"tornado": 0, "morris": 10, "sobol": 64}
#: Levels of the Morris grid.
MORRIS_LEVELS = 4
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Factor:
    """A varied field: its ``--set`` path, its range and whether it holds whole numbers."""

    path: str
    low: float
    high: float
    integer: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """The sampled interval: widened by ½ for integer fields (see the module docstring)."""
        return (self.low - 0.5, self.high + 0.5) if self.integer else (self.low, self.high)

    def value(self, x: float) -> float | int:
        """The field's value for a sampled ``x``."""
        if not self.integer:
            return float(x)
        return int(min(max(math.floor(x + 0.5), self.low), self.high))


def check_method(method: str, samples: int | None) -> int:
    """The method checked, and the number of samples it uses (its default when None)."""
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    if method == "tornado" and samples is not None:  # else ignored without a word
        raise UsageError(f"--samples is for morris and sobol: a tornado runs each --vary at LOW "
                         f"and HIGH (got --samples {samples} with --method tornado)")
    n = DEFAULT_SAMPLES[method] if samples is None else int(samples)
    if method == "morris" and n < 2:
        raise UsageError(f"--samples for morris is the number of trajectories, at least 2 (got {n})")
    if method == "sobol" and (n < 2 or n & (n - 1)):
        below = 1 << max(1, n.bit_length() - 1)
        raise UsageError(f"--samples for sobol must be a power of 2, at least 2 (got {n}; try "
                         f"{below} or {below * 2})")
    return n


def _seed(seed: int, purpose: int) -> int:
    # SALib's Sobol analysis falls back to NumPy's global generator for a seed of 0: derive a
    # positive seed per purpose (design, bootstrap) from the study's seed instead.
    return int(np.random.SeedSequence([seed, purpose]).generate_state(1)[0]) + 1


def _problem(factors: Sequence[Factor]) -> dict[str, Any]:
    return {"num_vars": len(factors), "names": [f.path for f in factors],
            "bounds": [list(f.bounds) for f in factors]}


def design(method: str, factors: Sequence[Factor], samples: int, seed: int = 0) -> NDArray[np.float64]:
    """The design matrix (points × factors, sampled values) of Morris or Sobol via SALib."""
    problem = _problem(factors)
    if method == "morris":
        from SALib.sample.morris import sample as morris_sample

        return np.asarray(morris_sample(problem, samples, num_levels=MORRIS_LEVELS, seed=_seed(seed, 1)))
    if method == "sobol":
        from SALib.sample.sobol import sample as sobol_sample

        return np.asarray(sobol_sample(problem, samples, calc_second_order=False, seed=_seed(seed, 1)))
    raise UsageError(f"{method} has no sampled design; choose morris or sobol")


def design_points(factors: Sequence[Factor], matrix: NDArray[np.float64]) -> list[dict[str, Any]]:
    """Each design row as ``{path: value}`` (integer fields rounded)."""
    return [{f.path: f.value(x) for f, x in zip(factors, row, strict=True)} for row in matrix]


def _row(parameter: str, statistic: str, value: float, low: float, high: float, n: int) -> dict[str, Any]:
    return {"parameter": parameter, "statistic": statistic, "value": value, "ci_low": low,
            "ci_high": high, "n": n}


def _mean_ci(values: NDArray[np.float64]) -> tuple[float, float, float, int]:
    x = values[~np.isnan(values)]
    if x.size == 0:
        return math.nan, math.nan, math.nan, 0
    mean, hw = float(x.mean()), half_width(x, CONFIDENCE)
    return mean, mean - hw, mean + hw, int(x.size)


def tornado_effects(parameter: str, at_low: pd.DataFrame, at_high: pd.DataFrame,
                    metric: str) -> pd.DataFrame:
    """Rows ``effect`` (paired), ``at_low`` and ``at_high`` of one factor for one policy.

    ``at_low`` and ``at_high`` have columns ``replication`` and ``metric``: the same
    replications run at the factor's low and high value. Pairs with a NaN are left out of
    the effect.
    """
    pairs = at_low[["replication", metric]].merge(at_high[["replication", metric]], on="replication",
                                                 suffixes=("_low", "_high"))
    diff = np.asarray(pairs[f"{metric}_high"], dtype=float) - np.asarray(pairs[f"{metric}_low"], dtype=float)
    rows = [_row(parameter, "effect", *_mean_ci(diff))]
    for name, frame in (("at_low", at_low), ("at_high", at_high)):
        rows.append(_row(parameter, name, *_mean_ci(frame[metric].to_numpy(dtype=float))))
    return pd.DataFrame(rows)


def _check_outputs(outputs: NDArray[np.float64], metric: str) -> None:
    bad = np.flatnonzero(~np.isfinite(outputs))
    if bad.size:
        raise UsageError(f"{metric} is undefined (NaN in every replication) at {bad.size} design "
                         f"point(s), e.g. point {int(bad[0])}: study a KPI defined everywhere, "
                         f"or narrow the ranges")


def elementary_effects(factors: Sequence[Factor], matrix: NDArray[np.float64],
                       outputs: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Each factor's Morris elementary effects: per step of a trajectory that moves it, the
    KPI's change over the change of the value run, as a share of the factor's range.

    ``matrix`` is the Morris design (r trajectories of k + 1 sampled points, one factor moving
    at each step) and ``outputs`` the KPI at each point. Steps whose rounded value did not
    change are left out (see the module docstring).
    """
    k = len(factors)
    sampled = np.asarray(matrix, dtype=float).reshape(-1, k + 1, k)
    run = np.array([[f.value(x) for f, x in zip(factors, row, strict=True)] for row in matrix],
                   dtype=float).reshape(sampled.shape)
    moved = np.argmax(np.abs(np.diff(sampled, axis=1)), axis=2)        # (r, k): who moves
    change = np.take_along_axis(np.diff(run, axis=1), moved[..., None], axis=2)[..., 0]
    span = np.array([f.high - f.low for f in factors], dtype=float)[moved]
    rise = np.diff(np.asarray(outputs, dtype=float).reshape(-1, k + 1), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(change != 0, rise * span / change, np.nan)
    return [effect[(moved == i) & ~np.isnan(effect)] for i in range(k)]


def morris_indices(factors: Sequence[Factor], matrix: NDArray[np.float64],
                   outputs: NDArray[np.float64], metric: str, seed: int = 0) -> pd.DataFrame:
    """Rows ``mu_star`` (with its t CI), ``mu`` and ``sigma`` per factor. ``seed`` is kept
    for callers; the interval resamples nothing (see the module docstring)."""
    _check_outputs(outputs, metric)
    rows = []
    for f, ee in zip(factors, elementary_effects(factors, matrix, outputs), strict=True):
        n = int(ee.size)
        if n == 0:
            mu_star = mu = sigma = conf = math.nan
        else:
            mu_star, mu = float(np.mean(np.abs(ee))), float(np.mean(ee))
            sigma = float(np.std(ee, ddof=1)) if n > 1 else math.nan
            conf = half_width(np.abs(ee), CONFIDENCE)  # NaN with one effect: no spread known
        low = max(0.0, mu_star - conf) if not math.isnan(conf) else math.nan
        rows += [_row(f.path, "mu_star", mu_star, low, mu_star + conf, n),
                 _row(f.path, "mu", mu, math.nan, math.nan, n),
                 _row(f.path, "sigma", sigma, math.nan, math.nan, n)]
    return pd.DataFrame(rows)


def sobol_indices(factors: Sequence[Factor], outputs: NDArray[np.float64], metric: str,
                  seed: int = 0) -> pd.DataFrame:
    """Rows ``S1`` and ``ST`` per factor, with bootstrap CIs.

    When the KPI does not vary over the design at all, no factor explains any variance: the
    indices are undefined and returned as NaN.
    """
    from SALib.analyze.sobol import analyze

    _check_outputs(outputs, metric)
    base = len(outputs) // (len(factors) + 2)
    y = np.asarray(outputs, dtype=float)
    if np.ptp(y) == 0:
        return pd.DataFrame([_row(f.path, s, math.nan, math.nan, math.nan, base)
                             for f in factors for s in ("S1", "ST")])
    res = analyze(_problem(factors), y, calc_second_order=False, conf_level=CONFIDENCE,
                  num_resamples=1000, seed=_seed(seed, 2))
    rows = []
    for i, f in enumerate(factors):
        for s in ("S1", "ST"):
            value, conf = float(res[s][i]), float(res[f"{s}_conf"][i])
            rows.append(_row(f.path, s, value, value - conf, value + conf, base))
    return pd.DataFrame(rows)


def tidy(method: str, metric: str, factors: Sequence[Factor],
         per_policy: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The study's table: method, policy, metric and range columns added, factors ranked.

    ``rank`` is 1 for the factor with the largest |statistic of RANKED_BY| in its policy,
    ties in the order the factors were given, undefined (NaN) statistics last.
    """
    bounds = {f.path: (f.low, f.high) for f in factors}
    frames = []
    for policy, rows in per_policy.items():
        rows = rows.copy()
        key = rows[rows["statistic"] == RANKED_BY[method]].set_index("parameter")["value"].abs()
        order = key.fillna(-1.0).sort_values(ascending=False, kind="stable").index
        rank = {p: i + 1 for i, p in enumerate(order)}
        rows["rank"] = rows["parameter"].map(rank).astype("int64")
        rows["low"] = rows["parameter"].map(lambda p: bounds[p][0])
        rows["high"] = rows["parameter"].map(lambda p: bounds[p][1])
        rows["method"], rows["policy"], rows["metric"] = method, policy, metric
        frames.append(rows.sort_values("rank", kind="stable"))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    return table[list(SENSITIVITY_COLUMNS)].reset_index(drop=True)
