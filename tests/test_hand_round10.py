"""Round 10 of the hand-computed checks: mechanisms that meet at one instant or on one task,
on tiny scenarios whose starts, finishes, costs and KPIs follow from SPEC (and the README's
documented readings of it) by pencil. Where a random event matters (a change request, a
leaver), the seed is chosen by its Plan (``strategies.first_seed``, as round 3 did) to put the
event in a stated window, and the expected schedule is written out from the event's time.

Rules used here beyond those of rounds 8 and 9:

- SPEC 5 / README "Governance": the stage gate's plan is the sum of the tasks' central
  efforts; it looks when the finished tasks' effort first reaches ``at_progress`` x plan and
  cancels if the forecast (sampled effort + rework) exceeds ``cancel_if_overrun`` x plan.
  A cancelled project earns nothing, counts in ``projects_cancelled`` and in no completed
  project KPI (cycle time, on-time rate, delay), but its labour and risk costs stay.
- README "Change requests": rework is ``effort_added`` x the remaining effort, spread pro rata
  over tasks not started, or, if all that is left is running, a new task after them; the
  disruption pauses the project: nothing of it starts, running work stands still.
- README "Strategy, funding and risks": a review comes after everything else of its instant;
  the projects one review funds (and the dependents one completion frees) join the backlog
  together and the WIP gate admits them in allocation order.
- workforce: a leaver works out their notice: the task in hand, or their time away.
"""

from __future__ import annotations

import math

import pytest
from hand import column, log, simulate
from strategies import first_seed

import pmo_sim as ps
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario_text


def test_a_stage_gate_stretched_by_a_closure_cancels_and_the_cancelled_projects_kpis() -> None:
    # One developer (rate 100), closure [2, 5), discount 8% a year (delta = ln 1.08 / 250).
    # A (due 10, value 50 a day + 1000 on delivery): a (4) -> b (4): plan 8. Its risk strikes
    # on admission (when 0) and adds 0.5 x 8 = 4 to the unstarted a and b pro rata: 6 and 6,
    # and charges 500 to A. Gate at 0.5 x 8 = 4 done, limit 1.2 x 8 = 9.6.
    #   a (6): [0, 2) + [5, 9): ends at 9 with 6 done >= 4: forecast 12 > 9.6: A cancelled at 9.
    #   B (c, 3; same arrival, later in the file) waits for dev-1: 9 -> 12 (due 20: on time).
    # A: cost 9 held days x 100 + 500 = 1400, value 0, effort done 6, status cancelled.
    # KPIs count B only as completed: cycle 12, on time 1/1, delay 0; mean wait over the
    # started A (0) and B (9): 4.5. Levels: A in [0, 9), B in [0, 12): 21 / 30 = 0.7.
    # Utilisation: busy 6 + 3 of 30 - 3 closed days = 1/3. Payroll 3000; risk_cost 500.
    # npv = 10 (e^{-12 delta} - e^{-30 delta}) / delta - 100 (1 - e^{-30 delta}) / delta - 500.
    one = simulate("""
name: t
horizon: 30
discount_rate: 0.08
calendar:
  closures: [{start: 2, days: 3}]
resources:
  dev: {headcount: 1, day_rate: 100}
risks:
  - {name: r, applies_to: {projects: [A]}, probability: 1, when: 0, impact: {effort: 0.5, cost: 500}}
pmo:
  governance:
    stage_gate: {at_progress: 0.5, cancel_if_overrun: 1.2}
projects:
  - name: A
    due: 10
    value_per_day: 50
    completion_value: 1000
    tasks:
      - {name: a, skill: dev, effort: 4}
      - {name: b, skill: dev, effort: 4, after: [a]}
  - {name: B, due: 20, value_per_day: 10, tasks: [{name: c, skill: dev, effort: 3}]}
""")
    assert log(one) == [("A", "a", 0, 9, "dev-1"), ("B", "c", 9, 12, "dev-1")]
    assert column(one, "status") == {"A": "cancelled", "B": "completed"}
    assert column(one, "cancel_reason") == {"A": "stage_gate", "B": ""}
    assert column(one, "finish") == {"A": 9, "B": 12}
    assert column(one, "cost") == {"A": 1400, "B": 300}
    assert column(one, "value_delivered") == {"A": 0, "B": 180}
    a = one.projects.set_index("project").loc["A"]
    assert (a.effort_planned, a.effort_done, a.rework_effort, a.risk_events) == (8, 6, 4, 1)
    k = one.kpis
    assert (k["projects_completed"], k["projects_cancelled"], k["projects_open"]) == (1, 1, 0)
    assert (k["on_time_rate"], k["mean_cycle_time"], k["mean_delay"], k["mean_wait"]) == (1, 12, 0, 4.5)
    assert k["avg_in_system"] == k["avg_wip"] == pytest.approx(0.7)
    assert k["utilisation"] == pytest.approx(1 / 3)
    assert k["throughput_per_year"] == pytest.approx(250 / 30)
    assert (k["value_delivered"], k["labour_cost"], k["risk_cost"], k["total_cost"]) == (180, 3000, 500, 3500)
    d = math.log(1.08) / 250
    npv = 10 * (math.exp(-12 * d) - math.exp(-30 * d)) / d - 100 * (1 - math.exp(-30 * d)) / d - 500
    assert k["npv"] == pytest.approx(npv, rel=1e-12)


CHANGE_AT_THE_RIG = """
name: t
horizon: 40
resources:
  dev: {headcount: 2, day_rate: 10}
  rig: {kind: equipment, units: 1, day_rate: 1}
changes: {per_project_per_year: 10, effort_added: 0.5, disruption: 3}
projects:
  - {name: P1, tasks: [{name: hold, needs: {rig: 1}, duration: 10}]}
  - name: P2
    tasks:
      - {name: s, skill: dev, effort: 1}
      - {name: x, needs: {dev: 1, rig: 1}, effort: 4, after: [s]}
      - {name: y, skill: dev, effort: 2, after: [s]}
  - {name: P3, arrival: 2, tasks: [{name: z, needs: {rig: 1}, duration: 1}]}
"""


@pytest.mark.parametrize("window", [(3.5, 6.5), (7.2, 9.8)], ids=["pause-ends-first", "rig-frees-first"])
def test_a_change_request_to_a_task_waiting_for_equipment_reworks_it_and_may_cost_it_the_rig(window) -> None:
    # P1 holds the only rig 0 -> 10. P2: s (dev-1) 0 -> 1 starts the project; y (dev-2) 1 -> 3;
    # x needs dev + rig and waits for the rig. P2's one change request comes at tc in the
    # window (none for P1 before 12, none for P3): x is the only work not started, so the
    # rework is 0.5 x 4 = 2 (x becomes 6), and P2 is paused [tc, tc + 3). P3 (arrival 2) needs
    # the rig for a day and ranks after P2 (fifo: earlier project arrival first).
    #   tc + 3 <= 10: the pause is over when the rig frees: x takes it (and dev-1, idle since 1,
    #     longer than dev-2) 10 -> 16; z after it, 16 -> 17.
    #   tc + 3 > 10: at 10 x may not start, so z (backfill) takes the rig 10 -> 11; x starts at
    #     max(11, tc + 3) and runs 6 days.
    # P2's cost: s 10 + y 20 + x 6 days x (10 + 1) = 96.
    sc = load_scenario_text(CHANGE_AT_THE_RIG)
    lo, hi = window

    def wanted(plan) -> bool:
        p1, p2, p3 = plan.projects
        t = p2.change_times
        return (len(t) >= 1 and lo < t[0] < hi and (len(t) == 1 or t[1] > 40)
                and not (p1.change_times < 12).any() and not len(p3.change_times))

    seed = first_seed(sc, wanted, 5000)
    tc = float(Sampler(sc).plan(seed, 0).projects[1].change_times[0])
    one = ps.simulate(sc, seed=seed, replication=0)
    if tc + 3 <= 10:
        x0, z0 = 10.0, 16.0
    else:
        x0, z0 = max(11.0, tc + 3), 10.0
    assert sorted(log(one), key=lambda r: (r[2], r[1])) == sorted([
        ("P1", "hold", 0, 10, "rig-1"), ("P2", "s", 0, 1, "dev-1"), ("P2", "y", 1, 3, "dev-2"),
        ("P2", "x", round(x0, 9), round(x0 + 6, 9), "dev-1,rig-1"),
        ("P3", "z", z0, z0 + 1, "rig-1")], key=lambda r: (r[2], r[1]))
    p2 = one.projects.set_index("project").loc["P2"]
    assert (p2.changes, p2.rework_effort, p2.effort_planned, p2.effort_done) == (1, 2, 7, 9)
    assert p2.cost == pytest.approx(96)
    assert one.kpis["changes"] == 1
    # Pools: x waited from 1 in both (SPEC 7.3: ready -> crew assigned), z from its arrival 2.
    # The utilisation KPI is of people: 9 busy of 80 person-days; the rig 10 + 6 + 1 of 40.
    dev, rig = (one.pools.set_index("pool").loc[n] for n in ("dev", "rig"))
    assert dev.mean_wait == pytest.approx((x0 - 1) / 3)
    assert rig.mean_wait == pytest.approx((x0 - 1 + z0 - 2) / 3)
    assert (dev.busy_days, rig.busy_days, rig.utilisation) == (9, 17, 17 / 40)
    assert one.kpis["utilisation"] == pytest.approx(9 / 80)


def test_a_risk_reached_by_the_original_work_strikes_the_rework_task_of_a_change_request() -> None:
    # A: one task a (8) on dev-1. Its one change request at tc in (1, 6) finds only the running
    # a: the rework R = 0.5 x (8 - tc) becomes a new task after a, and a stands still 2 days:
    # 0 -> 10. The risk's point is 1 x the plan, 8: reached when a ends at 10 (done 8), so it
    # strikes then: a pause [10, 13) and 0.5 x the remaining effort (the rework task, R) more:
    # the rework task runs 1.5 R from 13. rework_effort = R + 0.5 R; cost 10 x (10 + 1.5 R).
    sc = load_scenario_text("""
name: t
horizon: 40
resources:
  dev: {headcount: 1, day_rate: 10}
changes: {per_project_per_year: 10, effort_added: 0.5, disruption: 2}
risks:
  - {name: r, probability: 1, when: 1, impact: {delay: 3, effort: 0.5}}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 8}]}
""")

    def wanted(plan) -> bool:
        t = plan.projects[0].change_times
        return len(t) >= 1 and 1 < t[0] < 6 and (len(t) == 1 or t[1] > 40)

    seed = first_seed(sc, wanted, 5000)
    tc = float(Sampler(sc).plan(seed, 0).projects[0].change_times[0])
    r = 0.5 * (8 - tc)
    one = ps.simulate(sc, seed=seed, replication=0)
    rows = log(one)
    assert rows[0] == ("A", "a", 0, 10, "dev-1")
    assert len(rows) == 2 and rows[1][0] == "A" and rows[1][2:] == (13, round(13 + 1.5 * r, 9), "dev-1")
    p = one.projects.iloc[0]
    assert (p.changes, p.risk_events, p.effort_planned) == (1, 1, 8)
    assert p.rework_effort == pytest.approx(1.5 * r) and p.effort_done == pytest.approx(8 + 1.5 * r)
    assert p.finish == pytest.approx(13 + 1.5 * r) and p.cost == pytest.approx(10 * (10 + 1.5 * r))
    assert (one.kpis["changes"], one.kpis["risk_events"]) == (1, 1)


def test_a_trainee_who_resigns_mid_course_finishes_it_then_is_replaced_after_the_hiring_delay() -> None:
    # Two developers (rate 10) both on a day-0 course of 10 days (7 each, doubles them). dev-1's
    # resignation falls at L in (2, 6), inside the course (chosen by seed; nobody else leaves
    # before the horizon): a leaver works out the time away, so dev-1 leaves at 10 and dev-1.1
    # joins 3 days later, at 13, at 0.5 rising to 1 over 10 days. dev-1 takes the course's gain
    # with them; the newcomer is not enrolled.
    # A (arrives 12): a (6) on dev-2 (trained: 2 a day) 12 -> 15; b (6) waits for dev-1.1, who
    # starts it at 13 at 0.5 (fixed at the start): 12 days, 13 -> 25.
    # Employed: dev-1 10 + dev-2 40 + dev-1.1 27 = 77 person-days: payroll 770, headcount
    # 77 / 40; training 2 x 10 = 20 days and 14; busy 3 + 12 = 15: utilisation 15 / 77 (time
    # in training is available time), idle 77 - 20 - 15 = 42; waits (0 + 1) / 2.
    sc = load_scenario_text("""
name: t
horizon: 40
days_per_year: 100
resources:
  dev: {headcount: 2, day_rate: 10}
workforce: {attrition_per_year: 2, hiring_delay: 3, new_hire_productivity: 0.5, ramp_up_days: 10}
pmo:
  training_manager:
    programmes: [{name: k, skill: dev, trainees: 2, start: 0, duration_days: 10, cost_per_trainee: 7,
                  productivity_gain: 1.0}]
projects:
  - {name: A, arrival: 12, tasks: [{name: a, skill: dev, effort: 6}, {name: b, skill: dev, effort: 6}]}
""")

    def wanted(plan) -> bool:
        rate = 2 / 100  # hazard per day: a budget b is spent b / rate days after joining
        leave = [plan.occupant_draws(sc, 0, slot, k)[0] / rate for slot, k in ((0, 0), (0, 1), (1, 0))]
        return 2 < leave[0] < 6 and leave[1] > 40 and leave[2] > 40

    one = ps.simulate(sc, seed=first_seed(sc, wanted, 5000), replication=0)
    assert log(one) == [("A", "a", 12, 15, "dev-2"), ("A", "b", 13, 25, "dev-1.1")]
    k = one.kpis
    assert (k["leavers"], k["hires"], k["labour_cost"], k["training_cost"]) == (1, 1, 770, 14)
    assert (k["training_days"], k["mean_cycle_time"]) == (20, 13)
    pool = one.pools.iloc[0]
    assert pool.headcount_avg == pytest.approx(77 / 40)
    assert (pool.busy_days, pool.training_days, pool.idle_days, pool.mean_wait) == (15, 20, 42, 0.5)
    assert pool.utilisation == pytest.approx(15 / 77)


@pytest.mark.parametrize("per_year", [100, 130], ids=["B-funded-with-C", "B-funded-before"])
def test_a_completion_a_release_and_a_review_at_one_instant_under_a_wip_limit_of_one(per_year) -> None:
    # WIP limit 1; budget per_year a year of 10 days (released at 0, 10, 20, 30; no carry-over);
    # reviews every 5 days by arrival order; estimates = effort x 10: A 100, C 60, B 30.
    # A (arr 0) is funded at 0 and runs 0 -> 10 on dev-1. C (arr 1), B (arr 2, depends on A).
    # At day 10, in SPEC/README order: the release, A's completion (its slot frees, the
    # dependency gate opens), then the review (after everything else of the instant).
    #   100 a year: nothing is left at 5, so C and B are funded together by the review of 10
    #   (100 released: 60 + 30) and join the backlog together: fifo admits C (arrival 1) first,
    #   on dev-2 (idle since 0) 10 -> 16; B is admitted when C finishes: dev-1, 16 -> 19.
    #   130 a year: 30 left at 5 funds B (C does not fit) and B waits at the dependency gate;
    #   A's completion at 10 frees it into the empty slot at once (dev-2, 10 -> 13), before
    #   the review funds C, which waits for the slot although it ranks first: 13 -> 19 (dev-1).
    one = simulate(f"""
name: t
horizon: 40
days_per_year: 10
budget: {{per_year: {per_year}, carry_over: false}}
resources:
  dev: {{headcount: 2, day_rate: 10}}
pmo:
  resource_manager: {{wip_limit: 1}}
  governance:
    funding: {{rule: arrival, review_every: 5}}
projects:
  - {{name: A, arrival: 0, tasks: [{{name: a, skill: dev, effort: 10}}]}}
  - {{name: C, arrival: 1, tasks: [{{name: c, skill: dev, effort: 6}}]}}
  - {{name: B, arrival: 2, depends_on: [A], tasks: [{{name: b, skill: dev, effort: 3}}]}}
""")
    if per_year == 100:
        assert log(one) == [("A", "a", 0, 10, "dev-1"), ("C", "c", 10, 16, "dev-2"),
                            ("B", "b", 16, 19, "dev-1")]
        assert column(one, "funded") == {"A": 0, "B": 10, "C": 10}
        assert column(one, "admitted") == {"A": 0, "B": 16, "C": 10}
        waits = (0 + 9 + 14) / 3
    else:
        assert log(one) == [("A", "a", 0, 10, "dev-1"), ("B", "b", 10, 13, "dev-2"),
                            ("C", "c", 13, 19, "dev-1")]
        assert column(one, "funded") == {"A": 0, "B": 5, "C": 10}
        assert column(one, "admitted") == {"A": 0, "B": 10, "C": 13}
        waits = (0 + 12 + 8) / 3
    k = one.kpis
    # Levels: in system from arrival (a proposal has arrived): A [0, 10), C [1, 16) or [1, 19),
    # B [2, 19) or [2, 13); admitted one at a time from 0 to 19 (the slot never idles): 19 / 40.
    in_system = 10 + (15 + 17 if per_year == 100 else 18 + 11)
    assert k["avg_in_system"] == pytest.approx(in_system / 40)
    assert k["avg_wip"] == pytest.approx(19 / 40)
    assert k["mean_wait"] == pytest.approx(waits)
    assert (k["budget_committed"], k["budget_released"]) == (190, 4 * per_year)


def test_standard_estimates_shrink_each_draw_towards_its_mode_and_the_stage_gate_lets_it_pass() -> None:
    # a: triangular (5, 10, 30), b: 10 after a; plan (modes) 20; gate at 0.25 x 20 = 5 done
    # (a's finish), limit 1.2 x 20 = 24, so a draw e of a is cancelled iff e + 10 > 24, e > 14.
    # The seed gives e in (14, 18): plain cancels at e (A's finish, b never starts). Standard
    # practice (estimate_spread_reduction 0.5) moves the same draw to 10 + 0.5 (e - 10) in
    # (12, 14]: it passes the gate, and b runs after it: A completes at 10 + 0.5 (e - 10) + 10.
    # The draw e is read from plain's own trace (a's duration at one person of 1).
    sc = load_scenario_text("""
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 1}
pmo:
  governance:
    stage_gate: {at_progress: 0.25, cancel_if_overrun: 1.2}
policies:
  plain: {}
  standard: {governance: {estimate_spread_reduction: 0.5}}
projects:
  - name: A
    tasks:
      - {name: a, skill: dev, effort: {dist: triangular, low: 5, mode: 10, high: 30}}
      - {name: b, skill: dev, effort: 10, after: [a]}
""")

    def wanted(plan) -> bool:
        return 14 < plan.projects[0].efforts[0] < 18

    seed = first_seed(sc, wanted)
    plain = ps.simulate(sc, policy="plain", seed=seed, replication=0)
    standard = ps.simulate(sc, policy="standard", seed=seed, replication=0)
    (row,) = log(plain)
    e = float(plain.tasks.finish.iloc[0])
    assert row[:3] == ("A", "a", 0) and 14 < e < 18
    assert column(plain, "status") == {"A": "cancelled"} and column(plain, "finish")["A"] == e
    assert column(plain, "effort_planned")["A"] == pytest.approx(e + 10)
    shrunk = 10 + 0.5 * (e - 10)
    assert log(standard) == [("A", "a", 0, round(shrunk, 9), "dev-1"),
                             ("A", "b", round(shrunk, 9), round(shrunk + 10, 9), "dev-1")]
    assert column(standard, "status") == {"A": "completed"}
    assert column(standard, "effort_planned")["A"] == pytest.approx(shrunk + 10)


def test_a_pause_that_runs_into_a_closure_stands_work_still_once_not_twice() -> None:
    # Closure [5, 8). A: a (4) on dev-1, 0 -> 4; v (10 days, needs nothing) from 0; b (6) after
    # a. Plan 4 + 10 + 6 = 20; the risk's point 0.2 x 20 = 4 is reached when a ends: it pauses A
    # 3 days, [4, 7), which overlap the closure in [5, 7). Pause and closure are both time in
    # which nothing of A progresses, so v stands still over their union [4, 8): 4 days, and
    # ends at 10 + 4 = 14 (not 10 + 3 + 3 = 16, the two added). b, ready at 4, may not start
    # in the pause nor in the closure: 8 -> 14. dev-1 waited for b 4 days: pool wait (0 + 4) / 2.
    # Utilisation: busy 4 + 6 of 40 - 3 closed days.
    one = simulate("""
name: t
horizon: 40
calendar:
  closures: [{start: 5, days: 3}]
resources:
  dev: {headcount: 1, day_rate: 10}
risks:
  - {name: r, probability: 1, when: 0.2, impact: {delay: 3}}
projects:
  - name: A
    tasks:
      - {name: a, skill: dev, effort: 4}
      - {name: v, duration: 10}
      - {name: b, skill: dev, effort: 6, after: [a]}
""")
    assert log(one) == [("A", "a", 0, 4, "dev-1"), ("A", "v", 0, 14, ""), ("A", "b", 8, 14, "dev-1")]
    assert (column(one, "finish"), column(one, "risk_events")) == ({"A": 14}, {"A": 1})
    pool = one.pools.iloc[0]
    assert (pool.mean_wait, pool.busy_days) == (2, 10) and pool.utilisation == pytest.approx(10 / 37)


def test_the_forecast_of_a_project_the_stage_gate_always_cancels(tmp_path) -> None:
    # The first test's scenario without discounting, dated from Monday 2027-01-04, run 3 times:
    # every replication is the same. A is cancelled on day 9 in each: it never finishes, so
    # its percentiles are "not reached" (inf), its chances of finishing by its due day or by
    # --by are 0 and P(cancelled) is 1. B finishes at 12, the end of working day 11 (days 0-4
    # are Mon 01-04 .. Fri 01-08, day 11 is Tue 01-19); due 20 ends day 19, Fri 01-29.
    text = """
name: t
horizon: 30
calendar:
  start_date: 2027-01-04
  closures: [{start: 2, days: 3}]
resources:
  dev: {headcount: 1, day_rate: 100}
risks:
  - {name: r, applies_to: {projects: [A]}, probability: 1, when: 0, impact: {effort: 0.5, cost: 500}}
pmo:
  governance:
    stage_gate: {at_progress: 0.5, cancel_if_overrun: 1.2}
projects:
  - {name: A, due: 10, value_per_day: 50, tasks: [{name: a, skill: dev, effort: 4},
                                                  {name: b, skill: dev, effort: 4, after: [a]}]}
  - {name: B, due: 20, value_per_day: 10, tasks: [{name: c, skill: dev, effort: 3}]}
"""
    ps.run_experiment(load_scenario_text(text), replications=3, seed=0, jobs=1, out=tmp_path / "r")
    f = ps.load_results(tmp_path / "r").forecast(by=12).set_index("name")
    for q in ("p10", "p50", "p80", "p90"):
        assert f[q].to_dict() == {"A": math.inf, "B": 12}
        assert f[f"{q}_date"]["A"] is None and f[f"{q}_date"]["B"].isoformat() == "2027-01-19"
    assert f.due_on["B"].isoformat() == "2027-01-29"
    assert f.p_cancelled.to_dict() == {"A": 1, "B": 0} and f.p_completed.to_dict() == {"A": 0, "B": 1}
    assert f.p_on_time.to_dict() == {"A": 0, "B": 1} and f.p_by.to_dict() == {"A": 0, "B": 1}
    assert f.p_unfinished.to_dict() == {"A": 0, "B": 0} and f.n.tolist() == [3, 3]


def test_a_tool_in_its_dip_innovation_time_and_daily_ideas_on_one_task_projects() -> None:
    # One developer (rate 10). A tool adopted on day 0 (cost 300) for every pool: productivity
    # falls by 0.5 and climbs linearly to 1.5 at day 4; 20% of everyone's time goes to
    # improvement work (500 a year of 250 days); an idea a day on average, every one a
    # success cutting 50% of the work not yet started.
    #   A (arrives 1, one task of 6): at day 1 the J-curve is at 0.5 + (1.5 - 0.5) x 1/4 = 0.75,
    #   times 0.8 of the time: 0.6 a day, fixed at the start: 10 days, 1 -> 11.
    #   B (arrives 30, 6): 1.5 x 0.8 = 1.2 a day: 5 days, 30 -> 35.
    # Each task starts on its project's arrival, so no idea ever finds work not started: the
    # ~50 ideas cut nothing (running tasks keep their duration) and efforts stay 6.
    # Costs: payroll 500, tool 300, innovation 500 x 50 / 250 = 100: 900; A's value 10 x 39.
    # Busy 10 + 5 (innovation time is spent inside the tasks): utilisation 15 / 50.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 10}
pmo:
  technology_manager:
    adoptions: [{name: tool, day: 0, cost: 300, productivity_gain: 0.5, dip: 0.5, dip_days: 4}]
  innovation_manager: {time_fraction: 0.2, ideas_per_year: 250, success_probability: 1,
                       effort_reduction: 0.5, cost_per_year: 500}
projects:
  - {name: A, arrival: 1, value_per_day: 10, tasks: [{name: a, skill: dev, effort: 6}]}
  - {name: B, arrival: 30, tasks: [{name: b, skill: dev, effort: 6}]}
""")
    assert log(one) == [("A", "a", 1, 11, "dev-1"), ("B", "b", 30, 35, "dev-1")]
    assert column(one, "effort_done") == {"A": 6, "B": 6}
    k = one.kpis
    assert (k["labour_cost"], k["technology_cost"], k["pmo_cost"], k["total_cost"]) == (500, 300, 100, 900)
    assert (k["value_delivered"], k["npv"]) == (390, -510)
    assert k["mean_cycle_time"] == pytest.approx(7.5) and k["utilisation"] == pytest.approx(0.3)
