"""One way to write numbers for people: money, rates, days, counts, ratios and p-values.

The terminal tables, the HTML report, the verdict sentences (which the JSON documents carry
too) and the figures' tick labels all format through this module, so a number reads the same
wherever it appears:

- **money**: the currency code, then three significant digits with a scale suffix:
  ``EUR 4.69M``, ``EUR 476k``, ``EUR 950``; differences are signed (``+EUR 41k`` reads
  badly, so the sign goes on the amount: ``EUR +41k``);
- **rates** (fractions in [0, 1], e.g. the on-time rate): a percentage with one decimal,
  ``66.7%``; a difference of rates is in percentage points, ``+6.6 pp``;
- **days** (durations): three significant digits and ``d``: ``85.5 d``;
- **counts and other numbers**: three significant digits, thousands separated: ``49.1``,
  ``1,234``;
- **percentages** that are already × 100 (an ROI): ``1,082%``, ``45.3%``;
- **ratios** (a benefit-cost ratio): two decimals, ``11.82``;
- **p-values**: three decimals, four below 0.001, and ``< 0.0001`` below that (a p-value of
  1.3e-200 says nothing more than "far below any threshold");
- **ranges** (confidence intervals): ``350k–602k`` with an en dash, or ``-10k to 50k`` when
  a bound is negative (a dash next to a minus sign misreads).

Machine-readable output (JSON, CSV) keeps plain numbers: rates as fractions, money in the
currency's units. No function here ever writes scientific notation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: Units this module formats: the schema's units, plus ``pct`` (a number already × 100, such as
#: an ROI) and ``ratio`` (a benefit-cost ratio).
UNITS = ("money", "days", "day", "person-days", "count", "rate", "per-year", "pct", "ratio", "")

MINUS = "-"
DASH = "\u2013"  # en dash, between the bounds of a range
_SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def finite(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, NaN, infinite or not a number."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


#: Most decimals any number is written with: below that it reads 0 (a p-value has its own rule).
MAX_DECIMALS = 6


def _digits(v: float, sig: int) -> int:
    """Decimals that show ``v`` with ``sig`` significant digits (between 0 and MAX_DECIMALS)."""
    if v == 0 or not math.isfinite(v):
        return 0
    return min(MAX_DECIMALS, max(0, sig - 1 - math.floor(math.log10(abs(v)))))


def _trim(text: str) -> str:
    """``4.70`` -> ``4.7``, ``350.0`` -> ``350`` (only after a decimal point)."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def plain_number(v: float, sig: int = 3, signed: bool = False) -> str:
    """Three significant digits, thousands separated, no scale suffix: ``1,234``, ``0.0655``."""
    rounded = round(v, _digits(v, sig)) + 0.0   # + 0.0: no "-0"
    text = _trim(f"{abs(rounded):,.{_digits(v, sig)}f}")
    return _sign(rounded, signed) + text


def _sign(v: float, signed: bool) -> str:
    if v < 0:
        return MINUS
    return "+" if signed and v > 0 else ""


def compact(v: float, sig: int = 3, signed: bool = False) -> str:
    """Three significant digits with a scale suffix: ``4.69M``, ``476k``, ``51.6k``, ``950``."""
    a = abs(v)
    for size, suffix in _SCALES:
        # Round first: 999,700 is "1M", not "1,000k".
        if round(a / size, _digits(a / size, sig)) >= 1.0 and a >= size * 0.9995:
            return _sign(v, signed) + plain_number(a / size, sig) + suffix
    return _sign(v, signed) + plain_number(a, sig)


def money(x: Any, currency: str = "", signed: bool = False) -> str:
    """``EUR 4.69M``; without a currency just the amount (``4.69M``); ``–`` when missing."""
    v = finite(x)
    if v is None:
        return DASH
    text = compact(v, signed=signed)
    return f"{currency} {text}" if currency else text


def rate(x: Any, signed: bool = False) -> str:
    """A fraction as a percentage (``66.7%``); ``signed``: a difference in points (``+6.6 pp``)."""
    v = finite(x)
    if v is None:
        return DASH
    pct = round(v * 100.0, 1)
    text = f"{abs(pct):,.1f}"
    if abs(pct) < 0.1 and v != 0:   # below a tenth of a point: show it rather than "0.0"
        text = plain_number(abs(v * 100.0), 2)
        pct = v * 100.0
    return _sign(pct, signed) + text + (" pp" if signed else "%")


def percent(x: Any, signed: bool = False) -> str:
    """A number that is already a percentage (an ROI): ``1,082%``, ``45.3%``, ``-100%``."""
    v = finite(x)
    if v is None:
        return DASH
    text = f"{abs(v):,.0f}" if abs(v) >= 100 else plain_number(abs(v), 3)
    return _sign(v, signed) + text + "%"


def ratio(x: Any) -> str:
    """A benefit-cost ratio with two decimals: ``11.82``."""
    v = finite(x)
    return DASH if v is None else f"{v:,.2f}"


def days(x: Any, signed: bool = False, bare: bool = False) -> str:
    """A duration in working days: ``85.5 d`` (``bare``: ``85.5``)."""
    v = finite(x)
    if v is None:
        return DASH
    text = plain_number(v, signed=signed)
    return text if bare else f"{text} d"


def p_value(x: Any) -> str:
    """A p-value: ``0.872``, ``0.0021``, ``< 0.0001``; ``–`` when undefined."""
    v = finite(x)
    if v is None:
        return DASH
    if v < 1e-4:
        return "< 0.0001"
    return f"{v:.4f}" if v < 1e-3 else f"{v:.3f}"


def value(x: Any, unit: str, currency: str = "", signed: bool = False, bare: bool = False) -> str:
    """A value in its unit (see the module docstring); ``bare`` leaves out the currency and
    ``d`` (for a table whose header carries the unit)."""
    if unit == "money":
        return money(x, "" if bare else currency, signed)
    if unit == "rate":
        return rate(x, signed)
    if unit == "pct":
        return percent(x, signed)
    if unit == "ratio":
        return ratio(x)
    if unit in ("days", "person-days"):
        text = days(x, signed, bare=True)
        return text if bare or text == DASH else f"{text} {'d' if unit == 'days' else 'person-days'}"
    if unit == "day":
        v = finite(x)
        return DASH if v is None else f"day {v:,.0f}"
    v = finite(x)
    return DASH if v is None else plain_number(v, signed=signed)


def bare(x: Any, unit: str, signed: bool = False, sig: int = 3) -> str:
    """The number alone, in its unit's display scale (rates in %, money with k/M), for a cell
    under a header that names the unit: ``66.7``, ``4.69M``, ``+476k``, ``85.5``. (A CI
    half-width reads well with ``sig=2``: ``±96k``.)"""
    v = finite(x)
    if v is None:
        return DASH
    if unit == "rate":
        return plain_number(v * 100.0, sig, signed)
    if unit == "money" or abs(v) >= 1e4:
        return compact(v, sig, signed)
    return plain_number(v, sig, signed)


def value_range(low: Any, high: Any, unit: str, currency: str = "", signed: bool = False) -> str:
    """A confidence interval: ``EUR 350k–602k``, ``62.6%–70.8%``, ``EUR -10k to 50k``."""
    lo = value(low, unit, signed=signed, bare=True)
    hi = value(high, unit, signed=signed, bare=True)
    if DASH in (lo, hi):
        return DASH
    negative = lo.startswith(MINUS) or hi.startswith(MINUS)
    text = f"{lo} to {hi}" if negative or signed else f"{lo}{DASH}{hi}"
    if unit == "money" and currency:
        return f"{currency} {text}"
    if unit in ("days", "person-days"):
        return f"{text} {'d' if unit == 'days' else 'person-days'}"
    return text


def unit_label(unit: str, currency: str = "", difference: bool = False) -> str:
    """A unit in words, for column headers and axis labels (``difference``: rates in pp)."""
    if unit == "rate" and difference:
        return "pp"
    return {"money": currency or "money", "days": "days", "day": "day", "person-days": "person-days",
            "rate": "%", "count": "count", "per-year": "per year", "pct": "%", "ratio": "ratio",
            "": ""}.get(unit, unit)


# --------------------------------------------------------------------------- figure ticks


#: Ticks this large (after the axis's scale) are written in scientific notation. No KPI of a
#: run comes near (a quadrillion of money is 1,000,000B); an edited table's -1e300 written out
#: in full made tick labels of 400 digits, and the figure had no room left for its axes.
HUGE_TICK = 1e12


def _scientific(shown: Sequence[float], suffix: str) -> list[str]:
    """Ticks as ``-1e+300``, with the fewest significant digits that write each exactly (as
    the decimals of :func:`tick_labels`: ticks are round numbers)."""
    for sig in range(1, 17):
        labels = [f"{v:.{sig}g}" for v in shown]
        if all(abs(float(text) - v) <= 1e-9 * abs(v) for v, text in zip(shown, labels, strict=True)):
            break
    return ["0" if v == 0 else f"{text}{suffix}" for v, text in zip(shown, labels, strict=True)]


def tick_labels(values: Sequence[float], unit: str) -> list[str]:
    """Labels for axis ticks: one scale for the axis, and enough decimals to tell them apart.

    Money and large numbers take one suffix for the whole axis (``0.5M, 1M, 1.5M``), rates are
    percentages, and the number of decimals grows until neighbouring ticks differ (ticks 0.1
    points apart read ``0.1%, 0.2%``, never ``0%, 0%``). No offset, and no scientific notation
    below :data:`HUGE_TICK`.
    """
    ticks = [float(v) for v in values]
    if not ticks:
        return []
    scale, suffix = 1.0, ""
    if unit == "rate":
        scale, suffix = 0.01, "%"
    elif unit == "pct":
        suffix = "%"
    else:
        top = max(abs(v) for v in ticks)
        for size, name in _SCALES:
            if top >= size:
                scale, suffix = size, name
                break
    shown = [v / scale for v in ticks]
    if max(abs(v) for v in shown) >= HUGE_TICK:
        return _scientific(shown, suffix)
    # The fewest decimals that write every tick exactly (ticks are round numbers: 0.25M
    # needs two), and that tell neighbours apart.
    decimals = 0
    while decimals < MAX_DECIMALS and any(
            abs(round(v, decimals) - v) > 1e-9 * max(1.0, abs(v)) for v in shown):
        decimals += 1
    labels = [f"{round(v, decimals) + 0.0:,.{decimals}f}" for v in shown]
    return ["0" if v == 0 else f"{text}{suffix}" for v, text in zip(shown, labels, strict=True)]
