"""The incremental ranking of the dynamic rules decides exactly as ranking everyone afresh.

Under ``srpt``, ``wsjf`` and ``min_slack`` the resource manager keeps projects with nothing
running in a heap by their key (it does not move, or moves alike for all), and re-ranks only
the projects with work in progress at each allocation. The plain way — every waiting project
ranked afresh at every allocation — is what the engine does for a dynamic rule not registered
as ``steady``; both must give the same trace, task by task, whatever the portfolio, changes,
ideas or multi-resource tasks.

A pool's queue keeps resting projects apart only while many projects wait in it (it is plain
below a threshold, where that costs more than it saves); the generated portfolios are small,
so the property is checked with the queues steady from two waiting projects on, and with
thresholds that make them switch back and forth all the time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, reference_burst, scenarios, task_log

from pmo_sim.pmo import dynamic_queue
from pmo_sim.rules.allocation import ALLOCATION_RULES, RESTING_FORMS, STEADY_RULES, STILL_RULES
from pmo_sim.scenario.models import Scenario

DYNAMIC = ("srpt", "wsjf", "min_slack")


def with_rule(sc: Scenario, rule: str, ideas: bool, needs: bool) -> Scenario:
    data = sc.model_dump(mode="json", exclude_none=True)
    sections = [data["pmo"], *(data.get("policies") or {}).values()]
    for section in sections:
        section.setdefault("resource_manager", {})["allocation"] = rule
        if ideas:
            section["innovation_manager"] = {"time_fraction": 0.05, "ideas_per_year": 12,
                                             "success_probability": 0.8, "effort_reduction": 0.1}
    pools = sorted(data["resources"])
    if needs and len(pools) > 1:  # every other task needs two pools at once
        for proj in data.get("projects") or []:
            for i, task in enumerate(proj["tasks"]):
                if i % 2:
                    task.pop("skill", None)
                    task.pop("people", None)
                    task["needs"] = {pools[0]: 1, pools[1]: 1}
    return Scenario.model_validate(data)


def fresh_ranking_log(sc: Scenario, rule: str, seed: int, policy: str) -> list:
    STEADY_RULES.discard(rule)  # not steady: every project ranked afresh at every allocation
    try:
        return task_log(sc, policy, seed)
    finally:
        STEADY_RULES.add(rule)


@contextmanager
def thresholds(steady_above: int, plain_below: int) -> Iterator[None]:
    saved = dynamic_queue.STEADY_ABOVE, dynamic_queue.PLAIN_BELOW
    dynamic_queue.STEADY_ABOVE, dynamic_queue.PLAIN_BELOW = steady_above, plain_below
    try:
        yield
    finally:
        dynamic_queue.STEADY_ABOVE, dynamic_queue.PLAIN_BELOW = saved


@settings(max_examples=300 if FULL else 40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), rule=st.sampled_from(DYNAMIC), ideas=st.booleans(), needs=st.booleans(),
       seed=st.integers(0, 10_000), switching=st.sampled_from(((1, 0), (3, 2), (2, 2))))
def test_resting_projects_keep_their_rank(sc: Scenario, rule: str, ideas: bool, needs: bool,
                                          seed: int, switching: tuple[int, int]):
    # (1, 0): steady as soon as two projects wait, never plain again; (3, 2) and (2, 2): a
    # queue switches whenever its count crosses 2 or 3
    sc = with_rule(sc, rule, ideas, needs)
    for policy in sc.policy_names:
        with thresholds(*switching):
            log = task_log(sc, policy, seed)
        assert log == fresh_ranking_log(sc, rule, seed, policy)


def test_queues_turn_steady_when_long_and_plain_when_short(monkeypatch):
    # a long backlog under min_slack (projects only, 8x the reference's arrival rate, a WIP
    # limit of 48): the pools' queues do turn steady and back at the real thresholds, and the
    # trace is the plain ranking's
    sc = reference_burst(160, {"ms": {"resource_manager": {"allocation": "min_slack", "wip_limit": 48}}})
    switches: list[bool] = []
    switch = dynamic_queue.DynamicQueue._switch

    def counted(queue: dynamic_queue.DynamicQueue) -> None:
        switch(queue)
        switches.append(queue.steady)

    monkeypatch.setattr(dynamic_queue.DynamicQueue, "_switch", counted)
    log = task_log(sc, "ms", 3)
    monkeypatch.undo()
    assert True in switches and False in switches
    assert log == fresh_ranking_log(sc, "min_slack", 3, "ms")


def test_every_builtin_dynamic_rule_is_steady():
    # a rule that is neither static nor steady is correct but slow (ranked afresh each time)
    assert set(DYNAMIC) == STEADY_RULES


def test_still_rules_are_the_steady_rules_whose_resting_key_ignores_now():
    # a resting project's heap key is used as its key at any later time: a rule registered
    # ``still`` must not look at ``now`` when nothing of the project runs (srpt, wsjf); min_slack
    # moves with now, so it is steady but not still
    assert {"srpt", "wsjf"} == STILL_RULES and STILL_RULES <= STEADY_RULES

    class Resting:
        priority, due_date, value_per_day = 2.0, 40.0, 3.5

        def remaining_effort(self, now: float) -> float:
            return 17.25  # nothing runs: the work of the tasks not started

        def remaining_critical_path(self, now: float) -> float:
            return 9.5

    for name in STILL_RULES:
        keys = {ALLOCATION_RULES[name](Resting(), now) for now in (0.0, 1e-9, 3.7, 250.0, 1e6)}
        assert len(keys) == 1, name
    assert len({ALLOCATION_RULES["min_slack"](Resting(), now) for now in (0.0, 3.7)}) == 2
    # min_slack's resting form: the critical path taken once, then the rule's very number
    assert set(RESTING_FORMS) == {"min_slack"}
    part, key = RESTING_FORMS["min_slack"]
    project = Resting()
    for now in (0.0, 1e-9, 0.1, 3.7, 250.3, 1e6):
        assert key(project, part(project), now) == ALLOCATION_RULES["min_slack"](project, now)
