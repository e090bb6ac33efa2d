"""Strategy, funding, dependencies and risks: exact scores and goals on a tiny model, and the
invariants of every replication over Hypothesis-generated portfolio boards.

The boards are the engine properties' scenarios (:func:`strategies.scenarios`) with goals and
alignments, a budget (carried over or not, a cut or not), dependencies between explicit
projects, a risk register, and per policy a funding rule and mitigation. Whatever they are:
every project is in one consistent state, dependencies are respected, the costs add up, and
the board never commits more than it has. Run more examples with ``PMO_SIM_FULL=1``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, make_scenario, project, scenarios, task

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.rules.funding import FUNDING_RULES
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import CANCEL_REASONS, COST_KPIS, KPI_COLUMNS, PROJECT_STATUSES

SETTINGS = settings(max_examples=300 if FULL else 40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-9


def nan(x: float) -> bool:
    return x != x


def rows(cols: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]


# --------------------------------------------------------------------------- exact strategy


def test_score_strategic_value_and_goals_on_a_tiny_portfolio() -> None:
    # Weights 3 and 1 normalise to 0.75 and 0.25. A (align growth 0.8): score 0.6, done day
    # 10, value 10 x 90 = 900. B (growth 0.2, trust 1.0): score 0.4, done day 15 (after A on the
    # one developer), value 20 x 85 = 1700. C (trust 0.5) never finishes (too long): value 0.
    sc = make_scenario([project("A", task("a", 10), value_per_day=10, alignment={"growth": 0.8}),
                        project("B", task("b", 5), value_per_day=20,
                                alignment={"growth": 0.2, "trust": 1.0}),
                        project("C", task("c", 500), value_per_day=5, alignment={"trust": 0.5})],
                       horizon=100, discount_rate=0,
                       strategy={"goals": {"growth": {"weight": 3}, "trust": {"weight": 1}}})
    rec = run_replication(sc, 0, 0)[0]
    assert rec.projects["score"] == pytest.approx([0.6, 0.4, 0.125])
    assert rec.kpis["strategic_value"] == pytest.approx(0.6 * 900 + 0.4 * 1700)
    assert rec.kpis["value_delivered"] == 2600
    goals = rec.extra["goals"]
    assert goals["goal"] == ["growth", "trust"] and goals["weight"] == [0.75, 0.25]
    assert goals["projects_completed"] == [2, 1]  # C is aligned with trust but not completed
    assert goals["value_delivered"] == pytest.approx([0.8 * 900 + 0.2 * 1700, 1700])


def test_without_a_strategy_there_is_no_goals_table_and_no_strategic_value() -> None:
    rec = run_replication(make_scenario([project("A", task("a", 1), value_per_day=5)]), 0, 0)[0]
    assert "goals" not in rec.extra and rec.kpis["strategic_value"] == 0
    assert rec.projects["score"] == [0.0]


# --------------------------------------------------------------------------- boards


def _funding(draw: st.DrawFn) -> dict[str, Any]:
    return {"rule": draw(st.sampled_from(sorted(FUNDING_RULES))),
            "review_every": draw(st.sampled_from([0.0, 0.0, 10.0, 45.0])),
            "min_score": draw(st.sampled_from([0.0, 0.0, 0.3])),
            "max_wait": draw(st.sampled_from([None, 15.0, 120.0]))}


@st.composite
def boards(draw: st.DrawFn) -> Scenario:
    data = draw(scenarios(max_policies=2)).model_dump(mode="json", by_alias=True)
    data["strategy"] = {"goals": {"growth": {"weight": draw(st.sampled_from([1.0, 3.0]))},
                                  "trust": {"weight": 1.0}}}
    data["days_per_year"] = draw(st.sampled_from([50.0, 250.0]))
    amounts = st.sampled_from([0.0, 300.0, 3000.0, 30000.0])
    data["budget"] = {"per_year": draw(amounts | st.lists(amounts, min_size=1, max_size=3)),
                      "carry_over": draw(st.booleans())}
    level = st.sampled_from([0.0, 0.3, 1.0])
    names = [p["name"] for p in data["projects"]]
    for i, p in enumerate(data["projects"]):
        p["alignment"] = {"growth": draw(level), "trust": draw(level)}
        if i and draw(st.booleans()):
            p["depends_on"] = draw(st.lists(st.sampled_from(names[:i]), min_size=1, max_size=2, unique=True))
        if draw(st.booleans()):
            p["cost_estimate"] = draw(st.sampled_from([0.0, 500.0, 5000.0]))
    for t in data["intake"]["templates"] if data.get("intake") else []:
        t["alignment"] = {"growth": {"dist": "uniform", "low": 0, "high": 1}}
        if names and draw(st.booleans()):
            t["depends_on"] = [names[0]]
    risky = draw(st.booleans())
    if risky:
        data["risks"] = [{"name": "slip", "probability": draw(st.sampled_from([0.3, 1.0])),
                          "when": draw(st.sampled_from([0.0, 0.5, {"dist": "uniform", "low": 0, "high": 1}])),
                          "impact": {"delay": draw(st.sampled_from([0.0, 3.0])),
                                     "effort": draw(st.sampled_from([0.0, 0.3])),
                                     "cost": draw(st.sampled_from([0.0, 700.0]))}}]
    for policy in data["policies"].values():
        governance = policy.get("governance") or {}
        if draw(st.booleans()):
            governance["funding"] = _funding(draw)
        if risky and draw(st.booleans()):
            governance["risk_mitigation"] = {"slip": {"cost": 50.0, "probability_reduction": 0.5,
                                                      "impact_reduction": 0.5}}
        policy["governance"] = governance or None
    return Scenario.model_validate(data)


params = given(sc=boards(), seed=st.integers(0, 10_000))


def _records(sc: Scenario, seed: int) -> list[Any]:
    return run_replication(sc, 0, seed)


def _depends(sc: Scenario) -> dict[str, list[str]]:
    out = {p.name: list(p.depends_on) for p in sc.projects}
    for t in sc.intake.templates if sc.intake else []:
        out[t.name] = list(t.depends_on)
    return out


@SETTINGS
@params
def test_statuses_are_consistent_and_dependencies_respected(sc: Scenario, seed: int) -> None:
    depends = _depends(sc)
    for rec, policy in zip(_records(sc, seed), sc.policies.values(), strict=True):
        projects = rows(rec.projects)
        by_name = {p["project"]: p for p in projects}
        funding = policy.governance is not None and policy.governance.funding is not None
        for p in projects:
            status, reason = p["status"], p["cancel_reason"]
            assert status in PROJECT_STATUSES and reason in CANCEL_REASONS
            assert reason == "" or status == "cancelled"
            if status in ("proposal", "rejected"):
                assert nan(p["funded"]) and nan(p["admitted"]) and nan(p["start"])
                assert nan(p["finish"]) == (status == "proposal")
            if not funding:
                assert p["funded"] == p["arrival"]
            if not nan(p["funded"]):
                assert p["arrival"] <= p["funded"] <= sc.horizon
            if not nan(p["admitted"]):
                assert not nan(p["funded"]) and p["funded"] <= p["admitted"]
            deps = [by_name[d] for d in depends.get(p["template"] or p["project"], []) if d in by_name]
            if not nan(p["admitted"]):  # every dependency completed before it was admitted
                assert all(d["status"] == "completed" and d["finish"] <= p["admitted"] for d in deps)
            if reason == "dependency":
                assert any(d["status"] in ("cancelled", "rejected") and d["finish"] <= p["finish"]
                           for d in deps)
        k = rec.kpis
        counted = [p for p in projects if p["counted"]]
        proposals = sum(p["status"] == "proposal" for p in counted)
        assert k["projects_arrived"] == (k["projects_completed"] + k["projects_cancelled"]
                                         + k["projects_rejected"] + k["projects_open"] + proposals)
        assert k["projects_funded"] == sum(not nan(p["funded"]) for p in counted)


@SETTINGS
@params
def test_costs_add_up(sc: Scenario, seed: int) -> None:
    for rec in _records(sc, seed):
        k = rec.kpis
        assert tuple(k) == KPI_COLUMNS
        assert k["total_cost"] == pytest.approx(sum(k[c] for c in COST_KPIS), rel=1e-12, abs=1e-9)
        assert all(k[c] >= 0 for c in COST_KPIS)
        projects = [p for p in rows(rec.projects) if p["counted"]]
        assert k["budget_committed"] == pytest.approx(
            sum(p["cost_estimate"] for p in projects if not nan(p["funded"])), rel=1e-12, abs=1e-9)
        assert k["risk_events"] == sum(p["risk_events"] for p in projects)
        assert k["strategic_value"] == pytest.approx(
            sum(p["score"] * p["value_delivered"] for p in projects), rel=1e-9, abs=1e-9)
        risks = rows(rec.extra.get("risks", {"day": [], "cost": [], "occurred": []}))
        struck = [r for r in risks if r["occurred"]]
        assert k["risk_cost"] == pytest.approx(sum(r["cost"] for r in struck if r["day"] >= sc.warmup),
                                               rel=1e-12, abs=1e-9)
        assert all(nan(r["day"]) and r["cost"] == r["delay"] == r["effort_added"] == 0
                   for r in risks if not r["occurred"])
        if not sc.risks:
            assert k["risk_cost"] == k["mitigation_cost"] == k["risk_events"] == 0


@SETTINGS
@params
def test_funds_are_never_overspent(sc: Scenario, seed: int) -> None:
    budget = sc.budget
    assert budget is not None
    dpy = sc.days_per_year
    for rec, policy in zip(_records(sc, seed), sc.policies.values(), strict=True):
        if policy.governance is None or policy.governance.funding is None:
            continue
        funded = sorted((p["funded"], p["cost_estimate"]) for p in rows(rec.projects) if not nan(p["funded"]))
        years = int(math.ceil(sc.horizon / dpy))
        if budget.carry_over:  # by any day, commitments within what has been released
            for day, _ in funded:
                spent = sum(c for d, c in funded if d <= day)
                released = sum(budget.release(y) for y in range(years) if y * dpy <= day)
                assert spent <= released * (1 + EPS) + EPS
        else:  # each budget year within its own release
            for y in range(years):
                spent = sum(c for d, c in funded if y * dpy <= d < (y + 1) * dpy)
                assert spent <= budget.release(y) * (1 + EPS) + EPS


@SETTINGS
@params
def test_a_kept_ranking_funds_as_sorting_at_every_review(sc: Scenario, seed: int) -> None:
    # Under a funding rule whose key ignores `now` the board keeps the waiting proposals
    # ranked as they come and go; sorting them afresh at each review must fund, reject and
    # expire the same proposals at the same instants, with the same traces after.
    from pmo_sim.rules.funding import STEADY_FUNDING_RULES

    kept = run_replication(sc, 0, seed, trace=True)
    saved = set(STEADY_FUNDING_RULES)
    STEADY_FUNDING_RULES.clear()
    try:
        fresh = run_replication(sc, 0, seed, trace=True)
    finally:
        STEADY_FUNDING_RULES.update(saved)
    for a, b in zip(kept, fresh, strict=True):
        assert _canon(a.projects) == _canon(b.projects)
        assert _canon(a.tasks) == _canon(b.tasks)
        assert _canon({k: [v] for k, v in a.kpis.items()}) == _canon({k: [v] for k, v in b.kpis.items()})


def _canon(cols: Any) -> dict[str, list[Any]]:
    """Columns with NaN made comparable."""
    return {k: ["nan" if isinstance(x, float) and nan(x) else x for x in v] for k, v in cols.items()}


def test_the_builtin_funding_rules_that_ignore_now_are_kept_ranked() -> None:
    from pmo_sim.rules.funding import STEADY_FUNDING_RULES

    assert set(FUNDING_RULES) - {"npv"} == STEADY_FUNDING_RULES  # npv discounts to `now`
