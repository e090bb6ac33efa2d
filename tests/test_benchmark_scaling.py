"""The scaling benchmarks build the portfolios they say they build.

``benchmarks/scaling.py --needs`` must put tasks that hold several pools (and equipment) in
the reference, or it measures the single-pool dispatch again; ``benchmarks/scenario_scaling.py``
must scale a bundled scenario's portfolio k-fold (and its people in mode ``people`` only).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.pmo.resource_manager import _several_pools
from pmo_sim.scenario.loader import load_scenario, load_scenario_text, scenario_from_dict

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark(name: str) -> ModuleType:
    """A script of benchmarks/ imported as a module (its folder on the path while it loads)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def bench() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        import scaling
        import scenario_scaling
        yield scaling, scenario_scaling
    finally:
        sys.path.remove(str(BENCH))


def test_needs_variant_holds_several_pools_and_a_rig_that_scales_with_the_people(bench) -> None:
    scaling, _ = bench
    base = load_scenario(scaling.REFERENCE)
    for mode, units in (("people", 8), ("projects", 2)):
        sc = scaling.with_needs(scaling.scaled_scenario(base, 4, mode, ["fifo", "srpt"]), 4, mode)
        assert sc.resources["rig"].kind == "equipment" and sc.resources["rig"].units == units
        held = {t.name: t.needs for tpl in sc.intake.templates for t in tpl.tasks if t.needs}
        assert held["integration"] == {"testers": 2, "rig": 1}
        assert held["go-live"] == {"ops": 2, "developers": 1}
        assert _several_pools(sc)  # every allocation ranks all pools' ready tasks together
    rec = run_replication(sc, 0, 1, ["srpt"])[0]
    assert rec.kpis["projects_completed"] > 0


@pytest.mark.parametrize("mode", ["people", "projects"])
def test_scenarios_scales_the_portfolio_and_the_people_only_in_mode_people(bench, mode: str) -> None:
    _, scenarios = bench
    path = scenarios.SCENARIOS / "capacity.yaml"
    base, big = load_scenario(path), scenarios.scaled(path, 4, mode)
    assert base.intake is not None and big.intake is not None
    assert big.intake.arrivals.mean() == pytest.approx(base.intake.arrivals.mean() / 4)
    k = 4 if mode == "people" else 1
    assert big.resources["developers"].headcount == base.resources["developers"].headcount * k
    assert big.resources["test_env"].units == base.resources["test_env"].units * k
    assert big.policy_names == base.policy_names


def test_scenarios_reports_a_slope_per_policy(bench, capsys) -> None:
    _, scenarios = bench
    assert scenarios.main(["--scenarios", "queue_mmc", "--sizes", "1,2", "--modes", "projects",
                           "--reps", "2"]) == 0
    out = capsys.readouterr().out
    assert "queue_mmc" in out and "slope" in out and "steepest slope" in out


@pytest.mark.parametrize("mode", ["people", "projects"])
def test_generated_portfolios_are_valid_at_the_sizes_they_say(mode: str) -> None:
    generated = benchmark("generated")
    for structure in generated.STRUCTURES:
        base = scenario_from_dict(generated.scenario(structure, 1, mode), max_events=None)
        big = scenario_from_dict(generated.scenario(structure, 4, mode), max_events=None)
        assert big.intake.count == 4 * base.intake.count
        assert len(big.projects or ()) == 4 * len(base.projects or ())
        k = 4 if mode == "people" else 1
        assert big.resources["p1"].headcount == base.resources["p1"].headcount * k
        assert sorted(big.policy_names) == sorted(generated.RULES)


def test_scenarios_measures_the_generated_portfolios_with_their_ratio_to_fifo(bench, capsys) -> None:
    _, scenarios = bench
    assert scenarios.main(["--scenarios", "none", "--generated", "shapes", "--sizes", "1,2",
                           "--modes", "projects", "--reps", "1"]) == 0
    out = capsys.readouterr().out
    assert "gen:shapes" in out and "min_slack" in out and "x fifo" in out


def test_explicit_portfolios_have_the_projects_and_people_they_say(capsys) -> None:
    explicit = benchmark("explicit")
    sc = load_scenario_text(explicit.portfolio(80))
    assert len(sc.projects) == 80 and sc.intake is None
    assert sc.resources["developers"].headcount == 18  # the reference's 9 per 40 projects
    assert all(8 <= len(p.tasks) <= 20 for p in sc.projects)
    assert explicit.main(["--sizes", "10,20", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "min_slack" in out and "slope" in out and "/fifo at 20" in out


def test_montecarlo_measures_the_command_lines_own_peak(tmp_path: Path) -> None:
    # Section 3b runs the real `pmo-sim run -j 2` on its one-task portfolio and follows that
    # process's memory; the portfolio must load and hold its three policies.
    montecarlo = benchmark("montecarlo")
    sc = load_scenario_text(montecarlo.CHEAP_YAML, "one-task.yaml")
    assert list(sc.policies) == ["fifo", "srpt", "wsjf"]
    scenario = tmp_path / "one-task.yaml"
    scenario.write_text(montecarlo.CHEAP_YAML)
    peak, wall = montecarlo.command_peak(scenario, 30, seed=1)
    assert 30 < peak < 1_000 and wall > 0  # MB: the process was seen, and is plausible


def test_montecarlo_sets_the_same_work_alone_against_two_at_once(capsys) -> None:
    # Section 5 runs the engine's replications and the heapq floor in fresh processes, one
    # alone and then two at once, and reads each process's own CPU time for the same work.
    montecarlo = benchmark("montecarlo")
    out = montecarlo.host(rounds=1, seed=0, units=2)
    for kind in ("engine", "floor"):
        figures = out[kind]
        assert len(figures["alone_cpu_s"]) == 1 and len(figures["together_cpu_s"]) == 2
        assert all(cpu > 0 for cpu in figures["alone_cpu_s"] + figures["together_cpu_s"])
        together = sum(figures["together_cpu_s"]) / 2  # the median of two
        assert figures["ceiling"] == pytest.approx(figures["alone_cpu_s"][0] / together)
    printed = capsys.readouterr().out
    assert "2 replications of the reference, fifo" in printed and "efficiency at most" in printed


def test_instruction_cells_build_the_portfolios_they_name(capsys) -> None:
    # benchmarks/instructions.py counts callgrind instructions of one cell (valgrind is not
    # needed here): its cells must be the scaling benchmarks' portfolios and policies.
    instructions = benchmark("instructions")
    sc, policy = instructions.scenario_and_policy("projects-wip", 4, "srpt")
    assert policy == "srpt-wip" and sc.policies[policy].resource_manager.wip_limit == 16
    assert sc.intake is not None and sc.intake.count == 160
    assert sc.resources["developers"].headcount == load_scenario(BENCH / "reference.yaml").resources[
        "developers"].headcount  # projects only: the people are the reference's
    sc, policy = instructions.scenario_and_policy("explicit", 12, "min_slack")
    assert policy == "min_slack" and len(sc.projects) == 12
    sc, policy = instructions.scenario_and_policy("explicit", 12, "lst")  # not one of explicit.py's
    assert sc.policies["lst"].resource_manager.allocation == "lst"
    generated = benchmark("generated")  # generated.py's portfolios, one policy per rule
    sc, policy = instructions.scenario_and_policy("gen-governed_batch-projects", 4, "min_slack")
    assert policy == "min_slack" and sc.intake is not None and sc.intake.count == 40 * 4
    one, _ = instructions.scenario_and_policy("gen-governed_batch-projects", 1, "fifo")
    assert sc.resources == one.resources
    assert len(instructions.GENERATED) == 2 * len(generated.STRUCTURES)
    instructions.child("people", 1, "wsjf", 1)  # what callgrind runs: it runs
    for bad in ("people:0:fifo", "crowd:4:fifo", "people:4:fast", "people:4"):
        with pytest.raises(SystemExit):
            instructions.main([bad])
        assert "a cell is kind:size:rule" in capsys.readouterr().err


def test_instruction_yardstick_cells_run_the_hand_written_models(capsys) -> None:
    # A yardstick cell counts the hand-written model of its rule on the people cell's Plans,
    # so that both sides of issue 11's ratio are counted by one script in one run.
    instructions = benchmark("instructions")
    sc, policy = instructions.scenario_and_policy("yardstick", 1, "wsjf")
    assert (sc, policy) == instructions.scenario_and_policy("people", 1, "wsjf")
    instructions.child("yardstick", 1, "wsjf", 1)  # what callgrind runs: it runs
    instructions.child("yardstick", 1, "fifo", 1)
    with pytest.raises(SystemExit):
        instructions.main(["yardstick:1:srpt"])  # no hand-written model of srpt
    assert "a yardstick cell's rule is one of fifo, wsjf" in capsys.readouterr().err


def test_idle_notes_every_replication_and_where_the_workers_waited(capsys) -> None:
    # The replicate seam notes each replication in its worker; a run of 8 replications on two
    # workers must account for all 8 and report each worker's busy time and idle tail.
    idle = benchmark("idle")
    assert idle.main(["--runs", "1", "--replications", "8"]) == 0
    out = capsys.readouterr().out
    run = next(line for line in out.splitlines() if line.strip().startswith("run 1:"))
    busy = [float(x) for x in run.split("busy ")[1].split(" s;")[0].split(" / ")]
    tails = [float(x) for x in run.split("idle tail ")[1].split(" s;")[0].split(" / ")]
    assert len(busy) == len(tails) >= 1 and all(b > 0 for b in busy)
    assert min(tails) == 0.0  # the worker that ended the last replication waited for nobody
    assert run.endswith("; 8 replications noted") and "most" in out
