"""The report's figures: matplotlib figures on DataFrames, each with units on its axes.

Every function returns a bare :class:`matplotlib.figure.Figure` (never pyplot, so no global
state) that :mod:`pmo_sim.analysis.report` inlines as SVG. Axis ticks go through
:func:`pmo_sim.analysis.plots.readable_ticks`: one scale per axis (``1.5M``), rates as
percentages, and as many decimals as it takes to tell neighbouring ticks apart, so small
differences never read ``0%, 0%, 0%`` and nothing is in scientific notation.

**Value and cost over time** (:func:`value_and_cost`). Per replication, the cumulative value
realised by day t is the sum over completed, counted projects of their ``value_delivered``
accrued evenly from their ``finish`` to the horizon (the projects table does not split a
project's value into a completion value and a value per day; this is the same assumption as
the ROI's payback, :func:`pmo_sim.analysis.roi.value_curves`). The cumulative cost by day t is
the replication's ``total_cost`` accrued evenly over the measurement window (warm-up to
horizon): payroll, the bulk of it, is day rate × headcount, paid whether people are busy or
not. The figure shows, per policy, the mean over replications and the band holding the middle
80% of them (P10 to P90 at each day).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.metrics import metric_info
from pmo_sim.analysis.plots import readable_ticks
from pmo_sim.analysis.roi import value_curves
from pmo_sim.analysis.stats import summary

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6",
           "#9d755d", "#bab0ac", "#eeca3b")
_GOOD, _BAD, _NEUTRAL = "#1a7f37", "#c62828", "#6e7781"


def colours(policies: Sequence[str]) -> dict[str, str]:
    return {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(policies)}


def _legend_above(ax: Axes, n: int) -> None:
    if not ax.get_legend_handles_labels()[0]:
        return  # nothing labelled was drawn (no data): no empty legend, and no warning of one
    ax.legend(fontsize=8, ncols=min(4, n), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False)
    # The figure grows by the legend's rows beyond three: a legend of 100 policies (25 rows)
    # above a figure of 3.8 in left its axes no height ("constrained_layout not applied because
    # axes sizes collapsed to zero", a warning per figure on stderr, the legend over the plot).
    rows = -(-n // min(4, n))
    if rows > 3:
        fig = ax.get_figure(root=True)
        assert fig is not None
        fig.set_size_inches(fig.get_size_inches()[0], fig.get_size_inches()[1] + 0.2 * (rows - 3))


def _no_data(ax: Axes, text: str, ticks: bool = False) -> None:
    """Say on an empty panel why it is empty (``ticks``: keep its ticks, shared with others)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9,
            color=_NEUTRAL, wrap=True)
    if not ticks:
        ax.set_xticks([])
        ax.set_yticks([])


def _unit_axis(info_unit: str, currency: str) -> str:
    return fmt.unit_label(info_unit, currency)


# --------------------------------------------------------------------------- distributions


def bin_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """numpy's histogram bins of the finite ``values``; where numpy cannot make them (one value
    repeated at 1e16 or beyond, where its ±0.5 default range is no range at all), bins over a
    range widened by a millionth of the value."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        finite = np.zeros(1)
    try:
        return np.histogram_bin_edges(finite, bins=bins)
    except ValueError:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 1e-6 * max(abs(lo), abs(hi), 1.0)
        return np.histogram_bin_edges(finite, bins=bins, range=(lo - pad, hi + pad))


def distributions(replications: pd.DataFrame, policies: Sequence[str], metric: str,
                  currency: str) -> Figure:
    """Histogram and cumulative distribution (CDF) of ``metric`` per policy, side by side."""
    info = metric_info(metric)
    data = {p: replications.loc[replications["policy"] == p, metric].dropna().to_numpy(float)
            for p in policies}
    values = np.concatenate([v for v in data.values() if v.size] or [np.zeros(1)])
    fig = Figure(figsize=(9.6, 3.6), layout="constrained")
    hist, cdf = fig.subplots(1, 2)
    bins = bin_edges(values, min(30, max(8, values.size // (4 * len(policies)))))
    if not any(v.size for v in data.values()):
        for ax in (hist, cdf):
            _no_data(ax, f"No data: {info.label} is missing in every replication.")
        return fig
    for policy, colour in colours(policies).items():
        v = data[policy]
        if not v.size:
            hist.plot([], [], color=colour, label=f"{policy} (no data)")
            continue
        hist.hist(v, bins=bins, histtype="stepfilled", alpha=0.25, color=colour)
        hist.hist(v, bins=bins, histtype="step", linewidth=1.4, color=colour, label=policy)
        xs = np.sort(v)
        cdf.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", color=colour, label=policy)
    unit = _unit_axis(info.unit, currency)
    for ax in (hist, cdf):
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        readable_ticks(ax.xaxis, info.unit)
        ax.set_xlabel(f"{info.label} per replication ({unit})")
    hist.set_ylabel("replications")
    readable_ticks(cdf.yaxis, "rate")
    cdf.set_ylabel(f"share of replications at or below ({'%'})")
    if info.unit == "money":
        for ax in (hist, cdf):
            ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
    _legend_above(hist, len(policies))
    return fig


# --------------------------------------------------------------------------- comparisons


def forest(comparison: pd.DataFrame, metrics: Sequence[str], baseline: str, currency: str) -> Figure:
    """Paired differences to the baseline with 95% CIs: one small panel per metric."""
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    others = list(dict.fromkeys(comparison["policy"].astype(str)))
    fig = Figure(figsize=(9.6, rows * (1.1 + 0.34 * len(others))), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    palette = {True: _GOOD, False: _BAD, None: _NEUTRAL}
    for ax, metric in zip(axes, metrics, strict=False):
        info = metric_info(metric)
        rows_of = comparison[comparison["metric"] == metric]
        if not np.isfinite(rows_of["diff_mean"].to_numpy(float)).any():
            _no_data(ax, "no data", ticks=True)
        for row in rows_of.to_dict("records"):
            i = others.index(str(row["policy"]))
            flag = row["better"] if isinstance(row["better"], bool) else None
            lo, mid, hi = float(row["ci_low"]), float(row["diff_mean"]), float(row["ci_high"])
            ax.errorbar([mid], [i], xerr=[[mid - lo], [hi - mid]], fmt="o", capsize=3,
                        color=palette[flag])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(others)), others)
        ax.set_ylim(len(others) - 0.5, -0.5)
        ax.tick_params(axis="y", left=False)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        readable_ticks(ax.xaxis, info.unit)
        ax.tick_params(axis="x", labelsize=7.5)
        unit = "pp" if info.unit == "rate" else _unit_axis(info.unit, currency)
        ax.set_title(f"{info.label} ({unit})", fontsize=9)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(f"difference to {baseline} (95% CI); green: better, red: worse, grey: not "
                 "significant or neutral", fontsize=9)
    return fig


def tradeoff(table: pd.DataFrame, policies: Sequence[str]) -> Figure:
    """Mean cycle time (x) against on-time rate (y), each with its 95% CI."""
    fig = Figure(figsize=(8.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for policy, colour in colours(policies).items():
        rows = table[table["policy"] == policy].set_index("metric")
        mean = rows["mean"].astype(float)
        half = rows["ci_high"].astype(float) - mean
        ax.errorbar([mean["mean_cycle_time"]], [mean["on_time_rate"]],
                    xerr=[half["mean_cycle_time"]], yerr=[half["on_time_rate"]], fmt="o",
                    capsize=3, color=colour, label=policy)
    readable_ticks(ax.yaxis, "rate")
    readable_ticks(ax.xaxis, "days")
    ax.set_xlabel("mean cycle time (working days; lower is better)")
    ax.set_ylabel("on-time rate (%; higher is better)")
    ax.margins(0.15)
    _legend_above(ax, len(policies))
    return fig


# --------------------------------------------------------------------------- pools


def pools(pools_table: pd.DataFrame, policies: Sequence[str]) -> Figure:
    """Utilisation and mean wait for a crew per pool (groups) and policy (bars), 95% CIs."""
    names = list(dict.fromkeys(pools_table["pool"].astype(str)))
    width = 0.8 / max(1, len(policies))
    fig = Figure(figsize=(9.6, 3.4), layout="constrained")
    util_ax, wait_ax = fig.subplots(1, 2)
    # Each pool's rows once (in the table's order, as a filter gives them): a filter of the
    # whole table per pool, policy and metric grew with the square of the pools.
    by_pool = dict(iter(pools_table.groupby(pools_table["pool"].astype(str), sort=False)))
    for ax, metric, unit in ((util_ax, "utilisation", "rate"), (wait_ax, "mean_wait", "days")):
        per_pool = {pool: summary(by_pool[pool], [metric]) for pool in names}
        for j, (policy, colour) in enumerate(colours(policies).items()):
            means, errs = [], []
            for pool in names:
                s = per_pool[pool]
                row = s[s["policy"] == policy]
                means.append(float(row["mean"].iloc[0]) if len(row) else np.nan)
                errs.append(float(row["ci_high"].iloc[0] - row["mean"].iloc[0]) if len(row) else np.nan)
            xs = np.arange(len(names)) + (j - (len(policies) - 1) / 2) * width
            ax.bar(xs, means, width, yerr=np.nan_to_num(errs), capsize=2, color=colour, label=policy)
        ax.set_xticks(range(len(names)), names)
        readable_ticks(ax.yaxis, unit)
    util_ax.set_ylabel("utilisation (% of available person-days)")
    wait_ax.set_ylabel("mean wait for a crew (working days)")
    _legend_above(util_ax, len(policies))
    return fig


# --------------------------------------------------------------------------- over time


def value_and_cost(projects: pd.DataFrame, replications: pd.DataFrame, policies: Sequence[str],
                   horizon: float, warmup: float, currency: str, choice: str = "") -> Figure:
    """Cumulative value and cost over time per policy: mean and 80% band (see the module
    docstring for how each replication's curves are built); ``choice`` says, in the title,
    which policies these are when not all."""
    grid = np.linspace(0.0, horizon, 151)
    share = np.clip((grid - warmup) / (horizon - warmup), 0.0, 1.0) if horizon > warmup \
        else np.ones_like(grid)
    n = len(policies)
    cols = min(2, n)
    rows = -(-n // cols)
    fig = Figure(figsize=(9.6, 0.6 + 2.6 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True).ravel()
    for ax, policy in zip(axes, policies, strict=False):
        reps = replications[replications["policy"] == policy].set_index("replication").sort_index()
        value = value_curves(projects, policy, reps.index, grid, horizon, 0.0)
        cost = reps["total_cost"].to_numpy(dtype=float)[:, None] * share[None, :]
        for curves, colour, label in ((value, "#54a24b", "value realised"),
                                      (cost, "#e45756", "cost (total)")):
            if not curves.size:
                continue
            lo, hi = np.percentile(curves, [10, 90], axis=0)
            ax.fill_between(grid, lo, hi, color=colour, alpha=0.22, linewidth=0)
            ax.plot(grid, curves.mean(axis=0), color=colour, linewidth=1.8, label=f"{label}, mean")
        ax.set_title(policy, fontsize=9)
        readable_ticks(ax.yaxis, "money")
        if warmup > 0:
            ax.axvline(warmup, color="grey", linestyle=":", linewidth=1)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[:n]:
        ax.set_xlabel("working day")
        ax.set_ylabel(f"cumulative {currency or 'money'}")
    axes[0].legend(fontsize=8, frameon=False, loc="upper left")
    fig.suptitle("shaded: the middle 80% of simulated futures (P10 to P90)"
                 + (f"\n{choice}" if choice else ""), fontsize=9)
    return fig


def completions_curve(projects: pd.DataFrame, replications: pd.DataFrame,
                      grid: np.ndarray) -> pd.DataFrame:
    """Mean number of counted projects completed by day t, per policy (columns) and t (index).

    The mean is over every replication of the policy, including those that completed none.
    """
    done = projects[(projects["status"] == "completed") & projects["counted"].astype(bool)]
    out = {}
    for policy, reps in replications.groupby("policy", sort=False):
        finishes = np.sort(done.loc[done["policy"] == policy, "finish"].to_numpy(float))
        out[str(policy)] = np.searchsorted(finishes, grid, side="right") / max(1, len(reps))
    return pd.DataFrame(out, index=pd.Index(grid, name="day"))


def completions(projects: pd.DataFrame, replications: pd.DataFrame, policies: Sequence[str],
                horizon: float, warmup: float) -> Figure:
    grid = np.linspace(0.0, horizon, 501)
    curves = completions_curve(projects, replications, grid)
    fig = Figure(figsize=(8.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    for policy, colour in colours(policies).items():
        if policy in curves:
            ax.plot(grid, curves[policy], drawstyle="steps-post", color=colour, label=policy)
    if warmup > 0:
        ax.axvline(warmup, color="grey", linestyle=":", linewidth=1)
        ax.annotate("warm-up ends", (warmup, 0), textcoords="offset points", xytext=(3, 3),
                    fontsize=7, color="grey")
    readable_ticks(ax.yaxis, "count")
    ax.set_xlabel("working day")
    ax.set_ylabel("projects completed (mean)")
    _legend_above(ax, len(policies))
    return fig
