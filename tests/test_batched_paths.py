"""Critical paths and latest times taken for many projects at once are, to the bit, those
taken one project at a time: the backlog keys of ``min_slack``, ``lst`` and ``lft`` (and so
every table) do not depend on which way they were computed."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_sim.engine import paths
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.pmo import latest
from pmo_sim.pmo.resource_manager import ResourceManager
from pmo_sim.scenario.loader import load_scenario, load_scenario_text
from pmo_sim.scenario.network import cpm, latest_times, topological_order

REFERENCE = Path(__file__).parents[1] / "benchmarks" / "reference.yaml"
Durations = st.floats(0, 40, allow_nan=False).map(lambda x: round(x, 3)) | st.just(0.0)


@st.composite
def networks(draw: st.DrawFn) -> tuple[list[list[int]], list[float]]:
    """A random DAG (each task after some earlier ones) and planned durations (zeros too)."""
    n = draw(st.integers(0, 9))
    preds = [sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(n)]
    return preds, [draw(Durations) for _ in range(n)]


def _succs(preds: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in preds]
    for i, before in enumerate(preds):
        for p in before:
            out[p].append(i)
    return out


@settings(max_examples=80)
@given(net=networks(), dues=st.lists(st.none() | st.floats(-10, 300, allow_nan=False), min_size=1,
                                     max_size=6))
def test_latest_times_are_cpm_one_project_at_a_time(net, dues) -> None:
    preds, planned = net
    order, succs = topological_order(preds), _succs(preds)
    ls, lf, deadlines = latest_times(preds, planned, [math.nan if d is None else d for d in dues],
                                     order=order, succs=succs)
    for k, due in enumerate(dues):
        cp = cpm(preds, planned, due, order=order, succs=succs)
        assert tuple(ls[:, k].tolist()) == cp.latest_start
        assert tuple(lf[:, k].tolist()) == cp.latest_finish
        assert deadlines[k] == cp.deadline


@settings(max_examples=80)
@given(net=networks(), data=st.data())
def test_planned_paths_of_a_network_at_once_are_those_one_by_one(net, data) -> None:
    preds, _ = net
    n = len(preds)
    speeds = tuple(data.draw(st.sampled_from([1.0, 0.5, 2.0, 3.0, 0.75])) for _ in range(n))
    network = SimpleNamespace(order=topological_order(preds), succs=_succs(preds), chain_speeds=speeds)
    plan = SimpleNamespace(network=network)
    group = [SimpleNamespace(plan=plan, efforts=[data.draw(Durations) for _ in range(n)])
             for _ in range(data.draw(st.integers(1, 5)))]
    assert paths.plan_critical_paths(group) == [paths.plan_critical_path(p) for p in group]


def _one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine as it was before the batches: every project's CPM and critical path computed
    for it alone, when asked for."""
    def times(self, project):
        net = project.plan.network
        due = None if project.due_date == math.inf else project.due_date - project.arrival
        cp = cpm(net.preds, net.planned, due, order=net.order, succs=net.succs)
        a = project.arrival
        return [a + x for x in cp.latest_start], [a + x for x in cp.latest_finish], a + cp.deadline

    def key(self, project, now):
        ls, lf, _ = times(self, project)
        return min(ls if self.latest_start else lf, default=math.inf)

    monkeypatch.setattr(ResourceManager, "_cpm", times)
    monkeypatch.setattr(ResourceManager, "_task_rule_project_key", key)
    monkeypatch.setattr(paths.PlannedPaths, "of", lambda self, proj: paths.plan_critical_path(proj))


@pytest.mark.parametrize("rule", ["min_slack", "lst", "lft"])
def test_a_long_backlog_gives_the_same_trace_either_way(rule: str, monkeypatch) -> None:
    """Four times the reference's proposals for the same people, a WIP limit: most projects
    wait in the backlog, ranked by the batched keys (the tasks' trace compared exactly)."""
    sc = load_scenario(REFERENCE, {
        "intake.count": 160, "intake.arrivals": {"dist": "exponential", "mean": 3},
        "policies": {"p": {"resource_manager": {"allocation": rule, "wip_limit": 6}}}})
    batched = [run_replication(sc, r, 5, ["p"], trace=True)[0] for r in range(2)]
    _one_at_a_time(monkeypatch)
    alone = [run_replication(sc, r, 5, ["p"], trace=True)[0] for r in range(2)]
    for a, b in zip(batched, alone, strict=True):
        assert a.kpis == b.kpis
        assert a.tasks is not None and b.tasks is not None
        for column in a.tasks:
            x, y = np.asarray(a.tasks[column]), np.asarray(b.tasks[column])
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), column


def _project_list(n: int, rule: str) -> str:
    """n explicit projects (a network each: CPM and planned paths walked one by one), a WIP
    limit so that most wait in the backlog, ranked by their keys."""
    lines = ["name: listed", "horizon: 400", "resources:", "  dev: {headcount: 3}",
             "  qa: {headcount: 2}", "projects:"]
    for i in range(n):
        lines += [f"  - {{name: P{i}, arrival: {i * 3.5 % 40}, due: {60 + i * 7 % 90}, value_per_day: 100,",
                  "     tasks: ["]
        for t in range(2 + i % 4):
            after = f", after: [t{t - 1}]" if t else ""
            skill, people = "dev" if (i + t) % 3 else "qa", 1 + (i + t) % 2
            effort = f"{{dist: triangular, low: {2 + t}, mode: {4 + t}, high: {9 + t}}}"
            lines.append(f"       {{name: t{t}, skill: {skill}, people: {people}, effort: {effort}{after}}},")
        lines.append("     ]}")
    lines += ["policies:", f"  p: {{resource_manager: {{allocation: {rule}, wip_limit: 4}}}}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("rule", ["min_slack", "lst", "lft"])
def test_a_project_list_walked_or_batched_gives_the_same_trace(rule: str, monkeypatch) -> None:
    """A portfolio handed over as a list has a network per project, which is walked project by
    project (``paths.BATCH_FROM``); batched as arrays of one project, the trace is the same."""
    sc = load_scenario_text(_project_list(30, rule))
    walked = [run_replication(sc, r, 5, ["p"], trace=True)[0] for r in range(2)]
    monkeypatch.setattr(paths, "BATCH_FROM", 1)
    monkeypatch.setattr(latest, "BATCH_FROM", 1)
    batched = [run_replication(sc, r, 5, ["p"], trace=True)[0] for r in range(2)]
    for a, b in zip(walked, batched, strict=True):
        assert a.kpis == b.kpis and a.kpis["projects_completed"] > 5
        assert a.tasks is not None and b.tasks is not None
        for column in a.tasks:
            x, y = np.asarray(a.tasks[column]), np.asarray(b.tasks[column])
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), column
