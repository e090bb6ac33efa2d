"""The capacity language (SPEC 10.4, 10.5) below the engine: models, round trips, schema, and
what the sampler compiles and draws. Bad inputs are in ``tests/bad_inputs/capacity_*.yaml``."""

from __future__ import annotations

import numpy as np
import pytest

from pmo_sim.sampling import Sampler, compile_network
from pmo_sim.scenario.capacity import EquipmentPool, Pool
from pmo_sim.scenario.loader import dump_scenario, load_scenario_text, scenario_from_dict
from pmo_sim.scenario.network import cpm
from pmo_sim.scenario.schema import scenario_json_schema
from pmo_sim.scenario.starter import starter_scenario

CAPACITY = """\
name: capacity
horizon: 250
calendar:
  start_date: 2027-01-04
  holidays: [2027-04-02]
  closures: [{start: 230, days: 10}]
resources:
  developers: {headcount: 4, day_rate: 600}
  analysts: {headcount: 2, day_rate: 650, fte: 0.5}
  test_env: {kind: equipment, units: 1, day_rate: 100}
workforce: {attrition_per_year: 0.2, hiring_delay: 20}
projects:
  - name: ERP
    due: 60
    tasks:
      - {name: spec, skill: analysts, effort: {dist: triangular, low: 4, mode: 6, high: 10}}
      - {name: build, skill: developers, people: 2, effort: 20, after: [spec]}
      - {name: test, needs: {developers: 1, test_env: 1}, effort: {dist: pert, low: 3, mode: 5, high: 9},
         after: [build]}
      - {name: vendor, duration: {dist: triangular, low: 20, mode: 30, high: 60}}
      - {name: go-live, duration: 0, after: [test, vendor]}
pmo:
  resource_manager:
    allocation: lst
policies:
  base: {}
  hiring:
    resource_manager:
      staffing: [{day: 60, pool: developers, change: 2}, {day: 200, pool: analysts, change: -1}]
  contractors:
    resource_manager:
      allocation: lft
      contractors:
        - {pool: developers, max: 2, lead_time: 15, day_rate: 900, productivity: 0.9, trigger_wait: 10,
           release_idle: 5}
"""


def test_capacity_scenario_loads_with_every_new_field() -> None:
    sc = load_scenario_text(CAPACITY)
    dev, analysts, env = (sc.resources[n] for n in ("developers", "analysts", "test_env"))
    assert isinstance(dev, Pool) and dev.kind == "people" and dev.fte == 1.0 and dev.capacity == 4
    assert isinstance(analysts, Pool) and analysts.fte == 0.5 and analysts.headcount == 2
    assert isinstance(env, EquipmentPool) and env.kind == "equipment" and env.capacity == env.units == 1
    tasks = sc.projects[0].tasks
    assert tasks[2].needs == {"developers": 1, "test_env": 1} and tasks[2].units() == tasks[2].needs
    assert tasks[1].units() == {"developers": 2} and tasks[0].units() == {"analysts": 1}
    assert tasks[3].units() == {} and tasks[3].duration is not None and tasks[3].effort is None
    assert sc.calendar is not None and str(sc.calendar.start_date) == "2027-01-04"
    hiring = sc.policies["hiring"].resource_manager
    assert [(c.day, c.pool, c.change) for c in hiring.staffing] == [(60, "developers", 2),
                                                                    (200, "analysts", -1)]
    assert hiring.allocation == "lst"  # inherited from pmo
    contractor = sc.policies["contractors"].resource_manager.contractors[0]
    c = contractor
    assert (c.max, c.lead_time, c.day_rate, c.trigger_wait, c.release_idle) == (2, 15, 900, 10, 5)


def test_capacity_scenario_round_trips_through_yaml() -> None:
    sc = load_scenario_text(CAPACITY)
    again = load_scenario_text(dump_scenario(sc))
    assert again == sc
    assert dump_scenario(again) == dump_scenario(sc)


def test_dates_may_be_given_as_iso_text_from_python() -> None:
    sc = scenario_from_dict({"name": "d", "horizon": 30, "resources": {"dev": {"headcount": 1}},
                             "calendar": {"start_date": "2027-01-04", "holidays": ["2027-01-05"]}})
    assert sc.calendar is not None and sc.calendar.holidays[0].isoformat() == "2027-01-05"


def test_json_schema_describes_the_new_fields() -> None:
    schema = scenario_json_schema()
    defs = schema["$defs"]
    assert set(defs["Pool"]["properties"]) == {"kind", "headcount", "day_rate", "productivity", "fte"}
    assert set(defs["EquipmentPool"]["properties"]) == {"kind", "units", "day_rate"}
    assert defs["EquipmentPool"]["required"] == ["kind", "units"]
    assert {"needs", "duration", "effort", "skill", "people"} <= set(defs["TaskSpec"]["properties"])
    assert "calendar" in schema["properties"]
    assert set(defs["Calendar"]["properties"]) == {"start_date", "holidays", "closures"}
    assert {"staffing", "contractors"} <= set(defs["ResourceManager"]["properties"])
    assert set(defs["Contractor"]["required"]) == {"pool", "max", "day_rate"}


# --------------------------------------------------------------------------- the sampler


def test_compiled_network_has_needs_fixed_durations_and_planned_durations() -> None:
    sc = load_scenario_text(CAPACITY)
    net = compile_network(sc.projects[0], sc)
    # pools: developers 0, analysts 1, test_env 2
    assert net.needs == (((1, 1),), ((0, 2),), ((0, 1), (2, 1)), (), ())
    assert net.pools == (1, 0, 0, -1, -1) and net.people == (1, 2, 1, 0, 0)
    assert net.is_duration == (False, False, False, True, True)
    # spec 6 / (1 x 1 x 0.5); build 20 / 2; test 5 / 1; vendor's mode; the milestone
    assert net.planned == pytest.approx((12.0, 10.0, 5.0, 30.0, 0.0))
    assert net.central.tolist() == [6.0, 20.0, 5.0, 30.0, 0.0]
    assert net.estimate == 61.0  # central values: 31 person-days and the vendor's 30 days (the gate's plan)
    assert net.order == (0, 1, 2, 3, 4)
    # The CPM behind lst/lft, from the project's due date (60): spec-build-test-go-live is 27
    # days long, vendor-go-live 30: the critical path.
    times = cpm(net.preds, net.planned, due=60)
    assert times.length == 30
    assert times.latest_finish == (45, 55, 60, 60, 60)
    assert times.latest_start == (33, 45, 55, 30, 60)


def test_fixed_duration_tasks_draw_their_duration_from_the_same_stream_slot() -> None:
    sc = load_scenario_text(CAPACITY)
    efforts = Sampler(sc).plan(seed=3, replication=0).projects[0].efforts
    assert efforts[4] == 0.0 and 20 <= efforts[3] <= 60 and efforts[1] == 20.0
    # Replacing the vendor's duration by an effort of the same distribution draws the same
    # number: a fixed-duration task takes the place in the stream an effort task would.
    as_effort = CAPACITY.replace("- {name: vendor, duration:", "- {name: vendor, skill: developers, effort:")
    same = Sampler(load_scenario_text(as_effort)).plan(seed=3, replication=0).projects[0].efforts
    assert same.tolist() == efforts.tolist()


PLAIN = """\
name: plain
horizon: 300
resources:
  developers: {headcount: 3}
  analysts: {headcount: 2}
workforce: {attrition_per_year: 0.5, hiring_delay: {dist: uniform, low: 10, high: 30}}
projects:
  - name: A
    tasks:
      - {name: a, skill: analysts, effort: {dist: uniform, low: 1, high: 9}}
      - {name: b, skill: developers, effort: {dist: uniform, low: 5, high: 15}, after: [a]}
intake:
  arrivals: {dist: exponential, mean: 20}
  templates:
    - {name: t, tasks: [{name: x, skill: developers, effort: {dist: uniform, low: 1, high: 4}}]}
"""


def _draws(text: str) -> tuple[list, list, list]:
    plan = Sampler(load_scenario_text(text)).plan(seed=5, replication=2)
    return ([(p.name, p.arrival, p.efforts.tolist()) for p in plan.projects],
            [b.tolist() for b in plan.leave_budget], [d.tolist() for d in plan.hiring_delay])


def test_capacity_sections_that_draw_nothing_leave_every_draw_unchanged() -> None:
    projects, budgets, delays = _draws(PLAIN)
    extended = PLAIN.replace("  analysts: {headcount: 2}\n", "  analysts: {headcount: 2, fte: 0.6}\n"
                             "  rig: {kind: equipment, units: 2}\n")
    extended += ("calendar: {start_date: 2027-01-04, closures: [{start: 20, days: 5}]}\n"
                 "pmo:\n  resource_manager:\n    allocation: lft\n"
                 "    staffing: [{day: 10, pool: developers, change: 1}]\n"
                 "    contractors: [{pool: analysts, max: 1, day_rate: 800}]\n")
    projects2, budgets2, delays2 = _draws(extended)
    assert projects2 == projects
    assert budgets2[:2] == budgets and delays2[:2] == delays
    # Equipment never leaves: nothing is drawn for it.
    assert np.array(budgets2[2]).shape == (2, 0) and np.array(delays2[2]).shape == (2, 0)


def test_a_staffing_hire_slot_draws_from_its_own_stream() -> None:
    sc = load_scenario_text(PLAIN)
    plan = Sampler(sc).plan(seed=5, replication=2)
    again = Sampler(sc).plan(seed=5, replication=2)
    # Slot 3 of developers (headcount 3) exists only after a hire. Its occupants' draws (asked
    # for in order, as the engine does) are reproducible, unaffected by other slots' draws, and
    # not those of the pre-drawn slot 2.
    draws = [plan.occupant_draws(sc, 0, 3, k) for k in range(6)]
    again.occupant_draws(sc, 0, 4, 0)
    again.occupant_draws(sc, 1, 3, 0)
    assert [again.occupant_draws(sc, 0, 3, k) for k in range(6)] == draws
    assert draws[0] != plan.occupant_draws(sc, 0, 2, 0)
    assert all(b > 0 and 10 <= d <= 30 for b, d in draws)


def test_the_starter_scenario_shows_the_capacity_fields() -> None:
    sc = load_scenario_text(starter_scenario("demo"))
    assert sc.calendar is not None and sc.calendar.start_date is not None and sc.calendar.closures
    assert isinstance(sc.resources["test_env"], EquipmentPool)
    assert isinstance(sc.resources["analysts"], Pool) and sc.resources["analysts"].fte == 0.8
    tasks = {t.name: t for t in sc.projects[0].tasks}
    assert tasks["integration test"].needs and tasks["vendor licence"].duration is not None
    rm = sc.policies["capacity"].resource_manager
    assert rm.allocation == "lft" and rm.staffing and rm.contractors
