"""Which risks of the register hurt the most: a ranking of risk drivers (SPEC 10.3, 10.8).

A pure function of the ``risks`` and ``projects`` tables. For each policy and risk it sums,
per replication, what the risk's strikes did, then gives the mean over replications with a
Student-t confidence interval (replications where it did not strike count as zeros, so the
means are "per replication", i.e. the expected toll of the risk over the horizon):

- ``strikes``: how many applicable projects it struck (``applicable``: how many it could have);
- ``delay``: days of pause it added to struck projects' work;
- ``effort_added``: rework it added (person-days);
- ``cost``: its one-off cost impacts;
- ``value_lost``: the value the struck projects themselves did not earn because they finished
  later. It is an *attribution*, not a counterfactual run, and is defined as follows: a strike
  pushes its project's finish back by the pause it added plus the rework it added done at the
  project's own average pace (effort done ÷ (finish − start), person-days per day); the
  project forgoes its ``value_per_day`` for those days (at most the days it was under way:
  without the strike it could not have taken less than no time). It is counted for projects that
  completed by the horizon (for one still running, whether it would have finished in the
  window without the strike cannot be read from the tables). Knock-on effects — people held
  longer, so other projects wait — are not attributed. It is therefore a first-order, lower
  estimate of the value a risk destroys; for its full effect, compare runs with and without
  the risk on common random numbers (e.g. ``--set`` its probability to 0);
- ``loss``: ``value_lost + cost``, the money the risk takes directly; risks are ranked by its
  mean (rank 1 hurts most).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pmo_sim.analysis.stats import check_confidence, half_width

#: The measures of a risk's toll, each with its unit (as in :mod:`pmo_sim.schema`).
MEASURE_UNITS: dict[str, str] = {"delay": "days", "effort_added": "person-days", "cost": "money",
                                 "value_lost": "money", "loss": "money"}
MEASURES = tuple(MEASURE_UNITS)
_SUFFIXES = ("", "_ci_low", "_ci_high")
DRIVER_COLUMNS = ("policy", "rank", "risk", "mitigated", "applicable", "strikes",
                  *(f"{m}{suffix}" for m in MEASURES for suffix in _SUFFIXES))
#: The unit of each column of :func:`risk_drivers`' table (``applicable`` and ``strikes`` are
#: means per replication, so not whole counts).
UNITS: dict[str, str] = {"policy": "", "rank": "count", "risk": "", "mitigated": "",
                         "applicable": "count", "strikes": "count",
                         **{f"{m}{suffix}": unit for m, unit in MEASURE_UNITS.items()
                            for suffix in _SUFFIXES}}


_KEYS = ["policy", "replication", "project"]
_VALUES = ["value_per_day", "start", "finish", "effort_done", "status"]
#: The columns of the projects table :func:`risk_drivers` reads.
PROJECT_COLUMNS = (*_KEYS, *_VALUES)


def attributed_value_lost(risks: pd.DataFrame, projects: pd.DataFrame) -> pd.Series:
    """Per row of ``risks``: the value its strike cost its own project (see the module docstring)."""
    keys, cols = _KEYS, _VALUES
    merged = risks[keys].merge(projects[keys + cols], on=keys, how="left")
    span = (merged["finish"] - merged["start"]).to_numpy(dtype=float)
    done = merged["effort_done"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = np.where(span > 0, done / span, np.nan)
        rework_days = np.where(pace > 0, risks["effort_added"].to_numpy(dtype=float) / pace, 0.0)
    days = np.minimum(risks["delay"].to_numpy(dtype=float) + np.nan_to_num(rework_days),
                      np.nan_to_num(span))
    completed = (merged["status"] == "completed").to_numpy() & risks["occurred"].to_numpy(dtype=bool)
    lost = np.where(completed, merged["value_per_day"].to_numpy(dtype=float) * days, 0.0)
    return pd.Series(lost, index=risks.index, name="value_lost")


def risk_drivers(risks: pd.DataFrame, projects: pd.DataFrame, *,
                 policies: Sequence[str] | None = None, replications: int | None = None,
                 confidence: float = 0.95) -> pd.DataFrame:
    """The risk-driver ranking: one row per (policy, risk), columns :data:`DRIVER_COLUMNS`,
    each policy's risks by rank.

    ``replications`` is the number of replications of the run (0..n-1); without it, those that
    appear in ``projects``.
    """
    c = check_confidence(confidence)
    data = risks.copy()
    data["value_lost"] = attributed_value_lost(risks, projects)
    data["loss"] = data["value_lost"] + data["cost"]
    names = list(dict.fromkeys(data["risk"]))
    chosen = list(policies) if policies is not None else list(dict.fromkeys(data["policy"]))
    rows = []
    for policy in chosen:
        mine = data[data["policy"] == policy]
        reps = (pd.RangeIndex(replications) if replications is not None else
                pd.Index(sorted(projects.loc[projects["policy"] == policy, "replication"].unique())))
        columns = ["applicable", "strikes", *MEASURES]
        per_rep = mine.assign(strikes=mine["occurred"].astype(int), applicable=1).groupby(
            ["risk", "replication"])[columns].sum()
        # sums[risk, column, replication], 0 where a risk has no row in a replication: the
        # table grouped once (before, a filter and a reindex per risk: quadratic in the risks)
        sums = np.zeros((len(names), len(columns), len(reps)))
        at = pd.Index(names).get_indexer(per_rep.index.get_level_values(0))
        rep_at = reps.get_indexer(per_rep.index.get_level_values(1))
        kept = (at >= 0) & (rep_at >= 0)
        sums[at[kept], :, rep_at[kept]] = per_rep.to_numpy(dtype=float)[kept]
        mitigated = mine.groupby("risk", sort=False)["mitigated"].any()
        for i, risk in enumerate(names):
            row: dict[str, object] = {"policy": policy, "risk": risk,
                                      "mitigated": bool(mitigated.get(risk, False)),
                                      "applicable": sums[i, 0].mean() if len(reps) else np.nan,
                                      "strikes": sums[i, 1].mean() if len(reps) else np.nan}
            for k, m in enumerate(MEASURES, start=2):
                values = sums[i, k]
                # an edited table of amounts near 1e300: an infinite interval, no numpy warning
                with np.errstate(over="ignore", invalid="ignore"):
                    mean, hw = float(values.mean()) if len(values) else np.nan, half_width(values, c)
                row |= {m: mean, f"{m}_ci_low": mean - hw, f"{m}_ci_high": mean + hw}
            rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in DRIVER_COLUMNS if c != "rank"])
    out["rank"] = out.groupby("policy", sort=False)["loss"].rank(ascending=False, method="first")
    out["rank"] = out["rank"].astype(int)
    out = out.sort_values(["policy", "rank"], key=lambda s: s.map(chosen.index) if s.name == "policy" else s)
    return out[list(DRIVER_COLUMNS)].reset_index(drop=True)
