"""Open questions about the model, each settled on a tiny scenario worked out by hand.

Each test names what SPEC says (or that it is silent) and the schedule or KPI that follows,
so a reviewer can check it with a pencil. Where SPEC is explicit the test holds the engine to
it; where SPEC leaves the point open the test pins the reading pmo-sim documents (README,
"Model decisions"), so that a change to it is a decision, not an accident.
"""

from __future__ import annotations

import numpy as np
from hand import column, log, simulate

from pmo_sim.sampling import Source, stream


def successful_ideas(rate: float, p: float, horizon: float, days_per_year: float) -> list[float]:
    """The days of replication 0's (seed 0) successful ideas, drawn as the innovation manager does."""
    rng = stream(0, 0, Source.INNOVATION)
    n = rng.poisson(rate * horizon / days_per_year)
    times = np.sort(horizon * rng.random(n))
    return times[rng.random(n) < p].tolist()


# --------------------------------------------------------------------------- 1. innovation ideas


IDEA_IN_THE_BACKLOG = """
name: t
horizon: 100
days_per_year: 250
resources:
  dev: {headcount: 1, day_rate: 10}
pmo:
  resource_manager: {wip_limit: 1}
  innovation_manager: {ideas_per_year: 5, success_probability: 0.1, effort_reduction: 0.5}
projects:
  - {name: A, tasks: [{name: a, skill: dev, effort: 60}]}
  - {name: B, arrival: 10, tasks: [{name: b, skill: dev, effort: 20}]}
  - {name: C, arrival: 50, tasks: [{name: c, skill: dev, effort: 8}]}
"""


def test_an_idea_cuts_the_work_of_projects_waiting_in_the_backlog_too() -> None:
    # SPEC 5: a successful idea "reduces the remaining effort of open projects' tasks"; SPEC
    # 4.1: a project "is open from `arrival` until it is completed or cancelled", admitted or
    # not (projects_open counts the backlog too). One idea succeeds, on day ~46.4: A's task
    # runs (0-60; a running task keeps its duration); B arrived on 10 and waits in the backlog
    # behind the WIP limit: its 20 person-days become 10, so it runs 60-70; C arrives on 50,
    # after the idea, and keeps its 8: 70-78. (pmo-sim cut admitted projects only: B ran
    # 60-80 and C 80-88.) effort_planned is the plan, before the idea.
    ideas = successful_ideas(5, 0.1, 100, 250)
    assert len(ideas) == 1 and 10 < ideas[0] < 50
    one = simulate(IDEA_IN_THE_BACKLOG)
    assert log(one) == [("A", "a", 0, 60, "dev-1"), ("B", "b", 60, 70, "dev-1"), ("C", "c", 70, 78, "dev-1")]
    assert column(one, "effort_planned") == {"A": 60, "B": 20, "C": 8}
    assert column(one, "effort_done") == {"A": 60, "B": 10, "C": 8}
