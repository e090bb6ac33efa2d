"""Scenario builders and Hypothesis strategies for the engine tests.

The plain builders (:func:`task`, :func:`project`, :func:`make_scenario`, :func:`task_log`)
keep hand-written test models short; the strategies (:func:`scenarios`) generate small but
varied valid scenarios for the property tests. Everything goes through
``Scenario.model_validate`` with the policies already merged over ``pmo`` (what the loader
would produce), so these tests depend on the engine and the models only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hypothesis import strategies as st

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Plan, Sampler
from pmo_sim.scenario.models import Scenario

FULL = os.environ.get("PMO_SIM_FULL") == "1"
RULES = ("fifo", "priority", "edd", "srpt", "wsjf", "min_slack")

# --------------------------------------------------------------------------- plain builders


def task(name: str, effort: Any, *, skill: str = "dev", people: int = 1,
         after: Iterable[str] = ()) -> dict[str, Any]:
    """A task mapping as in the YAML (``effort`` a number or a ``{dist: ...}`` mapping)."""
    out: dict[str, Any] = {"name": name, "skill": skill, "effort": effort, "people": people}
    if after:
        out["after"] = list(after)
    return out


def project(name: str, *tasks: dict[str, Any], arrival: float = 0.0, **attrs: Any) -> dict[str, Any]:
    """An explicit project mapping; ``attrs`` are due, priority, value_per_day, ..."""
    return {"name": name, "arrival": arrival, **attrs, "tasks": list(tasks)}


def merge_policy(pmo: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge one policy's role sections over ``pmo`` (SPEC 5), as the loader does."""
    out = {role: dict(section) if isinstance(section, Mapping) else section
           for role, section in pmo.items()}
    for role, section in over.items():
        if isinstance(section, Mapping) and isinstance(out.get(role), Mapping):
            out[role] = {**out[role], **section}
        else:
            out[role] = section
    return out


def with_allocation(sc: Scenario, rule: str, ideas: bool = False) -> Scenario:
    """``sc`` with every policy (and ``pmo``) allocating by ``rule``; with ``ideas``, an
    innovation manager whose ideas cut the effort of tasks not started (efforts change while
    projects run)."""
    data = sc.model_dump(mode="json", exclude_none=True)
    for section in [data["pmo"], *(data.get("policies") or {}).values()]:
        section.setdefault("resource_manager", {})["allocation"] = rule
        if ideas:
            section["innovation_manager"] = {"time_fraction": 0.05, "ideas_per_year": 12,
                                             "success_probability": 0.8, "effort_reduction": 0.1}
    return Scenario.model_validate(data)


def make_scenario(projects: Iterable[dict[str, Any]] = (), *,
                  resources: Mapping[str, int | Mapping[str, Any]] | None = None,
                  pmo: Mapping[str, Any] | None = None,
                  policies: Mapping[str, Mapping[str, Any]] | None = None,
                  horizon: float = 1000.0, **top: Any) -> Scenario:
    """A validated scenario; a pool given as an int is ``{headcount: n}`` (default: 1 dev)."""
    resources = {"dev": 1} if resources is None else resources
    pmo = dict(pmo or {})
    data: dict[str, Any] = {
        "name": top.pop("name", "tiny"),
        "horizon": horizon,
        "resources": {k: {"headcount": v} if isinstance(v, int) else dict(v)
                      for k, v in resources.items()},
        "projects": list(projects),
        "pmo": pmo,
        **top,
    }
    if policies:
        data["policies"] = {name: merge_policy(pmo, over) for name, over in policies.items()}
    return Scenario.model_validate(data)


Row = tuple[str, str, float, float, str]


def reference_burst(count: int, policies: dict[str, Any]) -> Scenario:
    """The benchmarks' reference portfolio with ``count`` projects arriving at 8 times its
    rate, under ``policies``: long queues and backlogs, to cross a queue's thresholds."""
    from pathlib import Path

    from pmo_sim.scenario.loader import load_scenario

    base = load_scenario(Path(__file__).resolve().parents[1] / "benchmarks" / "reference.yaml")
    assert base.intake is not None
    data = base.model_dump(mode="json", exclude_none=True)
    data["intake"]["count"] = count
    data["intake"]["arrivals"] = {"dist": "exponential", "mean": base.intake.arrivals.mean() / 8}
    data["policies"] = policies
    return Scenario.model_validate(data)


def task_log(sc: Scenario, policy: str | None = None, seed: int = 0, replication: int = 0,
             ndigits: int = 9) -> list[Row]:
    """The task trace as ``(project, task, start, finish, crew)`` rows, in start order.

    Times are rounded to ``ndigits`` so that hand-computed fractions compare exactly.
    """
    rec = run_replication(sc, replication, seed, [policy or sc.policy_names[0]], trace=True)[0]
    t = rec.tasks
    assert t is not None
    rows = zip(t["project"], t["task"], t["start"], t["finish"], t["crew"], strict=True)
    return [(p, n, _round(s, ndigits), _round(f, ndigits), c) for p, n, s, f, c in rows]


def _round(x: float, ndigits: int) -> float:
    return x if math.isnan(x) else round(x, ndigits)


def first_seed(sc: Scenario, wanted: Callable[[Plan], bool], tries: int = 2000) -> int:
    """The first seed whose replication-0 Plan satisfies ``wanted`` (plans are cheap to draw).

    Used to pin random event times (change requests, leavers) without hard-coding the
    sampler's output: the test then derives the exact schedule from the Plan.
    """
    sampler = Sampler(sc)
    for seed in range(tries):
        if wanted(sampler.plan(seed, 0)):
            return seed
    raise AssertionError(f"no seed in range({tries}) gives the wanted plan")


# --------------------------------------------------------------------------- strategies

POOLS = ("dev", "qa", "ops")
_small = st.floats(0.5, 20.0, allow_nan=False, allow_infinity=False)


def effort_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        _small,
        _small.map(lambda lo: {"dist": "triangular", "low": lo, "mode": lo * 1.5, "high": lo * 3}),
        _small.map(lambda m: {"dist": "exponential", "mean": m}),
        _small.map(lambda m: {"dist": "lognormal", "mean": m, "sd": m / 2}),
    )


@st.composite
def task_lists(draw: st.DrawFn, headcount: Mapping[str, int], max_tasks: int = 5) -> list[dict]:
    """Tasks of one project: a random DAG (edges only from earlier tasks), crews ≤ headcount."""
    n = draw(st.integers(1, max_tasks))
    tasks = []
    for i in range(n):
        skill = draw(st.sampled_from(sorted(headcount)))
        after = draw(st.lists(st.sampled_from(range(i)), unique=True, max_size=2)) if i else []
        tasks.append(task(f"t{i}", draw(effort_values()), skill=skill,
                          people=draw(st.integers(1, min(3, headcount[skill]))),
                          after=[f"t{j}" for j in sorted(after)]))
    return tasks


@st.composite
def resource_managers(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "allocation": draw(st.sampled_from(RULES)),
        "wip_limit": draw(st.none() | st.integers(1, 4)),
        "backfill": draw(st.booleans()),
        "switch_cost_days": draw(st.sampled_from([0.0, 0.0, 0.5, 2.0])),
    }


@st.composite
def scenarios(draw: st.DrawFn, max_policies: int = 2) -> Scenario:
    """A small valid scenario exercising every PMO role, changes and the workforce.

    Not generated: cross-skilling (pools' busy time is the home pool's, which the trace-based
    properties cannot see) and innovation ideas (they cut effort already planned).
    """
    pools = POOLS[:draw(st.integers(1, 3))]
    headcount = {p: draw(st.integers(1, 4)) for p in pools}
    horizon = draw(st.sampled_from([60.0, 150.0, 400.0]))
    projects = []
    for i in range(draw(st.integers(0, 6))):
        projects.append(project(
            f"P{i}", *draw(task_lists(headcount)),
            arrival=draw(st.floats(0, horizon * 0.8).map(lambda x: round(x, 2))),
            priority=draw(st.integers(1, 5)),
            due=draw(st.none() | st.floats(5, 200)),
            value_per_day=draw(st.floats(0, 1000)),
        ))
    top: dict[str, Any] = {
        "warmup": draw(st.sampled_from([0.0, 0.0, horizon / 4])),
        "discount_rate": draw(st.sampled_from([0.0, 0.08])),
    }
    if not projects or draw(st.booleans()):
        top["intake"] = {
            "arrivals": {"dist": "exponential", "mean": draw(st.sampled_from([5.0, 15.0, 40.0]))},
            "count": draw(st.integers(1, 12)),
            "templates": [
                {"name": f"tpl{k}", "weight": draw(st.floats(0.5, 3)),
                 "priority": {"dist": "choice", "values": [1, 2, 3]},
                 "due": draw(st.none() | st.just({"dist": "uniform", "low": 20, "high": 90})),
                 "value_per_day": {"dist": "uniform", "low": 0, "high": 500},
                 "tasks": draw(task_lists(headcount, max_tasks=4))}
                for k in range(draw(st.integers(1, 2)))
            ],
        }
    if draw(st.booleans()):
        top["changes"] = {
            "per_project_per_year": draw(st.sampled_from([2.0, 10.0, 40.0])),
            "effort_added": draw(st.sampled_from([0.0, 0.2, {"dist": "uniform", "low": 0, "high": 0.5}])),
            "disruption": draw(st.sampled_from([0.0, 1.5, {"dist": "exponential", "mean": 2}])),
        }
    if draw(st.booleans()):
        top["workforce"] = {
            "attrition_per_year": draw(st.sampled_from([0.0, 0.5, 3.0])),
            "hiring_delay": draw(st.sampled_from([0.0, 10.0, {"dist": "uniform", "low": 5, "high": 30}])),
            "new_hire_productivity": draw(st.sampled_from([0.5, 1.0])),
            "ramp_up_days": draw(st.sampled_from([0.0, 20.0])),
        }
    pmo: dict[str, Any] = {"resource_manager": draw(resource_managers())}
    if draw(st.booleans()):
        pmo["change_manager"] = {
            "assessment_days": draw(st.sampled_from([0.0, 3.0])),
            "managers": draw(st.none() | st.integers(1, 2)),
            "rework_reduction": draw(st.sampled_from([0.0, 0.5])),
            "disruption_reduction": draw(st.sampled_from([0.0, 0.5])),
            "reject_fraction": draw(st.sampled_from([0.0, 0.3, 1.0])),
            "cost_per_year": draw(st.sampled_from([0.0, 50_000.0])),
        }
    first_pool = pools[0]
    if draw(st.booleans()):
        pmo["training_manager"] = {"programmes": [{
            "name": "course", "skill": first_pool,
            "trainees": draw(st.sampled_from([1, 0.5])),
            "start": draw(st.sampled_from([0.0, horizon / 3])),
            "duration_days": draw(st.sampled_from([0.0, 5.0, 20.0])),
            "cost_per_trainee": 1000.0,
            "productivity_gain": draw(st.sampled_from([0.0, 0.2])),
            "ramp_days": draw(st.sampled_from([0.0, 15.0])),
            "retention_gain": draw(st.sampled_from([0.0, 0.5])),
            "repeat_every": draw(st.none() | st.just(horizon / 4)),
        }]}
    if draw(st.booleans()):
        pmo["technology_manager"] = {"adoptions": [{
            "name": "tool", "day": draw(st.sampled_from([0.0, horizon / 2])), "cost": 5000.0,
            "skills": draw(st.sampled_from([[], [first_pool]])),
            "productivity_gain": draw(st.sampled_from([0.0, 0.1])),
            "dip": draw(st.sampled_from([0.0, 0.3])), "dip_days": draw(st.sampled_from([0.0, 10.0]))}]}
    if draw(st.booleans()):
        pmo["governance"] = {
            "stage_gate": draw(st.none() | st.just({"at_progress": 0.5, "cancel_if_overrun": 1.2})),
            "estimate_spread_reduction": draw(st.sampled_from([0.0, 0.5])),
            "cost_per_year": 10_000.0}
    if draw(st.booleans()):
        # Time for improvement only: successful ideas would cut planned effort after the fact.
        pmo["innovation_manager"] = {"time_fraction": draw(st.sampled_from([0.0, 0.1])),
                                     "cost_per_year": 5_000.0}
    policies = {f"pol{k}": {"resource_manager": draw(resource_managers())}
                for k in range(draw(st.integers(1, max_policies)))}
    return make_scenario(projects, resources={p: {"headcount": n, "day_rate": 100.0 * (i + 1)}
                                              for i, (p, n) in enumerate(headcount.items())},
                         pmo=pmo, policies=policies, horizon=horizon, **top)
