"""``pmo-sim export``: the Excel workbook (read back with pandas and openpyxl) and the EMA tables."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from test_experiment import TINY_YAML

from pmo_sim.analysis.risks import DRIVER_COLUMNS
from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment import Results, load_results, run_experiment
from pmo_sim.io.excel import sheet_name, write_workbook
from pmo_sim.scenario.loader import load_scenario, load_scenario_text
from pmo_sim.schema import KPI_COLUMNS, PROJECTS

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The tiny scenario in US dollars, 5 replications, as a results folder on disk."""
    text = TINY_YAML.replace("discount_rate: 0.08", "discount_rate: 0.08\ncurrency: USD")
    scenario = load_scenario_text(text)
    folder = tmp_path_factory.mktemp("res") / "run"
    run_experiment(scenario, replications=5, seed=1, jobs=1, out=folder)
    return load_results(folder)


@pytest.fixture(scope="module")
def workbook(results: Results, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "run.xlsx"
    result = invoke("export", str(results.path), "--xlsx", str(path))
    assert result.exit_code == 0, result.output
    assert str(path) in result.output
    return path


def _header_row(ws: openpyxl.worksheet.worksheet.Worksheet, first: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == first)


def test_sheets_and_summary_match_the_results(workbook: Path, results: Results) -> None:
    sheets = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["summary", "comparison", "forecast", "kpis-base", "kpis-focused", "projects",
                            "about"]
    summary = sheets["summary"]
    assert list(summary.columns) == ["policy", "metric", "KPI (unit)", "mean", "sd", "ci_low", "ci_high",
                                     "p10", "p50", "p90", "n"]
    expected = results.summary()
    pd.testing.assert_series_equal(summary["mean"], expected["mean"], check_names=False)
    pd.testing.assert_series_equal(summary["ci_high"], expected["ci_high"], check_names=False)
    npv = summary[(summary["policy"] == "focused") & (summary["metric"] == "npv")].iloc[0]
    assert npv["KPI (unit)"] == "NPV (USD)"


def test_kpi_and_project_sheets_hold_the_tables_with_units_in_headers(workbook: Path,
                                                                      results: Results) -> None:
    kpis = pd.read_excel(workbook, sheet_name="kpis-focused", engine="openpyxl")
    assert list(kpis.columns[:2]) == ["replication", "projects_arrived"]
    assert "npv (USD)" in kpis.columns and "on_time_rate (%)" in kpis.columns
    assert "mean_cycle_time (days)" in kpis.columns and len(kpis.columns) == 1 + len(KPI_COLUMNS)
    focused = results.replications[results.replications["policy"] == "focused"]
    assert kpis["npv (USD)"].tolist() == pytest.approx(focused["npv"].tolist())
    projects = pd.read_excel(workbook, sheet_name="projects", engine="openpyxl")
    assert len(projects) == len(results.projects)
    assert [c.split(" (")[0] for c in projects.columns] == list(PROJECTS.column_names)
    assert "cost (USD)" in projects.columns and "finish (day)" in projects.columns


def test_comparison_has_the_verdict_above_the_paired_differences(workbook: Path, results: Results) -> None:
    ws = openpyxl.load_workbook(workbook)["comparison"]
    assert ws["A1"].value == "Verdict"
    assert "vs 'base'" in ws["A2"].value
    header = _header_row(ws, "policy")
    assert ws.freeze_panes == f"E{header + 1}"
    table = pd.read_excel(workbook, sheet_name="comparison", header=header - 1, engine="openpyxl")
    assert set(table["metric"]) == set(KPI_COLUMNS)
    npv = table[table["metric"] == "npv"].iloc[0]
    expected = results.compare(baseline="base", metric="npv").iloc[0]
    assert npv["diff_mean"] == pytest.approx(expected["diff_mean"])
    assert npv["better"] in {"better", "worse", "-"}


def test_number_formats_frozen_headers_and_widths(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    summary = book["summary"]
    assert summary.freeze_panes == "D2"
    formats = {row[1].value: row[3].number_format for row in summary.iter_rows(min_row=2)
               if row[0].value == "base"}
    assert formats["npv"] == '#,##0 "USD"'
    assert formats["on_time_rate"] == "0.0%"
    assert formats["mean_cycle_time"] == "0.0"
    kpis = book["kpis-base"]
    assert kpis.freeze_panes == "B2"
    headers = [c.value for c in kpis[1]]
    row = {h: c.number_format for h, c in zip(headers, kpis[2], strict=True)}
    assert row["npv (USD)"] == '#,##0 "USD"' and row["projects_completed"] == "#,##0"
    assert kpis.column_dimensions["A"].width >= 8 and kpis[1][0].font.bold


def test_existing_file_is_refused_without_force(workbook: Path, results: Results) -> None:
    result = invoke("export", str(results.path), "--xlsx", str(workbook))
    assert result.exit_code == 2 and "already exists; use --force" in result.output
    assert invoke("export", str(results.path), "--xlsx", str(workbook), "--force").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--xlsx", "out.csv"], "must be an .xlsx file"),
    ([], "give --xlsx FILE, --ema DIR, or both"),
    (["--xlsx", "x.xlsx", "--baseline", "nope"], "unknown baseline policy 'nope'"),
])
def test_bad_options_are_exit_2(results: Results, tmp_path: Path, args: list[str], message: str) -> None:
    moved = [str(tmp_path / a) if a.endswith((".csv", ".xlsx")) else a for a in args]
    result = invoke("export", str(results.path), *moved)
    assert result.exit_code == 2 and message in result.output
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_not_a_results_folder_is_exit_2(tmp_path: Path) -> None:
    result = invoke("export", str(tmp_path / "nothing"), "--xlsx", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2 and "not a results folder" in result.output


class _ForecastFails(Results):
    def forecast(self) -> pd.DataFrame:   # as when the folder's scenario no longer loads
        raise UsageError("no scenario to forecast with")


def test_forecast_sheet_unless_the_forecast_fails(results: Results, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_workbook(results, tmp_path / "plain.xlsx"))
    assert book.sheetnames[:3] == ["summary", "comparison", "forecast"]
    sheet = pd.read_excel(tmp_path / "plain.xlsx", sheet_name="forecast")
    assert sheet["name"].tolist() == results.forecast()["name"].tolist()
    failing = _ForecastFails(results.replications, results.projects, results.pools, results.manifest,
                             results.scenario, results.path)
    book = openpyxl.load_workbook(write_workbook(failing, tmp_path / "failing.xlsx"))
    assert "forecast" not in book.sheetnames


def test_forecast_sheet_has_number_formats(workbook: Path) -> None:
    ws = openpyxl.load_workbook(workbook)["forecast"]
    assert ws.freeze_panes == "D2"
    formats = {h.value: c.number_format for h, c in zip(ws[1], ws[2], strict=True)}
    assert formats["p80"] == formats["due"] == "0.0"
    assert formats["p_on_time"] == formats["p_unfinished"] == "0.0%"
    assert formats["n"] == "#,##0" and formats["name"] == "General"


@pytest.fixture(scope="module")
def risky(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The bundled strategy scenario (a four-risk register, one mitigating policy), 4 replications."""
    scenario = load_scenario(ROOT / "scenarios" / "strategy.yaml", None)
    folder = tmp_path_factory.mktemp("res") / "strategy"
    run_experiment(scenario, replications=4, seed=0, jobs=1, out=folder)
    return load_results(folder)


def test_risks_sheet_is_the_risk_driver_ranking(risky: Results, tmp_path: Path) -> None:
    path = write_workbook(risky, tmp_path / "strategy.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:4] == ["summary", "comparison", "forecast", "risks"]
    sheet = pd.read_excel(path, sheet_name="risks")
    expected = risky.risk_drivers()
    assert list(sheet.columns) == list(DRIVER_COLUMNS)
    pd.testing.assert_frame_equal(sheet, expected, check_dtype=False, check_exact=False, rtol=1e-12)
    ws = book["risks"]
    assert ws.freeze_panes == "D2"
    formats = {h.value: c.number_format for h, c in zip(ws[1], ws[2], strict=True)}
    assert formats["value_lost_ci_low"] == formats["loss"] == '#,##0 "EUR"'
    assert formats["delay"] == "0.0" and formats["effort_added"] == "#,##0.0"
    assert formats["rank"] == "#,##0" and formats["strikes"] == "#,##0.0"


def test_large_project_tables_are_capped_with_a_note(results: Results, tmp_path: Path) -> None:
    path = write_workbook(results, tmp_path / "capped.xlsx", project_rows=25)
    projects = pd.read_excel(path, sheet_name="projects")
    # 20 rows per replication (10 projects x 2 policies): whole replications, here only the first
    assert set(projects["replication"]) == {0}
    assert len(projects) == (results.projects["replication"] == 0).sum()
    book = openpyxl.load_workbook(path)
    assert "the first" in book["projects"]["A1"].comment.text
    notes = [r[1].value for r in book["about"].iter_rows() if r[0].value == "note"]
    assert any("projects.parquet" in n for n in notes)


def test_sheet_names_follow_excel_rules() -> None:
    assert sheet_name("kpis-a/b:c") == "kpis-a_b_c"
    long = "kpis-" + "x" * 40
    first = sheet_name(long)
    assert len(first) == 31 and sheet_name(long, [first]) == first[:29] + "~2"


# --------------------------------------------------------------------------- EMA Workbench


def test_ema_experiments_and_outcomes_line_up(results: Results, tmp_path: Path) -> None:
    out = tmp_path / "ema"
    result = invoke("export", str(results.path), "--ema", str(out))
    assert result.exit_code == 0, result.output
    experiments = pd.read_csv(out / "experiments.csv")
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(experiments) == len(outcomes) == len(results.replications)
    # the levers that differ (base: fifo, no limit; focused: wsjf, WIP 2), then EMA's own columns
    assert list(experiments.columns) == ["resource_manager.allocation", "resource_manager.wip_limit",
                                         "scenario", "policy", "model"]
    focused = experiments[experiments["policy"] == "focused"]
    assert set(focused["resource_manager.allocation"]) == {"wsjf"}
    assert set(focused["resource_manager.wip_limit"]) == {2}
    assert experiments["scenario"].tolist() == results.replications["replication"].tolist()
    assert (experiments["model"] == "tiny").all()
    assert list(outcomes.columns) == list(KPI_COLUMNS)
    assert outcomes["npv"].tolist() == pytest.approx(results.replications["npv"].tolist())
    again = invoke("export", str(results.path), "--ema", str(out))
    assert again.exit_code == 2 and "use --force" in again.output


def test_names_starting_with_an_equals_sign_are_text_not_formulas(tmp_path: Path) -> None:
    # Names come from scenario files that travel: before, openpyxl wrote a policy or project
    # named '=HYPERLINK(...)' (or a DDE call) as a formula, which ran when the workbook opened.
    text = """name: "=1+1"
description: "=cmd|' /C calc'!A0"
horizon: 100
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: "=HYPERLINK(\\"http://x\\")", value_per_day: 10, tasks: [{name: a, skill: dev, effort: 5}]}
policies:
  "=2*3": {}
  plain: {}
"""
    sc = load_scenario_text(text, "eq.yaml")
    res = run_experiment(sc, replications=2, jobs=1, out=tmp_path / "r")
    path = write_workbook(res, tmp_path / "eq.xlsx")
    book = openpyxl.load_workbook(path)
    cells = [c for ws in book for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")]
    assert {c.value for c in cells} >= {"=2*3", '=HYPERLINK("http://x")'}
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type != "s"]
    assert formulas == []
