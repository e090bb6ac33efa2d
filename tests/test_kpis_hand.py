"""SPEC 7.1-7.3 KPIs on tiny scenarios whose every number is worked out by hand.

Fixed efforts and explicit projects make every time arithmetic (SPEC 2: a task of effort E
done by a crew of total productivity P takes E / P days); each test derives the expected KPIs
in its comments from SPEC's definitions, so a reviewer can check them with a pencil.
"""

from __future__ import annotations

import math

from hand import log, simulate

import pmo_sim as ps
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario_text


def test_project_kpis_count_projects_arriving_after_the_warmup_and_levels_over_the_window() -> None:
    # One developer, WIP limit 1, warm-up 10, horizon 100 (window 90 days = 1.8 years of 50).
    # Back to back: A 0-15, B 15-25, C 25-30, D 30-40, E 50-110 (open at the horizon).
    #   project arrival due(abs) admitted start finish  counted
    #   A       0       -        0        0     15      no (arrives in the warm-up)
    #   B       5       15       15       15    25      no
    #   C       12      32       25       25    30      yes: wait 13, cycle 18, on time
    #   D       20      25       30       30    40      yes: wait 10, cycle 20, 15 days late
    #   E       50      -        50       50    -       yes: wait 0, open
    # on_time_rate 1/2; mean_cycle_time 19; mean_wait (13 + 10 + 0) / 3; mean_delay 15 / 2;
    # throughput 2 / 1.8 a year. Levels are the portfolio's state, every project in it, over
    # [10, 100]: in system A 5 + B 15 + C 18 + D 20 + E 50 = 108 days; admitted (WIP) A 5 +
    # B 10 + C 5 + D 10 + E 50 = 80. The developer is busy those same 80 of 90 days.
    # value_delivered: D earns 2 a day from 40 to 100 plus 7 on completion; E nothing yet.
    one = simulate("""
name: t
horizon: 100
warmup: 10
days_per_year: 50
resources:
  dev: {headcount: 1, day_rate: 10}
pmo:
  resource_manager: {wip_limit: 1}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 15}]}
  - {name: B, arrival: 5, due: 10, tasks: [{name: b, skill: dev, effort: 10}]}
  - {name: C, arrival: 12, due: 20, tasks: [{name: c, skill: dev, effort: 5}]}
  - {name: D, arrival: 20, due: 5, value_per_day: 2, completion_value: 7,
     tasks: [{name: d, skill: dev, effort: 10}]}
  - {name: E, arrival: 50, value_per_day: 3, tasks: [{name: e, skill: dev, effort: 60}]}
""")
    k = one.kpis
    assert (k["projects_arrived"], k["projects_completed"], k["projects_open"]) == (3, 2, 1)
    assert k["on_time_rate"] == 0.5 and k["mean_cycle_time"] == 19 and k["mean_delay"] == 7.5
    assert math.isclose(k["mean_wait"], 23 / 3) and math.isclose(k["throughput_per_year"], 2 / 1.8)
    assert math.isclose(k["avg_in_system"], 108 / 90) and math.isclose(k["avg_wip"], 80 / 90)
    assert math.isclose(k["utilisation"], 80 / 90)
    assert (k["value_delivered"], k["labour_cost"], k["total_cost"]) == (2 * 60 + 7, 900, 900)
    assert k["npv"] == 127 - 900  # no discount rate: nominal amounts
    p = one.projects.set_index("project")
    assert p.admitted.to_dict() == {"A": 0, "B": 15, "C": 25, "D": 30, "E": 50}
    assert p.status.to_dict() == {"A": "completed", "B": "completed", "C": "completed",
                                  "D": "completed", "E": "open"}
    assert p.effort_done.E == 50 and p.cost.E == 500  # booked at the horizon
    pool = one.pools.iloc[0]
    # Tasks started in the window: b, c, d, e, each given its developer the moment it was ready.
    assert (pool.tasks_started, pool.mean_wait, pool.busy_days, pool.idle_days) == (4, 0, 80, 10)


def test_costs_and_npv_of_every_pmo_function_training_and_a_tool() -> None:
    # Two developers (10 a day). At day 1 the course enrols dev-1 (slot order), who finishes a
    # (0-20) first, trains 20-30 and comes back twice as productive. b runs 2-12 on dev-2, c
    # 25-35 on dev-2 (dev-1 is away); d (2 people, 20) at 40 on dev-1 (idle since 30) and dev-2
    # (since 35): 20 / (2 + 1) days. Everyone earns 1 a day from finish to the horizon.
    # Costs: payroll 2 x 10 x 100; course 30 on day 1; tool 40 on day 20; governance 100 and
    # change management 50 a year over 100 days = 2 years: 300.
    # Busy 20 + 20/3 (dev-1) + 10 + 10 + 20/3 (dev-2); training 10; idle the rest of 200.
    one = simulate("""
name: t
horizon: 100
days_per_year: 50
discount_rate: 0.21
resources:
  dev: {headcount: 2, day_rate: 10}
pmo:
  governance: {cost_per_year: 100}
  change_manager: {cost_per_year: 50}
  training_manager:
    programmes: [{name: course, skill: dev, trainees: 1, start: 1, duration_days: 10,
                  cost_per_trainee: 30, productivity_gain: 1.0}]
  technology_manager:
    adoptions: [{name: tool, day: 20, cost: 40}]
projects:
  - {name: A, value_per_day: 1, tasks: [{name: a, skill: dev, effort: 20}]}
  - {name: B, arrival: 2, value_per_day: 1, tasks: [{name: b, skill: dev, effort: 10}]}
  - {name: C, arrival: 25, value_per_day: 1, tasks: [{name: c, skill: dev, effort: 10}]}
  - {name: D, arrival: 40, value_per_day: 1, tasks: [{name: d, skill: dev, effort: 20, people: 2}]}
""")
    end = 40 + 20 / 3
    assert log(one) == [("A", "a", 0, 20, "dev-1"), ("B", "b", 2, 12, "dev-2"),
                        ("C", "c", 25, 35, "dev-2"), ("D", "d", 40, round(end, 9), "dev-1,dev-2")]
    k = one.kpis
    assert math.isclose(k["value_delivered"], 80 + 88 + 65 + (100 - end))
    assert (k["labour_cost"], k["training_cost"], k["technology_cost"], k["pmo_cost"]) == (2000, 30, 40, 300)
    assert k["total_cost"] == 2370 and k["training_days"] == 10
    # Effective annual rate 21 % over 50-day years: a daily intensity of ln(1.21) / 50.
    d = math.log(1.21) / 50

    def pv(a: float, b: float) -> float:
        return (math.exp(-d * a) - math.exp(-d * b)) / d

    benefit = pv(20, 100) + pv(12, 100) + pv(35, 100) + pv(end, 100)
    cost = (20 + 3) * pv(0, 100) + 30 * math.exp(-d * 1) + 40 * math.exp(-d * 20)
    assert math.isclose(k["npv"], benefit - cost, rel_tol=1e-12)
    busy = 2 * (20 + 20 / 3)
    pool = one.pools.iloc[0]
    assert math.isclose(pool.busy_days, busy) and pool.training_days == 10
    assert math.isclose(pool.idle_days, 200 - busy - 10)
    assert math.isclose(k["utilisation"], busy / 200) and pool.headcount_avg == 2


def test_a_part_time_persons_training_counts_in_their_available_time_like_their_work() -> None:
    # One developer at fte 0.5 over 20 days: 10 person-days available (SPEC 10.4: fte scales
    # each person's available time). The course takes them off work 0-10; a (effort 2) then
    # runs 12-16 at speed 0.5. Busy 4 days x 0.5 = 2, training 10 x 0.5 = 5, idle (10-12 and
    # 16-20) 6 x 0.5 = 3: the three add up to the 10 available, as busy + training + idle must.
    # (pmo-sim counted the training in whole days, 10, which left idle_days at -2.)
    one = simulate("""
name: t
horizon: 20
resources:
  dev: {headcount: 1, day_rate: 10, fte: 0.5}
pmo:
  training_manager:
    programmes: [{name: course, skill: dev, trainees: 1, start: 0, duration_days: 10}]
projects:
  - {name: A, arrival: 12, tasks: [{name: a, skill: dev, effort: 2}]}
""")
    assert log(one) == [("A", "a", 12, 16, "dev-1")]
    pool = one.pools.iloc[0]
    assert (pool.busy_days, pool.training_days, pool.idle_days, pool.utilisation) == (2, 5, 3, 0.2)
    assert one.kpis["training_days"] == 5


def test_leavers_hires_headcount_and_payroll_follow_each_slots_chain_of_occupants() -> None:
    # Three idle developers, attrition 5 a year (0.05 a day over 100-day years), hiring 7 days.
    # Each slot's k-th occupant leaves when their hazard reaches their pre-drawn budget b_k,
    # b_k / 0.05 days after joining, and the next joins 7 days later (SPEC 4, workforce).
    # Warm-up 20: leavers and hires count from day 20, and employed time over [20, 100] gives
    # headcount_avg, payroll (10 a day) and, nobody working, the idle days.
    sc = load_scenario_text("""
name: t
horizon: 100
warmup: 20
days_per_year: 100
resources:
  dev: {headcount: 3, day_rate: 10}
workforce: {attrition_per_year: 5, hiring_delay: 7}
""")
    plan = Sampler(sc).plan(0, 0)
    leavers = hires = 0
    employed = 0.0
    for slot in range(3):
        joined, k = 0.0, 0
        while joined < 100:
            budget, delay = plan.occupant_draws(sc, 0, slot, k)
            left = min(joined + budget / 0.05, 100)
            employed += max(0.0, left - max(joined, 20))
            leavers += 20 <= left < 100
            joined, k = left + delay, k + 1
            hires += 20 <= joined < 100
    one = ps.simulate(sc, policy=None, seed=0, replication=0)
    k = one.kpis
    assert leavers > 0 and (k["leavers"], k["hires"]) == (leavers, hires)
    assert math.isclose(k["labour_cost"], 10 * employed)
    pool = one.pools.iloc[0]
    assert math.isclose(pool.headcount_avg, employed / 80) and math.isclose(pool.idle_days, employed)


def test_full_retention_training_keeps_the_trainee_for_good_and_only_the_other_leaves() -> None:
    # Attrition 50 a year (0.5 a day): untrained, each developer leaves within days (the chance
    # of staying 100 days is e^-50). The day-0 course (no days away) enrols dev-1 and removes
    # their attrition (retention_gain 1): they stay to the horizon. dev-2 leaves when their
    # pre-drawn budget is used, b / 0.5 days in, and is not replaced (hiring takes 1000 days).
    sc = load_scenario_text("""
name: t
horizon: 100
days_per_year: 100
resources:
  dev: {headcount: 2, day_rate: 10}
workforce: {attrition_per_year: 50, hiring_delay: 1000}
pmo:
  training_manager:
    programmes: [{name: keep, skill: dev, trainees: 1, retention_gain: 1.0, cost_per_trainee: 3}]
""")
    left = Sampler(sc).plan(0, 0).occupant_draws(sc, 0, 1, 0)[0] / 0.5
    one = ps.simulate(sc, policy=None, seed=0, replication=0)
    k = one.kpis
    assert (k["leavers"], k["hires"], k["training_cost"], k["training_days"]) == (1, 0, 3, 0)
    assert math.isclose(k["labour_cost"], 10 * (100 + left))
    assert math.isclose(one.pools.iloc[0].headcount_avg, (100 + left) / 100)
