"""Edges a sixth hostile-input probe (hangs and memory) found: each input must run in reasonable
time or be refused first, with a located message and exit 2.

- a staffing plan of 100,000 changes of +1 and -1 passed ``validate`` (its estimate counted no
  staffing) and ran for over two minutes a replication: each release looks through everyone
  the pool ever had; 200 changes of +99,999 and -99,999 (the pool never above the headcount
  limit) set up ten million people, over a minute. The estimate now counts every hire and
  every release's look through the pool, so both are over the event budget at
  ``resource_manager.staffing``;
- 50,000 tool adoptions passed and took 50 s of a replication of 5,000 tasks (every adoption
  is looked up at each task's start and finish); counted now as (adoption, task) pairs;
- ``fit`` of a 63 MiB history (1.4 million rows, within the 64 MiB a history may have) ran
  for minutes and would have written an empirical distribution of 1.4 million values no
  scenario can load (1,000,000 values, 8 MiB); at most 100,000 rows now, refused at the line
  of the first one beyond;
- ``run -n 2 --precision 1e-300 --max-replications 10000000`` (a target never met) added 10
  replications at a time in chunks of one replication (sized for ``-n 2``), and read every
  chunk at each batch: ``-n 10`` grown to 3,000 took 90 s where ``-n 3000`` takes 5, and the
  10,000,000 no end. Beyond ten times ``-n`` (the default cap, so no run within it changes) a
  batch is now at least a fifth of the run so far, in chunks sized for it;
- ``run -n 1`` of a portfolio whose best policy's NPV is 0 (no value, no cost: an imported
  PSPLIB instance) printed numpy's "RuntimeWarning: Mean of empty slice" and its source line
  on stderr: the verdict's default indifference zone took the mean of variances that are all
  NaN with one replication each;
- a study builds and holds a validated copy of the scenario per design point, before the
  study's size is checked: ``sensitivity --method sobol --samples 32768`` of one factor of a
  scenario of 300 projects (98,304 points, 1.1 MB and 25 ms each, within every other limit)
  grew past 2 GB in 40 s ("out of memory", exit 1, under a 2 GB limit; 100 GB and 80 minutes
  without one). The points times the scenario's values are now bounded first;
- ``validate`` of a scenario declaring ``sensitivity.ranges`` read the whole file again, with
  positions, for every range, and dumped the scenario twice per range: 200 ranges of a
  200-project scenario took 36 s, 1,000 of 1,000 over 100 s; the file is read once and the
  dump kept (1.3 s and 3 s);
- ``validate`` of 19,000 projects (within the 20,000 allowed) each with a bad task ran for
  minutes before its first line: every problem left after the structural ones was compared
  with every pruned path (19,000 x 38,000); the nodes the pruned paths run through are a set
  now (4 s for the 57,000 lines);
- a ``--set`` naming no item of a list of 20,000 projects listed every name: a line of
  150 KB per such override, and so did an unknown pool among thousands; at most 8 names
  (or keys) now, and how many in all, as strategy's checks already said.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest
from test_experiment import write_tiny

from pmo_sim.analysis.compare import default_delta
from pmo_sim.errors import ScenarioError, UsageError
from pmo_sim.experiment import run_experiment
from pmo_sim.experiment.sensitivity import check_declared, sensitivity
from pmo_sim.experiment.sweep import sweep
from pmo_sim.io.history import MAX_HISTORY_ROWS, history_from_text, read_history
from pmo_sim.scenario.limits import estimate_size
from pmo_sim.scenario.loader import load_scenario, load_scenario_text

BASE = """\
name: s
horizon: 1000
resources:
  dev: {headcount: 1, day_rate: 500}
intake:
  arrivals: 20
  templates: [{name: e, tasks: [{name: x, skill: dev, effort: 30}]}]
"""


def _staffing(changes: list[int]) -> str:
    plan = ", ".join(f"{{day: {i}, pool: dev, change: {c}}}" for i, c in enumerate(changes))
    return BASE + f"pmo:\n  resource_manager:\n    staffing: [{plan}]\n"


@pytest.mark.parametrize("changes, events", [
    # 450 hires; the k-th release looks through the 1 + k people the pool has had
    ([1, -1] * 450, 450 + 0.01 * sum(1 + k for k in range(1, 451))),
    ([99_999, -99_999] * 10, 10 * 99_999 + 0.01 * sum(1 + k * 99_999 for k in range(1, 11))),
])
def test_a_staffing_plan_that_hires_and_releases_over_and_over_is_counted(changes: list[int],
                                                                          events: float) -> None:
    sc = load_scenario_text(_staffing(changes), "s.yaml", max_events=None)
    assert estimate_size(sc).events == pytest.approx(100 + events)  # + 50 projects of one task
    assert estimate_size(sc).largest == "pmo.resource_manager.staffing"


def test_a_staffing_plan_of_ten_million_hires_is_refused_at_the_plan() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(_staffing([99_999, -99_999] * 100), "s.yaml")
    (problem,) = info.value.problems
    assert str(problem).startswith("s.yaml:10:15: pmo.resource_manager.staffing: with horizon 1000 "
                                   "this makes about 15,04")
    assert "raise it with --max-events" in str(problem)


def test_a_long_plan_of_single_changes_is_refused() -> None:
    # 5,000 days of +1 / -1: 2,500 releases each looking through up to 2,500 people
    with pytest.raises(ScenarioError, match=r"pmo\.resource_manager\.staffing: with horizon"):
        load_scenario_text(_staffing([1, -1] * 25_000).replace("horizon: 1000", "horizon: 60000"),
                           "s.yaml")


def test_a_plan_of_a_few_changes_is_no_burden() -> None:
    sc = load_scenario_text(_staffing([3, -1, 2]), "s.yaml")
    assert estimate_size(sc).events < 200


def test_many_tool_adoptions_over_many_tasks_are_refused_at_the_adoptions() -> None:
    adoptions = ", ".join(f"{{name: a{i}, day: {i % 900}, productivity_gain: 0.01}}" for i in range(20_000))
    text = (BASE.replace("arrivals: 20", "arrivals: 0.2")  # 5,000 tasks
            + f"pmo:\n  technology_manager:\n    adoptions: [{adoptions}]\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:10:16: pmo\.technology_manager\.adoptions: with "
                                            r"horizon 1000 this makes about 2,010,000 simulation events"):
        load_scenario_text(text, "s.yaml")
    few = BASE + "pmo:\n  technology_manager:\n    adoptions: [{name: a, day: 10, productivity_gain: 0.1}]\n"
    assert estimate_size(load_scenario_text(few, "s.yaml")).events == pytest.approx(100 + 50 * 0.02)


HEADER = "project,task,skill,estimate,actual,start,finish\n"
ROW = "p{0},t{0},dev,5,{1},2024-01-01,2024-01-05\n"


def test_a_history_of_more_rows_than_a_fragment_can_hold_is_refused_at_the_row_beyond(tmp_path: Path) -> None:
    rows = "".join(ROW.format(i, 1 + i % 50) for i in range(MAX_HISTORY_ROWS + 5))
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n" + rows)  # a blank line is no row
    with pytest.raises(ScenarioError) as info:
        read_history(path)
    (problem,) = info.value.problems
    assert str(problem) == (f"{path}:{MAX_HISTORY_ROWS + 3}:1: more than 100,000 task rows (this is "
                            "row 100,001): fit a sample or a recent period")
    exactly = HEADER + "".join(ROW.format(i, 1 + i % 50) for i in range(MAX_HISTORY_ROWS)) + ",,,,,,\n"
    assert len(history_from_text(exactly).tasks) == MAX_HISTORY_ROWS


def test_a_precision_never_met_grows_in_few_batches_to_a_far_cap(tmp_path: Path) -> None:
    batches: list[int] = []
    res = run_experiment(load_scenario(write_tiny(tmp_path), None), replications=2, seed=0, jobs=1,
                         backend="serial", precision=1e-300, max_replications=2_000,
                         precision_report=lambda worst, target: batches.append(target))
    assert res.manifest["precision"]["target_met"] is False
    assert res.replications["replication"].nunique() == 2_000
    # 10 at a time to 20 (ten times -n, as before), then a fifth more each time
    assert batches[:3] == [2, 12, 22] and batches[-1] == 2_000 and len(batches) < 30
    assert res.manifest["chunk_size"] >= 1


def test_one_replication_of_policies_worth_nothing_warns_of_nothing(tmp_path: Path) -> None:
    text = BASE.replace("intake:", "policies: {a: {}, b: {resource_manager: {allocation: edd}}}\nintake:")
    res = run_experiment(load_scenario_text(text.replace("day_rate: 500", "day_rate: 0")), replications=1,
                         jobs=1, backend="serial")
    assert (res.replications["npv"] == 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert default_delta(res.replications, "npv") == 1.0


def _projects(n: int) -> str:
    rows = "".join(f"  - {{name: p{i}, value_per_day: 10, tasks: [{{name: t, skill: dev, effort: 1}}]}}\n"
                   for i in range(n))
    return f"name: k\nhorizon: 400\nresources:\n  dev: {{headcount: 5, day_rate: 1}}\nprojects:\n{rows}"


def test_a_study_of_more_copies_of_the_scenario_than_memory_holds_is_refused_first(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_text(_projects(300))  # 2,408 values
    with pytest.raises(UsageError, match=r"^98,304 design points of a scenario of 2,408 values make "
                                         r"236,716,032 values, more than the 5,000,000 a study may build"):
        sensitivity(path, {"projects.0.value_per_day": (1, 100)}, method="sobol", samples=32768,
                    replications=1, jobs=1, backend="serial")
    with pytest.raises(UsageError, match=r"^3,000 design points of a scenario of 2,408 values"):
        sweep(path, "horizon", list(range(100, 3100)), replications=1, jobs=1, backend="serial")


def test_declared_ranges_are_located_from_one_reading_of_the_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import pmo_sim.scenario.sensitivity as section

    ranges = "".join(f"    projects.{i}.value_per_day: [1, 100]\n" for i in range(60))
    path = tmp_path / "k.yaml"
    path.write_text(_projects(60) + "sensitivity:\n  ranges:\n" + ranges + "    projects.9.name: [1, 2]\n")
    readings: list[object] = []
    real = section.YAML
    monkeypatch.setattr(section, "YAML", lambda **kw: readings.append(kw) or real(**kw))
    with pytest.raises(ScenarioError) as info:
        check_declared(path, load_scenario(path, None))
    assert [str(p) for p in info.value.problems] == [
        f"{path}:128:5: projects.9.name: does not hold a number, so it has no range (got 'p9')"]
    assert len(readings) == 1


def test_many_projects_with_a_bad_task_each_are_all_reported_quickly() -> None:
    projects = "".join(f"  - {{name: p{i}, tasks: [{{name: t, skill: nope, effort: -1, people: 0}}]}}\n"
                       for i in range(19_000))
    text = "name: b\nhorizon: 100\nresources:\n  dev: {headcount: 1}\nprojects:\n" + projects
    started = time.monotonic()
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml")
    assert time.monotonic() - started < 30  # before: minutes
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 3 * 19_000
    assert [p for p in problems if "projects.18999." in p] == [
        "s.yaml:19005:71: projects.18999.tasks.0.people: must be at least 1 (got 0)",
        "s.yaml:19005:45: projects.18999.tasks.0.skill: unknown pool; expected one of: dev (got 'nope')",
        "s.yaml:19005:59: projects.18999.tasks.0.effort: must not be negative (got -1.0)"]


def test_a_path_naming_no_item_of_a_long_list_or_mapping_lists_eight() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(_projects(1000), "s.yaml", overrides={"projects.x.value_per_day": 5})
    assert [str(p) for p in info.value.problems] == [
        "--set:1:1: projects.x.value_per_day: no such item; expected an index 0..999 or one of the "
        "names: p0, p1, p2, p3, p4, p5, p6, p7, ... (1000 in all) (got 'x')"]
    pools = "".join(f"  r{i}: {{headcount: 1}}\n" for i in range(30))
    text = BASE.replace("resources:\n", "resources:\n" + pools)
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", overrides={"resources.x.headcount": 2})
    assert [str(p) for p in info.value.problems] == [
        "--set:1:1: resources.x.headcount: no such key; expected one of: r0, r1, r2, r3, r4, r5, r6, "
        "r7, ... (31 in all) (got 'x')"]
    with pytest.raises(ScenarioError) as info:  # and a task of a pool that is not there
        load_scenario_text(text.replace("skill: dev", "skill: nope"), "s.yaml")
    assert [str(p) for p in info.value.problems] == [
        "s.yaml:37:50: intake.templates.0.tasks.0.skill: unknown pool; expected one of: r0, r1, r2, "
        "r3, r4, r5, r6, r7, ... (31 in all) (got 'nope')"]
