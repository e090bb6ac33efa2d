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


# --------------------------------------------------------------------------- Gantt chart


def people_by_pool(tasks: pd.DataFrame) -> list[tuple[str, str]]:
    """Every person of a task log as ``(pool, person)``, grouped by home pool, in hire order.

    People are named ``<pool>-<n>`` (replacements ``<pool>-<n>.<k>``); a person whose name
    does not start with a pool of the log is put in the pool of their first task.
    """
    pools = list(dict.fromkeys(tasks["pool"].astype(str)))
    home: dict[str, str] = {}
    for crew, pool in zip(tasks["crew"].astype(str), tasks["pool"].astype(str), strict=True):
        for person in filter(None, crew.split(",")):
            prefix = person.rsplit("-", 1)[0]
            home.setdefault(person, prefix if prefix in pools else pool)

    def order(person: str) -> tuple[int, list[Any]]:
        number = person.rsplit("-", 1)[-1]
        return pools.index(home[person]), [int(p) if p.isdigit() else p for p in number.split(".")]

    return [(home[p], p) for p in sorted(home, key=order)]


#: Above this many projects, bars are coloured by template instead (a legend stays readable).
MAX_PROJECT_COLOURS = 12


def _template(project: str, templates: dict[str, str]) -> str:
    """A project's template: from the projects table, else from a ``<template>-<n>`` name;
    explicit projects (no template) stand for themselves."""
    found = templates.get(project)
    if found:
        return found
    head, _, tail = project.rpartition("-")
    return head if head and tail.isdigit() and project not in templates else project


def leavers(people: list[tuple[str, str]]) -> set[str]:
    """People who left: those whose slot has a later occupant (``dev-2`` when ``dev-2.1`` exists).

    The task log does not record departure days, so this is what it can show: a replaced
    person left some time after their last task.
    """
    def slot(person: str) -> tuple[str, int]:
        head, _, number = person.rpartition("-")
        parts = number.split(".")
        return f"{head}-{parts[0]}", int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    latest: dict[str, int] = {}
    for _, person in people:
        key, occupant = slot(person)
        latest[key] = max(latest.get(key, 0), occupant)
    return {p for _, p in people if slot(p)[1] < latest[slot(p)[0]]}


def gantt(tasks: pd.DataFrame, ax: Axes | None = None, projects: pd.DataFrame | None = None) -> Axes:
    """Who did what when: one row per person, a bar per task worked, with a legend.

    ``tasks`` is a task log (``simulate(...).tasks``: project, pool, start, finish, crew);
    ``projects`` (``simulate(...).projects``) names each project's template. Bars are coloured
    by project when there are at most ``MAX_PROJECT_COLOURS`` of them, else by template. Rows
    are grouped by the person's home pool (labelled, separated by lines); a person on a crew
    of several gets the task's bar on their own row. A person who left (replaced by a later
    occupant of their slot) is labelled "(left)" and marked ✕ after their last task: the task
    log records neither departure days nor training spells, so training shows only as gaps.
    Tasks still running at the horizon (no finish) are not drawn.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    people = people_by_pool(tasks)
    if ax is None:
        ax = new_axes(12.0, 1.6 + 0.28 * max(len(people), 1))
    row = {person: i for i, (_, person) in enumerate(people)}
    names = list(dict.fromkeys(tasks["project"].astype(str)))
    templates = ({str(p): str(t) for p, t in zip(projects["project"], projects["template"], strict=True)}
                 if projects is not None and "template" in projects.columns else {})
    by_template = len(names) > MAX_PROJECT_COLOURS
    group = {n: _template(n, templates) if by_template else n for n in names}
    groups = list(dict.fromkeys(group.values()))
    colour = dict(zip(groups, _colours(len(groups)), strict=True))
    done = tasks[tasks["finish"].notna() & tasks["start"].notna()]
    last: dict[str, float] = {}
    for rec in done.to_dict("records"):
        for person in filter(None, str(rec["crew"]).split(",")):
            ax.broken_barh([(rec["start"], rec["finish"] - rec["start"])], (row[person] - 0.4, 0.8),
                           facecolors=colour[group[str(rec["project"])]], edgecolors="white",
                           linewidth=0.3)
            last[person] = max(last.get(person, 0.0), float(rec["finish"]))
    gone = leavers(people)
    for person in gone:
        if person in last:
            ax.plot([last[person]], [row[person]], marker="x", color="black", markersize=5)
    ax.set_yticks(range(len(people)), [p + (" (left)" if p in gone else "") for _, p in people],
                  fontsize=7)
    ax.set_ylim(len(people) - 0.5, -0.5)
    pools = [pool for pool, _ in people]
    for i in range(1, len(pools)):
        if pools[i] != pools[i - 1]:
            ax.axhline(i - 0.5, color="black", linewidth=0.8)
    for pool in dict.fromkeys(pools):
        first = pools.index(pool)
        ax.annotate(pool, (1.0, first - 0.45), xycoords=("axes fraction", "data"),
                    xytext=(4, 0), textcoords="offset points", va="top", fontsize=8,
                    fontweight="bold")
    ax.set_xlabel("working day")
    kind = "template" if by_template else "project"
    ax.set_title(f"Who did what when (colour: {kind}; gaps: idle, waiting or in training)")
    handles: list[Any] = [Patch(color=colour[g], label=g) for g in groups]
    if gone:
        handles.append(Line2D([], [], marker="x", color="black", linestyle="", label="left (replaced)"))
    if handles:
        ax.legend(handles=handles, fontsize=7, title=kind, title_fontsize=7, loc="upper left",
                  bbox_to_anchor=(1.09, 1.0), frameon=False)
    return ax


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


# --------------------------------------------------------------------------- sweep


def sweep_plot(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """A sweep's metric against the varied value: one line per policy with its 95% CI band.

    ``table`` has the columns of :data:`pmo_sim.experiment.sweep.SWEEP_COLUMNS`. Numeric values
    are placed on a numeric axis; other values (allocation rules, say) evenly, in order.
    """
    from pmo_sim.analysis.metrics import metric_info

    if ax is None:
        ax = new_axes(8.0, 5.0)
    values = list(dict.fromkeys(table["value"]))
    numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values)
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    for policy, rows in table.groupby("policy", sort=False):
        x = np.array([position[v] for v in rows["value"]])
        line = ax.plot(x, rows["mean"].to_numpy(dtype=float), marker="o", label=str(policy))[0]
        ax.fill_between(x, rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float),
                        color=line.get_color(), alpha=0.2, linewidth=0)
    if not numeric:
        ax.set_xticks(list(position.values()), [str(v) for v in values])
    parameter = _only(table["parameter"]) if "parameter" in table.columns else "value"
    metric = _only(table["metric"]) if "metric" in table.columns else "metric"
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"{metric_info(metric).label} (mean, 95% CI)")
    ax.set_title(f"{metric} against {parameter}")
    ax.legend(title="policy", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def _only(column: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in dict.fromkeys(column))
