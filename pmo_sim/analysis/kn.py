"""Selecting the best policy: Kim & Nelson's procedure KN, and a Bonferroni screen.

:func:`kn_state` runs Kim & Nelson's fully sequential indifference-zone procedure KN (S.-H.
Kim and B. L. Nelson, "A fully sequential procedure for indifference-zone selection in
simulation", ACM TOMACS 11(3):251-273, 2001). Given k systems, a first stage of n0
observations yields the CRN-paired variances S²_il of X_i − X_l; with

    η = ½ [ (2α / (k − 1))^(−2/(n0 − 1)) − 1 ],   h² = 2 η (n0 − 1),

the procedure looks at the running means after every stage r ≥ n0 and eliminates system i as
soon as X̄_i(r) < X̄_l(r) − W_il(r) for some surviving l, where
W_il(r) = max(0, (δ / 2r)(h² S²_il / δ² − r)) is a triangular continuation region that closes
at r = h² S²_il / δ². It stops when one system is left, and selects the best with probability
≥ 1 − α whenever the best mean exceeds every other by at least δ (the indifference zone), for
normal data, with or without CRN. Here it is applied to the replications already simulated,
in replication order. Metrics to be minimised are negated; neutral metrics are refused. For a
runner that adds replications in batches until KN stops: with δ and n0 fixed once (after a
pilot), re-running KN on the growing table is exactly the sequential procedure, and
``KNState.more_needed`` bounds the extra replications it can still need.

:func:`screen` is the Bonferroni subset selection of the screening step of Nelson, Swann,
Goldsman and Song ("Simple procedures for selecting the best simulated system when the number
of alternatives is large", Operations Research 49(6):950-963, 2001), with common random
numbers: over n replications, system i is kept unless X̄_i < X̄_l − t_{1−α/(k−1), n−1} S_il/√n
for some l (S²_il the sample variance of the paired differences X_i − X_l). The best system is
kept with probability ≥ 1 − α whatever the means (each of its k − 1 comparisons fails with
probability at most α/(k − 1)): no indifference zone. When it keeps one system alone, that one
is the best at that confidence, however small δ was chosen; KN, whose continuation region
scales as S²/δ, may then still be far from stopping (a δ of 1% of a best mean near zero kept
policies EUR 1.5M behind, every paired test p < 0.0001, "in contention").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pmo_sim.analysis.metrics import metric_info
from pmo_sim.analysis.stats import metric_tables, resolve_metrics
from pmo_sim.errors import UsageError
from pmo_sim.intervals import student_t_quantile


def kn_constants(k: int, alpha: float, n0: int) -> tuple[float, float]:
    """KN's η and h² for k systems, error α and first-stage size n0 (Kim & Nelson 2001)."""
    if k < 2:
        raise ValueError("KN needs at least two systems")
    if n0 < 2:
        raise UsageError(f"KN needs a first stage of at least 2 replications (got n0={n0})")
    base = 2.0 * alpha / (k - 1)
    if not 0.0 < base < 1.0:
        raise UsageError(f"alpha must be in (0, (k-1)/2) = (0, {(k - 1) / 2:g}) for k={k} (got {alpha})")
    eta = 0.5 * (base ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


def default_n0(n: int) -> int:
    """Default first-stage size: 10% of the replications, at least 10 (Kim & Nelson used
    n0 = 10), at most n, and never below 2."""
    return max(2, min(n, max(10, n // 10)))


@dataclass
class KNState:
    """Where KN stands after the replications available so far.

    ``stages`` is r, the number of paired replications KN has consumed; ``max_stages`` an
    upper bound on the r at which KN must stop with the current survivors (where every
    surviving pair's continuation region has closed).
    """

    policies: list[str]
    survivors: list[str]
    terminated: bool
    stages: int
    available: int
    n0: int
    delta: float
    alpha: float
    h2: float
    max_stages: int
    eliminated_at: dict[str, int] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)

    @property
    def more_needed(self) -> int:
        """At most this many more replications (of the survivors) until KN stops."""
        return 0 if self.terminated else max(1, self.max_stages - self.stages)


def _kn_arrays(
    x: NDArray[np.float64], delta: float, alpha: float, n0: int
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64], int, int, float, int]:
    """KN on an (n × k) array to *maximise*, rows in stage order (NaN rows skipped).

    Returns (alive, eliminated_at, means, stages, available, h2, max_stages).
    """
    n_rows, k = x.shape
    finite = ~np.isnan(x)
    complete = np.flatnonzero(finite.all(axis=1))
    alive = np.ones(k, dtype=bool)
    elim = np.full(k, -1, dtype=np.int64)
    _, h2 = kn_constants(k, alpha, n0)
    if complete.size < n0:
        means = x[complete].mean(axis=0) if complete.size else np.full(k, np.nan)
        return alive, elim, means, int(complete.size), int(complete.size), h2, n0

    first = x[complete[:n0]]
    cov = np.atleast_2d(np.cov(first, rowvar=False, ddof=1))
    var = np.diag(cov)
    s2 = np.maximum(var[:, None] + var[None, :] - 2.0 * cov, 0.0)   # S²_il of X_i − X_l
    close = h2 * s2 / delta**2                                      # r where W_il closes
    sums = first.sum(axis=0)
    r = n0
    rest = iter(range(int(complete[n0 - 1]) + 1, n_rows))
    available = n0
    while True:
        means = sums / r
        w = np.maximum(0.0, delta / (2.0 * r) * (close - r))
        ok = means[:, None] >= means[None, :] - w        # ok[i, l]: i survives l
        idx = np.flatnonzero(alive)
        keep = ok[np.ix_(idx, idx)].all(axis=1)
        elim[idx[~keep]] = r
        alive[idx[~keep]] = False
        if alive.sum() == 1:
            break
        row = next((j for j in rest if finite[j, alive].all()), None)
        if row is None:
            break
        sums = sums + np.where(alive, x[row], 0.0)
        r += 1
        available += 1
    # rows left unread (KN stopped early) still count as available
    available += sum(1 for j in rest if finite[j, alive].all())
    idx = np.flatnonzero(alive)
    max_stages = int(np.ceil(close[np.ix_(idx, idx)].max())) if idx.size > 1 else r
    return alive, elim, means, r, available, h2, max(max_stages, r)


def _kn_matrix(replications: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, float]:
    """replication × policy values of ``metric`` signed so that larger is better."""
    (metric,) = resolve_metrics(replications, [metric])
    info = metric_info(metric)
    if info.sense == "neutral":
        raise UsageError(
            f"metric {metric!r} is neutral (neither higher nor lower is better): "
            "cannot select a best policy on it")
    sign = 1.0 if info.sense == "higher" else -1.0
    wide = metric_tables(replications, [metric])[metric]
    values = np.abs(wide.to_numpy(dtype=float))
    if values.size and np.nanmax(values, initial=0.0) > _LARGEST:
        raise UsageError(f"metric {metric!r} has infinite values, or values beyond ±{_LARGEST:g}, in "
                         "the replications: their sums overflow, so no policy can be selected on it")
    return wide * sign, sign


#: Largest KPI magnitude KN is run on: sums of up to 1e18 such values stay finite.
_LARGEST = 1e290


#: The indifference zone's square must be a normal float (KN divides by it).
_DELTA_RANGE = (1e-150, 1e150)


def check_delta(delta: float) -> None:
    """Refuse an indifference zone that is not a positive number whose square is a float."""
    low, high = _DELTA_RANGE
    if isinstance(delta, bool) or not isinstance(delta, int | float | np.integer | np.floating):
        raise TypeError(f"delta must be a number, not {type(delta).__name__} ({delta!r})")
    if not low <= delta <= high:
        raise UsageError(f"the indifference zone delta must be positive, between {low:g} and "
                         f"{high:g} (got {delta})")


def kn_state(
    replications: pd.DataFrame, metric: str, *, delta: float, n0: int, alpha: float = 0.05
) -> KNState:
    """Run KN over the replications available and report whether it has terminated.

    For a runner adding replications in batches: fix ``delta`` and ``n0`` once (e.g. with
    :func:`default_delta` and :func:`default_n0` on a pilot), then add
    ``state.more_needed`` (or a smaller batch) replications of ``state.survivors`` until
    ``state.terminated``. Eliminated policies need no further replications.
    """
    check_delta(delta)
    wide, sign = _kn_matrix(replications, metric)
    policies = list(wide.columns)
    if len(policies) < 2:
        return KNState(policies, policies, True, len(wide), len(wide), n0, delta, alpha,
                       float("nan"), len(wide))
    alive, elim, means, r, available, h2, max_stages = _kn_arrays(
        wide.to_numpy(dtype=float), float(delta), float(alpha), int(n0))
    return KNState(
        policies=policies,
        survivors=[p for p, a in zip(policies, alive, strict=True) if a],
        terminated=bool(alive.sum() == 1),
        stages=r, available=available, n0=int(n0), delta=float(delta), alpha=float(alpha),
        h2=h2, max_stages=max_stages,
        eliminated_at={p: int(e) for p, e in zip(policies, elim, strict=True) if e >= 0},
        means={p: float(sign * m) for p, m, a in zip(policies, means, alive, strict=True) if a},
    )


def default_delta(replications: pd.DataFrame, metric: str) -> float:
    """Default indifference zone: 1% of |mean of the best-looking policy|.

    "A difference under 1% of the best value does not matter" reads naturally for NPV,
    value, costs and times alike. When that mean is 0 it falls back to 10% of the pooled
    within-policy sd, and to 1 when the data are constant (then any δ > 0 gives the same
    answer). Note that a δ chosen from the data makes the KN guarantee approximate; pass an
    explicit, decision-based δ when it matters.
    """
    wide, _ = _kn_matrix(replications, metric)
    means = wide.mean()
    if means.notna().any():
        delta = 0.01 * abs(float(means.max()))
        if delta > 0:
            return delta
        var = wide.var(ddof=1).to_numpy(dtype=float)  # all NaN with one replication each
        pooled = float(np.sqrt(np.nanmean(var))) if not np.isnan(var).all() else np.nan
        if np.isfinite(pooled) and pooled > 0:
            return 0.1 * pooled
    return 1.0



def screen(x: NDArray[np.float64], alpha: float) -> NDArray[np.bool_]:
    """The systems (columns of ``x``: n complete replications × k systems, larger is better)
    that the Bonferroni screen keeps at error ``alpha`` (see the module docstring); every one
    when there are fewer than two replications or systems."""
    n, k = x.shape
    if n < 2 or k < 2:
        return np.ones(k, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):  # (huge values: see below)
        means = x.mean(axis=0)
        cov = np.atleast_2d(np.cov(x, rowvar=False, ddof=1))
        var = np.diag(cov)
        s2 = np.maximum(var[:, None] + var[None, :] - 2.0 * cov, 0.0)   # S²_il of X_i − X_l
        margin = student_t_quantile(1.0 - alpha / (k - 1), n - 1) * np.sqrt(s2 / n)
    # a margin that overflowed (values near the largest KN takes) keeps everyone: no verdict
    margin = np.where(np.isfinite(margin), margin, np.inf)
    return cast(NDArray[np.bool_], (means[:, None] >= means[None, :] - margin).all(axis=1))
