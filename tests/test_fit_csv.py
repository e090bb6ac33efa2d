"""Bad history CSVs: exit code 2, every problem at its line and column, never a traceback.

Lines are the file's (the header is line 1; blank lines and quoted fields spanning lines are
counted), columns the character where the offending field starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.io.history import MAX_LISTED, MAX_SKILLS, history_from_text

HEADER = "project,task,skill,estimate,actual,start,finish\n"
GOOD = "P1,spec,dev,4,5,2024-01-08,2024-01-12\n"

CASES = {
    "empty": ("", ["h.csv:1:1: the file is empty; expected a header line: "
                   "project,task,skill,estimate,actual,start,finish"]),
    "header_only": (HEADER, ["h.csv:2:1: no task rows after the header"]),
    "missing_columns": ("project,Task,skill,estimate,start\nP1,a,dev,1,2024-01-01\n", [
        "h.csv:1:1: task: missing column (found 'Task'; names are lower case); the header has: "
        "project, Task, skill, estimate, start",
        "h.csv:1:1: actual: missing column; the header has: project, Task, skill, estimate, start",
        "h.csv:1:1: finish: missing column; the header has: project, Task, skill, estimate, start"]),
    "duplicate_column": ("project,task,skill,estimate,actual,actual,start,finish\n",
                         ["h.csv:1:1: actual: column appears 2 times in the header"]),
    "non_numeric": (HEADER + GOOD + "P1,build,dev,four,5.5,2024-01-08,2024-01-12\n",
                    ["h.csv:3:14: estimate: is not a number (got 'four')"]),
    "zero_and_negative": (HEADER + GOOD + "P2,build,dev,-1,0,2024-01-08,2024-01-12\n", [
        "h.csv:3:14: estimate: must be greater than 0 (got '-1')",
        "h.csv:3:17: actual: must be greater than 0 (got '0')"]),
    # before: fitted, with overflow warnings on stderr, into "mean: 5.1e-320" (exit 0)
    "subnormal": (HEADER + GOOD + "P2,build,dev,1e-7,1e-320,2024-01-08,2024-01-12\n", [
        "h.csv:3:14: estimate: is less than 1e-06 person-days (not a task's record) (got '1e-7')",
        "h.csv:3:19: actual: is less than 1e-06 person-days (not a task's record) (got '1e-320')"]),
    "not_finite": (HEADER + "P1,a,dev,inf,nan,2024-01-08,2024-01-12\n", [
        "h.csv:2:10: estimate: is not a finite number (got 'inf')",
        "h.csv:2:14: actual: is not a number (got 'nan')"]),
    "bad_dates": (HEADER + GOOD + "P1,b,dev,1,2,2024-02-30,08/01/2024\n", [
        "h.csv:3:14: start: is not a date (YYYY-MM-DD) (got '2024-02-30')",
        "h.csv:3:25: finish: is not a date (YYYY-MM-DD) (got '08/01/2024')"]),
    "finish_before_start": (HEADER + GOOD + GOOD + "P1,c,dev,1,2,2024-01-10,2024-01-09 17:00\n",
                            ["h.csv:4:25: finish: is before start (got '2024-01-09 17:00')"]),
    "empty_cells": (HEADER + "P1,a, ,,2,2024-01-08,\n", [
        "h.csv:2:6: skill: is empty",
        "h.csv:2:8: estimate: is empty; expected a number of person-days",
        "h.csv:2:22: finish: is empty; expected a date (YYYY-MM-DD)"]),
    "too_many_fields": (HEADER + GOOD + "P1,a,dev,1,2,2024-01-08,2024-01-09,x\n",
                        ["h.csv:3:36: 8 fields, but the header has 7"]),
    "unclosed_quote": (HEADER + GOOD + 'P1,"a,dev,1,2,2024-01-08,2024-01-09\n',
                       ["h.csv:3:1: cannot be read as CSV: a quoted field is not closed"]),
    # Blank lines and a quoted field over two lines still give the file's own line numbers;
    # a leading blank line moves the header; extra columns may come first.
    "lines_are_the_files": ("\nnote," + HEADER + "x," + GOOD + "\n"
                            + 'x,P2,"two\nlines",dev,1,2,2024-01-08,2024-01-09\n\n'
                            + "x,P3,c,dev,1,-2,2024-01-08,2024-01-09\n",
                            ["h.csv:8:14: actual: must be greater than 0 (got '-2')"]),
}


def _run(tmp_path: Path, content: bytes | str) -> tuple[int, list[str], str]:
    path = tmp_path / "h.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = CliRunner().invoke(main, ["fit", "h.csv", "--out", str(tmp_path / "out.yaml")],
                                catch_exceptions=False)
    lines = result.output.splitlines()
    return result.exit_code, lines, result.output


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_bad_csv_gives_exit_2_and_located_problems(name: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    content, expected = CASES[name]
    code, lines, output = _run(tmp_path, content)
    assert code == 2, output
    assert "Traceback" not in output
    assert lines == [*expected, f"{len(expected)} problem{'s' if len(expected) > 1 else ''} found."]
    assert not (tmp_path / "out.yaml").exists()


def test_files_that_are_not_text_or_not_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines, _ = _run(tmp_path, (HEADER + "P1,caf\xe9,dev,1,2,2024-01-08,2024-01-09\n").encode("latin-1"))
    assert code == 2 and lines[0] == ("h.csv:2:1: the file is not UTF-8 text (byte 0xe9 cannot be "
                                      "decoded); save it as UTF-8")
    result = CliRunner().invoke(main, ["fit", "missing.csv", "--out", "o.yaml"])
    assert result.exit_code == 2 and result.output.splitlines()[0] == "missing.csv: file not found"


def test_a_long_list_is_capped_with_the_count_of_the_rest(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"P{i},t,dev,1,-{i},2024-01-08,2024-01-09\n" for i in range(1, 31))
    code, lines, _ = _run(tmp_path, HEADER + rows)
    assert code == 2
    assert len(lines) == MAX_LISTED + 2
    assert lines[0] == "h.csv:2:12: actual: must be greater than 0 (got '-1')"
    assert lines[MAX_LISTED - 1].startswith(f"h.csv:{MAX_LISTED + 1}:")
    assert lines[-2:] == [f"... and {30 - MAX_LISTED} more not shown", "30 problems found."]


def test_a_valid_history_is_typed_and_keeps_its_lines() -> None:
    text = HEADER.replace("finish", "finish,team") + "\n" + "P1,a,dev,2.5,3,2024-01-08T09:30,2024-01-09,x\n"
    history = history_from_text(text, "h.csv")
    row = history.tasks.iloc[0]
    assert (row["project"], row["skill"], row["estimate"], row["actual"], row["line"]) == \
        ("P1", "dev", 2.5, 3.0, 3)
    assert str(row["start"].date()) == "2024-01-08"
    assert list(history.tasks.columns) == ["project", "task", "skill", "estimate", "actual", "start",
                                           "finish", "line"]
    assert len(history.tasks) == 1  # the blank line is skipped


def test_more_skills_than_can_be_fitted_is_taken_for_a_wrong_column(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"P{i},t,skill-{i},1,2,2024-01-08,2024-01-09\n" for i in range(MAX_SKILLS + 1))
    code, lines, _ = _run(tmp_path, HEADER + rows)
    assert code == 2
    assert lines[0] == (f"h.csv:1:1: skill: {MAX_SKILLS + 1} distinct skills; at most {MAX_SKILLS} can "
                        "be fitted (is this the skill column?)")


def test_line_breaks_of_a_lone_carriage_return_end_lines() -> None:
    # Excel for Mac's "CSV (Macintosh)": before, refused with the csv module's "new-line
    # character seen in unquoted field - do you need to open the file in universal-newline mode?"
    header = "project,task,skill,estimate,actual,start,finish"
    rows = [header, "A,t,dev,5,6,2024-01-01,2024-01-05", "B,t,dev,3,4,2024-01-02,2024-01-04"]
    for newline in ("\r", "\r\n"):
        tasks = history_from_text(newline.join(rows) + newline, "mac.csv").tasks
        assert tasks["project"].tolist() == ["A", "B"] and tasks["line"].tolist() == [2, 3]
    with pytest.raises(ScenarioError, match=r"^mac\.csv:3:9: estimate: is not a number"):
        history_from_text("\r".join([*rows[:2], "B,t,dev,x,4,2024-01-02,2024-01-04"]), "mac.csv")
