"""SPEC 10 mechanisms on tiny scenarios whose every number is worked out by hand.

Each test states the hand computation; together with tests/test_capacity_engine.py,
test_risks_engine.py and test_funding_engine.py they pin exact traces and KPIs.
"""

from __future__ import annotations

import math

from hand import log, simulate


def test_npv_of_part_time_people_equipment_and_a_completion_value() -> None:
    # a needs a half-time developer and the environment: 10 / 0.5 = 20 days. Value: 5 a day
    # from 20 to the horizon (100) plus 50 on completion; payroll 10 a day, the environment
    # 2 a day, both over [0, 100]; continuous discounting at ln(1.1) / 100 a day.
    one = simulate("""
name: t
horizon: 100
days_per_year: 100
discount_rate: 0.1
resources:
  dev: {headcount: 1, day_rate: 10, fte: 0.5}
  env: {kind: equipment, units: 1, day_rate: 2}
projects:
  - {name: P, value_per_day: 5, completion_value: 50, tasks: [{name: a, needs: {dev: 1, env: 1}, effort: 10}]}
""")
    d = math.log(1.1) / 100

    def pv(a: float, b: float) -> float:
        return (math.exp(-d * a) - math.exp(-d * b)) / d

    assert log(one) == [("P", "a", 0, 20, "dev-1,env-1")]
    k = one.kpis
    assert (k["value_delivered"], k["labour_cost"], k["equipment_cost"]) == (5 * 80 + 50, 1000, 200)
    assert math.isclose(k["npv"], 5 * pv(20, 100) + 50 * math.exp(-d * 20) - 12 * pv(0, 100), rel_tol=1e-12)
    # The estimate: 10 person-days x 10, plus the environment for the planned 20 days x 2.
    assert one.projects.iloc[0].cost_estimate == 140 and one.projects.iloc[0].cost == 20 * (5 + 2)
    assert one.pools.set_index("pool").utilisation.to_dict() == {"dev": 10 / 50, "env": 20 / 100}


def test_score_per_cost_funding_min_score_goals_and_strategic_value() -> None:
    # Weights 2 and 2 normalise to 0.5 each. Scores: P1 0.5, P2 0.5, P3 0.15 (< min_score 0.2:
    # rejected), P4 0.45. Score per cost: P2 0.5/400, P4 0.45/500, P1 0.5/600. Funds 1000:
    # P2 (600 left), P4 (100 left), P1 does not fit and waits to the horizon (the next
    # release is at 100, the horizon). P2 and P4 finish on day 10: 5 x 90 = 450 each.
    one = simulate("""
name: t
horizon: 100
days_per_year: 100
strategy: {goals: {g: {weight: 2}, h: {weight: 2}}}
budget: {per_year: 1000, carry_over: false}
resources:
  dev: {headcount: 3, day_rate: 10}
pmo:
  governance: {funding: {rule: score_per_cost, min_score: 0.2}}
projects:
  - {name: P1, alignment: {g: 1.0}, cost_estimate: 600, value_per_day: 5,
     tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: P2, alignment: {g: 0.5, h: 0.5}, cost_estimate: 400, value_per_day: 5,
     tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: P3, alignment: {h: 0.3}, cost_estimate: 100, value_per_day: 5,
     tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: P4, alignment: {h: 0.9}, cost_estimate: 500, value_per_day: 5,
     tasks: [{name: a, skill: dev, effort: 10}]}
""")
    p = one.projects.set_index("project")
    assert p.status.to_dict() == {"P1": "proposal", "P2": "completed", "P3": "rejected", "P4": "completed"}
    assert p.score.round(12).to_dict() == {"P1": 0.5, "P2": 0.5, "P3": 0.15, "P4": 0.45}
    k = one.kpis
    assert (k["projects_funded"], k["projects_rejected"], k["budget_committed"]) == (2, 1, 900)
    assert math.isclose(k["strategic_value"], 0.5 * 450 + 0.45 * 450)
    assert (k["avg_wip"], k["avg_in_system"]) == (0.2, 1.2)  # P1 waits all 100 days, in the system


def test_contractors_never_exceed_max_and_a_third_waiting_task_takes_a_freed_one() -> None:
    # dev-1 is on A until 30. B, C, D wait from 0; at 10 two contractors are requested (max 2;
    # D's request is refused), arrive at 15, do B and C (6 / 2 = 3 days) by 18; D then starts
    # on c1 (18 -> 21). c2 is idle from 18 and leaves on 22, c1 from 21 and leaves on 25:
    # 300 x ((25 - 15) + (22 - 15)) = 5100; headcount_avg (100 + 17) / 100.
    one = simulate("""
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 100}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 30}]}
  - {name: B, tasks: [{name: b, skill: dev, effort: 6}]}
  - {name: C, tasks: [{name: c, skill: dev, effort: 6}]}
  - {name: D, tasks: [{name: d, skill: dev, effort: 6}]}
pmo:
  resource_manager:
    contractors: [{pool: dev, max: 2, lead_time: 5, day_rate: 300, productivity: 2,
                   trigger_wait: 10, release_idle: 4}]
""")
    assert log(one) == [("A", "a", 0, 30, "dev-1"), ("B", "b", 15, 18, "dev-c1"),
                        ("C", "c", 15, 18, "dev-c2"), ("D", "d", 18, 21, "dev-c1")]
    assert one.kpis["contractor_cost"] == 5100 and one.kpis["contractor_requests"] == 2
    assert one.pools.iloc[0].headcount_avg == 1.17


def test_retiring_a_busy_equipment_unit_waits_for_its_task() -> None:
    # Two environments; on day 2 one is retired: the newest (env-2) is on b until 3 and goes
    # then. C waits for env-1 (free at 5): 5 -> 6. Environment cost 10 x (20 + 3).
    one = simulate("""
name: t
horizon: 20
resources:
  dev: {headcount: 3, day_rate: 0}
  env: {kind: equipment, units: 2, day_rate: 10}
pmo:
  resource_manager:
    staffing: [{day: 2, pool: env, change: -1}]
projects:
  - {name: A, tasks: [{name: a, needs: {dev: 1, env: 1}, effort: 5}]}
  - {name: B, tasks: [{name: b, needs: {dev: 1, env: 1}, effort: 3}]}
  - {name: C, tasks: [{name: c, needs: {dev: 1, env: 1}, effort: 1}]}
""")
    assert log(one) == [("A", "a", 0, 5, "dev-1,env-1"), ("B", "b", 0, 3, "dev-2,env-2"),
                        ("C", "c", 5, 6, "dev-3,env-1")]
    assert one.kpis["equipment_cost"] == 230
    assert one.pools.set_index("pool").utilisation["env"] == 9 / 23


def test_a_stage_gate_after_a_risks_rework_cancels_the_project_and_its_dependent() -> None:
    # Estimate 20; the gate looks at 0.5 x 20 = 10 done (a1's end, day 10), after the risk
    # that struck there added 0.5 x 10 = 5: forecast 25 > 1.2 x 20, so A is cancelled
    # (stage_gate) and B, waiting for it, too (dependency). C (arrived on 2) then runs 10 -> 15.
    one = simulate("""
name: t
horizon: 60
resources:
  dev: {headcount: 1, day_rate: 10}
risks:
  - {name: slip, applies_to: {projects: [A]}, probability: 1, when: 0.5, impact: {effort: 0.5, cost: 7}}
pmo:
  governance: {stage_gate: {at_progress: 0.5, cancel_if_overrun: 1.2}}
projects:
  - {name: A, tasks: [{name: a1, skill: dev, effort: 10}, {name: a2, skill: dev, effort: 10, after: [a1]}]}
  - {name: B, depends_on: [A], tasks: [{name: b, skill: dev, effort: 5}]}
  - {name: C, arrival: 2, tasks: [{name: c, skill: dev, effort: 5}]}
""")
    assert log(one) == [("A", "a1", 0, 10, "dev-1"), ("C", "c", 10, 15, "dev-1")]
    p = one.projects.set_index("project")
    assert p.cancel_reason.to_dict() == {"A": "stage_gate", "B": "dependency", "C": ""}
    assert p.cost.to_dict() == {"A": 10 * 10 + 7, "B": 0, "C": 50}
    assert (one.kpis["risk_cost"], one.kpis["total_cost"]) == (7, 600 + 7)
