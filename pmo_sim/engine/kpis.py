"""From the final state of a replication to its flat records (SPEC 7.1-7.3).

Definitions, in one place:

* Only projects arriving at or after ``warmup`` count in project KPIs; time-averages and
  people's time run over the window ``[warmup, horizon]``.
* A person's *available* time is their employed time in the window; it splits exactly into
  busy (held by a task, set-up and pauses included), training and idle time.
* ``labour_cost`` is payroll: day rate × employed days in the window (people are paid whether
  busy or not). A project's ``cost`` is the labour *booked* on it (crew-days × day rate).
* ``value_delivered`` is undiscounted: value_per_day from finish to horizon plus the
  completion value. ``npv`` discounts benefits and costs continuously to day 0 at the annual
  ``discount_rate`` (daily intensity ln(1 + r) / days_per_year).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.records import (
    KPI_COLUMNS,
    POOL_COLUMNS,
    PROJECT_COLUMNS,
    TASK_COLUMNS,
    ReplicationRecords,
)
from pmo_sim.pmo import training_manager

if TYPE_CHECKING:
    from pmo_sim.engine.world import World

NAN = math.nan


def _pv_flow(rate: float, a: float, b: float, delta: float) -> float:
    """Present value of a constant flow ``rate`` per day over [a, b]."""
    if b <= a:
        return 0.0
    if delta == 0:
        return rate * (b - a)
    return rate * (math.exp(-delta * a) - math.exp(-delta * b)) / delta


def _columns(names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Empty columns of a record table, named as in :mod:`pmo_sim.engine.records`."""
    return {name: [] for name in names}


def _append(cols: dict[str, list[Any]], row: tuple[tuple[str, Any], ...]) -> None:
    """Append one row given as (column, value) pairs; every column exactly once."""
    assert len(row) == len(cols)
    for name, value in row:
        cols[name].append(value)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


def records(world: World) -> ReplicationRecords:
    sc = world.scenario
    t0, t1 = world.t0, world.t1
    window = t1 - t0
    years = window / sc.days_per_year
    delta = world.delta
    world._level_change()

    # ---- people: close open spells at the horizon
    labour_cost = 0.0
    labour_pv = 0.0
    for pool in world.pools:
        for person in pool.people:
            if person.task is not None:  # still busy at the horizon
                world._book(person, t1)
            training_manager.close_open_spells(world, person)
            a, b = max(person.employed_from, t0), min(person.employed_to, t1)
            if b > a:
                pool.employed_days += b - a
                labour_cost += pool.day_rate * (b - a)
                labour_pv += _pv_flow(pool.day_rate, a, b, delta)

    # ---- projects
    p_cols = _columns(PROJECT_COLUMNS)
    counted = [p for p in world.projects if p.counted]
    value = 0.0
    value_pv = 0.0
    for proj in world.projects:
        done = sum(t.effort - t.remaining(t1) for t in proj.tasks if t.start == t.start)
        v = 0.0
        if proj.status == "completed":
            v = proj.value_per_day * (t1 - proj.finish) + proj.completion_value
            if proj.counted:
                value += v
                value_pv += (_pv_flow(proj.value_per_day, proj.finish, t1, delta)
                             + proj.completion_value * math.exp(-delta * proj.finish))
        due = proj.due_date
        _append(p_cols, (("project", proj.name), ("template", proj.template),
                     ("priority", int(proj.priority)), ("arrival", proj.arrival),
                     ("admitted", proj.admitted), ("start", proj.start), ("finish", proj.finish),
                     ("due_date", due if due < math.inf else NAN), ("status", proj.status),
                     ("effort_planned", proj.effort_planned), ("effort_done", done),
                     ("rework_effort", proj.rework), ("changes", proj.changes),
                     ("cost", proj.cost), ("budget", proj.budget), ("value_delivered", v),
                         ("counted", proj.counted)))

    completed = [p for p in counted if p.status == "completed"]
    with_due = [p for p in completed if p.due_date < math.inf]
    started = [p for p in counted if p.start == p.start]

    # ---- pools
    pool_cols = _columns(POOL_COLUMNS)
    busy = employed = training = 0.0
    for pool in world.pools:
        busy += pool.busy_days
        employed += pool.employed_days
        training += pool.training_days
        _append(pool_cols, (("pool", pool.name), ("headcount_avg", pool.employed_days / window),
                     ("utilisation", pool.busy_days / pool.employed_days if pool.employed_days else NAN),
                     ("mean_wait", pool.wait_sum / pool.wait_n if pool.wait_n else NAN),
                     ("tasks_started", pool.tasks_started), ("busy_days", pool.busy_days),
                     ("training_days", pool.training_days),
                     ("idle_days", pool.employed_days - pool.busy_days - pool.training_days)))

    # ---- costs
    policy = world.policy
    pmo_per_year = sum(role.cost_per_year for role in (policy.change_manager, policy.governance,
                                                       policy.innovation_manager) if role is not None)
    pmo_cost = pmo_per_year * years
    pmo_pv = _pv_flow(pmo_per_year / sc.days_per_year, t0, t1, delta)
    training_cost, technology_cost = world.training_cost, world.technology_cost
    total_cost = labour_cost + training_cost + technology_cost + pmo_cost

    kpis: dict[str, float] = {
        "projects_arrived": len(counted),
        "projects_completed": len(completed),
        "projects_cancelled": sum(p.status == "cancelled" for p in counted),
        "projects_open": sum(p.status in ("open", "backlog") for p in counted),
        "on_time_rate": (sum(p.finish <= p.due_date for p in with_due) / len(with_due)
                         if with_due else NAN),
        "mean_cycle_time": _mean([p.finish - p.arrival for p in completed]),
        "mean_wait": _mean([p.start - p.arrival for p in started]),
        "mean_delay": _mean([max(0.0, p.finish - p.due_date) for p in with_due]),
        "throughput_per_year": len(completed) / years,
        "avg_wip": world.area_wip / window,
        "avg_in_system": world.area_system / window,
        "utilisation": busy / employed if employed else NAN,
        "value_delivered": value,
        "labour_cost": labour_cost,
        "training_cost": training_cost,
        "technology_cost": technology_cost,
        "pmo_cost": pmo_cost,
        "total_cost": total_cost,
        "npv": value_pv - (labour_pv + pmo_pv + world.training_pv + world.technology_pv),
        "rework_effort": world.rework_total,
        "changes": world.n_changes,
        "changes_rejected": world.n_rejected,
        "training_days": training,
        "leavers": world.leavers,
        "hires": world.hires,
        "events": world.processed_events(),
    }
    assert tuple(kpis) == KPI_COLUMNS

    tasks = None
    if world.trace:
        tasks = _task_trace(world)
    return ReplicationRecords(world.policy_name, world.plan.replication, world.plan.seed, kpis,
                              p_cols, pool_cols, tasks)


def _task_trace(world: World) -> dict[str, list[Any]]:
    cols = _columns(TASK_COLUMNS)
    rows = [t for p in world.projects for t in p.tasks if t.start == t.start]
    rows.sort(key=lambda t: (t.start, t.project.index, t.index))
    for t in rows:
        _append(cols, (("project", t.project.name), ("task", t.name), ("pool", t.pool.name),
                     ("ready", t.ready_time), ("start", t.start), ("finish", t.finish),
                     ("effort", t.effort), ("crew", ",".join(p.label for p in t.crew)),
                       ("people", t.people)))
    return cols
