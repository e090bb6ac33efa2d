"""The optional tables (goals, risks) in results folders, and the risk-driver ranking.

A board scenario (strategy, budget, dependencies, a risk register, a funding policy and a
mitigating one) is run into a folder, interrupted and resumed, saved and reloaded: the tables
it has are listed in the manifest and come back equal whichever way they were made. A
scenario without those sections keeps the three tables it always had.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from test_experiment import write_tiny

from pmo_sim.analysis.risks import DRIVER_COLUMNS, attributed_value_lost, risk_drivers
from pmo_sim.errors import UsageError
from pmo_sim.experiment import Results, load_results, run_experiment
from pmo_sim.experiment.single import simulate
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import GOALS, RISKS

BOARD_YAML = """\
name: board
horizon: 300
resources:
  dev: {headcount: 3, day_rate: 500}
strategy:
  goals: {growth: {weight: 2}, trust: {weight: 1}}
budget: {per_year: 60000}
projects:
  - name: core
    value_per_day: 300
    alignment: {growth: 0.6, trust: 0.6}
    tasks: [{name: build, skill: dev, people: 2, effort: {dist: pert, low: 20, mode: 30, high: 60}}]
intake:
  arrivals: {dist: exponential, mean: 15}
  count: 10
  templates:
    - name: feature
      value_per_day: {dist: uniform, low: 50, high: 400}
      alignment: {growth: {dist: uniform, low: 0, high: 1}}
      depends_on: [core]
      tasks: [{name: build, skill: dev, effort: {dist: pert, low: 5, mode: 10, high: 25}}]
risks:
  - {name: slip, probability: 0.5, impact: {delay: 5, effort: 0.2, cost: 2000}}
  - {name: audit, applies_to: {projects: [core]}, probability: 0.7, when: 0.5, impact: {cost: 9000}}
policies:
  all: {}
  board:
    governance: {funding: {rule: score_per_cost, review_every: 20, max_wait: 100}}
  careful:
    governance:
      funding: {rule: score_per_cost, review_every: 20, max_wait: 100}
      risk_mitigation: {slip: {cost: 100, probability_reduction: 0.5, impact_reduction: 0.5}}
"""
N, SEED = 6, 2
ALL = ["replications", "projects", "pools", "goals", "risks"]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(write_tiny(tmp_path_factory.mktemp("board"), BOARD_YAML), None)


@pytest.fixture(scope="module")
def folder(board: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "board"
    run_experiment(board, replications=N, seed=SEED, jobs=1, chunk_size=2, out=out)
    return out


def assert_same(a: Results, b: Results) -> None:
    for name in ALL:
        pdt.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_a_board_run_has_goals_and_risks_tables_listed_in_its_manifest(board: Scenario, folder: Path) -> None:
    res = load_results(folder)
    assert res.manifest["tables"] == ALL
    assert all((folder / f"{t}.parquet").is_file() for t in ALL)
    assert list(res.goals.columns) == list(GOALS.column_names)
    assert list(res.risks.columns) == list(RISKS.column_names)
    assert len(res.goals) == 3 * N * 2  # policies x replications x goals
    assert set(res.risks["risk"]) == {"slip", "audit"}
    assert res.risks.loc[res.risks["policy"] == "careful", "mitigated"].groupby(
        res.risks["risk"]).all().to_dict() == {"audit": False, "slip": True}
    memory = run_experiment(board, replications=N, seed=SEED, jobs=1, chunk_size=3)
    assert_same(res, memory)


def test_an_interrupted_board_run_resumes_to_the_same_tables(board: Scenario, folder: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(board, replications=N, seed=SEED, jobs=1, chunk_size=2, out=out,
                       seams=Seams(stop_after_chunks=1))
    partial = load_results(out)
    assert not partial.complete and len(partial.risks) and len(partial.goals)
    resumed = run_experiment(board, replications=N, seed=SEED, jobs=1, out=out, resume=True)
    assert_same(resumed, load_results(folder))


def test_saved_results_keep_their_optional_tables(folder: Path, tmp_path: Path) -> None:
    res = load_results(folder)
    assert_same(load_results(res.save(tmp_path / "copy")), res)


def test_a_plain_run_keeps_the_three_tables(tmp_path: Path) -> None:
    sc = load_scenario(write_tiny(tmp_path), None)
    out = tmp_path / "plain"
    res = run_experiment(sc, replications=2, seed=0, jobs=1, out=out)
    assert res.manifest["tables"] == ALL[:3]
    assert not (out / "goals.parquet").exists() and not (out / "risks.parquet").exists()
    loaded = load_results(out)
    assert loaded.goals.empty and list(loaded.risks.columns) == list(RISKS.column_names)
    with pytest.raises(UsageError, match="no risk register"):
        loaded.risk_drivers()


@pytest.mark.parametrize(("policy", "replication"), [("careful", 4), ("all", 0)])
def test_simulate_carries_the_replications_goals_and_risks(board: Scenario, folder: Path, policy: str,
                                                          replication: int) -> None:
    one = simulate(board, policy=policy, seed=SEED, replication=replication)
    res = load_results(folder)
    for name, schema in (("goals", GOALS), ("risks", RISKS)):
        table = getattr(res, name)
        mine = table[(table["policy"] == policy) & (table["replication"] == replication)]
        assert list(getattr(one, name).columns) == list(schema.names)   # the key is one's own
        pdt.assert_frame_equal(getattr(one, name),
                               mine.drop(columns=["policy", "replication"]).reset_index(drop=True))
    assert len(one.goals) == 2 and one.goals["weight"].sum() == pytest.approx(1.0)
    assert set(one.risks["risk"]) == {"slip", "audit"}


def test_simulate_without_strategy_or_register_has_empty_goals_and_risks(tmp_path: Path) -> None:
    sc = load_scenario(write_tiny(tmp_path), None)
    one, res = simulate(sc), run_experiment(sc, replications=1, seed=0, jobs=1)
    for name in ("goals", "risks"):
        assert getattr(one, name).empty
        pdt.assert_frame_equal(getattr(one, name), getattr(res, name).drop(columns=["policy", "replication"]))


def _edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("tables", [
    ["replications", "projects"],
    ["replications", "projects", "pools", "risks", "goals"],
    ["replications", "projects", "pools", "goals", "goals"],
    ["replications", "projects", "pools", "../../etc"],
])
def test_a_manifest_listing_other_tables_is_refused(folder: Path, tmp_path: Path, tables: list[str]) -> None:
    copy = tmp_path / "copy"
    load_results(folder).save(copy)
    _edit_manifest(copy, tables=tables)
    with pytest.raises(UsageError, match="tables must be"):
        load_results(copy)


def test_a_manifest_without_tables_means_the_core_three(board: Scenario, tmp_path: Path) -> None:
    # A folder written before optional tables existed: its manifest has no `tables`.
    sc = load_scenario(write_tiny(tmp_path), None)
    out = tmp_path / "old"
    run_experiment(sc, replications=2, seed=0, jobs=1, out=out)
    data = json.loads((out / "manifest.json").read_text())
    del data["tables"]
    (out / "manifest.json").write_text(json.dumps(data))
    assert load_results(out).manifest["tables"] == ALL[:3]


def test_chunk_files_must_match_the_listed_tables(board: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(board, replications=N, seed=SEED, jobs=1, chunk_size=2, out=out,
                       seams=Seams(stop_after_chunks=1))
    _edit_manifest(out, tables=ALL[:3])
    with pytest.raises(UsageError, match="files must be exactly the tables"):
        load_results(out)


# --------------------------------------------------------------------------- risk drivers


def test_risk_drivers_rank_the_register_per_policy(folder: Path) -> None:
    drivers = load_results(folder).risk_drivers()
    assert list(drivers.columns) == list(DRIVER_COLUMNS)
    assert list(drivers["policy"].unique()) == ["all", "board", "careful"]
    for _, rows in drivers.groupby("policy"):
        assert sorted(rows["rank"]) == [1, 2]
        assert rows.sort_values("rank")["loss"].is_monotonic_decreasing
    row = drivers.set_index(["policy", "risk"]).loc[("careful", "slip")]
    assert row["mitigated"] and row["loss"] == pytest.approx(row["value_lost"] + row["cost"])
    assert row["loss_ci_low"] <= row["loss"] <= row["loss_ci_high"]


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two replications of one policy: P struck in both, Q (still running) in the first."""
    risks = pd.DataFrame({
        "policy": "p", "replication": [0, 0, 1, 1], "risk": ["r", "r", "r", "r"],
        "project": ["P", "Q", "P", "Q"], "occurred": [True, True, True, False],
        "day": [5.0, 6.0, 7.0, math.nan], "delay": [4.0, 3.0, 100.0, 0.0],
        "effort_added": [10.0, 5.0, 0.0, 0.0], "cost": [100.0, 50.0, 0.0, 0.0], "mitigated": False})
    projects = pd.DataFrame({
        "policy": "p", "replication": [0, 0, 1, 1], "project": ["P", "Q", "P", "Q"],
        "value_per_day": [20.0, 30.0, 20.0, 30.0], "start": [0.0, 0.0, 10.0, 0.0],
        "finish": [40.0, math.nan, 50.0, math.nan], "effort_done": [80.0, 9.0, 40.0, 9.0],
        "status": ["completed", "open", "completed", "open"]})
    return risks, projects


def test_value_lost_is_the_struck_projects_own_value_for_the_days_it_lost() -> None:
    # Replication 0, P: pace 80 / 40 = 2 person-days a day; 4 days of pause + 10 / 2 days of
    # rework = 9 days x 20 = 180. Q did not complete: nothing attributed. Replication 1, P: a
    # pause of 100 days, but P took only 40 days: at most 40 days x 20 = 800.
    risks, projects = _tables()
    assert attributed_value_lost(risks, projects).tolist() == [180.0, 0.0, 800.0, 0.0]
    table = risk_drivers(risks, projects, replications=2)
    row = table.iloc[0]
    assert (row["strikes"], row["applicable"], row["rank"]) == (1.5, 2.0, 1)
    assert row["value_lost"] == 490 and row["cost"] == 75 and row["loss"] == 565
    assert row["delay"] == pytest.approx((7 + 100) / 2)
    # Losses per replication 330 and 800: half-width t(0.975, 1) x sd / sqrt(2) = 12.706 x 235.
    assert row["loss_ci_high"] - row["loss"] == pytest.approx(12.7062047 * 235, rel=1e-6)
