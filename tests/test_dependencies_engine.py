"""The dependency gate (SPEC 10.1): exact traces of tiny portfolios, worked out by hand."""

from __future__ import annotations

import math
from typing import Any

from strategies import make_scenario, project, task, task_log

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.pmo import roles_for
from pmo_sim.pmo.dependencies import Dependencies
from pmo_sim.scenario.models import Scenario


def projects_of(sc: Scenario, policy: str | None = None) -> dict[str, dict[str, Any]]:
    rec = run_replication(sc, 0, 0, [policy or sc.policy_names[0]])[0]
    cols = rec.projects
    return {name: {c: cols[c][i] for c in cols} for i, name in enumerate(cols["project"])}


def test_a_dependent_project_is_admitted_when_its_dependency_completes() -> None:
    # A (dev, 10 days) and B (qa, 5 days, depends on A) both arrive on day 0. The qa person is
    # free from day 0, but B waits at the gate until A completes on day 10.
    sc = make_scenario([project("A", task("a", 10)),
                        project("B", task("b", 5, skill="qa"), depends_on=["A"])],
                       resources={"dev": 1, "qa": 1})
    assert task_log(sc) == [("A", "a", 0, 10.0, "dev-1"), ("B", "b", 10.0, 15.0, "qa-1")]
    rows = projects_of(sc)
    assert rows["B"]["admitted"] == 10 and rows["B"]["funded"] == 0


def test_a_project_waits_for_all_its_dependencies() -> None:
    # C depends on A (done day 4) and B (done day 9): admitted on day 9.
    sc = make_scenario([project("A", task("a", 4)), project("B", task("b", 9, skill="qa")),
                        project("C", task("c", 1, skill="ops"), depends_on=["A", "B"])],
                       resources={"dev": 1, "qa": 1, "ops": 1})
    assert projects_of(sc)["C"]["start"] == 9


def _gated() -> list[dict[str, Any]]:
    # A's second task is drawn above its estimate (mode 10, drawn in (10, 12]): at half its
    # estimated 20 the stage gate sees a forecast above 20 x 1.0 and cancels A on day 10.
    return [
        project("A", task("a1", 10), task("a2", {"dist": "triangular", "low": 10, "mode": 10,
                                                   "high": 12}, after=["a1"])),
        project("B", task("b", 5, skill="qa"), depends_on=["A"]),
        project("C", task("c", 5, skill="qa"), depends_on=["B"]),
        project("D", task("d", 5, skill="qa"), arrival=50, depends_on=["A"]),
        project("E", task("e", 3, skill="qa")),
    ]


def test_cancelling_a_dependency_cancels_its_dependents_in_cascade() -> None:
    sc = make_scenario(_gated(), resources={"dev": 1, "qa": 1}, horizon=100,
                       pmo={"governance": {"stage_gate": {"at_progress": 0.5, "cancel_if_overrun": 1.0}}})
    rows = projects_of(sc)
    assert (rows["A"]["status"], rows["A"]["cancel_reason"], rows["A"]["finish"]) == (
        "cancelled", "stage_gate", 10)
    # B waited for A, C for B: both cancelled on day 10, never started.
    for name in "BC":
        assert (rows[name]["status"], rows[name]["cancel_reason"], rows[name]["finish"]) == (
            "cancelled", "dependency", 10)
        assert math.isnan(rows[name]["start"]) and math.isnan(rows[name]["admitted"])
    # D arrives after A was cancelled: cancelled on arrival.
    assert (rows["D"]["status"], rows["D"]["cancel_reason"], rows["D"]["finish"]) == (
        "cancelled", "dependency", 50)
    assert (rows["E"]["status"], rows["E"]["cancel_reason"]) == ("completed", "")


def test_a_rejected_dependency_cancels_waiting_proposals_and_later_arrivals_unfunded() -> None:
    # A costs more than there will ever be and is rejected after max_wait on day 20. B (funded
    # on day 0, 10 of 100) waits at the gate: cancelled on day 20. C arrives on day 30, after A
    # was rejected: it is not reviewed (no funds committed) and is cancelled on arrival.
    sc = make_scenario(
        [project("A", task("a", 5), cost_estimate=1000),
         project("B", task("b", 5), cost_estimate=10, depends_on=["A"]),
         project("C", task("c", 5), cost_estimate=10, arrival=30, depends_on=["A"])],
        horizon=200, budget={"per_year": 100},
        pmo={"governance": {"funding": {"rule": "arrival", "max_wait": 20}}})
    rec = run_replication(sc, 0, 0)[0]
    rows = {n: i for i, n in enumerate(rec.projects["project"])}
    col = rec.projects
    assert [col["status"][rows[n]] for n in "ABC"] == ["rejected", "cancelled", "cancelled"]
    assert [col["cancel_reason"][rows[n]] for n in "ABC"] == ["", "dependency", "dependency"]
    assert [col["finish"][rows[n]] for n in "ABC"] == [20, 20, 30]
    assert col["funded"][rows["B"]] == 0 and math.isnan(col["funded"][rows["C"]])
    assert rec.kpis["budget_committed"] == 10 and rec.kpis["projects_cancelled"] == 2


def test_a_proposal_waiting_for_funds_is_cancelled_with_its_dependency() -> None:
    # B (cost 150) can never be funded from 100 a year before the horizon; A is cancelled at
    # its stage gate on day 10, so B, still a proposal, is cancelled then, unfunded.
    projects = _gated()[:2]
    projects[0]["cost_estimate"], projects[1]["cost_estimate"] = 50, 150
    sc = make_scenario(projects, resources={"dev": 1, "qa": 1}, horizon=100, budget={"per_year": 100},
                       pmo={"governance": {"funding": {"rule": "arrival"},
                                           "stage_gate": {"at_progress": 0.5, "cancel_if_overrun": 1.0}}})
    rows = projects_of(sc)
    assert (rows["B"]["status"], rows["B"]["cancel_reason"], rows["B"]["finish"]) == (
        "cancelled", "dependency", 10)
    assert math.isnan(rows["B"]["funded"])


def test_a_blocked_project_waits_in_the_backlog_for_good() -> None:
    # A arrives after the horizon, so it is not in the simulated portfolio: B never starts.
    sc = make_scenario([project("A", task("a", 1), arrival=150), project("B", task("b", 1), depends_on=["A"]),
                        project("C", task("c", 1))], horizon=100)
    rows = projects_of(sc)
    assert set(rows) == {"B", "C"}
    assert rows["B"]["status"] == "backlog" and math.isnan(rows["B"]["admitted"])
    assert rows["B"]["funded"] == 0  # funded on arrival (no funding rule), never admitted
    rec = run_replication(sc, 0, 0)[0]
    assert rec.kpis["projects_open"] == 1 and rec.kpis["projects_completed"] == 1


def test_the_gate_is_there_only_when_some_project_has_dependencies() -> None:
    plain = make_scenario([project("A", task("a", 1))])
    assert not any(isinstance(r, Dependencies) for r in roles_for(plain, "default"))
    linked = make_scenario([project("A", task("a", 1)), project("B", task("b", 1), depends_on=["A"])])
    assert isinstance(roles_for(linked, "default")[-1], Dependencies)


def test_templates_may_wait_for_explicit_projects() -> None:
    # Generated projects of `t` depend on A (40 days on the only developer); each arrives
    # within the first ~days and starts only once A has completed.
    sc = make_scenario([project("A", task("a", 40))], resources={"dev": 1, "qa": 2}, horizon=300,
                       intake={"arrivals": {"dist": "exponential", "mean": 5}, "count": 4,
                               "templates": [{"name": "t", "depends_on": ["A"],
                                              "tasks": [task("x", 2, skill="qa")]}]})
    rows = projects_of(sc)
    generated = [row for name, row in rows.items() if name != "A"]
    assert len(generated) == 4
    assert all(row["start"] >= 40 for row in generated if row["arrival"] <= 40)
    assert all(row["admitted"] == max(40.0, row["arrival"]) for row in generated)
