"""When will it land, P80? Per-project forecasts from the projects table (SPEC 10.6).

Each replication is one possible future, so the rows of one project over the replications
are a sample of how that project fares. :func:`forecast` summarises them per policy, for each
explicit project and each intake template (its generated projects pooled):

- **Finish percentiles.** A replication in which the project completed gives its finish day;
  one in which it did not complete by the horizon (open, backlog, proposal, cancelled,
  rejected: any status but ``completed``) counts as +inf, "not reached". P10, P50, P80 and
  P90 are ``numpy.quantile(days, q, method="inverted_cdf")``: the smallest finish day by
  which at least a share q of the replications had finished (Hyndman and Fan's definition 1,
  the empirical distribution function inverted). A percentile is therefore always a finish
  day that occurred, never an interpolation, and it is +inf exactly when fewer than
  ⌈q·n⌉ of the n replications completed: people read it as "> horizon", never as a number.
  As a plan for a fresh future, the ⌈q·n⌉-th of n finish days holds ⌈q·n⌉/(n + 1) of
  futures on average (P80: 0.762 at n = 20, 0.792 at 100; tests/test_coverage_forecasts.py).
- **Due day.** ``due`` is the project's due day (the median over the replications when the
  scenario draws it at random), for the report's and the figure's due-date mark.
- **Probabilities.** P(on time) is the share finishing by their due day (``finish <=
  due_date``, the on-time rule of the KPIs) among the rows that have one. A row whose project
  is unfinished at the horizon (open, backlog, proposal) but due after it is *unsettled*: it
  may yet finish in time, and the simulation cannot tell (as ``by`` beyond the horizon is
  refused). Counting it as late would print a lower bound as the chance, so when a row set
  has an unsettled row, P(on time) is taken over its rows due by the horizon only, whose
  outcomes are all known (NaN when there are none: an explicit project due after the
  horizon that some future leaves running); P(by) the share
  finishing by the day ``by``; P(completed), P(cancelled) and P(rejected) the shares with
  those statuses; P(unfinished) the rest: still open, in the backlog or waiting for funds at
  the horizon (any other status).
- **Templates** pool every generated project of the template that counts in the KPIs
  (arrived after the warm-up), over replications. Their finish days spread with their
  arrivals, and the due days with them, so a template row has no single due day (``due``
  is empty) but does have P(on time).
- **Dates.** Time is in working days: day 0 starts at ``start_date`` and working days are
  Monday to Friday (as :mod:`pmo_sim.scenario.calendar`). A finish or due *time* t is the
  moment work ended, so its date is the working day during which it ended: day ⌈t⌉ − 1
  (a project finishing at 5.0 worked days 0 to 4 and lands on day 4, the first Friday;
  one finishing at 7.5 lands during day 7). Holidays keep their working-day index (dates do
  not shift around them) but nobody works on them, so a time that would end on a holiday is
  dated to the working day before it.
- **By.** ``by`` is a day number (``finish <= by``, like a due day) or a date, meaning by the
  end of that date: the end of the last working day on or before it.

The function sees only DataFrames and dates (no scenario): :meth:`Results.forecast
<pmo_sim.experiment.results.Results.forecast>` passes the scenario's horizon and calendar.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Collection, Iterable, Sequence

import numpy as np
import pandas as pd

from pmo_sim.analysis import format as fmt
from pmo_sim.errors import UsageError, listed, unknown_policy
from pmo_sim.numerals import is_plain

#: The finish percentiles, in percent.
PERCENTILES = (10, 50, 80, 90)
#: How a percentile not reached by the horizon is written for people.
NOT_REACHED = "> horizon"
#: Times within this of a whole day end on the day before it (floating-point sums of efforts).
_EPS = 1e-9
_REQUIRED = ("policy", "project", "template", "status", "finish", "due_date")
_DONE, _CANCELLED, _REJECTED = "completed", "cancelled", "rejected"
#: The columns of the projects table :func:`forecast` reads (``counted``: when present).
COLUMNS = (*_REQUIRED, "counted")
#: The unit of each column of :func:`forecast`'s table (as in :mod:`pmo_sim.schema`: ``day`` is
#: a day number, ``rate`` a fraction, ``date`` a calendar date).
UNITS: dict[str, str] = {
    "policy": "", "kind": "", "name": "", "n": "count",
    **{f"p{q}": "day" for q in PERCENTILES}, **{f"p{q}_date": "date" for q in PERCENTILES},
    "due": "day", "due_on": "date", "p_on_time": "rate", "by": "day", "p_by": "rate",
    "p_completed": "rate", "p_cancelled": "rate", "p_rejected": "rate", "p_unfinished": "rate",
}


# --------------------------------------------------------------------------- dates


def _working_day(start: dt.date, index: int) -> dt.date:
    """The date of working day ``index`` (Monday to Friday) when day 0 is ``start``."""
    day: dt.date = np.busday_offset(np.datetime64(start, "D"), index, roll="forward").astype(dt.date)
    return day


def landing_date(day: float, start: dt.date, holidays: Collection[dt.date] = ()) -> dt.date | None:
    """The date on which work ending at time ``day`` ended (None for +inf or NaN).

    That is working day ⌈day⌉ − 1 (day 0 for a time of 0), moved back to the working day
    before when it is a holiday; see the module docstring.
    """
    if not math.isfinite(day):
        return None
    index = max(0, math.ceil(day - _EPS) - 1)
    date = _working_day(start, index)
    while index > 0 and date in holidays:
        index -= 1
        date = _working_day(start, index)
    return date


def _start(start_date: dt.date | str | None) -> dt.date | None:
    if start_date is None:
        return None
    try:
        start = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
    except ValueError:
        raise UsageError(f"the start date must be a date, YYYY-MM-DD (got {start_date!r})") from None
    if start.weekday() >= 5:
        raise UsageError(f"the start date (day 0) must be a working day, Monday to Friday, "
                         f"but {start.isoformat()} is a {start.strftime('%A')}")
    return start


def by_day(by: float | str | dt.date, horizon: float, start: dt.date | None) -> float:
    """``by`` (a day number, a date, or either as text) as the day a finish must not pass.

    A date means by the end of it: the end of the last working day on or before it, which is
    the start of the next working day's index. Raises :class:`UsageError` for text that is
    neither, a date without a start date, or a day before day 0 or beyond the horizon.
    """
    if isinstance(by, str):
        text = by.strip()
        if not is_plain(text):  # float() reads Unicode digits: "٣" was day 3
            raise UsageError(f"by: {text!r} is neither a day number written with ASCII digits "
                             "(0-9) nor a date (YYYY-MM-DD)")
        try:
            by = float(text)
        except ValueError:
            try:
                by = dt.date.fromisoformat(text)
            except ValueError:
                raise UsageError(f"by: {text!r} is neither a day number nor a date "
                                 "(YYYY-MM-DD)") from None
    if isinstance(by, dt.date):
        return _date_to_day(by, horizon, start)
    if isinstance(by, bool) or not isinstance(by, numbers.Real):  # True was day 1
        raise TypeError(f"by must be a day number, a date or its text (YYYY-MM-DD), not "
                        f"{type(by).__name__} ({by!r})")
    day = float(by)
    if not math.isfinite(day) or day < 0:
        raise UsageError(f"by: the day must be a number from 0 to the horizon, {horizon:g} "
                         f"(got {by!r})")
    if day > horizon:
        raise UsageError(f"by: day {day:g} is beyond the horizon (day {horizon:g}): the "
                         "simulation cannot tell what happens after it")
    return day


def _date_to_day(date: dt.date, horizon: float, start: dt.date | None) -> float:
    if isinstance(date, dt.datetime):
        date = date.date()
    if start is None:
        raise UsageError(f"by: {date.isoformat()} is a date, but the scenario has no "
                         "calendar.start_date to count working days from; give a day number")
    if date < start:
        raise UsageError(f"by: {date.isoformat()} is before the start date, "
                         f"{start.isoformat()} (day 0)")
    last = np.busday_offset(np.datetime64(date, "D"), 0, roll="backward")
    day = float(np.busday_count(np.datetime64(start, "D"), last) + 1)
    if day > horizon:
        final = landing_date(horizon, start)
        assert final is not None
        raise UsageError(f"by: {date.isoformat()} is beyond the horizon: the last simulated "
                         f"day is {final.isoformat()} (the horizon is day {horizon:g})")
    return day


# --------------------------------------------------------------------------- the forecast


def _chosen(asked: Sequence[str], present: list[str], what: str,
            generated: Collection[str] = ()) -> list[str]:
    """The names asked for, each checked against ``present`` (duplicates dropped)."""
    for name in asked:
        if name in present:
            continue
        hint = (f" ({name!r} is a generated project: ask for its template instead)"
                if name in generated else "")
        raise UsageError(f"unknown {what} {name!r}{hint}; the results have: {listed(present)}")
    return list(dict.fromkeys(asked))


def _stats(days: np.ndarray, status: np.ndarray, due: np.ndarray, by: float | None,
           horizon: float) -> dict[str, float]:
    """The numbers of one forecast row; ``days`` holds +inf where the project did not complete."""
    row: dict[str, float] = {"n": len(days)}
    quantiles = np.quantile(days, [q / 100 for q in PERCENTILES], method="inverted_cdf")
    row.update({f"p{q}": float(v) for q, v in zip(PERCENTILES, quantiles, strict=True)})
    done, cancelled, rejected = status == _DONE, status == _CANCELLED, status == _REJECTED
    has_due = ~np.isnan(due)
    row["due"] = float(np.median(due[has_due])) if has_due.any() else math.nan
    unsettled = has_due & ~(done | cancelled | rejected) & (due > horizon)
    judged = has_due & (due <= horizon) if unsettled.any() else has_due
    row["p_on_time"] = float(np.mean(days[judged] <= due[judged])) if judged.any() else math.nan
    if by is not None:
        row["by"] = by
        row["p_by"] = float(np.mean(days <= by))
    row["p_completed"] = float(np.mean(done))
    row["p_cancelled"] = float(np.mean(cancelled))
    row["p_rejected"] = float(np.mean(rejected))
    row["p_unfinished"] = float(np.mean(~(done | cancelled | rejected)))
    return row


def _stats_alike(at: Sequence[np.ndarray], days: np.ndarray, status: np.ndarray, due: np.ndarray,
                 by: float | None, horizon: float) -> list[dict[str, float]]:
    """:func:`_stats` of several groups of one size (rows ``at``), computed together.

    The same numbers as :func:`_stats` group by group (the percentiles are order statistics,
    the chances counts over the group's size, a due day the median of the group's, read
    from a sorted row only when they differ): ~0.14 ms a row of numpy calls (0.55 s of the
    4,000 rows of a 2,000-project, 2-policy run) became array operations over every group.
    """
    if len(at) == 1:
        return [_stats(days[at[0]], status[at[0]], due[at[0]], by, horizon)]
    rows = np.stack(at)
    d, st, u = days[rows], status[rows], due[rows]
    n = rows.shape[1]
    quantiles = np.quantile(d, [q / 100 for q in PERCENTILES], axis=1, method="inverted_cdf")
    done, cancelled, rejected = st == _DONE, st == _CANCELLED, st == _REJECTED
    open_ = ~(done | cancelled | rejected)
    has_due = ~np.isnan(u)
    unsettled = (has_due & open_ & (u > horizon)).any(axis=1)
    judged = np.where(unsettled[:, None], has_due & (u <= horizon), has_due)
    judged_n, on_time = judged.sum(axis=1), (judged & (d <= u)).sum(axis=1)
    out = []
    for g in range(len(at)):
        row: dict[str, float] = {"n": n}
        row.update({f"p{q}": float(quantiles[k, g]) for k, q in enumerate(PERCENTILES)})
        dues = u[g][has_due[g]]
        row["due"] = (math.nan if not len(dues) else float(dues[0]) if dues.min() == dues.max()
                      else float(np.median(dues)))
        row["p_on_time"] = float(on_time[g] / judged_n[g]) if judged_n[g] else math.nan
        if by is not None:
            row["by"] = by
            row["p_by"] = float(np.count_nonzero(d[g] <= by) / n)
        row["p_completed"] = float(np.count_nonzero(done[g]) / n)
        row["p_cancelled"] = float(np.count_nonzero(cancelled[g]) / n)
        row["p_rejected"] = float(np.count_nonzero(rejected[g]) / n)
        row["p_unfinished"] = float(np.count_nonzero(open_[g]) / n)
        out.append(row)
    return out


def _add_dates(table: pd.DataFrame, start: dt.date, holidays: Collection[dt.date]) -> pd.DataFrame:
    """The date columns beside the day columns they date."""
    after_p90 = list(table.columns).index("p90") + 1
    for i, q in enumerate(PERCENTILES):
        table.insert(after_p90 + i, f"p{q}_date",
                     [landing_date(v, start, holidays) for v in table[f"p{q}"]])
    table.insert(list(table.columns).index("due") + 1, "due_on",
                 [landing_date(v, start, holidays) for v in table["due"]])
    return table


def _groups(table: pd.DataFrame) -> tuple[dict[tuple[str, str, str], np.ndarray], list[str], list[str]]:
    """Row positions per (policy, kind, name), the explicit projects and the templates.

    Explicit projects (no template) are grouped by name, generated ones by template, keeping
    only those that count in the KPIs (arrived after the warm-up). Names are grouped by their
    integer codes, not as text: on a million rows, grouping the text took 320 MB.
    """
    template = table["template"].fillna("").astype(str)
    explicit = (template == "").to_numpy(bool)
    counted = table["counted"].to_numpy(bool) if "counted" in table.columns else True
    keep = np.flatnonzero(explicit | counted)
    policy_codes, policies = pd.factorize(table["policy"].astype(str))
    project_codes, projects = pd.factorize(table["project"].astype(str))
    template_codes, templates = pd.factorize(template)
    names = np.where(explicit, project_codes, template_codes)
    key = ((policy_codes * 2 + ~explicit) * max(1, len(projects), len(templates)) + names)[keep]
    order = np.argsort(key, kind="stable")  # (stable: each group's rows stay in table order)
    positions: dict[tuple[str, str, str], np.ndarray] = {}
    for part in np.split(order, np.flatnonzero(np.diff(key[order])) + 1) if len(order) else []:
        rows = keep[part]
        first = int(rows[0])
        kind, name = (("project", projects[int(project_codes[first])]) if explicit[first]
                      else ("template", templates[int(template_codes[first])]))
        positions[(str(policies[int(policy_codes[first])]), kind, str(name))] = rows
    return (positions, [str(projects[int(c)]) for c in pd.unique(project_codes[explicit])],
            [str(templates[int(c)]) for c in pd.unique(template_codes[~explicit])])


def forecast(table: pd.DataFrame, /, *, horizon: float, policy: str | None = None,
             by: float | str | dt.date | None = None, start_date: dt.date | str | None = None,
             holidays: Iterable[dt.date] = (), projects: Sequence[str] | None = None,
             templates: Sequence[str] | None = None, order: Sequence[str] = ()) -> pd.DataFrame:
    """Per policy, explicit project and template: when it lands, and its chances (see above).

    ``table`` is a projects table (``Results.projects``; positional, so that ``projects`` can
    name projects). ``policy`` keeps one policy (default: all, in table order). ``projects``
    and ``templates`` choose the rows: both None gives every explicit project (in order of
    appearance, or first as in ``order``: the scenario's) then every template (likewise);
    naming either gives exactly the names given, in that order. ``by``
    adds the columns ``by`` and ``p_by``; ``start_date`` (with ``holidays``) adds the dates
    ``p10_date`` ... ``p90_date`` and ``due_on``. Columns and units: :data:`UNITS`. Unknown
    names, a bad ``by`` or a missing column raise :class:`UsageError`; no rows, an empty table.
    """
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise UsageError(f"the projects table lacks the columns {', '.join(missing)}")
    # one name is that project or template, not its letters ('feature' was f, e, a, t...)
    projects = [projects] if isinstance(projects, str) else projects
    templates = [templates] if isinstance(templates, str) else templates
    start = _start(start_date)
    limit = None if by is None else by_day(by, horizon, start)
    policies = [str(p) for p in dict.fromkeys(table["policy"].astype(str))]
    if policy is not None and policy not in policies:
        raise unknown_policy([policy], policies, "the results have")
    positions, present, pooled = _groups(table)
    rank = {name: i for i, name in enumerate(order)}
    present, pooled = (sorted(names, key=lambda x: rank.get(x, len(rank))) for names in (present, pooled))
    if projects is None and templates is None:
        projects, templates = present, pooled
    generated = set(table["project"].astype(str)) - set(present)
    stray = [name for name in projects or [] if name not in generated]
    if stray and not present and pooled:
        raise UsageError(f"unknown project {stray[0]!r}: the scenario names no projects, its "
                         f"projects are generated from templates ({listed(pooled)}); ask for a "
                         "template instead")
    chosen = {"project": _chosen(projects or [], present, "project", generated),
              "template": _chosen(templates or [], pooled, "template")}
    status = table["status"].astype(str).to_numpy(dtype=object)
    days = np.where(status == _DONE, table["finish"].to_numpy(float), np.inf)
    due = table["due_date"].to_numpy(float)
    keys = [(p, kind, name) for p in ([policy] if policy is not None else policies)
            for kind, names in chosen.items() for name in names if (p, kind, name) in positions]
    alike: dict[int, list[int]] = {}   # the groups of each size, computed together
    for i, key in enumerate(keys):
        alike.setdefault(len(positions[key]), []).append(i)
    stats: list[dict[str, float]] = [{} for _ in keys]
    for group in alike.values():
        for i, row in zip(group, _stats_alike([positions[keys[i]] for i in group], days, status,
                                              due, limit, horizon), strict=True):
            stats[i] = row
    rows = [{"policy": p, "kind": kind, "name": name, **row}
            for (p, kind, name), row in zip(keys, stats, strict=True)]
    columns = [c for c in UNITS if UNITS[c] != "date" and (limit is not None or c not in ("by", "p_by"))]
    out = pd.DataFrame(rows, columns=columns).astype({"n": "int64"})
    # A template's due days follow its projects' arrivals: there is no one due day to show.
    out.loc[out["kind"] == "template", "due"] = math.nan
    return _add_dates(out, start, set(holidays)) if start is not None else out


def shown(day: float, date: dt.date | None = None) -> str:
    """A finish percentile for people: its date if given, else ``day 123``; ``> horizon`` when
    it was not reached."""
    if day == math.inf:
        return NOT_REACHED
    if date is not None:
        return date.isoformat()
    return fmt.value(day, "day")
