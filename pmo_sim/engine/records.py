"""From the final state of a replication to its flat records (SPEC 7.1-7.3, :mod:`pmo_sim.schema`).

Workers return these compact, columnar records; the experiment layer turns them into Arrow
tables and DataFrames. Columns and their order come from :mod:`pmo_sim.schema`.

Definitions, in one place:

* Only projects arriving at or after ``warmup`` count in project KPIs; time-averages and
  people's time run over the window ``[warmup, horizon]``.
* A person's *available* time is their employed time in the window (outside calendar
  down-time) × their fte; it splits exactly into busy (held by a task, set-up and pauses
  included), away (training) and idle time, each × fte.
* ``labour_cost`` is payroll: day rate × employed days in the window (people are paid whether
  busy or not). A project's ``cost`` is the labour *booked* on it (crew-days × day rate).
* ``value_delivered`` is undiscounted: value_per_day from finish to horizon plus the
  completion value. ``npv`` discounts benefits and costs continuously to day 0 at the annual
  ``discount_rate`` taken as an effective rate (daily intensity ln(1 + r) / days_per_year).
* The roles' KPIs and costs arrive through :class:`~pmo_sim.engine.roles.Accounts`; costs
  add up in ``total_cost`` in the schema's :data:`~pmo_sim.schema.COST_KPIS` order, and NPV
  subtracts the present value of the per-year flows, then of the one-off payments.
* Strategy (SPEC 10.1, 10.8): ``strategic_value`` is the sum over counted projects of score ×
  value_delivered; with a ``strategy`` section the ``goals`` table has, per goal, the counted
  projects aligned with it (alignment > 0) that completed and the sum of alignment ×
  value_delivered.
* Funding (SPEC 10.2): a project's ``funded`` day is what the funding role reports for it;
  without one (no ``governance.funding``), every project is funded on arrival.
  ``projects_funded`` and ``budget_committed`` (the sum of their cost estimates) count the
  counted projects funded.
* Roles may fill ``projects`` columns they own (``funded``, ``risk_events``) and add tables of
  their own (``risks``): those come back in :attr:`ReplicationRecords.extra`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.roles import Accounts
from pmo_sim.schema import COST_KPIS, KPI_COLUMNS, NUMBER_KPIS, POOLS, PROJECTS, TASKS

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState, TaskState
    from pmo_sim.engine.world import World

NAN = math.nan

Columns = dict[str, list[Any]]


@dataclass
class ReplicationRecords:
    """The results of one (policy, replication): a KPI row and columnar tables.

    ``extra`` holds the optional tables the scenario's sections produce (``goals``,
    ``risks``), by table name, without their key columns.
    """

    policy: str
    replication: int
    seed: int
    kpis: dict[str, float]
    projects: Columns
    pools: Columns
    tasks: Columns | None = field(default=None)
    extra: dict[str, Columns] = field(default_factory=dict)


def pv_flow(rate: float, a: float, b: float, delta: float) -> float:
    """Present value at day 0 of a constant flow ``rate`` per day over [a, b]."""
    if b <= a:
        return 0.0
    if delta == 0:
        return rate * (b - a)
    return rate * (math.exp(-delta * a) - math.exp(-delta * b)) / delta


def _nan(value: float | None) -> float:
    return NAN if value is None else value


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


class RunawayReplication(RuntimeError):
    """A replication processed far more events than its scenario's size estimate allows, or its
    amounts grew past what a float holds."""


def build_records(world: World) -> ReplicationRecords:
    """The records of a world whose clock has reached the horizon."""
    pay = _close_people(world)
    acc = Accounts(world.t0, world.t1, world.delta, world.scenario.days_per_year)
    for role in world.roles:
        role.report(acc)
    projects, totals, values = _project_rows(world, acc)
    pools = _pool_rows(world)
    if world.scenario.strategy is not None:
        _goal_rows(world, acc, values)
    kpis = _kpis(world, acc, pay, totals)
    check_finite(kpis)
    tasks = _task_rows(world) if world.trace else None
    return ReplicationRecords(world.policy_name, world.plan.replication, world.plan.seed, kpis,
                              projects, pools, tasks, acc.extra)


def _close_people(world: World) -> dict[str, tuple[float, float]]:
    """Close the spells still open at the horizon; what people and units cost, as
    ``{kpi: (nominal in the window, present value)}`` (payroll, equipment, contractors)."""
    t0, t1, delta = world.t0, world.t1, world.delta
    cost = {"labour_cost": [0.0, 0.0], "equipment_cost": [0.0, 0.0], "contractor_cost": [0.0, 0.0]}
    account = {"people": cost["labour_cost"], "equipment": cost["equipment_cost"],
               "contractor": cost["contractor_cost"]}
    for pool in world.pools:
        for person in pool.people:
            if person.task is not None:  # still busy at the horizon
                world.book_busy(person, t1)
            world.close_away(person, t1)
            a, b = max(person.employed_from, t0), min(person.employed_to, t1)
            if b > a:
                pool.employed_days += b - a
                # available for project work: employed working days outside down-time, x fte
                pool.available_days += world.open_days(a, b) * person.fte
                into = account[person.kind]
                into[0] += person.day_rate * (b - a)
                into[1] += pv_flow(person.day_rate, a, b, delta)
    return {k: (v[0], v[1]) for k, v in cost.items()}


def _project_value(proj: ProjectState, t1: float, delta: float) -> tuple[float, float]:
    """(undiscounted value delivered by the horizon, its present value at day 0)."""
    if proj.status != "completed" or proj.finish is None:
        return 0.0, 0.0
    v = proj.value_per_day * (t1 - proj.finish) + proj.completion_value
    pv = (pv_flow(proj.value_per_day, proj.finish, t1, delta)
          + proj.completion_value * math.exp(-delta * proj.finish))
    return v, pv


def _columns(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Columns:
    """Rows (tuples in ``names`` order) as columns."""
    if not rows:
        return {name: [] for name in names}
    columns = list(zip(*rows, strict=True))
    assert len(columns) == len(names)
    return {name: list(values) for name, values in zip(names, columns, strict=True)}


def _project_rows(world: World, acc: Accounts) -> tuple[Columns, dict[str, float], list[float]]:
    """The ``projects`` columns, the project totals the KPIs need, and each project's value."""
    rows = []
    t1 = world.t1
    funded_at = acc.project_values.get("funded")
    events = acc.project_values.get("risk_events", {})
    totals = dict.fromkeys(("value_delivered", "value_pv", "strategic_value", "projects_funded",
                            "projects_rejected", "budget_committed"), 0.0)
    values = []
    for proj in world.projects:
        # NOTE: sum() over a generator written out (cheaper): the same additions, from int 0
        done: float = 0
        if proj.status == "completed":  # every task finished (the usual case: no tests per task)
            for t in proj.tasks:
                done += t.effort
        else:
            for t in proj.tasks:
                if t.start is not None:
                    done += t.effort if t.finish is not None else t.effort - t.remaining(t1)
        v, pv = _project_value(proj, t1, world.delta)
        values.append(v)
        plan = proj.plan
        funded = proj.arrival if funded_at is None else _nan(funded_at.get(proj.index))
        if proj.counted:
            totals["value_delivered"] += v
            totals["value_pv"] += pv
            totals["strategic_value"] += plan.score * v
            totals["projects_rejected"] += proj.status == "rejected"
            if funded == funded:  # not NaN: funded
                totals["projects_funded"] += 1
                totals["budget_committed"] += plan.cost_estimate
        due = proj.due_date
        row = (proj.name, proj.template, int(proj.priority), plan.score, proj.arrival, funded,
               _nan(proj.admitted), _nan(proj.start), _nan(proj.finish),
               due if due < math.inf else NAN, proj.status, proj.cancel_reason,
               proj.effort_planned, done, proj.rework, proj.changes, events.get(proj.index, 0),
               proj.cost, proj.budget, v, proj.value_per_day, plan.cost_estimate, proj.counted)
        rows.append(row)
    return _columns(PROJECTS.names, rows), totals, values


def _goal_rows(world: World, acc: Accounts, values: list[float]) -> None:
    """The ``goals`` rows: per goal, aligned counted projects completed and alignment × value."""
    strategy = world.scenario.strategy
    assert strategy is not None
    for g, (goal, weight) in enumerate(zip(strategy.goals, strategy.weights(), strict=True)):
        completed = 0
        value = 0.0
        for proj, v in zip(world.projects, values, strict=True):
            if proj.counted:
                aligned = float(proj.plan.alignment[g])
                completed += aligned > 0 and proj.status == "completed"
                value += aligned * v
        acc.rows("goals", {"goal": goal, "weight": weight, "projects_completed": completed,
                           "value_delivered": value})


def _pool_rows(world: World) -> Columns:
    rows = []
    window = world.t1 - world.t0
    for pool in world.pools:
        available = pool.available_days
        people = pool.kind == "people"
        row = (pool.name, pool.kind, pool.employed_days / window if people else NAN,
               pool.busy_days / available if available else NAN,
               pool.wait_sum / pool.tasks_started if pool.tasks_started else NAN, pool.tasks_started,
               pool.busy_days, pool.away_days if people else NAN,
               available - pool.busy_days - pool.away_days)
        rows.append(row)
    return _columns(POOLS.names, rows)


def _costs(acc: Accounts, pay: dict[str, tuple[float, float]], window: float
           ) -> tuple[dict[str, float], float]:
    """Every cost KPI (nominal, in the window) and the present value of all costs: payroll,
    then the roles' per-year flows, their one-off payments, and equipment and contractors."""
    dpy = acc.days_per_year
    years = window / dpy
    nominal = {"labour_cost": pay["labour_cost"][0]}
    present = pay["labour_cost"][1]
    for kpi in COST_KPIS[1:]:
        per_year = acc.flows.get(kpi, 0.0)
        nominal[kpi] = acc.nominal.get(kpi, 0.0) + per_year * years + pay.get(kpi, (0.0, 0.0))[0]
        if per_year:
            present += pv_flow(per_year / dpy, acc.t0, acc.t1, acc.delta)
    for kpi in COST_KPIS[1:]:
        present += acc.present.get(kpi, 0.0)
    for kpi in ("equipment_cost", "contractor_cost"):
        present += pay[kpi][1]
    return nominal, present


def _kpis(world: World, acc: Accounts, pay: dict[str, tuple[float, float]],
          totals: dict[str, float]) -> dict[str, float]:
    window = world.t1 - world.t0
    years = window / world.scenario.days_per_year
    counted = [p for p in world.projects if p.counted]
    completed = [p for p in counted if p.status == "completed"]
    with_due = [p for p in completed if p.due_date < math.inf]
    started = [p for p in counted if p.start is not None]
    people = [pool for pool in world.pools if pool.kind == "people"]
    busy = sum(pool.busy_days for pool in people)
    available = sum(pool.available_days for pool in people)
    costs, cost_pv = _costs(acc, pay, window)
    core: dict[str, float] = {
        "projects_arrived": len(counted),
        "projects_completed": len(completed),
        "projects_cancelled": sum(p.status == "cancelled" for p in counted),
        "projects_open": sum(p.status in ("open", "backlog") for p in counted),
        "on_time_rate": (sum(_finish(p) <= p.due_date for p in with_due) / len(with_due)
                         if with_due else NAN),
        "mean_cycle_time": _mean([_finish(p) - p.arrival for p in completed]),
        "mean_wait": _mean([_start(p) - p.arrival for p in started]),
        "mean_delay": _mean([max(0.0, _finish(p) - p.due_date) for p in with_due]),
        "throughput_per_year": len(completed) / years,
        "avg_wip": world.area_wip / window,
        "avg_in_system": world.area_system / window,
        "utilisation": busy / available if available else NAN,
        "value_delivered": totals["value_delivered"],
        "strategic_value": totals["strategic_value"],
        "projects_funded": int(totals["projects_funded"]),
        "projects_rejected": int(totals["projects_rejected"]),
        "budget_committed": totals["budget_committed"],
        **costs,
        "total_cost": sum(costs[k] for k in COST_KPIS),
        "npv": totals["value_pv"] - cost_pv,
        "rework_effort": world.rework_total,
        "training_days": sum(pool.away_days for pool in people),
        "leavers": world.leavers,
        "hires": world.hires,
        "events": world.processed_events(),
    }
    return {name: core[name] if name in core else acc.counts.get(name, 0) for name in KPI_COLUMNS}


def _finish(p: ProjectState) -> float:
    return _nan(p.finish)


def _start(p: ProjectState) -> float:
    return _nan(p.start)


def _task_rows(world: World) -> Columns:
    out = []
    rows: list[TaskState] = [t for p in world.projects for t in p.tasks if t.start is not None]
    rows.sort(key=lambda t: (_nan(t.start), t.project.index, t.index))
    for t in rows:
        row = (t.project.name, t.name, "+".join(p.name for p, _ in t.needs), t.ready_time, _nan(t.start),
               _nan(t.finish),
               t.effort, ",".join(p.label for p in t.crew),
               sum(u for p, u in t.needs if p.kind == "people"))  # crew size: people, not units
        out.append(row)
    return _columns(TASKS.names, out)


def check_finite(kpis: dict[str, Any]) -> None:
    """Stop a replication whose KPIs overflowed (NaN or infinite where a run always gives a
    number), naming them, rather than handing on a table every reader refuses as edited.

    Nothing a scenario's limits foresee: it takes amounts that compound during the run, such
    as thousands of change requests each adding a large fraction of the remaining effort, or
    a productivity so small that a task's planned duration is infinite.
    """
    bad = [name for name in NUMBER_KPIS
           if isinstance(kpis.get(name), float) and not math.isfinite(kpis[name])]
    if bad:
        shown = ", ".join(f"{name} = {kpis[name]}" for name in bad[:4])
        more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
        raise RunawayReplication(
            f"the replication's amounts overflowed ({shown}{more}): a quantity grew past what a "
            "number holds (efforts compounded by many change requests or risks, or a task whose "
            "duration is effort / a near-zero productivity); make those values smaller")
