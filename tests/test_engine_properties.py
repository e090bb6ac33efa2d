"""Invariants of every replication, over Hypothesis-generated scenarios.

Whatever the portfolio, rules and random events, the books must balance: people's time
splits into busy, training and idle; every project is in exactly one state, consistent with
its times; work done is work planned plus rework; the task trace respects precedence and
never has a person in two places. Run more examples with ``PMO_SIM_FULL=1``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FULL, scenarios

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import KPI_COLUMNS, PROJECT_STATUSES

SETTINGS = settings(max_examples=400 if FULL else 60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-9


def nan(x: float) -> bool:
    return x != x


def rows(cols: dict[str, list]) -> list[dict]:
    return [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]


def simulate_all(sc: Scenario, seed: int):
    return run_replication(sc, 0, seed, trace=True)


def task_specs(sc: Scenario, projects: list[dict]) -> dict[tuple[str, str], object]:
    """(project, task name) -> TaskSpec, for explicit and generated projects."""
    by_name = {p.name: p for p in sc.projects}
    by_template = {t.name: t for t in sc.intake.templates} if sc.intake else {}
    out = {}
    for p in projects:
        spec = by_template[p["template"]] if p["template"] else by_name[p["project"]]
        for t in spec.tasks:
            out[p["project"], t.name] = t
    return out


params = given(sc=scenarios(), seed=st.integers(0, 10_000))


@SETTINGS
@params
def test_people_time_balances(sc: Scenario, seed: int):
    window = sc.horizon - sc.warmup
    no_turnover = sc.workforce is None or sc.workforce.attrition_per_year == 0
    for rec in simulate_all(sc, seed):
        # Busy time re-derived from the trace: crew size × the task's span inside the window
        # (a task still running at the horizon counts until the horizon).
        busy = defaultdict(float)
        for t in rows(rec.tasks):
            end = sc.horizon if nan(t["finish"]) else t["finish"]
            span = min(end, sc.horizon) - max(t["start"], sc.warmup)
            busy[t["pool"]] += t["people"] * max(0.0, span)
        for pool in rows(rec.pools):
            available = pool["headcount_avg"] * window
            parts = pool["busy_days"] + pool["training_days"] + pool["idle_days"]
            assert parts == pytest.approx(available, rel=1e-6, abs=1e-6)
            assert pool["idle_days"] >= -1e-6 * window
            assert pool["busy_days"] == pytest.approx(busy[pool["pool"]], rel=1e-6, abs=1e-6)
            if no_turnover:
                assert pool["headcount_avg"] == pytest.approx(sc.resources[pool["pool"]].headcount)
            if not nan(pool["utilisation"]):
                assert -EPS <= pool["utilisation"] <= 1 + EPS


@SETTINGS
@params
def test_project_states_are_consistent(sc: Scenario, seed: int):
    for rec in simulate_all(sc, seed):
        projects = rows(rec.projects)
        assert len({p["project"] for p in projects}) == len(projects)
        for p in projects:
            status = p["status"]
            assert status in PROJECT_STATUSES
            if status == "backlog":
                assert nan(p["admitted"]) and nan(p["start"]) and nan(p["finish"])
            else:
                assert p["arrival"] <= p["admitted"] + EPS
            if status == "open":
                assert nan(p["finish"])
            if status in ("completed", "cancelled"):
                assert not nan(p["finish"]) and p["finish"] <= sc.horizon + EPS
            if status == "completed":
                assert p["admitted"] <= p["start"] <= p["finish"]
                assert p["effort_done"] == pytest.approx(p["effort_planned"] + p["rework_effort"],
                                                         rel=1e-9, abs=1e-9)
                assert p["value_delivered"] >= 0
            if not nan(p["start"]):
                assert p["admitted"] <= p["start"] + EPS
            assert -EPS <= p["effort_done"] <= p["effort_planned"] + p["rework_effort"] + 1e-6
            assert p["rework_effort"] >= 0
        counted = [p for p in projects if p["counted"]]
        k = rec.kpis
        assert k["projects_arrived"] == len(counted)
        assert k["projects_arrived"] == (k["projects_completed"] + k["projects_cancelled"]
                                         + k["projects_open"])
        if sc.pmo.resource_manager.wip_limit is None and all(
                p.resource_manager.wip_limit is None for p in sc.policies.values()):
            assert all(p["status"] != "backlog" for p in projects)


@SETTINGS
@params
def test_trace_respects_precedence_crews_and_people(sc: Scenario, seed: int):
    for rec, policy in zip(simulate_all(sc, seed), sc.policies.values(), strict=True):
        tasks = rows(rec.tasks)
        specs = task_specs(sc, rows(rec.projects))
        finish = {(t["project"], t["task"]): t["finish"] for t in tasks}
        spells = defaultdict(list)
        for t in tasks:
            crew = t["crew"].split(",")
            assert len(crew) == len(set(crew)) == t["people"]
            assert all(person.startswith(t["pool"] + "-") for person in crew)
            assert t["ready"] <= t["start"] + EPS
            end = math.inf if nan(t["finish"]) else t["finish"]
            assert t["start"] <= end
            for person in crew:
                spells[person].append((t["start"], end))
            spec = specs.get((t["project"], t["task"]))
            if spec is None:  # a rework task the engine added after a change request
                continue
            assert t["people"] == spec.people
            for pred in spec.after:
                done = finish.get((t["project"], pred), math.nan)
                assert not nan(done) and done <= t["start"] + EPS, (t, pred)
            # Duration: effort over the crew's productivity (<= 1 each here), plus any set-up
            # and pauses. Without those, exactly effort / people.
            k = t["people"]
            if not nan(t["finish"]):
                if not _gains(policy):
                    assert t["finish"] - t["start"] >= t["effort"] / k - 1e-9 * (1 + t["effort"])
                if _plain(sc, policy):
                    assert t["finish"] - t["start"] == pytest.approx(t["effort"] / k, rel=1e-9)
        for person, intervals in spells.items():
            intervals.sort()
            for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
                assert end <= start + EPS, f"{person} on two tasks at once"


def _plain(sc: Scenario, policy) -> bool:
    """No pauses, no set-up, no productivity below 1: every duration is effort / crew size."""
    ch, wf = sc.changes, sc.workforce
    disruption = ch is not None and ch.per_project_per_year > 0 and not (
        ch.disruption.is_fixed() and ch.disruption.mean() == 0)
    ramp = wf is not None and wf.attrition_per_year > 0 and wf.new_hire_productivity < 1
    levers = (policy.training_manager, policy.technology_manager, policy.innovation_manager)
    return (not disruption and not ramp and policy.resource_manager.switch_cost_days == 0
            and all(lever is None for lever in levers))


def _gains(policy) -> bool:
    """Whether training or technology can lift anyone's productivity above 1."""
    tm, tech = policy.training_manager, policy.technology_manager
    return bool((tm and any(p.productivity_gain > 0 for p in tm.programmes))
                or (tech and any(a.productivity_gain > 0 for a in tech.adoptions)))


@SETTINGS
@params
def test_kpis_add_up(sc: Scenario, seed: int):
    for rec in simulate_all(sc, seed):
        k = rec.kpis
        assert tuple(k) == KPI_COLUMNS
        assert k["total_cost"] == pytest.approx(
            k["labour_cost"] + k["training_cost"] + k["technology_cost"] + k["pmo_cost"], rel=1e-12)
        if not nan(k["utilisation"]):
            assert -EPS <= k["utilisation"] <= 1 + EPS
        assert 0 <= k["changes_rejected"] <= k["changes"]
        assert k["rework_effort"] >= 0
        assert k["events"] > 0
        projects = [p for p in rows(rec.projects) if p["counted"]]
        assert k["changes"] == sum(p["changes"] for p in projects)
        assert k["rework_effort"] == pytest.approx(sum(p["rework_effort"] for p in projects),
                                                   rel=1e-9, abs=1e-9)
        if not nan(k["on_time_rate"]):
            assert 0 <= k["on_time_rate"] <= 1
        if sc.changes is None:
            assert k["changes"] == 0 and k["rework_effort"] == 0
