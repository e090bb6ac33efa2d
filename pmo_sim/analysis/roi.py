"""Return on investment of a training programme or of a policy's extra spend, with uncertainty.

A training manager asks "does this programme pay?". pmo-sim answers by simulating the same
random world twice (common random numbers): once under policy P as it is, once under a
*baseline* that differs only by the spend in question, and measuring per replication r

- **investment** = Δ(training_cost + technology_cost + pmo_cost), P minus baseline: what the
  PMO spends on top;
- **benefit** = Δvalue_delivered − Δlabour_cost: the extra value the portfolio realises by
  the horizon, less any extra payroll (retention changes who is employed). Benefit is
  undiscounted over the horizon and already *net of lost work*: people in training are paid
  but deliver nothing, which shows up as less value, not as a cost;
- **roi_pct** = 100 · (benefit − investment) / investment and **bcr** = benefit / investment
  (benefit–cost ratio; ROI > 0 ⟺ BCR > 1).

Two baselines are supported (the study in :mod:`pmo_sim.experiment.roi` runs them): P without
one of its training programmes (the ``--programme`` question), or another policy Q
(``--against``, "what does P's extra spend return over Q?"). This module is the arithmetic on
the paired tables.

Because the pairs share their random numbers, the per-replication ratios are far less noisy
than a ratio of two independent means; :func:`roi_summary` reports their means with 95% t
intervals over replications, the share of replications where benefit exceeds investment
(``p_positive``), and the median payback day.

**Payback.** The projects tables give each completed project's ``finish`` and
``value_delivered`` but not how that value splits between a completion value and a value per
day, so a completed project's value is taken to accrue evenly from its finish to the horizon
(rate value_delivered / (horizon − finish); everything at once if it finishes on the horizon).
The labour difference accrues evenly over the measurement window (warm-up to horizon), and
all of the investment is counted as paid on one day, ``invest_day`` (for a programme, its
first start day; for a whole policy, the first start or adoption day of its programmes and
tools, else day 0). The payback day is the first whole day from ``invest_day`` on at which
cumulative value gained − cumulative labour difference − investment ≥ 0; NaN when that never
happens within the horizon. At the horizon this gain equals benefit − investment, so a
replication with positive ROI always has a payback day.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.stats import half_width
from pmo_sim.errors import UsageError

SPEND_COLUMNS = ("training_cost", "technology_cost", "pmo_cost")
ROI_TABLE_COLUMNS = ("replication", "investment", "benefit", "roi_pct", "bcr", "payback_day")
ROI_KEYS = ("policy", "replications", "investment_mean", "benefit_mean", "roi_pct_mean",
            "roi_pct_ci_low", "roi_pct_ci_high", "bcr_mean", "bcr_ci_low", "bcr_ci_high",
            "p_positive", "payback_day_median")
BENEFIT_TEXT = ("investment = extra training + technology + PMO cost of P over the baseline; "
                "benefit = extra value delivered minus extra labour cost (undiscounted, by the "
                "horizon); ROI % = 100 x (benefit - investment) / investment; BCR = benefit / "
                "investment")

# Relative to the spend of the policies: below this, two policies "spend the same".
_ZERO_SPEND = 1e-9


# --------------------------------------------------------------------------- per replication


def roi_table(replications: pd.DataFrame, projects: pd.DataFrame, policy: str, baseline: str,
              horizon: float, warmup: float = 0.0, invest_day: float = 0.0) -> pd.DataFrame:
    """Investment, benefit, ROI, BCR and payback day of ``policy`` over ``baseline``, per replication.

    Parameters
    ----------
    replications, projects:
        The Results tables (SPEC 7.1, 7.2) holding both policies on common random numbers;
        rows are paired by ``replication``.
    horizon, warmup:
        Of the scenario: value accrues up to ``horizon``, labour over [warmup, horizon].
    invest_day:
        When the whole investment is counted as paid (for the payback day).

    Returns one row per replication with the columns of ``ROI_TABLE_COLUMNS``; ``roi_pct`` and
    ``bcr`` are NaN in a replication whose investment is zero, ``payback_day`` is NaN when the
    gain never covers the investment within the horizon.
    """
    wide = {name: _kpis(replications, name) for name in (policy, baseline)}
    common = wide[policy].index.intersection(wide[baseline].index)
    if common.empty:
        raise UsageError(f"no replication has both {policy!r} and {baseline!r}")
    p, b = (wide[name].loc[common] for name in (policy, baseline))
    investment = (p[list(SPEND_COLUMNS)].sum(axis=1) - b[list(SPEND_COLUMNS)].sum(axis=1))
    labour = p["labour_cost"] - b["labour_cost"]
    benefit = (p["value_delivered"] - b["value_delivered"]) - labour
    zero = investment.abs() <= _ZERO_SPEND * (1.0 + p[list(SPEND_COLUMNS)].abs().sum(axis=1))
    safe = investment.where(~zero)
    table = pd.DataFrame({
        "replication": common.to_numpy(),
        "investment": investment.to_numpy(),
        "benefit": benefit.to_numpy(),
        "roi_pct": (100.0 * (benefit - safe) / safe).to_numpy(),
        "bcr": (benefit / safe).to_numpy(),
    })
    days = np.arange(math.ceil(invest_day), math.floor(horizon) + 1, dtype=float)
    table["payback_day"] = [
        _payback(_value_curve(projects, policy, r, days, horizon)
                 - _value_curve(projects, baseline, r, days, horizon)
                 - labour.loc[r] * _window_share(days, warmup, horizon)
                 - investment.loc[r], days)
        for r in common
    ]
    return table[list(ROI_TABLE_COLUMNS)]


def _kpis(replications: pd.DataFrame, policy: str) -> pd.DataFrame:
    rows = replications[replications["policy"].astype(str) == policy]
    if rows.empty:
        raise UsageError(f"policy {policy!r} is not in the replications table")
    return rows.set_index("replication").sort_index()


def _value_curve(projects: pd.DataFrame, policy: str, replication: Any, days: np.ndarray,
                 horizon: float) -> np.ndarray:
    """Cumulative value realised by each day by the counted, completed projects of one run."""
    rows = projects[(projects["policy"].astype(str) == policy)
                    & (projects["replication"] == replication)
                    & (projects["status"] == "completed") & projects["finish"].notna()]
    if "counted" in rows.columns:
        rows = rows[rows["counted"].astype(bool)]
    finish = rows["finish"].to_numpy(dtype=float)[:, None]
    value = rows["value_delivered"].to_numpy(dtype=float)[:, None]
    span = np.maximum(horizon - finish, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(span > 0, np.clip((days - finish) / span, 0.0, 1.0),
                         (days >= finish).astype(float))
    return np.asarray((value * share).sum(axis=0), dtype=float)


def _window_share(days: np.ndarray, warmup: float, horizon: float) -> np.ndarray:
    if horizon <= warmup:
        return np.ones_like(days)
    return np.clip((days - warmup) / (horizon - warmup), 0.0, 1.0)


def _payback(gain: np.ndarray, days: np.ndarray) -> float:
    reached = np.flatnonzero(gain >= 0.0)
    return float(days[reached[0]]) if reached.size else float("nan")


# --------------------------------------------------------------------------- summary


def roi_summary(table: pd.DataFrame, policy: str, *, programme: str | None = None,
                against: str | None = None, confidence: float = 0.95) -> dict[str, Any]:
    """The SPEC 6.1 ``roi`` document from a :func:`roi_table`.

    Exactly one of ``programme`` and ``against`` names the question. Means and t intervals
    are over replications (NaN, i.e. JSON null, when undefined); ``p_positive`` is the share of
    replications with benefit > investment; ``payback_day_median`` the median payback day,
    counting a replication that never pays back as later than any day (NaN when half or more
    never do).

    Raises :class:`UsageError` when the investment is zero in every replication ("the two
    policies spend the same") or negative on average (the baseline spends more: swap them).
    """
    if (programme is None) == (against is None):
        raise UsageError("give exactly one of a programme and a policy to compare against")
    investment = table["investment"].to_numpy(dtype=float)
    if table["roi_pct"].isna().all():
        raise UsageError("the two policies spend the same: nothing to return on")
    if investment.mean() < 0:
        other = f"without {programme!r}" if programme else repr(against)
        raise UsageError(f"policy {policy!r} spends less than {other} (by {-investment.mean():,.0f} "
                         "on average): swap the two to ask what the extra spend returns")
    question = {"programme": programme} if programme is not None else {"against": against}
    roi_mean, roi_low, roi_high = _mean_ci(table["roi_pct"], confidence)
    bcr_mean, bcr_low, bcr_high = _mean_ci(table["bcr"], confidence)
    payback = table["payback_day"].to_numpy(dtype=float)
    payback = np.where(np.isnan(payback), np.inf, payback)
    median = float(np.median(payback)) if payback.size else float("nan")
    document: dict[str, Any] = {
        "policy": policy, **question,
        "replications": len(table),
        "investment_mean": float(investment.mean()),
        "benefit_mean": float(table["benefit"].mean()),
        "roi_pct_mean": roi_mean, "roi_pct_ci_low": roi_low, "roi_pct_ci_high": roi_high,
        "bcr_mean": bcr_mean, "bcr_ci_low": bcr_low, "bcr_ci_high": bcr_high,
        "p_positive": float((table["benefit"] > table["investment"]).mean()),
        "payback_day_median": median if math.isfinite(median) else float("nan"),
    }
    return document


def _mean_ci(values: pd.Series, confidence: float) -> tuple[float, float, float]:
    x = values.to_numpy(dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (float("nan"),) * 3
    mean, hw = float(x.mean()), half_width(x, confidence)
    return mean, mean - hw, mean + hw
