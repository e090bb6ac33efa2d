"""Edits to a results folder that used to be read as if pmo-sim had written them: each is
refused with a message naming the file, the field and what was given (exit 2, no traceback),
and nothing in the folder is changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_experiment import TINY_YAML, write_tiny
from test_hostile_results import SEED, N, _sandbox, _snapshot, pristine
from test_optional_tables import BOARD_YAML

from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment import load_results, run_experiment
from pmo_sim.scenario.loader import load_scenario

__all__ = ["pristine"]  # the fixture, shared with test_hostile_results


def _refused(args: list[str], folder: Path) -> str:
    before = _snapshot(folder)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert _snapshot(folder) == before
    return result.output


# --------------------------------------------------------------------------- manifest.json


@pytest.mark.parametrize("which, edit, expected", [
    # a second "seed" before pmo-sim's own: the last one was taken, silently
    ("complete", ('  "seed": ', '  "seed": 99,\n  "seed": '),
     f"the key 'seed' is given more than once in one object (got 99, then {SEED})"),
    ("partial", ('"rows":', '"rows":0,"rows":'),
     "the key 'rows' is given more than once in one object (got 0, then "),
])
def test_a_key_given_twice_in_the_manifest_is_refused(tmp_path: Path, pristine: dict[str, Path],
                                                      which: str, edit: tuple[str, str],
                                                      expected: str) -> None:
    folder, _ = _sandbox(tmp_path, pristine, which)
    manifest = folder / "manifest.json"
    text = manifest.read_text()
    assert edit[0] in text
    manifest.write_text(text.replace(edit[0], edit[1], 1))
    for args in (["compare", str(folder)], ["report", str(folder)],
                 ["run", str(pristine["scenario"]), "-n", str(N), "--seed", str(SEED), "-j", "1",
                  "--out", str(folder), "--resume", "--quiet"]):
        output = _refused(args, folder)
        assert output.startswith(f"error: {manifest}: {expected}"), output
        assert output.endswith("; pmo-sim writes each key once: the manifest was edited\n"), output


# --------------------------------------------------------------------------- the tables


def _edit_table(folder: Path, name: str, keep: Callable[[pa.Table], pa.Array] | None) -> None:
    path = folder / f"{name}.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(0, 0) if keep is None else table.filter(keep(table)), path)


@pytest.mark.parametrize("name, keep, expected", [
    # before: read as a run without projects ("these results hold no projects")
    ("projects", None, "projects.parquet does not match the run: it has no rows, but "),
    ("projects", lambda t: pc.not_equal(t["replication"], 2),
     "projects.parquet does not match the run: policy 'base', replication 2 has 0 counted "
     "projects, but "),
    ("pools", lambda t: pc.not_equal(t["policy"], "focused"),
     "pools.parquet does not match the manifest: policy 'focused', replication 0 has 0 rows, "
     "the others 2 (one per pool), and 5 more replications differ"),
    ("pools", None, "pools.parquet does not match the manifest: it has no rows, but every "
                    "replication has one per pool; the table was emptied"),
])
def test_a_consolidated_table_missing_replications_is_refused(
        tmp_path: Path, pristine: dict[str, Path], name: str,
        keep: Callable[[pa.Table], pa.Array] | None, expected: str) -> None:
    folder, _ = _sandbox(tmp_path, pristine, "complete")
    _edit_table(folder, name, keep)
    commands = [["report", str(folder)], ["forecast", str(folder)]] if name == "projects" else [
        ["report", str(folder)]]
    for args in commands:
        output = _refused(args, folder)
        assert output.startswith(f"error: {folder}/{expected}"), output
        assert output.count("\n") == 1, output


@pytest.mark.parametrize("keep, expected", [
    # before: every replication one row short alike, read as a run of one pool
    (lambda t: pc.not_equal(t["pool"], "ana"),
     "it has no rows of pool 'ana', though {scenario} lists it in resources; the table was "
     "edited"),
    # the same number of rows everywhere, one pool twice in one replication
    (lambda t: pc.invert(pc.and_(pc.equal(t["pool"], "ana"),
                                 pc.and_(pc.equal(t["policy"], "base"),
                                         pc.equal(t["replication"], 1)))),
     None),
])
def test_a_pools_table_missing_a_pool_of_the_scenario_is_refused(
        tmp_path: Path, pristine: dict[str, Path], keep: Callable[[pa.Table], pa.Array],
        expected: str | None) -> None:
    folder, _ = _sandbox(tmp_path, pristine, "complete")
    path = folder / "pools.parquet"
    table = pq.read_table(path)
    kept = table.filter(keep(table))
    if expected is None:  # put a second 'dev' row where 'ana' was
        kept = pa.concat_tables([kept, kept.filter(pc.and_(
            pc.equal(kept["pool"], "dev"), pc.and_(pc.equal(kept["policy"], "base"),
                                                   pc.equal(kept["replication"], 1))))])
        expected = ("policy 'base', replication 1 has 2 rows of pool 'dev', expected one (one "
                    "per pool of resources in {scenario})")
    pq.write_table(kept, path)
    output = _refused(["report", str(folder)], folder)
    assert output == (f"error: {path} does not match the run: "
                      f"{expected.format(scenario=folder / 'scenario.yaml')}\n")
    with pytest.raises(UsageError, match="does not match the run"):
        load_results(folder).pools  # noqa: B018 (read on first use)
    assert len(load_results(pristine["complete"]).pools) == len(table)


def test_a_pools_table_naming_another_pool_is_refused(tmp_path: Path,
                                                     pristine: dict[str, Path]) -> None:
    folder, _ = _sandbox(tmp_path, pristine, "complete")
    path = folder / "pools.parquet"
    table = pq.read_table(path)
    renamed = pc.if_else(pc.equal(table["pool"], "ana"), "ANA", table["pool"])
    pq.write_table(table.set_column(table.schema.get_field_index("pool"), "pool", renamed), path)
    output = _refused(["report", str(folder)], folder)
    assert output == (f"error: {path} does not match the run: it has rows of pool 'ANA', which "
                      f"{folder / 'scenario.yaml'} does not list in resources ('dev', 'ana'); "
                      f"the table was edited\n")


def test_a_goals_table_missing_a_goal_of_the_scenario_is_refused(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path, BOARD_YAML)
    out = tmp_path / "board"
    run_experiment(load_scenario(scenario), replications=3, seed=SEED, jobs=1, out=out)
    path = out / "goals.parquet"
    table = pq.read_table(path)
    assert len(load_results(out).goals) == len(table)
    pq.write_table(table.filter(pc.not_equal(table["goal"], "trust")), path)
    with pytest.raises(UsageError) as caught:
        load_results(out).goals  # noqa: B018
    assert str(caught.value) == (f"{path} does not match the run: it has no rows of goal "
                                 f"'trust', though {out / 'scenario.yaml'} lists it in "
                                 f"strategy.goals; the table was edited")


def test_replications_without_projects_are_read(tmp_path: Path) -> None:
    # a replication where no project arrives has no projects rows: that is not an edit
    scenario = write_tiny(tmp_path, TINY_YAML.replace("mean: 12}", "mean: 400}"))
    out = tmp_path / "few"
    res = run_experiment(load_scenario(scenario), replications=6, seed=SEED, jobs=1, out=out)
    assert (res.replications["projects_arrived"] == 0).any()
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- KPIs without numbers


@pytest.mark.parametrize("rows", ["all", "one"])
def test_a_kpi_a_run_always_fills_holding_nan_is_refused(tmp_path: Path, pristine: dict[str, Path],
                                                          rows: str) -> None:
    # before: an npv of NaN in every row made compare ask for more replications (exit 0)
    folder, _ = _sandbox(tmp_path, pristine, "complete")
    path = folder / "replications.parquet"
    table = pq.read_table(path)
    npv = table["npv"].to_numpy().copy()
    npv[slice(None) if rows == "all" else slice(0, 1)] = float("nan")
    pq.write_table(table.set_column(table.schema.get_field_index("npv"), "npv", pa.array(npv)), path)
    bad = len(npv) if rows == "all" else 1
    for args in (["compare", str(folder)], ["compare", str(folder), "--format", "json"],
                 ["report", str(folder)]):
        output = _refused(args, folder)
        assert output == (f"error: {path}: column npv holds no number (NaN or empty) in {bad} of "
                          f"{len(npv)} rows; pmo-sim always writes a number there: the table was "
                          f"edited\n")


def test_a_kpi_a_run_leaves_nan_says_it_has_no_values(tmp_path: Path) -> None:
    # no project has a due date: on_time_rate is NaN in every replication, legitimately
    scenario = write_tiny(tmp_path, TINY_YAML.replace("      due: 40\n", ""))
    out = tmp_path / "no-due"
    run_experiment(load_scenario(scenario), replications=4, seed=SEED, jobs=1, out=out)
    result = CliRunner().invoke(main, ["compare", str(out), "--metric", "on_time_rate"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "No answer on On-time rate\n" in result.output
    assert ("No replication of 'base' and 'focused' has a value of on_time_rate (no completed "
            "project had a due date in any of them): more replications would not change that; "
            "compare on another metric.") in result.output
    assert "run more replications" not in result.output
