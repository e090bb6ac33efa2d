"""The efficient frontier: what each extra unit of budget buys under each funding rule.

``pmo-sim frontier SCENARIO --budget LOW:HIGH:STEPS [--metric strategic_value|npv|value_delivered]``
runs the scenario with ``budget.per_year`` set to each of STEPS evenly spaced yearly amounts
from LOW to HIGH (one amount, the same every year), and for each policy summarises the metric
(mean and 95% t interval over replications). It is a sweep of ``budget.per_year``
(:mod:`pmo_sim.experiment.sweep`, :mod:`pmo_sim.experiment.batch`): every budget runs the same
replications from the same seed, so replication r is the same random world at every budget
and under every policy (common random numbers) and the curves differ by the money, not by
noise.

The policies are those with a funding rule (``governance.funding``) — the board's options —
and, as references, those without one, which fund every proposal on arrival and so do not
depend on the budget: the level a rule approaches once money no longer binds. Where a curve
flattens before it meets that level, capacity (people), not money, is what binds.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.frontier import FUND_ALL
from pmo_sim.analysis.stats import summary
from pmo_sim.errors import Problem, ScenarioError, UsageError, unknown_policy
from pmo_sim.experiment.batch import Study, run_variants
from pmo_sim.experiment.spec import Progress, check_policy_list
from pmo_sim.experiment.variants import Base, Origin, validate_axes, variants
from pmo_sim.numerals import is_plain
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import KPI_COLUMNS

PATH = "budget.per_year"
METRICS = ("strategic_value", "npv", "value_delivered")
#: The columns of a frontier table, one row per (budget, policy).
FRONTIER_COLUMNS = ("budget", "policy", "funding", "metric", "mean", "ci_low", "ci_high", "n")
#: Most budget steps one frontier may have.
MAX_STEPS = 1_000
_ORIGIN: Origin = ("--budget", None, None)


def _problem(message: str, text: str) -> ScenarioError:
    return ScenarioError([Problem(message, file="--budget", got=text, has_got=True)])


def parse_budgets(text: str) -> list[float]:
    """``LOW:HIGH:STEPS`` as STEPS evenly spaced yearly budgets from LOW to HIGH inclusive.

    Amounts may be written as YAML numbers (``1.5e6``); a bad form, a negative or reversed
    range, or more than :data:`MAX_STEPS` steps is an error located at ``--budget``.
    """
    parts = [p.strip() for p in text.split(":")]
    if not is_plain(text):  # float() and int() read Unicode digits: "٣" was 3
        raise _problem("LOW, HIGH and STEPS must be written with ASCII digits (0-9)", text)
    try:
        if len(parts) != 3:
            raise ValueError
        low, high, steps = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise _problem("expected LOW:HIGH:STEPS (two amounts and a whole number of steps)", text) from None
    if not (np.isfinite(low) and np.isfinite(high)) or low < 0 or high < low:
        raise _problem("LOW and HIGH must be amounts with 0 <= LOW <= HIGH", text)
    if not 1 <= steps <= MAX_STEPS or (steps == 1 and low != high):
        raise _problem(f"STEPS must be between 2 and {MAX_STEPS:,} (1 only when LOW = HIGH)", text)
    # 12 significant digits: 1200000 rather than 1199999.9999999998 in tables and files.
    return list(dict.fromkeys(float(f"{v:.12g}") for v in np.linspace(low, high, steps)))


def funding_rules(scenario: Scenario) -> dict[str, str]:
    """Each policy's funding rule, or ``"fund all"`` for a policy without ``governance.funding``."""
    out = {}
    for name, policy in scenario.policies.items():
        funding = policy.governance.funding if policy.governance is not None else None
        out[name] = funding.rule if funding is not None else FUND_ALL
    return out


def _check(base: Base, budgets: Sequence[float], metric: str, sets: Mapping[str, Any] | None,
           policies: Sequence[str] | None) -> dict[str, str]:
    if metric not in KPI_COLUMNS:
        raise UsageError(f"unknown metric {metric!r}; available: {', '.join(KPI_COLUMNS)}")
    check_policy_list(policies)
    if isinstance(budgets, str | bytes) or not isinstance(budgets, Sequence | np.ndarray):
        raise TypeError(f"budgets must be a list of yearly amounts, not {type(budgets).__name__} "
                        f"({budgets!r})")
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, numbers.Real):
            raise TypeError(f"budgets must be numbers, not {type(b).__name__} ({b!r})")
    if not len(budgets):
        raise UsageError("give at least one budget (--budget LOW:HIGH:STEPS)")
    if PATH in (sets or {}):
        raise UsageError(f"{PATH} is what the frontier varies; do not also --set it")
    rules = funding_rules(base.scenario)
    unknown = [p for p in policies or () if p not in rules]
    if unknown:
        raise unknown_policy(unknown, list(rules))
    chosen = [p for p in rules if not policies or p in policies]
    if not any(rules[p] != FUND_ALL for p in chosen):
        raise UsageError("no policy funds proposals against the budget (governance.funding): "
                         "the budget changes nothing, so there is no frontier to draw")
    return rules


def frontier(scenario: str | os.PathLike[str] | Scenario, budgets: Sequence[float], *,
             metric: str = "strategic_value", replications: int = 100, seed: int = 0,
             jobs: int | None = None, backend: str = "local", scheduler: str | None = None,
             policies: Sequence[str] | None = None, sets: Mapping[str, Any] | None = None,
             progress: Progress | None = None, ready: Callable[[], None] | None = None
             ) -> pd.DataFrame:
    """The metric against the yearly budget, per policy: one row per (budget, policy).

    ``scenario`` is a file or a :class:`Scenario` with at least one funding policy (and so a
    ``budget``); ``budgets`` are yearly amounts, each set as ``budget.per_year``. Returns
    :data:`FRONTIER_COLUMNS`: the budget, the policy, its funding rule (``fund all`` for the
    references), the metric, its mean, 95% t interval and the replications used. A frontier
    too large (:func:`~pmo_sim.experiment.batch.check_size`) is refused before ``ready()`` is
    called and anything runs.
    """
    base = Base.of(scenario, sets)
    rules = _check(base, budgets, metric, sets, policies)  # funding needs a budget: it has one
    values = [float(b) for b in budgets]
    origins = {PATH: _ORIGIN}
    validate_axes(base, {PATH: values}, origins)
    scenarios = variants(base, [{PATH: b} for b in values], origins)
    frames = run_variants(scenarios, replications=replications, seed=seed, policies=policies,
                          jobs=jobs, backend=backend, scheduler=scheduler, progress=progress,
                          labels=[f"{PATH}={b:g}" for b in values],
                          study=Study("this frontier", "fewer replications (-n), fewer --budget "
                                      "steps, or fewer --policy", ready))
    rows = []
    for budget, frame in zip(values, frames, strict=True):
        table = summary(frame, [metric])
        table.insert(0, "budget", budget)
        table["funding"] = table["policy"].map(rules)
        rows.append(table)
    return pd.concat(rows, ignore_index=True)[list(FRONTIER_COLUMNS)]
