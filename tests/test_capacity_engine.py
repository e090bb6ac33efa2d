"""Capacity in the engine, exact cases worked out by hand (SPEC 10.4, 10.5).

Part-time people, equipment, tasks holding several pools, fixed durations, calendar
down-time, staffing plans and contractors; and the imported scheduling benchmarks against
their known results.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import pmo_sim as ps
from pmo_sim.experiment.single import SimulationResult
from pmo_sim.io.psplib import import_instance
from pmo_sim.scenario.loader import load_scenario_text

DATA = Path(__file__).parent / "data" / "psplib"


def simulate(text: str, policy: str | None = None, seed: int = 0) -> SimulationResult:
    return ps.simulate(load_scenario_text(text), policy=policy, seed=seed, replication=0)


def log(one: SimulationResult) -> list[tuple[str, str, float, float, str]]:
    t = one.tasks
    return [(r.project, r.task, round(r.start, 9), round(r.finish, 9), r.crew) for r in t.itertuples()]


# --------------------------------------------------------------------------- part-time people

PART_TIME = """
name: t
horizon: 200
resources:
  dev: {headcount: 2, day_rate: 100, fte: 0.5}
projects:
  - name: A
    tasks:
      - {name: solo, skill: dev, effort: 10}
      - {name: pair, skill: dev, effort: 10, people: 2, after: [solo]}
"""


def test_half_time_people_take_twice_as_long() -> None:
    # One half-time person does 10 person-days in 20 days; two do the next 10 in 10 days.
    one = simulate(PART_TIME)
    # (the pair's crew comes longest idle first)
    assert log(one) == [("A", "solo", 0, 20, "dev-1"), ("A", "pair", 20, 30, "dev-2,dev-1")]
    pool = one.pools.iloc[0]
    # Busy person-days count their project share: (20 + 2 x 10) x 0.5 = 20 of 2 x 200 x 0.5.
    assert pool.busy_days == 20 and pool.utilisation == 20 / 200
    # Payroll is per employed day whatever the fte; the project pays its share of their time.
    assert one.kpis["labour_cost"] == 2 * 200 * 100
    assert one.projects.iloc[0].cost == 100 * 0.5 * (20 + 2 * 10)


# --------------------------------------------------------------------------- equipment, needs, durations

EQUIPMENT = """
name: t
horizon: 100
resources:
  testers: {headcount: 4}
  env: {kind: equipment, units: 1, day_rate: 10}
projects:
  - name: A
    tasks: [{name: t1, needs: {testers: 1, env: 1}, effort: 6}]
  - name: B
    tasks: [{name: t2, needs: {testers: 2, env: 1}, effort: 4}]
  - name: C
    tasks: [{name: t3, needs: {testers: 1, env: 1}, effort: 3}]
"""


def test_a_one_unit_equipment_pool_serialises_the_tasks_that_need_it() -> None:
    # Four testers are free all along; the single environment passes from task to task.
    one = simulate(EQUIPMENT)
    assert log(one) == [("A", "t1", 0, 6, "testers-1,env-1"), ("B", "t2", 6, 8, "testers-2,testers-3,env-1"),
                        ("C", "t3", 8, 11, "testers-4,env-1")]
    env = one.pools.set_index("pool").loc["env"]
    assert env.kind == "equipment" and env.busy_days == 11 and env.utilisation == 11 / 100
    assert math.isnan(env.headcount_avg) and math.isnan(env.training_days)
    assert env.tasks_started == 3 and env.mean_wait == pytest.approx((0 + 6 + 8) / 3)
    assert one.kpis["equipment_cost"] == 10 * 100  # one unit, every day of the window


FIXED = """
name: t
horizon: 100
resources:
  dev: {headcount: 3}
projects:
  - name: A
    tasks:
      - {name: vendor, duration: 12}
      - {name: review, needs: {dev: 3}, duration: 5, after: [vendor]}
      - {name: fix, skill: dev, people: 3, effort: 6, after: [vendor]}
"""


def test_fixed_durations_ignore_the_crew() -> None:
    # `vendor` needs nothing and takes 12 days; `review` holds three people for 5 days whatever
    # their speed, then `fix` (3 people) does 6 person-days in 2.
    assert log(simulate(FIXED)) == [("A", "vendor", 0, 12, ""), ("A", "review", 12, 17, "dev-1,dev-2,dev-3"),
                                    ("A", "fix", 17, 19, "dev-1,dev-2,dev-3")]


def test_a_task_needing_two_people_pools_is_done_at_their_summed_speed_and_logs_its_whole_crew() -> None:
    # a needs a half-time developer of productivity 2 and two testers: 9 / (2 x 0.5 + 1 + 1)
    # = 3 days; b holds one tester for a fixed 2 days. Costs: a 100 x 0.5 x 3 + 2 x 50 x 3,
    # b 50 x 2 = 550. Crew sizes: 3 and 1 people (not the first pool's count).
    one = simulate("""
name: t
horizon: 40
resources:
  dev: {headcount: 1, day_rate: 100, fte: 0.5, productivity: 2}
  qa: {headcount: 2, day_rate: 50}
  env: {kind: equipment, units: 1}
projects:
  - name: A
    tasks:
      - {name: a, needs: {dev: 1, qa: 2, env: 1}, effort: 9}
      - {name: b, duration: 2, needs: {qa: 1}, after: [a]}
""")
    assert log(one) == [("A", "a", 0, 3, "dev-1,qa-1,qa-2,env-1"), ("A", "b", 3, 5, "qa-1")]
    assert one.tasks.people.tolist() == [3, 1]
    assert one.projects.iloc[0].cost == 550
    assert one.pools.set_index("pool").busy_days.to_dict() == {"dev": 1.5, "qa": 8.0, "env": 3.0}


# --------------------------------------------------------------------------- calendar

CLOSURE = """
name: t
horizon: 100
calendar: {closures: [{start: 3, days: 10}]}
resources:
  dev: {headcount: 1, day_rate: 1}
projects:
  - name: A
    tasks:
      - {name: a, skill: dev, effort: 5}
      - {name: b, skill: dev, effort: 2, after: [a]}
  - name: B
    arrival: 5
    tasks:
      - {name: c, duration: 1}
"""


def test_a_closure_extends_a_running_task_by_its_length_and_nothing_starts_during_it() -> None:
    # a: 3 days before the closure [3, 13), 2 after it; C arrives on day 5 and waits too.
    one = simulate(CLOSURE)
    assert log(one) == [("A", "a", 0, 15, "dev-1"), ("B", "c", 13, 14, ""), ("A", "b", 15, 17, "dev-1")]
    assert one.kpis["labour_cost"] == 100  # people are paid through the closure


HOLIDAY = """
name: t
horizon: 30
calendar: {start_date: 2027-01-04, holidays: [2027-01-06]}
resources:
  dev: {headcount: 1}
projects:
  - name: A
    tasks: [{name: a, skill: dev, effort: 4}]
"""


def test_a_holiday_is_one_working_day_of_down_time() -> None:
    # Monday 4 January is day 0; Wednesday 6 (day 2) is a holiday: 4 days of work end at the
    # start of day 5, so the task log dates the finish Friday 8 January (the last day worked).
    one = simulate(HOLIDAY)
    assert log(one) == [("A", "a", 0, 5, "dev-1")]
    assert (one.tasks.start_date[0], one.tasks.finish_date[0]) == ("2027-01-04", "2027-01-08")


RISK_IN_CLOSURE = """
name: t
horizon: 200
calendar: {closures: [{start: CLOSE_AT, days: CLOSE_DAYS}]}
resources:
  dev: {headcount: 2, day_rate: 100}
risks:
  - {name: slip, applies_to: {projects: [A]}, probability: 1, when: WHEN,
     impact: {delay: DELAY, effort: EFFORT}}
projects:
  - name: A
    tasks: [{name: a1, skill: dev, effort: 10}, {name: a2, skill: dev, effort: SECOND}]
"""


def risk_in_closure(**values: float) -> str:
    text = RISK_IN_CLOSURE
    for key, value in values.items():
        text = text.replace(key, str(value))
    return text


def test_rework_is_a_share_of_the_work_left_counting_only_working_days() -> None:
    # Closure [2, 7). a1 (10) ends on 15; a2 (40) has then worked 2 + 8 = 10 working days, so
    # 30 are left (not 25: the closure is no work). The risk strikes at a1's end (10 of 50
    # done = 0.2) and adds 0.5 x 30 = 15 as a rework task after a2 (45): 45 -> 60.
    one = simulate(risk_in_closure(CLOSE_AT=2, CLOSE_DAYS=5, WHEN=0.2, DELAY=0, EFFORT=0.5, SECOND=40))
    assert log(one) == [("A", "a1", 0, 15, "dev-1"), ("A", "a2", 0, 45, "dev-2"),
                        ("A", "rework-3", 45, 60, "dev-1")]
    assert one.projects.iloc[0].rework_effort == 15


def test_a_pause_overlapping_a_closure_does_not_lose_the_closure_twice() -> None:
    # Closure [12, 14); a risk strikes at a1's end (day 10) and pauses A 5 days: [10, 15).
    # a2 (20, from day 0) stands still while either holds, [10, 15), once: 10 working days
    # done by 10, 10 more from 15 -> 25. (Adding pause and closure made it 27.)
    one = simulate(risk_in_closure(CLOSE_AT=12, CLOSE_DAYS=2, WHEN=0.25, DELAY=5, EFFORT=0, SECOND=20))
    assert log(one) == [("A", "a1", 0, 10, "dev-1"), ("A", "a2", 0, 25, "dev-2")]


def test_a_pause_ending_in_a_closure_extends_a_running_task_by_its_working_days_only() -> None:
    # Pause [10, 15) from a1's end; closure [13, 20): a2 (20, from day 0) has worked 10 by
    # day 10, stands still until 20 (pause, then closure), and works its last 10 by 30.
    # (Adding the whole pause to a finish already moved by the closure made it 32.)
    one = simulate(risk_in_closure(CLOSE_AT=13, CLOSE_DAYS=7, WHEN=0.25, DELAY=5, EFFORT=0, SECOND=20))
    assert log(one) == [("A", "a1", 0, 10, "dev-1"), ("A", "a2", 0, 30, "dev-2")]


def test_effort_done_at_the_horizon_counts_working_days_only() -> None:
    # a (10 person-days) runs from day 0 through the closure [2, 5) and is open at the
    # horizon, 6: it worked days 0, 1 and 5, so 3 person-days are done (not 6).
    text = """
name: t
horizon: 6
calendar: {closures: [{start: 2, days: 3}]}
resources:
  dev: {headcount: 1}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 10}]}
"""
    one = simulate(text)
    assert one.projects.iloc[0].status == "open" and one.projects.iloc[0].effort_done == 3


def test_a_set_up_met_by_a_closure_is_not_counted_as_work_done() -> None:
    # Closure [2, 5), switch cost 1. y2 starts on 1.5 on dev-1 (coming from X): half a day of
    # set-up before the closure, half after, work from 5.5, 10 days: 15.5. At y1's end (10.5,
    # on dev-2, 0.5 + 5.5 days) the risk strikes: y2 has worked 5 days, 5 left, rework 2.5
    # (2.25 when the closure's end counted as the start of its work), done on dev-2 by 18.
    one = simulate("""
name: t
horizon: 100
calendar: {closures: [{start: 2, days: 3}]}
resources:
  dev: {headcount: 2}
risks:
  - {name: r, applies_to: {projects: [Y]}, probability: 1, when: 0.1, impact: {effort: 0.5}}
pmo:
  resource_manager: {switch_cost_days: 1}
projects:
  - {name: X, tasks: [{name: x, skill: dev, effort: 1.5}]}
  - {name: Y, arrival: 1.5, tasks: [{name: y1, skill: dev, effort: 6}, {name: y2, skill: dev, effort: 10}]}
""")
    assert log(one) == [("X", "x", 0, 1.5, "dev-1"), ("Y", "y1", 1.5, 10.5, "dev-2"),
                        ("Y", "y2", 1.5, 15.5, "dev-1"), ("Y", "rework-3", 15.5, 18, "dev-2")]
    assert one.projects.rework_effort.tolist() == [0, 2.5]


def test_utilisation_counts_neither_work_nor_availability_in_down_time() -> None:
    # One half-time developer, a holiday on day 2, horizon 20: a (2 person-days) takes 4
    # working days, 0 -> 5 across the holiday, then b (1) 5 -> 7. Work: (4 + 2) x 0.5 = 3
    # person-days, the efforts; available: (20 - 1) x 0.5 = 9.5 (nobody works on a holiday),
    # so utilisation 3 / 9.5, idle 6.5. Payroll still pays all 20 days; the project pays
    # the 7 days it held the developer, holiday included: 100 x 0.5 x 7.
    one = simulate("""
name: t
horizon: 20
calendar: {start_date: 2027-01-04, holidays: [2027-01-06]}
resources:
  dev: {headcount: 1, day_rate: 100, fte: 0.5}
projects:
  - name: A
    tasks: [{name: a, skill: dev, effort: 2}, {name: b, skill: dev, effort: 1, after: [a]}]
""")
    assert log(one) == [("A", "a", 0, 5, "dev-1"), ("A", "b", 5, 7, "dev-1")]
    pool = one.pools.iloc[0]
    assert (pool.busy_days, pool.idle_days, pool.headcount_avg) == (3, 6.5, 1)
    assert pool.utilisation == one.kpis["utilisation"] == 3 / 9.5
    assert one.kpis["labour_cost"] == 2000 and one.projects.iloc[0].cost == 350


def test_equipment_held_through_a_closure_is_not_busy_in_it() -> None:
    # Closure [2, 5): a (8 person-days, two developers and the one environment) works 0-2 and
    # 5-7; b follows 7 -> 8. Environment: 5 unit-days used of 30 - 3 = 27 available; it costs
    # 10 a day over all 30.
    one = simulate("""
name: t
horizon: 30
calendar: {closures: [{start: 2, days: 3}]}
resources:
  dev: {headcount: 2, day_rate: 100}
  env: {kind: equipment, units: 1, day_rate: 10}
projects:
  - {name: A, tasks: [{name: a, needs: {dev: 2, env: 1}, effort: 8}]}
  - {name: B, tasks: [{name: b, needs: {dev: 1, env: 1}, effort: 1}]}
""")
    assert log(one) == [("A", "a", 0, 7, "dev-1,dev-2,env-1"), ("B", "b", 7, 8, "dev-1,env-1")]
    pools = one.pools.set_index("pool")
    assert pools.busy_days.to_dict() == {"dev": 9, "env": 5}
    assert pools.utilisation.to_dict() == {"dev": 9 / 54, "env": 5 / 27}
    assert one.kpis["equipment_cost"] == 300 and one.projects.cost.tolist() == [2 * 100 * 7 + 10 * 7, 110]


# --------------------------------------------------------------------------- staffing

STAFFING = """
name: t
horizon: 100
resources:
  dev: {headcount: 2, day_rate: 1}
pmo:
  resource_manager:
    staffing: [{day: 20, pool: dev, change: 3}, {day: 60, pool: dev, change: -4}]
projects:
  - name: A
    tasks: [{name: a, skill: dev, effort: 30, people: 2}]
"""


def test_a_staffing_plan_gives_the_exact_time_averaged_headcount() -> None:
    # 2 people until day 20, 5 until day 60, then 1: (2 x 20 + 5 x 40 + 1 x 40) / 100.
    one = simulate(STAFFING)
    assert one.pools.iloc[0].headcount_avg == (2 * 20 + 5 * 40 + 1 * 40) / 100
    assert one.kpis["labour_cost"] == 2 * 20 + 5 * 40 + 1 * 40
    assert one.kpis["leavers"] == 0 and one.kpis["hires"] == 0  # planned changes, not turnover


def test_released_people_finish_their_task_first() -> None:
    text = STAFFING.replace("effort: 30, people: 2", "effort: 140, people: 2")  # busy until day 70
    one = simulate(text)
    # The two original people are on the task until day 70: releases take the most recently
    # hired first (slots 5, 4, 3 leave on day 60), then slot 2, after its task, on day 70.
    assert one.pools.iloc[0].headcount_avg == (2 * 20 + 5 * 40 + 2 * 10 + 1 * 30) / 100


# --------------------------------------------------------------------------- contractors

CONTRACTORS = """
name: t
horizon: 400
resources:
  dev: {headcount: 1, day_rate: 100}
intake:
  arrivals: {dist: exponential, mean: 6}
  templates:
    - name: job
      tasks: [{name: work, skill: dev, effort: {dist: exponential, mean: 8}}]
policies:
  alone: {}
  helped:
    resource_manager:
      contractors: [{pool: dev, max: 2, lead_time: 5, day_rate: 300, productivity: 1,
                     trigger_wait: 10, release_idle: 3}]
"""


def test_contractors_cut_waits_at_a_cost_within_their_bounds() -> None:
    res = ps.run_experiment(load_scenario_text(CONTRACTORS), replications=8, seed=2, jobs=1)
    kpis = res.replications.set_index(["policy", "replication"])
    alone, helped = kpis.loc["alone"], kpis.loc["helped"]
    assert (helped.mean_wait < alone.mean_wait).all()
    assert (alone.contractor_cost == 0).all() and (helped.contractor_cost > 0).all()
    # At most `max` contractors, each paid at most over the whole horizon.
    assert (helped.contractor_cost <= 2 * 300 * 400).all()
    pools = res.pools.set_index(["policy", "replication"])
    assert (pools.loc["helped"].headcount_avg > 1).all() and (pools.loc["alone"].headcount_avg == 1).all()
    assert (helped.total_cost == helped[["labour_cost", "contractor_cost", "training_cost",
                                         "technology_cost", "pmo_cost", "equipment_cost"]].sum(axis=1)).all()


CONTRACTOR_TRACE = """
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 100}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 30}]}
  - {name: B, tasks: [{name: b, skill: dev, effort: 6}]}
pmo:
  resource_manager:
    contractors: [{pool: dev, max: 1, lead_time: 5, day_rate: 300, productivity: 2,
                   trigger_wait: 10, release_idle: 4}]
"""


def test_a_contractor_arrives_works_and_leaves_on_time() -> None:
    # B waits from day 0; at day 10 a contractor is requested, arrives on day 15, does 6
    # person-days at productivity 2 by day 18, is idle 4 days and leaves on day 22.
    one = simulate(CONTRACTOR_TRACE)
    assert log(one) == [("A", "a", 0, 30, "dev-1"), ("B", "b", 15, 18, "dev-c1")]
    assert one.kpis["contractor_cost"] == 300 * (22 - 15)
    assert one.kpis["contractor_requests"] == 1


def test_a_contractor_arriving_in_a_closure_is_not_let_go_before_the_work_resumes() -> None:
    # Closure [2, 12). B waits from day 0; after 1 day of waiting a contractor is requested
    # and arrives on day 3, in the closure, where nobody may work: those are not idle working
    # days. B starts on day 12 at productivity 2 (6 / 2 = 3 days, to 15); the contractor is
    # then idle 4 working days and leaves on day 19, paid 300 x (19 - 3) = 4800.
    # (Counting the closure as idleness let them go on day 7, unused, B waiting until 40.)
    text = CONTRACTOR_TRACE.replace("horizon: 100",
                                    "horizon: 100\ncalendar: {closures: [{start: 2, days: 10}]}")
    text = text.replace("lead_time: 5", "lead_time: 2").replace("trigger_wait: 10", "trigger_wait: 1")
    one = simulate(text)
    assert log(one) == [("A", "a", 0, 40, "dev-1"), ("B", "b", 12, 15, "dev-c1")]
    assert one.kpis["contractor_cost"] == 300 * (19 - 3)
    assert one.kpis["contractor_requests"] == 1


def test_a_closure_during_a_contractors_idle_spell_is_waited_out() -> None:
    # No calendar effect on the work: B (6 person-days, contractor at productivity 2) runs
    # 15 -> 18; a closure [19, 29) falls in the contractor's idle spell: 1 idle working day
    # before it, 3 after, so they leave on day 32, paid 300 x (32 - 15).
    text = CONTRACTOR_TRACE.replace("horizon: 100",
                                    "horizon: 100\ncalendar: {closures: [{start: 19, days: 10}]}")
    one = simulate(text)
    assert log(one) == [("A", "a", 0, 40, "dev-1"), ("B", "b", 15, 18, "dev-c1")]
    assert one.kpis["contractor_cost"] == 300 * (32 - 15)


# --------------------------------------------------------------------------- PSPLIB / MPSPLIB

KNOWN = {"j301_1": 43, "j3020_9": 41, "j3048_10": 54}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_imported_j30_instances_never_beat_their_optimum(name: str) -> None:
    sc = load_scenario_text(import_instance(DATA / "j30" / f"{name}.sm"))
    for policy in sc.policy_names:
        one = ps.simulate(sc, policy=policy, seed=0, replication=0)
        assert (one.projects.status == "completed").all()
        assert one.projects.finish.max() >= KNOWN[name]
    # The latest-finish rule is the literature's best single-pass rule: optimal on j301_1.
    assert ps.simulate(sc, policy="lft", seed=0, replication=0).projects.finish.max() == KNOWN[name]


def test_the_mpsplib_instance_matches_the_published_parallel_sgs_result() -> None:
    # mp_j30_a2_nr2: P-SGS with minimum slack (activity level: latest start) gives a total
    # makespan of 68 (Poza et al.); its lower bound is 47.
    sc = load_scenario_text(import_instance(DATA / "mpsplib" / "mp_j30_a2_nr2.xml"))
    spans = {p: ps.simulate(sc, policy=p, seed=0, replication=0).projects.finish.max()
             for p in sc.policy_names}
    assert spans["lst"] == 68
    assert all(span >= 47 for span in spans.values())


def test_simultaneous_completions_are_ranked_together_when_batched() -> None:
    # Two one-day tasks end on day 1 and free one developer each. Sequentially, the first
    # completion hands its developer to the best task that fits one person (low, priority 3);
    # batched, both developers are free together and go to `pair` (priority 1, two people).
    text = """
name: t
horizon: 50
resources:
  dev: {headcount: 2}
pmo:
  resource_manager: {allocation: priority, batch_simultaneous: BATCH}
projects:
  - {name: X, priority: 5, tasks: [{name: x, skill: dev, effort: 1}]}
  - {name: Y, priority: 5, tasks: [{name: y, skill: dev, effort: 1}]}
  - {name: P, priority: 1, arrival: 0.5, tasks: [{name: pair, skill: dev, effort: 4, people: 2}]}
  - {name: L, priority: 3, arrival: 0.5, tasks: [{name: low, skill: dev, effort: 1}]}
"""
    sequential = log(simulate(text.replace("BATCH", "false")))
    batched = log(simulate(text.replace("BATCH", "true")))
    assert [r[1] for r in sequential][2:] == ["low", "pair"]
    assert [(r[1], r[2]) for r in batched][2:] == [("pair", 1), ("low", 3)]


def test_a_project_arriving_as_work_completes_is_ranked_with_the_work_it_releases() -> None:
    # a1 ends on day 2, when B arrives: a2 (latest finish 20) and b (latest finish 3) are both
    # ready on day 2 and the one unit goes to b, as in the parallel schedule-generation scheme.
    # Before, the completion was handled first and gave the unit to a2 alone.
    text = """
name: t
horizon: 50
resources:
  R: {kind: equipment, units: 1}
pmo:
  resource_manager: {allocation: lft, batch_simultaneous: true}
projects:
  - name: A
    due: 20
    tasks:
      - {name: a1, duration: 2, needs: {R: 1}}
      - {name: a2, duration: 5, needs: {R: 1}, after: [a1]}
  - {name: B, arrival: 2, due: 1, tasks: [{name: b, duration: 1, needs: {R: 1}}]}
"""
    assert [r[1:4] for r in log(simulate(text))] == [("a1", 0, 2), ("b", 2, 3), ("a2", 3, 8)]


def test_costs_add_up_with_every_kind_of_capacity() -> None:
    one = simulate(EQUIPMENT.replace("testers: {headcount: 4}", "testers: {headcount: 4, day_rate: 50}"))
    k = one.kpis
    parts = ("labour_cost", "training_cost", "technology_cost", "pmo_cost", "equipment_cost",
             "contractor_cost")
    assert k["total_cost"] == pytest.approx(sum(k[c] for c in parts))
    assert k["labour_cost"] == 4 * 50 * 100 and k["equipment_cost"] == 10 * 100
