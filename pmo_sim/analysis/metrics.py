"""What each KPI means to a decision maker: its sense, label and unit (read from the schema).

Statistics alone cannot say whether a larger difference is good news: more NPV is, a longer
cycle time is not, and a higher utilisation is neither (it is a symptom, not a goal). Each
KPI column of :mod:`pmo_sim.schema` carries its *sense*

- ``higher``: larger is better (NPV, value delivered, on-time rate...),
- ``lower``: smaller is better (cycle time, waits, delays, costs, rework, cancellations),
- ``neutral``: descriptive only (WIP, utilisation, event counts, attrition...),

with a short label and a unit for tables and plots. Comparisons
(:mod:`pmo_sim.analysis.compare`) read the sense to decide whether a significant difference is
*better* or *worse*, and refuse to "select the best" policy on a neutral KPI.

Columns that are not KPIs of the schema (a user's own derived column, say) are tolerated:
:func:`metric_info` describes them as neutral counts with their name as label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from pmo_sim.schema import KPI_BY_NAME, KPI_COLUMNS, Column, Sense, kpi_info

#: The metadata of a KPI is its schema column.
MetricInfo = Column

#: Every KPI's metadata, in the order of ``KPI_COLUMNS``.
METRICS: Mapping[str, MetricInfo] = MappingProxyType(dict(KPI_BY_NAME))

#: The few KPIs a summary table shows by default.
HEADLINE_METRICS: tuple[str, ...] = (
    "npv", "value_delivered", "projects_completed", "on_time_rate", "mean_cycle_time", "total_cost",
)


def metric_info(name: str) -> MetricInfo:
    """Metadata of ``name``; an unknown column is described as a neutral count."""
    return kpi_info(name)


def sense(name: str) -> Sense:
    """``"higher"``, ``"lower"`` or ``"neutral"`` (unknown columns are neutral)."""
    return metric_info(name).sense


def kpi_order(names: Iterable[str]) -> list[str]:
    """``names`` sorted in KPI order, unknown columns last in their given order."""
    rank = {name: i for i, name in enumerate(KPI_COLUMNS)}
    listed = list(dict.fromkeys(names))
    return sorted(listed, key=lambda n: (rank.get(n, len(rank)), listed.index(n)))
