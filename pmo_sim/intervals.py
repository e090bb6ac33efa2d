"""Student-t intervals and percentiles of Monte Carlo KPIs, from plain arrays.

The numbers of :mod:`pmo_sim.analysis.stats` (see its docstring for the model: every
replication of a policy is an i.i.d. draw, the t interval of the mean, empirical percentiles)
computed on numpy arrays alone, with no pandas: a run writes ``summary.csv`` from its Parquet
tables with these functions (:func:`pmo_sim.experiment.results.summary_csv`), and
``Results.summary()`` computes the same rows from a DataFrame with the same functions, so the
file and the method agree to the last bit, and a run's parent process never imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pmo_sim.errors import UsageError

SUMMARY_COLUMNS = ("policy", "metric", "mean", "sd", "ci_low", "ci_high", "p10", "p50", "p90", "n")
PERCENTILES = (0.1, 0.5, 0.9)


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float in (0, 1), or a :class:`UsageError`."""
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise UsageError(f"confidence must be between 0 and 1 exclusive (got {confidence})")
    return c


def finite(values: ArrayLike) -> NDArray[np.float64]:
    """The values as a flat float array with the NaNs (KPIs undefined in a replication) left out."""
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def t_quantile(confidence: float, n: ArrayLike) -> NDArray[np.float64]:
    """Two-sided Student-t critical value t_{(1+c)/2, n−1}; NaN where n < 2."""
    # NOTE: scipy.special's t quantile rather than scipy.stats (same values, far lighter), and
    # imported here, not above: a run's parent needs it only once its tables are written, so
    # its ~20 MB do not add to the consolidation's peak.
    from scipy.special import stdtrit

    dof = np.asarray(n, dtype=float) - 1.0
    with np.errstate(invalid="ignore"):
        q = stdtrit(np.where(dof >= 1, dof, np.nan), (1.0 + check_confidence(confidence)) / 2.0)
    return np.asarray(q, dtype=float)


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
    p10, p50, p90 = (float(q) for q in np.quantile(x, PERCENTILES))
    return x.size, float(x.mean()), sd, p10, p50, p90


def summary_columns(groups: Sequence[tuple[str, str, NDArray[Any]]],
                    confidence: float = 0.95) -> dict[str, NDArray[Any]]:
    """``summary.csv``'s columns (:data:`SUMMARY_COLUMNS`) for (policy, metric, values) groups,
    one row each, in the order given."""
    check_confidence(confidence)
    rows = [describe(values) for _, _, values in groups]
    n = np.array([r[0] for r in rows], dtype=np.int64)
    mean, sd, p10, p50, p90 = (np.array([r[i] for r in rows], dtype=float) for i in range(1, 6))
    hw = t_quantile(confidence, n) * sd / np.sqrt(np.where(n > 0, n, np.nan))
    return {
        "policy": np.array([g[0] for g in groups], dtype=object),
        "metric": np.array([g[1] for g in groups], dtype=object),
        "mean": mean, "sd": sd, "ci_low": mean - hw, "ci_high": mean + hw,
        "p10": p10, "p50": p50, "p90": p90, "n": n,
    }
