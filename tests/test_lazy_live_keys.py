"""Live projects ranked lazily under ``min_slack`` (``DynamicQueue._allocate_lazily``).

A steady queue keeps, per live project, the origin of a bound of its key (``LIVE_FALLS``:
``min_slack``'s key falls by at most a day a day until the project's efforts change) and takes
a key only when the project's bound reaches the top of the live projects. That is exact only
if every bound is at most the key it stands for, whenever it is used: checked here at every
allocation, against the rule's own key at that instant, on generated portfolios with changes,
ideas and disruptions, and on a long backlog of the reference; and the traces must be the
eager ranking's (every live project keyed at every allocation) while fewer keys are taken.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, scenarios, task_log, with_allocation

from pmo_sim.pmo import dynamic_queue
from pmo_sim.pmo.dynamic_queue import DynamicQueue
from pmo_sim.pmo.ranks import bound_origin
from pmo_sim.rules.allocation import ALLOCATION_RULES, LIVE_FALLS
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference.yaml"
MIN_SLACK = ALLOCATION_RULES["min_slack"]  # the rule itself (a test may count its calls)


def long_backlog(wip_limit: int | None) -> Scenario:
    """The reference with 160 projects arriving 8 times as fast (queues of dozens)."""
    base = load_scenario(REFERENCE)
    assert base.intake is not None
    data = base.model_dump(mode="json", exclude_none=True)
    data["intake"]["count"] = 160
    data["intake"]["arrivals"] = {"dist": "exponential", "mean": base.intake.arrivals.mean() / 8}
    data["policies"] = {"p": {"resource_manager": {"allocation": "min_slack", "wip_limit": wip_limit}}}
    return Scenario.model_validate(data)


class Watch:
    """Wraps the lazy allocation: checks every bound against the key, counts what is done."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.bounds_checked = 0
        self.entries_checked = 0
        self.allocations = 0
        original = DynamicQueue._allocate_lazily

        def checking(queue: DynamicQueue, pool: Any, now: float, backfill: bool, start: Any,
                     rule: Any, smallest: int, popped: list) -> None:
            self.allocations += 1
            assert queue.falls is not None
            for proj in queue.live:
                origin = queue.bounds.get(proj)
                if origin is not None:
                    assert origin - queue.falls * now <= MIN_SLACK(proj, now), (proj.name, now)
                    self.bounds_checked += 1
            # the heap kept from one allocation to the next: one valid entry per live project
            # (or one to make), each a bound of its key
            entered = [e for e in queue.bounded if queue.live_stamps.get(e[4]) == e[3]]
            projects = [e[4] for e in entered]
            assert len(set(projects)) == len(projects)
            assert queue.live <= set(projects) | queue.relive
            assert set(projects) <= queue.live
            for origin, _, _, _, proj in entered:
                if proj not in queue.relive:
                    assert origin - queue.falls * now <= MIN_SLACK(proj, now), (proj.name, now)
                    self.entries_checked += 1
            original(queue, pool, now, backfill, start, rule, smallest, popped)

        monkeypatch.setattr(DynamicQueue, "_allocate_lazily", checking)


def eager_log(sc: Scenario, policy: str, seed: int) -> list:
    """The trace with every live project keyed at every allocation."""
    falls = LIVE_FALLS.pop("min_slack")
    try:
        return task_log(sc, policy, seed)
    finally:
        LIVE_FALLS["min_slack"] = falls


def test_min_slack_alone_is_ranked_lazily():
    # in a pool's queue, where every bound must fall alike (the heap is kept between
    # allocations); srpt and wsjf: a floor from pending_effort halved their keys at 640
    # listed projects and saved no instruction (their keys cost about what a bound does).
    # In the needs queue they are keyed lazily at their projects' own rates
    # (tests/test_live_rates.py).
    assert LIVE_FALLS == {"min_slack": 1.0}


@settings(max_examples=300 if FULL else 40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sc=scenarios(), ideas=st.booleans(), seed=st.integers(0, 10_000))
def test_bounds_never_exceed_keys_and_traces_are_the_eager_ones(monkeypatch, sc: Scenario,
                                                                 ideas: bool, seed: int):
    sc = with_allocation(sc, "min_slack", ideas)
    # steady as soon as two projects wait in a pool (the lazy ranking is used only then)
    monkeypatch.setattr(dynamic_queue, "STEADY_ABOVE", 1)
    monkeypatch.setattr(dynamic_queue, "PLAIN_BELOW", 0)
    for policy in sc.policy_names:
        with monkeypatch.context() as m:
            Watch(m)
            log = task_log(sc, policy, seed)
        assert log == eager_log(sc, policy, seed)


@pytest.mark.parametrize("wip_limit", [None, 48])
def test_a_long_backlog_keys_fewer_projects_with_the_same_trace(monkeypatch, wip_limit):
    sc = long_backlog(wip_limit)
    keys = {"n": 0}

    def counted(project: Any, now: float) -> float:
        keys["n"] += 1
        return MIN_SLACK(project, now)

    monkeypatch.setitem(ALLOCATION_RULES, "min_slack", counted)
    watch = Watch(monkeypatch)
    lazy = task_log(sc, "p", 3)
    lazy_keys, keys["n"] = keys["n"], 0
    monkeypatch.undo()
    monkeypatch.setitem(ALLOCATION_RULES, "min_slack", counted)
    eager = eager_log(sc, "p", 3)
    assert lazy == eager
    assert watch.allocations > 100 and watch.bounds_checked > 300 and watch.entries_checked > 300
    assert lazy_keys < keys["n"]  # the point of it


@pytest.mark.parametrize("key,now,falls", [(0.0, 0.0, 1.0), (-3.5, 700.0, 1.0), (1e6, 1e4, 1.0),
                                           (125.25, 3.0, 2.5), (-1e-300, 1e-300, 1.0)])
def test_a_bound_at_the_instant_it_is_taken_is_below_the_key(key, now, falls):
    # with no time passed, the bound is the key less a margin for rounding, never above it
    bound = bound_origin(key, now, falls) - falls * now
    assert bound < key
    assert key - bound <= 1e-8 * (abs(key) + falls * (now + 1.0) + 1.0)


def test_an_infinite_key_bounds_itself():
    # min_slack of a project without a due date is +inf at any time
    inf = float("inf")
    assert bound_origin(inf, 12.0, 1.0) - 1.0 * 40.0 == inf
    assert bound_origin(-inf, 12.0, 1.0) - 1.0 * 40.0 == -inf


def test_an_allocation_ended_by_a_start_keys_no_project_ranked_after_its_last_rank(monkeypatch):
    # A rank is offered as soon as it is whole (pmo_sim.pmo.ranks): a project is keyed only
    # when its bound is at most the rank being looked for. So when the pool fills (the offer
    # that ends the allocation), every project keyed had a bound no higher than that last
    # rank's key; before, the next project out was keyed first, to see that it differed.
    sc = long_backlog(None)
    seen: dict[str, Any] = {"queue": None, "keyed": [], "last": None, "over": False}
    ended = checked = 0

    def counted(project: Any, now: float) -> float:
        queue = seen["queue"]
        if queue is not None:  # the bound the project had when it was keyed
            seen["keyed"].append(queue.bounds.get(project, -float("inf")) - queue.falls * now)
        return MIN_SLACK(project, now)

    offer = dynamic_queue._offer

    def offering(tasks: list, pool: Any, now: float, *rest: Any) -> bool:
        seen["last"] = MIN_SLACK(tasks[0].project, now)  # the rank's key, before it starts
        seen["over"] = offer(tasks, pool, now, *rest)
        return seen["over"]

    lazily = DynamicQueue._allocate_lazily

    def watching(queue: DynamicQueue, *args: Any) -> None:
        nonlocal ended, checked
        seen.update(queue=queue, keyed=[], last=None, over=False)
        lazily(queue, *args)
        seen["queue"] = None
        if seen["over"]:
            ended += 1
            for bound in seen["keyed"]:
                assert bound <= seen["last"]
                checked += 1

    monkeypatch.setitem(ALLOCATION_RULES, "min_slack", counted)
    monkeypatch.setattr(dynamic_queue, "_offer", offering)
    monkeypatch.setattr(DynamicQueue, "_allocate_lazily", watching)
    assert task_log(sc, "p", 3) == eager_log(sc, "p", 3)
    assert ended > 100 and checked > 100
