"""Generated portfolios unlike the reference, for ``scenario_scaling.py --generated``.

Twelve templates of wide fans (a root, 20 parallel tasks, a join), long chains (25 tasks) and
layered networks (16 tasks) over ten skill pools (every other one part-time) and two
equipment pools: a fifth of the tasks hold two pools and a rig at once, a sixth two pools,
some take a fixed duration. One policy per allocation rule. A structure adds roles on top:
``shapes`` a calendar (holidays, a closure); ``governed`` and ``governed_batch`` strategy,
funding against a budget (reviewed on arrival, or every 30 days), risks with a mitigation,
explicit projects in dependency chains that templates depend on, change requests with a
change manager, a stage gate and a WIP limit; ``people`` attrition, training (a gap-driven
programme, cross-skilling), staffing, contractors, switching costs, innovation and a tool
adoption, with change requests and the calendar; ``all`` every one of these.

At size k the arrival rate, the intake's count, the explicit projects, the budget, the WIP
limit and the change managers are multiplied by k; mode ``people`` also multiplies the
headcounts, equipment units, staffing changes and contractors. Such portfolios showed the
needs queue scanning every live project at every allocation (before 1344ab0, ``min_slack``
2.1-2.6 x ``fifo`` at 16x).
"""

from __future__ import annotations

import random
from typing import Any

RULES = ("fifo", "priority", "edd", "srpt", "wsjf", "min_slack", "lst", "lft")
POOLS, RIGS, GOALS = 10, 2, ("g1", "g2", "g3", "g4")
ROLES = {
    "shapes": {"calendar"},
    "governed": {"explicit", "strategy", "funding", "risks", "changes", "change_manager", "gate", "wip"},
    "people": {"workforce", "training", "staffing", "contractors", "switch", "innovation", "technology",
               "calendar", "changes"},
}
ROLES["governed_batch"] = ROLES["governed"] | {"batch"}
ROLES["all"] = ROLES["governed"] | ROLES["people"]
STRUCTURES = tuple(ROLES)


def scenario(structure: str, k: int, mode: str, seed: int = 7) -> dict[str, Any]:
    """The scenario (as data, for ``scenario_from_dict``) of ``structure`` at k times its size."""
    roles, rng = ROLES[structure], random.Random(seed)
    grow = k if mode == "people" else 1  # what scales with the people
    sc: dict[str, Any] = {"name": f"generated-{structure}", "horizon": 600, "days_per_year": 250,
                          "resources": _pools(grow), "pmo": _pmo(roles, k, grow),
                          "policies": {r: {"resource_manager": {"allocation": r}} for r in RULES}}
    sc["intake"] = {"arrivals": {"dist": "exponential", "mean": 5.0 / k}, "count": 40 * k,
                    "templates": [_template(rng, i, roles) for i in range(12)]}
    if "explicit" in roles:
        sc["projects"] = [_explicit(rng, e, c, roles) for e in range(6) for c in range(k)]
    if "strategy" in roles:
        sc["strategy"] = {"goals": {g: {"weight": 1 + i} for i, g in enumerate(GOALS)}}
    if "funding" in roles:
        sc["budget"] = {"per_year": 2_500_000 * k, "carry_over": True}
    sc.update(_world(roles))
    return sc


def _pools(grow: int) -> dict[str, Any]:
    pools: dict[str, Any] = {}
    for i in range(POOLS):
        pools[f"p{i}"] = {"headcount": (2 + i % 3) * grow, "day_rate": 500 + 10 * i,
                          **({"fte": 0.6} if i % 2 == 0 else {})}
    for e in range(RIGS):
        pools[f"eq{e}"] = {"kind": "equipment", "units": 2 * grow, "day_rate": 100}
    return pools


def _task(rng: random.Random, name: str, after: list[str] | None) -> dict[str, Any]:
    p, r = rng.randrange(POOLS), rng.random()
    task: dict[str, Any] = {"name": name, "effort": {"dist": "pert", "low": 2, "mode": 4, "high": 9}}
    if r < 0.2:
        task["needs"] = {f"p{p}": 1, f"p{(p + 1) % POOLS}": 1, f"eq{rng.randrange(RIGS)}": 1}
    elif r < 0.35:
        task["needs"] = {f"p{p}": 1, f"p{(p + 3) % POOLS}": 1}
    elif r < 0.4:
        task = {"name": name, "duration": {"dist": "triangular", "low": 2, "mode": 4, "high": 8}}
    else:
        task.update(skill=f"p{p}", people=1 + (rng.random() < 0.3))
    return {**task, "after": after} if after else task


def _network(rng: random.Random, shape: str, size: int) -> list[dict[str, Any]]:
    if shape == "chain":
        return [_task(rng, f"t{i}", [f"t{i - 1}"] if i else None) for i in range(size)]
    if shape == "fan":
        fan = [f"f{i}" for i in range(size - 2)]
        return [_task(rng, "root", None), *(_task(rng, f, ["root"]) for f in fan), _task(rng, "join", fan)]
    tasks = []  # layers of four, each task after one or two of the layer before
    for i in range(size):
        before = [f"t{j}" for j in range(i // 4 * 4 - 4, i // 4 * 4)] if i >= 4 else []
        tasks.append(_task(rng, f"t{i}", rng.sample(before, 1 + rng.randrange(2)) if before else None))
    return tasks


def _template(rng: random.Random, i: int, roles: set[str]) -> dict[str, Any]:
    shape = ("chain", "fan", "mix")[i % 3]
    t: dict[str, Any] = {"name": f"T{i}", "weight": 1 + i % 3, "due": 60 + 10 * (i % 5),
                         "priority": {"dist": "choice", "values": [1, 2, 3, 4]},
                         "value_per_day": {"dist": "lognormal", "mean": 800, "sd": 300},
                         "tasks": _network(rng, shape, {"chain": 25, "fan": 22, "mix": 16}[shape])}
    if "strategy" in roles:
        t["alignment"] = {g: {"dist": "uniform", "low": 0, "high": 1} for g in GOALS[: 1 + i % 4]}
    if "explicit" in roles and i % 4 == 0:
        t["depends_on"] = [f"E{i // 4}-0"]
    return t


def _explicit(rng: random.Random, e: int, c: int, roles: set[str]) -> dict[str, Any]:
    """Copy c of explicit project e; odd ones depend on the even one before (a chain)."""
    p: dict[str, Any] = {"name": f"E{e}-{c}", "arrival": 5 * e + c % 7, "due": 150, "priority": 1 + e % 3,
                         "value_per_day": 1000, "tasks": _network(rng, "mix", 8)}
    if e % 2:
        p["depends_on"] = [f"E{e - 1}-{c}"]
    if "strategy" in roles:
        p["alignment"] = {GOALS[e % 4]: 0.7}
    return p


def _world(roles: set[str]) -> dict[str, Any]:
    world: dict[str, Any] = {}
    if "calendar" in roles:
        world["calendar"] = {"start_date": "2027-01-04", "holidays": ["2027-04-02", "2027-12-24"],
                             "closures": [{"start": 240, "days": 8}]}
    if "risks" in roles:
        impact = {"delay": {"dist": "triangular", "low": 2, "mode": 5, "high": 15},
                  "effort": 0.1, "cost": 5000}
        world["risks"] = [{"name": f"r{i}", "probability": 0.2 + 0.1 * i, "impact": impact,
                           "when": {"dist": "uniform", "low": 0.1, "high": 0.9},
                           **({"applies_to": {"templates": [f"T{i}", f"T{i + 4}"]}} if i % 2 else {})}
                          for i in range(5)]
    if "changes" in roles:
        world["changes"] = {"per_project_per_year": 4, "disruption": {"dist": "exponential", "mean": 2},
                            "effort_added": {"dist": "lognormal", "mean": 0.15, "sd": 0.1}}
    if "workforce" in roles:
        world["workforce"] = {"attrition_per_year": 0.2, "new_hire_productivity": 0.5, "ramp_up_days": 40,
                              "hiring_delay": {"dist": "uniform", "low": 30, "high": 60}}
    return world


def _pmo(roles: set[str], k: int, grow: int) -> dict[str, Any]:
    rm: dict[str, Any] = {"allocation": "fifo"}
    pmo: dict[str, Any] = {"resource_manager": rm}
    if "wip" in roles:
        rm["wip_limit"] = 6 * k
    if "switch" in roles:
        rm["switch_cost_days"] = 0.5
    if "staffing" in roles:
        rm["staffing"] = [{"day": 100, "pool": "p1", "change": 2 * grow},
                          {"day": 300, "pool": "p2", "change": -grow}]
    if "contractors" in roles:
        rm["contractors"] = [{"pool": f"p{i}", "max": 2 * grow, "lead_time": 10, "day_rate": 900,
                              "productivity": 0.9, "trigger_wait": 5, "release_idle": 5} for i in (0, 3, 5)]
    if "change_manager" in roles:
        pmo["change_manager"] = {"assessment_days": 2, "managers": 2 * k, "rework_reduction": 0.2,
                                 "disruption_reduction": 0.3, "reject_fraction": 0.1, "cost_per_year": 50000}
    pmo.update(_governance(roles))
    if "training" in roles:
        course = {"productivity_gain": 0.1, "ramp_days": 20, "retention_gain": 0.2, "repeat_every": 100}
        pmo["training_manager"] = {"gap_driven": {"threshold_days": 15, "programme": "up"}, "programmes": [
            {"name": "up", "skill": "p1", "trainees": 0.3, "start": 40, "duration_days": 5,
             "cost_per_trainee": 3000, **course},
            {"name": "cross", "skill": "p4", "trainees": 0.5, "start": 30, "duration_days": 8,
             "cost_per_trainee": 3000, "cross_skill": "p6"}]}
    if "innovation" in roles:
        pmo["innovation_manager"] = {"time_fraction": 0.05, "ideas_per_year": 6, "success_probability": 0.4,
                                     "effort_reduction": 0.05, "cost_per_year": 20000}
    if "technology" in roles:
        pmo["technology_manager"] = {"adoptions": [{"name": "tool", "day": 80, "skills": ["p0", "p2"],
                                                    "cost": 50000, "productivity_gain": 0.1, "dip": 0.2,
                                                    "dip_days": 30}]}
    return pmo


def _governance(roles: set[str]) -> dict[str, Any]:
    gov: dict[str, Any] = {}
    if "gate" in roles:
        gov["stage_gate"] = {"at_progress": 0.5, "cancel_if_overrun": 1.3}
    if "funding" in roles:
        gov["funding"] = {"rule": "score_per_cost", "review_every": 30 if "batch" in roles else 0,
                          "min_score": 0.1, "max_wait": 150}
        gov["risk_mitigation"] = {"r1": {"cost": 1000, "probability_reduction": 0.5, "impact_reduction": 0.3}}
    return {"governance": gov} if gov else {}
