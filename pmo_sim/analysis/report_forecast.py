"""The report's "When will it land?" section: per-project forecasts as a table and a figure.

The numbers are :func:`pmo_sim.analysis.forecast.forecast`'s (through ``Results.forecast``,
which reads the horizon and the calendar from the results' scenario): explicit projects
first, then templates with their generated projects pooled. The table gives, per policy, the
P80 finish (the date to plan with), P50 and P90 below it and the chance of finishing by the
due date; the figure draws, per project, the P10–P90 range of its finish with the P50 marked
and the due date as a black tick, one bar per policy. With more rows than a figure can carry
legibly (:data:`MAX_ROWS`, fewer with many policies) it keeps the explicit projects, then the
templates, whose P80 is latest (the furthest out, "> horizon" first), and says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.forecast import NOT_REACHED, forecast, landing_date, shown
from pmo_sim.analysis.report_figures import colours
from pmo_sim.analysis.report_page import Cell, HtmlTable, Section
from pmo_sim.errors import UsageError

if TYPE_CHECKING:
    from pmo_sim.analysis.report import ReportContext

#: Most rows (projects and templates) in the figure, and most bars (rows × policies).
MAX_ROWS = 40
MAX_BARS = 80
#: Policies side by side in one table (more make further tables below it).
TABLE_POLICIES = 4
_POOLED = " (pooled)"


def _forecasts(ctx: ReportContext) -> tuple[pd.DataFrame, dt.date | None]:
    """The forecast table and the calendar's start date (None: days only)."""
    try:
        cal = ctx.res.scenario.calendar
        return ctx.res.forecast(), cal.start_date if cal else None
    except UsageError:   # the folder's scenario no longer loads: days, in table order
        return forecast(ctx.res.projects, horizon=ctx.horizon), None


def _label(kind: str, name: str) -> str:
    return name + (_POOLED if kind == "template" else "")


def _cell(row: pd.Series, dated: bool) -> Cell:
    def when(q: str) -> str:
        return shown(row[q], row[f"{q}_date"] if dated else None)

    sub = [f"P50 {when('p50')}", f"P90 {when('p90')}"]
    if fmt.finite(row["p_on_time"]) is not None:
        sub.append(f"on time {fmt.rate(row['p_on_time'])}")
    sub += [f"{c[2:]} {fmt.rate(row[c])}" for c in ("p_unfinished", "p_cancelled", "p_rejected")
            if row[c] > 0]
    return Cell(when("p80"), sub)


def _due(row: pd.Series, dated: bool) -> str:
    if row["kind"] == "template":
        return "per project"
    if fmt.finite(row["due"]) is None:
        return fmt.DASH
    return row["due_on"].isoformat() if dated else fmt.value(row["due"], "day")


def _tables(table: pd.DataFrame, policies: Sequence[str], dated: bool) -> list[HtmlTable]:
    """Rows of projects (then templates), a column per policy, :data:`TABLE_POLICIES` a table."""
    keys = list(dict.fromkeys(zip(table["kind"], table["name"], strict=True)))
    by_key = {(str(r["policy"]), str(r["kind"]), str(r["name"])): r for _, r in table.iterrows()}
    first: dict[tuple[str, str], pd.Series] = {}   # any policy's row: the due day is shared
    for (_, kind, name), row in by_key.items():
        first.setdefault((kind, name), row)
    out = []
    for i in range(0, len(policies), TABLE_POLICIES):
        chunk = policies[i:i + TABLE_POLICIES]
        legend = [Cell("each cell:", ("P80 finish", "P50, P90", "chance on time"), "text legend"),
                  Cell(""), *[Cell("") for _ in chunk]]
        rows = [[Cell(_label(kind, name), css="text"),
                 Cell(_due(first[kind, name], dated), css="text nowrap"),
                 *[_cell(by_key[p, kind, name], dated) if (p, kind, name) in by_key else Cell(fmt.DASH)
                   for p in chunk]]
                for kind, name in keys]
        out.append(HtmlTable(["project", "due", *chunk], [legend, *rows], "kpis"))
    return out


def forecast_section(ctx: ReportContext) -> Section | None:
    """P80 finish per project and policy, with the spread and the chance of being on time."""
    table, start = _forecasts(ctx)
    if table.empty:
        return None
    policies = [p for p in ctx.res.policies if p in set(table["policy"])]
    if not policies:
        return None
    dated = start is not None
    horizon = shown(ctx.horizon) if start is None else \
        f"{shown(ctx.horizon, landing_date(ctx.horizon, start))}, day {ctx.horizon:g}"
    paragraphs = [
        "For each project, the date by which 80% of the simulated futures had finished it (P80: "
        "the date to plan with), with P50 and P90 and the chance of finishing by its due date. "
        f"“{NOT_REACHED}” means fewer futures than that finished it by the end of the simulation "
        f"({horizon}): a date beyond it cannot be told."]
    if start is not None:
        paragraphs.append("Dates are working days, Monday to Friday, from "
                          f"{start.isoformat()} (day 0); a date is the day the work ended.")
    if (table["kind"] == "template").any():
        paragraphs.append(f"Rows marked “{_POOLED.strip()}” gather every project a template "
                          "generated after the warm-up, in every future: their finish dates "
                          "spread with their arrivals, so read them for the chance of landing "
                          "on time rather than for a date.")
    kept, caption = _figure_rows(table, len(policies))
    block = ctx.figure("forecast", "When each project lands",
                       caption, finish_ranges, table, kept, policies, ctx.horizon, start)
    return Section("forecast", "When will it land?", paragraphs=paragraphs,
                   tables=_tables(table, policies, dated), figures=[block])


# --------------------------------------------------------------------------- the figure


def _figure_rows(table: pd.DataFrame, n_policies: int) -> tuple[list[tuple[str, str]], str]:
    """The (kind, name) rows of the figure, in table order, and its caption."""
    keys = list(dict.fromkeys(zip(table["kind"], table["name"], strict=True)))
    limit = min(MAX_ROWS, max(5, MAX_BARS // max(1, n_policies)))
    caption = ("Per project, the bar spans P10 to P90 of its finish over the simulated futures "
               "and the dot is the P50; the black tick is its due date. A bar running into the "
               "dashed line with an arrow goes on past the horizon.")
    if len(keys) <= limit:
        return keys, caption
    latest = table.groupby(["kind", "name"], sort=False)["p80"].max()
    ranked = sorted(keys, key=lambda k: (k[0] != "project", -latest[k]))
    chosen = set(ranked[:limit])
    return ([k for k in keys if k in chosen],
            caption + f" Showing {limit} of {len(keys)}: the explicit projects, then the "
                      "templates, whose P80 finish is latest (the furthest out).")


def _date_ticks(start: dt.date, lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks at the first working day of months, every 1, 2, 3, 6 or 12 months (at most 8)."""
    day0 = np.datetime64(start, "D")
    end = np.busday_offset(day0, math.ceil(hi), roll="forward")
    months = np.arange(np.datetime64(start, "M"), end.astype("datetime64[M]") + 1)
    step = next((s for s in (1, 2, 3, 6) if len(months) / s <= 8), 12)
    ticks, labels = [], []
    for month in months[months.astype(int) % step == 0]:   # aligned on January
        first = np.busday_offset(month.astype("datetime64[D]"), 0, roll="forward")
        position = float(np.busday_count(day0, first))
        if lo <= position <= hi:
            ticks.append(position)
            labels.append(f"{first.astype(dt.date):%b %Y}")
    return ticks, labels


def finish_ranges(table: pd.DataFrame, keys: Sequence[tuple[str, str]], policies: Sequence[str],
                  horizon: float, start: dt.date | None) -> Figure:
    """P10–P90 of each project's finish per policy, P50 marked, due date as a black tick."""
    n = len(policies)
    height = max(2.6, 1.1 + len(keys) * (0.12 + 0.14 * n))
    fig = Figure(figsize=(9.6, height), layout="constrained")
    ax = fig.add_subplot()
    palette = colours(policies)
    shown_keys = set(keys)   # the rows drawn (at most MAX_ROWS projects): only theirs are read
    table = table[[key in shown_keys for key in zip(table["kind"], table["name"], strict=True)]]
    by_key = {(str(r["policy"]), str(r["kind"]), str(r["name"])): r for _, r in table.iterrows()}
    thick = 0.14 * 72 * 0.7   # points: 70% of a bar's share of the height
    for i, (kind, name) in enumerate(keys):
        for j, policy in enumerate(policies):
            row = by_key.get((policy, kind, name))
            if row is None:
                continue
            y = i + (j - (n - 1) / 2) * min(0.8 / n, 0.3)
            lo, mid, hi = row["p10"], row["p50"], row["p90"]
            if lo < math.inf:
                ax.hlines(y, lo, min(hi, horizon), colors=palette[policy], linewidth=thick, alpha=0.85)
            if hi == math.inf:
                ax.plot([horizon], [y], marker=">", color=palette[policy], markersize=6)
            if mid < math.inf:
                ax.plot([mid], [y], "o", markerfacecolor="white", markeredgecolor="black",
                        markersize=4.5)
        due = table.loc[(table["kind"] == kind) & (table["name"] == name), "due"].dropna()
        if kind == "project" and len(due):
            ax.vlines(float(due.iloc[0]), i - 0.45, i + 0.45, colors="black", linewidth=2)
    ax.axvline(horizon, color="grey", linestyle="--", linewidth=1)
    ax.annotate("horizon", (horizon, -0.5), textcoords="offset points", xytext=(-3, 2),
                ha="right", va="bottom", fontsize=7.5, color="grey")
    ax.set_yticks(range(len(keys)), [_label(k, nm) for k, nm in keys])
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    lows = [r["p10"] for r in by_key.values() if (r["kind"], r["name"]) in shown_keys and r["p10"] < math.inf]
    left = max(0.0, min(lows, default=0.0) - 0.05 * horizon)
    ax.set_xlim(left, horizon * 1.02)
    if start is not None:
        ax.set_xticks(*_date_ticks(start, left, horizon))
        ax.set_xlabel(f"finish date (working days, Monday to Friday, from {start.isoformat()})")
    else:
        ax.set_xlabel("finish (working day; day 0 is the start of the simulation)")
    handles = [Line2D([], [], color=palette[p], linewidth=thick, label=p) for p in policies] \
        if n > 1 else [Line2D([], [], color=palette[policies[0]], linewidth=thick, label="P10–P90")]
    handles += [Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                       markeredgecolor="black", label="P50"),
                Line2D([], [], marker="|", linestyle="", color="black", markersize=10,
                       markeredgewidth=2, label="due date")]
    ax.legend(handles=handles, fontsize=8, ncols=min(6, len(handles)), loc="lower center",
              bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig
