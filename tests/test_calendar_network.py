"""Exact tests of the pure capacity helpers: working days and dates, down-time, CPM times,
planned durations and the task-level allocation rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from pmo_sim.rules.allocation import ALLOCATION_RULES, STATIC_RULES, TASK_RULES
from pmo_sim.scenario.calendar import (
    date_of,
    day_index,
    downtime,
    fits_calendar,
    is_working_day,
    next_working_day,
)
from pmo_sim.scenario.loader import scenario_from_dict
from pmo_sim.scenario.network import (
    PrecedenceCycle,
    cpm,
    planned_duration,
    planned_durations,
    topological_order,
)

MON = dt.date(2027, 1, 4)  # a Monday


# --------------------------------------------------------------------------- working days


def test_working_days_are_monday_to_friday() -> None:
    week = [MON + dt.timedelta(days=k) for k in range(7)]
    assert [is_working_day(d) for d in week] == [True] * 5 + [False] * 2
    assert next_working_day(dt.date(2027, 1, 2)) == MON  # Saturday -> Monday
    assert next_working_day(dt.date(2027, 1, 3)) == MON  # Sunday -> Monday
    assert next_working_day(MON) == MON


def test_the_last_date_a_calendar_can_show_is_9999_12_31() -> None:
    last = dt.date(9999, 12, 31)  # a Friday
    assert date_of(dt.date(9999, 12, 27), 4) == last
    assert fits_calendar(dt.date(9999, 12, 27), 4) and not fits_calendar(dt.date(9999, 12, 27), 5)
    with pytest.raises(ValueError, match="after 9999-12-31"):
        date_of(dt.date(9999, 12, 27), 5)


def test_day_index_and_date_of_are_inverse_on_working_days() -> None:
    assert day_index(MON, MON) == 0
    assert day_index(MON, dt.date(2027, 1, 8)) == 4  # Friday
    assert day_index(MON, dt.date(2027, 1, 11)) == 5  # next Monday
    assert day_index(MON, dt.date(2027, 12, 24)) == 254
    assert day_index(MON, dt.date(2026, 12, 31)) == -2  # before day 0: negative
    assert date_of(MON, 0) == MON
    assert date_of(MON, 4) == dt.date(2027, 1, 8)
    assert date_of(MON, 5) == dt.date(2027, 1, 11)
    assert date_of(MON, 7.5) == dt.date(2027, 1, 13)  # during day 7, a Wednesday
    assert date_of(MON, 254) == dt.date(2027, 12, 24)
    wed = dt.date(2027, 3, 3)
    for n in range(0, 600, 7):
        assert day_index(wed, date_of(wed, n)) == n
    assert isinstance(date_of(MON, 3), dt.date)


def test_day_index_of_a_weekend_day_is_an_error() -> None:
    with pytest.raises(ValueError, match="2027-01-09 is a Saturday"):
        day_index(MON, dt.date(2027, 1, 9))


def _calendar_scenario(calendar: dict, horizon: float = 100) -> object:
    return scenario_from_dict({"name": "c", "horizon": horizon, "resources": {"dev": {"headcount": 1}},
                               "calendar": calendar})


def test_downtime_merges_holidays_and_closures_and_clips_to_the_horizon() -> None:
    sc = _calendar_scenario({
        "start_date": "2027-01-04",
        # day 2, day 3 (touching: merged), day 10 (inside the closure), day 40 (the horizon's day)
        "holidays": ["2027-01-06", "2027-01-07", "2027-01-18", "2027-03-01"],
        "closures": [{"start": 8, "days": 5}, {"start": 20.5, "days": 1}, {"start": 38, "days": 10}],
    }, horizon=40)
    assert downtime(sc) == [(2.0, 4.0), (8.0, 13.0), (20.5, 21.5), (38.0, 40.0)]


def test_downtime_without_calendar_or_start_date() -> None:
    assert downtime(_calendar_scenario({"closures": [{"start": 5, "days": 2}]})) == [(5.0, 7.0)]
    plain = scenario_from_dict({"name": "c", "horizon": 10, "resources": {"dev": {"headcount": 1}}})
    assert downtime(plain) == []


# --------------------------------------------------------------------------- CPM


# The hand-worked network:  A(3) -> B(2) -> D(1) -> M(0);  A -> C(4) -> D;  E(2) alone.
# Forward: ES A0 B3 C3 D7 M8 E0, EF A3 B5 C7 D8 M8 E2: critical path A-C-D-M, length 8.
# Backward from 8: LF M8 D8 C7 B7 A3 E8, LS M8 D7 C3 B5 A0 E6.
PREDS = [[], [0], [0], [1, 2], [], [3]]  # A B C D E M
PLANNED = [3.0, 2.0, 4.0, 1.0, 2.0, 0.0]


def test_cpm_on_a_hand_worked_network() -> None:
    cp = cpm(PREDS, PLANNED)
    assert cp.length == 8 and cp.deadline == 8
    assert cp.earliest_start == (0, 3, 3, 7, 0, 8)
    assert cp.earliest_finish == (3, 5, 7, 8, 2, 8)
    assert cp.latest_finish == (3, 7, 7, 8, 8, 8)
    assert cp.latest_start == (0, 5, 3, 7, 6, 8)


def test_cpm_from_a_due_date_shifts_latest_times() -> None:
    cp = cpm(PREDS, PLANNED, due=10)
    assert cp.length == 8 and cp.deadline == 10
    assert cp.latest_start == (2, 7, 5, 9, 8, 10)
    assert cp.latest_finish == (5, 9, 9, 10, 10, 10)
    tight = cpm(PREDS, PLANNED, due=6)  # a due date before the critical path: negative slack
    assert tight.latest_start[0] == -2


def test_topological_order_and_cycles() -> None:
    assert topological_order([[2], [], []]) == (1, 2, 0)
    assert topological_order(PREDS) == (0, 1, 2, 3, 4, 5)
    with pytest.raises(PrecedenceCycle) as cycle:
        topological_order([[], [2], [1], [2]])  # 1 and 2 wait for each other, 3 for them
    assert cycle.value.blocked == (1, 2, 3)
    assert cpm([], []).length == 0


def test_planned_durations_use_central_values_and_nominal_crew_speed() -> None:
    sc = scenario_from_dict({
        "name": "p", "horizon": 100,
        "resources": {"dev": {"headcount": 4, "productivity": 0.8, "fte": 0.5},
                      "qa": {"headcount": 2},
                      "env": {"kind": "equipment", "units": 1}},
        "projects": [{"name": "A", "tasks": [
            {"name": "build", "skill": "dev", "people": 2, "effort": {"dist": "triangular", "low": 4,
                                                                      "mode": 8, "high": 20}},
            {"name": "test", "needs": {"dev": 1, "qa": 2, "env": 1},
             "effort": {"dist": "pert", "low": 3, "mode": 9, "high": 30}},
            {"name": "vendor", "duration": {"dist": "triangular", "low": 20, "mode": 30, "high": 60}},
            {"name": "soak", "needs": {"env": 1}, "duration": {"dist": "uniform", "low": 2, "high": 4}},
            {"name": "review", "skill": "qa", "effort": {"dist": "lognormal", "mean": 6, "sd": 2}},
        ]}],
    })
    tasks = sc.projects[0].tasks
    # 8 / (2 x 0.8 x 0.5); 9 / (1 x 0.8 x 0.5 + 2 x 1 x 1), equipment adds no speed; modes;
    # the uniform's mean; the lognormal's mean / 1 person.
    assert planned_durations(tasks, sc.resources) == pytest.approx((10.0, 3.75, 30.0, 3.0, 6.0))
    assert planned_duration(tasks[0], sc.resources) == pytest.approx(10.0)


# --------------------------------------------------------------------------- rules


@dataclass
class _Task:
    latest_start: float
    latest_finish: float


def test_lst_and_lft_are_static_task_level_rules() -> None:
    assert {"lst", "lft"} <= TASK_RULES and {"lst", "lft"} <= STATIC_RULES
    assert not TASK_RULES & {"fifo", "priority", "edd", "srpt", "wsjf", "min_slack"}
    task = _Task(latest_start=12.0, latest_finish=15.5)
    assert ALLOCATION_RULES["lst"](task, 3.0) == 12.0
    assert ALLOCATION_RULES["lft"](task, 3.0) == 15.5
    ranked = sorted([_Task(5, 9), _Task(2, 11), _Task(4, 6)], key=lambda t: ALLOCATION_RULES["lft"](t, 0))
    assert [t.latest_finish for t in ranked] == [6, 9, 11]
