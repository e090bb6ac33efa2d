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

import pmo_sim as ps
from pmo_sim.experiment.single import SimulationResult
from pmo_sim.scenario.loader import load_scenario_text


def simulate(text: str, policy: str | None = None) -> SimulationResult:
    return ps.simulate(load_scenario_text(text), policy=policy, seed=0, replication=0)


def log(one: SimulationResult) -> list[tuple[str, str, float, float, str]]:
    return [(r.project, r.task, round(r.start, 9), round(r.finish, 9), r.crew)
            for r in one.tasks.itertuples()]


def starts(one: SimulationResult) -> list[tuple[str, float, float]]:
    return [(r.task, round(r.start, 9), round(r.finish, 9)) for r in one.tasks.itertuples()]


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
