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
REL × |mean| for every policy (the relative-precision sequential procedure of Law §9.4.1),
judged from 10 replications on: stopping on a half-width from fewer values left the final
interval covering 89.7% instead of 95% (README, "How far to trust an interval").
``paired_half_width`` is the same measure for differences policy − baseline over common
random numbers, which is what a comparison needs to be precise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import pandas as pd

from pmo_sim.analysis.metrics import kpi_order
from pmo_sim.errors import UsageError
from pmo_sim.intervals import (
    SUMMARY_COLUMNS,
    check_confidence,
    half_width,
    paired_half_width,
    relative_half_width,
    summary_columns,
    t_quantile,
)
from pmo_sim.schema import KPI_COLUMNS

__all__ = [  # the interval functions live in pmo_sim.intervals (no pandas)
    "SUMMARY_COLUMNS", "available_metrics", "check_confidence", "check_frame", "half_width",
    "paired_half_width",
    "policies_of", "precision_reached", "relative_half_width", "relative_half_widths",
    "metric_tables", "resolve_metrics", "summary", "t_quantile",
]


# --------------------------------------------------------------------------- validation


def check_frame(replications: object, rows: bool = False) -> None:
    """A :class:`TypeError` naming what was given unless ``replications`` is a DataFrame (the
    functions of this package take a Results' ``.replications``, not the Results); with
    ``rows``, a :class:`UsageError` if it has none (a partial run's chunks all lost or left
    out: before, "unknown baseline 'base'; policies in these results: ")."""
    if not isinstance(replications, pd.DataFrame):
        hint = (": pass results.replications, or call the Results' own method (results.summary(), "
                "results.compare(), results.select_best())"
                if hasattr(replications, "replications") else "")
        raise TypeError(f"replications must be a pandas DataFrame, one row per (policy, "
                        f"replication), not {type(replications).__name__}{hint}")
    if rows and replications.empty:
        raise UsageError("these results have no finished replication: nothing to compare")


def policies_of(replications: pd.DataFrame) -> list[str]:
    """The policies of a replications table, in order of first appearance."""
    check_frame(replications)
    if "policy" not in replications.columns:
        raise UsageError("the replications table has no 'policy' column")
    return [str(p) for p in pd.unique(replications["policy"].astype(str))]


def available_metrics(replications: pd.DataFrame) -> list[str]:
    """The numeric KPI columns of a replications table, in KPI order.

    KPIs of ``KPI_COLUMNS`` come first, then any other numeric column (except the keys and
    ``seed``), so a user's own derived column can be summarised and compared too.
    """
    check_frame(replications)
    skip = {"policy", "replication", "seed"}
    numeric = [
        str(c) for c in replications.columns
        if c not in skip and (pd.api.types.is_numeric_dtype(replications[c])
                              or pd.api.types.is_bool_dtype(replications[c]))
    ]
    return kpi_order(numeric)


def metric_names(metrics: Sequence[str] | str) -> list[str]:
    """One name (one metric, not its letters) or a list of names, each once; a
    :class:`TypeError` naming anything else (``summary(table, 5)``: "'int' object is not
    iterable"; ``metric=["npv"]``: "unhashable type: 'list'" from dict.fromkeys)."""
    if not isinstance(metrics, (str, Iterable)):
        raise TypeError(f"metrics must be KPI names (text) or a list of them, not "
                        f"{type(metrics).__name__} ({metrics!r})")
    wanted = [metrics] if isinstance(metrics, str) else list(metrics)
    odd = [m for m in wanted if not isinstance(m, str)]
    if odd:
        raise TypeError(f"metrics must be KPI names (text), not {type(odd[0]).__name__} ({odd[0]!r})")
    return list(dict.fromkeys(wanted))


def resolve_metrics(replications: pd.DataFrame, metrics: Sequence[str] | str | None) -> list[str]:
    """Check requested metrics against the table; ``None`` means every KPI present.

    Raises :class:`UsageError` naming the metrics that exist when one does not.
    """
    available = available_metrics(replications)
    if metrics is None:
        return [m for m in available if m in KPI_COLUMNS] or available
    wanted = metric_names(metrics)
    unknown = [m for m in wanted if m not in available]
    odd = [m for m in unknown if m in replications.columns]  # there, but text: not "unknown"
    if odd:
        raise UsageError(f"metric {odd[0]!r} is not a numeric column of the table (its type is "
                         f"{replications[odd[0]].dtype}); give a column of numbers")
    if unknown:
        raise UsageError(
            f"unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(available) if available else '(none)'}"
        )
    if not wanted:
        raise UsageError(f"no metric given; available: {', '.join(available)}")
    return wanted


# --------------------------------------------------------------------------- half-widths


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
    # The numbers come from pmo_sim.intervals, as summary.csv's do (same rows, same order: the same
    # floating-point sums), so the method and the file agree to the last bit.
    data = replications[names].astype(float)
    by_policy = dict(iter(data.groupby(replications["policy"].astype(str), sort=False)))
    groups = [(p, m, by_policy[p][m].to_numpy()) for p in policies for m in names]
    return pd.DataFrame(summary_columns(groups, confidence), columns=list(SUMMARY_COLUMNS))


# --------------------------------------------------------------------------- tables


def metric_tables(replications: pd.DataFrame, metrics: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The replication × policy table of each metric (policies in first-appearance order),
    the table's keys checked and pivoted once (the verdict compares about ten KPIs)."""
    check_frame(replications, rows=True)
    if "replication" not in replications.columns:
        raise UsageError("the replications table has no 'replication' column")
    keys = replications[["policy", "replication"]].astype({"policy": str})
    dup = keys.duplicated()
    if dup.any():
        p, r = keys[dup].iloc[0]
        raise UsageError(f"replication {r} of policy {p!r} appears more than once in the table")
    values = {f"v{i}": replications[m].astype(float) for i, m in enumerate(metrics)}
    frame = pd.DataFrame({"policy": keys["policy"], "replication": keys["replication"], **values})
    wide = frame.pivot(index="replication", columns="policy", values=list(values)).sort_index()
    policies = policies_of(replications)
    # (a top-level key of the pivot's two-level columns selects a frame: one policy a column)
    return {m: cast(pd.DataFrame, wide[f"v{i}"]).reindex(columns=policies)
            for i, m in enumerate(metrics)}
