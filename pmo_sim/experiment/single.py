"""One replication, for looking inside: ``pmo_sim.simulate``.

Where :func:`pmo_sim.run_experiment` is for statistics over many replications, ``simulate``
runs a single (policy, replication) with the task trace switched on and hands back pandas
tables: the KPIs, the projects, the pools and every task with who did it and when. With a
``calendar.start_date`` the task log also gives the dates of each start and finish (working
days Monday to Friday from day 0 = the start date).

``goals`` and ``risks`` are the replication's rows of ``Results.goals`` and ``Results.risks``
(SPEC 10.8) with the same columns and dtypes, less the key (``policy`` and ``replication`` are
attributes of the result, as for ``projects`` and ``pools``): they go through the same Arrow
schema as a run's tables. A scenario without a strategy or a risk register gets empty frames
with those columns.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pmo_sim.analysis.forecast import landing_date
from pmo_sim.engine import ReplicationRecords
from pmo_sim.engine.records import RunawayReplication
from pmo_sim.errors import ReplicationFailed, UsageError
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.experiment.results import frame
from pmo_sim.experiment.spec import check_types
from pmo_sim.experiment.tablefile import to_arrow
from pmo_sim.scenario.calendar import date_of
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import KEY_COLUMNS, OPTIONAL_TABLES


@dataclass
class SimulationResult:
    """One replication's results, as pandas objects (``goals`` and ``risks``: empty without a
    strategy or a risk register)."""

    policy: str
    replication: int
    seed: int
    kpis: pd.Series
    projects: pd.DataFrame
    pools: pd.DataFrame
    tasks: pd.DataFrame
    goals: pd.DataFrame
    risks: pd.DataFrame

    def __repr__(self) -> str:
        return (f"SimulationResult(policy={self.policy!r}, replication={self.replication}, "
                f"seed={self.seed}, projects={len(self.projects)}, tasks={len(self.tasks)})")


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _optional_table(name: str, rec: ReplicationRecords) -> pd.DataFrame:
    """The replication's rows of the optional table ``name`` as a run stores them, less the key."""
    rows = rec.extra.get(name, {})   # absent when the scenario has no such section
    names = OPTIONAL_TABLES[name].names
    n = len(rows[names[0]]) if names[0] in rows else 0
    columns: dict[str, list[Any]] = {"policy": [rec.policy] * n, "replication": [rec.replication] * n,
                                     **{c: list(rows.get(c, [None] * n)) for c in names}}
    return frame(to_arrow(name, columns)).drop(columns=list(KEY_COLUMNS))


def simulate(scenario: Scenario, policy: str | None = None, seed: int = 0,
             replication: int = 0) -> SimulationResult:
    """Run one replication of one policy (default: the first) with its task trace."""
    check_types(scenario, seed=seed, replication=replication)
    if policy is not None and not isinstance(policy, str):
        raise TypeError(f"policy must be a policy's name, not {type(policy).__name__} ({policy!r})")
    if seed < 0 or replication < 0:
        raise UsageError(f"seed and replication must be non-negative integers (got seed {seed}, "
                         f"replication {replication})")
    name = policy if policy is not None else scenario.policy_names[0]
    try:
        rec = run_replication(scenario, replication, seed, [name], trace=True)[0]
    except RunawayReplication as exc:  # as a run reports it (exit 1), not a traceback
        raise ReplicationFailed(name, replication, seed, f"{type(exc).__name__}: {exc}") from None
    assert rec.tasks is not None
    tasks = pd.DataFrame(rec.tasks)
    start = scenario.calendar.start_date if scenario.calendar is not None else None
    if start is not None:
        # A start is dated by the working day it falls in; a finish by the last working day of
        # work (a task that ends at the start of day 5 ended on day 4), as forecasts do.
        holidays = scenario.calendar.holidays if scenario.calendar is not None else []
        tasks["start_date"] = [None if math.isnan(d) else date_of(start, d).isoformat()
                               for d in tasks["start"]]
        tasks["finish_date"] = [None if math.isnan(d) else _iso(landing_date(d, start, holidays))
                                for d in tasks["finish"]]
    return SimulationResult(
        policy=name, replication=replication, seed=seed,
        kpis=pd.Series(rec.kpis, name=name),
        projects=pd.DataFrame(rec.projects),
        pools=pd.DataFrame(rec.pools),
        tasks=tasks,
        goals=_optional_table("goals", rec),
        risks=_optional_table("risks", rec),
    )
