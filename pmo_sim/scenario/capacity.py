"""Capacity in the scenario language: people and equipment pools, and the calendar (SPEC 10.4).

A pool is one of two kinds, told apart by ``kind`` (``people`` when it is left out):

* a **people** pool (:class:`Pool`) holds ``headcount`` individuals of one skill, paid
  ``day_rate`` each, working at ``productivity``; ``fte`` (in (0, 1]) is the share of each
  person's time that goes to project work, so it scales both their productivity and their
  available time;
* an **equipment** pool (:class:`EquipmentPool`) holds ``units`` interchangeable units (test
  environments, rigs, licences) costing ``day_rate`` each. Equipment has no productivity, no
  attrition and no training: a task holds the units it needs while it runs.

Both kinds answer ``.kind`` and ``.capacity`` (headcount or units), which is what the rest of
the model reads when it does not care about the kind. Keys of the other kind (``headcount``,
``productivity`` or ``fte`` on equipment) are errors located at the key.

The :class:`Calendar` gives working days dates. Time stays in working days everywhere (day 0
is ``start_date``, a Monday-to-Friday day); ``holidays`` are dates and ``closures`` are spans
of working days during which nothing progresses. :mod:`pmo_sim.scenario.calendar` turns a
calendar into dates and down-time intervals.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag

from pmo_sim.scenario.base import Model, NonNeg, Pos

POOL_KINDS = ("people", "equipment")


class Pool(Model):
    """A pool of individual people with one skill (``kind: people``, the default)."""

    kind: Literal["people"] = "people"
    headcount: int = Field(ge=1, le=100_000)
    day_rate: NonNeg = 0.0
    productivity: Pos = 1.0
    fte: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0

    @property
    def capacity(self) -> int:
        return self.headcount


class EquipmentPool(Model):
    """Units of equipment a task holds while it runs (``kind: equipment``)."""

    kind: Literal["equipment"]
    units: int = Field(ge=1, le=100_000)
    day_rate: NonNeg = 0.0

    # Read by the loader: keys of a people pool written on equipment get this explanation.
    NOT_FIELDS: ClassVar[dict[str, str]] = {
        name: f"equipment has no {name}: it has units, and no people"
        for name in ("headcount", "productivity", "fte")
    }

    @property
    def capacity(self) -> int:
        return self.units


def _pool_kind(value: Any) -> str:
    # A pool without `kind` is a people pool; anything that is not a mapping is validated as
    # one too, so that its error says "expected a mapping".
    if isinstance(value, dict):
        kind = value.get("kind", "people")
        return kind if isinstance(kind, str) else repr(kind)
    return getattr(value, "kind", "people")


AnyPool = Annotated[
    Union[Annotated[Pool, Tag("people")], Annotated[EquipmentPool, Tag("equipment")]],
    Discriminator(_pool_kind, custom_error_type="unknown_pool_kind",
                  custom_error_message="unknown pool kind; expected people or equipment"),
]
"""A people or an equipment pool, chosen by ``kind``."""


# --------------------------------------------------------------------------- calendar


def _as_date(value: Any) -> Any:
    # The scenario reader keeps dates as text (2027-01-04); Python callers may give dates.
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date without a time of day, such as 2027-01-04")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            with_time = len(value) > 10 and value[10:11] in (" ", "T") and _is_date(value[:10])
            raise ValueError("expected a date without a time of day, such as 2027-01-04" if with_time
                             else "expected a date such as 2027-01-04") from None
    if not isinstance(value, dt.date):
        raise ValueError("expected a date such as 2027-01-04")
    return value


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


Date = Annotated[dt.date, BeforeValidator(_as_date)]


class Closure(Model):
    """An organisation-wide stop: ``days`` working days from working day ``start``."""

    start: NonNeg
    days: Pos


class Calendar(Model):
    """Dates of working days, holidays and closures (nothing progresses on either)."""

    start_date: Date | None = None
    holidays: list[Date] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)


__all__ = ["AnyPool", "Calendar", "Closure", "Date", "EquipmentPool", "POOL_KINDS", "Pool"]
