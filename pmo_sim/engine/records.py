"""What one replication emits: flat, columnar records, no pandas (SPEC section 7).

Workers return these compact records; the experiment layer turns them into DataFrames and
Parquet. Column names and order are the contract of SPEC 7.1-7.3 (plus a few documented
extras), so they are spelled out once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KEY_COLUMNS = ("policy", "replication")

KPI_COLUMNS = (
    "projects_arrived", "projects_completed", "projects_cancelled", "projects_open",
    "on_time_rate", "mean_cycle_time", "mean_wait", "mean_delay", "throughput_per_year",
    "avg_wip", "avg_in_system", "utilisation", "value_delivered", "labour_cost",
    "training_cost", "technology_cost", "pmo_cost", "total_cost", "npv", "rework_effort",
    "changes", "changes_rejected", "training_days", "leavers", "hires", "events",
)
INT_KPIS = frozenset({
    "projects_arrived", "projects_completed", "projects_cancelled", "projects_open",
    "changes", "changes_rejected", "leavers", "hires", "events",
})

PROJECT_COLUMNS = (
    "project", "template", "priority", "arrival", "admitted", "start", "finish", "due_date",
    "status", "effort_planned", "effort_done", "rework_effort", "changes", "cost", "budget",
    "value_delivered",
    # extra (not in SPEC 7.2): whether the project counts in the KPIs (arrived >= warmup)
    "counted",
)

POOL_COLUMNS = (
    "pool", "headcount_avg", "utilisation", "mean_wait", "tasks_started", "busy_days",
    "training_days", "idle_days",
)

TASK_COLUMNS = (
    "project", "task", "pool", "ready", "start", "finish", "effort", "crew", "people",
)

PROJECT_STATUSES = ("completed", "cancelled", "open", "backlog")


@dataclass
class ReplicationRecords:
    """The results of one (policy, replication): a KPI row and columnar tables."""

    policy: str
    replication: int
    seed: int
    kpis: dict[str, float]
    projects: dict[str, list[Any]]
    pools: dict[str, list[Any]]
    tasks: dict[str, list[Any]] | None = field(default=None)
