"""Strategy, funding, dependencies, risks and forecasts (SPEC 10.1-10.3, 10.6, 10.8) on tiny
deterministic scenarios whose every number is worked out by hand in a comment.

Constant efforts, one or two pools, explicit projects; risks strike with probability 1 or 0.
They add to tests/test_funding_engine.py, test_risks_engine.py, test_dependencies_engine.py
and test_section10_hand.py what those leave unchecked: goal weights and the goals table, the
default cost estimate, periodic reviews with min_score and max_wait, ties, mitigation paid on
the funding day, a pause of running work, template risks, the dependency gate and the WIP
gate, cascades at a review, and forecasts of a run whose replications are all alike.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hand import column, log, simulate

import pmo_sim as ps
from pmo_sim.cli import main
from pmo_sim.scenario.loader import load_scenario_text

NAN = math.nan


def same(got: dict[str, object], want: dict[str, object]) -> bool:
    def eq(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return a == b
    return got.keys() == want.keys() and all(eq(got[k], want[k]) for k in got)


# --------------------------------------------------------------------------- strategy (10.1)


def test_weights_normalise_missing_goals_count_zero_and_the_goals_table() -> None:
    # Weights 3, 1, 0 normalise to 0.75, 0.25, 0 (z is tracked, never scores).
    #   P {g .4, h .8}: 0.75 x .4 + 0.25 x .8 = 0.5    Q {z 1}: 0    R {h 1}: 0.25
    # Two developers: P 0 -> 10 and Q 0 -> 20; R waits for P: 10 -> 60.
    # Value to the horizon (100): P 2 x 90 = 180, Q 1 x 80 = 80, R 3 x 40 = 120.
    # strategic_value = 0.5 x 180 + 0 x 80 + 0.25 x 120 = 120.
    # goals: g  weight .75, completed aligned {P}    = 1, value .4 x 180           = 72
    #        h  weight .25, completed aligned {P, R} = 2, value .8 x 180 + 1 x 120 = 264
    #        z  weight 0,   completed aligned {Q}    = 1, value 1 x 80             = 80
    one = simulate("""
name: t
horizon: 100
strategy: {goals: {g: {weight: 3}, h: {weight: 1}, z: {weight: 0}}}
resources:
  dev: {headcount: 2, day_rate: 0}
projects:
  - {name: P, alignment: {g: 0.4, h: 0.8}, value_per_day: 2, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: Q, alignment: {z: 1.0}, value_per_day: 1, tasks: [{name: a, skill: dev, effort: 20}]}
  - {name: R, alignment: {h: 1.0}, value_per_day: 3, tasks: [{name: a, skill: dev, effort: 50}]}
""")
    assert log(one) == [("P", "a", 0, 10, "dev-1"), ("Q", "a", 0, 20, "dev-2"), ("R", "a", 10, 60, "dev-1")]
    score = column(one, "score")
    assert math.isclose(score["P"], 0.5) and score["Q"] == 0 and score["R"] == 0.25
    assert column(one, "value_delivered") == {"P": 180, "Q": 80, "R": 120}
    assert math.isclose(one.kpis["strategic_value"], 120)
    goals = one.goals.set_index("goal")
    assert list(goals.index) == ["g", "h", "z"]
    assert goals.weight.to_dict() == {"g": 0.75, "h": 0.25, "z": 0.0}
    assert goals.projects_completed.to_dict() == {"g": 1, "h": 2, "z": 1}
    assert [round(v, 9) for v in goals.value_delivered] == [72, 264, 80]


def test_the_default_cost_estimate_is_central_effort_times_day_rate_and_is_what_funding_commits() -> None:
    # X's estimate: a's mode 8 x 100 (the crew of 2 does not matter) + b's PERT mode 4 x 50
    # + c's uniform mean 4 x 100 = 800 + 200 + 400 = 1400: exactly the first year's 1400.
    # Y (explicit 1) no longer fits and waits for the day-100 release (carried over 0 + 1400).
    one = simulate("""
name: t
horizon: 150
days_per_year: 100
budget: {per_year: 1400}
resources:
  dev: {headcount: 2, day_rate: 100}
  qa: {headcount: 1, day_rate: 50}
pmo:
  governance: {funding: {rule: arrival}}
projects:
  - name: X
    tasks:
      - {name: a, skill: dev, people: 2, effort: {dist: triangular, low: 5, mode: 8, high: 20}}
      - {name: b, skill: qa, effort: {dist: pert, low: 2, mode: 4, high: 12}, after: [a]}
      - {name: c, skill: dev, effort: {dist: uniform, low: 2, high: 6}, after: [b]}
  - {name: Y, cost_estimate: 1, tasks: [{name: a, skill: qa, effort: 1}]}
""")
    assert column(one, "cost_estimate") == {"X": 1400, "Y": 1}
    assert column(one, "funded") == {"X": 0, "Y": 100}
    k = one.kpis
    assert (k["budget_committed"], k["budget_released"], k["projects_funded"]) == (1401, 2800, 2)


# --------------------------------------------------------------------------- funding (10.2)

BOARD = """
name: t
horizon: 100
days_per_year: 1000
strategy: {goals: {g: {weight: 1}}}
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: score, review_every: 20, min_score: 0.3, max_wait: 50}}
projects:
  - {name: A, arrival: 5, alignment: {g: 0.5}, cost_estimate: 60, tasks: [{name: a, skill: dev, effort: 5}]}
  - {name: B, arrival: 12, alignment: {g: 0.2}, cost_estimate: 1, tasks: [{name: b, skill: dev, effort: 5}]}
  - {name: C, arrival: 15, alignment: {g: 0.9}, cost_estimate: 50, tasks: [{name: c, skill: dev, effort: 5}]}
  - {name: D, arrival: 25, alignment: {g: 0.4}, cost_estimate: 40, tasks: [{name: d, skill: dev, effort: 5}]}
"""


def test_periodic_reviews_with_min_score_max_wait_and_the_budget_left() -> None:
    # Meetings on 0, 20, 40, 60, 80; 100 released on day 0, nothing more before the horizon.
    # Day 20: waiting A (.5), B (.2), C (.9). B < min_score: rejected on 20 (not on arrival).
    #   By score: C 50 (50 left), A 60 does not fit.  C runs 20 -> 25.
    # Day 40: A (.5) and D (.4, arrived 25): A still does not fit; D 40 (10 left): 40 -> 45.
    # A has waited 50 days on 5 + 50 = 55: rejected then, between meetings.
    # Left: 100 - 90 = 10.
    one = simulate(BOARD)
    assert same(column(one, "funded"), {"A": NAN, "B": NAN, "C": 20.0, "D": 40.0})
    assert column(one, "status") == {"A": "rejected", "B": "rejected", "C": "completed", "D": "completed"}
    assert same(column(one, "finish"), {"A": 55.0, "B": 20.0, "C": 25.0, "D": 45.0})
    assert same(column(one, "admitted"), {"A": NAN, "B": NAN, "C": 20.0, "D": 40.0})
    k = one.kpis
    assert (k["projects_funded"], k["projects_rejected"], k["budget_committed"]) == (2, 2, 90)
    assert k["budget_released"] - k["budget_committed"] == 10


def test_an_arrival_at_a_meeting_is_reviewed_there_and_expiry_at_a_meeting_comes_after_it() -> None:
    # Meetings every 20 days. A arrives on 20, the instant of a meeting: a review comes after
    # everything else of its instant, so A is funded on 20 (1 day: 20 -> 21). B (21) and C (30)
    # wait for the day-40 meeting. With max_wait 19, B expires on 40 itself: the meeting comes
    # first and funds it (40 -> 41, then C 41 -> 42). With max_wait 10, B is rejected on 31 and
    # C (expiring on 40) is funded at that meeting (40 -> 41).
    text = """
name: t
horizon: 100
days_per_year: 1000
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: arrival, review_every: 20, max_wait: MAX}}
projects:
  - {name: A, arrival: 20, cost_estimate: 10, tasks: [{name: a, skill: dev, effort: 1}]}
  - {name: B, arrival: 21, cost_estimate: 10, tasks: [{name: b, skill: dev, effort: 1}]}
  - {name: C, arrival: 30, cost_estimate: 10, tasks: [{name: c, skill: dev, effort: 1}]}
"""
    late = simulate(text.replace("MAX", "19"))
    assert column(late, "funded") == {"A": 20, "B": 40, "C": 40}
    assert column(late, "finish") == {"A": 21, "B": 41, "C": 42}
    short = simulate(text.replace("MAX", "10"))
    assert same(column(short, "funded"), {"A": 20.0, "B": NAN, "C": 40.0})
    assert column(short, "status") == {"A": "completed", "B": "rejected", "C": "completed"}
    assert column(short, "finish") == {"A": 21, "B": 31, "C": 41}


def test_equal_keys_fund_the_earlier_arrival_before_the_earlier_line_of_the_file() -> None:
    # X (file first, arrives 3) and Y (arrives 1) score the same; each costs 60 of 100. At the
    # day-10 meeting the tie goes to the earlier arrival, Y; X no longer fits.
    one = simulate("""
name: t
horizon: 50
days_per_year: 1000
strategy: {goals: {g: {weight: 1}}}
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: score, review_every: 10}}
projects:
  - {name: X, arrival: 3, alignment: {g: 0.5}, cost_estimate: 60, tasks: [{name: x, skill: dev, effort: 1}]}
  - {name: Y, arrival: 1, alignment: {g: 0.5}, cost_estimate: 60, tasks: [{name: y, skill: dev, effort: 1}]}
""")
    assert same(column(one, "funded"), {"X": NAN, "Y": 10.0})
    assert column(one, "status") == {"X": "proposal", "Y": "completed"}


def test_below_min_score_on_arrival_is_rejected_on_arrival() -> None:
    # review_every 0: L (score 0.1 < 0.2) is rejected the instant it arrives, on 7, and never
    # holds funds; H (0.8) is funded on 9.
    one = simulate("""
name: t
horizon: 50
strategy: {goals: {g: {weight: 1}}}
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: score, min_score: 0.2}}
projects:
  - {name: L, arrival: 7, alignment: {g: 0.1}, cost_estimate: 10, tasks: [{name: l, skill: dev, effort: 1}]}
  - {name: H, arrival: 9, alignment: {g: 0.8}, cost_estimate: 100, tasks: [{name: h, skill: dev, effort: 1}]}
""")
    assert column(one, "status") == {"L": "rejected", "H": "completed"}
    assert column(one, "finish") == {"L": 7, "H": 10}
    assert same(column(one, "funded"), {"L": NAN, "H": 9.0})
    assert one.kpis["budget_committed"] == 100


def test_value_per_cost_reviewed_on_arrival_funds_first_come_while_funds_last_then_by_rule() -> None:
    # review_every 0: each arrival is reviewed alone. A (day 0, 60) fits: 40 left. B (day 1,
    # value/cost 10/30) fits: 10 left. C (day 2, 50) waits. On day 100, 10 + 100 = 110 and the
    # waiting C (2/50 = .04) and D (arrived 50, 1/100 = .01) are ranked: C 50 (60 left), D 100
    # does not fit; with carry-over, day 200 brings 60 + 100 = 160 and D is funded then.
    one = simulate("""
name: t
horizon: 250
days_per_year: 100
budget: {per_year: 100, carry_over: true}
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: value_per_cost}}
projects:
  - {name: A, value_per_day: 1, cost_estimate: 60, tasks: [{name: a, skill: dev, effort: 1}]}
  - {name: B, arrival: 1, value_per_day: 10, cost_estimate: 30, tasks: [{name: b, skill: dev, effort: 1}]}
  - {name: C, arrival: 2, value_per_day: 2, cost_estimate: 50, tasks: [{name: c, skill: dev, effort: 1}]}
  - {name: D, arrival: 50, value_per_day: 1, cost_estimate: 100, tasks: [{name: d, skill: dev, effort: 1}]}
""")
    assert column(one, "funded") == {"A": 0, "B": 1, "C": 100, "D": 200}
    assert one.kpis["budget_committed"] == 240 and one.kpis["budget_released"] == 300


def test_npv_ranks_at_the_review_day_not_at_arrival() -> None:
    # Funds 100 fit one of A and B (100 each), both arriving on 1. Own NPV at review day t
    # (no discounting, horizon 100): A 10 a day from t + 1 (1 planned day) to 100, B a
    # completion value of 500 on t + 1.  Reviewed on arrival (t = 1): A 10 x 98 - 100 = 880
    # > B 400: A funded on 1.  Reviewed at the day-60 meeting: A 10 x 39 - 100 = 290 < 400:
    # B funded on 60.
    text = """
name: t
horizon: 100
days_per_year: 1000
budget: {per_year: 100}
resources:
  dev: {headcount: 2, day_rate: 0}
policies:
  on_arrival: {governance: {funding: {rule: npv}}}
  meeting: {governance: {funding: {rule: npv, review_every: 60}}}
projects:
  - {name: A, arrival: 1, value_per_day: 10, cost_estimate: 100, tasks: [{name: a, skill: dev, effort: 1}]}
  - {name: B, arrival: 1, completion_value: 500, cost_estimate: 100,
     tasks: [{name: b, skill: dev, effort: 1}]}
"""
    sc = load_scenario_text(text)
    first = ps.simulate(sc, policy="on_arrival")
    later = ps.simulate(sc, policy="meeting")
    assert same(column(first, "funded"), {"A": 1.0, "B": NAN})
    assert same(column(later, "funded"), {"A": NAN, "B": 60.0})
    assert first.kpis["value_delivered"] == 10 * 98 and later.kpis["value_delivered"] == 500


def test_max_wait_ending_at_a_release_lets_the_release_fund_it_first() -> None:
    # 50 a year of 100 days, A (50) takes year 0's. B (40) arrives on 10 with max_wait 90: it
    # expires on 100, the instant of the release; with review_every 0 the release is a review,
    # which comes first and funds B (50 >= 40). With max_wait 89 it is rejected on 99.
    text = """
name: t
horizon: 150
days_per_year: 100
budget: {per_year: 50}
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: arrival, max_wait: MAX}}
projects:
  - {name: A, cost_estimate: 50, tasks: [{name: a, skill: dev, effort: 1}]}
  - {name: B, arrival: 10, cost_estimate: 40, tasks: [{name: b, skill: dev, effort: 1}]}
"""
    funded = simulate(text.replace("MAX", "90"))
    assert column(funded, "funded") == {"A": 0, "B": 100} and column(funded, "finish") == {"A": 1, "B": 101}
    rejected = simulate(text.replace("MAX", "89"))
    assert column(rejected, "status") == {"A": "completed", "B": "rejected"}
    assert column(rejected, "finish") == {"A": 1, "B": 99}


# --------------------------------------------------------------------------- risks (10.3)


def test_mitigation_is_paid_on_the_funding_day_and_a_rejected_project_is_spared() -> None:
    # 50 a year (100-day years), carried over. A (50) is funded on day 0: nothing left. B (40,
    # arrives 80) waits 20 days for the day-100 release (within max_wait 30). C (500) can
    # never fit: rejected on 0 + 30 = 30, unfunded, never admitted: no mitigation, no strike.
    # The risk strikes every applicable project at its end (when 1), cost 10 x (1 - .5) = 5:
    # A 0 -> 10 (strike on 10), B 100 -> 110 (strike on 110). Mitigation 7 per funded project:
    # A on day 0, B on day 100. Discounting at ln(1.1)/100 a day from each payment's day.
    one = simulate("""
name: t
horizon: 150
days_per_year: 100
discount_rate: 0.1
budget: {per_year: 50}
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r, probability: 1, when: 1, impact: {cost: 10}}
pmo:
  governance:
    funding: {rule: arrival, max_wait: 30}
    risk_mitigation: {r: {cost: 7, impact_reduction: 0.5}}
projects:
  - {name: A, cost_estimate: 50, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, arrival: 80, cost_estimate: 40, tasks: [{name: b, skill: dev, effort: 10}]}
  - {name: C, cost_estimate: 500, tasks: [{name: c, skill: dev, effort: 10}]}
""")
    assert log(one) == [("A", "a", 0, 10, "dev-1"), ("B", "b", 100, 110, "dev-1")]
    assert same(column(one, "funded"), {"A": 0.0, "B": 100.0, "C": NAN})
    assert column(one, "status") == {"A": "completed", "B": "completed", "C": "rejected"}
    assert column(one, "cost") == {"A": 5, "B": 5, "C": 0}
    assert column(one, "risk_events") == {"A": 1, "B": 1, "C": 0}
    k = one.kpis
    assert (k["mitigation_cost"], k["risk_cost"], k["risk_events"], k["total_cost"]) == (14, 10, 2, 24)
    d = math.log(1.1) / 100
    paid = 7 + 5 * math.exp(-d * 10) + 7 * math.exp(-d * 100) + 5 * math.exp(-d * 110)
    assert math.isclose(k["npv"], -paid, rel_tol=1e-12)
    r = one.risks.set_index("project")
    assert r.occurred.to_dict() == {"A": True, "B": True, "C": False}
    assert same(r.day.to_dict(), {"A": 10.0, "B": 110.0, "C": NAN})
    assert r.cost.to_dict() == {"A": 5, "B": 5, "C": 0}
    assert r.mitigated.to_dict() == {"A": True, "B": True, "C": True}


def test_full_probability_reduction_prevents_a_certain_strike_but_is_still_paid() -> None:
    # u < 1 x (1 - 1) = 0 never holds: no strike for either policy-mitigated project; the
    # unmitigated `plain` policy is struck on admission (when 0): pause 2, cost 3.
    text = """
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r, probability: 1, when: 0, impact: {delay: 2, cost: 3}}
policies:
  plain: {}
  careful: {governance: {risk_mitigation: {r: {cost: 4, probability_reduction: 1}}}}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 5}]}
"""
    sc = load_scenario_text(text)
    plain = ps.simulate(sc, policy="plain")
    careful = ps.simulate(sc, policy="careful")
    assert log(plain) == [("A", "a", 2, 7, "dev-1")] and log(careful) == [("A", "a", 0, 5, "dev-1")]
    assert (plain.kpis["risk_cost"], plain.kpis["mitigation_cost"], plain.kpis["risk_events"]) == (3, 0, 1)
    k = careful.kpis
    assert (k["risk_cost"], k["mitigation_cost"], k["risk_events"]) == (0, 4, 0)
    row = careful.risks.iloc[0]
    assert (bool(row.occurred), bool(row.mitigated), row.delay, row.effort_added, row.cost) == (
        False, True, 0, 0, 0) and math.isnan(row.day)
    row = plain.risks.iloc[0]
    assert (bool(row.occurred), bool(row.mitigated), row.day, row.delay, row.cost) == (True, False, 0, 2, 3)


def test_a_strike_pauses_the_projects_running_work_and_reworks_only_what_has_not_started() -> None:
    # A: a (dev, 5) and b (qa, 10) from day 0, c (dev, 10) after a. Planned 25; when 0.2 = 5
    # person-days done: reached when a finishes on day 5. The pause of 4 holds b (running:
    # 5 done, 5 left) from 5 to 9, so b ends on 14; c, ready on 5, starts when the pause ends.
    # Rework 0.5 x (5 left of b + 10 of c) = 7.5, all on c, not started: c 17.5, 9 -> 26.5.
    one = simulate("""
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 0}
  qa: {headcount: 1, day_rate: 0}
risks:
  - {name: r, probability: 1, when: 0.2, impact: {delay: 4, effort: 0.5}}
projects:
  - name: A
    tasks:
      - {name: a, skill: dev, effort: 5}
      - {name: b, skill: qa, effort: 10}
      - {name: c, skill: dev, effort: 10, after: [a]}
""")
    assert log(one) == [("A", "a", 0, 5, "dev-1"), ("A", "b", 0, 14, "qa-1"), ("A", "c", 9, 26.5, "dev-1")]
    p = one.projects.iloc[0]
    assert (p.finish, p.rework_effort, p.effort_planned, p.effort_done) == (26.5, 7.5, 25, 32.5)
    r = one.risks.iloc[0]
    assert (r.day, r.delay, r.effort_added) == (5, 4, 7.5)
    assert one.kpis["rework_effort"] == 7.5


def test_a_strike_at_the_last_completion_has_no_work_left_to_pause() -> None:
    # when 1 (or any point inside the last task) is reached at the project's last completion:
    # A on 20 (a1 0 -> 10, a2 10 -> 20), B on 30. Nothing is left to pause or rework, so the
    # strike adds no pause: delay 0 (SPEC 10.3: "days the project's work pauses"; risks.parquet
    # `delay` is the pause it added), and risk_drivers attributes no value lost to it, only its
    # cost (1 each). B, arriving on 20, starts at once: nothing was held.
    text = """
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r, probability: 1, when: 1, impact: {delay: 5, effort: 0.5, cost: 1}}
projects:
  - {name: A, value_per_day: 10, tasks: [{name: a1, skill: dev, effort: 10},
                                         {name: a2, skill: dev, effort: 10, after: [a1]}]}
  - {name: B, arrival: 20, value_per_day: 10, tasks: [{name: b, skill: dev, effort: 10}]}
"""
    sc = load_scenario_text(text)
    one = ps.simulate(sc)
    assert log(one) == [("A", "a1", 0, 10, "dev-1"), ("A", "a2", 10, 20, "dev-1"),
                        ("B", "b", 20, 30, "dev-1")]
    assert one.risks.day.tolist() == [20, 30] and one.risks.occurred.all()
    assert one.risks.delay.tolist() == [0, 0] and one.risks.effort_added.tolist() == [0, 0]
    drivers = ps.run_experiment(sc, replications=2, seed=0, jobs=1).risk_drivers().iloc[0]
    assert (drivers.strikes, drivers.delay, drivers.value_lost, drivers.cost, drivers.loss) == (2, 0, 0, 2, 2)


def test_a_risk_at_zero_strikes_on_admission_by_the_wip_gate_not_on_arrival() -> None:
    # WIP limit 1: A 0 -> 10; B, in the backlog, is admitted on 10 and struck then (its risk,
    # when 0): paused to 13, its 5 days 13 -> 18. It started on 13, when its work did.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r, applies_to: {projects: [B]}, probability: 1, when: 0, impact: {delay: 3, cost: 2}}
pmo:
  resource_manager: {wip_limit: 1}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, tasks: [{name: b, skill: dev, effort: 5}]}
""")
    assert log(one) == [("A", "a", 0, 10, "dev-1"), ("B", "b", 13, 18, "dev-1")]
    assert column(one, "admitted") == {"A": 0, "B": 10} and column(one, "start") == {"A": 0, "B": 13}
    assert list(one.risks.project) == ["B"] and one.risks.day.tolist() == [10]
    assert column(one, "cost") == {"A": 0, "B": 2}


def test_a_risk_on_a_template_strikes_each_generated_project_and_no_other() -> None:
    # Arrivals every 10 days, 2 projects: t-1 on 10, t-2 on 20, each 1 day of qa. The risk
    # (templates: [t], when 0, cost 100) strikes each on arrival (admitted then): 200.
    # E (explicit) is not in its register: no row.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 0}
  qa: {headcount: 1, day_rate: 0}
intake:
  arrivals: 10
  count: 2
  templates: [{name: t, tasks: [{name: x, skill: qa, effort: 1}]}]
risks:
  - {name: r, applies_to: {templates: [t]}, probability: 1, when: 0, impact: {cost: 100}}
projects:
  - {name: E, tasks: [{name: e, skill: dev, effort: 1}]}
""")
    assert log(one) == [("E", "e", 0, 1, "dev-1"), ("t-1", "x", 10, 11, "qa-1"), ("t-2", "x", 20, 21, "qa-1")]
    assert one.risks.project.tolist() == ["t-1", "t-2"] and one.risks.day.tolist() == [10, 20]
    assert column(one, "risk_events") == {"E": 0, "t-1": 1, "t-2": 1}
    assert (one.kpis["risk_cost"], one.kpis["risk_events"]) == (200, 2)


def test_two_risks_at_one_point_compound_rework_and_overlap_pauses() -> None:
    # A: a1 (10) then a2 (10); both risks strike at 0.5 x 20 = 10 done (a1's end), in
    # register order. r1: pause to 15 (5 added), rework 0.5 x 10 left = 5 (a2: 15).
    # r2: pause to 13, inside r1's: 0 added; rework 0.2 x the 15 now left = 3 (a2: 18).
    # a2 waits out the pause: 15 -> 33.
    one = simulate("""
name: t
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r1, probability: 1, when: 0.5, impact: {delay: 5, effort: 0.5}}
  - {name: r2, probability: 1, when: 0.5, impact: {delay: 3, effort: 0.2}}
projects:
  - {name: A, tasks: [{name: a1, skill: dev, effort: 10}, {name: a2, skill: dev, effort: 10, after: [a1]}]}
""")
    assert log(one) == [("A", "a1", 0, 10, "dev-1"), ("A", "a2", 15, 33, "dev-1")]
    r = one.risks.set_index("risk")
    assert r.day.tolist() == [10, 10] and r.delay.to_dict() == {"r1": 5, "r2": 0}
    assert [round(v, 9) for v in r.effort_added] == [5, 3]
    assert one.kpis["risk_events"] == 2 and round(one.kpis["rework_effort"], 9) == 8


def test_only_projects_arriving_after_the_warmup_count_in_funding_and_risk_kpis() -> None:
    # Warm-up 10. A (arrives 0, counted no) is funded on 0 (30 of 100), runs 0 -> 5, struck
    # on 5 (cost 4), its mitigation paid on 0. B (arrives 10) is funded on 10 (70 >= 30),
    # runs 10 -> 15, struck on 15, mitigation on 10. Counted: B's funding (1, 30), B's strike
    # (1 event), and the payments on days in [10, 50]: risk 4, mitigation 2.
    one = simulate("""
name: t
horizon: 50
warmup: 10
days_per_year: 1000
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r, probability: 1, when: 1, impact: {cost: 4}}
pmo:
  governance:
    funding: {rule: arrival}
    risk_mitigation: {r: {cost: 2}}
projects:
  - {name: A, cost_estimate: 30, tasks: [{name: a, skill: dev, effort: 5}]}
  - {name: B, arrival: 10, cost_estimate: 30, tasks: [{name: b, skill: dev, effort: 5}]}
""")
    assert column(one, "funded") == {"A": 0, "B": 10} and column(one, "cost") == {"A": 4, "B": 4}
    assert column(one, "counted") == {"A": False, "B": True}
    k = one.kpis
    assert (k["projects_arrived"], k["projects_funded"], k["budget_committed"]) == (1, 1, 30)
    assert (k["risk_events"], k["risk_cost"], k["mitigation_cost"]) == (1, 4, 2)


# --------------------------------------------------------------------------- dependencies (10.1)


def test_a_project_waiting_at_the_dependency_gate_holds_no_wip_slot() -> None:
    # WIP limit 2, two developers. Day 0: A admitted; B waits at the gate for A (not admitted);
    # C takes the second slot. D waits in the backlog until C ends on 3: 3 -> 7. A ends on
    # 10: B admitted then, 10 -> 15.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 2, day_rate: 0}
pmo:
  resource_manager: {wip_limit: 2}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, depends_on: [A], tasks: [{name: b, skill: dev, effort: 5}]}
  - {name: C, tasks: [{name: c, skill: dev, effort: 3}]}
  - {name: D, tasks: [{name: d, skill: dev, effort: 4}]}
""")
    assert column(one, "admitted") == {"A": 0, "B": 10, "C": 0, "D": 3}
    assert column(one, "finish") == {"A": 10, "B": 15, "C": 3, "D": 7}
    # WIP: A 10 + B 5 + C 3 + D 4 = 22 admitted-days over 50; all four in the system from 0:
    # 10 + 15 + 3 + 7 = 35 days.
    assert (one.kpis["avg_wip"], one.kpis["avg_in_system"]) == (22 / 50, 35 / 50)


def test_a_dependent_released_by_the_gate_is_ranked_with_the_backlog_by_the_rule() -> None:
    # WIP limit 1: A 0 -> 10, C (arrived 0) waits in the backlog, B at the gate. On 10 A
    # completes: B and C are both waiting for the slot; fifo ranks them by arrival (both 0),
    # then file order: B first, 10 -> 15, then C 15 -> 18.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 0}
pmo:
  resource_manager: {wip_limit: 1}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, depends_on: [A], tasks: [{name: b, skill: dev, effort: 5}]}
  - {name: C, tasks: [{name: c, skill: dev, effort: 3}]}
""")
    assert log(one) == [("A", "a", 0, 10, "dev-1"), ("B", "b", 10, 15, "dev-1"), ("C", "c", 15, 18, "dev-1")]


def test_a_dependent_arriving_after_its_dependency_completed_goes_ahead_on_arrival() -> None:
    # A 0 -> 5; B (depends on A) arrives on 20, A long completed: admitted and started on 20.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 0}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 5}]}
  - {name: B, arrival: 20, depends_on: [A], tasks: [{name: b, skill: dev, effort: 5}]}
""")
    assert column(one, "admitted") == {"A": 0, "B": 20} and column(one, "finish") == {"A": 5, "B": 25}
    assert column(one, "cancel_reason") == {"A": "", "B": ""}


def test_a_dependents_risk_at_zero_strikes_when_the_gate_admits_it() -> None:
    # B waits for A (0 -> 10); admitted on 10, its risk (when 0) strikes then: paused to 12,
    # b 12 -> 17. B's qa person is free all along: only the gate and the pause hold it.
    one = simulate("""
name: t
horizon: 50
resources:
  dev: {headcount: 1, day_rate: 0}
  qa: {headcount: 1, day_rate: 0}
risks:
  - {name: r, applies_to: {projects: [B]}, probability: 1, when: 0, impact: {delay: 2}}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, depends_on: [A], tasks: [{name: b, skill: qa, effort: 5}]}
""")
    assert log(one) == [("A", "a", 0, 10, "dev-1"), ("B", "b", 12, 17, "qa-1")]
    assert column(one, "admitted") == {"A": 0, "B": 10}
    assert one.risks.day.tolist() == [10] and one.risks.delay.tolist() == [2]


def test_a_dependency_rejected_at_a_review_cancels_the_funded_and_the_waiting_in_cascade() -> None:
    # Meetings on 0, 10, 20... B (score .5, 10) arrives on 0 and is funded at the day-0 meeting,
    # then waits at the gate for A. A (score .1 < min_score .3) arrives on 3 and is rejected at
    # the day-10 meeting; B is cancelled then (dependency), and C (depends on B, a proposal
    # since 5) too, unfunded. The risk (every project, when 0) strikes none: none is admitted.
    # Only B's 10 was committed. E, independent, arrives on 5 and is funded and run on 10.
    # Mitigation (3) is paid by the funded only, B on 0 and E on 10: 6.
    one = simulate("""
name: t
horizon: 50
days_per_year: 1000
strategy: {goals: {g: {weight: 1}}}
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
risks:
  - {name: r, probability: 1, when: 0, impact: {cost: 1}}
pmo:
  governance:
    funding: {rule: score, review_every: 10, min_score: 0.3}
    risk_mitigation: {r: {cost: 3}}
projects:
  - {name: A, arrival: 3, alignment: {g: 0.1}, cost_estimate: 10, tasks: [{name: a, skill: dev, effort: 1}]}
  - {name: B, alignment: {g: 0.5}, cost_estimate: 10, depends_on: [A],
     tasks: [{name: b, skill: dev, effort: 1}]}
  - {name: C, arrival: 5, alignment: {g: 0.9}, cost_estimate: 10, depends_on: [B],
     tasks: [{name: c, skill: dev, effort: 1}]}
  - {name: E, arrival: 5, alignment: {g: 0.4}, cost_estimate: 10, tasks: [{name: e, skill: dev, effort: 1}]}
""")
    assert column(one, "status") == {"A": "rejected", "B": "cancelled", "C": "cancelled", "E": "completed"}
    assert column(one, "cancel_reason") == {"A": "", "B": "dependency", "C": "dependency", "E": ""}
    assert column(one, "finish") == {"A": 10, "B": 10, "C": 10, "E": 11}
    assert same(column(one, "funded"), {"A": NAN, "B": 0.0, "C": NAN, "E": 10.0})
    k = one.kpis
    assert (k["projects_funded"], k["projects_rejected"], k["projects_cancelled"], k["budget_committed"]) == (
        2, 1, 2, 20)
    struck = one.risks.set_index("project").occurred.to_dict()
    assert struck == {"A": False, "B": False, "C": False, "E": True}
    assert (k["risk_events"], k["risk_cost"], k["mitigation_cost"]) == (1, 1, 6)


# --------------------------------------------------------------------------- forecasts (10.6)

LANDING = """
name: landing
horizon: 60
days_per_year: 1000
calendar: {start_date: 2027-01-04}
budget: {per_year: 100}
resources:
  dev: {headcount: 1, day_rate: 0}
  qa: {headcount: 1, day_rate: 0}
  ops: {headcount: 1, day_rate: 0}
pmo:
  governance: {funding: {rule: arrival, max_wait: 20}}
projects:
  - {name: A, due: 10, cost_estimate: 30, tasks: [{name: a, skill: dev, effort: 10}]}
  - {name: B, due: 12, cost_estimate: 30, depends_on: [A], tasks: [{name: b, skill: qa, effort: 5}]}
  - {name: C, cost_estimate: 500, tasks: [{name: c, skill: dev, effort: 1}]}
  - {name: D, arrival: 55, cost_estimate: 10, tasks: [{name: d, skill: dev, effort: 10}]}
intake:
  arrivals: 20
  count: 2
  templates: [{name: t, due: 5, tasks: [{name: x, skill: ops, effort: 2}]}]
"""


def test_the_forecast_of_a_deterministic_run_is_its_one_future(tmp_path: Path) -> None:
    # Every replication is the same (fixed efforts, fixed arrivals, no random sections):
    #   A 0 -> 10 (due 10: on time); B waits for A, 10 -> 15 (due 12: late);
    #   C (500 of 100) is rejected on 0 + 20 = 20; D arrives on 55, 10 days: open at 60;
    #   t-1 arrives on 20, 20 -> 22 (due 25), t-2 on 40, 40 -> 42 (due 45): both on time.
    # So an explicit project's P10 = P50 = P80 = P90 is its one finish day (+inf: never
    # finished). The template pools t-1 and t-2 over 3 replications: 22 22 22 42 42 42, and
    # the inverted-CDF percentiles are the 1st, 3rd, 5th (ceil 4.8) and 6th (ceil 5.4).
    # Dates from Monday 2027-01-04, Monday to Friday: finishing at 10 ends working day 9,
    # Friday 01-15; 15 ends day 14, Friday 01-22; 22 ends day 21, Tuesday 02-02.
    # by 12: A yes, B no, the template's 22 and 42 no.
    folder = tmp_path / "run"
    ps.run_experiment(load_scenario_text(LANDING), replications=3, seed=0, jobs=1, out=folder)
    res = ps.load_results(folder)
    f = res.forecast(by=12).set_index("name")
    assert list(f.index) == ["A", "B", "C", "D", "t"] and f.n.tolist() == [3, 3, 3, 3, 6]
    inf = math.inf
    for q in ("p10", "p50", "p80", "p90"):
        assert f[q].to_dict() == {"A": 10, "B": 15, "C": inf, "D": inf,
                                  "t": {"p10": 22, "p50": 22, "p80": 42, "p90": 42}[q]}
    assert f.p50_date["A"].isoformat() == "2027-01-15" and f.p90_date["B"].isoformat() == "2027-01-22"
    assert f.p10_date["t"].isoformat() == "2027-02-02" and f.p10_date["C"] is None
    assert same(f.due.to_dict(), {"A": 10.0, "B": 12.0, "C": NAN, "D": NAN, "t": NAN})
    assert same(f.p_on_time.to_dict(), {"A": 1.0, "B": 0.0, "C": NAN, "D": NAN, "t": 1.0})
    assert f.p_by.to_dict() == {"A": 1, "B": 0, "C": 0, "D": 0, "t": 0}
    assert f.p_completed.to_dict() == {"A": 1, "B": 1, "C": 0, "D": 0, "t": 1}
    assert f.p_rejected.to_dict() == {"A": 0, "B": 0, "C": 1, "D": 0, "t": 0}
    assert f.p_unfinished.to_dict() == {"A": 0, "B": 0, "C": 0, "D": 1, "t": 0}
    assert f.p_cancelled.sum() == 0
    # The command line says the same: JSON has null for "not reached"; the table "> horizon".
    out = CliRunner().invoke(main, ["forecast", str(folder), "--by", "12", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)["forecasts"]}
    assert [rows[n]["p80"] for n in "ABCD"] == [10, 15, None, None] and rows["t"]["p80"] == 42
    assert rows["C"]["p_rejected"] == 1 and rows["B"]["p_on_time"] == 0
    table = CliRunner(env={"COLUMNS": "160"}).invoke(main, ["forecast", str(folder), "--project", "C"])
    assert table.exit_code == 0 and "> horizon" in table.output
    # The projects table under it: every replication has the same row.
    p = res.projects.groupby("project")
    assert (p.finish.nunique(dropna=False) == 1).all() and (p.status.nunique() == 1).all()
    assert pd.Series(res.replications.projects_rejected).tolist() == [1, 1, 1]
