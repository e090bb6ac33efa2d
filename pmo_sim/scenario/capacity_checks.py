"""Cross-reference checks of the capacity language (SPEC 10.4, 10.5).

The models check each value alone (``fte`` in (0, 1], units at least 1, a closure's days
positive...). What only the whole scenario can tell is checked here, each problem reported at
the key it is about:

* a task names its resources either as ``skill`` (+ ``people``) or as ``needs``, never both;
  its skill must be a people pool (equipment is held through ``needs``); every pool it names
  exists and has the units it asks for; it has exactly one of ``effort`` and ``duration``,
  and an ``effort`` task needs at least one people pool to do the work;
* holidays are working days between ``start_date`` and the date of the horizon, and need a
  ``start_date``; the start date is itself a working day; closures start before the horizon;
* staffing changes and contractors name people pools, staffing days fall in ``[0, horizon)``
  and releases never take a pool below zero people (changes apply in day order, file order
  within a day); one contractors entry per pool;
* a staffing plan never leaves a pool, from an explicit project's arrival to the horizon,
  with fewer people (or units) than a task of that project needs at once, counting the
  pool's contractors: such a task could never start, and its project stayed open to the
  horizon without a word. (A pool that training cross-skills people into is not judged, nor
  are generated projects, whose arrivals are drawn.)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any, Union

from pmo_sim.errors import listed
from pmo_sim.scenario.calendar import date_of, day_index, fits_calendar, is_working_day, next_working_day
from pmo_sim.scenario.capacity import EquipmentPool, Pool
from pmo_sim.scenario.limits import MAX_PEOPLE
from pmo_sim.scenario.models import Scenario, TaskSpec
from pmo_sim.scenario.policy import PMO, ResourceManager

KeyPath = tuple[Union[str, int], ...]
SemanticProblem = tuple[KeyPath, str, Any]
Pools = dict[str, Union[Pool, EquipmentPool]]


def _size(pool: Pool | EquipmentPool) -> str:
    return f"headcount {pool.headcount}" if isinstance(pool, Pool) else f"units {pool.units}"


def _known(pools: Pools) -> str:
    return listed(list(pools))


# --------------------------------------------------------------------------- tasks


def task_problems(out: list[SemanticProblem], path: KeyPath, task: TaskSpec, pools: Pools) -> None:
    """Who the task needs and how much work it is (see the module docstring)."""
    if task.skill is not None and task.needs is not None:
        out.append((path + ("needs",), "give either skill (with people) or needs, not both", task.needs))
    if task.people is not None and task.skill is None:
        out.append((path + ("people",), "people goes with skill; with needs, give the units per pool",
                    task.people))
    if task.skill is not None:
        _skill_problems(out, path, task, pools)
    for name, units in (task.needs or {}).items():
        pool = pools.get(name)
        if pool is None:
            out.append((path + ("needs", name), f"unknown pool; expected one of: {_known(pools)}", name))
        elif units > pool.capacity:
            out.append((path + ("needs", name), f"more units than pool {name!r} has ({_size(pool)})", units))
    if task.effort is not None and task.duration is not None:
        out.append((path + ("duration",), "give either effort (person-days) or duration (days), not both",
                    task.duration.model_dump(by_alias=True)))
    elif task.effort is None and task.duration is None:
        out.append((path, "a task needs either effort (person-days) or duration (days)", task.name))
    elif task.effort is not None and task.skill is None:  # (a bad skill is reported above)
        named = task.needs or {}
        if all(n in pools for n in named) and not any(isinstance(pools[n], Pool) for n in named):
            out.append((path + ("effort",), "an effort task needs at least one people pool (skill, or needs "
                        "naming a people pool); for work that takes a fixed time, give duration",
                        task.effort.model_dump(by_alias=True)))


def _skill_problems(out: list[SemanticProblem], path: KeyPath, task: TaskSpec, pools: Pools) -> None:
    skill = task.skill
    assert skill is not None
    pool = pools.get(skill)
    if pool is None:
        out.append((path + ("skill",), f"unknown pool; expected one of: {_known(pools)}", skill))
    elif isinstance(pool, EquipmentPool):
        out.append((path + ("skill",), f"pool {skill!r} is equipment, but a skill must be a people pool "
                    f"(a task holds equipment through needs, e.g. needs: {{{skill}: 1}})", skill))
    elif task.people is not None and task.people > pool.headcount:
        out.append((path + ("people",), f"crew is larger than pool {skill!r} (headcount {pool.headcount})",
                    task.people))


def people_pool_problem(out: list[SemanticProblem], path: KeyPath, name: str, pools: Pools,
                        what: str) -> None:
    """``name`` must be an existing people pool (``what`` says what wants one)."""
    pool = pools.get(name)
    if pool is None:
        out.append((path, f"unknown pool; expected one of: {_known(pools)}", name))
    elif isinstance(pool, EquipmentPool):
        out.append((path, f"pool {name!r} is equipment; {what} need a people pool", name))


# --------------------------------------------------------------------------- calendar


def calendar_problems(out: list[SemanticProblem], scenario: Scenario) -> None:
    cal = scenario.calendar
    if cal is None:
        return
    start = cal.start_date
    if start is not None and not is_working_day(start):
        out.append((("calendar", "start_date"), f"day 0 must be a working day (Monday to Friday), but "
                    f"{start.isoformat()} is a {start.strftime('%A')}; the next working day is "
                    f"{next_working_day(start).isoformat()}", start.isoformat()))
    elif start is not None and not fits_calendar(start, scenario.horizon):
        out.append((("calendar", "start_date"), f"the horizon ({scenario.horizon:g} working days from "
                    "this date) runs past 9999-12-31, the last date a calendar can show; choose an "
                    "earlier start date", start.isoformat()))
    elif start is not None:
        last = date_of(start, scenario.horizon)
        for i, day in enumerate(cal.holidays):
            where = ("calendar", "holidays", i)
            if not is_working_day(day):
                out.append((where, f"a holiday must be a working day, but this is a {day.strftime('%A')}",
                            day.isoformat()))
            elif not 0 <= day_index(start, day) <= scenario.horizon:
                out.append((where, f"outside the simulated days, from {start.isoformat()} (day 0) to "
                            f"{last.isoformat()} (the horizon, day {scenario.horizon:g})", day.isoformat()))
    if cal.holidays and start is None:
        out.append((("calendar", "holidays"), "holidays are dates: set calendar.start_date, the date of "
                    "working day 0 (closures, in working days, need no start date)",
                    [d.isoformat() for d in cal.holidays]))
    for i, closure in enumerate(cal.closures):
        if closure.start >= scenario.horizon:
            out.append((("calendar", "closures", i, "start"), f"must be before the horizon "
                        f"({scenario.horizon:g}); closures are in working days from day 0", closure.start))


# --------------------------------------------------------------------------- resource manager


def _in_day_order(rm: ResourceManager) -> list[int]:
    """The staffing changes' indices in the order they apply: by day, file order within one."""
    return sorted(range(len(rm.staffing)), key=lambda i: (rm.staffing[i].day, i))


def resource_manager_problems(out: list[SemanticProblem], base: KeyPath, rm: ResourceManager,
                              scenario: Scenario) -> None:
    """Staffing plans and contractors of one policy (``base`` is its path)."""
    pools: Pools = dict(scenario.resources)
    path = base + ("resource_manager", "staffing")
    for i, change in enumerate(rm.staffing):
        if change.pool not in pools:  # equipment may be bought or retired too (units)
            out.append((path + (i, "pool"), f"unknown pool; expected one of: {_known(pools)}", change.pool))
        if change.day >= scenario.horizon:
            out.append((path + (i, "day"), f"must be before the horizon ({scenario.horizon:g})", change.day))
    headcount = {name: pool.capacity for name, pool in pools.items()}
    for i in _in_day_order(rm):
        change = rm.staffing[i]
        if change.pool not in headcount:
            continue
        before = headcount[change.pool]
        headcount[change.pool] = before + change.change
        what = "people" if pools[change.pool].kind == "people" else "units"
        if headcount[change.pool] < 0:
            out.append((path + (i, "change"), f"would take pool {change.pool!r} below zero {what} (it has "
                        f"{before} on day {change.day:g}, after the changes before it)", change.change))
        elif headcount[change.pool] > MAX_PEOPLE:
            out.append((path + (i, "change"), f"would take pool {change.pool!r} above {MAX_PEOPLE:,} "
                        f"{what} (it has {before:,} on day {change.day:g}, after the changes before it)",
                        change.change))
            headcount[change.pool] = before  # one message, not one per later change
    path = base + ("resource_manager", "contractors")
    first: dict[str, int] = {}
    for i, contractor in enumerate(rm.contractors):
        people_pool_problem(out, path + (i, "pool"), contractor.pool, pools, "contractors")
        if contractor.pool in first:
            out.append((path + (i, "pool"), f"pool {contractor.pool!r} already has contractors at "
                        f"{'.'.join(map(str, path + (first[contractor.pool],)))}", contractor.pool))
        first.setdefault(contractor.pool, i)


#: Per pool, the explicit projects' tasks that need it, by arrival (file order within one):
#: their arrivals, the most units a task arriving at or after each needs, and the rows
#: (arrival, units, project, task). Built once per scenario, for every policy.
Demand = dict[str, tuple[list[float], list[int], list[tuple[float, int, str, str]]]]


def crew_demand(scenario: Scenario) -> Demand:
    """The :data:`Demand` of ``scenario``'s explicit projects arriving before the horizon."""
    rows: dict[str, list[tuple[float, int, str, str]]] = {}
    for project in scenario.projects:
        if project.arrival < scenario.horizon:
            for task in project.tasks:
                for name, need in task.units().items():
                    rows.setdefault(name, []).append((project.arrival, need, project.name, task.name))
    demand: Demand = {}
    for name, pool_rows in rows.items():
        pool_rows.sort(key=lambda row: row[0])
        most = [row[1] for row in pool_rows]
        for k in range(len(most) - 2, -1, -1):
            most[k] = max(most[k], most[k + 1])
        demand[name] = ([row[0] for row in pool_rows], most, pool_rows)
    return demand


def stranded_crew_problems(out: list[SemanticProblem], base: KeyPath, policy: PMO,
                           scenario: Scenario, demand: Callable[[], Demand]) -> None:
    """Explicit projects' tasks that ``policy``'s staffing plan leaves too few people to start
    (see the module docstring), reported at the release that took the pool below the crew.
    ``demand`` gives the scenario's :func:`crew_demand` (made once, when first needed)."""
    rm, pools = policy.resource_manager, scenario.resources
    if not any(c.change < 0 for c in rm.staffing):
        return
    cross = {p.cross_skill for p in (policy.training_manager.programmes
                                     if policy.training_manager is not None else [])}
    extra = {c.pool: c.max for c in rm.contractors}
    # per pool: the changes in day order, as (day, index, before, after)
    steps: dict[str, list[tuple[float, int, int, int]]] = {}
    level = {name: pool.capacity for name, pool in pools.items()}
    for i in _in_day_order(rm):
        change = rm.staffing[i]
        if change.pool in level and change.pool not in cross:
            before = level[change.pool]
            level[change.pool] = before + change.change
            steps.setdefault(change.pool, []).append((change.day, i, before, level[change.pool]))
    found: dict[int, list[Any]] = {}  # culprit change -> [message, how many tasks]
    for name, st in steps.items():
        if name not in demand() or min(s[3] for s in st) < 0:  # (below zero: reported above)
            continue
        arrivals, needs, rows = demand()[name]
        add = extra.get(name, 0)
        most = [s[3] for s in st]  # the most the pool has from each change on
        for k in range(len(st) - 2, -1, -1):
            most[k] = max(most[k], most[k + 1])

        # A task arriving after change k - 1's day, up to change k's, gets at most reach[k],
        # which only falls as k grows: one that needs more is stranded for sure. The rows
        # are looked at one by one only then, to name them.
        reach = [max(st[k - 1][3] if k else pools[name].capacity,
                     most[k] if k < len(st) else -1) + add for k in range(len(st) + 1)]
        if not any((j := bisect_right(arrivals, st[k - 1][0]) if k else 0) < len(rows)
                   and needs[j] > reach[k] for k in range(len(st) + 1)):
            continue
        days = [s[0] for s in st]
        for arrival, need, project, task in rows:
            k = bisect_left(days, arrival)  # changes on or after arrival
            if reach[k] >= need:
                continue
            culprit = next((j for j in range(k - 1, -1, -1) if st[j][2] + add >= need), None)
            if culprit is None:
                continue  # never enough, plan or not: a crew larger than its pool (above)
            day, i, _, left = st[culprit]
            if i in found:
                found[i][1] += 1
                continue
            people = pools[name].kind == "people"
            what = ("person" if people else "unit") if left == 1 else ("people" if people else "units")
            hired = f" with its {extra[name]} contractors" if name in extra else ""
            found[i] = [f"leaves pool {name!r} {left} {what} from day {day:g}, and fewer than "
                        f"{need}{hired} to the horizon: task {task!r} of project {project!r} "
                        f"(arriving on day {arrival:g}) needs {need} at once, so it could never "
                        "start", 1]
    for i, (text, n) in sorted(found.items()):
        more = f" (and {n - 1} more task{'s' if n > 2 else ''})" if n > 1 else ""
        out.append((base + ("resource_manager", "staffing", i, "change"), text + more,
                    rm.staffing[i].change))
