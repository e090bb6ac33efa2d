"""A replication's Gantt chart: who did what when (``pmo-sim trace``, :func:`pmo_sim.gantt`).

Moved out of :mod:`pmo_sim.analysis.plots` (which still offers every name below) when the
chart got its bound on the people drawn one row each.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pmo_sim.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def people_by_pool(tasks: pd.DataFrame) -> list[tuple[str, str]]:
    """Every person of a task log as ``(pool, person)``, grouped by home pool, in hire order.

    People are named ``<pool>-<n>`` (replacements ``<pool>-<n>.<k>``, contractors
    ``<pool>-c<n>``, after the staff); a person whose name does not start with a pool of the
    log is put in the pool of their first task.
    """
    pools = list(dict.fromkeys(tasks["pool"].astype(str)))
    home: dict[str, str] = {}
    for crew, pool in zip(tasks["crew"].astype(str), tasks["pool"].astype(str), strict=True):
        for person in filter(None, crew.split(",")):
            prefix = person.rsplit("-", 1)[0]
            home.setdefault(person, prefix if prefix in pools else pool)

    def order(person: str) -> tuple[int, list[tuple[int, int, str]]]:
        number = person.rsplit("-", 1)[-1]
        return pools.index(home[person]), [_natural(p) for p in number.split(".")]

    return [(home[p], p) for p in sorted(home, key=order)]


def _natural(part: str) -> tuple[int, int, str]:
    """A part of a person's number, ordered naturally: numbers first, by value ("2" before
    "10"), then other names by the number in them ("c2" before "c10"), then by text."""
    if part.isdecimal():
        return 0, int(part), ""
    digits = "".join(ch for ch in part if ch.isdecimal())
    return 1, int(digits) if digits else -1, part


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


#: The columns of a task log :func:`gantt` draws from.
GANTT_COLUMNS = ("project", "pool", "start", "finish", "crew")


def _check_log(tasks: object, projects: object) -> None:
    """A :class:`TypeError` unless ``tasks`` (and ``projects``, if given) are DataFrames, a
    :class:`UsageError` if the task log lacks a column drawn: before, ``gantt("tasks.csv")``
    failed with "string indices must be integers" and a table of other columns with KeyError."""
    if not isinstance(tasks, pd.DataFrame):
        raise TypeError(f"tasks must be a pandas DataFrame, a task log (simulate(...).tasks), "
                        f"not {type(tasks).__name__}")
    if projects is not None and not isinstance(projects, pd.DataFrame):
        raise TypeError(f"projects must be a pandas DataFrame (simulate(...).projects) or None, "
                        f"not {type(projects).__name__}")
    missing = [c for c in GANTT_COLUMNS if c not in tasks.columns]
    if missing:
        raise UsageError(f"the task log lacks the column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)}; gantt draws a task log of simulate(...).tasks")


#: Above this many people the chart stops growing and names no row: at one row each (0.28
#: in), a crew of 5,000 made a 240-megapixel image (a minute to draw, refused by image
#: viewers as a decompression bomb) and 100,000 people (a pool's limit) tens of gigabytes of
#: pixels before anything was said. The task log names every one.
MAX_LABELLED_PEOPLE = 400


def gantt(tasks: pd.DataFrame, ax: Axes | None = None, projects: pd.DataFrame | None = None,
          start_date: dt.date | None = None) -> Axes:
    """Who did what when: one row per person, a bar per task worked, with a legend.

    With ``start_date`` (the scenario's ``calendar.start_date``: working day 0) the time axis
    reads in dates, each tick the date of its working day (Monday to Friday).

    ``tasks`` is a task log (``simulate(...).tasks``: project, pool, start, finish, crew);
    ``projects`` (``simulate(...).projects``) names each project's template. Bars are coloured
    by project when there are at most ``MAX_PROJECT_COLOURS`` of them, else by template. Rows
    are grouped by the person's home pool (labelled, separated by lines); a person on a crew
    of several gets the task's bar on their own row. A person who left (replaced by a later
    occupant of their slot) is labelled "(left)" and marked ✕ after their last task: the task
    log records neither departure days nor training spells, so training shows only as gaps.
    Tasks still running at the horizon (no finish) are not drawn. Above
    ``MAX_LABELLED_PEOPLE`` people the chart keeps its height and names no row.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    _check_log(tasks, projects)
    people = people_by_pool(tasks)
    many = len(people) > MAX_LABELLED_PEOPLE
    if ax is None:
        from matplotlib.figure import Figure

        height = 1.6 + 0.28 * min(max(len(people), 1), MAX_LABELLED_PEOPLE)
        ax = Figure(figsize=(12.0, height), layout="constrained").add_subplot()
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
    bars: list[list[tuple[float, float]]] = []
    faces: list[Any] = []
    for rec in done.to_dict("records"):
        for person in filter(None, str(rec["crew"]).split(",")):
            # the rectangle broken_barh draws; all in one collection, added once: a call per
            # bar re-scaled the view over every bar before it (quadratic in the bars)
            x0, x1, y0 = rec["start"], rec["start"] + (rec["finish"] - rec["start"]), row[person] - 0.4
            bars.append([(x0, y0), (x0, y0 + 0.8), (x1, y0 + 0.8), (x1, y0)])
            faces.append(colour[group[str(rec["project"])]])
            last[person] = max(last.get(person, 0.0), float(rec["finish"]))
    if bars:
        verts: Any = np.array(bars)  # an (n, 4, 2) array, as broken_barh hands over
        ax.add_collection(PolyCollection(verts, facecolors=faces, edgecolors="white", linewidth=0.3))
    gone = leavers(people)
    for person in gone:
        if person in last:
            ax.plot([last[person]], [row[person]], marker="x", color="black", markersize=5)
    if many:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(people):,} people, a row each (too many to name; the task log does)")
    else:
        ax.set_yticks(range(len(people)), [p + (" (left)" if p in gone else "") for _, p in people],
                      fontsize=7)
    ax.set_ylim(max(len(people), 1) - 0.5, -0.5)  # an empty chart when no task ever started
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
    if start_date is not None:
        _dated_axis(ax, start_date)
    kind = "template" if by_template else "project"
    ax.set_title(f"Who did what when (colour: {kind}; gaps: idle, waiting or in training)")
    handles: list[Any] = [Patch(color=colour[g], label=g) for g in groups]
    if gone:
        handles.append(Line2D([], [], marker="x", color="black", linestyle="", label="left (replaced)"))
    if handles:
        ax.legend(handles=handles, fontsize=7, title=kind, title_fontsize=7, loc="upper left",
                  bbox_to_anchor=(1.09, 1.0), frameon=False)
    return ax


def _dated_axis(ax: Axes, start: dt.date) -> None:
    """Ticks of working days labelled with their dates (day 0 is ``start``)."""
    from matplotlib.ticker import FuncFormatter

    origin = np.datetime64(start, "D")

    def label(day: float, _pos: Any) -> str:
        try:
            return str(np.busday_offset(origin, int(np.floor(day)), roll="forward")) if day >= 0 else ""
        except (ValueError, OverflowError):  # NaN, or a date numpy cannot hold
            return ""

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.set_xlabel(f"date (working days, Monday to Friday, from {start.isoformat()})")


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % cmap.N) for i in range(n)]
