"""A static rule's ready queue starts the same tasks whether it holds them in one list by rank
or in heaps by crew size.

Under a static rule (``fifo``, ``priority``, ``edd``, ``lst``, ``lft``) a pool's queue is one
list by rank while few tasks wait in it, offered in turn to the free people, and heaps by crew
size once many do (:class:`~pmo_sim.pmo.dispatch.StaticQueue`); both must give the same trace,
task by task, with and without backfill, with paused and withdrawn projects, whenever the
queue switches between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, reference_burst, scenarios, task_log

from pmo_sim.pmo import dispatch
from pmo_sim.scenario.models import Scenario

STATIC = ("fifo", "priority", "edd", "lst", "lft")
LISTS = (10**9, 0)  # always one list
HEAPS = (0, 0)  # heaps from the first task on, never a list again


@contextmanager
def thresholds(heaps_above: int, list_below: int) -> Iterator[None]:
    saved = dispatch.HEAPS_ABOVE, dispatch.LIST_BELOW
    dispatch.HEAPS_ABOVE, dispatch.LIST_BELOW = heaps_above, list_below
    try:
        yield
    finally:
        dispatch.HEAPS_ABOVE, dispatch.LIST_BELOW = saved


def with_rule(sc: Scenario, rule: str, backfill: bool) -> Scenario:
    data = sc.model_dump(mode="json", exclude_none=True)
    for section in [data["pmo"], *(data.get("policies") or {}).values()]:
        rm = section.setdefault("resource_manager", {})
        rm["allocation"] = rule
        rm["backfill"] = backfill
    return Scenario.model_validate(data)


def logs(sc: Scenario, policy: str, seed: int, *settings: tuple[int, int]) -> list[list]:
    out = []
    for heaps_above, list_below in settings:
        with thresholds(heaps_above, list_below):
            out.append(task_log(sc, policy, seed))
    return out


@settings(max_examples=300 if FULL else 40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), rule=st.sampled_from(STATIC), backfill=st.booleans(),
       seed=st.integers(0, 10_000), switching=st.sampled_from(((1, 1), (2, 2), (3, 1))))
def test_lists_and_heaps_start_the_same_tasks(sc: Scenario, rule: str, backfill: bool, seed: int,
                                              switching: tuple[int, int]):
    # (1, 1), (2, 2), (3, 1): a queue switches whenever its count crosses 1, 2 or 3
    sc = with_rule(sc, rule, backfill)
    for policy in sc.policy_names:
        lists, heaps, switched = logs(sc, policy, seed, LISTS, HEAPS, switching)
        assert lists == heaps
        assert switched == lists


def test_long_queues_turn_to_heaps_and_back(monkeypatch):
    # a burst of 60 projects at 8x the reference's arrival rate under fifo, with and without
    # backfill: the queues do turn to heaps and back at the real thresholds, and the trace is
    # the one of lists throughout
    sc = reference_burst(60, {"fifo": {}, "strict": {"resource_manager": {"backfill": False}}})
    switches: list[str] = []
    to_heaps, to_list = dispatch.StaticQueue._to_heaps, dispatch.StaticQueue._to_list

    def heaped(queue: dispatch.StaticQueue) -> None:
        to_heaps(queue)
        switches.append("heaps")

    def listed(queue: dispatch.StaticQueue) -> None:
        to_list(queue)
        switches.append("list")

    for policy in ("fifo", "strict"):
        switches.clear()
        monkeypatch.setattr(dispatch.StaticQueue, "_to_heaps", heaped)
        monkeypatch.setattr(dispatch.StaticQueue, "_to_list", listed)
        log = task_log(sc, policy, 3)
        monkeypatch.undo()
        assert "heaps" in switches and "list" in switches
        assert log == logs(sc, policy, 3, LISTS)[0]
