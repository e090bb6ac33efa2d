"""Funding in the engine (SPEC 10.2): exact traces of tiny portfolios, worked out by hand.

Every project here has an explicit ``cost_estimate``, so the money is arithmetic. Reviews,
budget releases and ``max_wait`` rejections happen at days the tests name; each test says in
a comment why the board funds what it funds.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from strategies import make_scenario, project, task

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.models import Scenario

GOALS = {"goals": {"growth": {"weight": 1}}}


def board(projects: list[dict[str, Any]], funding: dict[str, Any] | None, *, per_year: Any = 100,
          carry_over: bool = True, horizon: float = 200, days_per_year: float = 250,
          resources: dict[str, int] | None = None) -> Scenario:
    governance = {"governance": {"funding": funding}} if funding is not None else {}
    return make_scenario(projects, resources=resources or {"dev": 1}, horizon=horizon,
                         days_per_year=days_per_year, strategy=GOALS,
                         budget={"per_year": per_year, "carry_over": carry_over}, pmo=governance)


def run(sc: Scenario) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    rec = run_replication(sc, 0, 0)[0]
    cols = rec.projects
    table = {name: {c: cols[c][i] for c in cols} for i, name in enumerate(cols["project"])}
    return table, rec.kpis


def funded_set(table: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, row in table.items() if not math.isnan(row["funded"])}


# --------------------------------------------------------------------------- greedy by rule

# Four proposals arrive together on day 0 (reviewed together: review_every 0); the year's 100
# is all there is before the horizon (200 < 250). Each task is 1 day of work.
#
#   project  cost  score  value/day  value/cost  score/cost   planned days  value/day/days
#   A        60    0.9    60         1.0         0.015        1             60
#   B        50    0.8    100        2.0         0.016        4             25
#   C        30    0.5    15         0.5         0.0167       1             15
#   D        20    0.3    30         1.5         0.015        1             30
#
# Greedy, skipping what does not fit:
#   arrival (file order A B C D):  A 60 (40 left), B no, C 30 (10 left), D no      -> A C
#   score (A B C D):               the same                                       -> A C
#   value_per_cost (B D A C):      B 50 (50 left), D 20 (30 left), A no, C 30 (0)  -> B C D
#   score_per_cost (C B A/D):      C 30 (70), B 50 (20), A no (tie with D: arrival,
#                                  then file order, A first), D 20 (0)              -> B C D
#   wsjf (A D B C):                A 60 (40), D 20 (20), B no, C no                 -> A D
PORTFOLIO = [
    project("A", task("a", 1), cost_estimate=60, alignment={"growth": 0.9}, value_per_day=60),
    project("B", task("b", 4), cost_estimate=50, alignment={"growth": 0.8}, value_per_day=100),
    project("C", task("c", 1), cost_estimate=30, alignment={"growth": 0.5}, value_per_day=15),
    project("D", task("d", 1), cost_estimate=20, alignment={"growth": 0.3}, value_per_day=30),
]
GREEDY = {"arrival": "AC", "score": "AC", "value_per_cost": "BCD", "score_per_cost": "BCD", "wsjf": "AD"}


@pytest.mark.parametrize("rule", sorted(GREEDY))
def test_the_funded_set_is_the_greedy_set_of_the_rule(rule: str) -> None:
    table, kpis = run(board(PORTFOLIO, {"rule": rule}))
    funded = set(GREEDY[rule])
    assert funded_set(table) == funded
    for name, row in table.items():
        assert row["status"] == ("proposal" if name not in funded else row["status"])
        assert row["funded"] == 0 or name not in funded
    assert kpis["projects_funded"] == len(funded)
    assert kpis["budget_committed"] == sum(table[n]["cost_estimate"] for n in funded)
    assert kpis["budget_released"] == 100
    assert kpis["projects_rejected"] == 0


def test_npv_ranks_by_the_projects_own_discounted_value_less_its_cost() -> None:
    # Own NPV ~ value/day x (200 - planned days) - cost (discounting changes no order here):
    #   A 60 x 199 - 60,  B 100 x 196 - 50,  C 15 x 199 - 30,  D 30 x 199 - 20:  B A D C
    #   B 50 (50 left), A no, D 20 (30 left), C 30 (0)  -> B C D
    table, _ = run(board(PORTFOLIO, {"rule": "npv"}))
    assert funded_set(table) == set("BCD")


def test_without_a_funding_rule_every_project_is_funded_on_arrival() -> None:
    projects = [project("A", task("a", 1), cost_estimate=500, arrival=3),
                project("B", task("b", 1), cost_estimate=700, arrival=5)]
    table, kpis = run(board(projects, None))
    assert [table[n]["funded"] for n in "AB"] == [3, 5]
    assert all(row["status"] == "completed" for row in table.values())
    # The budget is only reported: 1200 committed against the 100 released.
    assert kpis["budget_committed"] == 1200 and kpis["budget_released"] == 100
    assert kpis["projects_funded"] == 2


# --------------------------------------------------------------------------- reviews, years, max_wait

# Budget years of 100 days: 100 at day 0, then 50 at days 100 and 200 (the last amount
# repeats). A (cost 80) arrives on day 0 and is funded then: 20 left. B (cost 60) arrives on
# day 10 and does not fit.
def _two(funding: dict[str, Any], carry_over: bool = True) -> Scenario:
    projects = [project("A", task("a", 1), cost_estimate=80),
                project("B", task("b", 1), cost_estimate=60, arrival=10)]
    return board(projects, funding, per_year=[100, 50], carry_over=carry_over, horizon=300,
                 days_per_year=100)


def test_carry_over_funds_a_waiting_proposal_at_the_next_release() -> None:
    # With carry-over, day 100 brings 20 + 50 = 70 >= 60: B is funded at the release (with
    # review_every 0, a release is a review).
    table, kpis = run(_two({"rule": "arrival"}))
    assert table["A"]["funded"] == 0 and table["B"]["funded"] == 100
    assert table["B"]["status"] == "completed" and kpis["budget_released"] == 200


def test_without_carry_over_unspent_funds_lapse() -> None:
    # Without it, the 20 left lapse: day 100 and day 200 bring 50 each, never 60.
    table, kpis = run(_two({"rule": "arrival"}, carry_over=False))
    assert math.isnan(table["B"]["funded"]) and table["B"]["status"] == "proposal"
    assert math.isnan(table["B"]["finish"]) and kpis["projects_funded"] == 1


def test_a_proposal_waiting_longer_than_max_wait_is_rejected_at_arrival_plus_max_wait() -> None:
    # Without carry-over B can never be funded: rejected exactly at 10 + 75 = 85.
    table, kpis = run(_two({"rule": "arrival", "max_wait": 75}, carry_over=False))
    assert table["B"]["status"] == "rejected" and table["B"]["finish"] == 85
    assert math.isnan(table["B"]["funded"]) and math.isnan(table["B"]["admitted"])
    assert kpis["projects_rejected"] == 1 and kpis["projects_arrived"] == 2


def test_max_wait_0_funds_a_proposal_at_its_arrival_or_rejects_it_then() -> None:
    # "Fund it now or never": B (60) arrives on day 10 with 20 left. With review_every 0 its
    # arrival's review cannot fund it, and it is rejected that instant; with meetings on days 0,
    # 30, 60... it arrives between them and is rejected unreviewed on day 10. A, arriving on
    # day 0 (a review in both cases), is funded then.
    for every in (0, 30):
        table, kpis = run(_two({"rule": "arrival", "review_every": every, "max_wait": 0}))
        assert table["A"]["funded"] == 0 and table["A"]["status"] == "completed"
        assert table["B"]["status"] == "rejected" and table["B"]["finish"] == 10
        assert kpis["projects_rejected"] == 1
    # With the money there on its arrival (a budget of 200), B is funded on day 10.
    projects = [project("A", task("a", 1), cost_estimate=80),
                project("B", task("b", 1), cost_estimate=60, arrival=10)]
    table, _ = run(board(projects, {"rule": "arrival", "max_wait": 0}, per_year=[200], horizon=300,
                         days_per_year=100))
    assert table["B"]["funded"] == 10 and table["B"]["status"] == "completed"


def test_periodic_reviews_fund_at_meetings_only_and_a_release_comes_before_a_meeting() -> None:
    # Meetings on days 0, 50, 100...: A at the day-0 meeting. B waits: 20 at day 50; at day
    # 100 the release (20 + 50 = 70) comes before the meeting of that instant, which funds B.
    table, _ = run(_two({"rule": "arrival", "review_every": 50}))
    assert table["A"]["funded"] == 0 and table["B"]["funded"] == 100


def test_releases_between_meetings_wait_for_the_next_meeting() -> None:
    # Meetings on days 0, 30, 60, 90, 120: the day-100 release is spent at the day-120 meeting.
    table, _ = run(_two({"rule": "arrival", "review_every": 30}))
    assert table["B"]["funded"] == 120


def test_max_wait_expiry_at_a_meeting_comes_after_the_meeting() -> None:
    # B may wait 110 days: it expires at 120, the instant of a meeting that has the money. The
    # meeting decides first, and funds it; with 109 days it is rejected on day 119.
    table, _ = run(_two({"rule": "arrival", "review_every": 30, "max_wait": 110}))
    assert table["B"]["funded"] == 120 and table["B"]["status"] == "completed"
    table, _ = run(_two({"rule": "arrival", "review_every": 30, "max_wait": 109}))
    assert table["B"]["status"] == "rejected" and table["B"]["finish"] == 119


def test_proposals_scoring_below_min_score_are_rejected_at_their_review() -> None:
    # D (0.3) and C (0.5) are below 0.6: rejected at the day-0 review. Of A and B (score
    # rule), A is funded (40 left) and B does not fit.
    table, kpis = run(board(PORTFOLIO, {"rule": "score", "min_score": 0.6}))
    assert {n for n, row in table.items() if row["status"] == "rejected"} == {"C", "D"}
    assert all(table[n]["finish"] == 0 for n in "CD")
    assert funded_set(table) == {"A"} and table["B"]["status"] == "proposal"
    assert kpis["projects_rejected"] == 2


def test_a_budget_cut_is_a_list_of_yearly_amounts() -> None:
    # 100 on day 0, then 10 a year: a proposal of 30 arriving on day 260 must wait for
    # carried-over funds: 10 (day 250) ... 30 only once three years' 10s are in (day 750).
    projects = [project("A", task("a", 1), cost_estimate=100),
                project("B", task("b", 1), cost_estimate=30, arrival=260)]
    table, kpis = run(board(projects, {"rule": "arrival"}, per_year=[100, 10], horizon=1000))
    assert table["B"]["funded"] == 750
    assert kpis["budget_released"] == 130


def test_funding_holds_work_back_but_never_overspends() -> None:
    # Ten identical proposals of 40 on day 0 against 100 a year (days 0, 250, 500), carried over.
    projects = [project(f"P{i}", task("t", 1), cost_estimate=40) for i in range(10)]
    table, kpis = run(board(projects, {"rule": "arrival"}, horizon=750))
    days = sorted(row["funded"] for row in table.values() if not math.isnan(row["funded"]))
    # Year 0: 100 -> 2 (20 left); year 1: 120 -> 3 (0 left); year 2: 100 -> 2 (20 left).
    assert days == [0, 0, 250, 250, 250, 500, 500]
    assert kpis["budget_committed"] == 280 and kpis["budget_released"] == 300


def test_wsjf_funding_counts_part_time_people_in_the_planned_duration() -> None:
    # P: 10 person-days on a half-time pool, planned 10 / (1 x 0.5) = 20 days, estimate 100;
    # Q: 15 on a full-time pool, 15 days, 150. WSJF: Q (1/15) before P (1/20); the 150
    # released funds Q, and P, which no longer fits, waits to the horizon.
    sc = make_scenario(
        [project("P", task("a", 10, skill="half"), value_per_day=1),
         project("Q", task("a", 15, skill="full"), value_per_day=1)],
        resources={"half": {"headcount": 1, "day_rate": 10, "fte": 0.5},
                   "full": {"headcount": 1, "day_rate": 10}},
        horizon=100, budget={"per_year": 150}, pmo={"governance": {"funding": {"rule": "wsjf"}}})
    rec = run_replication(sc, 0, 0)[0]
    assert rec.projects["status"] == ["proposal", "completed"]
    assert rec.projects["cost_estimate"] == [100, 150] and rec.projects["finish"][1] == 15
    assert rec.kpis["budget_committed"] == 150 and rec.kpis["projects_funded"] == 1
