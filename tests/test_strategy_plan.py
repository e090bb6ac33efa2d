"""The Plan's strategy, funding and risk inputs (SPEC 10.1-10.3), before any engine uses them.

Exact values on tiny models (scores, estimates, dependency indices), common random numbers
for the new draws (the same for every policy, on repeated sampling, and unmoved by unrelated
risks or projects), statistics of the pre-drawn strikes against the register's rates, and
the guarantee that matters most: the new sections consume no existing stream, so every
bundled scenario's existing draws are unchanged.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from strategies import make_scenario, project, task

from pmo_sim.sampling import Plan, ProjectPlan, Sampler
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
TRI = {"dist": "triangular", "low": 2, "mode": 4, "high": 9}
GOALS = {"goals": {"growth": {"weight": 2}, "efficiency": {"weight": 1}, "compliance": {"weight": 1}}}
EXISTING = ("index", "name", "template", "arrival", "due_date", "priority", "value_per_day",
            "completion_value", "budget", "efforts", "change_times", "change_fraction",
            "change_disruption", "change_u")
RISK_FIELDS = ("risk_index", "risk_u", "risk_when", "risk_delay", "risk_effort", "risk_cost")


def by_name(plan: Plan) -> dict[str, ProjectPlan]:
    return {p.name: p for p in plan.projects}


def same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True)) if isinstance(a, np.ndarray) else (
        a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)))


# --------------------------------------------------------------------------- exact values


def test_alignment_follows_goal_order_and_score_is_the_weighted_sum() -> None:
    sc = make_scenario([project("A", task("x", 1), alignment={"compliance": 1, "growth": 0.5}),
                        project("B", task("x", 1), alignment={"growth": 0.25, "efficiency": 0.25}),
                        project("C", task("x", 1))], strategy=GOALS)
    got = by_name(Sampler(sc).plan(0, 0))
    # Weights 2:1:1 normalise to 0.5, 0.25, 0.25; missing goals count 0.
    np.testing.assert_array_equal(got["A"].alignment, [0.5, 0, 1])
    assert got["A"].score == 0.5 * 0.5 + 0.25 * 1
    assert got["B"].score == 0.5 * 0.25 + 0.25 * 0.25 == 0.1875
    np.testing.assert_array_equal(got["C"].alignment, [0, 0, 0])
    assert got["C"].score == 0


def test_cost_estimate_and_planned_duration_from_central_efforts() -> None:
    sc = make_scenario(
        [project("A", task("spec", TRI, skill="ana"), task("build", 20, people=2, after=["spec"]),
                 task("docs", {"dist": "pert", "low": 1, "mode": 3, "high": 5})),
         project("B", task("x", 10), cost_estimate=99_000)],
        resources={"dev": {"headcount": 3, "day_rate": 600, "productivity": 1.25},
                   "ana": {"headcount": 1, "day_rate": 650}})
    got = by_name(Sampler(sc).plan(0, 0))
    # Central effort (the mode for three-point estimates) x the pool's day rate, per task.
    assert got["A"].cost_estimate == 4 * 650 + 20 * 600 + 3 * 600
    # Critical path: spec 4 / (1 x 1.0), then build 20 / (2 x 1.25); docs (3 / 1.25) runs alongside.
    assert got["A"].planned_duration == 4 + 8
    assert got["B"].cost_estimate == 99_000  # given
    assert got["B"].planned_duration == 10 / 1.25


def test_template_estimates_are_shared_by_its_projects() -> None:
    sc = make_scenario(resources={"dev": {"headcount": 2, "day_rate": 500}},
                       intake={"arrivals": 5, "count": 4, "templates": [
                           {"name": "t", "tasks": [task("a", TRI), task("b", 6, after=["a"])]}]})
    plan = Sampler(sc).plan(0, 0)
    assert [(p.cost_estimate, p.planned_duration) for p in plan.projects] == [(5000.0, 10.0)] * 4


def test_dependencies_are_indices_after_the_arrival_sort() -> None:
    sc = make_scenario(
        [project("Z", task("x", 1), arrival=50, depends_on=["A"]),
         project("A", task("x", 1), arrival=10),
         project("B", task("x", 1), arrival=0, depends_on=["Z", "A"]),
         project("Late", task("x", 1), arrival=500),
         project("C", task("x", 1), arrival=5, depends_on=["Late", "A"])],
        horizon=400,
        intake={"arrivals": 100, "count": 2, "templates": [
            {"name": "ext", "depends_on": ["A"], "tasks": [task("y", 1)]}]})
    plan = Sampler(sc).plan(0, 0)
    names = [p.name for p in plan.projects]
    assert names == ["B", "C", "A", "Z", "ext-1", "ext-2"]  # arrival order; Late is past the horizon
    got = by_name(plan)
    assert got["Z"].depends_on == (2,) and got["B"].depends_on == (2, 3)
    assert got["ext-1"].depends_on == got["ext-2"].depends_on == (2,)
    assert got["A"].dependents == (0, 1, 3, 4, 5) and got["Z"].dependents == (0,)
    # C waits for a project that never arrives within the horizon: it can never be admitted.
    assert got["C"].blocked and got["C"].depends_on == (2,)
    assert not any(got[n].blocked for n in ("A", "B", "Z", "ext-1"))


# --------------------------------------------------------------------------- risk draws


def risky(risks: list[dict[str, Any]], policies: dict[str, Any] | None = None,
          extra: tuple[dict[str, Any], ...] = ()) -> Scenario:
    return make_scenario(
        [project("A", task("x", TRI)), project("B", task("x", TRI), arrival=3), *extra],
        horizon=300, risks=risks, policies=policies,
        intake={"arrivals": {"dist": "exponential", "mean": 20}, "count": 8, "templates": [
            {"name": "feature", "tasks": [task("y", TRI)]}, {"name": "fix", "tasks": [task("z", 2)]}]})


SLIP = {"name": "slip", "probability": 0.3, "applies_to": {"projects": ["A"], "templates": ["fix"]},
        "when": {"dist": "uniform", "low": 0.2, "high": 0.8},
        "impact": {"delay": {"dist": "triangular", "low": 5, "mode": 10, "high": 30}, "effort": 0.2,
                   "cost": {"dist": "uniform", "low": 1000, "high": 3000}}}
CHURN = {"name": "churn", "probability": 0.1, "impact": {"delay": {"dist": "exponential", "mean": 7}}}


def risk_draws(plan: Plan) -> dict[str, tuple[np.ndarray, ...]]:
    return {p.name: tuple(getattr(p, f) for f in RISK_FIELDS) for p in plan.projects}


def assert_same_draws(a: dict[str, tuple[np.ndarray, ...]], b: dict[str, tuple[np.ndarray, ...]]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for x, y in zip(a[name], b[name], strict=True):
            np.testing.assert_array_equal(x, y)


def test_risks_apply_to_the_named_projects_and_templates() -> None:
    plan = Sampler(risky([SLIP, CHURN])).plan(4, 1)
    for p in plan.projects:
        expected = ([0] if p.name == "A" or p.template == "fix" else []) + [1]
        assert p.risk_index.tolist() == expected, p.name
        assert len(p.risk_u) == len(p.risk_when) == len(p.risk_cost) == len(expected)
    a = by_name(plan)["A"]
    assert 0.2 <= a.risk_when[0] <= 0.8 and 5 <= a.risk_delay[0] <= 30 and a.risk_effort[0] == 0.2
    assert 1000 <= a.risk_cost[0] <= 3000
    assert a.risk_effort[1] == a.risk_cost[1] == 0  # churn has only a delay


def test_risk_draws_are_the_same_for_every_policy_and_every_sampling() -> None:
    plain = risky([SLIP, CHURN])
    board = risky([SLIP, CHURN], policies={
        "open": {},
        "careful": {"governance": {"funding": {"rule": "npv"},
                                   "risk_mitigation": {"slip": {"probability_reduction": 0.9}}}}})
    reference = risk_draws(Sampler(plain).plan(4, 1))
    assert_same_draws(reference, risk_draws(Sampler(board).plan(4, 1)))
    sampler = Sampler(plain)
    sampler.plan(4, 0)
    assert_same_draws(reference, risk_draws(sampler.plan(4, 1)))  # no state carried between plans
    other = risk_draws(Sampler(plain).plan(4, 2))
    assert not np.array_equal(other["A"][1], reference["A"][1])  # replications differ


def test_a_projects_risk_draws_ignore_unrelated_risks_and_projects() -> None:
    reference = risk_draws(Sampler(risky([SLIP, CHURN])).plan(4, 1))
    # Another risk at the end of the register, another explicit project at the end of the file.
    more = Sampler(risky([SLIP, CHURN, {"name": "audit", "probability": 0.5}],
                         extra=(project("C", task("x", 1), arrival=7),))).plan(4, 1)
    for name, draws in risk_draws(more).items():
        if name == "C":
            continue
        keep = draws[0] < 2  # the rows of slip and churn
        for x, y in zip(reference[name], (d[keep] for d in draws), strict=True):
            np.testing.assert_array_equal(x, y)


def test_strikes_occur_at_the_register_rate_and_mitigation_strikes_a_subset() -> None:
    risk = {"name": "slip", "probability": 0.3, "when": {"dist": "uniform", "low": 0.2, "high": 0.8},
            "impact": {"delay": {"dist": "triangular", "low": 5, "mode": 10, "high": 30}}}
    other = {"name": "other", "probability": 0.5}
    sc = make_scenario(horizon=5000, risks=[risk, other], intake={
        "arrivals": 1, "count": 4000, "templates": [{"name": "t", "tasks": [task("x", 1)]}]})
    plan = Sampler(sc).plan(1, 0)
    u = np.array([p.risk_u[0] for p in plan.projects])
    n = len(u)

    def close(share: float, p: float) -> bool:
        return abs(share - p) < 4 * math.sqrt(p * (1 - p) / n)

    unmitigated, mitigated = u < 0.3, u < 0.3 * (1 - 0.5)
    assert close(unmitigated.mean(), 0.3) and close(mitigated.mean(), 0.15)
    assert not (mitigated & ~unmitigated).any()  # a subset of the same projects
    when = np.array([p.risk_when[0] for p in plan.projects])
    delay = np.array([p.risk_delay[0] for p in plan.projects])
    assert abs(when.mean() - 0.5) < 4 * 0.6 / math.sqrt(12 * n)
    assert abs(delay.mean() - 15) < 4 * delay.std() / math.sqrt(n)
    # Independent streams: the two risks' strikes are uncorrelated.
    u_other = np.array([p.risk_u[1] for p in plan.projects])
    assert abs(np.corrcoef(u, u_other)[0, 1]) < 4 / math.sqrt(n)


# --------------------------------------------------------------------------- template alignment


def test_template_alignment_draws() -> None:
    sc = make_scenario(strategy=GOALS, horizon=5000, intake={"arrivals": 1, "count": 3000, "templates": [
        {"name": "grow", "alignment": {"growth": {"dist": "pert", "low": 0.2, "mode": 0.5, "high": 1}},
         "tasks": [task("x", 1)]},
        {"name": "comply", "alignment": {"compliance": 1}, "tasks": [task("x", 1)]}]})
    plan = Sampler(sc).plan(3, 0)
    grow = np.array([p.alignment for p in plan.projects if p.template == "grow"])
    comply = np.array([p.alignment for p in plan.projects if p.template == "comply"])
    assert len(grow) > 1000 and len(comply) > 1000
    assert ((grow[:, 0] >= 0.2) & (grow[:, 0] <= 1)).all() and (grow[:, 1:] == 0).all()
    mean = (0.2 + 4 * 0.5 + 1) / 6
    assert abs(grow[:, 0].mean() - mean) < 4 * grow[:, 0].std() / math.sqrt(len(grow))
    assert (comply == [0, 0, 1]).all()
    for p in plan.projects:
        assert p.score == pytest.approx(0.5 * p.alignment[0] + 0.25 * p.alignment[1] + 0.25 * p.alignment[2])
    with_policies = make_scenario(strategy=GOALS, horizon=5000, intake=sc.intake.model_dump(by_alias=True),
                                  policies={"a": {}, "b": {"resource_manager": {"allocation": "wsjf"}}})
    again = Sampler(with_policies).plan(3, 0)
    np.testing.assert_array_equal([p.alignment for p in plan.projects], [p.alignment for p in again.projects])


# --------------------------------------------------------------------------- nothing else moves


def with_sections(sc: Scenario) -> Scenario:
    """The scenario plus strategy, budget, alignment, dependencies and risks (as the loader would)."""
    data = sc.model_dump(mode="json", by_alias=True)
    data["strategy"] = {"goals": {"g1": {"weight": 1}, "g2": {"weight": 3}}}
    data["budget"] = {"per_year": [1e6, 5e5]}
    names = [p["name"] for p in data["projects"]]
    for i, p in enumerate(data["projects"]):
        p["alignment"] = {"g1": 0.5}
        p["depends_on"] = names[:i][-1:]
    templates = data["intake"]["templates"] if data.get("intake") else []
    for t in templates:
        t["alignment"] = {"g2": {"dist": "uniform", "low": 0, "high": 1}}
    some = {"name": "some", "probability": 0.2, "impact": {"delay": {"dist": "exponential", "mean": 3}},
            "applies_to": {"templates": [t["name"] for t in templates[:1]], "projects": names[:1]}}
    data["risks"] = [{"name": "everywhere", "probability": 0.4}, some]
    if not data["risks"][1]["applies_to"]["templates"] and not names:
        data["risks"].pop()
    return Scenario.model_validate(data)


def without_sections(sc: Scenario) -> Scenario:
    data = sc.model_dump(mode="json", by_alias=True)
    for key in ("strategy", "budget", "risks"):
        data.pop(key)
    for spec in data["projects"] + (data["intake"]["templates"] if data.get("intake") else []):
        for key in ("alignment", "depends_on", "cost_estimate"):
            spec.pop(key)
    for policy in [data["pmo"], *data["policies"].values()]:
        if policy.get("governance"):
            policy["governance"].pop("funding")
            policy["governance"].pop("risk_mitigation")
    return Scenario.model_validate(data)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_new_sections_leave_every_existing_draw_unchanged(path: Path) -> None:
    sc = load_scenario(path)
    plain = without_sections(sc) if sc.strategy is not None else sc
    full = sc if sc.strategy is not None else with_sections(sc)
    for r in range(2):
        off, on = Sampler(plain).plan(3, r), Sampler(full).plan(3, r)
        assert len(off.projects) == len(on.projects) > 0
        for p, q in zip(off.projects, on.projects, strict=True):
            for name in EXISTING:
                assert same(getattr(p, name), getattr(q, name)), (path.stem, p.name, name)
            # Without the sections, the new fields are neutral; the estimates need no draw.
            assert p.alignment.size == 0 and p.score == 0 and p.risk_index.size == 0
            assert p.depends_on == p.dependents == () and not p.blocked
            assert p.planned_duration > 0 and p.cost_estimate >= 0
        assert any(q.risk_index.size for q in on.projects)
        for a, b in zip(off.leave_budget + off.hiring_delay, on.leave_budget + on.hiring_delay, strict=True):
            np.testing.assert_array_equal(a, b)
