"""SPEC 4 and 5 (the PMO levers) on tiny scenarios whose every number is worked out by hand.

Fixed efforts make every time arithmetic: a task of effort E done by a crew of total
productivity P takes E / P days (SPEC 2, 4.1). Each test states, in its comments, the schedule
SPEC's words give, and checks the engine's task log and KPIs against it. What
tests/test_engine_traces.py, test_roles.py and test_levers.py already pin (the six project
rules on one queue, backfill, switch costs, change requests, leavers) is not repeated here.
"""

from __future__ import annotations

import math

import pytest
from hand import log, simulate

import pmo_sim as ps
from pmo_sim.experiment.single import SimulationResult
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario_text


def starts(one: SimulationResult) -> list[tuple[str, float, float]]:
    return [(r.task, round(r.start, 9), round(r.finish, 9)) for r in one.tasks.itertuples()]


# --------------------------------------------------------------------------- intake (SPEC 4.1)


def test_a_fixed_intake_arrives_one_gap_after_day_0_named_in_order_with_relative_dues() -> None:
    # Gaps of 10: enh-1 at 10, enh-2 at 20, enh-3 at 30, enh-4 at 40 (the next, 50, is the
    # horizon), each due 12 days after it arrives. One developer, fifo: X 5-15; enh-1 a 15-19,
    # b 19-27 (due 22: 5 late); enh-2 a 27-31, b 31-39 (due 32: 7 late); enh-3 a 39-43, b from
    # 43, open at 50 like enh-4. In system: X 10 + 17 + 19 + 20 + 10 = 76 days of 50.
    # Value 3 a day: (50 - 27) + (50 - 39) days.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 10}
intake:
  arrivals: 10
  templates:
    - {name: enh, due: 12, priority: 2, value_per_day: 3,
       tasks: [{name: a, skill: dev, effort: 4}, {name: b, skill: dev, effort: 8, after: [a]}]}
projects:
  - {name: X, arrival: 5, tasks: [{name: x, skill: dev, effort: 10}]}
""")
    p = one.projects.set_index("project")
    assert p.arrival.to_dict() == {"X": 5, "enh-1": 10, "enh-2": 20, "enh-3": 30, "enh-4": 40}
    assert p.template.to_dict() == {"X": "", "enh-1": "enh", "enh-2": "enh", "enh-3": "enh", "enh-4": "enh"}
    assert list(p.due_date.iloc[1:]) == [22, 32, 42, 52] and list(p.priority) == [3, 2, 2, 2, 2]
    assert list(p.finish.iloc[:3]) == [15, 27, 39] and list(p.status.iloc[3:]) == ["open", "open"]
    k = one.kpis
    assert (k["on_time_rate"], k["mean_delay"], k["avg_in_system"]) == (0, 6, 76 / 50)
    assert k["value_delivered"] == 3 * (23 + 11)


# --------------------------------------------------------------------------- allocation rules

# One developer of productivity 2 holds Z's z until 10. Planned durations are effort /
# (people x base productivity) = effort / 2 (SPEC 10.5), as are the real ones here.
#   task  project arrival due(abs)  planned  latest finish      latest start
#   c     C       1       23        4.5      23                 18.5
#   a     A       2       20        4        20                 16
#   b     B       3       18        1        18                 17
#   d1    D       4       -         5        4 + 5 + 1 - 1 = 9  4   (no due: arrival + CPM 6)
#   d2    D       after d1          1        10                 9
# fifo: C A B D. lst: d1, then d2 (ready at 15, latest start 9), a, b, c. lft: d1, d2, b, a,
# c. (Ranking latest starts by raw effort, a 12 < c 14 < b 16, would give d1 d2 a c b.)
CPM_RULES = """
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 0, productivity: 2}
policies:
  fifo: {resource_manager: {allocation: fifo}}
  lst: {resource_manager: {allocation: lst}}
  lft: {resource_manager: {allocation: lft}}
projects:
  - {name: Z, tasks: [{name: z, skill: dev, effort: 20}]}
  - {name: C, arrival: 1, due: 22, tasks: [{name: c, skill: dev, effort: 9}]}
  - {name: A, arrival: 2, due: 18, tasks: [{name: a, skill: dev, effort: 8}]}
  - {name: B, arrival: 3, due: 15, tasks: [{name: b, skill: dev, effort: 2}]}
  - {name: D, arrival: 4, tasks: [{name: d1, skill: dev, effort: 10},
                                  {name: d2, skill: dev, effort: 2, after: [d1]}]}
"""


@pytest.mark.parametrize(("rule", "order"), [("fifo", "c a b d1 d2"), ("lst", "d1 d2 a b c"),
                                             ("lft", "d1 d2 b a c")])
def test_lst_and_lft_rank_tasks_by_their_cpm_latest_times_from_planned_durations(rule, order) -> None:
    duration = {"c": 4.5, "a": 4, "b": 1, "d1": 5, "d2": 1}
    expected, t = [("z", 0, 10)], 10.0
    for name in order.split():
        expected.append((name, t, t + duration[name]))
        t += duration[name]
    assert starts(simulate(CPM_RULES, rule)) == expected


@pytest.mark.parametrize("rule", ["fifo", "priority", "edd", "wsjf"])
def test_ties_fall_back_to_arrival_then_task_ready_time_then_file_order(rule) -> None:
    # No priorities, dues or values: every rule's key ties, so fifo decides (SPEC 5). Z, P and
    # Q arrive on day 0, S (first in the file) on 0.5. At 0 z, p2 and q are ready: z is first
    # in file order and takes the developer (0-10); qa does p0 (0-1), which makes p1 ready at
    # 1. At 10: P and Q (arrival 0) before S (0.5); of p2 (ready 0), q (ready 0) and p1
    # (ready 1), p2 before q by file order, then q, then p1; S last.
    one = simulate(f"""
name: t
horizon: 100
resources:
  dev: {{headcount: 1, day_rate: 0}}
  qa: {{headcount: 1, day_rate: 0}}
pmo:
  resource_manager: {{allocation: {rule}}}
projects:
  - {{name: S, arrival: 0.5, tasks: [{{name: s, skill: dev, effort: 1}}]}}
  - {{name: Z, tasks: [{{name: z, skill: dev, effort: 10}}]}}
  - {{name: P, tasks: [{{name: p0, skill: qa, effort: 1}}, {{name: p1, skill: dev, effort: 1, after: [p0]}},
                      {{name: p2, skill: dev, effort: 1}}]}}
  - {{name: Q, tasks: [{{name: q, skill: dev, effort: 1}}]}}
""")
    assert starts(one) == [("z", 0, 10), ("p0", 0, 1), ("p2", 10, 11), ("q", 11, 12),
                           ("p1", 12, 13), ("s", 13, 14)]


def test_min_slack_counts_the_remaining_critical_path_in_days_of_nominal_crews() -> None:
    # Z holds both developers until 10. At 10 (due, absolute; critical path in days):
    #   Q: 21 - 10 - 10 = 1;  R: 18 - 10 - 2 = 6;  P: 30 - 10 - 8 = 12 (p1: 16 person-days by
    #   2 people = 8 days, beside p2's 6); N: no due date, last.
    # (By person-days, P's 16 would give 4 and rank P before R; by total effort 22, first.)
    # q takes dev-1 (released first by z), r dev-2 (10-12). At 12 P's p1 needs two: p2 backfills
    # dev-2 (12-18), then n (18-19); p1 gets both at 20 when q ends: 8 days, longest idle first.
    one = simulate("""
name: t
horizon: 40
resources:
  dev: {headcount: 2, day_rate: 0}
pmo:
  resource_manager: {allocation: min_slack}
projects:
  - {name: Z, tasks: [{name: z, skill: dev, effort: 20, people: 2}]}
  - {name: N, arrival: 0.5, tasks: [{name: n, skill: dev, effort: 1}]}
  - {name: P, arrival: 1, due: 29, tasks: [{name: p1, skill: dev, effort: 16, people: 2},
                                           {name: p2, skill: dev, effort: 6}]}
  - {name: Q, arrival: 2, due: 19, tasks: [{name: q, skill: dev, effort: 10}]}
  - {name: R, arrival: 3, due: 15, tasks: [{name: r, skill: dev, effort: 2}]}
""")
    assert log(one) == [("Z", "z", 0, 10, "dev-1,dev-2"), ("Q", "q", 10, 20, "dev-1"),
                        ("R", "r", 10, 12, "dev-2"), ("P", "p2", 12, 18, "dev-2"),
                        ("N", "n", 18, 19, "dev-2"), ("P", "p1", 20, 28, "dev-2,dev-1")]


@pytest.mark.parametrize("backfill", [True, False])
def test_without_backfill_a_waiting_crew_holds_back_only_its_own_pool(backfill) -> None:
    # a holds dev-1 0-5; B's b (2 developers) is ready at 1 and ranks before C (fifo). At 2
    # C's c (qa) and c2 (dev) are ready. b cannot use qa, so c starts at 2 either way; c2
    # takes the free dev-2 at once with backfill (2-4), and without it waits behind b (5-7,
    # dev-2 idle longest) and takes dev-2 at 7. b2 (qa) follows b at 7.
    one = simulate(f"""
name: t
horizon: 40
resources:
  dev: {{headcount: 2, day_rate: 10}}
  qa: {{headcount: 1, day_rate: 10}}
pmo:
  resource_manager: {{backfill: {str(backfill).lower()}}}
projects:
  - {{name: A, tasks: [{{name: a, skill: dev, effort: 5}}]}}
  - {{name: B, arrival: 1, tasks: [{{name: b, skill: dev, effort: 4, people: 2}},
                                  {{name: b2, skill: qa, effort: 1, after: [b]}}]}}
  - {{name: C, arrival: 2, tasks: [{{name: c, skill: qa, effort: 3}}, {{name: c2, skill: dev, effort: 2}}]}}
""")
    c2 = [("C", "c2", 2, 4, "dev-2")] if backfill else []
    late = [] if backfill else [("C", "c2", 7, 9, "dev-2")]
    assert log(one) == [("A", "a", 0, 5, "dev-1"), ("C", "c", 2, 5, "qa-1"), *c2,
                        ("B", "b", 5, 7, "dev-2,dev-1"), ("B", "b2", 7, 8, "qa-1"), *late]


# One developer, WIP limit 1: A (0-5) is admitted; B, C, D wait in the backlog and are
# admitted one at a time, in the rule's order, each when the one before completes. At day 5:
#   project arrival priority due(abs) value effort  critical path  value/effort  slack at 5
#   B       1       2        30       20    5 + 5   5 (parallel)   2             30-5-5  = 20
#   C       2       3        20       3     6       6              0.5           20-5-6  = 9
#   D       3       1        24       9     12      12             0.75          24-5-12 = 7
# fifo BCD, priority DBC, edd CDB, srpt CBD, wsjf BDC, min_slack DCB: six different orders
# (min_slack's keys all fall by the same day a day while they wait: its order holds).
BACKLOG = """
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 0}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 5}]}
  - {name: B, arrival: 1, priority: 2, due: 29, value_per_day: 20,
     tasks: [{name: b1, skill: dev, effort: 5}, {name: b2, skill: dev, effort: 5}]}
  - {name: C, arrival: 2, priority: 3, due: 18, value_per_day: 3, tasks: [{name: c, skill: dev, effort: 6}]}
  - {name: D, arrival: 3, priority: 1, due: 21, value_per_day: 9, tasks: [{name: d, skill: dev, effort: 12}]}
"""


@pytest.mark.parametrize(("rule", "order"), [("fifo", "BCD"), ("priority", "DBC"), ("edd", "CDB"),
                                             ("srpt", "CBD"), ("wsjf", "BDC"), ("min_slack", "DCB")])
def test_the_wip_gate_admits_the_backlog_in_every_rules_order(rule, order) -> None:
    text = BACKLOG + f"pmo:\n  resource_manager: {{allocation: {rule}, wip_limit: 1}}\n"
    admitted = simulate(text).projects.set_index("project").admitted
    effort = {"B": 10, "C": 6, "D": 12}
    t, expected = 5, {"A": 0}
    for name in order:
        expected[name] = t
        t += effort[name]
    assert admitted.to_dict() == expected


# --------------------------------------------------------------------------- training manager


def test_a_fractional_cohort_repeats_on_the_untrained_first_ramps_up_and_cross_skills() -> None:
    # trainees 0.5 of 3 developers: 1.5, rounded to 2 people a cohort; one every 20 days from 5.
    # Cohort 1 (day 5): dev-1, dev-2 by slot; away 5-10; productivity 1 -> 1.5 over 10-20; they
    # may now work in qa too. r (qa, 6) at 12 finds qa-1 busy on q until 30: dev-1 (idle
    # since 10 like dev-2; slot order) takes it at 1 + 0.5 x 2/10 = 1.1: 6 / 1.1 days. s (dev)
    # at 15: dev-3, idle longest (since 0). t1 (3 people, 3) at 22: dev-2 (idle since 10),
    # dev-1 (since 12 + 6/1.1), dev-3 (since 20), at 1.5 + 1.5 + 1: 3 / 4 days. Cohort 2 (day
    # 25): those not yet through first, dev-3, then dev-1 by slot; the next would be at 45,
    # past the horizon. Cost 4 x 10; 20 days away. dev-1's qa work is dev-1's busy time (its
    # own pool's); the task counts where it was started (qa).
    one = simulate("""
name: t
horizon: 40
resources:
  dev: {headcount: 3, day_rate: 10}
  qa: {headcount: 1, day_rate: 10}
pmo:
  training_manager:
    programmes: [{name: x, skill: dev, trainees: 0.5, start: 5, duration_days: 5, cost_per_trainee: 10,
                  productivity_gain: 0.5, ramp_days: 10, cross_skill: qa, repeat_every: 20}]
projects:
  - {name: Q, tasks: [{name: q, skill: qa, effort: 30}]}
  - {name: R, arrival: 12, tasks: [{name: r, skill: qa, effort: 6}]}
  - {name: S, arrival: 15, tasks: [{name: s, skill: dev, effort: 5}]}
  - {name: T, arrival: 22, tasks: [{name: t1, skill: dev, effort: 3, people: 3}]}
""")
    assert log(one) == [("Q", "q", 0, 30, "qa-1"), ("R", "r", 12, round(12 + 6 / 1.1, 9), "dev-1"),
                        ("S", "s", 15, 20, "dev-3"), ("T", "t1", 22, 22.75, "dev-2,dev-1,dev-3")]
    assert (one.kpis["training_cost"], one.kpis["training_days"]) == (40, 20)
    pools = one.pools.set_index("pool")
    assert math.isclose(pools.busy_days["dev"], 6 / 1.1 + 5 + 3 * 0.75)
    assert (pools.busy_days["qa"], pools.tasks_started["qa"], pools.tasks_started["dev"]) == (30, 2, 2)
    assert pools.training_days.to_dict() == {"dev": 20, "qa": 0}


def test_gap_driven_training_runs_the_programme_for_the_pool_whose_tasks_waited() -> None:
    # The programme's own start (100) is past the horizon: only the gap reviews run it, every
    # 20 days. By day 20 qa started a (wait 0) and b (wait 10, behind a): mean 5 > 3, so the
    # programme runs for qa: qa-1 (free since 18) trains 20-22 and comes back twice as fast.
    # c (qa, 4) arrives at 21, waits for qa-1 and runs 22-24. At day 40 qa's only new task, c,
    # waited 1 <= 3 and dev started none: no more training; d (dev) runs at plain speed.
    one = simulate("""
name: t
horizon: 60
resources:
  dev: {headcount: 1, day_rate: 10}
  qa: {headcount: 1, day_rate: 10}
pmo:
  training_manager:
    programmes: [{name: g, skill: dev, trainees: 1, start: 100, duration_days: 2, cost_per_trainee: 5,
                  productivity_gain: 1.0}]
    gap_driven: {threshold_days: 3, programme: g}
projects:
  - {name: A, tasks: [{name: a, skill: qa, effort: 10}]}
  - {name: B, tasks: [{name: b, skill: qa, effort: 8}]}
  - {name: C, arrival: 21, tasks: [{name: c, skill: qa, effort: 4}]}
  - {name: D, arrival: 41, tasks: [{name: d, skill: dev, effort: 4}]}
""")
    assert log(one) == [("A", "a", 0, 10, "qa-1"), ("B", "b", 10, 18, "qa-1"),
                        ("C", "c", 22, 24, "qa-1"), ("D", "d", 41, 45, "dev-1")]
    assert (one.kpis["training_cost"], one.kpis["training_days"]) == (5, 2)
    pools = one.pools.set_index("pool")
    assert pools.training_days.to_dict() == {"dev": 0, "qa": 2}
    assert math.isclose(pools.mean_wait["qa"], (0 + 10 + 1) / 3)


# --------------------------------------------------------------------------- governance and WIP


def test_a_stage_gate_cancellation_frees_its_wip_slot_and_its_running_task_finishes_unpaid() -> None:
    # WIP limit 1: A is admitted, B waits in the backlog. A's estimate is 10 + 20 + 10 = 40;
    # a1 (0-10, dev-1) and a2 (0-20, dev-2) start at once. At 10, 10 = 0.25 x 40 is done: the
    # certain risk strikes first, adding 0.5 x (10 left of a2 + 10 of a3) = 10 to a3, and the
    # gate sees 50 > 1.2 x 40: A is cancelled on day 10. B is admitted at once and runs on the
    # free dev-1 (10-15); a2 runs to its end on dev-2 (no preemption), booked on A, which
    # earns nothing. Levels over 50 days: in system A 10 + B 15; admitted A 10 + B 5.
    # Costs: payroll 2 x 10 x 50, governance 365 a year over 50 of 250 days.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 2, day_rate: 10}
risks:
  - {name: slip, applies_to: {projects: [A]}, probability: 1, when: 0.25, impact: {effort: 0.5}}
pmo:
  resource_manager: {wip_limit: 1}
  governance: {stage_gate: {at_progress: 0.25, cancel_if_overrun: 1.2}, cost_per_year: 365}
projects:
  - {name: A, value_per_day: 100, tasks: [{name: a1, skill: dev, effort: 10},
                                          {name: a2, skill: dev, effort: 20},
                                          {name: a3, skill: dev, effort: 10, after: [a1]}]}
  - {name: B, value_per_day: 1, tasks: [{name: b, skill: dev, effort: 5}]}
""")
    assert log(one) == [("A", "a1", 0, 10, "dev-1"), ("A", "a2", 0, 20, "dev-2"), ("B", "b", 10, 15, "dev-1")]
    p = one.projects.set_index("project")
    assert p.status.to_dict() == {"A": "cancelled", "B": "completed"} and p.cancel_reason.A == "stage_gate"
    assert (p.admitted.B, p.finish.A, p.cost.A, p.effort_done.A, p.rework_effort.A) == (10, 10, 300, 30, 10)
    k = one.kpis
    assert (k["projects_completed"], k["projects_cancelled"], k["projects_open"]) == (1, 1, 0)
    assert (k["mean_cycle_time"], k["mean_wait"], k["avg_in_system"], k["avg_wip"]) == (15, 5, 0.5, 0.3)
    assert (k["value_delivered"], k["labour_cost"], k["pmo_cost"], k["utilisation"]) == (35, 1000, 73, 0.35)


def test_a_fraction_of_trainees_is_of_the_pools_headcount_even_while_others_are_away() -> None:
    # Four developers. p1 enrols 2 on day 1 (dev-1 finishes a first, dev-2 is free); p2 on
    # day 2 asks for 0.5 of the headcount: 0.5 x 4 = 2 people, dev-3 and dev-4, the two not
    # already enrolled. (pmo-sim took the fraction of the 2 not enrolled, and enrolled 1.)
    # Cost 2 x 1 + 2 x 100; away 4 x 10 days.
    one = simulate("""
name: t
horizon: 40
resources:
  dev: {headcount: 4, day_rate: 10}
pmo:
  training_manager:
    programmes:
      - {name: p1, skill: dev, trainees: 2, start: 1, duration_days: 10, cost_per_trainee: 1}
      - {name: p2, skill: dev, trainees: 0.5, start: 2, duration_days: 10, cost_per_trainee: 100}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 1}]}
""")
    assert (one.kpis["training_cost"], one.kpis["training_days"]) == (202, 40)


def test_a_stage_gate_reached_by_the_last_task_finds_the_project_completed_not_cancelled() -> None:
    # The effort is drawn from triangular(10, 10, 30): above the estimate (the mode, 10) with
    # probability 1, so the forecast always overruns 1.0 x 10. The gate looks when finished
    # work reaches 0.5 x 10: here only when a, the last task, finishes, and then the project
    # is completed (SPEC 4.1: when its last task finishes); there is nothing left to stop.
    # It earns 1 a day from then to the horizon. (pmo-sim cancelled the finished project.)
    one = simulate("""
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 10}
pmo:
  governance: {stage_gate: {at_progress: 0.5, cancel_if_overrun: 1.0}}
projects:
  - {name: A, value_per_day: 1, tasks: [{name: a, skill: dev, effort: {dist: triangular, low: 10, mode: 10,
                                                                       high: 30}}]}
""")
    a = one.projects.iloc[0]
    assert a.effort_planned > 10 and a.finish == a.effort_planned
    assert (a.status, a.cancel_reason, a.value_delivered) == ("completed", "", 100 - a.finish)
    assert (one.kpis["projects_completed"], one.kpis["projects_cancelled"]) == (1, 0)


# --------------------------------------------------------------------------- technology manager


def test_a_tool_dips_and_lifts_its_pools_only_new_hires_included_and_running_work_keeps_its_pace() -> None:
    # The tool reaches dev on day 10: productivity x 0.5 there, back linearly to x 2 on day 20
    # (SPEC 5's J-curve, as the README states it). a (started on 0, 30 days) keeps its pace.
    # dev-2, hired on day 12 by the staffing plan, starts b at 0.5 + 1.5 x 2/10 = 0.8: 8 / 0.8
    # = 10 days. qa is not in the tool's skills: c takes 8. d (day 25) runs at x 2: 4 days.
    # dev employed 60 + 48 days: headcount 1.8, payroll 10 x (108 + 60), busy 30 + 10 + 4.
    one = simulate("""
name: t
horizon: 60
resources:
  dev: {headcount: 1, day_rate: 10}
  qa: {headcount: 1, day_rate: 10}
pmo:
  resource_manager:
    staffing: [{day: 12, pool: dev, change: 1}]
  technology_manager:
    adoptions: [{name: tool, day: 10, skills: [dev], cost: 5, dip: 0.5, dip_days: 10, productivity_gain: 1.0}]
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 30}]}
  - {name: B, arrival: 12, tasks: [{name: b, skill: dev, effort: 8}]}
  - {name: C, arrival: 12, tasks: [{name: c, skill: qa, effort: 8}]}
  - {name: D, arrival: 25, tasks: [{name: d, skill: dev, effort: 8}]}
""")
    assert log(one) == [("A", "a", 0, 30, "dev-1"), ("B", "b", 12, 22, "dev-2"),
                        ("C", "c", 12, 20, "qa-1"), ("D", "d", 25, 29, "dev-2")]
    assert (one.kpis["technology_cost"], one.kpis["labour_cost"]) == (5, 1680)
    dev = one.pools.set_index("pool").loc["dev"]
    assert (dev.headcount_avg, dev.busy_days, dev.utilisation) == (1.8, 44, 44 / 108)


# --------------------------------------------------------------------------- change manager


def test_change_control_rejects_exactly_the_requests_whose_own_draw_falls_below_its_share() -> None:
    # Requests add nothing and pause nothing, so A runs 0-50 whatever they are. Those in
    # [0, 50), while A is started and open, reach it (SPEC 4: rate 50 a year over 250-day
    # years); each is rejected when its own pre-drawn uniform is below reject_fraction (the
    # same requests for every policy). The function costs 250 a year: 100 over 100 days.
    sc = load_scenario_text("""
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 0}
changes: {per_project_per_year: 50, effort_added: 0, disruption: 0}
policies:
  lax: {change_manager: {reject_fraction: 0.2, cost_per_year: 250}}
  strict: {change_manager: {reject_fraction: 0.7, assessment_days: 1, managers: 1, cost_per_year: 250}}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 50}]}
""")
    a = Sampler(sc).plan(0, 0).projects[0]
    reach = a.change_times < 50
    for policy, share in (("lax", 0.2), ("strict", 0.7)):
        one = ps.simulate(sc, policy=policy, seed=0, replication=0)
        assert log(one) == [("A", "a", 0, 50, "dev-1")]
        k = one.kpis
        assert k["changes"] == reach.sum() > 0 and k["changes"] == one.projects.changes.iloc[0]
        # The one assessor takes a day each: requests queue, but all are decided by the horizon.
        assert k["changes_rejected"] == (reach & (a.change_u < share)).sum()
        assert (k["rework_effort"], k["pmo_cost"]) == (0, 100)
