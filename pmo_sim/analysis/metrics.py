"""What each KPI means to a decision maker: its sense, label and unit.

Statistics alone cannot say whether a larger difference is good news: more NPV is, a longer
cycle time is not, and a higher utilisation is neither (it is a symptom, not a goal). This
registry records, for every KPI column of SPEC 7.1 (``KPI_COLUMNS``), its *sense*

- ``higher``: larger is better (NPV, value delivered, on-time rate...),
- ``lower``: smaller is better (cycle time, waits, delays, costs, rework, cancellations),
- ``neutral``: descriptive only (WIP, utilisation, event counts, attrition...),

with a short label and a unit kind (``days``, ``money``, ``count``, ``rate``) for tables and
plots. Comparisons (:mod:`pmo_sim.analysis.compare`) read the sense to decide whether a
significant difference is *better* or *worse*, and refuse to "select the best" policy on a
neutral KPI.

Columns that are not KPIs of the registry (a user's own derived column, say) are tolerated:
:func:`metric_info` describes them as neutral with their name as label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from pmo_sim.engine.records import KPI_COLUMNS

Sense = Literal["higher", "lower", "neutral"]
UnitKind = Literal["days", "money", "count", "rate"]


@dataclass(frozen=True)
class MetricInfo:
    """Metadata of one KPI column."""

    name: str
    sense: Sense
    label: str
    unit: UnitKind

    @property
    def sense_text(self) -> str:
        """``"higher is better"``, ``"lower is better"`` or ``"neutral"``."""
        return "neutral" if self.sense == "neutral" else f"{self.sense} is better"


def _m(name: str, sense: Sense, label: str, unit: UnitKind) -> tuple[str, MetricInfo]:
    return name, MetricInfo(name, sense, label, unit)


_REGISTRY: dict[str, MetricInfo] = dict([
    _m("projects_arrived", "neutral", "Projects arrived", "count"),
    _m("projects_completed", "higher", "Projects completed", "count"),
    _m("projects_cancelled", "lower", "Projects cancelled", "count"),
    # Open at the horizon: depends as much on late arrivals as on performance.
    _m("projects_open", "neutral", "Projects open at horizon", "count"),
    _m("on_time_rate", "higher", "On-time rate", "rate"),
    _m("mean_cycle_time", "lower", "Mean cycle time", "days"),
    _m("mean_wait", "lower", "Mean wait to start", "days"),
    _m("mean_delay", "lower", "Mean delay past due date", "days"),
    _m("throughput_per_year", "higher", "Throughput (projects/year)", "count"),
    _m("avg_wip", "neutral", "Average WIP", "count"),
    _m("avg_in_system", "neutral", "Average projects in system", "count"),
    _m("utilisation", "neutral", "Utilisation", "rate"),
    _m("value_delivered", "higher", "Value delivered", "money"),
    _m("labour_cost", "lower", "Labour cost", "money"),
    _m("training_cost", "lower", "Training cost", "money"),
    _m("technology_cost", "lower", "Technology cost", "money"),
    _m("pmo_cost", "lower", "PMO cost", "money"),
    _m("total_cost", "lower", "Total cost", "money"),
    _m("npv", "higher", "NPV", "money"),
    _m("rework_effort", "lower", "Rework effort (person-days)", "days"),
    _m("changes", "neutral", "Change requests", "count"),
    _m("changes_rejected", "neutral", "Change requests rejected", "count"),
    _m("training_days", "neutral", "Training days (person-days)", "days"),
    _m("leavers", "neutral", "Leavers", "count"),
    _m("hires", "neutral", "Hires", "count"),
    _m("events", "neutral", "Simulation events", "count"),
])

if tuple(_REGISTRY) != KPI_COLUMNS:  # pragma: no cover - guards the contract with records.py
    missing = sorted(set(KPI_COLUMNS) - set(_REGISTRY))
    raise RuntimeError(f"analysis.metrics is out of step with KPI_COLUMNS (missing: {missing})")

#: Every KPI's metadata, in the order of ``KPI_COLUMNS``.
METRICS: Mapping[str, MetricInfo] = MappingProxyType(_REGISTRY)

#: The few KPIs a summary table shows by default.
HEADLINE_METRICS: tuple[str, ...] = (
    "npv", "value_delivered", "projects_completed", "on_time_rate", "mean_cycle_time", "total_cost",
)


def metric_info(name: str) -> MetricInfo:
    """Metadata of ``name``; an unknown column is described as a neutral count."""
    info = METRICS.get(name)
    return info if info is not None else MetricInfo(name, "neutral", name, "count")


def sense(name: str) -> Sense:
    """``"higher"``, ``"lower"`` or ``"neutral"`` (unknown columns are neutral)."""
    return metric_info(name).sense


def kpi_order(names: Iterable[str]) -> list[str]:
    """``names`` sorted in KPI order, unknown columns last in their given order."""
    rank = {name: i for i, name in enumerate(KPI_COLUMNS)}
    listed = list(dict.fromkeys(names))
    return sorted(listed, key=lambda n: (rank.get(n, len(rank)), listed.index(n)))
