"""Output helpers every command shares: JSON-safe values, tables that fit the terminal, prose
wrapped to its width, the progress bar and library warnings on stderr.

Tables and text follow the terminal's width (``COLUMNS`` when set; 80 columns when the output
is not a terminal). A table that would be wider drops its least important columns, then
abbreviates cells with an ellipsis, and says which columns it left out; it never wraps a row.
Numbers are written by :mod:`pmo_sim.analysis.format`, like the report's.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from pmo_sim.errors import printable

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.progress import Progress


def plain(value: Any) -> Any:
    """A JSON-safe scalar: numpy to Python, NaN/NA to null."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: plain(row[c]) for c in columns} for row in df.to_dict("records")]


def emit_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, allow_nan=False))


class _StderrHandler(logging.Handler):
    """Warnings of the library (e.g. a corrupt chunk recomputed) as ``warning: ...`` lines."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def log_to_stderr() -> None:
    logger = logging.getLogger("pmo_sim")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler(logging.WARNING)
        logger.addHandler(handler)
    logger.propagate = False


def compact(x: Any) -> str:
    """A number in a table cell (three significant digits, k/M suffixes), ``-`` when missing."""
    from pmo_sim.analysis.format import compact as short
    from pmo_sim.analysis.format import finite

    v = plain(x)
    if isinstance(v, str):
        return v
    number = finite(v)
    return "-" if number is None else short(number)


# --------------------------------------------------------------------------- terminal


def console(stderr: bool = False) -> Console:
    """A rich console at the terminal's width (``COLUMNS``; 80 when not a terminal)."""
    from rich.console import Console

    return Console(soft_wrap=False, stderr=stderr, highlight=False)


def say(text: str, style: str | None = None, out: Console | None = None) -> None:
    """Prose, wrapped at word boundaries to the terminal's width (no markup interpreted).

    Continuation lines of an indented text keep its indent. A word longer than the width (a
    long path) is kept whole, so that it can be copied: it is the one thing that may overrun.
    """
    import textwrap

    from rich.text import Text

    con = out or console()
    text = printable(text)  # names from a results folder act on no terminal (escape sequences)
    indent = " " * (len(text) - len(text.lstrip(" ")))
    wrapped = textwrap.fill(text, width=max(20, con.width), subsequent_indent=indent + "  ",
                            break_on_hyphens=False, break_long_words=False)
    con.print(Text(wrapped, style=style or ""), soft_wrap=True)


@dataclass
class Col:
    """A table column: its header, alignment and importance (0: always kept; higher numbers
    are dropped first when the table does not fit)."""

    header: str
    justify: str = "right"
    priority: int = 0


def print_table(title: str, columns: Sequence[Col], rows: Sequence[Sequence[str]],
                caption: str | None = None, out: Console | None = None) -> list[str]:
    """Print a table that fits the console's width; returns the headers it left out.

    Columns are dropped from the highest priority number down until the table's natural
    width fits; if it still does not, cells are cut with an ellipsis rather than wrapped.
    """
    con = out or console()
    header, cells = _texts(columns, rows)
    widths = _natural_widths(header, cells)
    kept = _kept(columns, widths, con.width)
    shown = [columns[i] for i in kept], [header[i] for i in kept], [[r[i] for i in kept] for r in cells]
    if not _print_long(con, title, *shown, caption, [widths[i] for i in kept]):
        con.print(_build(title, *shown, caption))
    dropped = [columns[i].header.replace("\n", " ") for i in range(len(columns)) if i not in kept]
    if dropped:
        formats = _other_formats()
        hint = f" or use --format {formats}" if formats else ""
        say(f"(not shown at {con.width} columns: {', '.join(dropped)}; widen the terminal{hint})",
            style="dim", out=con)
    return dropped


def _texts(columns: Sequence[Col], rows: Sequence[Sequence[str]]) -> tuple[list[Any], list[list[Any]]]:
    """The headers and cells as rich texts. Cells hold names read from files (a results
    folder's project and template names, which an edit can fill with escape sequences or
    bidirectional overrides): shown escaped, as in problems, so that none acts on the terminal
    or reorders the table."""
    from rich.text import Text

    return ([Text(col.header) for col in columns],
            [[Text(printable(cell)) for cell in row] for row in rows])


def _natural_widths(header: Sequence[Any], cells: Sequence[Sequence[Any]]) -> list[int]:
    """Each column's natural width, padding aside: its widest line, header included (what
    rich measures a text as: the cells of its longest line)."""
    from rich.cells import cell_len

    widths = []
    for j, head in enumerate(header):
        texts = [head.plain, *(row[j].plain for row in cells)]
        widths.append(max((cell_len(line) for text in texts for line in text.splitlines()), default=0))
    return widths


def _kept(columns: Sequence[Col], widths: Sequence[int], width: int) -> list[int]:
    """The columns kept at ``width``: from the highest priority number down, columns are
    dropped until the table's natural width fits.

    The table's natural width is computed from the columns' (measured once), as rich measures
    :func:`_build`'s table: each column's widest line, one space of padding each side but at
    the table's edges (``pad_edge=False``), one between columns and one at each edge. Before,
    the whole table was built and measured again for each column dropped: at 2,000 projects
    and two policies in 80 columns, three measurements of 4,000 rows before printing it.
    """
    kept = list(range(len(columns)))
    while True:
        n = len(kept)
        natural = sum(widths[i] for i in kept) + max(0, 2 * n - 2) + (n + 1 if n else 0)
        droppable = [i for i in kept if columns[i].priority > 0]
        if natural <= width or not droppable:
            return kept
        kept.remove(max(droppable, key=lambda i: (columns[i].priority, i)))


#: Rows from which :func:`print_table` writes a plain table's body lines itself.
LONG_TABLE = 100


def _print_long(con: Console, title: str, columns: Sequence[Col], header: Sequence[Any],
                cells: Sequence[Sequence[Any]], caption: str | None, widths: Sequence[int]) -> bool:
    """Print a long table of plain text as rich would, faster; False: not done, rich must.

    rich lays out and pads every cell of every row (~0.6 ms a row of forecast: 2.5 s for the
    4,000 rows of 2,000 projects and two policies). When the table fits at its natural widths,
    each body line is its cells padded to their columns' widths and joined, which is done
    here; rich prints a *probe*: the same table with only the rows that set each column's
    width (its widest and narrowest cells, so the widths and alignments are all in it) and the
    first. Its body lines must be the ones computed here for the same rows, and found once,
    or rich prints the whole table; otherwise its lines around the body (title, header, rule,
    bottom edge, caption) frame the computed lines of every row. Only without colour (a file,
    a pipe), and only cells of printable text with no space at either end (rich strips those
when it aligns a cell; no tabs or line breaks).
    """
    from rich.cells import cell_len

    n = len(columns)
    if len(cells) < LONG_TABLE or con.color_system is not None or not n or \
            sum(widths) + 3 * n - 1 > con.width:  # the natural width, as in _kept
        return False
    lengths = []
    for row in cells:
        plain = [text.plain for text in row]
        if not all(text.isprintable() and text == text.strip() for text in plain):
            return False
        lengths.append([cell_len(text) for text in plain])
    rows = range(len(cells))
    probe_rows = sorted({0, *(max(rows, key=lambda r: lengths[r][j]) for j in range(n)),
                         *(min(rows, key=lambda r: lengths[r][j]) for j in range(n))})

    def line(r: int) -> str:
        parts = []
        for j, (col, text) in enumerate(zip(columns, cells[r], strict=True)):
            room = widths[j] - lengths[r][j]
            left = room if col.justify == "right" else room // 2 if col.justify == "center" else 0
            parts.append(" " * left + text.plain + " " * (room - left))
        return " " + "   ".join(parts) + " "

    with con.capture() as capture:
        con.print(_build(title, columns, header, [cells[r] for r in probe_rows], caption))
    printed = capture.get().split("\n")
    body = [line(r) for r in probe_rows]
    at = [i for i in range(len(printed) - len(body) + 1) if printed[i:i + len(body)] == body]
    if len(at) != 1:
        return False
    con.print(_Lines([*printed[:at[0]], *map(line, rows), *printed[at[0] + len(body):-1]]))
    return True


class _Lines:
    """Lines already laid out, printed as they are."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def __rich_console__(self, con: Console, options: Any) -> Iterator[Any]:
        from rich.segment import Segment

        for text in self.lines:
            yield Segment(text)
            yield Segment.line()


def _other_formats() -> str:
    """The running command's --format choices other than ``table`` ("json/csv"), or ""."""
    ctx = click.get_current_context(silent=True)
    for param in ctx.command.params if ctx is not None else ():
        if "--format" in param.opts and isinstance(param.type, click.Choice):
            return "/".join(str(c) for c in param.type.choices if c != "table")
    return ""


def _build(title: str, columns: Sequence[Col], header: Sequence[Any], cells: Sequence[Sequence[Any]],
           caption: str | None) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # No vertical rules: two columns more fit in 80 characters.
    table = Table(title=Text(printable(title), style="bold"), caption=caption,
                  caption_justify="left", title_justify="left", pad_edge=False,
                  box=box.SIMPLE_HEAD)
    for col, head in zip(columns, header, strict=True):
        table.add_column(head, justify=col.justify,  # type: ignore[arg-type]
                         no_wrap=True, overflow="ellipsis")
    for row in cells:
        table.add_row(*row)
    return table


# --------------------------------------------------------------------------- progress


class ProgressView:
    """What the runner calls while replications finish: a rich bar on stderr.

    ``update(done, total)`` is the runner's progress callback; ``precision(current, target,
    metric)`` shows the relative half-width reached against the ``--precision`` target.
    """

    def __init__(self, bar: Progress, label: str):
        self._bar = bar
        self._task = bar.add_task(label, total=None, status="")

    def update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def precision(self, current: float, target: float, metric: str) -> None:
        reached = "n/a" if not math.isfinite(current) else f"{current:.2%}"
        self._bar.update(self._task, status=f"{metric} half-width {reached} (target {target:.2%})")


@contextmanager
def progress_bar(enabled: bool, label: str = "replications",
                 out: Console | None = None) -> Iterator[ProgressView | None]:
    """A progress bar when ``enabled`` (on a terminal, not ``--quiet``), on stderr unless
    another console is given."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                  console=out or console(stderr=True), transient=True) as bar:
        yield ProgressView(bar, label)


def callback(view: ProgressView | None) -> Callable[[int, int], None] | None:
    """The runner's ``progress`` callback of a view (None without a bar)."""
    return view.update if view is not None else None
