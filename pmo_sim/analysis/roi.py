"""Return on investment of a training programme or of a policy's extra spend, with uncertainty.

A training manager asks "does this programme pay?". pmo-sim answers by simulating the same
random world twice (common random numbers): once under policy P as it is, once under a
*baseline* that differs only by the spend in question (P without one of its programmes, or
another policy Q), and measuring, per replication r, P minus baseline. Everything the CLI
(``pmo-sim roi``), the API (``pmo_sim.roi``), the notebooks and the report show comes from
one function, :func:`analyse_roi`, so they agree to the cent.

**Two bases** (``basis``):

- ``cash`` (the default): undiscounted amounts over the horizon.
  *investment* = Δ(training_cost + technology_cost + pmo_cost); *benefit* = Δvalue_delivered −
  Δlabour_cost. Benefit is already net of lost work: people in training are paid but deliver
  nothing, which shows up as less value, not as a cost.
- ``npv``: present values at day 0. The *net gain* (benefit − investment) is exactly the NPV
  difference ΔNPV the engine computes. The investment is discounted from when it is paid:
  training and technology spend from ``invest_day`` (see payback below; for a programme
  repeated later this overstates its present value a little, so the ROI is conservative),
  PMO functions as a flow over the window. Benefit = ΔNPV + investment (present value).

**ROI** = 100 · (benefit − investment) / investment; **BCR** = benefit / investment (ROI > 0 ⟺
BCR > 1); both NaN in a replication whose investment is zero *or negative*: a return needs an
investment, and over a negative one the ratio's sign turns (a loss of 20,000 beside a saving
of 400 read +4,900%). Their means, with 95% t intervals, are over the replications where the
policy spends more (``roi_replications`` of them; the verdict says when that is not all).
``p_positive`` is the share of all replications where benefit exceeds investment (the net gain
is positive), P(ROI > 0) where the ROI is defined.

**Breakdown** (each with its mean and 95% CI): *value gained* (Δ value delivered), *labour
difference* (−Δ labour cost), which add up to the benefit; *training fees* and *other costs*
(technology and PMO functions), which add up to the investment; and, as a memo already inside
the value gained, the *capacity lost to training*: the extra person-days people spent in
training, at their pools' day rates. On the npv basis the labour difference is discounted as
a flow over the window and the value gained is benefit − labour difference.

**Payback and the cumulative curves.** The projects table gives each completed project's
``finish`` and ``value_delivered`` but not how that value splits between a completion value
and a value per day, so a completed project's value is taken to accrue evenly from its finish
to the horizon (all at once if it finishes on the horizon). The labour difference accrues
evenly over the measurement window (warm-up to horizon), and the whole investment is counted
as paid on ``invest_day`` (a programme's first possible run: its start, or the first gap
review if the gap-driven rule runs it and that comes earlier; for a whole policy, the first
of these and the adoption days of its tools before the horizon, else day 0). On the npv basis each amount is
discounted from when it accrues, and whatever the end of the curve differs from the exact
ΔNPV is spread evenly over the window. The cumulative benefit then ends at the benefit, and
the payback day is the first day from ``invest_day`` on when cumulative benefit ≥ investment
(NaN when that never happens within the horizon, and where nothing was invested): a
replication with a positive ROI always has one. ``payback_day_median``, over the replications
with an investment, counts one that never pays back as later than any day (NaN when half or
more never do).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.stats import check_frame, half_width
from pmo_sim.errors import UsageError, format_got
from pmo_sim.files import ROI_JSON, DuplicateKey, FileRefused, read_bounded, unique_keys

if TYPE_CHECKING:
    from pmo_sim.experiment import Results

BASES = ("cash", "npv")
SPEND_COLUMNS = ("training_cost", "technology_cost", "pmo_cost")
ROI_TABLE_COLUMNS = ("replication", "investment", "benefit", "net_gain", "roi_pct", "bcr",
                     "payback_day", "value_gained", "labour_difference", "training_fees",
                     "other_costs", "capacity_lost_days", "capacity_lost")
ROI_KEYS = ("policy", "replications", "investment_mean", "benefit_mean", "roi_pct_mean",
            "roi_pct_ci_low", "roi_pct_ci_high", "bcr_mean", "bcr_ci_low", "bcr_ci_high",
            "p_positive", "payback_day_median")
#: (column, label, unit) of the breakdown, in reading order.
BREAKDOWN = (
    ("value_gained", "value gained", "money"),
    ("labour_difference", "labour difference", "money"),
    ("benefit", "= benefit", "money"),
    ("training_fees", "training fees", "money"),
    ("other_costs", "other costs (technology, PMO)", "money"),
    ("investment", "= investment", "money"),
    ("net_gain", "net gain (benefit - investment)", "money"),
    ("roi_pct", "ROI", "pct"),
    ("bcr", "benefit-cost ratio", "ratio"),
    # memo lines: already inside the value gained
    ("capacity_lost_days", "memo: capacity lost to training", "person-days"),
    ("capacity_lost", "memo: its paid time", "money"),
)
#: Relative to the spend of the policies: below this, two policies "spend the same".
_ZERO_SPEND = 1e-9


@dataclass(frozen=True)
class RoiQuestion:
    """What is priced, and the scenario facts the arithmetic needs (all JSON-safe)."""

    policy: str
    baseline: str
    programme: str | None = None
    against: str | None = None
    basis: str = "cash"
    horizon: float = 0.0
    warmup: float = 0.0
    invest_day: float = 0.0
    discount_rate: float = 0.0
    days_per_year: float = 250.0
    currency: str = ""
    day_rates: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fields(self)
        if (self.programme is None) == (self.against is None):
            raise UsageError("give exactly one of a programme and a policy to compare against")
        if self.basis not in BASES:
            raise UsageError(f"unknown basis {self.basis!r}; choose one of: {', '.join(BASES)}")

    @property
    def delta(self) -> float:
        """Continuous discount intensity per day, ln(1 + r) / days_per_year (as the engine's)."""
        return math.log1p(self.discount_rate) / self.days_per_year if self.basis == "npv" else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoiQuestion:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _check_fields(q: RoiQuestion) -> None:
    """Each field of its type, each number finite and in range: a ``roi.json`` edited out of
    them gave a traceback from the arithmetic (a NaN horizon, text for a day, a list of rates)."""
    def bad(name: str, what: str) -> ValueError:
        return ValueError(f"question.{name}: {what} (got {format_got(getattr(q, name))})")

    for name in ("policy", "baseline", "basis", "currency", "programme", "against"):
        value = getattr(q, name)
        if not isinstance(value, str) and (value is not None or name not in ("programme", "against")):
            raise bad(name, "must be text")
    for name, low in (("horizon", 0.0), ("warmup", None), ("invest_day", None),
                      ("discount_rate", -1.0), ("days_per_year", 0.0)):
        value = getattr(q, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(name, "must be a number")
        if not math.isfinite(value):
            raise bad(name, "must be a finite number")
        if low is not None and not value > low:
            raise bad(name, f"must be greater than {low:g}")
    rates = q.day_rates
    if not isinstance(rates, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v) for k, v in rates.items()):
        raise bad("day_rates", "must map pool names to numbers")


def check_question(q: RoiQuestion, path: Path, scenario: dict[str, Any]) -> None:
    """The scenario facts ``roi.json`` recorded are the results' scenario's (``scenario``: its
    horizon, warmup, days_per_year, discount_rate, currency and day_rates); an edited one (a
    horizon of 1e308 made an array of as many days) is a :class:`UsageError`."""
    for name, value in scenario.items():
        if getattr(q, name) != value:
            raise UsageError(f"{path}: question.{name} is {format_got(getattr(q, name))}, but the "
                             f"scenario's is {format_got(value)}: the file was edited")


@dataclass
class RoiResult:
    """The answer of :func:`analyse_roi`: the SPEC 6.1 document (with additions), the
    per-replication table, the breakdown, the cumulative curves, and the question."""

    question: RoiQuestion
    document: dict[str, Any]
    table: pd.DataFrame
    breakdown: pd.DataFrame
    #: Per replication (rows) and day (columns): cumulative benefit, and the day grid.
    cumulative_benefit: np.ndarray
    days: np.ndarray
    #: The paired runs (set by :func:`pmo_sim.roi`; None when analysed from tables).
    results: Results | None = None

    @property
    def verdict(self) -> str:
        return str(self.document["verdict"])

    def to_json(self) -> dict[str, Any]:
        """The document with NaN as None (JSON null), and the question under ``question``."""
        return {**_json_safe(self.document), "question": self.question.to_dict()}

    def __repr__(self) -> str:
        d = self.document
        return (f"RoiResult({d['policy']!r} over {self.question.baseline!r}, basis "
                f"{self.question.basis!r}, ROI {fmt.percent(d['roi_pct_mean'])} [95% CI "
                f"{fmt.percent(d['roi_pct_ci_low'])} to {fmt.percent(d['roi_pct_ci_high'])}], "
                f"{d['replications']} replications)")


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- per replication


def _kpis(replications: pd.DataFrame, policy: str) -> pd.DataFrame:
    rows = replications[replications["policy"].astype(str) == policy]
    if rows.empty:
        raise UsageError(f"policy {policy!r} is not in the replications table")
    return rows.set_index("replication").sort_index()


def _discount(t: float | np.ndarray, delta: float) -> Any:
    return np.exp(-delta * np.asarray(t, dtype=float))


def _flow_factor(a: float, b: float, delta: float) -> float:
    """Mean discount factor of an even flow over [a, b] (1 without discounting)."""
    if delta == 0.0 or b <= a:
        return 1.0
    return float((math.exp(-delta * a) - math.exp(-delta * b)) / (delta * (b - a)))


#: The columns of the projects table :func:`value_curves` reads (and the report's figures of
#: completions, :mod:`pmo_sim.analysis.report_figures`).
VALUE_COLUMNS = ("policy", "replication", "status", "finish", "value_delivered", "counted")


def value_curves(projects: pd.DataFrame, policy: str, reps: pd.Index, days: np.ndarray,
                  horizon: float, delta: float) -> np.ndarray:
    """Cumulative value realised by each day, per replication: an array (reps × days).

    Each completed, counted project's ``value_delivered`` accrues evenly from its finish to
    the horizon (all at once if it finishes on the horizon), discounted at ``delta`` per day
    from when it accrues (``delta=0``: undiscounted).
    """
    rows = projects[(projects["policy"].astype(str) == policy) & (projects["status"] == "completed")
                    & projects["finish"].notna() & projects["replication"].isin(reps)]
    if "counted" in rows.columns:
        rows = rows[rows["counted"].astype(bool)]
    index = reps.get_indexer(pd.Index(rows["replication"]))
    finish = rows["finish"].to_numpy(dtype=float)
    value = rows["value_delivered"].to_numpy(dtype=float)
    span = np.maximum(horizon - finish, 0.0)
    lump = span <= 0
    rate = np.where(lump, 0.0, value / np.where(lump, 1.0, span))
    out = np.zeros((len(reps), len(days)))
    for j, t in enumerate(days):
        end = np.clip(t, finish, horizon)
        if delta > 0:
            flow = rate * (np.exp(-delta * finish) - np.exp(-delta * end)) / delta
        else:
            flow = rate * (end - finish)
        amount = np.where(lump, np.where(t >= finish, value * np.exp(-delta * finish), 0.0), flow)
        out[:, j] = np.bincount(index, weights=amount, minlength=len(reps))
    return out


def _training_days(pools: pd.DataFrame | None, q: RoiQuestion, reps: pd.Index) -> tuple[Any, Any]:
    """Δ person-days in training per replication, and their paid cost at the pools' day rates."""
    if pools is None or pools.empty or "training_days" not in pools.columns:
        zeros = np.zeros(len(reps))
        return zeros, zeros
    frame = pools.assign(rate=pools["pool"].astype(str).map(q.day_rates).fillna(0.0))
    frame = frame.assign(paid=frame["training_days"] * frame["rate"])
    sums = frame.groupby([frame["policy"].astype(str), "replication"])[["training_days", "paid"]].sum()

    def of(policy: str) -> pd.DataFrame:
        if policy not in sums.index.get_level_values(0):
            return pd.DataFrame(0.0, index=reps, columns=sums.columns)
        return pd.DataFrame(sums.xs(policy, level=0)).reindex(reps).fillna(0.0)

    diff = of(q.policy) - of(q.baseline)
    return diff["training_days"].to_numpy(dtype=float), diff["paid"].to_numpy(dtype=float)


def roi_table(replications: pd.DataFrame, projects: pd.DataFrame, question: RoiQuestion,
              pools: pd.DataFrame | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per replication: the columns of ``ROI_TABLE_COLUMNS`` (see the module docstring); and
    the cumulative benefit per replication and day with its day grid."""
    q = question
    wide = {name: _kpis(replications, name) for name in (q.policy, q.baseline)}
    reps = wide[q.policy].index.intersection(wide[q.baseline].index)
    if reps.empty:
        raise UsageError(f"no replication has both {q.policy!r} and {q.baseline!r}")
    p, b = (wide[name].loc[reps] for name in (q.policy, q.baseline))
    d = {c: (p[c] - b[c]).to_numpy(dtype=float) for c in (*SPEND_COLUMNS, "labour_cost",
                                                           "value_delivered", "npv")}
    delta = q.delta
    invest_factor = float(_discount(q.invest_day, delta))
    window_factor = _flow_factor(q.warmup, q.horizon, delta)
    training_fees = d["training_cost"] * invest_factor
    other_costs = d["technology_cost"] * invest_factor + d["pmo_cost"] * window_factor
    investment = training_fees + other_costs
    labour_difference = -d["labour_cost"] * window_factor
    if q.basis == "npv":
        net_gain = d["npv"]
        benefit = net_gain + investment
        value_gained = benefit - labour_difference
    else:
        value_gained = d["value_delivered"]
        benefit = value_gained + labour_difference
        net_gain = benefit - investment
    spend = p[list(SPEND_COLUMNS)].abs().sum(axis=1).to_numpy(dtype=float)
    # No return without an investment: none (within rounding) or a saving (see ROI above).
    unpriced = d["training_cost"] + d["technology_cost"] + d["pmo_cost"] <= _ZERO_SPEND * (1.0 + spend)
    safe = np.where(unpriced, np.nan, investment)
    lost_days, lost_paid = _training_days(pools, q, reps)

    days = np.arange(0.0, math.floor(q.horizon) + 1.0)
    curve = (value_curves(projects, q.policy, reps, days, q.horizon, delta)
             - value_curves(projects, q.baseline, reps, days, q.horizon, delta))
    share = _window_share(days, q.warmup, q.horizon)
    curve += labour_difference[:, None] * share[None, :]
    # Make each curve end exactly at the benefit (see "Payback" in the module docstring).
    curve += (benefit - curve[:, -1])[:, None] * share[None, :]
    table = pd.DataFrame({
        "replication": reps.to_numpy(), "investment": investment, "benefit": benefit,
        "net_gain": net_gain, "roi_pct": 100.0 * (benefit - safe) / safe, "bcr": benefit / safe,
        "payback_day": np.where(unpriced, np.nan, _payback(curve, days, investment, q.invest_day)),
        "value_gained": value_gained, "labour_difference": labour_difference,
        "training_fees": training_fees, "other_costs": other_costs,
        "capacity_lost_days": lost_days, "capacity_lost": lost_paid * window_factor,
    })
    return table[list(ROI_TABLE_COLUMNS)], curve, days


def _window_share(days: np.ndarray, warmup: float, horizon: float) -> np.ndarray:
    if horizon <= warmup:
        return np.ones_like(days)
    return np.clip((days - warmup) / (horizon - warmup), 0.0, 1.0)


def _payback(curve: np.ndarray, days: np.ndarray, investment: np.ndarray, invest_day: float) -> np.ndarray:
    """First day ≥ invest_day with cumulative benefit ≥ investment, per replication (or NaN)."""
    eligible = days >= math.ceil(invest_day - 1e-9)
    ok = (curve >= investment[:, None] - 1e-9 * (1.0 + np.abs(investment[:, None]))) & eligible[None, :]
    first = ok.argmax(axis=1)
    return np.where(ok.any(axis=1), days[first], np.nan)


# --------------------------------------------------------------------------- summary


def _mean_ci(values: Any, confidence: float) -> tuple[float, float, float]:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (float("nan"),) * 3
    mean, hw = float(x.mean()), half_width(x, confidence)
    return mean, mean - hw, mean + hw


def analyse_roi(replications: pd.DataFrame, projects: pd.DataFrame, question: RoiQuestion,
                pools: pd.DataFrame | None = None, confidence: float = 0.95) -> RoiResult:
    """The ROI of ``question.policy`` over ``question.baseline`` from the paired tables.

    The one ROI computation behind ``pmo-sim roi``, ``pmo_sim.roi``, the notebooks and the
    report. Raises :class:`UsageError` when the investment is zero in every replication
    ("the two policies spend the same") or negative on average (the baseline spends more:
    swap them).
    """
    check_frame(replications)
    if not isinstance(question, RoiQuestion):  # before: "'str' object has no attribute 'policy'"
        raise TypeError(f"question must be a RoiQuestion (pmo_sim.analysis.roi), not "
                        f"{type(question).__name__}")
    q = question
    table, curve, days = roi_table(replications, projects, q, pools)
    investment = table["investment"].to_numpy(dtype=float)
    if investment.mean() < 0:
        other = f"without {q.programme!r}" if q.programme else repr(q.against)
        raise UsageError(f"policy {q.policy!r} spends less than {other} (by "
                         f"{fmt.money(-investment.mean(), q.currency)} on average): swap the two "
                         "to ask what the extra spend returns")
    priced = table["roi_pct"].notna().to_numpy()
    if not priced.any():
        raise UsageError("the two policies spend the same: nothing to return on")
    stats = {c: _mean_ci(table[c], confidence) for c, _, _ in BREAKDOWN}
    payback = table["payback_day"].to_numpy(dtype=float)
    ordered = np.where(np.isnan(payback), np.inf, payback)[priced]
    median = float(np.median(ordered)) if ordered.size else float("nan")
    question_key = {"programme": q.programme} if q.programme is not None else {"against": q.against}
    document: dict[str, Any] = {
        "policy": q.policy, **question_key, "replications": len(table),
        "investment_mean": stats["investment"][0], "benefit_mean": stats["benefit"][0],
        "roi_pct_mean": stats["roi_pct"][0], "roi_pct_ci_low": stats["roi_pct"][1],
        "roi_pct_ci_high": stats["roi_pct"][2], "bcr_mean": stats["bcr"][0],
        "bcr_ci_low": stats["bcr"][1], "bcr_ci_high": stats["bcr"][2],
        "p_positive": float((table["benefit"] > table["investment"]).mean()),
        "payback_day_median": median if math.isfinite(median) else float("nan"),
        # additions to SPEC 6.1
        "baseline": q.baseline, "basis": q.basis, "currency": q.currency,
        "investment_ci_low": stats["investment"][1], "investment_ci_high": stats["investment"][2],
        "benefit_ci_low": stats["benefit"][1], "benefit_ci_high": stats["benefit"][2],
        "net_gain_mean": stats["net_gain"][0], "net_gain_ci_low": stats["net_gain"][1],
        "net_gain_ci_high": stats["net_gain"][2],
        "payback_share": float(np.isfinite(payback[priced]).mean()),
        "roi_replications": int(priced.sum()),
        "breakdown": [{"component": c, "label": label, "unit": unit, "mean": stats[c][0],
                       "ci_low": stats[c][1], "ci_high": stats[c][2]} for c, label, unit in BREAKDOWN],
    }
    document["verdict"] = roi_verdict(document, q)
    breakdown = pd.DataFrame(document["breakdown"])
    return RoiResult(q, document, table, breakdown, curve, days)


#: The largest ``roi.json`` read: pmo-sim writes about 4 KB.
MAX_ROI_JSON_BYTES = 2**20


def read_question(folder: Path) -> RoiQuestion | None:
    """The ROI question recorded in a results folder's ``roi.json``, or None without one.

    Read as the manifest is: at most :data:`MAX_ROI_JSON_BYTES`, each key once per object
    (before, a key given twice was taken at its last value, silently), and nested no deeper
    than Python's parser goes (before, a traceback: RecursionError).
    """
    path = folder / ROI_JSON
    if not path.is_file():
        return None
    try:
        text = read_bounded(path, MAX_ROI_JSON_BYTES).decode("utf-8")
        return RoiQuestion.from_dict(json.loads(text, object_pairs_hook=unique_keys)["question"])
    except DuplicateKey as exc:
        raise UsageError(f"{path}: the key {exc.key!r} is given more than once in one object "
                         f"(got {format_got(exc.first)}, then {format_got(exc.then)}); pmo-sim "
                         f"writes each key once: the file was edited") from None
    except RecursionError:
        raise UsageError(f"{path} is not a readable ROI record: nested deeper than pmo-sim "
                         f"writes") from None
    except (OSError, ValueError, KeyError, TypeError, UsageError, FileRefused) as exc:
        raise UsageError(f"{path} is not a readable ROI record: {exc}") from exc



def roi_verdict(doc: dict[str, Any], q: RoiQuestion) -> str:
    """The answer in one or two plain sentences."""
    what = f"{q.policy}'s {q.programme}" if q.programme else f"{q.policy}'s extra spend over {q.against}"
    basis = "undiscounted cash over the horizon" if q.basis == "cash" else "present value at day 0"
    money = fmt.money(doc["investment_mean"], q.currency)
    text = (f"{what} returns {fmt.percent(doc['roi_pct_mean'])} (95% CI "
            f"{fmt.percent(doc['roi_pct_ci_low'])} to {fmt.percent(doc['roi_pct_ci_high'])}) on "
            f"{money} invested: a benefit of {fmt.money(doc['benefit_mean'], q.currency)} "
            f"({basis}). ")
    p = float(doc["p_positive"])
    payback = fmt.finite(doc["payback_day_median"])
    if payback is None:
        text += (f"It pays for itself in {p:.0%} of the simulated futures and, in the median one, "
                 "not within the horizon.")
    else:
        text += (f"It pays for itself in {p:.0%} of the simulated futures; the median one pays "
                 f"back by day {payback:,.0f}.")
    if fmt.finite(doc["roi_pct_ci_high"]) is not None and float(doc["roi_pct_ci_high"]) < 0:
        text += " The whole interval is below zero: on these assumptions it loses money."
    n, priced = int(doc["replications"]), int(doc.get("roi_replications", doc["replications"]))
    if priced < n:
        text += (f" The ROI and BCR are over the {priced:,} future{'s' * (priced != 1)} in which "
                 f"it spends more: in {n - priced:,} of the {n:,} simulated futures it spends no more than "
                 f"{q.baseline}, and a return needs an investment.")
    return text
