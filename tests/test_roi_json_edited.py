"""An edited ``roi.json`` is refused as an edited manifest is: a key given twice (before,
its last value was taken silently), JSON nested deeper than Python's parser goes (before, a
traceback: RecursionError) and a file far larger than pmo-sim writes (before, read whole).
Round 8: a question whose fields are of the wrong type or out of range (before, a traceback
from the arithmetic), or whose scenario facts differ from the results' scenario (a horizon of
1e308: an array of as many days, exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main

SCENARIOS = Path(__file__).parents[1] / "scenarios"


@pytest.fixture(scope="module")
def roi_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("roi")
    out = base / "roi"
    result = CliRunner().invoke(main, ["roi", str(SCENARIOS / "training.yaml"), "--policy",
                                       "upskill", "--programme", "dev-course", "-n", "2", "-j",
                                       "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _report(folder: Path, tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "r.html"),
                                       "--force"])
    return result.exit_code, result.output


def test_a_key_given_twice_is_refused(roi_folder: Path, tmp_path: Path) -> None:
    path = roi_folder / "roi.json"
    original = path.read_text()
    assert _report(roi_folder, tmp_path)[0] == 0
    try:
        at = original.index('"question": {') + len('"question": {')
        path.write_text(original[:at] + '"policy": "no_training", ' + original[at:])
        code, output = _report(roi_folder, tmp_path)
        assert code == 2
        assert output == (f"error: {path}: the key 'policy' is given more than once in one "
                          f"object (got 'no_training', then 'upskill'); pmo-sim writes each key once: "
                          f"the file was edited\n")
        path.write_text("[" * 100_000 + "]" * 100_000)
        assert _report(roi_folder, tmp_path) == (
            2, f"error: {path} is not a readable ROI record: nested deeper than pmo-sim writes\n")
        path.write_text(original + " " * 2**20)
        assert _report(roi_folder, tmp_path) == (
            2, f"error: {path} is not a readable ROI record: larger than 1 MiB\n")
    finally:
        path.write_text(original)


@pytest.mark.parametrize(("edit", "says"), [
    # before: a traceback (exit 1) from the ROI arithmetic for each of these
    ({"horizon": float("nan")}, "question.horizon: must be a finite number (got nan)"),
    ({"horizon": -5}, "question.horizon: must be greater than 0 (got -5)"),
    ({"invest_day": "50"}, "question.invest_day: must be a number (got '50')"),
    ({"day_rates": [1]}, "question.day_rates: must map pool names to numbers (got [1])"),
    ({"day_rates": {"developers": "x"}}, "question.day_rates: must map pool names to numbers"),
    ({"policy": ["upskill"]}, "question.policy: must be text (got ['upskill'])"),
    ({"days_per_year": 0}, "question.days_per_year: must be greater than 0 (got 0)"),
    ({"horizon": True}, "question.horizon: must be a number (got True)"),
    # before: a horizon past the scenario's made an array of 1e308 days (exit 1, "Maximum
    # allowed size exceeded"); other facts that differ gave another scenario's answer
    ({"horizon": 1e308}, "question.horizon is 1e+308, but the scenario's is 750"),
    ({"warmup": 100}, "question.warmup is 100, but the scenario's is 0"),
    ({"currency": "USD"}, "question.currency is 'USD', but the scenario's is 'EUR'"),
    ({"day_rates": {"developers": 1.0, "testers": 500.0}},
     "question.day_rates is {'developers': 1.0, 'testers': 500.0}, but the scenario's is"),
])
def test_a_question_edited_out_of_its_types_or_its_scenario_is_refused(
        roi_folder: Path, tmp_path: Path, edit: dict, says: str) -> None:
    import json

    path = roi_folder / "roi.json"
    original = path.read_text()
    try:
        document = json.loads(original)
        document["question"].update(edit)
        path.write_text(json.dumps(document))
        code, output = _report(roi_folder, tmp_path)
        assert code == 2, output
        assert output.startswith(f"error: {path}")
        assert says in output
        assert "Traceback" not in output
    finally:
        path.write_text(original)


def test_an_output_over_roi_json_is_refused_even_with_force(roi_folder: Path) -> None:
    # before: `report R --out R/roi.json --force` replaced roi's answer with the report, and
    # the next report of R said the record was unreadable
    path = roi_folder / "roi.json"
    original = path.read_bytes()
    result = CliRunner().invoke(main, ["report", str(roi_folder), "--out", str(path), "--force"])
    assert result.exit_code == 2, result.output
    assert f"is the results folder {roi_folder}'s own roi.json" in result.output
    assert path.read_bytes() == original
    # roi itself rewrites it: a second roi run into the folder with --force
    result = CliRunner().invoke(main, ["roi", str(SCENARIOS / "training.yaml"), "--policy", "upskill",
                                       "--programme", "dev-course", "-n", "2", "-j", "1", "--out",
                                       str(roi_folder), "--force"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == original  # the same runs, the same answer
