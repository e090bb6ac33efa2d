"""print_table decides which columns fit from widths measured once, and writes a long plain
table's body lines itself; this checks both against what it did before (the whole table built
and measured by rich again for each column dropped, then printed by rich): the same columns
kept and the same bytes printed, at several widths, for tables of wide characters, multi-line
headers, empty and escaped cells, with and without colour."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.measure import Measurement

from pmo_sim.cli import output
from pmo_sim.cli.output import Col, print_table
from pmo_sim.errors import printable


def _old_kept(columns: Sequence[Col], rows: Sequence[Sequence[str]], con: Console) -> list[int]:
    """print_table's choice before: rebuild and re-measure the whole table per dropped column."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def build(kept: list[int]) -> Table:
        table = Table(title=Text("t", style="bold"), caption=None, caption_justify="left",
                      title_justify="left", pad_edge=False, box=box.SIMPLE_HEAD)
        for i in kept:
            table.add_column(Text(columns[i].header), justify=columns[i].justify,  # type: ignore[arg-type]
                             no_wrap=True, overflow="ellipsis")
        for row in rows:
            table.add_row(*[Text(printable(row[i])) for i in kept])
        return table

    kept = list(range(len(columns)))
    wide = con.options.update_width(10_000)
    while True:
        fits = Measurement.get(con, wide, build(kept)).maximum <= con.width
        droppable = [i for i in kept if columns[i].priority > 0]
        if fits or not droppable:
            return kept
        kept.remove(max(droppable, key=lambda i: (columns[i].priority, i)))


def _printed(columns: Sequence[Col], rows: Sequence[Sequence[str]], width: int, colour: bool) -> str:
    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=colour, color_system="truecolor" if colour else None,
                  soft_wrap=False, highlight=False)
    print_table("t", columns, rows, out=con)
    return buf.getvalue()


_TEXT = st.text(st.sampled_from(list("ab 1.-%") + ["表", "😀", "é", "\x1b", "\u202e", "\t"]), max_size=14)


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[Col], list[list[str]]]:
    n = draw(st.integers(0, 7))
    columns = [Col(draw(st.sampled_from(["", "x", "policy", "P80 date", "on\ntime", "表表表 n"])),
                   draw(st.sampled_from(["left", "right", "center"])), draw(st.integers(0, 4)))
               for _ in range(n)]
    rows = draw(st.lists(st.lists(_TEXT, min_size=n, max_size=n), max_size=6))
    return columns, rows


@settings(max_examples=200, deadline=None)
@given(table=_tables(), width=st.integers(8, 90))
def test_the_columns_kept_are_the_ones_measuring_kept(table: tuple[list[Col], list[list[str]]],
                                                        width: int) -> None:
    columns, rows = table
    con = Console(file=io.StringIO(), width=width, soft_wrap=False, highlight=False)
    header, cells = output._texts(columns, rows)
    assert output._kept(columns, output._natural_widths(header, cells), width) == \
        _old_kept(columns, rows, con)


@settings(max_examples=200, deadline=None)
@given(table=_tables(), width=st.integers(8, 90))
def test_body_lines_written_directly_are_rich_s(table: tuple[list[Col], list[list[str]]],
                                                width: int) -> None:
    columns, rows = table
    con = Console(file=io.StringIO(), width=width, soft_wrap=False, highlight=False)
    kept = _old_kept(columns, rows, con)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "LONG_TABLE", 1)
        assert _printed(columns, rows, width, False) == _reference_print(columns, rows, kept, width, False)


def test_a_forecast_sized_table_prints_as_before_at_several_widths(monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    direct: list[int] = []
    lines = output._Lines
    monkeypatch.setattr(output, "_Lines", lambda body: direct.append(len(body)) or lines(body))
    columns = [Col("policy", "left"), Col("project", "left"), Col("P50 (day)", priority=2),
               Col("P80 (day)"), Col("P90 (day)", priority=3), Col("due", priority=5),
               Col("on time", priority=1), Col("unfinished", priority=4), Col("n", priority=7)]
    rows = [[p, f"Project {i}" + " long" * (i % 3), f"{i * 1.5:.0f}", f"{i * 2:.0f}", "> horizon",
             f"{i}", f"{i % 100}%", "0%", "20"] for p in ("fifo", "wsjf") for i in range(120)]
    for width in (40, 60, 72, 80, 90, 100, 120, 200):
        for colour in (False, True):
            con = Console(file=io.StringIO(), width=width, soft_wrap=False, highlight=False)
            kept = _old_kept(columns, rows, con)
            printed = _printed(columns, rows, width, colour)
            assert (f"not shown at {width} columns" in printed) == (len(kept) < len(columns))
            assert printed == _reference_print(columns, rows, kept, width, colour)
    assert len(direct) == 7   # without colour, at every width (at 40 the kept columns fit)


def _reference_print(columns: Sequence[Col], rows: Sequence[Sequence[str]], kept: list[int],
                     width: int, colour: bool) -> str:
    """What print_table printed before for the columns the old way kept."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=colour, color_system="truecolor" if colour else None,
                  soft_wrap=False, highlight=False)
    table = Table(title=Text("t", style="bold"), caption=None, caption_justify="left",
                  title_justify="left", pad_edge=False, box=box.SIMPLE_HEAD)
    for i in kept:
        table.add_column(Text(columns[i].header), justify=columns[i].justify,  # type: ignore[arg-type]
                         no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*[Text(printable(row[i])) for i in kept])
    con.print(table)
    dropped = [columns[i].header.replace("\n", " ") for i in range(len(columns)) if i not in kept]
    if dropped:
        output.say(f"(not shown at {width} columns: {', '.join(dropped)}; widen the terminal)",
                   style="dim", out=con)
    return buf.getvalue()
