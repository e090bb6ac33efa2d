"""A training cohort never takes someone serving notice (README "Training"): a person released
by a staffing plan (or who resigned) while on a task leaves when it ends, so enrolling them
paid for a course nobody took, and left the cohort one short."""

from __future__ import annotations

import pytest

from tests.hand import log, simulate

SCENARIO = """
name: t
horizon: 60
resources:
  dev: {{headcount: 2, day_rate: 0}}
policies:
  p:
    resource_manager:
      staffing: [{{day: {release}, pool: dev, change: -1}}]
    training_manager:
      programmes:
        - {{name: course, skill: dev, trainees: {trainees}, start: 5, duration_days: 10,
           cost_per_trainee: 100}}
projects:
  - {{name: A, tasks: [{{name: a, skill: dev, effort: 20}}, {{name: b, skill: dev, effort: 20}}]}}
  - {{name: C, arrival: 20, tasks: [{{name: c, skill: dev, effort: 5}}]}}
"""


@pytest.mark.parametrize("release", [4, 5])  # before the cohort's day, and the same day
def test_a_cohort_passes_over_someone_released_while_on_a_task(release: int) -> None:
    # a and b run 0-20 on dev-1 and dev-2. The release takes the most recently hired, dev-2,
    # who leaves when b ends (day 20). On day 5 the course enrols one person: dev-1 (the
    # only one not on notice, of the two places), who trains 20-30 once a is done. C, ready
    # on day 20, waits for dev-1: 30-35. Before, dev-2 was enrolled as well: 200 paid, the
    # same 10 days of training.
    one = simulate(SCENARIO.format(release=release, trainees=2), policy="p")
    assert log(one) == [("A", "a", 0, 20, "dev-1"), ("A", "b", 0, 20, "dev-2"), ("C", "c", 30, 35, "dev-1")]
    assert (one.kpis["training_cost"], one.kpis["training_days"]) == (100, 10)


def test_a_release_after_enrolment_lets_the_course_finish() -> None:
    # The other order: dev-2 is enrolled on day 5 (both courses' places, trainees 2), then
    # released on day 10 while still on b. They finish b (day 20), leave on notice at once
    # (a released person on a task or away leaves when it ends), and never train: both places
    # were paid at enrolment (SPEC 5: cost_per_trainee at enrolment).
    one = simulate(SCENARIO.format(release=10, trainees=2), policy="p")
    assert log(one) == [("A", "a", 0, 20, "dev-1"), ("A", "b", 0, 20, "dev-2"), ("C", "c", 30, 35, "dev-1")]
    assert (one.kpis["training_cost"], one.kpis["training_days"]) == (200, 10)
