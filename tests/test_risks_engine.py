"""The risk register in the engine (SPEC 10.3): exact impacts on tiny models, and strike rates.

In the exact traces the risk strikes for sure (``probability: 1``) at a point the test names,
so the schedule is arithmetic: one developer of productivity 1, tasks of fixed effort. The
rate tests read each pair's strike uniform from the Plan, so they check the engine against
the register's rule exactly, then the rate against the probability statistically.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from strategies import make_scenario, project, task, task_log

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.models import Scenario


def two_step(risk: dict[str, Any], mitigation: dict[str, Any] | None = None, **top: Any) -> Scenario:
    """A: a1 (10 days) then a2 (10 days) on one developer (day rate 100); B is not at risk."""
    governance = {"governance": {"risk_mitigation": {"slip": mitigation}}} if mitigation else {}
    return make_scenario(
        [project("A", task("a1", 10), task("a2", 10, after=["a1"]), value_per_day=10),
         project("B", task("b", 1, skill="qa"))],
        resources={"dev": {"headcount": 1, "day_rate": 100}, "qa": {"headcount": 1, "day_rate": 0}},
        horizon=100, risks=[{"name": "slip", "applies_to": {"projects": ["A"]}, "probability": 1,
                             **risk}], pmo=governance, **top)


IMPACT = {"delay": 5, "effort": 0.5, "cost": 1000}


def test_a_risk_strikes_when_the_work_reaches_its_point_with_exact_impacts() -> None:
    # At 0.5 x 20 = 10 days of work done, a1's completion (day 10): a pause of 5 days, rework
    # of 0.5 x the 10 left (a2 becomes 15), a cost of 1000. a2 waits out the pause: 15 -> 30.
    sc = two_step({"when": 0.5, "impact": IMPACT})
    assert task_log(sc) == [("A", "a1", 0, 10.0, "dev-1"), ("B", "b", 0, 1.0, "qa-1"),
                            ("A", "a2", 15.0, 30.0, "dev-1")]
    rec = run_replication(sc, 0, 0)[0]
    a = rec.projects["project"].index("A")
    assert rec.projects["cost"][a] == 25 * 100 + 1000  # labour booked + the risk's cost
    assert rec.projects["rework_effort"][a] == 5 and rec.projects["risk_events"][a] == 1
    assert rec.kpis["risk_events"] == 1 and rec.kpis["risk_cost"] == 1000
    assert rec.kpis["rework_effort"] == 5 and rec.kpis["mitigation_cost"] == 0
    assert rec.extra["risks"] == {"risk": ["slip"], "project": ["A"], "occurred": [True], "day": [10.0],
                                  "delay": [5.0], "effort_added": [5.0], "cost": [1000.0],
                                  "mitigated": [False]}


def test_mitigation_scales_the_impacts_and_is_paid_once_on_admission() -> None:
    # impact x 0.6: pause 3, rework 0.3 x 10 = 3 (a2: 13), cost 600; mitigation 250 on day 0.
    sc = two_step({"when": 0.5, "impact": IMPACT}, {"cost": 250, "impact_reduction": 0.4})
    assert task_log(sc)[-1] == ("A", "a2", 13.0, 26.0, "dev-1")
    rec = run_replication(sc, 0, 0)[0]
    risks = rec.extra["risks"]
    assert (risks["delay"], risks["effort_added"], risks["cost"], risks["mitigated"]) == (
        [3.0], [pytest.approx(3.0)], [600.0], [True])
    assert rec.kpis["risk_cost"] == 600 and rec.kpis["mitigation_cost"] == 250
    assert rec.kpis["total_cost"] == pytest.approx(
        sum(rec.kpis[k] for k in ("labour_cost", "risk_cost", "mitigation_cost")))


def test_a_risk_at_zero_strikes_on_admission() -> None:
    # when 0: on admission (day 0) the work pauses 5 days, and rework of half the 20 days left
    # spreads over the tasks not started, pro rata: a1 and a2 become 15 each.
    sc = two_step({"when": 0, "impact": IMPACT})
    assert [row for row in task_log(sc) if row[0] == "A"] == [("A", "a1", 5.0, 20.0, "dev-1"),
                                                              ("A", "a2", 20.0, 35.0, "dev-1")]


def test_a_risk_at_the_end_has_only_its_cost_left_to_do() -> None:
    # when 1: reached when a2 completes (day 20); nothing left to pause or rework.
    sc = two_step({"when": 1, "impact": IMPACT})
    assert task_log(sc)[-1] == ("A", "a2", 10.0, 20.0, "dev-1")
    rec = run_replication(sc, 0, 0)[0]
    assert rec.extra["risks"]["day"] == [20.0] and rec.extra["risks"]["effort_added"] == [0.0]
    assert rec.kpis["risk_cost"] == 1000


def test_a_strike_between_task_boundaries_waits_for_the_next_one() -> None:
    # when 0.3 (6 days of 20): reached only when a1 completes, on day 10.
    sc = two_step({"when": 0.3, "impact": {"cost": 1}})
    assert run_replication(sc, 0, 0)[0].extra["risks"]["day"] == [10.0]


def test_risk_costs_count_in_npv_at_their_day() -> None:
    plain = run_replication(two_step({"when": 0.5, "impact": {"delay": 0}}, discount_rate=0.1), 0, 0)[0]
    costly = run_replication(two_step({"when": 0.5, "impact": {"cost": 1000}}, discount_rate=0.1), 0, 0)[0]
    delta = math.log1p(0.1) / 250
    assert plain.kpis["npv"] - costly.kpis["npv"] == pytest.approx(1000 * math.exp(-delta * 10))


# --------------------------------------------------------------------------- rates over replications


def _many(mitigation: dict[str, Any] | None) -> Scenario:
    governance = {"governance": {"risk_mitigation": {"slip": mitigation}}} if mitigation else {}
    return make_scenario([], resources={"dev": 20}, horizon=400, pmo=governance,
                         intake={"arrivals": {"dist": "exponential", "mean": 10}, "count": 20,
                                 "templates": [{"name": "t", "tasks": [task("x", 1)]}]},
                         risks=[{"name": "slip", "probability": 0.5, "when": 0,
                                 "impact": {"cost": 1}}])


def test_a_mitigated_risk_strikes_a_subset_of_the_same_pairs_at_the_reduced_rate() -> None:
    plain, careful = _many(None), _many({"probability_reduction": 0.5})
    sampler = Sampler(plain)
    hits_plain, hits_careful, draws = [], [], []
    for r in range(40):
        u = np.concatenate([p.risk_u for p in sampler.plan(0, r).projects])
        a = np.array(run_replication(plain, r, 0)[0].extra["risks"]["occurred"])
        b = np.array(run_replication(careful, r, 0)[0].extra["risks"]["occurred"])
        # The register's rule, pair by pair (every project is admitted: when 0 strikes then).
        np.testing.assert_array_equal(a, u < 0.5)
        np.testing.assert_array_equal(b, u < 0.25)
        assert not np.any(b & ~a)  # mitigated strikes are a subset of unmitigated ones
        hits_plain.append(a)
        hits_careful.append(b)
        draws.append(u)
    n = sum(len(u) for u in draws)
    for hits, p in ((hits_plain, 0.5), (hits_careful, 0.25)):
        rate = np.concatenate(hits).mean()
        assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / n), (rate, p, n)


def test_without_funding_mitigation_is_paid_on_arrival_even_for_a_project_never_admitted() -> None:
    # Without governance.funding every project is funded on arrival (its `funded` day is its
    # arrival), and mitigation is paid when a project is funded: A on day 0 and B on day 5,
    # though the WIP limit of 1 keeps B in the backlog until the horizon (A runs 0..30).
    # 100 each: 200, discounted at 10% a year over 250 days from their days.
    sc = make_scenario(
        [project("A", task("a", 30)), project("B", task("b", 6), arrival=5)],
        resources={"dev": {"headcount": 1, "day_rate": 0}}, horizon=20, discount_rate=0.1,
        risks=[{"name": "slip", "probability": 0, "impact": {"cost": 1000}}],
        pmo={"resource_manager": {"wip_limit": 1},
             "governance": {"risk_mitigation": {"slip": {"cost": 100}}}})
    rec = run_replication(sc, 0, 0)[0]
    assert rec.projects["status"] == ["open", "backlog"] and rec.projects["funded"] == [0.0, 5.0]
    assert rec.kpis["mitigation_cost"] == 200
    delta = math.log1p(0.1) / 250
    assert rec.kpis["npv"] == pytest.approx(-(100 + 100 * math.exp(-delta * 5)), rel=1e-12)


def test_rework_is_a_share_of_the_effort_left_and_never_lengthens_a_fixed_duration() -> None:
    # a1 (10) then, in parallel, the vendor's fixed 10 days and a2 (10 person-days). The risk
    # strikes at a1's end (day 10): the effort left is a2's 10 person-days (the vendor's days
    # are no effort), so the rework is 5, all on a2 (15: 10 -> 25), and the vendor still
    # delivers on day 20.
    # (Counting the vendor's days made the rework 10 and the delivery 15 days long.)
    sc = make_scenario(
        [project("A", task("a1", 10), {"name": "v", "duration": 10, "after": ["a1"]},
                 task("a2", 10, after=["a1"]))],
        resources={"dev": {"headcount": 1, "day_rate": 0}}, horizon=100,
        risks=[{"name": "r", "applies_to": {"projects": ["A"]}, "probability": 1, "when": 0.3,
                "impact": {"effort": 0.5}}])
    assert task_log(sc) == [("A", "a1", 0, 10.0, "dev-1"), ("A", "v", 10.0, 20.0, ""),
                            ("A", "a2", 10.0, 25.0, "dev-1")]
    rec = run_replication(sc, 0, 0)[0]
    assert rec.projects["rework_effort"] == [5.0] and rec.extra["risks"]["effort_added"] == [5.0]
