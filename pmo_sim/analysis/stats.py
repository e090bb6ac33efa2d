"""Per-policy summaries of Monte Carlo KPIs, and the precision of their means.

Every replication of a policy is an independent, identically distributed draw of its KPIs
(replications differ only by their random-number streams), so the classical results apply:
for the n non-missing values x_1..x_n of a KPI under one policy,

- the point estimate is the sample mean x̄ and the spread the sample sd s (ddof = 1);
- the ``confidence`` interval of the mean is the Student-t interval
  x̄ ± t_{(1+c)/2, n−1} · s / √n, exact for normal data and asymptotically valid otherwise by
  the central limit theorem (Law, *Simulation Modeling and Analysis*, 5th ed., §9.4.1);
- p10, p50 and p90 are empirical quantiles (linear interpolation, numpy's default): the
  spread of *outcomes* a manager should plan for, not the uncertainty of the mean.

A KPI that is undefined in a replication (``mean_cycle_time`` when nothing completed) is NaN
there and simply left out; ``n`` says how many values were used. With n = 1 the sd and the
CI are NaN (there is no spread to estimate), with n = 0 everything is NaN.

The *half-width* helpers serve the precision-driven run of SPEC 6 (``--precision REL
--metric M``): replications are added until the 95% half-width of M's mean is at most
REL × |mean| for every policy (the relative-precision sequential procedure of Law §9.4.1).
``paired_half_width`` is the same measure for differences policy − baseline over common
random numbers, which is what a comparison needs to be precise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

# NOTE: scipy.special's t quantile rather than scipy.stats: same values, far lighter import.
from scipy.special import stdtrit

from pmo_sim.analysis.metrics import kpi_order
from pmo_sim.errors import UsageError
from pmo_sim.schema import KPI_COLUMNS

SUMMARY_COLUMNS = ("policy", "metric", "mean", "sd", "ci_low", "ci_high", "p10", "p50", "p90", "n")


# --------------------------------------------------------------------------- validation


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float in (0, 1), or a :class:`UsageError`."""
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise UsageError(f"confidence must be between 0 and 1 exclusive (got {confidence})")
    return c


def policies_of(replications: pd.DataFrame) -> list[str]:
    """The policies of a replications table, in order of first appearance."""
    if "policy" not in replications.columns:
        raise UsageError("the replications table has no 'policy' column")
    return [str(p) for p in pd.unique(replications["policy"].astype(str))]


def available_metrics(replications: pd.DataFrame) -> list[str]:
    """The numeric KPI columns of a replications table, in KPI order.

    KPIs of ``KPI_COLUMNS`` come first, then any other numeric column (except the keys and
    ``seed``), so a user's own derived column can be summarised and compared too.
    """
    skip = {"policy", "replication", "seed"}
    numeric = [
        str(c) for c in replications.columns
        if c not in skip and (pd.api.types.is_numeric_dtype(replications[c])
                              or pd.api.types.is_bool_dtype(replications[c]))
    ]
    return kpi_order(numeric)


def resolve_metrics(replications: pd.DataFrame, metrics: Sequence[str] | str | None) -> list[str]:
    """Check requested metrics against the table; ``None`` means every KPI present.

    Raises :class:`UsageError` naming the metrics that exist when one does not.
    """
    available = available_metrics(replications)
    if metrics is None:
        return [m for m in available if m in KPI_COLUMNS] or available
    wanted = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(metrics))
    unknown = [m for m in wanted if m not in available]
    if unknown:
        raise UsageError(
            f"unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(available) if available else '(none)'}"
        )
    if not wanted:
        raise UsageError(f"no metric given; available: {', '.join(available)}")
    return wanted


# --------------------------------------------------------------------------- half-widths


def _finite(values: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def t_quantile(confidence: float, n: ArrayLike) -> NDArray[np.float64]:
    """Two-sided Student-t critical value t_{(1+c)/2, n−1}; NaN where n < 2."""
    dof = np.asarray(n, dtype=float) - 1.0
    with np.errstate(invalid="ignore"):
        q = stdtrit(np.where(dof >= 1, dof, np.nan), (1.0 + check_confidence(confidence)) / 2.0)
    return np.asarray(q, dtype=float)


def half_width(values: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width of the t confidence interval of the mean of ``values`` (NaNs dropped).

    NaN with fewer than two values: the precision is unknown, and a NaN never satisfies a
    ``<=`` precision target, so a precision-driven runner keeps adding replications.
    """
    x = _finite(values)
    if x.size < 2:
        return float("nan")
    return float(t_quantile(confidence, x.size) * x.std(ddof=1) / np.sqrt(x.size))


def relative_half_width(values: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width divided by |mean|: the REL of ``--precision REL``.

    0 when the values are constant (the mean is known exactly), +inf when the mean is 0 but
    the values vary (no relative precision can be reached), NaN with fewer than two values.
    """
    x = _finite(values)
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


def relative_half_widths(
    replications: pd.DataFrame, metric: str, confidence: float = 0.95
) -> pd.Series:
    """Relative half-width of ``metric``'s mean for each policy (see relative_half_width)."""
    (metric,) = resolve_metrics(replications, [metric])
    values = replications[metric].astype(float)
    groups = values.groupby(replications["policy"].astype(str), sort=False)
    out = {str(p): relative_half_width(v.to_numpy(), confidence) for p, v in groups}
    return pd.Series(out, name=metric, dtype=float).rename_axis("policy")


def precision_reached(
    replications: pd.DataFrame, metric: str, rel: float, confidence: float = 0.95
) -> bool:
    """True when every policy's half-width of ``metric`` is at most ``rel`` × |mean|."""
    if rel <= 0:
        raise UsageError(f"--precision must be positive (got {rel})")
    widths = relative_half_widths(replications, metric, confidence)
    return bool(len(widths) > 0 and (widths <= rel).all())


# --------------------------------------------------------------------------- summary


def summary(
    replications: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per policy and KPI: mean, sd, t CI of the mean, p10/p50/p90 and n (SPEC 7 summary.csv).

    Parameters
    ----------
    replications:
        One row per (policy, replication) with KPI columns.
    metrics:
        KPIs to summarise, in the order given; ``None`` means every KPI present, in KPI order.
    confidence:
        Level of the two-sided t interval (0.95 in summary.csv).

    Rows are policy-major (policies in order of first appearance), metric-minor.
    """
    check_confidence(confidence)
    policies = policies_of(replications)
    names = resolve_metrics(replications, metrics)
    if not policies:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in SUMMARY_COLUMNS}).astype(
            {"policy": object, "metric": object, "n": "int64"})

    data = replications[names].astype(float)
    grouped = data.groupby(replications["policy"].astype(str), sort=False)
    index = pd.MultiIndex.from_product([policies, names], names=["policy", "metric"])

    def long(frame: pd.DataFrame) -> NDArray[np.float64]:
        # (policy × metric) wide -> policy-major long vector, aligned with `index`
        return frame.reindex(index=policies, columns=names).to_numpy(dtype=float).ravel()

    n = long(grouped.count())
    mean = long(grouped.mean())
    sd = long(grouped.std(ddof=1))
    q = {lvl: long(grouped.quantile(lvl)) for lvl in (0.1, 0.5, 0.9)}  # NaNs skipped

    sd = np.where(n >= 2, sd, np.nan)
    hw = t_quantile(confidence, n) * sd / np.sqrt(np.where(n > 0, n, np.nan))
    columns: dict[str, Any] = {
        "policy": index.get_level_values(0).to_numpy(dtype=object),
        "metric": index.get_level_values(1).to_numpy(dtype=object),
        "mean": mean,
        "sd": sd,
        "ci_low": mean - hw,
        "ci_high": mean + hw,
        "p10": q[0.1],
        "p50": q[0.5],
        "p90": q[0.9],
        "n": n.astype(np.int64),
    }
    return pd.DataFrame(columns, columns=list(SUMMARY_COLUMNS))
