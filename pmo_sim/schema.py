"""Every results table, defined once: column, dtype, unit, sense and description.

This module is the single source of the results contract (SPEC section 7 and 10.8). The
engine's records fill these columns in this order, the store derives its Parquet types from
``dtype``, the metrics registry reads ``sense``, ``unit`` and ``label`` for comparisons and
tables, the report labels its tables and axes with them, and ``docs/results.md`` is generated
from them (``python -m pmo_sim.schema``; a test checks it is current).

Adding a KPI is one :class:`Column` in :data:`KPIS` plus the code that computes it (in the
engine core, or in the PMO role that owns it, reported through the role contract).

Vocabulary:

- ``dtype``: ``string``, ``int``, ``float`` or ``bool`` (Parquet: utf8, int64, float64, bool).
  Floats use NaN for "not reached" (a project that never started has ``start`` NaN).
- ``unit``: ``money`` (the scenario's currency), ``days`` (a duration in working days),
  ``day`` (a point in time: working days since day 0), ``person-days`` (effort), ``count``,
  ``rate`` (a fraction in [0, 1], shown as %), ``per-year`` (a count per year) or ``""`` (a
  name or flag).
- ``sense``: ``higher`` (larger is better), ``lower`` (smaller is better) or ``neutral``
  (descriptive only: a symptom, not a goal). Comparisons read it to call a significant
  difference *better* or *worse*; "best policy" is refused on a neutral KPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Dtype = Literal["string", "int", "float", "bool"]
Unit = Literal["money", "days", "day", "person-days", "count", "rate", "per-year", ""]
Sense = Literal["higher", "lower", "neutral"]


@dataclass(frozen=True)
class Column:
    """One column of a results table."""

    name: str
    dtype: Dtype
    unit: Unit
    sense: Sense
    label: str
    description: str
    #: A KPI a run may leave NaN: when it does (``"no completed project"``); empty for a KPI a
    #: run always gives a number, so that NaN there is an edit of the table.
    nan_when: str = ""
    #: The only values of a text column that holds one of a few words (a status, a kind);
    #: empty for a name or free text.
    values: tuple[str, ...] = ()

    @property
    def sense_text(self) -> str:
        """``"higher is better"``, ``"lower is better"`` or ``"neutral"``."""
        return "neutral" if self.sense == "neutral" else f"{self.sense} is better"


@dataclass(frozen=True)
class Table:
    """A results table: its key columns, then its own columns, in file order."""

    name: str
    description: str
    key: tuple[Column, ...]
    columns: tuple[Column, ...]

    @cached_property
    def all_columns(self) -> tuple[Column, ...]:
        return self.key + self.columns

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The table's own column names (without the key)."""
        return tuple(c.name for c in self.columns)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        """Every column name in file order, key first."""
        return tuple(c.name for c in self.all_columns)


def _c(name: str, dtype: Dtype, unit: Unit, sense: Sense, label: str, description: str,
       nan_when: str = "", values: tuple[str, ...] = ()) -> Column:
    return Column(name, dtype, unit, sense, label, description, nan_when, values)


PROJECT_STATUSES = ("completed", "cancelled", "rejected", "open", "backlog", "proposal")
CANCEL_REASONS = ("", "stage_gate", "dependency")
POOL_KINDS = ("people", "equipment")


# --------------------------------------------------------------------------- keys

POLICY = _c("policy", "string", "", "neutral", "Policy",
            "Name of the policy (a setting of the PMO's levers).")
REPLICATION = _c("replication", "int", "", "neutral", "Replication",
                 "Replication index r: the random world r, shared by every policy (common random numbers).")
KEY = (POLICY, REPLICATION)

# --------------------------------------------------------------------------- replications (SPEC 7.1)

KPIS: tuple[Column, ...] = (
    _c("projects_arrived", "int", "count", "neutral", "Projects arrived",
       "Projects that arrived at or after the warm-up (the counted projects)."),
    _c("projects_funded", "int", "count", "neutral", "Projects funded",
       "Counted projects funded by the horizon (without governance.funding: every arrived project, "
       "funded on arrival)."),
    _c("projects_completed", "int", "count", "higher", "Projects completed",
       "Counted projects completed by the horizon."),
    _c("projects_cancelled", "int", "count", "lower", "Projects cancelled",
       "Counted projects cancelled (stage gate, or a cancelled or rejected dependency)."),
    _c("projects_rejected", "int", "count", "neutral", "Proposals rejected",
       "Counted proposals rejected by the funding board (min_score, or max_wait without funds)."),
    # Open at the horizon: depends as much on late arrivals as on performance.
    _c("projects_open", "int", "count", "neutral", "Projects open at horizon",
       "Counted projects admitted or waiting in the backlog at the horizon (proposals still "
       "waiting for funds are not open)."),
    _c("on_time_rate", "float", "rate", "higher", "On-time rate",
       "Completed projects finished by their due date / completed projects with a due date.",
       nan_when="no completed project had a due date"),
    _c("mean_cycle_time", "float", "days", "lower", "Mean cycle time",
       "Mean of finish - arrival over completed projects.", nan_when="no project completed"),
    _c("mean_wait", "float", "days", "lower", "Mean wait to start",
       "Mean of start - arrival over started projects.", nan_when="no project started"),
    _c("mean_delay", "float", "days", "lower", "Mean delay past due date",
       "Mean of max(0, finish - due date) over completed projects with a due date.",
       nan_when="no completed project had a due date"),
    _c("throughput_per_year", "float", "per-year", "higher", "Throughput (projects/year)",
       "Projects completed per year of the window [warmup, horizon]."),
    _c("avg_wip", "float", "count", "neutral", "Average WIP",
       "Time-average of admitted, unfinished projects over the window."),
    _c("avg_in_system", "float", "count", "neutral", "Average projects in system",
       "Time-average of arrived, unfinished, uncancelled projects over the window."),
    _c("utilisation", "float", "rate", "neutral", "Utilisation",
       "Person-days on project work / person-days available (employed x fte), over the window; "
       "calendar down-time (holidays, closures) is neither.",
       nan_when="no person was employed in the window"),
    _c("value_delivered", "float", "money", "higher", "Value delivered",
       "Undiscounted benefit realised by the horizon: value_per_day from finish to horizon plus "
       "completion value, over completed counted projects."),
    _c("strategic_value", "float", "money", "higher", "Strategic value",
       "Value delivered weighted by strategy: sum over counted projects of score x value_delivered "
       "(0 without a strategy section)."),
    _c("budget_committed", "float", "money", "neutral", "Budget committed",
       "Sum of the cost estimates of the counted projects funded (funding commits the estimate)."),
    _c("budget_released", "float", "money", "neutral", "Budget released",
       "Funds released by the horizon: budget.per_year at day 0, days_per_year, ... (0 without a "
       "budget). Without carry_over, funds unspent at a release lapse."),
    _c("labour_cost", "float", "money", "lower", "Labour cost",
       "Payroll: day rate x employed days in the window (people are paid whether busy or not)."),
    _c("training_cost", "float", "money", "lower", "Training cost",
       "Training programmes paid in the window (per trainee, at enrolment)."),
    _c("technology_cost", "float", "money", "lower", "Technology cost",
       "Tool adoptions paid in the window (on their adoption day)."),
    _c("pmo_cost", "float", "money", "lower", "PMO cost",
       "Cost per year of the PMO functions (change management, governance, innovation) over the window."),
    _c("equipment_cost", "float", "money", "lower", "Equipment cost",
       "Equipment units: day rate x days each unit exists in the window (used or not)."),
    _c("contractor_cost", "float", "money", "lower", "Contractor cost",
       "Contractors: their day rate x days engaged in the window."),
    _c("risk_cost", "float", "money", "lower", "Risk cost",
       "Cost impacts of the risks that struck, paid in the window on the day they struck."),
    _c("mitigation_cost", "float", "money", "lower", "Mitigation cost",
       "Risk mitigation paid in the window: once per mitigated risk and applicable project, when "
       "the project is funded (admitted, without governance.funding)."),
    _c("total_cost", "float", "money", "lower", "Total cost",
       "labour_cost + training_cost + technology_cost + pmo_cost + equipment_cost + contractor_cost "
       "+ risk_cost + mitigation_cost."),
    _c("npv", "float", "money", "higher", "NPV",
       "Discounted benefit - discounted cost, at day 0. discount_rate is an effective annual rate: "
       "flows are discounted continuously at ln(1 + discount_rate) / days_per_year per day."),
    _c("rework_effort", "float", "person-days", "lower", "Rework effort (person-days)",
       "Effort added by change requests and risks to counted projects."),
    _c("changes", "int", "count", "neutral", "Change requests",
       "Change requests that reached a started counted project."),
    _c("changes_rejected", "int", "count", "neutral", "Change requests rejected",
       "Change requests rejected at assessment (counted projects)."),
    _c("risk_events", "int", "count", "lower", "Risk events",
       "Risks of the register that struck counted projects."),
    _c("training_days", "float", "person-days", "neutral", "Training days (person-days)",
       "Person-days (x fte) spent in training within the window."),
    _c("leavers", "int", "count", "neutral", "Leavers", "People who left within the window."),
    _c("hires", "int", "count", "neutral", "Hires", "Replacements hired within the window."),
    _c("contractor_requests", "int", "count", "neutral", "Contractors requested",
       "Contractors requested (each for a task that waited the trigger time)."),
    _c("events", "int", "count", "neutral", "Simulation events",
       "SimPy events processed by the replication (a measure of its size)."),
)

REPLICATIONS = Table("replications", "One row per (policy, replication): the KPIs.", KEY, KPIS)

# --------------------------------------------------------------------------- projects (SPEC 7.2)

PROJECTS = Table("projects", "One row per (policy, replication, project).", KEY, (
    _c("project", "string", "", "neutral", "Project", "Project name (generated ones: <template>-<n>)."),
    _c("template", "string", "", "neutral", "Template", "Intake template (empty for explicit projects)."),
    _c("priority", "int", "", "neutral", "Priority", "Priority (1 is the most urgent)."),
    _c("score", "float", "rate", "neutral", "Strategic score",
       "Sum over goals of normalised weight x alignment, in [0, 1] (0 without a strategy section)."),
    _c("arrival", "float", "day", "neutral", "Arrival", "Day the project entered the portfolio."),
    _c("funded", "float", "day", "neutral", "Funded",
       "Day it was funded (NaN if never); without governance.funding, its arrival."),
    _c("admitted", "float", "day", "neutral", "Admitted", "Day the WIP gate admitted it (NaN if never)."),
    _c("start", "float", "day", "neutral", "Start", "Day its first task started (NaN if never)."),
    _c("finish", "float", "day", "neutral", "Finish",
       "Day it completed, was cancelled or was rejected (NaN if still open, waiting or a proposal)."),
    _c("due_date", "float", "day", "neutral", "Due date", "Absolute due day (NaN without a due date)."),
    _c("status", "string", "", "neutral", "Status",
       "completed, cancelled, rejected, open (admitted), backlog (funded, not admitted) or proposal "
       "(waiting for funds).", values=PROJECT_STATUSES),
    _c("cancel_reason", "string", "", "neutral", "Cancel reason",
       "Why it was cancelled: stage_gate, dependency (a dependency was cancelled or rejected), or empty.",
       values=CANCEL_REASONS),
    _c("effort_planned", "float", "person-days", "neutral", "Effort planned",
       "Sum of the sampled task efforts (after estimating practice), before rework; a fixed-duration "
       "task counts its days."),
    _c("effort_done", "float", "person-days", "neutral", "Effort done",
       "Effort worked on it by the horizon (running tasks by linear progress); a fixed-duration task "
       "counts its days."),
    _c("rework_effort", "float", "person-days", "lower", "Rework effort",
       "Effort added by change requests and risks."),
    _c("changes", "int", "count", "neutral", "Changes", "Change requests that reached it."),
    _c("risk_events", "int", "count", "neutral", "Risk events", "Risks of the register that struck it."),
    _c("cost", "float", "money", "lower", "Cost",
       "Labour booked on it (crew-days x day rate) plus the cost impacts of the risks that struck it."),
    _c("budget", "float", "money", "neutral", "Budget", "Its budget (NaN without one)."),
    _c("value_delivered", "float", "money", "higher", "Value delivered",
       "Undiscounted benefit it realised by the horizon (0 unless completed)."),
    # extra (not in SPEC 7.2)
    _c("value_per_day", "float", "money", "neutral", "Value per day",
       "Its sampled benefit per day once delivered."),
    _c("cost_estimate", "float", "money", "neutral", "Cost estimate",
       "What funding commits: its cost_estimate, or central efforts x day rates (SPEC 10.1)."),
    _c("counted", "bool", "", "neutral", "Counted",
       "Whether it counts in the KPIs (arrived at or after the warm-up)."),
))

# --------------------------------------------------------------------------- pools (SPEC 7.3)

POOLS = Table("pools", "One row per (policy, replication, pool).", KEY, (
    _c("pool", "string", "", "neutral", "Pool", "Pool name."),
    _c("kind", "string", "", "neutral", "Kind",
       "people or equipment (equipment rows leave the people columns empty: NaN).", values=POOL_KINDS),
    _c("headcount_avg", "float", "count", "neutral", "Average headcount",
       "Employed person-days in the window (contractors included) / window length."),
    _c("utilisation", "float", "rate", "neutral", "Utilisation",
       "Busy person-days / available person-days (employed x fte); equipment: unit-days held / unit-days. "
       "Both outside calendar down-time."),
    _c("mean_wait", "float", "days", "lower", "Mean wait for a crew", "Mean of task ready -> crew assigned."),
    _c("tasks_started", "int", "count", "neutral", "Tasks started", "Tasks started in the window."),
    _c("busy_days", "float", "person-days", "neutral", "Busy days",
       "Person-days (x fte) or unit-days held by tasks (set-up and pauses included) in the window, "
       "outside calendar down-time."),
    _c("training_days", "float", "person-days", "neutral", "Training days",
       "Person-days (x fte) in training in the window, outside calendar down-time."),
    _c("idle_days", "float", "person-days", "neutral", "Idle days",
       "Available - busy - training person-days."),
))

# --------------------------------------------------------------------------- task log (simulate / trace)

TASKS = Table("tasks", "The task log of one replication (`simulate(...).tasks`, `pmo-sim trace`).", (), (
    _c("project", "string", "", "neutral", "Project", "Project name."),
    _c("task", "string", "", "neutral", "Task", "Task name (rework tasks: rework-<n>)."),
    _c("pool", "string", "", "neutral", "Pool", "The pool its crew came from."),
    _c("ready", "float", "day", "neutral", "Ready", "Day its predecessors were all finished."),
    _c("start", "float", "day", "neutral", "Start", "Day its crew was assigned."),
    _c("finish", "float", "day", "neutral", "Finish", "Day it finished (NaN if running at the horizon)."),
    _c("effort", "float", "person-days", "neutral", "Effort", "Its effort (rework included)."),
    _c("crew", "string", "", "neutral", "Crew",
       "Comma-separated person labels (<pool>-<slot>[.<occupant>])."),
    _c("people", "int", "count", "neutral", "People",
       "Crew size: the people it holds, over every people pool it needs (no equipment units)."),
))

# --------------------------------------------------------------------------- goals and risks (SPEC 10.8)

GOALS = Table("goals", "One row per (policy, replication, goal); only when the scenario has a "
              "`strategy` section.", KEY, (
    _c("goal", "string", "", "neutral", "Goal", "Goal name, in the order of strategy.goals."),
    _c("weight", "float", "rate", "neutral", "Weight", "The goal's weight, normalised to sum to 1."),
    _c("projects_completed", "int", "count", "higher", "Projects completed",
       "Counted projects with alignment > 0 to the goal completed by the horizon."),
    _c("value_delivered", "float", "money", "higher", "Value delivered",
       "Sum over counted projects of alignment to the goal x value_delivered."),
))

RISKS = Table("risks", "One row per (policy, replication, risk, applicable project that arrived "
              "before the horizon); only when the scenario has `risks`.", KEY, (
    _c("risk", "string", "", "neutral", "Risk", "Risk name, from the register."),
    _c("project", "string", "", "neutral", "Project", "The applicable project."),
    _c("occurred", "bool", "", "neutral", "Occurred",
       "Whether it struck (drawn to strike, and the project's work reached its `when` point)."),
    _c("day", "float", "day", "neutral", "Day", "Day it struck (NaN if it did not)."),
    _c("delay", "float", "days", "lower", "Delay",
       "Days of pause it added to the project's work (overlap with a pause already under way is "
       "not counted twice; 0 for a strike at the project's last completion, which has no work "
       "left to pause)."),
    _c("effort_added", "float", "person-days", "lower", "Effort added",
       "Rework it added: impact.effort x the project's remaining effort when it struck."),
    _c("cost", "float", "money", "lower", "Cost", "Its one-off cost impact."),
    _c("mitigated", "bool", "", "neutral", "Mitigated",
       "Whether the policy mitigates this risk (governance.risk_mitigation)."),
))

#: The tables every run stores, in file order (the task log is only produced for single replications).
TABLES: dict[str, Table] = {t.name: t for t in (REPLICATIONS, PROJECTS, POOLS)}
#: Tables stored only when the scenario has their section: goals (strategy) and risks (risks).
OPTIONAL_TABLES: dict[str, Table] = {t.name: t for t in (GOALS, RISKS)}
#: Every table a results folder may hold.
STORED_TABLES: dict[str, Table] = {**TABLES, **OPTIONAL_TABLES}
ALL_TABLES: dict[str, Table] = {**STORED_TABLES, TASKS.name: TASKS}

KEY_COLUMNS: tuple[str, ...] = tuple(c.name for c in KEY)
KPI_COLUMNS: tuple[str, ...] = REPLICATIONS.names
KPI_BY_NAME: dict[str, Column] = {c.name: c for c in KPIS}
#: The KPIs a run always gives a finite number (no :attr:`Column.nan_when`): NaN or an infinity
#: there is an overflow in the replication, or an edit of the table.
NUMBER_KPIS: tuple[str, ...] = tuple(c.name for c in KPIS
                                     if c.dtype in ("int", "float") and not c.nan_when)

#: The costs that add up to ``total_cost``, in the order they are added (labour first).
COST_KPIS: tuple[str, ...] = ("labour_cost", "training_cost", "technology_cost", "pmo_cost",
                              "equipment_cost", "contractor_cost", "risk_cost", "mitigation_cost")


def kpi_info(name: str) -> Column:
    """The KPI's column; an unknown name is described as a neutral count labelled by itself."""
    info = KPI_BY_NAME.get(name)
    return info if info is not None else Column(name, "float", "count", "neutral", name, "")


def columns_reference() -> str:
    """The Markdown reference of every results table (``docs/results.md``)."""
    lines = ["# Results columns", "",
             "Generated from `pmo_sim/schema.py` by `python -m pmo_sim.schema > docs/results.md`; "
             "do not edit by hand.", ""]
    for table in ALL_TABLES.values():
        lines += [f"## `{table.name}`", "", table.description, "",
                  "| column | dtype | unit | sense | description |", "|---|---|---|---|---|"]
        for col in table.all_columns:
            lines.append(f"| `{col.name}` | {col.dtype} | {col.unit or '-'} | {col.sense_text} | "
                         f"{col.description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    print(columns_reference(), end="")
