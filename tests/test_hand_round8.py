"""Round 8 of the hand-computed checks: traces whose every number follows from SPEC by
pencil (SPEC 2: a task of effort E done by a crew of total productivity P takes E / P days,
fixed when it starts), and sample-path identities between allocation rules that must give
the very same schedule on a portfolio where their keys order projects alike.
"""

from __future__ import annotations

import math

import pytest
from hand import column, log, simulate

import pmo_sim as ps
from pmo_sim.scenario.loader import load_scenario_text


def test_a_new_hire_ramps_linearly_and_each_task_keeps_the_speed_it_started_at() -> None:
    # dev has one person (dev-1, base productivity 2). On day 0 the staffing plan releases
    # one person (the most recent hire: dev-1, who leaves after the task in hand) and hires
    # one (dev-2, at new_hire_productivity 0.5 rising linearly to 1 over 60 days, times the
    # pool's base 2). dev-1 is longest idle and takes a at day 0: 20 / 2 = 10 days, then
    # leaves. dev-2 takes b at day 10 at 2 x (0.5 + 0.5 x 10/60) = 7/6: 20 / (7/6) = 120/7
    # days, ending at 190/7 = 27.142857; c starts there at 2 x (0.5 + 0.5 x (190/7)/60) =
    # 2 x 0.726190 = 1.452381 (61/42): 20 x 42/61 = 13.770492 days, ending at 40.913349.
    # Headcount: 1 for 200 days plus dev-1's 10 = 1.05 on average.
    one = simulate("""
name: t
horizon: 200
resources:
  dev: {headcount: 1, day_rate: 10, productivity: 2}
workforce: {new_hire_productivity: 0.5, ramp_up_days: 60}
pmo:
  resource_manager:
    staffing: [{day: 0, pool: dev, change: -1}, {day: 0, pool: dev, change: 1}]
projects:
  - name: A
    tasks:
      - {name: a, skill: dev, effort: 20}
      - {name: b, skill: dev, effort: 20, after: [a]}
      - {name: c, skill: dev, effort: 20, after: [b]}
""")
    b_end = 10 + 20 / (2 * (0.5 + 0.5 * 10 / 60))
    c_end = b_end + 20 / (2 * (0.5 + 0.5 * b_end / 60))
    assert math.isclose(b_end, 190 / 7) and math.isclose(c_end, 190 / 7 + 840 / 61)
    assert log(one) == [("A", "a", 0, 10, "dev-1"), ("A", "b", 10, round(b_end, 9), "dev-2"),
                        ("A", "c", round(b_end, 9), round(c_end, 9), "dev-2")]
    assert one.pools.headcount_avg[0] == pytest.approx(1.05)
    assert (one.kpis["leavers"], one.kpis["hires"]) == (0, 0)  # planned changes are not turnover


def test_base_training_tool_and_new_hire_ramp_multiply_into_one_productivity() -> None:
    # SPEC 4.1: productivity = base x training gains x technology gains x new-hire ramp. The
    # only person is released and replaced on day 0 (dev-2, ramping 0.5 -> 1 over 60 days);
    # a tool lifts the pool by 20% from day 0, and dev-2 is trained on days 1-11 (gain 0.5,
    # no ramp). A arrives on day 13: 2 x 1.5 x 1.2 x (0.5 + 0.5 x 13/60) = 2.19 a day, so
    # its 30 person-days take 30 / 2.19 = 13.699 days (13-26.699).
    one = simulate("""
name: t
horizon: 200
resources:
  dev: {headcount: 1, productivity: 2}
workforce: {new_hire_productivity: 0.5, ramp_up_days: 60}
pmo:
  resource_manager:
    staffing: [{day: 0, pool: dev, change: -1}, {day: 0, pool: dev, change: 1}]
  training_manager:
    programmes: [{name: c, skill: dev, trainees: 1, start: 1, duration_days: 10, productivity_gain: 0.5}]
  technology_manager:
    adoptions: [{name: tool, day: 0, skills: [dev], productivity_gain: 0.2}]
projects:
  - {name: A, arrival: 13, tasks: [{name: a, skill: dev, effort: 30}]}
""")
    rate = 2 * 1.5 * 1.2 * (0.5 + 0.5 * 13 / 60)
    assert log(one) == [("A", "a", 13, round(13 + 30 / rate, 9), "dev-2")]


def test_training_waits_for_the_task_in_hand_then_ramps_the_gain_into_later_tasks() -> None:
    # One person of productivity 2. a (12) runs 0-6; the course starts on day 3, so they
    # finish a first and train 6-11 (5 days). b starts at 11, the first day of the 10-day
    # ramp: gain 0, 12 / 2 = 6 days, 11-17. c starts at 17, 6 days into the ramp: multiplier
    # 1 + 0.5 x 6/10 = 1.3, 30 / (2 x 1.3) = 11.538462 days, ending at 28.538462.
    # training_days 5, training_cost 100; utilisation = busy / available = (6 + 6 +
    # 11.538462) / 200 (time in training is available time, not busy time).
    one = simulate("""
name: t
horizon: 200
resources:
  dev: {headcount: 1, day_rate: 10, productivity: 2}
pmo:
  training_manager:
    programmes:
      - {name: course, skill: dev, trainees: 1, start: 3, duration_days: 5, cost_per_trainee: 100,
         productivity_gain: 0.5, ramp_days: 10}
projects:
  - name: A
    tasks:
      - {name: a, skill: dev, effort: 12}
      - {name: b, skill: dev, effort: 12, after: [a]}
      - {name: c, skill: dev, effort: 30, after: [b]}
""")
    c_end = 17 + 30 / 2.6
    assert log(one) == [("A", "a", 0, 6, "dev-1"), ("A", "b", 11, 17, "dev-1"),
                        ("A", "c", 17, round(c_end, 9), "dev-1")]
    k = one.kpis
    assert (k["training_days"], k["training_cost"]) == (5, 100)
    assert k["utilisation"] == pytest.approx((12 + 30 / 2.6) / 200)
    assert one.pools.training_days[0] == 5


def test_a_holiday_inside_a_closure_is_one_day_down_not_two_and_weekends_are_not_days() -> None:
    # Day 0 is Monday 2027-12-20; working days: 0 Mon 20, 1 Tue 21, 2 Wed 22, 3 Thu 23, 4 Fri
    # 24 (holiday), 5 Mon 27, 6 Tue 28, 7 Wed 29, 8 Thu 30, 9 Fri 31 (holiday), 10 Mon 3 Jan.
    # Down-time: {4} and the closure [7, 10), which holds the holiday on day 9: 4 days, not 5.
    # 10 days of work from day 0: days 0-3 (4), 5-6 (2), then 10-13 (4): finish at 14, dated
    # by its last working day, day 13 = Thursday 6 January 2028.
    # Horizon 20: available 20 - 4 = 16 days, busy 10 (utilisation 0.625), idle 6; payroll
    # 20 x 100 (paid through down-time); the project pays for the 14 days the task held its
    # person (README: a project pays day_rate per day it holds people, down-time included);
    # value 10 a day from 14 to 20.
    one = simulate("""
name: t
horizon: 20
calendar: {start_date: 2027-12-20, holidays: [2027-12-24, 2027-12-31], closures: [{start: 7, days: 3}]}
resources:
  dev: {headcount: 1, day_rate: 100}
projects:
  - {name: A, value_per_day: 10, tasks: [{name: a, skill: dev, effort: 10}]}
""")
    assert log(one) == [("A", "a", 0, 14, "dev-1")]
    assert (one.tasks.start_date[0], one.tasks.finish_date[0]) == ("2027-12-20", "2028-01-06")
    k = one.kpis
    assert (k["utilisation"], k["labour_cost"], k["value_delivered"]) == (0.625, 2000, 60)
    assert (one.pools.busy_days[0], one.pools.idle_days[0]) == (10, 6)
    assert column(one, "cost") == {"A": 1400}


def test_each_pass_through_a_repeating_programme_compounds_its_gain() -> None:
    # README reading (SPEC is silent): each pass multiplies productivity by 1 + gain. The only
    # person takes the 1-day course on days 0, 5 and 10 (repeat_every 5): 1.5^3 = 3.375, so
    # A's 30 person-days, from day 12, take 30 / 3.375 = 8.889 days.
    one = simulate("""
name: t
horizon: 200
resources:
  dev: {headcount: 1}
pmo:
  training_manager:
    programmes: [{name: c, skill: dev, trainees: 1, start: 0, duration_days: 1, productivity_gain: 0.5,
                  repeat_every: 5}]
projects:
  - {name: A, arrival: 12, tasks: [{name: a, skill: dev, effort: 30}]}
""")
    assert log(one) == [("A", "a", 12, round(12 + 30 / 1.5**3, 9), "dev-1")]


CLOSED_COURSE = """
name: t
horizon: 40
calendar: {closures: [{start: 4, days: 4}]}
resources:
  dev: {headcount: 1, day_rate: 1}
pmo:
  training_manager:
    programmes:
      - {name: course, skill: dev, trainees: 1, start: 3, duration_days: 5, productivity_gain: 1.0}
projects:
  - name: A
    arrival: 5
    tasks:
      - {name: a, skill: dev, effort: 2}
      - {name: b, skill: dev, effort: 10, after: [a]}
"""

def test_a_training_course_stands_still_in_a_closure_like_a_task() -> None:
    # SPEC 10.4: during holidays and closures nothing progresses. The one person (productivity
    # 1) is idle when a 5-day course starts on day 3; the closure [4, 8) stops it after 1 day,
    # so it runs 3-4 and 8-12 (5 working days of training, not 1) and ends on day 12. Then the
    # gain of 1.0 (no ramp) doubles their speed: A arrives on day 5, waits for them, and its
    # tasks take 2 / 2 = 1 and 10 / 2 = 5 days: a 12-13, b 13-18. training_days counts the 5
    # days of the course (down-time is neither work nor training). Before, the course ran
    # through the closure and ended on day 8 with 1 training day and the full gain (a 8-9).
    one = simulate(CLOSED_COURSE)
    assert log(one) == [("A", "a", 12, 13, "dev-1"), ("A", "b", 13, 18, "dev-1")]
    assert one.kpis["training_days"] == 5 and one.pools.training_days[0] == 5
    # available 40 - 4 closure days = 36: busy 6, training 5, idle 25
    assert (one.pools.busy_days[0], one.pools.idle_days[0]) == (6, 25)
    # A course of 0 days on day 5, inside the closure, is over at once: the 10-day ramp of its
    # gain of 1.0 runs from day 5, so on day 8 the multiplier is 1.3 and 13 takes 10 days.
    one = simulate(CLOSED_COURSE.replace("start: 3, duration_days: 5", "start: 5, duration_days: 0")
                   .replace("productivity_gain: 1.0", "productivity_gain: 1.0, ramp_days: 10")
                   .replace("arrival: 5", "arrival: 8").replace("effort: 2}", "effort: 13}"))
    assert log(one)[0] == ("A", "a", 8, 18, "dev-1")


def test_gap_driven_training_waits_for_a_course_stretched_by_a_closure() -> None:
    # Two people, sixty one-day projects at day 0 (waits far above the 1-day threshold). The
    # review on day 20 runs the 5-day course for one person (dev-1): 20-22, then the closure
    # [22, 38), then 38-41. The pool's run lasts until day 41, so the review on day 40 (which
    # sees tasks started on days 20-22 and 38-40 that waited long) does not start another
    # cohort: dev-2 keeps working (P44, 40-41). The review on day 60 runs it again: two
    # cohorts of 100. Before, the run was taken to end at 20 + 5 = 25 and dev-2 was sent
    # on a course on day 40 as well (three cohorts).
    projects = "\n".join(f"  - {{name: P{i}, tasks: [{{name: t, skill: dev, effort: 1}}]}}"
                         for i in range(60))
    one = simulate(f"""
name: t
horizon: 100
calendar: {{closures: [{{start: 22, days: 16}}]}}
resources:
  dev: {{headcount: 2}}
pmo:
  training_manager:
    programmes:
      - {{name: course, skill: dev, trainees: 1, start: 1000, duration_days: 5, cost_per_trainee: 100}}
    gap_driven: {{threshold_days: 1, programme: course}}
projects:
{projects}
""")
    assert ("P44", "t", 40, 41, "dev-2") in log(one)
    assert (one.kpis["training_cost"], one.kpis["training_days"]) == (200, 10)


def test_a_productivity_ramp_runs_through_a_closure() -> None:
    # README reading (SPEC is silent): ramps run on the time line, down-time included. A
    # 1-day course on day 0 (gain 1.0 over ramp_days 10) ends on day 1; the closure [1, 6)
    # does not hold the ramp back, so when A arrives on day 6 the ramp is (6 - 1) / 10 = half
    # way: multiplier 1.5, and a (3) takes 3 / 1.5 = 2 days: 6-8 (3 days if the ramp had
    # counted working days only).
    one = simulate("""
name: t
horizon: 40
calendar: {closures: [{start: 1, days: 5}]}
resources:
  dev: {headcount: 1}
pmo:
  training_manager:
    programmes:
      - {name: course, skill: dev, trainees: 1, start: 0, duration_days: 1, productivity_gain: 1.0,
         ramp_days: 10}
projects:
  - {name: A, arrival: 6, tasks: [{name: a, skill: dev, effort: 3}]}
""")
    assert log(one) == [("A", "a", 6, 8, "dev-1")]
    assert one.kpis["training_days"] == 1


def test_a_multi_resource_tasks_wait_counts_in_every_pool_it_needs() -> None:
    # README reading of SPEC 7.3 (ready -> crew assigned): A and B each need a person and the
    # one rig; C a person. A (4 days) and C (1) start at 0; B waits for the rig until 4 (dev-2
    # free since 1) and runs 4-6. Its 4-day wait counts for both pools it needs: dev's
    # mean_wait (0 + 0 + 4) / 3, rig's (0 + 4) / 2.
    one = simulate("""
name: t
horizon: 20
resources:
  dev: {headcount: 2}
  rig: {kind: equipment, units: 1}
projects:
  - {name: A, tasks: [{name: a, needs: {dev: 1, rig: 1}, effort: 4}]}
  - {name: B, tasks: [{name: b, needs: {dev: 1, rig: 1}, effort: 2}]}
  - {name: C, tasks: [{name: c, skill: dev, effort: 1}]}
""")
    assert log(one) == [("A", "a", 0, 4, "dev-1,rig-1"), ("C", "c", 0, 1, "dev-2"),
                        ("B", "b", 4, 6, "dev-2,rig-1")]
    assert list(one.pools.mean_wait) == [pytest.approx(4 / 3), 2]


def test_a_crew_network_with_mixed_crew_sizes_is_a_list_schedule_of_e_over_k_p() -> None:
    # Three people of productivity 2 (dev-1..3). A (12, crew 2): 12 / 4 = 3 days; B (4, crew
    # 1): 2 days; C after A and B (18, crew 3): 3 days; D after B (6, crew 1): 3 days.
    # Day 0: A takes dev-1, dev-2; B takes dev-3. Day 2: B ends, D ready, takes dev-3 (2-5).
    # Day 3: A ends, C ready but needs all three: it waits for dev-3 until 5, runs 5-8.
    # Cycle 8; busy person-days 2x3 + 2 + 3 + 3x3 = 20 of 3 x 10 = 30 (horizon 10).
    one = simulate("""
name: t
horizon: 10
resources:
  dev: {headcount: 3, productivity: 2}
projects:
  - name: P
    tasks:
      - {name: A, skill: dev, effort: 12, people: 2}
      - {name: B, skill: dev, effort: 4}
      - {name: C, skill: dev, effort: 18, people: 3, after: [A, B]}
      - {name: D, skill: dev, effort: 6, after: [B]}
""")
    assert sorted(log(one), key=lambda r: (r[2], r[1])) == [
        ("P", "A", 0, 3, "dev-1,dev-2"), ("P", "B", 0, 2, "dev-3"), ("P", "D", 2, 5, "dev-3"),
        ("P", "C", 5, 8, "dev-1,dev-2,dev-3")]
    assert one.kpis["mean_cycle_time"] == 8
    assert one.kpis["utilisation"] == pytest.approx(20 / 30)


def test_npv_discounts_a_contractors_engagement_over_the_days_it_is_paid() -> None:
    # days_per_year 100, discount_rate 0.1: intensity d = ln(1.1) / 100 a day, and a flow of
    # f a day over [a, b] is worth f (e^{-d a} - e^{-d b}) / d at day 0 (I(a, b) below).
    # dev-1 works A (30) 0-30. B is ready at 0 and has waited trigger_wait 2 days on day 2: a
    # contractor is requested, arrives after lead_time 5 on day 7, does B at productivity 2
    # (10 / 2 = 5 days, 7-12), is idle release_idle 4 days and leaves on day 16: paid 20 a day
    # for 9 days (contractor_cost 180). Payroll 10 x 100, two rig units 2 x 3 x 100.
    # A earns 7 a day from 30 to 100 plus 50 on completion (value_delivered 540).
    # npv = 7 I(30, 100) + 50 e^{-30 d} - 10 I(0, 100) - 6 I(0, 100) - 20 I(7, 16).
    one = simulate("""
name: t
horizon: 100
days_per_year: 100
discount_rate: 0.1
resources:
  dev: {headcount: 1, day_rate: 10}
  rig: {kind: equipment, units: 2, day_rate: 3}
pmo:
  resource_manager:
    contractors: [{pool: dev, max: 1, lead_time: 5, day_rate: 20, productivity: 2, trigger_wait: 2,
                   release_idle: 4}]
projects:
  - {name: A, value_per_day: 7, completion_value: 50, tasks: [{name: a, skill: dev, effort: 30}]}
  - {name: B, tasks: [{name: b, skill: dev, effort: 10}]}
""")
    d = math.log(1.1) / 100

    def flow(a: float, b: float) -> float:
        return (math.exp(-d * a) - math.exp(-d * b)) / d

    assert log(one) == [("A", "a", 0, 30, "dev-1"), ("B", "b", 7, 12, "dev-c1")]
    k = one.kpis
    assert (k["labour_cost"], k["equipment_cost"], k["contractor_cost"]) == (1000, 600, 180)
    assert (k["total_cost"], k["value_delivered"]) == (1780, 540)
    npv = 7 * flow(30, 100) + 50 * math.exp(-30 * d) - 16 * flow(0, 100) - 20 * flow(7, 16)
    assert k["npv"] == pytest.approx(npv, rel=1e-12)


def test_the_forecast_of_an_exponential_project_has_its_exact_quantiles_and_chances() -> None:
    # (A statistical check, not a trace.) One person, one project of effort Exp(mean 10),
    # due on day 10, horizon 40: the finish is Exp(10), so P(on time) = 1 - e^{-1} = 0.6321,
    # P(unfinished at 40) = e^{-4} = 0.0183 and the q-quantile is -10 ln(1 - q). Over 2,000
    # replications a chance has binomial SE sqrt(p (1 - p) / n), a sample quantile the
    # asymptotic SE sqrt(q (1 - q) / n) / f(x_q) with f the Exp(10) density; within 4 SE.
    n = 2000
    res = ps.run_experiment(load_scenario_text("""
name: f
horizon: 40
resources: {dev: {headcount: 1}}
projects:
  - {name: A, due: 10, tasks: [{name: a, skill: dev, effort: {dist: exponential, mean: 10}}]}
"""), replications=n, seed=8122, jobs=1)
    fc = res.forecast().iloc[0]
    assert (fc["name"], fc["n"]) == ("A", n)
    for key, p in (("p_on_time", 1 - math.exp(-1)), ("p_unfinished", math.exp(-4))):
        assert abs(fc[key] - p) <= 4 * math.sqrt(p * (1 - p) / n), key
    for q in (0.1, 0.5, 0.8, 0.9):
        x = -10 * math.log(1 - q)
        se = math.sqrt(q * (1 - q) / n) / (math.exp(-x / 10) / 10)
        assert abs(fc[f"p{round(q * 100)}"] - x) <= 4 * se, q


# ------------------------------------------------------------------ sample-path identities

RULES = ["fifo", "edd", "priority", "lft", "lst", "min_slack", "srpt", "wsjf"]


def one_task_portfolio(needs: bool) -> str:
    """Poisson arrivals of one-task projects, short (1 person-day) or long (3), all due 10
    days after arrival, all of priority 3 and value 5 a day; 3 people of productivity 1.5
    (and, with ``needs``, each task also holds one of 3 rigs: the needs queues)."""
    holds = "needs: {dev: 1, rig: 1}" if needs else "skill: dev"
    short, long_ = (f"{{name: w, {holds}, effort: {e}}}" for e in (1.0, 3.0))
    rig = "\n  rig: {kind: equipment, units: 3}" if needs else ""
    policies = "".join(f"\n  {r}: {{resource_manager: {{allocation: {r}}}}}" for r in RULES)
    return f"""
name: identities
horizon: 400
resources:
  dev: {{headcount: 3, productivity: 1.5}}{rig}
intake:
  arrivals: {{dist: exponential, mean: 0.55}}
  templates:
    - {{name: short, due: 10, value_per_day: 5, tasks: [{short}]}}
    - {{name: long, due: 10, value_per_day: 5, tasks: [{long_}]}}
policies:{policies}
"""


def schedules(text: str, rules: list[str]) -> dict[str, list[tuple[object, ...]]]:
    sc = load_scenario_text(text)
    out = {}
    for rule in rules:
        one = ps.simulate(sc, policy=rule, seed=8, replication=2)
        out[rule] = sorted(tuple("-" if v != v else v for v in row) for row in log(one))  # NaN: "-"
    return out


@pytest.mark.parametrize("needs", [False, True], ids=["one-pool", "needs"])
def test_rules_whose_keys_order_the_portfolio_alike_give_the_same_schedule(needs: bool) -> None:
    # Every project is due 10 days after it arrives and has the same priority and value, so:
    # edd (due = arrival + 10), priority (all equal: the fifo tie-break) and lft (a one-task
    # project's latest finish is its due date) all order as fifo; min_slack's key due - now -
    # remaining work (E / 1.5) and lst's due - planned duration (E / 1.5, efforts fixed) differ
    # by `now` only, the same at any instant, so they coincide; wsjf's value / remaining work
    # with equal values orders as srpt's remaining work. Each group must give exactly the same
    # schedule, through the static and the dynamic (lazy min_slack bounds) queues, and lst and
    # srpt must differ from fifo here (the identities are not vacuous).
    s = schedules(one_task_portfolio(needs), RULES)
    assert len(s["fifo"]) > 500
    for rule in ("edd", "priority", "lft"):
        assert s[rule] == s["fifo"], rule
    assert s["min_slack"] == s["lst"] != s["fifo"]
    assert s["wsjf"] == s["srpt"] != s["fifo"]


def test_srpt_and_wsjf_with_equal_values_coincide_through_rework_and_task_networks() -> None:
    # wsjf ranks by value_per_day / remaining effort; with one value for every project that
    # is srpt's order, whatever changes the remaining effort: change requests adding rework
    # and pausing projects, tasks finishing inside a network. Likewise edd with a common due
    # offset and priority with one priority order as fifo.
    text = """
name: rework
horizon: 300
resources:
  a: {headcount: 2}
  b: {headcount: 2, productivity: 1.25}
changes:
  per_project_per_year: 6
  effort_added: {dist: uniform, low: 0.05, high: 0.4}
  disruption: {dist: exponential, mean: 1}
intake:
  arrivals: {dist: exponential, mean: 1.1}
  templates:
    - name: chain
      due: 30
      value_per_day: 3
      tasks:
        - {name: x, skill: a, effort: {dist: exponential, mean: 1.5}}
        - {name: y, skill: b, effort: {dist: exponential, mean: 1.2}, after: [x]}
    - name: fork
      due: 30
      value_per_day: 3
      tasks:
        - {name: x, skill: a, effort: {dist: triangular, low: 0.2, mode: 0.5, high: 2}}
        - {name: y, skill: b, effort: {dist: uniform, low: 0.5, high: 2}}
        - {name: z, skill: a, effort: 0.4, after: [x, y]}
policies:
  fifo: {resource_manager: {allocation: fifo}}
  edd: {resource_manager: {allocation: edd}}
  priority: {resource_manager: {allocation: priority}}
  srpt: {resource_manager: {allocation: srpt}}
  wsjf: {resource_manager: {allocation: wsjf}}
"""
    s = schedules(text, ["fifo", "edd", "priority", "srpt", "wsjf"])
    assert len(s["fifo"]) > 400
    assert s["edd"] == s["priority"] == s["fifo"]
    assert s["wsjf"] == s["srpt"] != s["fifo"]


RICH = """
name: rich
horizon: 400
days_per_year: 200
calendar: {closures: [{start: 50, days: 7}, {start: 190, days: 3}]}
resources:
  dev: {headcount: 3, productivity: 1.5, fte: 0.8}
  rig: {kind: equipment, units: 2}
workforce: {attrition_per_year: 0.5, hiring_delay: {dist: uniform, low: 5, high: 20},
            new_hire_productivity: 0.5, ramp_up_days: 30}
intake:
  arrivals: {dist: exponential, mean: 0.9}
  templates:
    - {name: short, due: 12, value_per_day: 5, tasks: [{name: w, HOLDS, effort: 1.0}]}
    - {name: long, due: 12, value_per_day: 5, tasks: [{name: w, HOLDS, effort: 3.0}]}
pmo:
  resource_manager:
    wip_limit: WIP
    switch_cost_days: 0.1
    contractors: [{pool: dev, max: 2, lead_time: 3, day_rate: 9, trigger_wait: 4, release_idle: 2}]
  training_manager:
    programmes: [{name: c, skill: dev, trainees: 1, start: 30, duration_days: 4, productivity_gain: 0.2,
                  ramp_days: 10, repeat_every: 80}]
policies:"""


@pytest.mark.parametrize("wip", [4, 1000], ids=["wip-gate", "no-gate"])
@pytest.mark.parametrize("needs", [False, True], ids=["one-pool", "needs"])
def test_the_rule_identities_hold_through_the_wip_gate_calendar_contractors_and_turnover(
        needs: bool, wip: int) -> None:
    # The same identities as above with the WIP gate ranking the backlog (wip 4), closures,
    # part-time people, set-up costs, contractors on demand, a repeating course and turnover
    # with ramping new hires: none of them may tell edd, priority, lft and fifo apart, nor
    # min_slack and lst (efforts fixed, no rework: remaining work = planned duration), nor
    # wsjf and srpt.
    holds = "needs: {dev: 1, rig: 1}" if needs else "skill: dev"
    text = RICH.replace("HOLDS", holds).replace("WIP", str(wip)) + "".join(
        f"\n  {r}: {{resource_manager: {{allocation: {r}}}}}" for r in RULES)
    s = schedules(text, RULES)
    assert len(s["fifo"]) > 400
    for rule in ("edd", "priority", "lft"):
        assert s[rule] == s["fifo"], rule
    assert s["min_slack"] == s["lst"] != s["fifo"]
    assert s["wsjf"] == s["srpt"] != s["fifo"]
