"""Working days and dates: the pure arithmetic behind ``calendar`` (SPEC 10.4).

pmo-sim counts time in working days. With a ``calendar.start_date``, working day 0 is that
date and working days are Monday to Friday, so day 5 of a Monday start is the next Monday.
The start date must itself be a working day: a weekend start date is a validation error
(rather than being moved silently to the next Monday), so that "day 0" always means the date
written in the file. A fractional day belongs to the date of its whole part (day 7.5 is
during day 7).

Holidays are dates of working days; each takes the 1-day interval ``[i, i + 1)`` of its
working-day index ``i``. Closures are already in working days (``[start, start + days)``) and
need no start date. :func:`downtime` merges both into the sorted, disjoint intervals of
working-day time, clipped to ``[0, horizon]``, during which nothing progresses.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from pmo_sim.scenario.models import Scenario

Interval = tuple[float, float]


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday."""
    return day.weekday() < 5


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a working day, else the Monday after it (there always is one:
    9999-12-31, the last date Python's dates hold, is a Friday)."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def fits_calendar(start: dt.date, day: float) -> bool:
    """Whether working day ``day`` of a calendar starting on ``start`` is a date Python can
    hold (at most 9999-12-31): a far-future start date and a long horizon can run past it."""
    last = np.busday_offset(np.datetime64(start, "D"), math.floor(day), roll="forward")
    return bool(last <= np.datetime64(dt.date.max, "D"))


def day_index(start: dt.date, day: dt.date) -> int:
    """The working-day index of ``day`` (a working day) when day 0 is ``start``.

    Negative for days before ``start``. Raises ``ValueError`` for a Saturday or Sunday, which
    has no index.
    """
    if not is_working_day(day):
        raise ValueError(f"{day.isoformat()} is a {day.strftime('%A')}, not a working day")
    return int(np.busday_count(start, day))


def date_of(start: dt.date, day: float) -> dt.date:
    """The date of working day ``day`` (its whole part) when day 0 is ``start``."""
    if not math.isfinite(day):
        raise ValueError(f"day must be finite (got {day})")
    shifted = np.busday_offset(np.datetime64(start, "D"), math.floor(day), roll="forward")
    date = shifted.astype(dt.date)
    if not isinstance(date, dt.date):  # numpy gives an int beyond 9999-12-31
        raise ValueError(f"working day {day:g} from {start.isoformat()} is after 9999-12-31")
    return date


def downtime(scenario: Scenario) -> list[Interval]:
    """Merged intervals of working-day time during which nothing progresses.

    Holidays are the 1-day intervals of their indices, closures are taken as given; the result
    is sorted, disjoint (touching intervals are merged) and clipped to ``[0, horizon]``.
    """
    cal = scenario.calendar
    if cal is None:
        return []
    spans: list[Interval] = [(c.start, c.start + c.days) for c in cal.closures]
    if cal.start_date is not None:
        spans += [(float(i), float(i + 1)) for i in (day_index(cal.start_date, h) for h in cal.holidays)]
    merged: list[Interval] = []
    for a, b in sorted(spans):
        a, b = max(a, 0.0), min(b, scenario.horizon)
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
