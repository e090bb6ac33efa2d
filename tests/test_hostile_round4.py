"""Edges a fourth hostile-input probe found: each must end in a clear refusal (exit 2 on the
command line, a documented error class from the Python API) naming what is wrong, never a
traceback from deep inside.

- an edited table whose count column holds an integer beyond 2**53 (exactly representable
  floats): every reader failed with ``ArrowInvalid: Integer value ... not in range``, exit 1;
- ``frontier(policies="careful")`` ran the policies 'c', 'a', 'r', 'e'... (the check sweep
  and run make was not made), ``budgets="1e6"`` or ``budgets=1e6`` failed in ``float()``;
- ``Results.compare(metric=["npv"])``: ``TypeError: unhashable type: 'list'``;
- ``run_experiment(precision="0.1")`` or ``max_replications="5"``: ``'>' not supported
  between instances of 'str' and 'int'``;
- ``gantt`` given something other than a task log: KeyError 'pool' or AttributeError;
- ``sweep(sc, {3: [...]})``, ``sensitivity(sc, {3: (1, 2)})``: ``'int' object has no
  attribute 'split'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_experiment import write_tiny
from test_hostile_round3 import invoke  # exit code and output, no traceback

import pmo_sim as ps

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return ps.load_scenario(write_tiny(tmp_path_factory.mktemp("round4")))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> Path:
    out = tmp_path_factory.mktemp("round4-run") / "run"
    ps.run_experiment(tiny, replications=3, seed=0, jobs=1, out=out)
    return out


@pytest.mark.parametrize("command", [("compare", "{r}"), ("report", "{r}", "--out", "{t}/r.html"),
                                     ("export", "{r}", "--xlsx", "{t}/r.xlsx"), ("forecast", "{r}")])
def test_a_count_beyond_exact_floats_in_an_edited_table_is_read(finished: Path, tmp_path: Path,
                                                                command: tuple[str, ...]) -> None:
    # before: "pyarrow.lib.ArrowInvalid: Integer value 4611686018427387904 not in range:
    # -9007199254740992 to 9007199254740992", exit 1, from the check of the KPIs' numbers
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "edited"
    shutil.copytree(finished, folder)
    path = folder / "replications.parquet"
    table = pq.read_table(path)
    i = table.schema.get_field_index("projects_arrived")
    pq.write_table(table.set_column(i, "projects_arrived", pa.array([2**62] * table.num_rows)), path)
    code, out = invoke(*(a.format(r=folder, t=tmp_path) for a in command))
    assert code in (0, 2), out
    assert "ArrowInvalid" not in out


@pytest.fixture(scope="module")
def strategy() -> Any:
    return ps.load_scenario(ROOT / "scenarios" / "strategy.yaml")


@pytest.mark.parametrize(("options", "says"), [
    # before: "unknown policy 'c', 'a', 'r', 'e', 'f', 'u', 'l'"
    ({"policies": "careful"}, r"policies must be a list of policy names, not a str \('careful'\)"),
    # before: ValueError: could not convert string to float: 'e'
    ({"budgets": "1e6"}, r"budgets must be a list of yearly amounts, not str \('1e6'\)"),
    # before: TypeError: 'float' object is not iterable
    ({"budgets": 1e6}, r"budgets must be a list of yearly amounts, not float \(1000000.0\)"),
    ({"budgets": [1e6, "2e6"]}, r"budgets must be numbers, not str \('2e6'\)"),
])
def test_frontier_refuses_wrong_types(strategy: Any, options: dict[str, Any], says: str) -> None:
    options = {"budgets": [1e6], "replications": 1, "jobs": 1, **options}
    with pytest.raises(TypeError, match=says):
        ps.frontier(strategy, **options)


@pytest.fixture(scope="module")
def res(tiny: Any) -> Any:
    return ps.run_experiment(tiny, replications=2, seed=0, jobs=1)


def test_compare_of_a_list_for_one_metric_says_so(res: Any) -> None:
    # before: TypeError: unhashable type: 'list', from inside the statistics
    with pytest.raises(TypeError, match=r"metrics must be KPI names \(text\), not list \(\['npv'\]\)"):
        res.compare(metric=["npv"])


@pytest.mark.parametrize(("options", "says"), [
    # before: "'>' not supported between instances of 'str' and 'int'"
    ({"precision": "0.1"}, r"precision must be a number, not str \('0.1'\)"),
    # before: "'<=' not supported between instances of 'str' and 'int'"
    ({"precision": 0.1, "max_replications": "5"}, r"max_replications must be an integer, not str"),
])
def test_run_experiment_refuses_text_for_its_precision(tiny: Any, options: dict[str, Any], says: str) -> None:
    with pytest.raises(TypeError, match=says):
        ps.run_experiment(tiny, replications=2, jobs=1, **options)


@pytest.mark.parametrize(("args", "error", "says"), [
    # before: TypeError: string indices must be integers, not 'str'
    (("tasks.csv",), TypeError,
     r"tasks must be a pandas DataFrame, a task log \(simulate\(...\).tasks\), not str"),
    # before: KeyError: 'pool'
    ((pd.DataFrame({"a": [1]}),), ps.UsageError, r"the task log lacks the columns? .*pool"),
])
def test_gantt_of_something_else_than_a_task_log_says_so(args: tuple[Any, ...], error: type,
                                                         says: str) -> None:
    with pytest.raises(error, match=says):
        ps.gantt(*args)


def test_gantt_of_projects_that_are_not_a_table_says_so(tiny: Any) -> None:
    # before: AttributeError: 'str' object has no attribute 'columns'
    one = ps.simulate(tiny, policy=tiny.policy_names[0])
    with pytest.raises(TypeError, match=r"projects must be a pandas DataFrame .*, not str"):
        ps.gantt(one.tasks, projects="x")


def test_a_study_of_a_path_that_is_not_text_says_so(tiny: Any) -> None:
    # before: AttributeError: 'int' object has no attribute 'split'
    with pytest.raises(TypeError, match=r"a path to vary must be dotted text, not int \(3\)"):
        ps.sweep(tiny, {3: [1, 2]}, replications=1, jobs=1)
    with pytest.raises(TypeError, match=r"a path to vary must be dotted text, not int \(3\)"):
        ps.sensitivity(tiny, {3: (1, 2)}, metric="npv", replications=1, jobs=1)


def test_the_hint_for_a_new_section_with_a_list_writes_a_list(tmp_path: Path) -> None:
    # before: "pmo={resource_manager: {staffing: {0: {day: ...}}}}", a mapping where staffing
    # is a list: the hint followed as written was refused in turn
    code, out = invoke("validate", str(write_tiny(tmp_path)), "--set",
                       "pmo.resource_manager.staffing.0.day=3")
    assert code == 2, out
    assert "pmo={resource_manager: {staffing: [{day: ...}]}}" in out


def test_a_file_of_a_results_folder_given_for_the_folder_is_named(finished: Path) -> None:
    # before: "RESULTS/manifest.json is not a results folder: no such folder" (it exists)
    code, out = invoke("compare", str(finished / "manifest.json"))
    assert code == 2, out
    assert f"{finished / 'manifest.json'} is not a results folder: it is a file; give the folder " \
           f"that holds it, {finished}" in out


def test_load_results_of_something_else_than_a_path_says_so() -> None:
    # before: "expected str, bytes or os.PathLike object, not int" from pathlib
    with pytest.raises(TypeError, match=r"the results folder must be a path \(str or os.PathLike\), not int"):
        ps.load_results(3)


@pytest.mark.parametrize(("call", "says"), [
    # before: "'<' not supported between instances of 'float' and 'str'"
    (lambda r: r.select_best(alpha="0.05"), r"alpha must be a number, not str \('0.05'\)"),
    # before: ValueError: could not convert string to float: 'x'
    (lambda r: ps.summary(r.replications, confidence="x"), r"confidence must be a number, not str \('x'\)"),
])
def test_the_levels_of_the_analyses_are_numbers(res: Any, call: Any, says: str) -> None:
    with pytest.raises(TypeError, match=says):
        call(res)


def test_analyse_roi_of_something_else_than_a_question_says_so(res: Any) -> None:
    # before: AttributeError: 'str' object has no attribute 'policy'
    with pytest.raises(TypeError, match=r"question must be a RoiQuestion \(pmo_sim.analysis.roi\), not str"):
        ps.analyse_roi(res.replications, res.projects, "upskill")
    with pytest.raises(TypeError, match=r"replications must be a pandas DataFrame"):
        ps.analyse_roi(res, res.projects, "upskill")


def test_a_sensitivity_of_a_section_does_not_call_it_a_distribution(tmp_path: Path) -> None:
    # before: "resources.dev: holds a distribution; vary one of its parameters, e.g.
    # resources.dev.kind (got None)": a pool is no distribution, and kind no number
    scenario = write_tiny(tmp_path)
    pool = next(iter(ps.load_scenario(scenario).resources))
    code, out = invoke("sensitivity", str(scenario), "--vary", f"resources.{pool}=1:2", "-n", "1",
                       "-j", "1", "-q", "--out", str(tmp_path / "out"))
    assert code == 2, out
    assert f"resources.{pool}: holds a section, not a number, so it has no range (got " in out
    assert "distribution" not in out
    assert not (tmp_path / "out").exists()


def test_results_saved_into_the_folder_they_are_read_from_are_kept(finished: Path, tmp_path: Path) -> None:
    # before: with force=True the folder's tables were deleted, then read to be written again:
    # "sv/replications.parquet is unreadable: ... No such file or directory", and the folder lost
    import shutil

    folder = tmp_path / "kept"
    shutil.copytree(finished, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    res = ps.load_results(folder)
    with pytest.raises(ps.UsageError, match=r"is the folder these results are read from: saving them "
                                            r"there would delete them first; give another path"):
        res.save(tmp_path / "." / "kept", force=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert len(ps.load_results(folder).replications) == len(res.replications)
