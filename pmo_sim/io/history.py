"""Reading a task history: the CSV that ``pmo-sim fit`` calibrates a scenario from (SPEC 10.7).

A history has one row per finished task and the columns

    project, task, skill, estimate, actual, start, finish

(``estimate`` and ``actual`` in person-days; ``start`` and ``finish`` as ``YYYY-MM-DD``, a
time after the date — ``2024-03-05 14:00`` or ``2024-03-05T14:00`` — is accepted and
ignored, since work is counted in days). Other columns are ignored; so is ``task``, which
only has to be present. Blank lines are skipped.

Every row is checked before anything is fitted, and *every* problem is reported at once as
a :class:`~pmo_sim.errors.ScenarioError` (exit code 2), each one located
``FILE:LINE:COL: column: what is wrong (got VALUE)``: LINE is the line of the file (the header
is line 1; a quoted field spanning lines counts every line), COL the character column where
the field starts. A long list is capped at :data:`MAX_LISTED` problems, with the count of the
rest. Checked: the file can be read as UTF-8 and is not empty; the header has every required
column, once; a row has no more fields than the header; ``project`` and ``skill`` are not
empty; ``estimate`` and ``actual`` are finite numbers from :data:`MIN_PERSON_DAYS` to
:data:`MAX_PERSON_DAYS`; ``start`` and ``finish``
are dates and ``finish`` is not before ``start``; there are at most :data:`MAX_HISTORY_ROWS`
rows and :data:`MAX_SKILLS` skills.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.errors import Problem, ScenarioError
from pmo_sim.files import FileRefused, read_bounded
from pmo_sim.scenario.names import name_problem

#: The largest estimate or actual effort a history may record (a task of a million
#: person-days is no task; beyond, a fit's sums and a figure's bins overflow).
MAX_PERSON_DAYS = 1e6
#: The smallest (a millionth of a person-day is a tenth of a second's work; below, near 1e-308,
#: a fit divided by such values overflowed: warnings on stderr and a fragment of 1e-320 days).
MIN_PERSON_DAYS = 1e-6
#: A history larger than this is refused before it is parsed (about a million tasks at ~60
#: bytes a row).
MAX_HISTORY_BYTES = 64 * 2**20
#: Task rows a history may have: a skill no family fits is written as an empirical
#: distribution of all its values, which a scenario must still be able to read (at most
#: 1,000,000 values and 8 MiB); 100,000 rows fit in about 15 s. Before, 1.4 million rows of
#: 64 MiB ran for minutes and wrote a fragment no scenario could load.
MAX_HISTORY_ROWS = 100_000

REQUIRED_COLUMNS = ("project", "task", "skill", "estimate", "actual", "start", "finish")
MAX_LISTED = 20
"""Problems listed at most; the rest are counted."""
MAX_SKILLS = 100
"""More distinct skills than this is taken for a wrong column, not fitted one by one."""

_DATE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})(?:[T ]\d{1,2}:\d{2}\S*)?\s*$")


@dataclass(frozen=True)
class History:
    """A validated history: one row per task, typed, with the CSV line of each row.

    ``tasks`` has the columns project, task, skill (str), estimate, actual (float), start,
    finish (datetime64, the day) and line (int).
    """

    source: str
    tasks: pd.DataFrame


def read_history(path: str | os.PathLike[str]) -> History:
    """Read and validate a history CSV; raises :class:`ScenarioError` with every problem."""
    name = os.fspath(path)
    try:
        data = read_bounded(name, MAX_HISTORY_BYTES)
    except FileRefused as exc:
        raise ScenarioError([Problem(f"{exc}: not a history CSV pmo-sim reads", file=name)]) from None
    except FileNotFoundError:
        raise ScenarioError([Problem("file not found", file=name)]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("is a directory, not a CSV file", file=name)]) from None
    except OSError as exc:
        raise ScenarioError([Problem(f"cannot read the file: {exc.strerror}", file=name)]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded); save it "
            "as UTF-8", file=name, line=line, column=1)]) from None
    return history_from_text(text, name)


def history_from_text(text: str, name: str = "<string>") -> History:
    """Like :func:`read_history`, for CSV text already in memory."""
    # Line breaks as universal newlines read them: a lone CR ends a line too (Excel for Mac's
    # "CSV (Macintosh)"; before, refused with the csv module's "new-line character seen in
    # unquoted field - do you need to open the file in universal-newline mode?").
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.lstrip("\r\n\t ")
    offset = text[: len(text) - len(body)].count("\n")  # blank lines before the header
    if not body:
        raise ScenarioError([Problem(
            f"the file is empty; expected a header line: {','.join(REQUIRED_COLUMNS)}",
            file=name, line=1, column=1)])
    header = _structure(body, name, offset)
    names = [h.strip() for h in header]
    _check_header(names, name, offset + 1)
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False,
                            skip_blank_lines=False, index_col=False)
    except (pd.errors.ParserError, ValueError) as exc:  # the csv pre-pass makes this unlikely
        raise ScenarioError([Problem(f"cannot be read as CSV: {str(exc).strip()}", file=name)]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    first = offset + 1 + sum(h.count("\n") for h in header) + 1
    lines = _line_numbers(frame, first)
    blank = (frame.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    frame, lines = frame.loc[~blank, list(REQUIRED_COLUMNS)].reset_index(drop=True), lines[~blank]
    if frame.empty:
        raise ScenarioError([Problem("no task rows after the header", file=name, line=first, column=1)])
    tasks, found = _typed(frame, lines, {c: names.index(c) for c in REQUIRED_COLUMNS})
    if found:
        raw = text.split("\n")
        found.sort(key=lambda f: (f[0], f[1]))
        raise ScenarioError([_locate(f, raw, name) for f in found[:MAX_LISTED]],
                            more=max(0, len(found) - MAX_LISTED))
    skills = tasks["skill"].nunique()
    if skills > MAX_SKILLS:
        raise ScenarioError([Problem(
            f"{skills} distinct skills; at most {MAX_SKILLS} can be fitted (is this the skill column?)",
            path="skill", file=name, line=offset + 1, column=1)])
    return History(name, tasks)


# --------------------------------------------------------------------------- header and parser


def _check_header(header: list[str], name: str, line: int) -> None:
    problems = []
    for column in REQUIRED_COLUMNS:
        count = header.count(column)
        if count == 0:
            near = [h for h in header if h.lower() == column]
            hint = f" (found {near[0]!r}; names are lower case)" if near else ""
            problems.append(Problem(f"missing column{hint}; the header has: {', '.join(header)}",
                                    path=column, file=name, line=line, column=1))
        elif count > 1:
            problems.append(Problem(f"column appears {count} times in the header", path=column,
                                    file=name, line=line, column=1))
    if problems:
        raise ScenarioError(problems)


def _structure(body: str, name: str, offset: int) -> list[str]:
    """The header; raises if a row has more fields than it or the text is not CSV.

    Read with the csv module because pandas drops or shifts the extra fields of a long row,
    and numbers its own lines; here each record's first line is known exactly.
    """
    reader = csv.reader(io.StringIO(body), strict=True)
    header: list[str] | None = None
    problems, end, raw = [], 0, body.split("\n")  # end: the last line of the previous record
    rows = 0
    try:
        for record in reader:
            if header is None:
                header = record
            elif len(record) > len(header):
                line, col = _field_start(_record(raw, end + 1), len(header))
                problems.append(Problem(f"{len(record)} fields, but the header has {len(header)}",
                                        file=name, line=offset + end + 1 + line, column=col))
            if record is not header and any(field.strip() for field in record):  # not blank
                rows += 1
                if rows > MAX_HISTORY_ROWS:
                    raise ScenarioError([Problem(
                        f"more than {MAX_HISTORY_ROWS:,} task rows (this is row {rows:,}): fit a "
                        "sample or a recent period", file=name, line=offset + end + 1, column=1)])
            end = reader.line_num
    except csv.Error as exc:
        what = "a quoted field is not closed" if "end of data" in str(exc) else str(exc)
        problems.append(Problem(f"cannot be read as CSV: {what}", file=name, line=offset + end + 1,
                                column=1))
    if problems:
        raise ScenarioError(problems[:MAX_LISTED], more=max(0, len(problems) - MAX_LISTED))
    assert header is not None  # the body is not blank
    return header


def _line_numbers(frame: pd.DataFrame, first: int) -> np.ndarray:
    """The file line each row starts on: rows follow each other, plus embedded line breaks."""
    embedded = np.zeros(len(frame), dtype=int)
    for column in frame.columns:
        embedded += frame[column].str.count("\n").to_numpy(dtype=int)
    before = np.concatenate([[0], np.cumsum(embedded)[:-1]]) if len(frame) else embedded
    return first + np.arange(len(frame)) + before


# --------------------------------------------------------------------------- rows

Found = tuple[int, int, str, str, str]
"""(line, field index, column, message, raw value) of one problem."""


def _typed(frame: pd.DataFrame, lines: np.ndarray,
           fields: dict[str, int]) -> tuple[pd.DataFrame, list[Found]]:
    """The rows with numbers and dates parsed, and every problem found in them.

    ``fields`` gives each column's position in the header (to locate a value in its line).
    """
    found: list[Found] = []

    def flag(column: str, bad: Any, message: str) -> None:
        field = fields[column]
        for i in np.flatnonzero(np.asarray(bad, dtype=bool)):
            found.append((int(lines[i]), field, column, message, str(frame[column].iat[int(i)])))

    for column in ("project", "skill"):
        flag(column, frame[column].str.strip() == "", "is empty")
    # A skill becomes a pool's name in the fitted fragment (and a figure's file name): it
    # must be a valid name, checked once per distinct skill.
    skills = frame["skill"].str.strip()
    for skill in skills.unique():
        problem = name_problem(skill) if skill else None  # (an empty one is flagged above)
        if problem is not None:
            flag("skill", skills == skill, f"is not a valid pool name: {problem}")
    numbers = {c: _numbers(frame[c], c, flag) for c in ("estimate", "actual")}
    dates = {c: _dates(frame[c], c, flag) for c in ("start", "finish")}
    flag("finish", dates["finish"] < dates["start"], "is before start")
    tasks = pd.DataFrame({
        "project": frame["project"].str.strip(), "task": frame["task"].str.strip(),
        "skill": frame["skill"].str.strip(), **numbers, **dates, "line": lines,
    })
    return tasks, found


def _numbers(raw: pd.Series, column: str, flag: Any) -> pd.Series:
    text = raw.str.strip()
    value = pd.to_numeric(text, errors="coerce").astype(float)
    empty = text == ""
    flag(column, empty, "is empty; expected a number of person-days")
    flag(column, value.isna() & ~empty, "is not a number")
    finite = np.isfinite(value.to_numpy())
    flag(column, value.notna() & ~finite, "is not a finite number")
    flag(column, finite & (value <= 0), "must be greater than 0")
    flag(column, finite & (value > 0) & (value < MIN_PERSON_DAYS),
         f"is less than {MIN_PERSON_DAYS:g} person-days (not a task's record)")
    flag(column, finite & (value > MAX_PERSON_DAYS),
         f"is more than {MAX_PERSON_DAYS:g} person-days (not a task's record; sums of such "
         "values overflow)")
    return value


def _dates(raw: pd.Series, column: str, flag: Any) -> pd.Series:
    day = raw.str.extract(_DATE, expand=False)
    value = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    empty = raw.str.strip() == ""
    flag(column, empty, "is empty; expected a date (YYYY-MM-DD)")
    flag(column, value.isna() & ~empty, "is not a date (YYYY-MM-DD)")
    return value


def _locate(found: Found, raw: list[str], name: str) -> Problem:
    line, field, column, message, value = found
    offset, col = _field_start(_record(raw, line), field)
    return Problem(message, path=column, file=name, line=line + offset, column=col,
                   got=value, has_got=value.strip() != "")


def _record(raw: list[str], line: int) -> Iterator[str]:
    """The characters of the file from the start of ``line`` (a record may span lines)."""
    for text in raw[line - 1:]:
        yield from text
        yield "\n"


def _field_start(chars: Iterator[str], field: int) -> tuple[int, int]:
    """(line offset, 1-based column) where field number ``field`` of a record starts.

    A comma inside quotes separates nothing; a doubled quote inside quotes toggles twice and
    so stays quoted. A field beyond the end of a short row is placed just after its end.
    """
    line, col, quoted, current = 0, 1, False, 0
    for ch in chars:
        if current == field:
            return line, col
        if ch == '"':
            quoted = not quoted
        elif ch == "\n" and not quoted:
            return line, col
        elif ch == "," and not quoted:
            current += 1
        line, col = (line + 1, 1) if ch == "\n" else (line, col + 1)
    return line, col
