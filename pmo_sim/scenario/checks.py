"""Cross-reference checks the pydantic models cannot see on their own.

The models validate each value in isolation; a scenario is also wrong when its parts do not
fit together: a task's ``skill`` must name a pool, ``after`` must name tasks of the same
project and form a DAG, a crew cannot be larger than its pool, generated project names
(``<template>-<n>``) must not collide with explicit ones, a training programme must train an
existing people pool, and so on. The capacity language (equipment, ``needs``, ``duration``,
the calendar, staffing and contractors) is checked in :mod:`pmo_sim.scenario.capacity_checks`.
:func:`semantic_problems` finds *every* such problem and returns it as ``(path, message,
got)``; the loader turns the path into a file location; strategy, budget,
dependency and risk checks are in :mod:`pmo_sim.scenario.checks_strategy`.

Policies are checked one by one, ``pmo`` included (it is the default every policy starts
from). The loader reports a problem a policy inherits from ``pmo`` once, under ``pmo``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, Union

from pmo_sim.errors import listed
from pmo_sim.scenario.capacity import Pool
from pmo_sim.scenario.capacity_checks import (
    Demand,
    calendar_problems,
    crew_demand,
    people_pool_problem,
    resource_manager_problems,
    stranded_crew_problems,
    task_problems,
)
from pmo_sim.scenario.checks_strategy import strategy_problems
from pmo_sim.scenario.dists import (
    Choice,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Normal,
    _Dist,
)
from pmo_sim.scenario.limits import people_problem
from pmo_sim.scenario.models import PMO, Intake, ProjectSpec, Scenario, TaskSpec

KeyPath = tuple[Union[str, int], ...]
SemanticProblem = tuple[KeyPath, str, Any]

MAX_HORIZON = 1_000_000
"""Working days (4,000 years): beyond this a horizon is a typo, and a run would never end."""


def semantic_problems(scenario: Scenario) -> list[SemanticProblem]:
    """Every cross-reference problem of a validated scenario, as ``(path, message, got)``."""
    out: list[SemanticProblem] = []
    if scenario.horizon > MAX_HORIZON:
        out.append((("horizon",), f"must be at most {MAX_HORIZON:,} working days", scenario.horizon))
    if scenario.warmup >= scenario.horizon:
        out.append((("warmup",), f"must be less than horizon ({scenario.horizon:g})", scenario.warmup))
    pools = scenario.resources
    _duplicates(out, [(("projects", i, "name"), p.name) for i, p in enumerate(scenario.projects)], "project")
    for i, project in enumerate(scenario.projects):
        _check_project(out, ("projects", i), project, pools)
    if scenario.intake is not None:
        _check_intake(out, scenario.intake, scenario.projects, pools)
    _check_random_values(out, scenario)
    _check_estimate_error(out, scenario)
    calendar_problems(out, scenario)
    demand = functools.cache(lambda: crew_demand(scenario))
    _check_policy(out, ("pmo",), scenario.pmo, scenario, demand)
    for name, policy in scenario.policies.items():
        if policy is not scenario.pmo:  # the implicit `default` policy *is* pmo
            _check_policy(out, ("policies", name), policy, scenario, demand)
    out += strategy_problems(scenario)
    crowded = people_problem(scenario)
    if crowded is not None:
        out.append(crowded)
    return out


def _names(names: Sequence[str]) -> str:
    return listed(names)


def _duplicates(out: list[SemanticProblem], named: list[tuple[KeyPath, str]], what: str) -> None:
    first: dict[str, KeyPath] = {}
    for path, name in named:
        if name in first:
            out.append((path, f"duplicate {what} name; already used at {'.'.join(map(str, first[name]))}",
                        name))
        else:
            first[name] = path


# --------------------------------------------------------------------------- projects and tasks


def _check_project(out: list[SemanticProblem], base: KeyPath, project: Any, pools: dict[str, Any]) -> None:
    tasks: list[TaskSpec] = project.tasks
    _duplicates(out, [(base + ("tasks", j, "name"), t.name) for j, t in enumerate(tasks)], "task")
    names = {t.name for t in tasks}
    for j, task in enumerate(tasks):
        path = base + ("tasks", j)
        task_problems(out, path, task, pools)
        for k, before in enumerate(task.after):
            if before == task.name:
                out.append((path + ("after", k), "a task cannot come after itself", before))
            elif before not in names:
                out.append((path + ("after", k), f"unknown task; expected one of: {_names(sorted(names))}",
                            before))
    for j, cycle in _cycles(tasks):
        out.append((base + ("tasks", j, "after"), f"precedence cycle: {' -> '.join(cycle)}", tasks[j].after))


def _cycles(tasks: list[TaskSpec]) -> list[tuple[int, list[str]]]:
    """Each precedence cycle once, as (index of its first task, names in precedence order).

    An iterative depth-first search (an explicit stack, not recursion), so a chain of
    thousands of tasks is checked without exhausting Python's recursion limit.
    """
    index = {t.name: j for j, t in enumerate(tasks)}
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done
    found: dict[frozenset[str], tuple[int, list[str]]] = {}
    for task in tasks:
        if task.name in state:
            continue
        path: list[str] = [task.name]  # the DFS stack, in `after` order
        todo = [iter(task.after)]
        state[task.name] = 1
        while todo:
            before = next(todo[-1], None)
            if before is None:
                state[path.pop()] = 2
                todo.pop()
            elif before == path[-1] or before not in index:
                continue  # reported as a reference problem
            elif state.get(before) == 1:
                loop = path[path.index(before):]
                start = min(loop, key=index.__getitem__)
                loop = loop[loop.index(start):] + loop[: loop.index(start)]
                # `loop` follows `after` links (each waits for the next): reverse for precedence order.
                order = [start, *reversed(loop[1:]), start]
                found.setdefault(frozenset(loop), (index[start], order))
            elif before not in state:
                state[before] = 1
                path.append(before)
                todo.append(iter(tasks[index[before]].after))
    return list(found.values())


def _check_intake(out: list[SemanticProblem], intake: Intake, projects: list[ProjectSpec],
                  pools: dict[str, Any]) -> None:
    templates = intake.templates
    _duplicates(out, [(("intake", "templates", i, "name"), t.name) for i, t in enumerate(templates)],
                "template")
    for i, template in enumerate(templates):
        _check_project(out, ("intake", "templates", i), template, pools)
        generated = re.compile(re.escape(template.name) + r"-[0-9]+")
        for j, project in enumerate(projects):
            if generated.fullmatch(project.name):
                out.append((("projects", j, "name"), f"may collide with the projects generated from "
                            f"template {template.name!r} (named {template.name}-1, {template.name}-2, ...)",
                            project.name))


# --------------------------------------------------------------------------- random values


def _at_least(out: list[SemanticProblem], path: KeyPath, dist: _Dist | None, floor: float,
              message: str) -> None:
    if dist is None or dist.support()[0] >= floor:
        return
    if isinstance(dist, Fixed):
        out.append((path, message, dist.value))
    else:
        out.append((path, f"{message}, but this distribution can give {dist.support()[0]:g}",
                    dist.model_dump(by_alias=True)))


def _whole_priority(out: list[SemanticProblem], path: KeyPath, dist: _Dist) -> None:
    """A priority is a rank, a whole number in the results (SPEC 2, 7.2): a value the file
    spells out (fixed, or one of a choice's or an empirical's values) must be whole, as 2.5
    was silently read as 2 (and 3.5 as 4). A continuous distribution's draws are rounded to
    the nearest whole number, which is what drawing a rank from one means."""
    if dist.support()[0] < 1:
        return  # below 1: said once, by the check of the lowest priority
    listed_values = [dist.value] if isinstance(dist, Fixed) else (
        list(dist.values) if isinstance(dist, (Choice, Empirical)) else [])
    if any(v != int(v) for v in listed_values):
        out.append((path, "must be a whole number (1 is the most urgent; larger numbers are less urgent)",
                    dist.value if isinstance(dist, Fixed) else dist.model_dump(by_alias=True)))


def _check_random_values(out: list[SemanticProblem], scenario: Scenario) -> None:
    kinds: list[tuple[KeyPath, Any]] = [(("projects", i), p) for i, p in enumerate(scenario.projects)]
    if scenario.intake is not None:
        kinds += [(("intake", "templates", i), t) for i, t in enumerate(scenario.intake.templates)]
        _at_least(out, ("intake", "arrivals"), scenario.intake.arrivals, 0, "must not be negative")
        if scenario.intake.arrivals.mean() <= 0 and scenario.intake.count is None:
            out.append((("intake", "arrivals"), "must have a positive mean (or set intake.count), "
                        "otherwise projects arrive without end", scenario.intake.arrivals.mean()))
    for base, project in kinds:
        _at_least(out, base + ("due",), project.due, 0, "must not be negative")
        _at_least(out, base + ("budget",), project.budget, 0, "must not be negative")
        _at_least(out, base + ("priority",), project.priority, 1, "must be at least 1 (1 is the most urgent)")
        _whole_priority(out, base + ("priority",), project.priority)
        for j, task in enumerate(project.tasks):
            _at_least(out, base + ("tasks", j, "effort"), task.effort, 0, "must not be negative")
            _at_least(out, base + ("tasks", j, "duration"), task.duration, 0, "must not be negative")
    if scenario.changes is not None:
        for name in ("effort_added", "disruption"):
            _at_least(out, ("changes", name), getattr(scenario.changes, name), 0, "must not be negative")
    if scenario.workforce is not None:
        _at_least(out, ("workforce", "hiring_delay"), scenario.workforce.hiring_delay, 0,
                  "must not be negative")


def _check_estimate_error(out: list[SemanticProblem], scenario: Scenario) -> None:
    # A ratio multiplies efforts: it must name a pool and never give 0 or a negative number.
    for skill, dist in scenario.estimate_error.items():
        path = ("estimate_error", skill)
        people_pool_problem(out, path, skill, scenario.resources, "estimate-error ratios")
        # These families draw values > 0 almost surely when their mean is > 0 (a normal is
        # redrawn while negative); the others must have a positive lowest value.
        continuous = isinstance(dist, (Normal, Lognormal, Gamma, Exponential))
        if (dist.mean() > 0) if continuous else (dist.support()[0] > 0):
            continue
        message = "must be greater than 0 (a ratio of actual to estimated effort)"
        if isinstance(dist, Fixed):
            out.append((path, message, dist.value))
        else:
            out.append((path, f"{message}, but this distribution can give {dist.support()[0]:g}",
                        dist.model_dump(by_alias=True)))


# --------------------------------------------------------------------------- policies


def _check_policy(out: list[SemanticProblem], base: KeyPath, policy: PMO, scenario: Scenario,
                  demand: Callable[[], Demand]) -> None:
    pools = dict(scenario.resources)
    resource_manager_problems(out, base, policy.resource_manager, scenario)
    stranded_crew_problems(out, base, policy, scenario, demand)
    training = policy.training_manager
    if training is not None:
        path = base + ("training_manager", "programmes")
        _duplicates(out, [(path + (i, "name"), p.name) for i, p in enumerate(training.programmes)],
                    "programme")
        for i, programme in enumerate(training.programmes):
            people_pool_problem(out, path + (i, "skill"), programme.skill, pools, "training programmes")
            if programme.cross_skill is not None:
                people_pool_problem(out, path + (i, "cross_skill"), programme.cross_skill, pools,
                                    "training programmes")
            pool = pools.get(programme.skill)
            if isinstance(pool, Pool) and programme.trainees > pool.headcount:
                out.append((path + (i, "trainees"), f"more trainees than pool {programme.skill!r} has "
                            f"people (headcount {pool.headcount})", programme.trainees))
        names = [p.name for p in training.programmes]
        if training.gap_driven is not None and training.gap_driven.programme not in names:
            out.append((base + ("training_manager", "gap_driven", "programme"),
                        f"no programme of that name in this policy; expected one of: {_names(names)}",
                        training.gap_driven.programme))
    if policy.technology_manager is not None:
        for i, adoption in enumerate(policy.technology_manager.adoptions):
            for k, skill in enumerate(adoption.skills):
                people_pool_problem(out, base + ("technology_manager", "adoptions", i, "skills", k), skill,
                                    pools, "technology adoptions")
