"""Exact event traces of tiny deterministic models, worked out by hand.

Every model here has fixed efforts and explicit projects, so the schedule is arithmetic:
a task of effort E done by a crew of total productivity P takes E / P days (SPEC 2, 4.1).
Each test states the expected log of ``(project, task, start, finish, crew)`` rows (in start
order) and, in a comment, why. Where the model is random on purpose (change requests,
leavers), the test reads the event times from the replication's Plan and derives the
schedule from them, so it pins down the engine's arithmetic, not the sampler's draws.
"""

from __future__ import annotations

import pytest
from strategies import RULES, first_seed, make_scenario, project, task, task_log

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler


def records(sc, policy=None, seed=0):
    return run_replication(sc, 0, seed, [policy or sc.policy_names[0]])[0]


def column(rec, table: str, key: str, name: str, col: str):
    """One value of a columnar table (projects / pools), looked up by its name column."""
    cols = getattr(rec, table)
    return cols[col][cols[key].index(name)]


# --------------------------------------------------------------------------- allocation rules

# One developer. Z occupies them for days 0-10 while A, B, C, D arrive (days 1-4) and queue;
# at day 10 the rule alone decides the order of the four one-task projects.
#
#   project  arrival  effort  priority  due (abs.)   value/day  value/effort  due - effort
#   A        1        4       4         1+19.5=20.5  12         3             16.5
#   B        2        1       3         2+21  =23     4         4             22
#   C        3        3       2         3+17  =20     3         1             17
#   D        4        2       1         4+18  =22    10         5             20
#
# fifo: arrival           A B C D      priority: lowest number  D C B A
# edd: due date           C A D B      srpt: least remaining    B D C A
# wsjf: value/effort desc D B A C      min_slack: due - now - critical path (= effort, one
#                                      person at productivity 1; `now` is common)  A C D B
# Six different orders: each rule is told apart from every other.
RULE_PORTFOLIO = [
    project("Z", task("z", 10)),
    project("A", task("a", 4), arrival=1, priority=4, due=19.5, value_per_day=12),
    project("B", task("b", 1), arrival=2, priority=3, due=21, value_per_day=4),
    project("C", task("c", 3), arrival=3, priority=2, due=17, value_per_day=3),
    project("D", task("d", 2), arrival=4, priority=1, due=18, value_per_day=10),
]
RULE_ORDER = {
    "fifo": "ABCD", "priority": "DCBA", "edd": "CADB",
    "srpt": "BDCA", "wsjf": "DBAC", "min_slack": "ACDB",
}
EFFORT = {"A": 4, "B": 1, "C": 3, "D": 2}


def test_rule_orders_are_all_different():
    assert sorted(RULE_ORDER) == sorted(RULES)
    assert len(set(RULE_ORDER.values())) == len(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_allocation_rule_orders_the_queue(rule):
    sc = make_scenario(RULE_PORTFOLIO, pmo={"resource_manager": {"allocation": rule}})
    expected, t = [("Z", "z", 0, 10.0, "dev-1")], 10.0
    for name in RULE_ORDER[rule]:  # back to back from day 10, in the rule's order
        expected.append((name, name.lower(), t, t + EFFORT[name], "dev-1"))
        t += EFFORT[name]
    assert task_log(sc) == expected


@pytest.mark.parametrize(("z_effort", "first"), [(5, "Q"), (9, "P")])
def test_srpt_ranks_by_whole_project_remaining_effort_including_running_work(z_effort, first):
    # dev: Z (alone on day 0) holds the developer until day z. P and Q arrive on day 1: P's p1
    # (qa, 10) runs over days 1-11; P's p2 (dev, 1) and Q's q (dev, 4) wait for the developer.
    # At day z, P has (11 - z) + 1 left, Q has 4:
    #   z = 5: P 7 > Q 4 -> q first (task-level SPT would pick p2, the 1-day task);
    #   z = 9: P 3 < Q 4 -> p2 first: the running task's progress counts.
    sc = make_scenario(
        [project("Z", task("z", z_effort)),
         project("P", task("p1", 10, skill="qa"), task("p2", 1), arrival=1),
         project("Q", task("q", 4), arrival=1)],
        resources={"dev": 1, "qa": 1}, pmo={"resource_manager": {"allocation": "srpt"}})
    z = float(z_effort)
    head = [("Z", "z", 0, z, "dev-1"), ("P", "p1", 1, 11.0, "qa-1")]
    if first == "Q":
        tail = [("Q", "q", z, z + 4, "dev-1"), ("P", "p2", z + 4, z + 5, "dev-1")]
    else:
        tail = [("P", "p2", z, z + 1, "dev-1"), ("Q", "q", z + 1, z + 5, "dev-1")]
    assert sorted(task_log(sc)) == sorted(head + tail)


# --------------------------------------------------------------------------- backfill


@pytest.mark.parametrize("backfill", [True, False])
def test_backfill_lets_a_small_task_use_people_a_big_crew_cannot_use_yet(backfill):
    # Two developers. A's a (1 person, 5 days) takes dev-1 at day 0. B's b needs 2 people
    # (effort 4) from day 1: only dev-2 is free, so b waits. C's c (1 person, 3) is ready at 2.
    #   backfill: c jumps b and uses dev-2 for days 2-5; at day 5 a and c both end
    #             (a's event first, it was scheduled first) and b runs 5-7 on dev-1, dev-2.
    #   strict:   nobody jumps b; dev-2 idles until a ends at 5, b runs 5-7 on dev-2, dev-1
    #             (longest idle first), then c 7-10 on dev-2.
    # b starts at day 5 either way: backfilling used idle time without delaying it.
    sc = make_scenario(
        [project("A", task("a", 5)),
         project("B", task("b", 4, people=2), arrival=1),
         project("C", task("c", 3), arrival=2)],
        resources={"dev": 2}, pmo={"resource_manager": {"backfill": backfill}})
    if backfill:
        expected = [("A", "a", 0, 5.0, "dev-1"), ("C", "c", 2.0, 5.0, "dev-2"),
                    ("B", "b", 5.0, 7.0, "dev-1,dev-2")]
    else:
        expected = [("A", "a", 0, 5.0, "dev-1"), ("B", "b", 5.0, 7.0, "dev-2,dev-1"),
                    ("C", "c", 7.0, 10.0, "dev-2")]
    assert task_log(sc) == expected


# --------------------------------------------------------------------------- WIP limit


@pytest.mark.parametrize(("rule", "order"), [("priority", "CB"), ("fifo", "BC")])
def test_wip_limit_admits_the_backlog_in_rule_order(rule, order):
    # WIP limit 1 with two developers: one of them idles, the gate is the bottleneck.
    # A (day 0, 5 days) is admitted at once; B (day 1, priority 2, 4 days) and C (day 2,
    # priority 1, 3 days) wait in the backlog. When A completes at day 5 the gate admits
    # the backlog's best project by the allocation rule: C under `priority`, B under `fifo`.
    # At day 5 dev-1 (A's) is released behind dev-2, so the next task takes dev-2.
    sc = make_scenario(
        [project("A", task("a", 5)),
         project("B", task("b", 4), arrival=1, priority=2),
         project("C", task("c", 3), arrival=2, priority=1)],
        resources={"dev": 2}, pmo={"resource_manager": {"allocation": rule, "wip_limit": 1}})
    effort = {"B": 4.0, "C": 3.0}
    first, second = order
    t1 = 5.0 + effort[first]
    expected = [("A", "a", 0, 5.0, "dev-1"),
                (first, first.lower(), 5.0, t1, "dev-2"),
                (second, second.lower(), t1, t1 + effort[second], "dev-1")]
    assert task_log(sc) == expected
    rec = records(sc)
    admitted = dict(zip(rec.projects["project"], rec.projects["admitted"], strict=True))
    assert admitted == {"A": 0.0, first: 5.0, second: t1}


def test_wip_limit_leaves_unadmitted_projects_in_the_backlog_at_the_horizon():
    # Horizon 8: A runs 0-5; B is admitted at 5 and runs 5-9 (open at the horizon); C never
    # gets past the gate.
    sc = make_scenario(
        [project("A", task("a", 5)), project("B", task("b", 4), arrival=1),
         project("C", task("c", 3), arrival=2)],
        resources={"dev": 2}, horizon=8, pmo={"resource_manager": {"wip_limit": 1}})
    rec = records(sc)
    assert rec.projects["status"] == ["completed", "open", "backlog"]
    assert rec.kpis["projects_completed"] == 1
    assert rec.kpis["projects_open"] == 2
    # avg_wip: one admitted project all the time; avg_in_system: 1 (0-1), 2 (1-2), 3 (2-5),
    # 2 (5-8) -> (1 + 2 + 9 + 6) / 8.
    assert rec.kpis["avg_wip"] == pytest.approx(1.0)
    assert rec.kpis["avg_in_system"] == pytest.approx(18 / 8)


# --------------------------------------------------------------------------- switch cost


@pytest.mark.parametrize("switch_cost", [0.0, 2.0])
def test_switch_cost_is_paid_when_changing_project_not_when_staying(switch_cost):
    # One developer, `priority` rule, A (priority 1) before B.
    # a1 0-3: a fresh person pays no set-up. a2 3-5: same project, no set-up.
    # b 5 -> 5 + s + 4: the developer switches from A to B and pays s days of set-up.
    sc = make_scenario(
        [project("A", task("a1", 3), task("a2", 2, after=["a1"]), priority=1),
         project("B", task("b", 4), priority=2)],
        pmo={"resource_manager": {"allocation": "priority", "switch_cost_days": switch_cost}})
    assert task_log(sc) == [("A", "a1", 0, 3.0, "dev-1"), ("A", "a2", 3.0, 5.0, "dev-1"),
                            ("B", "b", 5.0, 9.0 + switch_cost, "dev-1")]
    # Set-up is busy time (the person is held by the task) and is paid by the project.
    rec = records(sc)
    assert rec.pools["busy_days"] == [pytest.approx(9.0 + switch_cost)]


def test_switch_cost_prefers_people_already_on_the_project():
    # Two developers, switch cost 2. a (A) on dev-1 0-4 and b (B) on dev-2 0-1.
    # At day 1 B's b2 is ready: dev-2 (already on B) takes it, no set-up: 1-2.
    # At day 4 A's a2 (ready at 4) takes dev-1, who stayed on A: 4-6, although dev-2 has been
    # idle longer (since day 2) - picking dev-2 would cost a set-up.
    sc = make_scenario(
        [project("A", task("a", 4), task("a2", 2, after=["a"])),
         project("B", task("b", 1), task("b2", 1, after=["b"]))],
        resources={"dev": 2}, pmo={"resource_manager": {"switch_cost_days": 2}})
    assert task_log(sc) == [("A", "a", 0, 4.0, "dev-1"), ("B", "b", 0, 1.0, "dev-2"),
                            ("B", "b2", 1.0, 2.0, "dev-2"), ("A", "a2", 4.0, 6.0, "dev-1")]


# --------------------------------------------------------------------------- precedence


def test_precedence_diamond_waits_for_every_predecessor():
    # a (dev, 2) -> b (qa, 3) and c (dev, 4) -> d (dev, 1, after b and c).
    # a 0-2; then b 2-5 on qa-1 and c 2-6 on dev-1 in parallel; d is ready only when the
    # later of the two ends (c, day 6): d 6-7.
    sc = make_scenario(
        [project("A", task("a", 2), task("b", 3, skill="qa", after=["a"]),
                 task("c", 4, after=["a"]), task("d", 1, after=["b", "c"]))],
        resources={"dev": 1, "qa": 1})
    assert task_log(sc) == [("A", "a", 0, 2.0, "dev-1"), ("A", "b", 2.0, 5.0, "qa-1"),
                            ("A", "c", 2.0, 6.0, "dev-1"), ("A", "d", 6.0, 7.0, "dev-1")]


def test_precedence_across_pools_with_idle_people():
    # Two developers, but d (after b on qa, 3 days) cannot start before day 5 even though
    # dev-2 is idle from day 0.
    sc = make_scenario(
        [project("A", task("a", 2), task("b", 3, skill="qa", after=["a"]),
                 task("d", 1, after=["b"]))],
        resources={"dev": 2, "qa": 1})
    assert task_log(sc) == [("A", "a", 0, 2.0, "dev-1"), ("A", "b", 2.0, 5.0, "qa-1"),
                            ("A", "d", 5.0, 6.0, "dev-2")]


def test_crew_productivity_sets_the_duration(tiny_scenario, task_trace):
    # A 3-person crew at productivity 0.5 each: 6 person-days take 6 / 1.5 = 4 days.
    sc = tiny_scenario([project("A", task("a", 6, people=3))],
                       resources={"dev": {"headcount": 3, "productivity": 0.5}})
    assert task_trace(sc) == [("A", "a", 0, 4.0, "dev-1,dev-2,dev-3")]


# --------------------------------------------------------------------------- change requests

CHANGE_POLICIES = {
    "open": {},  # no change manager: a request applies at once
    "assessed": {"change_manager": {"assessment_days": 3, "rework_reduction": 0.5,
                                    "disruption_reduction": 0.5}},
    "strict": {"change_manager": {"reject_fraction": 1}},
}


def change_model(b_effort: float):
    """B holds qa-1 for ``b_effort`` days; A = t0 (qa, 1) | t1 (dev, 10) -> t2 (dev, 6), t3 (qa, 2).

    Change requests: rate 5 / year, +50 % of the remaining effort, 2 days' pause.
    """
    return make_scenario(
        [project("B", task("b", b_effort, skill="qa")),
         project("A", task("t0", 1, skill="qa"), task("t1", 10), task("t2", 6, after=["t1"]),
                 task("t3", 2, skill="qa", after=["t1"]))],
        resources={"dev": 1, "qa": 1}, horizon=100, policies=CHANGE_POLICIES,
        changes={"per_project_per_year": 5, "effort_added": 0.5, "disruption": 2})


def _one_early_change(plan) -> bool:
    """A gets exactly one request while it runs (day 1-6, next one after day 40); B none early."""
    b, a = plan.projects
    times = a.change_times
    return (len(times) >= 1 and 1 < times[0] < 6 and (len(times) == 1 or times[1] > 40)
            and not (b.change_times < times[0] + 2).any())


@pytest.fixture(scope="module")
def change_case():
    """(scenario, seed, tc): B's effort is tc + 1, so B frees qa-1 in the middle of A's pause.

    Change times depend on arrivals and the horizon only (not on efforts), so rebuilding the
    scenario with B's effort set to tc + 1 keeps the very same requests.
    """
    seed = first_seed(change_model(1.0), _one_early_change)
    tc = float(Sampler(change_model(1.0)).plan(seed, 0).projects[1].change_times[0])
    sc = change_model(tc + 1)
    assert float(Sampler(sc).plan(seed, 0).projects[1].change_times[0]) == tc
    return sc, seed, tc


def test_change_request_pauses_the_project_and_spreads_rework_pro_rata(change_case):
    sc, seed, tc = change_case
    # At tc (1 < tc < 6): t1 has 10 - tc left; t0 (1), t2 (6), t3 (2) have not started.
    # Rework R = 0.5 × (10 - tc + 1 + 6 + 2) = 0.5 × (19 - tc), spread over the unstarted
    # tasks pro rata to their effort (total 9): t0 + R/9, t2 + 6R/9, t3 + 2R/9.
    # Pause 2 days: the running t1 is extended to 10 + 2 = 12; nothing of A may start in
    # [tc, tc + 2], so t0 waits although B frees qa-1 at tc + 1; it runs tc+2 -> tc+3+R/9.
    # t2 (dev) and t3 (qa) start when t1 ends at 12: t2 ends 12 + 6 + 6R/9, t3 12 + 2 + 2R/9.
    r = 0.5 * (19 - tc)
    assert task_log(sc, "open", seed) == [
        ("B", "b", 0, round(tc + 1, 9), "qa-1"),
        ("A", "t1", 0, 12.0, "dev-1"),
        ("A", "t0", round(tc + 2, 9), round(tc + 3 + r / 9, 9), "qa-1"),
        ("A", "t2", 12.0, round(18 + 6 * r / 9, 9), "dev-1"),
        ("A", "t3", 12.0, round(14 + 2 * r / 9, 9), "qa-1"),
    ]
    rec = records(sc, "open", seed)
    assert rec.kpis["changes"] == 1
    assert rec.kpis["changes_rejected"] == 0
    assert rec.kpis["rework_effort"] == pytest.approx(r)
    assert column(rec, "projects", "project", "A", "rework_effort") == pytest.approx(r)
    assert column(rec, "projects", "project", "A", "effort_done") == pytest.approx(19 + r)
    assert column(rec, "projects", "project", "A", "effort_planned") == pytest.approx(19)


def test_assessed_change_applies_later_and_reduced(change_case):
    sc, seed, tc = change_case
    # Assessment takes 3 days: nothing happens at tc (t0 runs as soon as B frees qa-1,
    # tc+1 -> tc+2); the request applies at tc + 3, when t0 is done and t1 has 10 - tc - 3
    # left. Rework R' = 0.5 × (1 - 0.5) × (7 - tc + 6 + 2) = 0.25 × (15 - tc), spread over
    # t2 and t3 (6 : 2); the pause is 2 × (1 - 0.5) = 1 day: t1 ends at 11.
    r = 0.25 * (15 - tc)
    assert task_log(sc, "assessed", seed) == [
        ("B", "b", 0, round(tc + 1, 9), "qa-1"),
        ("A", "t1", 0, 11.0, "dev-1"),
        ("A", "t0", round(tc + 1, 9), round(tc + 2, 9), "qa-1"),
        ("A", "t2", 11.0, round(17 + 6 * r / 8, 9), "dev-1"),
        ("A", "t3", 11.0, round(13 + 2 * r / 8, 9), "qa-1"),
    ]
    assert records(sc, "assessed", seed).kpis["rework_effort"] == pytest.approx(r)


def test_rejected_change_has_no_effect(change_case):
    sc, seed, tc = change_case
    # reject_fraction 1: the request is counted, and rejected; the schedule is the plain one.
    assert task_log(sc, "strict", seed) == [
        ("B", "b", 0, round(tc + 1, 9), "qa-1"),
        ("A", "t1", 0, 10.0, "dev-1"),
        ("A", "t0", round(tc + 1, 9), round(tc + 2, 9), "qa-1"),
        ("A", "t2", 10.0, 16.0, "dev-1"),
        ("A", "t3", 10.0, 12.0, "qa-1"),
    ]
    kpis = records(sc, "strict", seed).kpis
    assert kpis["changes"] == kpis["changes_rejected"] == 1
    assert kpis["rework_effort"] == 0


def test_requests_reach_a_project_only_while_it_is_started_and_open():
    # No effect (0 rework, 0 pause), so the schedule is fixed: Z 0-50, then A 50-55 (A is
    # admitted at day 0 but not started before 50). Every project draws requests over
    # [arrival, horizon]; only those in [start, finish) reach it and count.
    sc = make_scenario([project("Z", task("z", 50)), project("A", task("a", 5))], horizon=100,
                       changes={"per_project_per_year": 50})

    def reaching(times, start, finish):
        return int(((times >= start) & (times < finish)).sum())

    seed = first_seed(sc, lambda p: reaching(p.projects[1].change_times, 50, 55) >= 1)
    z, a = Sampler(sc).plan(seed, 0).projects
    expected = [reaching(z.change_times, 0, 50), reaching(a.change_times, 50, 55)]
    assert len(a.change_times) > expected[1]  # some of A's requests fall outside: dropped
    rec = records(sc, seed=seed)
    assert rec.projects["changes"] == expected
    assert rec.kpis["changes"] == sum(expected)
    assert rec.kpis["rework_effort"] == 0


@pytest.mark.parametrize("managers", [1, 2])
def test_change_managers_assess_in_parallel_or_queue(managers):
    # t1 (50) -> t2 (10). Two requests 0 < tc2 - tc1 < 3, each adding 20 % of what is left
    # (no pause); assessment takes 3 days. Two managers apply them at a1 = tc1 + 3 and
    # a2 = tc2 + 3; one manager assesses the second after the first: a2 = tc1 + 6.
    # Remaining at a: (50 - a) of t1 + t2's current effort, so
    #   R1 = 0.2 (60 - a1),  R2 = 0.2 (60 + R1 - a2),  t2 = 50 -> 60 + R1 + R2.
    sc = make_scenario(
        [project("A", task("t1", 50), task("t2", 10, after=["t1"]))], horizon=120,
        changes={"per_project_per_year": 5, "effort_added": 0.2},
        pmo={"change_manager": {"assessment_days": 3, "managers": managers}})
    seed = first_seed(sc, lambda p: len(t := p.projects[0].change_times) >= 2 and 1 < t[0] < 40
                      and t[1] - t[0] < 3 and (len(t) == 2 or t[2] > 100))
    tc1, tc2 = (float(x) for x in Sampler(sc).plan(seed, 0).projects[0].change_times[:2])
    a1, a2 = tc1 + 3, (tc1 + 6 if managers == 1 else tc2 + 3)
    r1 = 0.2 * (60 - a1)
    r2 = 0.2 * (60 + r1 - a2)
    assert task_log(sc, seed=seed) == [("A", "t1", 0, 50.0, "dev-1"),
                                       ("A", "t2", 50.0, round(60 + r1 + r2, 9), "dev-1")]


def test_rework_with_nothing_left_to_start_becomes_a_new_task_after_the_running_ones():
    # A has a single task t1 (10 days). A request at tc (1 < tc < 9) adds 0.5 × (10 - tc),
    # but there is no unstarted task to spread it over: the engine appends "rework-2" after
    # the running t1, for the same kind of crew: it runs 10 -> 10 + 0.5 × (10 - tc).
    sc = make_scenario([project("A", task("t1", 10))], horizon=100,
                       changes={"per_project_per_year": 5, "effort_added": 0.5})
    seed = first_seed(sc, lambda p: len(times := p.projects[0].change_times) >= 1
                      and 1 < times[0] < 9 and (len(times) == 1 or times[1] > 20))
    tc = float(Sampler(sc).plan(seed, 0).projects[0].change_times[0])
    r = 0.5 * (10 - tc)
    assert task_log(sc, seed=seed) == [("A", "t1", 0, 10.0, "dev-1"),
                                       ("A", "rework-2", 10.0, round(10 + r, 9), "dev-1")]
    rec = records(sc, seed=seed)
    assert rec.projects["effort_done"] == [pytest.approx(10 + r)]
    assert rec.projects["effort_planned"] == [10.0]


def test_remaining_effort_of_a_paused_task_counts_only_work_actually_done():
    # t1 (10) -> t2 (10); every request adds 50 % of the remaining effort and pauses A for
    # 20 days. Two requests: tc1 in (1, 5) and tc2 in (tc1, 20), nothing else before day 30.
    # t1 works only on [0, tc1]: the pauses cover the rest of the horizon (tc1 + 20 > tc2,
    # then until tc2 + 20 > 30). So at tc1: remaining 10 - tc1 + 10, R1 = 0.5 (20 - tc1),
    # all on t2; at tc2: t1 still has 10 - tc1 left, R2 = 0.5 (20 - tc1 + R1).
    # At the horizon t1 has done tc1 person-days.
    # The engine instead sees t1 as finished (remaining 0) once its *unpaused* end (day 10)
    # has passed, and as not started (remaining 10) before that, during the pause.
    sc = make_scenario([project("A", task("t1", 10), task("t2", 10, after=["t1"]))], horizon=30,
                       changes={"per_project_per_year": 25, "effort_added": 0.5, "disruption": 20})
    seed = first_seed(sc, lambda p: len(t := p.projects[0].change_times) == 2
                      and 1 < t[0] < 5 and t[1] < 20)
    tc1 = float(Sampler(sc).plan(seed, 0).projects[0].change_times[0])
    r1 = 0.5 * (20 - tc1)
    r2 = 0.5 * (20 - tc1 + r1)
    rec = records(sc, seed=seed)
    assert rec.kpis["rework_effort"] == pytest.approx(r1 + r2)
    assert rec.projects["effort_done"] == [pytest.approx(tc1)]


# --------------------------------------------------------------------------- workforce

ATTRITION = 2.0  # per person per year; 250 days per year


def attrition_model():
    """One developer; A = a1 (10) -> a2 (5) -> a3 (7.5). Hiring takes 5 days, a new hire
    starts at productivity 0.5 and reaches 1.0 after 20 days."""
    return make_scenario(
        [project("A", task("a1", 10), task("a2", 5, after=["a1"]), task("a3", 7.5, after=["a2"]))],
        horizon=50,
        workforce={"attrition_per_year": ATTRITION, "hiring_delay": 5,
                   "new_hire_productivity": 0.5, "ramp_up_days": 20})


def test_leaver_finishes_the_task_then_is_replaced_by_a_ramping_new_hire():
    sc = attrition_model()
    per_day = ATTRITION / sc.days_per_year
    # Wanted: dev-1 leaves mid-a1 (1 < L < 9) and the replacement stays past the horizon.
    seed = first_seed(sc, lambda p: 1 < p.leave_budget[0][0, 0] / per_day < 9
                      and p.leave_budget[0][0, 1] / per_day > 50)
    # dev-1's leave time L falls inside a1 (0-10): they finish a1 and leave at day 10.
    # The replacement dev-1.1 arrives 5 days later, at day 15, at productivity 0.5:
    #   a2 (5) at 15: 5 / 0.5 = 10 days -> 25 (duration fixed at start);
    #   a3 (7.5) at 25: productivity 0.5 + 0.5 × (25 - 15) / 20 = 0.75 -> 7.5 / 0.75 = 10 -> 35.
    assert task_log(sc, seed=seed) == [("A", "a1", 0, 10.0, "dev-1"),
                                       ("A", "a2", 15.0, 25.0, "dev-1.1"),
                                       ("A", "a3", 25.0, 35.0, "dev-1.1")]
    rec = records(sc, seed=seed)
    assert (rec.kpis["leavers"], rec.kpis["hires"]) == (1, 1)
    # Employed 0-10 and 15-50 = 45 of 50 days; busy 10 + 10 + 10 = 30; idle 15.
    assert rec.pools["headcount_avg"] == [pytest.approx(0.9)]
    assert rec.pools["busy_days"] == [pytest.approx(30.0)]
    assert rec.pools["idle_days"] == [pytest.approx(15.0)]
    # Waits: a1 0, a2 5 (ready at 10, crew at 15), a3 0.
    assert rec.pools["mean_wait"] == [pytest.approx(5 / 3)]


def test_idle_leaver_leaves_at_once():
    # Same model, but A arrives only at day 20: dev-1 is idle when their time comes (L < 9)
    # and leaves at L; dev-1.1 is hired at L + 5 and starts a1 at day 20 at productivity
    # 0.5 + 0.5 × (20 - (L + 5)) / 20.
    base = attrition_model()
    sc = make_scenario([{**base.projects[0].model_dump(), "arrival": 20.0}], horizon=50,
                       workforce=base.workforce.model_dump())
    per_day = ATTRITION / sc.days_per_year
    seed = first_seed(sc, lambda p: 1 < p.leave_budget[0][0, 0] / per_day < 9
                      and p.leave_budget[0][0, 1] / per_day > 50)
    leave = float(Sampler(sc).plan(seed, 0).leave_budget[0][0, 0]) / per_day
    productivity = 0.5 + 0.5 * (20 - (leave + 5)) / 20
    log = task_log(sc, seed=seed)
    assert log[0] == ("A", "a1", 20.0, round(20 + 10 / productivity, 9), "dev-1.1")
    rec = records(sc, seed=seed)
    # Employed [0, L] and [L + 5, 50]: 45 days again.
    assert rec.pools["headcount_avg"] == [pytest.approx(0.9)]


def test_retention_training_of_a_person_already_leaving_does_not_reschedule_them():
    # Regression: a developer whose leave day falls during a course is leaving when it ends;
    # the course's retention gain must not reschedule (or crash on) that departure.
    import pmo_sim as ps
    from pmo_sim.scenario.models import Scenario

    sc = Scenario.model_validate({
        "name": "retain", "horizon": 100,
        "resources": {"dev": {"headcount": 1}},
        "projects": [{"name": "A", "tasks": [{"name": "t", "skill": "dev", "effort": 5}]}],
        "workforce": {"attrition_per_year": 25.0, "hiring_delay": 10},
        "policies": {"train": {"training_manager": {"programmes": [
            {"name": "c", "skill": "dev", "trainees": 1, "start": 0, "duration_days": 30,
             "retention_gain": 0.5}]}}},
    })
    # Attrition 0.1 a day: the leave day is 10 x the hazard budget. The person works on A over
    # [0, 5] and trains over [5, 35]; pick a seed whose leave day falls inside the course.
    seed = next(s for s in range(100)
                if 5 < 10 * Sampler(sc).plan(s, 0).leave_budget[0][0, 0] < 35)
    res = ps.simulate(sc, seed=seed)
    assert res.kpis["leavers"] >= 1
    assert res.pools["training_days"][0] == pytest.approx(30.0)


@pytest.mark.parametrize("rule", RULES)
def test_projects_arriving_together_are_ranked_by_the_rule_not_by_file_order(rule):
    # All four arrive on day 0 for one developer: the rule alone decides who goes first
    # (file order would always start Z). Expected first pick per rule, by its definition:
    #   fifo: Z (file order); priority: D (1); edd: C (due 17); srpt: B (1 day);
    #   wsjf: D (10/2 = 5 per day); min_slack: C (17 - 3 = 14).
    first = {"fifo": "Z", "priority": "D", "edd": "C", "srpt": "B", "wsjf": "D",
             "min_slack": "C"}[rule]
    together = [project("Z", task("z", 10), priority=5),
                project("A", task("a", 4), priority=4, due=19.5, value_per_day=12),
                project("B", task("b", 1), priority=3, due=21, value_per_day=4),
                project("C", task("c", 3), priority=2, due=17, value_per_day=3),
                project("D", task("d", 2), priority=1, due=18, value_per_day=10)]
    sc = make_scenario(together, pmo={"resource_manager": {"allocation": rule}})
    assert task_log(sc)[0][:3] == (first, first.lower(), 0)
