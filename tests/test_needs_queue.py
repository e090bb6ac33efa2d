"""Tasks that hold several pools at once: the needs queue starts exactly what ranking every
ready task together does.

When some task needs several pools (or equipment), an allocation offers free capacity to the
ready tasks of every pool in one ranking, so no pool's queue starves a better-ranked task
elsewhere. Under a static rule the resource manager keeps one heap per kind of needs
(:class:`~pmo_sim.pmo.dispatch.NeedsQueue`) and passes over a kind as a whole once one of its
pools lacks capacity; the plain way ranks every ready task of every pool at each allocation
(``resource_manager.NEEDS_QUEUE = False``). Both must give the same trace, task by task —
with and without backfill, with switching costs, equipment, paused projects, withdrawn
projects and people free in several pools (cross-skilled by training).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, make_scenario, project, scenarios, task, task_log

from pmo_sim.pmo import needs_allocation, resource_manager
from pmo_sim.scenario.loader import load_scenario, scenario_from_dict
from pmo_sim.scenario.models import Scenario

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference.yaml"
STATIC = ("fifo", "priority", "edd", "lst", "lft")
DYNAMIC = ("srpt", "wsjf", "min_slack")


def with_needs(sc: Scenario, rule: str, equipment: int, cross: bool, capacity: bool = False) -> Scenario:
    """``sc`` under ``rule`` where every other task holds two people pools at once (or one
    and the equipment), ``equipment`` units of a test rig, and, with ``cross``, the training
    programme cross-skilling its trainees into a second pool; with ``capacity``, a calendar
    closure, a hire and a rig bought, contractors on demand, and simultaneous completions
    allocated together."""
    data = sc.model_dump(mode="json", exclude_none=True)
    sections = [data["pmo"], *(data.get("policies") or {}).values()]
    pools = sorted(data["resources"])
    for section in sections:
        rm = section.setdefault("resource_manager", {})
        rm["allocation"] = rule
        if capacity:
            rm["staffing"] = [{"day": 15, "pool": pools[-1], "change": 1}] + (
                [{"day": 25, "pool": "rig", "change": 1}] if equipment else [])
            rm["contractors"] = [{"pool": pools[0], "max": 1, "lead_time": 2, "day_rate": 500,
                                  "productivity": 0.9, "trigger_wait": 3, "release_idle": 5}]
            rm["batch_simultaneous"] = True
    if capacity:
        data["calendar"] = {"closures": [{"start": 12, "days": 4}]}
    if equipment:
        data["resources"]["rig"] = {"kind": "equipment", "units": equipment, "day_rate": 10.0}
    held = [*pools[:2]] + (["rig"] if equipment else [])
    if len(held) < 2:
        return Scenario.model_validate(data)
    tasks = [t for p in data.get("projects") or [] for t in p["tasks"]]
    tasks += [t for tpl in (data.get("intake") or {}).get("templates", []) for t in tpl["tasks"]]
    for i, t in enumerate(tasks):
        if i % 2:
            t.pop("skill", None)
            t.pop("people", None)
            t["needs"] = {pools[0]: 1, held[1 + i // 2 % (len(held) - 1)]: 1}
    if cross and len(pools) > 1:
        for section in sections:
            for programme in (section.get("training_manager") or {}).get("programmes", []):
                programme["cross_skill"] = next(p for p in pools if p != programme["skill"])
    return Scenario.model_validate(data)


def plain_log(sc: Scenario, policy: str, seed: int) -> list:
    saved = resource_manager.NEEDS_QUEUE
    resource_manager.NEEDS_QUEUE = False  # every ready task ranked together, at every allocation
    try:
        return task_log(sc, policy, seed)
    finally:
        resource_manager.NEEDS_QUEUE = saved


@settings(max_examples=500 if FULL else 120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), rule=st.sampled_from(STATIC + DYNAMIC), equipment=st.integers(0, 2),
       cross=st.booleans(), capacity=st.booleans(), seed=st.integers(0, 10_000))
def test_needs_queue_starts_what_ranking_everything_starts(sc: Scenario, rule: str, equipment: int,
                                                            cross: bool, capacity: bool, seed: int):
    sc = with_needs(sc, rule, equipment, cross, capacity)
    for policy in sc.policy_names:
        assert task_log(sc, policy, seed) == plain_log(sc, policy, seed)


@pytest.mark.parametrize("rule", ["fifo", "srpt"])
@pytest.mark.parametrize("backfill", [True, False])
def test_a_paused_project_starts_no_task_holding_several_pools(backfill: bool, rule: str):
    # (found by the property above at full size) six projects whose second task needs a
    # developer and the tester, change requests pausing them for 1.5 days: at day 21.9 the
    # paused project's task must be passed over, the next project's first task started
    sc = with_needs(make_scenario(
        resources={"dev": 2, "qa": 1}, horizon=60.0,
        intake={"arrivals": {"dist": "exponential", "mean": 5.0}, "count": 6,
                "templates": [{"name": "tpl0", "tasks": [task("t0", 5.0), task("t1", 1.0)]}]},
        changes={"per_project_per_year": 2.0, "effort_added": 0.0, "disruption": 1.5},
        pmo={"resource_manager": {"allocation": rule, "backfill": backfill}}), rule, 0, False)
    log = task_log(sc, seed=0)
    assert any(t == "t1" and c == "dev-2,qa-1" for _, t, _, _, c in log)  # it does hold both
    assert log == plain_log(sc, sc.policy_names[0], 0)


def test_projects_tied_on_key_and_arrival_offer_their_tasks_by_ready_time():
    # Z holds the tester until day 10. P and Q arrive together; P's developer-only p0 runs
    # 0.5-2.5 while Q's q0 (developer and tester) waits from 0.5. From 2.5 both rest with 4
    # person-days left: under srpt they tie, so at day 10 their tasks go by ready time, q0
    # (ready at 0.5) before p1 (ready at 2.5), whatever the project order.
    both = {"dev": 1, "qa": 1}
    sc = make_scenario(
        [project("Z", task("z0", 10.0, skill="qa")),
         project("P", task("p0", 2.0), {"name": "p1", "needs": both, "effort": 4.0, "after": ["p0"]},
                 arrival=0.5),
         project("Q", {"name": "q0", "needs": both, "effort": 4.0}, arrival=0.5)],
        resources={"dev": 1, "qa": 1}, pmo={"resource_manager": {"allocation": "srpt"}})
    expected = [("Z", "z0", 0.0, 10.0), ("P", "p0", 0.5, 2.5), ("Q", "q0", 10.0, 12.0),
                ("P", "p1", 12.0, 14.0)]
    assert [row[:4] for row in task_log(sc)] == expected
    assert [row[:4] for row in plain_log(sc, sc.policy_names[0], 0)] == expected


def test_a_larger_portfolio_with_equipment_gives_the_plain_ranking_trace():
    # the reference portfolio, 3x its projects with the same people, integration needing two
    # testers and one of two test rigs, a change manager's pauses: every dynamic rule, with
    # and without backfill (the generated portfolios above are small; this one keeps dozens
    # of projects waiting, resting and going live)
    data = load_scenario(REFERENCE).model_dump(mode="json", exclude_none=True)
    data["resources"]["rig"] = {"kind": "equipment", "units": 2, "day_rate": 100.0}
    for template in data["intake"]["templates"]:
        for t in template["tasks"]:
            if t["name"] == "integration":
                t.pop("skill"), t.pop("people", None)
                t["needs"] = {"testers": 2, "rig": 1}
    data["intake"]["count"] *= 3
    data["intake"]["arrivals"] = {"dist": "exponential", "mean": 4.0}  # a third of 12 days
    data["policies"] = {f"{rule}-{backfill}": {"resource_manager": {"allocation": rule, "backfill": backfill}}
                        for rule in DYNAMIC for backfill in (True, False)}
    sc = Scenario.model_validate(data)
    for policy in sc.policy_names:
        assert task_log(sc, policy, 5) == plain_log(sc, policy, 5), policy


def _two_pools(backfill: bool, **rm: Any) -> Scenario:
    # qa has one tester: "both" (dev + qa) waits for it, "solo" tasks need dev alone
    return make_scenario(
        [project("A", task("a1", 4.0, skill="qa")),
         project("B", {"name": "both", "needs": {"dev": 1, "qa": 1}, "effort": 2.0}, arrival=1.0),
         project("C", task("solo", 3.0, skill="dev"), arrival=2.0)],
        resources={"dev": {"headcount": 1}, "qa": {"headcount": 1}},
        pmo={"resource_manager": {"allocation": "fifo", "backfill": backfill, **rm}},
    )


@pytest.mark.parametrize("backfill", [True, False])
def test_a_task_waiting_for_one_pool_holds_the_other_only_without_backfill(backfill: bool):
    # B's "both" needs dev and qa; qa is busy with a1 until day 4. With backfill C's "solo"
    # takes the free developer at day 2 (and B waits until it is free again at day 5);
    # without, B's task holds dev back, so "both" runs 4-5 and "solo" 5-8.
    log = {(p, t): (s, f) for p, t, s, f, _ in task_log(_two_pools(backfill))}
    if backfill:
        assert log[("C", "solo")] == (2.0, 5.0)
        assert log[("B", "both")] == (5.0, 6.0)
    else:
        assert log[("B", "both")] == (4.0, 5.0)
        assert log[("C", "solo")] == (5.0, 8.0)
    for queue in (True, False):
        resource_manager.NEEDS_QUEUE = queue
        try:
            assert {(p, t): (s, f) for p, t, s, f, _ in task_log(_two_pools(backfill))} == log
        finally:
            resource_manager.NEEDS_QUEUE = True


# --------------------------------------------------------------------------- take()


class _Pool:
    def __init__(self, kind: str):
        self.kind = kind
        self.idle: list[_Person] = []


class _Person:
    def __init__(self, name: int, last_project: object):
        self.name = name
        self.last_project = last_project
        self.pools: list[_Pool] = []


def _take_by_lists(needs: list[tuple[_Pool, int]], project: object, switch_cost: float) -> list | None:
    """take() as first written: every idle list copied, fresh people sorted first."""
    if any(len(pool.idle) < units for pool, units in needs):
        return None
    chosen: list = []
    taken: set[int] = set()
    for pool, units in needs:
        free = [p for p in pool.idle if id(p) not in taken]
        if switch_cost > 0 and pool.kind == "people":
            fresh = [p for p in free if p.last_project is None or p.last_project is project]
            free = fresh + [p for p in free if not (p.last_project is None or p.last_project is project)]
        if len(free) < units:
            return None
        chosen += free[:units]
        taken.update(id(p) for p in free[:units])
    return chosen


@settings(max_examples=400 if FULL else 150, deadline=None)
@given(data=st.data(), switch_cost=st.sampled_from([0.0, 1.0]))
def test_take_chooses_as_copying_every_idle_list_did(data: st.DataObject, switch_cost: float):
    # crews of up to three pools (one may be equipment), people idle in up to three pools at
    # once (cross-skilled), some already on the task's project: the same crew, in the same
    # order, taken off every idle list it was on
    from types import SimpleNamespace

    from pmo_sim.pmo.dispatch import take

    project, other = object(), object()
    pools = [_Pool(data.draw(st.sampled_from(["people", "people", "equipment"]))) for _ in range(3)]
    people = []
    for name in range(data.draw(st.integers(0, 12))):
        person = _Person(name, data.draw(st.sampled_from([None, project, other])))
        person.pools = data.draw(st.lists(st.sampled_from(pools), min_size=1, max_size=3, unique_by=id))
        people.append(person)
    for pool in pools:  # idle lists in a drawn order
        pool.idle = data.draw(st.permutations([p for p in people if pool in p.pools]))
    held = data.draw(st.lists(st.sampled_from(pools), min_size=1, max_size=3, unique_by=id))
    needs = tuple((pool, data.draw(st.integers(1, 3))) for pool in held)
    expected = _take_by_lists(list(needs), project, switch_cost)
    before = {id(pool): list(pool.idle) for pool in pools}
    got = take(SimpleNamespace(needs=needs, project=project), switch_cost)  # type: ignore[arg-type]
    assert got == expected
    for pool in pools:
        assert pool.idle == [p for p in before[id(pool)] if got is None or p not in got]


def test_take_puts_people_already_on_the_project_first_then_the_longest_idle():
    from types import SimpleNamespace

    from pmo_sim.pmo.dispatch import take

    project = object()
    pool = _Pool("people")
    elsewhere, on_it, fresh, also_elsewhere = (_Person(i, last) for i, last in
                                               enumerate([object(), project, None, object()]))
    for person in (elsewhere, on_it, fresh, also_elsewhere):
        person.pools = [pool]
    pool.idle = [elsewhere, on_it, fresh, also_elsewhere]
    crew = take(SimpleNamespace(needs=((pool, 3),), project=project), 1.0)  # type: ignore[arg-type]
    assert crew == [on_it, fresh, elsewhere]
    assert pool.idle == [also_elsewhere]
    pool.idle = [elsewhere, on_it, fresh, also_elsewhere]
    crew = take(SimpleNamespace(needs=((pool, 3),), project=project), 0.0)  # type: ignore[arg-type]
    assert crew == [elsewhere, on_it, fresh]


def test_an_imported_multi_project_instance_where_tasks_hold_their_own_mixes():
    # MPSPLIB's mp_j30_a2_nr2 (every activity holds its own mix of four resources), its two
    # projects copied six times, staggered, with the units nudged: over a hundred kinds of
    # needs, many waiting at once; the import's policies (fifo, min_slack, lst, lft) and
    # srpt, with and without backfill
    import random

    from ruamel.yaml import YAML

    from pmo_sim.io.psplib import import_instance

    data = YAML(typ="safe").load(import_instance(
        Path(__file__).parent / "data" / "psplib" / "mpsplib" / "mp_j30_a2_nr2.xml"))
    rnd = random.Random(7)
    projects = []
    for copy in range(6):
        for p in data["projects"]:
            tasks = [{**t, "needs": {r: max(1, min(u + rnd.randint(-2, 2), 7))
                                     for r, u in t["needs"].items()}} for t in p["tasks"]]
            projects.append({**p, "name": f"{p['name']}-{copy}", "arrival": 4.0 * copy, "tasks": tasks})
    data["projects"] = projects
    data["horizon"] = 2000
    rules = ("fifo", "min_slack", "lst", "lft", "srpt")
    data["policies"] = {f"{rule}-{backfill}": {"resource_manager": {
        "allocation": rule, "backfill": backfill, "batch_simultaneous": True}}
        for rule in rules for backfill in (True, False)}
    sc = Scenario.model_validate(data)
    assert len({tuple(sorted(t.needs.items())) for p in sc.projects for t in p.tasks}) > 100
    for policy in sc.policy_names:
        log = task_log(sc, policy, 0)
        assert len(log) == sum(len(p.tasks) for p in sc.projects)  # all done: a finished trace
        assert log == plain_log(sc, policy, 0), policy


# --------------------------------------------------------------------------- many kinds


def _wide_portfolio(rule: str, backfill: bool) -> Scenario:
    """Fan-shaped networks over six pools (tasks holding one pool, two, or one and a rig):
    many kinds of needs, live projects with many ready tasks of several kinds at once."""
    pools = [f"p{i}" for i in range(6)]

    def fan(t: int) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = [{"name": "root", "skill": pools[t % 6], "effort": 2.0}]
        for i in range(8):
            spec: dict[str, Any] = {"name": f"f{i}", "effort": 1.0 + (i * 7 + t) % 5, "after": ["root"]}
            if i % 3 == 0:
                spec["needs"] = {pools[(i + t) % 6]: 1, pools[(i + t + 2) % 6]: 1}
            elif i % 3 == 1:
                spec["needs"] = {pools[(i + t) % 6]: 1, "rig": 1}
            else:
                spec.update(skill=pools[(i + t) % 6], people=1 + i % 2)
            tasks.append(spec)
        tasks.append({"name": "join", "skill": pools[(t + 3) % 6], "effort": 1.0,
                      "after": [f"f{i}" for i in range(8)]})
        return tasks

    return scenario_from_dict({
        "name": "wide", "horizon": 120,
        "resources": {**{p: {"headcount": 2 + i % 2, "day_rate": 500} for i, p in enumerate(pools)},
                      "rig": {"kind": "equipment", "units": 2}},
        "intake": {"arrivals": {"dist": "exponential", "mean": 1.5}, "count": 40,
                   "templates": [{"name": f"T{t}", "due": {"dist": "uniform", "low": 20, "high": 60},
                                  "value_per_day": {"dist": "uniform", "low": 100, "high": 900},
                                  "tasks": fan(t)} for t in range(4)]},
        "changes": {"per_project_per_year": 6, "effort_added": 0.2, "disruption": 0.5},
        "pmo": {"resource_manager": {"allocation": rule, "backfill": backfill}},
    })


@pytest.mark.parametrize("rule", DYNAMIC)
@pytest.mark.parametrize("backfill", [True, False])
def test_live_projects_are_ranked_by_the_kinds_that_can_start(rule: str, backfill: bool, monkeypatch):
    # The dynamic needs queue ranks only the live projects with a ready task of a kind that
    # can start (its per-kind index), and passes over a project whose every kind is out:
    # at every allocation the index is what the ready tasks say, and the trace is the one of
    # ranking every ready task together.
    sc = _wide_portfolio(rule, backfill)
    checked: list[int] = []
    run = needs_allocation.Allocation.run

    def checking(allocation: needs_allocation.Allocation) -> None:
        queue = allocation.queue
        for p, waiting in queue.projects.items():
            assert queue.ready_kinds[p] == Counter(queue.kinds.of(t.needs) for t in waiting)
        assert set(queue.ready_kinds) == set(queue.projects)
        for kind, members in enumerate(queue.live_of_kind):
            assert members == {p for p in queue.live if kind in queue.ready_kinds[p]}
        checked.append(len(queue.live))
        run(allocation)

    monkeypatch.setattr(needs_allocation.Allocation, "run", checking)
    log = task_log(sc, seed=2)
    monkeypatch.undo()
    assert len(checked) > 100 and max(checked) > 3  # many allocations, several live projects
    assert log == plain_log(sc, sc.policy_names[0], 2)


def test_an_allocation_a_start_ends_keys_no_live_project_ranked_after_its_last_rank(monkeypatch):
    # As a pool's queue (tests/test_lazy_live_keys.py): a rank is offered as soon as it is
    # whole, and a live project is keyed only while its bound may be below the rank looked
    # for; so when a start leaves no kind able to start, every project the allocation keyed
    # had a bound no higher than the key of that last rank.
    from pmo_sim.rules.allocation import ALLOCATION_RULES

    sc = _wide_portfolio("min_slack", True)
    rule = ALLOCATION_RULES["min_slack"]
    seen: dict[str, Any] = {"queue": None, "keyed": [], "last": None, "ended": False}
    ends = {"allocations": 0, "keys": 0}

    def counted(project: Any, now: float) -> float:
        queue = seen["queue"]
        if queue is not None:  # the bound the project had when it was keyed
            seen["keyed"].append(queue.bounds.get(project, -float("inf")) - queue.falls * now)
        return rule(project, now)

    offer = needs_allocation.Allocation._offer

    def offering(allocation: needs_allocation.Allocation, group: list) -> bool:
        key = rule(group[0][3], allocation.now)  # the rank's key, before it starts
        started = offer(allocation, group)
        if started and not allocation.alive and not seen["ended"]:  # the start that ends it
            seen.update(ended=True, last=key)
        return started

    lazily = needs_allocation.Allocation._run_lazily

    def watching(allocation: needs_allocation.Allocation, startable: Any) -> None:
        seen.update(queue=allocation.queue, keyed=[], last=None, ended=False)
        lazily(allocation, startable)
        seen["queue"] = None
        if seen["ended"]:
            ends["allocations"] += 1
            for bound in seen["keyed"]:
                assert bound <= seen["last"]
                ends["keys"] += 1

    monkeypatch.setitem(ALLOCATION_RULES, "min_slack", counted)
    monkeypatch.setattr(needs_allocation.Allocation, "_offer", offering)
    monkeypatch.setattr(needs_allocation.Allocation, "_run_lazily", watching)
    log = task_log(sc, seed=2)
    monkeypatch.undo()
    assert ends["allocations"] > 50 and ends["keys"] > 50
    assert log == plain_log(sc, sc.policy_names[0], 2)
