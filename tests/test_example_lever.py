"""A new lever, added as docs/architecture.md says: one Role, its hooks, its report — no engine change.

The example is a *quality review board*: every project that completes pays a review fee
(counted in ``pmo_cost``, so in ``total_cost`` and NPV), and the board counts the reviews.
It is plugged in through ``run_replication(..., extra_roles=[...])``, the seam for trying a
role before it has a place in ``pmo_sim.pmo.ROLES`` and a section in the scenario's PMO model.
"""

from __future__ import annotations

import math

import pandas as pd
from strategies import make_scenario, project, task

from pmo_sim.engine.roles import Accounts, Role, WorldAPI, payment
from pmo_sim.engine.state import ProjectState
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.policy import PMO

FEE = 1_000.0


class ReviewBoard(Role):
    """Reviews every completed project for a fee."""

    section = "review_board"

    def __init__(self, scenario: Scenario, policy: PMO):
        self.reviews = 0
        self.fees = self.fees_pv = 0.0

    @classmethod
    def wanted(cls, scenario: Scenario, policy: PMO) -> bool:
        return True

    def attach(self, world: WorldAPI) -> None:
        self.world = world

    def on_close(self, project: ProjectState) -> None:
        if project.status == "completed":
            self.reviews += 1
            nominal, present = payment(FEE, self.world.env.now, self.world.t0, self.world.delta)
            self.fees += nominal
            self.fees_pv += present

    def report(self, acc: Accounts) -> None:
        acc.pay("pmo_cost", self.fees, self.fees_pv)


def test_a_new_role_plugs_in_and_reports_through_the_contract() -> None:
    # One developer: A (4 days) then B (6 days) finish on days 4 and 10; C arrives after the horizon.
    sc = make_scenario([project("A", task("a", 4)), project("B", task("b", 6)),
                        project("C", task("c", 1), arrival=50)], horizon=40, discount_rate=0.05)
    plain = run_replication(sc, 0, 0)[0]
    board = run_replication(sc, 0, 0, extra_roles=[ReviewBoard])[0]
    delta = math.log1p(0.05) / 250
    assert board.kpis["pmo_cost"] == 2 * FEE
    assert board.kpis["total_cost"] == plain.kpis["total_cost"] + 2 * FEE
    assert math.isclose(plain.kpis["npv"] - board.kpis["npv"],
                        FEE * (math.exp(-delta * 4) + math.exp(-delta * 10)), rel_tol=1e-12)
    # The schedule is the engine's, untouched by the new role.
    assert pd.DataFrame(board.projects).equals(pd.DataFrame(plain.projects))
