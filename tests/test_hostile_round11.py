"""Edges an eleventh hostile-input probe found.

- ``run_experiment(sc, seed=None)``, ``simulate(sc, seed=None)`` or ``replication=None``,
  ``sweep``/``sensitivity`` with ``seed=None`` or ``replications=None``: a TypeError from deep
  inside ("'<' not supported between instances of 'NoneType' and 'int'"). A TypeError naming
  the argument now, before anything runs (``run_experiment(replications=None)`` still means
  the default);
- ``Results.with_projects(columns=["zzz"])`` (or ``columns="finish"``): pyarrow's KeyError
  ("Column zzz does not exist in schema"; "Column f ..."); ``replications="1"`` or ``[True]``:
  "projects.parquet is unreadable", as if the file were damaged; ``[1.5]`` read replication 1.
  A TypeError naming the argument, or a UsageError listing the columns, now;
- ``load_scenario(path, "resources.dev.headcount=3")`` (the overrides as one --set text): taken
  for a list of its letters, "--set:1:1: r: unknown key" and 24 more; ``overrides=5``: "'int'
  object is not iterable"; ``["resources.dev.headcount=3"]``: "unknown key ... (got
  'headcount=3')". A TypeError naming the argument, and for an item of --set text the pair to
  give, now;
- a path argument of the wrong type (``load_scenario({})``, ``write_report(res, None)``,
  ``Results.save(5)``, ``run_experiment(out=5)``, ``roi``/``frontier``/``sweep`` of a dict):
  Python's "expected str, bytes or os.PathLike object, not dict", naming no argument (and
  ``load_scenario(b"s.yaml")`` said "b's.yaml': file not found"). A TypeError naming the
  argument now, as ``load_results`` already gave;
- ``Results.summary_text()`` of results whose folder was deleted (or its replications table
  replaced by a file that is no Parquet): pyarrow's FileNotFoundError (or ArrowInvalid) from
  reading the file's metadata, where every other method says "R/replications.parquet is
  unreadable: ..." (a UsageError). The same UsageError now;
- ``run_experiment(sc, max_events=-1)`` (or ``0``, ``"1e6"``, NaN): checked by
  ``load_scenario`` but not by the run, so every replication was stopped as a runaway ("ran
  past -2 simulation events") or failed on "invalid literal for int()". Refused up front now
  with load_scenario's own message;
- ``run_experiment(sc, out=R, command=5)``: the run recorded 5 as its command, and every
  later reader refused R ("manifest.json: command: Input should be a valid string");
  ``progress=5`` (or ``meanwhile=5``) failed once R was made ("'int' object is not
  callable"), leaving it partial; ``head_start=5``: "'int' object has no attribute
  'discard'". A TypeError naming the argument now, before R is made;
- ``sweep(sc, "resources.dev.headcount", "23")``: the text taken for the values "2" and "3",
  and the sweep ran them without a word (the mapping form already refused text); ``vary=5``
  or ``["resources.dev.headcount"]``: Python's "'int' object is not iterable" / "too many
  values to unpack". A TypeError naming what to give now;
- ``sensitivity(sc, [("resources.dev.headcount", (2, 3))])`` (pairs, as ``sweep`` takes them)
  or ``sensitivity(sc, "resources.dev.headcount")``: "'list' object has no attribute
  'items'". A TypeError saying a mapping {path: (low, high)} is wanted now;
- a study's ``sets`` as one --set text (``sweep``/``sensitivity``/``frontier(...,
  sets="horizon=10")``): "dictionary update sequence element #0 has length 1; 2 is
  required"; ``sets=5``: "argument of type 'int' is not iterable". Read as load_scenario reads
  its overrides now: a TypeError naming ``sets``;
- a study's ``progress=5`` (``sweep``, ``sensitivity``, ``frontier``): Python's "'int' object
  is not callable", naming nothing (after the study's ``ready``). The run's own check names
  it now, before ``ready``;
- ``pmo-sim roi ... --out R`` into a non-empty R (as an interrupted roi leaves it), and
  ``Results.save(R)``: "use --resume to continue the run in it", an option roi does not have
  (and ``save`` no run to continue). The hint names --force and another --out only now;
- ``verdict(table, metric="npv")`` of a table whose ``npv`` column is text (read from a CSV
  with a stray word, ``astype(str)``): pandas' "agg function failed [how->mean,dtype->object]";
  ``summary``/``compare``/``select_best`` said "unknown metric 'npv'; available: ..." of a
  column that is there. Each says the column is not numeric now, and its type;
- ``Results.save(P)`` of a partial run (interrupted, 390 of 2000 replications finished): P was
  written with the finished tables but a partial manifest with no chunks, so every reader saw
  no finished replication ("nothing to compare") and ``run --resume`` into P ran every
  replication again. Refused now, naming the command that finishes the run;
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import TINY_RUN as TINY
from test_hostile_round3 import invoke

import pmo_sim as ps
from pmo_sim.experiment.spec import Seams


@pytest.fixture
def tiny(tmp_path: Path) -> Any:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    return ps.load_scenario(path)


@pytest.mark.parametrize(("call", "name"), [
    (lambda sc: ps.run_experiment(sc, replications=1, seed=None, jobs=1), "seed"),
    (lambda sc: ps.simulate(sc, seed=None), "seed"),
    (lambda sc: ps.simulate(sc, replication=None), "replication"),
    (lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], seed=None, jobs=1), "seed"),
    (lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], replications=None, jobs=1),
     "replications"),
    (lambda sc: ps.sensitivity(sc, {"resources.dev.headcount": (2, 3)}, seed=None, jobs=1), "seed"),
])
def test_none_for_a_seed_or_a_count_is_named(tiny: Any, call: Callable[[Any], Any], name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be an integer, not NoneType"):
        call(tiny)


@pytest.mark.parametrize(("options", "error", "says"), [
    ({"columns": ["zzz"]}, ps.UsageError, "unknown projects column 'zzz'; it has: policy, "),
    ({"columns": "finish"}, TypeError, "columns must be a list of names, not str"),
    ({"replications": "1"}, TypeError, "replications must be a list of integers, not str"),
    ({"replications": [True]}, TypeError, "replications must hold integers, not bool"),
    ({"replications": [1.5]}, TypeError, "replications must hold integers, not float"),
])
def test_a_view_of_projects_names_what_it_cannot_select(tiny_results: Path, options: dict[str, Any],
                                                         error: type[Exception], says: str) -> None:
    res = ps.load_results(tiny_results)
    with pytest.raises(error, match=f"^{re.escape(says)}"):
        res.with_projects(**options).projects  # noqa: B018 (reading it is the test)
    assert len(res.with_projects(["finish"], replications=[1]).projects) == 1


def test_overrides_as_set_text_are_named(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    for given in ("resources.dev.headcount=3", 5):
        with pytest.raises(TypeError, match=r"^overrides must be a mapping \{PATH: VALUE\} or a "
                                            r"list of \(PATH, VALUE\) pairs, not (str|int)"):
            ps.load_scenario(path, given)
    with pytest.raises(ps.ScenarioError) as caught:
        ps.load_scenario(path, ["resources.dev.headcount=3"])
    assert str(caught.value) == (
        "--set:1:1: resources.dev.headcount=3: an override is a (PATH, VALUE) pair, not the text "
        "of a --set: give ('resources.dev.headcount', VALUE) (got 'resources.dev.headcount=3')")
    assert ps.load_scenario(path, [("resources.dev.headcount", 3)]).resources["dev"].headcount == 3


A_PATH = "must be a path (str or os.PathLike)"


@pytest.mark.parametrize(("call", "says"), [
    (lambda sc, res: ps.load_scenario({}), f"the scenario file {A_PATH}, not dict"),
    (lambda sc, res: ps.load_scenario(b"s.yaml"), f"the scenario file {A_PATH}, not bytes"),
    (lambda sc, res: ps.write_report(res, None), f"the report's path {A_PATH}, not NoneType"),
    (lambda sc, res: res.save(5), f"the results folder {A_PATH}, not int"),
    (lambda sc, res: ps.run_experiment(sc, replications=1, jobs=1, out=5), f"out {A_PATH}, not int"),
    (lambda sc, res: ps.roi({}, "default", against="default"), f"scenario {A_PATH} or a Scenario, not dict"),
    (lambda sc, res: ps.frontier({}, budgets=[1.0]), f"scenario {A_PATH} or a Scenario, not dict"),
    (lambda sc, res: ps.sweep({}, "horizon", [10, 20]), f"scenario {A_PATH} or a Scenario, not dict"),
])
def test_a_path_of_the_wrong_type_is_named(tiny: Any, tiny_results: Path, call: Callable[[Any, Any], Any],
                                           says: str) -> None:
    with pytest.raises(TypeError, match=f"^{re.escape(says)}"):
        call(tiny, ps.load_results(tiny_results))


@pytest.mark.parametrize("damage", ["delete", "garble"])
def test_the_summary_text_of_a_damaged_folder_is_a_usage_error(tiny_results: Path, damage: str) -> None:
    res = ps.load_results(tiny_results)
    table = tiny_results / "replications.parquet"
    if damage == "delete":
        shutil.rmtree(tiny_results)
    else:
        table.write_bytes(b"not parquet")
    with pytest.raises(ps.UsageError, match=r"replications\.parquet is unreadable: "):
        res.summary_text()


@pytest.mark.parametrize(("budget", "error"), [(-1, ps.UsageError), (0, ps.UsageError),
                                               (float("nan"), ps.UsageError), ("1e6", TypeError)])
def test_a_run_s_event_budget_is_checked_as_the_loader_checks_it(tiny: Any, tmp_path: Path, budget: Any,
                                                                   error: type[Exception]) -> None:
    with pytest.raises(error, match="^max_events must be a "):
        ps.run_experiment(tiny, replications=1, jobs=1, max_events=budget, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("options", [{"command": 5}, {"progress": 5}, {"meanwhile": "now"},
                                     {"head_start": 5}])
def test_a_run_s_command_and_hooks_of_the_wrong_type_are_named(tiny: Any, tmp_path: Path,
                                                                options: dict[str, Any]) -> None:
    (name, value), = options.items()
    with pytest.raises(TypeError, match=f"^{name} must be (text|a function or None|a HeadStart or None), "):
        ps.run_experiment(tiny, replications=1, jobs=1, out=tmp_path / "r", **options)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("vary", "values", "says"), [
    ("resources.dev.headcount", "23", "the values of 'resources.dev.headcount' must be a list, not str"),
    (5, None, "vary must be a path, a mapping {path: values} or (path, values) pairs, not int"),
    (["resources.dev.headcount"], None, "vary must be a path, a mapping {path: values} or (path, "
                                        "values) pairs, not a list holding 'resources.dev.headcount'"),
])
def test_a_sweep_s_values_of_the_wrong_shape_are_named(tiny: Any, vary: Any, values: Any, says: str) -> None:
    with pytest.raises(TypeError, match=f"^{re.escape(says)}"):
        ps.sweep(tiny, vary, values, replications=1, jobs=1)


@pytest.mark.parametrize("vary", [[("resources.dev.headcount", (2, 3))], "resources.dev.headcount"])
def test_a_sensitivity_of_ranges_not_in_a_mapping_says_so(tiny: Any, vary: Any) -> None:
    with pytest.raises(TypeError, match=r"^vary must be a mapping \{path: \(low, high\)\}, not (list|str)"):
        ps.sensitivity(tiny, vary, replications=1, jobs=1)


@pytest.mark.parametrize("sets", ["horizon=10", 5])
@pytest.mark.parametrize("study", [
    lambda sc, sets: ps.sweep(sc, "resources.dev.headcount", [2, 3], replications=1, jobs=1, sets=sets),
    lambda sc, sets: ps.sensitivity(sc, {"resources.dev.headcount": (2, 3)}, replications=1, jobs=1,
                                    sets=sets),
])
def test_a_study_s_sets_of_the_wrong_type_are_named(tiny: Any, study: Callable[[Any, Any], Any],
                                                    sets: Any) -> None:
    with pytest.raises(TypeError, match=r"^sets must be a mapping \{PATH: VALUE\} or a list of "):
        study(tiny, sets)


@pytest.mark.parametrize("study", [
    lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], replications=1, jobs=1, progress=5),
    lambda sc: ps.sensitivity(sc, {"resources.dev.headcount": (2, 3)}, replications=1, jobs=1, progress=5),
])
def test_a_study_s_progress_that_is_no_function_is_named(tiny: Any, study: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match=r"^progress must be a function or None, not int \(5\)"):
        study(tiny)


def test_a_refusal_to_write_over_a_folder_names_resume_only_where_it_exists(tiny_results: Path,
                                                                            tmp_path: Path) -> None:
    res = ps.load_results(tiny_results)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ps.UsageError, match="^results folder .* already exists and is not empty; "
                                            "use --force to overwrite it, or another --out$"):
        res.save(other)
    two = tmp_path / "two.yaml"
    two.write_text(TINY + "policies:\n  a: {}\n  b: {resource_manager: {wip_limit: 1}}\n")
    code, output = invoke("roi", str(two), "--policy", "a", "--against", "b", "-n", "1", "-j", "1",
                          "--out", str(other))
    assert code == 2
    assert "already exists and is not empty; use --force to overwrite it" in output, output
    assert "--resume" not in output
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    code, output = invoke("run", str(tmp_path / "s.yaml"), "-n", "1", "-j", "1", "--out", str(other))
    assert code == 2 and "use --resume to continue the run in it, --force" in output, output


@pytest.mark.parametrize("call", [
    lambda table: ps.verdict(table, metric="npv"),
    lambda table: ps.summary(table, ["npv"]),
    lambda table: ps.compare(table, "default", ["npv"]),
    lambda table: ps.select_best(table, metric="npv"),
])
def test_a_metric_column_of_text_is_named_as_such(tiny_results: Path, call: Callable[[Any], Any]) -> None:
    table = ps.load_results(tiny_results).replications
    table = pd.concat([table, table.assign(policy="other")], ignore_index=True)
    table["npv"] = table["npv"].astype(str)
    with pytest.raises(ps.UsageError, match=r"^metric 'npv' is not a numeric column of the table \(its "):
        call(table)


def test_saving_a_partial_run_is_refused_with_the_command_that_finishes_it(tiny: Any, tmp_path: Path) -> None:
    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        ps.run_experiment(tiny, replications=6, jobs=1, chunk_size=2, out=out, command=f"pmo-sim run s.yaml "
                          f"-n 6 --out {out}", seams=Seams(stop_after_chunks=2))
    res = ps.load_results(out)
    assert len(res.replications) == 4
    with pytest.raises(ps.UsageError, match=r"^these results are of a partial run: .* finish the run first: "
                                            r"pmo-sim run s\.yaml -n 6 --out .*partial --resume$"):
        res.save(tmp_path / "saved")
    assert not (tmp_path / "saved").exists()
