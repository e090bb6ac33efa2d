"""Strategy, budget, funding, risks and dependencies in the scenario language (SPEC 10.1-10.3).

One file per bad-input class lives in ``tests/bad_inputs``; this module covers what those
cannot: parsed values, overrides and round trips, problems inherited by policies, the
dependency-cycle search on long chains, and the bundled ``scenarios/strategy.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_sim.errors import ScenarioError
from pmo_sim.scenario.checks import semantic_problems
from pmo_sim.scenario.checks_strategy import _cycles
from pmo_sim.scenario.dists import Fixed, Uniform
from pmo_sim.scenario.loader import dump_scenario, load_scenario, load_scenario_text
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.schema import scenario_json_schema

STRATEGY = Path(__file__).resolve().parents[1] / "scenarios" / "strategy.yaml"

BOARD = """\
name: board
horizon: 500
resources:
  dev: {headcount: 3, day_rate: 500}
strategy:
  goals:
    growth: {weight: 3}
    compliance: {weight: 1}
budget:
  per_year: [400000, 400000, 250000]
projects:
  - name: Core
    alignment: {growth: 0.5}
    cost_estimate: 120000
    tasks:
      - {name: build, skill: dev, effort: 100}
  - name: Add-on
    depends_on: [Core]
    tasks:
      - {name: build, skill: dev, effort: 20}
risks:
  - name: vendor slip
    applies_to: {projects: [Core]}
    probability: 0.3
    impact: {delay: 10}
  - {name: churn, probability: 0.1}
pmo:
  governance:
    risk_mitigation:
      vendor slip: {cost: 1000, probability_reduction: 0.5}
policies:
  open: {}
  strict:
    governance:
      funding: {rule: score_per_cost, review_every: 60, min_score: 0.2, max_wait: 120}
"""


def problems(text: str, **kwargs: Any) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", **kwargs)
    return [str(p) for p in info.value.problems]


def test_sections_parse_with_their_defaults() -> None:
    sc = load_scenario_text(BOARD)
    assert sc.strategy is not None and sc.budget is not None
    assert sc.strategy.weights() == [0.75, 0.25]
    assert sc.budget.per_year == [400000, 400000, 250000] and sc.budget.carry_over
    assert [sc.budget.release(y) for y in range(5)] == [400000, 400000, 250000, 250000, 250000]
    assert sc.projects[0].alignment == {"growth": 0.5} and sc.projects[0].cost_estimate == 120000
    assert sc.projects[1].depends_on == ["Core"] and sc.projects[1].cost_estimate is None
    slip, churn = sc.risks
    assert slip.applies_to is not None and slip.applies_to.projects == ["Core"]
    assert churn.applies_to is None  # every project
    assert churn.when == Uniform(dist="uniform", low=0, high=1)  # any point of the work
    assert churn.impact.delay == churn.impact.effort == churn.impact.cost == Fixed(value=0)
    open_, strict = sc.policies["open"], sc.policies["strict"]
    assert open_.governance is not None and open_.governance.funding is None
    assert strict.governance is not None and strict.governance.funding is not None
    assert strict.governance.funding.rule == "score_per_cost"
    assert strict.governance.risk_mitigation["vendor slip"].probability_reduction == 0.5  # from pmo
    assert strict.governance.risk_mitigation["vendor slip"].impact_reduction == 0.0


def test_one_amount_is_every_year() -> None:
    sc = load_scenario_text(BOARD.replace("per_year: [400000, 400000, 250000]", "per_year: 300000"))
    assert sc.budget is not None and sc.budget.per_year == [300000]
    assert sc.budget.release(7) == 300000


def test_budget_cut_through_set_and_round_trip() -> None:
    sc = load_scenario_text(BOARD, "s.yaml", overrides={"budget.per_year": "[500000, 100000]"})
    assert sc.budget is not None and sc.budget.per_year == [500000, 100000]
    assert load_scenario_text(dump_scenario(sc)) == sc


def test_funding_defaults() -> None:
    sc = load_scenario_text(BOARD.replace(
        "funding: {rule: score_per_cost, review_every: 60, min_score: 0.2, max_wait: 120}", "funding: {}"))
    strict = sc.policies["strict"].governance
    assert strict is not None and strict.funding is not None
    assert (strict.funding.rule, strict.funding.review_every, strict.funding.min_score,
            strict.funding.max_wait) == ("arrival", 0, 0, None)


def test_problem_inherited_from_pmo_is_reported_once() -> None:
    text = BOARD.replace("vendor slip: {cost: 1000", "vendor slips: {cost: 1000")
    assert problems(text) == [
        "s.yaml:30:21: pmo.governance.risk_mitigation.vendor slips: unknown risk; expected one of: "
        "vendor slip, churn (got 'vendor slips')"]


def test_bundled_strategy_scenario_validates_with_a_board_portfolio() -> None:
    sc = load_scenario(STRATEGY)
    assert sc.intake is not None and sc.intake.count is not None and sc.strategy is not None
    assert 55 <= len(sc.projects) + sc.intake.count <= 65
    assert len(sc.strategy.goals) == 3
    chains = [p.name for p in sc.projects if p.depends_on]
    assert len(chains) >= 4 and 3 <= len(sc.risks) <= 5
    rules = {name: p.governance.funding.rule if p.governance and p.governance.funding else None
             for name, p in sc.policies.items()}
    assert rules["fund_all"] is None and len(set(rules.values())) >= 3
    careful = sc.policies["careful"].governance
    assert careful is not None and careful.risk_mitigation


def test_json_schema_describes_the_new_sections() -> None:
    schema = scenario_json_schema()
    assert {"strategy", "budget", "risks"} <= set(schema["properties"])
    per_year = schema["$defs"]["Budget"]["properties"]["per_year"]["anyOf"]
    assert [kind["type"] for kind in per_year] == ["number", "array"]  # one amount, or one per year


# --------------------------------------------------------------------------- dependency cycles


def chain(n: int, closed: bool) -> Scenario:
    """Projects P0 -> P1 -> ... (each depending on the next); closed: the last depends on P0."""
    projects = [{"name": f"P{i}", "depends_on": [f"P{i + 1}"] if i + 1 < n else (["P0"] if closed else []),
                 "tasks": [{"name": "t", "skill": "dev", "effort": 1}]} for i in range(n)]
    return Scenario.model_validate({"name": "chain", "horizon": 10, "resources": {"dev": {"headcount": 1}},
                                    "projects": projects})


def test_a_20000_long_chain_is_checked_without_recursion() -> None:
    # The search itself, on long chains (one edge from each node to the next)...
    assert _cycles([[i + 1] for i in range(19_999)] + [[]]) == []
    assert len(_cycles([[i + 1] for i in range(19_999)] + [[0]])[0]) == 20_001
    # ...and through the loader's checks, with a located message.
    found = semantic_problems(chain(20_000, closed=True))
    assert len(found) == 1
    path, message, _ = found[0]
    assert path == ("projects", 0, "depends_on")
    assert message.startswith("dependency cycle of 20000 projects, each depending on the next: P0 -> P1 ->")
    assert message.endswith("P19998 -> P19999 -> P0")


def acyclic(edges: list[list[int]]) -> bool:
    """Kahn's algorithm: a graph is acyclic when every node can be peeled off."""
    indeg = [0] * len(edges)
    for out in edges:
        for w in out:
            indeg[w] += 1
    ready = [v for v, d in enumerate(indeg) if d == 0]
    seen = 0
    while ready:
        v = ready.pop()
        seen += 1
        for w in edges[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    return seen == len(edges)


graphs = st.integers(1, 9).flatmap(lambda n: st.lists(
    st.lists(st.integers(0, n - 1), max_size=3), min_size=n, max_size=n)).map(
    lambda edges: [sorted({w for w in out if w != v}) for v, out in enumerate(edges)])


@settings(max_examples=300, deadline=None)
@given(edges=graphs)
def test_cycles_are_found_exactly_when_the_graph_has_one(edges: list[list[int]]) -> None:
    cycles = _cycles(edges)
    assert (not cycles) == acyclic(edges)
    starts = [c[0] for c in cycles]
    assert len(set(starts)) == len(starts)  # one cycle per component
    for cycle in cycles:
        assert cycle[0] == cycle[-1] == min(cycle)
        assert len(set(cycle[:-1])) == len(cycle) - 1  # a simple cycle
        assert all(b in edges[a] for a, b in zip(cycle[:-1], cycle[1:], strict=True))  # along the links
