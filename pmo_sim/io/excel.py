"""Results as an Excel workbook a strategist can open: ``pmo-sim export RESULTS --xlsx FILE``.

Sheets, in order:

- ``summary``: per policy and KPI, the mean, sd, 95% t CI, p10/p50/p90 and n (as
  ``summary.csv``), with each KPI's label and unit (``NPV (EUR)``, ``On-time rate (%)``).
- ``comparison``: the verdict in words on top (paired differences of the headline KPIs vs
  the baseline, and the Kim-Nelson best policy on NPV), then every KPI's paired difference
  policy − baseline with its CI, p-values and whether it is better or worse.
- ``forecast``: the per-project forecast, when the results offer ``forecast()``; a percentile
  not reached by the horizon reads "> horizon", as in the command's table.
- ``risks``: the risk-driver ranking (``Results.risk_drivers()``: per policy and risk, the mean
  strikes, delay, rework, cost and value lost per replication with 95% CIs, by rank), when the
  results have a risks table (a scenario with a risk register).
- ``kpis-<policy>``: one per policy, one row per replication (the ``replications`` table).
- ``projects``: one row per (policy, replication, project), at most
  :data:`PROJECT_ROWS` rows: beyond that, the first replications of every policy, and a note
  saying so (in the ``about`` sheet and on the header cell).
- ``about``: where the numbers come from (scenario, seed, replications, version, command) and
  what each sheet holds.

Headers of the tables with one column per KPI carry the unit (``npv (EUR)``); ``forecast`` and
``risks`` keep the column names of their DataFrames. Every number has a format: the scenario's
currency for money, % for rates and chances, one decimal for days, ISO dates.
Header rows are frozen and columns sized to their content. Sheet names follow Excel's rules
(at most 31 characters, none of ``[]:*?/\\``). The workbook is written in openpyxl's streaming
mode to a temporary file and renamed, so the target is never half-written.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pmo_sim.analysis import forecast as forecast_table
from pmo_sim.analysis import risks as risk_table
from pmo_sim.analysis.compare import compare, select_best, verdict_text
from pmo_sim.analysis.metrics import HEADLINE_METRICS, metric_info
from pmo_sim.analysis.stats import summary
from pmo_sim.errors import PmoSimError, UsageError, cannot_write
from pmo_sim.files import (
    check_can_write_in,
    check_no_file_in_the_way,
    create_folder,
    is_taken,
    refuse_results_file,
    write_atomically,
)
from pmo_sim.schema import ALL_TABLES, KPI_COLUMNS, PROJECTS

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from pmo_sim.experiment.results import Results

log = logging.getLogger(__name__)

#: Most rows of the ``projects`` sheet (Excel's own limit is 1,048,576; this keeps files small).
PROJECT_ROWS = 20_000
_WIDEST = 48
#: Rows measured for the column widths.
_SAMPLE = 200
_UNIT_WORDS = {"days": "days", "day": "day", "person-days": "person-days", "rate": "%",
               "per-year": "per year"}
_UNITS = {c.name: c.unit for table in ALL_TABLES.values() for c in table.all_columns}


# --------------------------------------------------------------------------- formats


def number_format(unit: str, currency: str | None, whole: bool = False) -> str:
    """The Excel number format of a value in ``unit`` (currency None: money without a symbol)."""
    if unit == "money":
        symbol = re.sub(r'["\\]', "", currency or "")
        return f'#,##0 "{symbol}"' if symbol else "#,##0"
    return {"rate": "0.0%", "days": "0.0", "day": "0.0", "person-days": "#,##0.0",
            "per-year": "0.00", "count": "#,##0" if whole else "#,##0.0",
            "date": "yyyy-mm-dd"}.get(unit, "General")


def unit_word(unit: str, currency: str | None) -> str:
    """``EUR``, ``%``, ``days``...; "" for counts and names."""
    return (currency or "money") if unit == "money" else _UNIT_WORDS.get(unit, "")


def with_unit(name: str, unit: str, currency: str | None) -> str:
    """A header: ``npv (EUR)``; the bare name when the unit says nothing."""
    word = unit_word(unit, currency)
    return f"{name} ({word})" if word else name


def sheet_name(text: str, taken: Iterable[str] = ()) -> str:
    """``text`` as a valid, unused Excel sheet name (31 characters, no ``[]:*?/\\``)."""
    name = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'") or "sheet"
    used = {t.lower() for t in taken}
    candidate, n = name[:31], 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{name[:31 - len(str(n)) - 1]}~{n}"
    return candidate


def _cell_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        # A workbook cannot hold control characters (openpyxl refuses the cell); names pmo-sim
        # writes have none, an edited table's may: shown as U+FFFD, the rest of the text kept.
        value = _ILLEGAL.sub("\ufffd", value)
    return value


#: The characters XML 1.0, and so a workbook, cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# --------------------------------------------------------------------------- writing tables


class _Sheet:
    """One worksheet in streaming mode: cells with number formats, columns sized to content.

    Streaming worksheets must have their column widths, frozen panes and comments set before
    the first row is written, so the first :data:`_SAMPLE` rows are held back to measure the
    columns (set ``freeze`` and ``note`` before then); later rows go straight to the file.
    """

    def __init__(self, ws: WriteOnlyWorksheet):
        self.ws = ws
        self.freeze: str | None = None
        self.note: str | None = None
        self.count = 0
        self._held: list[list[Any]] | None = []
        self._widths: dict[int, int] = {}

    def add(self, values: Sequence[Any], formats: Sequence[str | None] | None = None,
            bold: bool = False) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        row: list[Any] = []
        for i, raw in enumerate(values):
            value = _cell_value(raw)
            fmt = formats[i] if formats else None
            text = isinstance(value, str) and value.startswith("=")
            if fmt or bold or text:
                cell = WriteOnlyCell(self.ws, value=value)
                if text:
                    # Text, never a formula: openpyxl takes every str starting with "=" for
                    # one, and names come from scenario files that travel (a policy named
                    # '=HYPERLINK("http://...")' or a DDE call ran when the workbook opened).
                    cell.data_type = "s"
                if fmt:
                    cell.number_format = fmt
                if bold:
                    cell.font = Font(bold=True)
                row.append(cell)
            else:
                row.append(value)
            if self._held is not None:
                shown = 12 if isinstance(value, float) else len(str(value)) if value is not None else 0
                self._widths[i] = max(self._widths.get(i, 0), min(_WIDEST, shown + 2))
        self.count += 1
        if self._held is None:
            self.ws.append(row)
            return
        self._held.append(row)
        if len(self._held) >= _SAMPLE:
            self._flush()

    def _flush(self) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.comments import Comment
        from openpyxl.utils import get_column_letter

        held, self._held = self._held or [], None
        for i, width in self._widths.items():
            self.ws.column_dimensions[get_column_letter(i + 1)].width = max(8, width)
        if self.freeze:
            self.ws.freeze_panes = self.freeze
        if self.note and held and held[0]:
            first = held[0][0]
            if not hasattr(first, "comment"):  # a plain value, not yet a cell
                first = held[0][0] = WriteOnlyCell(self.ws, value=first)
            first.comment = Comment(self.note, "pmo-sim")
        for row in held:
            self.ws.append(row)

    def close(self) -> None:
        if self._held is not None:
            self._flush()


def _table(sheet: _Sheet, frame: pd.DataFrame, headers: Sequence[str], formats: Sequence[str | None]) -> None:
    sheet.add(headers, bold=True)
    for values in frame.itertuples(index=False, name=None):
        sheet.add(values, formats)


# --------------------------------------------------------------------------- the sheets


def _currency(results: Results) -> str | None:
    try:
        return results.scenario.currency
    except PmoSimError as exc:
        log.warning("amounts are written without a currency: %s", exc)
        return None


def _summary(sheet: _Sheet, results: Results, currency: str | None) -> None:
    table = summary(results.replications)
    info = [metric_info(m) for m in table["metric"]]
    table.insert(2, "kpi", [with_unit(i.label, i.unit, currency) for i in info])
    sheet.freeze = "D2"
    sheet.add(["policy", "metric", "KPI (unit)", "mean", "sd", "ci_low", "ci_high", "p10", "p50",
               "p90", "n"], bold=True)
    for row, i in zip(table.itertuples(index=False, name=None), info, strict=True):
        fmt = number_format(i.unit, currency)
        sheet.add(row, [None, None, None, *[fmt] * 7, "0"])
    sheet.close()


def _comparison(sheet: _Sheet, results: Results, baseline: str, currency: str | None) -> None:
    present = [m for m in KPI_COLUMNS if m in results.replications.columns]
    if len(results.policies) < 2:
        sheet.add(["Only one policy: nothing to compare."], bold=True)
        sheet.close()
        return
    headline = [m for m in HEADLINE_METRICS if m in present]
    selection = select_best(results.replications, "npv") if "npv" in present else None
    verdict = verdict_text(compare(results.replications, baseline, headline), selection)
    sheet.add(["Verdict"], bold=True)
    for sentence in verdict.splitlines():
        sheet.add([sentence])
    sheet.add([])
    sheet.freeze = f"E{sheet.count + 2}"  # below the header that follows
    table = compare(results.replications, baseline, present)
    sheet.add(["policy", "baseline", "metric", "KPI (unit)", "diff_mean", "ci_low", "ci_high",
               "p_value", "p_adjusted", "better", "n"], bold=True)
    for row in table.to_dict("records"):
        info = metric_info(row["metric"])
        fmt = number_format(info.unit, currency)
        flag = row["better"]
        word = "-" if flag is None or pd.isna(flag) else ("better" if flag else "worse")
        sheet.add([row["policy"], row["baseline"], row["metric"], with_unit(info.label, info.unit, currency),
                   row["diff_mean"], row["ci_low"], row["ci_high"], row["p_value"], row["p_adjusted"],
                   word, row["n"]], [None, None, None, None, fmt, fmt, fmt, "0.0000", "0.0000", None, "0"])
    sheet.close()


def _columns_sheet(sheet: _Sheet, frame: pd.DataFrame, currency: str | None, note: str | None = None,
                   units_of: Mapping[str, str] = _UNITS, freeze: str = "B2") -> None:
    """A table whose columns are results columns of the schema: units in headers, formats per
    column. An analysis table (``units_of`` its own units) keeps its column names as headers, so
    the sheet reads like the DataFrame and the CSV of the same name; its formats carry the units."""
    units = [units_of.get(str(c), "") for c in frame.columns]
    whole = [pd.api.types.is_integer_dtype(frame[c]) for c in frame.columns]
    headers = [with_unit(str(c), u, currency) if units_of is _UNITS else str(c)
               for c, u in zip(frame.columns, units, strict=True)]
    formats = [number_format(u, currency, w) if u else None for u, w in zip(units, whole, strict=True)]
    sheet.freeze, sheet.note = freeze, note
    _table(sheet, frame, headers, formats)
    sheet.close()


def _capped_projects(results: Results, cap: int) -> tuple[pd.DataFrame, str | None]:
    # The keys first, then the rows kept: from a folder, never every column of every row
    keys = results.with_projects(["replication"]).projects
    if len(keys) <= cap:
        return results.projects, None
    replications = sorted(keys["replication"].unique())
    per_replication = len(keys) / max(1, len(replications))
    keep = max(1, int(cap // per_replication))
    kept = results.with_projects(replications=replications[:keep]).projects
    note = (f"projects: {len(kept):,} of {len(keys):,} rows, the first {keep} replications of "
            f"every policy (at most {cap:,} rows); all rows are in projects.parquet")
    return kept, note


def _forecast(results: Results) -> pd.DataFrame | None:
    method = getattr(results, "forecast", None)
    if not callable(method):
        return None
    try:
        table = method()
    except PmoSimError as exc:
        log.warning("no forecast sheet: %s", exc)
        return None
    return table if isinstance(table, pd.DataFrame) else None


def _said_not_reached(table: pd.DataFrame) -> pd.DataFrame:
    """The forecast with each percentile not reached by the horizon (day inf, and its date) as
    "> horizon", as the command prints it (SPEC 10.6): a blank cell reads as "no due date"."""
    out = table.copy()
    for q in forecast_table.PERCENTILES:
        missed = out[f"p{q}"] == math.inf
        for column in (f"p{q}", f"p{q}_date"):
            if column in out.columns and missed.any():
                out[column] = out[column].astype(object).where(~missed, forecast_table.NOT_REACHED)
    return out


def _risk_drivers(results: Results) -> pd.DataFrame | None:
    # (no risks table: no sheet; one that cannot be read is refused, not left out unsaid)
    return results.risk_drivers() if results.has_table("risks") else None


def _about(sheet: _Sheet, results: Results, currency: str | None, notes: list[str]) -> None:
    m = results.manifest
    sheet.freeze = "A2"
    sheet.add(["item", "value"], bold=True)
    facts = [("scenario", m.get("scenario")), ("scenario SHA-256", m.get("scenario_sha256")),
             ("seed", m.get("seed")), ("replications", results.replications["replication"].nunique()),
             ("policies", ", ".join(results.policies)), ("status", m.get("status")),
             ("currency", currency or "unknown"), ("pmo-sim version", m.get("pmo_sim_version")),
             ("command", m.get("command")), ("started", m.get("started")), ("finished", m.get("finished")),
             ("results folder", str(results.path) if results.path else None)]
    for key, value in facts:
        sheet.add([key, value if isinstance(value, (int, float, str)) or value is None else str(value)])
    sheet.add([])
    for line in notes:
        sheet.add(["note", line])
    sheet.close()


def check_target(path: str | os.PathLike[str], force: bool = False) -> Path:
    """``path`` if a workbook may be written there, else a :class:`UsageError` saying why."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"the workbook must be an .xlsx file (got {target.name})")
    if target.is_dir():
        raise UsageError(f"{target} is a directory; give a file name such as {target / 'results.xlsx'}")
    refuse_results_file(target)
    if is_taken(target) and not force:
        raise UsageError(f"{target} already exists; use --force to overwrite it")
    try:
        # A file in the way of its folder (or a link to nothing) is refused here, with the
        # other checks, so that export refuses it before writing its EMA tables.
        check_no_file_in_the_way(target.parent)
        check_can_write_in(target.parent)
    except OSError as exc:
        raise cannot_write(target, exc) from None
    return target


def write_workbook(results: Results, path: str | os.PathLike[str], *, baseline: str | None = None,
                   force: bool = False, project_rows: int = PROJECT_ROWS) -> Path:
    """Write the workbook of ``results`` to ``path`` (``.xlsx``); returns the path.

    An existing file is refused (:class:`UsageError`) unless ``force``. ``baseline`` is the
    policy the comparison is against (default: the first); ``project_rows`` caps the
    ``projects`` sheet.
    """
    from openpyxl import Workbook

    target = check_target(path, force)
    # Before the workbook exists: a write-only workbook left unsaved complains when collected.
    try:
        create_folder(target.parent)
    except OSError as exc:  # named by the workbook's path, as write_atomically names it
        raise OSError(exc.errno, exc.strerror, str(target)) from exc
    base = results.resolve_baseline(baseline)
    currency = _currency(results)
    book = Workbook(write_only=True)
    try:
        _fill(book, results, base, currency, project_rows)
    except BaseException:
        # A write-only sheet is a generator writing to a file of its own: left unsaved, each
        # complains when collected; saving the partial book closes them quietly.
        with contextlib.suppress(Exception):
            book.save(io.BytesIO())
        raise
    # Saved to memory first (the workbook is small: projects are capped): a full disk under
    # openpyxl's own zip file left it open, and its finaliser failed again at exit with a
    # traceback; the bytes are then written whole or not at all.
    data = io.BytesIO()
    book.save(data)
    return write_atomically(target, lambda tmp: tmp.write_bytes(data.getvalue()))


def _fill(book: Workbook, results: Results, base: str, currency: str | None,
          project_rows: int) -> None:
    """The sheets of the workbook, in order."""
    names: list[str] = []

    def sheet(title: str) -> _Sheet:
        names.append(sheet_name(title, names))
        return _Sheet(book.create_sheet(names[-1]))

    notes = ["Differences are paired on common random numbers (replication r of every policy "
             "is the same random world); CIs are 95% t intervals."]
    _summary(sheet("summary"), results, currency)
    _comparison(sheet("comparison"), results, base, currency)
    forecast = _forecast(results)
    if forecast is not None:
        _columns_sheet(sheet("forecast"), _said_not_reached(forecast), currency,
                       units_of=forecast_table.UNITS, freeze="D2")
    drivers = _risk_drivers(results)
    if drivers is not None:
        _columns_sheet(sheet("risks"), drivers, currency, units_of=risk_table.UNITS, freeze="D2")
    for policy in results.policies:
        rows = results.replications[results.replications["policy"] == policy].drop(columns="policy")
        _columns_sheet(sheet(f"kpis-{policy}"), rows, currency)
    projects, note = _capped_projects(results, project_rows)
    _columns_sheet(sheet("projects"), projects[[c for c in projects.columns if c in PROJECTS.column_names]],
                   currency, note)
    if note:
        notes.append(note)
    _about(sheet("about"), results, currency, notes)
