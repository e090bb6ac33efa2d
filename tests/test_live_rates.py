"""Live projects keyed lazily under ``srpt`` and ``wsjf`` in the needs queue (``LIVE_RATES``).

A live project's remaining effort falls by at most its running tasks' rates a day (a day a day
for a fixed duration; nothing in down-time, a pause or a set-up), until a task of it starts
(the start adds its rate: the bound is carried through, ``ranks.origin_after_start``) or its
efforts change (rework, ideas: the bound is dropped). So a key taken at ``t0`` bounds the
key from below at any later ``t``: ``srpt``'s directly, ``wsjf``'s through the remaining
effort's bound (``_wsjf_floor``: -value / remaining grows with the remaining effort for a
value of 0 or more, and is above 0 for a negative value). The queue then keys a live project
only when its bound may be below the rank looked for. Exact only if every bound is at most
the key it stands for whenever it is used: checked here at every allocation against the
rule's own key, and the records must be, to the bit, those of keying every live project at
every allocation.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, scenarios
from test_needs_queue import _wide_portfolio, with_needs

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.pmo import needs_allocation
from pmo_sim.pmo.ranks import bound_origin, origin_after_start
from pmo_sim.rules.allocation import ALLOCATION_RULES, LIVE_RATES
from pmo_sim.scenario.limits import MAX_MAGNITUDE
from pmo_sim.scenario.models import Scenario

RATED = ("srpt", "wsjf")


def records(sc: Scenario, policy: str, seed: int) -> list[str]:
    """Every record of a replication, traces included, as text (compared to the bit)."""
    return [repr(sorted(vars(r).items())) for r in run_replication(sc, 0, seed, [policy], trace=True)]


def eager_records(sc: Scenario, policy: str, seed: int, rule: str) -> list[str]:
    """The records with every live project keyed at every allocation."""
    live = LIVE_RATES.pop(rule)
    try:
        return records(sc, policy, seed)
    finally:
        LIVE_RATES[rule] = live


def harsh(rule: str, backfill: bool) -> Scenario:
    """The wide portfolio of ``test_needs_queue`` with what moves a remaining effort: change
    requests (rework, pauses), a closure and holidays, fixed-duration tasks among the fans,
    and values of either sign (``wsjf``'s floor of a negative value)."""
    data = _wide_portfolio(rule, backfill).model_dump(mode="json", exclude_none=True)
    data["calendar"] = {"start_date": "2027-01-04", "holidays": ["2027-01-20", "2027-02-01"],
                        "closures": [{"start": 30, "days": 5}]}
    for t, template in enumerate(data["intake"]["templates"]):
        template["value_per_day"] = {"dist": "uniform", "low": -400, "high": 900}
        if t % 2:
            template["value_per_day"] = 0
        fan = template["tasks"][1 + t]
        fan.pop("effort", None)
        fan["duration"] = 3.0 + t
        fan.pop("people", None)
        fan.pop("skill", None)
        fan["needs"] = {"rig": 1}
    return Scenario.model_validate(data)


class Watch:
    """Wraps an allocation: every bound the queue holds, at the allocation's instant, is at
    most the rule's key then; counts the bounds checked and the keys taken."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rule: str):
        self.checked = self.allocations = self.keys = 0
        key, run, live = ALLOCATION_RULES[rule], needs_allocation.Allocation.run, LIVE_RATES[rule]

        def checking(allocation: needs_allocation.Allocation) -> None:
            queue, now = allocation.queue, allocation.now
            self.allocations += 1
            for proj, origin in queue.bounds.items():
                bound = live.floor(proj, origin - queue.rates[proj] * now)
                assert bound <= key(proj, now), (proj.name, now)
                self.checked += 1
            run(allocation)

        def quantity(proj: Any, now: float) -> float:
            self.keys += 1
            return live.quantity(proj, now)

        monkeypatch.setattr(needs_allocation.Allocation, "run", checking)
        monkeypatch.setitem(LIVE_RATES, rule, live._replace(quantity=quantity))


def test_srpt_and_wsjf_are_ranked_lazily_by_the_rates_of_the_running_tasks():
    assert set(LIVE_RATES) == set(RATED)


@pytest.mark.parametrize("rule", RATED)
@pytest.mark.parametrize("backfill", [True, False])
def test_bounds_never_exceed_keys_and_records_are_the_eager_ones(monkeypatch, rule: str, backfill: bool):
    sc = harsh(rule, backfill)
    eager = eager_records(sc, sc.policy_names[0], 4, rule)
    watch = Watch(monkeypatch, rule)
    lazy = records(sc, sc.policy_names[0], 4)
    assert lazy == eager
    assert watch.allocations > 100 and watch.checked > 300
    assert 0 < watch.keys < watch.checked  # bounds stood for keys not taken


@settings(max_examples=150 if FULL else 30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sc=scenarios(), rule=st.sampled_from(RATED), equipment=st.integers(0, 2),
       capacity=st.booleans(), seed=st.integers(0, 10_000))
def test_bounds_hold_on_drawn_scenarios(monkeypatch, sc: Scenario, rule: str, equipment: int,
                                        capacity: bool, seed: int):
    sc = with_needs(sc, rule, equipment, cross=True, capacity=capacity)
    for policy in sc.policy_names:
        eager = eager_records(sc, policy, seed, rule)
        with monkeypatch.context() as m:
            Watch(m, rule)
            assert records(sc, policy, seed) == eager


class _Project:
    def __init__(self, value: float):
        self.value_per_day = value


@pytest.mark.parametrize("value", [-250.0, -0.0, 0.0, 1e-9, 400.0])
@pytest.mark.parametrize("remaining", [1e-12, 0.5, 3.0, 1e6])
def test_the_wsjf_floor_is_at_most_the_key_at_any_smaller_remaining_effort(value: float, remaining: float):
    live = LIVE_RATES["wsjf"]
    assert live.floor is not None and live.key is not None
    floor = live.floor(_Project(value), remaining)
    for left in (remaining, remaining * 1.5, remaining * 10, remaining + 1.0):  # never grows back
        assert floor <= live.key(_Project(value), left)
    assert live.floor(_Project(value), 0.0) == live.floor(_Project(value), -2.0) == -float("inf")


@pytest.mark.parametrize("key,t0,rate,t1,added", [(10.0, 0.0, 1.0, 3.0, 2.0), (1e6, 700.0, 3.5, 720.0, 0.8),
                                                  (0.25, 1e-3, 0.0, 5.0, 1.0)])
def test_a_bound_carried_through_a_start_stays_below_the_key_falling_faster(key, t0, rate, t1, added):
    # the key taken at t0 falls at `rate` until t1, when a task of rate `added` starts; from
    # then on it falls at both: the carried bound is at most that key now and later
    origin = origin_after_start(bound_origin(key, t0, rate), t1, added)
    at_start = key - rate * (t1 - t0)
    assert origin - (rate + added) * t1 <= at_start
    assert at_start - (origin - (rate + added) * t1) <= 1e-8 * (abs(key) + (rate + added) * (t1 + 1) + 1)
    for later in (t1 + 1.0, t1 + 50.0):
        assert origin - (rate + added) * later <= at_start - (rate + added) * (later - t1)


@pytest.mark.parametrize("rule", RATED)
def test_crews_of_the_largest_speed_change_nothing(rule: str):
    # the largest productivity a scenario may give (limits.MAX_MAGNITUDE): tasks of a day's
    # effort done in femtodays, rates of 1e15 times the day in the bounds
    data = harsh(rule, True).model_dump(mode="json", exclude_none=True)
    for pool in data["resources"].values():
        if pool.get("kind") != "equipment":
            pool["productivity"] = MAX_MAGNITUDE
    sc = Scenario.model_validate(data)
    assert records(sc, sc.policy_names[0], 4) == eager_records(sc, sc.policy_names[0], 4, rule)


@pytest.mark.parametrize("origin,now,falls", [(1e308, 1e308, 10.0), (5.0, 600.0, 1e306)])
def test_a_bound_beyond_a_floats_range_is_none(origin: float, now: float, falls: float):
    # (beyond what a scenario can give: -inf, never NaN, which would disorder the heap)
    assert bound_origin(origin, now, falls) == -float("inf")
    assert origin_after_start(origin, now, falls * 1e10) == -float("inf")
