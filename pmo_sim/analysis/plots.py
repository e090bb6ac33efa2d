"""Figures of the analysis commands: a replication's Gantt chart and a sweep's response curves.

Functions draw on a Matplotlib ``Axes`` they are given (a notebook passes one from
``plt.subplots``) or, without one, on a new :class:`matplotlib.figure.Figure` that is not
registered with pyplot: it renders with the Agg canvas whatever backend is configured, holds
no global state and is freed when dropped, so the command line never opens a window.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.gantt import (  # the Gantt chart's names, where they were first
    GANTT_COLUMNS as GANTT_COLUMNS,
)
from pmo_sim.analysis.gantt import (
    MAX_PROJECT_COLOURS as MAX_PROJECT_COLOURS,
)
from pmo_sim.analysis.gantt import (
    gantt as gantt,
)
from pmo_sim.analysis.gantt import (
    leavers as leavers,
)
from pmo_sim.analysis.gantt import (
    people_by_pool as people_by_pool,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pmo_sim.analysis.roi import RoiResult


def new_axes(width: float, height: float) -> Axes:
    """Axes on a fresh, pyplot-free figure of ``width`` × ``height`` inches."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained").add_subplot()


def save(drawing: Axes | Figure, path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Write a figure, or the figure of an ``Axes`` (PNG, or the format of the file name)."""
    from matplotlib.figure import Figure

    figure = drawing if isinstance(drawing, Figure) else drawing.get_figure(root=True)
    assert figure is not None
    figure.savefig(os.fspath(path), dpi=dpi)


# --------------------------------------------------------------------------- readable ticks


#: A legend of more entries than this goes above the axes, four to a row, the figure growing
#: by its rows: inside the axes, a legend of 100 policies was taller than the figure
#: (matplotlib's "constrained_layout not applied because axes sizes collapsed to zero" on
#: stderr, and the legend over the plot).
MAX_INSIDE_LEGEND = 12


def legend(ax: Axes, n: int, **options: Any) -> None:
    """``ax.legend(**options)`` for ``n`` entries; above the axes when they are many."""
    if n <= MAX_INSIDE_LEGEND:
        ax.legend(**options)
        return
    ax.legend(**{**options, "ncols": 4, "loc": "lower center", "bbox_to_anchor": (0.5, 1.0),
                 "frameon": False})
    figure = ax.get_figure(root=True)
    assert figure is not None
    width, height = figure.get_size_inches()
    figure.set_size_inches(width, height + 0.2 * -(-n // 4))


def readable_ticks(axis: Any, unit: str) -> None:
    """Tick labels from :func:`pmo_sim.analysis.format.tick_labels` on ``axis`` (an ``ax.xaxis``
    or ``ax.yaxis``): one scale suffix, enough decimals to tell ticks apart, no offset, no
    scientific notation, rates as percentages."""
    from matplotlib.ticker import Formatter

    from pmo_sim.analysis.format import tick_labels

    class _Ticks(Formatter):
        def format_ticks(self, values: Any) -> list[str]:
            return tick_labels(list(values), unit)

        def __call__(self, x: float, pos: int | None = None) -> str:
            locs = list(self.locs) if len(self.locs) else [x]
            labels = tick_labels(locs + [x], unit)
            return labels[-1]

    axis.set_major_formatter(_Ticks())


# --------------------------------------------------------------------------- ROI


def roi_figure(result: RoiResult) -> Figure:
    """The ROI in two panels: its distribution over replications (mean, 95% CI, break-even),
    and cumulative benefit against the investment over time (mean and 80% band, median
    payback day)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from pmo_sim.analysis import format as fmt

    q, doc = result.question, result.document
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    roi = result.table["roi_pct"].dropna().to_numpy(dtype=float)
    left.hist(roi, bins=min(30, max(5, len(roi) // 4)), color="#4c78a8", alpha=0.8, edgecolor="white")
    if fmt.finite(doc["roi_pct_ci_low"]) is not None:
        left.axvspan(doc["roi_pct_ci_low"], doc["roi_pct_ci_high"], color="#f58518", alpha=0.3,
                     label="95% CI of the mean", zorder=0)
    left.axvline(doc["roi_pct_mean"], color="#f58518", linewidth=2,
                 label=f"mean {fmt.percent(doc['roi_pct_mean'])}")
    left.axvline(0.0, color="black", linestyle="--", linewidth=1, label="break-even")
    left.xaxis.set_major_locator(MaxNLocator(nbins=5))
    readable_ticks(left.xaxis, "pct")
    left.set_xlabel("ROI per replication (%)")
    left.set_ylabel("replications")
    left.set_title(f"ROI: P(ROI > 0) = {doc['p_positive']:.0%}", fontsize=10)
    left.legend(fontsize=8, frameon=False)

    days, curve = result.days, result.cumulative_benefit
    p10, mean, p90 = np.percentile(curve, 10, axis=0), curve.mean(axis=0), np.percentile(curve, 90, axis=0)
    right.fill_between(days, p10, p90, color="#54a24b", alpha=0.25, linewidth=0,
                       label="cumulative benefit, 80% of futures")
    right.plot(days, mean, color="#54a24b", linewidth=2, label="cumulative benefit, mean")
    invest = result.table["investment"].to_numpy(dtype=float)
    cost = np.where(days >= q.invest_day, 1.0, 0.0)
    lo, hi = np.percentile(invest, [10, 90]) if len(invest) else (0.0, 0.0)
    right.fill_between(days, cost * lo, cost * hi, color="#e45756", alpha=0.2, linewidth=0,
                       step="post", label="investment, 80% of futures")
    right.step(days, cost * invest.mean(), where="post", color="#e45756", linewidth=2,
               label="investment, mean")
    payback = fmt.finite(doc["payback_day_median"])
    if payback is not None:
        right.axvline(payback, color="grey", linestyle=":", linewidth=1)
        right.annotate(f"median payback: day {payback:,.0f}", (payback, 0.5),
                       xycoords=("data", "axes fraction"), xytext=(4, 0), textcoords="offset points",
                       fontsize=8, color="grey")
    readable_ticks(right.yaxis, "money")
    right.set_xlabel("working day")
    right.set_ylabel(f"{q.currency or 'money'} ({'present value' if q.basis == 'npv' else 'cash'})")
    right.set_title("Cumulative benefit against investment", fontsize=10)
    right.legend(fontsize=8, frameon=False, loc="upper left")
    fig.suptitle(f"{q.policy} over {q.baseline}: {len(result.table)} paired replications, "
                 f"{q.basis} basis", fontsize=11)
    return fig


# --------------------------------------------------------------------------- units on axes


def money_text(value: float, currency: str = "EUR") -> str:
    """``EUR 1.2M``, ``EUR 350k``, ``EUR -900``: an amount short enough for a tick or a cell."""
    if not np.isfinite(value):
        return "-"
    size = abs(value)
    if size >= 1e9:
        text = f"{value / 1e9:.3g}B"
    elif size >= 1e6:
        text = f"{value / 1e6:.3g}M"
    elif size >= 1e3:
        text = f"{value / 1e3:.3g}k"
    else:
        text = f"{value:.3g}"
    return f"{currency} {text}".strip()


def value_text(value: float, unit: str, currency: str = "EUR") -> str:
    """A KPI value for a cell: money as :func:`money_text`, rates as %, others to 3 digits."""
    if not np.isfinite(value):
        return "-"
    if unit == "money":
        return money_text(value, currency)
    if unit == "rate":
        return f"{100 * value:.3g}%"
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.3g}"


def unit_text(unit: str, currency: str = "EUR") -> str:
    """How a unit of :mod:`pmo_sim.schema` reads after a label: ``(EUR)``, ``(days)``; "" for counts."""
    words = {"money": currency, "days": "days", "day": "working day", "person-days": "person-days",
             "rate": "%", "per-year": "per year"}
    word = words.get(unit, "")
    return f" ({word})" if word else ""


def format_axis(axis: Any, unit: str, currency: str = "EUR") -> None:
    """Ticks in the unit's terms: money as ``EUR 1.2M`` (no ``1e6`` offset), rates as %."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter, ScalarFormatter

    if unit == "money":
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: money_text(v, currency)))
    elif unit == "rate":
        axis.set_major_formatter(PercentFormatter(xmax=1.0))
    else:
        formatter = ScalarFormatter(useOffset=False)
        formatter.set_scientific(False)
        axis.set_major_formatter(formatter)


def _numeric(values: Iterable[Any]) -> bool:
    return all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
               for v in values)


# --------------------------------------------------------------------------- sweep

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINES = ("-", "--", "-.", ":")


def sweep_parameters(table: pd.DataFrame) -> list[str]:
    """The varied paths of a sweep table: its columns before ``policy``."""
    columns = [str(c) for c in table.columns]
    return columns[: columns.index("policy")] if "policy" in columns else []


def sweep_plot(table: pd.DataFrame, ax: Axes | None = None, currency: str = "EUR") -> Axes:
    """A one-parameter sweep: the metric against the value, one line per policy with its CI.

    ``table`` is a :func:`pmo_sim.experiment.sweep.sweep` table with one varied path.
    Numeric values are placed on a numeric axis; other values (allocation rules, say)
    evenly, in order. Policies differ by colour, marker and line style; their 95% CIs are
    error bars, nudged sideways so that overlapping ones stay apart, over a light band. The
    y axis carries the metric's unit (money as ``EUR 1.2M``).
    """
    from pmo_sim.analysis.metrics import metric_info

    (parameter,) = sweep_parameters(table)
    metric = _only(table["metric"])
    info = metric_info(metric)
    if ax is None:
        ax = new_axes(8.0, 5.0)
    values = list(dict.fromkeys(table[parameter]))
    numeric = _numeric(values)
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    span = (max(position.values()) - min(position.values())) or 1.0
    groups = list(table.groupby("policy", sort=False))
    for i, (policy, rows) in enumerate(groups):
        nudge = (i - (len(groups) - 1) / 2) * (0.012 * span if numeric else 0.08)
        x = np.array([position[v] for v in rows[parameter]]) + nudge
        mean = rows["mean"].to_numpy(dtype=float)
        low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
        bars = ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker=_MARKERS[i % len(_MARKERS)],
                           linestyle=_LINES[i % len(_LINES)], capsize=3, label=str(policy))
        ax.fill_between(x, low, high, color=bars.lines[0].get_color(), alpha=0.08, linewidth=0)
    if not numeric:
        ax.set_xticks(list(position.values()), [str(v) for v in values])
    else:
        format_axis(ax.xaxis, "")
    format_axis(ax.yaxis, info.unit, currency)
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"{info.label}{unit_text(info.unit, currency)}: mean, 95% CI")
    ax.set_title(f"{info.label} against {parameter}")
    legend(ax, len(groups), title="policy", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


#: The most rows of small multiples a sweep of three or more paths draws: a row each (3 in)
#: for 2,500 combinations of its later paths made a figure of 900,000 pixels high, gigabytes
#: and many minutes to draw after the sweep had run. The sweep's table has every row.
MAX_HEATMAP_ROWS = 30


def sweep_heatmaps(table: pd.DataFrame, currency: str = "EUR") -> Figure:
    """A sweep of two or more paths as heat maps of the metric's mean.

    Two paths: one panel per policy, the first path down, the second across. More paths:
    small multiples, one row per combination of the third and later paths and one column
    per policy. Every panel shares one colour scale (green is better for a KPI with a
    sense, viridis for a neutral one) and, when it is small enough to read, prints each
    cell's mean. At most ``MAX_HEATMAP_ROWS`` rows are drawn (the title says so).
    """
    from matplotlib.figure import Figure

    from pmo_sim.analysis.metrics import metric_info

    params = sweep_parameters(table)
    if len(params) < 2:
        raise ValueError("sweep_heatmaps needs a sweep of two or more paths")
    info = metric_info(_only(table["metric"]))
    policies = list(dict.fromkeys(table["policy"]))
    rows_of = list(table.groupby(params[2:], sort=False)) if len(params) > 2 else [((), table)]
    combinations, rows_of = len(rows_of), rows_of[:MAX_HEATMAP_ROWS]
    ncols = len(policies) if len(params) > 2 else min(3, len(policies))
    nrows = len(rows_of) if len(params) > 2 else -(-len(policies) // ncols)
    fig = Figure(figsize=(1.0 + 3.6 * ncols, 0.6 + 3.0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    cmap = {"higher": "RdYlGn", "lower": "RdYlGn_r"}.get(info.sense, "viridis")
    finite = table["mean"].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ys, xs = list(dict.fromkeys(table[params[0]])), list(dict.fromkeys(table[params[1]]))
    image = None
    for r, (key, block) in enumerate(rows_of):
        for c, policy in enumerate(policies):
            slot = (r, c) if len(params) > 2 else divmod(c, ncols)
            ax = axes[slot]
            cells = block[block["policy"] == policy].pivot_table(
                index=params[0], columns=params[1], values="mean", sort=False, dropna=False)
            cells = cells.reindex(index=ys, columns=xs)
            image = ax.imshow(cells.to_numpy(dtype=float), cmap=cmap, vmin=vmin, vmax=vmax,
                              aspect="auto")
            ax.set_xticks(range(len(xs)), [str(x) for x in xs], fontsize=8)
            ax.set_yticks(range(len(ys)), [str(y) for y in ys], fontsize=8)
            ax.set_xlabel(params[1], fontsize=8)
            ax.set_ylabel(params[0], fontsize=8)
            values = key if isinstance(key, tuple) else (key,)
            where = ", ".join(f"{p}={v}" for p, v in zip(params[2:], values, strict=True)
                              ) if len(params) > 2 else ""
            ax.set_title(f"{policy}" + (f"\n{where}" if where else ""), fontsize=9)
            if len(xs) * len(ys) <= 100:
                _annotate(ax, cells.to_numpy(dtype=float), info.unit, currency, vmin, vmax)
    for c in range(len(policies), nrows * ncols):
        if len(params) == 2:
            axes[divmod(c, ncols)].set_visible(False)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.8)
        bar.set_label(f"{info.label}{unit_text(info.unit, currency)} (mean)")
        format_axis(bar.ax.yaxis, info.unit, currency)
    fig.suptitle(f"{info.label}: mean over replications at every grid point" + (
        f" (the first {len(rows_of)} of {combinations:,} combinations of {', '.join(params[2:])}; "
        f"the table has every one)" if combinations > len(rows_of) else ""))
    return fig


def _annotate(ax: Axes, cells: np.ndarray, unit: str, currency: str, vmin: float, vmax: float) -> None:
    middle = (vmin + vmax) / 2
    for (i, j), value in np.ndenumerate(cells):
        if np.isfinite(value):
            # Dark text on the light middle of the diverging colour maps, white at the ends.
            colour = "black" if abs(value - middle) < 0.35 * (vmax - vmin or 1.0) else "white"
            ax.text(j, i, value_text(float(value), unit, currency), ha="center", va="center",
                    fontsize=7, color=colour)


def sweep_figure(table: pd.DataFrame, currency: str = "EUR") -> Figure:
    """The figure of any sweep: response curves for one path, heat maps for several."""
    if len(sweep_parameters(table)) == 1:
        figure = sweep_plot(table, currency=currency).get_figure(root=True)
        assert figure is not None
        return figure
    return sweep_heatmaps(table, currency)


def _only(column: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in dict.fromkeys(column))
