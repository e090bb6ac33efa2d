"""Narrow reads of a results folder: a verdict on a few KPIs reads those columns, no more.

After a long run the command line prints its verdict from ``replications.parquet``; reading
the ~40 KPI columns of every replication would make the parent's memory grow with the run
(about 50 MB more at 30,000 replications of three policies). ``Results.with_kpis`` reads
``policy``, ``replication``, ``npv`` and the KPIs asked for; these tests hold it to the same
numbers as the whole table, and to reading only those columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.analysis.metrics import HEADLINE_METRICS
from pmo_sim.analysis.verdict import plain_verdict
from pmo_sim.cli import main
from pmo_sim.experiment import load_results, results, run_experiment, summary_file
from pmo_sim.experiment.store import ResultsFolder
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

METRICS = list(HEADLINE_METRICS)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(write_tiny(tmp_path_factory.mktemp("views")))


@pytest.fixture(scope="module")
def folder(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("views-run") / "r"
    run_experiment(scenario, replications=7, seed=5, jobs=1, out=out)
    return out


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str] | None]]:
    """Every table read from a results folder: (table, columns asked for; None: all)."""
    seen: list[tuple[str, list[str] | None]] = []
    original = results.read_checked

    def spy(path: Path, table: str, columns: Any = None, *rest: Any) -> Any:
        seen.append((table, None if columns is None else list(columns)))
        return original(path, table, columns, *rest)

    for module in (results, summary_file):  # (summary.csv's functions read in their own module)
        monkeypatch.setattr(module, "read_checked", spy)
    return seen


def test_a_verdict_view_reads_only_its_columns(folder: Path,
                                               reads: list[tuple[str, list[str] | None]]) -> None:
    res = load_results(folder)
    assert reads == [("replications", ["policy", "replication"])]  # the manifest check
    view = res.with_kpis(["on_time_rate", "total_cost"])
    got = view.replications
    assert list(got.columns) == ["policy", "replication", "npv", "on_time_rate", "total_cost"]
    assert reads[1:] == [("replications", list(got.columns))]
    pd.testing.assert_frame_equal(got, res.replications[list(got.columns)])
    assert reads[2:] == [("replications", None)]  # the results themselves stay whole


def test_the_view_gives_the_numbers_of_the_whole_table(folder: Path) -> None:
    res = load_results(folder)
    view = res.with_kpis(METRICS)
    pd.testing.assert_frame_equal(view.summary(METRICS), res.summary(METRICS))
    pd.testing.assert_frame_equal(view.compare(metrics=METRICS), res.compare(metrics=METRICS))
    for metric in ("npv", "on_time_rate", "mean_cycle_time"):
        assert (plain_verdict(view.replications, metric).as_dict()
                == plain_verdict(res.replications, metric).as_dict())
    pd.testing.assert_frame_equal(view.projects, res.projects)  # other tables shared as they are
    pd.testing.assert_frame_equal(res.keys(), res.replications[["policy", "replication"]])


def test_results_in_memory_and_unknown_metrics_stay_whole(folder: Path, scenario: Scenario) -> None:
    res = load_results(folder)
    assert res.with_kpis(["npv", "not_a_kpi"]) is res  # refused later, listing every KPI
    in_memory = run_experiment(scenario, replications=3, seed=5, jobs=1)
    assert in_memory.with_kpis(["npv"]) is in_memory


def test_compare_still_lists_every_kpi_for_an_unknown_metric(folder: Path) -> None:
    res = CliRunner().invoke(main, ["compare", str(folder), "--metric", "nope"])
    assert res.exit_code == 2
    assert "unknown metric 'nope'" in res.stderr
    assert "utilisation" in res.stderr and "total_cost" in res.stderr  # not only those asked for


def test_compare_prints_the_same_with_the_view(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    narrow = CliRunner().invoke(main, ["compare", str(folder), "--verbose"])
    monkeypatch.setattr(results.Results, "with_kpis", lambda self, metrics: self)
    whole = CliRunner().invoke(main, ["compare", str(folder), "--verbose"])
    assert narrow.exit_code == whole.exit_code == 0
    assert narrow.output == whole.output


def test_the_summary_text_is_summary_csv_read_a_few_kpis_at_a_time(
        folder: Path, scenario: Scenario, reads: list[tuple[str, list[str] | None]]) -> None:
    # What `pmo-sim run --format csv` prints: the summary of every KPI, from the file without
    # reading every column at once, byte for byte the DataFrame's to_csv and the run's file.
    res = load_results(folder)
    text = res.summary_text()
    assert all(columns is not None for _, columns in reads)
    assert text == res.summary().to_csv(index=False) == (folder / "summary.csv").read_text()
    in_memory = run_experiment(scenario, replications=3, seed=5, jobs=1)
    assert in_memory.summary_text() == in_memory.summary().to_csv(index=False)


def test_a_folders_summary_is_the_whole_tables_summary(
        folder: Path, reads: list[tuple[str, list[str] | None]]) -> None:
    # Every KPI's summary from a folder is computed a few KPIs at a time (as summary.csv is),
    # never reading every column at once; the numbers and dtypes are the whole table's.
    from pmo_sim.analysis.stats import summary

    res = load_results(folder)
    got = res.summary()
    assert reads and all(columns is not None for _, columns in reads)
    want = summary(res.replications)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    one_at_a_time = pd.DataFrame(results.summary_table(ResultsFolder.open(folder), cells=1),
                                 columns=list(got.columns))
    pd.testing.assert_frame_equal(one_at_a_time, want, check_exact=True)


def test_run_json_is_the_same_document_read_narrowly(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # `pmo-sim run --format json`: the summary of every KPI and the comparison of the headline
    # KPIs, read a few columns at a time, give the document of the whole table.
    import json

    from pmo_sim.analysis.stats import summary

    path = write_tiny(tmp_path)

    def run(out: str) -> dict[str, Any]:
        done = CliRunner().invoke(main, ["run", str(path), "-n", "6", "-j", "1", "--seed", "3",
                                         "--out", str(tmp_path / out), "--format", "json"])
        assert done.exit_code == 0, done.output
        document = json.loads(done.output)
        assert document.pop("results") == str(tmp_path / out)
        return document

    narrow = run("narrow")
    monkeypatch.setattr(results.Results, "with_kpis", lambda self, metrics: self)
    monkeypatch.setattr(results.Results, "summary",
                        lambda self, metrics=None: summary(self.replications, metrics))
    assert narrow == run("whole")
    assert len(narrow["summary"]) and narrow["compare"]["rows"]


def test_views_share_the_scenario_read_from_the_folder(folder: Path, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """scenario.yaml is read and checked once, whichever view asks first: a report read it
    twice (its view, then the pools table's check on the folder's own results)."""
    import pmo_sim.scenario.loader as loader
    from pmo_sim.analysis.report import render_report

    reads: list[object] = []
    real = loader.load_written_scenario
    monkeypatch.setattr(loader, "load_written_scenario", lambda *a, **k: reads.append(a) or real(*a, **k))
    res = load_results(folder)
    view = res.with_projects(["finish"])
    assert view.scenario is res.scenario is res.with_kpis(["npv"]).scenario
    assert len(reads) == 1
    render_report(load_results(folder))
    assert len(reads) == 2
